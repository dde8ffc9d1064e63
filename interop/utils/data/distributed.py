"""``interop.utils.data.distributed``: PyTorch's module path for ``DistributedSampler``
(defined in :mod:`interop.data.sampler`)."""

from ...data.sampler import DistributedSampler

__all__ = ["DistributedSampler"]
