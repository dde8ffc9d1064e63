"""interop.distributions against torch.distributions: values (log_prob, entropy, moments,
KL), gradients of log_prob and of rsample-based losses, shapes with batch and sample shapes,
argument validation with PyTorch's messages, and sample statistics; on every backend."""

import re

import numpy as np
import pytest
import torch
import torch.distributions as TD

import interop as it
import interop.distributions as D

from helpers import to_np

rng = np.random.default_rng(0)
B = (2, 3)
LOC = rng.normal(size=B)
SCALE = rng.uniform(0.5, 2.0, size=B)
P = rng.uniform(0.05, 0.95, size=B)
LOGITS = rng.normal(size=B + (4,))
A = rng.normal(size=(2, 3, 3))
COV = A @ A.transpose(0, 2, 1) + 3 * np.eye(3)


def _t(a, requires_grad=True):
    return torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad)


def _i(a, requires_grad=True):
    return it.tensor(a, dtype=it.float64, requires_grad=requires_grad)


# name -> (params as NumPy arrays, builder(lib_module, params as tensors))
CASES = {
    "normal": ([LOC, SCALE], lambda m, p: m.Normal(p[0], p[1])),
    "bernoulli_probs": ([P], lambda m, p: m.Bernoulli(probs=p[0])),
    "bernoulli_logits": ([LOC], lambda m, p: m.Bernoulli(logits=p[0])),
    "categorical_probs": ([np.exp(LOGITS)], lambda m, p: m.Categorical(probs=p[0])),
    "categorical_logits": ([LOGITS], lambda m, p: m.Categorical(logits=p[0])),
    "uniform": ([LOC, LOC + SCALE], lambda m, p: m.Uniform(p[0], p[1])),
    "mvn_cov": ([LOC, COV], lambda m, p: m.MultivariateNormal(p[0], covariance_matrix=p[1])),
    "mvn_tril": ([LOC, np.linalg.cholesky(COV)],
                 lambda m, p: m.MultivariateNormal(p[0], scale_tril=p[1])),
    "mvn_precision": ([LOC[0], np.linalg.inv(COV)],
                      lambda m, p: m.MultivariateNormal(p[0], precision_matrix=p[1])),
    "independent_normal": ([LOC, SCALE], lambda m, p: m.Independent(m.Normal(p[0], p[1]), 1)),
}


def _pair(name):
    params, build = CASES[name]
    ti = [_i(a) for a in params]
    tt = [_t(a) for a in params]
    return build(D, ti), build(TD, tt), ti, tt


def _close(a, b, tol=1e-9):
    np.testing.assert_allclose(to_np(a), b.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_shapes_and_log_prob_grads_match_pytorch(be, name):
    d, td, ti, tt = _pair(name)
    assert tuple(d.batch_shape) == tuple(td.batch_shape)
    assert tuple(d.event_shape) == tuple(td.event_shape)
    for attr in ("mean", "variance", "stddev"):
        _close(getattr(d, attr), getattr(td, attr))
    _close(d.entropy(), td.entropy())
    value = td.sample((5,))
    lp = d.log_prob(it.tensor(value.numpy()))
    tlp = td.log_prob(value)
    _close(lp, tlp)
    for shape in [(), (4,), (4, 2)]:
        s = d.sample(shape)
        assert tuple(s.shape) == tuple(td.sample(shape).shape)
        assert not s.requires_grad
    # gradient of a log_prob loss w.r.t. every parameter
    w = rng.normal(size=tuple(tlp.shape))
    (lp * it.tensor(w)).sum().backward()
    (tlp * torch.tensor(w)).sum().backward()
    for a, b in zip(ti, tt):
        np.testing.assert_allclose(to_np(a.grad), b.grad.numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", ["normal", "uniform", "mvn_tril", "mvn_cov",
                                  "independent_normal"])
def test_rsample_is_reparameterised_and_its_gradient_matches_pytorch(be, name):
    d, td, ti, tt = _pair(name)
    assert d.has_rsample and td.has_rsample
    it.manual_seed(7)
    x = d.rsample((4,))
    it.manual_seed(7)
    noise = (it.rand if name == "uniform" else it.randn)(tuple(x.shape), dtype=it.float64)
    noise = torch.tensor(to_np(noise))
    # the same function of the same noise in PyTorch
    if name == "uniform":
        tx = td.low + noise * (td.high - td.low)
    elif name.startswith("mvn"):
        tx = td.loc + (td._unbroadcasted_scale_tril @ noise.unsqueeze(-1)).squeeze(-1)
    else:
        base = td.base_dist if name.startswith("independent") else td
        tx = base.loc + noise * base.scale
    _close(x, tx)
    assert x.requires_grad
    loss = (x ** 2).sum() + x.sin().sum()
    tloss = (tx ** 2).sum() + tx.sin().sum()
    loss.backward()
    tloss.backward()
    for a, b in zip(ti, tt):
        np.testing.assert_allclose(to_np(a.grad), b.grad.numpy(), rtol=1e-7, atol=1e-9)


