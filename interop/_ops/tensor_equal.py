"""``Tensor.equal``: PyTorch's whole-tensor comparison (one Python bool), beside the
elementwise ``==``."""

from .._args import mixed_backends
from ..autograd.variable import Variable

__all__ = ["tensor_equal", "EqualMethods"]


def tensor_equal(a, b):
    """True when ``a`` and ``b`` have the same shape and equal elements (compared after type
    promotion, so ``[1]`` equals ``[1.]``; a NaN equals nothing), as ``torch.equal``."""
    for name, v in (("input", a), ("other", b)):
        if not isinstance(v, Variable):
            raise TypeError(f"equal: expected a Tensor for {name}, got {type(v).__name__}")
    if a._be is not b._be:
        raise mixed_backends(a, b, "equal")
    if tuple(a._data.shape) != tuple(b._data.shape):
        return False
    if a._data.dtype == b._data.dtype:
        return bool(a._be.xp.all(a._data == b._data))
    return bool((a.detach() == b.detach()).all())


class EqualMethods:
    """Tensor method ``equal``."""

    __slots__ = ()

    def equal(self, other):
        """True when ``other`` has this tensor's shape and elements (``torch.Tensor.equal``)."""
        return tensor_equal(self, other)
