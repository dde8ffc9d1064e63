"""Losses and distances (``interop.nn.functional`` and their modules) against PyTorch: values
and gradients for every reduction and option, in float32 and float64, with the kinks mixed
in on purpose (``|d| = beta``, hinges at exactly 0, probabilities of exactly 0 and 1, zero
vectors, tied distances, logits of +-1000); class-index targets with ignore_index (some,
all, in range), class weights, label smoothing, N-d and unbatched inputs, empty batches;
CTC on padded and concatenated targets with impossible alignments; second derivatives of
cross_entropy; the legacy size_average/reduce arguments; the loss modules' buffers, state
dicts and reprs; AdaptiveLogSoftmaxWithLoss (log_prob, predict, init) and the deprecated
NLLLoss2d; and the errors for bad input."""

import math
import warnings

import numpy as np
import pytest

import interop as it
from interop import nn
import interop.nn.functional as F
from helpers import to_np, jax_backend
from torch_compare import (Const, assert_same, check_function, check_module, load_twin,
                           np_of)

torch = pytest.importorskip("torch")
TF = torch.nn.functional
TNN = torch.nn

DTYPES = ["float32", "float64"]
REDUCTIONS = ["none", "mean", "sum"]

# NaN/inf arithmetic and empty means are the point of several cases: NumPy's warnings are expected
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _randn(shape, dt, seed=0, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dt)


def _unit(shape, dt, seed=0):
    """Values strictly inside (0, 1)."""
    return np.random.default_rng(seed).uniform(0.05, 0.95, shape).astype(dt)


def _classes(shape, n, seed=0):
    return Const(np.random.default_rng(seed).integers(0, n, shape).astype(np.int64))


def _index(*values):
    return Const(np.array(values, dtype=np.int64))


def _signs(shape, dt, seed=0):
    return np.where(np.random.default_rng(seed).random(shape) < 0.5, -1.0, 1.0).astype(dt)


def _with(a, flat_values):
    a = a.copy()
    a.flat[:len(flat_values)] = flat_values
    return a


def _pair_kinks(dt, points):
    """(input, target) whose differences hit ``points`` (the kinks) in their first entries."""
    target = _randn((3, 5), dt, seed=1)
    diff = _with(_randn((3, 5), dt, seed=2, scale=2.0), points)
    return (target + diff).astype(dt), target


# ------------------------------------------------------------------ the table of twins
# id: (function name, builder(dtype) -> (args, kwargs)); run on every backend and dtype.

def _pointwise(name, points, **kw):
    def build(dt):
        x, t = _pair_kinks(dt, points)
        return (x, t), kw
    return name, build


CASES = {}
for red in REDUCTIONS:
    CASES[f"l1-{red}"] = _pointwise("l1_loss", [0.0, -0.0], reduction=red)
    CASES[f"mse-{red}"] = _pointwise("mse_loss", [0.0], reduction=red)
    CASES[f"smooth_l1-{red}"] = _pointwise("smooth_l1_loss", [0.0, 1.0, -1.0], reduction=red)
    CASES[f"huber-{red}"] = _pointwise("huber_loss", [0.0, 1.0, -1.0], reduction=red)
