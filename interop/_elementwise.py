"""Elementwise primitives: operators, unary math, comparisons, in-place forms.

Each differentiable op is a Node subclass named ``<Op>Backward`` whose
``backward(xp, g, s)`` is written once against the namespace ``xp`` (see
``interop.autograd.graph``). Binary nodes compute only the gradients whose input
needs one, and reduce/cast them only when the forward broadcast or promoted.
"""

from ._tensor import Tensor, _new
from ._common import (Node, make, grad_state, mixed_backends, unbroadcast,
                      cast_back, check_inplace, real_only, SCALAR_TYPES)
from .autograd import graph as _graph

__all__ = []


# --------------------------------------------------------------------- binary

class BinaryBackward(Node):
    """Base of binary nodes. ``fix`` is None, or (shape_a, cast_a, shape_b, cast_b, complex):
    shapes to reduce to (None for a scalar operand), casts from ``cast_back``, and whether
    the result is complex (then derivatives are conjugated)."""

    __slots__ = ("fix",)

    def backward(self, xp, g, s):
        nxt = self.next
        ga = self.da(xp, g, s) if nxt[0] is not None else None
        gb = self.db(xp, g, s) if nxt[1] is not None else None
        fix = self.fix
        if fix is not None:
            if ga is not None and fix[0] is not None:
                ga = unbroadcast(xp, ga, fix[0], fix[1])
            if gb is not None and fix[2] is not None:
                gb = unbroadcast(xp, gb, fix[2], fix[3])
        return ga, gb

    def conj(self, xp, v):
        """conj(v) where the forward was complex (PyTorch's conjugate Wirtinger convention)."""
        fix = self.fix
        if fix is None or not fix[4]:
            return v
        if v.__class__ in (int, float, bool):
            return v
        if v.__class__ is complex:
            return v.conjugate()
        return xp.conj(v)


def _scalar_operand(a, c, op):
    """Check a Python scalar against tensor ``a``; return ``a``'s data, promoted if the
    scalar's kind is higher (float scalar with an integer tensor gives float32, as in PyTorch)."""
    ad = a._data
    be = a._be
    ct = c.__class__
    if ct is not complex and ad.dtype in be.inexact_natives:
        return ad                       # the common case: a real scalar with a float tensor
    k = be.from_native[ad.dtype].kind
    if ct is float:
        if k in "fc":
            return ad
        return be.xp.astype(ad, be.native_dtype(be.default_float))
    if ct is int:
        if k != "b":
            return ad
        return be.xp.astype(ad, be.native_dtype(be.default_int))
    if ct is complex:
        if k == "c":
            return ad
        d = be.from_native[ad.dtype]
        target = d.to_complex() if k == "f" else be.default_float.to_complex()
        return be.xp.astype(ad, be.native_dtype(target))
    if ct is bool:
        return ad
    raise TypeError(f"{op}: expected a Tensor or a Python scalar (bool, int, float, complex), "
                    f"got {type(c).__name__}")


def _promote_kinds(be, ad, bd):
    """Mixed integer/bool and floating tensors: the floating dtype wins (PyTorch's rule;
    the standard leaves mixed-kind promotion unspecified). Same-kind pairs are left to
    the backend's standard promotion."""
    ka = be.from_native[ad.dtype].kind
    kb = be.from_native[bd.dtype].kind
    fa = ka in "fc"
    fb = kb in "fc"
    if fa and not fb:
        return ad, be.xp.astype(bd, ad.dtype)
    if fb and not fa:
        return be.xp.astype(ad, bd.dtype), bd
    if ka == "b" and kb in "iu":
        return be.xp.astype(ad, bd.dtype), bd
    if kb == "b" and ka in "iu":
        return ad, be.xp.astype(bd, ad.dtype)
    if {ka, kb} == {"i", "u"}:
        da, db = be.from_native[ad.dtype], be.from_native[bd.dtype]
        u = da if ka == "u" else db
        i = db if ka == "u" else da
        if u.itemsize >= i.itemsize and u.itemsize == 8:
            raise TypeError(f"cannot combine dtypes {da} and {db}: no integer dtype holds both "
                            f"(the standard leaves it undefined; NumPy would silently give float64). "
                            f"Cast one operand explicitly")
    return ad, bd


