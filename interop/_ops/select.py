"""Selection by condition: ``where``, ``clamp``/``clip``, ``masked_fill``.

Dtypes follow PyTorch where the standard is silent: ``where`` promotes its two branches
(``float32`` with ``int64`` is float32; two Python floats give float32), ``clamp``
promotes the tensor with its bounds (an integer tensor with float bounds gives float32),
``masked_fill`` keeps the tensor's dtype (an integer tensor filled with 2.5 holds 2).
"""

import math

from .. import dtypes as _dt
from .._args import broadcast_shapes, same_backend, real_only, SCALAR_TYPES
from .cast import astype, clone
from .._errors import ArgumentError, DTypeError, ShapeError
from .._dtype_rules import result_type
from ..autograd.unbroadcast import cast_back, unbroadcast
from ..autograd.graph import Node, UNSAVED
from ..autograd.grad_mode import state as grad_state
from ..autograd.variable import Variable, record

__all__ = ["where", "clamp", "clip", "masked_fill"]

_PY = {"b": bool, "i": int, "u": int, "f": float, "c": complex}


def _shape(v):
    return tuple(v._data.shape) if isinstance(v, Variable) else ()


def _describe(v):
    if isinstance(v, Variable):
        return f"shape {tuple(v._data.shape)}"
    return type(v).__name__


def _operand(v, be, dt, op):
    """Tensor or Python scalar ``v`` as a raw array of dtype ``dt`` (a scalar as a 0-d array:
    a standard namespace may refuse two scalars, or a scalar of another kind)."""
    nd = be.native_dtype(dt)
    if isinstance(v, Variable):
        d = v._data
        return d if d.dtype == nd else be.xp.astype(d, nd)
    if v.__class__ not in SCALAR_TYPES:
        raise TypeError(f"{op}: expected a Tensor or a Python scalar, got {type(v).__name__}")
    return be.xp.asarray(_PY[dt.kind](v), dtype=nd, **be.device_kwargs)


class WhereBackward(Node):
    """``s.condition`` is the condition (broadcast to the output's shape); ``casts`` holds,
    per branch, the (shape, cast) that returns its gradient through broadcasting and
    promotion (``(None, None)`` for a Python scalar)."""
    __slots__ = ("casts",)
    saves = ("condition",)

    def backward(self, xp, g, s):
        c = s.condition
        z = xp.zeros_like(g)
        ga = xp.where(c, g, z) if self.next[0] is not None else None
        gb = xp.where(c, z, g) if self.next[1] is not None else None
        fa, fb = self.casts
        if ga is not None:
            ga = unbroadcast(xp, ga, fa[0], fa[1])
        if gb is not None:
            gb = unbroadcast(xp, gb, fb[0], fb[1])
        return ga, gb


def where(condition, x1, x2, /):
    """Elements of ``x1`` where ``condition``, else of ``x2`` (either or both may be Python
    scalars). The branches promote as in PyTorch (the standard is silent across kinds)."""
    if not isinstance(condition, Variable):
        raise TypeError(f"where: condition must be a bool Tensor, got {type(condition).__name__}")
    be = same_backend((condition, x1, x2), "where")
    if condition._be.dtype_of(condition._data) is not _dt.bool:
        raise TypeError(f"where: condition must have dtype bool, got "
                        f"{condition._be.dtype_of(condition._data)}")
    for v in (x1, x2):
        if not isinstance(v, Variable) and v.__class__ not in SCALAR_TYPES:
            raise TypeError(f"where: x1 and x2 must be Tensors or Python scalars, got "
                            f"{type(x1).__name__} and {type(x2).__name__}")
    shape = broadcast_shapes(tuple(condition._data.shape), _shape(x1), _shape(x2), op="where")
    dt = result_type(x1, x2, be=be)
    a = _operand(x1, be, dt, "where")
    b = _operand(x2, be, dt, "where")
    data = be.xp.where(condition._data, a, b)
    ins = (x1, x2)
    if not grad_state.enabled or not any(isinstance(t, Variable) and t._node is not None for t in ins):
        return condition._make(data, be, None)
    cond = be.xp.broadcast_to(condition._data, shape)
    node = record(WhereBackward, be, ins, (cond,), (cond,))

    def fx(v):
        if not isinstance(v, Variable):
            return (None, None)
        return (v._data.shape, cast_back(be, v._data.dtype, data.dtype))
    node.casts = (fx(x1), fx(x2))
    return condition._make(data, be, node)


