"""Unary elementwise primitives, defined by a table of derivative formulas.
In-place forms (``exp_``) are in ``interop._ops.mutation``."""

import math

from .. import dtypes as _dt
from .._args import real_only
from .._errors import DTypeError
from ..autograd.graph import Node, OUTPUT
from ..autograd.grad_mode import state as grad_state
from ..autograd.variable import Variable, record
from .views import matrix_transpose

__all__ = []


class UnaryBackward(Node):
    """``backward = g * d`` (or ``g / d``) where ``d = self.deriv(xp, s)``; conjugated
    for complex inputs (PyTorch's convention). ``saves`` names what the derivative reads:
    ``"x"`` (the input, as promoted), ``"out"`` (the output), both or neither."""

    __slots__ = ("cplx",)
    divide = False
    saves = ()

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        plans = {(): 0, ("x",): 1, ("out",): 2, ("x", "out"): 3}
        if cls.saves not in plans:
            raise TypeError(f"{cls.__name__}.saves: a unary node saves (), ('x',), ('out',) "
                            f"or ('x', 'out'), got {cls.saves!r}")
        cls.plan = plans[cls.saves]      # (what unary() saves, as one number)

    def backward(self, xp, g, s):
        d = self.deriv(xp, s)
        if self.cplx:
            d = xp.conj(d)
        return (g / d if self.divide else g * d),


_BOOL_SIGN = {"negative": "the `-` operator", "positive": "the `+` operator"}


def _unary_error(op, x):
    """The error for a unary op the backend refused (in interop's words, not the backend's)."""
    dt = x._be.dtype_of(x._data)
    if dt is _dt.bool and op in _BOOL_SIGN:
        return DTypeError(f"{op}: {_BOOL_SIGN[op]} on a bool tensor is not supported (as in "
                          f"PyTorch); to invert a mask use `~` or logical_not()")
    return DTypeError(f"{op}: not supported for dtype {dt}")


def unary(x, fwd, cls, op, promote=True):
    """Apply ``fwd`` (the name of a function or kernel of the backend's namespace ``be.ns``,
    or ``fwd(xp, data)``) to x's data and
    record ``cls``, saving the slots it names (``"x"``, ``"out"``)."""
    if not isinstance(x, Variable):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    be = x._be
    xd = x._data
    if promote and xd.dtype not in be.inexact_natives:    # (integer and bool: to the default float)
        xd = be.xp.astype(xd, be.native_dtype(be.default_float))
    try:
        data = getattr(be.ns, fwd)(xd) if fwd.__class__ is str else fwd(be.xp, xd)
    except Exception:           # (each library words its refusal differently)
        raise _unary_error(op, x) from None
    if x._node is None or not grad_state.enabled:
        return x._make(data, be, None)
    plan = cls.plan
    if plan == 2:
        node = record(cls, be, (x,), (OUTPUT,), (data,))
    elif plan == 1:
        node = record(cls, be, (x,), (x,), (xd,))
    elif plan == 0:
        node = record(cls, be, (x,))
    else:
        node = record(cls, be, (x,), (x, OUTPUT), (xd, data))
    node.cplx = data.dtype in be.complex_natives
    return x._make(data, be, node)


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)

