"""Utilities under PyTorch's names: ``interop.utils.dlpack``."""

from . import dlpack

__all__ = ["dlpack"]
