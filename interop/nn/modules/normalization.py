"""Normalization layers: ``BatchNorm1d/2d/3d``, ``InstanceNorm1d/2d/3d`` (and their
``Lazy`` forms, which take ``num_features`` from the first input), ``LayerNorm``,
``GroupNorm``, ``RMSNorm``, ``LocalResponseNorm`` and ``CrossMapLRN2d``, with PyTorch's
arguments, parameter and buffer names (``weight``, ``bias``, ``running_mean``,
``running_var``, ``num_batches_tracked``), default initialization, input checks and repr, so
state_dicts load both ways."""

import numbers
import warnings

import interop as it
from .module import Module
from .. import init
from .._lazy import LazyModuleMixin, UninitializedBuffer, UninitializedParameter
from ..functional import _norm as F
from ..parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d",
           "InstanceNorm3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
           "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d", "LayerNorm",
           "GroupNorm", "RMSNorm", "LocalResponseNorm", "CrossMapLRN2d"]


def _count(value, name, cls):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{cls}: {name} must be a non-negative int, got {value!r}")
    return int(value)


def _shape_arg(normalized_shape, cls):
    """``normalized_shape`` (an int or a sequence of ints) as a tuple."""
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    try:
        return tuple(_count(d, "normalized_shape", cls) for d in normalized_shape)
    except TypeError:
        raise TypeError(f"{cls}: normalized_shape must be an int or a sequence of ints, got "
                        f"{type(normalized_shape).__name__}") from None


