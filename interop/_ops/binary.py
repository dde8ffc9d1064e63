"""Binary elementwise ops: arithmetic, comparisons, logical and bitwise ops.

Each differentiable op is a Node subclass named ``<Op>Backward`` whose
``backward(xp, g, s)`` is written once against the namespace ``xp`` (see
``interop.autograd.graph``). Binary nodes compute only the gradients whose input
needs one, and reduce/cast them only when the forward broadcast or promoted.
In-place forms (``+=``, ``add_``) are in ``interop._ops.mutation``.
"""

import math

from .. import dtypes as _dt
from .._args import broadcast_shapes, mixed_backends, real_only, SCALAR_TYPES
from .cast import astype
from .._errors import ArgumentError, DTypeError, IntegerDivisionByZero, ShapeError
from .._dtype_rules import promote_types, scalar_dtype
from ..autograd.unbroadcast import cast_back, unbroadcast
from ..autograd.graph import Node, OUTPUT, UNSAVED, slots
from ..autograd.grad_mode import state as grad_state
from ..autograd.variable import Variable, record     # (Variable: the base of every tensor)

__all__ = ["add", "subtract", "multiply", "divide", "pow", "remainder", "floor_divide", "maximum",
           "minimum", "atan2", "logaddexp", "hypot", "copysign", "nextafter", "equal", "not_equal", "less", "less_equal",
           "greater", "greater_equal", "logical_and", "logical_or", "logical_xor", "bitwise_and",
           "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift", "isclose",
           "allclose"]

_tuple_new = tuple.__new__


Broadcast = slots("Broadcast", ("shape_a", "cast_a", "shape_b", "cast_b", "complex"))
Broadcast.__doc__ = """How a binary node's gradients return to its operands: the shapes to reduce
them to (None for a scalar operand), the casts from ``cast_back``, and whether the result
is complex (then derivatives are conjugated)."""


class BinaryBackward(Node):
    """Base of binary nodes: ``da`` and ``db`` are the gradients of operands ``a`` and ``b``.
    The saved slots are ``a``, ``b`` and ``out``; ``da_reads`` and ``db_reads`` name the ones
    each gradient's formula reads. Only what a needed gradient reads is saved (as PyTorch
    does), so an in-place change to anything else is no error; an unsaved slot holds
    ``UNSAVED``. ``broadcast`` is None, or a :data:`Broadcast` where the forward broadcast,
    promoted or was complex."""

    __slots__ = ("broadcast",)
    saves = ("a", "b", "out")
    da_reads = db_reads = ()

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        bad = (set(cls.da_reads) | set(cls.db_reads)) - set(BinaryBackward.saves)
        if bad:
            raise TypeError(f"{cls.__name__}: da_reads/db_reads name the slots a, b, out; got "
                            f"{sorted(bad)}")
        # plans[(a needs grad) << 1 | (b needs grad)] = (save a, save b, save out), or None
        # where nothing is saved
        plans = [tuple(any(slot in reads for reads in needed) for slot in ("a", "b", "out"))
                 for needed in ((), (cls.db_reads,), (cls.da_reads,),
                                (cls.da_reads, cls.db_reads))]
        cls.plans = [p if any(p) else None for p in plans]

    def backward(self, xp, g, s):
        nxt = self.next
        ga = self.da(xp, g, s) if nxt[0] is not None else None
        gb = self.db(xp, g, s) if nxt[1] is not None else None
        bc = self.broadcast
        if bc is not None:
            if ga is not None and bc.shape_a is not None:
                ga = unbroadcast(xp, ga, bc.shape_a, bc.cast_a)
            if gb is not None and bc.shape_b is not None:
                gb = unbroadcast(xp, gb, bc.shape_b, bc.cast_b)
        return ga, gb

    def conj(self, xp, v):
        """conj(v) where the forward was complex (PyTorch's conjugate Wirtinger convention)."""
        bc = self.broadcast
        if bc is None or not bc.complex:
            return v
        if v.__class__ in (int, float, bool):
            return v
        if v.__class__ is complex:
            return v.conjugate()
        return xp.conj(v)


_BOOL_SUB = ("subtract: the `-` operator with a bool tensor is not supported (as in PyTorch); to "
             "invert a mask use `~` or logical_not()")


def _promoted(x, dtype):
    """``x`` cast to ``dtype`` as a recorded op where ``x`` requires grad: the cast copy is what
    the next node saves (so an in-place change of ``x`` afterwards is no error), and the cast's
    own backward returns the gradient in ``x``'s dtype."""
    return astype(x, dtype) if x._be.from_native[x._data.dtype] is not dtype else x


def _kind(be, v):
    if hasattr(v, "dtype"):
        return be.dtype_of(v).kind
    return "b" if v.__class__ is bool else "i" if v.__class__ is int else "f"


# Where a namespace refuses bools that PyTorch takes: the op on bools, as PyTorch defines it.
_BOOL_LOGICAL = {"add": "logical_or", "multiply": "logical_and"}
_BOOL_NUMERIC = ("less", "less_equal", "greater", "greater_equal", "maximum", "minimum")


