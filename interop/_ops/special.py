"""Special functions with PyTorch's semantics and gradients: ``erf``, ``erfc``, ``erfcx``,
``erfinv``, ``ndtr``, ``log_ndtr``, ``ndtri``, ``logit``, ``xlogy``, and their Tensor methods
(``x.erf()``, ``x.erfinv_()``...). ``interop.special`` gathers them under PyTorch's
``torch.special`` names.

The Array API has no ``erf``, so every value here is computed with standard functions only:

* ``erf(a)`` for ``|a| < 0.5`` is ``a * P(8 a^2 - 1)``;
* ``erfcx(a) = exp(a^2) erfc(a)`` for ``0.5 <= a < 2.5`` is a polynomial in ``a - 1.5``, and
  for ``a >= 2.5`` it is ``Q(2 w / W - 1) / a`` with ``w = 1 / a^2``, ``W = 1 / 2.5^2``;
* ``erfc(a) = exp(-a^2) erfcx(a)``, with ``exp(-a^2)`` split as ``exp(-h^2) exp(-(a-h)(a+h))``
  (``h`` is ``a`` rounded down to a sixteenth, so ``h^2`` is exact) to keep the relative error
  of large ``a`` at a few ulps; ``erf = 1 - erfc`` there, and negative arguments by symmetry.

P, the two erfcx pieces and their degrees (12, 22, 20) are Chebyshev interpolants of the exact
functions, computed in 50-digit arithmetic (mpmath) and converted to monomials in the
interval's variable; each is below half an ulp of float64 on its interval. ``erfinv`` and
``ndtri`` invert ``erf``/``erfc`` by one step of Halley's method from a first guess good to
5e-9 (``erfinv(a) / a`` as a polynomial of ``w = -log(1 - a^2)``, then of ``sqrt(w)``, fitted
the same way): the step triples the digits, beyond float64, and near +-1 the
residual is taken on ``erfc`` against ``1 - |x|`` (exact there), so the tails keep their
digits. Everything is computed in float64 where the backend has it and rounded to the input's
dtype once (float16/bfloat16/float32 results are then correctly rounded but for the double
rounding); a backend without float64 computes in float32.

Each primitive records one node whose backward is a formula in standard functions
(``d erf = 2/sqrt(pi) exp(-x^2)``, ``d erfinv = sqrt(pi)/2 exp(erfinv(x)^2)``...), so under
``create_graph=True`` the gradient is itself recorded and differentiable again.
"""

import math

from .. import dtypes as _dt
from .cast import astype
from .binary import BinaryBackward, binary
from .._errors import DTypeError
from .mutation import inplace_compute
from .select import clamp
from .unary import UnaryBackward, unary, log, log1p, sigmoid
from ..autograd.variable import Variable

__all__ = ["erf", "erfc", "erfcx", "erfinv", "ndtr", "log_ndtr", "ndtri", "logit", "xlogy",
           "expit", "SpecialMethods"]

_ERF_SMALL = (
    1.0830752376761712, -0.04364205888669792, 0.0016130716680617086,
    -4.762336934468491e-05, 1.1516037795137055e-06, -2.3472291635195175e-08,
    4.1270254211350677e-10, -6.374417852769556e-12, 8.774531112408876e-14,
    -1.0890239919604682e-15, 1.2303489181995682e-17, -1.2757824687555533e-19,
    1.2216678256231158e-21)
_ERFCX_MID = (
    0.3215854164543175, -0.16362291773256007, 0.0761510398554774,
    -0.032930905299562184, 0.013377340953066615, -0.00514595754799691,
    0.0018861348770324421, -0.0006619300662692695, 0.00022330994432059154,
    -7.265892314129167e-05, 2.2864312427826564e-05, -6.974987783040836e-06,
    2.066969922878226e-06, -5.960923218763459e-07, 1.675518801711717e-07,
    -4.595084529057363e-08, 1.2320891414760783e-08, -3.251584211636436e-09,
    8.348299788481909e-10, -1.9648646045553093e-10, 4.8778006804111125e-11,
    -1.734053928766956e-11, 4.089897411779722e-12)