# name: (saves, divide, deriv(xp, s)): the derivative reads the input as ``s.x`` and the
# output as ``s.out``.
_TABLE = {
    "exp": (("out",), False, lambda xp, s: s.out),
    "expm1": (("out",), False, lambda xp, s: s.out + 1),
    "log": (("x",), True, lambda xp, s: s.x),
    "log1p": (("x",), True, lambda xp, s: s.x + 1),
    "log2": (("x",), True, lambda xp, s: s.x * _LN2),
    "log10": (("x",), True, lambda xp, s: s.x * _LN10),
    "sqrt": (("out",), True, lambda xp, s: s.out * 2),
    "sin": (("x",), False, lambda xp, s: xp.cos(s.x)),
    "cos": (("x",), False, lambda xp, s: -xp.sin(s.x)),
    "tan": (("out",), False, lambda xp, s: s.out * s.out + 1),
    "tanh": (("out",), False, lambda xp, s: 1 - s.out * s.out),
    "sinh": (("x",), False, lambda xp, s: xp.cosh(s.x)),
    "cosh": (("x",), False, lambda xp, s: xp.sinh(s.x)),
    "asin": (("x",), True, lambda xp, s: xp.sqrt(1 - s.x * s.x)),
    "acos": (("x",), True, lambda xp, s: -xp.sqrt(1 - s.x * s.x)),
    "atan": (("x",), True, lambda xp, s: s.x * s.x + 1),
    "asinh": (("x",), True, lambda xp, s: xp.sqrt(s.x * s.x + 1)),
    "acosh": (("x",), True, lambda xp, s: xp.sqrt(s.x * s.x - 1)),
    "atanh": (("x",), True, lambda xp, s: 1 - s.x * s.x),
    "reciprocal": (("out",), False, lambda xp, s: -(s.out * s.out)),
    "square": (("x",), False, lambda xp, s: s.x * 2),
    "abs": (("x",), False, lambda xp, s: xp.sign(s.x)),
}


def _patch_complex(xp, z, y, cases):
    """``y`` with the standard's complex special values put in: ``cases`` lists
    ``(where(a, b), value)`` for ``z = a + bj``; a value is for ``b``'s sign bit clear and
    mirrored (conjugated) for it set, as the standard's values are conjugate-symmetric."""
    a, b = xp.real(z), xp.imag(z)
    neg = xp.signbit(b)
    for where, value in cases:
        hit = where(xp, a, b)
        y = xp.where(hit & ~neg, value, y)
        y = xp.where(hit & neg, value.conjugate(), y)
    return y


_INF, _NAN = math.inf, math.nan
# The special values NumPy's (and so array-api-strict's) complex expm1 and tanh miss.
_EXPM1_SPECIAL = (
    (lambda xp, a, b: (a == 0) & (b == 0), complex(0.0, 0.0)),
    (lambda xp, a, b: (a == _INF) & (b == 0), complex(_INF, 0.0)),
    (lambda xp, a, b: xp.isnan(a) & (b == 0), complex(_NAN, 0.0)),
    (lambda xp, a, b: a == -_INF, complex(-1.0, 0.0)),
    (lambda xp, a, b: (a == _INF) & ~xp.isfinite(b), complex(_INF, _NAN)),
)
_TANH_SPECIAL = (
    (lambda xp, a, b: (a == _INF) & xp.isfinite(b), complex(1.0, 0.0)),
    (lambda xp, a, b: (a == -_INF) & xp.isfinite(b), complex(-1.0, 0.0)),
)


def _with_special(name, cases):
    """The forward ``fwd(xp, data)`` of ``name`` for complex data: the backend's, with
    ``cases`` put in."""
    def fwd(xp, d):
        return _patch_complex(xp, d, getattr(xp, name)(d), cases)
    return fwd


# The complex forwards of the table's ops that need one (real data: the backend's alone).
_COMPLEX_FORWARD = {"expm1": _with_special("expm1", _EXPM1_SPECIAL),
                    "tanh": _with_special("tanh", _TANH_SPECIAL)}


def _tanh_backward(self, xp, g, s):
    # g * (1 - y * y) as g - g * y * y: no Python scalar operand (on small NumPy arrays an op
    # with one costs twice an op between two arrays). Last bits may differ from PyTorch's
    # formula; the error is of the same size (both cancel where |y| nears 1)
    y = xp.conj(s.out) if self.cplx else s.out
    return g - g * y * y,


# hand-written backwards for table entries on the hot path (the row's deriv stays the spec)
_BACKWARD = {"tanh": _tanh_backward}


