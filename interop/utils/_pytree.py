"""Walking nested Python containers of tensors (PyTorch keeps the same in ``torch.utils._pytree``)."""

from .._tensor import Tensor

__all__ = ["tensors_in"]


def tensors_in(obj, out=None):
    """The tensors in ``obj`` (a tensor, or nested tuples, lists and dict values), in order."""
    if out is None:
        out = []
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (tuple, list)):
        for o in obj:
            tensors_in(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            tensors_in(o, out)
    return out