_ERFCX_TAIL = (
    0.5439016215198309, -0.018351285410848493, 0.0016592352014063224,
    -0.00022669010254893228, 3.975598621185544e-05, -8.292070216759446e-06,
    1.9692797860761e-06, -5.17944962059009e-07, 1.480220316251188e-07,
    -4.5334116842909424e-08, 1.4728751805057906e-08, -5.0505324852502785e-09,
    1.8075621077331612e-09, -6.426163150300312e-10, 2.448612633381756e-10,
    -1.357241494851904e-10, 5.811442103172021e-11, 5.83359443327414e-12,
    -3.784324322909503e-12, -1.1716224404369269e-11, 5.535532645473946e-12)
_ERFINV_W = (
    1.6536545626831027, 0.7504943076479739, -0.05892256867466323,
    -0.022604096452118517, 0.017808404971782328, -0.004140180720663968,
    -0.001272020629382619, 0.001242690309156122, -0.00026338021033992225,
    -0.00013508115498416358, 9.204976639988137e-05, 1.5787972260420077e-06,
    -1.0903443438510941e-05)
_ERFINV_S1 = (
    4.09222342366813, 1.7674619906103552, 0.00218279424811221,
    -0.003258199499865989, 0.001990108146101006, -0.0010535935892120101,
    0.0006295968343299267, -0.0005359167170062123, 0.0005219435649486662,
    -0.0004174317677681267, 0.00036339757025377785, -0.00038480919507668366,
    0.00015155976856889478, 0.00018120465660075377, -0.0001603660841078278,
    -9.354118401547028e-06, 2.6796059881850505e-05)
_ERFINV_S2 = (
    16.669370651067982, 10.782664227018149, -0.014861818234345075,
    0.006933654264833134, -0.0031999352327224903, 0.0014310191699810168,
    -0.000577449514956456, 7.398620325642189e-05, 5.851864559355313e-05,
    0.0002688800013950086, -0.0001444618335670479, -0.0006163665570017482,
    0.00041664273717624, 0.00046686053494770244, -0.0003054837548935663,
    -0.00022725744371879616, 0.00015147885177176385)
_TAIL_W = 1.0 / 2.5 ** 2
_ERFC_ZERO = 28.0          # erfc(a) underflows to 0 in float64 beyond ~27.3

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0
_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)


# ---------------------------------------------------------------- kernels on raw arrays
# (``a`` is a non-negative float array of the working dtype; nothing here records)

def _horner(coef, s):
    p = s * coef[-1]
    p += coef[-2]
    for c in coef[-3::-1]:      # in place on the fresh p (a namespace without in-place
        p *= s                  # operators rebinds p: the same values)
        p += c
    return p


def _exp_neg_sq(xp, a, sign=-1.0):
    """``exp(sign * a^2)`` (``sign`` -1, 1 or -0.5) to a few ulps for large ``a``: ``a = h + r``
    with ``h`` a multiple of 1/16 (``h^2`` exact), ``a^2 = h^2 + r (a + h)``."""
    h = xp.floor(a * 16.0) / 16.0
    return xp.exp(sign * (h * h)) * xp.exp(sign * ((a - h) * (a + h)))


def _erf_small(xp, a):
    """erf(a) for |a| < 0.5 (odd: the sign of ``a`` is kept)."""
    return a * _horner(_ERF_SMALL, a * a * 8.0 - 1.0)


def _erfcx_large(xp, a):
    """erfcx(a) for a >= 0.5 (inf gives 0): the two pieces, each computed only where used."""
    mid = a < 2.5
    out = None
    if bool(xp.any(mid)):
        out = _horner(_ERFCX_MID, xp.where(mid, a, 1.5) - 1.5)
    if out is None or not bool(xp.all(mid)):
        w = 1.0 / xp.where(mid, 2.5, a)
        tail = _horner(_ERFCX_TAIL, w * w * (2.0 / _TAIL_W) - 1.0) * w
        out = tail if out is None else xp.where(mid, out, tail)
    return out


