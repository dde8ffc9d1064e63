"""interop's dtype objects.

A dtype here is backend-independent: ``interop.float32`` names the same dtype
whichever array library holds the data. Each backend maps these objects to
its native dtypes and back (see ``interop.backends``). This module imports
nothing, so every layer may use it.
"""

__all__ = [
    "dtype", "bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
    "uint32", "uint64", "float16", "float32", "float64", "complex64",
    "complex128", "ALL_DTYPES", "by_name",
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
        return {"float16": complex64, "float32": complex64, "float64": complex128}.get(self.name, self)


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
float32 = dtype("float32", "f", 4, 2)
float64 = dtype("float64", "f", 8, 3)
complex64 = dtype("complex64", "c", 8, 2)
complex128 = dtype("complex128", "c", 16, 3)

ALL_DTYPES = (bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64,
              float16, float32, float64, complex64, complex128)

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
