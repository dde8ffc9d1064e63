"""Indexing: ``x[key]`` and ``x[key] = value`` with basic, integer-array and
boolean-mask keys, differentiable both ways."""

from . import dtypes as _dt
from ._tensor import Tensor
from ._common import Node, make, record, grad_state, mixed_backends, check_inplace, SCALAR_TYPES
from .autograd import graph as _graph


def apply_view_ops(r, ops, be):
    """Replay view steps (``Tensor._view_ops``) on a Tensor (recorded) or a raw array of ``be``."""
    from ._shape import reshape, permute_dims
    tensor = r.__class__ is Tensor
    xp = be.xp
    for kind, arg in ops:
        if kind == "index":
            r = getitem(r, arg) if tensor else r[arg]
        elif kind == "reshape":
            r = reshape(r, arg) if tensor else xp.reshape(r, arg)
        else:
            r = permute_dims(r, arg) if tensor else xp.permute_dims(r, arg)
    return r

__all__ = ["getitem", "setitem", "normalize_key"]


def normalize_key(x, key):
    """A key for the backend: tensors become arrays, lists become integer arrays, and a
    trailing ``...`` is added where the key covers fewer dims (the standard needs it).
    Always returns a tuple."""
    if not isinstance(key, tuple):
        key = (key,)
    be = x._be
    out = []
    used = 0
    ell = False
    for k in key:
        kc = k.__class__
        if kc is int or kc is slice:
            out.append(k)
            used += 1
        elif k is None:
            out.append(None)
        elif k is Ellipsis:
            if ell:
                raise IndexError("an index can only have a single ellipsis ('...')")
            ell = True
            out.append(k)
        elif kc is Tensor or isinstance(k, Tensor):
            if k._be is not be:
                raise mixed_backends(x, k, "indexing")
            dt = k.dtype
            if dt is _dt.bool:
                used += k._data.ndim
            elif dt.kind in "iu":
                used += 1
            else:
                raise IndexError(f"tensors used as indices must be integer or bool, got dtype {dt}")
            out.append(k._data)
        elif kc is bool:
            raise IndexError("indexing with a Python bool is not supported; use None or a bool tensor")
        elif kc is list or kc is range:
            arr = be.xp.asarray(list(k), **be._dev_kw())
            if len(k) and all(isinstance(v, bool) for v in k):
                used += 1
            else:
                if len(k) == 0:
                    arr = be.xp.asarray([], dtype=be.native_dtype(be.default_int), **be._dev_kw())
                used += 1
            out.append(arr)
        elif hasattr(k, "shape") and hasattr(k, "dtype") and getattr(k, "ndim", 0) > 0:
            # a raw backend array (backward formulas index with them)
            used += k.ndim if be.dtype_of(k) is _dt.bool else 1
            out.append(k)
        elif hasattr(k, "__index__"):
            out.append(k.__index__())
            used += 1
        else:
            raise IndexError(f"unsupported index of type {type(k).__name__}: {k!r}; expected int, "
                             f"slice, None, ..., a list or an integer/bool Tensor")
    nd = x._data.ndim
    if used > nd:
        raise IndexError(f"too many indices for tensor of dimension {nd} (shape {tuple(x.shape)}): "
                         f"the index covers {used} dims")
    if not ell and (used < nd or _is_basic(out)):
        # (also for basic keys: with a trailing ``...`` NumPy returns a 0-d view, not a copy)
        out.append(Ellipsis)
    return tuple(out)


def _is_basic(key):
    for k in key:
        c = k.__class__
        if not (c is int or c is slice or k is None or k is Ellipsis):
            return False
    return True


