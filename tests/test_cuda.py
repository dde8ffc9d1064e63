"""CUDA backend (CuPy): skipped cleanly where CuPy or a GPU is missing."""

import numpy as np
import pytest

import interop as it


def _cuda_or_skip():
    try:
        return it.get_backend("cuda:0")
    except it.backends.BackendUnavailable as e:
        pytest.skip(f"no CUDA backend here: {e}")


pytestmark = pytest.mark.gpu


def test_cuda_training_step_matches_cpu():
    _cuda_or_skip()
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((8, 5)).astype("float32")
    w0 = rng.standard_normal((5, 3)).astype("float32")
    grads = {}
    for name in ("cpu", "cuda:0"):
        with it.use_backend(name):
            x = it.tensor(x0.tolist())
            w = it.tensor(w0.tolist(), requires_grad=True)
            loss = (x @ w).tanh().log_softmax(1).sum()
            loss.backward()
            assert w.grad.device == ("cuda:0" if name != "cpu" else "cpu")
            grads[name] = np.array(w.grad.tolist())
    np.testing.assert_allclose(grads["cuda:0"], grads["cpu"], rtol=1e-5, atol=1e-6)


def test_cuda_kernels_agree_with_fallback():
    be = _cuda_or_skip()
    fallback = it.backends.Backend("cuda-fallback", be.xp, native_device=be.native_device,
                                   device="cuda:0")
    xp = be.xp
    x = xp.zeros((4, 3), dtype=xp.float32)
    idx = xp.asarray([0, 2, 2, 3])
    src = xp.ones((4, 3), dtype=xp.float32)
    np.testing.assert_allclose(be.to_host(be.index_add(x, 0, idx, src)),
                               be.to_host(fallback.index_add(x, 0, idx, src)))
    np.testing.assert_allclose(be.to_host(be.add_at(x, (idx,), src)),
                               be.to_host(fallback.add_at(x, (idx,), src)))


def test_cuda_rng_is_reproducible():
    _cuda_or_skip()
    with it.use_backend("cuda"):
        it.manual_seed(7)
        a = it.randn(5).tolist()
        it.manual_seed(7)
        b = it.randn(5).tolist()
    assert a == b
