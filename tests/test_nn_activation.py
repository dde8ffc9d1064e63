"""Activations (``interop.nn.functional`` and their modules) against PyTorch: values and
gradients on random data with every kink point mixed in, at NaN and infinities (one element
at a time: PyTorch's vectorized kernels treat NaN differently from its scalar ones, which
hold the documented formulas), empty and 0-d inputs, in-place forms, the softmax family,
second derivatives, stability at large inputs, RReLU and gumbel_softmax statistics,
PReLU's parameter, reprs and the errors for bad input."""

import math
import warnings

import numpy as np
import pytest

import interop as it
from interop import nn
import interop.nn.functional as F
from helpers import to_np
from torch_compare import assert_same, check_function, check_module

torch = pytest.importorskip("torch")
TF = torch.nn.functional

DTYPES = ["float32", "float64"]
NAN, INF = float("nan"), float("inf")

# inf and NaN arithmetic is the point of several tests: NumPy's warnings are expected
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _rand(shape, dtype="float32", seed=0, scale=3.0):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape) * scale, dtype=dtype)


def _with(points, dtype, seed=0):
    """Random values with ``points`` (the kinks) written over the first elements: (3, 6)."""
    a = _rand((3, 6), dtype, seed)
    a.flat[:len(points)] = points
    return a


# name: (ours, torch's, kink points). Each elementwise activation, with non-default options.
ELEMENTWISE = {
    "relu": (F.relu, TF.relu, [0.0, -0.0]),
    "relu6": (F.relu6, TF.relu6, [0.0, 6.0]),
    "leaky_relu": (F.leaky_relu, TF.leaky_relu, [0.0]),
    "leaky_relu_0.2": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), [0.0]),
    "leaky_relu_neg": (lambda x: F.leaky_relu(x, -0.5), lambda x: TF.leaky_relu(x, -0.5), [0.0]),
    "rrelu_eval": (F.rrelu, TF.rrelu, [0.0]),
    "elu": (F.elu, TF.elu, [0.0]),
    "elu_0.3": (lambda x: F.elu(x, 0.3), lambda x: TF.elu(x, 0.3), [0.0]),
    "elu_neg_alpha": (lambda x: F.elu(x, -1.5), lambda x: TF.elu(x, -1.5), [0.0]),
    "selu": (F.selu, TF.selu, [0.0]),
    "celu": (F.celu, TF.celu, [0.0]),
    "celu_2": (lambda x: F.celu(x, 2.0), lambda x: TF.celu(x, 2.0), [0.0]),
    "gelu": (F.gelu, TF.gelu, [0.0, -8.0, 8.0, -40.0]),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda x: TF.gelu(x, approximate="tanh"), [0.0, -8.0, 8.0]),
    "silu": (F.silu, TF.silu, [0.0, -50.0, 50.0]),
    "mish": (F.mish, TF.mish, [0.0, -50.0, 50.0]),
    "sigmoid": (F.sigmoid, torch.sigmoid, [0.0, -50.0, 50.0]),
    "tanh": (F.tanh, torch.tanh, [0.0, -50.0, 50.0]),
    "hardtanh": (F.hardtanh, TF.hardtanh, [-1.0, 1.0, 0.0]),
    "hardtanh_range": (lambda x: F.hardtanh(x, -2.5, 0.5), lambda x: TF.hardtanh(x, -2.5, 0.5),
                       [-2.5, 0.5]),
    "hardtanh_point": (lambda x: F.hardtanh(x, 1.0, 1.0), lambda x: TF.hardtanh(x, 1.0, 1.0),
                       [1.0]),
    "hardsigmoid": (F.hardsigmoid, TF.hardsigmoid, [-3.0, 3.0, 0.0]),
    "hardswish": (F.hardswish, TF.hardswish, [-3.0, 3.0, 0.0]),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid, [0.0, -200.0, 200.0]),
    "softplus": (F.softplus, TF.softplus, [0.0, 20.0, -30.0]),
    "softplus_beta": (lambda x: F.softplus(x, 2.0, 3.0), lambda x: TF.softplus(x, 2.0, 3.0),
                      [1.5, 0.0]),
    "softplus_neg_beta": (lambda x: F.softplus(x, -1.0), lambda x: TF.softplus(x, -1.0),
                          [0.0, -20.0]),
    "softsign": (F.softsign, TF.softsign, [0.0]),
    "softshrink": (F.softshrink, TF.softshrink, [-0.5, 0.5, 0.0]),
    "softshrink_0": (lambda x: F.softshrink(x, 0.0), lambda x: TF.softshrink(x, 0.0), [0.0]),
    "hardshrink": (F.hardshrink, TF.hardshrink, [-0.5, 0.5, 0.0]),
    "hardshrink_neg": (lambda x: F.hardshrink(x, -1.0), lambda x: TF.hardshrink(x, -1.0),
                       [-1.0, 1.0, 0.0]),
    "tanhshrink": (F.tanhshrink, TF.tanhshrink, [0.0]),
    "threshold": (lambda x: F.threshold(x, 0.5, -2.0), lambda x: TF.threshold(x, 0.5, -2.0),
                  [0.5, 0.0]),
}
# PyTorch's float64 hardsigmoid gradient is 1/6 rounded to float32 (ours is exact)
TOL64 = {"hardsigmoid": 1e-7}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_matches_pytorch(be, name, dtype):
    ours, theirs, points = ELEMENTWISE[name]
    tol = TOL64.get(name) if dtype == "float64" else None
    check_function(ours, theirs, _with(points, dtype), tol=tol)


