"""nn.init against PyTorch's: gains, fans, the statistics (mean, std, range) of every
initializer over large tensors, exact fills (eye_, dirac_, constant_), orthogonality,
sparsity, generators, in-place semantics on parameters, and PyTorch's errors."""

import math
import warnings

import numpy as np
import pytest

import interop as it
from interop import nn
from interop.nn import init
from helpers import to_np

torch = pytest.importorskip("torch")
TI = torch.nn.init


def _compare(ours, theirs, bound=None):
    """Two large samples share mean and std (to 8 standard errors) and, with ``bound``,
    lie within [-bound, bound] and reach close to both ends."""
    a = to_np(ours).astype(np.float64).ravel()
    b = theirs.detach().double().numpy().ravel()
    n = a.size
    sd = max(b.std(), 1e-12)
    assert abs(a.mean() - b.mean()) < 8 * sd / math.sqrt(n), (a.mean(), b.mean())
    assert abs(a.std() - b.std()) < 8 * sd / math.sqrt(2 * n), (a.std(), b.std())
    if bound is not None:
        assert -bound <= a.min() and a.max() <= bound
        assert abs(a.max() - b.max()) < 0.02 * bound and abs(a.min() - b.min()) < 0.02 * bound


def _pair(shape, dtype="float32"):
    return it.empty(shape, dtype=getattr(it, dtype)), torch.empty(shape,
                                                                  dtype=getattr(torch, dtype))


@pytest.mark.parametrize("name", ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                                  "conv_transpose2d", "conv_transpose3d", "sigmoid", "tanh",
                                  "relu", "leaky_relu", "selu"])
def test_calculate_gain_matches_pytorch(name):
    assert init.calculate_gain(name) == TI.calculate_gain(name)
    if name == "leaky_relu":
        for p in (0, 1, 0.2, 3):
            assert init.calculate_gain(name, p) == TI.calculate_gain(name, p)


@pytest.mark.parametrize("args", [("softmax",), ("leaky_relu", True), ("leaky_relu", "0.1"),
                                  ("Linear",)])
def test_calculate_gain_errors(args):
    with pytest.raises(ValueError) as ours:
        init.calculate_gain(*args)
    with pytest.raises(ValueError):
        TI.calculate_gain(*args)
    assert repr(args[-1]) in str(ours.value) or str(args[-1]) in str(ours.value)


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (6, 4, 3, 2), (2, 0, 3)])
def test_fans_match_pytorch(be, shape):
    assert init._calculate_fan_in_and_fan_out(it.empty(shape)) == \
        TI._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_fan_of_a_vector_is_an_error(be):
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(it.empty(5))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(it.empty(5))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_normal_(it.empty(5))


CASES = [
    ("uniform_", {}, 1.0),
    ("uniform_", {"a": -3.0, "b": 0.5}, 3.0),
    ("normal_", {}, None),
    ("normal_", {"mean": 2.0, "std": 0.1}, None),
    ("trunc_normal_", {}, 2.0),
    ("trunc_normal_", {"mean": 0.5, "std": 2.0, "a": -1.0, "b": 3.0}, 3.0),
    ("trunc_normal_", {"std": 0.02, "a": -0.04, "b": 0.04}, 0.04),
    ("trunc_normal_", {"a": 0.5, "b": 0.6}, 0.6),
    ("xavier_uniform_", {}, math.sqrt(6 / 1024)),
    ("xavier_uniform_", {"gain": 2.0}, 2 * math.sqrt(6 / 1024)),
    ("xavier_normal_", {"gain": 0.5}, None),
    ("kaiming_uniform_", {}, math.sqrt(6 / 512)),
    ("kaiming_uniform_", {"a": math.sqrt(5)}, 1 / math.sqrt(512)),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(6 / 512)),
    ("kaiming_normal_", {}, None),
    ("kaiming_normal_", {"a": 0.2, "mode": "FAN_OUT", "nonlinearity": "tanh"}, None),
    ("orthogonal_", {}, None),
    ("orthogonal_", {"gain": 3.0}, None),
    ("sparse_", {"sparsity": 0.3}, None),
    ("sparse_", {"sparsity": 0.1, "std": 2.0}, None),
]


@pytest.mark.parametrize("name, kw, bound", CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)])
def test_distributions_match_pytorch(be, name, kw, bound):
    ours, theirs = _pair((512, 512))
    assert getattr(init, name)(ours, **kw) is ours
    getattr(TI, name)(theirs, **kw)
    _compare(ours, theirs, bound)


@pytest.mark.parametrize("name, kw", [("kaiming_uniform_", {"a": 1.0}), ("xavier_normal_", {}),
                                      ("trunc_normal_", {"std": 0.5}), ("uniform_", {})])
def test_float64_and_conv_shaped_tensors(be, name, kw):
    ours, theirs = _pair((64, 32, 3, 3), "float64")
    getattr(init, name)(ours, **kw)
    getattr(TI, name)(theirs, **kw)
    assert ours.dtype == it.float64
    _compare(ours, theirs)


def test_trunc_normal_warns_when_the_mean_is_far_from_the_interval(be):
    t = it.empty(1000)
    with pytest.warns(UserWarning, match="more than 2 std"):
        init.trunc_normal_(t, mean=5.0, std=1.0, a=-1.0, b=1.0)
    a = to_np(t)
    assert a.min() >= -1.0 and a.max() <= 1.0 and np.isfinite(a).all()


