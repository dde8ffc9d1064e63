"""PyTorch's module path ``torch.nn.modules.instancenorm``: its classes, defined in
:mod:`interop.nn.modules.normalization`, so an import from there ports by changing
"torch" to "interop"."""

from .normalization import (
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    LazyInstanceNorm1d,
    LazyInstanceNorm2d,
    LazyInstanceNorm3d)

__all__ = [
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "LazyInstanceNorm1d",
    "LazyInstanceNorm2d",
    "LazyInstanceNorm3d"]