@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3)])
@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "gelu", "hardtanh", "hardswish",
                                  "softplus", "softshrink", "hardshrink", "threshold", "mish"])
def test_elementwise_empty_and_0d(be, name, shape):
    ours, theirs, _ = ELEMENTWISE[name]
    check_function(ours, theirs, _rand(shape, "float32", seed=3))


SPECIALS = [NAN, INF, -INF]


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_nan_and_infinities_match_pytorch_scalar_kernels(be, name):
    ours, theirs, _ = ELEMENTWISE[name]
    for dtype in DTYPES:
        for v in SPECIALS:
            check_function(ours, theirs, np.array([v], dtype), tol=TOL64.get(name))


def test_kinks_one_element_at_a_time(be):
    """The kink points again, in tensors of one element (PyTorch's scalar kernels)."""
    for name, (ours, theirs, points) in ELEMENTWISE.items():
        for p in points:
            check_function(ours, theirs, np.array([p]), tol=TOL64.get(name))


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "silu", "elu", "hardswish", "softplus",
                                  "leaky_relu", "hardtanh", "mish", "logsigmoid", "softshrink"])
def test_float16(be, name):
    if be.name == "strict":
        pytest.skip("array-api-strict has no float16")
    ours, theirs, points = ELEMENTWISE[name]
    check_function(ours, theirs, _with(points, "float16"))


@pytest.mark.parametrize("name", ["relu", "relu6", "hardtanh", "softsign", "tanhshrink",
                                  "sigmoid", "tanh", "threshold"])
def test_integer_inputs_as_pytorch(be, name):
    ours, theirs, _ = ELEMENTWISE[name]
    check_function(ours, theirs, np.array([-7, -1, 0, 1, 5, 9]), grad=False)
    check_function(ours, theirs, np.array([[-3, 0, 2]], dtype=np.int32), grad=False)


def test_hardtanh_and_threshold_truncate_float_options_for_integers(be):
    x = np.array([-3, -1, 0, 1, 3])
    check_function(lambda t: F.hardtanh(t, -1.5, 1.5), lambda t: TF.hardtanh(t, -1.5, 1.5), x)
    check_function(lambda t: F.threshold(t, 0.5, 7.9), lambda t: TF.threshold(t, 0.5, 7.9), x)


@pytest.mark.parametrize("name", ["leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish",
                                  "hardsigmoid", "hardswish", "logsigmoid", "softplus",
                                  "softshrink", "hardshrink", "rrelu_eval"])
def test_integer_inputs_refused(be, name):
    with pytest.raises(it.DTypeError, match="floating point.*int64"):
        ELEMENTWISE[name][0](it.asarray(np.array([1, -2])))


