"""Dropout layers and functions: identity in eval mode (the input itself, as PyTorch), the
training-mode statistics (fraction dropped ~ p, kept values scaled by 1/(1-p), whole
channels for the feature forms, zero mean and unit variance kept by alpha dropout),
p = 0 and p = 1, gradients only through kept elements, in-place forms, PyTorch's shape
rules and warnings, reprs and the errors for bad input."""

import warnings

import numpy as np
import pytest

import interop as it
from interop import nn
import interop.nn.functional as F
from helpers import to_np
from torch_compare import check_module

torch = pytest.importorskip("torch")
TF = torch.nn.functional

SELU_SATURATION = 1.7580993408473766

LAYERS = [("Dropout", (4, 3)), ("Dropout1d", (2, 3, 4)), ("Dropout2d", (2, 3, 2, 2)),
          ("Dropout3d", (2, 3, 2, 1, 2)), ("AlphaDropout", (4, 3)),
          ("FeatureAlphaDropout", (2, 3, 2))]


def _rand(shape, dtype="float32", seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, shape", LAYERS)
def test_eval_mode_is_identity(be, name, shape, dtype):
    check_module(getattr(nn, name)(0.4), getattr(torch.nn, name)(0.4), _rand(shape, dtype),
                 train=False)
    x = it.asarray(_rand(shape, dtype))
    assert getattr(nn, name)(0.4).eval()(x) is x


@pytest.mark.parametrize("name, shape", LAYERS)
def test_p_zero_returns_the_input_and_p_one_zeros(be, name, shape):
    x = it.asarray(_rand(shape)).requires_grad_()
    assert getattr(nn, name)(0.0)(x) is x
    y = getattr(nn, name)(1.0)(x)
    np.testing.assert_array_equal(to_np(y), np.zeros(shape, np.float32))
    y.sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), np.zeros(shape, np.float32))


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_p_one_multiplies_by_zero_as_pytorch(be):
    """inf and NaN times the zero mask are NaN, in PyTorch too."""
    x = np.array([np.inf, -1.0, np.nan], np.float32)
    for fn in ("dropout", "alpha_dropout"):
        ours = getattr(F, fn)(it.asarray(x), 1.0, training=True)
        theirs = getattr(TF, fn)(torch.from_numpy(x), 1.0, training=True)
        np.testing.assert_array_equal(to_np(ours), theirs.numpy())


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dropout_statistics_and_gradient(be, p, dtype):
    it.manual_seed(0)
    x = it.asarray(_rand((100, 100), dtype) + 3.0).requires_grad_()
    y = F.dropout(x, p)
    assert y.dtype == x.dtype
    yv, xv = to_np(y), to_np(x)
    kept = yv != 0
    assert abs(1 - kept.mean() - p) < 0.03
    np.testing.assert_allclose(yv[kept], xv[kept] / (1 - p), rtol=1e-6)
    g = _rand((100, 100), dtype, seed=1)
    y.backward(it.asarray(g))
    np.testing.assert_allclose(to_np(x.grad), np.where(kept, g / (1 - p), 0), rtol=1e-6)


def test_dropout_draws_from_interop_generator(be):
    x = it.ones((50, 4))
    it.manual_seed(3)
    a = to_np(F.dropout(x, 0.5))
    it.manual_seed(3)
    b = to_np(F.dropout(x, 0.5))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, to_np(F.dropout(x, 0.5)))


@pytest.mark.parametrize("fn, shape, channel_shape", [
    ("dropout1d", (40, 30, 3), (40, 30, 1)),       # (N, C, L)
    ("dropout1d", (600, 3), (600, 1)),             # unbatched (C, L)
    ("dropout2d", (40, 30, 2, 2), (40, 30, 1, 1)),
    ("dropout3d", (20, 30, 2, 1, 2), (20, 30, 1, 1, 1)),
    ("dropout3d", (600, 2, 1, 2), (600, 1, 1, 1)),  # unbatched (C, D, H, W)
])
def test_feature_dropout_drops_whole_channels(be, fn, shape, channel_shape):
    it.manual_seed(1)
    p = 0.3
    x = it.asarray(np.abs(_rand(shape)) + 1.0).requires_grad_()
    y = getattr(F, fn)(x, p)
    yv = to_np(y)
    kept = yv != 0
    per_channel = kept.reshape(channel_shape[:-1] + (-1,) if len(channel_shape) > 1 else -1)
    assert (per_channel.all(-1) | ~per_channel.any(-1)).all(), "a channel was partly dropped"
    assert abs(1 - kept.mean() - p) < 0.04
    np.testing.assert_allclose(yv[kept], to_np(x)[kept] / (1 - p), rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), kept / (1 - p), rtol=1e-6)


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_keeps_mean_and_variance(be, p):
    it.manual_seed(2)
    x = it.asarray(_rand((400, 250), "float64"))
    y = to_np(F.alpha_dropout(x, p, training=True))
    assert abs(y.mean()) < 0.02 and abs(y.var() - 1) < 0.03
    a = 1 / np.sqrt((SELU_SATURATION ** 2 * p + 1) * (1 - p))
    dropped = np.isclose(y, a * SELU_SATURATION * (p - 1), rtol=0, atol=1e-12)
    assert abs(dropped.mean() - p) < 0.02
    xv = to_np(x)
    np.testing.assert_allclose(y[~dropped], a * xv[~dropped] + a * SELU_SATURATION * p,
                               rtol=1e-12)


