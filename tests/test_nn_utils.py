"""nn.utils against PyTorch's: gradient clipping (returned norms and clipped gradients),
parameter vectors, parametrize (custom parametrizations, chaining, caching, removal,
state_dict layout, ``transfer_parametrizations_and_params``), the weight_norm /
spectral_norm parametrizations (forward, gradients, power-iteration buffers, state_dict
keys, loading PyTorch's state_dict), the hook-based ``weight_norm`` / ``spectral_norm`` (and
their ``remove_*``), and the ``orthogonal`` parametrization with each of its maps. nn.utils.rnn
is in test_nn_rnn.py."""

from collections import OrderedDict
import warnings

import numpy as np
import pytest

import interop as it
from interop import nn
from interop.nn.utils import clip_grad, convert_parameters, parametrizations, parametrize
from interop.nn.utils import (weight_norm, remove_weight_norm, spectral_norm,
                              remove_spectral_norm)
from interop.nn.utils.parametrizations import _householder_product, _matrix_exp
from helpers import to_np
from torch_compare import assert_same, check_function, check_module, load_twin, np_of

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


def _holding(lib, shape, flat=False, seed=5):
    """A module with one weight of ``shape`` whose forward multiplies its input by it: as a
    matrix or stack of them (input (batch, shape[-2])), or with ``flat``, as a convolution's
    weight flattened to (shape[0], rest) (input (batch, rest))."""
    class Holding(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = lib.nn.Parameter(lib.asarray(_rand(shape, seed=seed)))

        def forward(self, x):
            if flat:
                return x @ self.weight.reshape(shape[0], -1).T
            return x @ self.weight
    return Holding()


def _old(fn, *args, **kwargs):
    """PyTorch's hook-based function, its deprecation warning silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return fn(*args, **kwargs)


# ------------------------------------------------------------------ weight_norm (hooks)

@pytest.mark.parametrize("dim", [0, 1, None, -2])
def test_weight_norm_hook_matches_pytorch(be, dim):
    ours, theirs = _holding(it, (4, 3, 2), True), _holding(torch, (4, 3, 2), True)
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        assert weight_norm(ours, dim=dim) is ours
    _old(TU.weight_norm, theirs, dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight_g", "weight_v"]
    assert_same(ours.weight_g, theirs.weight_g, "weight_g")
    assert "weight" not in ours._parameters and isinstance(ours.weight, it.Tensor)
    check_module(ours, theirs, _rand((5, 6)))
    # the weight is recomputed before every call, from the current g and v
    with it.no_grad():
        ours.weight_g.mul_(2.0)
    with torch.no_grad():
        theirs.weight_g.mul_(2.0)
    check_module(ours, theirs, _rand((5, 6), seed=1), load=False)
    assert_same(ours.weight, theirs.weight, "weight after the call")


def test_weight_norm_hook_remove_and_errors(be):
    with pytest.warns(FutureWarning):
        ours = weight_norm(nn.Linear(3, 4, dtype=it.float64))
    theirs = _old(TU.weight_norm, torch.nn.Linear(3, 4, dtype=torch.float64))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight_g",
                                                                    "weight_v"]
    check_module(ours, theirs, _rand((2, 3), "float64"))
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"), \
            pytest.warns(FutureWarning):
        weight_norm(ours)
    assert remove_weight_norm(ours) is ours
    TU.remove_weight_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight"]
    assert isinstance(ours.weight, nn.Parameter) and not ours._forward_pre_hooks
    assert_same(ours.weight, theirs.weight, "weight after remove_weight_norm")
    check_module(ours, theirs, _rand((2, 3), "float64"), load=False)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        remove_weight_norm(ours)
    m = nn.Module()
    m.register_buffer("weight", it.ones((2, 2)))
    with pytest.raises(KeyError, match="weight"), pytest.warns(FutureWarning):
        weight_norm(m)
    with pytest.raises(IndexError, match="out of range"), pytest.warns(FutureWarning):
        weight_norm(nn.Linear(3, 4), dim=2)


# ------------------------------------------------------------------ spectral_norm (hooks)

@pytest.mark.parametrize("n_iter, dim", [(1, None), (3, None), (2, 1)])
def test_spectral_norm_hook_matches_pytorch(be, n_iter, dim):
    ours, theirs = _holding(it, (4, 3, 2), True), _holding(torch, (4, 3, 2), True)
    assert spectral_norm(ours, n_power_iterations=n_iter, dim=dim) is ours
    TU.spectral_norm(theirs, n_power_iterations=n_iter, dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "weight_orig", "weight_u", "weight_v"]
    for name in ("weight_u", "weight_v"):
        assert tuple(getattr(ours, name).shape) == tuple(getattr(theirs, name).shape)
        np.testing.assert_allclose(np.linalg.norm(to_np(getattr(ours, name))), 1.0, rtol=1e-6)
    # u and v start random: PyTorch's are loaded by the first call, then they evolve
    for i, train in enumerate((True, True, False, True)):
        check_module(ours, theirs, _rand((5, 6), seed=i), train=train, load=i == 0)
        assert_same(ours.weight, theirs.weight, f"weight after call {i}")


def test_spectral_norm_hook_remove(be):
    ours = spectral_norm(nn.Linear(5, 4, dtype=it.float64))
    theirs = TU.spectral_norm(torch.nn.Linear(5, 4, dtype=torch.float64))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "bias", "weight_orig", "weight_u", "weight_v"]
    assert "weight" not in ours._parameters
    np.testing.assert_array_equal(to_np(ours.weight), to_np(ours.weight_orig))
    for i in range(2):
        check_module(ours, theirs, _rand((3, 5), "float64", i), load=i == 0)
    assert remove_spectral_norm(ours) is ours
    TU.remove_spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight"]
    assert isinstance(ours.weight, nn.Parameter) and ours.weight.requires_grad
    assert_same(ours.weight, theirs.weight, "weight after remove_spectral_norm")
    assert not (ours._forward_pre_hooks or ours._state_dict_hooks or
                ours._load_state_dict_pre_hooks)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        remove_spectral_norm(ours)


@pytest.mark.parametrize("with_metadata", [True, False])
def test_spectral_norm_hook_loads_version_0_checkpoints(be, with_metadata):
    """A checkpoint of the first format stored the normalized ``weight`` and no ``weight_v``:
    loading solves for ``v`` (told apart by the metadata's version, or by its keys)."""
    src = TU.spectral_norm(torch.nn.Linear(4, 3, dtype=torch.float64))
    for i in range(3):
        src(torch.from_numpy(_rand((2, 4), "float64", i)))
    state = src.state_dict()
    old = OrderedDict((k, v) for k, v in state.items() if k != "weight_v")
    old["weight"] = src.weight.detach()
    old._metadata = OrderedDict({"": {"version": 1, "spectral_norm": {"weight.version": 0}}})
    theirs = TU.spectral_norm(torch.nn.Linear(4, 3, dtype=torch.float64))
    theirs.load_state_dict(old if with_metadata else OrderedDict(old))
    ours = spectral_norm(nn.Linear(4, 3, dtype=it.float64))
    converted = OrderedDict((k, it.asarray(np_of(v))) for k, v in old.items())
    if with_metadata:
        converted._metadata = old._metadata
    ours.load_state_dict(converted)
    assert_same(ours.weight_v, theirs.weight_v, "solved weight_v")
    check_module(ours, theirs, _rand((2, 4), "float64"), train=False, load=False)
    # a current checkpoint (metadata version 1) loads as it is
    current = OrderedDict((k, it.asarray(np_of(v))) for k, v in state.items())
    current._metadata = {"": {"spectral_norm": {"weight.version": 1}}}
    ours.load_state_dict(current)
    assert_same(ours.weight_v, state["weight_v"], "loaded weight_v")
    with pytest.raises(RuntimeError, match='Missing key.*"weight_u"'):
        ours.load_state_dict({k: v for k, v in converted.items() if k != "weight_u"})


def test_spectral_norm_hook_errors_and_defaults(be):
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        spectral_norm(nn.Linear(3, 4), n_power_iterations=0)
    with pytest.raises(KeyError, match="'w'"):
        spectral_norm(nn.Linear(3, 4), name="w")
    with pytest.raises(IndexError, match="out of range"):
        spectral_norm(nn.Linear(3, 4), dim=2)
    lin = spectral_norm(nn.Linear(3, 4))
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
        spectral_norm(lin)
    meta = {}
    list(lin._state_dict_hooks.values())[0](lin, {}, "", meta)
    assert meta == {"spectral_norm": {"weight.version": 1}}
    ours = spectral_norm(nn.ConvTranspose2d(2, 3, 2))      # dim 1: the output channels
    theirs = TU.spectral_norm(torch.nn.ConvTranspose2d(2, 3, 2))
    assert tuple(ours.weight_u.shape) == tuple(theirs.weight_u.shape) == (3,)
    assert tuple(ours.weight_v.shape) == tuple(theirs.weight_v.shape) == (8,)
    ours = spectral_norm(nn.Linear(3, 4), name="bias")     # a vector: a (4, 1) matrix
    theirs = TU.spectral_norm(torch.nn.Linear(3, 4), name="bias")
    check_module(ours, theirs, _rand((2, 3)))


# ------------------------------------------------------------------ orthogonal

def _check_orthogonal(q, what):
    q = to_np(q)
    q = q.astype(np.result_type(q, np.float64))
    if q.shape[-2] < q.shape[-1]:
        q = np.swapaxes(q, -1, -2)
    gram = np.swapaxes(q, -1, -2).conj() @ q
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(q.shape[-1]), gram.shape),
                               atol=1e-5, err_msg=what)


