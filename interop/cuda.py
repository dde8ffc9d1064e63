"""``interop.cuda``: the ``torch.cuda`` basics, over the CuPy backends (``cuda:N``).

Everything here answers on a machine without a GPU (``is_available()`` is False,
``device_count()`` 0); what needs a GPU raises a RuntimeError that says so.
"""

import contextlib

import os

from ._device import device as _device
from ._generator import default_generator
from .backends import (BackendUnavailable, cuda_device_count, current_cuda_device, get_backend,
                       set_cuda_device)

__all__ = ["is_available", "device_count", "current_device", "set_device", "synchronize",
           "Stream", "current_stream", "stream", "manual_seed", "manual_seed_all", "seed",
           "seed_all", "initial_seed", "empty_cache"]


def is_available():
    """True where CuPy can use at least one CUDA GPU."""
    return cuda_device_count() > 0


def device_count():
    return cuda_device_count()


def current_device():
    """The index of the GPU that ``"cuda"`` names (0 unless :func:`set_device` changed it)."""
    return current_cuda_device()


def _index(dev):
    if dev is None:
        return current_cuda_device()
    if isinstance(dev, bool):
        raise TypeError(f"expected a GPU index or a cuda device, got {dev!r}")
    if isinstance(dev, int):
        return dev
    d = dev if isinstance(dev, _device) else _device(dev)
    if d.type != "cuda":
        raise ValueError(f"expected a cuda device, got {d}")
    return current_cuda_device() if d.index is None else d.index


def set_device(device):
    """Make ``"cuda"`` name GPU ``device`` (an index, ``"cuda:1"`` or a device)."""
    set_cuda_device(_index(device))


def _backend(dev):
    i = _index(dev)
    try:
        return get_backend(f"cuda:{i}")
    except BackendUnavailable as e:
        raise RuntimeError(f"interop.cuda: no usable CUDA GPU cuda:{i} here ({e})") from None


def synchronize(device=None):
    """Wait for all work queued on GPU ``device`` (default: the current one) to finish."""
    _backend(device).synchronize()


class Stream:
    """A CUDA stream on a GPU (CuPy's underneath). As a context manager it is the current
    stream: interop and CuPy work inside the block is queued on it."""

    def __init__(self, device=None, priority=0, *, _native=None):
        self._be = _backend(device)
        self.native = _native if _native is not None else self._be.new_stream(priority)

    @property
    def device(self):
        return self._be.device

    @property
    def cuda_stream(self):
        """The raw ``cudaStream_t`` as an int (what ``__dlpack__(stream=...)`` takes)."""
        return self.native.ptr

    def synchronize(self):
        self.native.synchronize()

    def query(self):
        """True when all work queued on the stream has finished."""
        return self.native.done

    def wait_stream(self, other):
        """Queue a wait on this stream for the work queued on ``other`` so far."""
        self.native.wait_event(other.native.record())

    def __enter__(self):
        self._prev = self._be.current_stream()
        self.native.use()
        return self

    def __exit__(self, *exc):
        self._prev.use()

    def __eq__(self, other):
        return isinstance(other, Stream) and self.native == other.native

    def __hash__(self):
        return hash(self.native)

    def __repr__(self):
        return f"<interop.cuda.Stream device={self.device} cuda_stream={self.cuda_stream:#x}>"


def current_stream(device=None):
    """The stream work on GPU ``device`` is queued on now."""
    be = _backend(device)
    return Stream(be.device, _native=be.current_stream())


@contextlib.contextmanager
def stream(s):
    """``with interop.cuda.stream(s):`` queue work on stream ``s`` (None: no change)."""
    if s is None:
        yield
        return
    with s:
        yield


# Seeds. interop's default generator keeps one random source per backend; these seed the
# ``cuda:N`` sources alone, as ``torch.cuda.manual_seed`` seeds the GPU generators and
# leaves the CPU's alone. Without a GPU they take effect when one is first used (PyTorch
# queues them the same way), so a seeded script runs unchanged on a CPU-only machine.

def manual_seed(seed):
    """Seed the random source of the current GPU."""
    default_generator.seed_backend(f"cuda:{current_cuda_device()}", seed)


def manual_seed_all(seed):
    """Seed the random sources of every GPU."""
    for i in range(max(cuda_device_count(), 1)):
        default_generator.seed_backend(f"cuda:{i}", seed)


def seed():
    """Seed the current GPU's source from the operating system's randomness."""
    manual_seed(int.from_bytes(os.urandom(8), "little"))


def seed_all():
    """Seed every GPU's source from the operating system's randomness (one seed for all)."""
    manual_seed_all(int.from_bytes(os.urandom(8), "little"))


def initial_seed():
    """The seed the current GPU's random source starts from."""
    return default_generator.backend_seed(f"cuda:{current_cuda_device()}")


def empty_cache():
    """Give the blocks CuPy's memory pools cache on the current GPU back to the driver (what
    ``torch.cuda.empty_cache`` does for PyTorch's caching allocator); memory that tensors
    still use stays. Without a usable GPU there is no cache: nothing to do, as in PyTorch."""
    if not is_available():
        return
    _backend(None).empty_cache()
