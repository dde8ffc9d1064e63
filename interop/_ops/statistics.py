"""PyTorch's statistics helpers: ``var_mean``, ``std_mean``, ``bincount`` and ``histc``.

``var_mean``/``std_mean`` follow PyTorch's correction semantics (``correction=1`` by
default, Bessel's; ``unbiased=False`` is ``correction=0``) and are differentiable.
``bincount`` counts (int64), or sums ``weights`` (float32 weights in float32, others in
float64, as PyTorch); its gradient
reaches the weights (PyTorch has none). ``histc`` counts in equal-width bins, in the
input's dtype (no gradient, as PyTorch).
"""

import math

from .. import dtypes as _dt
from .cast import astype
from .._errors import DTypeError, ShapeError
from .indexing import index_add
from .reduce import mean, std, var
from ..autograd.variable import Variable

__all__ = ["var_mean", "std_mean", "bincount", "histc", "StatisticsMethods"]


def _correction(op, dim, unbiased, correction):
    """(dim, correction) from PyTorch's overloads: ``(x, dim, unbiased, keepdim)``,
    ``(x, unbiased)`` and ``(x, dim, *, correction=)``."""
    if isinstance(dim, bool):          # var_mean(x, True): the unbiased overload
        if unbiased is not None:
            raise TypeError(f"{op}: got unbiased={dim!r} positionally and unbiased={unbiased!r}")
        dim, unbiased = None, dim
    if unbiased is not None:
        if correction is not None:
            raise TypeError(f"{op}: give unbiased or correction, not both (got unbiased="
                            f"{unbiased!r}, correction={correction!r})")
        if not isinstance(unbiased, bool):
            raise TypeError(f"{op}: unbiased must be a bool, got {unbiased!r}")
        return dim, 1 if unbiased else 0
    return dim, 1 if correction is None else correction


def _floating(x, op):
    if not isinstance(x, Variable):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    dt = x.dtype
    if not (dt.is_floating_point or dt.is_complex):
        raise DTypeError(f"{op}: only floating point and complex dtypes are supported (as in "
                         f"PyTorch), got {dt}; cast first")


def var_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var(x), mean(x))`` over ``dim`` (None: all), as ``torch.var_mean``: the variance
    divides by ``N - correction`` (default 1)."""
    _floating(x, "var_mean")
    dim, c = _correction("var_mean", dim, unbiased, correction)
    return (var(x, dim, correction=c, keepdim=keepdim), mean(x, dim, keepdim=keepdim))


def std_mean(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std(x), mean(x))`` over ``dim`` (None: all), as ``torch.std_mean``: the standard
    deviation of the variance that divides by ``N - correction`` (default 1)."""
    _floating(x, "std_mean")
    dim, c = _correction("std_mean", dim, unbiased, correction)
    return (std(x, dim, correction=c, keepdim=keepdim), mean(x, dim, keepdim=keepdim))


def _integral_1d(x, op):
    if not isinstance(x, Variable):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    dt = x.dtype
    if dt.kind not in "iu":
        raise DTypeError(f"{op}: expected an integer tensor, got {dt} (as in PyTorch)")
    if x._data.ndim != 1:
        raise ShapeError(f"{op}: only supports 1-d non-negative integral inputs, got shape "
                         f"{tuple(x._data.shape)}")


