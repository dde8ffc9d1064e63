"""Writing into tensors: every in-place op (``+=``, ``add_``, ``exp_``, ``clamp_``,
``fill_``, ``copy_``, ``normal_``...) and ``x[key] = value`` go through this module.

One path: when no graph needs recording, the values are computed and written into the
tensor's memory, and the version counter moves on. When one does (grad mode on and the
tensor or the operand requires grad), the op runs out of place on a snapshot of the old
values, the result is written into the memory, and the tensor moves onto the new node:

* a tensor that owns its memory (or an alias) takes the node itself;
* a view rewrites its base's graph (``CopySlicesBackward``, as PyTorch's CopySlices): the
  base's old values keep their gradient outside the view, the new values inside;
* every other live view of the same base then gets a fresh graph, replayed from the
  base (PyTorch regenerates a view's ``grad_fn`` when its base changed).

A result whose dtype differs from the tensor's (a float64 operand into a float32 tensor)
is cast back with a recorded cast, so the operand's gradient keeps its own dtype.
"""

import math

from .. import dtypes as _dt
from .._args import mixed_backends, SCALAR_TYPES
from .cast import astype, move
from .compound import addcmul, addcdiv, lerp
from .binary import add, subtract, multiply, divide, pow, remainder, floor_divide
from .._generator import default_generator
from .indexing import (getitem, normalize_key, is_basic, check_bounds, positive_steps, scatter,
                        _write_ranks)
from .flip import flip
from .select import where, clamp, masked_fill
from .unary import UnaryMethods
from .views import reshape, permute_dims, broadcast_to, writable_view
from ..autograd.graph import Node, AccumulateGrad, bump_version
from ..autograd.grad_mode import state as grad_state
from ..autograd.variable import Variable, record

__all__ = ["setitem", "check_inplace"]


def check_inplace(t, op):
    """Refuse in-place ops that would corrupt autograd or a read-only tensor."""
    if t._readonly:
        raise RuntimeError(f"{op}: this tensor is read-only ({t._readonly}); clone() it before "
                           f"writing")
    if not grad_state.enabled:
        return
    n = t._node
    if n is not None and n.__class__ is AccumulateGrad:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place "
                           f"operation (shape {tuple(t._data.shape)}); wrap the update in "
                           f"interop.no_grad() or use an out-of-place op")
    b = t._base
    if b is not None and b._node is not None and b._node.__class__ is AccumulateGrad:
        raise RuntimeError(f"{op}: a view of a leaf Variable that requires grad is being used in an "
                           f"in-place operation; wrap it in interop.no_grad() or clone() first")


def _needs_graph(a, b=None):
    return grad_state.enabled and (a._node is not None or (isinstance(b, Variable)
                                                          and b._node is not None))


def _describe_operand(b):
    if isinstance(b, Variable):
        return f"an operand of shape {tuple(b._data.shape)} and dtype {b._be.dtype_of(b._data)}"
    return f"a Python {type(b).__name__}"


def _inplace_error(a, b, op, e):
    hint = ("; an expanded/broadcast view shares one memory location between elements: clone() "
            "it first" if "read-only" in str(e) else "")
    raise RuntimeError(f"{op}: cannot update a tensor of shape {tuple(a._data.shape)} and dtype "
                       f"{a._be.dtype_of(a._data)} in place with {_describe_operand(b)}: {e}{hint}") \
        from None


def write(a, res, op):
    """Copy raw array ``res`` into ``a``'s memory (same shape, cast to a's dtype)."""
    be = a._be
    ad = a._data
    if res.shape != ad.shape:
        raise RuntimeError(f"{op}: output with shape {tuple(ad.shape)} doesn't match the broadcast "
                           f"shape {tuple(res.shape)}")
    if res.dtype != ad.dtype:
        _check_castable(be.dtype_of(res), be.dtype_of(ad), op)
        res = be.xp.astype(res, ad.dtype)
    if not be.mutable:
        _rebind(a, res, op)
        return
    if a._base is not None and not writable_view(a):
        _write_through_base(a, res, op)
        return
    ad = a._writable_data()
    try:
        ad[...] = res
    except Exception as e:
        raise RuntimeError(f"{op}: cannot write into this tensor (shape {tuple(ad.shape)}): {e}") \
            from None


