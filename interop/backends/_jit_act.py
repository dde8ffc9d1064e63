"""The cpu backend's compiled float32 kernels for relu, gelu, silu and sigmoid (forward and
backward), one pass over memory each, and for cross entropy on class indices (one call each
way, whatever the batch), where numba is installed (see ``_jit.py``). (relu: NumPy's
select takes a comparison and three bitwise passes, 0.7 ms forward and 0.9 ms backward on
2.4M floats, one thread; here 0.17 and 0.45 ms.)

Why compiled: NumPy makes one pass per operation, and gelu's exact CDF alone is about 18 of
them (the Array API has no erf). Why a hand-written ``exp``: numba calls libm's scalar
``expf`` per element (no SVML here), which runs about 6x slower than NumPy's vectorized exp
and keeps the loop from vectorizing; :func:`exp32` is arithmetic and bit operations only, so
LLVM vectorizes every loop below (AVX-512 where the CPU has it). Loops with a division need
``error_model="numpy"`` (Python's ZeroDivisionError check would stop the vectorizer);
``fastmath={"contract"}`` lets LLVM fuse multiply-adds (a third faster here, and one rounding
instead of two) without the other fast-math licences (NaN and inf keep their meaning).

The formulas are those of the standard-only reference in ``_fallbacks.py`` (and PyTorch's),
except that the sigmoid is ``1 / (1 + exp(-x))`` (PyTorch's form; the reference takes
``0.5 tanh(x / 2) + 0.5``, which NumPy computes faster): the two agree to a few float32 ulps,
and the tests compare them on every run. Every kernel writes into ``out``, a fresh C-order
float32 array of its inputs' shape; the inputs are C-order float32 arrays, unchanged.
"""

import math

import numpy as np

from ._fallbacks import GELU_TANH_C1, GELU_TANH_C3, INV_SQRT_2PI, NDTR_F32, NDTR_K
from ._jit import jitable, njit

__all__ = ["exp32", "relu", "relu_backward", "sigmoid", "sigmoid_backward", "silu", "silu_backward", "gelu",
           "gelu_backward", "gelu_tanh", "gelu_tanh_backward",
           "class_cross_entropy", "class_cross_entropy_backward"]

_f = np.float32
_ONE, _ZERO, _HALF, _INF = _f(1.0), _f(0.0), _f(0.5), _f(np.inf)
# exp: e^a = 2^n e^r, n = round(a / ln 2), |r| <= ln(2) / 2; ln 2 split in two (Cody and
# Waite) so that r is exact to float32; e^r by its Taylor polynomial of degree 7 (truncation
# 5e-9 relative, a tenth of an ulp); 2^n built in the exponent bits. n is rounded by adding
# 1.5 * 2^23 (round to nearest in the low mantissa bits, which then hold n).
_LOG2E = _f(1.4426950408889634)
_LN2_HI, _LN2_LO = _f(0.693359375), _f(-2.12194440e-4)
_SHIFT = _f(12582912.0)
_BIAS = np.int32(0x4B400000 - 127)        # the bits of _SHIFT, less the exponent bias
_EXP_LO = _f(-87.33654)                   # e^a below the smallest normal float32: 0
_EXP_HI = _f(88.37626)                    # 127.5 ln 2: n stays <= 127; above it: inf
_E2, _E3, _E4, _E5, _E6, _E7 = (_f(1.0 / math.factorial(k)) for k in range(2, 8))

# gelu: the tail polynomial of the reference, and the constants, as float32
_P = tuple(_f(c) for c in NDTR_F32)
_K = _f(NDTR_K)
_TWO = _f(2.0)
_INV_SQRT_2PI = _f(INV_SQRT_2PI)
_C1, _C3, _3C3 = _f(GELU_TANH_C1), _f(GELU_TANH_C3), _f(3.0 * GELU_TANH_C3)


@jitable
def exp32(a):
    """``e**a`` for a float32 ``a``, within 2 ulps: NaN for NaN, inf above 88.376 (where
    e**a is within 0.4 of float32's largest finite value), 0 below -87.34 (where it would be
    subnormal)."""
    c = min(max(a, _EXP_LO), _EXP_HI)
    k = c * _LOG2E + _SHIFT
    n = k - _SHIFT
    r = (c - n * _LN2_HI) - n * _LN2_LO
    p = ((((((_E7 * r + _E6) * r + _E5) * r + _E4) * r + _E3) * r + _E2) * r + _ONE) * r + _ONE
    y = p * np.int32((np.float32(k).view(np.int32) - _BIAS) << 23).view(np.float32)
    y = _INF if a > _EXP_HI else y
    y = _ZERO if a < _EXP_LO else y
    return a if a != a else y


@jitable
def _ndtr_gauss(v):
    """(Phi(v), exp(-v**2 / 2)) for a float32 ``v``: the reference's tail polynomial."""
    gauss = exp32(-(v * v * _HALF))
    s = _TWO / (abs(v) * _K + _ONE) - _ONE
    p = _P[9]
    p = p * s + _P[8]
    p = p * s + _P[7]
    p = p * s + _P[6]
    p = p * s + _P[5]
    p = p * s + _P[4]
    p = p * s + _P[3]
    p = p * s + _P[2]
    p = p * s + _P[1]
    p = p * s + _P[0]
    tail = gauss * p                      # Phi(-|v|)
    return (_ONE - tail if v > _ZERO else tail), gauss


@njit(error_model="numpy")
def relu(x, out):
    xs, o = x.ravel(), out.ravel()
    zero = xs.dtype.type(0)
    for i in range(xs.size):
        v = xs[i]
        o[i] = zero if v < zero else v      # (NaN and -0.0 pass as they came)