def _operand_dtype(v):
    if isinstance(v, Variable):
        return str(v._be.dtype_of(v._data))
    return f"a Python {type(v).__name__}"


def _fallback(fwd, op, a, b, ad, bd, be):
    """``fwd(ad, bd)`` (the data of operands ``a``, ``b``, promoted) raised in the backend.
    Return the result PyTorch gives where a namespace refuses what PyTorch defines (bools on
    a standard-only namespace; integer powers with negative exponents), or raise an error in
    interop's own words (the backend's text never reaches the user). Only failing calls come
    here: the common case pays nothing."""
    try:
        broadcast_shapes(tuple(getattr(ad, "shape", ())), tuple(getattr(bd, "shape", ())), op=op)
    except ShapeError as e:
        raise e from None
    xp = be.xp
    ka, kb = _kind(be, ad), _kind(be, bd)
    if ka == "b" and kb == "b":
        if op in _BOOL_LOGICAL:
            return getattr(xp, _BOOL_LOGICAL[op])(ad, bd)
        if op == "subtract":
            raise DTypeError("subtract: the `-` operator with two bool tensors is not supported (as "
                             "in PyTorch); use `^` or logical_xor() instead") from None
        if op in _BOOL_NUMERIC:
            i8 = be.native_dtype(_dt.int8)
            out = fwd(xp.astype(ad, i8) if hasattr(ad, "dtype") else int(ad),
                      xp.astype(bd, i8) if hasattr(bd, "dtype") else int(bd))
            return out if out.dtype == xp.bool else xp.astype(out, xp.bool)
    if op == "pow" and ka in "iub" and kb in "iu":
        if not hasattr(bd, "dtype"):
            raise ArgumentError(f"pow: integers to negative integer powers are not allowed (base "
                                f"{_operand_dtype(a)}, exponent {bd}); use a floating-point "
                                f"base") from None
        return _int_pow(xp, ad, bd)
    raise DTypeError(f"{op}: not supported for operands of dtypes {_operand_dtype(a)} and "
                     f"{_operand_dtype(b)}") from None


def _int_pow(xp, a, b):
    """Integer ``a ** b`` where the exponent array ``b`` has negative entries, as PyTorch
    computes it: 1 and -1 to any power stay +-1, any other base to a negative power is 0."""
    if not hasattr(a, "dtype"):
        a = xp.full_like(b, a)
    neg = b < 0
    p = a ** xp.where(neg, xp.zeros_like(b), b)
    one = xp.ones_like(p)
    sign = xp.where(b % 2 != 0, -one, one)
    special = xp.where(a == 1, one, xp.where(a == -1, sign, xp.zeros_like(p)))
    return xp.where(neg, special, p)


def _array_like(v):
    return hasattr(v, "__array_namespace__") or hasattr(v, "__array__") or hasattr(v, "__dlpack__")


def binary(a, b, fwd, cls, op, reverse=False):
    """Run ``fwd(a_data, b_data)`` and record ``cls`` (None: never record), saving what
    ``cls.saves`` asks for. ``reverse``: ``b`` is the left operand (``2 - x``).
    An array of another library is a TypeError; any other unknown operand gives
    NotImplemented (so that a Python operator can try its reflected method)."""
    if not isinstance(a, Variable):
        if isinstance(b, Variable):
            return binary(b, a, fwd, cls, op, not reverse)
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    be = a._be
    bt = isinstance(b, Variable)
    if bt:
        if b._be is not be:
            raise mixed_backends(a, b, op)
        if a._data.dtype != b._data.dtype:     # (see interop._dtype_rules)
            da, db = be.from_native[a._data.dtype], be.from_native[b._data.dtype]
            if op == "subtract" and (da is _dt.bool or db is _dt.bool):
                raise DTypeError(_BOOL_SUB)
            rt = promote_types(da, db)
            a, b = _promoted(a, rt), _promoted(b, rt)
        ad = a._data
        bd = b._data
    elif b.__class__ in SCALAR_TYPES:
        if b.__class__ is not float or a._data.dtype not in be.inexact_natives:
            cur = be.from_native[a._data.dtype]
            if op == "subtract" and (b.__class__ is bool or cur is _dt.bool):
                raise DTypeError(_BOOL_SUB)
            rt = scalar_dtype(b, cur, be)
            if rt is not cur:
                a = _promoted(a, rt)
            if b.__class__ is bool and be.from_native[a._data.dtype].kind != "b":
                b = int(b)      # the standard promotes Python bools with bool arrays only
        ad = a._data
        bd = b
        if (b.__class__ is float or b.__class__ is int and -_EXACT < b < _EXACT) \
                and fwd in _ARITHMETIC and ad.dtype in be.float_natives:
            bd = be.scalar(b, ad.dtype)         # (the same result, faster: see Backend.scalar)
            if bd is None:
                bd = b
    else:
        for st in SCALAR_TYPES:          # subclasses (numpy.float64 is a float): plain scalars
            if isinstance(b, st):
                return binary(a, st(b), fwd, cls, op, reverse)
        if _array_like(b):
            raise TypeError(f"{op}: expected a Tensor or a Python scalar, got a "
                            f"{type(b).__module__}.{type(b).__name__}; convert arrays of other "
                            f"libraries with interop.asarray(...) first")
        return NotImplemented
    at = True
    if reverse:
        a, b, ad, bd, at, bt = b, a, bd, ad, bt, at
    try:
        data = fwd(ad, bd)
    except Warning:             # a library's warning turned into an error (-W error): its own
        raise
    except Exception:           # (each library words its refusal differently)
        data = _fallback(fwd, op, a, b, ad, bd, be)
    an = a._node if at else None
    bn = b._node if bt else None
    if (an is None and bn is None) or cls is None or not grad_state.enabled:
        return (a if at else b)._make(data, be, None)
    plan = cls.plans[(an is not None) << 1 | (bn is not None)]
    if plan is None:                # (no slot read: the tuples stay empty)
        node = record(cls, be, (a, b))
    else:
        sa, sb, so = plan
        node = record(cls, be, (a, b),
                      (a if sa else UNSAVED, b if sb else UNSAVED, OUTPUT if so else UNSAVED),
                      (ad if sa else UNSAVED, bd if sb else UNSAVED, data if so else UNSAVED))
    # Reduce in backward only where the forward broadcast (a promoted operand is a recorded
    # cast, whose own node casts the gradient back).
    ds = data.shape
    dd = data.dtype
    cplx = dd in be.complex_natives
    if cplx or (at and (ad.shape != ds or ad.dtype != dd)) or (bt and (bd.shape != ds or bd.dtype != dd)):
        node.broadcast = _tuple_new(Broadcast, (
            ad.shape if at else None, cast_back(be, ad.dtype, dd) if at else None,
            bd.shape if bt else None, cast_back(be, bd.dtype, dd) if bt else None, cplx))
    else:
        node.broadcast = None
    return (a if at else b)._make(data, be, node)