def _check_castable(result, target, op):
    """An in-place result goes into the tensor's dtype only within its kind or to a higher one
    (int into float, float into complex), as PyTorch: never float into int, complex into real."""
    rk, ak = result.kind, target.kind
    if rk != ak and not (rk in "iub" and ak in "fc") and not (rk == "f" and ak == "c"):
        raise RuntimeError(f"{op}: result type {result} can't be cast to the desired output type "
                           f"{target}")


def _rebind(a, res, op):
    """A backend whose arrays are immutable (JAX): the tensor takes the new array. That is
    exact when every live tensor reading the old memory reads the very same array (the owner
    and its aliases: ``detach()``, ``.data``, a Parameter made from a tensor): all of them
    take the new one. A view (a slice, a reshape...) reads another array that cannot follow:
    an in-place op on one, or on a tensor with live views, is an error."""
    old = a._data
    root = a if a._vroot is None else a._vroot
    if root._data is not old:
        raise RuntimeError(f"{op}: backend {a._be.name!r} has immutable arrays, so an in-place op on "
                           f"a view (indexing, reshape, ...) cannot reach the memory it shares; "
                           f"use the out-of-place form")
    if root._views is None:
        root._data = a._data = res
        return
    # (views register with the tensor they were taken from, an alias's with the alias)
    sharing, todo = [], [root]
    while todo:
        t = todo.pop()
        sharing.append(t)
        for r in t._views or ():
            v = r()
            if v is None or v is t:
                continue
            if v._data is not old:
                raise RuntimeError(f"{op}: backend {a._be.name!r} has immutable arrays, and this "
                                   f"tensor has live views that would not see the change; use "
                                   f"the out-of-place form")
            todo.append(v)
    for t in sharing:
        t._data = res
    a._data = res


def inplace(a, b, op_fn, native, op):
    """``a op= b``: write the result into ``a``'s memory and move ``a`` onto the graph.

    ``op_fn`` is the out-of-place op (recorded when a graph is needed); ``native`` the raw
    in-place form used when nothing is recorded (an optimizer step).
    """
    if not isinstance(a, Variable):
        raise TypeError(f"{op}: expected a Tensor to modify, got {type(a).__name__}")
    check_inplace(a, op)
    bt = isinstance(b, Variable)
    if bt and b._be is not a._be:
        raise mixed_backends(a, b, op)
    if _needs_graph(a, b):
        return inplace_graph(a, lambda old: op_fn(old, b), op)
    ad = a._data
    fast = ad.dtype in a._be.inexact_natives and (b.__class__ is float or b.__class__ is int or (
        bt and b._data.dtype == ad.dtype))
    if not fast or not a._be.mutable or (a._base is not None and not writable_view(a)):
        # integers, bools, mixed dtypes: the checked out-of-place op (division by zero,
        # promotion, bool arithmetic), then the result is written back
        return inplace_compute(a, lambda x: op_fn(x, b), op)
    ad = a._writable_data()
    bd = b._data if bt else b
    if bt and b is not a and (b._vroot if b._vroot is not None else b) is (
            a._vroot if a._vroot is not None else a):
        # the operand shares the written memory: read it first (NumPy's rule) on every
        # backend; torch's kernels would read it while writing
        bd = a._be.xp.asarray(bd, copy=True)
    try:
        res = native(ad, bd)
    except Exception as e:      # the backend's own words (NumPy, torch...) name no tensor
        _inplace_error(a, b, op, e)
    if res is not ad:
        write(a, res, op)
    bump_version(a)
    return a


