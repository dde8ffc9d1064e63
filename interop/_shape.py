"""Shape and data-movement primitives: views, joins and splits, where/clamp,
casts, matmul, gather/scatter and the differentiable forms of the backend kernels."""

from ._tensor import Tensor
from ._common import (Node, make, record, grad_state, norm_dim, norm_dims, dtype_arg,
                      same_backend, mixed_backends, unbroadcast, cast_back, real_only)
from . import dtypes as _dt

__all__ = []


def _view(data, x, node, step=None):
    """A result that shares ``x``'s storage (views share the version counter). ``step``
    (kind, arg) says how it was taken from ``x``; see ``Tensor._view_ops``."""
    t = make(data, x._be, node)
    if x._base is None:
        t._base = x
        if step is not None:
            t._view_ops = (step,)
    else:
        t._base = x._base
        if step is not None:
            t._view_ops = x._view_ops + (step,) if x._view_ops else False
    return t


def _shape_arg(shape, op):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    out = []
    for s in shape:
        try:
            out.append(s.__index__())
        except AttributeError:
            raise TypeError(f"{op}: shape entries must be ints, got {type(s).__name__} {s!r}") from None
    return tuple(out)


# ------------------------------------------------------------------ reshape

class ReshapeBackward(Node):
    __slots__ = ("shape",)

    def backward(self, xp, g, s):
        return xp.reshape(g, self.shape),


