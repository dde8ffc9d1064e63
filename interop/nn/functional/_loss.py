"""Loss functions and distances (PyTorch's ``torch.nn.functional`` losses), written against
the interop namespace only.

Every loss takes PyTorch's arguments, defaults and result dtypes and shapes; ``reduction``
is ``'none'``, ``'mean'`` or ``'sum'`` (``kl_div`` also ``'batchmean'``), and the deprecated
``size_average``/``reduce`` map to it with PyTorch's warning. Bad input raises at the call,
naming what was expected and given, with PyTorch's exception types (interop's ShapeError,
DTypeError and ArgumentError are RuntimeErrors as well as ValueError/TypeError).

Gradients come from autograd through the composites, except for three primitives
recorded with :func:`interop.autograd.primitive`: ``cross_entropy`` on class indices (the
training loop's hot path, where the composite would record a dozen nodes; its commonest
case, (N, C) logits without class weights or label smoothing, is
:func:`interop.class_cross_entropy`, one primitive over the backend's kernel),
``binary_cross_entropy`` (PyTorch's gradient has a clamped denominator that no composite of
the clamped logs gives at 0 and 1) and ``binary_cross_entropy_with_logits`` (one node where
the stable log-sigmoid takes six). Their backward is written once against a namespace: it
runs on the backend's raw arrays, and on interop tensors under ``create_graph=True``, so it
is differentiable again.
"""

import math
import warnings

import interop as it
from . import _checks as check

__all__ = ["l1_loss", "mse_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "kl_div", "huber_loss", "smooth_l1_loss",
           "soft_margin_loss", "multilabel_soft_margin_loss", "multilabel_margin_loss",
           "multi_margin_loss", "margin_ranking_loss", "hinge_embedding_loss",
           "cosine_embedding_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
           "poisson_nll_loss", "gaussian_nll_loss", "ctc_loss", "pairwise_distance",
           "cosine_similarity", "pdist"]

_REDUCTIONS = ("none", "mean", "sum")
# PyTorch's 1e-12 as its kernels hold it, a float32 also for float64 tensors: the floor of
# binary_cross_entropy's gradient denominator and the term cosine_embedding_loss adds to
# each squared norm.
_EPS12 = 9.999999960041972e-13


# ---------------------------------------------------------------- shared checks