def _broadcast_error(op, a, b, e):
    sa = tuple(a.shape) if a.__class__ is Tensor else type(a).__name__
    sb = tuple(b.shape) if b.__class__ is Tensor else type(b).__name__
    if isinstance(e, TypeError):
        da = a.dtype if a.__class__ is Tensor else type(a).__name__
        db = b.dtype if b.__class__ is Tensor else type(b).__name__
        return TypeError(f"{op}: cannot combine dtypes {da} and {db} (shapes {sa} and {sb}): {e}")
    return ValueError(f"{op}: shapes {sa} and {sb} cannot be broadcast together: {e}")


def binary(a, b, fwd, cls, save, op, reverse=False):
    """Run ``fwd(a_data, b_data)`` and record ``cls`` (None: never record). ``save``: 0 nothing,
    1 inputs, 2 inputs and output. ``reverse``: ``b`` is the left operand (``2 - x``)."""
    if a.__class__ is not Tensor:
        if b.__class__ is Tensor:
            return binary(b, a, fwd, cls, save, op, not reverse)
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    be = a._be
    if b.__class__ is Tensor:
        if b._be is not be:
            raise mixed_backends(a, b, op)
        ad = a._data
        bd = b._data
        if ad.dtype != bd.dtype:
            ad, bd = _promote_kinds(be, ad, bd)
    elif b.__class__ in SCALAR_TYPES:
        ad = _scalar_operand(a, b, op)
        bd = b
        if bd.__class__ is bool and be.from_native[ad.dtype].kind != "b":
            bd = int(b)         # the standard promotes Python bools with bool arrays only
    else:
        if isinstance(b, Tensor):
            return binary(a, b, fwd, cls, save, op, reverse)
        for st in SCALAR_TYPES:          # subclasses (numpy.float64 is a float): plain scalars
            if isinstance(b, st):
                return binary(a, st(b), fwd, cls, save, op, reverse)
        return NotImplemented
    if reverse:
        a, b, ad, bd = b, a, bd, ad
    try:
        data = fwd(ad, bd)
    except (ValueError, TypeError) as e:
        raise _broadcast_error(op, a, b, e) from None
    an = a._node if a.__class__ is Tensor else None
    bn = b._node if b.__class__ is Tensor else None
    if (an is None and bn is None) or cls is None or not grad_state.enabled:
        return make(data, be, None)
    node = _new(cls)
    node.next = (an, bn)
    node.seq = _graph.next_seq()     # looked up per call: detect_anomaly swaps it
    node.be = be
    if save == 0:
        node.saved = node.arrs = ()
    elif save == 1:
        node.saved = (a, b)
        node.arrs = (ad, bd)
    else:
        node.saved = (a, b, None)
        node.arrs = (ad, bd, data)
    # Reduce/cast in backward only where the forward broadcast or promoted.
    ds = data.shape
    dd = data.dtype
    at = a.__class__ is Tensor
    bt = b.__class__ is Tensor
    cplx = dd in be.complex_natives
    if cplx or (at and (ad.shape != ds or ad.dtype != dd)) or (bt and (bd.shape != ds or bd.dtype != dd)):
        node.fix = (ad.shape if at else None, cast_back(be, ad.dtype, dd) if at else None,
                    bd.shape if bt else None, cast_back(be, bd.dtype, dd) if bt else None, cplx)
    else:
        node.fix = None
    return make(data, be, node)


class AddBackward(BinaryBackward):
    __slots__ = ()
    def da(self, xp, g, s): return g
    def db(self, xp, g, s): return g


class SubBackward(BinaryBackward):
    __slots__ = ()
    def da(self, xp, g, s): return g
    def db(self, xp, g, s): return -g


class MulBackward(BinaryBackward):
    __slots__ = ()
    def da(self, xp, g, s): return g * self.conj(xp, s[1])
    def db(self, xp, g, s): return g * self.conj(xp, s[0])


class DivBackward(BinaryBackward):
    __slots__ = ()
    def da(self, xp, g, s): return g / self.conj(xp, s[1])
    def db(self, xp, g, s):
        # d(a/b)/db = -a/b^2 = -out/b
        return -g * self.conj(xp, s[2] / s[1])