class _NormBase(Module):
    """What batch and instance norm share: per-channel ``weight``/``bias`` (``affine``)
    and the running statistics (``track_running_stats``)."""

    _version = 2        # version 2 added num_batches_tracked (see _load_from_state_dict)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = _count(num_features, "num_features", type(self).__name__)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(it.empty(num_features, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(it.empty(num_features, dtype=dtype, device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", it.zeros(num_features, dtype=dtype,
                                                          device=device))
            self.register_buffer("running_var", it.ones(num_features, dtype=dtype,
                                                        device=device))
            # (a Python int: int64, or int32 where the backend lacks int64)
            self.register_buffer("num_batches_tracked", it.tensor(0, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        """Running mean 0, running variance 1, no batches tracked."""
        if self.track_running_stats:
            with it.no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        """Running statistics reset; weight 1, bias 0."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # A checkpoint from before num_batches_tracked existed (version < 2, or unknown)
        # loads with the count it has now, as in PyTorch.
        version = local_metadata.get("version", None)
        key = prefix + "num_batches_tracked"
        if (version is None or version < 2) and self.num_batches_tracked is not None and \
                key not in state_dict:
            state_dict[key] = self.num_batches_tracked
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)


class _BatchNorm(_NormBase):
    """Batch normalization over every dim but the channels (dim 1)."""

    def forward(self, input):
        self._check_input_dim(input)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with it.no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:       # a cumulative average of every batch so far
                momentum = 1.0 / float(self.num_batches_tracked)
        # Batch statistics in training, and in eval when there are no running statistics;
        # the running statistics are updated only when tracked, in training.
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None,
                            self.running_var if track else None, self.weight, self.bias,
                            use_batch, momentum, self.eps)


def _dim_error(input, expected):
    return ValueError(f"expected {expected} input (got {input.ndim}D input)")


class BatchNorm1d(_BatchNorm):
    """Batch normalization of ``(N, C)`` or ``(N, C, L)`` input, per channel ``C``.

    ``BatchNorm1d(num_features, eps=1e-05, momentum=0.1, affine=True,
    track_running_stats=True, device=None, dtype=None, *, bias=True)``; ``momentum=None``
    keeps a cumulative average of all batches."""

    def _check_input_dim(self, input):
        if input.ndim not in (2, 3):
            raise _dim_error(input, "2D or 3D")


class BatchNorm2d(_BatchNorm):
    """Batch normalization of ``(N, C, H, W)`` input, per channel ``C`` (see
    :class:`BatchNorm1d` for the arguments)."""

    def _check_input_dim(self, input):
        if input.ndim != 4:
            raise _dim_error(input, "4D")


class BatchNorm3d(_BatchNorm):
    """Batch normalization of ``(N, C, D, H, W)`` input, per channel ``C`` (see
    :class:`BatchNorm1d` for the arguments)."""

    def _check_input_dim(self, input):
        if input.ndim != 5:
            raise _dim_error(input, "5D")


class _InstanceNorm(_NormBase):
    """Instance normalization: each channel of each sample over its own spatial dims. No
    affine parameters and no running statistics unless asked for; unbatched input works."""

    _no_batch_dim = None        # the ndim of an unbatched input

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def _check_input_dim(self, input):
        nd = self._no_batch_dim
        if input.ndim not in (nd, nd + 1):
            raise _dim_error(input, f"{nd}D or {nd + 1}D")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # Checkpoints from before PyTorch 0.4 hold running statistics that an instance norm
        # without track_running_stats has no use for: refused, naming the keys.
        if local_metadata.get("version", None) is None and not self.track_running_stats:
            keys = [prefix + name for name in ("running_mean", "running_var")
                    if prefix + name in state_dict]
            if keys:
                cls = type(self).__name__
                error_msgs.append(
                    f"Unexpected running stats buffer(s) {' and '.join(map(repr, keys))} for "
                    f"{cls} with track_running_stats=False. A checkpoint saved before PyTorch "
                    f"0.4.0 may hold them because {cls} did not default to "
                    f"track_running_stats=False then: remove these keys from the state_dict, "
                    f"or build {cls} with track_running_stats=True if the running statistics "
                    f"are needed.")
                for key in keys:
                    state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def forward(self, input):
        self._check_input_dim(input)
        feature_dim = input.ndim - self._no_batch_dim
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match "
                                 f"num_features ({self.num_features}), but got: "
                                 f"{input.shape[feature_dim]}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. "
                          f"You can silence this warning by not passing in num_features, "
                          f"which is not used because affine=False", stacklevel=2)
        unbatched = input.ndim == self._no_batch_dim
        x = input.unsqueeze(0) if unbatched else input
        y = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of ``(N, C, L)`` or unbatched ``(C, L)`` input.

    ``InstanceNorm1d(num_features, eps=1e-05, momentum=0.1, affine=False,
    track_running_stats=False, device=None, dtype=None, *, bias=True)``."""

    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of ``(N, C, H, W)`` or unbatched ``(C, H, W)`` input (see
    :class:`InstanceNorm1d` for the arguments)."""

    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)`` input
    (see :class:`InstanceNorm1d` for the arguments)."""

    _no_batch_dim = 4


class _LazyNormBase(LazyModuleMixin, _NormBase):
    """A batch or instance norm whose ``num_features`` comes from its first input: weight,
    bias and running statistics stay uninitialized until then (or until a state_dict is
    loaded), and the module then becomes its ``cls_to_become``."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        # built without parameters or statistics, which are then made lazy
        super().__init__(0, eps, momentum, False, False, device, dtype, bias=False)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = it.tensor(0, device=device)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def _feature_dim(self, input):
        return 1

    def initialize_parameters(self, input):
        """Materializes weight, bias and the running statistics with the input's channel
        count, and initializes them."""
        if self.has_uninitialized_params():
            self._check_input_dim(input)
            self.num_features = input.shape[self._feature_dim(input)]
            with it.no_grad():
                for t in (self.weight, self.bias, self.running_mean, self.running_var):
                    if t is not None:
                        t.materialize((self.num_features,))
            self.reset_parameters()


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d):
    """:class:`BatchNorm1d` with ``num_features`` taken from ``input.shape[1]``."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d):
    """:class:`BatchNorm2d` with ``num_features`` taken from ``input.shape[1]``."""

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormBase, BatchNorm3d):
    """:class:`BatchNorm3d` with ``num_features`` taken from ``input.shape[1]``."""

    cls_to_become = BatchNorm3d


class _LazyInstanceNorm(_LazyNormBase):
    """The channels are dim 1 of a batched input and dim 0 of an unbatched one. The
    defaults are PyTorch's, i.e. batch norm's (``affine=True, track_running_stats=True``;
    PyTorch's documentation says False, its code does this), so state_dicts match."""

    def _feature_dim(self, input):
        return input.ndim - self._no_batch_dim


class LazyInstanceNorm1d(_LazyInstanceNorm, InstanceNorm1d):
    """:class:`InstanceNorm1d` with ``num_features`` taken from the input's channels."""

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNorm, InstanceNorm2d):
    """:class:`InstanceNorm2d` with ``num_features`` taken from the input's channels."""

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNorm, InstanceNorm3d):
    """:class:`InstanceNorm3d` with ``num_features`` taken from the input's channels."""

    cls_to_become = InstanceNorm3d