CASES.update({
    "smooth_l1-beta0.5": _pointwise("smooth_l1_loss", [0.5, -0.5, 0.0], beta=0.5),
    "smooth_l1-beta0": _pointwise("smooth_l1_loss", [0.0, 1.0], beta=0.0),
    "huber-delta2.5": _pointwise("huber_loss", [2.5, -2.5, 0.0], delta=2.5),
    "l1-weight": ("l1_loss", lambda dt: ((_randn((3, 4), dt), _randn((3, 4), dt, 1)),
                                         dict(weight=_unit((3, 4), dt, 2)))),
    "l1-weight-sum": ("l1_loss", lambda dt: ((_randn((3, 4), dt), _randn((3, 4), dt, 1)),
                                             dict(weight=_unit((3, 4), dt, 2), reduction="sum"))),
    "mse-weight": ("mse_loss", lambda dt: ((_randn((3, 4), dt), _randn((3, 4), dt, 1)),
                                           dict(weight=_unit((3, 4), dt, 2)))),
    "huber-weight": ("huber_loss", lambda dt: ((_randn((3, 4), dt, scale=2), _randn((3, 4), dt, 1)),
                                               dict(weight=_unit((3, 4), dt, 2), delta=0.7))),
    "mse-broadcast": ("mse_loss", lambda dt: ((_randn((3, 4), dt), _randn((3, 1), dt, 1)), {})),
    "l1-empty": ("l1_loss", lambda dt: ((_randn((0, 4), dt), _randn((0, 4), dt, 1)), {})),
    # classification on class indices
    "ce": ("cross_entropy", lambda dt: ((_randn((5, 4), dt, scale=2), _classes(5, 4)), {})),
    "ce-sum": ("cross_entropy", lambda dt: ((_randn((5, 4), dt), _classes(5, 4)),
                                            dict(reduction="sum"))),
    "ce-none": ("cross_entropy", lambda dt: ((_randn((5, 4), dt), _classes(5, 4)),
                                             dict(reduction="none"))),
    "ce-large-logits": ("cross_entropy", lambda dt: ((_randn((4, 3), dt, scale=1e4),
                                                      _classes(4, 3)), {})),
    "ce-neg-inf-logit": ("cross_entropy", lambda dt: (
        (_with(_randn((3, 4), dt), [-np.inf, 0.0, -np.inf]), _index(1, 2, 0)), {})),
    "ce-weight": ("cross_entropy", lambda dt: ((_randn((5, 4), dt), _classes(5, 4)),
                                               dict(weight=Const(_unit(4, dt, 3))))),
    "ce-weight-none": ("cross_entropy", lambda dt: ((_randn((5, 4), dt), _classes(5, 4)),
                                                    dict(weight=Const(_unit(4, dt, 3)),
                                                         reduction="none"))),
    "ce-ignore": ("cross_entropy", lambda dt: ((_randn((5, 4), dt), _index(1, -100, 3, 0, -100)),
                                               {})),
    "ce-ignore-in-range": ("cross_entropy", lambda dt: ((_randn((5, 4), dt), _index(1, 2, 1, 0, 3)),
                                                        dict(ignore_index=1, reduction="none"))),
    "ce-ignore-index-above-range": ("cross_entropy", lambda dt: (
        (_randn((4, 3), dt), _index(0, 5, 2, 5)), dict(ignore_index=5))),
    "ce-ignore-all": ("cross_entropy", lambda dt: ((_randn((3, 4), dt), _index(-100, -100, -100)),
                                                   {})),
    "ce-ignore-all-smoothing": ("cross_entropy", lambda dt: (
        (_randn((3, 4), dt), _index(-100, -100, -100)), dict(label_smoothing=0.3))),
    "ce-zero-weights": ("cross_entropy", lambda dt: ((_randn((3, 4), dt), _index(0, 0, 1)),
                                                     dict(weight=Const(np.array([0, 0, 1, 1],
                                                                                dt))))),
    "ce-smoothing": ("cross_entropy", lambda dt: ((_randn((5, 4), dt), _classes(5, 4)),
                                                  dict(label_smoothing=0.25))),
    "ce-smoothing-all": ("cross_entropy", lambda dt: ((_randn((5, 4), dt), _classes(5, 4)),
                                                      dict(label_smoothing=1.0, reduction="sum"))),
    "ce-smoothing-weight-ignore": ("cross_entropy", lambda dt: (
        (_randn((5, 4), dt), _index(1, -100, 3, 0, 2)),
        dict(weight=Const(_unit(4, dt, 3)), label_smoothing=0.2))),
    "ce-smoothing-weight-ignore-none": ("cross_entropy", lambda dt: (
        (_randn((5, 4), dt), _index(1, -100, 3, 0, 2)),
        dict(weight=Const(_unit(4, dt, 3)), label_smoothing=0.2, reduction="none"))),
    "ce-many-logits": ("cross_entropy", lambda dt: ((_randn((4, 2100), dt),
                                                     _index(2099, 0, -100, 5)),
                                                    dict(label_smoothing=0.1))),
    "ce-many-logits-weight": ("cross_entropy", lambda dt: (
        (_randn((4, 2100), dt), _index(2099, 0, 3, 5)), dict(weight=Const(_unit(2100, dt))))),
    "ce-3d": ("cross_entropy", lambda dt: ((_randn((2, 3, 4), dt), _classes((2, 4), 3)), {})),
    "ce-4d-ignore-weight": ("cross_entropy", lambda dt: (
        (_randn((2, 3, 2, 2), dt), Const(np.array([[[0, -100], [2, 1]], [[1, 1], [-100, 0]]]))),
        dict(weight=Const(_unit(3, dt)), reduction="none"))),
    "ce-4d-smoothing": ("cross_entropy", lambda dt: ((_randn((2, 3, 2, 2), dt),
                                                      _classes((2, 2, 2), 3)),
                                                     dict(label_smoothing=0.1))),
    "ce-unbatched": ("cross_entropy", lambda dt: ((_randn(4, dt), Const(np.array(2))),
                                                  dict(reduction="none"))),
    "ce-unbatched-smoothing": ("cross_entropy", lambda dt: ((_randn(4, dt), Const(np.array(2))),
                                                            dict(label_smoothing=0.2,
                                                                 weight=Const(_unit(4, dt))))),
    "ce-uint8-target": ("cross_entropy", lambda dt: (
        (_randn((3, 4), dt), Const(np.array([3, 0, 1], np.uint8))),
        dict(weight=Const(_unit(4, dt))))),
    "ce-uint8-target-many-logits": ("cross_entropy", lambda dt: (
        (_randn((3, 3000), dt), Const(np.array([3, 0, 255], np.uint8))), dict(reduction="none"))),
    "ce-empty": ("cross_entropy", lambda dt: ((_randn((0, 4), dt), _index()), {})),
    "ce-empty-sum": ("cross_entropy", lambda dt: ((_randn((0, 4), dt), _index()),
                                                  dict(reduction="sum"))),
    "ce-empty-none": ("cross_entropy", lambda dt: ((_randn((0, 4), dt), _index()),
                                                   dict(reduction="none"))),
    # class probabilities
    "ce-probs": ("cross_entropy", lambda dt: ((_randn((5, 4), dt), _unit((5, 4), dt, 1)), {})),
    "ce-probs-none": ("cross_entropy", lambda dt: ((_randn((5, 4), dt), _unit((5, 4), dt, 1)),
                                                   dict(reduction="none"))),
    "ce-probs-weight-smoothing": ("cross_entropy", lambda dt: (
        (_randn((5, 4), dt), _unit((5, 4), dt, 1)),
        dict(weight=Const(_unit(4, dt, 2)), label_smoothing=0.3))),
    "ce-probs-weight-grad": ("cross_entropy", lambda dt: (
        (_randn((5, 4), dt), _unit((5, 4), dt, 1)), dict(weight=_unit(4, dt, 2),
                                                         reduction="none"))),
    "ce-probs-3d-sum": ("cross_entropy", lambda dt: ((_randn((2, 3, 4), dt),
                                                      _unit((2, 3, 4), dt, 1)),
                                                     dict(reduction="sum"))),
    "ce-probs-unbatched": ("cross_entropy", lambda dt: ((_randn(4, dt), _unit(4, dt, 1)),
                                                        dict(weight=Const(_unit(4, dt, 2))))),
    "nll": ("nll_loss", lambda dt: ((_randn((5, 4), dt), _classes(5, 4)), {})),
    "nll-weight-ignore": ("nll_loss", lambda dt: ((_randn((5, 4), dt), _index(1, -100, 3, 0, 2)),
                                                  dict(weight=Const(_unit(4, dt, 3))))),
    "nll-weight-ignore-sum": ("nll_loss", lambda dt: (
        (_randn((5, 4), dt), _index(1, -100, 3, 0, 2)),
        dict(weight=Const(_unit(4, dt, 3)), reduction="sum"))),
    "nll-ignore-all": ("nll_loss", lambda dt: ((_randn((2, 4), dt), _index(-100, -100)), {})),
    "nll-ignore-in-range": ("nll_loss", lambda dt: ((_randn((4, 3), dt), _index(0, 2, 0, 1)),
                                                    dict(ignore_index=0))),
    "nll-zero-weights": ("nll_loss", lambda dt: ((_randn((3, 4), dt), _index(0, 0, 1)),
                                                 dict(weight=Const(np.array([0, 0, 1, 1], dt))))),
    "nll-3d-none": ("nll_loss", lambda dt: ((_randn((2, 3, 4), dt), _classes((2, 4), 3)),
                                            dict(reduction="none"))),
    "nll-unbatched": ("nll_loss", lambda dt: ((_randn(4, dt), Const(np.array(3))), {})),
    "nll-empty": ("nll_loss", lambda dt: ((_randn((0, 4), dt), _index()), {})),
    # binary cross entropy
    "bce": ("binary_cross_entropy", lambda dt: ((_unit((3, 4), dt), _unit((3, 4), dt, 1)), {})),
    "bce-weight-none": ("binary_cross_entropy", lambda dt: (
        (_unit((3, 4), dt), _unit((3, 4), dt, 1)),
        dict(weight=Const(_unit(4, dt, 2)), reduction="none"))),
    "bce-bounds": ("binary_cross_entropy", lambda dt: (
        (np.array([0.0, 1.0, 0.0, 1.0, 1e-30, 1e-13, 1 - 1e-7, 0.5], dt),
         np.array([0.0, 1.0, 1.0, 0.0, 0.0, 0.3, 1.0, 0.5], dt)), dict(reduction="none"))),
    "bce-empty": ("binary_cross_entropy", lambda dt: ((_unit((0, 3), dt), _unit((0, 3), dt)), {})),
    "bce-sum": ("binary_cross_entropy", lambda dt: ((_unit((3, 4), dt), _unit((3, 4), dt, 1)),
                                                    dict(reduction="sum"))),
    "bce-logits": ("binary_cross_entropy_with_logits", lambda dt: (
        (_randn((3, 4), dt, scale=3), _unit((3, 4), dt, 1)), {})),
    "bce-logits-large": ("binary_cross_entropy_with_logits", lambda dt: (
        (np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0, 0.0], dt),
         np.array([0.0, 1.0, 0.5, 0.0, 1.0, 1.0], dt)), dict(reduction="none"))),
    "bce-logits-weights": ("binary_cross_entropy_with_logits", lambda dt: (
        (_randn((3, 4), dt, scale=3), _unit((3, 4), dt, 1)),
        dict(weight=Const(_unit((3, 4), dt, 2)), pos_weight=Const(_unit(4, dt, 3) * 3)))),
    "bce-logits-pos-weight-none": ("binary_cross_entropy_with_logits", lambda dt: (
        (_with(_randn((3, 4), dt, scale=3), [0.0, 1000.0, -1000.0]), _unit((3, 4), dt, 1)),
        dict(pos_weight=Const(_unit((1, 4), dt, 3) * 3), reduction="none"))),
    # divergences and likelihoods
    "kl-batchmean": ("kl_div", lambda dt: ((_randn((3, 4), dt), _unit((3, 4), dt, 1)),
                                           dict(reduction="batchmean"))),
    "kl-none": ("kl_div", lambda dt: ((_randn((3, 4), dt), _unit((3, 4), dt, 1)),
                                      dict(reduction="none"))),
    "kl-zero-target": ("kl_div", lambda dt: ((_randn((3, 4), dt),
                                              Const(np.array([[0.0, 0.5, 0.5, 0.0]] * 3, dt))),
                                             dict(reduction="sum"))),
    "kl-zero-target-grad": ("kl_div", lambda dt: (
        (_randn((2, 3), dt), np.array([[0.0, 0.5, 0.5], [0.2, 0.0, 0.8]], dt)),
        dict(reduction="sum"))),
    "kl-log-target": ("kl_div", lambda dt: ((_randn((3, 4), dt), _randn((3, 4), dt, 1)),
                                            dict(reduction="batchmean", log_target=True))),
    "kl-0d": ("kl_div", lambda dt: ((np.array(-0.5, dt), np.array(0.3, dt)),
                                    dict(reduction="batchmean"))),
    "poisson": ("poisson_nll_loss", lambda dt: ((_randn((3, 4), dt), _unit((3, 4), dt, 1) * 4),
                                                {})),
    "poisson-rate": ("poisson_nll_loss", lambda dt: ((_unit((3, 4), dt), _unit((3, 4), dt, 1) * 4),
                                                     dict(log_input=False, eps=1e-3,
                                                          reduction="sum"))),
    "poisson-full": ("poisson_nll_loss", lambda dt: (
        (_randn((2, 4), dt), np.array([[0.5, 1.0, 1.5, 3.0], [2.0, 7.0, 0.0, 1.1]], dt)),
        dict(full=True, reduction="none"))),
    "gaussian": ("gaussian_nll_loss", lambda dt: ((_randn((3, 4), dt), _randn((3, 4), dt, 1),
                                                   _unit((3, 4), dt, 2)), {})),
    "gaussian-var-last-dim-dropped": ("gaussian_nll_loss", lambda dt: (
        (_randn((3, 4), dt), _randn((3, 4), dt, 1), _unit(3, dt, 2)),
        dict(full=True, reduction="sum"))),
    "gaussian-var-one-per-column": ("gaussian_nll_loss", lambda dt: (
        (_randn((3, 4), dt), _randn((3, 4), dt, 1), _unit((1, 4), dt, 2)),
        dict(reduction="none"))),
    "gaussian-var-below-eps": ("gaussian_nll_loss", lambda dt: (
        (_randn((3, 2), dt), _randn((3, 2), dt, 1),
         np.array([[1e-9, 0.0], [1.0, 2.0], [1e-7, 0.5]], dt)),
        dict(reduction="none", eps=1e-6))),
    "gaussian-var-number": ("gaussian_nll_loss", lambda dt: (
        (_randn((3, 4), dt), _randn((3, 4), dt, 1), 0.7), {})),
    # margins
    "soft-margin": ("soft_margin_loss", lambda dt: ((_randn((3, 4), dt), Const(_signs((3, 4), dt))),
                                                    {})),
    "soft-margin-none": ("soft_margin_loss", lambda dt: ((_randn((3, 4), dt, scale=4),
                                                          Const(_signs((3, 4), dt))),
                                                         dict(reduction="none"))),
    "multilabel-soft-margin": ("multilabel_soft_margin_loss", lambda dt: (
        (_randn((3, 4), dt, scale=3), _unit((3, 4), dt, 1)), dict(weight=_unit(4, dt, 2)))),
    "multilabel-soft-margin-none": ("multilabel_soft_margin_loss", lambda dt: (
        (_randn((3, 4), dt, scale=3), (_unit((3, 4), dt, 1) > 0.5).astype(dt)),
        dict(reduction="none"))),
    "multilabel-soft-margin-1d": ("multilabel_soft_margin_loss", lambda dt: (
        (_randn(4, dt), _unit(4, dt, 1)), {})),
    "multilabel-margin": ("multilabel_margin_loss", lambda dt: (
        (np.array([[0.1, 0.2, 0.4, 0.8], [0.5, -0.5, 0.0, 1.0], [1.0, 0.0, 2.0, 3.0]], dt),
         Const(np.array([[3, 0, -1, 1], [0, 1, 2, 3], [1, 1, -1, 2]]))), {})),
    "multilabel-margin-none": ("multilabel_margin_loss", lambda dt: (
        (_randn((3, 5), dt),
         Const(np.array([[4, -1, 2, 1, 0], [-1, 0, 0, 0, 0], [0, 1, 2, 3, 4]]))),
        dict(reduction="none"))),
    "multilabel-margin-1d": ("multilabel_margin_loss", lambda dt: (
        (_randn(4, dt), Const(np.array([2, 0, -1, 3]))), dict(reduction="sum"))),
    "multi-margin": ("multi_margin_loss", lambda dt: (
        (np.array([[0.1, 0.2, 1.1, 0.8], [0.5, -0.5, 0.0, 1.0]], dt), _index(2, 3)), {})),
    "multi-margin-p2-weight": ("multi_margin_loss", lambda dt: (
        (_randn((4, 5), dt), _index(0, 4, 2, 2)),
        dict(p=2, margin=0.7, weight=Const(_unit(5, dt)), reduction="none"))),
    "multi-margin-1d": ("multi_margin_loss", lambda dt: ((_randn(4, dt), Const(np.array(1))),
                                                         dict(reduction="sum"))),
    "margin-ranking": ("margin_ranking_loss", lambda dt: (
        (np.array([1.0, 0.5, 2.0, -1.0, 0.3], dt), np.array([0.7, 0.5, 1.0, -1.0, 0.9], dt),
         np.array([1.0, 1.0, -1.0, 1.0, -1.0], dt)), dict(margin=0.3))),
    "margin-ranking-none": ("margin_ranking_loss", lambda dt: (
        (_randn(5, dt), _randn(5, dt, 1), Const(_signs(5, dt))), dict(reduction="none"))),
    "hinge-embedding": ("hinge_embedding_loss", lambda dt: (
        (np.array([0.5, 1.0, 2.0, -1.0, 0.3, 0.2], dt),
         Const(np.array([1.0, -1.0, -1.0, 1.0, 0.5, -1.0], dt))), dict(margin=1.0))),
    "hinge-embedding-none": ("hinge_embedding_loss", lambda dt: (
        (_randn((2, 3), dt), Const(_signs((2, 3), dt))), dict(margin=0.5, reduction="none"))),
    "cosine-embedding": ("cosine_embedding_loss", lambda dt: (
        (_randn((4, 3), dt), _randn((4, 3), dt, 1), Const(np.array([1.0, -1.0, -1.0, 1.0], dt))),
        dict(margin=0.2))),
    "cosine-embedding-zero-vector": ("cosine_embedding_loss", lambda dt: (
        (_with(_randn((3, 3), dt), [0.0, 0.0, 0.0]), _randn((3, 3), dt, 1),
         Const(np.array([1.0, -1.0, -1.0], dt))), dict(margin=-0.5, reduction="none"))),
    "cosine-embedding-1d": ("cosine_embedding_loss", lambda dt: (
        (_randn(3, dt), _randn(3, dt, 1), Const(np.array(-1.0, dt))), dict(margin=-0.9))),
    "triplet": ("triplet_margin_loss", lambda dt: ((_randn((4, 3), dt), _randn((4, 3), dt, 1),
                                                    _randn((4, 3), dt, 2)), {})),
    "triplet-p1-swap-none": ("triplet_margin_loss", lambda dt: (
        (_randn((4, 3), dt), _randn((4, 3), dt, 1), _randn((4, 3), dt, 2)),
        dict(p=1, swap=True, margin=2.0, reduction="none"))),
    "triplet-swap-tie": ("triplet_margin_loss", lambda dt: (
        (np.array([[0.0, 0.0], [1.0, 1.0]], dt), np.array([[2.0, 0.0], [1.0, 1.0]], dt),
         np.array([[1.0, 2.0], [3.0, 1.0]], dt)), dict(swap=True, eps=0.0, margin=5.0))),
    "triplet-1d": ("triplet_margin_loss", lambda dt: ((_randn(3, dt), _randn(3, dt, 1),
                                                       _randn(3, dt, 2)), dict(p=3))),
    "triplet-distance": ("triplet_margin_with_distance_loss", lambda dt: (
        (_randn((4, 3), dt), _randn((4, 3), dt, 1), _randn((4, 3), dt, 2)), dict(swap=True))),
    # distances
    "pairwise": ("pairwise_distance", lambda dt: ((_randn((4, 3), dt), _randn((4, 3), dt, 1)), {})),
    "pairwise-same-rows": ("pairwise_distance", lambda dt: (
        (np.ones((2, 3), dt), np.ones((2, 3), dt)), dict(eps=0.0))),
    "pairwise-p1-keepdim": ("pairwise_distance", lambda dt: (
        (_randn((4, 3), dt), _randn((4, 3), dt, 1)), dict(p=1, keepdim=True))),
    "pairwise-pinf": ("pairwise_distance", lambda dt: (
        (_randn((4, 3), dt), _randn((4, 3), dt, 1)), dict(p=math.inf))),
    "pairwise-p3-broadcast": ("pairwise_distance", lambda dt: (
        (_randn((2, 4, 3), dt), _randn(3, dt, 1)), dict(p=3))),
    "pairwise-pneg": ("pairwise_distance", lambda dt: (
        (_randn((4, 3), dt), _randn((4, 3), dt, 1)), dict(p=-1.5))),
    "pairwise-1d": ("pairwise_distance", lambda dt: ((_randn(3, dt), _randn(3, dt, 1)), {})),
    "pairwise-0d": ("pairwise_distance", lambda dt: ((np.array(1.5, dt), np.array(-1.0, dt)),
                                                     dict(keepdim=True))),
    "cosine": ("cosine_similarity", lambda dt: ((_randn((4, 3), dt), _randn((4, 3), dt, 1)), {})),
    "cosine-zero-and-tiny": ("cosine_similarity", lambda dt: (
        (np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [1e-9, 0.0, 0.0]], dt),
         _randn((3, 3), dt, 1)), {})),
    "cosine-broadcast-dim": ("cosine_similarity", lambda dt: (
        (_randn((2, 1, 3), dt), _randn((4, 3), dt, 1)), dict(dim=-1, eps=1e-3))),
    "cosine-dim0": ("cosine_similarity", lambda dt: ((_randn((3, 2), dt), _randn((3, 2), dt, 1)),
                                                     dict(dim=0))),
    "pdist": ("pdist", lambda dt: ((_randn((4, 3), dt),), {})),
    "pdist-duplicates-p1": ("pdist", lambda dt: ((np.array([[1.0, 2], [1, 2], [0, 0]], dt),),
                                                 dict(p=1))),
    "pdist-duplicates-p2": ("pdist", lambda dt: ((np.array([[1.0, 2], [1, 2], [0, 0]], dt),), {})),
    "pdist-p3": ("pdist", lambda dt: ((_randn((5, 2), dt),), dict(p=3))),
    "pdist-one-row": ("pdist", lambda dt: ((_randn((1, 3), dt),), {})),
})


