"""Utilities under PyTorch's names: ``interop.utils.dlpack``, ``interop.utils.data`` (the
data-loading layer, ``interop.data``) and ``interop.utils.tensorboard`` (TensorBoard logging);
the last two sit above the namespace and so are loaded on first use rather than imported
here."""

import importlib as _importlib

from . import dlpack

__all__ = ["dlpack", "data", "tensorboard"]


def __getattr__(name):
    if name in ("data", "tensorboard"):
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'interop.utils' has no attribute {name!r}")
