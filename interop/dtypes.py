"""interop's dtype objects.

A dtype here is backend-independent: ``interop.float32`` names the same dtype
whichever array library holds the data. Each backend maps these objects to
its native dtypes and back (see ``interop.backends``). This module imports
nothing, so every layer may use it.
"""

__all__ = [
    "dtype", "bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
    "uint32", "uint64", "float16", "bfloat16", "float32", "float64", "complex64",
    "complex128", "ALL_DTYPES", "by_name", "finfo", "iinfo", "isdtype",
]

_builtin_bool = bool


class dtype:
    """A data type. Compare with ``==`` or ``is``; ``str()`` gives its name."""

    __slots__ = ("name", "kind", "itemsize", "is_floating_point", "is_complex",
                 "is_signed", "_rank")

    def __init__(self, name, kind, itemsize, rank):
        self.name = name
        self.kind = kind              # "b" bool, "i" signed, "u" unsigned, "f" real float, "c" complex
        self.itemsize = itemsize
        self.is_floating_point = kind == "f"
        self.is_complex = kind == "c"
        self.is_signed = kind in "ifc"
        self._rank = rank

    def __repr__(self):
        return "interop." + self.name

    __str__ = __repr__

    def __reduce__(self):
        return (by_name, (self.name,))

    @property
    def bits(self):
        return self.itemsize * 8

    def to_real(self):
        """The real dtype of a complex dtype (complex64 -> float32); itself otherwise."""
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    def to_complex(self):
        """The complex dtype matching a real floating dtype (float32 -> complex64)."""
        return {"float16": complex64, "bfloat16": complex64, "float32": complex64,
                "float64": complex128}.get(self.name, self)


bool = dtype("bool", "b", 1, 0)
int8 = dtype("int8", "i", 1, 1)
int16 = dtype("int16", "i", 2, 2)
int32 = dtype("int32", "i", 4, 3)
int64 = dtype("int64", "i", 8, 4)
uint8 = dtype("uint8", "u", 1, 1)
uint16 = dtype("uint16", "u", 2, 2)
uint32 = dtype("uint32", "u", 4, 3)
uint64 = dtype("uint64", "u", 8, 4)
float16 = dtype("float16", "f", 2, 1)
# bfloat16: only where the array library has it (a torch namespace does; NumPy, CuPy and
# array-api-strict do not, and a backend without it says so when it is asked for).
bfloat16 = dtype("bfloat16", "f", 2, 1)
float32 = dtype("float32", "f", 4, 2)
float64 = dtype("float64", "f", 8, 3)
complex64 = dtype("complex64", "c", 8, 2)
complex128 = dtype("complex128", "c", 16, 3)

ALL_DTYPES = (bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64,
              float16, bfloat16, float32, float64, complex64, complex128)

_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NAME.update({"float": float32, "double": float64, "half": float16,
                 "long": int64, "int": int32, "short": int16,
                 "cfloat": complex64, "cdouble": complex128})


def by_name(name):
    """Look a dtype up by its name ("float32", or a PyTorch alias like "double")."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise TypeError(f"unknown dtype name {name!r}; expected one of "
                        f"{sorted(d.name for d in ALL_DTYPES)}") from None


# ------------------------------------------------------------------ finfo / iinfo

# (significand bits, exponent bits) of each real floating dtype
_FLOAT_LAYOUT = {"float16": (10, 5), "bfloat16": (7, 8), "float32": (23, 8), "float64": (52, 11)}


def _dtype_of(type_, who):
    """The interop dtype named by ``type_``: a dtype, a dtype name, or an array (tensor)."""
    if type_.__class__ is dtype:
        return type_
    if isinstance(type_, str):
        return by_name(type_)
    d = getattr(type_, "dtype", None)
    if d.__class__ is dtype:
        return d
    raise TypeError(f"{who}: expected an interop dtype or a tensor, got {type_!r}")


class finfo:
    """Machine limits of a floating dtype (the standard's ``finfo``; PyTorch's names too).

    ``bits``, ``eps`` (1.0's distance to the next float), ``max``, ``min``,
    ``smallest_normal`` (= ``tiny``), ``resolution`` (PyTorch's: ``10 ** -precision``) and
    ``dtype``. A complex dtype reports the limits of its real and imaginary parts (the
    real dtype), as the standard specifies.
    """

    __slots__ = ("bits", "eps", "max", "min", "smallest_normal", "tiny", "resolution", "dtype")

    def __init__(self, type):
        d = _dtype_of(type, "finfo").to_real()
        if d.name not in _FLOAT_LAYOUT:
            raise TypeError(f"finfo: expected a floating point or complex dtype, got {d}; use "
                            f"iinfo for integer dtypes")
        mant, exp = _FLOAT_LAYOUT[d.name]
        bias = 2 ** (exp - 1) - 1
        self.dtype = d
        self.bits = d.itemsize * 8
        self.eps = 2.0 ** -mant
        self.max = (2.0 - self.eps) * 2.0 ** bias
        self.min = -self.max
        self.smallest_normal = self.tiny = 2.0 ** (1 - bias)
        digits = 0
        while 10.0 ** -(digits + 1) >= self.eps:     # decimal digits of precision
            digits += 1
        self.resolution = 10.0 ** -digits

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype.name})")


class iinfo:
    """Machine limits of an integer dtype (the standard's ``iinfo``): ``bits``, ``max``,
    ``min`` and ``dtype``."""

    __slots__ = ("bits", "max", "min", "dtype")

    def __init__(self, type):
        d = _dtype_of(type, "iinfo")
        if d.kind not in "iu":
            raise TypeError(f"iinfo: expected an integer dtype, got {d}; use finfo for floating "
                            f"point dtypes")
        self.dtype = d
        self.bits = d.itemsize * 8
        if d.kind == "i":
            self.max = 2 ** (self.bits - 1) - 1
            self.min = -(2 ** (self.bits - 1))
        else:
            self.max = 2 ** self.bits - 1
            self.min = 0

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype.name})"


_dtype = dtype      # (isdtype's first parameter is named dtype, as in the standard)
_KINDS = {"bool": "b", "signed integer": "i", "unsigned integer": "u", "integral": "iu",
          "real floating": "f", "complex floating": "c", "numeric": "iufc"}


def isdtype(dtype, kind):
    """The standard's ``isdtype``: kind is a dtype, a kind name or a tuple of them."""
    if isinstance(kind, tuple):
        return any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, _dtype):
        return dtype is kind
    if kind not in _KINDS:
        raise ValueError(f"isdtype: unknown kind {kind!r}; expected a dtype or one of "
                         f"{sorted(_KINDS)}")
    return dtype.kind in _KINDS[kind]
