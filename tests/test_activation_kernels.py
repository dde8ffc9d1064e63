"""The activation and cross-entropy kernels of the kernel table (relu, sigmoid, silu, gelu and their
backward kernels; class_cross_entropy and its backward): the cpu backend's compiled float32
kernels (interop/backends/_jit_act.py) against the standard-only reference on every run, both
against PyTorch in float32 at the edges (NaN, +-inf, -0.0, large magnitudes where erf and exp
saturate, empty), float64 gradcheck and gradgradcheck of the primitives on every backend, and
second derivatives through create_graph against PyTorch's."""

import math

import numpy as np
import pytest

import interop as it
import interop.nn.functional as F
from interop.backends import _jit, _jit_act

from helpers import compiled_and_reference, from_np, to_np

torch = pytest.importorskip("torch")
TF = torch.nn.functional

pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning",
                                        "ignore:overflow encountered:RuntimeWarning",
                                        "ignore:divide by zero encountered:RuntimeWarning")
INF, NAN = float("inf"), float("nan")
# NaN, the infinities, signed zeros, tiny and huge magnitudes, erf's saturation (|x| / sqrt 2
# past 4 in float32), exp's overflow and underflow thresholds (+-87.3, 88.4) and x**3's (1e13)
EDGES = [NAN, INF, -INF, 0.0, -0.0, 1e-30, -1e-30, 1e-7, -1e-7, 0.5, -0.5, 3.0, -3.0, 5.7,
         -5.7, 8.0, -8.0, 10.0, -10.0, 13.2, -13.2, 17.0, -17.0, 40.0, -40.0, 87.0, -87.0,
         87.5, -87.5, 88.5, -88.5, 89.0, -89.0, 104.0, -104.0, 1e4, -1e4, 1e13, -1e13, 3e38,
         -3e38]
needs_numba = pytest.mark.skipif(not _jit.available(), reason="numba is not installed "
                                 "(pip install 'interop[jit]'): no compiled path to compare")


def _data(shape, seed=0, scale=4.0, edges=True):
    """float32 normal data with every edge value at the front."""
    a = (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)
    if edges:
        a.reshape(-1)[:len(EDGES)] = EDGES
    return a


@pytest.fixture
def compiled():
    """The compiled path on (numba present) for the test, restored after."""
    prev = _jit.set_enabled(True)
    yield
    _jit.set_enabled(prev)


def _spy(monkeypatch, name):
    """Count the calls of compiled kernel ``name`` (so a test knows the compiled path ran)."""
    calls = []
    kernel = getattr(_jit_act, name)

    def spy(*args):
        calls.append(args[0].shape)
        return kernel(*args)
    monkeypatch.setattr(_jit_act, name, spy)
    return calls


def _assert_same_specials(got, ref, zeros=True):
    """NaN where the other has NaN, the same infinities, the same sign of zero."""
    got, ref = np.asarray(got), np.asarray(ref)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(ref))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(ref))
    if zeros:
        zero = (got == 0) & (ref == 0)
        np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(ref[zero]))


# ------------------------------------------------------------ compiled vs the reference

def _sigmoid64(x):
    """The sigmoid computed in float64, rounded: one output for both paths' backward."""
    with np.errstate(over="ignore"):
        return (1 / (1 + np.exp(-x.astype(np.float64)))).astype(np.float32)


def _sig(x):
    """The sigmoid in float64, without overflow."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


_ERFC = np.vectorize(math.erfc, otypes=[np.float64])
_C1 = 2 * math.sqrt(2 / math.pi)
_C3 = _C1 * 0.044715


def _phi_cdf(x):
    return 0.5 * _ERFC(-x / math.sqrt(2)), np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _gelu_tanh_d(x):
    s = _sig(x * (_C1 + _C3 * x * x))
    return s + x * s * (1 - s) * (_C1 + 3 * _C3 * x * x)


def _silu_d(x):
    s = _sig(x)
    return s * (1 + x * (1 - s))


# Exact values (float64) of each kernel, from x and g; "<name>_scale": the size of the terms
# a kernel adds (where they cancel, float32 rounding is relative to them, not to the result).
def _relu_out(x):
    """relu's output (NaN and -0.0 kept): what its backward kernel is given."""
    return np.where(x < 0, np.float32(0), x)