def _log_probs(shape, dt, seed=0):
    """Rows of log-probabilities (a log_softmax output)."""
    a = _randn(shape, "float64", seed, scale=1.5)
    a = a - np.log(np.exp(a).sum(-1, keepdims=True))
    return a.astype(dt)


def _ctc(targets, input_lengths, target_lengths, t=6, n=2, c=4, seed=0, **kw):
    def build(dt):
        shape = (t, n, c) if n else (t, c)
        return (_log_probs(shape, dt, seed), Const(np.array(targets)),
                Const(np.array(input_lengths)), Const(np.array(target_lengths))), kw
    return "ctc_loss", build


CASES.update({
    "ctc-padded-none": _ctc([[1, 2, 2], [1, 1, 0]], [6, 4], [3, 1], reduction="none"),
    "ctc-padded-mean": _ctc([[1, 2, 2], [3, 1, 0]], [6, 5], [3, 2]),
    "ctc-concatenated-sum": _ctc([1, 2, 2, 3, 1], [6, 5], [3, 2], reduction="sum"),
    "ctc-blank-last": _ctc([[0, 1, 1], [2, 2, 0]], [6, 6], [3, 2], blank=3, reduction="none"),
    "ctc-empty-target": _ctc([[1, 2], [1, 1]], [6, 3], [0, 2], reduction="none"),
    "ctc-all-targets-empty": _ctc([[0], [0]], [6, 2], [0, 0], reduction="none"),
    "ctc-zero-length-input": _ctc([[1, 2], [1, 1]], [6, 0], [2, 0], reduction="none"),
    "ctc-impossible": _ctc([[1, 1, 1], [1, 2, 0]], [6, 3], [3, 2], reduction="none"),
    "ctc-impossible-zero-infinity": _ctc([[1, 1, 1], [1, 2, 0]], [6, 3], [3, 2],
                                         zero_infinity=True),
    "ctc-longer-batch": _ctc([[1, 2, 3, 1], [2, 2, 1, 0], [3, 0, 0, 0]], [8, 7, 2], [4, 3, 1],
                             t=8, n=3, c=5, seed=3, reduction="none"),
    "ctc-unbatched": _ctc([1, 2, 2], 6, 3, n=0, reduction="none"),
    "ctc-unbatched-mean": _ctc([2, 1], [5], [2], t=5, n=0),
})


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_pytorch(be, case, dtype):
    name, build = CASES[case]
    args, kwargs = build(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)          # size-mismatch warnings, both sides
        check_function(getattr(F, name), getattr(TF, name), *args, **kwargs)


