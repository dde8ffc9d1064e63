"""Compiled row kernels of the cpu backend (numba, through ``_jit``): softmax and log_softmax
over the last axis, and the normalization of rows (layer and group norm), forward and
backward.

NumPy makes one pass over memory per operation; these make one pass per row, each row's
work done while it sits in the L1 cache (a row of 256 float32 is 1 KB). They run only where
``_jit.enabled()``; the kernel table's standard-only implementations
(``_fallbacks.py``) are the reference, and the tests compare the two on every run.

Every function here takes C-contiguous 2-d or 3-d NumPy arrays and writes into ``out``
arrays its caller made fresh; none changes an input.

Floating-point rules kept:

* no ``nnan``/``ninf`` fast-math flags (NaN and inf keep their meaning); ``reassoc`` lets
  sums run in SIMD lanes (a blocked summation order, as a vecdot's);
* softmax: a row holding NaN or +inf, or only -inf, is NaN throughout (PyTorch's rule:
  the shift by the row's max makes ``inf - inf``); -inf logits give exactly 0;
* the statistics of normalization accumulate in float64 (the input's own dtype is written).

``exp`` here is a float32 polynomial (Cody and Waite's range reduction by ln 2, a degree-7
minimax polynomial): numba has no vectorized ``exp`` on this machine (no SVML), and libm's
scalar ``expf`` costs five times NumPy's SIMD loop. Relative error about 1.2e-7 (NumPy's
own about 2e-7); below -87.3 (where float32 ``exp`` is subnormal) it gives 0. float64 rows
run the NumPy path instead (see ``_numpy.py``).
"""

import math

import numpy as np

from ._jit import njit

__all__ = ["softmax_rows", "softmax_grad_rows", "log_softmax_grad_rows", "normalize_rows",
           "normalize_rows_grad"]

# fast-math flags: reassociation (SIMD sums), contraction (FMA), no signed zeros; not nnan,
# ninf, arcp or afn (NaN, inf and the rounding of divisions stay as written)
_FM = {"reassoc", "contract", "nsz"}

# exp: x = k ln2 + r, |r| <= ln2 / 2; exp(r) by the polynomial, 2^k by the exponent bits
_LOG2E = np.float32(1.4426950408889634)
_LN2_HI = np.float32(0.693359375)          # ln 2 in two parts: k * _LN2_HI is exact
_LN2_LO = np.float32(-2.12194440e-4)
_EXP_LO = np.float32(-87.33654)            # below: 0 (float32 exp is subnormal there)
_EXP_HI = np.float32(88.72283)             # above: inf
_P0 = np.float32(1.9875691500e-4)
_P1 = np.float32(1.3981999507e-3)
_P2 = np.float32(8.3334519073e-3)
_P3 = np.float32(4.1665795894e-2)
_P4 = np.float32(1.6666665459e-1)
_P5 = np.float32(5.0000001201e-1)
_ONE = np.float32(1.0)
_HALF = np.float32(0.5)
_LANES = 16         # independent partial maxima (a max chain is latency-bound otherwise)