TRUTH = {
    "relu": lambda x, g: _relu_out(x),
    "relu_backward": lambda x, g: np.where(_relu_out(x) <= 0, 0.0, g),
    "sigmoid": lambda x, g: _sig(x),
    "sigmoid_backward": lambda x, g: (g * _sigmoid64(x.astype(np.float32)).astype(np.float64)
                                      * (1 - _sigmoid64(x.astype(np.float32)))),
    "silu": lambda x, g: x * _sig(x),
    "silu_backward": lambda x, g: g * _silu_d(x),
    "silu_backward_scale": lambda x, g: g * _sig(x) * (1 + np.abs(x)),
    "gelu": lambda x, g: x * _phi_cdf(x)[0],
    "gelu_backward": lambda x, g: g * (_phi_cdf(x)[0] + x * _phi_cdf(x)[1]),
    "gelu_backward_scale": lambda x, g: g * (_phi_cdf(x)[0] + np.abs(x) * _phi_cdf(x)[1]),
    "gelu_tanh": lambda x, g: x * _sig(x * (_C1 + _C3 * x * x)),
    "gelu_tanh_backward": lambda x, g: g * _gelu_tanh_d(x),
    "gelu_tanh_backward_scale": lambda x, g: g * (1 + np.abs(x) * (_C1 + 3 * _C3 * x * x)
                                                   * _sig(x * (_C1 + _C3 * x * x))),
}


ACT = {   # name: (kernel call on the cpu namespace, compiled kernel it runs)
    "relu": (lambda ns, x, g: ns.relu(x), "relu"),
    "relu_backward": (lambda ns, x, g: ns.relu_backward(g, _relu_out(x)), "relu_backward"),
    "sigmoid": (lambda ns, x, g: ns.sigmoid(x), "sigmoid"),
    "sigmoid_backward": (lambda ns, x, g: ns.sigmoid_backward(g, _sigmoid64(x)),
                         "sigmoid_backward"),
    "silu": (lambda ns, x, g: ns.silu(x), "silu"),
    "silu_backward": (lambda ns, x, g: ns.silu_backward(g, x), "silu_backward"),
    "gelu": (lambda ns, x, g: ns.gelu(x, "none"), "gelu"),
    "gelu_backward": (lambda ns, x, g: ns.gelu_backward(g, x, "none"), "gelu_backward"),
    "gelu_tanh": (lambda ns, x, g: ns.gelu(x, "tanh"), "gelu_tanh"),
    "gelu_tanh_backward": (lambda ns, x, g: ns.gelu_backward(g, x, "tanh"),
                           "gelu_tanh_backward"),
}


def _compiled_and_reference(monkeypatch, name, x, g):
    """Kernel ``name`` of ACT on the cpu namespace with the compiled path on (checked to
    run the compiled kernel) and off: both results, float32 of x's shape, NaN and inf alike."""
    call, kernel = ACT[name]
    ns = it.get_backend("cpu").ns
    calls = _spy(monkeypatch, kernel)
    got, ref = compiled_and_reference(lambda: call(ns, x, g))
    assert calls == [x.shape], "the compiled kernel did not run"
    assert got.dtype == ref.dtype == np.float32 and got.shape == x.shape
    _assert_same_specials(got, ref)
    return got, ref


