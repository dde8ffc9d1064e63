"""``interop.nn.init``: PyTorch's parameter initializers.

Every ``*_`` function fills its tensor in place under ``no_grad`` (so it works on parameters
that require grad) and returns it; random ones take PyTorch 2.x's ``generator=`` keyword and
draw from interop's generators. Bounds, standard deviations, fan computations and errors are
PyTorch's, so a model initialized here has the statistics it would have in PyTorch.
"""

import math
import warnings

import interop as it
from .functional import _checks as check

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_",
           "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_", "sparse_", "uniform", "normal", "constant", "eye",
           "dirac", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
           "orthogonal", "sparse"]

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for ``nonlinearity``: 1 for linear maps, convolutions and sigmoid,
    5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu (``param`` is the
    negative slope, default 0.01), 3/4 for selu."""
    if nonlinearity in _LINEAR_FNS:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number "
                             f"(expected an int or a float)")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity!r}; expected one of "
                     f"{', '.join(_LINEAR_FNS)}, tanh, relu, leaky_relu, selu")


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with samples uniform on [a, b)."""
    check.tensor("nn.init.uniform_", "tensor", tensor)
    if a > b:
        raise it.ArgumentError(f"nn.init.uniform_: expected a <= b (a [from, to) range), got "
                               f"a={a}, b={b}")
    with it.no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with samples from N(mean, std^2)."""
    check.tensor("nn.init.normal_", "tensor", tensor)
    if std < 0:
        raise it.ArgumentError(f"nn.init.normal_: expected std >= 0.0, got std={std}")
    with it.no_grad():
        return tensor.normal_(mean, std, generator=generator)


# Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9).
_Q_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
        1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
_Q_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
        6.680131188771972e+01, -1.328068155288572e+01, 1.0)
_Q_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
        -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
_Q_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
        3.754408661907416e+00, 1.0)
_Q_LOW = 0.02425


def _horner(coefs, x):
    acc = coefs[0]
    for c in coefs[1:]:
        acc = acc * x + c
    return acc


def _normal_quantile(p):
    """The standard normal inverse CDF of probabilities ``p`` (a float64 tensor in (0, 1))."""
    q = p - 0.5
    r = q * q
    central = _horner(_Q_A, r) * q / _horner(_Q_B, r)
    tail_p = it.clamp(it.minimum(p, 1.0 - p), min=1e-300)
    s = it.sqrt(-2.0 * it.log(tail_p))
    tail = _horner(_Q_C, s) / _horner(_Q_D, s)          # the lower tail's (negative) quantile
    tail = it.where(p > 0.5, -tail, tail)
    return it.where(it.abs(q) <= 0.5 - _Q_LOW, central, tail)


def _norm_cdf(x):
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with samples from N(mean, std^2) truncated to [a, b] (bounds in the tensor's
    units, as PyTorch), drawn by inverting the normal CDF (any [a, b], however narrow)."""
    check.tensor("nn.init.trunc_normal_", "tensor", tensor)
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    lo, hi = _norm_cdf((a - mean) / std), _norm_cdf((b - mean) / std)
    with it.no_grad():
        u = it.rand(*tensor.shape, generator=generator, dtype=it.float64, device=tensor.device)
        x = _normal_quantile(u * (hi - lo) + lo) * std + mean
        return tensor.copy_(it.clamp(x, min=a, max=b).astype(tensor.dtype))


def constant_(tensor, val):
    """Fill with ``val``."""
    check.tensor("nn.init.constant_", "tensor", tensor)
    with it.no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    """Fill with ones."""
    return constant_(tensor, 1)


def zeros_(tensor):
    """Fill with zeros."""
    check.tensor("nn.init.zeros_", "tensor", tensor)
    with it.no_grad():
        return tensor.zero_()


def eye_(tensor):
    """Fill a 2-d tensor with the identity matrix (ones on the main diagonal)."""
    check.tensor("nn.init.eye_", "tensor", tensor)
    if tensor.ndim != 2:
        raise ValueError(f"nn.init.eye_: only tensors with 2 dimensions are supported, got shape "
                         f"{tuple(tensor.shape)}")
    with it.no_grad():
        return tensor.copy_(it.eye(*tensor.shape, dtype=tensor.dtype, device=tensor.device))