class ClampBackward(Node):
    """``s.passes``: where the input was within the bounds (the gradient passes there)."""
    __slots__ = ()
    saves = ("passes",)

    def backward(self, xp, g, s):
        return xp.where(s.passes, g, xp.zeros_like(g)),


class ClampTensorBackward(Node):
    """Tensor bounds: ``s`` holds a mask per input (x, min, max; UNSAVED where absent) of the
    elements whose gradient passes to it, PyTorch's rule: to x where ``min <= x <= max``,
    to min where ``x < min < max``, to max where ``x > max`` or ``min > max``. ``casts``:
    (shape, cast) per input, to reduce and cast the gradient back."""
    __slots__ = ("casts",)
    saves = ("x_mask", "min_mask", "max_mask")

    def backward(self, xp, g, s):
        out = []
        for edge, mask, (shape, cast) in zip(self.next, s, self.casts):
            if edge is None:
                out.append(None)
                continue
            out.append(unbroadcast(xp, xp.where(mask, g, xp.zeros_like(g)), shape, cast))
        return tuple(out)


def _is_nan(v):
    return v.__class__ is float and math.isnan(v)


def _clamp_tensors(x, lo, hi, be):
    """clamp with a tensor bound (the other a tensor, a Python scalar or None)."""
    shape = broadcast_shapes(*(_shape(v) for v in (x, lo, hi) if v is not None), op="clamp")
    dt = result_type(*(v for v in (x, lo, hi) if v is not None), be=be)
    if dt is _dt.bool:
        raise DTypeError("clamp: not supported for bool tensors with bool bounds (as in PyTorch)")
    xp = be.xp
    xd = _operand(x, be, dt, "clamp")
    ld = None if lo is None else _operand(lo, be, dt, "clamp")
    hd = None if hi is None else _operand(hi, be, dt, "clamp")
    data = xp.broadcast_to(xd, shape)
    if ld is not None:
        data = xp.where(data < ld, ld, data)
    if hd is not None:
        data = xp.where(data > hd, hd, data)
    if dt.kind in "fc":                       # a NaN bound gives NaN, as in PyTorch
        for bd in (ld, hd):
            if bd is not None:
                data = xp.where(xp.isnan(bd), bd, data)
    ins = (x, lo, hi)
    if not grad_state.enabled or not any(isinstance(t, Variable) and t._node is not None for t in ins):
        return x._make(data, be, None)
    if ld is not None and hd is not None:
        masks = ((xd >= ld) & (xd <= hd), (xd < ld) & (ld < hd), (xd > hd) | (ld > hd))
    elif ld is not None:
        masks = (xd >= ld, xd < ld, None)
    else:
        masks = (xd <= hd, None, xd > hd)
    # an absent bound's slot is UNSAVED (nothing saved there)
    masks = tuple(UNSAVED if m is None else xp.broadcast_to(m, shape) for m in masks)
    node = record(ClampTensorBackward, be, ins, masks, masks)
    node.casts = tuple((v._data.shape, cast_back(be, v._data.dtype, data.dtype))
                     if isinstance(v, Variable) else (None, None) for v in ins)
    return x._make(data, be, node)


