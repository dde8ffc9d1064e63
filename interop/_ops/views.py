"""Views: results that share their input's memory (reshape, permute, squeeze, expand...),
and the bookkeeping that lets in-place ops through them keep gradients right.

A view records the steps that take its base to it (``Variable._view_ops``), each a
``(kind, arg)`` pair:

* ``("index", key)``: basic indexing with a normalized key;
* ``("reshape", shape)`` and ``("permute", axes)``;
* ``("expand", shape)``: a broadcast. Its elements share memory locations, so a view
  with this step can be read (and refreshed) but not written.

Views made while grad mode is on are registered (weakly) on their base, so that an
in-place op on the base or on any of its views can refresh their graphs (see
``interop._ops.mutation``).
"""

import math
import weakref

from .. import dtypes as _dt
from .._args import broadcast_shapes, keyword_dim, norm_dim, norm_dims, shape_arg, same_backend
from .._errors import ArgumentError, ShapeError
from ..autograd.graph import Node
from ..autograd.grad_mode import state as grad_state
from ..autograd.variable import record

__all__ = ["reshape", "view", "flatten", "unflatten", "permute_dims", "permute", "transpose",
           "swapaxes", "matrix_transpose", "t", "moveaxis", "movedim", "squeeze", "unsqueeze",
           "expand_dims", "broadcast_to", "expand", "expand_as", "broadcast_arrays", "contiguous"]


def make_view(data, x, node, step):
    """A result that shares ``x``'s memory, taken from it by ``step`` (see the module doc)."""
    t = x._make(data, x._be, node)
    t._vroot = x if x._vroot is None else x._vroot
    if x._readonly:
        t._readonly = x._readonly       # a view of a read-only copy is read-only too
    base = x._base
    if base is None:
        base = t._base = x
        t._view_ops = (step,)
    else:
        t._base = base
        t._view_ops = x._view_ops + (step,)
    if grad_state.enabled or not x._be.mutable:
        _register(base, t)
    return t


def make_alias(x):
    """A tensor over ``x``'s memory, cut from the graph (``detach()``, ``.data``)."""
    t = x._make(x._writable_data(), x._be, None)      # (so that writes reach both)
    t._vroot = x if x._vroot is None else x._vroot
    if x._readonly:
        t._readonly = x._readonly
    if not x._be.mutable:        # in-place ops there rebind; they must know who shares
        _register(t._vroot, t)
    return t


def _register(base, view):
    views = base._views
    if views is None:
        base._views = [weakref.ref(view)]
        return
    views.append(weakref.ref(view))
    if len(views) >= base.__dict__.get("_views_cap", 64):
        views[:] = [r for r in views if r() is not None]
        base._views_cap = max(64, 2 * len(views))


def writable_view(t):
    """True when ``t`` is a view that can be written through (no broadcast step)."""
    return all(kind != "expand" for kind, _ in t._view_ops)


# ------------------------------------------------------------------ reshape

class ReshapeBackward(Node):
    __slots__ = ("shape",)

    def backward(self, xp, g, s):
        return xp.reshape(g, self.shape),