def _check_bounds(x, key):
    """Integer indices out of range name the dim and the size (NumPy would too; strict may not).
    Returns the key, with slice bounds past the ends clipped (Python's rule; the standard
    leaves such slices unspecified and array-api-strict refuses them)."""
    dim = 0
    shp = x._data.shape
    out = None
    for i, k in enumerate(key):
        if k is Ellipsis:
            dim = len(shp) - sum(1 for q in key[i + 1:] if q is not None)
            continue
        if k is None:
            continue
        if k.__class__ is int:
            n = shp[dim]
            if not -n <= k < n:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size {n}")
        elif k.__class__ is slice:
            n = shp[dim]
            if not ((k.start is None or -n <= k.start < n) and (k.stop is None or -n <= k.stop < n)):
                if out is None:
                    out = list(key)
                out[i] = _clip_slice(k, n)
        dim += 1
    return key if out is None else tuple(out)


def _clip_slice(s, n):
    start, stop, step = s.indices(n)
    if (step > 0 and start >= stop) or (step < 0 and start <= stop):
        return slice(0, 0, 1)
    if step > 0:
        return slice(start, None if stop >= n else stop, step)
    return slice(start, None if stop < 0 else stop, step)


class GetItemBackward(Node):
    """``basic``: False (array keys), True, or -- for a basic key that had ``None`` entries,
    stored without them -- the shape to which g's inserted unit axes are dropped."""
    __slots__ = ("key", "shape", "basic")

    def backward(self, xp, g, s):
        z = xp.zeros(self.shape, dtype=g.dtype, device=getattr(g, "device", None))
        if self.basic.__class__ is tuple:
            g = xp.reshape(g, self.basic)
        if self.basic is not False and g.__class__ is not Tensor:
            z[self.key] = g
            return z,
        return xp.add_at(z, self.key, g),


def getitem(x, key):
    k = normalize_key(x, key)
    basic = _is_basic(k)
    if basic:
        k = _check_bounds(x, k)
    try:
        data = x._data[k] if basic else x._be.getitem(x._data, k)
    except IndexError as e:
        raise IndexError(f"index {key!r} for tensor of shape {tuple(x.shape)}: {e}") from None
    node = None
    if x._node is not None and grad_state.enabled:
        node = record(GetItemBackward, x._be, (x,))
        node.key, node.shape, node.basic = k, x._data.shape, basic
        if basic and any(q is None for q in k):
            # (some namespaces refuse None in a write key: write through the key without it)
            node.key = tuple(q for q in k if q is not None)
            node.basic = tuple(x._data[node.key].shape)
    if basic:
        from ._shape import _view
        return _view(data, x, node, ("index", k))
    return make(data, x._be, node)


class SetItemBackward(Node):
    """``x[key] = v``: x's gradient is zero at key; v's is the gradient at key, summed to v's shape."""

    __slots__ = ("key", "vshape", "mask")

    def backward(self, xp, g, s):
        gx = gv = None
        if self.next[0] is not None:
            gx = xp.where(self.mask, xp.zeros_like(g), g)
        if self.next[1] is not None:
            gv = xp.sum_to(xp.getitem(g, self.key), self.vshape)
        return gx, gv


def _key_mask(x, k):
    """A bool array, True where ``x[k]`` selects (for the gradient of a write)."""
    xp = x._be.xp
    m = xp.zeros(x._data.shape, dtype=xp.bool, **x._be._dev_kw())
    if _is_basic(k):
        m[k] = True
        return m
    be = x._be
    f = be.native_dtype(be.default_float)
    hit = be.ns.add_at(xp.zeros(x._data.shape, dtype=f, **be._dev_kw()), k,
                       xp.ones((), dtype=f, **be._dev_kw()))
    return hit > 0


def _assign(x, k, vd):
    """Write ``vd`` into ``x``'s memory at ``k`` (out-of-place fallback for backends
    without integer-array assignment, then written back through ``[...]``)."""
    xd = x._writable_data()
    try:
        xd[k] = vd
        return
    except (IndexError, TypeError, NotImplementedError) as e:
        if _is_basic(k):
            raise
        err = e
    be = x._be
    xp = be.xp
    mask = _key_mask(x, k)
    if not hasattr(vd, "shape"):
        vd = xp.asarray(vd, dtype=xd.dtype)
    # With repeated indices the last write wins in NumPy; here they must not repeat.
    placed = be.ns.add_at(xp.zeros_like(xd), k, xp.broadcast_to(vd, be.getitem(xd, k).shape))
    new = xp.where(mask, placed, xd)
    try:
        xd[...] = new
    except Exception:
        raise err from None