@pytest.mark.parametrize("call", [F.relu, lambda x: F.relu(x, inplace=True), F.gelu, F.softmax,
                                  F.hardtanh, lambda x: F.threshold(x, 0.0, 1.0), F.glu, F.prelu])
def test_non_tensor_input_refused(be, call):
    with pytest.raises(TypeError, match="Tensor"):
        call([1.0, -2.0]) if call is not F.prelu else call([1.0], it.ones(1))


def test_bool_inputs_refused(be):
    b = it.asarray(np.array([True, False]))
    for fn in (F.relu, lambda t: F.threshold(t, 0, 1)):
        with pytest.raises(TypeError, match="bool"):
            fn(b)


# ------------------------------------------------------------------ second derivatives

@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "elu", "selu", "celu_2", "silu", "mish",
                                  "softplus_beta", "logsigmoid", "softsign", "tanhshrink",
                                  "hardswish"])
def test_second_derivatives_match_pytorch(be, name):
    ours, theirs, _ = ELEMENTWISE[name]
    x = _rand((7,), "float64", seed=4)

    def run(lib, fn):
        t = lib.asarray(x.copy()).requires_grad_()
        g, = lib.autograd.grad(fn(t).sum(), (t,), create_graph=True)
        (g * g).sum().backward()
        return g, t.grad

    for o, t, what in zip(run(it, ours), run(torch, theirs), ("first", "second")):
        assert_same(o, t, f"{what} derivative")


def test_gelu_primitive_gradcheck_to_third_order(be):
    """float64 finite differences of gelu's raw-array backward, its recorded backward
    (create_graph), and one order further: the normal CDF primitive that the recorded
    backward uses, through its own recorded backward."""
    x = it.asarray(_rand((7,), "float64", seed=4) * 2).requires_grad_()
    assert it.autograd.gradcheck(F.gelu, (x,))
    assert it.autograd.gradgradcheck(F.gelu, (x,))

    def first(x):
        return it.autograd.grad(F.gelu(x).sum(), (x,), create_graph=True)[0]
    assert it.autograd.gradgradcheck(first, (x,))


# ------------------------------------------------------------------ stability

def test_stable_at_large_inputs(be):
    x = it.asarray(np.array([-1e4, -100.0, 100.0, 1e4])).requires_grad_()
    sp = F.softplus(x, threshold=1e6)            # PyTorch overflows to inf here
    ls = F.logsigmoid(x)
    (sp.sum() + ls.sum()).backward()
    np.testing.assert_allclose(to_np(sp), [0.0, math.exp(-100), 100.0, 1e4], rtol=1e-12)
    np.testing.assert_allclose(to_np(ls), [-1e4, -100.0, -math.exp(-100), 0.0], rtol=1e-12,
                               atol=1e-300)
    # d softplus = sigmoid(x), d logsigmoid = sigmoid(-x): together 1 everywhere
    np.testing.assert_allclose(to_np(x.grad), [1.0, 1.0, 1.0, 1.0], rtol=1e-12)


def test_softmax_family_with_large_and_infinite_logits(be):
    big = np.array([[1e4, -1e4, 0.0], [3e38, 3e38, -3e38]], dtype="float32")
    for ours, theirs in [(F.softmax, TF.softmax), (F.log_softmax, TF.log_softmax)]:
        check_function(ours, theirs, big, dim=1)
    inf_rows = np.array([[0.0, -INF, 1.0], [-INF, -INF, -INF], [INF, 0.0, 1.0]])
    for ours, theirs in [(F.softmax, TF.softmax), (F.log_softmax, TF.log_softmax),
                         (F.softmin, TF.softmin)]:
        check_function(ours, theirs, inf_rows, dim=1)


# ------------------------------------------------------------------ softmax family

SOFTMAXES = [(F.softmax, TF.softmax), (F.log_softmax, TF.log_softmax), (F.softmin, TF.softmin)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, dim", [((4, 5), 1), ((4, 5), 0), ((2, 3, 4), -1), ((2, 3, 4), 1),
                                        ((5,), 0), ((), 0), ((), -1), ((0, 3), 1), ((2, 0), 1)])
