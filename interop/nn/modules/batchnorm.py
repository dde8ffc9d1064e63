"""PyTorch's module path ``torch.nn.modules.batchnorm``: its classes, defined in
:mod:`interop.nn.modules.normalization`, so an import from there ports by changing
"torch" to "interop"."""

from .normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    LazyBatchNorm1d,
    LazyBatchNorm2d,
    LazyBatchNorm3d)

__all__ = [
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyBatchNorm3d"]
