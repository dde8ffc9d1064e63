"""``parameters_to_vector`` and ``vector_to_parameters``: all parameters as one flat vector
and back (for second-order methods, evolution strategies and the like)."""

import interop as it

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _same_backend(params, who):
    first = None
    for p in params:
        if first is None:
            first = p
        elif p.backend is not first.backend:
            raise TypeError(f"{who}: found parameters on two devices ({first.device}, backend "
                            f"{first.backend.name!r} and {p.device}, backend {p.backend.name!r}); "
                            f"this is not supported")
    return params


def parameters_to_vector(parameters):
    """The parameters flattened and concatenated in order (differentiable)."""
    params = _same_backend(list(parameters), "parameters_to_vector")
    return it.cat([it.reshape(p, (-1,)) for p in params])


def vector_to_parameters(vec, parameters):
    """Makes each parameter's data the next slice of ``vec`` (the parameters then share
    ``vec``'s memory, as in PyTorch)."""
    if not isinstance(vec, it.Tensor):
        raise TypeError(f"vector_to_parameters: expected an interop Tensor, got "
                        f"{type(vec).__name__}")
    params = _same_backend(list(parameters), "vector_to_parameters")
    need = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] < need:
        raise ValueError(f"vector_to_parameters: expected a 1-d vector of at least {need} "
                         f"elements (the parameters' total), got shape {tuple(vec.shape)}")
    start = 0
    for p in params:
        n = p.numel()
        p.data = it.reshape(vec[start:start + n], tuple(p.shape)).detach()
        start += n