def test_sampling_follows_manual_seed(be):
    d = D.Normal(it.zeros(3), it.ones(3))
    it.manual_seed(3)
    a = to_np(d.sample((2,)))
    c = to_np(D.Categorical(logits=it.zeros(5)).sample((10,)))
    it.manual_seed(3)
    np.testing.assert_array_equal(a, to_np(d.sample((2,))))
    np.testing.assert_array_equal(c, to_np(D.Categorical(logits=it.zeros(5)).sample((10,))))
    assert not np.array_equal(a, to_np(d.sample((2,))))


def test_sample_statistics(be):
    it.manual_seed(1)
    n = 20000
    x = to_np(D.Normal(it.tensor([1.0, -2.0]), it.tensor([0.5, 2.0])).sample((n,)))
    np.testing.assert_allclose(x.mean(0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(x.std(0), [0.5, 2.0], rtol=0.03)
    u = to_np(D.Uniform(it.tensor(-1.0), it.tensor(3.0)).sample((n,)))
    assert u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.05
    b = to_np(D.Bernoulli(probs=it.tensor([0.1, 0.7])).sample((n,)))
    assert set(np.unique(b)) <= {0.0, 1.0}
    np.testing.assert_allclose(b.mean(0), [0.1, 0.7], atol=0.015)
    p = np.array([0.1, 0.2, 0.3, 0.4])
    c = to_np(D.Categorical(probs=it.tensor(p * 3)).sample((n,)))
    assert c.dtype == np.int64
    np.testing.assert_allclose(np.bincount(c, minlength=4) / n, p, atol=0.015)
    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    m = to_np(D.MultivariateNormal(it.tensor([1.0, 0.0], dtype=it.float64),
                                   covariance_matrix=it.tensor(cov)).sample((n,)))
    np.testing.assert_allclose(m.mean(0), [1.0, 0.0], atol=0.05)
    np.testing.assert_allclose(np.cov(m.T), cov, atol=0.08)


def test_batch_and_sample_shapes_broadcast_like_pytorch(be):
    d = D.Normal(it.zeros(3, 1), it.ones(4))
    td = TD.Normal(torch.zeros(3, 1), torch.ones(4))
    assert tuple(d.batch_shape) == tuple(td.batch_shape) == (3, 4)
    assert tuple(d.log_prob(it.zeros(5, 1, 4)).shape) == tuple(td.log_prob(torch.zeros(5, 1, 4)).shape)
    n = D.Normal(0.0, 1.0)
    assert tuple(n.batch_shape) == () and tuple(n.sample((2, 3)).shape) == (2, 3)
    assert n.mean.dtype == it.get_default_dtype()
    m = D.MultivariateNormal(it.zeros(2, 1, 3), scale_tril=it.eye(3).expand(4, 3, 3))
    tm = TD.MultivariateNormal(torch.zeros(2, 1, 3), scale_tril=torch.eye(3).expand(4, 3, 3))
    assert tuple(m.batch_shape) == tuple(tm.batch_shape) == (2, 4)
    assert tuple(m.rsample((5,)).shape) == (5, 2, 4, 3)
    assert tuple(m.log_prob(it.zeros(3)).shape) == (2, 4)
    _close(m.entropy(), tm.entropy())
    e = D.Normal(it.zeros(3), it.ones(3)).expand((2, 3))
    assert tuple(e.batch_shape) == (2, 3) and tuple(e.sample().shape) == (2, 3)
    i = D.Independent(D.Normal(it.zeros(2, 3), it.ones(2, 3)), 2)
    assert tuple(i.batch_shape) == () and tuple(i.event_shape) == (2, 3)
    assert tuple(i.log_prob(it.zeros(2, 3)).shape) == ()
    cat = D.Categorical(logits=it.zeros(2, 5))
    assert tuple(cat.enumerate_support().shape) == (5, 2)
    assert tuple(cat.sample(()).shape) == (2,) and tuple(cat.sample((0,)).shape) == (0, 2)


def _kl_pairs():
    cov2 = np.array([[1.5, 0.3, 0.0], [0.3, 1.0, 0.2], [0.0, 0.2, 2.0]])
    return {
        "normal": lambda m, T: (m.Normal(T(LOC), T(SCALE)), m.Normal(T(LOC[::-1].copy()), T(SCALE[::-1].copy()))),
        "bernoulli": lambda m, T: (m.Bernoulli(probs=T(np.array([0.0, 0.3, 1.0, 0.5]))),
                                   m.Bernoulli(probs=T(np.array([0.2, 0.0, 0.4, 1.0])))),
        "categorical": lambda m, T: (m.Categorical(probs=T(np.array([[0.0, 0.5, 0.5], [0.2, 0.3, 0.5]]))),
                                     m.Categorical(probs=T(np.array([[0.1, 0.9, 0.0], [0.6, 0.2, 0.2]])))),
        "uniform": lambda m, T: (m.Uniform(T(np.array([0.0, -1.0, 0.5])), T(np.array([1.0, 1.0, 0.7]))),
                                 m.Uniform(T(np.array([-1.0, -0.5, 0.0])), T(np.array([2.0, 1.0, 3.0])))),
        "uniform_normal": lambda m, T: (m.Uniform(T(LOC), T(LOC + SCALE)), m.Normal(T(SCALE), T(SCALE))),
        "normal_uniform": lambda m, T: (m.Normal(T(LOC), T(SCALE)), m.Uniform(T(LOC), T(LOC + SCALE))),
        "mvn": lambda m, T: (m.MultivariateNormal(T(LOC), covariance_matrix=T(COV)),
                             m.MultivariateNormal(T(LOC[0]), covariance_matrix=T(cov2))),
        "independent": lambda m, T: (m.Independent(m.Normal(T(LOC), T(SCALE)), 1),
                                     m.Independent(m.Normal(T(SCALE), T(SCALE)), 1)),
    }


@pytest.mark.parametrize("name", sorted(_kl_pairs()))
def test_kl_divergence_values_and_gradients_match_pytorch(be, name):
    leaves_i, leaves_t = [], []

    def Ti(a):
        leaves_i.append(_i(a))
        return leaves_i[-1]

    def Tt(a):
        leaves_t.append(_t(a))
        return leaves_t[-1]
    build = _kl_pairs()[name]
    kl = D.kl_divergence(*build(D, Ti))
    tkl = TD.kl_divergence(*build(TD, Tt))
    np.testing.assert_allclose(to_np(kl), tkl.detach().numpy(), rtol=1e-9, atol=1e-12)
    finite = torch.isfinite(tkl)
    if finite.any():
        it.where(it.tensor(finite.numpy()), kl, 0.0).sum().backward()
        tkl[finite].sum().backward()
        for a, b in zip(leaves_i, leaves_t):
            ga = np.zeros(b.shape) if a.grad is None else to_np(a.grad)
            gb = np.zeros(b.shape) if b.grad is None else b.grad.numpy()
            np.testing.assert_allclose(ga, gb, rtol=1e-7, atol=1e-9)


def test_kl_registry_dispatch_and_errors():
    class MyNormal(D.Normal):
        pass
    p, q = MyNormal(0.0, 1.0), D.Normal(1.0, 2.0)
    assert float(D.kl_divergence(p, q)) == pytest.approx(
        float(TD.kl_divergence(TD.Normal(0.0, 1.0), TD.Normal(1.0, 2.0))))

    @D.register_kl(MyNormal, D.Normal)
    def _mine(p, q):
        return it.tensor(-1.0)
    assert float(D.kl_divergence(p, q)) == -1.0
    assert float(D.kl_divergence(D.Normal(0.0, 1.0), q)) != -1.0   # the parent pair stays
    with pytest.raises(NotImplementedError,
                       match="No KL\\(p \\|\\| q\\) is implemented for p type Bernoulli and q type Normal"):
        D.kl_divergence(D.Bernoulli(0.3), q)
    with pytest.raises(TypeError, match="Expected type_p to be a Distribution subclass"):
        D.register_kl(int, D.Normal)


def _message(fn):
    try:
        fn()
    except (ValueError, TypeError, NotImplementedError) as e:
        msg = str(e).replace("torch.Size", "Size").replace("interop.Size", "Size")
        return type(e).__name__, re.sub(r", backend='[^']*'", "", msg)
    return None


@pytest.mark.parametrize("case", [
    lambda m, T: m.Normal(T([0.0, 1.0]), T([1.0, -1.0])),
    lambda m, T: m.Normal(T([0.0, float("nan")]), T([1.0, 1.0])),
    lambda m, T: m.Bernoulli(probs=T([0.5, 1.5])),
    lambda m, T: m.Bernoulli(probs=T([0.5]), logits=T([0.0])),
    lambda m, T: m.Bernoulli(),
    lambda m, T: m.Categorical(probs=T(0.5)),
    lambda m, T: m.Categorical(probs=T([0.5, -0.1])),
    lambda m, T: m.Uniform(T([0.0, 1.0]), T([1.0, 1.0])),
    lambda m, T: m.MultivariateNormal(T([0.0, 0.0])),
    lambda m, T: m.MultivariateNormal(T(0.0), scale_tril=T([[1.0]])),
    lambda m, T: m.MultivariateNormal(T([0.0, 0.0]), scale_tril=T([1.0, 1.0])),
    lambda m, T: m.MultivariateNormal(T([0.0, 0.0]), covariance_matrix=T([[1.0, 2.0], [2.0, 1.0]])),
    lambda m, T: m.MultivariateNormal(T([0.0, 0.0]), scale_tril=T([[1.0, 1.0], [0.0, 1.0]])),
    lambda m, T: m.Independent(m.Normal(T([0.0]), T([1.0])), 2),
    lambda m, T: m.Normal(T([0.0, 1.0]), T([1.0, 1.0])).log_prob(T([1.0, 2.0, 3.0])),
    lambda m, T: m.Normal(T([0.0, 1.0]), T([1.0, 1.0])).log_prob([1.0, 2.0]),
    lambda m, T: m.Bernoulli(probs=T([0.5, 0.5])).log_prob(T([1.0, 0.5])),
    lambda m, T: m.Categorical(probs=T([0.5, 0.5])).log_prob(T([2.0])),
    lambda m, T: m.Uniform(T([0.0]), T([1.0])).log_prob(T([1.5])),
    lambda m, T: m.MultivariateNormal(T([0.0, 0.0]), scale_tril=T([[1.0, 0.0], [0.0, 1.0]])).log_prob(T([1.0, 2.0, 3.0])),
    lambda m, T: m.Bernoulli(probs=T([0.5, 0.5])).rsample(),
])
def test_validation_errors_match_pytorch(be, case):
    got = _message(lambda: case(D, lambda v: it.tensor(v)))
    want = _message(lambda: case(TD, lambda v: torch.tensor(v)))
    assert want is not None and got is not None
    assert got[0] == want[0]
    if want[1]:         # the same message (a tensor's repr may space its numbers otherwise)
        assert got[1].replace(" ", "") == want[1].replace(" ", "")


def test_validate_args_false_skips_checks_like_pytorch(be):
    d = D.Normal(it.tensor([0.0]), it.tensor([-1.0]), validate_args=False)
    td = TD.Normal(torch.tensor([0.0]), torch.tensor([-1.0]), validate_args=False)
    _close(d.log_prob(it.tensor([0.5])).detach(), td.log_prob(torch.tensor([0.5])))
    u = D.Uniform(it.tensor([0.0]), it.tensor([1.0]), validate_args=False)
    assert float(u.log_prob(it.tensor([1.5]))) == float("-inf")
    D.Distribution.set_default_validate_args(False)
    try:
        D.Bernoulli(probs=it.tensor([2.0]))
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError, match="unit_interval|Interval"):
        D.Bernoulli(probs=it.tensor([2.0]))


def test_bernoulli_categorical_edges_match_pytorch():
    p = [0.0, 0.5, 1.0]
    d, td = D.Bernoulli(probs=it.tensor(p)), TD.Bernoulli(probs=torch.tensor(p))
    np.testing.assert_array_equal(to_np(d.mode), td.mode.numpy())
    _close(d.entropy(), td.entropy(), 1e-6)
    _close(d.log_prob(it.tensor([0.0, 1.0, 1.0])), td.log_prob(torch.tensor([0.0, 1.0, 1.0])), 1e-6)
    c = D.Categorical(probs=it.tensor([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]]))
    tc = TD.Categorical(probs=torch.tensor([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]]))
    _close(c.entropy(), tc.entropy(), 1e-6)
    np.testing.assert_array_equal(to_np(c.mode), tc.mode.numpy())
    assert np.isnan(to_np(c.mean)).all() and tuple(c.mean.shape) == tuple(tc.mean.shape)
    np.testing.assert_array_equal(to_np(c.enumerate_support()), tc.enumerate_support().numpy())
    np.testing.assert_array_equal(to_np(d.enumerate_support()), td.enumerate_support().numpy())
    assert repr(D.Normal(it.zeros(2), it.ones(2))) == \
        repr(TD.Normal(torch.zeros(2), torch.ones(2))).replace("torch", "interop")
    assert repr(D.constraints.real_vector) == repr(TD.constraints.real_vector)
    assert repr(D.constraints.positive) == repr(TD.constraints.positive)