def _erfc_pos(xp, a):
    """erfc(a) for a >= 0 (NaN stays NaN)."""
    small = a < 0.5
    out = None
    if bool(xp.any(small)):
        out = 1.0 - _erf_small(xp, xp.where(small, a, 0.0))
    if out is None or not bool(xp.all(small)):
        ac = xp.clip(xp.where(small, 0.5, a), None, _ERFC_ZERO)
        big = _exp_neg_sq(xp, ac) * _erfcx_large(xp, ac)
        big = xp.where(a >= _ERFC_ZERO, 0.0, big)
        out = big if out is None else xp.where(small, out, big)
    return xp.where(xp.isnan(a), a, out)


def _erf_k(xp, x):
    a = xp.abs(x)
    small = a < 0.5
    if bool(xp.all(small)):
        return _erf_small(xp, x)
    out = 1.0 - _erfc_pos(xp, a)
    if bool(xp.any(small)):
        out = xp.where(small, xp.abs(_erf_small(xp, xp.where(small, a, 0.0))), out)
    return xp.where(xp.isnan(x), x, xp.copysign(out, x))


def _erfc_k(xp, x):
    pos = _erfc_pos(xp, xp.abs(x))
    neg = x < 0
    if bool(xp.any(neg)):
        pos = xp.where(neg, 2.0 - pos, pos)
    return pos


def _erfcx_k(xp, x):
    a = xp.abs(x)
    small = a < 0.5
    out = None
    if bool(xp.any(small)):
        xs = xp.where(small, x, 0.0)
        out = xp.exp(xs * xs) * (1.0 - _erf_small(xp, xs))
    if out is None or not bool(xp.all(small)):
        ac = xp.where(small, 0.5, a)
        big = _erfcx_large(xp, ac)
        neg = x < 0
        if bool(xp.any(neg)):     # erfcx(-a) = 2 exp(a^2) - erfcx(a)
            grow = xp.clip(ac, None, 27.0)
            grow = xp.where(ac > 27.0, math.inf, 2.0 * _exp_neg_sq(xp, grow, 1.0))
            big = xp.where(neg, grow - big, big)
        out = big if out is None else xp.where(small, out, big)
    return xp.where(xp.isnan(x), x, out)


def _inverse_tail(xp, a, q):
    """The y >= 0 with erf(y) = a (equivalently erfc(y) = q = 1 - a), for a in [0, 1] given
    with its complement ``q``, each accurate where it is used: ``a`` below 0.5, ``q`` above.
    q = 0 gives inf; NaN stays NaN."""
    lower = a < 0.5
    # the first guess: y / a as a polynomial of w = -log(1 - a^2) (of sqrt(w) beyond
    # w = 6.25, in two pieces), each within 5e-9 of the exact ratio
    qs = xp.where(q > 0.0, q, 1.0)
    w = -xp.where(lower, xp.log1p(-(a * a)), xp.log(qs * (2.0 - qs)))
    near = w < 6.25
    r = None
    if bool(xp.any(near)):
        r = _horner(_ERFINV_W, xp.where(near, w, 0.0) * (2.0 / 6.25) - 1.0)
    if r is None or not bool(xp.all(near)):
        t = xp.sqrt(xp.where(near, 6.25, w))
        mid = t < 6.0
        far = _horner(_ERFINV_S1, (xp.where(mid, t, 2.5) - 2.5) * (2.0 / 3.5) - 1.0)
        if not bool(xp.all(mid | near)):
            far = xp.where(mid, far, _horner(_ERFINV_S2, (xp.where(mid, 6.0, t) - 6.0) *
                                             (2.0 / 21.5) - 1.0))
        r = far if r is None else xp.where(near, r, far)
    y = a * r
    # one step of Halley's method (it triples the guess's 8 digits): below 0.5 on
    # f(y) = erf(y) - a, with f'' = -2 y f'; above, on g(y) = log erfc(y) - log q =
    # log erfcx(y) - y^2 - log q, whose residual keeps its digits down to subnormal q:
    # g' = -k, g'' = k (2 y - k), k = 2 / (sqrt(pi) erfcx(y))
    low = upper = None
    if bool(xp.any(lower)):
        yl = xp.where(lower, y, 0.0)
        u = (_erf_small(xp, yl) - a) / (_TWO_OVER_SQRT_PI * xp.exp(-(yl * yl)))
        low = yl - u / (1.0 + yl * u)
    if low is None or not bool(xp.all(lower)):
        yu = xp.where(lower, 1.0, y)
        ex = _erfcx_k(xp, yu)
        k = _TWO_OVER_SQRT_PI / ex
        g = xp.log(ex) - yu * yu - xp.log(qs)
        upper = yu + 2.0 * g / (2.0 * k - g * (2.0 * yu - k))
    y = upper if low is None else (low if upper is None else xp.where(lower, low, upper))
    return xp.where(q == 0.0, math.inf, y)