def inplace_compute(a, compute, op, operand=None):
    """``a`` takes the values of ``compute(a)`` (an out-of-place op on tensors), in place."""
    check_inplace(a, op)
    if _needs_graph(a, operand):
        return inplace_graph(a, compute, op)
    prev = grad_state.enabled
    grad_state.enabled = False
    try:
        res = compute(a)
    finally:
        grad_state.enabled = prev
    write(a, res._data, op)
    bump_version(a)
    return a


def inplace_graph(a, compute, op):
    """An in-place op that must be recorded: run ``compute(old)`` out of place on a snapshot
    of ``a``, write the values into ``a``'s memory, and point ``a`` (or its base, for a view)
    at the new node."""
    be = a._be
    # A snapshot of the old values: the recorded op may save them.
    old = a._make(be.xp.asarray(a._data, copy=True), be, a._node)
    res = compute(old)
    if not isinstance(res, Variable):
        raise TypeError(f"{op}: unsupported operand")
    if res._data.dtype != a._data.dtype:
        _check_castable(be.dtype_of(res._data), be.dtype_of(a._data), op)
        res = astype(res, be.dtype_of(a._data))      # recorded: operands keep their dtype
    write(a, res._data, op)
    bump_version(a)
    _take_node(a, res)
    return a


def _take_node(a, res):
    """After its memory got ``res``'s values, ``a`` (or, for a view, its base) joins res's graph."""
    base = a._base
    if base is not None:
        copy_slices(base, a, res)
    else:
        a._node = res._node
        refresh_views(a)


# ------------------------------------------------------------------ views

def apply_view_ops(r, ops, be):
    """Replay view steps (``Variable._view_ops``) on a tensor (recorded) or a raw array of ``be``."""
    tensor = isinstance(r, Variable)
    xp = be.xp
    for kind, arg in ops:
        if kind == "index":
            r = getitem(r, arg) if tensor else be.getitem(r, arg)   # (strict: index arrays)
        elif kind == "reshape":
            r = reshape(r, arg) if tensor else xp.reshape(r, arg)
        elif kind == "permute":
            r = permute_dims(r, arg) if tensor else xp.permute_dims(r, arg)
        else:
            r = broadcast_to(r, arg) if tensor else xp.broadcast_to(r, arg)
    return r


def refresh_views(base):
    """Give every live view of ``base`` a graph replayed from base's current node (after an
    in-place op changed that node)."""
    views = base._views
    if not views:
        return
    live = []
    for ref in views:
        v = ref()
        if v is None:
            continue
        live.append(ref)
        if v._node is not None and v._node.__class__ is AccumulateGrad:
            continue          # a view the user made a leaf of its own
        if base._node is None:
            v._node = None
            continue
        # replay on an alias of the base, so that the replayed views do not register here
        src = base._make(base._data, base._be, base._node)
        v._node = apply_view_ops(src, v._view_ops, base._be)._node
    views[:] = live


class CopySlicesBackward(Node):
    """An in-place op on a view rewrote part of its base: the base's old values get
    the gradient outside the view, the new view values get it inside. ``s.covered`` is the
    mask of the base's elements the view covers."""

    __slots__ = ("ops",)
    saves = ("covered",)

    def backward(self, xp, g, s):
        gb = gv = None
        if self.next[0] is not None:
            gb = xp.where(s.covered, xp.zeros_like(g), g)
        if self.next[1] is not None:
            gv = apply_view_ops(g, self.ops, self.be)
        return gb, gv


def copy_slices(base, view, res):
    """Rewire ``base``'s graph after ``view`` got the values of ``res`` in place; then every
    view of the base (``view`` too) reads from the new graph."""
    be = base._be
    ops = view._view_ops
    m = _covered(be, base._data.shape, ops)
    node = record(CopySlicesBackward, be, (base, res), (m,), (m,))
    node.ops = ops
    base._node = node
    view._node = apply_view_ops(base._make(base._data, be, node), ops, be)._node
    refresh_views(base)


