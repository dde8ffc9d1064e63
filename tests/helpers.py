"""Test helpers: converting tensors to NumPy for comparisons (tests may use numpy)."""

import contextlib

import numpy as np
import pytest

import interop as it
from interop.backends import _jit


def to_np(t):
    """A NumPy copy of a tensor's data, whatever its backend."""
    return np.asarray(t.detach().tolist(), dtype=str(t.dtype).split(".")[-1]).reshape(tuple(t.shape))


def from_np(a, requires_grad=False, **kw):
    """An interop tensor on the current backend with the data and dtype of NumPy array ``a``."""
    return it.tensor(a.tolist() if a.ndim else a.item(), dtype=getattr(it, a.dtype.name),
                     requires_grad=requires_grad, **kw)


def assert_close(t, expected, rtol=1e-6, atol=1e-6):
    np.testing.assert_allclose(to_np(t), np.asarray(expected), rtol=rtol, atol=atol)


@contextlib.contextmanager
def jax_backend(name="jax-test"):
    """JAX's namespace (without x64) as the current backend: immutable arrays, and int32 as
    the only index dtype. Skips where JAX is not installed."""
    jnp = pytest.importorskip("jax.numpy")
    it.register_backend(name, jnp)
    try:
        with it.use_backend(name) as be:
            assert not be.mutable and be.default_int is it.int32, "JAX with x64 enabled"
            yield be
    finally:
        it.backends._FACTORIES.pop(name, None)
        it.backends._INSTANCES.pop(name, None)


def compiled_and_reference(fn):
    """``fn()`` with the cpu backend's compiled path on, then off (the standard-only
    reference): both results (the reference twice where numba is not installed)."""
    if not _jit.available():
        return fn(), fn()
    prev = _jit.set_enabled(True)
    try:
        on = fn()
        _jit.set_enabled(False)
        off = fn()
    finally:
        _jit.set_enabled(prev)
    return on, off
