"""Helpers shared by the distributions (PyTorch's ``torch.distributions.utils``)."""

import numbers

import interop as it

__all__ = ["broadcast_all", "lazy_property", "logits_to_probs", "probs_to_logits", "clamp_probs"]


def broadcast_all(*values):
    """The values broadcast to one shape as tensors; Python numbers become tensors of the
    tensors' dtype and device (the default floating dtype where there is no tensor)."""
    tensors = [v for v in values if isinstance(v, it.Tensor)]
    for v in values:
        if not isinstance(v, (it.Tensor, numbers.Number)):
            raise ValueError(f"Input arguments must all be instances of numbers.Number or "
                             f"interop.Tensor, got {type(v).__name__}")
    if tensors:
        like = tensors[0]
        values = [v if isinstance(v, it.Tensor) else it.tensor(v, dtype=like.dtype,
                                                                 device=like.device)
                  for v in values]
    else:
        values = [it.tensor(float(v), dtype=it.get_default_dtype()) for v in values]
    return tuple(it.broadcast_arrays(*values)) if len(values) > 1 else (values[0],)


class lazy_property:
    """A value computed from the instance on first access and then stored on it (so
    ``Bernoulli(probs=p).logits`` is computed once, only if asked for)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        with it.enable_grad():
            value = self.wrapped(instance)
        instance.__dict__[self.wrapped.__name__] = value
        return value


def clamp_probs(probs):
    """``probs`` kept within [eps, 1 - eps] of its dtype (so that their logs are finite)."""
    eps = it.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary=False):
    return it.sigmoid(logits) if is_binary else it.softmax(logits, -1)


def probs_to_logits(probs, is_binary=False):
    ps = clamp_probs(probs)
    if is_binary:
        return it.log(ps) - it.log1p(-ps)
    return it.log(ps)


def sum_rightmost(value, dim):
    """``value`` summed over its ``dim`` right-most dims."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:value.ndim - dim]) + (-1,)).sum(-1)
