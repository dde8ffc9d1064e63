"""The ``cpu`` backend: NumPy through array-api-compat, with native kernels."""

import numpy as np
import array_api_compat.numpy as xp_numpy

from ._base import Backend


class NumpyBackend(Backend):
    library = "numpy"

    def __init__(self):
        super().__init__("cpu", xp_numpy, device="cpu")

    def _build_dtype_tables(self):
        super()._build_dtype_tables()
        for d in list(self.to_native):
            self.from_native[np.dtype(d.name)] = d
        self._native_sets()

    def to_host(self, array):
        return np.asarray(array)

    def from_host(self, host_array, dtype=None):
        return np.asarray(host_array, dtype=None if dtype is None else dtype.name)

    # Native kernels: same results as the standard fallbacks in Backend.
    def sum_to(self, g, shape):
        shape = tuple(shape)
        if g.shape == shape:
            return g
        lead = g.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape)
                                          if n == 1 and g.shape[i + lead] != 1)
        return g.sum(axis=axes, keepdims=True).reshape(shape) if axes else g.reshape(shape)

    def add_at(self, x, key, values):
        out = np.array(x, copy=True)
        np.add.at(out, key, values)
        return out

    def index_add(self, x, axis, index, src):
        out = np.array(x, copy=True)
        key = (slice(None),) * axis + (index,)
        np.add.at(out, key, src)
        return out

    def ascontiguous(self, array):
        return np.ascontiguousarray(array)

    def make_rng(self, seed):
        return NumpyRNG(seed)

    def writable(self, array):
        # NumPy gives 0-d results as immutable scalars (np.float32); writes need an array.
        return array if array.__class__ is np.ndarray else np.asarray(array)


class NumpyRNG:
    """PCG64 on the host; arrays come out directly in the requested dtype."""

    def __init__(self, seed):
        self.gen = np.random.Generator(np.random.PCG64(seed))

    # np.asarray: 0-d draws come back from NumPy as scalars; tensors hold arrays.
    def random(self, shape, dtype):
        return np.asarray(self.gen.random(shape, dtype="float64").astype(dtype.name))

    def normal(self, shape, dtype, mean=0.0, std=1.0):
        return np.asarray((self.gen.standard_normal(shape, dtype="float64") * std + mean)
                          .astype(dtype.name))

    def integers(self, low, high, shape, dtype):
        return np.asarray(self.gen.integers(low, high, size=shape, dtype="int64").astype(dtype.name))

    def permutation(self, n, dtype):
        return self.gen.permutation(n).astype(dtype.name)

    def get_state(self):
        return self.gen.bit_generator.state

    def set_state(self, state):
        self.gen.bit_generator.state = state


def make_numpy_backend():
    return NumpyBackend()