def fill_through_broadcast(view, ops, value, op):
    """Write the constant ``value`` through a view that has a broadcast step (``fill_``,
    ``zero_``, ``v[key] = 0.``): every element of it aliases memory of its base, and the
    aliased memory takes the value, as in PyTorch. Done as an in-place op on the base."""
    base = view._base
    be = base._be
    m = _covered(be, base._data.shape, ops)
    if _needs_graph(base):
        mask = base._make(m, be, None)
        inplace_graph(base, lambda old: where(mask, value, old), op)
        return view
    check_inplace(base, op)
    write(base, be.xp.where(m, be.xp.asarray(value, dtype=base._data.dtype, **be.device_kwargs),
                            base._data), op)
    bump_version(base)
    return view


def _covered(be, shape, ops):
    """A bool array of ``shape``: True at the elements a view taken by ``ops`` reads."""
    xp = be.xp
    if be.mutable and all(kind != "expand" for kind, _ in ops):
        m = xp.zeros(shape, dtype=xp.bool, **be.device_kwargs)
        apply_view_ops(m, ops, be)[...] = True
        return m
    n = math.prod(shape)
    f = be.native_dtype(be.default_float)
    hits = be.ns.add_at(xp.zeros((n,), dtype=f, **be.device_kwargs), (_positions(be, shape, ops),),
                        xp.ones((), dtype=f, **be.device_kwargs))
    return xp.reshape(hits > 0, shape)


def _positions(be, shape, ops):
    """The flat positions in a base of ``shape`` that the elements of the view taken by
    ``ops`` read, in the view's element order (a 1-d integer array)."""
    xp = be.xp
    itype = be.native_dtype(be.default_int)
    pos = xp.reshape(xp.arange(math.prod(shape), dtype=itype, **be.device_kwargs), shape)
    return xp.reshape(apply_view_ops(pos, ops, be), (-1,))


def _write_through_base(view, res, op):
    """Write ``res`` into a view with a broadcast step (its own array refuses writes): when its
    elements read distinct memory (a row of an expanded tensor), the base takes the values
    at those positions, as PyTorch allows; when some share a location, an error."""
    base = view._base
    be = base._be
    xp = be.xp
    pos = _positions(be, base._data.shape, view._view_ops)
    if pos.shape[0] > 1:
        srt = xp.sort(pos)
        if bool(xp.any(srt[1:] == srt[:-1])):
            raise RuntimeError(f"{op}: cannot write into this expanded/broadcast view (shape "
                               f"{tuple(view._data.shape)}): some of its elements share a memory "
                               f"location; clone() it first")
    n = math.prod(base._data.shape)
    dt = base._data.dtype
    placed = be.ns.add_at(xp.zeros((n,), dtype=dt, **be.device_kwargs), (pos,),
                          xp.reshape(xp.astype(res, dt), (-1,)))
    mask = _covered(be, base._data.shape, view._view_ops)
    write(base, xp.where(mask, xp.reshape(placed, base._data.shape), base._data), op)


# ---------------------------------------------------------------- overwrite

def overwrite(a, value, op):
    """``a[...] = value`` for fill_/zero_/copy_/normal_: ``value`` is a Python scalar, a raw
    array of ``a``'s backend, or a tensor (broadcast to ``a``). In a graph, ``a``'s old
    values get a zero gradient and a tensor value gets its share of the gradient."""
    check_inplace(a, op)
    be = a._be
    if isinstance(value, Variable):
        if value._be is not be:
            raise mixed_backends(a, value, op)
        vt = value
    elif value.__class__ in SCALAR_TYPES:
        value = scalar_for(be.dtype_of(a._data), value, op)
        if a._base is not None and not writable_view(a):
            return fill_through_broadcast(a, a._view_ops, value, op)
        vt = value
    else:
        vt = a._make(value, be, None)        # a raw array drawn for this tensor
    if _needs_graph(a, vt):
        everywhere = a._make(be.xp.ones(a._data.shape, dtype=be.xp.bool, **be.device_kwargs), be,
                             None)
        return inplace_graph(a, lambda old: where(everywhere, vt, old), op)
    vd = vt._data if isinstance(vt, Variable) else vt
    if not be.mutable or (a._base is not None and not writable_view(a)):
        full = be.xp.broadcast_to(be.xp.asarray(vd, dtype=a._data.dtype, **be.device_kwargs)
                                  if not hasattr(vd, "shape") else vd, a._data.shape)
        write(a, full, op)
    else:
        ad = a._writable_data()
        try:
            ad[...] = vd
        except Exception as e:
            _inplace_error(a, value, op, e)
    bump_version(a)
    return a


