"""Joins and splits: concat/stack, split/chunk/unbind (views).

``concat`` and ``stack`` take the standard's keyword-only ``axis=`` and PyTorch's
``dim`` (positional, as ``torch.cat(xs, 1)``); tensors of different dtypes are joined in
the dtype they promote to (PyTorch's rule across kinds: float32 with int64 is float32).
"""

from .._args import Unset, both_spellings, norm_dim, same_backend
from .._errors import ArgumentError, ShapeError
from .._dtype_rules import result_type
from ..autograd.unbroadcast import cast_back
from .views import make_view, reshape, unsqueeze, squeeze
from ..autograd.graph import Node
from ..autograd.grad_mode import state as grad_state
from ..autograd.variable import Variable, record

__all__ = ["concat", "cat", "concatenate", "stack", "split", "chunk", "unbind", "unstack"]


class ConcatBackward(Node):
    """``casts``: per input, None or how its gradient returns to its own dtype."""
    __slots__ = ("axis", "sizes", "casts")

    def backward(self, xp, g, s):
        out = []
        start = 0
        nd = len(g.shape)
        for n, cast in zip(self.sizes, self.casts):
            key = (slice(None),) * self.axis + (slice(start, start + n),) + (Ellipsis,) * (nd > self.axis + 1)
            part = g[key]
            if cast is not None:
                part = xp.astype(xp.real(part) if cast[1] else part, cast[0])
            out.append(part)
            start += n
        return tuple(out)


