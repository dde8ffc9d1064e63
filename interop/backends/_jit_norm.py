"""Compiled row kernels of the cpu backend (numba, through ``_jit``): softmax and log_softmax
over the last axis, the normalization of rows (layer and group norm) and of channels (batch
and instance norm), forward and backward.

NumPy makes one pass over memory per operation; these make one pass per row, each row's
work done while it sits in the L1 cache (a row of 256 float32 is 1 KB). They run only where
``_jit.enabled()``; the kernel table's standard-only implementations
(``_fallbacks.py``) are the reference, and the tests compare the two on every run.

The public functions take C-contiguous NumPy arrays and return new ones; the compiled loops
(``_`` names) write only into arrays those functions made fresh; no input is changed.

Floating-point rules kept:

* no ``nnan``/``ninf`` fast-math flags (NaN and inf keep their meaning); ``reassoc`` lets
  sums run in SIMD lanes (a blocked summation order, as a vecdot's);
* softmax: a row holding NaN or +inf, or only -inf, is NaN throughout (PyTorch's rule:
  the shift by the row's max makes ``inf - inf``); -inf logits give exactly 0;
* the statistics of normalization accumulate in float64 (the input's own dtype is written),
  and the deviations are ``(x - m) - dm`` with ``dm`` the rounded mean's error; ``x - m``
  goes through memory first, so that reassociation cannot fold the two subtractions into
  one (which would undo the correction).

``exp`` here is a float32 polynomial (Cody and Waite's range reduction by ln 2, a degree-7
minimax polynomial): numba has no vectorized ``exp`` on this machine (no SVML), and libm's
scalar ``expf`` costs five times NumPy's SIMD loop. Relative error about 1.2e-7 (NumPy's
own about 2e-7); below -87.3 (where float32 ``exp`` is subnormal) it gives 0. float64 rows
run the NumPy path instead (see ``_numpy.py``).
"""

import math

import numpy as np

from ._jit import jitable, njit

__all__ = ["softmax_rows", "softmax_grad_rows", "log_softmax_grad_rows", "normalize_rows",
           "normalize_rows_grad", "normalize_channels", "normalize_channels_grad"]

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


@jitable
def _exp_parts(v):
    """``(p, k)`` with ``e**v = p * 2**k`` for a float32 ``v`` clamped to [_EXP_LO, _EXP_HI]
    (the callers put the power of two in apart, and 0 below _EXP_LO), inlined in their loops
    so that they vectorize."""
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
    return p, k


@jitable
def _shift_scale(x, y, m, dm, a, c):
    """``y = ((x - m) - dm) * a + c`` along one run of a channel, ``x - m`` through memory
    first (see the layer-norm kernel: reassociation may not fold the two subtractions)."""
    for q in range(x.size):
        y[q] = x[q] - m
    for q in range(x.size):
        y[q] = (y[q] - dm) * a + c


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
            p, k = _exp_parts(v)
            bits[i] = (np.int32(k) + np.int32(127)) << np.int32(23)
            p = np.float32(0.0) if v < _EXP_LO else p
            e[i] = v if v != v else p      # (NaN stays NaN)
        if log:
            for i in range(n):
                o[i] = row[i] - m
        s = 0.0                            # (float64: long rows keep their digits)
        for i in range(n):
            ei = e[i] * scale[i]
            e[i] = ei
            s += ei
        if log:
            ls = np.float32(math.log(s))
            for i in range(n):
                o[i] = o[i] - ls
        else:
            s32 = np.float32(s)
            for i in range(n):
                o[i] = o[i] / s32


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
        s = 0.0
        for i in range(n):
            s += gr[i]
        for i in range(n):
            v = yr[i]                      # a log-probability: <= 0, -inf or NaN
            p, k = _exp_parts(v)
            bits[i] = (np.int32(k) + np.int32(127)) << np.int32(23)
            p = np.float32(0.0) if v < _EXP_LO else p
            o[i] = v if v != v else p
        s32 = np.float32(s)
        for i in range(n):
            o[i] = gr[i] - o[i] * scale[i] * s32


