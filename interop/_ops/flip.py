"""``flip``: the elements in reverse order along some axes (always a copy).

A reordering (its Tensor method is with the other reorderings, in
``interop._ops.rearrange``), kept in a module of its own below ``interop._ops.indexing``:
indexing needs it to read negative-step slices on backends that cannot view them
(``x[::-1]`` is ``flip(x, axis=0)``), and ``rearrange`` is built on indexing.
"""

from .._args import both_spellings, norm_dims
from ..autograd.graph import Node
from ..autograd.grad_mode import state as grad_state
from ..autograd.variable import record

__all__ = ["flip"]


class FlipBackward(Node):
    __slots__ = ("axes",)

    def backward(self, xp, g, s):
        return xp.flip(g, axis=self.axes),


def flip(x, /, dims=None, *, axis=None):
    """Reverse the order along ``dims`` (PyTorch, positional: ``flip(x, [0])``) or ``axis=``
    (the standard; an int or a tuple); every dim when neither is given."""
    if dims is not None:
        if axis is not None:
            raise both_spellings("flip", axis, dims)
        axis = dims
    axes = norm_dims(axis, x._data.ndim, "flip")
    # always a copy (NumPy and array-api-strict return a view that writes would go through)
    data = x._be.xp.asarray(x._be.xp.flip(x._data, axis=axes), copy=True)
    if x._node is None or not grad_state.enabled:
        return x._make(data, x._be, None)
    node = record(FlipBackward, x._be, (x,))
    node.axes = axes
    return x._make(data, x._be, node)
