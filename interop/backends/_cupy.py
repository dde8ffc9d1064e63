"""The ``cuda:N`` backends: CuPy through array-api-compat, one backend per GPU."""

from ._base import Backend, BackendUnavailable, HostRNG

_INSTALL = 'pip install "interop[cuda12]" (CUDA 12) or pip install "interop[cuda13]" (CUDA 13)'


def make_cupy_backend(name, index):
    try:
        import cupy
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
    return CupyBackend(name, index, cupy, xp_cupy)


class CupyBackend(Backend):
    library = "cupy"

    def __init__(self, name, index, cupy, xp):
        self.cupy = cupy
        self.index = index
        super().__init__(name, xp, device=f"cuda:{index}", native_device=cupy.cuda.Device(index))

    def to_host(self, array):
        return self.cupy.asnumpy(array)

    def from_host(self, host_array, dtype=None):
        with self.native_device:
            return self.cupy.asarray(host_array, dtype=None if dtype is None else dtype.name)

    def add_at(self, x, key, values):
        import cupyx
        out = x.copy()
        cupyx.scatter_add(out, key, values)
        return out

    def index_add(self, x, axis, index, src):
        import cupyx
        out = x.copy()
        cupyx.scatter_add(out, (slice(None),) * axis + (index,), src)
        return out

    def make_rng(self, seed):
        return CupyRNG(self, seed)


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