def log_softmax_grad_rows(g, y):
    """log_softmax's gradient ``g - exp(y) sum(g)`` along the last axis of C-contiguous
    float32 (R, n) arrays: a new array."""
    out = np.empty_like(g)
    _log_softmax_grad_rows(g, y, out, np.empty(g.shape[1], np.int32))
    return out


# ------------------------------------------------------------------ normalization
# x is (R, P, Q): statistics per r over its P * Q entries (biased variance, two passes, the
# sums in float64); the weight and bias are (G, P, Qw) (row r takes entry r % G) with Qw
# either Q (an entry per element: layer norm, P = G = 1) or 1 (one per channel: group norm).
# Each case is its own kernel: one loop shape each, which the compiler vectorizes.

@jitable
def _statistics(mu, ss, n, eps, mean, rstd, r, k):
    """Row r's statistics from its mean ``mu`` and sum of squared deviations ``ss`` (float64):
    ``mean[r]`` (NaN for a row holding NaN or inf) and ``rstd[r]`` written in x's dtype;
    returns the rounded mean, its rounding error (through ``k``, a scratch of x's dtype) and
    the reciprocal std, for the loops that follow to stay in x's dtype."""
    mean[r] = mu if ss == ss else np.nan
    rstd[r] = 1.0 / math.sqrt(ss / n + eps)
    k[0] = mu - mean[r]
    return mean[r], k[0], rstd[r]


@njit(fastmath=_FM)
def _norm_rows_elementwise(x, w, b, eps, y, mean, rstd):
    """Layer norm's forward on (R, n) rows, w and b (n,); mean and rstd (R,) written. The
    deviations are ``(x - m) - dm``, m the mean rounded to x's dtype and dm its rounding
    error: exact where the spread is tiny beside the mean (float32 at mean 1e3, std 1e-3,
    ``x - m`` alone shifts every output by up to 3e-2)."""
    rows, n = x.shape
    k = np.empty(1, x.dtype)
    for r in range(rows):
        xr, yr = x[r], y[r]
        s = 0.0
        for q in range(n):
            s += xr[q]
        mu = s / n
        ss = 0.0
        for q in range(n):
            d = xr[q] - mu
            ss += d * d
        m, dm, inv = _statistics(mu, ss, n, eps, mean, rstd, r, k)   # (in x's dtype)
        # x - m goes through memory first: reassociation may not fold (x - m) - dm into
        # x - (m + dm), which is x - m again
        for q in range(n):
            yr[q] = xr[q] - m
        for q in range(n):
            yr[q] = (yr[q] - dm) * inv * w[q] + b[q]


@njit(fastmath=_FM)
def _norm_rows_elementwise_grad(g, x, w, mean, rstd, gx, gw, gb):
    """Layer norm's backward on (R, n) rows: gx written, gw and gb (float64 (n,))
    accumulated. With xh = (x - mean) rstd, h = g w: gx = rstd (h - mean(h) - xh mean(h
    xh)), gw = sum of g xh, gb = sum of g."""
    rows, n = x.shape
    k = np.empty(3, x.dtype)            # the row's mean(h), mean(h xh), mean's error
    for r in range(rows):
        xr, gr, o = x[r], g[r], gx[r]
        mu, inv = mean[r], rstd[r]
        s = 0.0
        for q in range(n):
            o[q] = xr[q] - mu           # (through memory, as in forward)
            s += o[q]
        k[2] = s / n                    # (the saved mean's rounding error, as in forward)
        dm = k[2]
        s1 = 0.0
        s2 = 0.0
        for q in range(n):
            gv = gr[q]
            xh = (o[q] - dm) * inv
            gw[q] += gv * xh
            gb[q] += gv
            h = gv * w[q]
            s1 += h
            s2 += h * xh
        k[0] = s1 / n
        k[1] = s2 / n
        m1, m2 = k[0], k[1]
        for q in range(n):
            o[q] = (gr[q] * w[q] - m1 - (o[q] - dm) * inv * m2) * inv


