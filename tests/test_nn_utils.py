"""nn.utils against PyTorch's: gradient clipping (returned norms and clipped gradients),
parameter vectors, parametrize (custom parametrizations, chaining, caching, removal,
state_dict layout) and the weight_norm / spectral_norm parametrizations (forward,
gradients, power-iteration buffers, state_dict keys, loading PyTorch's state_dict)."""

import numpy as np
import pytest

import interop as it
from interop import nn
from interop.nn.utils import clip_grad, convert_parameters, parametrizations, parametrize
from helpers import to_np
from torch_compare import assert_same, check_module, load_twin

torch = pytest.importorskip("torch")
TU = torch.nn.utils


def _rand(shape, dtype="float32", seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _params_with_grads(lib, dtypes=("float32", "float32", "float32"), scale=1.0):
    """Three parameters with gradients and one without, the same in either library."""
    out = []
    for i, dt in enumerate(dtypes):
        p = lib.nn.Parameter(lib.asarray(_rand((3, 2 + i), dt, i)))
        p.grad = lib.asarray(_rand((3, 2 + i), dt, 10 + i) * scale)
        out.append(p)
    out.append(lib.nn.Parameter(lib.asarray(_rand((2,), dtypes[0], 9))))
    return out


# ------------------------------------------------------------------ clipping

@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf"), "inf", 0.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_pytorch(be, norm_type, max_norm):
    ours, theirs = _params_with_grads(it), _params_with_grads(torch)
    n_o = clip_grad.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    n_t = TU.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert_same(n_o, n_t, "total norm")
    for i, (o, t) in enumerate(zip(ours, theirs)):
        assert_same(o.grad, t.grad, f"clipped gradient {i}")


def test_clip_grad_norm_mixed_dtypes_single_tensor_and_foreach(be):
    dts = ("float32", "float64", "float32")
    ours, theirs = _params_with_grads(it, dts, 5.0), _params_with_grads(torch, dts, 5.0)
    # a float64 total of float32 norms: float32's rounding, whatever the result dtype
    assert_same(clip_grad.clip_grad_norm_(ours, 1.0, foreach=True),
                TU.clip_grad_norm_(theirs, 1.0, foreach=False), "total norm", tol=1e-6)
    for o, t in zip(ours, theirs):
        assert_same(o.grad, t.grad, "clipped gradient", tol=1e-6)
    p_o, p_t = ours[0], theirs[0]
    assert_same(clip_grad.clip_grad_norm_(p_o, 0.1), TU.clip_grad_norm_(p_t, 0.1), "one tensor")
    assert_same(p_o.grad, p_t.grad, "clipped gradient")
    assert_same(clip_grad.clip_grad_norm_(iter([p_o]), 0.01),
                TU.clip_grad_norm_(iter([p_t]), 0.01), "a generator of parameters")


def test_clip_grad_norm_without_gradients(be):
    p = nn.Parameter(it.ones(3))
    n = clip_grad.clip_grad_norm_([p], 1.0)
    assert n.item() == 0.0 and n.dtype == it.float32 and p.grad is None
    assert clip_grad.get_total_norm([]).item() == 0.0


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")     # NumPy's inf * 0
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_clip_grad_norm_nonfinite(be, bad):
    def params(lib):
        p = lib.nn.Parameter(lib.ones(3))
        p.grad = lib.asarray(np.array([1.0, bad, 2.0], np.float32))
        return [p]
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad.clip_grad_norm_(params(it), 1.0, error_if_nonfinite=True)
    ours, theirs = params(it), params(torch)
    assert_same(clip_grad.clip_grad_norm_(ours, 1.0), TU.clip_grad_norm_(theirs, 1.0), "norm")
    assert_same(ours[0].grad, theirs[0].grad, "gradient scaled by a non-finite norm")


def test_get_total_norm_and_clip_grads_with_norm(be):
    ours, theirs = _params_with_grads(it), _params_with_grads(torch)
    grads_o, grads_t = [p.grad for p in ours[:3]], [p.grad for p in theirs[:3]]
    for p in (1.0, 2.0, float("inf"), -float("inf")):
        assert_same(clip_grad.get_total_norm(grads_o, p), TU.get_total_norm(grads_t, p), str(p))
    total_o = clip_grad.get_total_norm(grads_o)
    clip_grad.clip_grads_with_norm_(ours, 0.3, total_o)
    TU.clip_grads_with_norm_(theirs, 0.3, TU.get_total_norm(grads_t))
    for o, t in zip(ours, theirs):
        assert_same(o.grad, t.grad, "clipped gradient")
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad.get_total_norm([it.asarray([np.inf])], error_if_nonfinite=True)


@pytest.mark.parametrize("clip_value", [0.5, 2, 0.0])
def test_clip_grad_value_matches_pytorch(be, clip_value):
    ours, theirs = _params_with_grads(it), _params_with_grads(torch)
    assert clip_grad.clip_grad_value_(ours, clip_value) is None
    TU.clip_grad_value_(theirs, clip_value)
    for o, t in zip(ours, theirs):
        assert_same(o.grad, t.grad, "clamped gradient")


def test_clip_leaves_parameters_and_graph_alone(be):
    p = nn.Parameter(it.asarray(_rand((3,))))
    before = to_np(p)
    (p * 10).sum().backward()
    clip_grad.clip_grad_norm_([p], 1.0)
    clip_grad.clip_grad_value_([p], 0.1)
    np.testing.assert_array_equal(to_np(p), before)
    assert p.is_leaf and p.grad.grad_fn is None
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        clip_grad.clip_grad_norm([p], 1.0)


# ------------------------------------------------------------------ parameter vectors

def test_parameters_to_vector_and_back(be):
    lin = nn.Linear(3, 2)
    vec = convert_parameters.parameters_to_vector(lin.parameters())
    expected = np.concatenate([to_np(lin.weight).ravel(), to_np(lin.bias)])
    np.testing.assert_array_equal(to_np(vec), expected)
    vec.sum().backward()                    # differentiable, as PyTorch's
    assert to_np(lin.weight.grad).tolist() == [[1.0] * 3] * 2
    new = it.arange(8, dtype=it.float32)
    weight = lin.weight
    convert_parameters.vector_to_parameters(new, lin.parameters())
    assert lin.weight is weight and lin.weight.shape == (2, 3)
    assert to_np(lin.weight).tolist() == [[0, 1, 2], [3, 4, 5]]
    assert to_np(lin.bias).tolist() == [6, 7]
    out = lin(it.ones((1, 3)))
    assert out.shape == (1, 2)


def test_vector_to_parameters_errors(be):
    lin = nn.Linear(3, 2)
    with pytest.raises(TypeError, match="Tensor"):
        convert_parameters.vector_to_parameters([1.0] * 8, lin.parameters())
    with pytest.raises(ValueError, match="at least 8"):
        convert_parameters.vector_to_parameters(it.zeros(7), lin.parameters())


# ------------------------------------------------------------------ parametrize

def _symmetric(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).transpose(-1, -2)

        def right_inverse(self, a):
            return a.triu()
    return Symmetric()


def _scale(lib):
    class Scale(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("factor", lib.asarray(np.float32(2.0)))

        def forward(self, x):
            return x * self.factor

        def right_inverse(self, x):
            return x / self.factor
    return Scale()


def _sum_of_two(lib):
    class SumOfTwo(lib.nn.Module):
        def forward(self, a, b):
            return a + b

        def right_inverse(self, x):
            return x * 0.75, x * 0.25
    return SumOfTwo()


def test_register_parametrization_matches_pytorch(be):
    ours, theirs = nn.Linear(4, 4), torch.nn.Linear(4, 4)
    load_twin(ours, theirs)
    assert parametrize.register_parametrization(ours, "weight", _symmetric(it)) is ours
    TU.parametrize.register_parametrization(theirs, "weight", _symmetric(torch))
    assert type(ours).__name__ == "ParametrizedLinear" == type(theirs).__name__
    assert parametrize.type_before_parametrizations(ours) is nn.Linear
    assert parametrize.is_parametrized(ours) and parametrize.is_parametrized(ours, "weight")
    assert not parametrize.is_parametrized(ours, "bias")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert_same(ours.weight, theirs.weight, "parametrized weight")
    w = to_np(ours.weight)
    np.testing.assert_array_equal(w, w.T)
    check_module(ours, theirs, _rand((3, 4)))
    assert not parametrize.is_parametrized(nn.Linear(2, 2))
    assert parametrize.type_before_parametrizations(nn.Linear(2, 2)) is nn.Linear


def test_assigning_goes_through_right_inverse_and_chains(be):
    lin = nn.Linear(3, 3)
    parametrize.register_parametrization(lin, "weight", _symmetric(it))
    parametrize.register_parametrization(lin, "weight", _scale(it))
    assert len(lin.parametrizations.weight) == 2
    a = _rand((3, 3))
    sym = np.triu(a) + np.triu(a, 1).T
    lin.weight = it.asarray(sym)
    np.testing.assert_allclose(to_np(lin.weight), sym, rtol=1e-6)
    np.testing.assert_allclose(to_np(lin.parametrizations.weight.original), np.triu(sym) / 2,
                               rtol=1e-6)
    theirs = torch.nn.Linear(3, 3)
    TU.parametrize.register_parametrization(theirs, "weight", _symmetric(torch))
    TU.parametrize.register_parametrization(theirs, "weight", _scale(torch))
    assert list(lin.state_dict()) == list(theirs.state_dict())
    check_module(lin, theirs, _rand((2, 3), seed=4))


def test_multi_tensor_right_inverse_uses_original0_original1(be):
    ours, theirs = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    load_twin(ours, theirs)
    before = to_np(ours.weight)
    parametrize.register_parametrization(ours, "weight", _sum_of_two(it))
    TU.parametrize.register_parametrization(theirs, "weight", _sum_of_two(torch))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert isinstance(ours.parametrizations.weight.original0, nn.Parameter)
    np.testing.assert_allclose(to_np(ours.weight), before, rtol=1e-6)
    check_module(ours, theirs, _rand((4, 3)))
    with pytest.raises(ValueError, match="sequence of tensors"):
        parametrize.remove_parametrizations(ours, "weight", leave_parametrized=False)
    parametrize.remove_parametrizations(ours, "weight")
    assert type(ours) is nn.Linear and isinstance(ours.weight, nn.Parameter)
    np.testing.assert_allclose(to_np(ours.weight), before, rtol=1e-6)


@pytest.mark.parametrize("leave", [True, False])
def test_remove_parametrizations(be, leave):
    lin = nn.Linear(3, 3)
    weight = lin.weight
    raw = to_np(weight)
    parametrize.register_parametrization(lin, "weight", _symmetric(it))
    sym = to_np(lin.weight)
    assert "weight" not in lin._parameters
    parametrize.remove_parametrizations(lin, "weight", leave_parametrized=leave)
    assert type(lin) is nn.Linear and not hasattr(lin, "parametrizations")
    assert lin.weight is weight                 # the same Parameter object, as in PyTorch
    np.testing.assert_allclose(to_np(lin.weight), sym if leave else np.triu(raw), rtol=1e-6)
    assert list(lin.state_dict()) == ["bias", "weight"]      # re-registered last, as PyTorch
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(lin, "weight")


def test_parametrize_a_buffer_and_cached(be):
    m = nn.Module()
    m.register_buffer("table", it.asarray(_rand((3, 3))))
    parametrize.register_parametrization(m, "table", _symmetric(it))
    assert list(m.state_dict()) == ["parametrizations.table.original"]
    assert not m.parametrizations.table.original.requires_grad
    calls = []
    m.parametrizations.table[0].register_forward_hook(lambda *a: calls.append(1))
    with parametrize.cached():
        first = m.table
        assert m.table is first and len(calls) == 1
    assert m.table is not first and len(calls) == 2


def test_parametrize_errors(be):
    lin = nn.Linear(3, 3)
    with pytest.raises(ValueError, match="no_such"):
        parametrize.register_parametrization(lin, "no_such", _symmetric(it))
    with pytest.raises(TypeError, match="Module"):
        parametrize.register_parametrization(lin, "weight", lambda x: x)

    class Shrink(nn.Module):
        def forward(self, x):
            return x[:2]
    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(nn.Linear(3, 3), "weight", Shrink())
    lin = parametrize.register_parametrization(nn.Linear(3, 3), "weight", Shrink(), unsafe=True)
    assert lin.weight.shape == (2, 3)
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        lin.weight = it.zeros((2, 3))
    with pytest.raises(KeyError, match="already exists"):
        lin.weight = nn.Parameter(it.zeros((2, 3)))


# ------------------------------------------------------------------ weight_norm

def _conv_like(lib, shape):
    """A module with a 3-d weight (a convolution's layout) in either library."""
    class ConvLike(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = lib.nn.Parameter(lib.asarray(_rand(shape, seed=5)))

        def forward(self, x):
            return x @ self.weight.reshape(shape[0], -1).T
    return ConvLike()


@pytest.mark.parametrize("dim", [0, 1, None, -1, 2])
def test_weight_norm_matches_pytorch(be, dim):
    ours, theirs = _conv_like(it, (4, 3, 2)), _conv_like(torch, (4, 3, 2))
    parametrizations.weight_norm(ours, dim=dim)
    TU.parametrizations.weight_norm(theirs, dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "parametrizations.weight.original0", "parametrizations.weight.original1"]
    for k in ("original0", "original1"):
        assert_same(getattr(ours.parametrizations.weight, k),
                    getattr(theirs.parametrizations.weight, k), k)
    check_module(ours, theirs, _rand((5, 6)))


def test_weight_norm_on_linear_loads_old_style_state_dicts(be):
    ours = parametrizations.weight_norm(nn.Linear(3, 4, dtype=it.float64))
    with pytest.warns(FutureWarning):
        old = TU.weight_norm(torch.nn.Linear(3, 4, dtype=torch.float64))
    assert sorted(old.state_dict()) == ["bias", "weight_g", "weight_v"]
    load_twin(ours, old)
    x = _rand((2, 3), "float64")
    assert_same(ours(it.asarray(x)), old(torch.from_numpy(x)), "output")
    theirs = TU.parametrizations.weight_norm(torch.nn.Linear(3, 4, dtype=torch.float64))
    check_module(ours, theirs, x)
    assert repr(ours).startswith("ParametrizedLinear(")


# ------------------------------------------------------------------ spectral_norm

@pytest.mark.parametrize("n_iter, dim", [(1, None), (3, None), (2, 1)])
def test_spectral_norm_matches_pytorch(be, n_iter, dim):
    ours, theirs = _conv_like(it, (4, 3, 2)), _conv_like(torch, (4, 3, 2))
    parametrizations.spectral_norm(ours, n_power_iterations=n_iter, dim=dim)
    TU.parametrizations.spectral_norm(theirs, n_power_iterations=n_iter, dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "parametrizations.weight.original", "parametrizations.weight.0._u",
        "parametrizations.weight.0._v"]
    for train in (True, True, False):      # buffers advance in training mode only
        check_module(ours, theirs, _rand((5, 6)), train=train, load=train)
    u = ours.parametrizations.weight[0]._u
    assert_same(u, theirs.parametrizations.weight[0]._u, "_u after three calls")


def test_spectral_norm_normalizes_to_unit_spectral_norm(be):
    lin = nn.Linear(6, 5, dtype=it.float64)
    lin.weight = nn.Parameter(it.asarray(_rand((5, 6), "float64", 3)))    # sigma_2/sigma_1 = 0.72
    parametrizations.spectral_norm(lin, n_power_iterations=1)
    for _ in range(60):
        w = lin.weight
    s = np.linalg.svd(to_np(w), compute_uv=False)
    np.testing.assert_allclose(s[0], 1.0, rtol=1e-6)
    lin.eval()
    np.testing.assert_array_equal(to_np(lin.weight), to_np(lin.weight))


def test_spectral_norm_of_a_vector_and_errors(be):
    ours = parametrizations.spectral_norm(nn.Linear(3, 4), name="bias")
    theirs = TU.parametrizations.spectral_norm(torch.nn.Linear(3, 4), name="bias")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    check_module(ours, theirs, _rand((2, 3)))
    with pytest.raises(ValueError, match="n_power_iterations"):
        parametrizations.spectral_norm(nn.Linear(3, 4), n_power_iterations=0)
    with pytest.raises(IndexError, match="out of range"):
        parametrizations.spectral_norm(nn.Linear(3, 4), dim=2)
    with pytest.raises(ValueError, match="no parameter or buffer with name 'w'"):
        parametrizations.spectral_norm(nn.Linear(3, 4), name="w")
