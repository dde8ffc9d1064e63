"""Creation functions: ``tensor``, ``asarray``, ``zeros``, ``ones``, ``full``, ``empty``,
``arange``, ``linspace``, ``eye`` and the ``*_like`` forms."""


from ._args import either, size_arg, same_backend
from ._convert import from_object
from ._dtype_rules import default_for_kind, interop_dtype, scalar_kind
from ._tensor import Tensor
from ._ops.views import reshape, broadcast_to
from .autograd.variable import Variable
from .backends import backend_for, get_backend

__all__ = ["tensor", "asarray", "as_tensor", "zeros", "ones", "full", "empty", "arange", "linspace",
           "eye", "zeros_like", "ones_like", "full_like", "empty_like", "finish", "from_numpy",
           "from_dlpack", "meshgrid"]


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


# Creation allocates through the backend (Backend.empty/full), which picks the alignment:
# large CPU tensors are 64-byte aligned, so JAX imports them without a copy.
_EMPTY = object()     # the fill of empty(): none


def _alloc(be, fill, shape, dt):
    nd = be.native_dtype(dt)
    return be.empty(shape, nd) if fill is _EMPTY else be.full(shape, fill, nd)


def _dims(shape, more, size, op):
    if size is None:
        return ((shape,) if shape is not None else ()) + more
    if shape is not None or more:
        raise TypeError(f"{op}: the shape is given twice (positionally and as size=)")
    return (size,)


def _filled(fill, op):
    def f(shape=None, *more, size=None, dtype=None, device=None, requires_grad=False):
        # the standard's f(shape) and f(shape=...), and PyTorch's f(2, 3) and f(size=...)
        shp = size_arg(_dims(shape, more, size, op), op)
        be = backend_for(device)
        dt = interop_dtype(be, dtype) or be.default_float
        return finish(_alloc(be, fill, shp, dt), be, requires_grad)
    f.__name__ = op
    f.__doc__ = ("A tensor of the given shape " +
                 ("left uninitialized" if fill is _EMPTY else f"filled with {fill}") +
                 f" (default dtype float32): ``{op}((2, 3))``, ``{op}(2, 3)`` or "
                 f"``{op}(shape=(2, 3))``.")
    return f


zeros = _filled(0, "zeros")
ones = _filled(1, "ones")
empty = _filled(_EMPTY, "empty")


def full(shape=None, fill_value=None, *, size=None, dtype=None, device=None, requires_grad=False):
    """A tensor of ``shape`` (PyTorch: ``size=``) filled with ``fill_value``."""
    shape = _dims(shape, (), size, "full")
    if len(shape) != 1 or fill_value is None:
        raise TypeError("full: expected a shape and a fill value, as full((2, 3), 1.5)")
    shape = shape[0]
    shp = size_arg((shape,) if not isinstance(shape, (tuple, list)) else (tuple(shape),), "full")
    be = backend_for(device)
    dt = interop_dtype(be, dtype)
    if dt is None:
        dt = default_for_kind(be, scalar_kind(fill_value))
    return finish(_alloc(be, fill_value, shp, dt), be, requires_grad)


def _like(fill, op):
    def f(x, /, *, dtype=None, device=None, requires_grad=False):
        be = backend_for(device) if device is not None else x._be
        dt = interop_dtype(be, dtype) or x.dtype
        return finish(_alloc(be, fill, tuple(x._data.shape), dt), be, requires_grad)
    f.__name__ = op
    return f


zeros_like = _like(0, "zeros_like")
ones_like = _like(1, "ones_like")
empty_like = _like(_EMPTY, "empty_like")


def full_like(x, /, fill_value, *, dtype=None, device=None, requires_grad=False):
    be = backend_for(device) if device is not None else x._be
    dt = interop_dtype(be, dtype) or x.dtype
    return finish(_alloc(be, fill_value, tuple(x._data.shape), dt), be, requires_grad)


def arange(start, stop=None, step=1, *, dtype=None, device=None, requires_grad=False, end=None):
    """The standard's ``arange(start, stop, step)``; PyTorch's ``end=`` is ``stop``."""
    end = either("arange", "stop", stop, "end (PyTorch's name)", end)
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


