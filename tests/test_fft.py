"""``interop.fft``: every transform against NumPy's (all three norms, cut and padded
lengths, batched axes) and PyTorch's, gradients with gradcheck and gradgradcheck on complex
and real inputs, on every backend."""

import numpy as np
import pytest
from hypothesis import given, settings, HealthCheck, strategies as st

import interop as it
from interop.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")
F = it.fft
_HC = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
NORMS = ["backward", "ortho", "forward"]


def _need_complex(be):
    if it.complex128 not in be.to_native:
        pytest.skip(f"backend {be.name} has no complex128")


def _close(got, want):
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-10, atol=1e-10)


@settings(suppress_health_check=_HC, max_examples=10)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple), st.sampled_from(NORMS),
       st.integers(1, 7), st.integers(0, 2 ** 16))
def test_transforms_match_numpy(be, shape, norm, n, seed):
    _need_complex(be)
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    c = a + 1j * rng.standard_normal(shape)
    x, z = it.tensor(a), it.tensor(c)
    _close(F.fft(z, norm=norm), np.fft.fft(c, norm=norm))
    _close(F.fft(z, n=n, axis=0, norm=norm), np.fft.fft(c, n=n, axis=0, norm=norm))
    _close(F.ifft(z, n=n, norm=norm), np.fft.ifft(c, n=n, norm=norm))
    _close(F.fftn(z, norm=norm), np.fft.fftn(c, norm=norm))
    _close(F.ifftn(z, norm=norm), np.fft.ifftn(c, norm=norm))
    _close(F.rfft(x, n=n, norm=norm), np.fft.rfft(a, n=n, norm=norm))
    _close(F.rfftn(x, norm=norm), np.fft.rfftn(a, norm=norm))
    _close(F.irfft(z, n=n, norm=norm), np.fft.irfft(c, n=n, norm=norm))
    _close(F.irfftn(z, s=shape[:-1] + (n,), norm=norm),
           np.fft.irfftn(c, s=shape[:-1] + (n,), axes=tuple(range(len(shape))), norm=norm))
    _close(F.hfft(z, n=n, norm=norm), np.fft.hfft(c, n=n, norm=norm))
    _close(F.ihfft(x, n=n, norm=norm), np.fft.ihfft(a, n=n, norm=norm))
    _close(F.fftshift(x), np.fft.fftshift(a))
    _close(F.ifftshift(x, axes=(0,)), np.fft.ifftshift(a, axes=(0,)))
    assert F.fft(it.tensor(a.astype(np.float32))).dtype is it.complex64


def test_frequencies_and_torch(be):
    for n, d in [(1, 1.0), (7, 0.5), (8, 2.0)]:
        _close(F.fftfreq(n, d=d, dtype=it.float64), np.fft.fftfreq(n, d))
        _close(F.rfftfreq(n, d=d, dtype=it.float64), np.fft.rfftfreq(n, d))
    assert F.fftfreq(4).dtype is it.float32
    with pytest.raises(ValueError, match="positive"):
        F.fftfreq(0)
    a = np.random.default_rng(0).standard_normal((3, 6))
    np.testing.assert_allclose(F.rfft(it.tensor(a)).numpy(), torch.fft.rfft(torch.tensor(a)).numpy(),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("norm", NORMS)
def test_gradients(be, norm):
    _need_complex(be)
    rng = np.random.default_rng(1)
    z = it.tensor(rng.standard_normal((2, 5)) + 1j * rng.standard_normal((2, 5)), requires_grad=True)
    x = it.tensor(rng.standard_normal((2, 5)), requires_grad=True)
    for f in (lambda t: F.fft(t, norm=norm), lambda t: F.fft(t, n=7, norm=norm),
              lambda t: F.ifft(t, n=3, axis=0, norm=norm), lambda t: F.fftn(t, s=(3, 4), norm=norm),
              lambda t: F.irfft(t, n=9, norm=norm), lambda t: F.hfft(t, norm=norm),
              lambda t: F.irfftn(t, norm=norm)):
        assert gradcheck(f, (z,))
    for f in (lambda t: F.rfft(t, norm=norm), lambda t: F.rfftn(t, s=(2, 4), norm=norm),
              lambda t: F.ihfft(t, norm=norm), lambda t: F.fft(t, norm=norm), F.fftshift):
        assert gradcheck(f, (x,))
    assert gradgradcheck(lambda t: F.fft(t, n=7, norm=norm).abs(), (z,))


def test_gradient_matches_torch(be):
    _need_complex(be)
    a = np.random.default_rng(2).standard_normal(6)
    x = it.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    w = np.arange(4) + 1.0
    (F.rfft(x).abs() * it.tensor(w)).sum().backward()
    (torch.fft.rfft(tx).abs() * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_errors(be):
    with pytest.raises(ValueError, match="norm"):
        F.fft(it.ones(3), norm="none")
    with pytest.raises(ValueError, match="0-d"):
        F.fft(it.tensor(1.0))
    with pytest.raises(TypeError, match="real floating"):
        F.rfft(it.ones(3, dtype=it.complex64) if it.complex64 in it.get_backend().to_native
               else it.tensor([1, 2]))
