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


# ------------------------------------------------------------------ DLPack and devices

def test_cupy_interop_torch_cuda_share_memory():
    be = _cuda_or_skip()
    import cupy
    c = cupy.arange(8, dtype=cupy.float32)
    t = it.from_dlpack(c)
    assert t.device == "cuda:0" and t.backend is be
    t.add_(1)                                            # a write through interop shows in CuPy
    assert float(c[0]) == 1.0
    back = cupy.from_dlpack(t)
    assert back.data.ptr == c.data.ptr
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch here has no CUDA")
    tt = torch.from_dlpack(t)
    assert tt.is_cuda and tt.data_ptr() == c.data.ptr
    u = it.from_dlpack(torch.ones(4, device="cuda"))
    assert u.device == "cuda:0" and float(u.sum()) == 4.0


def test_gpu_tensor_to_cpu_and_back_is_differentiable():
    _cuda_or_skip()
    x = it.arange(4.0, device="cuda:0", requires_grad=True)
    y = (x.cpu() * 2).cuda().sum()
    y.backward()
    assert x.grad.device == "cuda:0" and x.grad.tolist() == [2.0] * 4
    with pytest.raises(TypeError, match="cpu"):
        it.ones(2, device="cuda:0").numpy()
    with pytest.raises(BufferError, match="copy"):
        it.from_dlpack(it.ones(2, device="cuda:0"), device="cpu", copy=False)
    np.testing.assert_array_equal(it.from_dlpack(it.ones(2, device="cuda:0"), device="cpu").numpy(),
                                  [1.0, 1.0])


def test_cuda_module_and_streams():
    _cuda_or_skip()
    assert it.cuda.is_available() and it.cuda.device_count() >= 1
    assert it.cuda.current_device() == 0
    s = it.cuda.Stream()
    with it.cuda.stream(s):
        assert it.cuda.current_stream() == s
        x = it.ones(1 << 20, device="cuda")
        y = (x * 3).sum()
    s.synchronize()
    assert s.query() and float(y) == 3.0 * (1 << 20)
    it.cuda.synchronize()
    cap = it.ones(3, device="cuda").__dlpack__(stream=it.cuda.current_stream().cuda_stream)
    assert cap is not None