def test_ctc_tuple_lengths(be):
    lp = _log_probs((5, 2, 3), "float64")
    check_function(lambda x: F.ctc_loss(x, it.asarray([[1, 2], [2, 0]]), (5, 4), (2, 1)),
                   lambda x: TF.ctc_loss(x, torch.tensor([[1, 2], [2, 0]]), (5, 4), (2, 1)), lp)


def test_ctc_gradient_is_pytorchs_for_logits(be):
    """PyTorch's CTC gradient is exp(log_probs) minus the alignment posteriors: through a
    log_softmax that is the exact gradient for the logits, so both routes agree."""
    logits = _randn((6, 2, 4), "float64", scale=2)
    check_function(lambda x: F.ctc_loss(it.log_softmax(x, axis=2), it.asarray([[1, 2], [3, 3]]),
                                        it.asarray([6, 5]), it.asarray([2, 2])),
                   lambda x: TF.ctc_loss(x.log_softmax(2), torch.tensor([[1, 2], [3, 3]]),
                                         torch.tensor([6, 5]), torch.tensor([2, 2])), logits)


def test_ctc_half_precision_is_computed_in_float32(be):
    if it.float16 not in be.to_native:
        pytest.skip(f"the {be.name} backend has no float16")
    lp = _log_probs((5, 2, 3), "float16")
    args = (it.asarray([[1, 2], [2, 0]]), it.asarray([5, 4]), it.asarray([2, 1]))
    half = it.asarray(lp).requires_grad_()
    loss = F.ctc_loss(half, *args)
    loss.backward()
    assert loss.dtype == it.float16 and half.grad.dtype == it.float16
    expected = F.ctc_loss(it.asarray(lp.astype(np.float32)), *args)
    assert abs(float(loss) - float(expected)) < 1e-2 * abs(float(expected))


# ------------------------------------------------------------------ second derivatives

@pytest.mark.parametrize("n_class", [3, 2100], ids=["mask", "gather"])
@pytest.mark.parametrize("options", [dict(), dict(label_smoothing=0.2, reduction="sum"),
                                     dict(ignore_index=1, reduction="none")],
                         ids=["plain", "smoothing", "ignore"])
def test_cross_entropy_second_derivative(be, options, n_class):
    """Both routes of the primitive (one-hot mask, gather) differentiate their backward."""
    x = _randn((4, n_class), "float64")
    w = _unit(n_class, "float64")
    target = [0, 1, 2, 1]

    def grad_norm(lib, loss_fn, x, target, weight):
        loss = loss_fn(x, target, weight=weight, **options).sum()
        g, = lib.autograd.grad(loss, x, create_graph=True)
        return (g * g).sum()

    check_function(lambda a: grad_norm(it, F.cross_entropy, a, it.asarray(target), it.asarray(w)),
                   lambda a: grad_norm(torch, TF.cross_entropy, a, torch.tensor(target),
                                       torch.tensor(w)), x)


@pytest.mark.parametrize("name, args", [
    ("binary_cross_entropy_with_logits", lambda: (_randn((3, 2), "float64"),
                                                  _unit((3, 2), "float64", 1))),
    ("binary_cross_entropy", lambda: (_unit((3, 2), "float64"), _unit((3, 2), "float64", 1))),
])
def test_binary_cross_entropy_second_derivative(be, name, args):
    x, t = args()

    def grad_norm(lib, fn, a, b):
        g = lib.autograd.grad(fn(a, b), (a, b), create_graph=True)
        return (g[0] * g[0]).sum() + (g[0] * g[1]).sum()

    check_function(lambda a, b: grad_norm(it, getattr(F, name), a, b),
                   lambda a, b: grad_norm(torch, getattr(TF, name), a, b), x, t)


def _f64(a, grad=True):
    t = it.asarray(a)
    return t.requires_grad_() if grad else t


@pytest.mark.parametrize("shape, options", [
    ((4, 3), dict()),
    ((4, 3), dict(reduction="sum", label_smoothing=0.2, weighted=True)),
    ((4, 3), dict(reduction="none", ignore_index=1)),
    ((3, 4, 2), dict(ignore_index=0, weighted=True)),
    ((3, 4, 2), dict(reduction="sum", label_smoothing=0.1, weighted=True)),
], ids=["mask", "mask-smoothing-weight-sum", "mask-ignore-none", "gather-nd-ignore-weight",
        "gather-nd-smoothing-weight-sum"])
