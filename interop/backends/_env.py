"""What ``python -m interop`` reports about the array libraries and the backends.

It lives here because only ``interop/backends`` may touch an array library. Libraries that
no backend has loaded are never imported to learn their version: it is read from the
installed package's metadata (``importlib.metadata``), which costs no import and cannot
fail on a broken GPU stack.

* :func:`library_versions`: NumPy, array-api-compat, array-api-strict, CuPy.
* :func:`backend_status`: every known backend (built-in, registered, one per visible GPU):
  available or not (and why), its library, device, the Array API version its namespace
  declares and the DLPack version its library exports.
* :func:`peers`: the optional packages interop works with, found or not, with versions.
"""

import importlib.metadata
import importlib.util

import array_api_compat

from . import _malloc, get_backend, list_backends
from ._cupy import cuda_device_count
from ._dlpack import capsule_info

__all__ = ["library_versions", "backend_status", "peers", "PEERS", "DLPACK_REQUESTED"]

#: The DLPack version interop asks producers for (it accepts unversioned capsules too).
DLPACK_REQUESTED = (1, 0)

#: Import name -> what interop does with it.
PEERS = {
    "torch": "DLPack exchange, the test oracle, array_api_compat.torch as a backend",
    "jax": "DLPack exchange, jax.numpy as a namespace",
    "cupy": "the cuda backend",
    "cudf": "DLPack exchange with RAPIDS data frames",
    "onnx": "ONNX export",
    "onnxruntime": "running exported ONNX models",
    "tensorboard": "TensorBoard event files",
    "mpi4py": "distributed training over MPI",
    "safetensors": "reading checkpoints with the reference library",
    "sklearn": "the Digits data set",
    "matplotlib": "--plot in the examples and benchmarks",
    "tqdm": "progress bars in the examples",
}

_ARRAY_LIBS = {"numpy": "numpy", "array-api-compat": "array_api_compat",
               "array-api-strict": "array_api_strict", "cupy": "cupy"}


def _distributions():
    try:
        return importlib.metadata.packages_distributions()
    except Exception:       # a broken environment must still get its report
        return {}


def _version(module, dists):
    """The installed version of the package that provides ``module``, or None when the
    module is not importable (found by its spec, without importing it)."""
    try:
        if importlib.util.find_spec(module) is None:
            return None
    except (ImportError, ValueError):
        return None
    for dist in dists.get(module, ()) or (module,):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "unknown version"


def library_versions():
    """``{package name: version or None (not installed)}`` for the array libraries under the
    built-in backends."""
    dists = _distributions()
    return {name: _version(module, dists) for name, module in _ARRAY_LIBS.items()}


def peers():
    """``{import name: {"version": str or None, "use": what interop does with it}}``."""
    dists = _distributions()
    return {name: {"version": _version(name, dists), "use": use} for name, use in PEERS.items()}


def _dlpack_export(be):
    """The DLPack version the backend's library gives when asked for DLPACK_REQUESTED:
    "1.x" for a versioned capsule, "0.x (unversioned)" for a legacy one."""
    try:
        array = be.xp.zeros((1,), **be.device_kwargs)
        info = capsule_info(be.to_dlpack(array, max_version=DLPACK_REQUESTED))
    except Exception as e:
        return f"unknown ({type(e).__name__}: {e})"
    return "%d.%d" % info.version if info.versioned else "0.x (unversioned)"


def _array_api_version(be):
    """The version the backend's namespace declares (for a wrapped namespace, the one
    array-api-compat gives for its arrays)."""
    version = getattr(be.xp, "__array_api_version__", None)
    if version is None:
        try:
            xp = array_api_compat.array_namespace(be.xp.zeros((1,), **be.device_kwargs))
            version = getattr(xp, "__array_api_version__", None)
        except Exception:
            pass
    return version


def backend_status():
    """``{name: {...}}`` for every known backend; ``available`` says whether it could be made,
    and ``reason`` why not."""
    names = list(list_backends())
    for i in range(1, cuda_device_count()):
        if f"cuda:{i}" not in names:
            names.append(f"cuda:{i}")
    out = {}
    for name in names:
        try:
            be = get_backend(name)
        except Exception as e:
            out[name] = {"available": False, "reason": f"{type(e).__name__}: {e}"}
            continue
        out[name] = {
            "available": True,
            "library": be.library,
            "device": str(be.device),
            "native_device": None if be.native_device is None else str(be.native_device),
            "array_api_version": _array_api_version(be),
            "dlpack_export": _dlpack_export(be),
            "mutable": bool(be.mutable),
        }
        if be.library == "numpy":       # (the one process-wide effect: see _malloc.py)
            out[name]["malloc_tuned"] = _malloc.get_malloc_tuning()
    return out