def _add(x, y): return x + y
def _sub(x, y): return x - y
def _mul(x, y): return x * y
def _div(x, y): return x / y
def _pow(x, y): return x ** y
def _mod(x, y): return x % y
def _fdiv(x, y): return x // y


# The ops where binary() hands a Python float or int operand of a float array over as a 0-d
# array of the array's dtype (Backend.scalar); not pow: a library may special-case a Python
# exponent (x ** 2 as a square). Ints only where a float64 holds them exactly, so that the
# conversion rounds once, as the library's own does.
_ARITHMETIC = frozenset((_add, _sub, _mul, _div))
_EXACT = 2 ** 53


def _named(x1, x2, fwd, cls, op):
    """``binary`` for a named function: an operand it cannot take is a TypeError here (an
    operator returns NotImplemented instead, so that Python can try the other side)."""
    out = binary(x1, x2, fwd, cls, op)
    if out is NotImplemented:
        raise TypeError(f"{op}: expected Tensors or Python scalars (bool, int, float, complex), got "
                        f"{type(x1).__name__} and {type(x2).__name__}")
    return out


def _scaled(x1, x2, alpha, op):
    """``alpha * x2`` for ``add``/``subtract``, as PyTorch: a Python-scalar ``x2`` is scaled
    in Python; a float ``alpha`` with two integral operands is an error (PyTorch's); with two
    bool operands a bool ``alpha`` (any number, by its truth) keeps the result bool."""
    if alpha.__class__ not in SCALAR_TYPES:
        raise TypeError(f"{op}: alpha must be a Python number, got {type(alpha).__name__}")
    if alpha.__class__ is bool and not (_is_bool(x1) and _is_bool(x2)):
        raise ArgumentError(f"{op}: a bool alpha is only supported for bool results (as in "
                            f"PyTorch); pass alpha={int(alpha)}")
    if alpha.__class__ in (float, complex) and _int_kind(x1) and _int_kind(x2):
        raise ArgumentError(f"{op}: for integral input tensors, argument alpha must not be a "
                            f"floating point number (got {alpha!r}), as in PyTorch")
    if not isinstance(x2, Variable):
        if x2.__class__ not in SCALAR_TYPES:
            return x2               # (the op itself names the bad operand)
        if x2.__class__ is bool and alpha.__class__ is bool:
            return x2 and alpha
        return x2 * alpha
    if _is_bool(x2) and (alpha.__class__ is bool or _is_bool(x1)):
        return x2 if alpha else logical_and(x2, False)
    return multiply(x2, alpha)


class AddBackward(BinaryBackward):
    __slots__ = ()
    def da(self, xp, g, s): return g
    def db(self, xp, g, s): return g

    def backward(self, xp, g, s):
        if self.broadcast is not None:
            return BinaryBackward.backward(self, xp, g, s)
        nxt = self.next                 # (the common case: same shapes, nothing to reduce)
        return (None if nxt[0] is None else g), (None if nxt[1] is None else g)


