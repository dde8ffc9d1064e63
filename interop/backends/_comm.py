"""Buffers for the communication engines of ``interop.distributed`` (MPI through mpi4py,
NCCL through CuPy), so that the layer above hands them backend arrays without ever seeing
an array library.

* :func:`host_buffer`: a C-contiguous NumPy array over a host array's own memory (through
  DLPack: no copy) that mpi4py takes through the buffer protocol; a copy only where the
  memory cannot be used as it is (a strided view, read-only memory to be written, a GPU).
* :class:`NcclCommunicator`: one ``cupy.cuda.nccl.NcclCommunicator`` with its own CUDA
  stream. Each operation is ordered after the work already queued on the caller's current
  stream, runs on the communicator's stream (so it overlaps later computation), and
  returns a CUDA event; :meth:`NcclCommunicator.wait` makes the current stream wait for it.
"""

import numpy as np

from ._base import BackendUnavailable

__all__ = ["host_buffer", "NcclCommunicator", "nccl_unique_id"]


def host_buffer(obj, writable, on_host=None):
    """``(host, shared)`` for ``obj`` (a CPU tensor or array that exports DLPack): ``host``
    is a C-contiguous NumPy array holding its data; ``shared`` says it *is* ``obj``'s
    memory, so what an engine writes there is in ``obj`` already. Otherwise ``host`` is a
    copy (of a strided view, of read-only memory that is to be written, or of GPU memory:
    ``on_host()`` then gives a CPU copy of ``obj``), to be written back by the caller."""
    try:
        view = np.from_dlpack(obj)
    except (BufferError, TypeError, RuntimeError, ValueError):
        if on_host is None:
            raise
        return np.ascontiguousarray(np.from_dlpack(on_host())), False
    if view.flags.c_contiguous and (view.flags.writeable or not writable):
        return view, True
    return np.array(view, order="C", copy=True), False


def empty_host(shape, like):
    """A new C-contiguous NumPy array of ``shape`` and the dtype of NumPy array ``like``."""
    return np.empty(shape, dtype=like.dtype)


def concat_host(arrays):
    """One C-contiguous NumPy array: the host arrays ``arrays`` flattened and concatenated."""
    return np.concatenate([a.reshape(-1) for a in arrays]) if arrays else np.empty(0)


# --------------------------------------------------------------------------------- NCCL

_NCCL_INSTALL = ('NCCL comes with CuPy: pip install "interop[cuda12]" (or "interop[cuda13]"); '
                 'it needs CUDA GPUs')


def _nccl():
    try:
        import cupy
        from cupy.cuda import nccl
    except ImportError as e:
        raise BackendUnavailable(f"the 'nccl' process group needs CuPy with NCCL, which is not "
                                 f"importable here ({e}); {_NCCL_INSTALL}") from e
    if not getattr(nccl, "available", True):
        raise BackendUnavailable("the 'nccl' process group: this CuPy was built without NCCL; "
                                 + _NCCL_INSTALL)
    return cupy, nccl


def nccl_unique_id():
    """A fresh NCCL unique id (to be sent to every rank), as bytes."""
    _, nccl = _nccl()
    uid = nccl.get_unique_id()
    return bytes(uid) if isinstance(uid, (bytes, bytearray)) else bytes(v % 256 for v in uid)


class NcclCommunicator:
    """Rank ``rank`` of ``world_size`` on GPU ``device_index``, joined through ``uid`` (the
    bytes of :func:`nccl_unique_id` on one rank)."""

    def __init__(self, world_size, uid, rank, device_index):
        cupy, nccl = self._cupy, self._nccl = _nccl()
        self.device = cupy.cuda.Device(device_index)
        with self.device:
            try:
                self.comm = nccl.NcclCommunicator(world_size, uid, rank)
            except TypeError:        # CuPy before 14 takes the id as a tuple of C chars
                self.comm = nccl.NcclCommunicator(
                    world_size, tuple(v - 256 if v > 127 else v for v in uid), rank)
            self.stream = cupy.cuda.Stream(non_blocking=True)
        self.types = {name: getattr(nccl, f"NCCL_{name.upper()}") for name in
                      ("int8", "uint8", "int32", "uint32", "int64", "uint64", "float16",
                       "float32", "float64") if hasattr(nccl, f"NCCL_{name.upper()}")}
        self.types["bool"] = nccl.NCCL_UINT8
        self.ops = {"sum": nccl.NCCL_SUM, "product": nccl.NCCL_PROD, "max": nccl.NCCL_MAX,
                    "min": nccl.NCCL_MIN}
        if hasattr(nccl, "NCCL_AVG"):
            self.ops["avg"] = nccl.NCCL_AVG

    def device_array(self, obj):
        """The CuPy array over ``obj``'s memory (a GPU tensor, through DLPack: no copy)."""
        return self._cupy.from_dlpack(obj)

    def contiguous(self, array):
        """``(array, shared)``: ``array`` itself when C-contiguous, else a contiguous copy."""
        if array.flags.c_contiguous:
            return array, True
        return self._cupy.ascontiguousarray(array), False

    def dtype_code(self, array, op_name):
        code = self.types.get(array.dtype.name)
        if code is None:
            raise TypeError(f"{op_name}: NCCL has no {array.dtype.name} type; it takes "
                            f"{', '.join(sorted(self.types))}")
        return code

    def _begin(self):
        # the data the operation reads is written by work on the caller's stream
        self.stream.wait_event(self._cupy.cuda.get_current_stream().record())
        return self.stream.ptr

    def run(self, name, arrays, *args):
        """Launch ``NcclCommunicator.<name>(*args)`` with the stream appended (``args`` hold
        device pointers of ``arrays``, which must stay alive until the returned event)."""
        with self.device:
            stream = self._begin()
            getattr(self.comm, name)(*args, stream)
            return self.stream.record()

    def group(self, calls):
        """Launch ``calls`` (``(name, args)`` pairs) as one NCCL group (send/recv pairs of a
        gather or scatter); returns the event after them."""
        with self.device:
            stream = self._begin()
            self._nccl.groupStart()
            try:
                for name, args in calls:
                    getattr(self.comm, name)(*args, stream)
            finally:
                self._nccl.groupEnd()
            return self.stream.record()

    def wait(self, event):
        """Make the caller's current stream wait for ``event`` (the host does not block)."""
        self._cupy.cuda.get_current_stream().wait_event(event)

    def done(self, event):
        return event.done

    def synchronize(self, event):
        event.synchronize()

    def pointer(self, array):
        return array.data.ptr

    def empty_like(self, array, shape):
        with self.device:
            return self._cupy.empty(shape, dtype=array.dtype)

    def concat(self, arrays):
        with self.device:
            return self._cupy.concatenate([a.reshape(-1) for a in arrays])

    def divide_(self, array, n):
        array /= n

    def destroy(self):
        self.comm.destroy()
