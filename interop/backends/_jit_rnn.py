"""The cpu backend's compiled LSTM time loop (numba, through ``_jit``): the kernels
``lstm_scan`` and ``lstm_scan_backward`` for float32, where numba is installed.

What it saves over the standard-only reference (``_fallbacks.lstm_scan``): the reference
spends a dozen array operations per time step on the gate math (two sigmoids, two tanh, the
joins, the products and sums), each a pass over memory and a call, and joins every saved
value of all steps at the end. Here each step is the recurrent product (the backend's
``matmul``, the one call per step that remains) and one compiled pass (:func:`lstm_cell`)
that adds the projected inputs, activates the four gates and updates the cell state, writing
the activations, the cell states and the step's output straight into their rows of
preallocated arrays for the whole sequence. The backward is one compiled pass per step
(:func:`lstm_cell_grad`: the gates' gradients and the cell state's, into the rows of one
array) and the product by ``W_hh``.

The state is one (B, *) array updated in place: step t works on its first n rows (packed
order), so a sequence that ends leaves its last state in its row, and one that starts late
(the reverse direction) finds its initial state there.

Floating point: the sigmoid is ``1 / (1 + exp(-x))`` with ``_jit_act.exp32`` (vectorized; 2
ulps); tanh is ``(1 - e) / (1 + e)``, ``e = exp(-2|x|)``, with the sign of x, and its Taylor
polynomial below ``|x| < 0.375`` (where ``1 - e`` would cancel): within a few ulps of NumPy's
tanh, with tanh(+-inf) = +-1 and NaN for NaN. ``fastmath={"contract"}`` only (fused
multiply-adds; NaN and inf keep their meaning). The tests compare every result with the
reference on every run.
"""

import math

import numpy as np

from ._jit import jitable, njit
from ._fallbacks import lstm_spans
from ._jit_act import exp32

__all__ = ["lstm_cell", "lstm_cell_grad", "lstm_scan", "lstm_scan_grad"]

_f = np.float32
_ONE, _TWO = _f(1.0), _f(2.0)
_SMALL = _f(0.375)          # below: tanh by its Taylor polynomial
# tanh x = x + x^3 (T3 + x^2 (T5 + x^2 (T7 + x^2 (T9 + x^2 T11)))) + O(x^13): the series'
# coefficients -1/3, 2/15, -17/315, 62/2835, -1382/155925; at |x| = 0.375 the x^13 term is
# 6e-8 of tanh x, half an ulp
_T3, _T5, _T7, _T9, _T11 = (_f(-1.0 / 3.0), _f(2.0 / 15.0), _f(-17.0 / 315.0),
                            _f(62.0 / 2835.0), _f(-1382.0 / 155925.0))


# (compiled once each and called: LLVM inlines them into the loops, which still vectorize;
# numba's own inlining of a helper used at several places of one kernel trips its internal
# checks)
_ELEMENTWISE = dict(inline="never", error_model="numpy", fastmath={"contract"})


@jitable(**_ELEMENTWISE)
def sigmoid32(v):
    """``1 / (1 + exp(-v))`` for a float32 ``v`` (NaN for NaN)."""
    return _ONE / (_ONE + exp32(-v))


@jitable(**_ELEMENTWISE)
def tanh32(v):
    """tanh of a float32 ``v``, within a few ulps; +-1 at +-inf, NaN at NaN, -0.0 at -0.0."""
    a = abs(v)
    e = exp32(-(a * _TWO))
    t = math.copysign((_ONE - e) / (_ONE + e), v)
    z = v * v
    p = v * (_ONE + z * (_T3 + z * (_T5 + z * (_T7 + z * (_T9 + z * _T11)))))
    return p if a < _SMALL else t


# (Each loop below runs along one row and touches few arrays: LLVM vectorizes such loops,
# where one loop over all the gate blocks and states, with its many runtime aliasing
# checks, ran several times slower.)

@njit(error_model="numpy", fastmath={"contract"})
def lstm_cell(xw, hh, c, acts, c_prev, tc, m):
    """One step of n rows (all (n, *) float32 arrays): the gates ``xw + hh`` (n, 4H)
    activated into ``acts`` (sigmoid of i, f, o; tanh of g), ``c`` (n, H) copied into
    ``c_prev`` and replaced by ``f * c + i * g``, its tanh into ``tc`` and ``o * tanh(c)``
    into ``m``."""
    n, H = c.shape
    for r in range(n):
        x, y, a = xw[r], hh[r], acts[r]
        for j in range(4 * H):
            a[j] = x[j] + y[j]
        for j in range(2 * H):
            a[j] = sigmoid32(a[j])
        g = a[2 * H:3 * H]
        for j in range(H):
            g[j] = tanh32(g[j])
        o = a[3 * H:]
        for j in range(H):
            o[j] = sigmoid32(o[j])
        i, f = a[:H], a[H:2 * H]
        cr, pr, tr, mr = c[r], c_prev[r], tc[r], m[r]
        for j in range(H):
            pr[j] = cr[j]
        for j in range(H):
            cr[j] = f[j] * pr[j] + i[j] * g[j]
        for j in range(H):
            tr[j] = tanh32(cr[j])
        for j in range(H):
            mr[j] = o[j] * tr[j]


