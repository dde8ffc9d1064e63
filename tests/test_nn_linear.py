"""Linear, Bilinear, LazyLinear, Embedding, EmbeddingBag and F.one_hot against PyTorch:
outputs, input and parameter gradients (twins loading PyTorch's weights), default-init
statistics, reprs and the errors for bad input."""

import math

import numpy as np
import pytest

import interop as it
from interop import nn
import interop.nn.functional as F
from helpers import to_np
from nn_twin import assert_same, check_function, check_module, load_twin

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


def _stats(t):
    a = to_np(t).astype(np.float64)
    return a.mean(), a.std(), a.min(), a.max()


def _same_distribution(ours, theirs, bound=None):
    """Mean, std and range of two large samples agree (to sampling error); ``bound``: both
    lie within it."""
    mo, so, lo_o, hi_o = _stats(ours)
    mt, st, lo_t, hi_t = (float(f(theirs.detach().double())) for f in
                          (torch.mean, torch.std, torch.min, torch.max))
    n = ours.numel()
    assert abs(mo - mt) < 8 * st / math.sqrt(n), (mo, mt)
    assert abs(so - st) < 8 * st / math.sqrt(2 * n), (so, st)
    if bound is not None:
        assert -bound <= lo_o and hi_o <= bound and -bound <= lo_t and hi_t <= bound
        assert abs(hi_o - hi_t) < 0.02 * bound and abs(lo_o - lo_t) < 0.02 * bound


def test_linear_and_bilinear_default_init_match_pytorch(be):
    ours, theirs = nn.Linear(512, 256), torch.nn.Linear(512, 256)
    bound = 1 / math.sqrt(512)
    _same_distribution(ours.weight, theirs.weight, bound)
    _same_distribution(nn.Linear(512, 4096).bias, torch.nn.Linear(512, 4096).bias, bound)
    ours, theirs = nn.Bilinear(64, 8, 512), torch.nn.Bilinear(64, 8, 512)
    _same_distribution(ours.weight, theirs.weight, 1 / 8)
    _same_distribution(ours.bias, theirs.bias, 1 / 8)


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
    _same_distribution(ours.weight, theirs.weight, 1 / math.sqrt(512))


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


# ------------------------------------------------------------------ Embedding

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", [{}, {"padding_idx": 2}, {"padding_idx": -1},
                                {"scale_grad_by_freq": True},
                                {"scale_grad_by_freq": True, "padding_idx": 0}])
def test_embedding_matches_pytorch(be, kw, dtype):
    idx = np.array([[1, 2, 4], [4, 0, 1]], np.int64)
    ours = nn.Embedding(5, 3, dtype=_dt(it, dtype), **kw)
    theirs = torch.nn.Embedding(5, 3, dtype=_dt(torch, dtype), **kw)
    check_module(ours, theirs, idx)


@pytest.mark.parametrize("kw", [{"padding_idx": 1}, {"scale_grad_by_freq": True},
                                {"scale_grad_by_freq": True, "padding_idx": -1}])
def test_embedding_lookup_primitive_gradcheck_and_gradgradcheck(be, kw):
    """float64 finite differences of the lookup primitive. Its gradient is the Jacobian
    only where neither option changes it (the padding row not looked up, no index
    repeated): gradcheck there; gradgradcheck (the backward's own derivative, through the
    recorded backward) with repeated indices and the padding row looked up."""
    w = _f64((5, 3))
    distinct = it.asarray(np.array([0, 2, 3], np.int64))
    assert it.autograd.gradcheck(lambda w: F.embedding(distinct, w, **kw), (w,))
    idx = it.asarray(np.array([[1, 2, 4], [4, 0, 1], [1, 1, 3]], np.int64))
    assert it.autograd.gradgradcheck(lambda w: F.embedding(idx, w, **kw), (w,))


@pytest.mark.parametrize("idx", [np.array(3), np.array([], np.int64), np.array([[[0], [2]]]),
                                 np.array([4, 1, 4], np.int32)])
def test_embedding_index_shapes(be, idx):
    check_module(nn.Embedding(5, 2), torch.nn.Embedding(5, 2), idx)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5])
def test_embedding_max_norm_renormalizes_weight_as_pytorch(be, norm_type):
    ours, theirs = nn.Embedding(6, 4, max_norm=1.5, norm_type=norm_type), torch.nn.Embedding(
        6, 4, max_norm=1.5, norm_type=norm_type)
    check_module(ours, theirs, np.array([[1, 3], [3, 5]]))
    assert_same(ours.weight, theirs.weight, "weight after the call")
    untouched = to_np(ours.weight)[[0, 2, 4]]
    np.testing.assert_array_equal(untouched, theirs.weight.detach().numpy()[[0, 2, 4]])


def test_embedding_init_and_padding_row(be):
    ours, theirs = nn.Embedding(512, 512, padding_idx=3), torch.nn.Embedding(512, 512)
    assert not to_np(ours.weight)[3].any()
    _same_distribution(ours.weight, theirs.weight)