def test_cross_entropy_primitive_gradcheck_and_gradgradcheck(be, shape, options):
    """float64 finite differences of the cross_entropy primitive's raw-array backward
    and of its recorded backward, on every route (the class_cross_entropy kernel for 2-d
    logits without class weights or smoothing; else one-hot mask for small 2-d logits,
    gather/scatter_add for N-d ones)."""
    options = dict(options)
    n, c = shape[0], shape[1]
    x = _f64(_randn(shape, "float64", 3))
    target = it.asarray(np.random.default_rng(4).integers(0, c, (n,) + shape[2:]))
    if options.pop("weighted", False):
        options["weight"] = it.asarray(_unit(c, "float64", 5))

    def fn(x):
        return F.cross_entropy(x, target, **options)
    node = fn(x).grad_fn
    kernel = len(shape) == 2 and "weight" not in options and "label_smoothing" not in options
    if options.get("reduction") == "none" and not kernel:   # (reshaped to the target's shape)
        node = node.next_functions[0][0]
    assert node.name() == ("ClassCrossEntropyBackward" if kernel else "_CrossEntropyBackward")
    assert it.autograd.gradcheck(fn, (x,))
    assert it.autograd.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_primitive_gradcheck_and_gradgradcheck(be, weighted):
    x, t = _f64(_unit((3, 4), "float64")), _f64(_unit((3, 4), "float64", 1))
    w = it.asarray(_unit((4,), "float64", 2)) if weighted else None

    def fn(x, t):
        return F.binary_cross_entropy(x, t, weight=w, reduction="sum")
    assert it.autograd.gradcheck(fn, (x, t))
    assert it.autograd.gradgradcheck(fn, (x, t))


@pytest.mark.parametrize("weighted, pos", [(False, False), (True, True), (False, True)])
def test_logit_binary_cross_entropy_primitive_gradcheck_and_gradgradcheck(be, weighted, pos):
    x, t = _f64(_randn((3, 4), "float64", 3)), _f64(_unit((3, 4), "float64", 1))
    w = it.asarray(_unit((3, 1), "float64", 2)) if weighted else None
    p = it.asarray(_unit((4,), "float64", 4) * 3) if pos else None

    def fn(x, t):
        return F.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=p)
    assert it.autograd.gradcheck(fn, (x, t))
    assert it.autograd.gradgradcheck(fn, (x, t))
    # the logits alone (the target needs no gradient; forward's log-sigmoid is not kept)
    assert it.autograd.gradgradcheck(lambda x: fn(x, t.detach()), (x,))


def test_logit_losses_with_integer_targets_differentiate_on_every_backend(be):
    """Integer 0/1 targets (multilabel_soft_margin_loss's, PyTorch accepts them) meet the
    float logits in the raw-array backward: the gradient is PyTorch's, in the logits' dtype,
    also on array-api-strict, whose arrays refuse to mix float and int."""
    x = _randn((3, 4), "float32", 3)
    target = np.array([[1, 0, 1, 0]] * 3, np.int64)
    check_function(lambda a: F.multilabel_soft_margin_loss(a, it.asarray(target)),
                   lambda a: TF.multilabel_soft_margin_loss(a, torch.tensor(target)), x)
    xt = it.asarray(x).requires_grad_()
    F.binary_cross_entropy_with_logits(xt, it.asarray(target),
                                       weight=it.asarray(np.array([1, 2, 1, 0]))).backward()
    tx = torch.tensor(x, requires_grad=True)
    TF.binary_cross_entropy_with_logits(tx, torch.tensor(target).float(),
                                        weight=torch.tensor([1.0, 2, 1, 0])).backward()
    assert xt.grad.dtype == it.float32
    assert_same(xt.grad, tx.grad, "gradient with integer target and weight")


# ------------------------------------------------------------------ legacy reduction arguments

LEGACY = [(sa, rd) for sa in (None, True, False) for rd in (None, True, False)
          if (sa, rd) != (None, None)]


@pytest.mark.parametrize("size_average, reduce", LEGACY)
def test_legacy_size_average_and_reduce(be, size_average, reduce):
    x, t = _randn((3, 4), "float64"), _randn((3, 4), "float64", 1)
    with pytest.warns(UserWarning, match="reduction="):
        check_function(lambda a, b: F.mse_loss(a, b, size_average=size_average, reduce=reduce),
                       lambda a, b: TF.mse_loss(a, b, size_average=size_average, reduce=reduce),
                       x, t)
    with pytest.warns(UserWarning, match="reduction="):
        ours = nn.NLLLoss(size_average=size_average, reduce=reduce)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.NLLLoss(size_average=size_average, reduce=reduce)
    assert ours.reduction == theirs.reduction
    check_module(ours, theirs, _randn((3, 4), "float64"), _index(0, 3, 1))