_SHAPES = [(3, 3), (5, 3), (3, 5), (2, 3, 3)]


@pytest.mark.parametrize("trivialization", [True, False])
@pytest.mark.parametrize("shape", _SHAPES, ids=str)
@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
def test_orthogonal_matches_pytorch(be, orthogonal_map, shape, trivialization):
    ours, theirs = _holding(it, shape), _holding(torch, shape)
    parametrizations.orthogonal(ours, orthogonal_map=orthogonal_map,
                                use_trivialization=trivialization)
    TU.parametrizations.orthogonal(theirs, orthogonal_map=orthogonal_map,
                                   use_trivialization=trivialization)
    keys = list(theirs.state_dict())
    assert list(ours.state_dict()) == keys
    assert ("parametrizations.weight.0.base" in keys) == trivialization
    # the initial weight: the QR orthogonalization of the weight (its Householder QR
    # without the trivialization), or for matrix_exp / cayley without it, the map's image
    assert_same(ours.weight, theirs.weight, "initial weight")
    assert_same(ours.parametrizations.weight.original, theirs.parametrizations.weight.original,
                "initial original")
    if orthogonal_map == "householder" or trivialization:
        _check_orthogonal(ours.weight, "initial weight")
    # away from the starting point, where every map is trivial; the diagonal (householder's
    # column signs, +-1) left alone
    step = _rand(shape, seed=7) * 0.5 * (1 - np.eye(*shape[-2:], dtype="float32"))
    with torch.no_grad():
        theirs.parametrizations.weight.original.add_(torch.from_numpy(step))
    check_module(ours, theirs, _rand((4, shape[-2]), seed=8))
    _check_orthogonal(ours.weight, "weight after loading PyTorch's state_dict")


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley"])
def test_orthogonal_complex_is_unitary(be, orthogonal_map):
    shape = (3, 2)
    a = (_rand(shape) + 1j * _rand(shape, seed=1)).astype("complex64")
    m = nn.Module()
    m.weight = nn.Parameter(it.asarray(a))
    t = torch.nn.Module()
    t.weight = torch.nn.Parameter(torch.from_numpy(a.copy()))
    parametrizations.orthogonal(m, orthogonal_map=orthogonal_map)
    TU.parametrizations.orthogonal(t, orthogonal_map=orthogonal_map)
    # the first column is a's, normalized; the second is random (the base's completion)
    _check_orthogonal(m.weight, "unitary weight")
    assert_same(m.weight[:, 0], t.weight[:, 0], "first column")
    with torch.no_grad():
        t.parametrizations.weight.original.add_(torch.from_numpy(a) * 0.3)
    load_twin(m, t)
    assert_same(m.weight, t.weight, "weight")
    _check_orthogonal(m.weight, "unitary weight after loading")
    c = (_rand(shape, seed=2) - 1j * _rand(shape, seed=3)).astype("complex64")
    it.sum(it.real(m.weight * it.asarray(c))).backward()
    torch.real(t.weight * torch.from_numpy(c)).sum().backward()
    assert_same(m.parametrizations.weight.original.grad, t.parametrizations.weight.original.grad,
                "gradient of the original")


