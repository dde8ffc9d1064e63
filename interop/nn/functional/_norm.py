"""Normalization and dropout: ``batch_norm``, ``instance_norm``, ``layer_norm``,
``group_norm``, ``rms_norm``, ``local_response_norm``, ``normalize`` and the dropout family,
with PyTorch's signatures, defaults, checks and running-statistics rules.

Batch, instance, layer and group norm share one primitive, :class:`_NormalizeBackward`,
whose backward is written out and runs on the backend's raw arrays: the composite's dozen
broadcast-and-reduce nodes took about twice as long (measured on NumPy). Under
``create_graph`` that backward recomputes the statistics from the input with recorded ops,
so second derivatives are right too.
Layer and group norm normalize rows of their input, batch and instance norm its channels,
forward and backward, with the backend's ``normalize_rows`` and ``normalize_channels``
kernels (``interop.autograd.run_kernel`` in forward; on the cpu backend one compiled pass
per row or channel where numba is installed).
Running statistics are updated in place, outside the graph, with the unbiased variance
(as PyTorch does). Dropout masks come from interop's RNG.
"""

import math
import numbers
import warnings

import interop as it
from . import _checks as check

__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm",
           "local_response_norm", "normalize", "dropout", "alpha_dropout",
           "feature_alpha_dropout", "dropout1d", "dropout2d", "dropout3d"]

_LOW_PRECISION = (it.float16, it.bfloat16)


# ------------------------------------------------------------------ shared checks

def _shape(t):
    return tuple(t.shape)


def _check_vector(op, name, t, n, x, what):
    """``t`` (or None) must be a tensor of ``n`` elements whose dtype fits input ``x``:
    the same, or float32 for a float16/bfloat16 input (PyTorch's mixed precision)."""
    if t is None:
        return
    if not isinstance(t, it.Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor or None, got {type(t).__name__}")
    if t.numel() != n:
        raise it.ShapeError(f"{op}: {name} should contain {n} elements ({what}), not "
                            f"{t.numel()} (shape {_shape(t)})")
    _check_dtype(op, name, t, x)


def _check_dtype(op, name, t, x):
    if t.dtype != x.dtype and not (x.dtype in _LOW_PRECISION and t.dtype == it.float32):
        raise it.DTypeError(f"{op}: expected {name} to have the input's dtype {x.dtype}, got "
                            f"{t.dtype}")


def _upcast(x):
    """float16/bfloat16 inputs are normalized in float32 (PyTorch accumulates them so)."""
    return x.astype(it.float32) if x.dtype in _LOW_PRECISION else x


def _param(t, dtype):
    return t if t is None or t.dtype == dtype else t.astype(dtype)


def _shaped(t, shape):
    """``t`` (or None) reshaped to ``shape``, without an op where it has it already."""
    return t if t is None or _shape(t) == shape else t.reshape(shape)


def _check_pair(running_mean, running_var):
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be "
                         f"None; got running_mean={'None' if running_mean is None else 'a Tensor'}"
                         f" and running_var={'None' if running_var is None else 'a Tensor'}")


def _check_eps(op, eps, batch_stats):
    if batch_stats and not eps > 0:
        raise ValueError(f"{op} eps must be positive during training, but got {eps}")
    if not eps >= 0:
        raise ValueError(f"{op} eps must be non-negative, but got {eps}")


# ------------------------------------------------------------------ the primitive

def _trailing(x, axes):
    """The lead shape when ``axes`` are x's last dims (layer and group norm), else None."""
    k = len(axes)
    return tuple(x.shape[:x.ndim - k]) if axes == tuple(range(x.ndim - k, x.ndim)) else None


def _kept_view(x, axes):
    """``(A, K, L)``: x's shape folded so that the statistic's dims are A (leading) and L
    (trailing) and the kept dims K (batch norm: (N, C, H*W); instance norm: (1, N*C,
    H*W)), when the kept dims are consecutive; else None."""
    kept = [d for d in range(x.ndim) if d not in axes]
    if not kept or kept[-1] - kept[0] + 1 != len(kept):
        return None
    s = tuple(x.shape)
    k0, k1 = kept[0], kept[-1] + 1
    return math.prod(s[:k0]), math.prod(s[k0:k1]), math.prod(s[k1:])