def _erfinv_k(xp, x):
    a = xp.abs(x)
    y = _inverse_tail(xp, a, 1.0 - a)
    y = xp.where(a > 1.0, math.nan, y)
    return xp.where(xp.isnan(x), x, xp.copysign(y, x))


def _ndtri_k(xp, p):
    # ndtri(p) = -sqrt(2) erfcinv(2 p); 2 p and 2 - 2 p are exact where they are used
    q = 2.0 * p
    upper = q > 1.0
    qq = xp.where(upper, 2.0 - q, q)
    y = _inverse_tail(xp, 1.0 - qq, qq)
    z = xp.where(upper, y, -y) * _SQRT2 + 0.0        # (+ 0.0: ndtri(0.5) is +0, as PyTorch)
    z = xp.where((p < 0.0) | (p > 1.0), math.nan, z)
    return xp.where(xp.isnan(p), p, z)


def _ndtr_k(xp, x):
    # 0.5 erfc(-x / sqrt(2)); in the left tail, 0.5 exp(-x^2 / 2) erfcx(-x / sqrt(2)) with the
    # exponential split on x itself, so that the rounding of x / sqrt(2) costs no digits
    t = x * -(1.0 / _SQRT2)
    out = 0.5 * _erfc_k(xp, t)
    left = x < -1.0
    if bool(xp.any(left)):
        xl = xp.clip(xp.where(left, -x, 1.0), None, 40.0)
        tail = 0.5 * _exp_neg_sq(xp, xl, -0.5) * _erfcx_k(xp, xl * (1.0 / _SQRT2))
        out = xp.where(left, tail, out)
    return out


def _log_ndtr_k(xp, x):
    # PyTorch's split: the far left tail through erfcx (no underflow), log1p elsewhere
    t = x * -(1.0 / _SQRT2)
    left = x < -1.0
    out = None
    if bool(xp.any(left)):
        tl = xp.where(left, t, 1.0)
        xl = xp.where(left, x, -1.0)
        out = xp.log(_erfcx_k(xp, tl) * 0.5) - xl * xl * 0.5
    if out is None or not bool(xp.all(left)):
        right = xp.log1p(-_ndtr_k(xp, xp.where(left, 0.0, -x)))
        out = right if out is None else xp.where(left, out, right)
    return xp.where(xp.isnan(x), x, out)


def _wide(kernel, x):
    """``kernel`` as a forward for :func:`interop._ops.unary.unary`: run in float64 where the
    backend has it, the result rounded back to the input's floating dtype."""
    wide = x._be.to_native.get(_dt.float64)

    def fwd(xp, d):
        if wide is None or d.dtype == wide:
            return kernel(xp, d)
        r = kernel(xp, xp.astype(d, wide))
        # what rounds to +-inf in d's dtype becomes inf first: the cast itself then overflows
        # nothing (NumPy would warn about such a cast, which the IEEE rules define)
        top = float(xp.finfo(d.dtype).max)
        edge = top + (2.0 ** math.ceil(math.log2(top)) - top) / 2
        r = xp.where(xp.abs(r) >= edge, xp.copysign(xp.full_like(r, math.inf), r), r)
        return xp.astype(r, d.dtype)
    return fwd


def _real_input(x, op):
    if not isinstance(x, Variable):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x._data.dtype in x._be.complex_natives:
        raise DTypeError(f"{op}: not supported for complex tensors (dtype "
                         f"{x._be.dtype_of(x._data)}), as in PyTorch")


