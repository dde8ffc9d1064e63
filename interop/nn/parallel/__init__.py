"""``interop.nn.parallel``: data-parallel training over ``interop.distributed``."""

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