def test_embedding_from_pretrained(be):
    table = it.asarray(_rand((4, 3)))
    emb = nn.Embedding.from_pretrained(table, padding_idx=1)
    assert not emb.weight.requires_grad and emb.padding_idx == 1
    np.testing.assert_array_equal(to_np(emb.weight), _rand((4, 3)))      # padding row kept
    emb = nn.Embedding.from_pretrained(table, freeze=False, max_norm=2.0)
    assert emb.weight.requires_grad
    assert repr(emb) == "Embedding(4, 3, max_norm=2.0)"
    check_module(emb, torch.nn.Embedding.from_pretrained(torch.from_numpy(_rand((4, 3))),
                                                           freeze=False, max_norm=2.0),
                 np.array([0, 3, 3]))
    with pytest.raises(ValueError, match="2-d"):
        nn.Embedding.from_pretrained(it.zeros(3))


def test_embedding_repr(be):
    kw = dict(padding_idx=-2, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True)
    assert repr(nn.Embedding(10, 3, **kw)) == repr(torch.nn.Embedding(10, 3, **kw))
    assert repr(nn.Embedding(10, 3)) == "Embedding(10, 3)"


def test_embedding_errors(be):
    w = it.zeros((5, 3))
    with pytest.raises(TypeError, match="int64 or int32, got interop.float32"):
        F.embedding(it.zeros(2), w)
    with pytest.raises(IndexError, match="index 5 is out of range for 5 embeddings"):
        F.embedding(it.asarray([1, 5]), w)
    with pytest.raises(IndexError, match="index -1"):
        F.embedding(it.asarray([-1, 2]), w)
    with pytest.raises(RuntimeError, match="2-d"):
        F.embedding(it.asarray([1]), it.zeros(3))
    with pytest.raises(ValueError, match="padding_idx"):
        F.embedding(it.asarray([1]), w, padding_idx=5)
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 3, padding_idx=-6)
    with pytest.raises(NotImplementedError, match="sparse"):
        nn.Embedding(5, 3, sparse=True)
    with pytest.raises(NotImplementedError, match="sparse"):
        F.embedding(it.asarray([1]), w, sparse=True)
    with pytest.raises(ValueError, match="does not match"):
        nn.Embedding(5, 3, _weight=it.zeros((3, 3)))


# ------------------------------------------------------------------ EmbeddingBag

_BAG_IDX = np.array([1, 2, 4, 4, 3, 0, 2, 1], np.int64)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("offsets, last", [([0, 3, 3, 5], False), ([0, 2, 2, 8], True),
                                           ([0], False)])
@pytest.mark.parametrize("padding_idx", [None, 4])
def test_embedding_bag_offsets_match_pytorch(be, mode, offsets, last, padding_idx):
    ours = nn.EmbeddingBag(5, 3, mode=mode, include_last_offset=last, padding_idx=padding_idx)
    theirs = torch.nn.EmbeddingBag(5, 3, mode=mode, include_last_offset=last,
                                   padding_idx=padding_idx)
    check_module(ours, theirs, _BAG_IDX, np.array(offsets, np.int64))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_bag_2d_matches_pytorch(be, mode, padding_idx, dtype):
    idx = np.array([[1, 2, 4], [2, 2, 2], [0, 3, 3]], np.int64)
    ours = nn.EmbeddingBag(5, 3, mode=mode, padding_idx=padding_idx, dtype=_dt(it, dtype))
    theirs = torch.nn.EmbeddingBag(5, 3, mode=mode, padding_idx=padding_idx,
                                   dtype=_dt(torch, dtype))
    check_module(ours, theirs, idx)


@pytest.mark.parametrize("two_d", [True, False])
def test_embedding_bag_per_sample_weights_and_scaled_grad(be, two_d):
    idx = _BAG_IDX.reshape(2, 4) if two_d else _BAG_IDX
    off = None if two_d else np.array([0, 3, 3, 5])
    psw = _rand(idx.shape, seed=3)
    check_module(nn.EmbeddingBag(5, 3, mode="sum"), torch.nn.EmbeddingBag(5, 3, mode="sum"),
                 idx, off, psw)
    check_module(nn.EmbeddingBag(5, 3, mode="sum", padding_idx=1),
                 torch.nn.EmbeddingBag(5, 3, mode="sum", padding_idx=1), idx, off, psw)
    for mode in ("sum", "mean"):
        check_module(nn.EmbeddingBag(5, 3, mode=mode, scale_grad_by_freq=True),
                     _TorchScaledBag(mode), idx, off)


class _TorchScaledBag(torch.nn.EmbeddingBag):
    """PyTorch's EmbeddingBag divides a row's gradient by the count of another index when
    scale_grad_by_freq is set (2.13: indices [3, 0, 0] give row 3 half its gradient); the
    reference is the documented rule, as torch's F.embedding applies it: each row's gradient
    divided by its own count in the batch."""

    def __init__(self, mode):
        super().__init__(5, 3, mode=mode)

    def forward(self, input, offsets=None):
        rows = TF.embedding(input, self.weight, scale_grad_by_freq=True)
        if offsets is None:
            return rows.sum(1) if self.mode == "sum" else rows.mean(1)
        bag = torch.searchsorted(offsets, torch.arange(len(input)), right=True) - 1
        out = torch.zeros(len(offsets), 3).index_add(0, bag, rows)
        if self.mode == "mean":
            out = out / torch.bincount(bag, minlength=len(offsets)).clamp(min=1)[:, None]
        return out