@needs_numba
@pytest.mark.parametrize("name", list(ACT))
def test_compiled_activation_kernels_match_the_reference(name, monkeypatch):
    call = ACT[name][0]
    ns = it.get_backend("cpu").ns
    x = _data((64, 80))                                # 5120 elements: the compiled path
    g = _data((64, 80), seed=1, scale=1.0, edges=False)
    got, ref = _compiled_and_reference(monkeypatch, name, x, g)
    # The reference's sigmoid, 0.5 tanh(x / 2) + 0.5, is good to ~3e-8 absolute but not
    # relative where the sigmoid is small (x below -5; the compiled 1 / (1 + exp(-x)) is, as
    # PyTorch's); gelu tanh's derivative multiplies that by x (C1 + 3 C3 x**2): up to 4e-6.
    np.testing.assert_allclose(got, ref, rtol=4e-6, atol=5e-6)
    # the compiled kernel against the exact values (float64), to a few float32 roundings
    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        want = TRUTH[name](x64, g64)
        scale = np.abs(TRUTH.get(name + "_scale", lambda x, g: 0 * x)(x64, g64))
    # (where x**2 overflows float32, float32 formulas give NaN where float64 ones do not:
    # those edges are held to the reference above, and to PyTorch below)
    fin = np.isfinite(want) & (np.abs(x) < 1e18)
    _assert_same_specials(got[fin], want[fin].astype(np.float32), zeros=False)
    err = np.abs(got[fin] - want[fin])
    bad = err > 1e-5 * np.abs(want[fin]) + 4e-7 * scale[fin] + 1e-30
    assert not bad.any(), list(zip(x[fin][bad][:5], got[fin][bad][:5], want[fin][bad][:5]))
    # the inputs are unchanged, and a strided input gives the result of its contiguous copy
    np.testing.assert_array_equal(x, _data((64, 80)))
    xt, gt = np.asfortranarray(x), np.asfortranarray(g)
    np.testing.assert_array_equal(call(ns, xt, gt), got)


@needs_numba
@pytest.mark.parametrize("name", ["sigmoid", "sigmoid_backward", "relu", "relu_backward"])
@pytest.mark.parametrize("shape", [(48,), (8, 9), (0,), (4095,)])
def test_small_float32_sigmoid_runs_compiled_and_matches_the_reference(name, shape, monkeypatch):
    # (the per-op path of small tensors: one compiled call instead of NumPy's passes)
    x = _data(shape, edges=bool(shape[0]))       # (every edge value, where there is room)
    g = _data(shape, seed=1, scale=1.0, edges=False)
    got, ref = _compiled_and_reference(monkeypatch, name, x, g)
    np.testing.assert_allclose(got, ref, rtol=4e-6, atol=5e-6)


@needs_numba
def test_exp32_is_within_two_ulps_of_numpys_exp():
    a = np.concatenate([np.linspace(-87.33, 88.37, 200001, dtype=np.float32),
                        np.array([0.0, -0.0, 1e-30, -1e-30, 1.0, -1.0], np.float32)])
    got = np.array([_jit_act.exp32(v) for v in a[::37]], np.float32)   # the plain function
    ref = np.exp(a[::37].astype(np.float64))
    assert np.max(np.abs(got - ref) / ref) < 2 * 2.0 ** -23
    for v, want in [(NAN, NAN), (INF, INF), (-INF, 0.0), (88.5, INF), (-87.5, 0.0),
                    (-1e30, 0.0), (1e30, INF)]:
        out = _jit_act.exp32(np.float32(v))
        assert (np.isnan(out) and np.isnan(want)) or out == want, (v, out)


@needs_numba
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore", ["none", "some", "all", "in-range"])
def test_compiled_cross_entropy_matches_the_reference(reduction, ignore, monkeypatch):
    ns = it.get_backend("cpu").ns
    x = _data((48, 100), scale=3.0, edges=False)       # 4800 logits: the compiled path
    x[5, 7], x[6, 3], x[7, :] = NAN, INF, -INF         # rows whose loss is NaN, as PyTorch's
    t = np.random.default_rng(2).integers(0, 100, 48)
    ii = 4 if ignore == "in-range" else -100
    if ignore == "some":
        t[[0, 5, 9]] = -100
    elif ignore == "all":
        t[:] = -100
    g = (np.float32(0.7) if reduction != "none"
         else np.linspace(-1, 1, 48, dtype=np.float32))
    g = np.asarray(g, np.float32)
    calls = _spy(monkeypatch, "class_cross_entropy")
    calls_b = _spy(monkeypatch, "class_cross_entropy_backward")
    got, ref = compiled_and_reference(lambda: ns.class_cross_entropy(x, t, ii, reduction))
    ggot, gref = compiled_and_reference(lambda: ns.class_cross_entropy_backward(g, x, t, ii, reduction))
    assert len(calls) == len(calls_b) == 1, "the compiled kernels did not run"
    for a, b in ((got, ref), (ggot, gref)):
        assert a.dtype == b.dtype == np.float32 and a.shape == b.shape
        _assert_same_specials(a, b)
        np.testing.assert_allclose(a, b, rtol=4e-6, atol=1e-7)


