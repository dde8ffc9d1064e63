"""Tensor methods and operators, bound to the namespace functions (no extra frames
on the hot operators)."""

from . import _elementwise as E, _unary as U, _reduce as R, _shape as S, _index as I, random as RNG
from ._tensor import Tensor
from .autograd.graph import Node
from ._elementwise import binary, inplace, AddBackward, SubBackward, MulBackward, DivBackward, \
    PowBackward, RemainderBackward, _add, _sub, _mul, _div, _pow, _mod


def _iadd(a, b): a += b; return a          # noqa: E702
def _isub(a, b): a -= b; return a          # noqa: E702
def _imul(a, b): a *= b; return a          # noqa: E702
def _itruediv(a, b): a /= b; return a      # noqa: E702
def _ipow(a, b): a **= b; return a         # noqa: E702


T = Tensor

# ---- arithmetic operators (hot: call binary() directly)
T.__add__ = lambda a, b: binary(a, b, _add, AddBackward, 0, "add")
T.__radd__ = T.__add__
T.__sub__ = lambda a, b: binary(a, b, _sub, SubBackward, 0, "subtract")
T.__rsub__ = lambda a, b: binary(a, b, _sub, SubBackward, 0, "subtract", True)
T.__mul__ = lambda a, b: binary(a, b, _mul, MulBackward, 1, "multiply")
T.__rmul__ = T.__mul__
T.__truediv__ = lambda a, b: (binary(a, b, _div, DivBackward, 2, "divide")
                              if a._data.dtype in a._be.inexact_natives else E.divide(a, b))
T.__rtruediv__ = lambda a, b: E.divide(b, a)
T.__pow__ = lambda a, b: binary(a, b, _pow, PowBackward, 2, "pow")
T.__rpow__ = lambda a, b: binary(a, b, _pow, PowBackward, 2, "pow", True)
T.__mod__ = lambda a, b: binary(a, b, _mod, RemainderBackward, 1, "remainder")
T.__rmod__ = lambda a, b: binary(a, b, _mod, RemainderBackward, 1, "remainder", True)
T.__floordiv__ = lambda a, b: E.floor_divide(a, b)
T.__rfloordiv__ = lambda a, b: E.floor_divide(b, a)
T.__matmul__ = lambda a, b: S.matmul(a, b)
T.__rmatmul__ = lambda a, b: S.matmul(b, a)
T.__neg__ = U.negative
T.__pos__ = U.positive
T.__abs__ = U.abs
T.__invert__ = lambda a: U.logical_not(a) if a.dtype.kind == "b" else U.bitwise_invert(a)

T.__iadd__ = lambda a, b: inplace(a, b, E.add, _iadd, "add_")
T.__isub__ = lambda a, b: inplace(a, b, E.subtract, _isub, "sub_")
T.__imul__ = lambda a, b: inplace(a, b, E.multiply, _imul, "mul_")
T.__itruediv__ = lambda a, b: inplace(a, b, E.divide, _itruediv, "div_")
T.__ipow__ = lambda a, b: inplace(a, b, E.pow, _ipow, "pow_")
def _ifloordiv(a, b): a //= b; return a    # noqa: E702
def _imod(a, b): a %= b; return a          # noqa: E702
def _iand(a, b): a &= b; return a          # noqa: E702
def _ior(a, b): a |= b; return a           # noqa: E702
def _ixor(a, b): a ^= b; return a          # noqa: E702
def _ilshift(a, b): a <<= b; return a      # noqa: E702
def _irshift(a, b): a >>= b; return a      # noqa: E702


T.__ifloordiv__ = lambda a, b: inplace(a, b, E.floor_divide, _ifloordiv, "floor_divide_")
T.__imod__ = lambda a, b: inplace(a, b, E.remainder, _imod, "remainder_")
T.__iand__ = lambda a, b: inplace(a, b, T.__and__, _iand, "bitwise_and_")
T.__ior__ = lambda a, b: inplace(a, b, T.__or__, _ior, "bitwise_or_")
T.__ixor__ = lambda a, b: inplace(a, b, T.__xor__, _ixor, "bitwise_xor_")
T.__ilshift__ = lambda a, b: inplace(a, b, E.bitwise_left_shift, _ilshift, "bitwise_left_shift_")
T.__irshift__ = lambda a, b: inplace(a, b, E.bitwise_right_shift, _irshift, "bitwise_right_shift_")
T.__imatmul__ = lambda a, b: (_ for _ in ()).throw(
    TypeError("in-place matmul (@=) is not supported; write a = a @ b"))