@njit(error_model="numpy", fastmath={"contract"})
def lstm_cell_grad(dm, g, dc, acts, c_prev, tc, d_gates):
    """The gradients of one step of :func:`lstm_cell` (n rows): ``dm + g`` reaches its m,
    ``dc`` (n, H) its new cell state; writes the gates' pre-activation gradients into
    ``d_gates`` (n, 4H) and replaces ``dc`` by the gradient of the cell state before the
    step."""
    n, H = dc.shape
    for r in range(n):
        a, d, dcr = acts[r], d_gates[r], dc[r]
        dmr, gr, pr, tr = dm[r], g[r], c_prev[r], tc[r]
        i, f, gg, o = a[:H], a[H:2 * H], a[2 * H:3 * H], a[3 * H:]
        d_i, d_f, d_g, d_o = d[:H], d[H:2 * H], d[2 * H:3 * H], d[3 * H:]
        for j in range(H):          # (d_o holds the gradient of m meanwhile)
            d_o[j] = dmr[j] + gr[j]
        for j in range(H):
            t = tr[j]
            dcr[j] = dcr[j] + d_o[j] * o[j] * (_ONE - t * t)
        for j in range(H):
            d_o[j] = d_o[j] * tr[j] * (o[j] * (_ONE - o[j]))
        for j in range(H):
            d_i[j] = dcr[j] * gg[j] * (i[j] * (_ONE - i[j]))
        for j in range(H):
            d_f[j] = dcr[j] * pr[j] * (f[j] * (_ONE - f[j]))
        for j in range(H):
            d_g[j] = dcr[j] * i[j] * (_ONE - gg[j] * gg[j])
        for j in range(H):
            dcr[j] = dcr[j] * f[j]


def lstm_scan(xw, h0, c0, w_hh, w_hr, sizes, reverse, keep, matmul):
    """The kernel ``lstm_scan`` (see the table) on float32 NumPy arrays; ``matmul`` the
    backend's product."""
    rows, H = xw.shape[0], c0.shape[1]
    B, P = h0.shape
    xw = np.ascontiguousarray(xw)
    w_hh_t = np.ascontiguousarray(w_hh.T)       # (row-major: BLAS takes small blocks faster)
    w_hr_t = None if w_hr is None else np.ascontiguousarray(w_hr.T)
    h = np.array(h0, dtype=_f, order="C")       # the state, updated in place
    c = np.array(c0, dtype=_f, order="C")
    out = np.empty((rows, P), _f)
    if keep:
        acts = np.empty((rows, 4 * H), _f)
        c_prev, tc, prev_h = np.empty((rows, H), _f), np.empty((rows, H), _f), np.empty(
            (rows, P), _f)
        m = None if w_hr is None else np.empty((rows, H), _f)
    else:           # (one step's scratch)
        s_acts, s_c, s_tc = np.empty((B, 4 * H), _f), np.empty((B, H), _f), np.empty((B, H), _f)
        s_m = None if w_hr is None else np.empty((B, H), _f)
    for r0, r1 in lstm_spans(sizes, reverse):
        n = r1 - r0
        hp = h[:n]
        if keep:
            prev_h[r0:r1] = hp
            a, cp, t = acts[r0:r1], c_prev[r0:r1], tc[r0:r1]
            mr = out[r0:r1] if w_hr is None else m[r0:r1]
        else:
            a, cp, t = s_acts[:n], s_c[:n], s_tc[:n]
            mr = out[r0:r1] if w_hr is None else s_m[:n]
        lstm_cell(xw[r0:r1], matmul(hp, w_hh_t), c[:n], a, cp, t, mr)
        if w_hr is not None:
            out[r0:r1] = matmul(mr, w_hr_t)
        hp[...] = out[r0:r1]
    res = (out, h, c)
    if keep:
        res += (acts, c_prev, tc, prev_h, m)
    return res


def lstm_scan_grad(g_out, g_hn, g_cn, acts, c_prev, tc, m, w_hh, w_hr, sizes, reverse,
                   need_h0, need_c0, matmul):
    """The kernel ``lstm_scan_backward`` (see the table) on float32 NumPy arrays; ``matmul``
    the backend's product."""
    rows, H = c_prev.shape
    g_out, acts, c_prev, tc = (np.ascontiguousarray(a) for a in (g_out, acts, c_prev, tc))
    dh = np.array(g_hn, dtype=_f, order="C")    # the state's gradients, updated in place
    dc = np.array(g_cn, dtype=_f, order="C")
    d_xw = np.empty((rows, 4 * H), _f)
    d_h = None
    if w_hr is not None:
        d_h = np.empty(g_out.shape, _f)
        zeros = np.zeros((dc.shape[0], H), _f)
    spans = lstm_spans(sizes, reverse)
    for k in range(len(spans) - 1, -1, -1):
        r0, r1 = spans[k]
        n = r1 - r0
        d = d_xw[r0:r1]
        if w_hr is None:
            lstm_cell_grad(dh[:n], g_out[r0:r1], dc[:n], acts[r0:r1], c_prev[r0:r1],
                           tc[r0:r1], d)
        else:
            np.add(dh[:n], g_out[r0:r1], out=d_h[r0:r1])
            lstm_cell_grad(matmul(d_h[r0:r1], w_hr), zeros[:n], dc[:n], acts[r0:r1],
                           c_prev[r0:r1], tc[r0:r1], d)
        if k or need_h0:        # (the initial state's gradient only where it is wanted)
            dh[:n] = matmul(d, w_hh)
    return d_xw, (dh if need_h0 else None), (dc if need_c0 else None), d_h
