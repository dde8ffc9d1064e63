"""``interop.utils.data.dataloader``: PyTorch's module path for :mod:`interop.data.dataloader`
(which, as PyTorch's, also exports the default collate functions)."""

from ...data.dataloader import DataLoader, get_worker_info, WorkerInfo
from ...data.collate import default_collate, default_convert

__all__ = ["DataLoader", "get_worker_info", "WorkerInfo", "default_collate", "default_convert"]
