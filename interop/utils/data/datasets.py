"""``interop.utils.data.datasets``: the same module contents as :mod:`interop.data.datasets`."""

from ...data.datasets import *            # noqa: F401,F403
from ...data.datasets import __all__      # noqa: F401