def test_orthogonal_assign_and_defaults(be):
    ours, theirs = nn.Linear(4, 4), torch.nn.Linear(4, 4)
    parametrizations.orthogonal(ours)
    TU.parametrizations.orthogonal(theirs)
    assert ours.parametrizations.weight[0].orthogonal_map == "matrix_exp"
    a = _rand((4, 4), seed=3)
    ours.weight = it.asarray(a)                     # not orthogonal: orthogonalized
    theirs.weight = torch.from_numpy(a)
    assert_same(ours.weight, theirs.weight, "assigned weight")
    q = np.linalg.qr(a.astype("float64"))[0].astype("float32")
    ours.weight = it.asarray(q)                     # orthogonal: kept
    np.testing.assert_allclose(to_np(ours.weight), q, atol=1e-6)
    np.testing.assert_array_equal(to_np(ours.parametrizations.weight.original), -np.eye(4))
    tall = parametrizations.orthogonal(nn.Linear(3, 5))
    assert tall.parametrizations.weight[0].orthogonal_map == "householder"
    with pytest.raises(ValueError, match="of shape \\(5, 3\\). Got a tensor of shape"):
        tall.weight = it.zeros((3, 5))
    exp = parametrizations.orthogonal(nn.Linear(3, 3), use_trivialization=False)
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        exp.weight = it.eye(3)
    house = parametrizations.orthogonal(nn.Linear(3, 5), use_trivialization=False)
    house.weight = it.asarray(np.linalg.qr(_rand((5, 3), seed=4))[0])
    _check_orthogonal(house.weight, "assigned householder weight")