@pytest.mark.parametrize("pair", SOFTMAXES, ids=["softmax", "log_softmax", "softmin"])
def test_softmax_family_matches_pytorch(be, pair, shape, dim, dtype):
    check_function(pair[0], pair[1], _rand(shape, dtype, seed=5), dim)


@pytest.mark.parametrize("pair", SOFTMAXES, ids=["softmax", "log_softmax", "softmin"])
def test_softmax_family_dtype_argument(be, pair):
    x = _rand((3, 4), "float32")
    xo, xt = it.asarray(x.copy()).requires_grad_(), torch.from_numpy(x.copy()).requires_grad_()
    yo, yt = pair[0](xo, 1, dtype=it.float64), pair[1](xt, 1, dtype=torch.float64)
    assert_same(yo, yt, "output")
    g = _rand((3, 4), "float64", seed=1)
    yo.backward(it.asarray(g))
    yt.backward(torch.from_numpy(g))
    assert_same(xo.grad, xt.grad, "gradient")               # float32, as the input
    ints = np.array([[1, 2, 3], [0, -1, 4]])
    assert_same(pair[0](it.asarray(ints), 1, dtype=it.float64),
                pair[1](torch.from_numpy(ints), 1, dtype=torch.float64), "integer input")


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4), (1, 2, 3, 2)])
@pytest.mark.parametrize("pair", SOFTMAXES, ids=["softmax", "log_softmax", "softmin"])
def test_softmax_implicit_dim_warns_and_picks_pytorchs(be, pair, shape):
    x = _rand(shape, seed=6)
    with pytest.warns(UserWarning, match="implicit"):
        out = pair[0](it.asarray(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = pair[1](torch.from_numpy(x))
    assert_same(out, expected, "output")


def test_softmax_warning_points_at_the_caller(be):
    with pytest.warns(UserWarning) as rec:
        F.softmax(it.ones(2, 3))
    assert rec[0].filename == __file__
    with pytest.warns(UserWarning) as rec:
        nn.Softmax()(it.ones(2, 3))
    assert rec[0].filename == __file__


def test_softmax_errors(be):
    x = it.ones(2, 3)
    for fn in (F.softmax, F.log_softmax, F.softmin):
        with pytest.raises(IndexError, match="dim 2 is out of range for a 2-d tensor"):
            fn(x, 2)
        with pytest.raises(IndexError, match="dim -3 is out of range"):
            fn(it.ones(2, 0), -3)
        with pytest.raises(IndexError, match="dim 1 is out of range for a 0-d tensor"):
            fn(it.tensor(1.0), 1)
    with pytest.raises(TypeError, match="dim must be an int, got tuple"):
        F.log_softmax(x, (0, 1))
    with pytest.raises(it.DTypeError, match="floating point.*int64.*dtype="):
        F.softmax(it.asarray(np.array([1, 2])), 0)


# ------------------------------------------------------------------ glu

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, dim", [((4, 6), -1), ((4, 6), 0), ((2, 4, 3), 1), ((2,), 0),
                                        ((0, 4), 1), ((3, 0), 1)])
def test_glu_matches_pytorch(be, shape, dim, dtype):
    check_function(F.glu, TF.glu, _rand(shape, dtype), dim)


def test_glu_errors(be):
    with pytest.raises(it.ShapeError, match="even.*dim 1 has size 3"):
        F.glu(it.ones(2, 3))
    with pytest.raises(it.ShapeError, match="0-d"):
        F.glu(it.tensor(1.0))
    with pytest.raises(IndexError, match="dim 2 is out of range for a 2-d"):
        F.glu(it.ones(2, 4), 2)


# ------------------------------------------------------------------ in place

