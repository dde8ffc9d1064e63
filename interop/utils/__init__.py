"""Utilities under PyTorch's names: ``interop.utils.dlpack``, and ``interop.utils.data``
(the data-loading layer, ``interop.data``, which sits above the namespace and so is loaded on
first use rather than imported here)."""

import importlib as _importlib

from . import dlpack

__all__ = ["dlpack", "data"]


def __getattr__(name):
    if name == "data":
        return _importlib.import_module(f"{__name__}.data")
    raise AttributeError(f"module 'interop.utils' has no attribute {name!r}")
