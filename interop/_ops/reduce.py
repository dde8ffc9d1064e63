"""Reductions: the primitives under both public spellings (``interop.array_api`` calls them
with the standard's ``axis=``/``keepdims=``, ``interop._pytorch_style`` and the Tensor
methods with PyTorch's ``dim``/``keepdim``). Here ``dim`` is PyTorch's and ``axis=`` the
standard's (giving both is an error); where the two disagree each keeps its own meaning:
``axis=()`` reduces nothing, ``dim=()`` reduces every dim (as ``torch.sum(x, dim=())``);
``max(x, axis=1)`` is the values, ``max(x, 1)`` (values, indices).

Gradient conventions at ties and NaNs are PyTorch's: ``max(x, dim)`` sends the gradient to
the returned index; ``max(x)`` over everything shares it evenly among the maxima (the NaNs
where the result is NaN); ``amax``/``amin`` share it evenly among the elements equal to
the result."""

from collections import namedtuple

from .. import dtypes as _dt
from .._args import both_spellings, keyword_dim, norm_dim, norm_dims, real_only
from .._dtype_rules import dtype_arg
from .cast import astype, clone
from .binary import maximum, minimum
from .._errors import DTypeError, ShapeError
from .join import concat
from .views import reshape
from ..autograd.graph import Node, OUTPUT
from ..autograd.grad_mode import state as grad_state
from ..autograd.variable import Variable, record

__all__ = ["sum", "mean", "prod", "max", "min", "amax", "amin", "var", "std", "logsumexp",
           "argmax", "argmin", "all", "any", "cumulative_sum", "cumsum", "count_nonzero", "softmax",
           "log_softmax", "sum_to"]

_sum = sum
_max = max
_min = min


def _axes(op, x, dim, axis, empty_dim_is_all=True):
    """The axes to reduce (None: all) from PyTorch's ``dim`` or the standard's ``axis``.
    ``dim=()`` reduces all dims where PyTorch does so (``empty_dim_is_all``); ``axis=()``
    reduces none."""
    if dim is not None:
        if axis is not None:
            raise both_spellings(op, axis, dim)
        if empty_dim_is_all and isinstance(dim, (tuple, list)) and len(dim) == 0:
            return None
        return norm_dims(dim, x._data.ndim, op)
    return norm_dims(axis, x._data.ndim, op)


def _keep(keepdims, keepdim):
    return bool(keepdims if keepdim is None else keepdim)