INPLACE = {
    "relu": (lambda x, i: F.relu(x, inplace=i), TF.relu),
    "relu6": (lambda x, i: F.relu6(x, inplace=i), TF.relu6),
    "leaky_relu": (lambda x, i: F.leaky_relu(x, -0.2, i), lambda x: TF.leaky_relu(x, -0.2)),
    "elu": (lambda x, i: F.elu(x, 1.0, i), TF.elu),
    "selu": (lambda x, i: F.selu(x, i), TF.selu),
    "celu": (lambda x, i: F.celu(x, 2.0, i), lambda x: TF.celu(x, 2.0)),
    "hardtanh": (lambda x, i: F.hardtanh(x, -1.0, 0.5, i), lambda x: TF.hardtanh(x, -1.0, 0.5)),
    "threshold": (lambda x, i: F.threshold(x, 0.0, 5.0, i), lambda x: TF.threshold(x, 0.0, 5.0)),
    "silu": (lambda x, i: F.silu(x, i), TF.silu),
    "mish": (lambda x, i: F.mish(x, i), TF.mish),
    "hardsigmoid": (lambda x, i: F.hardsigmoid(x, i), TF.hardsigmoid),
    "hardswish": (lambda x, i: F.hardswish(x, i), TF.hardswish),
    "rrelu_eval": (lambda x, i: F.rrelu(x, 0.1, 0.3, False, i), lambda x: TF.rrelu(x, 0.1, 0.3)),
}
UNDERSCORED = {
    "relu_": (F.relu_, TF.relu),
    "leaky_relu_": (lambda x: F.leaky_relu_(x, 0.3), lambda x: TF.leaky_relu(x, 0.3)),
    "elu_": (lambda x: F.elu_(x, 0.5), lambda x: TF.elu(x, 0.5)),
    "selu_": (F.selu_, TF.selu),
    "celu_": (lambda x: F.celu_(x, 0.5), lambda x: TF.celu(x, 0.5)),
    "hardtanh_": (lambda x: F.hardtanh_(x, -0.5, 2.0), lambda x: TF.hardtanh(x, -0.5, 2.0)),
    "threshold_": (lambda x: F.threshold_(x, 1.0, 0.0), lambda x: TF.threshold(x, 1.0, 0.0)),
    "rrelu_": (lambda x: F.rrelu_(x, 0.2, 0.4), lambda x: TF.rrelu(x, 0.2, 0.4)),
}


def _inplace_run(fn, points):
    """fn applied in place to a non-leaf ``x * 1``: (result is the input, values, grad)."""
    a = _with(points, "float64", seed=7)
    x = it.asarray(a.copy()).requires_grad_()
    y = x * 1.0
    out = fn(y)
    assert out is y
    out.backward(it.asarray(_rand(a.shape, "float64", seed=8)))
    return out, x.grad


def _torch_out_of_place(fn, points):
    a = _with(points, "float64", seed=7)
    x = torch.from_numpy(a.copy()).requires_grad_()
    out = fn(x)
    out.backward(torch.from_numpy(_rand(a.shape, "float64", seed=8)))
    return out, x.grad


@pytest.mark.parametrize("name", sorted(INPLACE) + sorted(UNDERSCORED))
def test_inplace_writes_the_input_and_keeps_gradients_right(be, name):
    if name in INPLACE:
        ours_fn, theirs = INPLACE[name]
        ours = lambda x: ours_fn(x, True)    # noqa: E731
    else:
        ours, theirs = UNDERSCORED[name]
    points = [0.0, -1.0, 0.5, 1.0, 3.0, -3.0, 6.0]
    (o, go), (t, gt) = _inplace_run(ours, points), _torch_out_of_place(theirs, points)
    assert_same(o, t, "output")
    assert_same(go, gt, "gradient", TOL64.get(name))


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_false_leaves_the_input_alone(be, name):
    a = _rand((5,), "float32")
    x = it.asarray(a.copy())
    out = INPLACE[name][0](x, False)
    assert out is not x
    np.testing.assert_array_equal(to_np(x), a)


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_on_a_leaf_that_requires_grad_is_refused(be, name):
    x = it.asarray(_rand((3,), "float32")).requires_grad_()
    with pytest.raises(RuntimeError, match="leaf Variable"):
        INPLACE[name][0](x, True)
    with it.no_grad():                       # allowed without recording, as in PyTorch
        y = INPLACE[name][0](x, True)
    assert y is x


def test_inplace_relu_inside_a_network_trains_as_pytorchs(be):
    """The ResNet pattern: ReLU(inplace=True) on a layer's output, in a recorded graph."""
    def net(lib):
        lnn = lib.nn
        return lnn.Sequential(lnn.Linear(3, 4), lnn.ReLU(inplace=True), lnn.Linear(4, 2),
                              lnn.LeakyReLU(0.1, inplace=True), lnn.Linear(2, 2),
                              lnn.Hardtanh(-0.5, 0.5, inplace=True))
    check_module(net(it), net(torch), _rand((5, 3)))