def _affine(module, shape, affine, bias, dtype, device):
    """Registers ``weight`` and ``bias`` (or None) of ``shape`` on ``module`` when ``affine``,
    else both as None: PyTorch's layout for the per-element affine of a norm layer."""
    if affine:
        module.weight = Parameter(it.empty(shape, dtype=dtype, device=device))
        if bias:
            module.bias = Parameter(it.empty(shape, dtype=dtype, device=device))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def _reset_affine(module):
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class LayerNorm(Module):
    """Normalizes over the trailing ``normalized_shape`` dims, then scales and shifts
    elementwise: ``weight`` (ones) and ``bias`` (zeros) of that shape when
    ``elementwise_affine`` (``bias=False`` leaves the shift out)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _shape_arg(normalized_shape, "LayerNorm")
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine(self, self.normalized_shape, elementwise_affine, bias, dtype, device)
        self.reset_parameters()

    def reset_parameters(self):
        """Weight 1, bias 0."""
        _reset_affine(self)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Splits the ``num_channels`` channels into ``num_groups`` groups and normalizes each
    group of each sample; then per-channel ``weight`` (ones) and ``bias`` (zeros) when
    ``affine``."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if isinstance(num_groups, bool) or not isinstance(num_groups, numbers.Integral) or \
                num_groups <= 0:
            raise ValueError(f"GroupNorm: num_groups must be a positive int, got {num_groups!r}")
        _count(num_channels, "num_channels", "GroupNorm")
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _affine(self, (num_channels,), affine, bias, dtype, device)
        self.reset_parameters()

    def reset_parameters(self):
        """Weight 1, bias 0."""
        _reset_affine(self)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """Divides by the root mean square over the trailing ``normalized_shape`` dims (``eps``
    None: the dtype's machine epsilon), then scales by ``weight`` (ones) when
    ``elementwise_affine``."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        self.normalized_shape = _shape_arg(normalized_shape, "RMSNorm")
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(it.empty(self.normalized_shape, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Weight 1."""
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class LocalResponseNorm(Module):
    """Divides each element by ``(k + alpha * mean of squares over size neighbouring
    channels) ** beta`` (input ``(N, C, *)``, at least 3-D)."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


def _cross_map_lrn2d(input, size, alpha, beta, k):
    """``CrossMapLRN2d``'s normalization of an (N, C, H, W) input, as PyTorch computes it:
    each element divided by ``(k + alpha / size * s) ** beta``, ``s`` the sum of squares
    over the channels within ``(size - 1) // 2`` of its own -- and, a quirk of PyTorch's
    running-sum kernel that is kept so that outputs agree, over channel 0 as well for every
    channel further than that from it. The gradient is the true one of this function
    (PyTorch's hand-written backward is not: its window is off by one channel)."""
    if not isinstance(input, it.Tensor):
        raise TypeError(f"CrossMapLRN2d: expected a Tensor input, got {type(input).__name__}")
    if input.ndim != 4:
        raise it.ShapeError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D "
                            f"instead (input of size {list(input.shape)})")
    if not input.dtype.is_floating_point:
        raise it.DTypeError(f"CrossMapLRN2d: expected a floating-point input, got dtype "
                            f"{input.dtype}")
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size <= 0:
        raise ValueError(f"CrossMapLRN2d: size must be a positive integer, got {size!r}")
    nb, c, h, w = tuple(input.shape)
    half = (size - 1) // 2
    sq = input * input
    padded = sq
    if half:
        zeros = it.zeros((nb, half, h, w), dtype=input.dtype, device=input.device)
        padded = it.concat([zeros, sq, zeros], axis=1)
    acc = padded[:, 0:c]
    for j in range(1, 2 * half + 1):        # one slice per channel offset of the window
        acc = acc + padded[:, j:j + c]
    if c > half + 1:                        # channel 0 for the channels past its window
        acc = acc + it.concat([it.zeros((nb, half + 1, h, w), dtype=input.dtype,
                                        device=input.device),
                               it.broadcast_to(sq[:, 0:1], (nb, c - half - 1, h, w))], axis=1)
    return input * (acc * (alpha / size) + k) ** -beta


class CrossMapLRN2d(Module):
    """Local response normalization across the channels of (N, C, H, W) inputs, Lua
    Torch's legacy form (see ``_cross_map_lrn2d``; :class:`LocalResponseNorm` is the
    usual one): ``size`` channels, ``alpha``, ``beta`` and ``k`` as there."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return _cross_map_lrn2d(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