def add(x1, x2, *, alpha=None):
    if alpha is not None:
        x2 = _scaled(x1, x2, alpha, "add")
    return _named(x1, x2, _add, AddBackward, "add")


class SubBackward(BinaryBackward):
    __slots__ = ()
    def da(self, xp, g, s): return g
    def db(self, xp, g, s): return -g


def subtract(x1, x2, *, alpha=None):
    if alpha is not None:
        x2 = _scaled(x1, x2, alpha, "subtract")
    return _named(x1, x2, _sub, SubBackward, "subtract")


class MulBackward(BinaryBackward):
    __slots__ = ()
    da_reads = ("b",)
    db_reads = ("a",)
    def da(self, xp, g, s): return g * self.conj(xp, s.b)
    def db(self, xp, g, s): return g * self.conj(xp, s.a)

    def backward(self, xp, g, s):
        if self.broadcast is not None:
            return BinaryBackward.backward(self, xp, g, s)
        nxt = self.next                 # (the common case: real, same shapes, no casts)
        return (None if nxt[0] is None else g * s.b), (None if nxt[1] is None else g * s.a)


def multiply(x1, x2):
    return _named(x1, x2, _mul, MulBackward, "multiply")


def _int_kind(x):
    if isinstance(x, Variable):
        return x._data.dtype not in x._be.inexact_natives
    return x.__class__ is int or x.__class__ is bool


def _is_bool(x):
    if isinstance(x, Variable):
        return x._be.dtype_of(x._data) is _dt.bool
    return x.__class__ is bool


def _to_default_float(x):
    return astype(x, x._be.default_float) if isinstance(x, Variable) else x


def _check_int_division(x1, x2, op):
    """Integer ``//``, ``%`` and rounding division (both operands of integer or bool kind):
    by zero is an error, as in PyTorch (NumPy gives 0 with a warning); two bools have no
    such division in PyTorch."""
    if _is_bool(x1) and _is_bool(x2):
        raise DTypeError(f"{op}: not supported for two bool operands (as in PyTorch); cast to an "
                         f"integer dtype first")
    if 0 in broadcast_shapes(*(tuple(v._data.shape) for v in (x1, x2) if isinstance(v, Variable)),
                             op=op):
        return              # nothing is divided (as in PyTorch: an empty result)
    if isinstance(x2, Variable):
        d = x2._data
        xp = x2._be.xp
        zero = not bool(xp.all(d)) if x2._be.dtype_of(d) is _dt.bool else bool(xp.any(d == 0))
        what = f"the divisor (shape {tuple(d.shape)}, dtype {x2._be.dtype_of(d)}) holds a 0"
    else:
        zero = x2 == 0
        what = f"the divisor is {x2!r}"
    if zero:
        raise IntegerDivisionByZero(f"{op}: integer division by zero ({what}), as in PyTorch; cast "
                                    f"to a floating dtype for inf/nan results")


def _trunc_divide(x1, x2):
    """Integer division rounded toward zero, exactly (through floating point it would lose
    precision above 2**53 and give a float)."""
    _check_int_division(x1, x2, "divide")
    q = binary(x1, x2, _fdiv, None, "divide")
    r = binary(x1, x2, _mod, None, "divide")
    be = q._be
    xp = be.xp
    # floor and trunc differ where the quotient is negative and inexact: there floor is 1 lower
    sa = x1 < 0
    sb = x2 < 0
    differ = (sa != sb) if isinstance(sa, Variable) else (sb != sa)
    adjust = xp.logical_and(r._data != 0, differ._data)
    return q._make(xp.where(adjust, q._data + 1, q._data), be, None)


class DivBackward(BinaryBackward):
    __slots__ = ()
    da_reads = ("b",)
    db_reads = ("a", "b")
    def da(self, xp, g, s): return g / self.conj(xp, s.b)
    def db(self, xp, g, s):
        # d(a/b)/db = -a/b^2
        b = s.b
        return -g * self.conj(xp, s.a / (b * b))


def divide(x1, x2, *, rounding_mode=None):
    """True division; integer / integer gives the default float dtype (as in PyTorch).
    ``rounding_mode="trunc"`` / ``"floor"`` round the quotient (integer operands give an
    exact integer result; an integer divisor of 0 is an error)."""
    if rounding_mode is None:
        if _int_kind(x1) and _int_kind(x2):
            x1 = _to_default_float(x1)
            x2 = _to_default_float(x2)
        return _named(x1, x2, _div, DivBackward, "divide")
    if rounding_mode == "floor":
        return floor_divide(x1, x2)
    if rounding_mode == "trunc":
        if _int_kind(x1) and _int_kind(x2):
            return _trunc_divide(x1, x2)
        return divide(x1, x2).trunc()
    raise ValueError(f"divide: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")


