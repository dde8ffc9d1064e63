"""``interop.utils.data.transforms``: the same module contents as :mod:`interop.data.transforms`."""

from ...data.transforms import *            # noqa: F401,F403
from ...data.transforms import __all__      # noqa: F401
