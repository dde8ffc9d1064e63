"""Compiled optimizer updates of the cpu backend (numba, through ``_jit``): Adam's update of
one parameter in one pass over memory, weight decay (L2 or decoupled) and maximize included.

The reference, ``_fallbacks.adam_update_``, runs Adam's update as a dozen passes of the
standard's in-place operators over the parameter and its state, in blocks of rows that stay
in the cache. This kernel gives each element the same operations in the same order, each
rounded to the arrays' dtype as NumPy's passes round it, so its results are bit for bit the
reference's, the signs of zeros included (the tests compare the two on every run); only a
NaN's sign may differ (the compiler may turn ``-g + x`` into ``x - g``, and IEEE 754 leaves
the sign of a NaN result open):

* no fast-math: no fused multiply-add (``a * b + c`` stays two roundings), no reassociation;
* the scalars are rounded to the arrays' dtype before the loop, as NumPy rounds a Python
  float that meets a float32 array;
* ``max_exp_avg_sq``'s maximum is ``np.maximum``'s: NaN where either side is NaN, and the
  second operand where the two compare equal (+0 against -0).

The public function takes C-contiguous NumPy arrays of one dtype (float32 or float64) and
one shape and writes into ``param``, ``exp_avg``, ``exp_avg_sq`` and ``max_exp_avg_sq`` (the
backend's ``adam_update_`` decides which arrays come here; the gradient must not share memory
with what is written).
"""

import numpy as np

from ._jit import njit

__all__ = ["adam_update_"]


# No fastmath: contraction into FMA or reassociation would change the last bits. NumPy's
# error model: a division by 0 gives inf or NaN as NumPy's does (Python's would raise, and
# the check for it would keep the loop from vectorizing).
@njit(error_model="numpy")
def _adam(p, g, m, v, vmax, keep1, w1, keep2, w2, eps, scale, maximize, l2, weight_decay,
          decoupled, shrink):
    """One Adam update over the 1-d arrays, in place: per element, with the scalars in the
    arrays' dtype (``keep = (1 - w) / w``), the gradient ``-g`` where ``maximize``, plus
    ``weight_decay * p`` where ``l2``; ``p * shrink`` where ``decoupled``; then
    ``m = (m * keep1 + g) * w1``, ``v = (v * keep2 + g * g) * w2``, ``vmax = max(vmax, v)``
    (where vmax is not None), ``p = p - (m / (sqrt(vmax or v) + eps)) * scale``."""
    for i in range(p.size):
        pi = p[i]
        gi = -g[i] if maximize else g[i]
        if l2:
            gi = gi + weight_decay * pi
        if decoupled:
            pi = pi * shrink
        mi = (m[i] * keep1 + gi) * w1
        m[i] = mi
        vi = (v[i] * keep2 + gi * gi) * w2
        v[i] = vi
        if vmax is not None:
            x = vmax[i]
            vi = x if (x > vi or x != x) else vi        # np.maximum(vmax, v)
            vmax[i] = vi
        p[i] = pi - (mi / (np.sqrt(vi) + eps)) * scale


def adam_update_(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, weight1, weight2, eps,
                 scale, maximize, weight_decay, shrink):
    """Adam's update of ``param`` and its state in place (the arithmetic of
    ``_fallbacks.adam_update_``): C-contiguous arrays of one float dtype and shape
    (``max_exp_avg_sq`` may be None), Python float scalars, ``weight1`` and ``weight2``
    not 0; ``maximize`` a bool, ``weight_decay`` a float (0: none), ``shrink`` a float or
    None (none)."""
    c = param.dtype.type
    flat = [None if a is None else a.reshape(-1)
            for a in (param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq)]
    if param.size:
        _adam(*flat, c((1 - weight1) / weight1), c(weight1), c((1 - weight2) / weight2),
              c(weight2), c(eps), c(scale), maximize, weight_decay != 0, c(weight_decay),
              shrink is not None, c(1 if shrink is None else shrink))