def _bool_pow(base, exponent):
    """``base ** exponent`` where both are bool (tensors or Python bools), as PyTorch: two
    bool tensors, or a bool base over a bool tensor, are refused; a bool tensor to a Python
    bool power stays bool (``m ** True`` is a copy of ``m``, ``m ** False`` all True)."""
    if isinstance(exponent, Variable):
        raise DTypeError("pow: not supported for a bool base with a bool exponent tensor (as in "
                         "PyTorch); cast one to an integer or floating dtype first")
    be = base._be
    xp = be.xp
    d = base._data
    return base._make(xp.asarray(d, copy=True) if exponent else xp.ones_like(d), be, None)


class PowBackward(BinaryBackward):
    __slots__ = ()
    da_reads = ("a", "b")
    db_reads = ("a", "out")
    def da(self, xp, g, s):
        a, b = s.a, s.b
        if b.__class__ in (int, float):
            if b == 0:
                return g * 0
            return g * self.conj(xp, b * a ** (b - 1))
        # where a == 0 and b == 0 the gradient is 0 (as in PyTorch), not nan: only there is
        # the base replaced (elsewhere b * a**(b-1) must keep its derivative in b, a**(b-1))
        return g * self.conj(xp, b * xp.where((a == 0) & (b == 0), xp.ones_like(a), a) ** (b - 1))
    def db(self, xp, g, s):
        # out * log(a); where a == 0, PyTorch's convention: 0 for b >= 0 (out is 0 or 1:
        # finite), out * log(0) = -inf * out for b < 0 (out is inf). Nothing infinite is
        # multiplied outside the a == 0 elements (their gradient would be 0 * inf = nan
        # under create_graph).
        a, out = s.a, s.out
        if a.__class__ in (int, float):
            if a > 0:
                return g * (out * math.log(a))
            if a == 0:
                return g * (out * xp.where(xp.isfinite(out), xp.zeros_like(out),
                                           xp.full_like(out, float("-inf"))))
            return g * (out * float("nan"))
        zero = a == 0
        la = xp.log(xp.where(zero, xp.ones_like(a), a))
        la = xp.where(zero & ~xp.isfinite(out), xp.full_like(la, float("-inf")), la)
        return g * self.conj(xp, xp.where(zero & xp.isfinite(out), xp.zeros_like(out), out * la))


def pow(x1, x2):
    if _is_bool(x1) and _is_bool(x2):
        return _bool_pow(x1, x2)
    return _named(x1, x2, _pow, PowBackward, "pow")


class RemainderBackward(BinaryBackward):
    __slots__ = ()
    db_reads = ("a", "b")
    def da(self, xp, g, s): return g
    def db(self, xp, g, s):
        a, b = s.a, s.b
        return -g * xp.floor(a / b)


def remainder(x1, x2):
    if _int_kind(x1) and _int_kind(x2):
        _check_int_division(x1, x2, "remainder")
    return _named(x1, x2, _mod, RemainderBackward, "remainder")


def floor_divide(x1, x2):
    """``floor(x1 / x2)`` as Python's ``//``. With an infinite operand and a finite other, the
    standard's values (``inf // 2`` is inf, ``1 // -inf`` is -0), where NumPy and PyTorch give
    NaN and -1; otherwise PyTorch's."""
    if _int_kind(x1) and _int_kind(x2):
        _check_int_division(x1, x2, "floor_divide")
    out = _nograd(x1, x2, _fdiv, "floor_divide")
    be, nd = out._be, out._data.dtype
    if nd in be.inexact_natives:
        out._data = _floor_div_infinities(be.xp, out._data, operand(x1, be, nd), operand(x2, be, nd))
    return out


def operand(v, be, nd):
    """A tensor or Python scalar operand as an array of backend ``be`` in native dtype ``nd``."""
    if isinstance(v, Variable):
        return v._data if v._data.dtype == nd else be.xp.astype(v._data, nd)
    return be.xp.asarray(v, dtype=nd, **be.device_kwargs)


def _floor_div_infinities(xp, q, a, b):
    special = (xp.isinf(a) & xp.isfinite(b)) | (xp.isfinite(a) & xp.isinf(b))
    if not xp.any(special):
        return q
    return xp.where(special, xp.floor(a / b), q)


def _xp_of(x1, x2, op):
    """The namespace of whichever operand is a tensor (a clear error if neither is)."""
    t = x1 if isinstance(x1, Variable) else x2
    if not isinstance(t, Variable):
        raise TypeError(f"{op}: expected at least one Tensor, got {type(x1).__name__} and "
                        f"{type(x2).__name__}")
    return t._be.xp


class MaximumBackward(BinaryBackward):
    """PyTorch's convention: ties split the gradient evenly, and where either operand is NaN
    (the result is NaN) both get the full gradient."""
    __slots__ = ()
    da_reads = ("a", "b")
    db_reads = ("a", "b")
    def da(self, xp, g, s):
        a, b = s.a, s.b
        return xp.where(a < b, xp.zeros_like(g), xp.where(a == b, g / 2, g))
    def db(self, xp, g, s):
        a, b = s.a, s.b
        return xp.where(b < a, xp.zeros_like(g), xp.where(a == b, g / 2, g))


