"""Linear layers: ``Identity``, ``Linear``, ``Bilinear`` and ``LazyLinear``, with PyTorch's
parameter names, shapes, default initialization and repr."""

import math
import operator

import interop as it
from .module import Module
from .. import init
from .._lazy import LazyModuleMixin, UninitializedParameter
from ..functional import _linear as F
from ..parameter import Parameter

__all__ = ["Identity", "Linear", "Bilinear", "LazyLinear"]


class Identity(Module):
    """Returns its input; takes (and ignores) any constructor arguments, as PyTorch's."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


def _weight_and_bias(module, shape, bias, device, dtype):
    """``module.weight`` of ``shape`` and, where ``bias``, ``module.bias`` of ``shape[0]``
    (else a ``None`` bias registered, as PyTorch's), then the module's own initialization."""
    module.weight = Parameter(it.empty(shape, device=device, dtype=dtype))
    if bias:
        module.bias = Parameter(it.empty(shape[0], device=device, dtype=dtype))
    else:
        module.register_parameter("bias", None)
    module.reset_parameters()


def _features(value, name, cls):
    try:
        n = operator.index(value)
    except TypeError:
        n = -1
    if n < 0 or isinstance(value, bool):
        raise ValueError(f"{cls}: {name} must be a non-negative int, got {value!r}")
    return n


class Linear(Module):
    """``y = x @ weight.T + bias``: ``weight`` (out_features, in_features) and ``bias``
    (out_features) start as PyTorch's: kaiming_uniform_(a=sqrt(5)) and
    U(-1/sqrt(in_features), 1/sqrt(in_features))."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = _features(in_features, "in_features", "Linear")
        self.out_features = _features(out_features, "out_features", "Linear")
        _weight_and_bias(self, (self.out_features, self.in_features), bias, device, dtype)

    def reset_parameters(self):
        init._layer_default_(self.weight, self.bias)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """``y = x1^T A x2 + b`` per output feature: ``weight`` (out_features, in1_features,
    in2_features) and ``bias`` (out_features), both U(-1/sqrt(in1_features), ..)."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        self.in1_features = _features(in1_features, "in1_features", "Bilinear")
        self.in2_features = _features(in2_features, "in2_features", "Bilinear")
        self.out_features = _features(out_features, "out_features", "Bilinear")
        _weight_and_bias(self, (self.out_features, self.in1_features, self.in2_features), bias,
                         device, dtype)

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1]) if self.weight.shape[1] else 0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class LazyLinear(LazyModuleMixin, Linear):
    """A :class:`Linear` whose ``in_features`` is taken from the last dim of its first input;
    it then becomes a ``Linear`` (initialized as one)."""

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        # a 0x0 Linear (reset_parameters skips it), whose parameters are then made lazy
        super().__init__(0, 0, False, device=device, dtype=dtype)
        self.out_features = _features(out_features, "out_features", "LazyLinear")
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        """Materializes ``weight`` as (out_features, input.shape[-1]) and initializes it."""
        if self.has_uninitialized_params():
            with it.no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()


class NonDynamicallyQuantizableLinear(Linear):
    """A :class:`Linear` under the name and module path PyTorch gives
    ``MultiheadAttention.out_proj`` (``torch.nn.modules.linear``), so the repr reads the same
    and a program that lists it for ``serialization.safe_globals`` finds it here."""