def _resolve_shape(shape, n, old, op):
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1 or any(s < -1 for s in shape):
        raise RuntimeError(f"{op}: invalid shape {shape}: only one dimension can be -1 and the "
                           f"others must be non-negative")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if neg:
        if known == 0 or n % known:
            raise RuntimeError(f"{op}: shape {list(shape)} is invalid for input of size {n} "
                               f"(shape {tuple(old)})")
        shape = tuple(n // known if s == -1 else s for s in shape)
    elif known != n:
        raise RuntimeError(f"{op}: shape {list(shape)} is invalid for input of size {n} "
                           f"(shape {tuple(old)})")
    return shape


_NO_VIEW = (ValueError, AttributeError, NotImplementedError)   # how backends say "needs a copy"


def reshape(x, /, shape, *, copy=None):
    """Standard ``reshape``: a view where the data's layout allows one, else a copy
    (``copy=False`` refuses to copy, ``copy=True`` always copies). Only a real view
    shares the version counter with ``x``."""
    if not isinstance(shape, (tuple, list)):
        shape = (shape,)
    shape = _resolve_shape(_shape_arg(tuple(shape), "reshape"), x.numel(), x._data.shape, "reshape")
    xp = x._be.xp
    xd = x._data
    is_view = copy is not True
    if copy is True:
        data = xp.reshape(xd, shape, copy=True)
    else:
        try:
            data = xp.reshape(xd, shape, copy=False)
        except _NO_VIEW:
            if copy is False:
                raise RuntimeError(f"view size is not compatible with input tensor's size and stride "
                                   f"(shape {tuple(x.shape)} -> {shape}); use .reshape(...) "
                                   f"instead") from None
            data = xp.reshape(xd, shape, copy=True)
            is_view = False
    node = None
    if x._node is not None and grad_state.enabled:
        node = record(ReshapeBackward, x._be, (x,))
        node.shape = xd.shape
    return _view(data, x, node, ("reshape", shape)) if is_view else make(data, x._be, node)


def view(x, *shape):
    """PyTorch's ``view``: ``x.view(2, -1)``, never a copy; ``x.view(dtype)`` is not supported."""
    if len(shape) == 1 and isinstance(shape[0], _dt.dtype):
        raise NotImplementedError("view(dtype) reinterprets bytes, which the Array API cannot do; "
                                  "use astype")
    return reshape(x, _shape_arg(shape, "view"), copy=False)


def flatten(x, start_dim=0, end_dim=-1):
    nd = x._data.ndim
    if nd == 0:
        return reshape(x, (1,))
    s = norm_dim(start_dim, nd, "flatten")
    e = norm_dim(end_dim, nd, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shp = x._data.shape
    n = 1
    for d in shp[s:e + 1]:
        n *= d
    return reshape(x, tuple(shp[:s]) + (n,) + tuple(shp[e + 1:]))


def unflatten(x, dim, sizes):
    d = norm_dim(dim, x._data.ndim, "unflatten")
    shp = x._data.shape
    return reshape(x, tuple(shp[:d]) + tuple(sizes) + tuple(shp[d + 1:]))


class PermuteBackward(Node):
    __slots__ = ("inv",)

    def backward(self, xp, g, s):
        return xp.permute_dims(g, self.inv),


def permute_dims(x, /, axes):
    nd = x._data.ndim
    axes = tuple(norm_dim(a, nd, "permute") for a in axes)
    if sorted(axes) != list(range(nd)):
        raise ValueError(f"permute: dims {axes} are not a permutation of the {nd} dims of a tensor "
                         f"of shape {tuple(x.shape)}")
    data = x._be.xp.permute_dims(x._data, axes)
    node = None
    if x._node is not None and grad_state.enabled:
        node = record(PermuteBackward, x._be, (x,))
        inv = [0] * nd
        for i, a in enumerate(axes):
            inv[a] = i
        node.inv = tuple(inv)
    return _view(data, x, node, ("permute", axes))


def permute(x, *dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    return permute_dims(x, dims)


def transpose(x, dim0, dim1):
    nd = x._data.ndim
    a = norm_dim(dim0, nd, "transpose")
    b = norm_dim(dim1, nd, "transpose")
    axes = list(range(nd))
    axes[a], axes[b] = axes[b], axes[a]
    return permute_dims(x, tuple(axes))


swapaxes = transpose


def matrix_transpose(x):
    if x._data.ndim < 2:
        raise ValueError(f"matrix_transpose: expected at least 2 dims, got shape {tuple(x.shape)}")
    return transpose(x, -1, -2)


def t(x):
    if x._data.ndim > 2:
        raise ValueError(f"t() expects a tensor with <= 2 dims, got shape {tuple(x.shape)}; "
                         f"use .mT or transpose")
    return transpose(x, 0, 1) if x._data.ndim == 2 else x


def moveaxis(x, source, destination):
    nd = x._data.ndim
    src = norm_dims(source if isinstance(source, (tuple, list)) else [source], nd, "moveaxis")
    dst = norm_dims(destination if isinstance(destination, (tuple, list)) else [destination], nd,
                    "moveaxis")
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: source {source} and destination {destination} differ in length")
    order = [a for a in range(nd) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute_dims(x, tuple(order))


movedim = moveaxis


def squeeze(x, /, axis=None, *, dim=None):
    if dim is not None:
        axis = dim
    shp = x._data.shape
    if axis is None:
        axes = tuple(i for i, s in enumerate(shp) if s == 1)
    else:
        axes = norm_dims(axis, x._data.ndim, "squeeze")
        if not isinstance(axis, (tuple, list)) and shp and shp[axes[0]] != 1:
            return reshape(x, shp)   # PyTorch: squeezing a dim that is not 1 changes nothing
        bad = [a for a in axes if shp[a] != 1]
        if bad:
            raise ValueError(f"squeeze: dim {bad[0]} has size {shp[bad[0]]}, not 1 "
                             f"(shape {tuple(shp)})")
    return reshape(x, tuple(s for i, s in enumerate(shp) if i not in axes))


def unsqueeze(x, dim):
    nd = x._data.ndim + 1
    d = norm_dim(dim, nd, "unsqueeze")
    shp = list(x._data.shape)
    shp.insert(d, 1)
    return reshape(x, tuple(shp))


def expand_dims(x, /, axis=0):
    return unsqueeze(x, axis)


class SumToBackward(Node):
    __slots__ = ("shape",)

    def backward(self, xp, g, s):
        return xp.sum_to(g, self.shape),


def broadcast_to(x, /, shape):
    shape = _shape_arg(tuple(shape) if isinstance(shape, (tuple, list)) else (shape,), "broadcast_to")
    try:
        data = x._be.xp.broadcast_to(x._data, shape)
    except (ValueError, RuntimeError) as e:
        raise ValueError(f"broadcast_to: cannot broadcast shape {tuple(x.shape)} to {shape}: {e}") \
            from None
    node = None
    if x._node is not None and grad_state.enabled:
        node = record(SumToBackward, x._be, (x,))
        node.shape = x._data.shape
    return _view(data, x, node)


def expand(x, *sizes):
    sizes = _shape_arg(sizes, "expand")
    shp = x._data.shape
    lead = len(sizes) - len(shp)
    if lead < 0:
        raise ValueError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or "
                         f"equal to the number of dimensions in the tensor ({len(shp)})")
    target = tuple(shp[i - lead] if (s == -1 and i >= lead) else s for i, s in enumerate(sizes))
    return broadcast_to(x, target)


def expand_as(x, other):
    return broadcast_to(x, other._data.shape)


def broadcast_arrays(*arrays):
    be = same_backend(arrays, "broadcast_arrays")
    shape = be.xp.broadcast_shapes(*[a._data.shape for a in arrays]) if hasattr(be.xp, "broadcast_shapes") \
        else tuple(be.xp.broadcast_arrays(*[a._data for a in arrays])[0].shape)
    return [broadcast_to(a, shape) for a in arrays]


class BroadcastToBackward(Node):
    __slots__ = ("shape",)

    def backward(self, xp, g, s):
        return xp.broadcast_to(g, self.shape),


def sum_to(x, shape):
    """Sum ``x`` over broadcast axes down to ``shape`` (the inverse of broadcasting)."""
    shape = tuple(shape)
    data = x._be.ns.sum_to(x._data, shape)
    node = None
    if x._node is not None and grad_state.enabled:
        node = record(BroadcastToBackward, x._be, (x,))
        node.shape = x._data.shape
    return make(data, x._be, node)


# -------------------------------------------------------------------- casts

class AstypeBackward(Node):
    __slots__ = ("dtype",)

    def backward(self, xp, g, s):
        return xp.astype(g, self.dtype),


def astype(x, dtype, /, *, copy=True, device=None):
    be = x._be
    nd = dtype_arg(be, dtype)
    if x._data.dtype == nd and not copy:
        return x
    data = be.xp.astype(x._data, nd, copy=copy) if copy is not True else be.xp.astype(x._data, nd)
    node = None
    if x._node is not None and grad_state.enabled:
        target = be.dtype_of(data)
        if target.is_floating_point or target.is_complex:
            if x.dtype.is_complex and not target.is_complex:
                raise RuntimeError(f"astype: casting complex to {target} discards the imaginary part "
                                   f"and is not differentiable; use .real")
            node = record(AstypeBackward, be, (x,))
            node.dtype = x._data.dtype
    return make(data, be, node)


class CloneBackward(Node):
    __slots__ = ()

    def backward(self, xp, g, s):
        return g,


def clone(x):
    data = x._be.xp.asarray(x._data, copy=True)
    node = record(CloneBackward, x._be, (x,)) if x._node is not None and grad_state.enabled else None
    return make(data, x._be, node)


contiguous = clone


# -------------------------------------------------------------- concat/stack

class ConcatBackward(Node):
    __slots__ = ("axis", "sizes")

    def backward(self, xp, g, s):
        out = []
        start = 0
        nd = len(g.shape)
        for n in self.sizes:
            key = (slice(None),) * self.axis + (slice(start, start + n),) + (Ellipsis,) * (nd > self.axis + 1)
            out.append(g[key])
            start += n
        return tuple(out)


def _tensor_list(tensors, op):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: element {i} is a {type(t).__name__}, expected a Tensor")
    return same_backend(tensors, op)


def concat(arrays, /, *, axis=0, dim=None):
    if dim is not None:
        axis = dim
    be = _tensor_list(arrays, "concat")
    if axis is None:
        arrays = [reshape(a, (-1,)) for a in arrays]
        axis = 0
    nd = arrays[0]._data.ndim
    ax = norm_dim(axis, nd, "concat")
    for i, a in enumerate(arrays):
        sa, s0 = a._data.shape, arrays[0]._data.shape
        if a._data.ndim != nd or any(p != q for j, (p, q) in enumerate(zip(sa, s0)) if j != ax):
            raise ValueError(f"concat: sizes of tensors must match except in dimension {ax}; tensor 0 "
                             f"has shape {tuple(s0)}, tensor {i} has shape {tuple(sa)}")
    data = be.xp.concat([a._data for a in arrays], axis=ax)
    node = None
    if grad_state.enabled and any(a._node is not None for a in arrays):
        node = record(ConcatBackward, be, arrays)
        node.axis = ax
        node.sizes = tuple(a._data.shape[ax] for a in arrays)
    return make(data, be, node)


cat = concat
concatenate = concat


def stack(arrays, /, *, axis=0, dim=None):
    if dim is not None:
        axis = dim
    _tensor_list(arrays, "stack")
    s0 = arrays[0]._data.shape
    for i, a in enumerate(arrays):
        if a._data.shape != s0:
            raise ValueError(f"stack: expects each tensor to be equal size, but got {tuple(s0)} at "
                             f"entry 0 and {tuple(a.shape)} at entry {i}")
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
    return xp.zeros(shape, dtype=ref.dtype, device=_dev_of(ref))


def _dev_of(a):
    return getattr(a, "device", None)


def split(x, split_size_or_sections, dim=0):
    """PyTorch's ``split``: chunks of ``split_size`` (the last may be smaller), or a list of sizes."""
    ax = norm_dim(dim, x._data.ndim, "split")
    n = x._data.shape[ax]
    if isinstance(split_size_or_sections, int):
        k = split_size_or_sections
        if k <= 0:
            raise ValueError(f"split: split_size must be positive, got {k}")
        sizes = [k] * (n // k) + ([n % k] if n % k else [])
        if not sizes:
            sizes = [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} sum to {sum(sizes)}, but dim {ax} has size {n}")
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
        return tuple(_view(d, x, None, ("index", key)) for d, key in zip(datas, keys))
    node = record(SplitBackward, be, (x,))
    node.axis, node.sizes, node.shape = ax, tuple(sizes), x._data.shape
    node.nout = len(sizes)
    outs = []
    for i, (d, key) in enumerate(zip(datas, keys)):
        t = _view(d, x, (node, i) if len(sizes) > 1 else node, ("index", key))
        t._oidx = i
        outs.append(t)
    return tuple(outs)


def chunk(x, chunks, dim=0):
    ax = norm_dim(dim, x._data.ndim, "chunk")
    n = x._data.shape[ax]
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    k = -(-n // chunks) if n else 1
    return split(x, k, ax)


def unbind(x, dim=0):
    ax = norm_dim(dim, x._data.ndim, "unbind")
    parts = _split_sizes(x, ax, [1] * x._data.shape[ax])
    return tuple(squeeze(p, ax) for p in parts)


unstack = unbind


# ------------------------------------------------------------- where / clamp

class WhereBackward(Node):
    __slots__ = ("cond", "fix")

    def backward(self, xp, g, s):
        c = self.cond
        z = xp.zeros_like(g)
        ga = xp.where(c, g, z) if self.next[0] is not None else None
        gb = xp.where(c, z, g) if self.next[1] is not None else None
        fa, fb = self.fix
        if ga is not None:
            ga = unbroadcast(xp, ga, fa[0], fa[1])
        if gb is not None:
            gb = unbroadcast(xp, gb, fb[0], fb[1])
        return ga, gb


def where(condition, x1, x2, /):
    """Elements of ``x1`` where ``condition``, else of ``x2`` (either may be a Python scalar)."""
    condition = _raw_as_tensor(condition, x1 if isinstance(x1, Tensor) else x2)
    if not isinstance(condition, Tensor):
        raise TypeError(f"where: condition must be a bool Tensor, got {type(condition).__name__}")
    be = same_backend((condition, x1, x2), "where")
    if condition.dtype is not _dt.bool:
        raise TypeError(f"where: condition must have dtype bool, got {condition.dtype}")
    a = x1._data if isinstance(x1, Tensor) else x1
    b = x2._data if isinstance(x2, Tensor) else x2
    if not isinstance(x1, Tensor) and not isinstance(x2, Tensor):
        raise TypeError("where: at least one of x1, x2 must be a Tensor")
    try:
        data = be.xp.where(condition._data, a, b)
    except (TypeError, ValueError) as e:
        raise ValueError(f"where: condition {tuple(condition.shape)}, x1 "
                         f"{getattr(x1, 'shape', type(x1).__name__)}, x2 "
                         f"{getattr(x2, 'shape', type(x2).__name__)} do not broadcast or promote: {e}") \
            from None
    ins = (x1, x2)
    if not grad_state.enabled or not any(isinstance(t, Tensor) and t._node is not None for t in ins):
        return make(data, be, None)
    node = record(WhereBackward, be, ins)
    node.cond = be.xp.broadcast_to(condition._data, data.shape)

    def fx(v):
        if not isinstance(v, Tensor):
            return (None, None)
        return (v._data.shape, cast_back(be, v._data.dtype, data.dtype))
    node.fix = (fx(x1), fx(x2))
    return make(data, be, node)


class ClampBackward(Node):
    __slots__ = ("mask",)

    def backward(self, xp, g, s):
        return xp.where(self.mask, g, xp.zeros_like(g)),


def clamp(x, min=None, max=None):
    """Clamp to ``[min, max]``; the gradient passes where ``min <= x <= max`` (as in PyTorch).
    Tensor bounds are differentiable too."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    real_only(x, "clamp")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        from ._elementwise import maximum, minimum
        out = x
        if min is not None:
            out = where(out < min, min, out) if isinstance(min, Tensor) else maximum(out, min)
        if max is not None:
            out = where(out > max, max, out) if isinstance(max, Tensor) else minimum(out, max)
        return out
    xp = x._be.xp
    xd = x._data
    data = xd
    if min is not None:
        data = xp.where(data < min, xp.full_like(data, min), data)
    if max is not None:
        data = xp.where(data > max, xp.full_like(data, max), data)
    if x._node is None or not grad_state.enabled:
        return make(data, x._be, None)
    node = record(ClampBackward, x._be, (x,))
    if min is not None and max is not None:
        node.mask = (xd >= min) & (xd <= max)
    else:
        node.mask = (xd >= min) if min is not None else (xd <= max)
    return make(data, x._be, node)


def clip(x, /, min=None, max=None):
    return clamp(x, min, max)


# -------------------------------------------------------------------- matmul

class MatmulBackward(Node):
    __slots__ = ("fix",)

    def backward(self, xp, g, s):
        a, b = s
        a1 = len(a.shape) == 1
        b1 = len(b.shape) == 1
        ga = gb = None
        if a1 and b1:             # a dot product: g is 0-d
            if self.next[0] is not None:
                ga = g * (xp.conj(b) if self.fix else b)
            if self.next[1] is not None:
                gb = g * (xp.conj(a) if self.fix else a)
            return ga, gb
        if a1:
            a = xp.reshape(a, (1,) + tuple(a.shape))
            g = xp.expand_dims(g, axis=-2)
        if b1:
            b = xp.reshape(b, tuple(b.shape) + (1,))
            g = xp.expand_dims(g, axis=-1)
        if self.next[0] is not None:
            ga = xp.matmul(g, xp.conj(xp.matrix_transpose(b)) if self.fix else xp.matrix_transpose(b))
            if a1:
                ga = xp.reshape(ga, tuple(ga.shape[:-2]) + (ga.shape[-1],))
            if tuple(ga.shape) != tuple(s[0].shape):
                ga = xp.sum_to(ga, tuple(s[0].shape))
        if self.next[1] is not None:
            gb = xp.matmul(xp.conj(xp.matrix_transpose(a)) if self.fix else xp.matrix_transpose(a), g)
            if b1:
                gb = xp.reshape(gb, tuple(gb.shape[:-1]))
            if tuple(gb.shape) != tuple(s[1].shape):
                gb = xp.sum_to(gb, tuple(s[1].shape))
        return ga, gb


def matmul(x1, x2, /):
    if not isinstance(x1, Tensor) or not isinstance(x2, Tensor):
        raise TypeError(f"matmul: expected two Tensors, got {type(x1).__name__} and {type(x2).__name__}")
    if x1._be is not x2._be:
        raise mixed_backends(x1, x2, "matmul")
    a, b = x1._data, x2._data
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both arguments must be at least 1-d, got shapes {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb:
        raise ValueError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
                         f"({ka} != {kb})")
    if a.dtype != b.dtype:
        raise TypeError(f"matmul: expected both tensors to have the same dtype, got {x1.dtype} and "
                        f"{x2.dtype}")
    be = x1._be
    try:
        data = be.xp.matmul(a, b)
    except (ValueError, TypeError) as e:
        raise ValueError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)}: {e}") from None
    if (x1._node is None and x2._node is None) or not grad_state.enabled:
        return make(data, be, None)
    node = record(MatmulBackward, be, (x1, x2), (x1, x2), (a, b))
    node.fix = data.dtype in be.complex_natives
    return make(data, be, node)


def mm(x1, x2):
    if x1.ndim != 2 or x2.ndim != 2:
        raise ValueError(f"mm: expected 2-d tensors, got shapes {tuple(x1.shape)} and {tuple(x2.shape)}")
    return matmul(x1, x2)


def outer(x1, x2):
    return unsqueeze(x1, -1) * unsqueeze(x2, 0)


# ------------------------------------------------------------ gather/scatter

def _raw_as_tensor(a, like):
    """A raw array of ``like``'s backend as a Tensor (backward formulas pass masks and
    indices as raw arrays to these functions under create_graph)."""
    if not isinstance(a, Tensor) and isinstance(like, Tensor) and hasattr(a, "shape") \
            and hasattr(a, "dtype") and a.dtype in like._be.from_native:
        return make(a, like._be, None)
    return a


def _index_data(index, x, op, name="index"):
    index = _raw_as_tensor(index, x)
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}: {name} must be an integer Tensor, got {type(index).__name__}")
    if index._be is not x._be:
        raise mixed_backends(x, index, op)
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op}: {name} must have an integer dtype, got {index.dtype}")
    return index._data


class GatherBackward(Node):
    __slots__ = ("axis", "index", "shape")

    def backward(self, xp, g, s):
        z = xp.zeros(self.shape, dtype=g.dtype, device=_dev_of(g))
        return xp.scatter_add(z, self.axis, self.index, g),


def gather(x, dim, index):
    """``out[i][j] = x[index[i][j]][j]`` along ``dim`` (torch.gather)."""
    idx = _index_data(index, x, "gather")
    ax = norm_dim(dim, x._data.ndim, "gather")
    if idx.ndim != x._data.ndim:
        raise ValueError(f"gather: index must have as many dims as input; got index shape "
                         f"{tuple(idx.shape)} and input shape {tuple(x.shape)}")
    for d, (i, n) in enumerate(zip(idx.shape, x._data.shape)):
        if d != ax and i > n:
            raise ValueError(f"gather: index shape {tuple(idx.shape)} exceeds input shape "
                             f"{tuple(x.shape)} in dim {d}")
    src = x._data[tuple(slice(0, n) if d != ax else slice(None) for d, n in enumerate(idx.shape))]
    data = x._be.xp.take_along_axis(src, idx, axis=ax)
    if x._node is None or not grad_state.enabled:
        return make(data, x._be, None)
    node = record(GatherBackward, x._be, (x,))
    node.axis, node.index, node.shape = ax, idx, x._data.shape
    return make(data, x._be, node)


def take_along_axis(x, indices, /, *, axis=-1):
    ax = norm_dim(axis, x._data.ndim, "take_along_axis")
    indices = _raw_as_tensor(indices, x)
    idx = _index_data(indices, x, "take_along_axis", "indices")
    if idx.shape != x._data.shape:
        idx_t = broadcast_to(indices, tuple(max(a, b) if d != ax else idx.shape[d]
                                            for d, (a, b) in enumerate(zip(idx.shape, x._data.shape))))
        xb = broadcast_to(x, tuple(max(a, b) if d != ax else x._data.shape[d]
                                   for d, (a, b) in enumerate(zip(idx.shape, x._data.shape))))
        return gather(xb, ax, idx_t)
    return gather(x, ax, indices)


class ScatterAddBackward(Node):
    __slots__ = ("axis", "index", "src_shape")

    def backward(self, xp, g, s):
        gsrc = None
        if self.next[1] is not None:
            # along ``axis`` the index addresses all of g; elsewhere only its first entries
            key = tuple(slice(None) if d == self.axis else slice(0, n)
                        for d, n in enumerate(self.index.shape))
            gsrc = xp.take_along_axis(g[key], self.index, axis=self.axis)
            if tuple(gsrc.shape) != tuple(self.src_shape):
                full = xp.zeros(self.src_shape, dtype=g.dtype, device=_dev_of(g))
                gsrc = xp.add_at(full, tuple(slice(0, n) for n in self.index.shape), gsrc)
        return g, gsrc


def scatter_add(x, dim, index, src):
    """``torch.scatter_add`` out of place: ``out[index[i][j]][j] += src[i][j]`` along ``dim``."""
    idx = _index_data(index, x, "scatter_add")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add: src must be a Tensor, got {type(src).__name__}")
    if src._be is not x._be:
        raise mixed_backends(x, src, "scatter_add")
    ax = norm_dim(dim, x._data.ndim, "scatter_add")
    if idx.ndim != x._data.ndim or src._data.ndim != x._data.ndim:
        raise ValueError(f"scatter_add: index, src and input must have the same number of dims; got "
                         f"{tuple(idx.shape)}, {tuple(src.shape)} and {tuple(x.shape)}")
    if any(i > n for i, n in zip(idx.shape, src._data.shape)):
        raise ValueError(f"scatter_add: index shape {tuple(idx.shape)} exceeds src shape "
                         f"{tuple(src.shape)}")
    if src._data.dtype != x._data.dtype:
        raise TypeError(f"scatter_add: src dtype {src.dtype} differs from input dtype {x.dtype}")
    data = x._be.ns.scatter_add(x._data, ax, idx, src._data)
    if not grad_state.enabled or (x._node is None and src._node is None):
        return make(data, x._be, None)
    node = record(ScatterAddBackward, x._be, (x, src))
    node.axis, node.index, node.src_shape = ax, idx, src._data.shape
    return make(data, x._be, node)


class IndexAddBackward(Node):
    __slots__ = ("axis", "index")

    def backward(self, xp, g, s):
        gsrc = xp.take(g, self.index, axis=self.axis) if self.next[1] is not None else None
        return g, gsrc


def index_add(x, dim, index, source, *, alpha=1):
    """``x`` with ``source`` slices added along ``dim`` at ``index`` (duplicates accumulate)."""
    idx = _index_data(index, x, "index_add")
    ax = norm_dim(dim, x._data.ndim, "index_add")
    if alpha != 1:
        source = source * alpha
    if source._be is not x._be:
        raise mixed_backends(x, source, "index_add")
    if idx.ndim != 1 or source._data.shape[ax] != idx.shape[0]:
        raise ValueError(f"index_add: index must be 1-d with one entry per slice of source along dim "
                         f"{ax}; got index shape {tuple(idx.shape)}, source shape {tuple(source.shape)}")
    data = x._be.ns.index_add(x._data, ax, idx, source._data)
    if not grad_state.enabled or (x._node is None and source._node is None):
        return make(data, x._be, None)
    node = record(IndexAddBackward, x._be, (x, source))
    node.axis, node.index = ax, idx
    return make(data, x._be, node)


class TakeBackward(Node):
    __slots__ = ("axis", "index", "shape")

    def backward(self, xp, g, s):
        z = xp.zeros(self.shape, dtype=g.dtype, device=_dev_of(g))
        return xp.index_add(z, self.axis, self.index, g),


def take(x, indices, /, *, axis=None):
    idx = _index_data(indices, x, "take", "indices")
    if axis is None:
        if x._data.ndim != 1:
            x = reshape(x, (-1,))
        axis = 0
    ax = norm_dim(axis, x._data.ndim, "take")
    if idx.ndim != 1:
        raise ValueError(f"take: indices must be 1-d, got shape {tuple(idx.shape)}")
    data = x._be.xp.take(x._data, idx, axis=ax)
    if x._node is None or not grad_state.enabled:
        return make(data, x._be, None)
    node = record(TakeBackward, x._be, (x,))
    node.axis, node.index, node.shape = ax, idx, x._data.shape
    return make(data, x._be, node)


def index_select(x, dim, index):
    return take(x, index, axis=dim)


class AddAtBackward(Node):
    __slots__ = ("key", "vshape")

    def backward(self, xp, g, s):
        gv = None
        if self.next[1] is not None:
            gv = xp.sum_to(xp.getitem(g, self.key), self.vshape)
        return g, gv


def add_at(x, key, values):
    """``x`` with ``values`` added at ``x[key]``, repeated indices accumulating (out of place)."""
    from ._index import normalize_key
    k = normalize_key(x, key)
    vd = values._data if isinstance(values, Tensor) else values
    data = x._be.ns.add_at(x._data, k, vd)
    ins = (x, values)
    if not grad_state.enabled or not any(isinstance(t, Tensor) and t._node is not None for t in ins):
        return make(data, x._be, None)
    node = record(AddAtBackward, x._be, ins)
    node.key = k
    node.vshape = tuple(vd.shape) if hasattr(vd, "shape") else ()
    return make(data, x._be, node)


class FlipBackward(Node):
    __slots__ = ("axes",)

    def backward(self, xp, g, s):
        return xp.flip(g, axis=self.axes),


def flip(x, /, *, axis=None, dims=None):
    if dims is not None:
        axis = dims
    axes = norm_dims(axis, x._data.ndim, "flip")
    data = x._be.xp.flip(x._data, axis=axes)
    if x._node is None or not grad_state.enabled:
        return make(data, x._be, None)
    node = record(FlipBackward, x._be, (x,))
    node.axes = axes
    return make(data, x._be, node)
