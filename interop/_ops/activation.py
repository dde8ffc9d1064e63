"""Activations that are one primitive over a backend kernel each: ``gelu`` and ``silu``
(``sigmoid`` is a unary op, in ``unary``). ``interop.nn.functional`` checks its arguments
and calls these.

Forward runs the backend's kernel (``gelu``, ``silu``: one pass over memory where the cpu
backend compiles them, the standard-only reference elsewhere) and saves only the input;
backward runs the matching backward kernel on the raw arrays (``gelu_backward``,
``silu_backward``: PyTorch's design, which recomputes the cheap derivative instead of keeping
a second array alive). Under ``create_graph=True`` the derivative is composed of recorded
ops (the normal CDF and the sigmoid are primitives with their own gradients), so gradients
of gradients are exact to any order.
"""

import math

from .._args import real_only
from .._errors import ArgumentError, DTypeError
from ..autograd.graph import Node
from ..autograd.grad_mode import state as grad_state
from ..autograd.variable import Variable, record
from .special import ndtr
from .unary import exp, sigmoid

__all__ = ["gelu", "silu"]

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# the tanh form as a sigmoid: 0.5 (1 + tanh(z)) = sigmoid(2 z), 2 z = x (C1 + C3 x^2)
_C1 = 2.0 * math.sqrt(2.0 / math.pi)
_C3 = _C1 * 0.044715


def _floating(x, op):
    if not isinstance(x, Variable):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    real_only(x, op)
    dt = x._be.dtype_of(x._data)
    if not dt.is_floating_point:
        raise DTypeError(f"{op}: expected a floating point tensor, got dtype {dt}")
    return x


def _activation(x, data, cls, **fields):
    """The output tensor of a one-input activation over ``data``, recorded as ``cls`` (which
    saves the input) where ``x`` requires grad."""
    if x._node is None or not grad_state.enabled:
        return x._make(data, x._be, None)
    node = record(cls, x._be, (x,), (x,), (x._data,))
    for name, value in fields.items():
        setattr(node, name, value)
    return x._make(data, x._be, node)


class GeluBackward(Node):
    """``g`` times gelu's derivative: the backend's ``gelu_backward`` kernel on raw arrays;
    under ``create_graph`` ``Phi(x) + x phi(x)`` (or the tanh form's derivative) from
    recorded ops."""
    __slots__ = ("approximate",)
    saves = ("x",)

    def backward(self, xp, g, s):
        x = s.x
        if xp is self.be.ns:
            return xp.gelu_backward(g, x, self.approximate),
        if self.approximate == "tanh":
            q = x * x
            sg = sigmoid(x * (q * _C3 + _C1))
            return g * (sg + x * (sg * (1 - sg)) * (q * (3 * _C3) + _C1)),
        return g * (ndtr(x) + x * (exp(x * x * -0.5) * _INV_SQRT_2PI)),


def gelu(x, approximate="none"):
    """``x * Phi(x)`` (Phi the standard normal CDF); ``approximate='tanh'`` gives
    ``0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))``. PyTorch's
    ``torch.nn.functional.gelu``, as one primitive."""
    _floating(x, "gelu")
    if approximate != "none" and approximate != "tanh":
        raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _activation(x, x._be.gelu(x._data, approximate), GeluBackward,
                       approximate=approximate)


class SiluBackward(Node):
    """``g s (1 + x (1 - s))``, ``s = sigmoid(x)``: the backend's ``silu_backward`` kernel
    on raw arrays, recorded ops under ``create_graph``."""
    __slots__ = ()
    saves = ("x",)

    def backward(self, xp, g, s):
        x = s.x
        if xp is self.be.ns:
            return xp.silu_backward(g, x),
        sg = sigmoid(x)
        return g * (sg * (x * (1 - sg) + 1)),


def silu(x):
    """``x * sigmoid(x)`` (swish; PyTorch's ``torch.nn.functional.silu``), one primitive."""
    _floating(x, "silu")
    return _activation(x, x._be.silu(x._data), SiluBackward)