def maximum(x1, x2):
    real_only(x1, "maximum")
    real_only(x2, "maximum")
    return _named(x1, x2, _xp_of(x1, x2, "maximum").maximum, MaximumBackward, "maximum")


class MinimumBackward(BinaryBackward):
    __slots__ = ()
    da_reads = ("a", "b")
    db_reads = ("a", "b")
    def da(self, xp, g, s):
        a, b = s.a, s.b
        return xp.where(a > b, xp.zeros_like(g), xp.where(a == b, g / 2, g))
    def db(self, xp, g, s):
        a, b = s.a, s.b
        return xp.where(b > a, xp.zeros_like(g), xp.where(a == b, g / 2, g))


def minimum(x1, x2):
    real_only(x1, "minimum")
    real_only(x2, "minimum")
    return _named(x1, x2, _xp_of(x1, x2, "minimum").minimum, MinimumBackward, "minimum")


class Atan2Backward(BinaryBackward):
    """At the origin both gradients are 0 (PyTorch's convention), and so is their own
    derivative there (PyTorch's is NaN): no 0/0 NaN reaches the other elements through a
    broadcast's sum."""
    __slots__ = ()
    da_reads = ("a", "b")
    db_reads = ("a", "b")
    @staticmethod
    def _grad(xp, g, num, a, b):
        r2 = a * a + b * b
        origin = r2 == 0
        q = g * num / xp.where(origin, xp.ones_like(r2), r2)
        return xp.where(origin, xp.zeros_like(q), q)
    def da(self, xp, g, s): return self._grad(xp, g, s.b, s.a, s.b)
    def db(self, xp, g, s): return self._grad(xp, g, -s.a, s.a, s.b)


def atan2(x1, x2):
    """``atan2``; integer and bool operands give the default float dtype (as in PyTorch)."""
    xp = _xp_of(x1, x2, "atan2")
    if _int_kind(x1) and _int_kind(x2):
        x1 = _to_default_float(x1)
        x2 = _to_default_float(x2)
    return _named(x1, x2, xp.atan2, Atan2Backward, "atan2")


def _floating_only(x1, x2, op):
    """Ops PyTorch defines for floating point only (NumPy would give float64 for integers)."""
    if _int_kind(x1) and _int_kind(x2):
        (t, o) = (x1, x2) if isinstance(x1, Variable) else (x2, x1)
        other = o._be.dtype_of(o._data) if isinstance(o, Variable) else type(o).__name__
        raise DTypeError(f"{op}: expected floating-point operands, got {t._be.dtype_of(t._data)} "
                         f"and {other}; cast to a floating dtype first")


class LogAddExpBackward(BinaryBackward):
    """``sigmoid(a - b)`` and ``sigmoid(b - a)`` from the inputs (PyTorch saves those, not
    the output), as ``0.5 tanh(d / 2) + 0.5``, which never overflows."""
    __slots__ = ()
    da_reads = ("a", "b")
    db_reads = ("a", "b")
    def da(self, xp, g, s): return g * (0.5 * xp.tanh((s.a - s.b) * 0.5) + 0.5)
    def db(self, xp, g, s): return g * (0.5 * xp.tanh((s.b - s.a) * 0.5) + 0.5)


def logaddexp(x1, x2):
    xp = _xp_of(x1, x2, "logaddexp")
    _floating_only(x1, x2, "logaddexp")
    return _named(x1, x2, xp.logaddexp, LogAddExpBackward, "logaddexp")


class CopysignBackward(BinaryBackward):
    """``|x1|`` with the sign of ``x2``: the gradient reaches x1 with the sign flip (zero at
    x1 = 0, as PyTorch's); x2 only picks a sign, its gradient is zero."""
    __slots__ = ()
    da_reads = ("a", "out")
    def da(self, xp, g, s): return g * xp.sign(s.a) * xp.sign(s.out)
    def db(self, xp, g, s): return xp.zeros_like(g)


def copysign(x1, x2, /):
    """Elementwise ``|x1|`` with the sign of ``x2`` (real floating dtypes)."""
    xp = _xp_of(x1, x2, "copysign")
    real_only(x1, "copysign")
    real_only(x2, "copysign")
    if _int_kind(x1) and _int_kind(x2):     # integers and bools compute in the default float,
        x1, x2 = (astype(v, v._be.default_float) if isinstance(v, Variable) else v   # as PyTorch
                  for v in (x1, x2))
    return _named(x1, x2, xp.copysign, CopysignBackward, "copysign")


class NextafterBackward(BinaryBackward):
    """nextafter steps to the neighbouring float: no derivative (PyTorch has none either)."""
    __slots__ = ()
    def da(self, xp, g, s):
        raise RuntimeError("nextafter is not differentiable: its result is the neighbouring "
                           "floating-point number, a step function of its inputs; detach() them")
    db = da


