"""The in-place twins PyTorch has for interop's out-of-place ops (``asin_``, ``eq_``,
``index_add_``, ``scatter_add_``, ``cumsum_``, ``squeeze_``, ``random_``...), plus
``index_fill``/``index_copy``/``masked_scatter`` and their twins.

Every value op goes through ``interop._ops.mutation.inplace_compute``: the out-of-place op
runs, its result is written into the tensor's memory (cast back to its dtype only where
PyTorch allows), and the tensor moves onto the graph, as every other in-place op does.
Comparisons and logical ops write 1/0 (True/False) in the tensor's own dtype, as PyTorch.
The shape ops (``squeeze_``, ``t_``, ``transpose_``...) change the tensor's view of its
memory: the tensor takes the view's shape and graph.
"""

from .. import dtypes as _dt
from .cast import astype
from .binary import (atan2, bitwise_and, bitwise_left_shift, bitwise_or,
                           bitwise_right_shift, bitwise_xor, copysign, divide, equal,
                           floor_divide, greater, greater_equal, hypot, less, less_equal,
                           logical_and, logical_or, logical_xor, nextafter, not_equal)
from .._generator import default_generator
from .indexing import index_add, scatter_add
from .mutation import check_inplace, inplace_compute, overwrite, setitem
from .reduce import cumprod, cumsum
from .rearrange import tril, triu
from .select import clamp
from .unary import (abs, acos, acosh, asin, asinh, atan, atanh, bitwise_invert, cosh, expm1,
                     log10, log1p, log2, logical_not, rsqrt, sgn, sinh, tan)
from .views import broadcast_to, reshape, squeeze, swapaxes, t, transpose, unsqueeze
from ..autograd.variable import Variable

__all__ = ["index_fill", "index_copy", "masked_scatter", "InPlaceTwinMethods"]


def _index_key(x, dim, index, op):
    if not isinstance(index, Variable) or index.dtype.kind not in "iu" or index._data.ndim > 1:
        raise TypeError(f"{op}: index must be a 0-d or 1-d integer Tensor, got "
                        f"{index.dtype if isinstance(index, Variable) else type(index).__name__}")
    nd = x._data.ndim
    if nd == 0:
        if dim not in (0, -1):
            raise IndexError(f"{op}: dim {dim} out of range for a 0-d tensor")
        return ()
    ax = dim + nd if isinstance(dim, int) and dim < 0 else dim
    if not isinstance(ax, int) or not 0 <= ax < nd:
        raise IndexError(f"{op}: dim {dim} out of range for a tensor of {nd} dims")
    return (slice(None),) * ax + (reshape(index, (-1,)),)


def index_fill(x, dim, index, value):
    """``x`` with the slices at ``index`` along ``dim`` set to ``value`` (a Python scalar or
    a 0-d tensor, differentiable), as ``torch.index_fill``."""
    if not isinstance(x, Variable):
        raise TypeError(f"index_fill: expected a Tensor, got {type(x).__name__}")
    key = _index_key(x, dim, index, "index_fill")
    if isinstance(value, Variable) and value._data.ndim != 0:
        raise ValueError(f"index_fill: value must be a 0-d tensor or a number, got shape "
                         f"{tuple(value._data.shape)}")
    out = x * 1 if x.dtype is not _dt.bool else x.clone()     # a copy on the graph
    if key == ():
        if int(index.reshape(-1).shape[0]):
            setitem(out, (), value)
        return out
    if isinstance(value, Variable) and value.dtype is not x.dtype:
        value = astype(value, x.dtype)
    setitem(out, key, value)
    return out


def index_copy(x, dim, index, source):
    """``x`` with the slices of ``source`` written at ``index`` along ``dim``, as
    ``torch.index_copy`` (differentiable in both)."""
    if not isinstance(x, Variable) or not isinstance(source, Variable):
        raise TypeError("index_copy: expected Tensors for x and source")
    key = _index_key(x, dim, index, "index_copy")
    if source.dtype is not x.dtype:
        raise TypeError(f"index_copy: source dtype {source.dtype} does not match the tensor's "
                        f"{x.dtype} (as in PyTorch)")
    out = x * 1 if x.dtype is not _dt.bool else x.clone()
    setitem(out, key if key else (), source)
    return out


