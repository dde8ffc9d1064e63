"""Searching, set and difference functions of the standard: ``searchsorted``, ``isin``,
``unique_all``/``unique_counts``/``unique_inverse``/``unique_values`` and ``diff``.

``searchsorted`` and ``isin`` give indices and masks (no gradient). ``unique_*`` values are
elements of ``x``: their gradient goes to the first occurrence of each value (the
``indices`` of ``unique_all``). ``diff`` is built from slices and subtraction, so it is
differentiable to any order. NaNs are distinct from each other in ``unique_*`` and never
``isin`` anything, as the standard says.
"""

from collections import namedtuple

from .. import dtypes as _dt
from .._args import Unset, either, norm_dim, SCALAR_TYPES
from .binary import operand, subtract, logical_xor
from .indexing import getitem, take
from .join import concat
from .._dtype_rules import result_type
from .views import reshape
from ..autograd.variable import Variable

__all__ = ["searchsorted", "isin", "unique_all", "unique_counts", "unique_inverse",
           "unique_values", "diff", "UniqueAllResult", "UniqueCountsResult", "UniqueInverseResult"]

UniqueAllResult = namedtuple("UniqueAllResult", ["values", "indices", "inverse_indices", "counts"])
UniqueCountsResult = namedtuple("UniqueCountsResult", ["values", "counts"])
UniqueInverseResult = namedtuple("UniqueInverseResult", ["values", "inverse_indices"])


def _tensor_arg(x, op, name="x"):
    if not isinstance(x, Variable):
        raise TypeError(f"{op}: expected a Tensor for {name}, got {type(x).__name__}")
    return x


def _pair(x1, x2, op):
    """Two operands (one may be a Python scalar) as raw arrays of their promoted dtype."""
    t = x1 if isinstance(x1, Variable) else x2
    if not isinstance(t, Variable):
        raise TypeError(f"{op}: expected at least one Tensor, got {type(x1).__name__} and "
                        f"{type(x2).__name__}")
    be = t._be
    for v in (x1, x2):
        if not isinstance(v, Variable) and v.__class__ not in SCALAR_TYPES:
            raise TypeError(f"{op}: expected Tensors or Python scalars, got {type(v).__name__}")
        if isinstance(v, Variable) and v._be is not be:
            raise ValueError(f"{op}: tensors on backends {t._be.name!r} and {v._be.name!r}")
    nd = be.native_dtype(result_type(x1, x2))
    return be, operand(x1, be, nd), operand(x2, be, nd)


def _index_result(be, data):
    """Integer results in the default index dtype."""
    nd = be.native_dtype(be.default_int)
    return data if data.dtype == nd else be.xp.astype(data, nd)


_LEFT = Unset("left")
_LAST = Unset(-1)


def searchsorted(x1, x2, /, *, side=_LEFT, sorter=None, right=None):
    """Indices where the elements of ``x2`` would go into the sorted 1-d ``x1`` to keep it
    sorted: before equal elements (``side="left"``) or after them (``"right"``; PyTorch's
    ``right=True``). ``sorter``: indices that sort ``x1``. ``x2`` may be a Python scalar."""
    _tensor_arg(x1, "searchsorted", "x1")
    if right is not None:
        if side is not _LEFT and (side == "right") != bool(right):
            raise TypeError(f"searchsorted: side={side!r} and right={right!r} disagree; give one")
        side = "right" if right else "left"
    elif side is _LEFT:
        side = "left"
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    if x1._data.ndim != 1:
        raise ValueError(f"searchsorted: x1 must be 1-d (a sorted sequence), got shape "
                         f"{tuple(x1._data.shape)}")
    if sorter is not None:
        _tensor_arg(sorter, "searchsorted", "sorter")
        x1 = take(x1, sorter)
    be, a, v = _pair(x1, x2, "searchsorted")
    if be.dtype_of(a).is_complex:
        raise TypeError("searchsorted: complex values have no order")
    return x1._make(_index_result(be, be.xp.searchsorted(a, v, side=side)), be, None)


def isin(x1, x2, /, *, invert=False):
    """A bool tensor of ``x1``'s shape: True where the element of ``x1`` is in ``x2``
    (``invert=True``: where it is not). Either may be a Python scalar."""
    be, a, b = _pair(x1, x2, "isin")
    xp = be.xp
    shape = tuple(a.shape)
    flat_a = xp.reshape(a, (-1,))
    flat_b = xp.reshape(b, (-1,))
    if be.dtype_of(b).is_floating_point:      # NaN is in nothing; sorting them in misleads
        flat_b = flat_b[xp.logical_not(xp.isnan(flat_b))]   # searchsorted on some backends
    if flat_b.shape[0] == 0 or flat_a.shape[0] == 0:
        found = xp.zeros(shape, dtype=xp.bool, **be.device_kwargs)
    else:
        if be.dtype_of(a).is_complex:       # no order: compare with every element
            found = xp.any(flat_a[:, None] == flat_b[None, :], axis=1)
        else:
            s = xp.sort(flat_b)
            i = xp.searchsorted(s, flat_a)
            i = xp.clip(i, 0, s.shape[0] - 1)
            found = xp.take(s, i) == flat_a
        found = xp.reshape(found, shape)
    if invert:
        found = xp.logical_not(found)
    t = x1 if isinstance(x1, Variable) else x2
    return t._make(found, be, None)


