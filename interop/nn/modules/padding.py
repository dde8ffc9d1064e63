"""Padding layers: ``ZeroPad``, ``ConstantPad``, ``ReflectionPad``, ``ReplicationPad`` and
``CircularPad`` in 1-d, 2-d and 3-d, each a :func:`interop.nn.functional.pad` with its
padding fixed at construction (an int pads every side by that much; a tuple lists
(before, after) pairs from the last dim, as PyTorch's)."""

from .module import Module
from ..functional import _padding as F

__all__ = ["ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d",
           "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
           "CircularPad2d", "CircularPad3d"]


def _padding(padding, n, cls):
    """``padding`` (an int, or ``2 * n`` ints) as a tuple of ``2 * n`` ints."""
    if isinstance(padding, bool) or not isinstance(padding, (int, tuple, list)):
        raise TypeError(f"{cls}: padding must be an int or a tuple of {2 * n} ints, got "
                        f"{type(padding).__name__} {padding!r}")
    if isinstance(padding, int):
        return (padding,) * (2 * n)
    if len(padding) != 2 * n or any(isinstance(p, bool) or not isinstance(p, int)
                                    for p in padding):
        raise TypeError(f"{cls}: padding must be an int or a tuple of {2 * n} ints "
                        f"(before, after pairs from the last dim), got {padding!r}")
    return tuple(padding)


class _PadNd(Module):
    """A padding layer: ``_dims`` padded dims, a ``_mode`` of
    :func:`~interop.nn.functional.pad`."""

    _dims = 1
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = _padding(padding, self._dims, type(self).__name__)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim of a ``(C, W)`` or ``(N, C, W)`` input with ``value``."""
    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last 2 dims of a ``(C, H, W)`` or ``(N, C, H, W)`` input with ``value``."""
    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last 3 dims of a ``(C, D, H, W)`` or ``(N, C, D, H, W)`` input with ``value``."""
    _dims = 3


class _Zeros:
    """Makes a ConstantPad layer a ZeroPad (PyTorch's ZeroPad is a ConstantPad subclass)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_Zeros, ConstantPad1d):
    """Pads the last dim with zeros."""


class ZeroPad2d(_Zeros, ConstantPad2d):
    """Pads the last 2 dims with zeros."""


class ZeroPad3d(_Zeros, ConstantPad3d):
    """Pads the last 3 dims with zeros."""


class ReflectionPad1d(_PadNd):
    """Pads the last dim with its reflection about the edge (the edge is not repeated)."""
    _dims, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Pads the last 2 dims with their reflection about the edges."""
    _dims, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Pads the last 3 dims with their reflection about the edges."""
    _dims, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Pads the last dim by repeating its edge values."""
    _dims, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Pads the last 2 dims by repeating their edge values."""
    _dims, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Pads the last 3 dims by repeating their edge values."""
    _dims, _mode = 3, "replicate"


class _CircularPadNd(_PadNd):
    _mode = "circular"

    def forward(self, input):
        if input.ndim not in (self._dims + 1, self._dims + 2):
            raise ValueError(f"{type(self).__name__}: expected {self._dims + 1}D or "
                             f"{self._dims + 2}D input (got {input.ndim}D input of shape "
                             f"{tuple(input.shape)})")
        return F.pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Pads the last dim by wrapping around (the far end continues before the start)."""
    _dims = 1


class CircularPad2d(_CircularPadNd):
    """Pads the last 2 dims by wrapping around."""
    _dims = 2


class CircularPad3d(_CircularPadNd):
    """Pads the last 3 dims by wrapping around."""
    _dims = 3
