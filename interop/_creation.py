"""Creation functions: ``tensor``, ``asarray``, ``zeros``, ``ones``, ``full``, ``empty``,
``arange``, ``linspace``, ``eye`` and the ``*_like`` forms."""

from ._args import interop_dtype, size_arg
from ._convert import from_object, default_for_kind, scalar_kind
from ._tensor import Tensor
from .autograd.variable import Variable
from .backends import backend_for

__all__ = ["tensor", "asarray", "as_tensor", "zeros", "ones", "full", "empty", "arange", "linspace",
           "eye", "zeros_like", "ones_like", "full_like", "empty_like", "finish"]


def finish(data, be, requires_grad):
    """A new leaf tensor over raw array ``data``."""
    t = Tensor._make(data, be, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, *, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (nested lists, scalars, arrays, tensors).

    Python floats give float32 and ints int64 (PyTorch's defaults); arrays keep their dtype.
    """
    be = backend_for(device)
    dtype = interop_dtype(be, dtype)
    return finish(from_object(data, dtype, be, True), be, requires_grad)


def asarray(obj, /, *, dtype=None, device=None, copy=None, requires_grad=False):
    """The standard ``asarray``: shares memory with ``obj`` where it can unless ``copy=True``."""
    be = backend_for(device if device is not None else
                         (obj._be if isinstance(obj, Variable) else None))
    dtype = interop_dtype(be, dtype)
    if isinstance(obj, Variable) and obj._be is be and not copy and (
            dtype is None or obj.dtype is dtype):
        return obj
    if copy is False and isinstance(obj, Variable) and dtype is not None and obj.dtype is not dtype:
        raise ValueError(f"asarray(copy=False): converting {obj.dtype} to {dtype} needs a copy")
    return finish(from_object(obj, dtype, be, copy), be, requires_grad)


def as_tensor(data, dtype=None, device=None):
    return asarray(data, dtype=dtype, device=device)


def _filled(fname, op):
    def f(*size, dtype=None, device=None, requires_grad=False, shape=None):
        if shape is not None:
            size = (shape,)
        shp = size_arg(size, op)
        be = backend_for(device)
        dt = interop_dtype(be, dtype) or be.default_float
        data = getattr(be.xp, fname)(shp, dtype=be.native_dtype(dt), **be.device_kwargs)
        return finish(data, be, requires_grad)
    f.__name__ = op
    f.__doc__ = f"A tensor of the given size filled by ``{fname}`` (default dtype float32)."
    return f


zeros = _filled("zeros", "zeros")
ones = _filled("ones", "ones")
empty = _filled("empty", "empty")


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    shp = size_arg((size,) if not isinstance(size, (tuple, list)) else (tuple(size),), "full")
    be = backend_for(device)
    dt = interop_dtype(be, dtype)
    if dt is None:
        dt = default_for_kind(be, scalar_kind(fill_value))
    data = be.xp.full(shp, fill_value, dtype=be.native_dtype(dt), **be.device_kwargs)
    return finish(data, be, requires_grad)


def _like(fname):
    def f(x, /, *, dtype=None, device=None, requires_grad=False):
        be = backend_for(device) if device is not None else x._be
        dt = interop_dtype(be, dtype) or x.dtype
        data = getattr(be.xp, fname)(x._data.shape, dtype=be.native_dtype(dt), **be.device_kwargs)
        return finish(data, be, requires_grad)
    f.__name__ = fname + "_like"
    return f


zeros_like = _like("zeros")
ones_like = _like("ones")
empty_like = _like("empty")


def full_like(x, /, fill_value, *, dtype=None, device=None, requires_grad=False):
    be = backend_for(device) if device is not None else x._be
    dt = interop_dtype(be, dtype) or x.dtype
    data = be.xp.full(x._data.shape, fill_value, dtype=be.native_dtype(dt), **be.device_kwargs)
    return finish(data, be, requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, stop=None):
    if stop is not None:
        end = stop
    if end is None:
        start, end = 0, start
    be = backend_for(device)
    dt = interop_dtype(be, dtype)
    if dt is None:
        dt = default_for_kind(be, scalar_kind([start, end, step]))
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    data = be.xp.arange(start, end, step, dtype=be.native_dtype(dt), **be.device_kwargs)
    return finish(data, be, requires_grad)


def linspace(start, stop, num=None, *, steps=None, dtype=None, device=None, endpoint=True,
             requires_grad=False):
    if steps is not None:
        num = steps
    if num is None:
        raise TypeError("linspace: the number of points (num= or steps=) is required")
    be = backend_for(device)
    dt = interop_dtype(be, dtype) or (be.default_float.to_complex()
                                      if scalar_kind([start, stop]) == "c" else be.default_float)
    data = be.xp.linspace(start, stop, num, dtype=be.native_dtype(dt), endpoint=endpoint,
                          **be.device_kwargs)
    return finish(data, be, requires_grad)


def eye(n_rows, n_cols=None, /, *, k=0, dtype=None, device=None, requires_grad=False):
    be = backend_for(device)
    dt = interop_dtype(be, dtype) or be.default_float
    data = be.xp.eye(n_rows, n_cols, k=k, dtype=be.native_dtype(dt), **be.device_kwargs)
    return finish(data, be, requires_grad)
