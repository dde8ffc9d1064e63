"""Linear layers (``interop.nn.modules.linear``: Identity, Linear, Bilinear, LazyLinear) and
F.one_hot against PyTorch: outputs, input and parameter gradients (twins loading PyTorch's
weights), default-init statistics, reprs and the errors for bad input. Embedding and
EmbeddingBag are in test_nn_sparse.py."""

import math

import numpy as np
import pytest

import interop as it
from interop import nn
import interop.nn.functional as F
from helpers import to_np
from torch_compare import (assert_same, assert_same_distribution, check_function,
                           check_module, load_twin)

torch = pytest.importorskip("torch")
TF = torch.nn.functional

DTYPES = ["float32", "float64"]


def _rand(shape, dtype="float32", seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _dt(lib, dtype):
    return getattr(lib, dtype)


# ------------------------------------------------------------------ Linear

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 3), (3,), (0, 3)])
def test_linear_matches_pytorch(be, shape, bias, dtype):
    ours = nn.Linear(3, 5, bias=bias, dtype=_dt(it, dtype))
    theirs = torch.nn.Linear(3, 5, bias=bias, dtype=_dt(torch, dtype))
    check_module(ours, theirs, _rand(shape, dtype))


@pytest.mark.parametrize("bias_shape", [(5,), (1,), (4, 5), ()])
def test_functional_linear_broadcast_bias(be, bias_shape):
    check_function(F.linear, TF.linear, _rand((4, 3)), _rand((5, 3), seed=1),
                   _rand(bias_shape, seed=2))


def test_functional_linear_vector_weight_and_weight_only_gradient(be):
    check_function(F.linear, TF.linear, _rand((4, 3)), _rand((3,), seed=1))
    x = it.asarray(_rand((4, 3)))               # an input that needs no gradient
    w = it.asarray(_rand((2, 3), seed=1)).requires_grad_()
    F.linear(x, w).sum().backward()
    np.testing.assert_allclose(to_np(w.grad), np.tile(_rand((4, 3)).sum(0), (2, 1)), rtol=1e-5)


def test_linear_double_backward_matches_pytorch(be):
    x, w, b = _rand((4, 3), "float64"), _rand((2, 3), "float64", 1), _rand((2,), "float64", 2)

    def run(lib, lin):
        xt, wt, bt = (lib.asarray(a.copy()).requires_grad_() for a in (x, w, b))
        y = lin(xt, wt, bt).tanh().sum()
        gx, gw = lib.autograd.grad(y, (xt, wt), create_graph=True)
        ((gx ** 2).sum() + (gw ** 3).sum()).backward()
        return xt.grad, wt.grad, bt.grad

    for o, t, name in zip(run(it, F.linear), run(torch, TF.linear), "xwb"):
        assert_same(o, t, f"second-order gradient of {name}")


def _f64(shape, seed=0, grad=True):
    t = it.asarray(_rand(shape, "float64", seed))
    return t.requires_grad_() if grad else t


@pytest.mark.parametrize("x_shape, b_shape", [((4, 3), (5,)), ((2, 2, 3), (5,)),
                                              ((4, 3), (4, 5)), ((2, 2, 3), None)])
def test_linear_primitive_gradcheck_and_gradgradcheck(be, x_shape, b_shape):
    """float64 finite differences of the linear primitive's raw-array backward, and of its
    recorded backward (create_graph) one order up; 2-d and 3-d inputs, a broadcast bias."""
    x, w = _f64(x_shape), _f64((5, 3), 1)
    args = (x, w) if b_shape is None else (x, w, _f64(b_shape, 2))
    assert it.autograd.gradcheck(F.linear, args)
    assert it.autograd.gradgradcheck(F.linear, args)
    # one input needing no gradient: the other's gradient alone, through both backwards
    assert it.autograd.gradcheck(lambda w: F.linear(x.detach(), w), (w,))
    assert it.autograd.gradgradcheck(lambda x: F.linear(x, w.detach()), (x,))


def test_linear_backward_runs_on_raw_arrays(be):
    """An ordinary backward hands the primitive's backward the backend namespace and raw
    arrays: no tensor is made per gradient or saved input."""
    y = F.linear(_f64((4, 3)), _f64((5, 3), 1), _f64((5,), 2))
    node = y.grad_fn
    seen = []
    orig = type(node).backward

    def spy(self, xp, g, s):
        seen.append((xp is be.ns, isinstance(g, it.Tensor), isinstance(s.x, it.Tensor)))
        return orig(self, xp, g, s)
    type(node).backward = spy
    try:
        y.sum().backward()
    finally:
        type(node).backward = orig
    assert seen == [(True, False, False)]