# ------------------------------------------------------------------ setitem

def scalar_for(dtype, value, op):
    """Python scalar ``value`` as written into a tensor of ``dtype``: ints and bools take the
    tensor's kind (an int into a bool tensor by its truth, as PyTorch); a float into an
    integer or bool tensor, or a complex into a real one, would lose information: refused."""
    kind = dtype.kind
    c = value.__class__
    if (c is float and kind in "iub") or (c is complex and kind != "c"):
        raise TypeError(f"{op}: cannot write a Python {c.__name__} ({value!r}) into a tensor of "
                        f"dtype {dtype} without losing information; cast explicitly")
    if kind == "b":
        return bool(value)
    if c is bool:
        return int(value)
    return value


class SetItemBackward(Node):
    """``x[key] = v``: x's gradient is zero at key; v's is the gradient at key, summed to v's
    shape (and cast to v's dtype). ``s.written`` is the mask of the elements written."""

    __slots__ = ("vshape", "vdtype")
    saves = ("key", "written")

    def backward(self, xp, g, s):
        key, mask = s.key, s.written
        gx = gv = None
        if self.next[0] is not None:
            gx = xp.where(mask, xp.zeros_like(g), g)
        if self.next[1] is not None:
            gv = xp.sum_to(xp.getitem(g, key), self.vshape)
            if self.vdtype is not None:
                gv = xp.astype(gv, self.vdtype)
        return gx, gv


def _key_mask(x, k):
    """A bool array, True where ``x[k]`` selects (for the gradient of a write)."""
    be = x._be
    xp = be.xp
    if is_basic(k) and be.mutable:
        m = xp.zeros(x._data.shape, dtype=xp.bool, **be.device_kwargs)
        m[k] = True
        return m
    f = be.native_dtype(be.default_float)
    hit = be.ns.add_at(xp.zeros(x._data.shape, dtype=f, **be.device_kwargs), k,
                       xp.ones((), dtype=f, **be.device_kwargs))
    return hit > 0


def _assign(x, k, vd):
    """Write ``vd`` into ``x``'s memory at ``k`` (out-of-place fallback for backends
    without integer-array assignment, then written back through ``[...]``)."""
    be = x._be
    xp = be.xp
    if be.mutable and (x._base is None or writable_view(x)):
        xd = x._writable_data()
        try:
            xd[k] = vd
            return
        except Exception:
            if is_basic(k):
                raise
    xd = x._data
    mask = _key_mask(x, k)
    if not hasattr(vd, "shape"):
        vd = xp.asarray(vd, dtype=xd.dtype, **be.device_kwargs)
    vb = xp.broadcast_to(vd, be.getitem(xd, k).shape)
    if any(hasattr(q, "shape") and not isinstance(q, slice) for q in k):
        vb = _last_writes(be, xd, k, vb)
    placed = be.ns.add_at(xp.zeros_like(xd), k, vb)
    write(x, xp.where(mask, placed, xd), "setitem")


def _last_writes(be, xd, k, vb):
    """``vb`` with every write but the last to each position of ``xd`` zeroed, so that adding
    them all places the last one (NumPy's rule for repeated indices: the last write wins)."""
    xp = be.xp
    n = 1
    for d in xd.shape:
        n *= d
    flat = xp.reshape(be.getitem(xp.reshape(xp.arange(n, **be.device_kwargs), xd.shape), k),
                      (-1,))
    if flat.shape[0] < 2:
        return vb
    _, wins = _write_ranks(be, flat)
    return xp.where(xp.reshape(wins, vb.shape), vb, xp.zeros_like(vb))


