"""Sampling by index: ``multinomial`` (exported by ``interop.random``; here so that
``Tensor.multinomial`` can use it from below the tensor class)."""

from .. import dtypes as _dt
from .._generator import default_generator
from ..autograd.variable import Variable

__all__ = ["multinomial"]


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices drawn from the categories of each row of ``input`` (non-negative weights,
    not necessarily summing to 1), as ``torch.multinomial``: a ``(num_samples,)`` tensor
    for a 1-d input, ``(rows, num_samples)`` for a 2-d one (int64).

    With ``replacement`` each draw is independent (inverse CDF); without, the draws are
    distinct categories, drawn one after the other in proportion to the remaining
    weights (exponential races: the ``num_samples`` smallest ``E_i / w_i``, ``E_i`` standard
    exponential). The stream differs from PyTorch's; the distribution is the same.
    """
    p = input
    if not isinstance(p, Variable):
        raise TypeError(f"multinomial: expected a Tensor of weights, got {type(p).__name__}")
    be = p._be
    xp = be.xp
    dt = be.dtype_of(p._data)
    if not dt.is_floating_point:
        raise TypeError(f"multinomial: only floating point weights are supported, got dtype {dt}")
    if p._data.ndim not in (1, 2):
        raise ValueError(f"multinomial: weights must be 1-d or 2-d, got shape "
                         f"{tuple(p._data.shape)}")
    num_samples = num_samples.__index__()
    n = p._data.shape[-1]
    if num_samples <= 0:
        raise ValueError(f"multinomial: cannot sample num_samples <= 0 samples (got {num_samples})")
    if not replacement and num_samples > n:
        raise ValueError(f"multinomial: cannot sample {num_samples} > {n} categories without "
                         f"replacement")
    w = p._data if p._data.ndim == 2 else xp.reshape(p._data, (1, n))
    if not bool(xp.all(xp.isfinite(w))) or bool(xp.any(w < 0)):
        raise ValueError("multinomial: probability tensor contains either inf, nan or element < 0")
    if n == 0 or bool(xp.any(xp.sum(w, axis=-1) <= 0)):
        raise ValueError("multinomial: invalid distribution: the weights of a row sum to 0")
    rows = w.shape[0]
    draw_dt = _dt.float64 if _dt.float64 in be.to_native else be.default_float
    w = xp.astype(w, be.native_dtype(draw_dt))
    src = (generator or default_generator).source(be)
    itype = be.native_dtype(be.default_int)     # int64, or int32 where the backend lacks it
    if replacement:
        cdf = xp.cumulative_sum(w, axis=-1)
        cdf = cdf / cdf[:, n - 1:]                    # the last entry is exactly 1
        u = src.random((rows, num_samples), draw_dt)
        below = xp.expand_dims(cdf, axis=1) <= xp.expand_dims(u, axis=2)   # (rows, k, n)
        idx = xp.sum(xp.astype(below, itype), axis=-1)
    else:
        if bool(xp.any(xp.sum(xp.astype(w > 0, itype), axis=-1) < num_samples)):
            raise ValueError(f"multinomial: invalid distribution (with replacement=False, not "
                             f"enough categories of nonzero weight to draw {num_samples})")
        u = src.random((rows, n), draw_dt)
        e = -xp.log1p(-u)                             # standard exponential (u < 1)
        pos = w > 0
        keys = xp.where(pos, e / xp.where(pos, w, xp.ones_like(w)), xp.full_like(w, float("inf")))
        idx = xp.argsort(keys, axis=-1, stable=True)[:, :num_samples]
        idx = xp.astype(idx, itype)
    if p._data.ndim == 1:
        idx = xp.reshape(idx, (num_samples,))
    return p._make(idx, be, None)


class SamplingMethods:
    """Tensor methods that draw random indices."""

    __slots__ = ()

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        return multinomial(self, num_samples, replacement, generator=generator)
