"""Tensors across process boundaries by shared memory: what ``interop.multiprocessing``
registers with ``multiprocessing``'s pickler (PyTorch's ``torch.multiprocessing``
reductions). Sending a tensor moves its memory into shared memory first, as PyTorch does
(:meth:`Tensor.share_memory_`), and sends only a handle; the receiving process maps the
same memory, so writes on either side are seen by both. A view of a tensor that is not
shared is sent as a shared copy of the view (writes then stay on the receiving side)."""

from ._tensor import Tensor
from .backends import get_backend

__all__ = ["reduce_tensor", "rebuild_tensor"]


def rebuild_tensor(cls, handle, requires_grad):
    """The tensor a handle describes, over the shared memory (no copy), on the cpu backend."""
    be = get_backend("cpu")
    t = Tensor._make(be.attach_shared(handle), be, None)
    if cls is not Tensor:
        t = t.as_subclass(cls)
    if requires_grad:
        t.requires_grad_(True)
    return t


def reduce_tensor(t):
    """``(rebuild_tensor, args)`` for pickling ``t`` into another process of this machine."""
    if t.requires_grad and not t.is_leaf:
        raise RuntimeError("Cowardly refusing to serialize non-leaf tensor which requires_grad, "
                           "since autograd does not support crossing process boundaries.  If "
                           "you just want to transfer the data, call detach() on the tensor "
                           "before serializing (e.g., putting it on the queue).")
    if t._base is None:
        t.share_memory_()       # raises on backends that cannot share
    return rebuild_tensor, (type(t), t._be.shared_handle(t._data), t.requires_grad)