def masked_scatter(x, mask, source):
    """``x`` with the positions where ``mask`` (broadcast to x's shape) is True filled, in
    row-major order, by the first elements of ``source``, as ``torch.masked_scatter``
    (differentiable in both)."""
    if not isinstance(x, Variable) or not isinstance(source, Variable):
        raise TypeError("masked_scatter: expected Tensors for x and source")
    if not isinstance(mask, Variable) or mask.dtype is not _dt.bool:
        raise TypeError(f"masked_scatter: mask must be a bool Tensor, got "
                        f"{mask.dtype if isinstance(mask, Variable) else type(mask).__name__}")
    if source.dtype is not x.dtype:
        raise TypeError(f"masked_scatter: source dtype {source.dtype} does not match the "
                        f"tensor's {x.dtype} (as in PyTorch)")
    m = broadcast_to(mask, tuple(x._data.shape))
    k = int(m.sum())
    flat = reshape(source, (-1,))
    if flat._data.shape[0] < k:
        raise ValueError(f"masked_scatter: the mask selects {k} elements but source has only "
                         f"{flat._data.shape[0]}")
    out = x * 1 if x.dtype is not _dt.bool else x.clone()
    setitem(out, m, flat[:k])
    return out


def _unary_twin(fn, name):
    def m(self):
        return inplace_compute(self, fn, name)
    m.__name__ = name
    m.__doc__ = f"In-place ``{fn.__name__}``."
    return m


def _binary_twin(fn, name):
    def m(self, other):
        return inplace_compute(self, lambda x: fn(x, other), name, other)
    m.__name__ = name
    m.__doc__ = f"In-place ``{fn.__name__}``."
    return m


def _truth_twin(fn, name):
    """A comparison or logical op in place: True/False written as 1/0 in the tensor's dtype."""
    def m(self, other):
        return inplace_compute(self, lambda x: astype(fn(x, other), x.dtype), name)
    m.__name__ = name
    m.__doc__ = f"In-place ``{fn.__name__}``: 1 where true, 0 elsewhere, in this tensor's dtype."
    return m


def _shape_twin(fn, name):
    """A view op in place: the tensor takes the view's shape, memory view and graph."""
    def m(self, *args, **kwargs):
        check_inplace(self, name)
        if self._base is None and any(r() is not None for r in (self._views or ())):
            raise RuntimeError(f"{name}: this tensor has live views, which would lose track of "
                               f"its memory; use the out-of-place form")
        v = fn(self, *args, **kwargs)
        self._data = v._data
        self._node = v._node
        if self._base is not None:
            self._view_ops = v._view_ops
        return self
    m.__name__ = name
    m.__doc__ = f"In-place ``{fn.__name__}`` (changes this tensor's shape)."
    return m


def _squeeze_any(x, *dims, dim=None):
    if dims:
        dim = dims[0] if len(dims) == 1 else dims
    return x.squeeze() if dim is None else x.squeeze(dim)


# significand digits: random_() on a floating tensor draws from [0, 2**digits]
_DIGITS = {_dt.float16: 11, _dt.bfloat16: 8, _dt.float32: 24, _dt.float64: 53}


