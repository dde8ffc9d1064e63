"""The ``cuda:N`` backends: CuPy through array-api-compat, one backend per GPU."""

from ._base import Backend, BackendUnavailable, HostRNG
from ._kernels import windows_shape

_INSTALL = 'pip install "interop[cuda12]" (CUDA 12) or pip install "interop[cuda13]" (CUDA 13)'


def make_cupy_backend(name, index):
    try:
        import cupy
        import cupyx
        import array_api_compat.cupy as xp_cupy
    except ImportError as e:
        raise BackendUnavailable(
            f"backend {name!r} needs CuPy, which is not installed ({e}); install it with {_INSTALL}"
        ) from e
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # CUDA driver missing or broken
        raise BackendUnavailable(f"backend {name!r}: CuPy is installed but no CUDA GPU is usable "
                                 f"here ({type(e).__name__}: {e})") from e
    if index >= count:
        raise BackendUnavailable(f"backend {name!r}: GPU index {index} requested but this machine "
                                 f"has {count} CUDA device(s)")
    return CupyBackend(name, index, cupy, cupyx, xp_cupy)


class CupyBackend(Backend):
    library = "cupy"

    def __init__(self, name, index, cupy, cupyx, xp):
        self.cupy = cupy
        self.cupyx = cupyx
        self.index = index
        super().__init__(name, xp, device=f"cuda:{index}", native_device=cupy.cuda.Device(index))

    def to_host(self, array):
        return self.cupy.asnumpy(array)

    def from_host(self, host_array, dtype=None):
        with self.native_device:
            return self.cupy.asarray(host_array, dtype=None if dtype is None else dtype.name)

    # Native kernels: the table's semantics (interop/backends/_kernels.py), on arguments
    # Backend has already checked. CuPy's integer-array indexing and cupyx.scatter_add wrap
    # out-of-range indices around instead of raising, so add_at checks its key first (as
    # Backend's getitem does); and scatter_add takes only the dtypes CUDA's atomicAdd has
    # (float32, int32, ...): other dtypes (int64, bool, complex, ...) take the fallback.
    def native_kernels(self):
        return {"add_at": self._add_at, "index_add": self._index_add,
                "scatter_add": self._scatter_add, "windows": self._windows}

    def _windows(self, x, kernel, stride, dilation):
        # A strided view (no copy), as on NumPy; windows_add is the fallback's strided adds.
        shape = windows_shape(tuple(x.shape), kernel, stride, dilation)
        n = len(kernel)
        st = x.strides[x.ndim - n:]
        strides = (x.strides[:x.ndim - n] + tuple(t * d for t, d in zip(st, dilation))
                   + tuple(t * s for t, s in zip(st, stride)))
        return self.cupy.lib.stride_tricks.as_strided(x, shape, strides)

    def _scatter(self, x, key, values):
        """``x`` copied with ``values`` scatter-added at ``key``, or None where CuPy lacks an
        atomic add for the dtype."""
        out = x.copy()
        try:
            self.cupyx.scatter_add(out, key, values)
        except TypeError:
            return None
        return out

    def _add_at(self, x, key, values):
        self._key_in_bounds(x, key, "add_at")
        out = self._scatter(x, key, values)
        return self._fallback_add_at(x, key, values) if out is None else out

    def _index_add(self, x, dim, index, source):
        out = self._scatter(x, (slice(None),) * dim + (index,), source)
        return self._fallback_index_add(x, dim, index, source) if out is None else out

    def _scatter_add(self, x, dim, index, src):
        out = self._scatter(x, self._scatter_coords(dim, index), src)
        return self._fallback_scatter_add(x, dim, index, src) if out is None else out

    def make_rng(self, seed):
        return CupyRNG(self, seed)

    # Streams and synchronization (interop.cuda): CuPy's, on this backend's GPU.
    def synchronize(self):
        with self.native_device:
            self.cupy.cuda.runtime.deviceSynchronize()

    def new_stream(self, priority=0):
        with self.native_device:
            return self.cupy.cuda.Stream(non_blocking=False, priority=priority)

    def current_stream(self):
        with self.native_device:
            return self.cupy.cuda.get_current_stream()

    def use_device(self):
        self.native_device.use()

    def empty_cache(self):
        """Free the unused blocks of CuPy's default device and pinned memory pools."""
        with self.native_device:
            self.cupy.get_default_memory_pool().free_all_blocks()
            self.cupy.get_default_pinned_memory_pool().free_all_blocks()

    def memory_stats(self):
        """(bytes in use by arrays, bytes held by the pool) on this GPU."""
        with self.native_device:
            pool = self.cupy.get_default_memory_pool()
            return pool.used_bytes(), pool.total_bytes()


class CupyRNG(HostRNG):
    """Random numbers drawn on the GPU with CuPy's generator."""

    def __init__(self, backend, seed):
        self.backend = backend
        with backend.native_device:
            self.gen = backend.cupy.random.default_rng(seed)

    def random(self, shape, dtype):
        with self.backend.native_device:
            return self.gen.random(shape, dtype="float64").astype(dtype.name)

    def normal(self, shape, dtype, mean=0.0, std=1.0):
        with self.backend.native_device:
            return (self.gen.standard_normal(shape, dtype="float64") * std + mean).astype(dtype.name)

    def integers(self, low, high, shape, dtype):
        with self.backend.native_device:
            return self.gen.integers(low, high, size=shape, dtype="int64").astype(dtype.name)

    def permutation(self, n, dtype):
        with self.backend.native_device:
            return self.gen.permutation(n).astype(dtype.name)

    def get_state(self):
        raise NotImplementedError("saving the CuPy generator state is not supported yet")

    def set_state(self, state):
        raise NotImplementedError("restoring the CuPy generator state is not supported yet")


def cuda_device_count():
    """How many CUDA GPUs CuPy can use here (0 without CuPy, a driver or a GPU)."""
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount()
    except Exception:   # CuPy missing, or installed without a usable driver
        return 0
