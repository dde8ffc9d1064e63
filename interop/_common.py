"""Helpers shared by the op modules: result construction, recording, checks."""

from . import dtypes as _dt
from ._tensor import Tensor, _new, _norm_dim
from .autograd import graph as _graph
from .autograd.grad_mode import state as grad_state

make = Tensor._make
Node = _graph.Node
_AccumulateGrad = _graph.AccumulateGrad

SCALAR_TYPES = (bool, int, float, complex)


def record(cls, be, inputs, saved=(), arrs=()):
    """A new ``cls`` node with one edge per input tensor (``None`` for non-tensors)."""
    node = _new(cls)
    node.next = tuple(t._node if t.__class__ is Tensor else None for t in inputs)
    node.seq = _graph.next_seq()     # looked up per call: detect_anomaly swaps it
    node.be = be
    node.saved = saved
    node.arrs = arrs
    return node


def mixed_backends(a, b, op):
    return RuntimeError(
        f"{op}: expected all tensors on the same backend and device, but found one on "
        f"{a._be.name!r} ({a._be.device}) and one on {b._be.name!r} ({b._be.device}); "
        f"move one explicitly with .to(...)")


def same_backend(tensors, op):
    """The backend shared by ``tensors`` (a clear error if they differ)."""
    be = None
    first = None
    for t in tensors:
        if t.__class__ is Tensor or isinstance(t, Tensor):
            if be is None:
                be, first = t._be, t
            elif t._be is not be:
                raise mixed_backends(first, t, op)
    return be


def dtype_arg(be, dtype):
    """A native dtype for ``dtype`` (an interop dtype, or a native dtype of ``be``)."""
    if dtype is None:
        return None
    if dtype.__class__ is _dt.dtype:
        return be.native_dtype(dtype)
    if dtype in be.from_native:
        return dtype
    if isinstance(dtype, str):
        return be.native_dtype(_dt.by_name(dtype))
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


def norm_dim(dim, ndim, who="dim"):
    return _norm_dim(dim, ndim, who)


def norm_dims(dim, ndim, who="dim"):
    """``None`` (all), an int, or a sequence of ints -> tuple of non-negative axes, or None."""
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        axes = tuple(_norm_dim(d, ndim, who) for d in dim)
        if len(set(axes)) != len(axes):
            raise ValueError(f"{who}: dim {tuple(dim)} names an axis twice")
        return axes
    return (_norm_dim(dim, ndim, who),)


def unbroadcast(xp, g, shape, cast):
    """Reduce ``g`` to ``shape`` (sum over broadcast axes) and apply ``cast`` (see
    :func:`cast_back`) when the forward promoted the input."""
    if g.shape != shape:
        g = xp.sum_to(g, shape)
    if cast is not None:
        if cast[1]:
            g = xp.real(g)
        g = xp.astype(g, cast[0])
    return g


def cast_back(be, input_dtype, output_dtype):
    """How a gradient in ``output_dtype`` returns to an input of ``input_dtype``: None (same
    dtype) or (native dtype, take the real part first). A real input promoted into a complex
    result gets the real part of its gradient, as in PyTorch."""
    if input_dtype == output_dtype:
        return None
    c = be.complex_natives
    return (input_dtype, output_dtype in c and input_dtype not in c)


def real_only(x, op):
    """Ordering ops have no meaning on complex numbers (NumPy would order them anyway)."""
    if isinstance(x, Tensor) and x._data.dtype in x._be.complex_natives:
        raise TypeError(f"{op}: not supported for complex tensors (dtype {x.dtype}); compare "
                        f"abs() or the real part instead")


def check_inplace(t, op):
    """Refuse in-place ops that would corrupt autograd or a read-only tensor."""
    if t._readonly:
        raise RuntimeError(f"{op}: this tensor is read-only (imported from a read-only buffer); "
                           f"clone() it before writing")
    n = t._node
    if n is not None and n.__class__ is _AccumulateGrad and grad_state.enabled:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place "
                           f"operation (shape {tuple(t.shape)}); wrap the update in "
                           f"interop.no_grad() or use an out-of-place op")
    b = t._base
    if b is not None and n is not None and grad_state.enabled and b._node is not None \
            and b._node.__class__ is _AccumulateGrad:
        raise RuntimeError(f"{op}: a view of a leaf Variable that requires grad is being used in an "
                           f"in-place operation; wrap it in interop.no_grad() or clone() first")