def _resolve_shape(shape, n, old, op):
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1 or any(s < -1 for s in shape):
        raise ShapeError(f"{op}: invalid shape {shape}: only one dimension can be -1 and the "
                         f"others must be non-negative")
    known = math.prod(s for s in shape if s != -1)
    if neg:
        if known == 0 or n % known:
            raise ShapeError(f"{op}: shape {list(shape)} is invalid for input of size {n} "
                             f"(shape {tuple(old)})")
        shape = tuple(n // known if s == -1 else s for s in shape)
    elif known != n:
        raise ShapeError(f"{op}: shape {list(shape)} is invalid for input of size {n} "
                         f"(shape {tuple(old)})")
    return shape


_NO_VIEW = (ValueError, AttributeError, NotImplementedError)   # how backends say "needs a copy"


def reshape(x, /, shape, *, copy=None):
    """Standard ``reshape``: a view where the data's layout allows one, else a copy
    (``copy=False`` refuses to copy, ``copy=True`` always copies). Only a real view
    shares the version counter with ``x``."""
    if not isinstance(shape, (tuple, list)):
        shape = (shape,)
    xd = x._data
    shape = _resolve_shape(shape_arg(tuple(shape), "reshape"), math.prod(xd.shape), xd.shape,
                           "reshape")
    xp = x._be.xp
    is_view = copy is not True
    if copy is True:
        data = xp.reshape(xd, shape, copy=True)
    else:
        try:
            data = xp.reshape(xd, shape, copy=False)
        except _NO_VIEW:
            if 0 in xd.shape:          # no elements: any shape is a view of nothing
                data = xp.reshape(xd, shape)
            elif copy is False:
                raise ShapeError(f"view size is not compatible with input tensor's size and stride "
                                   f"(shape {tuple(xd.shape)} -> {shape}); use .reshape(...) "
                                   f"instead") from None
            else:
                data = xp.reshape(xd, shape, copy=True)
                is_view = False
    node = None
    if x._node is not None and grad_state.enabled:
        node = record(ReshapeBackward, x._be, (x,))
        node.shape = xd.shape
    if is_view:
        return make_view(data, x, node, ("reshape", shape))
    return x._make(data, x._be, node)


def view(x, *shape):
    """PyTorch's ``view``: ``x.view(2, -1)``, never a copy; ``x.view(dtype)`` is not supported."""
    if len(shape) == 1 and isinstance(shape[0], _dt.dtype):
        raise NotImplementedError("view(dtype) reinterprets bytes, which the Array API cannot do; "
                                  "use astype")
    return reshape(x, shape_arg(shape, "view"), copy=False)


def flatten(x, start_dim=0, end_dim=-1):
    nd = x._data.ndim
    if nd == 0:
        return reshape(x, (1,))
    s = norm_dim(start_dim, nd, "flatten")
    e = norm_dim(end_dim, nd, "flatten")
    if s > e:
        raise ArgumentError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shp = x._data.shape
    return reshape(x, tuple(shp[:s]) + (math.prod(shp[s:e + 1]),) + tuple(shp[e + 1:]))


def unflatten(x, dim, sizes):
    d = norm_dim(dim, x._data.ndim, "unflatten")
    shp = x._data.shape
    return reshape(x, tuple(shp[:d]) + tuple(sizes) + tuple(shp[d + 1:]))


# ------------------------------------------------------------------ permute

class PermuteBackward(Node):
    __slots__ = ("inv",)

    def backward(self, xp, g, s):
        return xp.permute_dims(g, self.inv),


def permute_dims(x, /, axes):
    nd = x._data.ndim
    axes = tuple(norm_dim(a, nd, "permute") for a in axes)
    if sorted(axes) != list(range(nd)):
        raise ArgumentError(f"permute: dims {axes} are not a permutation of the {nd} dims of a "
                            f"tensor of shape {tuple(x._data.shape)}")
    data = x._be.xp.permute_dims(x._data, axes)
    node = None
    if x._node is not None and grad_state.enabled:
        node = record(PermuteBackward, x._be, (x,))
        inv = [0] * nd
        for i, a in enumerate(axes):
            inv[a] = i
        node.inv = tuple(inv)
    return make_view(data, x, node, ("permute", axes))


def permute(x, *dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    return permute_dims(x, dims)


def transpose(x, dim0, dim1):
    nd = x._data.ndim
    a = norm_dim(dim0, nd, "transpose")
    b = norm_dim(dim1, nd, "transpose")
    if nd == 0:
        return permute_dims(x, ())
    axes = list(range(nd))
    axes[a], axes[b] = axes[b], axes[a]
    return permute_dims(x, tuple(axes))


swapaxes = transpose


def matrix_transpose(x):
    if x._data.ndim < 2:
        raise ShapeError(f"matrix_transpose: expected at least 2 dims, got shape "
                         f"{tuple(x._data.shape)}")
    return transpose(x, -1, -2)


def t(x):
    if x._data.ndim > 2:
        raise ShapeError(f"t() expects a tensor with <= 2 dims, got shape {tuple(x._data.shape)}; "
                         f"use .mT or transpose")
    return transpose(x, 0, 1) if x._data.ndim == 2 else permute_dims(x, tuple(range(x._data.ndim)))


def moveaxis(x, source, destination):
    nd = x._data.ndim
    src = norm_dims(source if isinstance(source, (tuple, list)) else [source], nd, "moveaxis")
    dst = norm_dims(destination if isinstance(destination, (tuple, list)) else [destination], nd,
                    "moveaxis")
    if len(src) != len(dst):
        raise ArgumentError(f"moveaxis: source {source} and destination {destination} differ in "
                            f"length")
    order = [a for a in range(nd) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute_dims(x, tuple(order))


movedim = moveaxis


# -------------------------------------------------------- squeeze/unsqueeze

def squeeze(x, /, axis=None, *, dim=None):
    """Remove size-1 dims. The standard's ``axis=`` raises for a dim whose size is not 1;
    PyTorch's ``dim=`` (and ``Tensor.squeeze``) leaves such a dim alone. No axis: every
    size-1 dim."""
    if dim is not None:
        keyword_dim("squeeze", dim, axis)
        return _squeeze(x, dim, strict=False)
    return _squeeze(x, axis, strict=True)


def _squeeze(x, axis, strict):
    shp = x._data.shape
    if axis is None:
        axes = tuple(i for i, s in enumerate(shp) if s == 1)
    else:
        axes = norm_dims(axis, x._data.ndim, "squeeze")
        bad = [a for a in axes if shp[a] != 1]
        if bad and strict:
            raise ShapeError(f"squeeze: axis {bad[0]} has size {shp[bad[0]]}, not 1 (shape "
                             f"{tuple(shp)}); Tensor.squeeze(dim) leaves such a dim alone")
        axes = tuple(a for a in axes if a not in bad)
    return reshape(x, tuple(s for i, s in enumerate(shp) if i not in axes))


def unsqueeze(x, dim):
    nd = x._data.ndim + 1
    d = norm_dim(dim, nd, "unsqueeze")
    shp = list(x._data.shape)
    shp.insert(d, 1)
    return reshape(x, tuple(shp))


def expand_dims(x, /, axis=0):
    if isinstance(axis, (tuple, list)):
        nd = x._data.ndim + len(axis)
        axes = sorted(norm_dim(a, nd, "expand_dims") for a in axis)
        if len(set(axes)) != len(axes):
            raise ArgumentError(f"expand_dims: axis {tuple(axis)} names a position twice")
        shp = list(x._data.shape)
        for a in axes:
            shp.insert(a, 1)
        return reshape(x, tuple(shp))
    return unsqueeze(x, axis)


# -------------------------------------------------------------- broadcasting

class BroadcastToBackward(Node):
    """The gradient of a broadcast sums over the broadcast axes."""
    __slots__ = ("shape",)

    def backward(self, xp, g, s):
        return xp.sum_to(g, self.shape),


def broadcast_to(x, /, shape):
    shape = shape_arg(tuple(shape) if isinstance(shape, (tuple, list)) else (shape,), "broadcast_to")
    old = tuple(x._data.shape)
    if len(shape) < len(old) or any(n != m and n != 1 for n, m in zip(reversed(old), reversed(shape))):
        raise ShapeError(f"broadcast_to: cannot broadcast shape {old} to {shape} (a dim of size "
                         f"other than 1 must match, and no dims can be dropped)")
    try:
        data = x._be.xp.broadcast_to(x._data, shape)
    except Exception:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {old} to {shape}") from None
    node = None
    if x._node is not None and grad_state.enabled:
        node = record(BroadcastToBackward, x._be, (x,))
        node.shape = x._data.shape
    return make_view(data, x, node, ("expand", shape))


def expand(x, *sizes):
    sizes = shape_arg(sizes, "expand")
    shp = x._data.shape
    lead = len(sizes) - len(shp)
    if lead < 0:
        raise ShapeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or "
                         f"equal to the number of dimensions in the tensor ({len(shp)})")
    target = tuple(shp[i - lead] if (s == -1 and i >= lead) else s for i, s in enumerate(sizes))
    return broadcast_to(x, target)


def expand_as(x, other):
    return broadcast_to(x, other._data.shape)


def broadcast_arrays(*arrays):
    if len(arrays) == 1 and isinstance(arrays[0], (list, tuple)):
        arrays = tuple(arrays[0])
    same_backend(arrays, "broadcast_arrays")
    shape = broadcast_shapes(*[tuple(a._data.shape) for a in arrays], op="broadcast_arrays")
    return tuple(broadcast_to(a, shape) for a in arrays)


# ------------------------------------------------------------------ layout

def is_contiguous(x):
    """True when ``x``'s elements are laid out densely in row-major (C) order."""
    row_major = x._be.row_major(x._data)
    if row_major is None:               # the backend does not say: views may be strided
        return x._base is None
    return row_major


class ContiguousBackward(Node):
    __slots__ = ()

    def backward(self, xp, g, s):
        return g,


def contiguous(x):
    """``x`` itself when it is row-major contiguous, else a contiguous copy (as in PyTorch)."""
    if is_contiguous(x):
        return x
    data = x._be.ascontiguous(x._data)
    node = record(ContiguousBackward, x._be, (x,)) if x._node is not None and grad_state.enabled \
        else None
    return x._make(data, x._be, node)


def stride(x, dim=None):
    """Element strides of ``x``'s layout (PyTorch's ``Tensor.stride``)."""
    st = x._be.strides(x._data)
    if st is None:
        if x._base is not None:
            raise RuntimeError(f"stride(): backend {x._be.name!r} does not expose the layout of "
                               f"views")
        st = []
        step = 1
        for n in reversed(x._data.shape):
            st.insert(0, step)
            step *= max(n, 1)
        st = tuple(st)
    if dim is None:
        return st
    return st[norm_dim(dim, x._data.ndim, "stride")]


class ViewMethods:
    """Tensor methods that return views of the tensor (or describe its layout)."""

    __slots__ = ()

    def reshape(self, *shape):
        return reshape(self, shape_arg(shape, "reshape"))

    def view(self, *shape):
        return view(self, *shape)

    def view_as(self, other):
        return reshape(self, other._data.shape, copy=False)

    def reshape_as(self, other):
        return reshape(self, other._data.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        return unflatten(self, dim, sizes)

    def permute(self, *dims):
        return permute(self, *dims)

    def transpose(self, dim0, dim1):
        return transpose(self, dim0, dim1)

    swapaxes = transpose
    swapdims = transpose

    def t(self):
        return t(self)

    @property
    def T(self):
        return permute_dims(self, tuple(range(self._data.ndim - 1, -1, -1)))

    @property
    def mT(self):
        return matrix_transpose(self)

    def movedim(self, source, destination):
        return moveaxis(self, source, destination)

    moveaxis = movedim

    def squeeze(self, *dims, dim=None):
        """Remove size-1 dims: all, or those among ``dims`` (ints or one tuple) that have size 1
        (PyTorch: ``x.squeeze(0, 1)`` leaves a dim of another size alone)."""
        if dims:
            if dim is not None:
                raise TypeError("squeeze: dims given both positionally and as dim=")
            dim = dims[0] if len(dims) == 1 else dims
        return _squeeze(self, dim, strict=False)

    def unsqueeze(self, dim):
        return unsqueeze(self, dim)

    def expand(self, *sizes):
        return expand(self, *sizes)

    def expand_as(self, other):
        return expand_as(self, other)

    def broadcast_to(self, shape):
        return broadcast_to(self, shape)

    def contiguous(self):
        return contiguous(self)

    def is_contiguous(self):
        return is_contiguous(self)

    def stride(self, dim=None):
        return stride(self, dim)