def test_linear_weight_gradient_is_row_major(be):
    """Optimizer steps on a transposed gradient would run strided (much slower on NumPy)."""
    lin = nn.Linear(3, 4)
    lin(it.asarray(_rand((5, 3)))).sum().backward()
    assert lin.weight.grad.shape == (4, 3)
    if be.name == "cpu":
        assert lin.weight.grad.numpy().flags.c_contiguous


@pytest.mark.parametrize("args, match", [
    (((4, 3), (5, 2)), "features"),
    (((), (5, 3)), "at least 1-d"),
    (((4, 3), (2, 5, 3)), "1-d or 2-d"),
])
def test_linear_shape_errors(be, args, match):
    x, w = (it.zeros(s) for s in args)
    with pytest.raises(RuntimeError, match=match):
        F.linear(x, w)


def test_linear_bias_and_dtype_errors(be):
    x, w = it.zeros((4, 3)), it.zeros((5, 3))
    with pytest.raises(RuntimeError, match=r"bias of shape \(4,\)"):
        F.linear(x, w, it.zeros(4))
    with pytest.raises(TypeError, match="float64"):
        F.linear(x, w.astype(it.float64))
    with pytest.raises(TypeError, match="Tensor"):
        F.linear(x, np.zeros((5, 3)))


@pytest.mark.parametrize("dtype", DTYPES + ["int64"])
def test_identity_matches_pytorch(be, dtype):
    ours, theirs = nn.Identity(3, k=1), torch.nn.Identity(3, k=1)
    check_module(ours, theirs, np.arange(-3, 3).reshape(2, 3).astype(dtype))


def test_linear_repr_and_attributes(be):
    lin = nn.Linear(3, 4, bias=False)
    assert repr(lin) == repr(torch.nn.Linear(3, 4, bias=False))
    assert lin.bias is None and lin.in_features == 3 and lin.out_features == 4
    assert list(lin.state_dict()) == ["weight"]
    assert repr(nn.Identity(3, k=1)) == "Identity()"
    assert nn.Linear(np.int64(2), 3).in_features == 2
    with pytest.raises(ValueError, match="in_features must be a non-negative int, got 2.5"):
        nn.Linear(2.5, 3)
    x = it.zeros(2)
    assert nn.Identity()(x) is x


def test_linear_and_bilinear_default_init_match_pytorch(be):
    ours, theirs = nn.Linear(512, 256), torch.nn.Linear(512, 256)
    bound = 1 / math.sqrt(512)
    assert_same_distribution(ours.weight, theirs.weight, bound)
    assert_same_distribution(nn.Linear(512, 4096).bias, torch.nn.Linear(512, 4096).bias, bound)
    ours, theirs = nn.Bilinear(64, 8, 512), torch.nn.Bilinear(64, 8, 512)
    assert_same_distribution(ours.weight, theirs.weight, 1 / 8)
    assert_same_distribution(ours.bias, theirs.bias, 1 / 8)


def test_linear_factory_kwargs(be):
    lin = nn.Linear(2, 3, dtype=it.float64)
    assert lin.weight.dtype == it.float64 and lin.bias.dtype == it.float64
    assert lin.weight.requires_grad and lin.weight.is_leaf


# ------------------------------------------------------------------ Bilinear

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch", [(4,), (2, 3), (), (0,)])
def test_bilinear_matches_pytorch(be, batch, bias, dtype):
    ours = nn.Bilinear(3, 2, 4, bias=bias, dtype=_dt(it, dtype))
    theirs = torch.nn.Bilinear(3, 2, 4, bias=bias, dtype=_dt(torch, dtype))
    check_module(ours, theirs, _rand(batch + (3,), dtype), _rand(batch + (2,), dtype, 1))


@pytest.mark.parametrize("shapes, match", [
    (((3, 4), (2, 5), (6, 4, 5)), "batch dims"),
    (((3, 4), (3, 5), (6, 3, 5)), "input1 has 4 features"),
    (((3, 4), (3, 5), (6, 4, 6)), "input2 has 5 features"),
    (((3, 4), (3, 5), (4, 5)), "3-d"),
    (((2, 3, 4), (6, 5), (6, 4, 5)), "same number of dims"),
])
def test_bilinear_shape_errors(be, shapes, match):
    a, b, w = (it.zeros(s) for s in shapes)
    with pytest.raises(RuntimeError, match=match):
        F.bilinear(a, b, w)