def setitem(x, key, value):
    check_inplace(x, "setitem")
    k = normalize_key(x, key)
    be = x._be
    if is_basic(k):
        k = check_bounds(x, k)
        if not be.negative_steps and any(q.__class__ is slice and q.step is not None and q.step < 0
                                         for q in k):
            # the namespace refuses negative steps: the same elements through positive steps,
            # the value flipped to match (recorded, so its gradient follows)
            pk, axes = positive_steps(x, k)
            if isinstance(value, Variable):
                value = flip(broadcast_to(value, tuple(be.getitem(x._data, pk).shape)), axis=axes)
            k = pk
    vt = isinstance(value, Variable)
    xdt = be.dtype_of(x._data)
    if vt:
        if value._be is not be:
            raise mixed_backends(x, value, "setitem")
        vd = value._data
        if vd.dtype != x._data.dtype:
            vdt = be.dtype_of(vd)
            if (vdt.kind in "fc" and xdt.kind in "iub") or (vdt.kind == "c" and xdt.kind != "c"):
                raise TypeError(f"setitem: cannot assign values of dtype {vdt} into a tensor of dtype "
                                f"{xdt} without losing information; cast explicitly")
            vd = be.xp.astype(vd, x._data.dtype)
    elif value.__class__ in SCALAR_TYPES:
        vd = scalar_for(xdt, value, "setitem")
    else:
        raise TypeError(f"setitem: expected a Tensor or a Python scalar as the value, got "
                        f"{type(value).__name__}")
    sel_shape = be.getitem(x._data, k).shape
    vshape = tuple(vd.shape) if vt else ()
    if vt:
        try:
            vd = be.xp.broadcast_to(vd, sel_shape)
        except Exception:
            raise ValueError(f"setitem: shape mismatch: value of shape {vshape} cannot be broadcast "
                             f"to the indexed shape {tuple(sel_shape)}") from None
    read_key = k
    if any(q is None for q in k):
        # None inserts unit dims in the selection only: write through the key without it
        k = tuple(q for q in k if q is not None)
        if vt:
            vd = be.xp.reshape(vd, tuple(be.getitem(x._data, k).shape))
    if x._base is not None and not writable_view(x) and not vt:
        fill_through_broadcast(x, x._view_ops + (("index", read_key),), vd, "setitem")
        return
    if _needs_graph(x, value):
        old_edge = x._node
        _assign(x, k, vd)
        mask = _key_mask(x, k)
        node = record(SetItemBackward, be, (x, value if vt else None), (read_key, mask),
                      (read_key, mask))
        node.next = (old_edge, value._node if vt else None)
        node.vshape = vshape
        node.vdtype = value._data.dtype if vt and value._data.dtype != x._data.dtype else None
        bump_version(x)
        _take_node(x, x._make(x._data, be, node))
        return
    _assign(x, k, vd)
    bump_version(x)


# ------------------------------------------------------------------ methods

def _iadd(a, b): a += b; return a          # noqa: E702
def _isub(a, b): a -= b; return a          # noqa: E702
def _imul(a, b): a *= b; return a          # noqa: E702
def _itruediv(a, b): a /= b; return a      # noqa: E702
def _ipow(a, b): a **= b; return a         # noqa: E702
def _ifloordiv(a, b): a //= b; return a    # noqa: E702
def _imod(a, b): a %= b; return a          # noqa: E702
def _iand(a, b): a &= b; return a          # noqa: E702
def _ior(a, b): a |= b; return a           # noqa: E702
def _ixor(a, b): a ^= b; return a          # noqa: E702
def _ilshift(a, b): a <<= b; return a      # noqa: E702
def _irshift(a, b): a >>= b; return a      # noqa: E702


def _binary_inplace(fn, native, op):
    def m(self, other, **kw):
        if kw:
            return inplace_compute(self, lambda x: fn(x, other, **kw), op, other)
        return inplace(self, other, fn, native, op)
    m.__name__ = op
    m.__doc__ = f"In-place ``{fn.__name__}``."
    return m