def test_inplace_on_a_view_writes_the_base(be):
    base = it.asarray(_rand((2, 4), "float64")).requires_grad_()
    b = base * 1.0
    F.elu(b[:, 1:3], inplace=True)
    b.sum().backward()
    tb = torch.from_numpy(_rand((2, 4), "float64")).requires_grad_()
    tt = tb * 1.0
    tt[:, 1:3] = TF.elu(tt[:, 1:3].clone())
    tt.sum().backward()
    assert_same(b, tt, "output")
    assert_same(base.grad, tb.grad, "gradient")


# ------------------------------------------------------------------ prelu

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, n", [((4, 3), 3), ((4, 3), 1), ((2, 3, 5), 3), ((2, 3, 2, 2), 3),
                                      ((5,), 1), ((), 1), ((0, 3), 3), ((2, 3, 2, 2), 1)])
def test_prelu_matches_pytorch(be, shape, n, dtype):
    x = _rand(shape, dtype)
    if x.size >= 3:
        x.flat[:3] = [0.0, INF, -INF]            # inf: no NaN in the weight's gradient
    check_function(F.prelu, TF.prelu, x, _rand((n,), dtype, seed=1, scale=0.5))


def test_prelu_scalar_weight_and_nan(be):
    check_function(F.prelu, TF.prelu, np.array([NAN]), np.array(0.3))
    check_function(F.prelu, TF.prelu, _rand((2, 3)), np.array(0.3, dtype="float32"))


def test_prelu_errors(be):
    with pytest.raises(it.ShapeError, match="2 elements.*1 or the input's number of channels 4"):
        F.prelu(it.ones(3, 4), it.ones(2))
    with pytest.raises(it.ShapeError, match="3 elements.*channels 1"):
        F.prelu(it.ones(3), it.ones(3))
    with pytest.raises(it.ShapeError, match="0-d or 1-d.*\\(3, 1\\)"):
        F.prelu(it.ones(2, 3), it.ones(3, 1))
    with pytest.raises(it.DTypeError, match="float32.*float64"):
        F.prelu(it.ones(2, 3), it.ones(3, dtype=it.float64))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 3])
def test_prelu_module_matches_pytorch(be, n, dtype):
    ours = nn.PReLU(n, init=0.1, dtype=getattr(it, dtype))
    theirs = torch.nn.PReLU(n, init=0.1, dtype=getattr(torch, dtype))
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(_rand((n,), dtype, seed=2)))
    check_module(ours, theirs, _rand((2, 3, 4), dtype))


def test_prelu_default_init_and_parameter(be):
    m = nn.PReLU(4, init=0.3)
    assert list(m.state_dict()) == ["weight"] and tuple(m.weight.shape) == (4,)
    assert m.weight.requires_grad and isinstance(m.weight, nn.Parameter)
    np.testing.assert_array_equal(to_np(m.weight), np.full(4, 0.3, np.float32))
    np.testing.assert_array_equal(to_np(nn.PReLU().weight), [0.25])
    assert nn.PReLU(2, dtype=it.float64).weight.dtype == it.float64
    with it.no_grad():
        m.weight.fill_(1.0)
    m.reset_parameters()
    np.testing.assert_array_equal(to_np(m.weight), np.full(4, 0.3, np.float32))


# ------------------------------------------------------------------ rrelu

def test_rrelu_training_draws_slopes_in_range(be):
    it.manual_seed(0)
    x = it.asarray(np.concatenate([-np.ones(2000), np.arange(1, 201, dtype=float), [0.0]]))
    x.requires_grad_()
    y = F.rrelu(x, 0.1, 0.3, training=True)
    y.sum().backward()
    slopes = to_np(y)[:2000] * -1
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    assert abs(slopes.mean() - 0.2) < 0.01 and abs(slopes.std() - 0.2 / math.sqrt(12)) < 0.01
    grad = to_np(x.grad)
    np.testing.assert_array_equal(grad[:2000], slopes)            # the gradient is the slope
    np.testing.assert_array_equal(to_np(y)[2000:2200], np.arange(1, 201))
    np.testing.assert_array_equal(grad[2000:2200], np.ones(200))
    assert 0.1 <= grad[-1] <= 0.3                                 # at 0: a drawn slope