def _make_op(name, saves, divide, deriv):
    cls_name = "".join(p.capitalize() for p in name.split("_")) + "Backward"
    body = {"__slots__": (), "saves": saves, "divide": divide, "deriv": staticmethod(deriv)}
    if name in _BACKWARD:
        body["backward"] = _BACKWARD[name]
    cls = type(cls_name, (UnaryBackward,), body)
    promote = name not in ("abs", "square")

    def op(x, *, _cls=cls, _name=name, _promote=promote, _cfwd=_COMPLEX_FORWARD.get(name)):
        if _cfwd is not None and isinstance(x, Variable) and \
                x._data.dtype in x._be.complex_natives:
            return unary(x, _cfwd, _cls, _name, _promote)
        return unary(x, _name, _cls, _name, _promote)
    op.__name__ = name
    op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` (differentiable)."
    return cls, op


def _op(name):
    """The namespace function of table entry ``name`` (bound below by name, so that editors
    and type checkers see it)."""
    return _make_op(name, *_TABLE[name])[1]


exp = _op("exp")
expm1 = _op("expm1")
log = _op("log")
log1p = _op("log1p")
log2 = _op("log2")
log10 = _op("log10")
sqrt = _op("sqrt")
sin = _op("sin")
cos = _op("cos")
tan = _op("tan")
tanh = _op("tanh")
sinh = _op("sinh")
cosh = _op("cosh")
asin = _op("asin")
acos = _op("acos")
atan = _op("atan")
asinh = _op("asinh")
acosh = _op("acosh")
atanh = _op("atanh")
reciprocal = _op("reciprocal")

# square and abs have functions of their own (bools); the table gives their nodes
SquareBackward = _make_op("square", *_TABLE["square"])[0]
AbsBackward = _make_op("abs", *_TABLE["abs"])[0]
__all__ += ["exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "sin", "cos", "tan",
            "tanh", "sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh",
            "reciprocal"]


class ZeroGradBackward(UnaryBackward):
    """Base of floor, ceil, round, trunc, sign: the gradient is zero almost everywhere (each
    op has its own subclass, named after it)."""
    __slots__ = ()
    def backward(self, xp, g, s): return xp.zeros_like(g),


class SgnBackward(UnaryBackward):
    """sign of a complex z, ``z / |z|`` (0 at 0), is not piecewise constant: its gradient is
    the upstream one without its component along sign(z), over |z| (0 at z = 0), as
    PyTorch's ``sgn``."""
    __slots__ = ()
    saves = ("x",)

    def backward(self, xp, g, s):
        z = s.x
        r = xp.abs(z)
        zero = r == 0
        safe = xp.where(zero, xp.ones_like(r), r)
        sgn = z / safe
        out = (g - sgn * xp.real(xp.conj(sgn) * g)) / safe
        return xp.where(zero, xp.zeros_like(out), out),


class NegativeBackward(UnaryBackward):
    __slots__ = ()
    def backward(self, xp, g, s): return -g,


def negative(x):
    return unary(x, "negative", NegativeBackward, "negative", False)


class PositiveBackward(UnaryBackward):
    __slots__ = ()
    def backward(self, xp, g, s): return g,


def positive(x):
    return unary(x, "positive", PositiveBackward, "positive", False)


class SigmoidBackward(UnaryBackward):
    __slots__ = ()
    saves = ("out",)
    def deriv(self, xp, s):
        y = s.out
        return y * (1 - y)

    def backward(self, xp, g, s):
        if self.cplx or xp is not self.be.ns:
            return UnaryBackward.backward(self, xp, g, s)
        return xp.sigmoid_backward(g, s.out),      # (the backend's kernel: one pass where compiled)


def sigmoid(x):
    """``1 / (1 + exp(-x))``: the backend's sigmoid kernel (one pass where compiled)."""
    return unary(x, "sigmoid", SigmoidBackward, "sigmoid")


class ReluBackward(UnaryBackward):
    """Zero where the output is <= 0 (PyTorch's threshold_backward: the gradient passes at a
    NaN output, and is 0 at 0). Under ``create_graph`` the zeros are ``0 * y`` (y is 0
    there), so the gradient depends on the output as PyTorch's does: it requires grad, and
    its own gradient is zeros, not an error."""
    __slots__ = ()
    saves = ("out",)          # (as PyTorch's)
    def backward(self, xp, g, s):
        y = s.out
        if xp is not self.be.ns:
            return xp.where(y <= 0, y * 0, g),
        return xp.relu_backward(g, y),      # (the backend's kernel: one pass where compiled)


def relu(x):
    real_only(x, "relu")
    if isinstance(x, Variable) and x._be.dtype_of(x._data) is _dt.bool:
        raise DTypeError("relu: bool inputs are not supported (as in PyTorch)")
    return unary(x, "relu", ReluBackward, "relu", False)


def square(x):
    """Elementwise ``x * x`` (differentiable); bools give the default integer dtype, as in
    PyTorch."""
    if isinstance(x, Variable) and x._data.dtype not in x._be.inexact_natives \
            and x._be.dtype_of(x._data) is _dt.bool:
        be = x._be
        x = x._make(be.xp.astype(x._data, be.native_dtype(be.default_int)), be, None)
    return unary(x, "square", SquareBackward, "square", False)


def abs(x):
    """Elementwise ``|x|`` (differentiable; the gradient at 0 is 0). Not defined for bools,
    as in PyTorch."""
    if isinstance(x, Variable) and x._data.dtype not in x._be.inexact_natives \
            and x._be.dtype_of(x._data) is _dt.bool:
        raise DTypeError("abs: not supported for bool tensors (as in PyTorch)")
    return unary(x, "abs", AbsBackward, "abs", False)


def rsqrt(x):
    return reciprocal(sqrt(x))


def _copy(xp, d):
    return xp.asarray(d, copy=True)


class ConjBackward(UnaryBackward):
    __slots__ = ()
    def backward(self, xp, g, s): return xp.conj(g),


def conj(x):
    """The complex conjugate; a copy of a real (or bool) tensor, in its dtype."""
    if isinstance(x, Variable) and x._data.dtype not in x._be.complex_natives:
        return unary(x, _copy, ConjBackward, "conj", False)
    return unary(x, "conj", ConjBackward, "conj", False)


def _zero_grad_op(name):
    cls = type(name.capitalize() + "Backward", (ZeroGradBackward,), {"__slots__": ()})

    def op(x):
        if isinstance(x, Variable) and x._data.dtype not in x._be.inexact_natives:
            be = x._be
            if be.dtype_of(x._data) is _dt.bool and name != "sign":
                raise DTypeError(f"{name}: not supported for bool tensors (as in PyTorch)")
            if name != "sign" and x._data.dtype not in be.complex_natives:
                # an integer is its own rounding; a namespace may return the input array
                # itself (array-api-strict does), so that an in-place op on the result
                # would write into the input: a copy, as PyTorch returns
                return x._make(be.xp.asarray(x._data, copy=True), be, None)
        return unary(x, name, cls, name, False)
    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` (its gradient is zero almost everywhere)."
    return op


