"""Creation functions: ``tensor``, ``asarray``, ``zeros``, ``ones``, ``full``, ``empty``,
``arange``, ``linspace``, ``eye`` and the ``*_like`` forms."""

import builtins

from . import dtypes as _dt
from ._device import device as _device
from ._tensor import Tensor
from ._common import make, interop_dtype
from .backends import get_backend, Backend

__all__ = ["tensor", "asarray", "as_tensor", "zeros", "ones", "full", "empty", "arange", "linspace",
           "eye", "zeros_like", "ones_like", "full_like", "empty_like", "resolve_backend"]


def resolve_backend(device=None):
    """The backend for ``device=``: None -> current; a Backend; a backend name ("strict");
    or a device ("cpu", "cuda:1", interop.device). "cpu" keeps the current backend when it is
    on the CPU, so code written with device="cpu" runs under ``use_backend("strict")``."""
    cur = get_backend()
    if device is None:
        return cur
    if isinstance(device, Backend):
        return device
    if isinstance(device, _device) and device._backend is not None:
        return device._backend
    if isinstance(device, str) and ":" not in device and device not in ("cpu", "cuda"):
        return get_backend(device)
    dev = device if isinstance(device, _device) else _device(device)
    if dev == cur.device or (dev.type == cur.device.type and dev.index is None):
        return cur
    if dev.type == "cpu":
        return get_backend("cpu")
    if dev.type == "cuda":
        return get_backend(f"cuda:{dev.index or 0}")
    raise ValueError(f"unknown device {device!r}; expected 'cpu', 'cuda', 'cuda:N' or a backend name")


