"""Backends: the only place interop touches an array library.

A :class:`Backend` (``interop.backends._base``) is one Array API namespace on one device
with its dtype tables, kernels and random-number source. This module is the registry:
names to backends, and the current backend (a ``ContextVar``), which decides where new
tensors are created. A tensor's own backend decides where an op on it runs.

The current backend is per context, as ``contextvars`` defines it: ``set_backend`` in the
main thread is seen by code that runs later in the same thread and by asyncio tasks it
starts; a thread started with ``threading.Thread`` begins from the default (the
``INTEROP_BACKEND`` environment variable, else ``"cpu"``) unless it calls
``set_backend`` itself or runs under ``contextvars.copy_context().run``.
"""

import contextlib
import contextvars
import os
import warnings

from .. import dtypes as _dt
from .._device import device as _device_cls
from ._base import Backend, BackendUnavailable, HostRNG, REQUIRED_FUNCTIONS
from ._kernels import KERNELS, Kernel, check_kernels
from ._numpy import make_numpy_backend
from ._strict import make_strict_backend
from ._cupy import make_cupy_backend, cuda_device_count
from ._bytes import (to_bytes, from_bytes, to_buffer, stack_host, host_array_info,
                     host_array_dtype)
from ._histogram import host_histogram
from ._shared import open_block
from . import _comm as comm
from . import cudnn, mps         # torch.backends.cudnn / .mps spellings (switches and queries)
from ._threads import set_num_threads, get_num_threads
from ._malloc import set_malloc_tuning, get_malloc_tuning

__all__ = [
    "Backend", "BackendUnavailable", "HostRNG", "KERNELS", "Kernel", "register_backend",
    "set_backend", "get_backend", "use_backend", "list_backends", "current_backend", "backend_for",
    "set_default_float", "cuda_device_count", "set_cuda_device", "current_cuda_device",
    "to_bytes", "from_bytes", "to_buffer", "stack_host", "host_array_info", "host_array_dtype",
    "open_block", "host_histogram", "comm", "set_num_threads", "get_num_threads",
    "set_malloc_tuning", "get_malloc_tuning",
]


# NumPy (and array-api-strict over it) warns where a floating-point result is an IEEE special
# value: log(0) = -inf, 0/0 = nan, exp(1000) = inf. PyTorch computes those silently, and so
# does interop: the warnings are ignored when raised from interop's own code or from the
# array-api-strict/array-api-compat wrappers it calls (a user's own NumPy code still warns).
# A NaN or inf cast to an integer ("invalid value encountered in cast") has no IEEE result
# and still warns. (A reduction that NumPy runs in its own Python code, such as the sum of
# +inf and -inf, is attributed to NumPy's frame and still warns.) The filter goes at the end
# of the list, so a user's own filters (``-W error``) come first; an import inside a
# ``warnings.catch_warnings()`` block (pytest collects that way) loses it on leaving the
# block, so set_backend and use_backend put it back.
def quiet_ieee_warnings():
    """Ignore the backend libraries' warnings about IEEE special results (see above)."""
    warnings.filterwarnings(
        "ignore", category=RuntimeWarning,
        message=r"(divide by zero|invalid value|overflow|underflow) encountered in (?!cast)",
        module=r"(interop|array_api_strict|array_api_compat)(\..*)?$", append=True)


quiet_ieee_warnings()

_FACTORIES = {}      # name -> zero-argument callable returning a Backend
_INSTANCES = {}      # name -> Backend
_ALIASES = {"numpy": "cpu", "cuda": "cuda:0", "cupy": "cuda:0"}
_current = contextvars.ContextVar("interop_backend", default=None)
_default_float = None   # set by set_default_float: every backend's default floating dtype


def _builtin_factory(name):
    if name == "cpu":
        return make_numpy_backend
    if name == "strict":
        return make_strict_backend
    if name.startswith("cuda:") and name[5:].isdigit():
        idx = int(name[5:])
        return lambda: make_cupy_backend(name, idx)
    return None


def _canonical(name):
    if not isinstance(name, str):
        raise TypeError(f"backend name must be a string, got {type(name).__name__} {name!r}")
    return _ALIASES.get(name, name)


