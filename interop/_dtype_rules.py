"""Which dtype a result gets: every dtype rule of the tensor layer in one place.

- Tensors with tensors (:func:`promote_types`, :func:`result_type`, :func:`can_cast`).
  Same-kind pairs follow the Array API standard's promotion table. Where the standard is
  silent (bool with numbers, integers with floating point) the rules are PyTorch's: the
  higher kind wins and keeps its own dtype (``int64 + float32`` is float32, ``bool + int8``
  is int8). ``int64`` with ``uint64`` (no integer dtype holds both) is a ``TypeError``:
  NumPy would silently give float64.
- Tensors with Python scalars (:func:`scalar_dtype`, the one rule both ``result_type`` and
  the binary operators use). Python scalars take part only through their kind: a float
  scalar with integer tensors gives the default float dtype, a complex scalar the matching
  complex dtype, an int scalar with bool tensors the default integer dtype.
- Python data alone (:func:`scalar_kind`, :func:`default_for_kind`): ``tensor([1, 2.5])``
  takes the default dtype of the highest kind among the elements, as in PyTorch.
- ``dtype=`` arguments (:func:`dtype_arg`, :func:`interop_dtype`): an interop dtype, its
  name or a native dtype of the backend, refused with a clear error otherwise.

How a gradient returns through promotion (cast back to the input's dtype) is an autograd
matter: ``interop.autograd.unbroadcast``.
"""

import builtins

from . import dtypes as _dt
from ._errors import DTypeError
from .autograd.variable import Variable

__all__ = ["promote_types", "result_type", "can_cast", "scalar_dtype", "scalar_kind",
           "default_for_kind", "dtype_arg", "interop_dtype"]

_SIGNED = (_dt.int8, _dt.int16, _dt.int32, _dt.int64)
_UNSIGNED = (_dt.uint8, _dt.uint16, _dt.uint32, _dt.uint64)
_FLOAT = (_dt.float16, _dt.bfloat16, _dt.float32, _dt.float64)
_COMPLEX = (_dt.complex64, _dt.complex128)
# A real float's precision as a complex dtype (float16 has no complex counterpart here).
_AS_COMPLEX = {_dt.float16: _dt.complex64, _dt.bfloat16: _dt.complex64, _dt.float32: _dt.complex64,
               _dt.float64: _dt.complex128}
# The two 16-bit floats hold different ranges and precisions: together they need float32
# (PyTorch's rule).
_HALVES = {_dt.float16, _dt.bfloat16}


def _mixed_int(u, i):
    """Unsigned ``u`` with signed ``i``: the smallest signed dtype that holds both."""
    for s in _SIGNED:
        if s.itemsize > u.itemsize and s.itemsize >= i.itemsize:
            return s
    raise TypeError("no integer dtype holds both")


def _promote(a, b):
    if a is b:
        return a
    ka, kb = a.kind, b.kind
    if a in _HALVES and b in _HALVES:
        return _dt.float32
    if ka == kb:
        return a if a.itemsize >= b.itemsize else b
    if ka in "fc" and kb in "fc":           # real and complex floating: the standard's table
        c, f = (a, b) if ka == "c" else (b, a)
        fc = _AS_COMPLEX[f]
        return fc if fc.itemsize > c.itemsize else c
    if ka in "iu" and kb in "iu":
        return _mixed_int(a, b) if ka == "u" else _mixed_int(b, a)
    # mixed kinds (the standard is silent): PyTorch's rule, the higher kind's dtype
    order = "biufc"      # (i and u never meet here)
    return a if order.index(ka) > order.index(kb) else b


_TABLE = {}
for _a in _dt.ALL_DTYPES:
    for _b in _dt.ALL_DTYPES:
        try:
            _TABLE[_a, _b] = _promote(_a, _b)
        except TypeError:
            pass


def promote_types(a, b):
    """The dtype two tensors of dtypes ``a`` and ``b`` combine to (see the module doc)."""
    try:
        return _TABLE[a, b]
    except KeyError:
        if not (isinstance(a, _dt.dtype) and isinstance(b, _dt.dtype)):
            raise TypeError(f"promote_types: expected two interop dtypes, got {a!r} and {b!r}") \
                from None
        raise DTypeError(f"cannot combine dtypes {a} and {b}: no integer dtype holds both (the "
                         f"standard leaves it undefined; some libraries silently give float64). Cast "
                         f"one operand explicitly") from None


_KIND_LEVEL = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}