def _finish(data, be, requires_grad):
    t = make(data, be, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _scalar_kind(obj):
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
        elif isinstance(o, Tensor):
            raise TypeError("tensor(): a list of tensors is ambiguous; use interop.stack(list)")
        elif hasattr(o, "__index__") and not hasattr(o, "dtype"):
            k = 1
        elif hasattr(o, "__float__") and not hasattr(o, "dtype"):
            k = 2
        else:
            raise TypeError(f"tensor(): could not infer a dtype from element of type "
                            f"{type(o).__name__}: {o!r}")
        best = builtins.max(best, k)
    return order[best] if best >= 0 else "f"


def _default_for_kind(be, kind):
    if kind == "b":
        return _dt.bool
    if kind == "i":
        return be.default_int
    if kind == "f":
        return be.default_float
    return be.default_float.to_complex()


def _from_object(obj, dtype, be, copy):
    xp = be.xp
    if isinstance(obj, Tensor):
        if obj._be is not be:
            data = be.from_host(obj._be.to_host(obj._data))
        else:
            data = obj._data
        if dtype is not None and data.dtype != be.native_dtype(dtype):
            return xp.astype(data, be.native_dtype(dtype))
        return xp.asarray(data, copy=True) if copy else data
    if obj.__class__ in (list, tuple, bool, int, float, complex) or isinstance(obj, (list, tuple)):
        if dtype is None:
            dtype = _default_for_kind(be, _scalar_kind(obj))
        nd = be.native_dtype(dtype)     # a dtype the backend lacks: its TypeError, unwrapped
        try:
            return xp.asarray(obj, dtype=nd, **be._dev_kw())
        except (ValueError, TypeError) as e:
            raise ValueError(f"tensor(): could not build a {dtype} tensor from the given "
                             f"{type(obj).__name__}: {e}") from None
    # An array from some library (NumPy, the backend's own, anything with __dlpack__).
    nd = None if dtype is None else be.native_dtype(dtype)
    try:
        data = xp.asarray(obj, dtype=nd, copy=copy, **be._dev_kw()) if copy is not None \
            else xp.asarray(obj, dtype=nd, **be._dev_kw())
    except Exception:
        try:
            data = be.from_host(obj, dtype)
        except Exception as e:
            raise TypeError(f"tensor(): cannot make a tensor on backend {be.name!r} from "
                            f"{type(obj).__name__}: {e}") from None
    try:
        be.dtype_of(data)
    except TypeError:
        raise TypeError(f"tensor(): the given {type(obj).__name__} has dtype {data.dtype}, which "
                        f"interop does not support") from None
    return data


def tensor(data, *, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (nested lists, scalars, arrays, tensors).

    Python floats give float32 and ints int64 (PyTorch's defaults); arrays keep their dtype.
    """
    be = resolve_backend(device)
    dtype = interop_dtype(be, dtype)
    return _finish(_from_object(data, dtype, be, True), be, requires_grad)


def asarray(obj, /, *, dtype=None, device=None, copy=None, requires_grad=False):
    """The standard ``asarray``: shares memory with ``obj`` where it can unless ``copy=True``."""
    be = resolve_backend(device if device is not None else
                         (obj._be if isinstance(obj, Tensor) else None))
    dtype = interop_dtype(be, dtype)
    if isinstance(obj, Tensor) and obj._be is be and not copy and (
            dtype is None or obj.dtype is dtype):
        return obj
    if copy is False and isinstance(obj, Tensor) and dtype is not None and obj.dtype is not dtype:
        raise ValueError(f"asarray(copy=False): converting {obj.dtype} to {dtype} needs a copy")
    return _finish(_from_object(obj, dtype, be, copy), be, requires_grad)


def as_tensor(data, dtype=None, device=None):
    return asarray(data, dtype=dtype, device=device)


def _size_args(size, op):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        try:
            v = s.__index__()
        except AttributeError:
            raise TypeError(f"{op}: size must be ints, got {type(s).__name__} {s!r}") from None
        if v < 0:
            raise ValueError(f"{op}: negative dimension {v} in size {tuple(size)}")
        out.append(v)
    return tuple(out)


def _filled(fname, op):
    def f(*size, dtype=None, device=None, requires_grad=False, shape=None):
        if shape is not None:
            size = (shape,)
        shp = _size_args(size, op)
        be = resolve_backend(device)
        dt = interop_dtype(be, dtype) or be.default_float
        data = getattr(be.xp, fname)(shp, dtype=be.native_dtype(dt), **be._dev_kw())
        return _finish(data, be, requires_grad)
    f.__name__ = op
    f.__doc__ = f"A tensor of the given size filled by ``{fname}`` (default dtype float32)."
    return f


zeros = _filled("zeros", "zeros")
ones = _filled("ones", "ones")
empty = _filled("empty", "empty")


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    shp = _size_args((size,) if not isinstance(size, (tuple, list)) else (tuple(size),), "full")
    be = resolve_backend(device)
    dt = interop_dtype(be, dtype)
    if dt is None:
        dt = _default_for_kind(be, _scalar_kind(fill_value))
    data = be.xp.full(shp, fill_value, dtype=be.native_dtype(dt), **be._dev_kw())
    return _finish(data, be, requires_grad)


def _like(fname):
    def f(x, /, *, dtype=None, device=None, requires_grad=False):
        be = resolve_backend(device) if device is not None else x._be
        dt = interop_dtype(be, dtype) or x.dtype
        data = getattr(be.xp, fname)(x._data.shape, dtype=be.native_dtype(dt), **be._dev_kw())
        return _finish(data, be, requires_grad)
    f.__name__ = fname + "_like"
    return f


zeros_like = _like("zeros")
ones_like = _like("ones")
empty_like = _like("empty")


def full_like(x, /, fill_value, *, dtype=None, device=None, requires_grad=False):
    be = resolve_backend(device) if device is not None else x._be
    dt = interop_dtype(be, dtype) or x.dtype
    data = be.xp.full(x._data.shape, fill_value, dtype=be.native_dtype(dt), **be._dev_kw())
    return _finish(data, be, requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, stop=None):
    if stop is not None:
        end = stop
    if end is None:
        start, end = 0, start
    be = resolve_backend(device)
    dt = interop_dtype(be, dtype)
    if dt is None:
        dt = _default_for_kind(be, _scalar_kind([start, end, step]))
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    data = be.xp.arange(start, end, step, dtype=be.native_dtype(dt), **be._dev_kw())
    return _finish(data, be, requires_grad)


def linspace(start, stop, num=None, *, steps=None, dtype=None, device=None, endpoint=True,
             requires_grad=False):
    if steps is not None:
        num = steps
    if num is None:
        raise TypeError("linspace: the number of points (num= or steps=) is required")
    be = resolve_backend(device)
    dt = interop_dtype(be, dtype) or (be.default_float.to_complex()
                                      if _scalar_kind([start, stop]) == "c" else be.default_float)
    data = be.xp.linspace(start, stop, num, dtype=be.native_dtype(dt), endpoint=endpoint,
                          **be._dev_kw())
    return _finish(data, be, requires_grad)


def eye(n_rows, n_cols=None, /, *, k=0, dtype=None, device=None, requires_grad=False):
    be = resolve_backend(device)
    dt = interop_dtype(be, dtype) or be.default_float
    data = be.xp.eye(n_rows, n_cols, k=k, dtype=be.native_dtype(dt), **be._dev_kw())
    return _finish(data, be, requires_grad)
