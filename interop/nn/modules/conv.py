"""Convolution layers: ``Conv1d/2d/3d``, ``ConvTranspose1d/2d/3d`` (and their ``Lazy``
forms, which take ``in_channels`` from the first input), and the im2col pair
``Unfold``/``Fold``, with PyTorch's constructor arguments, attributes, parameter names and
shapes, default initialization and repr."""

import operator

import interop as it
from .module import Module
from .. import init
from .._lazy import LazyModuleMixin, UninitializedParameter
from ..functional import _conv as F
from ..functional import _padding
from ..functional._checks import ntuple
from ..parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
           "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
           "LazyConvTranspose3d", "Unfold", "Fold"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _count(value, name, cls):
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{cls}: {name} must be an int, got {value!r}") from None
    if v < 0:
        raise ValueError(f"{cls}: {name} must be non-negative, got {v}")
    return v


class _ConvNd(Module):
    """What every convolution layer shares: the options as PyTorch stores them, the weight
    (out_channels, in_channels / groups, *kernel_size) -- (in_channels, out_channels /
    groups, *kernel_size) when ``transposed`` -- and bias (out_channels), initialized as
    PyTorch's: weight kaiming_uniform_(a=sqrt(5)), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""

    _n = 0

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device=None,
                 dtype=None):
        super().__init__()
        cls = type(self).__name__
        n = self._n
        in_channels = _count(in_channels, "in_channels", cls)
        out_channels = _count(out_channels, "out_channels", cls)
        groups = operator.index(groups)
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError(f"in_channels must be divisible by groups (got in_channels="
                             f"{in_channels}, groups={groups})")
        if out_channels % groups != 0:
            raise ValueError(f"out_channels must be divisible by groups (got out_channels="
                             f"{out_channels}, groups={groups})")
        kernel_size = ntuple(kernel_size, n)
        stride = ntuple(stride, n)
        dilation = ntuple(dilation, n)
        for name, v in (("kernel_size", kernel_size), ("stride", stride), ("dilation", dilation)):
            if len(v) != n:
                raise ValueError(f"{cls}: {name} must be an int or a tuple of {n} ints, got {v}")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{{'same', 'valid'}}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        else:
            padding = ntuple(padding, n)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {set(_PADDING_MODES)}, but got "
                             f"padding_mode={padding_mode!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad's amounts (last dim first) for the non-zero padding modes: a list for the
        # padding strings, a tuple otherwise, as PyTorch keeps them
        if padding == "valid":
            pads = [(0, 0)] * n
        elif padding == "same":
            pads = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                    for k, d in zip(kernel_size, dilation)]
        else:
            pads = [(p, p) for p in padding]
        amounts = [v for lo, hi in reversed(pads) for v in (lo, hi)]
        self._reversed_padding_repeated_twice = (amounts if isinstance(padding, str)
                                                 else tuple(amounts))
        shape = ((in_channels, out_channels // groups) if transposed
                 else (out_channels, in_channels // groups)) + kernel_size
        self.weight = Parameter(it.empty(shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(it.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init._layer_default_(self.weight, self.bias)

    def extra_repr(self):
        n = self._n
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    """A convolution layer; non-zero ``padding_mode``s pad with ``F.pad`` first."""

    _fn = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, (0,) * self._n, groups, bias, padding_mode, device, dtype)

    def forward(self, input):
        if self.padding_mode != "zeros":
            input = _padding.pad(input, self._reversed_padding_repeated_twice,
                                 mode=self.padding_mode)
            return type(self)._fn(input, self.weight, self.bias, self.stride, 0, self.dilation,
                                  self.groups)
        return type(self)._fn(input, self.weight, self.bias, self.stride, self.padding,
                              self.dilation, self.groups)


class Conv1d(_Conv):
    """1-d convolution over (N, C_in, L) or (C_in, L) inputs; weight (C_out, C_in / groups,
    k), bias (C_out)."""
    _n = 1
    _fn = F.conv1d


class Conv2d(_Conv):
    """2-d convolution over (N, C_in, H, W) or (C_in, H, W) inputs; weight (C_out,
    C_in / groups, kH, kW), bias (C_out)."""
    _n = 2
    _fn = F.conv2d


class Conv3d(_Conv):
    """3-d convolution over (N, C_in, D, H, W) or (C_in, D, H, W) inputs; weight (C_out,
    C_in / groups, kD, kH, kW), bias (C_out)."""
    _n = 3
    _fn = F.conv3d


class _ConvTranspose(_ConvNd):
    """A transposed convolution layer (zero padding only, as in PyTorch); ``forward`` takes
    an ``output_size`` that picks the output_padding."""

    _fn = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):
            raise TypeError(f"{type(self).__name__}: padding must be an int or a tuple of ints, "
                            f"got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         True, ntuple(output_padding, self._n), groups, bias, padding_mode,
                         device, dtype)

    def _output_padding(self, input, output_size):
        """The output_padding that gives ``output_size`` (the spatial size, or the full shape
        of the output); an error naming the reachable sizes when none does."""
        if output_size is None:
            return self.output_padding
        n = self._n
        lead = 2 if input.ndim == n + 2 else 1
        size = [operator.index(v) for v in output_size]
        if len(size) == n + lead:
            size = size[lead:]
        if len(size) != n:
            raise ValueError(f"ConvTranspose{n}D: for {input.ndim}D input, output_size must have "
                             f"{n} or {n + lead} elements (got {len(output_size)})")
        lows = [(input.shape[lead + i] - 1) * self.stride[i] - 2 * self.padding[i]
                + self.dilation[i] * (self.kernel_size[i] - 1) + 1 for i in range(n)]
        highs = [lo + self.stride[i] - 1 for i, lo in enumerate(lows)]
        if any(not lo <= s <= hi for s, lo, hi in zip(size, lows, highs)):
            raise ValueError(f"requested an output size of {tuple(output_size)}, but valid sizes "
                             f"range from {lows} to {highs} (for an input of "
                             f"{tuple(input.shape[lead:])})")
        return tuple(s - lo for s, lo in zip(size, lows))

    def forward(self, input, output_size=None):
        return type(self)._fn(input, self.weight, self.bias, self.stride, self.padding,
                              self._output_padding(input, output_size), self.groups,
                              self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """1-d transposed convolution; weight (C_in, C_out / groups, k), bias (C_out)."""
    _n = 1
    _fn = F.conv_transpose1d


class ConvTranspose2d(_ConvTranspose):
    """2-d transposed convolution; weight (C_in, C_out / groups, kH, kW), bias (C_out)."""
    _n = 2
    _fn = F.conv_transpose2d


class ConvTranspose3d(_ConvTranspose):
    """3-d transposed convolution; weight (C_in, C_out / groups, kD, kH, kW), bias (C_out)."""
    _n = 3
    _fn = F.conv_transpose3d


class _LazyConvMixin(LazyModuleMixin):
    """A convolution whose ``in_channels`` comes from its first input (dim 1 of a batched
    input, dim 0 of an unbatched one): built as a 0-channel layer whose weight and bias are
    then made lazy; the first call (or loading a state_dict) shapes them, initializes them
    as the layer's own, and the module becomes its ``cls_to_become``."""

    def _make_lazy(self, out_channels, bias, device, dtype):
        cls = type(self).__name__
        self.out_channels = _count(out_channels, "out_channels", cls)
        if self.out_channels % self.groups != 0:
            raise ValueError(f"out_channels must be divisible by groups (got out_channels="
                             f"{self.out_channels}, groups={self.groups})")
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        """Materializes the weight with the input's channel count, and the bias, and
        initializes them."""
        if not self.has_uninitialized_params():
            return
        n = self._n
        name = type(self).__name__
        if input.ndim not in (n + 1, n + 2):
            raise it.ShapeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to "
                                f"{name}, but got input of size: {list(input.shape)}")
        channels = input.shape[1 if input.ndim == n + 2 else 0]
        if channels % self.groups != 0:
            raise ValueError(f"{name}: in_channels must be divisible by groups (got "
                             f"in_channels={channels} from the input, groups={self.groups})")
        self.in_channels = channels
        g = self.groups
        shape = ((channels, self.out_channels // g) if self.transposed
                 else (self.out_channels, channels // g)) + self.kernel_size
        with it.no_grad():
            self.weight.materialize(shape)
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()


class _LazyConv(_LazyConvMixin, _Conv):
    """A lazy convolution: ``Conv``'s arguments without ``in_channels``."""

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        # a 0-channel convolution without bias, whose parameters are then made lazy
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False,
                         padding_mode, device, dtype)
        self._make_lazy(out_channels, bias, device, dtype)


class LazyConv1d(_LazyConv, Conv1d):
    """:class:`Conv1d` with ``in_channels`` taken from the first input."""

    cls_to_become = Conv1d


class LazyConv2d(_LazyConv, Conv2d):
    """:class:`Conv2d` with ``in_channels`` taken from the first input."""

    cls_to_become = Conv2d


class LazyConv3d(_LazyConv, Conv3d):
    """:class:`Conv3d` with ``in_channels`` taken from the first input."""

    cls_to_become = Conv3d


class _LazyConvTranspose(_LazyConvMixin, _ConvTranspose):
    """A lazy transposed convolution: ``ConvTranspose``'s arguments without
    ``in_channels``."""

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                 dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False,
                         dilation, padding_mode, device, dtype)
        self._make_lazy(out_channels, bias, device, dtype)


class LazyConvTranspose1d(_LazyConvTranspose, ConvTranspose1d):
    """:class:`ConvTranspose1d` with ``in_channels`` taken from the first input."""

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTranspose, ConvTranspose2d):
    """:class:`ConvTranspose2d` with ``in_channels`` taken from the first input."""

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTranspose, ConvTranspose3d):
    """:class:`ConvTranspose3d` with ``in_channels`` taken from the first input."""

    cls_to_become = ConvTranspose3d


class Unfold(Module):
    """im2col: the sliding blocks of an (N, C, H, W) input as (N, C * kH * kW, L) columns."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """col2im: (N, C * kH * kW, L) columns summed back into an (N, C, *output_size) image."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
