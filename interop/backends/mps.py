"""``interop.backends.mps``: PyTorch's ``torch.backends.mps`` queries. interop has no Metal
(Apple GPU) backend, so both answers are False and a ported script takes its CPU branch;
an Array API namespace for Metal could be registered with ``register_backend``."""

__all__ = ["is_available", "is_built"]


def is_available():
    """False: no interop backend runs on Apple's Metal (MPS) GPUs."""
    return False


def is_built():
    """False: interop has no MPS support to build in."""
    return False
