"""``interop.nn.modules.lazy``: PyTorch's module path for ``LazyModuleMixin``."""

from .._lazy import LazyModuleMixin

__all__ = ["LazyModuleMixin"]