@njit(fastmath=_FM)
def _softmax_rows(x, out, bits, ex, log):
    """``out = softmax(x)`` (or ``log_softmax`` where ``log``) along the last axis of the
    float32 (R, n) array ``x``; ``bits``: scratch of n int32 (the powers of two of exp),
    ``ex``: n float32 (the exps where ``log``: out holds x - max meanwhile)."""
    rows, n = x.shape
    scale = bits.view(np.float32)
    lanes = np.empty(_LANES, np.float32)
    for r in range(rows):
        row = x[r]
        o = out[r]
        # the row's max: _LANES independent partial maxima (a single max chain is
        # latency-bound); NaN entries are skipped here and show up through x - max
        if n < _LANES:
            m = row[0]
            for i in range(1, n):
                v = row[i]
                m = v if v > m else m
        else:
            for j in range(_LANES):
                lanes[j] = row[j]
            k0 = _LANES
            while k0 + _LANES <= n:
                for j in range(_LANES):
                    v = row[k0 + j]
                    lanes[j] = v if v > lanes[j] else lanes[j]
                k0 += _LANES
            m = lanes[0]
            for j in range(1, _LANES):
                m = lanes[j] if lanes[j] > m else m
            for i in range(k0, n):
                v = row[i]
                m = v if v > m else m
        if math.isnan(m) or m == np.inf or m == -np.inf:
            # (+inf or only -inf: x - max is NaN somewhere, so the whole row is NaN)
            o[:] = np.nan
            continue
        # exp(x - m): the polynomial into e (o itself unless log), the power of two into
        # scale; log keeps x - m in o (so that reassociation cannot turn (x - m) - log(s)
        # into x - (m + log(s)), which loses log(s) beside a large m)
        e = ex if log else o
        for i in range(n):
            v = row[i] - m                 # <= 0, or NaN, or -inf
            c = v if v > _EXP_LO else _EXP_LO
            k = np.floor(c * _LOG2E + _HALF)
            t = c - k * _LN2_HI
            t = t - k * _LN2_LO
            p = _P0 * t + _P1
            p = p * t + _P2
            p = p * t + _P3
            p = p * t + _P4
            p = p * t + _P5
            p = p * t * t + t + _ONE
            bits[i] = (np.int32(k) + np.int32(127)) << np.int32(23)
            p = np.float32(0.0) if v < _EXP_LO else p
            e[i] = v if v != v else p      # (NaN stays NaN)
        if log:
            for i in range(n):
                o[i] = row[i] - m
        s = np.float32(0.0)
        for i in range(n):
            ei = e[i] * scale[i]
            e[i] = ei
            s += ei
        if log:
            ls = np.float32(math.log(s))
            for i in range(n):
                o[i] = o[i] - ls
        else:
            for i in range(n):
                o[i] = o[i] / s


def softmax_rows(x, log):
    """softmax (log_softmax where ``log``) of a C-contiguous float32 (R, n) array along its
    last axis, n >= 1: a new array."""
    out = np.empty_like(x)
    n = x.shape[1]
    _softmax_rows(x, out, np.empty(n, np.int32), np.empty(n, np.float32), log)
    return out


@njit(fastmath=_FM)
def _softmax_grad_rows(g, y, out):
    """``out = y * (g - sum(g * y))`` per row (softmax's backward; any float dtype)."""
    rows, n = g.shape
    for r in range(rows):
        gr, yr, o = g[r], y[r], out[r]
        s = 0.0
        for i in range(n):
            s += gr[i] * yr[i]
        for i in range(n):
            o[i] = yr[i] * (gr[i] - s)


def softmax_grad_rows(g, y):
    """softmax's gradient ``y * (g - sum(g y))`` along the last axis of C-contiguous (R, n)
    arrays of one float dtype: a new array."""
    out = np.empty_like(g)
    _softmax_grad_rows(g, y, out)
    return out


@njit(fastmath=_FM)
def _log_softmax_grad_rows(g, y, out, bits):
    """``out = g - exp(y) * sum(g)`` per row (log_softmax's backward; float32)."""
    rows, n = g.shape
    scale = bits.view(np.float32)
    for r in range(rows):
        gr, yr, o = g[r], y[r], out[r]
        s = np.float32(0.0)
        for i in range(n):
            s += gr[i]
        for i in range(n):
            v = yr[i]                      # a log-probability: <= 0, -inf or NaN
            c = v if v > _EXP_LO else _EXP_LO
            c = c if c < _EXP_HI else _EXP_HI
            k = np.floor(c * _LOG2E + _HALF)
            t = c - k * _LN2_HI
            t = t - k * _LN2_LO
            p = _P0 * t + _P1
            p = p * t + _P2
            p = p * t + _P3
            p = p * t + _P4
            p = p * t + _P5
            p = p * t * t + t + _ONE
            bits[i] = (np.int32(k) + np.int32(127)) << np.int32(23)
            p = np.float32(0.0) if v < _EXP_LO else p
            o[i] = v if v != v else p
        for i in range(n):
            o[i] = gr[i] - o[i] * scale[i] * s


def log_softmax_grad_rows(g, y):
    """log_softmax's gradient ``g - exp(y) sum(g)`` along the last axis of C-contiguous
    float32 (R, n) arrays: a new array."""
    out = np.empty_like(g)
    _log_softmax_grad_rows(g, y, out, np.empty(g.shape[1], np.int32))
    return out


# ------------------------------------------------------------------ normalization

