"""Raw DLPack capsules, as ``torch.utils.dlpack``: ``to_dlpack(tensor)`` and
``from_dlpack(capsule_or_array)``.

Most code never needs a capsule: ``interop.from_dlpack(x)`` and ``np.from_dlpack(t)`` /
``torch.from_dlpack(t)`` exchange arrays directly. Capsules are for APIs that still pass
them around; each can be consumed once.
"""

from .._creation import from_dlpack as _from_dlpack
from ..autograd.variable import Variable

__all__ = ["to_dlpack", "from_dlpack"]


def to_dlpack(tensor, *, max_version=None):
    """A DLPack capsule of ``tensor``'s memory: a legacy ``dltensor`` capsule (what
    ``torch.utils.dlpack.to_dlpack`` gives and every consumer reads), or a versioned one when
    ``max_version=(1, 0)`` or later is given."""
    if not isinstance(tensor, Variable):
        raise TypeError(f"to_dlpack: expected an interop Tensor, got {type(tensor).__name__}")
    return tensor.__dlpack__(max_version=max_version)


def from_dlpack(ext_tensor):
    """A tensor sharing memory with a DLPack capsule (legacy or versioned) or with any object
    that has ``__dlpack__``; see :func:`interop.from_dlpack`."""
    return _from_dlpack(ext_tensor)
