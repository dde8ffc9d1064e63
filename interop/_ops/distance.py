"""``cdist``: the p-norm distance between every row of one batch of row vectors and every
row of another, as ``torch.cdist``, differentiable.

Built from differentiable ops, with PyTorch's conventions where a derivative is undefined:
at a zero distance (and, for ``p < 1``, at a zero difference) the gradient is 0, not NaN;
``p = 0`` counts the differing coordinates (its gradient is 0); for ``p = inf`` every
coordinate that attains the maximum gets the full gradient (PyTorch's rule, not an even
split). ``p = 2`` computes through matrix products (``|a|^2 + |b|^2 - 2 a.b``) where
PyTorch does (``compute_mode``), else from the differences.
"""

import math

from .binary import multiply
from .._errors import DTypeError, ShapeError
from .matmul import matmul
from .reduce import amax, sum
from .select import clamp, where
from .views import matrix_transpose, unsqueeze
from ..autograd.variable import Variable

__all__ = ["cdist"]

_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
          "donot_use_mm_for_euclid_dist")


def _safe_root(s, p):
    """``s ** (1/p)`` whose gradient is 0 where ``s`` is 0 (not inf * 0)."""
    zero = s == 0
    r = where(zero, 1.0, s) ** (1.0 / p)
    return where(zero, 0.0, r)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Distances between the rows of ``x1`` (``(..., P, M)``) and of ``x2`` (``(..., R, M)``):
    a ``(..., P, R)`` tensor, batch dims broadcast. ``p`` >= 0, ``math.inf`` for the max
    norm."""
    for name, v in (("x1", x1), ("x2", x2)):
        if not isinstance(v, Variable):
            raise TypeError(f"cdist: expected a Tensor for {name}, got {type(v).__name__}")
        if v._data.ndim < 2:
            raise ShapeError(f"cdist only supports at least 2-d tensors, got {name} of shape "
                             f"{tuple(v._data.shape)}")
        if not v.dtype.is_floating_point:
            raise DTypeError(f"cdist only supports floating-point dtypes, got {name} of dtype "
                             f"{v.dtype}")
    m1, m2 = x1._data.shape[-1], x2._data.shape[-1]
    if m1 != m2:
        raise ShapeError(f"cdist: x1 and x2 must have the same number of columns, got shapes "
                         f"{tuple(x1._data.shape)} and {tuple(x2._data.shape)}")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not p >= 0:
        raise ValueError(f"cdist only supports non-negative p values, got p={p!r}")
    if compute_mode not in _MODES:
        raise ValueError(f"cdist: compute_mode must be one of {_MODES}, got {compute_mode!r}")
    if x1.dtype is not x2.dtype:
        raise DTypeError(f"cdist: expected x1 and x2 of the same dtype, got {x1.dtype} and "
                         f"{x2.dtype} (as in PyTorch)")
    P, R = x1._data.shape[-2], x2._data.shape[-2]
    use_mm = p == 2 and m1 > 0 and (
        compute_mode == "use_mm_for_euclid_dist" or
        (compute_mode == _MODES[0] and (P > 25 or R > 25)))
    if use_mm:
        sq1 = sum(x1 * x1, axis=-1, keepdims=True)                   # (..., P, 1)
        sq2 = matrix_transpose(sum(x2 * x2, axis=-1, keepdims=True))  # (..., 1, R)
        d2 = clamp(sq1 + sq2 - 2 * matmul(x1, matrix_transpose(x2)), min=0.0)
        return _safe_root(d2, 2)
    diff = unsqueeze(x1, -2) - unsqueeze(x2, -3)                      # (..., P, R, M)
    a = diff.abs()
    if p == 0:
        # the count of differing coordinates; the term that follows is 0 with gradient 0,
        # so the result joins the graph as PyTorch's does
        zero_grad = where(a < math.inf, multiply(diff, 0.0), 0.0)
        return sum(where(a != 0, 1.0, 0.0) + zero_grad, axis=-1)
    if p == math.inf:
        if m1 == 0:
            return sum(a, axis=-1)
        top = amax(a.detach(), axis=-1, keepdims=True)
        # the max, with gradient 1 to every coordinate that attains it (a - a.detach() is 0)
        ties = where((a == top) & (a < math.inf), a - a.detach(), 0.0)
        return sum(ties, axis=-1) + amax(a.detach(), axis=-1)
    if p == 1:
        return sum(a, axis=-1)
    if p == 2:
        return _safe_root(sum(diff * diff, axis=-1), 2)
    nz = a == 0
    ap = where(nz, 0.0, where(nz, 1.0, a) ** p)
    return _safe_root(sum(ap, axis=-1), p)