def _tensor_list(tensors, op):
    if isinstance(tensors, Variable) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ArgumentError(f"{op}: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Variable):
            raise TypeError(f"{op}: element {i} is a {type(t).__name__}, expected a Tensor")
    return same_backend(tensors, op)


def _join_axis(op, dim, axis):
    """PyTorch's ``dim`` (positional or keyword) or the standard's ``axis=`` (default 0)."""
    if dim is not None:
        if axis.__class__ is not Unset:
            raise both_spellings(op, axis, dim)
        return dim
    return axis.value if axis.__class__ is Unset else axis


def concat(arrays, /, dim=None, *, axis=Unset(0)):
    """Join ``arrays`` along an existing dim: the standard's ``concat(arrays, axis=0)``
    (``axis=None`` flattens them first) and PyTorch's ``cat(tensors, dim)``."""
    axis = _join_axis("concat", dim, axis)
    be = _tensor_list(arrays, "concat")
    if axis is None:
        arrays = [reshape(a, (-1,)) for a in arrays]
        axis = 0
    nd = arrays[0]._data.ndim
    for i, a in enumerate(arrays):
        if a._data.ndim == 0:
            raise ShapeError(f"concat: zero-dimensional tensor (at position {i}) cannot be "
                             f"concatenated; use stack, or unsqueeze it first")
    ax = norm_dim(axis, nd, "concat")
    for i, a in enumerate(arrays):
        sa, s0 = a._data.shape, arrays[0]._data.shape
        if a._data.ndim != nd or any(p != q for j, (p, q) in enumerate(zip(sa, s0)) if j != ax):
            raise ShapeError(f"concat: sizes of tensors must match except in dimension {ax}; tensor "
                             f"0 has shape {tuple(s0)}, tensor {i} has shape {tuple(sa)}")
    datas = [a._data for a in arrays]
    if any(d.dtype != datas[0].dtype for d in datas):
        nt = be.native_dtype(result_type(*arrays))
        datas = [d if d.dtype == nt else be.xp.astype(d, nt) for d in datas]
    data = be.xp.concat(datas, axis=ax)
    node = None
    if grad_state.enabled and any(a._node is not None for a in arrays):
        node = record(ConcatBackward, be, arrays)
        node.axis = ax
        node.sizes = tuple(a._data.shape[ax] for a in arrays)
        node.casts = tuple(cast_back(be, a._data.dtype, data.dtype) for a in arrays)
    return arrays[0]._make(data, be, node)


cat = concat
concatenate = concat


def stack(arrays, /, dim=None, *, axis=Unset(0)):
    """Join ``arrays`` along a new dim: the standard's ``stack(arrays, axis=0)`` and
    PyTorch's ``stack(tensors, dim)``."""
    axis = _join_axis("stack", dim, axis)
    _tensor_list(arrays, "stack")
    s0 = arrays[0]._data.shape
    for i, a in enumerate(arrays):
        if a._data.shape != s0:
            raise ShapeError(f"stack: expects each tensor to be equal size, but got {tuple(s0)} at "
                             f"entry 0 and {tuple(a._data.shape)} at entry {i}")
    ax = norm_dim(axis, len(s0) + 1, "stack")
    return concat([unsqueeze(a, ax) for a in arrays], axis=ax)


class SplitBackward(Node):
    __slots__ = ("axis", "sizes", "shape")

    def backward(self, xp, g, s):
        if len(self.sizes) == 1:      # one piece: a single-output node, g is that piece's grad
            return g,
        parts = []
        for gi, n in zip(g, self.sizes):
            if gi is None:
                shp = list(self.shape)
                shp[self.axis] = n
                gi = _zeros_like_grad(xp, g, tuple(shp))
            parts.append(gi)
        return xp.concat(parts, axis=self.axis),


def _zeros_like_grad(xp, gs, shape):
    ref = next(x for x in gs if x is not None)
    return xp.zeros(shape, dtype=ref.dtype, device=ref.device)


def split(x, split_size_or_sections, dim=0):
    """PyTorch's ``split``: chunks of ``split_size`` (the last may be smaller), or a list of sizes."""
    ax = norm_dim(dim, x._data.ndim, "split")
    n = x._data.shape[ax]
    if isinstance(split_size_or_sections, int):
        k = split_size_or_sections
        if k <= 0:
            raise ArgumentError(f"split: split_size must be positive, got {k}")
        sizes = [k] * (n // k) + ([n % k] if n % k else [])
        if not sizes:
            sizes = [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise ShapeError(f"split: sizes {sizes} sum to {sum(sizes)}, but dim {ax} has size {n}")
    return _split_sizes(x, ax, sizes)


def _split_sizes(x, ax, sizes):
    be = x._be
    nd = x._data.ndim
    datas = []
    keys = []
    start = 0
    for k in sizes:
        key = (slice(None),) * ax + (slice(start, start + k),) + (Ellipsis,) * (nd > ax + 1)
        datas.append(x._data[key])
        keys.append(key)
        start += k
    if x._node is None or not grad_state.enabled:
        return tuple(make_view(d, x, None, ("index", key)) for d, key in zip(datas, keys))
    node = record(SplitBackward, be, (x,))
    node.axis, node.sizes, node.shape = ax, tuple(sizes), x._data.shape
    node.nout = len(sizes)
    outs = []
    for i, (d, key) in enumerate(zip(datas, keys)):
        t = make_view(d, x, (node, i) if len(sizes) > 1 else node, ("index", key))
        t._oidx = i
        outs.append(t)
    return tuple(outs)


def chunk(x, chunks, dim=0):
    ax = norm_dim(dim, x._data.ndim, "chunk")
    n = x._data.shape[ax]
    if chunks <= 0:
        raise ArgumentError(f"chunk: chunks must be positive, got {chunks}")
    k = -(-n // chunks) if n else 1
    return split(x, k, ax)


def unbind(x, dim=0):
    ax = norm_dim(dim, x._data.ndim, "unbind")
    parts = _split_sizes(x, ax, [1] * x._data.shape[ax])
    return tuple(squeeze(p, ax) for p in parts)


def unstack(x, /, *, axis=0):
    """The standard's ``unstack``: the tensors along ``axis``, as a tuple (``unbind``)."""
    return unbind(x, axis)


class JoinMethods:
    """Tensor methods that split the tensor."""

    __slots__ = ()

    def split(self, split_size_or_sections, dim=0):
        return split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return unbind(self, dim)
