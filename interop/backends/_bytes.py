"""Tensor data as bytes and back, for serialization (safetensors' layout: C order,
little-endian). The only place interop turns array data into bytes; the I/O layer above
calls these two functions and never sees an array library."""

import numpy as np

from .. import dtypes as _dt

__all__ = ["to_bytes", "from_bytes"]


def _host_dtype(dtype):
    if dtype is _dt.bfloat16:
        raise TypeError("bfloat16 data cannot be turned into bytes here: NumPy, which reads "
                        "and writes the bytes, has no bfloat16 (cast to float32 first)")
    return np.dtype(dtype.name).newbyteorder("<")


def to_bytes(x, dtype):
    """The data of ``x`` (any CPU array or tensor that exports DLPack, of interop dtype
    ``dtype``) as bytes in C order, little-endian."""
    host = np.from_dlpack(x)
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
    return np.frombuffer(data, dtype=nd).astype(nd.newbyteorder("="), copy=True).reshape(shape)
