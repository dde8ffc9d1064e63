"""Activation functions of ``interop.nn.functional``, with PyTorch's signatures, values and
gradients, composed from differentiable interop ops (so they run and differentiate on
every backend, to any order).

Gradients at kinks are PyTorch's (its scalar kernels' formulas, NaN inputs included): a
composite is arranged so that autograd gives them, mostly as a ``where`` whose other branch
is a constant, e.g. hardtanh passes the gradient only strictly inside its bounds where
``clamp`` would pass it at the bounds too. No branch that a ``where`` leaves out carries
values that would turn its zero gradient into NaN (``0 * inf``); piecewise-linear parts
are a multiplication by a constant factor where that is exact (one cheap backward).

``inplace=True`` (and the ``relu_``-style functions) writes the result into the input and
returns the input itself. A recorded in-place activation is differentiated as the
out-of-place one applied to the old values, so its gradients are always right (PyTorch
refuses the backward of ``leaky_relu_`` with a negative slope and ``elu_`` with a negative
alpha; here they work). As in PyTorch, a leaf that requires grad cannot be modified in place.
"""

import warnings

import interop as it
from . import _checks as check

__all__ = ["relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "prelu", "rrelu", "rrelu_",
           "elu", "elu_", "selu", "selu_", "celu", "celu_", "gelu", "silu", "mish", "sigmoid",
           "tanh", "hardtanh", "hardtanh_", "hardsigmoid", "hardswish", "logsigmoid",
           "softplus", "softsign", "softshrink", "hardshrink", "tanhshrink", "threshold",
           "threshold_", "glu", "softmax", "log_softmax", "softmin", "gumbel_softmax"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _write(x, fn, op):
    """``fn(x)`` written into ``x``, which is returned. When the write is recorded, ``fn``
    runs on a copy of the old values (which its graph may keep) and ``x`` moves onto the
    result's graph."""
    if x.requires_grad and it.is_grad_enabled():
        if x.is_leaf:
            raise RuntimeError(f"{op}: a leaf Variable that requires grad (shape {tuple(x.shape)})"
                               f" is being used in an in-place operation; use the out-of-place "
                               f"form or wrap the call in interop.no_grad()")
        return x.copy_(fn(x.clone()))
    return x.copy_(fn(x))


def _slope_factor(neg, slope, x):
    """1 where bool mask ``neg`` is False, ``slope`` where it is True, in x's dtype (exactly:
    no rounding of 1)."""
    n = it.astype(neg, x.dtype)
    return (1.0 - n) + n * slope


def _pass_inside(x, lo, hi, strict_nan=False):
    """``x`` clamped to ``[lo, hi]``, with the gradient passed only strictly inside the bounds
    (PyTorch's hardtanh rule; ``clamp`` passes it at the bounds as well). At a NaN the value
    is NaN and the gradient passes, unless ``strict_nan`` (hardsigmoid's rule)."""
    if strict_nan:
        inside = (x > lo) & (x < hi)
    else:
        inside = ~((x <= lo) | (x >= hi))
    return it.where(inside, x, x.detach().clamp(lo, hi))


# ---------------------------------------------------------------- the ReLU family

def relu(input, inplace=False):
    """``max(x, 0)``; the gradient at 0 is 0."""
    if inplace:
        return relu_(input)
    return it.relu(input)


def relu_(input):
    """In-place :func:`relu`."""
    check.tensor("relu_", "input", input)
    return input.relu_()


def _hardtanh(x, lo, hi):
    if not x.is_floating_point():
        return x.clamp(int(lo), int(hi))     # integers keep their dtype (PyTorch truncates)
    return _pass_inside(x, lo, hi)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """``x`` clamped to ``[min_val, max_val]``; the gradient is 0 at the bounds and outside."""
    check.tensor("hardtanh", "input", input)
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got min_val="
                         f"{min_val} and max_val={max_val}")
    if inplace:
        return _write(input, lambda x: _hardtanh(x, min_val, max_val), "hardtanh_")
    return _hardtanh(input, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place :func:`hardtanh`."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """``min(max(x, 0), 6)``: :func:`hardtanh` on ``[0, 6]`` (gradient 0 at 0 and 6)."""
    return hardtanh(input, 0, 6, inplace)


def _leaky(x, slope):
    return x * _slope_factor(~(x > 0), slope, x)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x`` where ``x > 0``, else ``negative_slope * x`` (the gradient at 0 is the slope)."""
    check.floating("leaky_relu", "input", input)
    if inplace:
        return _write(input, lambda x: _leaky(x, negative_slope), "leaky_relu_")
    return _leaky(input, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    """In-place :func:`leaky_relu`."""
    return leaky_relu(input, negative_slope, inplace=True)


def prelu(input, weight):
    """``x`` where ``x > 0``, else ``weight * x``, with one learned slope per channel (dim 1;
    a 1-d or 0-d input has one channel) or one for all (a single-element weight)."""
    check.floating("prelu", "input", input)
    check.tensor("prelu", "weight", weight)
    if weight.dtype != input.dtype:
        raise it.DTypeError(f"prelu: weight must have the input's dtype {input.dtype}, got "
                            f"{weight.dtype}")
    if weight.ndim > 1:
        raise it.ShapeError(f"prelu: expected weight to be a 0-d or 1-d tensor, got shape "
                            f"{tuple(weight.shape)}")
    n = weight.numel()
    nd = input.ndim
    channels = input.shape[1] if nd >= 2 else 1
    if n != 1 and n != channels:
        raise it.ShapeError(f"prelu: weight has {n} elements, expected 1 or the input's number "
                            f"of channels {channels} (input shape {tuple(input.shape)})")
    w = weight.reshape(()) if n == 1 else weight.reshape((n,) + (1,) * (nd - 2))
    pos = input > 0
    # the slope multiplies only the non-positive part: a +inf input gives weight no NaN gradient
    return it.where(pos, input, it.where(pos, 0.0, input) * w)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: in training each non-positive element gets its own slope, drawn
    uniformly from ``[lower, upper]`` (interop's RNG); in eval the slope is their mean."""
    check.floating("rrelu", "input", input)
    if lower > upper:
        raise it.ArgumentError(f"rrelu: lower bound must be less than or equal to the upper "
                               f"bound, got lower={lower} and upper={upper}")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)

    def fn(x):
        slopes = it.rand_like(x) * (upper - lower) + lower
        return x * _slope_factor(x <= 0, slopes, x)
    if inplace:
        return _write(input, fn, "rrelu_")
    return fn(input)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """In-place :func:`rrelu`."""
    return rrelu(input, lower, upper, training, inplace=True)


def _threshold(input, th, value, inplace):
    check.tensor("threshold", "input", input)
    if input.dtype == it.bool:
        raise it.DTypeError("threshold: not supported for bool tensors (as in PyTorch)")
    if not input.is_floating_point():
        value = int(value)           # an integer tensor keeps its dtype (PyTorch truncates)

    def fn(x):
        return it.where(x <= th, value, x)
    if inplace:
        return _write(input, fn, "threshold_")
    return fn(input)


def threshold(input, threshold, value, inplace=False):
    """``x`` where ``x > threshold``, else ``value`` (the gradient is 0 at the threshold)."""
    return _threshold(input, threshold, value, inplace)


def threshold_(input, threshold, value):
    """In-place :func:`threshold`."""
    return _threshold(input, threshold, value, True)


# ---------------------------------------------------------------- exponential units

def _elu(x, alpha, scale, input_scale):
    # relu has gradient 0 at 0 and clamp passes it at its bound, so elu'(0) is the negative
    # side's, as PyTorch's; x > 0 leaves expm1(0) = 0, never exp of a large x
    neg = x.clamp(max=0)
    if input_scale != 1:
        neg = neg * input_scale
    pos = it.relu(x)
    if scale != 1:
        pos = pos * scale
    return pos + it.expm1(neg) * (alpha * scale)


def elu(input, alpha=1.0, inplace=False):
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    check.floating("elu", "input", input)
    if inplace:
        return _write(input, lambda x: _elu(x, alpha, 1, 1), "elu_")
    return _elu(input, alpha, 1, 1)


def elu_(input, alpha=1.0):
    """In-place :func:`elu`."""
    return elu(input, alpha, inplace=True)


def selu(input, inplace=False):
    """``scale * elu(x, alpha)`` with the self-normalizing constants."""
    check.floating("selu", "input", input)
    if inplace:
        return _write(input, lambda x: _elu(x, _SELU_ALPHA, _SELU_SCALE, 1), "selu_")
    return _elu(input, _SELU_ALPHA, _SELU_SCALE, 1)


def selu_(input):
    """In-place :func:`selu`."""
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    check.floating("celu", "input", input)
    if alpha == 0:
        raise it.ArgumentError("celu: alpha cannot be 0 (the input is divided by it)")
    if inplace:
        return _write(input, lambda x: _elu(x, alpha, 1, 1.0 / alpha), "celu_")
    return _elu(input, alpha, 1, 1.0 / alpha)


def celu_(input, alpha=1.0):
    """In-place :func:`celu`."""
    return celu(input, alpha, inplace=True)


# ---------------------------------------------------------------- smooth gates

def gelu(input, approximate="none"):
    """``x * Phi(x)`` (Phi the standard normal CDF); ``approximate='tanh'`` gives
    ``0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))``. One primitive over the
    backend's gelu kernels (:func:`interop.gelu`)."""
    check.floating("gelu", "input", input)
    if approximate != "none" and approximate != "tanh":
        raise it.ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got "
                               f"{approximate!r}")
    return it.gelu(input, approximate)


def silu(input, inplace=False):
    """``x * sigmoid(x)`` (swish). One primitive over the backend's silu kernels
    (:func:`interop.silu`)."""
    check.floating("silu", "input", input)
    if inplace:
        return _write(input, it.silu, "silu_")
    return it.silu(input)


def _mish(x):
    return x * it.tanh(it.logaddexp(x, 0.0))


def mish(input, inplace=False):
    """``x * tanh(softplus(x))``."""
    check.floating("mish", "input", input)
    if inplace:
        return _write(input, _mish, "mish_")
    return _mish(input)


sigmoid = it.sigmoid
tanh = it.tanh


def _hardsigmoid(x):
    return (_pass_inside(x, -3.0, 3.0, strict_nan=True) + 3.0) / 6.0


def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6``; the gradient is 1/6 strictly inside ``(-3, 3)``, else 0."""
    check.floating("hardsigmoid", "input", input)
    if inplace:
        return _write(input, _hardsigmoid, "hardsigmoid_")
    return _hardsigmoid(input)


def _hardswish(x):
    # x * s(x) with s = (c + 3) / 6, c = x strictly inside (-3, 3), else a constant: -3 at
    # and below -3, 3 at and above 3 and at NaN (so that the gradient there is PyTorch's)
    out = it.where(x <= -3.0, -3.0, it.full_like(x, 3.0))
    c = it.where((x > -3.0) & (x < 3.0), x, out)
    return x * ((c + 3.0) / 6.0)


def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6``."""
    check.floating("hardswish", "input", input)
    if inplace:
        return _write(input, _hardswish, "hardswish_")
    return _hardswish(input)


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta``, and ``x`` where ``beta * x > threshold``. Computed
    without overflow for any threshold."""
    check.floating("softplus", "input", input)
    bx = input * beta if beta != 1 else input
    sp = it.logaddexp(bx, 0.0)
    if beta != 1:
        sp = sp / beta
    return it.where(bx > threshold, input, sp)


def logsigmoid(input):
    """``log(sigmoid(x)) = -softplus(-x)``, without overflow or underflow."""
    check.floating("logsigmoid", "input", input)
    return -it.logaddexp(-input, 0.0)


def softsign(input):
    """``x / (1 + |x|)``."""
    check.tensor("softsign", "input", input)
    return input / (input.abs() + 1)


def tanhshrink(input):
    """``x - tanh(x)``."""
    check.tensor("tanhshrink", "input", input)
    return input - it.tanh(input)


def _check_lambd(lambd, op):
    if lambd < 0:
        raise it.ArgumentError(f"{op}: lambd must be non-negative, got {lambd}")


def softshrink(input, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0 (the gradient is
    0 on ``[-lambd, lambd]``, bounds included)."""
    check.floating("softshrink", "input", input)
    _check_lambd(lambd, "softshrink")
    xd = input.detach()
    inside = (input >= -lambd) & (input <= lambd)
    return it.where(inside, xd, input) - xd.clamp(-lambd, lambd)


def hardshrink(input, lambd=0.5):
    """``x`` outside ``[-lambd, lambd]``, else 0."""
    check.floating("hardshrink", "input", input)
    return it.where((input >= -lambd) & (input <= lambd), 0.0, input)


def glu(input, dim=-1):
    """Gated linear unit: ``a * sigmoid(b)``, where ``a`` and ``b`` are the halves of
    ``input`` along ``dim``."""
    check.floating("glu", "input", input)
    nd = input.ndim
    if nd == 0:
        raise it.ShapeError("glu: does not support 0-d tensors: it halves a dim, which a "
                            "scalar lacks")
    if not -nd <= dim < nd:
        raise IndexError(f"glu: dim {dim} is out of range for a {nd}-d tensor (expected in "
                         f"[{-nd}, {nd - 1}])")
    d = dim % nd
    n = input.shape[d]
    if n % 2:
        raise it.ShapeError(f"glu: halving dimension must be even, but dim {d} has size {n} "
                            f"(input shape {tuple(input.shape)})")
    h = n // 2
    return input.narrow(d, 0, h) * it.sigmoid(input.narrow(d, h, h))


# ---------------------------------------------------------------- softmax family

def _softmax_dim(op, x, dim, stacklevel):
    """PyTorch's rule: ``dim=None`` picks 0 for 0-, 1- and 3-d inputs, else 1, and warns."""
    if dim is None:
        d = 0 if x.ndim in (0, 1, 3) else 1
        warnings.warn(f"{op}: the implicit choice of dim is deprecated (as in PyTorch); using "
                      f"dim={d} for a {x.ndim}-d input. Pass dim= explicitly.",
                      UserWarning, stacklevel=stacklevel)
        return d
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    nd = max(x.ndim, 1)
    if not -nd <= dim < nd:
        raise IndexError(f"{op}: dim {dim} is out of range for a {x.ndim}-d tensor (expected "
                         f"in [{-nd}, {nd - 1}])")
    return dim


def _softmax_input(op, x, dtype):
    check.tensor(op, "input", x)
    if dtype is None and not x.is_floating_point():
        raise it.DTypeError(f"{op}: expected a floating point tensor, got dtype {x.dtype}; "
                            f"pass dtype= to compute in a floating dtype")


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim`` (``dtype``: cast the input first)."""
    _softmax_input("softmax", input, dtype)
    return it.softmax(input, _softmax_dim("softmax", input, dim, _stacklevel), dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``log(softmax(x))`` along ``dim`` (``dtype``: cast the input first): the core's
    primitive, one node computing ``(x - m) - log(sum(exp(x - m)))`` with ``m`` the max,
    stable and exact where the max dwarfs the log term (logits of 1e38 differing by 1)."""
    _softmax_input("log_softmax", input, dtype)
    return it.log_softmax(input, _softmax_dim("log_softmax", input, dim, _stacklevel),
                          dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-x)`` along ``dim``."""
    _softmax_input("softmin", input, dtype)
    return it.softmax(-input, _softmax_dim("softmin", input, dim, _stacklevel), dtype=dtype)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """A sample from the Gumbel-softmax distribution: ``softmax((logits + g) / tau)`` with
    ``g`` standard Gumbel noise. ``hard=True`` returns the one-hot of its argmax in the
    forward pass with the soft sample's gradient (straight-through)."""
    check.floating("gumbel_softmax", "logits", logits)
    if eps != 1e-10:
        warnings.warn("gumbel_softmax: `eps` is deprecated and has no effect", UserWarning,
                      stacklevel=2)
    # g = -log(E), E ~ Exp(1) = -log(1 - U), kept away from 0 so that g is finite
    e = (-it.log1p(-it.rand_like(logits))).clamp(min=it.finfo(logits.dtype).tiny)
    y = it.softmax((logits - it.log(e)) / tau, dim)
    if not hard:
        return y
    one_hot = it.zeros_like(y).scatter(dim, it.argmax(y, dim, keepdim=True), 1.0)
    return one_hot - y.detach() + y