def _kshape(shape, axes):
    """Shape with reduced axes kept as size 1."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _rshape(shape, axes):
    """Shape with reduced axes dropped."""
    if axes is None:
        return ()
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _expand_back(xp, g, shape, axes, keepdims):
    if not keepdims:
        g = xp.reshape(g, _kshape(shape, axes))
    return xp.broadcast_to(g, shape)


def _is_bool(x):
    return x._be.dtype_of(x._data) is _dt.bool


def _nonempty(op, x, axes, all_error=ShapeError):
    """A max/min-like reduction needs an element in each slice (as in PyTorch: IndexError for
    a dim of size 0; for all dims of an empty tensor, RuntimeError -- IndexError for argmax)."""
    shape = tuple(x._data.shape)
    if axes is None:
        if 0 in shape:
            raise all_error(f"{op}: cannot reduce an empty tensor (shape {shape}) over all dims; "
                            f"give a dim of non-zero size")
        return
    for a in axes:
        if shape[a] == 0:
            raise IndexError(f"{op}: expected reduction dim {a} to have non-zero size (shape "
                             f"{shape})")


class SumBackward(Node):
    __slots__ = ("shape", "axes", "keepdims", "cast")

    def backward(self, xp, g, s):
        g = _expand_back(xp, g, self.shape, self.axes, self.keepdims)
        if self.cast is not None:
            g = xp.astype(g, self.cast)
        return g,


def _int_accumulate(be, xd, nd):
    """Integer and bool reductions accumulate in the default integer dtype (as in PyTorch);
    bools are cast first (a standard-only namespace refuses to sum bools)."""
    if xd.dtype in be.inexact_natives:
        return xd, nd
    k = be.dtype_of(xd).kind
    if k == "b":
        xd = be.xp.astype(xd, be.native_dtype(be.default_int))
    if nd is None and k in "bi":
        nd = be.native_dtype(be.default_int)
    return xd, nd


def sum(x, dim=None, keepdim=None, *, axis=None, keepdims=False, dtype=None):
    axes = _axes("sum", x, dim, axis)
    keepdims = _keep(keepdims, keepdim)
    be = x._be
    xd, nd = _int_accumulate(be, x._data, dtype_arg(be, dtype))
    data = be.xp.sum(xd, axis=axes, dtype=nd, keepdims=keepdims)
    if x._node is None or not grad_state.enabled:
        return x._make(data, be, None)
    node = record(SumBackward, be, (x,))
    node.shape, node.axes, node.keepdims = xd.shape, axes, keepdims
    node.cast = xd.dtype if data.dtype != xd.dtype else None
    return x._make(data, be, node)


def _count(shape, axes):
    n = 1
    for i, s in enumerate(shape):
        if axes is None or i in axes:
            n *= s
    return n


def mean(x, dim=None, keepdim=None, *, axis=None, keepdims=False, dtype=None):
    axes = _axes("mean", x, dim, axis)
    keepdims = _keep(keepdims, keepdim)
    if dtype is not None:
        x = astype(x, dtype)
    dt = x._be.dtype_of(x._data)
    if not (dt.is_floating_point or dt.is_complex):
        raise DTypeError(f"mean: expected a floating point or complex tensor, got dtype {dt}; "
                         f"pass dtype= or cast first")
    n = _count(x._data.shape, axes)
    if n == 0:      # the mean of nothing is NaN, as in PyTorch (without NumPy's 0/0 warning)
        return sum(x, axis=axes, keepdims=keepdims) * float("nan")
    return sum(x, axis=axes, keepdims=keepdims) / n


class ProdBackward(Node):
    """d prod / d x_i = the product of the other elements. An ordinary backward uses
    ``prod / x`` with the zeros handled apart; under create_graph the product of the
    others is formed explicitly (O(n^2) in the reduced length), so that second
    derivatives are right at zeros too."""

    __slots__ = ("axes", "keepdims", "cplx")
    saves = ("x",)

    def backward(self, xp, g, s):
        x = s.x
        shape = tuple(x.shape)
        axes, keepdims = self.axes, self.keepdims
        g = _expand_back(xp, g, shape, axes, keepdims)
        if self.cplx:                  # PyTorch's convention: the conjugate derivative
            x = xp.conj(x)
        if xp is not self.be.ns:       # recorded: second derivatives must be right at zeros
            return g * _prod_of_others(xp, x, shape, axes),
        zero = x == 0
        nz = xp.sum(xp.astype(zero, xp.int64), axis=axes, keepdims=True)
        x1 = xp.where(zero, xp.ones_like(x), x)
        p1 = xp.prod(x1, axis=axes, keepdims=True)
        grad = xp.where(nz == 0, p1 / x1, xp.where((nz == 1) & zero, p1 * xp.ones_like(x1),
                                                   xp.zeros_like(x1)))
        return g * grad,


def _prod_of_others(xp, x, shape, axes):
    """For each element, the product of the other elements of its reduced slice."""
    axes = tuple(range(len(shape))) if axes is None else axes
    keep = [d for d in range(len(shape)) if d not in axes]
    perm = tuple(keep) + tuple(axes)
    red_shape = tuple(shape[d] for d in axes)
    n = 1
    for d in red_shape:
        n *= d
    xt = xp.reshape(xp.permute_dims(x, perm), tuple(shape[d] for d in keep) + (n,))
    eye = xp.eye(n, dtype=xp.bool, device=x.device)
    rows = xp.where(eye, xp.ones_like(xp.expand_dims(xt, axis=-2)), xp.expand_dims(xt, axis=-2))
    others = xp.prod(rows, axis=-1)
    others = xp.reshape(others, tuple(shape[d] for d in keep) + red_shape)
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return xp.permute_dims(others, tuple(inv))


def prod(x, dim=None, keepdim=None, *, axis=None, keepdims=False, dtype=None):
    axes = _axes("prod", x, dim, axis)
    keepdims = _keep(keepdims, keepdim)
    be = x._be
    xd, nd = _int_accumulate(be, x._data, dtype_arg(be, dtype))
    data = be.xp.prod(xd, axis=axes, dtype=nd, keepdims=keepdims)
    if x._node is None or not grad_state.enabled:
        return x._make(data, be, None)
    node = record(ProdBackward, be, (x,), (x,), (xd,))
    node.axes, node.keepdims = axes, keepdims
    node.cplx = data.dtype in be.complex_natives
    return x._make(data, be, node)


class AmaxBackward(Node):
    """Ties share the gradient evenly (PyTorch's amax/amin convention: ``g * mask / count``,
    so a NaN gradient or a NaN result spreads over the slice, as there)."""
    __slots__ = ("axes", "keepdims")
    saves = ("x", "out")

    def backward(self, xp, g, s):
        x, out = s.x, s.out
        shape = x.shape
        o = _expand_back(xp, out, shape, self.axes, self.keepdims)
        mask = xp.astype(x == o, g.dtype)
        cnt = xp.sum(mask, axis=self.axes, keepdims=True)
        return _expand_back(xp, g, shape, self.axes, self.keepdims) * mask / cnt,


def _bool_extreme(xp, be, xd, fname, **kw):
    """max/min of bools (a standard-only namespace refuses them): through int8."""
    out = getattr(xp, fname)(xp.astype(xd, be.native_dtype(_dt.int8)), **kw)
    return xp.astype(out, xd.dtype)


def _extreme(fname, op):
    def f(x, dim=None, keepdim=None, *, axis=None, keepdims=False):
        axes = _axes(op, x, dim, axis)
        kd = _keep(keepdims, keepdim)
        real_only(x, op)
        _nonempty(op, x, axes)
        be = x._be
        if _is_bool(x):
            return x._make(_bool_extreme(be.xp, be, x._data, fname, axis=axes, keepdims=kd), be, None)
        data = getattr(be.xp, fname)(x._data, axis=axes, keepdims=kd)
        if x._node is None or not grad_state.enabled:
            return x._make(data, be, None)
        node = record(AmaxBackward, be, (x,), (x, OUTPUT), (x._data, data))
        node.axes, node.keepdims = axes, kd
        return x._make(data, be, node)
    f.__name__ = op
    f.__doc__ = (f"``{fname}`` over ``dim``/``axis`` (all dims by default); ties share the "
                 f"gradient evenly, as PyTorch's ``{op}``.")
    return f


amax = _extreme("max", "amax")
amin = _extreme("min", "amin")

max_values = namedtuple("max", ["values", "indices"])
min_values = namedtuple("min", ["values", "indices"])


class MaxAllBackward(Node):
    """``max(x)``/``min(x)`` over every element (PyTorch's convention): the elements equal to
    the result share the gradient evenly -- the NaNs, where the result is NaN; the others
    get 0 (not ``0 * g``: a NaN gradient stays where it belongs)."""
    __slots__ = ()
    saves = ("x", "out")

    def backward(self, xp, g, s):
        x, out = s.x, s.out
        mask = (x == out) | (xp.isnan(x) & xp.isnan(out))
        cnt = xp.sum(xp.astype(mask, g.dtype))
        return xp.where(mask, g / cnt, xp.zeros_like(x)),


class MaxDimBackward(Node):
    """``max(x, dim)``/``min(x, dim)``: the gradient goes to the returned index only (no split
    at ties, as in PyTorch). ``s.index`` is the index, with the reduced dim kept; it is all
    that is saved, so changing ``x`` in place afterwards is no error."""
    __slots__ = ("axis", "keepdims", "shape")
    saves = ("index",)

    def backward(self, xp, g, s):
        idx = s.index
        ax = self.axis
        if not self.keepdims:
            g = xp.expand_dims(g, axis=ax)
        n = self.shape[ax]
        pos = xp.reshape(xp.arange(n, dtype=idx.dtype, device=idx.device),
                         tuple(n if d == ax else 1 for d in range(len(self.shape))))
        # (a mask, not a scatter: g * 0 elsewhere would spread a NaN gradient)
        return xp.where(pos == idx, g, xp.zeros(self.shape, dtype=g.dtype, device=g.device)),


def _max_all(x, kd, fname, op):
    real_only(x, op)
    _nonempty(op, x, None)
    be = x._be
    xd = x._data
    if _is_bool(x):
        return x._make(_bool_extreme(be.xp, be, xd, fname, keepdims=kd), be, None)
    data = getattr(be.xp, fname)(xd, keepdims=kd)
    if x._node is None or not grad_state.enabled:
        return x._make(data, be, None)
    return x._make(data, be, record(MaxAllBackward, be, (x,), (x, OUTPUT), (xd, data)))


def _max_dim(x, dim, kd, fname, op, result):
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be an int ({op}(x, dim) gives values and indices along one "
                        f"dim), got {dim!r}; for several dims use a{op} or axis=")
    real_only(x, op)
    be = x._be
    xp = be.xp
    xd = x._data
    itype = be.native_dtype(be.default_int)
    if xd.ndim == 0:                      # one element: itself, at index 0 (as in PyTorch)
        norm_dim(dim, 0, op)
        return result(clone(x), x._make(xp.zeros((), dtype=itype, **be.device_kwargs), be, None))
    ax = norm_dim(dim, xd.ndim, op)
    _nonempty(op, x, (ax,))
    src = xp.astype(xd, be.native_dtype(_dt.int8)) if _is_bool(x) else xd
    idx = getattr(xp, "arg" + fname)(src, axis=ax, keepdims=True)   # the first max, as PyTorch
    if idx.dtype != itype:
        idx = xp.astype(idx, itype)
    vals = xp.take_along_axis(xd, idx, axis=ax)                      # (NaN where a NaN is)
    if not kd:
        vals = xp.squeeze(vals, axis=ax)
    indices = x._make(idx if kd else xp.squeeze(idx, axis=ax), be, None)
    if x._node is None or not grad_state.enabled:
        return result(x._make(vals, be, None), indices)
    node = record(MaxDimBackward, be, (x,), (idx,), (idx,))
    node.axis, node.keepdims, node.shape = ax, kd, tuple(xd.shape)
    return result(x._make(vals, be, node), indices)


def _max_min(fname, op, result, elementwise):
    def f(x, dim=None, keepdim=None, *, axis=None, keepdims=False):
        if isinstance(dim, Variable):          # PyTorch's max(x, other)
            if keepdim is not None or axis is not None:
                raise TypeError(f"{op}(x, other) (elementwise) takes no dim or keepdim")
            return elementwise(x, dim)
        if dim is not None:
            if axis is not None:
                raise both_spellings(op, axis, dim)
            return _max_dim(x, dim, _keep(keepdims, keepdim), fname, op, result)
        kd = _keep(keepdims, keepdim)
        if axis is None:
            return _max_all(x, kd, fname, op)
        return (amax if fname == "max" else amin)(x, axis=axis, keepdims=kd)
    f.__name__ = op
    f.__doc__ = (f"The standard's ``{op}(x, axis=...)`` (the values; all dims by default), or "
                 f"PyTorch's ``{op}(x, dim)`` / ``{op}(x, dim=...)`` (a named tuple of values and "
                 f"indices; the gradient goes to the index) and ``{op}(x, other)`` (elementwise).")
    return f


max = _max_min("max", "max", max_values, maximum)
min = _max_min("min", "min", min_values, minimum)


def _arg(fname):
    def f(x, dim=None, keepdim=None, *, axis=None, keepdims=False):
        real_only(x, fname)
        d = keyword_dim(fname, dim, axis)
        kd = _keep(keepdims, keepdim)
        be = x._be
        xp = be.xp
        xd = x._data
        if _is_bool(x):
            raise DTypeError(f"{fname}: not supported for bool tensors (as in PyTorch); cast to an "
                             f"integer dtype first")
        itype = be.native_dtype(be.default_int)
        if d is not None and isinstance(d, (tuple, list)):
            raise TypeError(f"{fname}: dim must be an int or None, got {d!r}")
        if xd.ndim == 0:
            if d is not None:
                norm_dim(d, 0, fname)
            return x._make(xp.zeros((), dtype=itype, **be.device_kwargs), be, None)
        if d is None:
            _nonempty(fname, x, None, IndexError)
            data = getattr(xp, fname)(xp.reshape(xd, (-1,)))
            if kd:
                data = xp.reshape(data, (1,) * xd.ndim)
        else:
            ax = norm_dim(d, xd.ndim, fname)
            _nonempty(fname, x, (ax,))
            data = getattr(xp, fname)(xd, axis=ax, keepdims=kd)
        if data.dtype != itype:
            data = xp.astype(data, itype)
        return x._make(data, be, None)
    f.__name__ = fname
    return f


argmax = _arg("argmax")
argmin = _arg("argmin")


def _truth_reduction(fname):
    def f(x, dim=None, keepdim=None, *, axis=None, keepdims=False):
        axes = _axes(fname, x, dim, axis, empty_dim_is_all=False)   # (any(dim=()) reduces none)
        kd = _keep(keepdims, keepdim)
        return x._make(getattr(x._be.xp, fname)(x._data, axis=axes, keepdims=kd), x._be, None)
    f.__name__ = fname
    return f


all = _truth_reduction("all")
any = _truth_reduction("any")


def count_nonzero(x, dim=None, *, axis=None, keepdims=False):
    axes = _axes("count_nonzero", x, dim, axis)
    be = x._be
    xp = be.xp
    d = x._data
    nz = d if _is_bool(x) else d != 0
    itype = be.native_dtype(be.default_int)
    return x._make(xp.sum(xp.astype(nz, itype), axis=axes, keepdims=bool(keepdims)), be, None)


def var(x, dim=None, *, axis=None, correction=0.0, keepdims=False, keepdim=None, unbiased=None):
    """Variance. The standard's default is ``correction=0``; PyTorch's ``Tensor.var``
    defaults to 1 (``unbiased=True``) -- the method form follows PyTorch."""
    axes = _axes("var", x, dim, axis)
    kd = _keep(keepdims, keepdim)
    if unbiased is not None:
        correction = 1.0 if unbiased else 0.0
    n = _count(x._data.shape, axes)
    mu = mean(x, axis=axes, keepdims=True)
    d = x - mu
    sq = d * d if not x.dtype.is_complex else (d * d.conj()).real
    return sum(sq, axis=axes, keepdims=kd) / _max(n - correction, 0)


class StdBackward(Node):
    """``std = sqrt(var)``: ``g / (2 std)``, and 0 where std is 0 (PyTorch's convention; the
    plain sqrt would give inf there, and 0 * inf = NaN on the way to x)."""
    __slots__ = ()
    saves = ("out",)

    def backward(self, xp, g, s):
        y = s.out
        zero = y == 0
        return xp.where(zero, xp.zeros_like(g), g / (2 * xp.where(zero, xp.ones_like(y), y))),


def std(x, dim=None, *, axis=None, correction=0.0, keepdims=False, keepdim=None, unbiased=None):
    """Standard deviation, ``sqrt(var)`` (see :func:`var`); the gradient is 0 where it is 0."""
    v = var(x, dim, axis=axis, correction=correction, keepdims=keepdims, keepdim=keepdim,
            unbiased=unbiased)
    be = v._be
    data = be.xp.sqrt(v._data)
    if v._node is None or not grad_state.enabled:
        return v._make(data, be, None)
    return v._make(data, be, record(StdBackward, be, (v,), (OUTPUT,), (data,)))


def _shift(x, axes):
    """The max along ``axes`` (kept), outside the graph (softmax and logsumexp do not depend
    on it); 0 for an empty reduction, which has no max."""
    if _count(x._data.shape, axes) == 0:
        return 0.0
    return amax(x.detach(), axis=axes, keepdims=True)


def logsumexp(x, dim=None, keepdim=None, *, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` along ``dim``, shifted by the max for stability; an empty
    reduction gives -inf, as in PyTorch."""
    axes = _axes("logsumexp", x, dim, axis)
    kd = _keep(keepdims, keepdim)
    be = x._be
    if x._data.dtype not in be.inexact_natives:     # bool and integers: the default float,
        x = astype(x, be.default_float)             # as in PyTorch
    shape = x._data.shape
    if _count(shape, axes) == 0:
        return sum(x, axis=axes, keepdims=kd) + float("-inf")
    m = _shift(x, axes)
    xp = x._be.xp
    m = x._make(xp.where(xp.isfinite(m._data), m._data, xp.zeros_like(m._data)), x._be, None)
    out = sum((x - m).exp(), axis=axes, keepdims=True).log() + m
    return out if kd else reshape(out, _rshape(shape, axes))


class CumsumBackward(Node):
    __slots__ = ("axis", "cast")

    def backward(self, xp, g, s):
        a = self.axis
        g = xp.flip(xp.cumulative_sum(xp.flip(g, axis=a), axis=a), axis=a)
        return (g if self.cast is None else xp.astype(g, self.cast)),


def _with_initial(out, axis, value):
    """``out`` with one slice of ``value`` (the sum's 0, the product's 1) put before it along
    ``axis``: the standard's ``include_initial=True``."""
    ax = axis % out.ndim
    shape = tuple(1 if d == ax else n for d, n in enumerate(out.shape))
    first = out._make(out._be.full(shape, value, out._data.dtype), out._be, None)
    return concat([first, out], axis=ax)


def _cumsum(x, axis, dtype, include_initial, op):
    if include_initial:
        if x._data.ndim == 0:
            raise ValueError(f"{op}: include_initial needs at least one dimension")
        out = _cumsum(x, axis, dtype, False, op)
        return _with_initial(out, 0 if axis is None else axis, 0)
    xd = x._data
    if xd.ndim == 0:                  # a 0-d tensor is its own cumulative sum (as in PyTorch)
        if axis is not None:
            norm_dim(axis, 0, op)
        return reshape(_cumsum(reshape(x, (1,)), 0, dtype, False, op), ())
    if axis is None:
        if xd.ndim != 1:
            raise ValueError(f"{op}: axis is required for a {xd.ndim}-d tensor")
        axis = 0
    ax = norm_dim(axis, xd.ndim, op)
    be = x._be
    xd, nd = _int_accumulate(be, xd, dtype_arg(be, dtype))
    data = be.xp.cumulative_sum(xd, axis=ax, dtype=nd)
    if x._node is None or not grad_state.enabled:
        return x._make(data, be, None)
    node = record(CumsumBackward, be, (x,))
    node.axis = ax
    node.cast = xd.dtype if data.dtype != xd.dtype else None
    return x._make(data, be, node)


def cumulative_sum(x, /, *args, axis=None, dtype=None, include_initial=False, dim=None):
    """The standard's ``cumulative_sum(x, /, *, axis=None, ...)``; ``dim=`` is accepted too."""
    if args:
        raise TypeError(f"cumulative_sum: axis is keyword-only in the Array API standard, got a "
                        f"positional {args[0]!r}; write axis={args[0]!r} (or cumsum(x, "
                        f"{args[0]!r}), PyTorch's spelling)")
    return _cumsum(x, keyword_dim("cumulative_sum", dim, axis), dtype, include_initial,
                   "cumulative_sum")


def cumsum(x, dim, *, dtype=None):
    return _cumsum(x, dim, dtype, False, "cumsum")


def _softmax_dim(x, dim, axis, op):
    d = keyword_dim(op, dim, axis)
    if d is None:
        raise TypeError(f"{op}: dim is required (PyTorch's implicit dim choice is deprecated)")
    return norm_dims(d, x._data.ndim, op)


class SoftmaxBackward(Node):
    """``y * (g - sum(g * y))`` with y the saved output (one node, as PyTorch's): on raw
    arrays the backend's ``softmax_backward`` kernel (one pass per row where compiled, else
    a vecdot and two x-sized passes); under create_graph on tensors, out of place."""
    __slots__ = ("axes",)
    saves = ("out",)

    def backward(self, xp, g, s):
        y = s.out
        if xp is not self.be.ns:
            gy = g * y
            return gy - y * xp.sum(gy, axis=self.axes, keepdims=True),
        return xp.softmax_backward(g, y, self.axes),


class LogSoftmaxBackward(Node):
    """``g - exp(y) * sum(g)`` with y the saved output (one node, as PyTorch's): on raw
    arrays the backend's ``log_softmax_backward`` kernel; under create_graph on tensors."""
    __slots__ = ("axes",)
    saves = ("out",)

    def backward(self, xp, g, s):
        if xp is not self.be.ns:
            return g - xp.exp(s.out) * xp.sum(g, axis=self.axes, keepdims=True),
        return xp.log_softmax_backward(g, s.out, self.axes),


def _softmax(x, dim, axis, dtype, log, op):
    """softmax / log_softmax along ``dim`` as one primitive: shifted by the max (a row with
    a NaN or +inf gives NaN, as PyTorch's); integer and bool input is refused (PyTorch's rule)
    unless ``dtype`` names a floating dtype."""
    if not isinstance(x, Variable):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    axes = _softmax_dim(x, dim, axis, op)
    if dtype is not None:
        x = astype(x, dtype)
    be = x._be
    xp = be.xp
    xd = x._data
    if xd.dtype not in be.inexact_natives:
        # decided (issue 24): refused, as PyTorch refuses, rather than computed in a float
        # the caller did not choose; integer "logits" are usually labels passed by mistake
        raise DTypeError(f"{op}: expected a floating-point tensor, got {be.dtype_of(xd)} (as in "
                         f"PyTorch); pass dtype=interop.float32 (or call .float()) to compute "
                         f"it in a floating dtype")
    half = be.dtype_of(xd) in (_dt.float16, _dt.bfloat16)
    if half:            # computed in float32 and rounded once, as PyTorch's CPU kernels do
        nd = xd.dtype
        xd = xp.astype(xd, be.native_dtype(_dt.float32))
    # the backend's kernel: one pass per row where compiled, else the max-shifted formula
    data = (be.ns.log_softmax if log else be.ns.softmax)(xd, axes)
    if half:
        data = xp.astype(data, nd)
    if x._node is None or not grad_state.enabled:
        return x._make(data, be, None)
    node = record(LogSoftmaxBackward if log else SoftmaxBackward, be, (x,), (OUTPUT,), (data,))
    node.axes = axes
    return x._make(data, be, node)


def softmax(x, dim=None, *, axis=None, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim``, shifted by the max for stability."""
    return _softmax(x, dim, axis, dtype, False, "softmax")


def log_softmax(x, dim=None, *, axis=None, dtype=None):
    """``x - logsumexp(x)`` along ``dim``, computed as ``(x - max) - log(sum(exp(x - max)))``
    so that huge logits keep their differences."""
    return _softmax(x, dim, axis, dtype, True, "log_softmax")


class SumToBackward(Node):
    """The gradient of ``sum_to`` is broadcast back."""
    __slots__ = ("shape",)

    def backward(self, xp, g, s):
        return xp.broadcast_to(g, self.shape),


def sum_to(x, shape):
    """Sum ``x`` over broadcast axes down to ``shape`` (the inverse of broadcasting); ``x``
    itself when it already has that shape (as PyTorch's ``sum_to_size``)."""
    shape = tuple(shape)
    if tuple(x._data.shape) == shape:
        return x
    data = x._be.ns.sum_to(x._data, shape)
    node = None
    if x._node is not None and grad_state.enabled:
        node = record(SumToBackward, x._be, (x,))
        node.shape = x._data.shape
    return x._make(data, x._be, node)


def _reduction_method(fn):
    def m(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        if axis is not None:                 # (PyTorch's alias of dim)
            if dim is not None:
                raise both_spellings(fn.__name__, axis, dim)
            dim = axis
        if keepdims is not None:
            keepdim = keepdims
        if dtype is not None:
            return fn(self, dim, keepdim, dtype=dtype)
        return fn(self, dim, keepdim)
    m.__name__ = fn.__name__
    m.__doc__ = fn.__doc__
    return m


class ReductionMethods:
    """Tensor methods for reductions (PyTorch's spelling: ``dim`` positional first, ``dim=()``
    reduces every dim)."""

    __slots__ = ()

    sum = _reduction_method(sum)
    mean = _reduction_method(mean)
    prod = _reduction_method(prod)

    def amax(self, dim=None, keepdim=False):
        return amax(self, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        return amin(self, dim, keepdim)

    def max(self, dim=None, keepdim=False):
        """``x.max()`` (the value), ``x.max(dim)`` (values and indices), ``x.max(other)``."""
        if dim is None or isinstance(dim, Variable):
            return max(self, dim)
        return max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        if dim is None or isinstance(dim, Variable):
            return min(self, dim)
        return min(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return argmin(self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return all(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return any(self, dim, keepdim)

    def var(self, dim=None, unbiased=True, keepdim=False, *, correction=None):
        c = (1.0 if unbiased else 0.0) if correction is None else correction
        return var(self, dim, correction=c, keepdim=keepdim)

    def std(self, dim=None, unbiased=True, keepdim=False, *, correction=None):
        c = (1.0 if unbiased else 0.0) if correction is None else correction
        return std(self, dim, correction=c, keepdim=keepdim)

    def logsumexp(self, dim, keepdim=False):
        return logsumexp(self, dim, keepdim)

    def softmax(self, dim, dtype=None):
        return softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim, dtype=None):
        return log_softmax(self, dim, dtype=dtype)

    def cumsum(self, dim, *, dtype=None):
        return _cumsum(self, dim, dtype, False, "cumsum")

    def count_nonzero(self, dim=None):
        return count_nonzero(self, dim)

    def sum_to_size(self, *size):
        return sum_to(self, size[0] if len(size) == 1 and isinstance(size[0], (tuple, list)) else size)


# ------------------------------------------------------------------ cumulative products

__all__ += ["cumulative_prod", "cumprod"]


def _reverse_cumsum(xp, v, axis):
    return xp.flip(xp.cumulative_sum(xp.flip(v, axis=axis), axis=axis), axis=axis)


def _cumprod_grad_exact(xp, x, g, axis):
    """``grad_k = sum_{i >= k} g_i * prod_{j <= i, j != k} x_j`` formed without division:
    ``prod_{j < k} x_j`` times ``prod_{k < j <= i} x_j`` (a cumulative product of an
    ``n x n`` matrix per slice). Polynomial in x, so right to any order at zeros."""
    xl = xp.moveaxis(x, axis, -1)
    gl = xp.moveaxis(g, axis, -1)
    n = xl.shape[-1]
    before = xp.cumulative_prod(xp.concat([xp.ones_like(xl[..., :1]), xl[..., :-1]], axis=-1),
                                axis=-1)
    r = xp.arange(n, device=x.device)
    row = xp.reshape(r, (n, 1))
    col = xp.reshape(r, (1, n))
    # after[..., k, i] = prod_{k < j <= i} x_j
    after = xp.cumulative_prod(xp.where(col > row, xp.expand_dims(xl, axis=-2),
                                        xp.ones_like(xp.expand_dims(xl, axis=-2))), axis=-1)
    terms = xp.where(col >= row, xp.expand_dims(gl, axis=-2) * after, xp.zeros_like(after))
    return xp.moveaxis(before * xp.sum(terms, axis=-1), -1, axis)


class CumprodBackward(Node):
    """``y = cumprod(x)``: ``grad_k = sum_{i >= k} g_i y_i / x_k`` where no zero is at or
    before ``k``; at the first zero the same sum over the products with that zero taken
    out; after it, 0 (PyTorch's result, with no NaN). A recorded backward (create_graph)
    uses the division-free form, so second derivatives are right at zeros too."""

    __slots__ = ("axis", "cplx")
    saves = ("x", "out")

    def backward(self, xp, g, s):
        x, y = s.x, s.out
        a = self.axis
        if x.shape[a] == 0:
            return xp.zeros_like(g),
        if self.cplx:
            x, y = xp.conj(x), xp.conj(y)
        if xp is not self.be.ns:
            return _cumprod_grad_exact(xp, x, g, a),
        zero = x == 0
        if not bool(xp.any(zero)):
            return _reverse_cumsum(xp, g * y, a) / x,
        seen = xp.cumulative_sum(xp.astype(zero, g.dtype), axis=a)     # zeros up to here
        clean = seen == 0
        first = zero & (seen == 1)
        t1 = _reverse_cumsum(xp, g * y, a) / xp.where(clean, x, xp.ones_like(x))
        y1 = xp.cumulative_prod(xp.where(first, xp.ones_like(x), x), axis=a)
        t2 = _reverse_cumsum(xp, g * y1, a)
        return xp.where(clean, t1, xp.where(first, t2, xp.zeros_like(t2))),


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False, dim=None):
    """The standard's ``cumulative_prod``: running products along ``axis`` (PyTorch: ``dim``);
    differentiable, with the right gradient where ``x`` has zeros."""
    if dim is not None:
        axis = dim
    if axis is None:
        if x._data.ndim != 1:
            raise ValueError(f"cumulative_prod: axis is required for a {x._data.ndim}-d tensor")
        axis = 0
    if include_initial:
        if x._data.ndim == 0:
            raise ValueError("cumulative_prod: include_initial needs at least one dimension")
        out = cumulative_prod(x, axis=axis, dtype=dtype)
        return _with_initial(out, axis, 1)
    if dtype is not None:
        x = astype(x, dtype, copy=False)
    elif _is_bool(x):      # (as sum: bools count in the default integer; strict refuses bools)
        x = astype(x, x._be.default_int)
    if x._data.ndim == 0:
        return reshape(cumulative_prod(reshape(x, (1,)), axis=0), ())
    ax = norm_dims(axis, x._data.ndim, "cumulative_prod")[0]
    be = x._be
    # (dtype given: x is in it already, and the namespace must not widen it again)
    data = be.xp.cumulative_prod(x._data, axis=ax, dtype=None if dtype is None else x._data.dtype)
    if x._node is None or not grad_state.enabled:
        return x._make(data, be, None)
    node = record(CumprodBackward, be, (x,), (x, OUTPUT), (x._data, data))
    node.axis = ax
    node.cplx = data.dtype in be.complex_natives
    return x._make(data, be, node)


def cumprod(input, dim, *, dtype=None):
    """``torch.cumprod``: running products along ``dim``."""
    return cumulative_prod(input, axis=dim, dtype=dtype)


class ScanMethods:
    """Tensor methods for cumulative products (kept apart from ``ReductionMethods``)."""

    __slots__ = ()

    def cumprod(self, dim, *, dtype=None):
        return cumprod(self, dim, dtype=dtype)