def test_rrelu_module_train_and_eval(be):
    m = nn.RReLU(0.2, 0.4)
    x = it.asarray(-np.ones(500, np.float32))
    y = to_np(m(x))
    assert len(np.unique(y)) > 100 and (-0.4 <= y).all() and (y <= -0.2).all()
    m.eval()
    check_module(m, torch.nn.RReLU(0.2, 0.4), _rand((3, 4)), train=False)


def test_rrelu_errors(be):
    for training in (False, True):
        with pytest.raises(it.ArgumentError, match="lower=0.5 and upper=0.1"):
            F.rrelu(it.ones(2), 0.5, 0.1, training)


# ------------------------------------------------------------------ gumbel_softmax

def test_gumbel_softmax_soft_and_hard(be):
    it.manual_seed(1)
    logits = it.asarray(np.log(np.tile([[0.1, 0.2, 0.7]], (3000, 1)))).requires_grad_()
    y = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(to_np(y).sum(1), np.ones(3000), rtol=1e-12)
    hard = F.gumbel_softmax(logits, hard=True)
    h = to_np(hard)
    assert set(np.unique(h)) <= {0.0, 1.0} and (h.sum(1) == 1).all()
    np.testing.assert_allclose(h.mean(0), [0.1, 0.2, 0.7], atol=0.03)   # Gumbel-max sampling
    w = it.asarray(_rand((3000, 3), "float64"))
    (hard * w).sum().backward()
    assert np.isfinite(to_np(logits.grad)).all() and np.abs(to_np(logits.grad)).sum() > 0
    with pytest.warns(UserWarning, match="eps"):
        F.gumbel_softmax(logits.detach(), eps=1e-3)


def test_gumbel_softmax_hard_gradient_is_the_soft_ones(be):
    logits = _rand((4, 5), "float64")
    it.manual_seed(3)
    a = it.asarray(logits).requires_grad_()
    F.gumbel_softmax(a, tau=2.0, hard=True, dim=0).sum().backward()
    it.manual_seed(3)
    b = it.asarray(logits).requires_grad_()
    F.gumbel_softmax(b, tau=2.0, dim=0).sum().backward()
    np.testing.assert_allclose(to_np(a.grad), to_np(b.grad), atol=1e-12)


# ------------------------------------------------------------------ errors

def test_option_errors(be):
    x = it.ones(3)
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val.*2.0.*1.0"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(it.ArgumentError, match="lambd must be non-negative, got -1"):
        F.softshrink(x, -1.0)
    with pytest.raises(it.ArgumentError, match="alpha cannot be 0"):
        F.celu(x, 0.0)
    with pytest.raises(it.ArgumentError, match="'none' or 'tanh', got 'exact'"):
        F.gelu(x, approximate="exact")
    with pytest.raises(it.ArgumentError, match="'none' or 'tanh', got 'foo'"):
        nn.GELU("foo")(x)
    with pytest.raises(ValueError, match=r"max_val \(1.0\) must be greater than min_val \(2.0\)"):
        nn.Hardtanh(2.0, 1.0)
    with pytest.raises(ValueError, match="3D or 4D, got 2D"):
        nn.Softmax2d()(it.ones(2, 3))


# ------------------------------------------------------------------ modules