def nextafter(x1, x2, /):
    """Elementwise: the next representable floating-point value after ``x1`` toward ``x2``
    (real floating dtypes; not differentiable)."""
    xp = _xp_of(x1, x2, "nextafter")
    real_only(x1, "nextafter")
    real_only(x2, "nextafter")
    _floating_only(x1, x2, "nextafter")
    return _named(x1, x2, xp.nextafter, NextafterBackward, "nextafter")


class HypotBackward(BinaryBackward):
    __slots__ = ()
    da_reads = ("a", "out")
    db_reads = ("b", "out")
    def da(self, xp, g, s): return g * s.a / s.out
    def db(self, xp, g, s): return g * s.b / s.out


def hypot(x1, x2):
    xp = _xp_of(x1, x2, "hypot")
    _floating_only(x1, x2, "hypot")
    return _named(x1, x2, xp.hypot, HypotBackward, "hypot")


def _nograd(x1, x2, fwd, op):
    """An elementwise op without a useful gradient (comparisons, floor_divide): never recorded."""
    return _named(x1, x2, fwd, None, op)


def _cmp(fname, sym):
    ordering = fname in ("less", "less_equal", "greater", "greater_equal")

    def f(x1, x2):
        if ordering:
            real_only(x1, fname)
            real_only(x2, fname)
        return _nograd(x1, x2, getattr(_xp_of(x1, x2, fname), fname), fname)
    f.__name__ = fname
    f.__doc__ = f"Elementwise ``x1 {sym} x2`` (a bool tensor; not differentiable)."
    return f


equal = _cmp("equal", "==")
not_equal = _cmp("not_equal", "!=")
less = _cmp("less", "<")
less_equal = _cmp("less_equal", "<=")
greater = _cmp("greater", ">")
greater_equal = _cmp("greater_equal", ">=")


def _truth(x):
    """A tensor as bools (nonzero is True, as PyTorch's logical ops read any dtype); Python
    scalars likewise."""
    if isinstance(x, Variable):
        d = x._data
        if x._be.dtype_of(d) is _dt.bool:
            return x
        return x._make(d != 0, x._be, None)
    return bool(x) if x.__class__ in SCALAR_TYPES else x


def _logical(fname, sym):
    def f(x1, x2):
        xp = _xp_of(x1, x2, fname)
        return _nograd(_truth(x1), _truth(x2), getattr(xp, fname), fname)
    f.__name__ = fname
    f.__doc__ = (f"Elementwise ``x1 {sym} x2`` of the truth values (nonzero is True, as in "
                 f"PyTorch); a bool tensor.")
    return f


logical_and = _logical("logical_and", "and")
logical_or = _logical("logical_or", "or")
logical_xor = _logical("logical_xor", "xor")


def _bitwise(fname, sym):
    shift = "shift" in fname

    def f(x1, x2):
        if shift and _is_bool(x1) and _is_bool(x2):
            raise DTypeError(f"{fname}: not supported for two bool operands (as in PyTorch); cast to "
                             f"an integer dtype first")
        return _nograd(x1, x2, getattr(_xp_of(x1, x2, fname), fname), fname)
    f.__name__ = fname
    f.__doc__ = (f"Elementwise ``x1 {sym} x2`` of integer or bool tensors; a bool with an integer "
                 f"operand is promoted (``bool & int64`` is int64, as in PyTorch).")
    return f


bitwise_and = _bitwise("bitwise_and", "&")
bitwise_or = _bitwise("bitwise_or", "|")
bitwise_xor = _bitwise("bitwise_xor", "^")
bitwise_left_shift = _bitwise("bitwise_left_shift", "<<")
bitwise_right_shift = _bitwise("bitwise_right_shift", ">>")


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|a - b| <= atol + rtol * |b|`` (a bool tensor)."""
    if all(isinstance(v, Variable) and v._be.dtype_of(v._data) is _dt.bool for v in (a, b)):
        return equal(a, b)             # (bools are close when equal, as in PyTorch)
    prev = grad_state.enabled
    grad_state.enabled = False
    try:
        close = (a - b).abs() <= atol + rtol * (b.abs() if isinstance(b, Variable) else abs(b))
        close = close | (a == b)
        if equal_nan:
            close = close | (a.isnan() & (b.isnan() if isinstance(b, Variable) else False))
        return close
    finally:
        grad_state.enabled = prev


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when every element of ``a`` and ``b`` is close (see :func:`isclose`)."""
    return bool(isclose(a, b, rtol, atol, equal_nan).all().item())


_COMPARABLE = (Variable,) + SCALAR_TYPES


