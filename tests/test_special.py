"""Special functions (erf, erfc, erfcx, erfinv, ndtr, log_ndtr, ndtri, logit, xlogy) against
PyTorch: values in float32 and float64 at the edges (0, -0, +-inf, NaN, +-1 for the
inverses, subnormals, the underflow and saturation points, the joins of the pieces),
gradients (first and second order) by finite differences and against PyTorch, the Tensor
methods and in-place forms; Normal.cdf/icdf against torch.distributions; and
set_num_threads/get_num_threads against threadpoolctl's view of the pools."""

import functools
import math

import numpy as np
import pytest

import interop as it
from helpers import from_np, to_np

torch = pytest.importorskip("torch")
threadpoolctl = pytest.importorskip("threadpoolctl")

INF, NAN = math.inf, math.nan
EDGE = [0.0, -0.0, INF, -INF, NAN, 5e-324, -5e-324, 1e-310, 1e-300, -1e-20, 1e-8, 0.4999,
        0.5, -0.5, 0.5001, 2.4999, 2.5, -2.5, 2.5001, 1.0, -1.0, 3.7, -5.9, 6.0, 10.0,
        -10.0, 26.5, 27.0, 27.3, 28.0, -30.0, 40.0, 1e10, -1e300]
UNIT = [0.0, -0.0, 1.0, -1.0, 1.0000001, -1.5, INF, -INF, NAN, 5e-324, 1e-300, 1e-8,
        0.25, 0.4999, 0.5, -0.5, 0.5001, 0.9, -0.99, 0.999999, 1 - 2 ** -52, -(1 - 2 ** -53),
        0.7, -0.3]
PROB = [0.0, 1.0, 0.5, -0.1, 1.1, NAN, INF, 5e-324, 1e-300, 1e-20, 1e-5, 0.02, 0.25,
        0.2499, 0.75, 0.9, 0.98, 1 - 1e-9, 1 - 2 ** -53]

# name, interop function, torch function, edge values
FUNCS = [
    ("erf", lambda x: it.erf(x), torch.erf, EDGE),
    ("erfc", lambda x: it.erfc(x), torch.erfc, EDGE),
    ("erfcx", lambda x: it.special.erfcx(x), torch.special.erfcx, EDGE),
    ("erfinv", lambda x: it.erfinv(x), torch.erfinv, UNIT),
    ("ndtr", lambda x: it.special.ndtr(x), torch.special.ndtr, EDGE),
    ("log_ndtr", lambda x: it.special.log_ndtr(x), torch.special.log_ndtr, EDGE),
    ("ndtri", lambda x: it.special.ndtri(x), torch.special.ndtri, PROB),
]
# The tolerance against PyTorch, in units of the dtype's eps, and where PyTorch is compared:
# erf, erfc, erfinv and ndtri are a few ulps from the truth in both; PyTorch's erfcx (up to
# ~180 float64 ulps off; its float32 erfcx of a negative argument ~16 ulps), ndtr (its left
# tail goes through 1 + erf: 1e-9 relative at x = -6, 0 below -8.3 where the true value is
# ~1e-17 and smaller) and log_ndtr (~500 ulps in the far left tail) are compared more loosely, and all seven against the exact
# values (mpmath) in test_values_are_a_few_ulps_from_the_truth.
TORCH_RTOL = {"erf": (6, 3), "erfc": (6, 3), "erfinv": (6, 3), "ndtri": (6, 3),
              "erfcx": (400, 64), "ndtr": (2e3, 1e3), "log_ndtr": (1e3, 64)}
TORCH_FROM = {"ndtr": -3.0}      # (PyTorch's ndtr loses digits below, 0 below ~-8.3)


