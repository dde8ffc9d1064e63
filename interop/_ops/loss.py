"""Losses that are one primitive over a backend kernel: ``class_cross_entropy``, PyTorch's
``cross_entropy`` for (N, C) logits and (N,) class indices without class weights or label
smoothing (the training loop's loss). ``interop.nn.functional.cross_entropy`` sends those
calls here and composes every other case.

Forward runs the backend's ``class_cross_entropy`` kernel and saves the logits and targets;
backward runs ``class_cross_entropy_backward`` on the raw arrays (the softmax is recomputed,
as PyTorch recomputes ``exp`` of its saved log-softmax, instead of keeping an (N, C) array
alive). Under ``create_graph=True`` the gradient is composed of recorded ops (softmax is a
primitive), so it is differentiable again.
"""

from .._args import real_only
from .._errors import DTypeError
from ..autograd.graph import Node
from ..autograd.grad_mode import state as grad_state
from ..autograd.variable import Variable, record
from .reduce import softmax

__all__ = ["class_cross_entropy"]


class ClassCrossEntropyBackward(Node):
    """``w[n] (softmax(x[n]) - onehot(target[n]))`` (see the kernel table's
    ``class_cross_entropy_backward``); no gradient for the targets."""
    __slots__ = ("ignore_index", "reduction")
    saves = ("x", "target")

    def backward(self, xp, g, s):
        x, t = s.x, s.target
        ignore, reduction = self.ignore_index, self.reduction
        if xp is self.be.ns:
            return xp.class_cross_entropy_backward(g, x, t, ignore, reduction), None
        # create_graph: tensors, recorded
        n, c = x.shape
        valid = t != ignore
        t = xp.where(valid, t, 0)
        if reduction == "none":
            w = g
        else:
            if reduction == "mean":
                g = g / xp.sum(xp.astype(valid, x.dtype))
            w = xp.broadcast_to(g, (n,))
        w = xp.reshape(xp.where(valid, w, 0.0), (n, 1))
        hit = xp.astype(xp.reshape(t, (n, 1)) == xp.arange(c, device=x.device), x.dtype)
        return (softmax(x, axis=1) - hit) * w, None


def class_cross_entropy(x, target, ignore_index=-100, reduction="mean"):
    """PyTorch's ``cross_entropy(x, target, ignore_index=ignore_index, reduction=reduction)``
    for (N, C) logits ``x`` and (N,) integer class indices ``target``, as one primitive over
    the backend's kernel (the twin of its ``class_cross_entropy`` kernel)."""
    op = "class_cross_entropy"
    if not isinstance(x, Variable) or not isinstance(target, Variable):
        raise TypeError(f"{op}: expected tensors, got {type(x).__name__} and "
                        f"{type(target).__name__}")
    real_only(x, op)
    be = x._be
    if target._be is not be:
        raise ValueError(f"{op}: expected the logits and the targets on the same backend and "
                         f"device, but found them on {be.name!r} ({be.device}) and "
                         f"{target._be.name!r} ({target._be.device}); move one explicitly "
                         f"with .to(...)")
    if not be.dtype_of(x._data).is_floating_point:
        raise DTypeError(f"{op}: expected floating point logits, got {be.dtype_of(x._data)}")
    data = be.class_cross_entropy(x._data, target._data, ignore_index, reduction)
    if x._node is None or not grad_state.enabled:
        return x._make(data, be, None)
    node = record(ClassCrossEntropyBackward, be, (x, target), (x, target),
                  (x._data, target._data))
    node.ignore_index = ignore_index
    node.reduction = reduction
    return x._make(data, be, node)