def _moments(x, axes, n):
    """Mean, deviations ``x - mean`` and their sum of squares over ``axes`` (kept as size-1
    dims); ``n`` elements per statistic."""
    mean = it.sum(x, axis=axes, keepdims=True) / n
    xc = x - mean
    return mean, xc, it.sum(xc * xc, axis=axes, keepdims=True)


def _reshaped(xp, a, shape):
    """``a`` (or None) reshaped to ``shape`` with ``xp.reshape``, without a call where it has
    that shape already (a tensor or a raw array)."""
    return a if a is None or tuple(a.shape) == shape else xp.reshape(a, shape)


class _NormalizeBackward(it.autograd.Node):
    """``(x - mean) / sqrt(var + eps) * weight + bias`` with the statistics of ``x`` over
    ``axes`` (biased variance) and weight/bias (or None) reshaped to ``wshape`` (which
    broadcasts to x's shape). :meth:`forward` also returns the mean and the sum of squared
    deviations (no gradient), for running statistics. ``aligned``: the weight is constant
    over the statistic's axes (batch and instance norm), so it folds into a per-statistic
    scale and shift.

    Saves x, the mean and ``1/std`` (as PyTorch; x-sized memory, not more) and recomputes
    the normalized input in backward, which runs on the backend's raw arrays (under
    ``create_graph``, on tensors, with the statistics recomputed from x)."""

    saves = ("x", "weight", "mean", "inv")

    @staticmethod
    def forward(x, weight, bias, axes, wshape, aligned, eps):
        """``(y, mean, inv, ssd)``, computed on tensors with recording off (ssd None for
        layer and group norm, which keep no running statistics)."""
        n = math.prod(x.shape[a] for a in axes)
        w = _shaped(weight, wshape)
        b = _shaped(bias, wshape)
        rows = None if aligned else _rows_form(x, axes, wshape)
        view = _kept_view(x, axes) if aligned else None      # (batch, instance norm: always)
        if view is not None:
            # Batch and instance norm: the backend's normalize_channels kernel over the
            # (A, K, L) view, K the kept positions (channels); one compiled pass per channel
            # where numba is; its backward is normalize_channels_backward.
            keep = tuple(1 if d in axes else k for d, k in enumerate(x.shape))
            k = (view[1],)
            wk = None if w is None else it.broadcast_to(w, keep).reshape(k)
            bk = None if b is None else it.broadcast_to(b, keep).reshape(k)
            y, mean, inv, ssd = it.autograd.run_kernel("normalize_channels", x.reshape(view),
                                                       wk, bk, eps)
            return (y.reshape(x.shape), mean.reshape(keep), inv.reshape(keep),
                    ssd.reshape(keep))
        elif rows is not None:
            # Layer and group norm: the backend's normalize_rows kernel over (R, P, Q) rows
            # (one pass per row where compiled); its backward is normalize_rows_backward.
            rshape, wrows = rows
            y, mean, inv = it.autograd.run_kernel("normalize_rows", x.reshape(rshape),
                                                  _shaped(w, wrows), _shaped(b, wrows), eps)
            keep = tuple(x.shape[:x.ndim - len(axes)]) + (1,) * len(axes)
            return y.reshape(x.shape), mean.reshape(keep), inv.reshape(keep), None
        else:
            mean, xc, ssd = _moments(x, axes, n)
            inv = it.rsqrt(ssd / n + eps)
            y = xc * inv
            if w is not None:
                y = y * w
            if b is not None:
                y = y + b
        return y, mean, inv, ssd

    def backward(self, xp, g, s):
        x, weight, mean, inv = s
        axes, wshape, aligned, n = self.axes, self.wshape, self.aligned, self.n
        need_x, need_w, need_b = (e is not None for e in self.next)
        shapes = (tuple(x.shape), None if weight is None else tuple(weight.shape),
                  self.bias_shape)
        if xp is self.be.ns and self.rows is not None:
            return _rows_backward(xp, g, x, weight, mean, inv, self.rows, shapes, need_x,
                                  need_w, need_b)
        w = _reshaped(xp, weight, wshape)
        if xp is self.be.ns:
            view = _kept_view(x, axes) if aligned else None
            if view is not None:
                return _kept_backward(xp, g, x, w, mean, inv, view, n, wshape, shapes,
                                      need_x, need_w, need_b)
        else:                       # create_graph: the statistics as functions of x
            mean, _, ssd = _moments(x, axes, n)
            inv = it.rsqrt(ssd / n + self.eps)
        xc = x - mean
        gx = gw = gb = None
        if aligned:
            sg = xp.sum(g, axis=axes, keepdims=True) if need_x or need_b else None
            sgx = xp.sum(g * xc, axis=axes, keepdims=True) if need_x or need_w else None
            if need_x:
                scale = inv if w is None else inv * w
                gx = (g - sg / n - xc * (sgx * (inv * inv) / n)) * scale
            if need_w:
                gw = _reshaped(xp, xp.sum_to(sgx * inv, wshape), shapes[1])
            if need_b:
                gb = _reshaped(xp, xp.sum_to(sg, wshape), shapes[2])
            return gx, gw, gb
        xhat = xc * inv
        if need_x:
            gh = g if w is None else g * w
            m1 = xp.sum(gh, axis=axes, keepdims=True) / n
            m2 = xp.sum(gh * xhat, axis=axes, keepdims=True) / n
            gx = (gh - m1 - xhat * m2) * inv
        if need_w:
            gw = _reshaped(xp, xp.sum_to(g * xhat, wshape), shapes[1])
        if need_b:
            gb = _reshaped(xp, xp.sum_to(g, wshape), shapes[2])
        return gx, gw, gb


