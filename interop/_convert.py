"""Backend arrays from Python data and foreign arrays (what ``tensor()``, ``asarray()``
and ``Tensor(...)`` build on)."""

import builtins

from . import dtypes as _dt
from ._promotion import promote_types
from .autograd.variable import Variable

__all__ = ["scalar_kind", "default_for_kind", "from_object"]


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


class _HasTensors(Exception):
    """Raised inside ``scalar_kind`` on meeting a tensor element (handled by from_object)."""


def _tensor_elements(obj, be):
    """``obj`` (nested lists holding one-element tensors among Python scalars) as nested lists
    of Python scalars, and the dtype PyTorch infers: the tensors' dtypes promoted with the
    default dtype of each Python scalar's kind (``[tensor(1, int8), 300]`` is int64)."""
    dt = None

    def join(d):
        nonlocal dt
        dt = d if dt is None else promote_types(dt, d)

    def walk(o):
        if isinstance(o, Variable):
            n = 1
            for s in o._data.shape:
                n *= s
            if n != 1:
                raise ValueError(f"tensor(): only one-element tensors can be elements of a list "
                                 f"(as in PyTorch); got one of shape {tuple(o._data.shape)}; use "
                                 f"interop.stack(list) to join tensors")
            join(o._be.dtype_of(o._data))
            return o.item()
        if o.__class__ is list or o.__class__ is tuple:
            return [walk(e) for e in o]
        join(default_for_kind(be, scalar_kind(o)))
        return o

    plain = walk(obj)
    return plain, dt


def default_for_kind(be, kind):
    if kind == "b":
        return _dt.bool
    if kind == "i":
        return be.default_int
    if kind == "f":
        return be.default_float
    return be.default_float.to_complex()


def _holds_tensor(obj):
    stack = [obj]
    while stack:
        o = stack.pop()
        if o.__class__ is list or o.__class__ is tuple:
            stack.extend(o)
        elif isinstance(o, Variable):
            return True
    return False


def from_object(obj, dtype, be, copy):
    """A raw array of backend ``be`` holding ``obj`` (nested lists, scalars, tensors, arrays
    of any library) in ``dtype`` (None: inferred, PyTorch's defaults for Python data);
    ``copy``: True always copies, None copies only when needed, False never."""
    xp = be.xp
    if isinstance(obj, Variable):
        if obj._be is not be:
            data = be.from_host(obj._be.to_host(obj._data))
        else:
            data = obj._data
        if dtype is not None and data.dtype != be.native_dtype(dtype):
            return xp.astype(data, be.native_dtype(dtype))
        return xp.asarray(data, copy=True) if copy else data
    if obj.__class__ in (list, tuple, bool, int, float, complex) or isinstance(obj, (list, tuple)):
        try:
            if dtype is None:
                dtype = default_for_kind(be, scalar_kind(obj))
        except _HasTensors:             # 0-d (one-element) tensors among the data
            obj, inferred = _tensor_elements(obj, be)
            dtype = dtype or inferred or default_for_kind(be, "f")
        else:
            if dtype is not None and _holds_tensor(obj):
                obj, _ = _tensor_elements(obj, be)
        nd = be.native_dtype(dtype)     # a dtype the backend lacks: its TypeError, unwrapped
        try:
            return xp.asarray(obj, dtype=nd, **be.device_kwargs)
        except (ValueError, TypeError) as e:
            raise ValueError(f"tensor(): could not build a {dtype} tensor from the given "
                             f"{type(obj).__name__}: {e}") from None
    # An array from some library (NumPy, the backend's own, anything with __dlpack__).
    try:
        data = be.convert(obj, dtype, copy)
    except Exception as e:
        raise TypeError(f"tensor(): cannot make a tensor on backend {be.name!r} from "
                        f"{type(obj).__name__}: {e}") from None
    try:
        be.dtype_of(data)
    except TypeError:
        raise TypeError(f"tensor(): the given {type(obj).__name__} has dtype {data.dtype}, which "
                        f"interop does not support") from None
    return data