# ------------------------------------------------------------ float32 against PyTorch

FNS = {   # name: (interop call, PyTorch call)
    "gelu": (F.gelu, TF.gelu),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda x: TF.gelu(x, approximate="tanh")),
    "silu": (F.silu, TF.silu),
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "relu": (F.relu, TF.relu),
}


def _against_torch(name, x):
    fn, tfn = FNS[name]
    g = _data(x.shape, seed=3, scale=1.0, edges=False)
    t = from_np(x, requires_grad=True)
    y = fn(t)
    y.backward(from_np(g))
    tx = torch.tensor(x, requires_grad=True)
    ty = tfn(tx)
    ty.backward(torch.tensor(g))
    want_y = ty.detach().numpy()
    if name == "gelu":
        # gelu(x) is x at the top of float32's range (x Phi(x); interop's answer before these
        # kernels too); PyTorch 2.13's CPU kernel overflows there: NaN at +inf, inf at 3e38
        want_y = np.where(x > 1e38, x, want_y)
    for got, want in ((to_np(y), want_y), (to_np(t.grad), tx.grad.numpy())):
        assert got.dtype == np.float32
        _assert_same_specials(got, want)
        # PyTorch's float32 tolerance; its own erf/exp are approximations, and its gelu's
        # 1 + erf(x / sqrt 2) cancels for x below -5 where interop keeps the tail's digits
        np.testing.assert_allclose(got, want, rtol=1.3e-6, atol=1e-5)


@pytest.mark.parametrize("name", list(FNS))
def test_activations_match_torch_at_the_edges(be, name):
    """Small inputs: the reference on every backend (the compiled path needs 4096 elements)."""
    _against_torch(name, np.array(EDGES, np.float32).reshape(1, -1))


@needs_numba
@pytest.mark.parametrize("name", list(FNS))
def test_compiled_activations_match_torch_at_the_edges(name, compiled):
    _against_torch(name, _data((64, 80)))


@pytest.mark.parametrize("name", list(FNS))
def test_activations_of_empty_and_0d_tensors(be, name):
    fn, tfn = FNS[name]
    for x in (np.zeros((0, 3), np.float32), np.array(-0.5, np.float32)):
        t = (it.zeros((0, 3), requires_grad=True) if x.size == 0
             else from_np(x, requires_grad=True))
        y = fn(t)
        y.sum().backward()
        tx = torch.tensor(x, requires_grad=True)
        ty = tfn(tx)
        ty.sum().backward()
        assert tuple(y.shape) == tuple(ty.shape) and y.dtype is it.float32
        np.testing.assert_allclose(to_np(y), ty.detach().numpy(), rtol=1.3e-6, atol=1e-5)
        np.testing.assert_allclose(to_np(t.grad), tx.grad.numpy(), rtol=1.3e-6, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "silu"])
def test_half_precision_is_computed_in_float32_as_torch(name, dtype):
    if dtype == "bfloat16" and not it.get_backend("cpu").has_dtype(it.bfloat16):
        pytest.skip("bfloat16 needs ml_dtypes")
    fn, tfn = FNS[name]
    x = np.linspace(-6, 6, 61, dtype=np.float32)
    t = it.tensor(x.tolist(), dtype=getattr(it, dtype), requires_grad=True)
    y = fn(t)
    y.sum().backward()
    tx = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
    ty = tfn(tx)
    ty.sum().backward()
    assert y.dtype is getattr(it, dtype) and t.grad.dtype is getattr(it, dtype)
    np.testing.assert_allclose(y.float().detach().numpy(), ty.float().detach().numpy(),
                               rtol=1e-2, atol=1e-2)
    np.testing.assert_allclose(t.grad.float().numpy(), tx.grad.float().numpy(), rtol=1e-2,
                               atol=1e-2)