class PowBackward(BinaryBackward):
    __slots__ = ()
    def da(self, xp, g, s):
        a, b = s[0], s[1]
        if b.__class__ in (int, float):
            if b == 0:
                return g * 0
            return g * self.conj(xp, b * a ** (b - 1))
        # where a == 0 and b == 0 the gradient is 0 (as in PyTorch), not nan
        return g * self.conj(xp, b * xp.where(b == 0, xp.ones_like(a), a) ** (b - 1))
    def db(self, xp, g, s):
        a, out = s[0], s[2]
        if a.__class__ in (int, float):
            import math
            if a > 0:
                return g * (out * math.log(a))
            if a == 0:
                return g * xp.where(out == 0, xp.zeros_like(out), out * float("-inf"))
            return g * (out * float("nan"))
        la = xp.log(xp.where(a == 0, xp.ones_like(a), a))
        return g * self.conj(xp, xp.where(a == 0, xp.zeros_like(out), out * la))


class MaximumBackward(BinaryBackward):
    """Ties split the gradient evenly, as in PyTorch."""
    __slots__ = ()
    def da(self, xp, g, s):
        a, b = s[0], s[1]
        return xp.where(a > b, g, xp.where(a == b, g / 2, xp.zeros_like(g)))
    def db(self, xp, g, s):
        a, b = s[0], s[1]
        return xp.where(b > a, g, xp.where(a == b, g / 2, xp.zeros_like(g)))


class MinimumBackward(BinaryBackward):
    __slots__ = ()
    def da(self, xp, g, s):
        a, b = s[0], s[1]
        return xp.where(a < b, g, xp.where(a == b, g / 2, xp.zeros_like(g)))
    def db(self, xp, g, s):
        a, b = s[0], s[1]
        return xp.where(b < a, g, xp.where(a == b, g / 2, xp.zeros_like(g)))


class Atan2Backward(BinaryBackward):
    __slots__ = ()
    def da(self, xp, g, s):
        a, b = s[0], s[1]
        return g * b / (a * a + b * b)
    def db(self, xp, g, s):
        a, b = s[0], s[1]
        return -g * a / (a * a + b * b)


class RemainderBackward(BinaryBackward):
    __slots__ = ()
    def da(self, xp, g, s): return g
    def db(self, xp, g, s):
        a, b = s[0], s[1]
        return -g * xp.floor(a / b)


class LogAddExpBackward(BinaryBackward):
    __slots__ = ()
    def da(self, xp, g, s): return g * xp.exp(s[0] - s[2])
    def db(self, xp, g, s): return g * xp.exp(s[1] - s[2])


class HypotBackward(BinaryBackward):
    __slots__ = ()
    def da(self, xp, g, s): return g * s[0] / s[2]
    def db(self, xp, g, s): return g * s[1] / s[2]


def _add(x, y): return x + y
def _sub(x, y): return x - y
def _mul(x, y): return x * y
def _div(x, y): return x / y
def _pow(x, y): return x ** y
def _mod(x, y): return x % y
def _fdiv(x, y): return x // y


def add(x1, x2, *, alpha=None):
    if alpha is not None:
        x2 = multiply(x2, alpha)
    return binary(x1, x2, _add, AddBackward, 0, "add")


def subtract(x1, x2, *, alpha=None):
    if alpha is not None:
        x2 = multiply(x2, alpha)
    return binary(x1, x2, _sub, SubBackward, 0, "subtract")


def multiply(x1, x2):
    return binary(x1, x2, _mul, MulBackward, 1, "multiply")


def _int_kind(x):
    if isinstance(x, Tensor):
        return x._data.dtype not in x._be.inexact_natives
    return x.__class__ is int or x.__class__ is bool


def divide(x1, x2, *, rounding_mode=None):
    """True division; integer / integer gives the default float dtype (as in PyTorch)."""
    if rounding_mode is None:
        if _int_kind(x1) and _int_kind(x2):
            from ._shape import astype
            t = x1 if isinstance(x1, Tensor) else x2
            dt = t._be.default_float
            x1 = astype(x1, dt) if isinstance(x1, Tensor) else x1
            x2 = astype(x2, dt) if isinstance(x2, Tensor) else x2
        return binary(x1, x2, _div, DivBackward, 2, "divide")
    if rounding_mode == "floor":
        return floor_divide(x1, x2)
    if rounding_mode == "trunc":
        from ._unary import trunc
        return trunc(divide(x1, x2))
    raise ValueError(f"divide: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")