def clamp(x, min=None, max=None):
    """Clamp to ``[min, max]``; the gradient passes where ``min <= x <= max`` (as in PyTorch).
    Tensor bounds are differentiable too. The result dtype promotes ``x`` with the bounds
    (an integer tensor with float bounds gives float32); a NaN bound gives NaN."""
    if min is None and max is None:
        raise ArgumentError("clamp: at least one of min and max must be given")
    if not isinstance(x, Variable):
        raise TypeError(f"clamp: expected a Tensor, got {type(x).__name__}")
    real_only(x, "clamp")
    be = x._be
    if isinstance(min, Variable) or isinstance(max, Variable):
        same_backend((x, min, max), "clamp")
        real_only(min, "clamp")
        real_only(max, "clamp")
        return _clamp_tensors(x, min, max, be)
    for b in (min, max):
        if b is not None and b.__class__ not in SCALAR_TYPES:
            raise TypeError(f"clamp: bounds must be Tensors or Python scalars, got {type(b).__name__}")
    xp = be.xp
    xd = x._data
    if xd.dtype not in be.inexact_natives or min.__class__ is float or max.__class__ is float:
        dt = result_type(x, *(b for b in (min, max) if b is not None))
        if dt is _dt.bool:
            raise DTypeError("clamp: not supported for bool tensors with bool bounds (as in PyTorch)")
        if be.dtype_of(xd) is not dt:
            xd = xp.astype(xd, be.native_dtype(dt))      # (integer input: no gradient)
        if dt.kind in "fc" and (_is_nan(min) or _is_nan(max)):   # NaN everywhere, as in PyTorch
            data = xp.full_like(xd, float("nan"))
            if x._node is None or not grad_state.enabled:
                return x._make(data, be, None)
            mask = xp.zeros(xd.shape, dtype=be.native_dtype(_dt.bool), **be.device_kwargs)
            return x._make(data, be, record(ClampBackward, be, (x,), (mask,), (mask,)))
    data = xd
    if min is not None:
        data = xp.where(data < min, xp.full_like(data, min), data)
    if max is not None:
        data = xp.where(data > max, xp.full_like(data, max), data)
    if x._node is None or not grad_state.enabled:
        return x._make(data, be, None)
    if min is not None and max is not None:
        mask = (xd >= min) & (xd <= max)
    else:
        mask = (xd >= min) if min is not None else (xd <= max)
    node = record(ClampBackward, be, (x,), (mask,), (mask,))
    return x._make(data, be, node)


def clip(x, /, min=None, max=None):
    """The standard's ``clip``: as :func:`clamp`; with neither bound, a copy of ``x``."""
    if min is None and max is None:
        return clone(x)
    return clamp(x, min, max)


def masked_fill(x, mask, value):
    """``x`` with ``value`` where ``mask`` is True (differentiable in ``x`` and a tensor
    ``value``). The result keeps ``x``'s dtype, as in PyTorch: an integer tensor filled with
    2.5 holds 2."""
    if not isinstance(x, Variable):
        raise TypeError(f"masked_fill: expected a Tensor, got {type(x).__name__}")
    if not isinstance(mask, Variable) or mask._be.dtype_of(mask._data) is not _dt.bool:
        raise TypeError(f"masked_fill: mask must be a bool Tensor, got "
                        f"{mask._be.dtype_of(mask._data) if isinstance(mask, Variable) else type(mask).__name__}")
    be = x._be
    dt = be.dtype_of(x._data)
    if isinstance(value, Variable):
        if value._data.ndim != 0:
            raise ShapeError(f"masked_fill: value must be a Python scalar or a 0-d tensor, got shape "
                             f"{tuple(value._data.shape)}")
        vdt = value._be.dtype_of(value._data)
        if vdt is not dt:
            if vdt.kind == "c" and dt.kind != "c":
                raise DTypeError(f"masked_fill: cannot fill a {dt} tensor with a complex value "
                                 f"({vdt})")
            value = astype(value, dt)       # (recorded between floating dtypes)
    elif value.__class__ in SCALAR_TYPES:
        if value.__class__ is complex and dt.kind != "c":
            raise DTypeError(f"masked_fill: cannot fill a {dt} tensor with a complex value "
                             f"{value!r}")
        try:
            value = _PY[dt.kind](value)
        except (OverflowError, ValueError):
            raise ArgumentError(f"masked_fill: value {value!r} does not fit dtype {dt}") from None
    else:
        raise TypeError(f"masked_fill: value must be a Python scalar or a 0-d tensor, got "
                        f"{type(value).__name__}")
    shape = tuple(x._data.shape)
    if broadcast_shapes(tuple(mask._data.shape), shape, op="masked_fill") != shape:
        raise ShapeError(f"masked_fill: mask of shape {tuple(mask._data.shape)} would broadcast "
                         f"the tensor of shape {shape}")
    return where(mask, value, x)


class SelectionMethods:
    """Tensor methods that select elements by a condition or bounds."""

    __slots__ = ()

    def where(self, condition, other):
        return where(condition, self, other)

    def clamp(self, min=None, max=None):
        return clamp(self, min, max)

    clip = clamp

    def clamp_min(self, min):
        return clamp(self, min, None)

    def clamp_max(self, max):
        return clamp(self, None, max)

    def masked_fill(self, mask, value):
        return masked_fill(self, mask, value)
