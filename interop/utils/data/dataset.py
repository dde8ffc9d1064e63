"""``interop.utils.data.dataset``: PyTorch's module path for :mod:`interop.data.dataset`."""

from ...data.dataset import *            # noqa: F401,F403
from ...data.dataset import __all__      # noqa: F401