floor = _zero_grad_op("floor")
ceil = _zero_grad_op("ceil")
trunc = _zero_grad_op("trunc")
_sign = _zero_grad_op("sign")
_round = _zero_grad_op("round")


def _complex_sign(xp, z):
    """``z / |z|``, and ``0 + 0j`` at every complex zero (the standard's value; some
    namespaces keep a zero's signs)."""
    return xp.where(z == 0, 0j, xp.sign(z))


def sign(x):
    """Elementwise sign (its gradient is zero); a bool tensor is its own sign, as in PyTorch.
    For complex ``z`` it is ``z / |z|`` (0 at 0), differentiable (PyTorch's ``sgn``)."""
    if isinstance(x, Variable) and x._data.dtype not in x._be.inexact_natives \
            and x._be.dtype_of(x._data) is _dt.bool:
        return x._make(x._be.xp.asarray(x._data, copy=True), x._be, None)
    if isinstance(x, Variable) and x._data.dtype in x._be.complex_natives:
        return unary(x, _complex_sign, SgnBackward, "sign", False)
    return _sign(x)


class TorchSignBackward(ZeroGradBackward):
    __slots__ = ()


def _sign_nan_zero(xp, d):
    return xp.where(xp.isnan(d), xp.zeros_like(d), xp.sign(d))