MODULES = [
    ("Threshold", (0.1, 20.0), {}), ("Threshold", (0.5, -1.0, True), {}),
    ("ReLU", (), {}), ("ReLU", (True,), {}),
    ("RReLU", (), {}), ("RReLU", (0.1, 0.2, True), {}),
    ("Hardtanh", (), {}), ("Hardtanh", (-2, 3, True), {}), ("Hardtanh", (-2.0, 3.0), {}),
    ("ReLU6", (), {}), ("ReLU6", (True,), {}),
    ("Sigmoid", (), {}), ("Tanh", (), {}),
    ("Hardsigmoid", (), {}), ("Hardsigmoid", (True,), {}),
    ("SiLU", (), {}), ("SiLU", (True,), {}), ("Mish", (), {}), ("Mish", (True,), {}),
    ("Hardswish", (), {}), ("Hardswish", (True,), {}),
    ("ELU", (), {}), ("ELU", (0.5, True), {}), ("CELU", (), {}), ("CELU", (2.0, True), {}),
    ("SELU", (), {}), ("SELU", (True,), {}),
    ("GLU", (), {}), ("GLU", (1,), {}),
    ("GELU", (), {}), ("GELU", ("tanh",), {}),
    ("Hardshrink", (), {}), ("Hardshrink", (0.3,), {}),
    ("LeakyReLU", (), {}), ("LeakyReLU", (0.2, True), {}), ("LeakyReLU", (1,), {}),
    ("LogSigmoid", (), {}), ("Softplus", (), {}), ("Softplus", (2, 10), {}),
    ("Softshrink", (), {}), ("Softshrink", (0.3,), {}),
    ("PReLU", (), {}), ("PReLU", (4, 0.1), {}),
    ("Softsign", (), {}), ("Tanhshrink", (), {}),
    ("Softmin", (1,), {}), ("Softmin", (), {"dim": -1}),
    ("Softmax", (1,), {}), ("Softmax", (), {}), ("Softmax2d", (), {}),
    ("LogSoftmax", (0,), {}), ("LogSoftmax", (), {"dim": 1}),
]


def _ids(m):
    return f"{m[0]}{m[1]}{m[2] or ''}"


@pytest.mark.parametrize("case", MODULES, ids=_ids)
def test_module_repr_matches_pytorch(case):
    name, args, kwargs = case
    assert repr(getattr(nn, name)(*args, **kwargs)) == \
        repr(getattr(torch.nn, name)(*args, **kwargs))


@pytest.mark.parametrize("case", [m for m in MODULES if m[0] != "RReLU"], ids=_ids)
def test_module_matches_pytorch(be, case):
    name, args, kwargs = case
    ours = getattr(nn, name)(*args, **kwargs).double()
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    x = _rand((2, 4, 2, 2), "float64")
    x.flat[:4] = [0.0, -3.0, 3.0, 1.0]
    tol = TOL64.get(name.lower())
    if ours.__dict__.get("inplace"):
        # a leaf input cannot be changed in place while it requires grad
        check_module(ours, theirs, x, grad=False, tol=tol)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # Softmax() without dim
        check_module(ours, theirs, x, tol=tol)


def test_module_attributes_match_pytorch():
    for name, args, kwargs in MODULES:
        ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
        for k in ("inplace", "negative_slope", "alpha", "lower", "upper", "min_val", "max_val",
                  "threshold", "value", "beta", "lambd", "dim", "approximate", "num_parameters",
                  "init"):
            assert getattr(ours, k, None) == getattr(theirs, k, None), (name, k)


def test_hardtanh_deprecated_keywords():
    with pytest.warns(FutureWarning, match="min_value"):
        m = nn.Hardtanh(min_value=-3.0)
    assert m.min_val == -3.0 and repr(m) == "Hardtanh(min_val=-3.0, max_val=1.0)"


def test_modules_take_no_stray_arguments():
    with pytest.raises(TypeError):
        nn.Sigmoid(1)


def test_softmax2d_matches_pytorch(be):
    check_module(nn.Softmax2d(), torch.nn.Softmax2d(), _rand((3, 2, 2)))
    check_module(nn.Softmax2d(), torch.nn.Softmax2d(), _rand((2, 3, 2, 2)))


def test_functional_names_exist():
    for name in ["relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "prelu", "rrelu",
                 "rrelu_", "elu", "elu_", "selu", "selu_", "celu", "celu_", "gelu", "silu",
                 "mish", "sigmoid", "tanh", "hardtanh", "hardtanh_", "hardsigmoid", "hardswish",
                 "logsigmoid", "softplus", "softsign", "softshrink", "hardshrink", "tanhshrink",
                 "threshold", "threshold_", "glu", "softmax", "log_softmax", "softmin",
                 "gumbel_softmax"]:
        assert callable(getattr(F, name)), name