def register_backend(name, namespace_or_factory, *, device=None, kernels=None):
    """Register a backend under ``name``.

    ``namespace_or_factory`` is an Array API namespace (``array_api_compat.torch``,
    ``jax.numpy``, a module of your own), a :class:`Backend`, or a zero-argument
    callable returning either; a callable is called on first use. ``device`` is
    the native device passed to creation functions (default: the namespace's).

    ``kernels`` (for a namespace) maps kernel names of the table ``KERNELS`` to the
    namespace's own implementations, e.g. ``{"index_add": my_index_add}``; they are
    called with the table's arguments after interop's checks, and kernels not given
    use the standard-only fallbacks. Unknown names, non-callables and callables that
    cannot take the table's arguments are refused here.
    """
    name = _canonical(name)
    if not name:
        raise ValueError("backend name must be non-empty")
    who = f"register_backend({name!r}, ...)"
    kernels = check_kernels(kernels, who) or None
    if kernels is not None and isinstance(namespace_or_factory, Backend):
        raise TypeError(f"{who}: kernels= is for a namespace; a Backend brings its own "
                        f"(Backend(..., kernels=...) or native_kernels())")

    def factory(obj=namespace_or_factory):
        if isinstance(obj, Backend):
            return obj
        if callable(obj) and not hasattr(obj, "asarray"):
            obj = obj()
            if isinstance(obj, Backend):
                if kernels is not None:
                    raise TypeError(f"{who}: kernels= is for a namespace, but the factory "
                                    f"returned a Backend, which brings its own")
                return obj
        if not hasattr(obj, "asarray"):
            raise TypeError(f"{who}: expected an Array API namespace "
                            f"(a module with asarray, zeros, ...) or a Backend, got {obj!r}")
        missing = [f for f in REQUIRED_FUNCTIONS if not hasattr(obj, f)]
        if missing:
            raise TypeError(f"{who}: namespace {getattr(obj, '__name__', obj)!r} "
                            f"lacks standard functions interop needs: {', '.join(missing)}")
        return Backend(name, obj, native_device=device, library=getattr(obj, "__name__", "custom"),
                       device=_device_name(obj, device), kernels=kernels)

    _FACTORIES[name] = factory
    _INSTANCES.pop(name, None)


def _device_name(xp, native_device):
    """An interop device for a user namespace's device: 'cpu' or 'cuda:N' when it says so."""
    text = str(native_device if native_device is not None else "cpu").lower()
    if "cuda" in text or "gpu" in text:
        digits = "".join(c for c in text if c.isdigit())
        return f"cuda:{digits or 0}"
    return "cpu"


def list_backends():
    """Names of the built-in and registered backends (available or not)."""
    names = ["cpu", "strict", "cuda:0"]
    for n in _FACTORIES:
        if n not in names:
            names.append(n)
    return names


def _all_names():
    return sorted(set(list_backends()) | set(_ALIASES) | {"cuda:N"})


def get_backend(name=None):
    """The backend called ``name`` (a :class:`Backend` passes through), or the current one."""
    if name is None:
        be = _current.get()
        if be is None:
            be = get_backend(os.environ.get("INTEROP_BACKEND") or "cpu")
            _current.set(be)
        return be
    if isinstance(name, Backend):
        return name
    name = _canonical(name)
    be = _INSTANCES.get(name)
    if be is not None:
        return be
    factory = _FACTORIES.get(name) or _builtin_factory(name)
    if factory is None:
        raise ValueError(f"unknown backend {name!r}; known backends: {', '.join(_all_names())} "
                         f"(register others with interop.backends.register_backend)")
    be = factory()
    if _default_float is not None:
        be.default_float = _default_float
    _INSTANCES[name] = be
    return be


def current_backend():
    return get_backend()


def backend_for(device=None):
    """The backend for a ``device=`` argument: None -> the current one; a Backend; a backend
    name ("strict"); or a device ("cpu", "cuda:1", interop.device). "cpu" keeps the current
    backend when it is on the CPU, so code written with device="cpu" runs under
    ``use_backend("strict")``."""
    cur = get_backend()
    if device is None:
        return cur
    if isinstance(device, Backend):
        return device
    if isinstance(device, _device_cls) and device._backend is not None:
        return device._backend
    if isinstance(device, str) and ":" not in device and device not in ("cpu", "cuda"):
        return get_backend(device)
    dev = device if isinstance(device, _device_cls) else _device_cls(device)
    if dev == cur.device or (dev.type == cur.device.type and dev.index is None):
        return cur
    if dev.type == "cpu":
        return get_backend("cpu")
    if dev.type == "cuda":
        return get_backend(f"cuda:{current_cuda_device() if dev.index is None else dev.index}")
    raise ValueError(f"unknown device {device!r}; expected 'cpu', 'cuda', 'cuda:N' or a backend name")


def current_cuda_device():
    """The index of the GPU that "cuda" (with no index) names: 0 unless set_cuda_device."""
    return int(_ALIASES["cuda"][5:])


def set_cuda_device(index):
    """Make "cuda" (and device("cuda")) name GPU ``index`` (``interop.cuda.set_device``)."""
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError(f"set_device: expected a GPU index (a non-negative int), got {index!r}")
    count = cuda_device_count()
    if index >= count:
        raise ValueError(f"set_device({index}): this machine has {count} CUDA device(s)")
    _ALIASES["cuda"] = _ALIASES["cupy"] = f"cuda:{index}"
    get_backend(f"cuda:{index}").use_device()


def set_default_float(dtype):
    """Make ``dtype`` (a real floating dtype) the default floating dtype of every backend,
    those made already and those made later (``interop.set_default_dtype``)."""
    global _default_float
    if dtype.__class__ is not _dt.dtype or not dtype.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating point dtypes can be the default, got "
                        f"{dtype!r}")
    _default_float = dtype
    for be in _INSTANCES.values():
        be.default_float = dtype


def set_backend(name):
    """Make ``name`` the backend on which new tensors are created; returns it."""
    be = get_backend(name)
    _current.set(be)
    quiet_ieee_warnings()
    return be


@contextlib.contextmanager
def use_backend(name):
    """``with use_backend("strict"): ...`` runs the block on that backend, then restores."""
    be = get_backend(name)
    token = _current.set(be)
    quiet_ieee_warnings()
    try:
        yield be
    finally:
        _current.reset(token)
