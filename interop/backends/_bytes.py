"""Host data for the I/O layers: tensor data as bytes and back (safetensors' layout: C order,
little-endian), into shared memory, and NumPy samples stacked into a batch. The layers above
(interop.io, interop.data) call these and never see an array library."""

import sys

import numpy as np

from .. import dtypes as _dt
from ._base import _take_capsule
from ._numpy import load_bfloat16, _bf16_capsule_to_array

__all__ = ["to_bytes", "from_bytes", "to_buffer", "stack_host", "host_array_info",
           "host_array_dtype"]


def _host_dtype(dtype):
    if dtype is _dt.bfloat16:
        bf = load_bfloat16()
        if bf is None:
            raise TypeError("bfloat16 data needs ml_dtypes to be read or written on the host: "
                            "pip install \"interop[bfloat16]\" (or cast to float32 first)")
        if sys.byteorder != "little":
            raise TypeError("bfloat16 data is stored little-endian; this host is big-endian")
        return bf
    return np.dtype(dtype.name).newbyteorder("<")


def host_array_info(obj):
    """``"array"`` for a NumPy array, ``"scalar"`` for a NumPy scalar (``np.float64(1.5)``),
    None for anything else: what ``interop.save`` stores as a host array."""
    if isinstance(obj, np.ndarray):
        return "array"
    if isinstance(obj, np.generic):
        return "scalar"
    return None


def host_array_dtype(a, where="array"):
    """The interop dtype of NumPy array (or scalar) ``a``; a TypeError naming ``where`` for
    dtypes interop has not (object, strings, datetimes, structured)."""
    try:
        return _dt.by_name(np.dtype(a.dtype).newbyteorder("=").name)
    except (TypeError, ValueError, KeyError):
        raise TypeError(f"save: the NumPy array at {where!r} has dtype {a.dtype}, which interop "
                        f"cannot store (numbers and booleans only)") from None


def _host(x, dtype):
    """A NumPy view of CPU data ``x`` (NumPy's DLPack importer has no bfloat16: that is
    viewed through the capsule)."""
    if dtype is _dt.bfloat16:
        _host_dtype(dtype)
        return _bf16_capsule_to_array(_take_capsule(x))[0]
    return np.from_dlpack(x)


def to_bytes(x, dtype):
    """The data of ``x`` (any CPU array or tensor that exports DLPack, or a NumPy array or
    scalar, of interop dtype ``dtype``) as bytes in C order, little-endian."""
    host = np.asarray(x) if isinstance(x, (np.ndarray, np.generic)) else _host(x, dtype)
    return np.ascontiguousarray(host, dtype=_host_dtype(dtype)).tobytes()


def from_bytes(data, dtype, shape):
    """A writable host (NumPy) array of interop dtype ``dtype`` and ``shape`` holding a copy
    of ``data`` (C order, little-endian); ``len(data)`` must be exactly its size."""
    nd = _host_dtype(dtype)
    n = 1
    for d in shape:
        n *= d
    if len(data) != n * nd.itemsize:
        raise ValueError(f"{len(data)} bytes cannot hold a {dtype.name} array of shape "
                         f"{tuple(shape)} ({n * nd.itemsize} bytes)")
    if dtype is _dt.bfloat16:
        return np.frombuffer(data, dtype=nd).copy().reshape(shape)
    return np.frombuffer(data, dtype=nd).astype(nd.newbyteorder("="), copy=True).reshape(shape)


def to_buffer(x, dtype, buffer):
    """Writes the data of ``x`` (as for :func:`to_bytes`) into the writable ``buffer`` (a
    memoryview, e.g. of shared memory) without an intermediate copy; returns the byte count."""
    host = _host(x, dtype)
    nd = _host_dtype(dtype)
    dest = np.frombuffer(buffer, dtype=nd, count=host.size).reshape(host.shape)
    np.copyto(dest, host)
    return host.size * nd.itemsize


def stack_host(arrays):
    """Host (NumPy) arrays of one shape and dtype stacked along a new first axis: one host
    array that any backend's ``asarray`` takes in one go (a list of arrays is slow there)."""
    return np.stack(arrays)
