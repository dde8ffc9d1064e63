"""``interop.utils.data``: PyTorch's spelling of :mod:`interop.data`."""

from ...data import *            # noqa: F401,F403
from ...data import __all__      # noqa: F401
