"""``interop.linalg``: values against NumPy's and PyTorch's linalg, gradients with gradcheck
(and gradgradcheck) in float64 and complex128, batched shapes drawn by hypothesis, on every
backend. Functions whose gradient is not implemented must raise in backward, never give a
wrong (or zero) gradient.
"""

import numpy as np
import pytest
from hypothesis import given, settings, HealthCheck, strategies as st

import interop as it
from interop.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")
L = it.linalg
_HC = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def _well_conditioned(rng, batch, n, complex_=False):
    a = rng.standard_normal(batch + (n, n))
    if complex_:
        a = a + 1j * rng.standard_normal(batch + (n, n))
    return a + 2 * n * np.eye(n)


def _t(a, grad=True):
    return it.tensor(a, requires_grad=grad)


def _skip_complex(be):
    if it.complex128 not in be.to_native:
        pytest.skip(f"backend {be.name} has no complex128")


batches = st.sampled_from([(), (2,), (2, 1)])
sizes = st.integers(1, 3)
seeds = st.integers(0, 2 ** 16)


@settings(suppress_health_check=_HC, max_examples=8)
@given(batches, sizes, seeds, st.booleans())
def test_inv_det_slogdet_solve(be, batch, n, seed, cplx):
    if cplx:
        _skip_complex(be)
    rng = np.random.default_rng(seed)
    a = _well_conditioned(rng, batch, n, cplx)
    b = rng.standard_normal(batch + (n, 2))
    ta, tb = _t(a), _t(b)
    np.testing.assert_allclose(L.inv(ta).detach().numpy(), np.linalg.inv(a), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(L.det(ta).detach().numpy(), np.linalg.det(a), rtol=1e-10)
    sign, logabs = L.slogdet(ta)
    ws, wl = np.linalg.slogdet(a)
    np.testing.assert_allclose(sign.detach().numpy(), ws, rtol=1e-10)
    np.testing.assert_allclose(logabs.detach().numpy(), wl, rtol=1e-10)
    np.testing.assert_allclose(L.solve(ta, _t(b.astype(a.dtype))).detach().numpy(),
                               np.linalg.solve(a, b), rtol=1e-10, atol=1e-12)
    assert gradcheck(L.inv, (ta,))
    assert gradcheck(L.det, (ta,))
    assert gradcheck(lambda x: L.slogdet(x).logabsdet, (ta,))
    if not cplx:
        assert gradcheck(L.solve, (ta, tb))
        assert gradcheck(L.solve, (ta, _t(rng.standard_normal(n))))       # a vector
        assert gradgradcheck(L.inv, (ta,))


def test_solve_broadcasts_batches_and_matches_torch(be):
    rng = np.random.default_rng(1)
    a = _well_conditioned(rng, (2,), 3)
    b = rng.standard_normal((3, 4))
    ta, tb = _t(a), _t(b)
    x = L.solve(ta, tb)
    assert x.shape == (2, 3, 4)
    np.testing.assert_allclose(x.detach().numpy(), torch.linalg.solve(torch.tensor(a),
                                                                      torch.tensor(b)).numpy())
    assert gradcheck(L.solve, (ta, tb))
    with pytest.raises(ValueError, match="rows"):
        L.solve(ta, _t(rng.standard_normal((2, 4))))
    with pytest.raises(ValueError, match="square"):
        L.inv(_t(rng.standard_normal((2, 3))))
    with pytest.raises(TypeError, match="floating"):
        L.inv(it.tensor([[1, 2], [3, 4]]))


@settings(suppress_health_check=_HC, max_examples=8)
@given(batches, sizes, seeds)
def test_cholesky_and_eigh(be, batch, n, seed):
    rng = np.random.default_rng(seed)
    m = rng.standard_normal(batch + (n, n))
    spd = lambda x: x @ x.mT + 3 * it.eye(n, dtype=it.float64)           # noqa: E731
    sym = lambda x: x + x.mT                                             # noqa: E731
    tm = _t(m)
    ref = m @ np.swapaxes(m, -1, -2) + 3 * np.eye(n)
    np.testing.assert_allclose(L.cholesky(spd(tm)).detach().numpy(), np.linalg.cholesky(ref),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(L.cholesky(spd(tm), upper=True).detach().numpy(),
                               np.swapaxes(np.linalg.cholesky(ref), -1, -2), rtol=1e-10, atol=1e-12)
    w, v = L.eigh(sym(tm))
    ww, wv = np.linalg.eigh(m + np.swapaxes(m, -1, -2))
    np.testing.assert_allclose(w.detach().numpy(), ww, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.abs(v.detach().numpy()), np.abs(wv), rtol=1e-6, atol=1e-8)
    assert gradcheck(lambda x: L.cholesky(spd(x)), (tm,))
    assert gradcheck(lambda x: L.cholesky(spd(x), upper=True), (tm,))
    assert gradcheck(lambda x: L.eigvalsh(sym(x)), (tm,))
    # eigenvector signs are arbitrary: check a sign-invariant function of them
    assert gradcheck(lambda x: L.eigh(sym(x)).eigenvectors ** 2, (tm,))


@settings(suppress_health_check=_HC, max_examples=8)
@given(batches, sizes, sizes, seeds)
def test_svdvals_and_matrix_norms(be, batch, m, n, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(batch + (m, n))
    ta = _t(a)
    np.testing.assert_allclose(L.svdvals(ta).detach().numpy(), np.linalg.svd(a, compute_uv=False),
                               rtol=1e-10, atol=1e-12)
    u, s, vh = L.svd(ta, full_matrices=False)
    np.testing.assert_allclose((u * s.unsqueeze(-2) @ vh).detach().numpy(), a, rtol=1e-9,
                               atol=1e-12)
    assert gradcheck(L.svdvals, (ta,))
    for ord_ in ("fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf):
        got = L.matrix_norm(ta, ord=ord_)
        np.testing.assert_allclose(got.detach().numpy(), np.linalg.norm(a, ord=ord_, axis=(-2, -1)),
                                   rtol=1e-10, atol=1e-12)
        assert gradcheck(lambda x: L.matrix_norm(x, ord=ord_), (ta,))
    assert L.matrix_norm(ta, keepdims=True).shape == batch + (1, 1)


def test_complex_gradients(be):
    _skip_complex(be)
    rng = np.random.default_rng(3)
    z = _t(_well_conditioned(rng, (), 3, True))
    for f in (L.inv, L.det, lambda x: L.slogdet(x).logabsdet, L.svdvals,
              lambda x: L.matrix_norm(x, ord="nuc")):
        assert gradcheck(f, (z,))
    zt = torch.tensor(z.detach().numpy(), requires_grad=True)
    (torch.linalg.det(zt).abs()).backward()
    L.det(z).abs().backward()
    np.testing.assert_allclose(z.grad.numpy(), zt.grad.numpy(), rtol=1e-10)


def test_built_from_other_ops(be):
    rng = np.random.default_rng(4)
    a = _well_conditioned(rng, (2,), 3)
    ta = _t(a)
    for n in (0, 1, 3, -1, -2):
        np.testing.assert_allclose(L.matrix_power(ta, n).detach().numpy(),
                                   np.linalg.matrix_power(a, n), rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda x: L.matrix_power(x, 3), (ta,))
    assert gradcheck(lambda x: L.matrix_power(x, -2), (ta,))
    np.testing.assert_allclose(L.trace(ta, offset=1).detach().numpy(), np.trace(a, 1, -2, -1))
    np.testing.assert_allclose(L.diagonal(ta, offset=-1).detach().numpy(),
                               np.diagonal(a, -1, -2, -1))
    u, v = rng.standard_normal((4, 3)), rng.standard_normal(3)
    tu, tv = _t(u), _t(v)
    np.testing.assert_allclose(L.cross(tu, tv).detach().numpy(), np.cross(u, v))
    np.testing.assert_allclose(L.cross(_t(u.T), _t(u.T), axis=0).detach().numpy(), 0.0)
    assert gradcheck(lambda p, q: L.cross(p, q), (tu, tv))
    with pytest.raises(ValueError, match="size 3"):
        L.cross(_t(u[:, :2]), _t(v[:2]))
    for ord_ in (2, 1, np.inf, -np.inf, 0, 3.5):
        np.testing.assert_allclose(L.vector_norm(tu, axis=0, ord=ord_).detach().numpy(),
                                   np.linalg.norm(u, ord=ord_, axis=0), rtol=1e-10)
    assert int(L.matrix_rank(_t(np.outer(v, v), False))) == 1
    assert L.matrix_rank(_t(a, False)).dtype is it.int64
    for name in ("matmul", "matrix_transpose", "outer", "tensordot", "vecdot"):
        assert callable(getattr(L, name))


@pytest.mark.parametrize("shape", [(3, 3), (4, 3), (2, 3, 5)])
def test_svd_qr_pinv_gradients(be, shape):
    rng = np.random.default_rng(6)
    a = _t(rng.standard_normal(shape))
    svd = lambda x: L.svd(x, full_matrices=False)                      # noqa: E731
    # the signs of singular vectors are arbitrary: check sign-invariant functions of them
    assert gradcheck(lambda x: svd(x).U ** 2, (a,))
    assert gradcheck(lambda x: svd(x).Vh ** 2, (a,))
    assert gradcheck(lambda x: svd(x).U @ svd(x).Vh, (a,))
    assert gradcheck(L.pinv, (a,))
    np.testing.assert_allclose(L.pinv(a).detach().numpy(), np.linalg.pinv(a.detach().numpy()),
                               rtol=1e-9, atol=1e-12)
    if shape[-2] >= shape[-1]:
        assert gradcheck(lambda x: L.qr(x).Q, (a,))
        assert gradcheck(lambda x: L.qr(x).R, (a,))
        q, r = L.qr(a)
        np.testing.assert_allclose((q @ r).detach().numpy(), a.detach().numpy(), atol=1e-12)
    u, s, vh = L.svd(a, full_matrices=False)
    np.testing.assert_allclose((u * s.unsqueeze(-2) @ vh).detach().numpy(), a.detach().numpy(),
                               atol=1e-12)


def test_not_yet_differentiable_outputs_raise_in_backward(be):
    rng = np.random.default_rng(5)
    wide = _t(rng.standard_normal((2, 3)))
    q, r = L.qr(wide)
    outs = [q, r, L.svd(wide).U, L.eigvals(_t(rng.standard_normal((3, 3))))]
    if it.complex128 in be.to_native:
        z = _t(rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3)))
        outs += [L.svd(z).U, L.qr(z).Q, L.pinv(z)]
    for out in outs:
        with pytest.raises(RuntimeError, match="not implemented"):
            out.abs().sum().backward()
    s = L.svd(wide).S                                     # S is differentiable anyway
    s.sum().backward()
    assert wide.grad is not None