@njit(fastmath=_FM)
def _normalize_rows(x, w, b, eps, y, mean, rstd):
    """x (R, P, Q): statistics per r over its P * Q entries (biased variance, two passes,
    accumulated in float64); ``y = (x - mean) rstd w + b`` with w, b of shape (G, P, Qw),
    row r using w[r % G], and Qw either Q (a weight per entry: layer norm) or 1 (per
    channel: group norm). ``mean`` and ``rstd`` (R,) of x's dtype are written."""
    rows, np_, nq = x.shape
    ng, qw = w.shape[0], w.shape[2]
    n = np_ * nq
    for r in range(rows):
        xr = x[r]
        s = 0.0
        for p in range(np_):
            for q in range(nq):
                s += xr[p, q]
        mu = s / n
        ss = 0.0
        for p in range(np_):
            for q in range(nq):
                d = xr[p, q] - mu
                ss += d * d
        mean[r] = mu
        rstd[r] = 1.0 / math.sqrt(ss / n + eps)
        mu_x, inv_x = mean[r], rstd[r]           # (in x's dtype: the loops below stay in it)
        gi = r % ng
        yr = y[r]
        for p in range(np_):
            wr, br, yp, xp = w[gi, p], b[gi, p], yr[p], xr[p]
            if qw == 1:
                a = inv_x * wr[0]
                c = br[0] - mu_x * a
                for q in range(nq):
                    yp[q] = xp[q] * a + c
            else:
                for q in range(nq):
                    yp[q] = (xp[q] - mu_x) * inv_x * wr[q] + br[q]


def normalize_rows(x, w, b, eps):
    """(y, mean, rstd) of :func:`_normalize_rows`: new arrays, mean and rstd of shape (R,)
    and x's dtype."""
    rows = x.shape[0]
    y = np.empty_like(x)
    mean = np.empty(rows, x.dtype)
    rstd = np.empty(rows, x.dtype)
    _normalize_rows(x, w, b, eps, y, mean, rstd)
    return y, mean, rstd


@njit(fastmath=_FM)
def _normalize_rows_grad(g, x, w, mean, rstd, gx, gw, gb):
    """The gradients of :func:`_normalize_rows` given the output's ``g``: ``gx`` (written),
    ``gw`` and ``gb`` (float64 (G, P, Qw), accumulated into). With ``xh = (x - mean) rstd``
    and ``h = g w``: ``gx = rstd (h - mean(h) - xh mean(h xh))``, ``gw += g xh``,
    ``gb += g``; the row sums in float64."""
    rows, np_, nq = x.shape
    ng, qw = w.shape[0], w.shape[2]
    n = np_ * nq
    k = np.empty(2, x.dtype)            # the row's mean(h) and mean(h xh), in x's dtype
    for r in range(rows):
        xr, gr, o = x[r], g[r], gx[r]
        mu, inv = mean[r], rstd[r]
        gi = r % ng
        s1 = 0.0
        s2 = 0.0
        for p in range(np_):
            xp, gp, wr, gwr, gbr = xr[p], gr[p], w[gi, p], gw[gi, p], gb[gi, p]
            if qw == 1:
                sg = 0.0
                sgx = 0.0
                for q in range(nq):
                    gv = gp[q]
                    sg += gv
                    sgx += gv * (xp[q] - mu)
                sgx *= inv
                gwr[0] += sgx
                gbr[0] += sg
                s1 += sg * wr[0]
                s2 += sgx * wr[0]
            else:
                for q in range(nq):
                    gv = gp[q]
                    xh = (xp[q] - mu) * inv
                    gwr[q] += gv * xh
                    gbr[q] += gv
                    h = gv * wr[q]
                    s1 += h
                    s2 += h * xh
        k[0] = s1 / n
        k[1] = s2 / n
        m1, m2 = k[0], k[1]
        for p in range(np_):
            xp, gp, op, wr = xr[p], gr[p], o[p], w[gi, p]
            if qw == 1:
                wv = wr[0]
                for q in range(nq):
                    op[q] = (gp[q] * wv - m1 - (xp[q] - mu) * inv * m2) * inv
            else:
                for q in range(nq):
                    op[q] = (gp[q] * wr[q] - m1 - (xp[q] - mu) * inv * m2) * inv


def normalize_rows_grad(g, x, w, mean, rstd):
    """(gx, gw, gb) of :func:`_normalize_rows`: new arrays, gw and gb of w's shape and x's
    dtype."""
    gx = np.empty_like(x)
    gw = np.zeros(w.shape, np.float64)
    gb = np.zeros(w.shape, np.float64)
    _normalize_rows_grad(g, x, w, mean, rstd, gx, gw, gb)
    return gx, gw.astype(x.dtype), gb.astype(x.dtype)