def test_orthogonal_errors(be):
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices. Got a "
                                         "tensor of 1 dimensions"):
        parametrizations.orthogonal(nn.Linear(3, 4), name="bias")
    with pytest.raises(ValueError, match='has to be one of "matrix_exp"'):
        parametrizations.orthogonal(nn.Linear(3, 4), orthogonal_map="qr")
    with pytest.raises(ValueError, match="no parameter or buffer with name 'w'"):
        parametrizations.orthogonal(nn.Linear(3, 4), name="w")
    m = nn.Module()
    m.weight = nn.Parameter(it.zeros((3, 3), dtype=it.complex64))
    with pytest.raises(ValueError, match="householder parametrization does not support "
                                         "complex"):
        parametrizations.orthogonal(m, orthogonal_map="householder")


def test_matrix_exp_and_householder_product_match_pytorch(be):
    # norms from 0.1 to 30: no squaring, and up to 7 squarings
    a = _rand((3, 4, 4), "float64") * np.array([0.05, 1.0, 10.0])[:, None, None]
    check_function(_matrix_exp, torch.matrix_exp, a)
    check_function(_matrix_exp, torch.matrix_exp, _rand((4, 4), seed=2))
    check_function(_matrix_exp, torch.matrix_exp, np.zeros((2, 2), "float32"))
    # built from ordinary ops, its gradient is differentiable again
    x, t = it.asarray(a[1], requires_grad=True), torch.from_numpy(a[1]).requires_grad_()
    (g,) = it.autograd.grad(it.sum(_matrix_exp(x) ** 2), [x], create_graph=True)
    (g_t,) = torch.autograd.grad((torch.matrix_exp(t) ** 2).sum(), [t], create_graph=True)
    assert_same(it.autograd.grad(it.sum(g * g), [x])[0],
                torch.autograd.grad((g_t * g_t).sum(), [t])[0], "second derivative")
    v, tau = _rand((2, 5, 3), "float64", 3), np.abs(_rand((2, 3), "float64", 4)) + 0.5
    check_function(_householder_product, torch.linalg.householder_product, v, tau)


# ------------------------------------------------------------------ transfer

def test_transfer_parametrizations_and_params(be):
    def build(lib, utils):
        src = lib.nn.Linear(3, 3)
        utils.parametrizations.orthogonal(src)
        utils.parametrizations.weight_norm(src, name="bias", dim=None)
        return src, lib.nn.Linear(3, 3), lib.nn.Module()
    src, dst, empty = build(it, nn.utils)
    t_src, t_dst, t_empty = build(torch, TU)
    load_twin(src, t_src)
    # registering the (shared) orthogonal parametrization on dst resets its base from dst's
    # weight, as in PyTorch: both start from the same one
    load_twin(dst, t_dst)
    assert parametrize.transfer_parametrizations_and_params(src, dst) is dst
    TU.parametrize.transfer_parametrizations_and_params(t_src, t_dst)
    assert list(dst.state_dict()) == list(t_dst.state_dict())
    assert dst.parametrizations.weight.original is src.parametrizations.weight.original
    assert dst.parametrizations.weight[0] is src.parametrizations.weight[0]
    assert dst.parametrizations.bias.original1 is src.parametrizations.bias.original1
    for name in ("weight", "bias"):
        assert_same(getattr(dst, name), getattr(t_dst, name), name)
        assert_same(getattr(dst, name), getattr(t_src, name), name)
    # a module without the tensor gets it, only the one asked for
    parametrize.transfer_parametrizations_and_params(src, empty, "weight")
    TU.parametrize.transfer_parametrizations_and_params(t_src, t_empty, "weight")
    assert list(empty.state_dict()) == list(t_empty.state_dict())
    assert_same(empty.weight, t_empty.weight, "transferred weight")
    plain = nn.Linear(2, 2)
    assert parametrize.transfer_parametrizations_and_params(plain, empty) is empty
    with pytest.raises(KeyError, match="no parametrization on 'nope'"):
        parametrize.transfer_parametrizations_and_params(src, nn.Linear(3, 3), "nope")