@njit(error_model="numpy")
def relu_backward(g, y, out):
    gs, ys, o = g.ravel(), y.ravel(), out.ravel()
    zero = gs.dtype.type(0)
    for i in range(gs.size):
        o[i] = zero if ys[i] <= zero else gs[i]


@njit(error_model="numpy", fastmath={"contract"})
def sigmoid(x, out):
    xs, o = x.ravel(), out.ravel()
    for i in range(xs.size):
        v = xs[i]
        s = _ONE / (_ONE + exp32(-v))
        o[i] = v if v != v else s       # (a NaN passes as it came, sign included: -v flipped it)


@njit(error_model="numpy", fastmath={"contract"})
def sigmoid_backward(g, y, out):
    gs, ys, o = g.ravel(), y.ravel(), out.ravel()
    for i in range(gs.size):
        v = ys[i]
        o[i] = gs[i] * ((_ONE - v) * v)


@njit(error_model="numpy", fastmath={"contract"})
def silu(x, out):
    xs, o = x.ravel(), out.ravel()
    for i in range(xs.size):
        v = xs[i]
        o[i] = v / (_ONE + exp32(-v))


@njit(error_model="numpy", fastmath={"contract"})
def silu_backward(g, x, out):
    gs, xs, o = g.ravel(), x.ravel(), out.ravel()
    for i in range(gs.size):
        v = xs[i]
        s = _ONE / (_ONE + exp32(-v))
        o[i] = gs[i] * (s * (_ONE + v * (_ONE - s)))


@njit(error_model="numpy", fastmath={"contract"})
def gelu(x, out):
    xs, o = x.ravel(), out.ravel()
    for i in range(xs.size):
        v = xs[i]
        o[i] = v * _ndtr_gauss(v)[0]


@njit(error_model="numpy", fastmath={"contract"})
def gelu_backward(g, x, out):
    gs, xs, o = g.ravel(), x.ravel(), out.ravel()
    for i in range(gs.size):
        v = xs[i]
        cdf, gauss = _ndtr_gauss(v)
        o[i] = gs[i] * (cdf + v * (gauss * _INV_SQRT_2PI))


@njit(error_model="numpy", fastmath={"contract"})
def gelu_tanh(x, out):
    xs, o = x.ravel(), out.ravel()
    for i in range(xs.size):
        v = xs[i]
        o[i] = v / (_ONE + exp32(-(v * (v * v * _C3 + _C1))))


@njit(error_model="numpy", fastmath={"contract"})
def gelu_tanh_backward(g, x, out):
    gs, xs, o = g.ravel(), x.ravel(), out.ravel()
    for i in range(gs.size):
        v = xs[i]
        q = v * v
        s = _ONE / (_ONE + exp32(-(v * (q * _C3 + _C1))))
        o[i] = gs[i] * (s + v * ((_ONE - s) * s) * (q * _3C3 + _C1))



# ------------------------------------------------ cross entropy on class indices, by rows
#
# Each row: its max (NumPy's, which propagates NaN, handed in), the exps of the shifted row in
# one vectorized loop, their sum (a helper of its own compiled with reassociation, so that it
# vectorizes: exp32's rounding steps must not be reassociated), then the log or the scaled
# softmax. A NaN or +inf logit makes its row's sum NaN, and the row's loss and gradient with
# it, as in PyTorch.


@jitable(inline="never", fastmath={"reassoc", "contract"})
def _sum(a):
    """The sum of a float32 array, accumulated in float64 (in any order)."""
    s = 0.0
    for j in range(a.shape[0]):
        s += a[j]
    return s


@njit(error_model="numpy", fastmath={"contract"})
def class_cross_entropy(x, m, target, ignore_index, loss):
    """Each row's ``logsumexp(x[i]) - x[i, target[i]]`` into ``loss`` (0 on ignored rows),
    ``m[i]`` the row's max; returns the number of kept rows. Targets are in range (the
    backend checked them)."""
    n, c = x.shape
    kept = 0
    buf = np.empty(c, np.float32)
    for i in range(n):
        t = target[i]
        if t == ignore_index:
            loss[i] = 0.0
            continue
        mi = m[i]
        for j in range(c):
            buf[j] = exp32(x[i, j] - mi)
        loss[i] = math.log(_sum(buf)) - (x[i, t] - mi)
        kept += 1
    return kept


@njit(error_model="numpy", fastmath={"contract"})
def class_cross_entropy_backward(g, x, m, target, ignore_index, mode, out):
    """``out[i] = w[i] (softmax(x[i]) - onehot(target[i]))``, ``m[i]`` the row's max,
    ``w[i]`` = ``g[i]`` (mode 0, 'none'), ``g[0]`` (1, 'sum') or ``g[0]`` over the kept
    rows (2, 'mean'); 0 on ignored rows (where NaN logits stay NaN, as PyTorch's)."""
    n, c = x.shape
    scale = g[0]
    if mode == 2:
        kept = 0
        for i in range(n):
            if target[i] != ignore_index:
                kept += 1
        scale = g[0] / _f(kept) if kept else _ZERO
    for i in range(n):
        t = target[i]
        w = _ZERO if t == ignore_index else (g[i] if mode == 0 else scale)
        mi = m[i]
        for j in range(c):
            out[i, j] = exp32(x[i, j] - mi)
        r = _f(w / _sum(out[i]))
        for j in range(c):
            out[i, j] *= r
        if t != ignore_index:
            out[i, t] -= w