def pow(x1, x2):
    return binary(x1, x2, _pow, PowBackward, 2, "pow")


def remainder(x1, x2):
    return binary(x1, x2, _mod, RemainderBackward, 1, "remainder")


def floor_divide(x1, x2):
    return _nograd(x1, x2, _fdiv, "floor_divide")


def _xp_of(x1, x2, op):
    """The namespace of whichever operand is a tensor (a clear error if neither is)."""
    t = x1 if isinstance(x1, Tensor) else x2
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected at least one Tensor, got {type(x1).__name__} and "
                        f"{type(x2).__name__}")
    return t._be.xp


def maximum(x1, x2):
    real_only(x1, "maximum")
    real_only(x2, "maximum")
    return binary(x1, x2, _xp_of(x1, x2, "maximum").maximum, MaximumBackward, 1, "maximum")


def minimum(x1, x2):
    real_only(x1, "minimum")
    real_only(x2, "minimum")
    return binary(x1, x2, _xp_of(x1, x2, "minimum").minimum, MinimumBackward, 1, "minimum")


def atan2(x1, x2):
    return binary(x1, x2, _xp_of(x1, x2, "atan2").atan2, Atan2Backward, 1, "atan2")


def logaddexp(x1, x2):
    return binary(x1, x2, _xp_of(x1, x2, "logaddexp").logaddexp, LogAddExpBackward, 2, "logaddexp")


def hypot(x1, x2):
    return binary(x1, x2, _xp_of(x1, x2, "hypot").hypot, HypotBackward, 2, "hypot")


def _nograd(x1, x2, fwd, op):
    """An elementwise op without a useful gradient (comparisons, floor_divide): never recorded."""
    return binary(x1, x2, fwd, None, 0, op)


def _cmp(fname, sym):
    ordering = fname in ("less", "less_equal", "greater", "greater_equal")

    def f(x1, x2):
        if ordering:
            real_only(x1, fname)
            real_only(x2, fname)
        return _nograd(x1, x2, getattr(_xp_of(x1, x2, fname), fname), fname)
    f.__name__ = fname
    f.__doc__ = f"Elementwise ``x1 {sym} x2`` (a bool tensor; not differentiable)."
    return f


equal = _cmp("equal", "==")
not_equal = _cmp("not_equal", "!=")
less = _cmp("less", "<")
less_equal = _cmp("less_equal", "<=")
greater = _cmp("greater", ">")
greater_equal = _cmp("greater_equal", ">=")
logical_and = _cmp("logical_and", "and")
logical_or = _cmp("logical_or", "or")
logical_xor = _cmp("logical_xor", "xor")
bitwise_and = _cmp("bitwise_and", "&")
bitwise_or = _cmp("bitwise_or", "|")
bitwise_xor = _cmp("bitwise_xor", "^")
bitwise_left_shift = _cmp("bitwise_left_shift", "<<")
bitwise_right_shift = _cmp("bitwise_right_shift", ">>")


# ------------------------------------------------------------------- in-place

def inplace(a, b, op_fn, native, op):
    """``a op= b``: write the result into ``a``'s memory and move ``a`` onto the graph.

    ``op_fn`` is the out-of-place op (recorded when a graph is needed); ``native``
    the raw in-place form used when nothing is recorded (an optimizer step).
    """
    if a.__class__ is not Tensor:
        raise TypeError(f"{op}: expected a Tensor to modify, got {type(a).__name__}")
    check_inplace(a, op)
    bt = b.__class__ is Tensor
    if bt and b._be is not a._be:
        raise mixed_backends(a, b, op)
    graph = grad_state.enabled and (a._node is not None or (bt and b._node is not None))
    if not graph:
        ad = a._data
        bd = b._data if bt else b
        try:
            res = native(ad, bd)
        except (TypeError, ValueError) as e:
            _inplace_error(a, b, op, e)
        if res is not ad:
            _write(a, res, op)
        _graph.bump_version(a)
        return a
    return inplace_graph(a, lambda old: op_fn(old, b), op)