def test_embedding_bag_max_ties_send_the_gradient_to_the_first(be):
    w = _rand((5, 3))
    w[2] = w[1]
    idx = np.array([2, 1, 1, 2, 2, 2], np.int64)
    check_function(F.embedding_bag, TF.embedding_bag, idx, w, np.array([0, 2, 4]), mode="max")
    check_function(F.embedding_bag, TF.embedding_bag, idx.reshape(2, 3), w, mode="max")


def test_embedding_bag_max_norm_and_empty_input(be):
    ours, theirs = nn.EmbeddingBag(6, 4, max_norm=1.0, mode="sum"), torch.nn.EmbeddingBag(
        6, 4, max_norm=1.0, mode="sum")
    check_module(ours, theirs, np.array([[1, 3], [3, 5]]))
    assert_same(ours.weight, theirs.weight, "weight after the call")
    for mode in ("sum", "mean", "max"):
        check_function(F.embedding_bag, TF.embedding_bag, np.array([], np.int64), _rand((5, 3)),
                       np.array([0, 0]), mode=mode)
        out = F.embedding_bag(it.zeros((2, 0), dtype=it.int64), it.ones((5, 3)), mode=mode)
        assert out.shape == (2, 3) and not to_np(out).any()     # (PyTorch fails here)


def test_embedding_bag_repr_init_and_from_pretrained(be):
    kw = dict(max_norm=2.0, norm_type=3, scale_grad_by_freq=True, mode="sum", padding_idx=2)
    assert repr(nn.EmbeddingBag(10, 3, **kw)) == repr(torch.nn.EmbeddingBag(10, 3, **kw))
    assert repr(nn.EmbeddingBag(10, 3)) == "EmbeddingBag(10, 3, mode='mean')"
    bag = nn.EmbeddingBag(512, 512, padding_idx=0)
    assert not to_np(bag.weight)[0].any()
    _same_distribution(bag.weight, torch.nn.EmbeddingBag(512, 512).weight)
    table = _rand((4, 3))
    ours = nn.EmbeddingBag.from_pretrained(it.asarray(table), mode="max")
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.from_numpy(table), mode="max")
    assert not ours.weight.requires_grad
    check_module(ours, theirs, np.array([[0, 3], [2, 2]]))


def test_embedding_bag_errors(be):
    w = it.zeros((5, 3))
    idx1, idx2 = it.asarray([1, 2, 3]), it.asarray([[1, 2]])
    with pytest.raises(ValueError, match="offsets must be None"):
        F.embedding_bag(idx2, w, it.asarray([0]))
    with pytest.raises(ValueError, match="needs offsets"):
        F.embedding_bag(idx1, w)
    with pytest.raises(ValueError, match="1-d Tensor, got shape"):
        F.embedding_bag(idx1, w, it.asarray([[0]]))
    with pytest.raises(ValueError, match="1-d or 2-d"):
        F.embedding_bag(it.asarray([[[1]]]), w)
    with pytest.raises(ValueError, match="offsets\\[0\\] has to be 0"):
        F.embedding_bag(idx1, w, it.asarray([1, 2]))
    with pytest.raises(ValueError, match="greater than the input's length 3"):
        F.embedding_bag(idx1, w, it.asarray([0, 4]))
    with pytest.raises(ValueError, match="non-decreasing"):
        F.embedding_bag(idx1, w, it.asarray([0, 2, 1]))
    with pytest.raises(ValueError, match="at least 2 entries"):
        F.embedding_bag(idx1, w, it.asarray([0]), include_last_offset=True)
    with pytest.raises(ValueError, match="mode has to be"):
        F.embedding_bag(idx2, w, mode="avg")
    with pytest.raises(ValueError, match="mode has to be"):
        nn.EmbeddingBag(5, 3, mode="avg")
    with pytest.raises(ValueError, match="frequency"):
        F.embedding_bag(idx2, w, mode="max", scale_grad_by_freq=True)
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(idx2, w, mode="mean", per_sample_weights=it.ones((1, 2)))
    with pytest.raises(ValueError, match="same shape as the input"):
        F.embedding_bag(idx2, w, mode="sum", per_sample_weights=it.ones(2))
    with pytest.raises(TypeError, match="same dtype"):
        F.embedding_bag(idx2, w, mode="sum", per_sample_weights=it.ones((1, 2), dtype=it.float64))
    with pytest.raises(TypeError, match="int64 or int32"):
        F.embedding_bag(it.zeros((1, 2)), w)
    with pytest.raises(IndexError, match="out of range for 5 embeddings"):
        F.embedding_bag(it.asarray([[1, 7]]), w)
    with pytest.raises(NotImplementedError, match="sparse"):
        nn.EmbeddingBag(5, 3, sparse=True)


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