def test_orthogonal_is_orthogonal(be):
    for shape, gain in (((8, 20), 1.0), ((20, 8), 2.0), ((6, 3, 2, 2), 0.5)):
        t = init.orthogonal_(it.empty(shape, dtype=it.float64), gain=gain)
        m = to_np(t).reshape(shape[0], -1)
        small = m @ m.T if shape[0] <= m.shape[1] else m.T @ m
        np.testing.assert_allclose(small, gain ** 2 * np.eye(small.shape[0]), atol=1e-10)
    empty = it.empty((0, 3))
    assert init.orthogonal_(empty) is empty


def test_sparse_zeroes_the_same_count_in_every_column(be):
    t = init.sparse_(it.empty((10, 40)), sparsity=0.25)
    zeros = (to_np(t) == 0).sum(axis=0)
    assert (zeros == math.ceil(0.25 * 10)).all()
    assert init.sparse_(it.empty((4, 3)), sparsity=2.0) is not None        # all zeroed
    assert not to_np(init.sparse_(it.empty((4, 3)), sparsity=2.0)).any()


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4)])
def test_eye_matches_pytorch(be, shape):
    ours, theirs = _pair(shape)
    init.eye_(ours)
    TI.eye_(theirs)
    np.testing.assert_array_equal(to_np(ours), theirs.numpy())


@pytest.mark.parametrize("shape, groups", [((4, 4, 3), 1), ((6, 4, 3, 3), 2), ((6, 2, 2, 3), 3),
                                           ((4, 6, 3, 3, 3), 1), ((2, 5, 4), 2)])
def test_dirac_matches_pytorch(be, shape, groups):
    ours, theirs = _pair(shape)
    init.dirac_(ours, groups)
    TI.dirac_(theirs, groups)
    np.testing.assert_array_equal(to_np(ours), theirs.numpy())


def test_constant_fills(be):
    t = it.empty((3, 2), dtype=it.float64)
    assert to_np(init.constant_(t, 2.5)).tolist() == [[2.5, 2.5]] * 3
    assert to_np(init.ones_(t)).tolist() == [[1.0, 1.0]] * 3
    assert to_np(init.zeros_(t)).tolist() == [[0.0, 0.0]] * 3
    assert init.zeros_(t) is t and t.dtype == it.float64


def test_fills_parameters_in_place_outside_the_graph(be):
    p = nn.Parameter(it.zeros((4, 3)))
    for fn in (init.uniform_, init.normal_, init.trunc_normal_, init.xavier_uniform_,
               init.kaiming_normal_, init.orthogonal_, init.eye_, init.zeros_):
        assert fn(p) is p
        assert p.is_leaf and p.requires_grad and p.grad is None and p.grad_fn is None
    (p * 2).sum().backward()
    assert p.grad is not None


def test_generator_makes_draws_reproducible(be):
    draws = []
    for _ in range(2):
        g = it.Generator().manual_seed(7)
        t = it.empty((3, 4))
        for fn in (init.uniform_, init.normal_, init.trunc_normal_, init.kaiming_uniform_,
                   init.orthogonal_):
            fn(t, generator=g)
            draws.append(to_np(t))
        init.sparse_(t, 0.5, generator=g)
        draws.append(to_np(t))
    n = len(draws) // 2
    for a, b in zip(draws[:n], draws[n:]):
        np.testing.assert_array_equal(a, b)


def test_zero_element_tensors(be):
    t = it.empty((0, 3))
    with pytest.warns(UserWarning, match="zero-element"):
        assert init.kaiming_uniform_(t) is t
    with pytest.warns(UserWarning, match="zero-element"):
        assert init.kaiming_normal_(t) is t
    assert init.uniform_(it.empty(0)).shape == (0,)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: init.eye_(it.empty((2, 2, 2))), ValueError, "2 dimensions"),
    (lambda: init.dirac_(it.empty((2, 2))), ValueError, "3, 4, or 5 dimensions"),
    (lambda: init.dirac_(it.empty((5, 2, 3)), groups=2), ValueError, "divisible by groups"),
    (lambda: init.orthogonal_(it.empty(3)), ValueError, "2 or more dimensions"),
    (lambda: init.sparse_(it.empty((2, 2, 2)), 0.1), ValueError, "2 dimensions"),
    (lambda: init.kaiming_uniform_(it.empty((2, 2)), mode="fan_avg"), ValueError, "fan_avg"),
    (lambda: init.kaiming_normal_(it.empty((2, 2)), nonlinearity="gelu"), ValueError, "gelu"),
    (lambda: init.uniform_(it.empty(2), 1.0, 0.0), RuntimeError, "a <= b"),
    (lambda: init.normal_(it.empty(2), 0.0, -1.0), RuntimeError, "std >= 0"),
    (lambda: init.uniform_(np.zeros(2)), TypeError, "Tensor"),
])
def test_errors(be, call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_deprecated_names_warn_and_work(be):
    t = it.empty((4, 4))
    with pytest.warns(FutureWarning, match="nn.init.xavier_uniform_"):
        assert init.xavier_uniform(t) is t
    with pytest.warns(FutureWarning, match="nn.init.normal_"):
        init.normal(t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init.normal_(t)
