"""PyTorch's module path ``torch.nn.modules.channelshuffle``: its classes, defined in
:mod:`interop.nn.modules.pixelshuffle`, so an import from there ports by changing
"torch" to "interop"."""

from .pixelshuffle import (
    ChannelShuffle)

__all__ = [
    "ChannelShuffle"]
