"""Host data for the I/O layers: tensor data as bytes and back (safetensors' layout: C order,
little-endian), into shared memory, and NumPy samples stacked into a batch. The layers above
(interop.io, interop.data) call these and never see an array library."""

import numpy as np

from .. import dtypes as _dt

__all__ = ["to_bytes", "from_bytes", "to_buffer", "stack_host"]


def _host_dtype(dtype):
    if dtype is _dt.bfloat16:
        raise TypeError("bfloat16 data cannot be turned into bytes here yet: NumPy, which reads "
                        "and writes the bytes, has no DLPack code for bfloat16 (cast to float32 "
                        "first)")
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


def to_buffer(x, dtype, buffer):
    """Writes the data of ``x`` (as for :func:`to_bytes`) into the writable ``buffer`` (a
    memoryview, e.g. of shared memory) without an intermediate copy; returns the byte count."""
    host = np.from_dlpack(x)
    nd = _host_dtype(dtype)
    dest = np.frombuffer(buffer, dtype=nd, count=host.size).reshape(host.shape)
    np.copyto(dest, host)
    return host.size * nd.itemsize


def stack_host(arrays):
    """Host (NumPy) arrays of one shape and dtype stacked along a new first axis: one host
    array that any backend's ``asarray`` takes in one go (a list of arrays is slow there)."""
    return np.stack(arrays)
