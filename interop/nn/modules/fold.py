"""PyTorch's module path ``torch.nn.modules.fold``: its classes, defined in
:mod:`interop.nn.modules.conv`, so an import from there ports by changing
"torch" to "interop"."""

from .conv import (
    Fold,
    Unfold)

__all__ = [
    "Fold",
    "Unfold"]