def _rows_form(x, axes, wshape):
    """``((R, P, Q), (G, P, Qw))``: the shapes of x and of its weight as the normalize_rows
    kernel takes them, when the statistics are over x's trailing dims and the weight varies
    only along them (layer norm: ``(R, 1, n)`` and ``(1, 1, n)``) or per channel of a group
    (group norm, x ``(N, G, P, Q)``: ``(N * G, P, Q)`` and ``(G, P, 1)``); else None."""
    lead = _trailing(x, axes)
    if lead is None:
        return None
    shape = tuple(x.shape)
    ws = (1,) * (len(shape) - len(wshape)) + tuple(wshape)
    n = math.prod(shape[len(lead):])
    if ws == (1,) * len(lead) + shape[len(lead):]:
        return (math.prod(lead), 1, n), (1, 1, n)
    if len(shape) == 4 and len(lead) == 2 and ws == (1,) + shape[1:3] + (1,):
        return (shape[0] * shape[1], shape[2], shape[3]), (shape[1], shape[2], 1)
    return None


def _rows_backward(xp, g, x, weight, mean, inv, rows, shapes, need_x, need_w, need_b):
    """:class:`_NormalizeBackward` of layer and group norm on raw arrays: the backend's
    normalize_rows_backward kernel over the (R, P, Q) rows the forward normalized."""
    rshape, wrows = rows
    gx, gw, gb = xp.normalize_rows_backward(
        xp.reshape(g, rshape), xp.reshape(x, rshape), _reshaped(xp, weight, wrows),
        xp.reshape(mean, rshape[:1]), xp.reshape(inv, rshape[:1]), wrows)
    return (xp.reshape(gx, shapes[0]) if need_x else None,
            xp.reshape(gw, shapes[1]) if need_w else None,
            xp.reshape(gb, shapes[2]) if need_b else None)


