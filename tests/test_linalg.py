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


def _herm(ns, z):
    return (z + ns.conj(ns.matrix_transpose(z))) / 2 if z.dtype.is_complex else \
        (z + ns.matrix_transpose(z)) / 2


def _herm_t(z):
    return (z + z.mH) / 2


def _abs2(*ts):
    return tuple(abs(t) ** 2 for t in ts)


# name -> (interop function, torch function, shapes); each function returns what the loss
# reads: quantities free of the signs (phases) of eigen and singular vectors
_DECOMPOSITIONS = {
    "eigh": (lambda x: (lambda w, v: (w, *_abs2(v)))(*L.eigh(_herm(it, x))),
             lambda x: (lambda w, v: (w, *_abs2(v)))(*torch.linalg.eigh(_herm_t(x))),
             [(3, 3), (2, 2, 2)]),
    "eig": (lambda x: (lambda w, v: (w, *_abs2(v)))(*L.eig(x)),
            lambda x: (lambda w, v: (w, *_abs2(v)))(*torch.linalg.eig(x)), [(3, 3), (2, 2, 2)]),
    "eigvals": (L.eigvals, torch.linalg.eigvals, [(3, 3)]),
    "svd": (lambda x: (lambda u, s, vh: (s, *_abs2(u, vh), u @ vh))(*L.svd(x, full_matrices=False)),
            lambda x: (lambda u, s, vh: (s, *_abs2(u, vh), u @ vh))(
                *torch.linalg.svd(x, full_matrices=False)), [(3, 3), (4, 2), (2, 4), (2, 3, 2)]),
    "svd, full_matrices, leading columns": (
        lambda x: (lambda u, s, vh: (*_abs2(u[..., :2], vh[..., :2, :]),))(*L.svd(x)),
        lambda x: (lambda u, s, vh: (*_abs2(u[..., :2], vh[..., :2, :]),))(*torch.linalg.svd(x)),
        [(4, 2), (2, 4)]),
    "qr": (L.qr, torch.linalg.qr, [(3, 3), (4, 2), (2, 4), (2, 2, 3)]),
    "qr, complete": (lambda x: tuple(L.qr(x, mode="complete")),
                     lambda x: tuple(torch.linalg.qr(x, mode="complete")), [(3, 3), (2, 4)]),
    "pinv": (L.pinv, torch.linalg.pinv, [(3, 3), (4, 2), (2, 4)]),
    "slogdet": (lambda x: tuple(L.slogdet(x)) if x.dtype.is_complex else L.slogdet(x)[1],
                lambda x: tuple(torch.linalg.slogdet(x)) if x.is_complex() else
                torch.linalg.slogdet(x)[1], [(3, 3), (2, 2, 2)]),
}


def _loss(outs, rng, ns):
    """A random real linear functional of every output (all parts of complex ones)."""
    outs = outs if isinstance(outs, tuple) else (outs,)
    total = 0
    for o in outs:
        w = rng.standard_normal(tuple(o.shape)) + (1j * rng.standard_normal(tuple(o.shape))
                                                  if o.dtype.is_complex else 0)
        wt = ns.asarray(w) if ns is torch else it.asarray(w, dtype=o.dtype)
        total = total + (ns.real(ns.conj(wt) * o) if o.dtype.is_complex else wt * o).sum()
    return total


@pytest.mark.parametrize("cplx", [False, True], ids=["real", "complex"])
@pytest.mark.parametrize("name", sorted(_DECOMPOSITIONS))
def test_decomposition_gradients_match_torch(be, name, cplx):
    """Every output of eig, eigh, svd, qr, slogdet and pinv, real and complex, tall, square
    and wide: gradcheck, and the gradient equal to PyTorch's for a random loss."""
    if cplx:
        _skip_complex(be)
    fn, tfn, shapes = _DECOMPOSITIONS[name]
    for shape in shapes:
        rng = np.random.default_rng(sum(shape))
        a = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if cplx else 0)
        x = _t(a)
        assert gradcheck(fn, (x,))
        _loss(fn(x), np.random.default_rng(1), it).backward()
        xt = torch.tensor(a, requires_grad=True)
        _loss(tfn(xt), np.random.default_rng(1), torch).backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-11,
                                   err_msg=f"{name} {shape}")


@pytest.mark.parametrize("name", ["eigh", "eig", "svd", "qr", "pinv", "slogdet"])
def test_decomposition_second_derivatives(be, name):
    """Second derivatives of the complex decompositions: the outputs are saved and wired to
    their node, so backward-of-backward sees one factorization (two would each see a loss
    that depends on phases only their sum cancels)."""
    _skip_complex(be)
    fn, _, shapes = _DECOMPOSITIONS[name]
    rng = np.random.default_rng(8)
    a = rng.standard_normal(shapes[0]) + 1j * rng.standard_normal(shapes[0])
    assert gradgradcheck(fn, (_t(a),))


def test_phase_dependent_losses_raise(be):
    """Complex eigen/singular vectors are defined up to a phase each: a loss that depends
    on it has no gradient, and backward says so (PyTorch's check) instead of picking one."""
    _skip_complex(be)
    rng = np.random.default_rng(5)
    z = _t(rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3)))
    for out in (L.eigh(_herm(it, z)).eigenvectors, L.eig(z).eigenvectors,
                L.svd(z, full_matrices=False).U, L.svd(z, full_matrices=False).Vh):
        with pytest.raises(RuntimeError, match="phase"):
            (it.real(out) + it.imag(out)).sum().backward()
    # U and Vh together: U[:, i] Vh[i, :] is phase-free
    u, s, vh = L.svd(z, full_matrices=False)
    it.real(u[:, :1] @ vh[:1, :]).sum().backward()
    assert z.grad is not None


def test_extra_columns_of_full_factorizations_raise(be):
    """The extra columns of svd(full_matrices=True) / qr(mode="complete") of a non-square
    matrix are an arbitrary basis: a loss that reads them raises; one that reads only the
    leading columns is differentiated (as PyTorch's)."""
    rng = np.random.default_rng(5)
    x = _t(rng.standard_normal((4, 2)))
    for out in (L.svd(x).U, L.svd(_t(rng.standard_normal((2, 4)))).Vh,
                L.qr(x, mode="complete").Q):
        with pytest.raises(RuntimeError, match="extra columns"):
            (out ** 2).sum().backward()
    (L.qr(x, mode="complete").Q[:, :2] ** 2).sum().backward()
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    (torch.linalg.qr(xt).Q ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_pinv_gradient_at_constant_rank_matches_torch(be):
    """pinv of a rank-deficient matrix: PyTorch's derivative at constant rank (finite
    differences cross the rank jump there, so no gradcheck)."""
    rng = np.random.default_rng(2)
    for cplx in ([False, True] if it.complex128 in be.to_native else [False]):
        a = rng.standard_normal((4, 2)) @ rng.standard_normal((2, 3))
        if cplx:
            a = a + 1j * (rng.standard_normal((4, 2)) @ rng.standard_normal((2, 3)))
        x, xt = _t(a), torch.tensor(a, requires_grad=True)
        _loss(L.pinv(x), np.random.default_rng(1), it).backward()
        _loss(torch.linalg.pinv(xt), np.random.default_rng(1), torch).backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-11)