@njit(fastmath=_FM)
def _norm_rows_channels(x, w, b, eps, y, mean, rstd):
    """Group norm's forward on (R, P, Q), w and b (G, P): mean and rstd (R,) written (the
    deviations as in :func:`_norm_rows_elementwise`)."""
    rows, np_, nq = x.shape
    k = np.empty(1, x.dtype)
    ng = w.shape[0]
    n = np_ * nq
    for r in range(rows):
        xr, yr = x[r], y[r]
        s = 0.0
        for p in range(np_):
            xp = xr[p]
            for q in range(nq):
                s += xp[q]
        mu = s / n
        ss = 0.0
        for p in range(np_):
            xp = xr[p]
            for q in range(nq):
                d = xp[q] - mu
                ss += d * d
        m, dm, inv = _statistics(mu, ss, n, eps, mean, rstd, r, k)
        gi = r % ng
        for p in range(np_):
            a = inv * w[gi, p]
            c = b[gi, p]
            _shift_scale(xr[p], yr[p], m, dm, a, c)


@njit(fastmath=_FM)
def _norm_rows_channels_grad(g, x, w, mean, rstd, gx, gw, gb):
    """Group norm's backward on (R, P, Q), w (G, P): gx written, gw and gb (float64 (G, P))
    accumulated (the formulas of :func:`_norm_rows_elementwise_grad`)."""
    rows, np_, nq = x.shape
    ng = w.shape[0]
    n = np_ * nq
    k = np.empty(3, x.dtype)
    for r in range(rows):
        xr, gr, o = x[r], g[r], gx[r]
        mu, inv = mean[r], rstd[r]
        s = 0.0
        for p in range(np_):
            xp, op = xr[p], o[p]
            for q in range(nq):
                op[q] = xp[q] - mu          # (through memory, as in forward)
                s += op[q]
        k[2] = s / n
        dm = k[2]
        gi = r % ng
        s1 = 0.0
        s2 = 0.0
        for p in range(np_):
            op, gp = o[p], gr[p]
            sg = 0.0
            sgx = 0.0
            for q in range(nq):
                gv = gp[q]
                sg += gv
                sgx += gv * (op[q] - dm)
            sgx *= inv
            gw[gi, p] += sgx
            gb[gi, p] += sg
            s1 += sg * w[gi, p]
            s2 += sgx * w[gi, p]
        k[0] = s1 / n
        k[1] = s2 / n
        m1, m2 = k[0], k[1]
        for p in range(np_):
            a = inv * w[gi, p]
            xp, gp, op = xr[p], gr[p], o[p]
            for q in range(nq):
                op[q] = gp[q] * a - (m1 + (op[q] - dm) * inv * m2) * inv


def normalize_rows(x, w, b, eps):
    """(y, mean, rstd) of the normalization of the C-contiguous (R, P, Q) array ``x`` with
    weight ``w`` and bias ``b``, C-contiguous arrays of x's dtype (ones and zeros where none
    is given) of shape (G, P, 1) (one per channel) or (1, P, Q) (one per entry of a row):
    new arrays, mean and rstd of shape (R,) and x's dtype."""
    rows, np_, nq = x.shape
    y = np.empty_like(x)
    mean = np.empty(rows, x.dtype)
    rstd = np.empty(rows, x.dtype)
    if w.shape[2] == 1:
        _norm_rows_channels(x, w[:, :, 0], b[:, :, 0], eps, y, mean, rstd)
    else:
        _norm_rows_elementwise(x.reshape(rows, np_ * nq), w.reshape(-1), b.reshape(-1), eps,
                               y.reshape(rows, np_ * nq), mean, rstd)
    return y, mean, rstd


def normalize_rows_grad(g, x, w, mean, rstd):
    """(gx, gw, gb) of :func:`normalize_rows` given the output's gradient ``g`` (C-contiguous,
    x's shape and dtype): new arrays, gw and gb of w's shape and x's dtype."""
    rows, np_, nq = x.shape
    gx = np.empty_like(x)
    gw = np.zeros(w.shape, np.float64)
    gb = np.zeros(w.shape, np.float64)
    if w.shape[2] == 1:
        _norm_rows_channels_grad(g, x, w[:, :, 0], mean, rstd, gx, gw[:, :, 0], gb[:, :, 0])
    else:
        m = np_ * nq
        _norm_rows_elementwise_grad(g.reshape(rows, m), x.reshape(rows, m), w.reshape(-1),
                                    mean, rstd, gx.reshape(rows, m), gw.reshape(-1),
                                    gb.reshape(-1))
    return gx, gw.astype(x.dtype), gb.astype(x.dtype)


