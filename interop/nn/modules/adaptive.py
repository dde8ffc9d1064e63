"""PyTorch's module path ``torch.nn.modules.adaptive``: its classes, defined in
:mod:`interop.nn.modules.loss`, so an import from there ports by changing
"torch" to "interop"."""

from .loss import (
    AdaptiveLogSoftmaxWithLoss)

__all__ = [
    "AdaptiveLogSoftmaxWithLoss"]
