"""Backend arrays from Python data and foreign arrays (what ``tensor()``, ``asarray()``
and ``Tensor(...)`` build on)."""

from ._dtype_rules import promote_types, scalar_kind, default_for_kind, _HasTensors
from .autograd.variable import Variable

__all__ = ["from_object"]


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
