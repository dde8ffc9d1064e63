"""Linear algebra: ``matmul`` (``@``), ``mm``, ``outer``."""

from ._args import mixed_backends
from ._errors import DTypeError, ShapeError
from ._views import unsqueeze
from .autograd.graph import Node
from .autograd.grad_mode import state as grad_state
from .autograd.variable import Variable, record

__all__ = ["matmul", "mm", "outer"]


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
    if not isinstance(x1, Variable) or not isinstance(x2, Variable):
        raise TypeError(f"matmul: expected two Tensors, got {type(x1).__name__} and {type(x2).__name__}")
    if x1._be is not x2._be:
        raise mixed_backends(x1, x2, "matmul")
    a, b = x1._data, x2._data
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: both arguments must be at least 1-d, got shapes {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb:
        raise ShapeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
                         f"({ka} != {kb})")
    if a.dtype != b.dtype:
        raise DTypeError(f"matmul: expected both tensors to have the same dtype, got "
                         f"{x1._be.dtype_of(a)} and {x2._be.dtype_of(b)}")
    be = x1._be
    try:
        data = be.xp.matmul(a, b)
    except ValueError:
        raise ShapeError(f"matmul: the batch dims of shapes {tuple(a.shape)} and {tuple(b.shape)} "
                         f"cannot be broadcast together") from None
    except TypeError:
        raise DTypeError(f"matmul: not supported for dtype {x1._be.dtype_of(a)}") from None
    if (x1._node is None and x2._node is None) or not grad_state.enabled:
        return x1._make(data, be, None)
    node = record(MatmulBackward, be, (x1, x2), (x1, x2), (a, b))
    node.fix = data.dtype in be.complex_natives
    return x1._make(data, be, node)


def mm(x1, x2):
    if x1._data.ndim != 2 or x2._data.ndim != 2:
        raise ShapeError(f"mm: expected 2-d tensors, got shapes {tuple(x1._data.shape)} and "
                         f"{tuple(x2._data.shape)}")
    return matmul(x1, x2)


def outer(x1, x2):
    return unsqueeze(x1, -1) * unsqueeze(x2, 0)


class LinalgMethods:
    """Tensor operators and methods for linear algebra."""

    __slots__ = ()

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    def matmul(self, other):
        return matmul(self, other)

    def mm(self, other):
        return mm(self, other)

    def outer(self, other):
        return outer(self, other)
