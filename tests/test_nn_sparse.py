"""Embedding and EmbeddingBag (``interop.nn.modules.sparse`` and F.embedding,
F.embedding_bag) against PyTorch: outputs, weight gradients (twins loading PyTorch's
weights) over index shapes, padding_idx, max_norm renormalization, scale_grad_by_freq,
offsets and 2-D bags, per-sample weights, every mode (ties in max), empty input;
default-init statistics, from_pretrained, reprs and the errors for bad input."""

import numpy as np
import pytest

import interop as it
from interop import nn
import interop.nn.functional as F
from helpers import to_np
from torch_compare import assert_same, assert_same_distribution, check_function, check_module

torch = pytest.importorskip("torch")
TF = torch.nn.functional

DTYPES = ["float32", "float64"]


def _rand(shape, dtype="float32", seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ------------------------------------------------------------------ Embedding

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", [{}, {"padding_idx": 2}, {"padding_idx": -1},
                                {"scale_grad_by_freq": True},
                                {"scale_grad_by_freq": True, "padding_idx": 0}])
def test_embedding_matches_pytorch(be, kw, dtype):
    idx = np.array([[1, 2, 4], [4, 0, 1]], np.int64)
    ours = nn.Embedding(5, 3, dtype=getattr(it, dtype), **kw)
    theirs = torch.nn.Embedding(5, 3, dtype=getattr(torch, dtype), **kw)
    check_module(ours, theirs, idx)


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
    assert_same_distribution(ours.weight, theirs.weight)


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
    ours = nn.EmbeddingBag(5, 3, mode=mode, padding_idx=padding_idx, dtype=getattr(it, dtype))
    theirs = torch.nn.EmbeddingBag(5, 3, mode=mode, padding_idx=padding_idx,
                                   dtype=getattr(torch, dtype))
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
    assert_same_distribution(bag.weight, torch.nn.EmbeddingBag(512, 512).weight)
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


def _f64(shape, seed=0):
    return it.asarray(_rand(shape, "float64", seed)).requires_grad_()


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