class InPlaceTwinMethods:
    """In-place twins of out-of-place ops (see the module docstring)."""

    __slots__ = ()

    absolute_ = _unary_twin(abs, "absolute_")
    acos_ = arccos_ = _unary_twin(acos, "acos_")
    acosh_ = arccosh_ = _unary_twin(acosh, "acosh_")
    asin_ = arcsin_ = _unary_twin(asin, "asin_")
    asinh_ = arcsinh_ = _unary_twin(asinh, "asinh_")
    atan_ = arctan_ = _unary_twin(atan, "atan_")
    atanh_ = arctanh_ = _unary_twin(atanh, "atanh_")
    bitwise_not_ = _unary_twin(bitwise_invert, "bitwise_not_")
    cosh_ = _unary_twin(cosh, "cosh_")
    sinh_ = _unary_twin(sinh, "sinh_")
    tan_ = _unary_twin(tan, "tan_")
    expm1_ = _unary_twin(expm1, "expm1_")
    log10_ = _unary_twin(log10, "log10_")
    log1p_ = _unary_twin(log1p, "log1p_")
    log2_ = _unary_twin(log2, "log2_")
    rsqrt_ = _unary_twin(rsqrt, "rsqrt_")
    sgn_ = _unary_twin(sgn, "sgn_")

    def logical_not_(self):
        """In-place ``logical_not``: 1 where the element is zero, 0 elsewhere."""
        return inplace_compute(self, lambda x: astype(logical_not(x), x.dtype), "logical_not_")

    atan2_ = arctan2_ = _binary_twin(atan2, "atan2_")
    bitwise_and_ = _binary_twin(bitwise_and, "bitwise_and_")
    bitwise_or_ = _binary_twin(bitwise_or, "bitwise_or_")
    bitwise_xor_ = _binary_twin(bitwise_xor, "bitwise_xor_")
    bitwise_left_shift_ = _binary_twin(bitwise_left_shift, "bitwise_left_shift_")
    bitwise_right_shift_ = _binary_twin(bitwise_right_shift, "bitwise_right_shift_")
    copysign_ = _binary_twin(copysign, "copysign_")
    hypot_ = _binary_twin(hypot, "hypot_")
    nextafter_ = _binary_twin(nextafter, "nextafter_")
    floor_divide_ = _binary_twin(floor_divide, "floor_divide_")
    true_divide_ = _binary_twin(divide, "true_divide_")

    eq_ = _truth_twin(equal, "eq_")
    ne_ = not_equal_ = _truth_twin(not_equal, "ne_")
    lt_ = less_ = _truth_twin(less, "lt_")
    le_ = less_equal_ = _truth_twin(less_equal, "le_")
    gt_ = greater_ = _truth_twin(greater, "gt_")
    ge_ = greater_equal_ = _truth_twin(greater_equal, "ge_")
    logical_and_ = _truth_twin(logical_and, "logical_and_")
    logical_or_ = _truth_twin(logical_or, "logical_or_")
    logical_xor_ = _truth_twin(logical_xor, "logical_xor_")

    def clamp_min_(self, min):
        return inplace_compute(self, lambda x: clamp(x, min, None), "clamp_min_", min)

    def clamp_max_(self, max):
        return inplace_compute(self, lambda x: clamp(x, None, max), "clamp_max_", max)

    def cumsum_(self, dim, *, dtype=None):
        return inplace_compute(self, lambda x: cumsum(x, dim, dtype=dtype), "cumsum_")

    def cumprod_(self, dim, *, dtype=None):
        return inplace_compute(self, lambda x: cumprod(x, dim, dtype=dtype), "cumprod_")

    def triu_(self, diagonal=0):
        return inplace_compute(self, lambda x: triu(x, diagonal), "triu_")

    def tril_(self, diagonal=0):
        return inplace_compute(self, lambda x: tril(x, diagonal), "tril_")

    def index_add_(self, dim, index, source, *, alpha=1):
        """In-place :func:`interop.index_add`."""
        return inplace_compute(self, lambda x: index_add(x, dim, index, source, alpha=alpha),
                               "index_add_", source)

    def scatter_add_(self, dim, index, src):
        """In-place :func:`interop.scatter_add`."""
        return inplace_compute(self, lambda x: scatter_add(x, dim, index, src), "scatter_add_",
                               src)

    def index_fill(self, dim, index, value):
        return index_fill(self, dim, index, value)

    def index_fill_(self, dim, index, value):
        return inplace_compute(self, lambda x: index_fill(x, dim, index, value), "index_fill_",
                               value)

    def index_copy(self, dim, index, source):
        return index_copy(self, dim, index, source)

    def index_copy_(self, dim, index, source):
        return inplace_compute(self, lambda x: index_copy(x, dim, index, source), "index_copy_",
                               source)

    def masked_scatter(self, mask, source):
        return masked_scatter(self, mask, source)

    def masked_scatter_(self, mask, source):
        return inplace_compute(self, lambda x: masked_scatter(x, mask, source),
                               "masked_scatter_", source)

    def random_(self, from_=0, to=None, *, generator=None, **kw):
        """Fill with integers uniform on ``[from, to - 1]`` (``random_(to)``: on
        ``[0, to - 1]``); with neither, on ``[0, 2**mantissa]`` for floating dtypes and the
        dtype's whole non-negative range for integers, as PyTorch. (``from`` is a Python
        keyword: pass it positionally or as ``from_``.)"""
        if "from" in kw:
            from_ = kw.pop("from")
        if kw:
            raise TypeError(f"random_: unexpected keyword arguments {sorted(kw)}")
        be = self._be
        dt = be.dtype_of(self._data)
        if to is None and from_ != 0:
            from_, to = 0, from_
        if to is None:
            if dt is _dt.bool:
                to = 2
            elif dt.kind in "iu":
                to = _dt.iinfo(dt).max + 1
            elif dt in _DIGITS:
                to = 2 ** _DIGITS[dt] + 1
            else:
                raise TypeError(f"random_: not supported for dtype {dt}")
        if not from_ < to:
            raise ValueError(f"random_ expects 'from' to be less than 'to', but got from={from_} "
                             f">= to={to}")
        src = (generator or default_generator).source(be)
        draw = _dt.int64 if dt.kind != "u" or dt.bits < 64 else dt
        vals = src.integers(from_, to, tuple(self._data.shape), draw)
        return overwrite(self, be.xp.astype(vals, self._data.dtype), "random_")

    squeeze_ = _shape_twin(_squeeze_any, "squeeze_")
    unsqueeze_ = _shape_twin(unsqueeze, "unsqueeze_")
    t_ = _shape_twin(t, "t_")
    transpose_ = _shape_twin(transpose, "transpose_")
    swapaxes_ = swapdims_ = _shape_twin(swapaxes, "swapaxes_")