def test_bilinear_bias_dtype_errors_and_repr(be):
    a, b, w = it.zeros((3, 4)), it.zeros((3, 5)), it.zeros((6, 4, 5))
    with pytest.raises(RuntimeError, match=r"bias must have shape \(6,\)"):
        F.bilinear(a, b, w, it.zeros(5))
    with pytest.raises(TypeError, match="input2: interop.float64"):
        F.bilinear(a, b.astype(it.float64), w)
    assert repr(nn.Bilinear(2, 3, 4, bias=False)) == repr(torch.nn.Bilinear(2, 3, 4, bias=False))


# ------------------------------------------------------------------ LazyLinear

def test_lazy_linear_infers_in_features_and_becomes_linear(be):
    lazy = nn.LazyLinear(4)
    assert repr(lazy) == repr(torch.nn.LazyLinear(4))
    assert isinstance(lazy.weight, nn.UninitializedParameter)
    assert repr(lazy.weight) == "<UninitializedParameter>"
    with pytest.raises(RuntimeError, match="uninitialized"):
        lazy.weight.shape
    assert [repr(v) for v in lazy.state_dict().values()] == ["<UninitializedParameter>"] * 2
    out = lazy(it.asarray(_rand((2, 3))))
    assert out.shape == (2, 4)
    assert type(lazy) is nn.Linear and type(lazy.weight) is nn.Parameter
    assert lazy.in_features == 3 and lazy.weight.shape == (4, 3) and lazy.bias.shape == (4,)
    assert repr(lazy) == "Linear(in_features=3, out_features=4, bias=True)"
    theirs = torch.nn.Linear(3, 4)
    check_module(lazy, theirs, _rand((5, 3), seed=1))


def test_lazy_linear_default_init_matches_pytorch(be):
    ours, theirs = nn.LazyLinear(256), torch.nn.LazyLinear(256)
    ours(it.zeros((1, 512)))
    theirs(torch.zeros(1, 512))
    assert_same_distribution(ours.weight, theirs.weight, 1 / math.sqrt(512))


def test_lazy_linear_loads_a_state_dict_before_its_first_call(be):
    ours, theirs = nn.LazyLinear(4, bias=False, dtype=it.float64), torch.nn.Linear(
        3, 4, bias=False, dtype=torch.float64)
    load_twin(ours, theirs)
    assert ours.weight.shape == (4, 3) and ours.weight.dtype == it.float64
    assert_same(ours.weight, theirs.weight, "weight")
    check_module(ours, theirs, _rand((2, 3), "float64"), load=False)
    assert type(ours) is nn.Linear


def test_lazy_buffer_and_a_custom_lazy_module(be):
    class LazyShift(nn._lazy.LazyModuleMixin, nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("shift", nn.UninitializedBuffer(dtype=it.float64))

        def initialize_parameters(self, x):
            self.shift.materialize(x.shape[-1:])
            self.shift.fill_(0.5)

        def forward(self, x):
            return x + self.shift

    m = LazyShift()
    assert m.has_uninitialized_params()
    assert [repr(v) for v in m.state_dict().values()] == ["<UninitializedBuffer>"]
    out = m(it.zeros((2, 3), dtype=it.float64))
    assert to_np(out).tolist() == [[0.5] * 3] * 2
    assert type(m.shift) is it.Tensor and m.shift.shape == (3,) and not m.has_uninitialized_params()
    assert type(m) is LazyShift and not m._forward_pre_hooks
    with pytest.raises(NotImplementedError, match="initialize_parameters"):
        type("Lazy", (nn._lazy.LazyModuleMixin, nn.Module), {})()(it.zeros(1))


# ------------------------------------------------------------------ one_hot

@pytest.mark.parametrize("values, n", [([0, 2, 1], -1), ([[0, 2], [1, 1]], 4), ([], 3),
                                       (2, 5)])
def test_one_hot_matches_pytorch(be, values, n):
    check_function(F.one_hot, TF.one_hot, np.array(values, np.int64), n, grad=False)


@pytest.mark.parametrize("values, n, exc, match", [
    ([0, 2], -1, None, None),
    ([0, -1], 3, ValueError, "non-negative"),
    ([0, 3], 3, ValueError, "smaller than num_classes=3"),
    ([], -1, ValueError, "empty"),
])
def test_one_hot_errors(be, values, n, exc, match):
    x = it.asarray(np.array(values, np.int64))
    if exc is None:
        with pytest.raises(TypeError, match="int64"):
            F.one_hot(x.astype(it.int32), n)
        return
    with pytest.raises(exc, match=match):
        F.one_hot(x, n)