def _unique_from_sort(xp, a, itype):
    """``unique_all`` from standard pieces, for a namespace without it: a stable sort, the
    starts of runs of equal values (NaN is never equal, so each NaN is its own run)."""
    flat = xp.reshape(a, (-1,))
    n = flat.shape[0]
    if n == 0:
        e = xp.zeros((0,), dtype=itype)
        return UniqueAllResult(flat, e, xp.reshape(e, a.shape), e)
    order = xp.argsort(flat, stable=True)
    s = xp.take(flat, order)
    starts = xp.concat([xp.ones((1,), dtype=xp.bool), s[1:] != s[:-1]])
    pos = xp.astype(xp.nonzero(starts)[0], itype)
    counts = xp.concat([pos[1:], xp.asarray([n], dtype=itype)]) - pos
    group = xp.cumulative_sum(xp.astype(starts, itype)) - 1
    inverse = xp.take(group, xp.argsort(order, stable=True))
    return UniqueAllResult(xp.take(s, pos), xp.astype(xp.take(order, pos), itype),
                           xp.reshape(inverse, a.shape), counts)


def _unique(x, op):
    _tensor_arg(x, op)
    be = x._be
    fn = getattr(be.xp, "unique_all", None)
    if fn is not None:
        try:
            return be, fn(x._data)
        except NotImplementedError:    # (array-api-compat's torch says so)
            pass
    return be, _unique_from_sort(be.xp, x._data, be.native_dtype(be.default_int))


def _values(x, be, res):
    """The unique values as a tensor: gathered from ``x`` (differentiable) where ``x``
    records a graph, else the backend's array."""
    if x._node is None:
        return x._make(res.values, be, None)
    return take(reshape(x, (-1,)), x._make(_index_result(be, res.indices), be, None))


def unique_all(x, /):
    """The unique elements of ``x`` (sorted, flattened), the index of the first occurrence
    of each, for each element of ``x`` the index of its value, and the counts."""
    be, res = _unique(x, "unique_all")
    mk = lambda a: x._make(_index_result(be, a), be, None)
    return UniqueAllResult(_values(x, be, res), mk(res.indices),
                           mk(be.xp.reshape(res.inverse_indices, tuple(x._data.shape))),
                           mk(res.counts))


def unique_counts(x, /):
    be, res = _unique(x, "unique_counts")
    return UniqueCountsResult(_values(x, be, res), x._make(_index_result(be, res.counts), be, None))


def unique_inverse(x, /):
    be, res = _unique(x, "unique_inverse")
    inv = be.xp.reshape(res.inverse_indices, tuple(x._data.shape))
    return UniqueInverseResult(_values(x, be, res), x._make(_index_result(be, inv), be, None))


def unique_values(x, /):
    be, res = _unique(x, "unique_values")
    return _values(x, be, res)


def diff(x, /, *, axis=_LAST, n=1, prepend=None, append=None, dim=None):
    """The ``n``-th forward difference along ``axis`` (PyTorch: ``dim``), after joining
    ``prepend`` and ``append`` along it; bool tensors give ``x[i+1] != x[i]``."""
    _tensor_arg(x, "diff")
    axis = either("diff", "axis", None if axis is _LAST else axis, "dim", dim)
    if axis is None:
        axis = -1
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"diff: n must be a non-negative int, got {n!r}")
    if x._data.ndim == 0:
        raise ValueError("diff: expected a tensor of at least 1 dim, got a 0-d one")
    ax = norm_dim(axis, x._data.ndim, "diff")
    if n == 0:          # (NumPy and PyTorch: x itself, prepend and append ignored)
        return x
    parts = [p for p in (prepend, x, append) if p is not None]
    for p in parts:
        _tensor_arg(p, "diff", "prepend/append")
    y = concat(parts, axis=ax) if len(parts) > 1 else x
    lead = (slice(None),) * ax
    boolean = y.dtype is _dt.bool
    for _ in range(n):
        if y._data.shape[ax] == 0:
            break
        hi, lo = getitem(y, lead + (slice(1, None),)), getitem(y, lead + (slice(None, -1),))
        y = logical_xor(hi, lo) if boolean else subtract(hi, lo)
    return y
