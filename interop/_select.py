"""Selection by condition: ``where``, ``clamp``/``clip``, ``masked_fill``."""

from . import dtypes as _dt
from ._args import same_backend, real_only
from ._elementwise import maximum, minimum
from ._promotion import cast_back, unbroadcast
from .autograd.graph import Node
from .autograd.grad_mode import state as grad_state
from .autograd.variable import Variable, record

__all__ = ["where", "clamp", "clip", "masked_fill"]


class WhereBackward(Node):
    """``s[0]`` is the condition (broadcast to the output's shape)."""
    __slots__ = ("fix",)

    def backward(self, xp, g, s):
        c = s[0]
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
    if not isinstance(condition, Variable):
        raise TypeError(f"where: condition must be a bool Tensor, got {type(condition).__name__}")
    be = same_backend((condition, x1, x2), "where")
    if condition._be.dtype_of(condition._data) is not _dt.bool:
        raise TypeError(f"where: condition must have dtype bool, got "
                        f"{condition._be.dtype_of(condition._data)}")
    if not isinstance(x1, Variable) and not isinstance(x2, Variable):
        raise TypeError("where: at least one of x1, x2 must be a Tensor")
    a = x1._data if isinstance(x1, Variable) else x1
    b = x2._data if isinstance(x2, Variable) else x2
    try:
        data = be.xp.where(condition._data, a, b)
    except (TypeError, ValueError) as e:
        raise ValueError(f"where: condition {tuple(condition._data.shape)}, x1 "
                         f"{getattr(a, 'shape', type(x1).__name__)}, x2 "
                         f"{getattr(b, 'shape', type(x2).__name__)} do not broadcast or promote: {e}") \
            from None
    ins = (x1, x2)
    if not grad_state.enabled or not any(isinstance(t, Variable) and t._node is not None for t in ins):
        return condition._make(data, be, None)
    cond = be.xp.broadcast_to(condition._data, data.shape)
    node = record(WhereBackward, be, ins, (cond,), (cond,))

    def fx(v):
        if not isinstance(v, Variable):
            return (None, None)
        return (v._data.shape, cast_back(be, v._data.dtype, data.dtype))
    node.fix = (fx(x1), fx(x2))
    return condition._make(data, be, node)


class ClampBackward(Node):
    """``s[0]``: where the input was within the bounds (the gradient passes there)."""
    __slots__ = ()

    def backward(self, xp, g, s):
        return xp.where(s[0], g, xp.zeros_like(g)),


def clamp(x, min=None, max=None):
    """Clamp to ``[min, max]``; the gradient passes where ``min <= x <= max`` (as in PyTorch).
    Tensor bounds are differentiable too."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    real_only(x, "clamp")
    if isinstance(min, Variable) or isinstance(max, Variable):
        out = x
        if min is not None:
            out = where(out < min, min, out) if isinstance(min, Variable) else maximum(out, min)
        if max is not None:
            out = where(out > max, max, out) if isinstance(max, Variable) else minimum(out, max)
        return out
    xp = x._be.xp
    xd = x._data
    data = xd
    if min is not None:
        data = xp.where(data < min, xp.full_like(data, min), data)
    if max is not None:
        data = xp.where(data > max, xp.full_like(data, max), data)
    if x._node is None or not grad_state.enabled:
        return x._make(data, x._be, None)
    if min is not None and max is not None:
        mask = (xd >= min) & (xd <= max)
    else:
        mask = (xd >= min) if min is not None else (xd <= max)
    node = record(ClampBackward, x._be, (x,), (mask,), (mask,))
    return x._make(data, x._be, node)


def clip(x, /, min=None, max=None):
    return clamp(x, min, max)


def masked_fill(x, mask, value):
    """``x`` with ``value`` where ``mask`` is True (differentiable in ``x`` and a tensor ``value``)."""
    if not isinstance(mask, Variable) or mask._be.dtype_of(mask._data) is not _dt.bool:
        raise TypeError(f"masked_fill: mask must be a bool Tensor, got "
                        f"{mask._be.dtype_of(mask._data) if isinstance(mask, Variable) else type(mask).__name__}")
    if isinstance(value, Variable) and value._data.ndim != 0:
        raise ValueError(f"masked_fill: value must be a Python scalar or a 0-d tensor, got shape "
                         f"{tuple(value._data.shape)}")
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
