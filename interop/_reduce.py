"""Reductions. Each takes the standard's ``axis=``/``keepdims=`` and PyTorch's
``dim=``/``keepdim=`` spellings."""

from collections import namedtuple

from ._args import norm_dims, dtype_arg, real_only
from ._cast import astype
from ._views import reshape, broadcast_to
from .autograd.graph import Node
from .autograd.grad_mode import state as grad_state
from .autograd.variable import Variable, record

__all__ = ["sum", "mean", "prod", "max", "min", "amax", "amin", "var", "std", "logsumexp",
           "argmax", "argmin", "all", "any", "cumulative_sum", "cumsum", "count_nonzero", "softmax",
           "log_softmax", "sum_to"]

_sum = sum
_max = max
_min = min


def _axes_kw(op, x, axis, dim, keepdims, keepdim):
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{op}: give either axis= or dim=, not both")
        axis = dim
    if keepdim is not None:
        keepdims = keepdim
    return norm_dims(axis, x._data.ndim, op), bool(keepdims)


def _kshape(shape, axes):
    """Shape with reduced axes kept as size 1."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand_back(xp, g, shape, axes, keepdims):
    if not keepdims:
        g = xp.reshape(g, _kshape(shape, axes))
    return xp.broadcast_to(g, shape)


class SumBackward(Node):
    __slots__ = ("shape", "axes", "keepdims", "cast")

    def backward(self, xp, g, s):
        g = _expand_back(xp, g, self.shape, self.axes, self.keepdims)
        if self.cast is not None:
            g = xp.astype(g, self.cast)
        return g,


def sum(x, axis=None, *, dtype=None, keepdims=False, dim=None, keepdim=None):
    axes, keepdims = _axes_kw("sum", x, axis, dim, keepdims, keepdim)
    be = x._be
    nd = dtype_arg(be, dtype)
    xd = x._data
    if nd is None and xd.dtype not in be.inexact_natives and be.dtype_of(xd).kind in "bi":
        nd = be.native_dtype(be.default_int)      # PyTorch: integer sums accumulate in int64
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


def mean(x, axis=None, *, dtype=None, keepdims=False, dim=None, keepdim=None):
    axes, keepdims = _axes_kw("mean", x, axis, dim, keepdims, keepdim)
    if dtype is not None:
        x = astype(x, dtype)
    dt = x._be.dtype_of(x._data)
    if not (dt.is_floating_point or dt.is_complex):
        raise TypeError(f"mean: expected a floating point or complex tensor, got dtype {dt}; "
                        f"pass dtype= or cast first")
    return sum(x, axes, keepdims=keepdims) / _count(x._data.shape, axes)


class ProdBackward(Node):
    """d prod / d x_i = the product of the other elements. An ordinary backward uses
    ``prod / x`` with the zeros handled apart; under create_graph the product of the
    others is formed explicitly (O(n^2) in the reduced length), so that second
    derivatives are right at zeros too."""

    __slots__ = ("axes", "keepdims")

    def backward(self, xp, g, s):
        x = s[0]
        shape = tuple(x.shape)
        axes, keepdims = self.axes, self.keepdims
        g = _expand_back(xp, g, shape, axes, keepdims)
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


def prod(x, axis=None, *, dtype=None, keepdims=False, dim=None, keepdim=None):
    axes, keepdims = _axes_kw("prod", x, axis, dim, keepdims, keepdim)
    be = x._be
    data = be.xp.prod(x._data, axis=axes, dtype=dtype_arg(be, dtype), keepdims=keepdims)
    if x._node is None or not grad_state.enabled:
        return x._make(data, be, None)
    node = record(ProdBackward, be, (x,), (x,), (x._data,))
    node.axes, node.keepdims = axes, keepdims
    return x._make(data, be, node)


class AmaxBackward(Node):
    """Ties share the gradient evenly (PyTorch's amax/amin convention)."""
    __slots__ = ("axes", "keepdims")

    def backward(self, xp, g, s):
        x, out = s
        shape = x.shape
        o = _expand_back(xp, out, shape, self.axes, self.keepdims)
        mask = xp.astype(x == o, g.dtype)
        cnt = xp.sum(mask, axis=self.axes, keepdims=True)
        return _expand_back(xp, g, shape, self.axes, self.keepdims) * mask / cnt,


def _extreme(fname, op):
    def f(x, axis=None, *, keepdims=False, dim=None, keepdim=None):
        axes, kd = _axes_kw(op, x, axis, dim, keepdims, keepdim)
        real_only(x, op)
        be = x._be
        if 0 in x._data.shape:
            raise ValueError(f"{op}: cannot reduce an empty tensor of shape {tuple(x._data.shape)}")
        data = getattr(be.xp, fname)(x._data, axis=axes, keepdims=kd)
        if x._node is None or not grad_state.enabled:
            return x._make(data, be, None)
        node = record(AmaxBackward, be, (x,), (x, None), (x._data, data))
        node.axes, node.keepdims = axes, kd
        return x._make(data, be, node)
    f.__name__ = op
    return f


amax = _extreme("max", "amax")
amin = _extreme("min", "amin")

max_values = namedtuple("max", ["values", "indices"])
min_values = namedtuple("min", ["values", "indices"])


def max(x, axis=None, *, keepdims=False, dim=None, keepdim=None):
    """Standard ``max(x, axis=...)``; with ``dim=`` (PyTorch) returns ``(values, indices)``."""
    if dim is not None:
        kd = bool(keepdim) if keepdim is not None else keepdims
        return max_values(amax(x, dim=dim, keepdim=kd), argmax(x, dim=dim, keepdim=kd))
    return amax(x, axis, keepdims=keepdims if keepdim is None else keepdim)


def min(x, axis=None, *, keepdims=False, dim=None, keepdim=None):
    if dim is not None:
        kd = bool(keepdim) if keepdim is not None else keepdims
        return min_values(amin(x, dim=dim, keepdim=kd), argmin(x, dim=dim, keepdim=kd))
    return amin(x, axis, keepdims=keepdims if keepdim is None else keepdim)


def _arg(fname):
    def f(x, axis=None, *, keepdims=False, dim=None, keepdim=None):
        real_only(x, fname)
        if dim is not None:
            axis = dim
        if keepdim is not None:
            keepdims = keepdim
        be = x._be
        if axis is None:
            flat = be.xp.reshape(x._data, (-1,))
            data = getattr(be.xp, fname)(flat)
            if keepdims:
                data = be.xp.reshape(data, (1,) * x._data.ndim)
        else:
            ax = norm_dims(axis, x._data.ndim, fname)[0]
            data = getattr(be.xp, fname)(x._data, axis=ax, keepdims=bool(keepdims))
        return x._make(data, be, None)
    f.__name__ = fname
    return f


argmax = _arg("argmax")
argmin = _arg("argmin")


def _logical(fname):
    def f(x, axis=None, *, keepdims=False, dim=None, keepdim=None):
        axes, kd = _axes_kw(fname, x, axis, dim, keepdims, keepdim)
        return x._make(getattr(x._be.xp, fname)(x._data, axis=axes, keepdims=kd), x._be, None)
    f.__name__ = fname
    return f


all = _logical("all")
any = _logical("any")


def count_nonzero(x, axis=None, *, keepdims=False, dim=None):
    axes, kd = _axes_kw("count_nonzero", x, axis, dim, keepdims, None)
    xp = x._be.xp
    return x._make(xp.sum(xp.astype(x._data != 0, xp.int64), axis=axes, keepdims=kd), x._be, None)


def var(x, axis=None, *, correction=0.0, keepdims=False, dim=None, keepdim=None, unbiased=None):
    """Variance. The standard's default is ``correction=0``; PyTorch's ``Tensor.var``
    defaults to 1 (``unbiased=True``) -- the method form follows PyTorch."""
    axes, kd = _axes_kw("var", x, axis, dim, keepdims, keepdim)
    if unbiased is not None:
        correction = 1.0 if unbiased else 0.0
    n = _count(x._data.shape, axes)
    mu = mean(x, axes, keepdims=True)
    d = x - mu
    sq = d * d if not x.dtype.is_complex else (d * d.conj()).real
    return sum(sq, axes, keepdims=kd) / _max(n - correction, 0)


def std(x, axis=None, *, correction=0.0, keepdims=False, dim=None, keepdim=None, unbiased=None):
    return var(x, axis, correction=correction, keepdims=keepdims, dim=dim, keepdim=keepdim,
               unbiased=unbiased).sqrt()


def logsumexp(x, axis=None, *, keepdims=False, dim=None, keepdim=None):
    axes, kd = _axes_kw("logsumexp", x, axis, dim, keepdims, keepdim)
    m = amax(x.detach(), axes, keepdims=True)
    xp = x._be.xp
    m = x._make(xp.where(xp.isfinite(m._data), m._data, xp.zeros_like(m._data)), x._be, None)
    out = (x - m).exp().sum(axes, keepdims=True).log() + m
    if not kd:
        out = reshape(out, tuple(n for i, n in enumerate(x._data.shape)
                                 if axes is not None and i not in axes))
    return out


class CumsumBackward(Node):
    __slots__ = ("axis",)

    def backward(self, xp, g, s):
        a = self.axis
        return xp.flip(xp.cumulative_sum(xp.flip(g, axis=a), axis=a), axis=a),


def cumulative_sum(x, axis=None, *, dtype=None, include_initial=False, dim=None):
    if dim is not None:
        axis = dim
    if axis is None:
        if x._data.ndim != 1:
            raise ValueError(f"cumulative_sum: axis is required for a {x._data.ndim}-d tensor")
        axis = 0
    if include_initial:
        raise NotImplementedError("cumulative_sum(include_initial=True) comes with the full namespace")
    ax = norm_dims(axis, x._data.ndim, "cumulative_sum")[0]
    be = x._be
    data = be.xp.cumulative_sum(x._data, axis=ax, dtype=dtype_arg(be, dtype))
    if x._node is None or not grad_state.enabled:
        return x._make(data, be, None)
    node = record(CumsumBackward, be, (x,))
    node.axis = ax
    return x._make(data, be, node)


def cumsum(x, dim, *, dtype=None):
    return cumulative_sum(x, dim, dtype=dtype)


def _softmax_dim(x, dim, axis, op):
    if axis is not None:
        dim = axis
    if dim is None:
        raise TypeError(f"{op}: dim is required (PyTorch's implicit dim choice is deprecated)")
    return norm_dims(dim, x._data.ndim, op)


def softmax(x, dim=None, *, axis=None, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim``, shifted by the max for stability."""
    axes = _softmax_dim(x, dim, axis, "softmax")
    if dtype is not None:
        x = astype(x, dtype)
    e = (x - amax(x.detach(), axes, keepdims=True)).exp()
    return e / sum(e, axes, keepdims=True)


def log_softmax(x, dim=None, *, axis=None, dtype=None):
    """``x - logsumexp(x)`` along ``dim``."""
    axes = _softmax_dim(x, dim, axis, "log_softmax")
    if dtype is not None:
        x = astype(x, dtype)
    return x - logsumexp(x, axes, keepdims=True)




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
        if axis is not None:
            if dim is not None:
                raise TypeError(f"{fn.__name__}: give either axis= or dim=, not both")
            dim = axis
        if keepdims is not None:
            keepdim = keepdims
        if dtype is not None:
            return fn(self, dim, keepdims=keepdim, dtype=dtype)
        return fn(self, dim, keepdims=keepdim)
    m.__name__ = fn.__name__
    m.__doc__ = fn.__doc__
    return m


class ReductionMethods:
    """Tensor methods for reductions (PyTorch's positional ``dim`` first)."""

    __slots__ = ()

    sum = _reduction_method(sum)
    mean = _reduction_method(mean)
    prod = _reduction_method(prod)

    def amax(self, dim=None, keepdim=False):
        return amax(self, dim, keepdims=keepdim)

    def amin(self, dim=None, keepdim=False):
        return amin(self, dim, keepdims=keepdim)

    def max(self, dim=None, keepdim=False):
        if isinstance(dim, Variable):
            return self.maximum(dim)
        if dim is None:
            return amax(self)
        return max(self, dim=dim, keepdim=keepdim)

    def min(self, dim=None, keepdim=False):
        if isinstance(dim, Variable):
            return self.minimum(dim)
        if dim is None:
            return amin(self)
        return min(self, dim=dim, keepdim=keepdim)

    def argmax(self, dim=None, keepdim=False):
        return argmax(self, dim, keepdims=keepdim)

    def argmin(self, dim=None, keepdim=False):
        return argmin(self, dim, keepdims=keepdim)

    def all(self, dim=None, keepdim=False):
        return all(self, dim, keepdims=keepdim)

    def any(self, dim=None, keepdim=False):
        return any(self, dim, keepdims=keepdim)

    def var(self, dim=None, unbiased=True, keepdim=False, *, correction=None):
        c = (1.0 if unbiased else 0.0) if correction is None else correction
        return var(self, dim, correction=c, keepdims=keepdim)

    def std(self, dim=None, unbiased=True, keepdim=False, *, correction=None):
        c = (1.0 if unbiased else 0.0) if correction is None else correction
        return std(self, dim, correction=c, keepdims=keepdim)

    def logsumexp(self, dim, keepdim=False):
        return logsumexp(self, dim, keepdims=keepdim)

    def softmax(self, dim, dtype=None):
        return softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim, dtype=None):
        return log_softmax(self, dim, dtype=dtype)

    def cumsum(self, dim, *, dtype=None):
        return cumulative_sum(self, dim, dtype=dtype)

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

    def backward(self, xp, g, s):
        x, y = s
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
        raise NotImplementedError("cumulative_prod(include_initial=True) comes with the full "
                                  "namespace")
    if dtype is not None:
        x = astype(x, dtype, copy=False)
    if x._data.ndim == 0:
        return reshape(cumulative_prod(reshape(x, (1,)), axis=0), ())
    ax = norm_dims(axis, x._data.ndim, "cumulative_prod")[0]
    be = x._be
    data = be.xp.cumulative_prod(x._data, axis=ax)
    if x._node is None or not grad_state.enabled:
        return x._make(data, be, None)
    node = record(CumprodBackward, be, (x,), (x, None), (x._data, data))
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
