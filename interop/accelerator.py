"""``interop.accelerator``: PyTorch's device-agnostic accelerator API (``torch.accelerator``),
over interop's one kind of accelerator, CUDA GPUs through CuPy (``interop.cuda``).

Everything answers on a machine without a GPU: :func:`is_available` is False,
:func:`current_accelerator` None and :func:`device_count` 0, so the common
``device = torch.accelerator.current_accelerator() if torch.accelerator.is_available()
else "cpu"`` ports unchanged. What needs a GPU raises a RuntimeError saying none is here.
"""

import contextlib

from . import cuda
from ._device import device as _device

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index",
           "set_device_index", "device_index", "synchronize", "empty_cache",
           "current_device_idx", "set_device_idx"]


def is_available():
    """True where an accelerator (a CUDA GPU CuPy can use) is here."""
    return cuda.is_available()


def current_accelerator(check_available=False):
    """``interop.device("cuda")`` where a GPU is usable, else None (interop has no
    accelerator it could name without one, so ``check_available`` changes nothing)."""
    return _device("cuda") if cuda.is_available() else None


def device_count():
    """The number of accelerators (GPUs) here; 0 without one."""
    return cuda.device_count()


def _need():
    if not cuda.is_available():
        raise RuntimeError("interop.accelerator: no accelerator is available here (interop's "
                           "accelerators are CUDA GPUs through CuPy)")


def current_device_index():
    """The index of the current GPU (a RuntimeError without one, as PyTorch's)."""
    _need()
    return cuda.current_device()


def set_device_index(device, /):
    """Make GPU ``device`` (an index, ``"cuda:1"`` or a device) the current one; None
    changes nothing."""
    if device is None:
        return
    _need()
    cuda.set_device(device)


@contextlib.contextmanager
def device_index(device, /):
    """``with interop.accelerator.device_index(1):`` GPU 1 is current inside the block."""
    if device is None:
        yield
        return
    prev = current_device_index()
    set_device_index(device)
    try:
        yield
    finally:
        set_device_index(prev)


def synchronize(device=None, /):
    """Wait for the work queued on GPU ``device`` (default: the current one)."""
    _need()
    cuda.synchronize(device)


def empty_cache():
    """Give cached, unused GPU memory back (see :func:`interop.cuda.empty_cache`)."""
    cuda.empty_cache()


current_device_idx = current_device_index      # PyTorch's deprecated spellings
set_device_idx = set_device_index