CE = [  # (logits shape, targets, ignore_index)
    ((128, 10), None, -100),
    ((5, 4), [1, -100, 3, 0, -100], -100),
    ((5, 4), [1, 2, 1, 0, 3], 1),
    ((3, 4), [-100, -100, -100], -100),
    ((64, 100), None, -100),               # the compiled path (6400 logits)
]


def _ce_against_torch(shape, targets, ignore_index, reduction, x=None):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(shape) * 3).astype(np.float32) if x is None else x
    t = (rng.integers(0, shape[1], shape[0]) if targets is None
         else np.array(targets, np.int64))
    g = (np.float32(0.5) if reduction != "none"
         else rng.standard_normal(shape[0]).astype(np.float32))
    g = np.asarray(g, np.float32)
    xi = from_np(x, requires_grad=True)
    loss = F.cross_entropy(xi, from_np(t), ignore_index=ignore_index, reduction=reduction)
    loss.backward(from_np(g))
    tx = torch.tensor(x, requires_grad=True)
    tl = TF.cross_entropy(tx, torch.tensor(t), ignore_index=ignore_index, reduction=reduction)
    tl.backward(torch.tensor(g))
    assert tuple(loss.shape) == tuple(tl.shape) and loss.dtype is it.float32
    for got, want in ((to_np(loss), tl.detach().numpy()), (to_np(xi.grad), tx.grad.numpy())):
        _assert_same_specials(got, want)
        np.testing.assert_allclose(got, want, rtol=1.3e-6, atol=1e-5)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", range(len(CE)))
def test_cross_entropy_matches_torch(be, case, reduction):
    _ce_against_torch(*CE[case], reduction)


@pytest.mark.parametrize("compiled_path", [True, False])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_rows_with_nan_and_inf_logits_match_torch(compiled_path, reduction):
    if compiled_path and not _jit.available():
        pytest.skip("numba is not installed")
    x = (np.random.default_rng(5).standard_normal((64, 100)) * 3).astype(np.float32)
    x[1, 2], x[2, 5], x[3, :], x[4, 0] = NAN, INF, -INF, -INF
    x[5, :] = 1e30                                    # large, equal logits: no overflow
    prev = _jit.set_enabled(compiled_path)
    try:
        _ce_against_torch((64, 100), None, -100, reduction, x=x)
    finally:
        _jit.set_enabled(prev)


def test_cross_entropy_target_out_of_range_names_it(be):
    x = from_np(np.zeros((3, 4), np.float32))
    with pytest.raises(IndexError, match="target 4 is out of bounds for 4 classes"):
        F.cross_entropy(x, it.tensor([0, 4, 1]))
    with pytest.raises(IndexError, match="target -100 is out of bounds for 4 classes"):
        F.cross_entropy(x, it.tensor([0, -100, 1]), ignore_index=2)
    with pytest.raises(IndexError, match="target -1 is out of bounds"):
        it.class_cross_entropy(x, it.tensor([0, -1, 1]))


def test_kernel_arguments_are_checked():
    ns = it.get_backend("cpu").ns
    x = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        ns.gelu(x, "exact")
    with pytest.raises(TypeError, match="real floating dtype"):
        ns.silu(np.zeros(3, np.int64))
    with pytest.raises(TypeError, match="relu: expected an array of a real numeric dtype, "
                                        "got interop.bool"):
        ns.relu(np.zeros(3, bool))
    with pytest.raises(TypeError, match="relu: expected an array of a real numeric dtype"):
        ns.relu(np.zeros(3, np.complex64))
    with pytest.raises(ValueError, match=r"input's shape \(3, 4\)"):
        ns.relu_backward(np.zeros((4, 3), np.float32), x)
    np.testing.assert_array_equal(ns.relu(np.array([-2, 0, 3], np.int64)), [0, 0, 3])
    with pytest.raises(ValueError, match=r"input's shape \(3, 4\)"):
        ns.silu_backward(np.zeros((4, 3), np.float32), x)
    with pytest.raises(ValueError, match=r"\(N, C\) logits and \(N,\) integer targets"):
        ns.class_cross_entropy(x, np.zeros(2, np.int64), -100, "mean")
    with pytest.raises(ValueError, match="shape \\(\\) and the logits' dtype"):
        ns.class_cross_entropy_backward(np.zeros(3, np.float32), x, np.zeros(3, np.int64),
                                        -100, "mean")