def setitem(x, key, value):
    check_inplace(x, "setitem")
    k = normalize_key(x, key)
    be = x._be
    if _is_basic(k):
        k = _check_bounds(x, k)
    vt = isinstance(value, Tensor)
    if vt:
        if value._be is not be:
            raise mixed_backends(x, value, "setitem")
        vd = value._data
        if vd.dtype != x._data.dtype:
            vdt, xdt = value.dtype, x.dtype
            if (vdt.kind in "fc" and xdt.kind in "iub") or (vdt.kind == "c" and xdt.kind != "c"):
                raise TypeError(f"setitem: cannot assign values of dtype {vdt} into a tensor of dtype "
                                f"{xdt} without losing information; cast explicitly")
            vd = be.xp.astype(vd, x._data.dtype)
    elif value.__class__ in SCALAR_TYPES:
        kind = x.dtype.kind
        if (value.__class__ is float and kind in "iub") or (value.__class__ is complex and kind != "c"):
            raise TypeError(f"setitem: cannot assign a Python {type(value).__name__} into a tensor of "
                            f"dtype {x.dtype}")
        vd = int(value) if value.__class__ is bool and kind != "b" else value
    else:
        raise TypeError(f"setitem: expected a Tensor or a Python scalar as the value, got "
                        f"{type(value).__name__}")
    sel_shape = be.getitem(x._data, k).shape
    vshape = tuple(vd.shape) if vt else ()
    try:
        be.xp.broadcast_to(vd if vt else be.xp.asarray(vd), sel_shape) if vt else None
    except (ValueError, RuntimeError):
        raise ValueError(f"setitem: shape mismatch: value of shape {vshape} cannot be broadcast to "
                         f"the indexed shape {tuple(sel_shape)}") from None
    graph = grad_state.enabled and (x._node is not None or (vt and value._node is not None))
    if graph:
        base = x._base
        if base is not None and x._view_ops is False:
            raise RuntimeError("setitem: this tensor is a view of a detached alias, whose base's "
                               "graph cannot be updated; clone() it first")
        old_edge = x._node
        _assign(x, k, vd)
        node = record(SetItemBackward, be, (x, value if vt else None))
        node.next = (old_edge, value._node if vt else None)
        node.key, node.vshape, node.mask = k, vshape, _key_mask(x, k)
        _graph.bump_version(x)
        if base is not None and x._view_ops:
            res = make(x._data, be, node)
            copy_slices(base, x, res)
        else:
            x._node = node
        return
    _assign(x, k, vd)
    _graph.bump_version(x)


class CopySlicesBackward(Node):
    """An in-place op on a view rewrote part of its base: the base's old values get
    the gradient outside the view, the new view values get it inside."""

    __slots__ = ("ops", "mask")

    def backward(self, xp, g, s):
        gb = gv = None
        if self.next[0] is not None:
            gb = xp.where(self.mask, xp.zeros_like(g), g)
        if self.next[1] is not None:
            gv = apply_view_ops(g, self.ops, self.be)
        return gb, gv


def copy_slices(base, view, res):
    """Rewire ``base``'s graph after ``view`` (a basic-index view of it) got the values of
    ``res`` in place; ``view`` becomes a view of the new base node."""
    be = base._be
    xp = be.xp
    m = xp.zeros(base._data.shape, dtype=xp.bool, **be._dev_kw())
    ops = view._view_ops
    apply_view_ops(m, ops, be)[...] = True
    node = record(CopySlicesBackward, be, (base, res))
    node.ops = ops
    node.mask = m
    base._node = node
    # The view now reads from the rewritten base: replay its view steps on the new base.
    view._node = apply_view_ops(make(base._data, be, node), ops, be)._node
