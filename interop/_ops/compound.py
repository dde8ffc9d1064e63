"""Compound pointwise ops from PyTorch: ``addcmul``, ``addcdiv``, ``lerp``.

Each is a composition of elementwise ops (so broadcasting, promotion and gradients of
every order come from them); the in-place forms (``addcmul_``...) are in
``interop._ops.mutation``.
"""

from .._args import same_backend
from .select import where
from ..autograd.variable import Variable

__all__ = ["addcmul", "addcdiv", "lerp"]


def _tensors(op, **named):
    for name, t in named.items():
        if not isinstance(t, Variable):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    same_backend(tuple(named.values()), op)


def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2`` (broadcast)."""
    _tensors("addcmul", input=input, tensor1=tensor1, tensor2=tensor2)
    prod = tensor1 * tensor2
    return input + (prod if value == 1 else value * prod)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2`` (broadcast); integer division is refused, as
    in PyTorch."""
    _tensors("addcdiv", input=input, tensor1=tensor1, tensor2=tensor2)
    if not (tensor1.dtype.is_floating_point or tensor1.dtype.is_complex) and \
            not (tensor2.dtype.is_floating_point or tensor2.dtype.is_complex):
        raise TypeError(f"addcdiv: integer division of tensor1 ({tensor1.dtype}) by tensor2 "
                        f"({tensor2.dtype}) is not supported; cast them to a floating dtype")
    quot = tensor1 / tensor2
    return input + (quot if value == 1 else value * quot)


def lerp(input, end, weight):
    """``input + weight * (end - input)``, computed as PyTorch does: from ``end`` where
    ``|weight| >= 0.5`` (so that ``weight == 1`` gives ``end`` exactly). ``weight`` is a
    Python number or a tensor; all three are differentiable."""
    _tensors("lerp", input=input, end=end)
    if input.dtype is not end.dtype:
        raise TypeError(f"lerp: expected input and end of one dtype, got {input.dtype} and "
                        f"{end.dtype}")
    diff = end - input
    if isinstance(weight, Variable):
        same_backend((input, weight), "lerp")
        if weight.dtype is not input.dtype:
            raise TypeError(f"lerp: expected weight of dtype {input.dtype}, got {weight.dtype}")
        return where(weight.abs() < 0.5, input + weight * diff, end - diff * (1 - weight))
    if not isinstance(weight, (int, float)):
        raise TypeError(f"lerp: weight must be a Python number or a Tensor, got "
                        f"{type(weight).__name__}")
    if abs(weight) < 0.5:
        return input + weight * diff
    return end - diff * (1 - weight)


class CompoundMethods:
    """Tensor methods for compound pointwise ops (in-place forms in ``interop._ops.mutation``)."""

    __slots__ = ()

    def addcmul(self, tensor1, tensor2, *, value=1):
        return addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1, tensor2, *, value=1):
        return addcdiv(self, tensor1, tensor2, value=value)

    def lerp(self, end, weight):
        return lerp(self, end, weight)
