"""Loss layers: each a :class:`Module` around its functional form in
:mod:`interop.nn.functional`, with PyTorch's constructor arguments and attributes. Class
weights (``weight``, ``pos_weight``) are buffers, as in PyTorch, so they move with the
module and appear in its ``state_dict`` under the same keys. The deprecated
``size_average``/``reduce`` arguments set ``reduction`` (with PyTorch's warning); a bad
``reduction`` is refused when the layer is built. ``AdaptiveLogSoftmaxWithLoss`` (a head and
per-cluster tails of ``Linear`` layers, with PyTorch's parameter names) is here too, and
``NLLLoss2d``, PyTorch's deprecated alias of ``NLLLoss``."""

import collections
import warnings

import interop as it
from .container import ModuleList, Sequential
from .distance import PairwiseDistance
from .linear import Linear
from .module import Module
from ..functional import _activation
from ..functional import _loss as F

__all__ = ["L1Loss", "MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
           "KLDivLoss", "HuberLoss", "SmoothL1Loss", "SoftMarginLoss", "MultiLabelSoftMarginLoss",
           "MultiLabelMarginLoss", "MultiMarginLoss", "MarginRankingLoss", "HingeEmbeddingLoss",
           "CosineEmbeddingLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss",
           "PoissonNLLLoss", "GaussianNLLLoss", "CTCLoss", "NLLLoss2d",
           "AdaptiveLogSoftmaxWithLoss"]


class _Loss(Module):
    """Base of the losses: holds ``reduction``."""

    _reductions = ("none", "mean", "sum")

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = F.legacy_reduction(size_average, reduce, stacklevel=4)
        F.check_reduction(type(self).__name__, reduction, self._reductions)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    """A loss with per-class ``weight`` (a buffer, None when not given)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class L1Loss(_Loss):
    """Mean absolute error (see :func:`interop.nn.functional.l1_loss`)."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error (see :func:`interop.nn.functional.mse_loss`)."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy of logits against class indices or class probabilities (see
    :func:`interop.nn.functional.cross_entropy`)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log likelihood of class indices (see
    :func:`interop.nn.functional.nll_loss`)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class NLLLoss2d(NLLLoss):
    """Deprecated alias of :class:`NLLLoss` (which takes (N, C, H, W) inputs as well); warns
    with a ``FutureWarning`` when built, as PyTorch does."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        warnings.warn("NLLLoss2d is deprecated: use NLLLoss, which takes the same arguments "
                      "and inputs of any number of dims", FutureWarning, stacklevel=2)
        super().__init__(weight, size_average, ignore_index, reduce, reduction)


class BCELoss(_WeightedLoss):
    """Binary cross entropy of probabilities (see
    :func:`interop.nn.functional.binary_cross_entropy`)."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross entropy of logits (see
    :func:`interop.nn.functional.binary_cross_entropy_with_logits`); ``weight`` and
    ``pos_weight`` are buffers."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence (see :func:`interop.nn.functional.kl_div`); also takes
    ``reduction='batchmean'``."""

    _reductions = ("none", "batchmean", "sum", "mean")

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class HuberLoss(_Loss):
    """Huber loss (see :func:`interop.nn.functional.huber_loss`)."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """Smooth L1 loss (see :func:`interop.nn.functional.smooth_l1_loss`)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class SoftMarginLoss(_Loss):
    """Two-class logistic loss (see :func:`interop.nn.functional.soft_margin_loss`)."""

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """One-versus-all logistic loss (see
    :func:`interop.nn.functional.multilabel_soft_margin_loss`)."""

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight,
                                             reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-class multi-label hinge loss (see
    :func:`interop.nn.functional.multilabel_margin_loss`)."""

    def forward(self, input, target):
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss (see :func:`interop.nn.functional.multi_margin_loss`)."""

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 are supported, got "
                             f"p={p!r}")
        if weight is not None and weight.ndim != 1:
            raise ValueError(f"MultiMarginLoss: weight must be one-dimensional, got shape "
                             f"{tuple(weight.shape)}")
        self.p = p
        self.margin = margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin,
                                   weight=self.weight, reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """Ranking hinge loss (see :func:`interop.nn.functional.margin_ranking_loss`)."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin,
                                     reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """Hinge embedding loss (see :func:`interop.nn.functional.hinge_embedding_loss`)."""

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, margin=self.margin,
                                      reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """Cosine embedding loss (see :func:`interop.nn.functional.cosine_embedding_loss`)."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin,
                                       reduction=self.reduction)