def _inplace_error(a, b, op, e):
    what = (f"an operand of shape {tuple(b.shape)} and dtype {b.dtype}" if b.__class__ is Tensor
            else f"a Python {type(b).__name__}")
    hint = ("; an expanded/broadcast view shares one memory location between elements: clone() "
            "it first" if "read-only" in str(e) else "")
    raise RuntimeError(f"{op}: cannot update a tensor of shape {tuple(a.shape)} and dtype {a.dtype} "
                       f"in place with {what}: {e}{hint}") from None


def _write(a, res, op):
    """Copy ``res`` into ``a``'s memory (same shape, a's dtype)."""
    ad = a._writable_data()
    if res.shape != ad.shape:
        raise RuntimeError(f"{op}: output with shape {tuple(ad.shape)} doesn't match the broadcast "
                           f"shape {tuple(res.shape)}")
    if res.dtype != ad.dtype:
        be = a._be
        rk, ak = be.dtype_of(res), be.dtype_of(ad)
        if rk.kind != ak.kind and not (rk.kind in "iub" and ak.kind in "fc") \
                and not (rk.kind == "f" and ak.kind == "c"):
            raise RuntimeError(f"{op}: result type {rk} can't be cast to the desired output type "
                               f"{ak}")
        res = be.xp.astype(res, ad.dtype)
    try:
        ad[...] = res
    except TypeError:
        # Namespaces with immutable arrays (JAX): rebind; views cannot follow.
        a._data = res
    except ValueError as e:
        raise RuntimeError(f"{op}: cannot write into this tensor (shape {tuple(ad.shape)}): {e}. An "
                           f"expanded/broadcast view shares one memory location between elements; "
                           f"clone() it first") from None


def overwrite_(a, value, op):
    """``a[...] = value`` for fill_/zero_/copy_/normal_: ``value`` is a Python scalar, a raw
    array of ``a``'s backend, or a Tensor (broadcast to ``a``). In a graph, ``a``'s old
    values get a zero gradient and a Tensor value gets its slice of the gradient."""
    check_inplace(a, op)
    if value.__class__ is Tensor or isinstance(value, Tensor):
        if value._be is not a._be:
            raise mixed_backends(a, value, op)
        if grad_state.enabled and (a._node is not None or value._node is not None):
            from ._shape import where
            from ._creation import ones
            everywhere = ones(a._data.shape, dtype="bool", device=a._be)
            return inplace_graph(a, lambda old: where(everywhere, value, old), op)
        value = value._data
    elif grad_state.enabled and a._node is not None and a._node.__class__ is not _graph.AccumulateGrad:
        from ._shape import where
        from ._creation import ones
        everywhere = ones(a._data.shape, dtype="bool", device=a._be)
        v = make(value, a._be, None) if hasattr(value, "shape") else value
        return inplace_graph(a, lambda old: where(everywhere, v, old), op)
    ad = a._writable_data()
    try:
        ad[...] = value
    except (TypeError, ValueError) as e:
        _inplace_error(a, value, op, e)
    _graph.bump_version(a)
    return a


def inplace_graph(a, compute, op):
    """In-place op that must be recorded: run ``compute(old)`` out of place on a
    snapshot of ``a``, write the values into ``a``'s memory, and point ``a`` at
    the new node. A view of a graph tensor updates its base's graph too."""
    base = a._base
    if base is not None and a._view_ops is False:
        raise RuntimeError(f"{op}: this tensor is a view of a detached alias, whose base's graph "
                           f"cannot be updated; clone() it first")
    # A snapshot of the old values: the recorded op may save them.
    old = make(a._be.xp.asarray(a._data, copy=True), a._be, a._node)
    res = compute(old)
    if res.__class__ is not Tensor:
        raise TypeError(f"{op}: unsupported operand")
    _write(a, res._data, op)
    _graph.bump_version(a)
    if base is not None and a._view_ops:
        from ._index import copy_slices
        copy_slices(base, a, res)
    else:
        a._node = res._node
    return a
