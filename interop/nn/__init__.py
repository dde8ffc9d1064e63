"""``interop.nn``: PyTorch's module system, layers, activations and losses, written against
the interop namespace only, so every layer runs (and differentiates) on every backend."""

from .parameter import Parameter, Buffer
from ._lazy import UninitializedParameter, UninitializedBuffer
from .modules import *          # noqa: F401,F403
from . import functional
from . import init
from . import utils
from . import parallel