# ------------------------------------------- gradients (float64) and create_graph

PRIMS = {
    "gelu": lambda x: it.gelu(x),
    "gelu_tanh": lambda x: it.gelu(x, "tanh"),
    "silu": it.silu,
    "sigmoid": it.sigmoid,
}


@pytest.mark.parametrize("name", list(PRIMS))
def test_primitives_gradcheck_and_gradgradcheck(be, name):
    x = from_np(np.array([-7.5, -3.0, -1.2, -0.3, 0.0, 0.4, 1.1, 2.5, 6.0]), requires_grad=True)
    assert it.autograd.gradcheck(PRIMS[name], (x,))
    assert it.autograd.gradgradcheck(PRIMS[name], (x,))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore_index", [-100, 1])
def test_class_cross_entropy_gradcheck_and_gradgradcheck(be, reduction, ignore_index):
    x = from_np(np.random.default_rng(6).standard_normal((5, 4)) * 2, requires_grad=True)
    t = it.tensor([1, -100, 3, 0, 1] if ignore_index == -100 else [1, 2, 3, 0, 1])

    def fn(x):
        return it.class_cross_entropy(x, t, ignore_index, reduction)
    assert it.autograd.gradcheck(fn, (x,))
    assert it.autograd.gradgradcheck(fn, (x,))


SECOND = {   # name: (interop loss of x, PyTorch loss of x)
    "gelu": (lambda x: (F.gelu(x) ** 2).sum(), lambda x: (TF.gelu(x) ** 2).sum()),
    "gelu_tanh": (lambda x: (F.gelu(x, approximate="tanh") ** 2).sum(),
                  lambda x: (TF.gelu(x, approximate="tanh") ** 2).sum()),
    "silu": (lambda x: (F.silu(x) ** 2).sum(), lambda x: (TF.silu(x) ** 2).sum()),
    "sigmoid": (lambda x: (F.sigmoid(x) ** 2).sum(), lambda x: (torch.sigmoid(x) ** 2).sum()),
    "cross_entropy": (lambda x: F.cross_entropy(x, it.tensor([1, 0, 3, 2, 1, 0]),
                                                ignore_index=0),
                      lambda x: TF.cross_entropy(x, torch.tensor([1, 0, 3, 2, 1, 0]),
                                                 ignore_index=0)),
}


@pytest.mark.parametrize("name", list(SECOND))
def test_second_derivatives_through_create_graph_match_torch(be, name):
    fn, tfn = SECOND[name]
    x = np.random.default_rng(7).standard_normal((6, 4)) * 2
    xi = from_np(x, requires_grad=True)
    g, = it.autograd.grad(fn(xi), (xi,), create_graph=True)
    hv, = it.autograd.grad((g * g).sum(), (xi,))
    tx = torch.tensor(x, requires_grad=True)
    tg, = torch.autograd.grad(tfn(tx), (tx,), create_graph=True)
    thv, = torch.autograd.grad((tg * tg).sum(), (tx,))
    np.testing.assert_allclose(to_np(g), tg.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_np(hv), thv.numpy(), rtol=1e-9, atol=1e-12)


@needs_numba
@pytest.mark.parametrize("name", ["gelu", "silu", "sigmoid"])
def test_create_graph_on_the_compiled_path_matches_the_plain_backward(name, compiled):
    """float32 tensors large enough for the compiled kernels: the gradient recorded under
    create_graph (composed ops) equals the compiled backward kernel's, and differentiates."""
    fn = SECOND[name][0]
    xi = from_np(_data((64, 80), scale=2.0, edges=False), requires_grad=True)
    g, = it.autograd.grad(fn(xi), (xi,), create_graph=True)
    plain, = it.autograd.grad(fn(xi), (xi,))
    np.testing.assert_allclose(to_np(g), to_np(plain), rtol=2e-5, atol=2e-6)
    assert g.requires_grad
    hv, = it.autograd.grad(g.sum(), (xi,))
    assert np.isfinite(to_np(hv)).all()