def _random(name, n, rng):
    if name == "erfinv":
        return np.concatenate([rng.uniform(-1, 1, n), 1 - np.geomspace(1e-15, 0.5, n // 4)])
    if name == "ndtri":
        return np.concatenate([rng.uniform(0, 1, n), np.geomspace(1e-290, 0.5, n // 4)])
    return np.concatenate([rng.normal(0, 3, n), rng.uniform(-0.6, 0.6, n // 4),
                           np.geomspace(1e-8, 26, n // 4)])


def _points(name, edge, dtype, n=400):
    rng = np.random.default_rng(len(name))
    with np.errstate(over="ignore"):
        return np.concatenate([np.asarray(edge), _random(name, n, rng)]).astype(dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,f,tf,edge", FUNCS, ids=[r[0] for r in FUNCS])
def test_values_match_pytorch(be, name, f, tf, edge, dtype):
    a = _points(name, edge, dtype)
    got = to_np(f(from_np(a)))
    want = tf(torch.from_numpy(a)).numpy()
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    num = ~np.isnan(want)                 # (a NaN's sign bit means nothing)
    np.testing.assert_array_equal(np.signbit(got[num]), np.signbit(want[num]))   # -0.0 too
    eps = np.finfo(dtype).eps
    rtol = TORCH_RTOL[name][0 if dtype == "float64" else 1] * eps
    tiny = np.finfo(dtype).tiny
    keep = ~(a < TORCH_FROM.get(name, -np.inf))
    np.testing.assert_allclose(got[keep], want[keep], rtol=rtol, atol=tiny * 1e3 if
                               dtype == "float64" else tiny, equal_nan=True, err_msg=name)


_EXACT = {"erf": lambda mp, x: mp.erf(x), "erfc": lambda mp, x: mp.erfc(x),
          "erfcx": lambda mp, x: mp.exp(x * x) * mp.erfc(x),
          "erfinv": lambda mp, x: mp.erfinv(x), "ndtr": lambda mp, x: mp.ncdf(x),
          "log_ndtr": lambda mp, x: mp.log(mp.ncdf(x)) if x < 0 else mp.log1p(-mp.ncdf(-x))}


@functools.lru_cache(maxsize=None)
def _exact(name, x):
    """The value at float x to 40 digits (mpmath), rounded to float64."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    if math.isnan(x):
        return math.nan
    if name == "erfinv" and abs(x) >= 1:
        return math.copysign(math.inf, x) if abs(x) == 1 else math.nan
    if name == "ndtri":
        if not 0 < x < 1:
            return {0.0: -math.inf, 1.0: math.inf}.get(x, math.nan)
        start = -mp.sqrt(-2 * mp.log(x)) if x < 0.01 else mp.sqrt(2) * mp.erfinv(2 * mp.mpf(x) - 1)
        return float(mp.findroot(lambda t: mp.log(mp.ncdf(t)) - mp.log(mp.mpf(x)), start))
    if name in ("ndtr", "log_ndtr") and abs(x) > 1e6:     # (beyond mpmath's exponent range)
        return {("ndtr", True): 0.0, ("ndtr", False): 1.0, ("log_ndtr", True): -math.inf,
                ("log_ndtr", False): -0.0}[name, x < 0]
    if math.isinf(x):
        return float(getattr(torch.special, name)(torch.tensor(x, dtype=torch.float64)))
    return float(_EXACT[name](mp, mp.mpf(x)))


# the most float64 ulps interop may be off the exact value (float32: half an ulp and the
# double rounding, so 1)
EXACT_ULPS = {"erf": 3, "erfc": 5, "erfcx": 4, "erfinv": 4, "ndtr": 4, "log_ndtr": 8, "ndtri": 4}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,f,tf,edge", FUNCS, ids=[r[0] for r in FUNCS])
def test_values_are_a_few_ulps_from_the_truth(standard_be, name, f, tf, edge, dtype):
    a = _points(name, edge, dtype, n=150)
    got = to_np(f(from_np(a))).astype(np.float64)
    ref = np.array([_exact(name, float(v)) for v in a])
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    with np.errstate(over="ignore"):        # (exact values beyond float32's range: inf)
        r = ref.astype(dtype)
    normal = np.isfinite(r) & (np.abs(r) >= np.finfo(dtype).tiny)
    ulps = np.abs(got[normal] - ref[normal]) / np.spacing(np.abs(r[normal])).astype(np.float64)
    assert ulps.max() <= (EXACT_ULPS[name] if dtype == "float64" else 1), \
        (name, float(ulps.max()), a[normal][np.argmax(ulps)])
    np.testing.assert_array_equal(got[~normal], r[~normal].astype(np.float64))   # inf, 0, subnormal


def test_edges_are_exact(be):
    x = it.tensor([0.0, -0.0, INF, -INF, NAN, 40.0, -40.0], dtype=it.float64)
    assert to_np(it.erf(x)).tolist()[:4] == [0.0, 0.0, 1.0, -1.0]
    assert np.signbit(to_np(it.erf(x))[1]) and not np.signbit(to_np(it.erf(x))[0])
    assert to_np(it.erfc(x)).tolist()[2:4] == [0.0, 2.0]
    assert to_np(it.erfc(x))[5:].tolist() == [0.0, 2.0]
    u = to_np(it.erfinv(it.tensor([1.0, -1.0, 1.5, -1.0000001, 0.0, -0.0])))
    assert u[:2].tolist() == [INF, -INF] and np.isnan(u[2:4]).all()
    assert np.signbit(u[5]) and not np.signbit(u[4])
    assert to_np(it.special.ndtri(it.tensor([0.0, 1.0, 0.5]))).tolist() == [-INF, INF, 0.0]
    # erf inverts erfinv to the last bits, also next to +-1
    p = it.tensor([1 - 2 ** -52, 0.3, 1e-300, -(1 - 2 ** -53)], dtype=it.float64)
    np.testing.assert_allclose(to_np(it.erf(it.erfinv(p))), to_np(p), rtol=4e-16, atol=0)


def test_dtypes_follow_pytorch(be):
    for dt in ("int64", "bool", "float16", "float32", "float64"):
        if dt == "float16" and it.float16 not in be.to_native:
            continue
        a = np.array([0, 1, 1], dtype=dt)
        for name, f, tf, _ in FUNCS:
            try:
                want = tf(torch.from_numpy(a))
            except NotImplementedError:     # PyTorch has no CPU float16 erfcx, ndtri...
                assert f(from_np(a)).dtype.name == dt
                continue
            got = f(from_np(a))
            assert got.dtype.name == str(want.dtype).split(".")[-1], (name, dt)
            np.testing.assert_allclose(to_np(got).astype(float), want.double().numpy(),
                                       rtol=1e-3, err_msg=f"{name} {dt}")
    z = it.tensor([1 + 1j])
    for name, f, tf, _ in FUNCS:
        with pytest.raises(it.DTypeError, match=f"{name}: not supported for complex"):
            f(z)
    with pytest.raises(TypeError, match="erf: expected a Tensor, got float"):
        it.erf(0.5)


# (function, domain of its gradient checks)
GRAD = [("erf", it.erf, (-3, 3)), ("erfc", it.erfc, (-3, 3)),
        ("erfcx", lambda x: it.special.erfcx(x), (-2, 4)),
        ("erfinv", it.erfinv, (-0.95, 0.95)), ("ndtr", lambda x: it.special.ndtr(x), (-4, 4)),
        ("log_ndtr", lambda x: it.special.log_ndtr(x), (-8, 4)),
        ("ndtri", lambda x: it.special.ndtri(x), (0.02, 0.98)),
        ("logit", it.logit, (0.05, 0.95)),
        ("logit[eps]", lambda x: it.logit(x, eps=0.2), (0.05, 0.95)),
        ("expit", lambda x: it.special.expit(x), (-4, 4))]


@pytest.mark.parametrize("name,f,dom", GRAD, ids=[g[0] for g in GRAD])
def test_gradcheck_and_gradgradcheck(be, name, f, dom):
    rng = np.random.default_rng(1)
    a = rng.uniform(*dom, 7)
    if name == "logit[eps]":
        a = np.array([0.1, 0.15, 0.3, 0.5, 0.7, 0.85, 0.9])   # both sides of eps, off the kinks
    x = from_np(a, requires_grad=True)
    assert it.autograd.gradcheck(f, (x,), eps=1e-6, atol=1e-6, rtol=1e-4)
    assert it.autograd.gradgradcheck(f, (x,), eps=1e-6, atol=1e-6, rtol=1e-4)


TORCH_GRAD = {"erf": torch.erf, "erfc": torch.erfc, "erfcx": torch.special.erfcx,
              "erfinv": torch.erfinv, "ndtr": torch.special.ndtr,
              "log_ndtr": torch.special.log_ndtr, "ndtri": torch.special.ndtri,
              "logit": torch.logit, "logit[eps]": lambda t: torch.logit(t, eps=0.2),
              "expit": torch.special.expit}


@pytest.mark.parametrize("name,f,dom", GRAD, ids=[g[0] for g in GRAD])
def test_first_and_second_derivatives_match_pytorch(be, name, f, dom):
    a = np.linspace(*dom, 9)
    if name == "log_ndtr":
        a = np.concatenate([a, [-30.0, -12.0, 7.0]])
    x = from_np(a, requires_grad=True)
    t = torch.from_numpy(a).requires_grad_(True)
    g, = it.autograd.grad(f(x).sum(), x, create_graph=True)
    gg, = it.autograd.grad(g.sum(), x)
    tg, = torch.autograd.grad(TORCH_GRAD[name](t).sum(), t, create_graph=True)
    tgg, = torch.autograd.grad(tg.sum(), t)
    # (log_ndtr's second derivative at -30: interop's is 1e-11 from the exact value,
    # PyTorch's 6e-11)
    rtol = 1e-10 if name == "log_ndtr" else 1e-12
    np.testing.assert_allclose(to_np(g), tg.detach().numpy(), rtol=rtol, atol=1e-300)
    tgg = tgg.numpy()
    np.testing.assert_allclose(to_np(gg), tgg, rtol=rtol * 10, atol=1e-13 * np.abs(tgg).max())


def test_gradients_at_the_edges_match_pytorch(be):
    a = np.array([1.0, -1.0, 0.0, -0.0, 0.999])
    x, t = from_np(a, requires_grad=True), torch.from_numpy(a).requires_grad_(True)
    it.erfinv(x).sum().backward()
    torch.erfinv(t).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), t.grad.numpy(), rtol=1e-13)   # inf at +-1
    b = np.array([INF, -INF, 0.0, 30.0])
    x, t = from_np(b, requires_grad=True), torch.from_numpy(b).requires_grad_(True)
    (it.erf(x) + it.erfc(x)).sum().backward()
    (torch.erf(t) + torch.erfc(t)).sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), t.grad.numpy())


XLOGY = [(np.array([0.0, 0.0, 0.0, 1.5, -2.0, 3.0, 0.0]), np.array([0.0, NAN, 2.0, 0.5, 3.0, 0.0, INF])),
         (np.array([[0.5], [0.0]]), np.array([1.5, 2.0, 0.25]))]


@pytest.mark.parametrize("k", range(len(XLOGY)))
def test_xlogy_matches_pytorch(be, k):
    xa, ya = XLOGY[k]
    got = to_np(it.xlogy(from_np(xa), from_np(ya)))
    np.testing.assert_allclose(got, torch.xlogy(torch.from_numpy(xa), torch.from_numpy(ya)).numpy(),
                               rtol=1e-15, equal_nan=True)
    np.testing.assert_allclose(to_np(it.xlogy(from_np(xa), 2.0)),
                               torch.xlogy(torch.from_numpy(xa), 2.0).numpy(), rtol=1e-15)
    np.testing.assert_allclose(to_np(it.xlogy(0.0, from_np(ya))),
                               torch.xlogy(0.0, torch.from_numpy(ya)).numpy(), rtol=1e-15,
                               equal_nan=True)
    # gradients where y > 0 (PyTorch's own gradient is NaN at x = y = 0)
    keep = ya > 0 if ya.shape == xa.shape else slice(None)
    xa2, ya2 = (xa[keep], ya[keep]) if ya.shape == xa.shape else (xa, ya)
    ya2 = np.where(np.isfinite(ya2), ya2, 1.0)
    x, y = from_np(xa2, requires_grad=True), from_np(ya2, requires_grad=True)
    tx, ty = (torch.from_numpy(v).requires_grad_(True) for v in (xa2, ya2))
    it.xlogy(x, y).sum().backward()
    torch.xlogy(tx, ty).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), tx.grad.numpy(), rtol=1e-14)
    np.testing.assert_allclose(to_np(y.grad), ty.grad.numpy(), rtol=1e-14)
    assert it.autograd.gradcheck(it.xlogy, (from_np(xa2 + 0.25, requires_grad=True),
                                            from_np(ya2, requires_grad=True)))


def test_xlogy_at_zero_has_a_finite_gradient(be):
    # 0 * log(0): the value is 0 and so is d/dx (xlogy(x != 0, y) as PyTorch), not NaN
    x = it.tensor([0.0, 1.0], dtype=it.float64, requires_grad=True)
    it.xlogy(x, it.tensor([0.0, 2.0], dtype=it.float64)).sum().backward()
    assert to_np(x.grad).tolist() == [0.0, math.log(2.0)]


def test_tensor_methods_and_in_place_forms(be):
    a = np.array([-0.7, 0.0, 0.3, 0.9])
    t = torch.from_numpy(a)
    for m in ("erf", "erfc", "erfinv"):
        np.testing.assert_allclose(to_np(getattr(from_np(a), m)()), getattr(t, m)().numpy(),
                                   rtol=1e-15)
        x = from_np(a)
        assert getattr(x, m + "_")() is x
        np.testing.assert_allclose(to_np(x), getattr(t.clone(), m + "_")().numpy(), rtol=1e-15)
    p = np.array([0.1, 0.5, 0.95])
    np.testing.assert_allclose(to_np(from_np(p).logit(0.2)),
                               torch.from_numpy(p).logit(0.2).numpy(), rtol=1e-15)
    x = from_np(p)
    x.logit_()
    np.testing.assert_allclose(to_np(x), torch.from_numpy(p).logit().numpy(), rtol=1e-15)
    x = from_np(p)
    x.xlogy_(2.0)
    np.testing.assert_allclose(to_np(x), torch.from_numpy(p).xlogy(2.0).numpy(), rtol=1e-15)
    # in place inside a graph: the gradient goes through the recorded op
    w = from_np(a, requires_grad=True)
    y = w * 1.0
    y.erf_()
    y.sum().backward()
    np.testing.assert_allclose(to_np(w.grad), 2 / math.sqrt(math.pi) * np.exp(-a * a),
                               rtol=1e-15)
    with pytest.raises(RuntimeError, match="erfinv_"):
        from_np(a, requires_grad=True).erfinv_()       # a leaf that requires grad
    with pytest.raises(RuntimeError, match="erf_: result type .*float32 can't be cast to .*int64"):
        it.tensor([1, 2]).erf_()                        # as PyTorch: no silent truncation
    base = from_np(np.array([1.0, 2.0]))
    base[:1].erfc_()                                    # through a view, into its base
    np.testing.assert_allclose(to_np(base), [math.erfc(1.0), 2.0], rtol=1e-15)


def test_special_namespace_names_are_pytorchs():
    for n in it.special.__all__:
        assert hasattr(torch.special, n), n
    assert it.special.expit is not None and it.special.erf is it.erf
    x = it.tensor([-1.0, 0.5])
    np.testing.assert_allclose(to_np(it.special.expit(x)), to_np(it.sigmoid(x)))


# ------------------------------------------------------------------ Normal.cdf / icdf

def test_normal_cdf_and_icdf_match_pytorch(be):
    D, TD = it.distributions, torch.distributions
    loc, scale = np.array([0.0, 1.5, -2.0]), np.array([1.0, 0.5, 3.0])
    v = np.array([[-1.0, 1.5, 40.0], [0.3, -INF, INF]])
    p = np.array([[0.0, 0.025, 0.5], [0.975, 1.0, 1e-12]])
    for dt in ("float64", "float32"):
        leaves = [from_np(v.astype(dt), requires_grad=True) for v in (loc, scale)]
        tleaves = [torch.tensor(v.astype(dt), requires_grad=True) for v in (loc, scale)]
        d, td = D.Normal(*leaves), TD.Normal(*tleaves)
        tol = 1e-14 if dt == "float64" else 1e-6
        c, tc = d.cdf(from_np(v.astype(dt))), td.cdf(torch.from_numpy(v.astype(dt)))
        np.testing.assert_allclose(to_np(c), tc.detach().numpy(), rtol=tol, atol=tol)
        q, tq = d.icdf(from_np(p.astype(dt))), td.icdf(torch.from_numpy(p.astype(dt)))
        np.testing.assert_allclose(to_np(q), tq.detach().numpy(), rtol=tol * 10, atol=tol)
        fin = np.isfinite(tq.detach().numpy())
        (c.sum() + q[from_np(fin)].sum()).backward()
        (tc.sum() + tq[torch.from_numpy(fin)].sum()).backward()
        for a, b in zip(leaves, tleaves):
            np.testing.assert_allclose(to_np(a.grad), b.grad.numpy(), rtol=tol * 10, atol=tol)
    # icdf inverts cdf
    d = D.Normal(it.tensor(0.5, dtype=it.float64), it.tensor(2.0, dtype=it.float64))
    x = it.tensor([-3.0, 0.5, 4.0], dtype=it.float64)
    np.testing.assert_allclose(to_np(d.icdf(d.cdf(x))), to_np(x), rtol=1e-14)
    with pytest.raises(ValueError):
        D.Normal(0.0, 1.0, validate_args=True).cdf(it.tensor([NAN]))


# ------------------------------------------------------------------ thread pools

def _blas_threads():
    return [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]


def test_set_num_threads_limits_the_pools_and_restores():
    before = it.get_num_threads()
    assert before >= 1 and before == max(_blas_threads())
    try:
        it.set_num_threads(1)
        assert _blas_threads() and all(n == 1 for n in _blas_threads())
        assert it.get_num_threads() == 1
        # the work still computes, and gives the same result
        a = it.randn(64, 64, dtype=it.float64)
        np.testing.assert_allclose(to_np(a @ a), to_np(a) @ to_np(a), rtol=1e-12)
        it.set_num_threads(2)
        assert all(n == 2 for n in _blas_threads()) and it.get_num_threads() == 2
    finally:
        it.set_num_threads(before)
    assert max(_blas_threads()) == before == it.get_num_threads()
    assert it.backends.set_num_threads is it.set_num_threads


def test_set_num_threads_refuses_bad_counts():
    for bad, err in ((0, ValueError), (-2, ValueError), (1.5, TypeError), (True, TypeError),
                     ("2", TypeError)):
        with pytest.raises(err, match="set_num_threads"):
            it.set_num_threads(bad)