def test_alpha_dropout_gradient_only_through_kept(be):
    it.manual_seed(4)
    p = 0.4
    x = it.asarray(_rand((30, 20), "float64")).requires_grad_()
    y = F.alpha_dropout(x, p, training=True)
    y.sum().backward()
    a = 1 / np.sqrt((SELU_SATURATION ** 2 * p + 1) * (1 - p))
    dropped = np.isclose(to_np(y), a * SELU_SATURATION * (p - 1), rtol=0, atol=1e-12)
    np.testing.assert_allclose(to_np(x.grad), np.where(dropped, 0.0, a), rtol=1e-12)


def test_feature_alpha_dropout_drops_whole_channels(be):
    it.manual_seed(5)
    p = 0.5
    y = to_np(F.feature_alpha_dropout(it.asarray(_rand((30, 20, 4), "float64")), p,
                                      training=True))
    a = 1 / np.sqrt((SELU_SATURATION ** 2 * p + 1) * (1 - p))
    dropped = np.isclose(y, a * SELU_SATURATION * (p - 1), rtol=0, atol=1e-12)
    assert (dropped.all(-1) | ~dropped.any(-1)).all()
    assert abs(dropped.all(-1).mean() - p) < 0.1


def test_functional_defaults_match_pytorch(be):
    """dropout and the 1d/2d/3d forms train by default; the alpha forms do not."""
    x = it.asarray(_rand((4, 3, 2)))
    assert F.alpha_dropout(x) is x and F.feature_alpha_dropout(x) is x
    assert (to_np(F.dropout(x, 0.9)) == 0).any()


def test_inplace(be):
    it.manual_seed(6)
    base = it.asarray(_rand((20, 10)) + 5.0).requires_grad_()
    x = base * 1.0
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x
    kept = to_np(y) != 0
    y.sum().backward()
    np.testing.assert_allclose(to_np(base.grad), kept * 2.0)
    z = it.asarray(_rand((3, 4, 5, 2)))
    assert nn.Dropout2d(0.5, inplace=True)(z) is z
    w = it.asarray(_rand((4, 5)))
    assert F.alpha_dropout(w, 0.5, training=True, inplace=True) is w
    with pytest.raises(RuntimeError, match="leaf"):
        F.dropout(it.ones(3, requires_grad=True), 0.5, inplace=True)


def test_dropout2d_and_dropout3d_shape_warnings(be):
    """PyTorch's rules: a 3-D input to dropout2d is (N, C, L), with a warning; other ranks
    warn that they are deprecated; 1-D input has no channels to drop."""
    with pytest.warns(UserWarning, match="3D input to dropout2d.*1D dropout"):
        F.dropout2d(it.ones((2, 3, 4)), 0.5)
    with pytest.warns(UserWarning, match="2-D input to dropout2d"):
        y = F.dropout2d(it.ones((200, 30)), 0.5)
    zero = to_np(y) == 0                                  # (N, C): single elements dropped
    assert 0.4 < zero.mean() < 0.6 and (zero.any(1) & ~zero.all(1)).all()
    with pytest.warns(UserWarning, match="3-D input to dropout3d"):
        F.dropout3d(it.ones((2, 3, 4)), 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="at least 2 dimensions"):
            F.dropout2d(it.ones(3), 0.5)
        assert F.dropout2d(it.ones(3), 0.5, training=False).shape == (3,)
    with pytest.raises(RuntimeError, match=r"dropout1d: expected 2D or 3D input, but received "
                                           r"a 4D input"):
        F.dropout1d(it.ones((2, 3, 4, 5)), 0.5)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        F.feature_alpha_dropout(it.ones(3), 0.5, training=True)


def test_probability_errors_and_reprs(be):
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"between 0 and 1, but got {bad}"):
            F.dropout(it.ones(3), bad, training=False)
        with pytest.raises(ValueError, match=f"between 0 and 1, but got {bad}"):
            nn.Dropout2d(bad)
    for name, _ in LAYERS:
        for args in ((), (0.3, True)):
            assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


def test_empty_and_integer_inputs(be):
    empty = it.ones((0, 3))
    assert F.dropout(empty, 0.5) is empty
    ints = it.arange(6)
    assert F.dropout(ints, 0.0) is ints
    np.testing.assert_array_equal(to_np(F.dropout(ints, 1.0)), np.zeros(6, np.int64))
    with pytest.raises(TypeError, match="floating point input"):
        F.dropout(ints, 0.5)


def test_dropout_module_follows_train_and_eval(be):
    m = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    x = it.asarray(_rand((8, 4)))
    m.eval()
    a, b = m(x), m(x)
    np.testing.assert_array_equal(to_np(a), to_np(b))
    m.train()
    it.manual_seed(0)
    assert (to_np(m(it.ones((64, 4)) * 0 + 1)) == 0).any()
