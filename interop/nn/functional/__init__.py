"""``interop.nn.functional``: PyTorch's functional layers, activations and losses, written
against the interop namespace only (so they run, and differentiate, on every backend)."""

from ._activation import *      # noqa: F401,F403
from ._loss import *            # noqa: F401,F403
from ._conv import *            # noqa: F401,F403
from ._pooling import *         # noqa: F401,F403
from ._padding import *         # noqa: F401,F403
from ._resample import *        # noqa: F401,F403
from ._shuffle import *         # noqa: F401,F403
from ._norm import *            # noqa: F401,F403
from ._linear import *          # noqa: F401,F403
from ._attention import *       # noqa: F401,F403
from . import _hook

# the functional layers that ONNX has as operators call the export hook (see _hook.py)
for _name in _hook.HOOKED:
    globals()[_name] = _hook.hooked(globals()[_name])
del _name
