"""Gradient clipping: ``clip_grad_norm_``, ``clip_grad_value_``, ``get_total_norm`` and
``clip_grads_with_norm_``, as PyTorch's (the same norms, coefficients and errors).

``foreach`` is accepted for PyTorch compatibility; each gradient is one whole-tensor op
either way."""

import warnings

import interop as it

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]


def _tensors(tensors):
    """A single tensor or an iterable of them, as a list."""
    return [tensors] if isinstance(tensors, it.Tensor) else list(tensors)


def _grads(parameters):
    return [p.grad for p in _tensors(parameters) if p.grad is not None]


def _norm_type(norm_type):
    try:
        return float(norm_type)
    except (TypeError, ValueError):
        raise ValueError(f"norm_type must be a number (or 'inf'), got {norm_type!r}") from None


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all ``tensors`` together (as if concatenated into one
    vector), as a 0-d tensor; ``inf`` is the largest magnitude. No tensors: ``tensor(0.)``."""
    tensors = _tensors(tensors)
    p = _norm_type(norm_type)
    if not tensors:
        return it.tensor(0.0)
    norms = [it.linalg.vector_norm(t, ord=p) for t in tensors]
    total = it.linalg.vector_norm(it.stack(norms), ord=p)
    if error_if_nonfinite and not bool(it.isfinite(total)):
        raise RuntimeError(f"The total norm of order {p} for gradients from `parameters` is "
                           f"non-finite ({total.item()}), so it cannot be clipped. To scale the "
                           f"gradients by the non-finite norm anyway, set "
                           f"`error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scales the gradients of ``parameters`` in place by ``min(1, max_norm / (total_norm +
    1e-6))`` (``total_norm`` as :func:`get_total_norm` gives it)."""
    grads = _grads(parameters)
    if not grads:
        return
    coef = it.clamp(float(max_norm) / (total_norm + 1e-6), max=1.0)
    with it.no_grad():
        for g in grads:
            g.mul_(coef.astype(g.dtype))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scales the gradients of ``parameters`` in place so that their total ``norm_type``-norm
    is at most ``max_norm``; parameters without a gradient are skipped. Returns the total
    norm before clipping (a 0-d tensor)."""
    parameters = _tensors(parameters)
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated alias of :func:`clip_grad_norm_`."""
    warnings.warn("`nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient of ``parameters`` in place to [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    with it.no_grad():
        for g in _grads(parameters):
            g.clamp_(min=-clip_value, max=clip_value)