def _is_ndarray(obj):
    """True for a NumPy ndarray (or subclass), told without importing NumPy."""
    return any(c.__name__ == "ndarray" and c.__module__ == "numpy" for c in type(obj).__mro__)


def from_numpy(ndarray):
    """A tensor sharing memory with NumPy array ``ndarray`` (writes through either show in
    the other), as ``torch.from_numpy``.

    It lives on the current backend when that backend is on the CPU (``cpu`` and
    ``strict`` share the memory), else -- as PyTorch's is always a CPU tensor -- on the
    ``cpu`` backend; move it with ``.to(device)``. A backend that cannot share memory with
    NumPy raises instead of copying (use :func:`tensor` to copy).
    """
    if not _is_ndarray(ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(ndarray).__name__})")
    be = get_backend()
    if be.device.type != "cpu":
        be = get_backend("cpu")
    dt = ndarray.dtype
    names = {d.name for d in be.to_native}
    if dt.name not in names or not dt.isnative:
        raise TypeError(f"from_numpy: can't convert np.ndarray of type {dt}"
                        f"{'' if dt.isnative else ' (non-native byte order)'}; the supported types "
                        f"on backend {be.name!r} are {', '.join(sorted(names))}")
    try:
        data = be.xp.asarray(ndarray, copy=False, **be.device_kwargs)
    except Exception as e:
        raise TypeError(f"from_numpy: backend {be.name!r} cannot share memory with a NumPy array "
                        f"of dtype {ndarray.dtype} ({e}); use interop.tensor(a) to copy it") from None
    return finish(data, be, False)


def from_dlpack(x, /, *, device=None, copy=None):
    """A tensor sharing memory with ``x``: any object with ``__dlpack__`` (arrays and tensors of
    NumPy, PyTorch, JAX, CuPy, cuDF columns...) or a raw DLPack capsule.

    Zero-copy, O(1) in the size: writes through either side show in the other, and the
    producer's memory lives as long as the tensor needs it. Memory the producer marks
    read-only (a read-only NumPy array, any JAX array) gives a tensor that refuses in-place
    writes. ``copy=True`` always copies; ``copy=False`` raises BufferError where a view is
    impossible. ``device`` (default: where the data is) other than the data's device copies
    there (not under ``copy=False``). The tensor does not require grad.
    """
    return Tensor._from_dlpack(x, device, copy)


def meshgrid(*arrays, indexing="xy"):
    """Coordinate grids from 1-d tensors, broadcast views of them (as PyTorch's: their
    elements alias the inputs). ``indexing='xy'`` swaps the first two output dims; ``'ij'``
    keeps the inputs' order. A single list of tensors is accepted too. (``interop.meshgrid``
    defaults to PyTorch's ``'ij'``, ``interop.array_api.meshgrid`` to the standard's
    ``'xy'``.)
    """
    if len(arrays) == 1 and isinstance(arrays[0], (list, tuple)):
        arrays = tuple(arrays[0])
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    for i, a in enumerate(arrays):
        if not isinstance(a, Variable):
            raise TypeError(f"meshgrid: argument {i} is a {type(a).__name__}, expected a Tensor")
        if a._data.ndim > 1:
            raise ValueError(f"meshgrid: expects 0-d or 1-d tensors, got shape "
                             f"{tuple(a._data.shape)} for argument {i}")
    same_backend(arrays, "meshgrid")
    if len({a.dtype for a in arrays}) > 1:
        raise TypeError(f"meshgrid: expects all tensors to have the same dtype, got "
                        f"{', '.join(str(a.dtype) for a in arrays)}")
    n = len(arrays)
    sizes = [a.numel() for a in arrays]
    pos = list(range(n))
    if indexing == "xy" and n >= 2:
        pos[0], pos[1] = 1, 0
    shape = [0] * n
    for i, s in enumerate(sizes):
        shape[pos[i]] = s
    out = []
    for i, a in enumerate(arrays):
        one = [1] * n
        one[pos[i]] = sizes[i]
        out.append(broadcast_to(reshape(a, tuple(one)), tuple(shape)))
    return tuple(out)