def _kept_backward(xp, g, x, w, mean, inv, view, n, wshape, shapes, need_x, need_w, need_b):
    """:class:`_NormalizeBackward`'s aligned backward (batch and instance norm), on raw
    arrays (no create_graph): the backend's normalize_channels_backward kernel over the
    ``(A, K, L)`` view, the weight's and bias's gradients summed from K to their shape."""
    keep = tuple(inv.shape)
    k = (view[1],)
    wk = None if w is None else xp.reshape(xp.broadcast_to(w, keep), k)
    gx, gw, gb = xp.normalize_channels_backward(xp.reshape(g, view), xp.reshape(x, view), wk,
                                                xp.reshape(mean, k), xp.reshape(inv, k))
    return (xp.reshape(gx, shapes[0]) if need_x else None,
            _reshaped(xp, xp.sum_to(xp.reshape(gw, keep), wshape), shapes[1]) if need_w
            else None,
            _reshaped(xp, xp.sum_to(xp.reshape(gb, keep), wshape), shapes[2]) if need_b
            else None)


def _normalize(x, weight, bias, axes, wshape, aligned, eps):
    """:class:`_NormalizeBackward`'s primitive on ``x`` (in float32 for a 16-bit input, cast
    back): the result, and the statistics' means and sums of squared deviations (flat,
    outside the graph)."""
    xf = _upcast(x)
    dt = xf.dtype
    weight, bias = _param(weight, dt), _param(bias, dt)
    with it.no_grad():
        y, mean, inv, ssd = _NormalizeBackward.forward(xf, weight, bias, axes, wshape, aligned,
                                                       eps)
    y = it.autograd.primitive(
        _NormalizeBackward, (xf, weight, bias), y, saved=(xf, weight, mean, inv),
        axes=axes, wshape=wshape, aligned=aligned, eps=eps,
        n=math.prod(xf.shape[a] for a in axes),
        bias_shape=None if bias is None else _shape(bias),
        rows=None if aligned else _rows_form(xf, axes, wshape))
    return ((y if y.dtype == x.dtype else y.astype(x.dtype)), mean.reshape(-1),
            None if ssd is None else ssd.reshape(-1))


def _affine_empty(x, weight, bias, wshape):
    """The result for an input with no elements: empty, in the graph of x, weight and
    bias (whose gradients are then zeros, as PyTorch's)."""
    y = x
    if weight is not None:
        y = y * _param(_shaped(weight, wshape), x.dtype)
    if bias is not None:
        y = y + _param(_shaped(bias, wshape), x.dtype)
    return y if y is not x else x * 1


def _affine_running(x, running_mean, running_var, weight, bias, wshape, eps):
    """``(x - running_mean) / sqrt(running_var + eps) * weight + bias``, folded into one
    scale and shift per channel (as PyTorch's CPU kernel does)."""
    xf = _upcast(x)
    dt = xf.dtype
    scale = it.rsqrt(_param(_shaped(running_var, wshape), dt) + eps)
    if weight is not None:
        scale = scale * _param(_shaped(weight, wshape), dt)
    shift = -_param(_shaped(running_mean, wshape), dt) * scale
    if bias is not None:
        shift = shift + _param(_shaped(bias, wshape), dt)
    y = xf * scale + shift
    return y if y.dtype == x.dtype else y.astype(x.dtype)


def _update_running(running, batch, momentum):
    """``running = (1 - momentum) * running + momentum * batch``, in place, outside the graph."""
    with it.no_grad():
        running.mul_(1 - momentum).add_(_shaped(_param(batch * momentum, running.dtype),
                                                _shape(running)))


def _check_momentum(op, momentum):
    if not isinstance(momentum, numbers.Real):
        raise TypeError(f"{op}: momentum must be a number, got {type(momentum).__name__} "
                        f"(momentum=None, a cumulative average, is a module option)")


# ------------------------------------------------------------------ batch norm