def _grad_operand(*operands):
    """The first operand that requires grad (what makes an in-place op record), or None."""
    for t in operands:
        if isinstance(t, Variable) and t._node is not None:
            return t
    return None


def _unary_inplace(name):
    method = getattr(UnaryMethods, name)

    def m(self):
        return inplace_compute(self, method, name + "_")
    m.__name__ = name + "_"
    m.__doc__ = f"In-place ``{name}``."
    return m


class MutationMethods:
    """Tensor methods that write into the tensor."""

    __slots__ = ()

    def __setitem__(self, key, value):
        setitem(self, key, value)

    def __iadd__(self, other):
        return inplace(self, other, add, _iadd, "add_")

    def __isub__(self, other):
        return inplace(self, other, subtract, _isub, "sub_")

    def __imul__(self, other):
        return inplace(self, other, multiply, _imul, "mul_")

    def __itruediv__(self, other):
        return inplace(self, other, divide, _itruediv, "div_")

    def __ipow__(self, other):
        return inplace(self, other, pow, _ipow, "pow_")

    def __ifloordiv__(self, other):
        if self._data.dtype in self._be.inexact_natives:    # (the standard's infinities)
            return inplace_compute(self, lambda x: floor_divide(x, other), "floor_divide_", other)
        return inplace(self, other, floor_divide, _ifloordiv, "floor_divide_")

    def __imod__(self, other):
        return inplace(self, other, remainder, _imod, "remainder_")

    def __iand__(self, other):
        return inplace(self, other, lambda a, b: a & b, _iand, "bitwise_and_")

    def __ior__(self, other):
        return inplace(self, other, lambda a, b: a | b, _ior, "bitwise_or_")

    def __ixor__(self, other):
        return inplace(self, other, lambda a, b: a ^ b, _ixor, "bitwise_xor_")

    def __ilshift__(self, other):
        return inplace(self, other, lambda a, b: a << b, _ilshift, "bitwise_left_shift_")

    def __irshift__(self, other):
        return inplace(self, other, lambda a, b: a >> b, _irshift, "bitwise_right_shift_")

    def __imatmul__(self, other):
        raise TypeError("in-place matmul (@=) is not supported; write a = a @ b")

    add_ = _binary_inplace(add, _iadd, "add_")
    sub_ = subtract_ = _binary_inplace(subtract, _isub, "sub_")
    mul_ = multiply_ = _binary_inplace(multiply, _imul, "mul_")
    div_ = divide_ = _binary_inplace(divide, _itruediv, "div_")
    pow_ = _binary_inplace(pow, _ipow, "pow_")
    remainder_ = _binary_inplace(remainder, _imod, "remainder_")

    exp_ = _unary_inplace("exp")
    log_ = _unary_inplace("log")
    sqrt_ = _unary_inplace("sqrt")
    sin_ = _unary_inplace("sin")
    cos_ = _unary_inplace("cos")
    tanh_ = _unary_inplace("tanh")
    sigmoid_ = _unary_inplace("sigmoid")
    relu_ = _unary_inplace("relu")
    abs_ = _unary_inplace("abs")
    neg_ = negative_ = _unary_inplace("neg")
    floor_ = _unary_inplace("floor")
    ceil_ = _unary_inplace("ceil")
    round_ = _unary_inplace("round")
    trunc_ = _unary_inplace("trunc")
    reciprocal_ = _unary_inplace("reciprocal")
    square_ = _unary_inplace("square")
    sign_ = _unary_inplace("sign")

    def clamp_(self, min=None, max=None):
        return inplace_compute(self, lambda x: clamp(x, min, max), "clamp_",
                               min if isinstance(min, Variable) else max)

    clip_ = clamp_

    def masked_fill_(self, mask, value):
        return inplace_compute(self, lambda x: masked_fill(x, mask, value), "masked_fill_", value)

    def zero_(self):
        return overwrite(self, 0, "zero_")

    def fill_(self, value):
        return overwrite(self, value, "fill_")

    def copy_(self, src):
        if not isinstance(src, Variable):
            raise TypeError(f"copy_: expected a Tensor to copy from, got {type(src).__name__}")
        if src is self:
            check_inplace(self, "copy_")
            return self         # copying a tensor onto itself changes nothing (as in PyTorch)
        if src._be is not self._be:
            src = move(src, self._be)
        dt = self._be.dtype_of(self._data)
        if src._be.dtype_of(src._data) is not dt:
            src = astype(src, dt)       # PyTorch's copy_ casts; the standard's setitem may not
        return overwrite(self, src, "copy_")

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill in place with normal samples."""
        if not std >= 0.0:
            raise ValueError(f"normal_ expects std >= 0.0, but found std {std}")
        src = (generator or default_generator).source(self._be)
        return overwrite(self, src.normal(tuple(self._data.shape), self._be.dtype_of(self._data),
                                          mean, std), "normal_")

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        """Fill in place with samples uniform on [a, b)."""
        if not a <= b:
            raise ValueError(f"uniform_ expects to return a [from, to) range, but found "
                             f"from={a} > to={b}")
        src = (generator or default_generator).source(self._be)
        u = src.random(tuple(self._data.shape), self._be.dtype_of(self._data))
        return overwrite(self, u * (b - a) + a, "uniform_")

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        """In-place :func:`interop.scatter` (``src`` a tensor or a scalar value)."""
        return inplace_compute(self, lambda x: scatter(x, dim, index, src, value=value,
                                                       reduce=reduce), "scatter_", src)

    def addcmul_(self, tensor1, tensor2, *, value=1):
        return inplace_compute(self, lambda x: addcmul(x, tensor1, tensor2, value=value),
                               "addcmul_", _grad_operand(tensor1, tensor2))

    def addcdiv_(self, tensor1, tensor2, *, value=1):
        return inplace_compute(self, lambda x: addcdiv(x, tensor1, tensor2, value=value),
                               "addcdiv_", _grad_operand(tensor1, tensor2))

    def lerp_(self, end, weight):
        return inplace_compute(self, lambda x: lerp(x, end, weight), "lerp_",
                               _grad_operand(end, weight))

    def bernoulli_(self, p=0.5, *, generator=None):
        """Fill in place with 0/1 samples, 1 with probability ``p`` (a number, or a tensor
        broadcast to this one's shape)."""
        be = self._be
        if isinstance(p, Variable):
            if p._be is not be:
                raise mixed_backends(self, p, "bernoulli_")
            if not p.dtype.is_floating_point:
                raise TypeError(f"bernoulli_: p must be a floating point tensor, got {p.dtype}")
            pd = p._data
            if math.prod(pd.shape) and bool(be.xp.any((pd < 0) | (pd > 1) | be.xp.isnan(pd))):
                raise ValueError("bernoulli_: expected all probabilities p in [0, 1]")
        elif p.__class__ in (int, float, bool) and 0 <= p <= 1:
            pd = float(p)
        else:
            raise ValueError(f"bernoulli_: expected p in [0, 1] (a number or a tensor), got {p!r}")
        draw = _dt.float64 if _dt.float64 in be.to_native else be.default_float
        u = (generator or default_generator).source(be).random(tuple(self._data.shape), draw)
        try:
            hits = u < pd
        except Exception as e:
            raise ValueError(f"bernoulli_: p of shape {tuple(pd.shape)} does not broadcast to the "
                             f"tensor's shape {tuple(self._data.shape)}: {e}") from None
        if tuple(hits.shape) != tuple(self._data.shape):
            raise ValueError(f"bernoulli_: p of shape {tuple(pd.shape)} does not broadcast to the "
                             f"tensor's shape {tuple(self._data.shape)}")
        return overwrite(self, be.xp.astype(hits, self._data.dtype), "bernoulli_")