def can_cast(from_, to, /):
    """Whether ``from_`` (a dtype or a tensor) casts to dtype ``to`` without loss: where the
    promotion table defines the pair (within a kind, and real with complex floating, as the
    standard's), when promoting the two gives ``to``; across other kinds, toward a higher
    kind (bool < integer < real floating < complex), as PyTorch's casting rules allow."""
    if isinstance(from_, Variable):
        from_ = from_._be.dtype_of(from_._data)
    if not isinstance(from_, _dt.dtype) or not isinstance(to, _dt.dtype):
        raise TypeError(f"can_cast: expected a dtype or tensor and a dtype, got {from_!r} and {to!r}")
    lf, lt = _KIND_LEVEL[from_.kind], _KIND_LEVEL[to.kind]
    if lf == lt or from_.kind in "fc" and to.kind in "fc":
        return _TABLE.get((from_, to)) is to
    return lf < lt


def scalar_dtype(value, current, be):
    """The dtype a tensor of dtype ``current`` (on backend ``be``) becomes when Python scalar
    ``value`` joins it: ``current`` itself unless the scalar's kind is higher (a float with
    an integer or bool tensor gives the default float dtype; a complex with a real tensor
    the matching complex dtype; an int with a bool tensor the default integer dtype)."""
    c = value.__class__
    k = current.kind
    if c is bool:
        return current
    if c is int:
        return be.default_int if k == "b" else current
    if c is float:
        return current if k in "fc" else be.default_float
    if c is complex:
        if k == "c":
            return current
        return _AS_COMPLEX[current] if k == "f" else _AS_COMPLEX[be.default_float]
    raise TypeError(f"expected a Tensor or a Python scalar (bool, int, float, complex), got "
                    f"{type(value).__name__}")


_SCALAR_ORDER = (bool, int, float, complex)


def result_type(*args, be=None):
    """The dtype of an op combining ``args`` (tensors, interop dtypes and Python scalars).
    Python scalars alone (given ``be``) give the default dtype of the highest kind among
    them, as in PyTorch (``where(mask, 1., -1)`` is float32)."""
    out = None
    scalars = []
    for a in args:
        if isinstance(a, Variable):
            d = a._be.dtype_of(a._data)
            be = be or a._be
        elif isinstance(a, _dt.dtype):
            d = a
        else:
            scalars.append(a)
            continue
        out = d if out is None else promote_types(out, d)
    if out is None:
        if not scalars or be is None:
            raise TypeError("result_type: expected at least one tensor or dtype")
        top = max(scalars, key=lambda s: _SCALAR_ORDER.index(s.__class__)
                  if s.__class__ in _SCALAR_ORDER else -1)
        out = scalar_dtype(top, _dt.bool, be)
    for s in scalars:
        out = scalar_dtype(s, out, be)
    return out


# ------------------------------------------------------------ Python data alone

class _HasTensors(Exception):
    """Raised inside ``scalar_kind`` on meeting a tensor element (handled by from_object)."""


def scalar_kind(obj):
    """The highest Python scalar kind in a nested sequence: b < i < f < c."""
    order = "bifc"
    best = -1
    stack = [obj]
    while stack:
        o = stack.pop()
        c = o.__class__
        if c is bool:
            k = 0
        elif c is int:
            k = 1
        elif c is float:
            k = 2
        elif c is complex:
            k = 3
        elif c is list or c is tuple:
            stack.extend(o)
            continue
        elif isinstance(o, Variable):
            raise _HasTensors
        elif hasattr(o, "__index__") and not hasattr(o, "dtype"):
            k = 1
        elif hasattr(o, "__float__") and not hasattr(o, "dtype"):
            k = 2
        else:
            raise TypeError(f"tensor(): could not infer a dtype from element of type "
                            f"{type(o).__name__}: {o!r}")
        best = builtins.max(best, k)
    return order[best] if best >= 0 else "f"


def default_for_kind(be, kind):
    """The dtype Python data of ``kind`` (from :func:`scalar_kind`) gets: the default of its kind."""
    if kind == "b":
        return _dt.bool
    if kind == "i":
        return be.default_int
    if kind == "f":
        return be.default_float
    return _AS_COMPLEX[be.default_float]


# ------------------------------------------------------------ dtype= arguments

def dtype_arg(be, dtype):
    """A native dtype for ``dtype`` (an interop dtype, a name, or a native dtype of ``be``)."""
    if dtype is None:
        return None
    if dtype.__class__ is _dt.dtype:
        return be.native_dtype(dtype)
    if isinstance(dtype, str):
        return be.native_dtype(_dt.by_name(dtype))
    if dtype in be.from_native:
        return dtype
    raise TypeError(f"expected an interop dtype (e.g. interop.float32), got {dtype!r}")


def interop_dtype(be, dtype):
    """An interop dtype for ``dtype`` (interop, native or a name)."""
    if dtype is None or dtype.__class__ is _dt.dtype:
        return dtype
    if isinstance(dtype, str):
        return _dt.by_name(dtype)
    try:
        return be.from_native[dtype]
    except (KeyError, TypeError):
        raise TypeError(f"expected an interop dtype (e.g. interop.float32), got {dtype!r}") from None