def sgn(x):
    """PyTorch's ``sgn``: ``z / |z|`` for complex ``z`` (0 at 0); for a real tensor its sign,
    0 for a NaN as PyTorch gives (the standard's ``sign`` gives NaN there)."""
    if isinstance(x, Variable) and x._data.dtype in x._be.inexact_natives \
            and x._data.dtype not in x._be.complex_natives:
        return unary(x, _sign_nan_zero, TorchSignBackward, "sgn", False)
    return sign(x)


def pytorch_sign(x):
    """PyTorch's ``sign``: ``sgn`` of a real tensor (0 for NaN); refused for complex, as in
    PyTorch (``sgn`` is ``z / |z|``)."""
    if isinstance(x, Variable) and x._data.dtype in x._be.complex_natives:
        raise DTypeError(f"sign: not supported for complex tensors (dtype "
                         f"{x._be.dtype_of(x._data)}), as in PyTorch; use sgn (x / |x|)")
    return sgn(x)


def round(x, *, decimals=0):
    if decimals:
        f = 10.0 ** decimals
        return _round(x * f) / f
    return _round(x)


def _nograd_unary(name, fixed=None):
    """A non-differentiable elementwise op. ``fixed``: the bool that a test of floating-point
    values (isnan...) gives for every element of an integer or bool tensor (PyTorch's
    answer; some namespaces refuse such inputs)."""
    def op(x):
        if not isinstance(x, Variable):
            raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
        be = x._be
        d = x._data
        if fixed is not None and d.dtype not in be.inexact_natives:
            return x._make(be.xp.full(d.shape, fixed, dtype=be.native_dtype(_dt.bool),
                                      **be.device_kwargs), be, None)
        try:
            return x._make(getattr(be.xp, name)(d), be, None)
        except Exception:           # (each library words its refusal differently)
            raise _unary_error(name, x) from None
    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` (not differentiable)."
    return op


isnan = _nograd_unary("isnan", False)
isinf = _nograd_unary("isinf", False)
isfinite = _nograd_unary("isfinite", True)
_signbit = _nograd_unary("signbit")


def signbit(x):
    """Elementwise: the sign bit is set (-0.0 and NaNs with a sign too). Integers and bools
    as PyTorch: ``x < 0``."""
    if isinstance(x, Variable) and x._data.dtype not in x._be.inexact_natives:
        be = x._be
        d = x._data
        if be.dtype_of(d) is _dt.bool:
            return x._make(be.xp.zeros(d.shape, dtype=d.dtype, **be.device_kwargs), be, None)
        return x._make(d < 0, be, None)
    return _signbit(x)
bitwise_invert = _nograd_unary("bitwise_invert")
_logical_not = _nograd_unary("logical_not")


def logical_not(x):
    """Elementwise ``not x`` of the truth values (nonzero is True, as in PyTorch); a bool tensor."""
    if isinstance(x, Variable) and x._be.dtype_of(x._data) is not _dt.bool:
        return x._make(x._data == 0, x._be, None)
    return _logical_not(x)


class RealBackward(Node):
    """real(z): the real gradient returns as a complex one with zero imaginary part."""
    __slots__ = ("cdtype",)

    def backward(self, xp, g, s):
        return (g if self.cdtype is None else xp.astype(g, self.cdtype)),


class ImagBackward(RealBackward):
    """imag(z) = y for z = x + iy: PyTorch's convention gives the input gradient 1j * g."""
    __slots__ = ()

    def backward(self, xp, g, s):
        return xp.astype(g, self.cdtype) * 1j,


def _part(name, cls):
    def op(x):
        if not isinstance(x, Variable):
            raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
        be = x._be
        cplx = x._data.dtype in be.complex_natives
        if not cplx:
            if name == "imag":
                raise TypeError(f"imag: expected a complex tensor, got dtype {be.dtype_of(x._data)}")
            return x                        # the real part of a real tensor is the tensor
        # a copy (NumPy would give a view that writes would go through untracked)
        data = be.xp.asarray(getattr(be.xp, name)(x._data), copy=True)
        out = x._make(data, be, None)
        out._readonly = (f"{name} of a complex tensor is a copy, not a view: write the complex "
                         f"tensor instead")
        if x._node is None or not grad_state.enabled:
            return out
        node = record(cls, be, (x,))
        node.cdtype = x._data.dtype
        out._node = node
        return out
    op.__name__ = name
    op.__doc__ = f"The {name} part of a complex tensor (differentiable)."
    return op


real = _part("real", RealBackward)
imag = _part("imag", ImagBackward)

__all__ += ["negative", "positive", "sigmoid", "relu", "rsqrt", "conj", "sgn", "floor", "ceil", "trunc",
            "sign", "round", "isnan", "isinf", "isfinite", "signbit", "logical_not",
            "bitwise_invert", "real", "imag"]


class UnaryMethods:
    """Tensor methods for unary elementwise ops (in-place forms are in ``interop._ops.mutation``).
    The namespace functions themselves are the methods: no extra call on the hot path."""

    __slots__ = ()

    __neg__ = negative
    __pos__ = positive
    __abs__ = abs

    def __invert__(self):
        kind = self._be.dtype_of(self._data).kind
        if kind == "b":
            return logical_not(self)
        if kind not in "iu":
            raise DTypeError(f"~ (bitwise_not) is only defined for integer and bool tensors, got "
                             f"dtype {self._be.dtype_of(self._data)}")
        return bitwise_invert(self)

    exp = exp
    expm1 = expm1
    log = log
    log1p = log1p
    log2 = log2
    log10 = log10
    sqrt = sqrt
    rsqrt = rsqrt
    sin = sin
    cos = cos
    tan = tan
    tanh = tanh
    sinh = sinh
    cosh = cosh
    asin = arcsin = asin
    acos = arccos = acos
    atan = arctan = atan
    asinh = arcsinh = asinh
    acosh = arccosh = acosh
    atanh = arctanh = atanh
    reciprocal = reciprocal
    square = square
    abs = absolute = abs
    neg = negative = negative
    positive = positive
    sigmoid = sigmoid
    relu = relu
    conj = conj

    @property
    def mH(self):
        """The conjugate transpose of the last two dims (PyTorch's ``Tensor.mH``)."""
        return conj(matrix_transpose(self)) if self._data.dtype in self._be.complex_natives \
            else matrix_transpose(self)

    @property
    def H(self):
        """The conjugate transpose of a matrix (2-D only, as PyTorch's ``Tensor.H``)."""
        if self._data.ndim != 2:
            raise ValueError(f"tensor.H is only supported on matrices (2-D tensors), got "
                             f"{self._data.ndim}-D; use .mH for batches of matrices")
        return self.mH

    floor = floor
    ceil = ceil
    trunc = trunc
    sign = pytorch_sign
    sgn = sgn
    isnan = isnan
    isinf = isinf
    isfinite = isfinite
    signbit = signbit
    logical_not = logical_not
    bitwise_not = bitwise_invert

    def round(self, decimals=0):
        return round(self, decimals=decimals)

    @property
    def real(self):
        return real(self)

    @property
    def imag(self):
        return imag(self)