def _positive_margin(cls, margin):
    if margin <= 0:
        raise ValueError(f"{cls}: margin must be greater than 0, got {margin}")
    return margin


class TripletMarginLoss(_Loss):
    """Triplet loss with the pairwise ``p``-distance (see
    :func:`interop.nn.functional.triplet_margin_loss`)."""

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = _positive_margin("TripletMarginLoss", margin)
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p,
                                     eps=self.eps, swap=self.swap, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """Triplet loss with any distance function, a :class:`PairwiseDistance` by default (see
    :func:`interop.nn.functional.triplet_margin_with_distance_loss`)."""

    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        super().__init__(reduction=reduction)
        self.distance_function = (distance_function if distance_function is not None
                                  else PairwiseDistance())
        self.margin = _positive_margin("TripletMarginWithDistanceLoss", margin)
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """Poisson negative log likelihood (see :func:`interop.nn.functional.poisson_nll_loss`)."""

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full,
                                  eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log likelihood (see
    :func:`interop.nn.functional.gaussian_nll_loss`)."""

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction=reduction)
        self.full = full
        self.eps = eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                   reduction=self.reduction)


class CTCLoss(_Loss):
    """Connectionist temporal classification loss (see
    :func:`interop.nn.functional.ctc_loss`)."""

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                          self.reduction, self.zero_infinity)


_ASMoutput = collections.namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax (Grave et al., 2016) over ``n_classes`` classes split by ``cutoffs``
    into a shortlist (the classes below ``cutoffs[0]``) and clusters: ``head`` (a
    ``Linear`` to the shortlist plus one logit per cluster) scores every input, and cluster
    ``i``'s ``tail[i]`` (``Linear(in_features, in_features // div_value ** (i + 1))`` then
    ``Linear`` to the cluster's classes, without biases) only the inputs whose target is in
    it. ``forward(input, target)`` returns ``(output, loss)``: each target's log
    probability and the mean of their negatives; ``log_prob`` gives every class's,
    ``predict`` the most likely class."""

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False,
                 device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if not cutoffs:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError(f"cutoffs should be a sequence of unique, positive integers sorted "
                             f"in an increasing order, where each value is between 1 and "
                             f"n_classes-1 = {n_classes - 1}, got {cutoffs}")
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = [int(c) for c in cutoffs] + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, device=device,
                           dtype=dtype)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(
                Linear(in_features, hidden, bias=False, device=device, dtype=dtype),
                Linear(hidden, size, bias=False, device=device, dtype=dtype)))

    def reset_parameters(self):
        """Re-initializes the head and the tails as ``Linear`` layers are."""
        self.head.reset_parameters()
        for projection in self.tail:
            for layer in projection:
                layer.reset_parameters()

    def forward(self, input_, target_):
        if not isinstance(input_, it.Tensor) or not isinstance(target_, it.Tensor):
            raise TypeError(f"AdaptiveLogSoftmaxWithLoss: expected input and target Tensors, "
                            f"got {type(input_).__name__} and {type(target_).__name__}")
        if target_.ndim == 1:
            if input_.ndim == 0 or input_.shape[0] != target_.shape[0]:
                raise it.ShapeError(f"Input and target should have the same size in the batch "
                                    f"dimension, got input of size {list(input_.shape)} and "
                                    f"target of size {list(target_.shape)}")
            if input_.ndim != 2:
                raise it.ShapeError(f"1D target tensor expects 2D input tensors, but found "
                                    f"inputs with size {list(input_.shape)}")
        elif target_.ndim == 0:
            if input_.ndim != 1:
                raise it.ShapeError(f"0D target tensor expects 1D input tensors, but found "
                                    f"inputs with size {list(input_.shape)}")
        else:
            raise it.ShapeError(f"0D or 1D target tensor expected, multi-target not supported "
                                f"(got target of size {list(target_.shape)})")
        if not it.isdtype(target_.dtype, "integral"):
            raise it.DTypeError(f"AdaptiveLogSoftmaxWithLoss: expected an integer target, got "
                                f"dtype {target_.dtype}")
        batched = target_.ndim == 1
        x = input_ if batched else it.unsqueeze(input_, 0)
        target = target_ if batched else it.reshape(target_, (1,))
        target = it.astype(target, target.backend.default_int)
        rows = target.shape[0]
        output = it.zeros(rows, dtype=x.dtype, device=x.device)
        head_index = target         # the head's column of each row: its class or its cluster
        used = 0
        bounds = [0] + self.cutoffs
        for i, (low, high) in enumerate(zip(bounds, bounds[1:])):
            mask = (target >= low) & (target < high)
            members = it.nonzero(mask, as_tuple=True)[0]
            count = members.shape[0]
            used += count
            if i == 0 or count == 0:
                continue
            # the tail only sees its cluster's rows
            logprob = _activation.log_softmax(self.tail[i - 1](it.index_select(x, 0, members)),
                                              dim=1)
            relative = it.take(target, members) - low
            local = it.take_along_axis(logprob, it.unsqueeze(relative, 1), axis=1)[:, 0]
            output = it.index_add(output, 0, members, local)
            head_index = it.where(mask, self.shortlist_size + i - 1, head_index)
        if used != rows:
            raise it.ArgumentError(f"Target values should be in [0, {self.n_classes - 1}], but "
                                   f"values in range [{int(it.min(target))}, "
                                   f"{int(it.max(target))}] were found")
        head_logprob = _activation.log_softmax(self.head(x), dim=1)
        output = output + it.take_along_axis(head_logprob, it.unsqueeze(head_index, 1),
                                             axis=1)[:, 0]
        loss = it.mean(-output)
        return _ASMoutput(output if batched else output[0], loss)

    def _batch(self, input, op):
        if not isinstance(input, it.Tensor) or input.ndim != 2:
            got = list(input.shape) if isinstance(input, it.Tensor) else type(input).__name__
            raise it.ShapeError(f"AdaptiveLogSoftmaxWithLoss.{op}: expected a 2-D input "
                                f"(N, in_features={self.in_features}), got {got}")
        return input

    def _full_log_prob(self, input, head_output):
        """Every class's log probability: the shortlist's from the head, a cluster's as its
        tail's plus the head's for the cluster."""
        head_logprob = _activation.log_softmax(head_output, dim=1)
        parts = [head_logprob[:, :self.shortlist_size]]
        for i, projection in enumerate(self.tail):
            column = self.shortlist_size + i
            parts.append(_activation.log_softmax(projection(input), dim=1)
                         + head_logprob[:, column:column + 1])
        return it.concat(parts, axis=1)

    def log_prob(self, input):
        """The log probability of every class for each row of ``input`` (N, in_features):
        (N, n_classes)."""
        x = self._batch(input, "log_prob")
        return self._full_log_prob(x, self.head(x))

    def predict(self, input):
        """The most likely class of each row of ``input`` (N, in_features): the head's
        choice where it is a shortlist class, else the best over the full distribution
        (``log_prob(input).argmax(1)``, computed only where needed)."""
        x = self._batch(input, "predict")
        head_output = self.head(x)
        best = it.argmax(head_output, axis=1)
        outside = best >= self.shortlist_size
        if not bool(it.any(outside)):
            return best
        full = it.argmax(self._full_log_prob(x, head_output), axis=1)
        return it.where(outside, full, best)