def test_kl_div_mean_warns_and_batchmean_does_not(be):
    x, t = it.asarray(_randn((2, 3), "float32")), it.asarray(_unit((2, 3), "float32"))
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(x, t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(x, t, reduction="batchmean")
        nn.KLDivLoss(reduction="batchmean")(x, t)


@pytest.mark.parametrize("name", ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss"])
def test_size_mismatch_warns(be, name):
    x, t = it.asarray(_randn((3, 4), "float32")), it.asarray(_randn((3, 1), "float32"))
    with pytest.warns(UserWarning, match=r"\(3, 1\).*\(3, 4\)"):
        getattr(F, name)(x, t)


# ------------------------------------------------------------------ modules

# (class name, constructor kwargs (NumPy arrays become buffers on both sides), forward args)
MODULES = [
    ("L1Loss", {}, lambda dt: (_randn((3, 4), dt), _randn((3, 4), dt, 1))),
    ("MSELoss", dict(reduction="sum"), lambda dt: (_randn((3, 4), dt), _randn((3, 4), dt, 1))),
    ("CrossEntropyLoss", dict(weight="w4", ignore_index=2, label_smoothing=0.1),
     lambda dt: (_randn((5, 4), dt), _index(0, 2, 3, 1, 2))),
    ("NLLLoss", dict(weight="w4", reduction="none"),
     lambda dt: (_randn((5, 4), dt), _index(0, 2, 3, 1, -100))),
    ("BCELoss", dict(weight="w4"), lambda dt: (_unit((3, 4), dt), _unit((3, 4), dt, 1))),
    ("BCEWithLogitsLoss", dict(weight="w4", pos_weight="w4"),
     lambda dt: (_randn((3, 4), dt), _unit((3, 4), dt, 1))),
    ("KLDivLoss", dict(reduction="batchmean", log_target=True),
     lambda dt: (_randn((3, 4), dt), _randn((3, 4), dt, 1))),
    ("HuberLoss", dict(delta=0.5), lambda dt: (_randn((3, 4), dt), _randn((3, 4), dt, 1))),
    ("SmoothL1Loss", dict(beta=0.5, reduction="none"),
     lambda dt: (_randn((3, 4), dt), _randn((3, 4), dt, 1))),
    ("SoftMarginLoss", {}, lambda dt: (_randn((3, 4), dt), Const(_signs((3, 4), dt)))),
    ("MultiLabelSoftMarginLoss", dict(weight="w4"),
     lambda dt: (_randn((3, 4), dt), _unit((3, 4), dt, 1))),
    ("MultiLabelMarginLoss", {}, lambda dt: (_randn((2, 4), dt),
                                             Const(np.array([[3, 0, -1, 1], [2, -1, 0, 0]])))),
    ("MultiMarginLoss", dict(p=2, margin=0.5, weight="w4"),
     lambda dt: (_randn((3, 4), dt), _index(0, 3, 1))),
    ("MarginRankingLoss", dict(margin=0.2),
     lambda dt: (_randn(5, dt), _randn(5, dt, 1), Const(_signs(5, dt)))),
    ("HingeEmbeddingLoss", dict(margin=0.5), lambda dt: (_randn(5, dt), Const(_signs(5, dt)))),
    ("CosineEmbeddingLoss", dict(margin=0.1),
     lambda dt: (_randn((4, 3), dt), _randn((4, 3), dt, 1), Const(_signs(4, dt)))),
    ("TripletMarginLoss", dict(margin=0.5, p=1, swap=True),
     lambda dt: (_randn((4, 3), dt), _randn((4, 3), dt, 1), _randn((4, 3), dt, 2))),
    ("TripletMarginWithDistanceLoss", dict(margin=0.5),
     lambda dt: (_randn((4, 3), dt), _randn((4, 3), dt, 1), _randn((4, 3), dt, 2))),
    ("PoissonNLLLoss", dict(log_input=False, full=True),
     lambda dt: (_unit((3, 4), dt), _unit((3, 4), dt, 1) * 5)),
    ("GaussianNLLLoss", dict(full=True, eps=1e-3),
     lambda dt: (_randn((3, 4), dt), _randn((3, 4), dt, 1), _unit((3, 1), dt, 2))),
    ("CTCLoss", dict(blank=1, zero_infinity=True),
     lambda dt: (_log_probs((5, 2, 3), dt), Const(np.array([[0, 2], [2, 2]])),
                 Const(np.array([5, 3])), Const(np.array([2, 2])))),
    ("PairwiseDistance", dict(p=3.0, keepdim=True),
     lambda dt: (_randn((4, 3), dt), _randn((4, 3), dt, 1))),
    ("CosineSimilarity", dict(dim=0, eps=1e-4),
     lambda dt: (_randn((4, 3), dt), _randn((4, 3), dt, 1))),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls, options, args", MODULES, ids=[m[0] for m in MODULES])
def test_module_matches_pytorch(be, cls, options, args, dtype):
    w = _unit(4, dtype, 5)
    ours = getattr(nn, cls)(**{k: it.asarray(w) if v == "w4" else v for k, v in options.items()})
    theirs = getattr(torch.nn, cls)(**{k: torch.from_numpy(w.copy()) if v == "w4" else v
                                       for k, v in options.items()})
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    for name, value in vars(theirs).items():
        if not name.startswith("_") and name != "training":
            assert getattr(ours, name) == value, name
    check_module(ours, theirs, *args(dtype))


def test_loss_buffers_follow_the_module(be):
    loss = nn.BCEWithLogitsLoss(weight=it.ones(3), pos_weight=it.full((3,), 2.0))
    assert [n for n, _ in loss.named_buffers()] == ["weight", "pos_weight"]
    loss.double()
    assert loss.weight.dtype == it.float64 and loss.pos_weight.dtype == it.float64
    assert "weight" not in nn.CrossEntropyLoss().state_dict()
    assert nn.CrossEntropyLoss().weight is None


def test_custom_distance_function_is_used(be):
    def distance(a, b):
        return 1.0 - F.cosine_similarity(a, b)
    anchor, pos, neg = (_randn((4, 3), "float64", s) for s in range(3))
    check_module(nn.TripletMarginWithDistanceLoss(distance_function=distance, swap=True),
                 torch.nn.TripletMarginWithDistanceLoss(
                     distance_function=lambda a, b: 1.0 - TF.cosine_similarity(a, b), swap=True),
                 anchor, pos, neg)


# ------------------------------------------------------------------ errors

def _t(a):
    return it.asarray(np.asarray(a))


X = _randn((4, 3), "float32")
ERRORS = [
    ("bad reduction", lambda: F.mse_loss(_t(X), _t(X), reduction="avg"), ValueError,
     r"'avg'.*'none', 'mean', 'sum'"),
    ("batchmean outside kl_div", lambda: F.l1_loss(_t(X), _t(X), reduction="batchmean"),
     ValueError, "batchmean"),
    ("bad module reduction", lambda: nn.CrossEntropyLoss(reduction="elementwise_mean"),
     ValueError, "elementwise_mean"),
    ("float class target", lambda: F.cross_entropy(_t(X), _t([0.0, 1.0, 2.0, 0.0])), TypeError,
     "int64.*got interop.float64"),
    ("int32 class target", lambda: F.nll_loss(_t(X), _t(np.array([0, 1, 2, 0], np.int32))),
     TypeError, "int64.*int32"),
    ("integer probabilities", lambda: F.cross_entropy(_t(X), _t(np.zeros((4, 3), np.int64))),
     TypeError, "floating point, got interop.int64"),
    ("class out of range", lambda: F.cross_entropy(_t(X), _t([0, 1, 3, 0])), IndexError,
     "target 3 is out of bounds for 3 classes"),
    ("negative class", lambda: F.nll_loss(_t(X), _t([0, -1, 2, 0])), IndexError,
     "target -1 is out of bounds"),
    ("class out of range, many logits",
     lambda: F.cross_entropy(_t(_randn((2, 8000), "float32")), _t([0, 8000])), IndexError,
     "target 8000 is out of bounds for 8000 classes"),
    ("batch size", lambda: F.cross_entropy(_t(X), _t([0, 1, 2])), ValueError,
     "batch size 4 to match target batch size 3"),
    ("multi-target", lambda: F.cross_entropy(_t(X), _t(np.zeros((4, 2), np.int64))), RuntimeError,
     r"1-d target of shape \(4,\), got shape \(4, 2\)"),
    ("N-d target shape", lambda: F.nll_loss(_t(_randn((2, 3, 4), "float32")),
                                             _t(np.zeros((2, 5), np.int64))), ValueError,
     r"target of shape \(2, 4\), got \(2, 5\)"),
    ("unbatched target", lambda: F.cross_entropy(_t(X[0]), _t([1])), ValueError, "0-d target"),
    ("0-d input", lambda: F.cross_entropy(_t(np.float32(1.0)), _t(0)), ValueError, "0-d"),
    ("weight size", lambda: F.cross_entropy(_t(X), _t([0, 1, 2, 0]), weight=it.ones(4)),
     RuntimeError, r"weight of shape \(3,\).*\(4,\)"),
    ("weight dtype", lambda: F.nll_loss(_t(X), _t([0, 1, 2, 0]),
                                        weight=it.ones(3, dtype=it.float64)),
     TypeError, "float32, got interop.float64"),
    ("weight requires grad", lambda: F.cross_entropy(
        _t(X), _t([0, 1, 2, 0]), weight=it.ones(3, requires_grad=True)), RuntimeError,
     "not differentiable with respect to weight"),
    ("label smoothing", lambda: F.cross_entropy(_t(X), _t([0, 1, 2, 0]), label_smoothing=1.5),
     RuntimeError, "between 0.0 and 1.0, got 1.5"),
    ("bce input range", lambda: F.binary_cross_entropy(_t([0.5, 1.5]), _t([1.0, 0.0])),
     RuntimeError, "input should be between 0 and 1, got 1.5"),
    ("bce NaN input", lambda: F.binary_cross_entropy(_t([0.5, np.nan]), _t([1.0, 0.0])),
     ValueError, "got nan"),
    ("bce target range", lambda: F.binary_cross_entropy(_t([0.5, 0.5]), _t([2.0, 0.0])),
     ValueError, "target should be between 0 and 1"),
    ("bce size", lambda: F.binary_cross_entropy(_t([0.5, 0.5]), _t([1.0])), ValueError,
     r"size \(2,\), got size \(1,\)"),
    ("bce target dtype", lambda: F.binary_cross_entropy(
        _t(np.array([0.5], np.float32)), _t(np.array([1.0]))), TypeError,
     "float32, got interop.float64"),
    ("bce weight shape", lambda: F.binary_cross_entropy(
        _t(np.full((1, 2), 0.5)), _t(np.ones((1, 2))), weight=_t(np.ones((2, 1)))), ValueError,
     r"\(2, 1\) does not broadcast"),
    ("bce logits size", lambda: F.binary_cross_entropy_with_logits(_t([0.5, 0.5]), _t([1.0])),
     ValueError, "size"),
    ("pos_weight requires grad", lambda: F.binary_cross_entropy_with_logits(
        _t([0.5]), _t([1.0]), pos_weight=it.ones(1, dtype=it.float64, requires_grad=True)),
     RuntimeError, "pos_weight"),
    ("soft margin target requires grad", lambda: F.soft_margin_loss(
        _t([0.5]), it.ones(1, dtype=it.float64, requires_grad=True)), RuntimeError, "target"),
    ("weighted l1 shape", lambda: F.l1_loss(_t(X), _t(X), weight=it.ones(3)), ValueError,
     r"weight of the input's size \(4, 3\)"),
    ("smooth l1 beta", lambda: F.smooth_l1_loss(_t(X), _t(X), beta=-1.0), ValueError,
     "non-negative, got -1.0"),
    ("huber delta", lambda: F.huber_loss(_t(X), _t(X), delta=0.0), ValueError, "positive"),
    ("multi margin p", lambda: F.multi_margin_loss(_t(X), _t([0, 1, 2, 0]), p=3), ValueError,
     "p == 1 and p == 2"),
    ("multi margin module p", lambda: nn.MultiMarginLoss(p=3), ValueError, "p == 1"),
    ("multi margin target", lambda: F.multi_margin_loss(_t(X), _t([0, 1, 3, 0])), RuntimeError,
     r"\[0, 3\)"),
    ("multi margin weight dims", lambda: F.multi_margin_loss(
        _t(X), _t([0, 1, 2, 0]), weight=it.ones((1, 3))), ValueError, "one-dimensional"),
    ("multilabel margin shape", lambda: F.multilabel_margin_loss(_t(X), _t([[0, 1]])),
     ValueError, r"shape \(4, 3\), got \(1, 2\)"),
    ("multilabel margin values", lambda: F.multilabel_margin_loss(
        _t(X[:1]), _t([[0, 5, -1]])), RuntimeError, r"\[0, 3\) or -1.*to 5"),
    ("margin ranking dims", lambda: F.margin_ranking_loss(_t(X), _t(X), _t([1.0] * 4)),
     ValueError, r"\(4, 3\), \(4, 3\) and \(4,\)"),
    ("cosine embedding dims", lambda: F.cosine_embedding_loss(_t(X), _t(X), _t(1.0)),
     ValueError, "0-d target takes 1-d inputs"),
    ("triplet margin", lambda: F.triplet_margin_loss(_t(X), _t(X), _t(X), margin=0.0),
     ValueError, "greater than 0"),
    ("triplet module margin", lambda: nn.TripletMarginLoss(margin=-1.0), ValueError,
     "greater than 0"),
    ("triplet dims", lambda: F.triplet_margin_with_distance_loss(_t(X), _t(X[0]), _t(X)),
     ValueError, "2-d, 1-d and 2-d"),
    ("gaussian negative var", lambda: F.gaussian_nll_loss(_t(X), _t(X), _t(-X * X)),
     ValueError, "negative"),
    ("gaussian var shape", lambda: F.gaussian_nll_loss(_t(X), _t(X), it.ones(2)), ValueError,
     r"var of shape \(2,\)"),
    ("gaussian var number", lambda: F.gaussian_nll_loss(_t(X), _t(X), -1.0), ValueError,
     "non-negative"),
    ("ctc blank", lambda: F.ctc_loss(_t(_log_probs((4, 1, 3), "float32")), _t([[1]]), _t([4]),
                                     _t([1]), blank=3), ValueError, r"\[0, 3\), got 3"),
    ("ctc input length", lambda: F.ctc_loss(_t(_log_probs((4, 1, 3), "float32")), _t([[1]]),
                                            _t([5]), _t([1])), ValueError, "at most T=4, got 5"),
    ("ctc target length", lambda: F.ctc_loss(_t(_log_probs((4, 1, 3), "float32")), _t([[1]]),
                                             _t([4]), _t([2])), ValueError, "exceeds"),
    ("ctc negative length", lambda: F.ctc_loss(_t(_log_probs((4, 1, 3), "float32")), _t([[1]]),
                                               _t([4]), _t([-1])), ValueError, "non-negative"),
    ("ctc lengths count", lambda: F.ctc_loss(_t(_log_probs((4, 1, 3), "float32")), _t([[1]]),
                                             _t([4, 4]), _t([1])), ValueError,
     "expected 1 input_lengths"),
    ("ctc target class", lambda: F.ctc_loss(_t(_log_probs((4, 1, 3), "float32")), _t([[5]]),
                                            _t([4]), _t([1])), IndexError, "target 5"),
    ("ctc concatenated too short", lambda: F.ctc_loss(_t(_log_probs((4, 2, 3), "float32")),
                                                      _t([1, 2]), _t([4, 4]), _t([2, 1])),
     ValueError, "sum to 3"),
    ("ctc float targets", lambda: F.ctc_loss(_t(_log_probs((4, 1, 3), "float32")), _t([[1.0]]),
                                             _t([4]), _t([1])), TypeError, "integer dtype"),
    ("pdist dims", lambda: F.pdist(_t(np.zeros((2, 2, 2)))), ValueError, "2-d input"),
    ("pdist p", lambda: F.pdist(_t(X), p=-1), ValueError, "non-negative"),
    ("pdist ints", lambda: F.pdist(_t(np.zeros((2, 2), np.int64))), TypeError, "floating"),
    ("cosine ints", lambda: F.cosine_similarity(_t([1, 2]), _t([1, 2]), dim=0), TypeError,
     "floating"),
    ("not a tensor", lambda: F.mse_loss(X, _t(X)), TypeError, "input to be a Tensor, got ndarray"),
]


@pytest.mark.parametrize("call, error, match", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors(be, call, error, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(error, match=match):
            call()


# ------------------------------------------------------------------ conventions worth pinning

def test_all_ignored_mean_is_nan_with_zero_gradient(be):
    x = it.asarray(_randn((3, 4), "float32")).requires_grad_()
    loss = F.cross_entropy(x, it.asarray([-100, -100, -100]))
    assert math.isnan(loss.item())
    loss.backward()
    assert not to_np(x.grad).any()


def test_cross_entropy_result_is_a_plain_differentiable_scalar(be):
    x = it.asarray(_randn((3, 4), "float64")).requires_grad_()
    loss = F.cross_entropy(x, it.asarray([0, 3, 1]))
    assert loss.shape == () and loss.dtype == it.float64 and loss.requires_grad
    with it.no_grad():
        assert not F.cross_entropy(x, it.asarray([0, 3, 1])).requires_grad


def test_bce_logits_stable_where_the_naive_formula_overflows(be):
    x = it.asarray(np.array([-1e4, 1e4], np.float32))
    loss = F.binary_cross_entropy_with_logits(x, it.asarray(np.array([1.0, 0.0], np.float32)),
                                              reduction="none")
    assert_same(loss, torch.tensor([1e4, 1e4]), "loss")


# ------------------------------------------------ a backend without int64 (JAX, no x64)

def test_class_index_losses_take_int32_where_the_backend_has_no_int64():
    """PyTorch requires int64 class indices because it always has int64; JAX without x64
    offers only int32, so the losses take the backend's default index dtype (and still
    refuse any other, naming what they take)."""
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((3, 4)).astype(np.float32)
    t_np = np.array([1, 0, 3])
    ml_np = np.array([[3, 0, -1, 1], [1, -1, 0, 0], [0, 1, 2, 3]])
    tx, tt = torch.from_numpy(x_np), torch.from_numpy(t_np)
    tf = torch.nn.functional
    want = {"cross_entropy": tf.cross_entropy(tx, tt, label_smoothing=0.1),
            "nll_loss": tf.nll_loss(tx, tt), "multi_margin_loss": tf.multi_margin_loss(tx, tt),
            "multilabel_margin_loss": tf.multilabel_margin_loss(tx, torch.from_numpy(ml_np))}
    tlp = torch.from_numpy(rng.standard_normal((5, 2, 4)).astype(np.float32)).log_softmax(2)
    want_ctc = tf.ctc_loss(tlp, torch.tensor([[1, 2], [1, 1]]), [5, 4], [2, 1])
    with jax_backend():
        x = it.tensor(x_np.tolist())
        t = it.tensor(t_np.tolist())
        assert t.dtype == it.int32
        got = {"cross_entropy": F.cross_entropy(x, t, label_smoothing=0.1),
               "nll_loss": F.nll_loss(x, t), "multi_margin_loss": F.multi_margin_loss(x, t),
               "multilabel_margin_loss": F.multilabel_margin_loss(x, it.tensor(ml_np.tolist()))}
        for name, w in want.items():
            np.testing.assert_allclose(float(got[name]), float(w), rtol=1e-5, err_msg=name)
        ctc = F.ctc_loss(it.tensor(tlp.numpy().tolist()), it.tensor([[1, 2], [1, 1]]), [5, 4],
                         [2, 1])
        np.testing.assert_allclose(float(ctc), float(want_ctc), rtol=1e-5)
        for f in (F.cross_entropy, F.multi_margin_loss):
            with pytest.raises(it.DTypeError, match="int32 .*has no int64.*got interop.int16"):
                f(x, t.to(it.int16))


def test_class_index_losses_still_require_int64_where_the_backend_has_it(be):
    x = it.zeros(2, 3)
    for f in (F.cross_entropy, F.nll_loss, F.multi_margin_loss):
        with pytest.raises(it.DTypeError, match="dtype int64.*got interop.int32"):
            f(x, it.tensor([0, 1], dtype=it.int32))


# ------------------------------------------------------------- adaptive log softmax

ADAPTIVE = [
    # (in_features, n_classes, cutoffs, keyword arguments, batch)
    (8, 10, [2, 5], {}, 12),
    (16, 20, [4, 8, 15], dict(div_value=2.0, head_bias=True), 16),
    (8, 6, [3], dict(div_value=8.0), 5),                 # a tail with an empty hidden layer
    (6, 9, [2, 4], dict(head_bias=True), None),          # unbatched
]


# a tail whose hidden layer is empty (in_features // div_value ** i == 0) warns when it is
# initialized, in PyTorch as here
_EMPTY_INIT = pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")


def _x(*shape):
    return _t(_randn(shape, "float32"))


def _targets(n_classes, batch, seed=0):
    rng = np.random.default_rng(seed)
    if batch is None:
        return np.asarray(rng.integers(0, n_classes))
    return rng.integers(0, n_classes, batch)


@_EMPTY_INIT
@pytest.mark.parametrize("case", ADAPTIVE, ids=lambda c: f"{c[:4]}")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adaptive_log_softmax_matches_pytorch(be, case, dtype):
    fin, ncls, cutoffs, kw, batch = case
    torch.manual_seed(0)
    theirs = TNN.AdaptiveLogSoftmaxWithLoss(fin, ncls, cutoffs, dtype=getattr(torch, dtype),
                                            **kw)
    ours = nn.AdaptiveLogSoftmaxWithLoss(fin, ncls, cutoffs, dtype=getattr(it, dtype), **kw)
    assert repr(ours) == repr(theirs)
    shape = (fin,) if batch is None else (batch, fin)
    out, _ = check_module(ours, theirs, _randn(shape, dtype), Const(_targets(ncls, batch)))
    assert type(out).__name__ == "_ASMoutput" and out._fields == ("output", "loss")
    # a batch whose targets leave some clusters empty
    if batch is not None:
        check_module(ours, theirs, _randn(shape, dtype, 1), Const(np.zeros(batch, np.int64)))


@_EMPTY_INIT
def test_adaptive_log_softmax_log_prob_and_predict(be):
    torch.manual_seed(1)
    theirs = TNN.AdaptiveLogSoftmaxWithLoss(8, 12, [3, 7], head_bias=True)
    ours = nn.AdaptiveLogSoftmaxWithLoss(8, 12, [3, 7], head_bias=True)
    load_twin(ours, theirs)
    x = _randn((20, 8), "float32")
    lp, lp_t = check_function(ours.log_prob, theirs.log_prob, x)
    assert np.allclose(np.exp(to_np(lp)).sum(1), 1, atol=1e-5)
    for bias in ([0.0] * 5, [5.0, 5, 5, -5, -5], [-5.0, -5, -5, 5, 5], [0.0, 0, 0, 0.3, 0.3]):
        # the head prefers the shortlist everywhere, nowhere, and somewhere
        with it.no_grad():
            ours.head.bias.copy_(it.asarray(np.asarray(bias, np.float32)))
        with torch.no_grad():
            theirs.head.bias.copy_(torch.tensor(bias))
        p = ours.predict(it.asarray(x))
        assert_same(p, theirs.predict(torch.from_numpy(x)), f"predict, head bias {bias}")
        assert np.array_equal(to_np(p), to_np(ours.log_prob(it.asarray(x))).argmax(1))


def test_adaptive_log_softmax_default_init_and_reset(be):
    ours = nn.AdaptiveLogSoftmaxWithLoss(256, 1000, [100, 400], head_bias=True)
    theirs = TNN.AdaptiveLogSoftmaxWithLoss(256, 1000, [100, 400], head_bias=True)
    p_o, p_t = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(p_o) == list(p_t) == ["head.weight", "head.bias", "tail.0.0.weight",
                                      "tail.0.1.weight", "tail.1.0.weight", "tail.1.1.weight"]
    for k, q in p_t.items():
        a, b = to_np(p_o[k]).ravel().astype(np.float64), np_of(q).ravel()
        assert a.shape == b.shape, k
        bound = 1 / math.sqrt(p_o[k].shape[-1] if k.endswith("weight") else 256)
        assert np.abs(a).max() <= bound and np.abs(a).max() > 0.9 * bound, k
        assert abs(a.std() - b.std()) < 0.1 * b.std(), k
    before = to_np(ours.tail[1][0].weight).copy()
    ours.reset_parameters()
    assert not np.array_equal(before, to_np(ours.tail[1][0].weight))


@pytest.mark.parametrize("call, exc, match", [
    (lambda m: m(_x(3, 8), it.asarray([1, 2, 10])), it.ArgumentError,
     r"Target values should be in \[0, 9\], but values in range \[1, 10\] were found"),
    (lambda m: m(_x(3, 8), it.asarray([-1, 2, 3])), it.ArgumentError, r"\[-1, 3\]"),
    (lambda m: m(_x(3, 8), it.asarray([1, 2])), it.ShapeError, "same size in the batch"),
    (lambda m: m(_x(3, 8), it.asarray([[1, 2]])), it.ShapeError, "0D or 1D target"),
    (lambda m: m(_x(2, 8), it.asarray(1)), it.ShapeError,
     r"0D target tensor expects 1D input tensors.*\[2, 8\]"),
    (lambda m: m(_x(3, 2, 8), it.asarray([1, 2, 3])), it.ShapeError,
     r"1D target tensor expects 2D input"),
    (lambda m: m(_x(3, 8), it.asarray([1.0, 2, 3])), it.DTypeError, "integer target"),
    (lambda m: m.log_prob(_x(8)), it.ShapeError, r"2-D input \(N, in_features=8\), got \[8\]"),
    (lambda m: m.predict(_x(8)), it.ShapeError, "2-D input"),
    (lambda m: nn.AdaptiveLogSoftmaxWithLoss(8, 10, []), ValueError, "length larger than 0"),
    (lambda m: nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5, 2]), ValueError, "sorted"),
    (lambda m: nn.AdaptiveLogSoftmaxWithLoss(8, 10, [2, 10]), ValueError,
     r"between 1 and n_classes-1 = 9, got \[2, 10\]"),
    (lambda m: nn.AdaptiveLogSoftmaxWithLoss(8, 10, [2.5]), ValueError, "integers"),
    (lambda m: nn.AdaptiveLogSoftmaxWithLoss(8, 10, [2, 2]), ValueError, "unique"),
])
@_EMPTY_INIT
def test_adaptive_log_softmax_errors(be, call, exc, match):
    m = nn.AdaptiveLogSoftmaxWithLoss(8, 10, [2, 5])
    with pytest.raises(exc, match=match):
        call(m)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")        # the mean of no losses: NaN
def test_adaptive_log_softmax_empty_batch(be):
    torch.manual_seed(0)
    theirs = TNN.AdaptiveLogSoftmaxWithLoss(4, 6, [2])
    ours = nn.AdaptiveLogSoftmaxWithLoss(4, 6, [2])
    check_module(ours, theirs, _randn((0, 4), "float32"), Const(np.zeros(0, np.int64)), grad=False)


# ---------------------------------------------------------------------------- NLLLoss2d

@pytest.mark.parametrize("kw", [{}, dict(reduction="sum", ignore_index=1),
                                dict(weight=[0.2, 1.0, 3.0], reduction="none")])
def test_nll_loss2d_is_nll_loss_and_warns(be, kw):
    w = kw.pop("weight", None)
    with pytest.warns(FutureWarning, match="NLLLoss2d is deprecated"):
        ours = nn.NLLLoss2d(weight=None if w is None else it.asarray(np.float32(w)), **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        theirs = TNN.NLLLoss2d(weight=None if w is None else torch.tensor(w), **kw)
    assert isinstance(ours, nn.NLLLoss) and repr(ours) == repr(theirs)
    x = np.log(np.random.default_rng(0).dirichlet(np.ones(3), (2, 4, 5))).astype("float32")
    x = np.moveaxis(x, -1, 1)
    target = np.random.default_rng(1).integers(0, 3, (2, 4, 5))
    check_module(ours, theirs, x, Const(target))