class ArithmeticMethods:
    """Tensor operators and methods for binary elementwise ops (in-place forms are in
    ``interop._ops.mutation``)."""

    __slots__ = ()

    # hot operators: straight to binary()
    def __add__(self, other):
        return binary(self, other, _add, AddBackward, "add")

    __radd__ = __add__

    def __sub__(self, other):
        return binary(self, other, _sub, SubBackward, "subtract")

    def __rsub__(self, other):
        return binary(self, other, _sub, SubBackward, "subtract", True)

    def __mul__(self, other):
        return binary(self, other, _mul, MulBackward, "multiply")

    __rmul__ = __mul__

    def __truediv__(self, other):
        if self._data.dtype in self._be.inexact_natives:
            return binary(self, other, _div, DivBackward, "divide")
        return divide(self, other)

    def __rtruediv__(self, other):
        return divide(other, self)

    def __pow__(self, other):
        if _is_bool(self) and _is_bool(other):
            return _bool_pow(self, other)
        return binary(self, other, _pow, PowBackward, "pow")

    def __rpow__(self, other):
        if _is_bool(self) and _is_bool(other):
            return _bool_pow(other, self)
        return binary(self, other, _pow, PowBackward, "pow", True)

    def __mod__(self, other):
        if self._data.dtype in self._be.inexact_natives:
            return binary(self, other, _mod, RemainderBackward, "remainder")
        if not isinstance(other, _COMPARABLE):
            return NotImplemented
        return remainder(self, other)

    def __rmod__(self, other):
        if self._data.dtype in self._be.inexact_natives:
            return binary(self, other, _mod, RemainderBackward, "remainder", True)
        if not isinstance(other, _COMPARABLE):
            return NotImplemented
        return remainder(other, self)

    def __floordiv__(self, other):
        if not isinstance(other, _COMPARABLE):
            return NotImplemented
        return floor_divide(self, other)

    def __rfloordiv__(self, other):
        if not isinstance(other, _COMPARABLE):
            return NotImplemented
        return floor_divide(other, self)

    # comparisons (bool results, not differentiable)
    def __eq__(self, other):
        if isinstance(other, _COMPARABLE):
            return equal(self, other)
        return False

    def __ne__(self, other):
        if isinstance(other, _COMPARABLE):
            return not_equal(self, other)
        return True

    __hash__ = object.__hash__

    def __lt__(self, other):
        return less(self, other)

    def __le__(self, other):
        return less_equal(self, other)

    def __gt__(self, other):
        return greater(self, other)

    def __ge__(self, other):
        return greater_equal(self, other)

    # & | ^ are bitwise (on bools: logical, with a bool result; a bool with an integer is
    # promoted, as in PyTorch)
    def __and__(self, other):
        return binary(self, other, self._be.xp.bitwise_and, None, "bitwise_and")

    __rand__ = __and__

    def __or__(self, other):
        return binary(self, other, self._be.xp.bitwise_or, None, "bitwise_or")

    __ror__ = __or__

    def __xor__(self, other):
        return binary(self, other, self._be.xp.bitwise_xor, None, "bitwise_xor")

    __rxor__ = __xor__

    def __lshift__(self, other):
        if not isinstance(other, _COMPARABLE):
            return NotImplemented
        return bitwise_left_shift(self, other)

    def __rlshift__(self, other):
        if not isinstance(other, _COMPARABLE):
            return NotImplemented
        return bitwise_left_shift(other, self)

    def __rshift__(self, other):
        if not isinstance(other, _COMPARABLE):
            return NotImplemented
        return bitwise_right_shift(self, other)

    def __rrshift__(self, other):
        if not isinstance(other, _COMPARABLE):
            return NotImplemented
        return bitwise_right_shift(other, self)

    # named methods
    def add(self, other, *, alpha=None):
        return add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=None):
        return subtract(self, other, alpha=alpha)

    subtract = sub

    def mul(self, other):
        return multiply(self, other)

    multiply = mul

    def div(self, other, *, rounding_mode=None):
        return divide(self, other, rounding_mode=rounding_mode)

    divide = div
    true_divide = div

    def pow(self, exponent):
        return pow(self, exponent)

    def remainder(self, other):
        return remainder(self, other)

    def floor_divide(self, other):
        return floor_divide(self, other)

    def maximum(self, other):
        return maximum(self, other)

    def minimum(self, other):
        return minimum(self, other)

    def atan2(self, other):
        return atan2(self, other)

    arctan2 = atan2

    def logaddexp(self, other):
        return logaddexp(self, other)

    def hypot(self, other):
        return hypot(self, other)

    def copysign(self, other):
        return copysign(self, other)

    def nextafter(self, other):
        return nextafter(self, other)

    def eq(self, other):
        return equal(self, other)

    def ne(self, other):
        return not_equal(self, other)

    def lt(self, other):
        return less(self, other)

    def le(self, other):
        return less_equal(self, other)

    def gt(self, other):
        return greater(self, other)

    def ge(self, other):
        return greater_equal(self, other)

    def logical_and(self, other):
        return logical_and(self, other)

    def logical_or(self, other):
        return logical_or(self, other)

    def logical_xor(self, other):
        return logical_xor(self, other)

    def bitwise_and(self, other):
        return bitwise_and(self, other)

    def bitwise_or(self, other):
        return bitwise_or(self, other)

    def bitwise_xor(self, other):
        return bitwise_xor(self, other)

    def bitwise_left_shift(self, other):
        return bitwise_left_shift(self, other)

    def bitwise_right_shift(self, other):
        return bitwise_right_shift(self, other)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return allclose(self, other, rtol, atol, equal_nan)