# ---- comparisons and logic (bool results, not differentiable)
T.__eq__ = lambda a, b: E.equal(a, b) if isinstance(b, (Tensor, bool, int, float, complex)) else False
T.__ne__ = lambda a, b: E.not_equal(a, b) if isinstance(b, (Tensor, bool, int, float, complex)) else True
T.__lt__ = lambda a, b: E.less(a, b)
T.__le__ = lambda a, b: E.less_equal(a, b)
T.__gt__ = lambda a, b: E.greater(a, b)
T.__ge__ = lambda a, b: E.greater_equal(a, b)
T.__and__ = lambda a, b: E.logical_and(a, b) if a.dtype.kind == "b" else E.bitwise_and(a, b)
T.__rand__ = T.__and__
T.__or__ = lambda a, b: E.logical_or(a, b) if a.dtype.kind == "b" else E.bitwise_or(a, b)
T.__ror__ = T.__or__
T.__xor__ = lambda a, b: E.logical_xor(a, b) if a.dtype.kind == "b" else E.bitwise_xor(a, b)
T.__rxor__ = T.__xor__
T.__lshift__ = lambda a, b: E.bitwise_left_shift(a, b)
T.__rshift__ = lambda a, b: E.bitwise_right_shift(a, b)
T.__hash__ = object.__hash__

T.__getitem__ = I.getitem
T.__setitem__ = I.setitem

# ---- named methods
for _name in ("exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "sin", "cos", "tan", "tanh",
              "sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "reciprocal",
              "square", "abs", "sigmoid", "relu", "rsqrt", "floor", "ceil", "trunc", "sign", "round",
              "isnan", "isinf", "isfinite", "signbit", "logical_not", "conj"):
    setattr(T, _name, getattr(U, _name))
T.neg = T.negative = U.negative
T.arcsin, T.arccos, T.arctan = U.asin, U.acos, U.atan
T.arcsinh, T.arccosh, T.arctanh = U.asinh, U.acosh, U.atanh
T.real = property(U.real)
T.imag = property(U.imag)

T.add = E.add
T.sub = T.subtract = E.subtract
T.mul = T.multiply = E.multiply
T.div = T.divide = E.divide
T.true_divide = E.divide
T.pow = E.pow
T.remainder = E.remainder
T.floor_divide = E.floor_divide
T.maximum = E.maximum
T.minimum = E.minimum
T.atan2 = T.arctan2 = E.atan2
T.logaddexp = E.logaddexp
T.hypot = E.hypot
T.eq = E.equal
T.ne = E.not_equal
T.lt = E.less
T.le = E.less_equal
T.gt = E.greater
T.ge = E.greater_equal
T.logical_and = E.logical_and
T.logical_or = E.logical_or
T.logical_xor = E.logical_xor


def _inplace_method(fn, native, op):
    def m(a, b, **kw):
        if kw:
            return _inplace_kw(a, b, fn, op, kw)
        return inplace(a, b, fn, native, op)
    m.__name__ = op
    return m


def _inplace_kw(a, b, fn, op, kw):
    from ._elementwise import inplace_graph, _write
    from ._common import check_inplace, grad_state
    from .autograd import graph as _graph
    check_inplace(a, op)
    if grad_state.enabled and (a._node is not None or (isinstance(b, Tensor) and b._node is not None)):
        return inplace_graph(a, lambda old: fn(old, b, **kw), op)
    prev = grad_state.enabled
    grad_state.enabled = False
    try:
        res = fn(a, b, **kw)
    finally:
        grad_state.enabled = prev
    _write(a, res._data, op)
    _graph.bump_version(a)
    return a


T.add_ = _inplace_method(E.add, _iadd, "add_")
T.sub_ = _inplace_method(E.subtract, _isub, "sub_")
T.mul_ = _inplace_method(E.multiply, _imul, "mul_")
T.div_ = _inplace_method(E.divide, _itruediv, "div_")
T.pow_ = _inplace_method(E.pow, _ipow, "pow_")


def _unary_inplace(fn, op):
    def m(a, *args, **kw):
        return _inplace_kw(a, None, lambda x, _b, **k: fn(x, *args, **k), op, kw)
    m.__name__ = op
    return m


for _name in ("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "neg", "floor",
              "ceil", "round", "trunc", "reciprocal", "square", "sign"):
    setattr(T, _name + "_", _unary_inplace(getattr(T, _name), _name + "_"))
T.clamp_ = _unary_inplace(lambda x, *a, **k: S.clamp(x, *a, **k), "clamp_")
T.clip_ = T.clamp_