# ------------------------------------------------ normalization per channel (batch norm)
# x is (A, K, L): statistics per k over its A * L entries (batch norm: (N, C, H * W);
# instance norm: (1, N * C, H * W)); a weight and a bias per k.

@njit(fastmath=_FM)
def _norm_channels(x, w, b, eps, y, mean, rstd, ssd):
    """Batch norm's forward: mean, rstd and the sum of squared deviations (K,) written; the
    deviations corrected by the rounded mean's error (as in the row kernels)."""
    na, nk, nl = x.shape
    n = na * nl
    k = np.empty(1, x.dtype)
    for c in range(nk):
        s = 0.0
        for a in range(na):
            xr = x[a, c]
            for q in range(nl):
                s += xr[q]
        mu = s / n
        ss = 0.0
        for a in range(na):
            xr = x[a, c]
            for q in range(nl):
                d = xr[q] - mu
                ss += d * d
        mean[c] = mu if ss == ss else np.nan
        rstd[c] = 1.0 / math.sqrt(ss / n + eps)
        ssd[c] = ss
        k[0] = mu - mean[c]
        m, dm = mean[c], k[0]
        sc = rstd[c] * w[c]
        sh = b[c]
        for a in range(na):
            _shift_scale(x[a, c], y[a, c], m, dm, sc, sh)


@njit(fastmath=_FM)
def _norm_channels_grad(g, x, w, mean, rstd, gx, gw, gb):
    """Batch norm's backward: gx written, gw and gb (float64 (K,)) written. The sums over a
    channel in float64: ``sum(g)``, ``sum(g (x - m))`` and ``sum(x - m)`` (m the saved mean,
    whose rounding error the last one gives)."""
    na, nk, nl = x.shape
    n = na * nl
    k = np.empty(3, x.dtype)
    for c in range(nk):
        m, inv = mean[c], rstd[c]
        sg = 0.0
        sgx = 0.0
        sx = 0.0
        for a in range(na):
            xr, gr = x[a, c], g[a, c]
            for q in range(nl):
                d = xr[q] - m
                sg += gr[q]
                sgx += gr[q] * d
                sx += d
        dm64 = sx / n
        sgx -= dm64 * sg                    # sum(g (x - m - dm))
        gw[c] = sgx * inv
        gb[c] = sg
        k[0] = dm64
        k[1] = sg / n
        k[2] = sgx * inv * inv / n
        dm, k1, k2 = k[0], k[1], k[2]
        sc = inv * w[c]
        for a in range(na):
            xr, gr, o = x[a, c], g[a, c], gx[a, c]
            for q in range(nl):
                o[q] = xr[q] - m
            for q in range(nl):
                o[q] = (gr[q] - k1 - (o[q] - dm) * k2) * sc


def normalize_channels(x, w, b, eps):
    """(y, mean, rstd, ssd) of the normalization per channel k of the C-contiguous (A, K, L)
    array ``x`` with weight ``w`` and bias ``b`` ((K,) of x's dtype; ones and zeros where
    none is given): new arrays, the statistics (K,) of x's dtype."""
    nk = x.shape[1]
    y = np.empty_like(x)
    mean = np.empty(nk, x.dtype)
    rstd = np.empty(nk, x.dtype)
    ssd = np.empty(nk, x.dtype)
    _norm_channels(x, w, b, eps, y, mean, rstd, ssd)
    return y, mean, rstd, ssd


def normalize_channels_grad(g, x, w, mean, rstd):
    """(gx, gw, gb) of :func:`normalize_channels` given the output's gradient ``g``: new
    arrays, gw and gb (K,) of x's dtype."""
    gx = np.empty_like(x)
    gw = np.empty(x.shape[1], np.float64)
    gb = np.empty(x.shape[1], np.float64)
    _norm_channels_grad(g, x, w, mean, rstd, gx, gw, gb)
    return gx, gw.astype(x.dtype), gb.astype(x.dtype)