def _channel_args(op, input, momentum, running_mean, running_var, weight, bias):
    """Checks batch and instance norm's arguments (an (N, C, *) floating input, one value
    per channel in each vector given); returns the input's shape and C."""
    check.floating(op, "input", input)
    _check_momentum(op, momentum)
    _check_pair(running_mean, running_var)
    shape = _shape(input)
    if len(shape) < 2:
        raise it.ShapeError(f"{op}: expected an input of shape (N, C, *) with at least 2 dims, "
                            f"got shape {shape}")
    c = shape[1]
    what = f"one per channel of the input of shape {shape}"
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _check_vector(op, name, t, c, input, what)
    return shape, c


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalize each channel (dim 1) of ``input`` ``(N, C, *)`` over the batch and every
    other dim. In training, the batch's statistics (biased variance) normalize and, where
    given, ``running_mean``/``running_var`` move towards them by ``momentum`` (with the
    unbiased variance), in place; otherwise the running statistics normalize."""
    op = "batch_norm"
    shape, c = _channel_args(op, input, momentum, running_mean, running_var, weight, bias)
    if training and shape[0] * math.prod(shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {input.shape}")
    _check_eps(op, eps, training)
    wshape = (1, c) + (1,) * (len(shape) - 2)
    if not training:
        if running_mean is None:
            raise RuntimeError(f"{op}: running_mean must be defined in evaluation mode "
                               f"(training=False uses the running statistics)")
        return _affine_running(input, running_mean, running_var, weight, bias, wshape, eps)
    if input.numel() == 0:
        return _affine_empty(input, weight, bias, wshape)
    axes = (0,) + tuple(range(2, len(shape)))
    y, mean, ssd = _normalize(input, weight, bias, axes, wshape, True, eps)
    if running_mean is not None:
        _update_running(running_mean, mean, momentum)
        _update_running(running_var, ssd / (input.numel() // c - 1), momentum)
    return y


# ------------------------------------------------------------------ instance norm

def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalize each channel of each sample of ``input`` ``(N, C, *)`` over its own
    spatial dims. With ``use_input_stats`` the sample's statistics normalize, and given
    running statistics move towards their mean over the batch; otherwise the running
    statistics normalize."""
    op = "instance_norm"
    shape, c = _channel_args(op, input, momentum, running_mean, running_var, weight, bias)
    if use_input_stats and math.prod(shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{input.shape}")
    _check_eps(op, eps, use_input_stats)
    wshape = (1, c) + (1,) * (len(shape) - 2)
    if not use_input_stats:
        if running_mean is None:
            raise RuntimeError(f"{op}: expected running_mean and running_var to be defined "
                               f"when use_input_stats is False")
        return _affine_running(input, running_mean, running_var, weight, bias, wshape, eps)
    if input.numel() == 0:
        return _affine_empty(input, weight, bias, wshape)
    y, mean, ssd = _normalize(input, weight, bias, tuple(range(2, len(shape))), wshape, True,
                              eps)
    if running_mean is not None:     # the batch's average of the instances' statistics
        _update_running(running_mean, it.mean(mean.reshape(shape[0], c), axis=0), momentum)
        _update_running(running_var, it.mean(ssd.reshape(shape[0], c), axis=0) /
                        (math.prod(shape[2:]) - 1), momentum)
    return y


# ------------------------------------------------------------------ layer, group, RMS norm

def _normalized_shape(op, normalized_shape, x):
    """``normalized_shape`` as a tuple, checked against the trailing dims of ``x``."""
    if isinstance(normalized_shape, numbers.Integral) or not isinstance(
            normalized_shape, (tuple, list)):
        raise TypeError(f"{op}: normalized_shape must be a tuple or list of ints, got "
                        f"{type(normalized_shape).__name__} {normalized_shape!r}")
    ns = tuple(int(d) for d in normalized_shape)
    if not ns:
        raise it.ShapeError(f"{op}: expected normalized_shape to have at least one dim, got "
                            f"normalized_shape={ns}")
    shape = _shape(x)
    if shape[len(shape) - len(ns):] != ns or len(ns) > len(shape):
        raise it.ShapeError(f"{op}: given normalized_shape={list(ns)}, expected input with shape "
                            f"[*, {', '.join(map(str, ns))}], but got input of size {list(shape)}")
    return ns


def _check_elementwise(op, name, t, ns, x):
    if t is None:
        return
    if not isinstance(t, it.Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor or None, got {type(t).__name__}")
    if _shape(t) != ns:
        raise it.ShapeError(f"{op}: expected {name} to be of same shape as normalized_shape, but "
                            f"got {name} of shape {list(_shape(t))} and normalized_shape = "
                            f"{list(ns)}")
    _check_dtype(op, name, t, x)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the trailing dims ``normalized_shape`` of ``input`` (biased
    variance), then scale and shift elementwise by ``weight`` and ``bias`` (that shape)."""
    op = "layer_norm"
    check.floating(op, "input", input)
    ns = _normalized_shape(op, normalized_shape, input)
    _check_elementwise(op, "weight", weight, ns, input)
    _check_elementwise(op, "bias", bias, ns, input)
    _check_eps(op, eps, False)
    if input.numel() == 0:
        return _affine_empty(input, weight, bias, ns)
    axes = tuple(range(input.ndim - len(ns), input.ndim))
    return _normalize(input, weight, bias, axes, ns, False, eps)[0]


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Split the channels (dim 1) of ``input`` ``(N, C, *)`` into ``num_groups`` groups and
    normalize each group of each sample; then scale and shift per channel."""
    op = "group_norm"
    check.floating(op, "input", input)
    shape = _shape(input)
    if len(shape) < 2:
        raise it.ShapeError(f"{op}: expected at least 2 dimensions for input tensor (N, C, *) but "
                            f"received {len(shape)} (shape {shape})")
    if isinstance(num_groups, bool) or not isinstance(num_groups, numbers.Integral) or \
            num_groups <= 0:
        raise ValueError(f"{op}: num_groups must be a positive integer, got {num_groups!r}")
    n, c = shape[0], shape[1]
    if c % num_groups:
        raise it.ShapeError(f"{op}: expected number of channels in input to be divisible by "
                            f"num_groups, but got input of shape {list(shape)} and "
                            f"num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and isinstance(t, it.Tensor) and (t.ndim != 1 or t.shape[0] != c):
            raise it.ShapeError(f"{op}: expected {name} to be a vector of size equal to the "
                                f"number of channels in input, but got {name} of shape "
                                f"{list(_shape(t))} and input of shape {list(shape)}")
        _check_vector(op, name, t, c, input, "one per channel")
    if n * c // num_groups * math.prod(shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{[n * c // num_groups, num_groups] + list(shape[2:])}")
    _check_eps(op, eps, False)
    if input.numel() == 0:
        return _affine_empty(input, weight, bias, (1, c) + (1,) * (len(shape) - 2))
    # (N, G, C/G, L): statistics over the last two dims, weight per channel (dim 2 too)
    g = num_groups
    grouped = (n, g, c // g, math.prod(shape[2:]))
    y = _normalize(input.reshape(grouped), weight, bias, (2, 3), (1, g, c // g, 1), c == g,
                   eps)[0]
    return y.reshape(shape)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Divide by the root mean square over the trailing dims ``normalized_shape`` (plus
    ``eps``; None means the dtype's machine epsilon), then scale by ``weight``."""
    op = "rms_norm"
    check.floating(op, "input", input)
    ns = _normalized_shape(op, normalized_shape, input)
    if weight is not None:
        if not isinstance(weight, it.Tensor):
            raise TypeError(f"{op}: expected weight to be a Tensor or None, got "
                            f"{type(weight).__name__}")
        if _shape(weight) != ns:
            raise it.ShapeError(f"{op}: expected weight to be of same shape as normalized_shape, "
                                f"but got weight of shape {list(_shape(weight))} and "
                                f"normalized_shape = {list(ns)}")
    x = _upcast(input)
    if eps is None:         # the epsilon of the dtype computed in (float32 for 16-bit input)
        eps = it.finfo(x.dtype).eps
    axes = tuple(range(input.ndim - len(ns), input.ndim))
    y = x * it.rsqrt(it.mean(x * x, axis=axes, keepdims=True) + eps)
    if weight is not None:
        y = y * weight
    return y if y.dtype == input.dtype else y.astype(input.dtype)


# ------------------------------------------------------------------ LRN, normalize

def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Divide each element by ``(k + alpha * mean of squares over size neighbouring
    channels) ** beta``; the window is centred on the channel and zero-padded at the ends."""
    op = "local_response_norm"
    check.floating(op, "input", input)
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} "
                         f"dimensions)")
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size <= 0:
        raise ValueError(f"{op}: size must be a positive integer, got {size!r}")
    if input.numel() == 0:
        return input
    shape = _shape(input)
    c = shape[1]
    sq = input * input
    before, after = size // 2, (size - 1) // 2
    parts = [sq]
    if before:
        parts.insert(0, it.zeros((shape[0], before) + shape[2:], dtype=input.dtype,
                                 device=input.device))
    if after:
        parts.append(it.zeros((shape[0], after) + shape[2:], dtype=input.dtype,
                              device=input.device))
    padded = it.concat(parts, axis=1) if len(parts) > 1 else sq
    acc = padded[:, 0:c]
    for j in range(1, size):       # one slice per offset of the window
        acc = acc + padded[:, j:j + c]
    div = (acc / size * alpha + k) ** beta
    return input / div


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input / max(norm_p(input along dim), eps)``: unit p-norm vectors along ``dim`` (an
    int or a tuple of ints). With ``out``, the result is written there (not differentiable)."""
    op = "normalize"
    if not isinstance(input, it.Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(input).__name__}")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise it.DTypeError(f"{op}: expected a floating point or complex input, got dtype "
                            f"{input.dtype}")
    axis = tuple(dim) if isinstance(dim, (tuple, list)) else dim
    denom = it.clamp(it.linalg.vector_norm(input, ord=p, axis=axis, keepdims=True), min=eps)
    res = input / denom
    if out is None:
        return res
    with it.no_grad():
        out.copy_(res)
    return out


# ------------------------------------------------------------------ dropout

_SELU_SATURATION = 1.7580993408473766      # -SELU(-inf) = scale * alpha


def _check_p(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input, shape, p, op):
    """1.0 where an element (or channel) is kept, with probability ``1 - p``; 0.0 elsewhere
    (the input's dtype, broadcastable ``shape``)."""
    if not input.dtype.is_floating_point:
        raise it.DTypeError(f"{op}: expected a floating point input, got dtype {input.dtype}")
    u = it.rand(*shape, dtype=input.dtype, device=input.device)
    return (u < 1.0 - p).astype(input.dtype)


def _drop(input, shape, p, inplace, op):
    """Zero each element (or channel, ``shape``) with probability ``p``; scale the kept ones
    by ``1/(1-p)``. ``p == 1`` multiplies by 0, as PyTorch (so inf and NaN give NaN)."""
    if p == 1:
        return input.mul_(0) if inplace else input * 0
    noise = _keep_mask(input, shape, p, op) / (1.0 - p)
    return input.mul_(noise) if inplace else input * noise


def _alpha_drop(input, shape, p, inplace, op):
    """Set dropped elements (or channels) to SELU's negative saturation, then scale and
    shift everything so that zero mean and unit variance are kept. ``p == 1`` gives zeros,
    as PyTorch."""
    if p == 1:
        return input.mul_(0) if inplace else input * 0
    keep = _keep_mask(input, shape, p, op)
    a = 1.0 / math.sqrt((_SELU_SATURATION ** 2 * p + 1) * (1 - p))
    b = (keep - 1.0) * (_SELU_SATURATION * a) + _SELU_SATURATION * a * p
    scale = keep * a
    return input.mul_(scale).add_(b) if inplace else input * scale + b


def _feature_shape(op, input, batched=True):
    """The mask shape that drops whole channels: (N, C, 1, ...), or (C, 1, ...) unbatched."""
    shape = _shape(input)
    if len(shape) < (2 if batched else 1):
        raise it.ShapeError(f"{op}: feature dropout requires at least 2 dimensions in the input "
                            f"(N, C, *), got shape {shape}")
    if not batched:
        return (shape[0],) + (1,) * (len(shape) - 1)
    return shape[:2] + (1,) * (len(shape) - 2)


def _skip(input, p, training):
    """Whether dropout leaves ``input`` as it is (not training, p == 0, or no elements)."""
    if not isinstance(input, it.Tensor):
        raise TypeError(f"dropout: expected a Tensor as input, got {type(input).__name__}")
    return not training or p == 0 or input.numel() == 0


def dropout(input, p=0.5, training=True, inplace=False):
    """During training, zero each element with probability ``p`` and scale the rest by
    ``1/(1-p)``; the input itself otherwise."""
    _check_p(p)
    if _skip(input, p, training):
        return input
    return _drop(input, _shape(input), p, inplace, "dropout")


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped elements take SELU's negative saturation value and
    the result is scaled and shifted to keep zero mean and unit variance."""
    _check_p(p)
    if _skip(input, p, training):
        return input
    return _alpha_drop(input, _shape(input), p, inplace, "alpha_dropout")


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """:func:`alpha_dropout` of whole channels (dim 1 of ``(N, C, *)``)."""
    _check_p(p)
    op = "feature_alpha_dropout"
    if _skip(input, p, training):
        return input
    return _alpha_drop(input, _feature_shape(op, input), p, inplace, op)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of ``(N, C, L)`` or unbatched ``(C, L)`` input with probability
    ``p``, scaling the rest by ``1/(1-p)``."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise it.ShapeError(f"dropout1d: expected 2D or 3D input, but received a {input.ndim}D "
                            f"input (shape {_shape(input)}). dropout1d drops channels of inputs "
                            f"with 1 spatial dimension, a channel dimension and an optional "
                            f"batch dimension (i.e. 2D or 3D inputs)")
    if _skip(input, p, training):
        return input
    return _drop(input, _feature_shape("dropout1d", input, input.ndim == 3), p, inplace,
                 "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of ``(N, C, H, W)`` input with probability ``p``, scaling the rest
    by ``1/(1-p)``. As in PyTorch, a 3-D input is taken as ``(N, C, L)`` (with a warning)."""
    _check_p(p)
    nd = input.ndim
    if nd not in (3, 4):
        warnings.warn(f"dropout2d: received a {nd}-D input to dropout2d, which is deprecated "
                      f"and will be an error in a future release; use dropout instead. "
                      f"dropout2d drops channels of inputs with 2 spatial dimensions, a channel "
                      f"dimension and an optional batch dimension (i.e. 3D or 4D inputs).",
                      stacklevel=2)
    if nd == 3:
        warnings.warn("dropout2d: received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change "
                      "in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To keep the 1D channel-wise dropout "
                      "behavior, use dropout1d instead.", stacklevel=2)
    if _skip(input, p, training):
        return input
    return _drop(input, _feature_shape("dropout2d", input), p, inplace, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)`` input with
    probability ``p``, scaling the rest by ``1/(1-p)``."""
    _check_p(p)
    nd = input.ndim
    if nd not in (4, 5):
        warnings.warn(f"dropout3d: received a {nd}-D input to dropout3d, which is deprecated "
                      f"and will be an error in a future release; use dropout instead. "
                      f"dropout3d drops channels of inputs with 3 spatial dimensions, a channel "
                      f"dimension and an optional batch dimension (i.e. 4D or 5D inputs).",
                      stacklevel=2)
    if _skip(input, p, training):
        return input
    return _drop(input, _feature_shape("dropout3d", input, nd == 5), p, inplace, "dropout3d")