T.zero_ = lambda a: E.overwrite_(a, 0, "zero_")
T.fill_ = lambda a, value: E.overwrite_(a, value, "fill_")
T.normal_ = RNG.normal_
T.uniform_ = RNG.uniform_


def _copy_(a, src):
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_: expected a Tensor to copy from, got {type(src).__name__}")
    if src._be is not a._be:
        src = _move(src, a._be)
    return E.overwrite_(a, src, "copy_")


T.copy_ = _copy_

# ---- reductions (PyTorch's positional ``dim`` first)
def _red(fn):
    def m(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        if axis is not None:
            dim = axis
        if keepdims is not None:
            keepdim = keepdims
        if dtype is not None:
            return fn(self, dim, keepdims=keepdim, dtype=dtype)
        return fn(self, dim, keepdims=keepdim)
    m.__name__ = fn.__name__
    return m


T.sum = _red(R.sum)
T.mean = _red(R.mean)
T.prod = _red(R.prod)
T.amax = lambda self, dim=None, keepdim=False: R.amax(self, dim, keepdims=keepdim)
T.amin = lambda self, dim=None, keepdim=False: R.amin(self, dim, keepdims=keepdim)


def _max_method(fn_all, named):
    def m(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return (E.maximum if named == "max" else E.minimum)(self, dim)
        if dim is None:
            return fn_all(self)
        return getattr(R, named)(self, dim=dim, keepdim=keepdim)
    return m


T.max = _max_method(R.amax, "max")
T.min = _max_method(R.amin, "min")
T.argmax = lambda self, dim=None, keepdim=False: R.argmax(self, dim, keepdims=keepdim)
T.argmin = lambda self, dim=None, keepdim=False: R.argmin(self, dim, keepdims=keepdim)
T.all = lambda self, dim=None, keepdim=False: R.all(self, dim, keepdims=keepdim)
T.any = lambda self, dim=None, keepdim=False: R.any(self, dim, keepdims=keepdim)
T.var = lambda self, dim=None, unbiased=True, keepdim=False, *, correction=None: R.var(
    self, dim, correction=(1.0 if unbiased else 0.0) if correction is None else correction,
    keepdims=keepdim)
T.std = lambda self, dim=None, unbiased=True, keepdim=False, *, correction=None: R.std(
    self, dim, correction=(1.0 if unbiased else 0.0) if correction is None else correction,
    keepdims=keepdim)
T.logsumexp = lambda self, dim, keepdim=False: R.logsumexp(self, dim, keepdims=keepdim)
T.softmax = lambda self, dim, dtype=None: R.softmax(self, dim, dtype=dtype)
T.log_softmax = lambda self, dim, dtype=None: R.log_softmax(self, dim, dtype=dtype)
T.cumsum = lambda self, dim, *, dtype=None: R.cumulative_sum(self, dim, dtype=dtype)
T.count_nonzero = lambda self, dim=None: R.count_nonzero(self, dim)

# ---- shape
T.reshape = lambda self, *shape: S.reshape(self, S._shape_arg(shape, "reshape"))
T.view = S.view
T.view_as = lambda self, other: S.reshape(self, other._data.shape)
T.reshape_as = T.view_as
T.flatten = S.flatten
T.unflatten = S.unflatten
T.permute = S.permute
T.transpose = S.transpose
T.swapaxes = S.transpose
T.t = S.t
T.T = property(lambda self: S.permute_dims(self, tuple(range(self.ndim - 1, -1, -1))))
T.mT = property(S.matrix_transpose)
T.mH = property(lambda self: U.conj(S.matrix_transpose(self)))
T.movedim = S.moveaxis
T.moveaxis = S.moveaxis
T.squeeze = lambda self, dim=None: S.squeeze(self, dim)
T.unsqueeze = S.unsqueeze
T.expand = S.expand
T.expand_as = S.expand_as
T.broadcast_to = S.broadcast_to
T.split = S.split
T.chunk = S.chunk
T.unbind = S.unbind
T.flip = lambda self, dims: S.flip(self, axis=dims)
T.clone = S.clone
T.contiguous = lambda self: self
T.matmul = S.matmul
T.mm = S.mm
T.gather = S.gather
T.scatter_add = S.scatter_add
T.index_select = S.index_select
T.index_add = S.index_add
T.take = lambda self, index: S.take(self, index)
T.clamp = S.clamp
T.clip = S.clamp
T.where = lambda self, condition, other: S.where(condition, self, other)
T.astype = lambda self, dtype: S.astype(self, dtype)
T.type_as = lambda self, other: S.astype(self, other.dtype, copy=False)


def _to(self, *args, dtype=None, device=None, copy=False):
    """``to(dtype)``, ``to(device)``, ``to(other)``, ``to(device, dtype)``."""
    from . import dtypes as _dt
    from ._creation import resolve_backend
    for a in args:
        if isinstance(a, _dt.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            dtype, device = a.dtype, a._be
        else:
            device = a
    out = self
    if device is not None:
        be = resolve_backend(device)
        if be is not self._be:
            out = _move(out, be)
    if dtype is not None and out.dtype is not dtype:
        out = S.astype(out, dtype)
    if copy and out is self:
        out = S.clone(self)
    return out


class _MoveBackward(Node):
    """The gradient of a move between backends/devices moves back."""
    __slots__ = ("src",)

    def backward(self, xp, g, s):
        if g.__class__ is Tensor:
            return _move(g, self.src),
        return _move_array(g, self.be, self.src),


def _move_array(arr, from_be, to_be):
    return to_be.from_host(from_be.to_host(arr))


def _move(x, be):
    from ._common import make, record, grad_state
    data = _move_array(x._data, x._be, be)
    node = None
    if x._node is not None and grad_state.enabled:
        node = record(_MoveBackward, be, (x,))
        node.src = x._be
    return make(data, be, node)


T.to = _to
T.cpu = lambda self: _to(self, "cpu")
T.cuda = lambda self, device=None: _to(self, f"cuda:{device or 0}" if not isinstance(device, str) else device)
T.float = lambda self: S.astype(self, "float32", copy=False)
T.double = lambda self: S.astype(self, "float64", copy=False)
T.half = lambda self: S.astype(self, "float16", copy=False)
T.int = lambda self: S.astype(self, "int32", copy=False)
T.long = lambda self: S.astype(self, "int64", copy=False)
T.bool = lambda self: S.astype(self, "bool", copy=False)
T.type = lambda self, dtype=None: str(self.dtype) if dtype is None else S.astype(self, dtype)


# ---- PyTorch conveniences
def _new_filled(fname):
    from . import _creation as C

    def m(self, *size, dtype=None, device=None, requires_grad=False):
        return getattr(C, fname)(*size, dtype=dtype or self.dtype,
                                 device=device if device is not None else self._be,
                                 requires_grad=requires_grad)
    m.__name__ = "new_" + fname
    return m


T.new_zeros = _new_filled("zeros")
T.new_ones = _new_filled("ones")
T.new_empty = _new_filled("empty")


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    from ._creation import full
    return full(size, fill_value, dtype=dtype or self.dtype,
                device=device if device is not None else self._be, requires_grad=requires_grad)


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    from ._creation import tensor
    return tensor(data, dtype=dtype or self.dtype, device=device if device is not None else self._be,
                  requires_grad=requires_grad)


T.new_full = _new_full
T.new_tensor = _new_tensor


def masked_fill(x, mask, value):
    """``x`` with ``value`` where ``mask`` is True (differentiable in ``x`` and a tensor ``value``)."""
    from . import dtypes as _dt
    if not isinstance(mask, Tensor) or mask.dtype is not _dt.bool:
        raise TypeError(f"masked_fill: mask must be a bool Tensor, got "
                        f"{getattr(mask, 'dtype', type(mask).__name__)}")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise ValueError(f"masked_fill: value must be a Python scalar or a 0-d tensor, got shape "
                         f"{tuple(value.shape)}")
    return S.where(mask, value, x)


T.masked_fill = masked_fill
T.masked_fill_ = lambda self, mask, value: _inplace_kw(self, None, lambda x, _b: masked_fill(x, mask, value),
                                                       "masked_fill_", {})


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|a - b| <= atol + rtol * |b|`` (a bool tensor)."""
    from ._common import grad_state
    prev = grad_state.enabled
    grad_state.enabled = False
    try:
        close = (a - b).abs() <= atol + rtol * (b.abs() if isinstance(b, Tensor) else abs(b))
        close = close | (a == b)
        if equal_nan:
            close = close | (U.isnan(a) & (U.isnan(b) if isinstance(b, Tensor) else False))
        return close
    finally:
        grad_state.enabled = prev


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when every element of ``a`` and ``b`` is close (see :func:`isclose`)."""
    return bool(R.all(isclose(a, b, rtol, atol, equal_nan)).item())


T.isclose = isclose
T.allclose = allclose