# ---------------------------------------------------------------- the primitives

class ErfBackward(UnaryBackward):
    """``d erf(x) = 2/sqrt(pi) exp(-x^2)``; saves the input."""
    __slots__ = ()
    saves = ("x",)
    def deriv(self, xp, s): return xp.exp(-(s.x * s.x)) * _TWO_OVER_SQRT_PI


class ErfcBackward(UnaryBackward):
    """``d erfc(x) = -2/sqrt(pi) exp(-x^2)``; saves the input."""
    __slots__ = ()
    saves = ("x",)
    def deriv(self, xp, s): return xp.exp(-(s.x * s.x)) * -_TWO_OVER_SQRT_PI


class ErfcxBackward(UnaryBackward):
    """``d erfcx(x) = 2 x erfcx(x) - 2/sqrt(pi)``; saves the input and the output."""
    __slots__ = ()
    saves = ("x", "out")
    def deriv(self, xp, s): return 2.0 * s.x * s.out - _TWO_OVER_SQRT_PI


class ErfinvBackward(UnaryBackward):
    """``d erfinv(x) = sqrt(pi)/2 exp(erfinv(x)^2)``; saves the output."""
    __slots__ = ()
    saves = ("out",)
    def deriv(self, xp, s): return xp.exp(s.out * s.out) * _SQRT_PI_OVER_2


class NdtrBackward(UnaryBackward):
    """``d ndtr(x) = exp(-x^2 / 2) / sqrt(2 pi)``; saves the input."""
    __slots__ = ()
    saves = ("x",)
    def deriv(self, xp, s): return xp.exp(s.x * s.x * -0.5) * _INV_SQRT_2PI


class LogNdtrBackward(UnaryBackward):
    """``d log_ndtr(x) = phi(x) / ndtr(x) = exp(-x^2 / 2 - log_ndtr(x)) / sqrt(2 pi)``;
    saves the input and the output."""
    __slots__ = ()
    saves = ("x", "out")
    def deriv(self, xp, s): return xp.exp(s.x * s.x * -0.5 - s.out) * _INV_SQRT_2PI


class NdtriBackward(UnaryBackward):
    """``d ndtri(p) = sqrt(2 pi) exp(ndtri(p)^2 / 2)``; saves the output."""
    __slots__ = ()
    saves = ("out",)
    def deriv(self, xp, s): return xp.exp(s.out * s.out * 0.5) * _SQRT_2PI


def erf(input):
    """The error function, ``2/sqrt(pi) * integral of exp(-t^2) from 0 to x`` (as
    ``torch.erf``; integer and bool inputs give the default float dtype)."""
    _real_input(input, "erf")
    return unary(input, _wide(_erf_k, input), ErfBackward, op="erf")


def erfc(input):
    """The complementary error function ``1 - erf(x)``, accurate where it is tiny (as
    ``torch.erfc``)."""
    _real_input(input, "erfc")
    return unary(input, _wide(_erfc_k, input), ErfcBackward, op="erfc")


def erfcx(input):
    """The scaled complementary error function ``exp(x^2) * erfc(x)`` (as
    ``torch.special.erfcx``)."""
    _real_input(input, "erfcx")
    return unary(input, _wide(_erfcx_k, input), ErfcxBackward, op="erfcx")


def erfinv(input):
    """The inverse error function on [-1, 1]: ``erfinv(+-1) = +-inf``, NaN outside (as
    ``torch.erfinv``)."""
    _real_input(input, "erfinv")
    return unary(input, _wide(_erfinv_k, input), ErfinvBackward,
                 op="erfinv")


def ndtr(input):
    """The standard normal CDF, ``(1 + erf(x / sqrt(2))) / 2`` (as ``torch.special.ndtr``)."""
    _real_input(input, "ndtr")
    return unary(input, _wide(_ndtr_k, input), NdtrBackward, op="ndtr")


def log_ndtr(input):
    """``log(ndtr(x))``, without underflow in the left tail (as
    ``torch.special.log_ndtr``)."""
    _real_input(input, "log_ndtr")
    return unary(input, _wide(_log_ndtr_k, input), LogNdtrBackward,
                 op="log_ndtr")