def dirac_(tensor, groups=1):
    """Fill a 3-, 4- or 5-d convolution weight with the Dirac delta: each of the ``groups``
    groups of output channels passes its input channels through unchanged."""
    check.tensor("nn.init.dirac_", "tensor", tensor)
    shape = tuple(tensor.shape)
    if len(shape) not in (3, 4, 5):
        raise ValueError(f"nn.init.dirac_: only tensors with 3, 4, or 5 dimensions are supported, "
                         f"got shape {shape}")
    if shape[0] % groups != 0:
        raise ValueError(f"nn.init.dirac_: dim 0 must be divisible by groups, got size {shape[0]} "
                         f"and groups={groups}")
    dt, dev = tensor.dtype, tensor.device
    per_group = it.eye(shape[0] // groups, shape[1], dtype=dt, device=dev)
    channels = it.tile(per_group, (groups, 1))
    center = it.zeros(shape[2:], dtype=dt, device=dev)
    center[tuple(k // 2 for k in shape[2:])] = 1
    with it.no_grad():
        return tensor.copy_(it.reshape(channels, shape[:2] + (1,) * (len(shape) - 2)) * center)


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight: input / output feature maps (dims 1 and 0) times the
    receptive field (the product of the remaining dims)."""
    if tensor.ndim < 2:
        raise ValueError(f"Fan in and fan out can not be computed for tensor with fewer than 2 "
                         f"dimensions (got shape {tuple(tensor.shape)})")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    m = mode.lower() if isinstance(mode, str) else mode
    if m not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode!r} not supported, please use one of 'fan_in', 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if m == "fan_in" else fan_out


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(-bound, bound), bound = gain * sqrt(6 / (fan_in + fan_out))."""
    check.tensor("nn.init.xavier_uniform_", "tensor", tensor)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    check.tensor("nn.init.xavier_normal_", "tensor", tensor)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode, nonlinearity, who):
    check.tensor(f"nn.init.{who}", "tensor", tensor)
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-bound, bound), bound = gain * sqrt(3 / fan) with ``fan`` the fan_in or
    fan_out (``mode``) and ``gain = calculate_gain(nonlinearity, a)``."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std^2), std = gain / sqrt(fan) (see :func:`kaiming_uniform_`)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1, generator=None):
    """Fill with a (semi-)orthogonal matrix times ``gain``: the Q of a Gaussian matrix's QR,
    sign-corrected so that the distribution is uniform (Haar). Dims after the first are
    flattened."""
    check.tensor("nn.init.orthogonal_", "tensor", tensor)
    if tensor.ndim < 2:
        raise ValueError(f"nn.init.orthogonal_: only tensors with 2 or more dimensions are "
                         f"supported, got shape {tuple(tensor.shape)}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    with it.no_grad():
        flat = it.randn(rows, cols, generator=generator, dtype=tensor.dtype, device=tensor.device)
        if rows < cols:
            flat = flat.T
        q, r = it.linalg.qr(flat)
        q = q * it.sign(it.linalg.diagonal(r))
        if rows < cols:
            q = q.T
        return tensor.copy_(it.reshape(q, tuple(tensor.shape)) * gain)


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Fill a 2-d tensor with N(0, std^2) samples, then zero ``ceil(sparsity * rows)``
    randomly chosen entries of every column."""
    check.tensor("nn.init.sparse_", "tensor", tensor)
    if tensor.ndim != 2:
        raise ValueError(f"nn.init.sparse_: only tensors with 2 dimensions are supported, got "
                         f"shape {tuple(tensor.shape)}")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    with it.no_grad():
        tensor.normal_(0, std, generator=generator)
        if num_zeros and cols:
            # a random permutation of the rows of every column; its first entries are zeroed
            keys = it.rand(rows, cols, generator=generator, dtype=it.float32, device=tensor.device)
            tensor.scatter_(0, it.argsort(keys, axis=0)[:num_zeros], value=0)
    return tensor


def _deprecated(fn):
    """PyTorch's old names without the underscore: the same function, with a warning."""
    old = fn.__name__[:-1]

    def wrapper(*args, **kwargs):
        warnings.warn(f"nn.init.{old} is now deprecated in favor of nn.init.{fn.__name__}.",
                      FutureWarning, stacklevel=2)
        return fn(*args, **kwargs)

    wrapper.__name__ = wrapper.__qualname__ = old
    wrapper.__doc__ = f"Deprecated alias of :func:`{fn.__name__}`."
    return wrapper


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)


def _layer_default_(weight, bias):
    """The default init of PyTorch's Linear and convolution layers: ``kaiming_uniform_`` with
    ``a=sqrt(5)``, which is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias (if any) on the
    same bound (zeros when fan_in is 0)."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)