def legacy_reduction(size_average, reduce, stacklevel=3):
    """The ``reduction`` that PyTorch's deprecated ``size_average``/``reduce`` pair means
    (None counts as True), with PyTorch's deprecation warning."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn(f"size_average and reduce are deprecated (as in PyTorch); use "
                  f"reduction='{reduction}' instead", UserWarning, stacklevel=stacklevel)
    return reduction


def _reduction(op, size_average, reduce, reduction):
    """The reduction to apply: the legacy pair where given, else ``reduction``, checked."""
    if size_average is not None or reduce is not None:
        return legacy_reduction(size_average, reduce, stacklevel=4)
    check_reduction(op, reduction)
    return reduction


def check_reduction(op, reduction, allowed=_REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction; expected one "
                         f"of {', '.join(repr(r) for r in allowed)}")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _constant(op, name, t):
    """PyTorch does not differentiate these losses with respect to ``name``: refuse a tensor
    that asks for it, rather than leave its gradient silently empty."""
    if t is not None and t.requires_grad:
        raise RuntimeError(f"{op}: the loss is not differentiable with respect to {name} (as in "
                           f"PyTorch); pass {name} without requires_grad (e.g. {name}.detach())")


def _size_warning(op, input, target):
    if input.shape != target.shape:
        warnings.warn(f"{op}: the target size {tuple(target.shape)} differs from the input size "
                      f"{tuple(input.shape)}; they are broadcast together, which is likely not "
                      f"what you want. Make them the same size.", UserWarning, stacklevel=3)


def _same_size(op, input, target):
    if input.shape != target.shape:
        raise it.ShapeError(f"{op}: expected target of the input's size {tuple(input.shape)}, got "
                            f"size {tuple(target.shape)}")


def _weighted_reduce(op, loss, weight, input, reduction):
    """``loss * weight`` reduced as PyTorch's weighted l1/mse losses: ``'mean'`` divides by
    the sum of the weights."""
    check.tensor(op, "weight", weight)
    if weight.shape != input.shape:
        raise it.ShapeError(f"{op}: expected weight of the input's size {tuple(input.shape)}, got "
                            f"size {tuple(weight.shape)}")
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


# ---------------------------------------------------------------- regression losses

def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error ``|input - target|`` (broadcast, with a warning where the sizes
    differ); ``weight`` (the input's size) scales each element, and ``'mean'`` then divides
    by its sum."""
    op = "l1_loss"
    check.tensor(op, "input", input)
    check.tensor(op, "target", target)
    _size_warning(op, input, target)
    reduction = _reduction(op, size_average, reduce, reduction)
    loss = (input - target).abs()
    if weight is not None:
        return _weighted_reduce(op, loss, weight, input, reduction)
    return _reduce(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error ``(input - target)**2`` (see :func:`l1_loss` for ``weight``)."""
    op = "mse_loss"
    check.tensor(op, "input", input)
    check.tensor(op, "target", target)
    _size_warning(op, input, target)
    reduction = _reduction(op, size_average, reduce, reduction)
    loss = it.square(input - target)
    if weight is not None:
        return _weighted_reduce(op, loss, weight, input, reduction)
    return _reduce(loss, reduction)


def _huber(input, target, delta):
    """``0.5 z**2`` for ``|z| < delta``, ``delta * (|z| - delta/2)`` beyond, written as
    ``0.5 q**2 + delta * (|z| - q)`` with ``q = min(|z|, delta)``: one expression, so no
    branch left unselected can turn an infinite difference into a NaN gradient."""
    a = (input - target).abs()
    q = it.clamp(a, max=delta)
    return 0.5 * it.square(q) + delta * (a - q)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Quadratic (``0.5 z**2 / beta``) for ``|z| < beta``, linear (``|z| - beta/2``) beyond;
    ``beta=0`` is :func:`l1_loss`."""
    op = "smooth_l1_loss"
    check.tensor(op, "input", input)
    check.tensor(op, "target", target)
    _size_warning(op, input, target)
    reduction = _reduction(op, size_average, reduce, reduction)
    if beta < 0:
        raise it.ArgumentError(f"{op}: beta must be non-negative, got {beta}")
    if beta == 0:
        return _reduce((input - target).abs(), reduction)
    return _reduce(_huber(input, target, beta) / beta, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Quadratic (``0.5 z**2``) for ``|z| < delta``, linear (``delta * (|z| - delta/2)``)
    beyond; ``weight`` (the input's size) scales each element before the reduction."""
    op = "huber_loss"
    check.tensor(op, "input", input)
    check.tensor(op, "target", target)
    _size_warning(op, input, target)
    check_reduction(op, reduction)
    if delta <= 0:
        raise it.ArgumentError(f"{op}: delta must be positive, got {delta}")
    loss = _huber(input, target, delta)
    if weight is not None:
        check.tensor(op, "weight", weight)
        if weight.shape != input.shape:
            raise it.ShapeError(f"{op}: expected weight of the input's size {tuple(input.shape)}, "
                                f"got size {tuple(weight.shape)}")
        loss = loss * weight
    return _reduce(loss, reduction)


# ---------------------------------------------------------------- class-index targets

def _index_dtype_name(t):
    """The class-index dtype the losses take on ``t``'s backend, in words for an error:
    int64 (PyTorch's), or int32 on a backend without int64 (JAX without x64)."""
    itype = t.backend.default_int
    if itype == it.int64:
        return "int64"
    return f"{itype} (backend {t.backend.name!r} has no int64)"


def _class_target(op, input, target, ignore_index, onehot=False):
    """Checks class-index ``target`` against ``input`` of shape (N, C, d1, ...), (N, C) or
    (C,) (PyTorch's rules and errors, in interop's words). Returns the batched input, the
    target as (N, 1, d1, ...) with ignored entries set to 0, the mask of the kept entries
    (that shape; None where none is ignored) and, with ``onehot`` (2-d input), the one-hot
    mask ``target == class`` (N, C). Out-of-range classes raise an IndexError naming the
    first one."""
    check.tensor(op, "target", target)
    shape, tshape = tuple(input.shape), tuple(target.shape)
    itype = target.backend.default_int      # int64, or int32 where the backend lacks it
    if target.dtype not in (itype, it.uint8):
        raise it.DTypeError(f"{op}: expected class-index target of dtype "
                            f"{_index_dtype_name(target)} (or uint8), got {target.dtype}; for "
                            f"class probabilities give a floating target of the input's shape "
                            f"{shape}")
    if target.dtype == it.uint8:
        target = target.to(itype)           # (index kernels of some backends take int64 only)
    if len(shape) == 1:
        if tshape != ():
            raise it.ShapeError(f"{op}: an unbatched input of shape {shape} takes a 0-d target, "
                                f"got shape {tshape}")
        input, target = input.unsqueeze(0), target.reshape(1)
    elif len(shape) == 2 and len(tshape) != 1:
        raise it.ShapeError(f"{op}: input of shape {shape} takes a 1-d target of shape "
                            f"({shape[0]},), got shape {tshape}")
    elif tshape[:1] != shape[:1]:
        raise it.ShapeError(f"{op}: expected input batch size {shape[0]} to match target batch "
                            f"size {tshape[0] if tshape else '(0-d target)'}")
    elif tshape != shape[:1] + shape[2:]:
        raise it.ShapeError(f"{op}: input of shape {shape} takes a target of shape "
                            f"{shape[:1] + shape[2:]}, got {tshape}")
    n_class = input.shape[1]
    tcol = target.unsqueeze(1)
    classes = it.arange(n_class, device=input.device) if onehot else None
    hit = None if classes is None else classes == tcol
    if not target.numel():
        return input, tcol, None, hit
    ignorable = 0 <= ignore_index < n_class
    if hit is not None and not ignorable:
        # every target is a class exactly when each row of the one-hot mask has its 1
        if int(hit.sum()) == target.shape[0]:
            return input, tcol, None, hit
    elif not ignorable:
        lo, hi = int(target.min()), int(target.max())
        if 0 <= lo and hi < n_class:
            return input, tcol, None, hit
    valid = tcol != ignore_index
    bad = valid & ((tcol < 0) | (tcol >= n_class))
    if bool(bad.any()):
        raise IndexError(f"{op}: target {int(tcol[bad][0])} is out of bounds for {n_class} "
                         f"classes (expected 0 <= target < {n_class}, or ignore_index="
                         f"{ignore_index})")
    tcol = it.where(valid, tcol, 0)
    return input, tcol, valid, None if classes is None else classes == tcol


def _class_weight(op, weight, input):
    """``weight`` checked as one entry per class (dim 1 of the batched input)."""
    check.tensor(op, "weight", weight)
    n_class = input.shape[1] if input.ndim > 1 else input.shape[0]
    if tuple(weight.shape) != (n_class,):
        raise it.ShapeError(f"{op}: expected weight of shape ({n_class},), one per class, got "
                            f"shape {tuple(weight.shape)}")
    check.input_dtype(op, "weight", weight, input)
    return weight


def _class_view(weight, ndim):
    """The per-class ``weight`` shaped to broadcast along dim 1 of an ``ndim``-d input."""
    return weight.reshape((1, -1) + (1,) * (ndim - 2))


def _target_weight(weight, tcol, valid):
    """Each target's class weight (0 where ignored), or None without class weights."""
    if weight is None:
        return None
    wt = weight[tcol]
    return wt if valid is None else it.where(valid, wt, 0.0)


def _mean_denominator(wt, valid, entries, dtype):
    """What PyTorch's ``'mean'`` divides by: the summed weights of the kept targets (their
    number without weights; all ``entries`` where none is ignored)."""
    if wt is not None:
        return wt.sum()
    if valid is not None:
        return valid.to(dtype).sum()
    return entries.numel()


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log likelihood of class indices ``target`` under log-probabilities ``input``
    of shape (N, C), (N, C, d1, ...) or (C,): ``-weight[t] * input[n, t]``. Targets equal to
    ``ignore_index`` count for nothing; ``'mean'`` divides by the summed weights of the
    others (NaN where every target is ignored, as in PyTorch)."""
    op = "nll_loss"
    check.floating(op, "input", input)
    if input.ndim < 1:
        raise it.ShapeError(f"{op}: expected an input of 1 or more dims (C,), (N, C) or (N, C, "
                            f"d1, ...), got a 0-d tensor")
    reduction = _reduction(op, size_average, reduce, reduction)
    if weight is not None:
        _constant(op, "weight", _class_weight(op, weight, input))
    shape = tuple(check.tensor(op, "target", target).shape)
    x, tcol, valid, _ = _class_target(op, input, target, ignore_index)
    loss = -x.gather(1, tcol)
    wt = _target_weight(weight, tcol, valid)
    if wt is not None:
        loss = loss * wt
    if valid is not None:
        loss = it.where(valid, loss, 0.0)
    if reduction == "none":
        return loss.reshape(shape)
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / _mean_denominator(wt, valid, loss, x.dtype)


def _label_smoothing(op, label_smoothing):
    if not 0.0 <= label_smoothing <= 1.0:
        raise it.ArgumentError(f"{op}: label_smoothing must be between 0.0 and 1.0, got "
                               f"{label_smoothing}")
    return float(label_smoothing)


# Up to this many logits (N * C, 2-d input), cross_entropy picks the targets' logits (and
# subtracts at them in backward) with a one-hot mask: a few cheap elementwise ops beat
# gather and scatter_add, whose fixed cost dominates small inputs (64 x 10: ~25% faster
# with NumPy); past ~10^4 logits the mask's extra passes cost more.
_MASK_MAX_LOGITS = 8192


class _CrossEntropyBackward(it.autograd.Node):
    """The gradient of :func:`_cross_entropy` for the logits: ``softmax * a`` with ``b``
    subtracted at each target (and ``c * weight`` everywhere with label smoothing), one
    pass over the logits. An ordinary backward takes the softmax from the saved ``e =
    exp(x - max)`` and ``s = sum(e)``; under ``create_graph`` it is recomputed from ``x``
    (recorded, so differentiable again). The saved slots and fields are
    :func:`_cross_entropy`'s arguments."""
    __slots__ = ("eps", "reduction")
    saves = ("x", "e", "s", "tcol", "hit", "valid", "wt", "weight", "denom")

    def backward(self, xp, g, s):
        x, tcol, hit, valid, wt, weight = s.x, s.tcol, s.hit, s.valid, s.wt, s.weight
        eps = self.eps
        if self.reduction == "mean":
            denom = s.denom
            g = g / (math.prod(tcol.shape) if denom is None else denom)
        # each entry's gradient: a * softmax - b * onehot (- c * weight with smoothing)
        b = g if wt is None else g * wt
        if valid is not None:
            b = xp.where(valid, b, 0.0)
        a = b
        if eps:
            n_class = x.shape[1]
            c = g if valid is None else xp.where(valid, g, 0.0)
            c = c * (eps / n_class)
            b = b * (1 - eps)
            a = b + c * (n_class if weight is None else xp.sum(weight))
        if xp is not self.be.ns:        # create_graph: softmax of x itself, differentiable
            grad = it.softmax(x, axis=1) * a
        else:
            grad = s.e * (a / s.s)
        if eps:
            if weight is not None:
                c = c * xp.reshape(weight, (1, -1) + (1,) * (x.ndim - 2))
            grad = grad - c
        if hit is not None:
            grad = xp.where(hit, grad - b, grad)
        else:
            grad = xp.scatter_add(grad, 1, tcol, -xp.broadcast_to(b, tuple(tcol.shape)))
        return grad,


def _cross_entropy(x, tcol, hit, valid, wt, weight, eps, reduction, denom):
    """Cross entropy of logits ``x`` (N, C, d1, ...) against class indices, as one primitive:
    PyTorch's ``log_softmax`` + ``nll_loss`` (with class weights, ignored targets and label
    smoothing) in a few unrecorded ops, where the composite would record a dozen nodes in
    the training loop's hot path. The loss is (N, 1, d1, ...) before the reduction.

    ``tcol``: targets as (N, 1, d1, ...), ignored ones set to 0; ``hit``: the one-hot mask
    of the targets (small 2-d input) or None; ``valid``: mask of kept targets
    (``tcol``'s shape) or None; ``wt``: each target's class weight (0 where ignored) or
    None; ``weight``: the per-class weights or None; ``eps``: label smoothing; ``denom``:
    what ``'mean'`` divides by."""
    with it.no_grad():
        n_class = x.shape[1]
        z = x - x.amax(1, keepdim=True)
        e = z.exp()
        s = e.sum(1, keepdim=True)
        lse = s.log()
        if hit is not None:
            loss = lse - it.where(hit, z, 0.0).sum(1, keepdim=True)
        else:
            loss = lse - z.gather(1, tcol)
        if wt is not None:
            loss = loss * wt
        if eps:
            lp = z - lse
            if weight is not None:
                lp = lp * _class_view(weight, x.ndim)
            loss = (1 - eps) * loss - (eps / n_class) * lp.sum(1, keepdim=True)
        if valid is not None:
            loss = it.where(valid, loss, 0.0)
        if reduction == "sum":
            loss = loss.sum()
        elif reduction == "mean":
            loss = loss.mean() if denom is None else loss.sum() / denom
    return it.autograd.primitive(_CrossEntropyBackward, (x,), loss,
                                 saved=(x, e, s, tcol, hit, valid, wt, weight, denom),
                                 eps=eps, reduction=reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Cross entropy between logits ``input`` ((N, C), (N, C, d1, ...) or unbatched (C,))
    and either class indices (int64 ``target`` of shape (N,), (N, d1, ...) or ()) or class
    probabilities (a floating ``target`` of the input's shape), as PyTorch decides: same
    shape means probabilities. ``weight`` weighs the classes; ``ignore_index`` and the
    weighted ``'mean'`` are :func:`nll_loss`'s; ``label_smoothing`` mixes the target with
    the uniform distribution."""
    op = "cross_entropy"
    check.floating(op, "input", input)
    check.tensor(op, "target", target)
    if input.ndim < 1:
        raise it.ShapeError(f"{op}: expected an input of 1 or more dims (C,), (N, C) or (N, C, "
                            f"d1, ...), got a 0-d tensor")
    reduction = _reduction(op, size_average, reduce, reduction)
    eps = _label_smoothing(op, label_smoothing)
    if weight is not None:
        _class_weight(op, weight, input)
    if target.shape == input.shape:
        return _soft_cross_entropy(op, input, target, weight, reduction, eps)
    _constant(op, "weight", weight)         # (differentiable with probabilities only)
    if (weight is None and not eps and input.ndim == 2 and target.ndim == 1
            and target.shape[0] == input.shape[0] and input.numel()
            and target.dtype == target.backend.default_int
            and (input.dtype == it.float32 or input.dtype == it.float64)):
        # the training loop's case: one primitive over the backend's kernel
        return it.class_cross_entropy(input, target, ignore_index, reduction)
    shape = tuple(target.shape)
    onehot = input.ndim <= 2 and input.numel() <= _MASK_MAX_LOGITS
    x, tcol, valid, hit = _class_target(op, input, target, ignore_index, onehot)
    wt = _target_weight(weight, tcol, valid)
    denom = None
    if reduction == "mean" and (wt is not None or valid is not None):
        denom = _mean_denominator(wt, valid, tcol, x.dtype)
    loss = _cross_entropy(x, tcol, hit, valid, wt, weight, eps, reduction, denom)
    return loss.reshape(shape) if reduction == "none" else loss


def _soft_cross_entropy(op, input, target, weight, reduction, eps):
    """Cross entropy against class probabilities; ``'mean'`` divides by the number of
    samples (N times d1...), whatever the weights (as PyTorch)."""
    if not target.dtype.is_floating_point:
        raise it.DTypeError(f"{op}: a target of the input's shape {tuple(input.shape)} holds class "
                            f"probabilities and must be floating point, got {target.dtype}; class "
                            f"indices have shape (N, d1, ...) without the class dim")
    cdim = 0 if input.ndim == 1 else 1
    n_class = input.shape[cdim]
    lp = it.log_softmax(input, axis=cdim)
    if eps:
        target = target * (1 - eps) + eps / n_class
    prod = lp * target
    if weight is not None:
        prod = prod * (weight if input.ndim == 1 else _class_view(weight, input.ndim))
    if reduction == "none":
        return -prod.sum(cdim)
    if reduction == "sum":
        return -prod.sum()
    return -prod.sum() / (input.numel() // n_class if n_class else 0)


# ---------------------------------------------------------------- binary cross entropy

def _in_unit_interval(op, name, t):
    """PyTorch's check that probabilities lie in [0, 1] (NaN fails it)."""
    inside = (t >= 0) & (t <= 1)
    if t.numel() and not bool(inside.all()):
        raise it.ArgumentError(f"{op}: all elements of {name} should be between 0 and 1, got "
                               f"{float(t[~inside][0])}")


def _expanded_weight(op, weight, shape, name="weight"):
    """``weight`` broadcast to the loss's ``shape`` (it may not enlarge it)."""
    check.tensor(op, name, weight)
    try:
        full = it.broadcast_shapes(tuple(weight.shape), shape)
    except Exception:
        full = None
    if full != shape:
        raise it.ShapeError(f"{op}: {name} of shape {tuple(weight.shape)} does not broadcast "
                            f"to the input's shape {shape}")
    return weight


class _BinaryCrossEntropyBackward(it.autograd.Node):
    """PyTorch's gradients of :func:`_binary_cross_entropy`: ``w (x - t) / max(x (1 - x),
    eps)`` for the input (finite at 0 and 1, where the composite's would be infinite or
    cut by the clamp) and ``w (log(1 - x) - log x)`` for the target."""
    saves = ("x", "t", "w")

    def backward(self, xp, g, s):
        x, t, w = s.x, s.t, s.w
        if w is not None:
            g = g * w
        gx = gt = None
        if self.next[0] is not None:
            d = x * (1 - x)
            d = (it.clamp(d, min=_EPS12) if xp is not self.be.ns
                 else xp.clip(d, _EPS12, None))
            gx = g * (x - t) / d
        if self.next[1] is not None:
            gt = g * (xp.log1p(-x) - xp.log(x))
        return gx, gt


def _float_operand(t, x):
    """``t`` (a target or weight) as its backward reads it: an integer or bool tensor in
    ``x``'s dtype (the promotion interop's ops apply, which raw backend arrays may not,
    e.g. array-api-strict's float and int), anything else as given."""
    if t is None or t.dtype.is_floating_point or t.dtype.is_complex:
        return t
    return t.astype(x.dtype)


def _binary_cross_entropy(x, t, w):
    """``-w (t log x + (1 - t) log(1 - x))`` with each log clamped at -100, as one
    primitive with PyTorch's gradients."""
    with it.no_grad():
        log_x = it.clamp(x.log(), min=-100.0)
        log_1mx = it.clamp((-x).log1p(), min=-100.0)
        loss = (t - 1) * log_1mx - t * log_x
        if w is not None:
            loss = loss * w
    return it.autograd.primitive(_BinaryCrossEntropyBackward, (x, t), loss,
                                 saved=(x, t, _float_operand(w, x)))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """Binary cross entropy between probabilities ``input`` and ``target`` (same size, both
    in [0, 1]); each log is clamped at -100, so a certain wrong answer costs 100, not inf."""
    op = "binary_cross_entropy"
    check.floating(op, "input", input)
    check.tensor(op, "target", target)
    reduction = _reduction(op, size_average, reduce, reduction)
    _same_size(op, input, target)
    check.input_dtype(op, "target", target, input)
    if weight is not None:
        _expanded_weight(op, weight, tuple(input.shape))
        _constant(op, "weight", weight)
    _in_unit_interval(op, "input", input)
    _in_unit_interval(op, "target", target)
    return _reduce(_binary_cross_entropy(input, target, weight), reduction)


def _log_sigmoid(x):
    """``log(sigmoid(x))`` without overflow: ``min(x, 0) - log1p(exp(-|x|))``."""
    return it.minimum(x, 0.0) - (-x.abs()).exp().log1p()


class _LogitBinaryCrossEntropyBackward(it.autograd.Node):
    """PyTorch's gradients of :func:`_logit_binary_cross_entropy`: ``w ((1 + (p - 1) t)
    sigmoid(x) - p t)`` for the logits, ``w (-x - (p - 1) log(sigmoid(x)))`` for the
    target. An ordinary backward reads ``sigmoid(x)`` (``s.sig``) and ``log(sigmoid(x))``
    (``s.ls``) as forward computed them (each held only where it is needed); under
    ``create_graph`` both are recomputed from ``x``, recorded."""
    saves = ("x", "t", "w", "pw", "sig", "ls")

    def backward(self, xp, g, s):
        x, t, w, pw = s.x, s.t, s.w, s.pw
        graph = xp is not self.be.ns        # create_graph: tensors, recorded
        if w is not None:
            g = g * w
        gx = gt = None
        if self.next[0] is not None:
            sig = it.sigmoid(x) if graph else s.sig
            gx = g * (sig - t if pw is None else ((pw - 1) * t + 1) * sig - pw * t)
        if self.next[1] is not None:
            if pw is None:
                gt = g * -x
            else:
                gt = g * (-x - (pw - 1) * (_log_sigmoid(x) if graph else s.ls))
        return gx, gt


def _logit_binary_cross_entropy(x, t, w, pos_weight):
    """``(1 - t) x - (1 + (p - 1) t) log(sigmoid(x))``, times ``w``: binary cross entropy
    on logits, stable for any ``x``, as one primitive with PyTorch's gradient
    ``(1 + (p - 1) t) sigmoid(x) - p t``, computed once instead of through the several
    nodes of the stable log-sigmoid."""
    need_sig = x.requires_grad and it.is_grad_enabled()
    with it.no_grad():
        ls = _log_sigmoid(x)
        if pos_weight is None:
            loss = (1 - t) * x - ls
        else:
            loss = (1 - t) * x - ((pos_weight - 1) * t + 1) * ls
        if w is not None:
            loss = loss * w
        sig = it.sigmoid(x) if need_sig else None
    keep_ls = pos_weight is not None and t.requires_grad
    return it.autograd.primitive(_LogitBinaryCrossEntropyBackward, (x, t), loss,
                                 saved=(x, _float_operand(t, x), _float_operand(w, x),
                                        _float_operand(pos_weight, x), sig,
                                        ls if keep_ls else None))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Binary cross entropy on logits ``input`` (sigmoid and loss in one, stable for large
    logits); ``pos_weight`` weighs the positive term and broadcasts along the class dim
    (last), ``weight`` scales each element."""
    op = "binary_cross_entropy_with_logits"
    check.floating(op, "input", input)
    check.tensor(op, "target", target)
    reduction = _reduction(op, size_average, reduce, reduction)
    _same_size(op, input, target)
    shape = tuple(input.shape)
    if weight is not None:
        _expanded_weight(op, weight, shape)
        _constant(op, "weight", weight)
    if pos_weight is not None:
        _expanded_weight(op, pos_weight, shape, "pos_weight")
        _constant(op, "pos_weight", pos_weight)
    return _reduce(_logit_binary_cross_entropy(input, target, weight, pos_weight), reduction)


# ---------------------------------------------------------------- divergences, likelihoods

def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence ``target * (log(target) - input)`` for log-probabilities
    ``input`` (``0 log 0 = 0``); with ``log_target`` the target is given as log-probabilities
    too. ``'batchmean'`` divides the sum by the batch size (the divergence's definition);
    ``'mean'`` divides by the number of elements and warns, as PyTorch does."""
    op = "kl_div"
    check.tensor(op, "input", input)
    check.tensor(op, "target", target)
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    else:
        check_reduction(op, reduction, ("none", "batchmean", "sum", "mean"))
        if reduction == "mean":
            warnings.warn("kl_div: reduction='mean' divides the total loss by both the batch "
                          "size and the support size; 'batchmean' divides by the batch size "
                          "only, as the KL divergence is defined (PyTorch plans to make 'mean' "
                          "behave as 'batchmean')", UserWarning, stacklevel=2)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = it.where(target == 0, 0.0, target * target.log()) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """Poisson negative log likelihood: ``exp(input) - target * input`` for a log rate
    (``log_input``), else ``input - target * log(input + eps)``; ``full`` adds Stirling's
    approximation of ``log(target!)`` where ``target > 1``."""
    op = "poisson_nll_loss"
    check.tensor(op, "input", input)
    check.tensor(op, "target", target)
    reduction = _reduction(op, size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + it.where(target <= 1, 0.0, stirling)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian negative log likelihood ``0.5 (log var + (input - target)**2 / var)`` (plus
    ``0.5 log(2 pi)`` with ``full``). ``var`` is a positive number, or a tensor of the
    input's shape, or of that shape with its last dim dropped or one dim of size 1
    (broadcast). Variances below ``eps`` are raised to ``eps`` for the value; the gradient
    passes through that clamp unchanged, as in PyTorch."""
    op = "gaussian_nll_loss"
    check.tensor(op, "input", input)
    check.tensor(op, "target", target)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"{op}: var must be non-negative, got {var}")
        var = it.full_like(input, var)
    else:
        check.tensor(op, "var", var)
        if bool((var < 0).any()):
            raise ValueError(f"{op}: var has negative entries (min {float(var.min())})")
    ishape, vshape = tuple(input.shape), tuple(var.shape)
    if vshape != ishape:
        if ishape[:-1] == vshape:
            var = var.unsqueeze(-1)
        elif not (len(ishape) == len(vshape) and
                  sum(v for i, v in zip(ishape, vshape) if i != v) == 1):
            raise it.ShapeError(f"{op}: var of shape {vshape} does not fit input of shape "
                                f"{ishape}; expected {ishape}, {ishape[:-1]}, or {ishape} with "
                                f"one dim of size 1")
    check_reduction(op, reduction)
    fixed = var.detach()
    var = var + (it.clamp(fixed, min=eps) - fixed)
    loss = 0.5 * (var.log() + it.square(input - target) / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------- margin losses

def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Two-class logistic loss ``log(1 + exp(-target * input))`` for targets +1/-1."""
    op = "soft_margin_loss"
    check.tensor(op, "input", input)
    check.tensor(op, "target", target)
    _constant(op, "target", target)
    reduction = _reduction(op, size_average, reduce, reduction)
    return _reduce((-input * target).exp().log1p(), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """One-versus-all logistic loss for multi-label ``target`` (0/1 per class, last dim):
    the per-class binary cross entropy on logits, times ``weight``, averaged over the
    classes."""
    op = "multilabel_soft_margin_loss"
    check.floating(op, "input", input)
    check.tensor(op, "target", target)
    reduction = _reduction(op, size_average, reduce, reduction)
    if input.ndim == 0:
        raise it.ShapeError(f"{op}: expected an input of shape (C,) or (N, C), got a 0-d tensor")
    if input.shape != target.shape:
        input, target = it.broadcast_arrays(input, target)
    loss = _logit_binary_cross_entropy(input, target, None, None)
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(-1) / input.shape[-1]
    return _reduce(loss, reduction)


def _index_rows(op, input, target):
    """``input`` (C,) or (N, C) as (N, C), with ``target`` checked to be int64 (int32 on a
    backend without int64)."""
    check.tensor(op, "target", target)
    if target.dtype != target.backend.default_int:
        raise it.DTypeError(f"{op}: expected target of dtype {_index_dtype_name(target)}, got "
                            f"{target.dtype}")
    if input.ndim not in (1, 2):
        raise it.ShapeError(f"{op}: expected input of shape (C,) or (N, C), got shape "
                            f"{tuple(input.shape)}")
    x = input if input.ndim == 2 else input.unsqueeze(0)
    return x


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-class multi-label hinge loss: ``target`` (the input's shape, int64) lists each
    sample's classes, ended by the first -1; every (target class j, non-target class k) pair
    costs ``max(0, 1 - (x[j] - x[k]))``, summed and divided by the number of classes.
    A class listed twice counts twice, as in PyTorch."""
    op = "multilabel_margin_loss"
    check.floating(op, "input", input)
    reduction = _reduction(op, size_average, reduce, reduction)
    x = _index_rows(op, input, target)
    if target.shape != input.shape:
        raise it.ShapeError(f"{op}: expected target of the input's shape {tuple(input.shape)}, got "
                            f"{tuple(target.shape)}")
    tg = target.reshape(tuple(x.shape))
    n_class = x.shape[1]
    if tg.numel() and bool(((tg < -1) | (tg >= n_class)).any()):
        raise it.ArgumentError(f"{op}: target values must be class indices in [0, {n_class}) "
                               f"or -1 (end of the list), got values from {int(tg.min())} to "
                               f"{int(tg.max())}")
    listed = (tg >= 0).to(tg.dtype).cumprod(1) > 0          # positions before the first -1
    classes = it.arange(n_class, device=x.device)
    hits = ((tg.unsqueeze(2) == classes) & listed.unsqueeze(2)).to(x.dtype)   # (N, pos, C)
    count = hits.sum(1)                                      # times each class is listed
    others = (count == 0).to(x.dtype)
    # pair[n, j, k] = max(0, 1 - x[n, j] + x[n, k]), for listed j and unlisted k
    pair = it.relu(1 - x.unsqueeze(2) + x.unsqueeze(1))
    loss = (pair * (count.unsqueeze(2) * others.unsqueeze(1))).sum((1, 2)) / n_class
    if input.ndim == 1:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """Multi-class hinge loss: for class index ``target`` y and each other class j,
    ``max(0, margin - x[y] + x[j])**p`` (``p`` 1 or 2), times ``weight[y]``, summed and
    divided by the number of classes."""
    op = "multi_margin_loss"
    check.floating(op, "input", input)
    reduction = _reduction(op, size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 are supported, got p={p!r}")
    x = _index_rows(op, input, target)
    want = (x.shape[0],) if input.ndim == 2 else ()
    if tuple(target.shape) != want and not (input.ndim == 1 and tuple(target.shape) == (1,)):
        raise it.ShapeError(f"{op}: input of shape {tuple(input.shape)} takes a target of shape "
                            f"{want}, got {tuple(target.shape)}")
    n_class = x.shape[1]
    t = target.reshape((x.shape[0],))
    if t.numel() and bool(((t < 0) | (t >= n_class)).any()):
        raise it.ArgumentError(f"{op}: target values must be class indices in [0, {n_class}), "
                               f"got values from {int(t.min())} to {int(t.max())}")
    if weight is not None:
        check.tensor(op, "weight", weight)
        if weight.ndim != 1:
            raise ValueError(f"{op}: weight must be one-dimensional, got shape "
                             f"{tuple(weight.shape)}")
        _constant(op, "weight", weight)
    tcol = t.unsqueeze(1)
    h = it.relu(margin - x.gather(1, tcol) + x)
    if p == 2:
        h = it.square(h)
    others = (it.arange(n_class, device=x.device) != tcol).to(x.dtype)
    if weight is not None:
        others = others * weight[t].unsqueeze(1)
    loss = (h * others).sum(1) / n_class
    if input.ndim == 1:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """Ranking hinge ``max(0, -target * (input1 - input2) + margin)``: ``target`` 1 asks
    input1 to rank higher, -1 lower."""
    op = "margin_ranking_loss"
    for name, t in (("input1", input1), ("input2", input2), ("target", target)):
        check.tensor(op, name, t)
    reduction = _reduction(op, size_average, reduce, reduction)
    if not input1.ndim == input2.ndim == target.ndim:
        raise it.ShapeError(f"{op}: expected input1, input2 and target of the same number of dims, "
                            f"got shapes {tuple(input1.shape)}, {tuple(input2.shape)} and "
                            f"{tuple(target.shape)}")
    return _reduce(it.clamp(-target * (input1 - input2) + margin, min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """For distances ``input`` and labels ``target`` (1 similar, -1 dissimilar): the
    distance itself where ``target`` is 1, ``max(0, margin - input)`` where it is -1 (any
    other label counts both, as in PyTorch)."""
    op = "hinge_embedding_loss"
    check.tensor(op, "input", input)
    check.tensor(op, "target", target)
    reduction = _reduction(op, size_average, reduce, reduction)
    loss = it.where(target != 1, it.clamp(margin - input, min=0), 0.0) + \
        it.where(target != -1, input, 0.0)
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """For pairs of vectors (rows of (N, D) inputs with a (N,) target, or (D,) with a 0-d
    target): ``1 - cos`` where ``target`` is 1, ``max(0, cos - margin)`` where it is -1."""
    op = "cosine_embedding_loss"
    for name, t in (("input1", input1), ("input2", input2), ("target", target)):
        check.tensor(op, name, t)
    reduction = _reduction(op, size_average, reduce, reduction)
    if target.ndim not in (0, 1):
        raise it.ShapeError(f"{op}: expected a 0-d or 1-d target, got shape {tuple(target.shape)}")
    want = target.ndim + 1
    if input1.ndim != want or input2.ndim != want:
        raise it.ShapeError(f"{op}: a {target.ndim}-d target takes {want}-d inputs, got shapes "
                            f"{tuple(input1.shape)} and {tuple(input2.shape)}")
    d = target.ndim
    prod = (input1 * input2).sum(d)
    mag = ((input1 * input1).sum(d) + _EPS12) * ((input2 * input2).sum(d) + _EPS12)
    cos = prod / mag.sqrt()
    loss = it.where(target == 1, 1 - cos, 0.0) + \
        it.where(target == -1, it.clamp(cos - margin, min=0), 0.0)
    return _reduce(loss, reduction)


def _same_ndim(op, anchor, positive, negative):
    for name, t in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        check.tensor(op, name, t)
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise it.ShapeError(f"{op}: expected anchor, positive and negative of the same number of "
                            f"dims, got {anchor.ndim}-d, {positive.ndim}-d and {negative.ndim}-d")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """Triplet loss ``max(0, margin + d(a, p) - d(a, n))`` with the :func:`pairwise_distance`
    ``d`` (``p``, ``eps``); ``swap`` uses ``min(d(a, n), d(p, n))`` for the negative."""
    op = "triplet_margin_loss"
    reduction = _reduction(op, size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    _same_ndim(op, anchor, positive, negative)
    return _triplet(anchor, positive, negative,
                    lambda a, b: pairwise_distance(a, b, p, eps), margin, swap, reduction)


def _triplet(anchor, positive, negative, distance, margin, swap, reduction):
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = it.minimum(d_neg, distance(positive, negative))
    return _reduce(it.clamp(margin + d_pos - d_neg, min=0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """:func:`triplet_margin_loss` with any ``distance_function(x1, x2)`` (default
    :func:`pairwise_distance`)."""
    op = "triplet_margin_with_distance_loss"
    check_reduction(op, reduction)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    _same_ndim(op, anchor, positive, negative)
    distance = pairwise_distance if distance_function is None else distance_function
    return _triplet(anchor, positive, negative, distance, margin, swap, reduction)


# ---------------------------------------------------------------- CTC

def _lengths(op, name, lengths, n, device):
    """``input_lengths``/``target_lengths`` (an int tensor, or a tuple/list of ints) as a
    tensor of the default index dtype (int64; int32 where the backend lacks int64) of shape
    (n,)."""
    if isinstance(lengths, it.Tensor):
        if lengths.dtype.kind not in "iu":
            raise it.DTypeError(f"{op}: expected {name} of an integer dtype, got {lengths.dtype}")
        out = lengths.to(lengths.backend.default_int).reshape(-1)
    elif isinstance(lengths, (tuple, list)) and all(isinstance(v, int) for v in lengths):
        itype = it.__array_namespace_info__().default_dtypes(device=device)["indexing"]
        out = it.asarray(list(lengths), dtype=itype, device=device)
    else:
        raise TypeError(f"{op}: expected {name} as an integer tensor or a tuple of ints, got "
                        f"{type(lengths).__name__}")
    if tuple(out.shape) != (n,):
        raise it.ShapeError(f"{op}: expected {n} {name} (one per batch element), got "
                            f"{out.shape[0]}")
    if n and int(out.min()) < 0:
        raise it.ArgumentError(f"{op}: {name} must be non-negative, got {int(out.min())}")
    return out


def _padded_targets(op, targets, tl, batched, n_class):
    """Targets as an (N, S) tensor of the default index dtype, from PyTorch's padded (N, S) or concatenated
    (sum of target_lengths,) form."""
    check.tensor(op, "targets", targets)
    if targets.dtype.kind not in "iu":
        raise it.DTypeError(f"{op}: expected targets of an integer dtype, got {targets.dtype}")
    targets = targets.to(targets.backend.default_int)
    n = tl.shape[0]
    s_max = int(tl.max()) if n else 0
    pos = it.arange(max(s_max, 0), device=targets.device)
    if batched and targets.ndim == 2:
        if targets.shape[0] != n:
            raise it.ShapeError(f"{op}: expected padded targets of shape (N={n}, S), got "
                                f"{tuple(targets.shape)}")
        if s_max > targets.shape[1]:
            raise it.ShapeError(f"{op}: a target length of {s_max} exceeds the padded targets' "
                                f"length {targets.shape[1]}")
        padded = targets[:, :s_max]
    elif targets.ndim == 1:
        total = int(tl.sum())
        if total > targets.shape[0]:
            raise it.ShapeError(f"{op}: the target lengths sum to {total}, but the concatenated "
                                f"targets hold {targets.shape[0]}")
        start = (tl.cumsum(0) - tl).unsqueeze(1)
        inside = pos < tl.unsqueeze(1)
        padded = it.take(targets, it.where(inside, start + pos, 0)) if targets.shape[0] else \
            it.zeros((n, s_max), dtype=targets.dtype, device=targets.device)
    else:
        raise it.ShapeError(f"{op}: expected targets of shape (N, S) or (sum(target_lengths),)"
                            f"{'' if batched else ' -- (S,) when unbatched'}, got "
                            f"{tuple(targets.shape)}")
    inside = pos < tl.unsqueeze(1)
    if padded.numel():
        bad = inside & ((padded < 0) | (padded >= n_class))
        if bool(bad.any()):
            raise IndexError(f"{op}: target {int(padded[bad][0])} is out of bounds for "
                             f"{n_class} classes")
    return padded, inside


# CTC's log(0): a finite stand-in for -inf, so that every logsumexp of the recursion has a
# finite max and no NaN reaches a gradient. exp(_LOG_ZERO - x) is exactly 0 beside any
# real log-probability, and a sum of T of them stays far from overflow.
_LOG_ZERO = -1e30


def _logsumexp(x, axis):
    """``log(sum(exp(x)))`` along ``axis``, shifted by the (detached) max; ``x`` finite."""
    m = x.detach().amax(axis)
    return (x - m.unsqueeze(axis)).exp().sum(axis).log() + m


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """Connectionist temporal classification loss: ``-log`` of the summed probability of
    every alignment of each target to its input, by the forward (alpha) recursion in log
    space -- one step per time step, vectorised over the batch and the extended-label
    positions.

    ``log_probs``: (T, N, C) log-probabilities, or (T, C) unbatched; ``targets``: padded
    (N, S) or concatenated (sum(target_lengths),); ``input_lengths``/``target_lengths``:
    (N,) int tensors or tuples. ``'mean'`` divides each loss by its target length before
    averaging over the batch; ``zero_infinity`` turns the infinite losses of impossible
    alignments (and their gradients) into zeros. The gradient with respect to
    ``log_probs`` is PyTorch's: ``exp(log_probs)`` minus the alignment posteriors (the
    gradient for logits behind a log_softmax), zero past each input length; NaN for an
    impossible alignment unless ``zero_infinity``. Half-precision input is computed in
    float32."""
    op = "ctc_loss"
    check.floating(op, "log_probs", log_probs)
    check_reduction(op, reduction)
    if log_probs.ndim not in (2, 3):
        raise it.ShapeError(f"{op}: expected log_probs of shape (T, N, C) or (T, C), got "
                            f"{tuple(log_probs.shape)}")
    batched = log_probs.ndim == 3
    lp = log_probs if batched else log_probs.unsqueeze(1)
    if lp.dtype not in (it.float32, it.float64):
        lp = lp.to(it.float32)
    n_time, n, n_class = lp.shape
    if not 0 <= blank < n_class:
        raise it.ArgumentError(f"{op}: blank must be a class index in [0, {n_class}), got {blank}")
    il = _lengths(op, "input_lengths", input_lengths, n, lp.device)
    tl = _lengths(op, "target_lengths", target_lengths, n, lp.device)
    if n and int(il.max()) > n_time:
        raise it.ArgumentError(f"{op}: input_lengths must be at most T={n_time}, got "
                               f"{int(il.max())}")
    if not batched and isinstance(targets, it.Tensor):
        targets = targets.reshape(-1)
    padded, inside = _padded_targets(op, targets, tl, batched, n_class)
    # extended labels: blank, y1, blank, y2, ..., blank (padding past each target: blank)
    labels = it.where(inside, padded, blank)
    s_max = labels.shape[1]
    blanks = it.full((n, s_max + 1), blank, dtype=labels.dtype, device=lp.device)
    ext = it.concat([it.stack([blanks[:, :s_max], labels], axis=2).reshape((n, 2 * s_max)),
                     blanks[:, s_max:]], axis=1)
    width = ext.shape[1]
    prev2 = it.concat([blanks[:, :1], blanks[:, :1], ext], axis=1)[:, :width]
    # Each step reads, for position s, alpha at s, s - 1 and (between different labels)
    # s - 2: one gather from [log(0), log(0), alpha] at s + 2, s + 1 and s, or at 0 (log 0)
    # where the skip is not allowed.
    pos = it.arange(width, device=lp.device)
    skip = it.where((ext != blank) & (ext != prev2), pos, 0)
    sources = it.concat([it.broadcast_to(pos + 2, (n, width)),
                         it.broadcast_to(pos + 1, (n, width)), skip], axis=1)   # (N, 3 (2S+1))
    # emissions at the extended labels, (T, N, 2S+1); a log-probability of -inf is log(0)
    emit = it.clamp(lp.gather(2, ext.unsqueeze(0).expand((n_time, n, width))), min=_LOG_ZERO)
    # alpha before the first step: the empty prefix, at position 0
    alpha = it.where(pos == 0, 0.0, _LOG_ZERO).to(lp.dtype).expand((n, width))
    side = it.full((n, 2), _LOG_ZERO, dtype=lp.dtype, device=lp.device)
    steps = int(il.max()) if n else 0
    alphas = [alpha]
    for em in it.unbind(emit[:steps], 0) if steps else ():
        paths = it.concat([side, alpha], axis=1).gather(1, sources).reshape((n, 3, width))
        alpha = _logsumexp(paths, 1) + em
        alphas.append(alpha)
    # alpha after each sequence's last step, at the last label and the blank after it
    last = it.stack(alphas, axis=1).gather(1, il.reshape((n, 1, 1)).expand((n, 1, width)))
    ends = it.stack([2 * tl, it.clamp(2 * tl - 1, min=0)], axis=1)
    one_end = it.where(tl == 0, _LOG_ZERO, 0.0).to(lp.dtype)
    nll = -_logsumexp(last.squeeze(1).gather(1, ends) +
                      it.stack([it.zeros_like(one_end), one_end], axis=1), 1)
    # PyTorch's gradient adds exp(log_probs) (up to each input length): a zero-valued term
    running = (it.arange(n_time, device=lp.device).unsqueeze(1) < il).unsqueeze(2)
    e = lp.exp()
    nll = nll + it.where(running, e - e.detach(), 0.0).sum((0, 2))
    impossible = nll.detach() > -0.5 * _LOG_ZERO      # no alignment: only log(0) paths
    if zero_infinity:
        nll = it.where(impossible, 0.0, nll)
    elif n and bool(impossible.any()):
        # an impossible alignment: the loss is inf and its gradient NaN, as in PyTorch
        mask = running & impossible.reshape((1, n, 1))
        poison = -(it.where(mask, e, 0.0).sum((0, 2)) * 0.0).log()
        nll = it.where(impossible, poison, nll)
    if reduction == "mean":
        loss = (nll / it.clamp(tl, min=1).to(lp.dtype)).mean()
    elif reduction == "sum":
        loss = nll.sum()
    else:
        loss = nll if batched else nll.reshape(())
    return loss.to(log_probs.dtype)


# ---------------------------------------------------------------- distances

def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The ``p``-norm of ``x1 - x2 + eps`` over the last dim (of the broadcast shape;
    ``p`` any real: 0 counts nonzeros, ``inf`` takes the largest magnitude)."""
    op = "pairwise_distance"
    check.tensor(op, "x1", x1)
    check.tensor(op, "x2", x2)
    diff = x1 - x2 + eps
    if diff.ndim == 0:                  # a 0-d difference is a vector of one (0-d result)
        return it.norm(diff.reshape(1), p, dim=0)
    return it.norm(diff, p, dim=-1, keepdim=keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (broadcast together):
    ``sum(x1/|x1| * x2/|x2|)`` with each norm raised to at least ``eps``; as in PyTorch, the
    gradient passes through that floor unchanged."""
    op = "cosine_similarity"
    check.tensor(op, "x1", x1)
    check.tensor(op, "x2", x2)
    dt = it.result_type(x1, x2)
    if not dt.is_floating_point:
        raise it.DTypeError(f"{op}: expected floating point inputs, got {x1.dtype} and {x2.dtype}")
    if x1.shape != x2.shape:
        x1, x2 = it.broadcast_arrays(x1, x2)
    if x1.ndim == 0:
        x1, x2 = x1.reshape(1), x2.reshape(1)
    return ((x1 / _floored_norm(x1, dim, eps)) * (x2 / _floored_norm(x2, dim, eps))).sum(dim)


def _floored_norm(x, dim, eps):
    norm = it.norm(x, 2, dim=dim, keepdim=True)
    fixed = norm.detach()
    return norm + (it.clamp(fixed, min=eps) - fixed)


def pdist(input, p=2):
    """The ``p``-norm distances between the rows of ``input`` (N, M), for each pair i < j in
    row-major order: N (N - 1) / 2 values."""
    op = "pdist"
    check.tensor(op, "input", input)
    if input.ndim != 2:
        raise it.ShapeError(f"{op}: expected a 2-d input (N, M), got shape {tuple(input.shape)}")
    if not input.dtype.is_floating_point:
        raise it.DTypeError(f"{op}: expected a floating point input, got {input.dtype}")
    if p < 0:
        raise it.ArgumentError(f"{op}: p must be non-negative, got {p}")
    n = input.shape[0]
    rows = it.arange(n, device=input.device)
    i, j = it.nonzero(rows.unsqueeze(1) < rows, as_tuple=True)
    return it.norm(input[i] - input[j], p, dim=1)