def bincount(input, weights=None, minlength=0):
    """How often each value ``0..max(input)`` occurs in the 1-d non-negative integer
    ``input`` (at least ``minlength`` bins), as int64; with ``weights`` (same length), the
    sum of the weights at each value instead: float32 for float32 weights, else float64
    (PyTorch's dtypes)."""
    _integral_1d(input, "bincount")
    if isinstance(minlength, bool) or not isinstance(minlength, int) or minlength < 0:
        raise ValueError(f"bincount: minlength must be an int >= 0, got {minlength!r}")
    be = input._be
    xp = be.xp
    d = input._data
    n = d.shape[0]
    if n and bool(xp.any(d < 0)):
        raise ValueError("bincount: only supports 1-d non-negative integral inputs; the input "
                         "holds negative values")
    size = max(int(xp.max(d)) + 1 if n else 0, minlength)
    idx = input._make(xp.astype(d, be.native_dtype(_dt.int64)), be, None)
    if weights is None:
        zeros = input._make(xp.zeros((size,), dtype=be.native_dtype(_dt.int64),
                                     **be.device_kwargs), be, None)
        ones = input._make(xp.ones((n,), dtype=be.native_dtype(_dt.int64), **be.device_kwargs),
                           be, None)
        return index_add(zeros, 0, idx, ones)
    if not isinstance(weights, Variable):
        raise TypeError(f"bincount: weights must be a Tensor, got {type(weights).__name__}")
    if tuple(weights._data.shape) != (n,):
        raise ShapeError(f"bincount: weights should be 1-d and have the same length as input "
                         f"({n}), got shape {tuple(weights._data.shape)}")
    if weights.dtype.is_complex:
        raise DTypeError("bincount: complex weights are not supported (as in PyTorch)")
    # float32 weights sum in float32; every other dtype in float64 (PyTorch's result dtypes)
    w = weights if weights.dtype in (_dt.float32, _dt.float64) else astype(weights, _dt.float64)
    zeros = input._make(xp.zeros((size,), dtype=w._data.dtype, **be.device_kwargs), be, None)
    return index_add(zeros, 0, idx, w)


def _finite_number(v, name):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"histc: {name} must be a number, got {type(v).__name__}")
    return float(v)


def histc(input, bins=100, min=0, max=0):
    """A histogram of ``input`` (any shape, floating point) in ``bins`` equal-width bins over
    ``[min, max]``; ``min == max`` (the default 0, 0) takes the data's range. Elements
    outside it (and NaNs) are not counted; ``max`` goes into the last bin. Counts are in
    the input's dtype, as PyTorch's."""
    if not isinstance(input, Variable):
        raise TypeError(f"histc: expected a Tensor, got {type(input).__name__}")
    dt = input.dtype
    if not dt.is_floating_point:
        raise DTypeError(f"histc: expected a floating point tensor, got {dt} (as in PyTorch)")
    if isinstance(bins, bool) or not isinstance(bins, int) or bins <= 0:
        raise ValueError(f"histc: bins must be an int > 0, got {bins!r}")
    lo, hi = _finite_number(min, "min"), _finite_number(max, "max")
    be = input._be
    xp = be.xp
    flat = xp.reshape(input._data, (-1,))
    if lo == hi and flat.shape[0]:
        lo, hi = float(xp.min(flat)), float(xp.max(flat))
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"histc: range of [{lo}, {hi}] is not finite")
    if lo > hi:
        raise ValueError(f"histc: max must be larger than min (got min={min}, max={max})")
    nd = flat.dtype
    # in range: [lo, hi] (False for NaN); outside elements go nowhere
    inside = (flat >= lo) & (flat <= hi)
    vals = flat[inside]
    # the bin, computed in the input's dtype as PyTorch's histc computes it (linear
    # interpolation, no search of the edges): max goes into the last bin
    itype = be.native_dtype(_dt.int64)
    pos = xp.astype(xp.floor((vals - lo) * bins / (hi - lo)), itype)
    pos = xp.clip(pos, 0, bins - 1)
    counts = be.add_at(xp.zeros((bins,), dtype=nd, **be.device_kwargs), (pos,),
                       xp.ones(pos.shape, dtype=nd, **be.device_kwargs))
    return input._make(counts, be, None)


class StatisticsMethods:
    """Tensor methods: ``bincount``, ``histc``."""

    __slots__ = ()

    def bincount(self, weights=None, minlength=0):
        return bincount(self, weights, minlength)

    def histc(self, bins=100, min=0, max=0):
        return histc(self, bins, min, max)