def ndtri(input):
    """The inverse of the standard normal CDF (the quantile function) on [0, 1]:
    ``ndtri(0) = -inf``, ``ndtri(1) = inf``, NaN outside (as ``torch.special.ndtri``)."""
    _real_input(input, "ndtri")
    return unary(input, _wide(_ndtri_k, input), NdtriBackward, op="ndtri")


def expit(input):
    """The logistic sigmoid ``1 / (1 + exp(-x))`` (``torch.special.expit``)."""
    return sigmoid(input)


def logit(input, eps=None):
    """``log(p / (1 - p))``; with ``eps``, ``p`` is first clamped to ``[eps, 1 - eps]`` and
    the gradient is zero outside it (as ``torch.logit``)."""
    _real_input(input, "logit")
    if eps is not None:
        input = clamp(input, eps, 1.0 - eps)
    return log(input) - log1p(-input)


class XlogyBackward(BinaryBackward):
    """``d/dx = log(y)`` (0 where x = 0 and y <= 0), ``d/dy = x / y``: PyTorch's rules."""
    __slots__ = ()
    da_reads = ("a", "b")
    db_reads = ("a", "b")

    def da(self, xp, g, s):
        x, y = s.a, s.b
        if y.__class__ in (int, float):
            ly = math.log(y) if y > 0 else (-math.inf if y == 0 else math.nan)
            if y > 0 or y != y:
                return g * ly
            return xp.where(x == 0, xp.zeros_like(g), g * ly)
        return xp.where((x == 0) & (y <= 0), xp.zeros_like(g), g * xp.log(y))

    def db(self, xp, g, s): return g * s.a / s.b


def _xlogy_fwd(xp):
    def fwd(a, b):
        if not hasattr(a, "dtype"):
            a = xp.asarray(a, dtype=b.dtype)
        elif not hasattr(b, "dtype"):
            b = xp.asarray(b, dtype=a.dtype)
        out = a * xp.log(b)
        return xp.where((a == 0) & ~xp.isnan(b), xp.zeros_like(out), out)
    return fwd


def _floating(x):
    """A real integer or bool tensor as the default float (PyTorch's promotion for xlogy)."""
    if isinstance(x, Variable) and x._data.dtype not in x._be.inexact_natives:
        return astype(x, x._be.default_float)
    return x


def xlogy(input, other):
    """``input * log(other)``, and 0 where ``input`` is 0 (unless ``other`` is NaN), as
    ``torch.xlogy``; either operand may be a Python number. Integer tensors compute in the
    default float dtype."""
    t = input if isinstance(input, Variable) else other
    if not isinstance(t, Variable):
        raise TypeError(f"xlogy: expected at least one Tensor, got {type(input).__name__} and "
                        f"{type(other).__name__}")
    for v in (input, other):
        if isinstance(v, Variable):
            _real_input(v, "xlogy")
    input, other = _floating(input), _floating(other)
    if not isinstance(input, Variable) and not isinstance(other, Variable):
        raise TypeError("xlogy: expected at least one Tensor")
    return binary(input, other, _xlogy_fwd(t._be.xp), XlogyBackward, "xlogy")


class SpecialMethods:
    """Tensor methods of the special functions, and their in-place forms."""

    __slots__ = ()

    erf = erf
    erfc = erfc
    erfinv = erfinv

    def logit(self, eps=None):
        return logit(self, eps)

    def xlogy(self, other):
        return xlogy(self, other)

    def erf_(self):
        """In-place :func:`erf`."""
        return inplace_compute(self, erf, "erf_")

    def erfc_(self):
        """In-place :func:`erfc`."""
        return inplace_compute(self, erfc, "erfc_")

    def erfinv_(self):
        """In-place :func:`erfinv`."""
        return inplace_compute(self, erfinv, "erfinv_")

    def logit_(self, eps=None):
        """In-place :func:`logit`."""
        return inplace_compute(self, lambda x: logit(x, eps), "logit_")

    def xlogy_(self, other):
        """In-place :func:`xlogy`."""
        return inplace_compute(self, lambda x: xlogy(x, other), "xlogy_", other)
