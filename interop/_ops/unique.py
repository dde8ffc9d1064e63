"""PyTorch's ``unique`` (its signature: ``sorted``, ``return_inverse``, ``return_counts``,
``dim``), ``unique_consecutive`` and ``argwhere``.

The standard's ``unique_*`` functions are in ``interop._ops.sets``; ``unique`` without ``dim``
is built on them. With ``dim``, the unique slices along ``dim`` are found by a
lexicographic stable sort of the slices (one stable argsort per element of a slice).
NaNs are distinct from each other, as in PyTorch. The values are gathered from the input
(the first occurrence of each), so their gradient reaches it (PyTorch's ``unique`` has
none); inverse indices and counts are int64 tensors without gradient.
"""

from .. import dtypes as _dt
from .._args import norm_dim
from .indexing import index_select, take
from .sets import _unique, _index_result, unique_all
from .views import reshape
from ..autograd.variable import Variable

__all__ = ["unique", "unique_consecutive", "argwhere", "UniqueMethods"]


def _tensor(x, op):
    if not isinstance(x, Variable):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return x


def _result(values, inverse, counts, return_inverse, return_counts):
    out = (values,) + ((inverse,) if return_inverse else ()) + ((counts,) if return_counts else ())
    return out[0] if len(out) == 1 else out


def _slices(x, ax):
    """x's data with ``ax`` moved first and the rest flattened: (n, k) raw rows."""
    xp = x._be.xp
    d = xp.moveaxis(x._data, ax, 0) if ax else x._data
    n = d.shape[0]
    k = 1
    for s in d.shape[1:]:
        k *= s
    return xp.reshape(d, (n, k)), n, k


def _runs(be, rows, order):
    """For rows (n, k) taken in ``order``: (the position in ``order`` of the first row of
    each run of equal rows, the run number of each position). NaN is never equal."""
    xp = be.xp
    s = xp.take(rows, order, axis=0)
    n = s.shape[0]
    itype = be.native_dtype(_dt.int64)
    if n == 0:
        e = xp.zeros((0,), dtype=itype, **be.device_kwargs)
        return e, e
    same = xp.all(s[1:, ...] == s[:-1, ...], axis=1)
    starts = xp.concat([xp.ones((1,), dtype=xp.bool, **be.device_kwargs), xp.logical_not(same)])
    group = xp.cumulative_sum(xp.astype(starts, itype)) - 1
    return xp.astype(xp.nonzero(starts)[0], itype), group


def _counts(be, first, n):
    xp = be.xp
    itype = be.native_dtype(_dt.int64)
    return xp.concat([first[1:], xp.asarray([n], dtype=itype, **be.device_kwargs)]) - first


def _by_dim(x, ax, consecutive):
    """(values, inverse, counts) of the unique slices of ``x`` along ``ax``."""
    be = x._be
    xp = be.xp
    rows, n, k = _slices(x, ax)
    if be.dtype_of(rows) is _dt.bool:        # (a namespace may not sort bools)
        rows = xp.astype(rows, be.native_dtype(_dt.uint8))
    itype = be.native_dtype(_dt.int64)
    order = xp.arange(n, dtype=itype, **be.device_kwargs)
    if not consecutive:
        for c in range(k - 1, -1, -1):        # least significant column first: lexicographic
            col = xp.take(rows[:, c], order)
            order = xp.take(order, xp.argsort(col, stable=True))
    first, group = _runs(be, rows, order)
    inverse = xp.take(group, xp.argsort(order, stable=True)) if n else group
    picks = xp.take(order, first) if n else first
    mk = lambda a: x._make(a, be, None)       # noqa: E731
    values = index_select(x, ax, mk(picks))
    return values, mk(inverse), mk(_counts(be, first, n) if n else first)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The unique elements of ``input`` in ascending order (flattened), or with ``dim`` its
    unique slices along ``dim``; with ``return_inverse``, for each element (slice) the index
    of its value in the result; with ``return_counts``, how often each occurs. Returns one
    tensor, or a tuple when either flag is set, as ``torch.unique``. ``sorted=False`` is
    accepted and gives sorted values too (PyTorch's CPU result)."""
    x = _tensor(input, "unique")
    if not isinstance(sorted, bool):
        raise TypeError(f"unique: sorted must be a bool, got {sorted!r}")
    if dim is not None:
        if x._data.ndim == 0:
            raise IndexError(f"unique: dim {dim} given for a 0-d tensor")
        ax = norm_dim(dim, x._data.ndim, "unique")
        return _result(*_by_dim(x, ax, False), return_inverse, return_counts)
    if not (return_inverse or return_counts):
        be, res = _unique(x, "unique")
        return _values(x, be, res)
    r = unique_all(x)
    return _result(r.values, r.inverse_indices, r.counts, return_inverse, return_counts)


def _values(x, be, res):
    if x._node is None:
        return x._make(res.values, be, None)
    return take(reshape(x, (-1,)), x._make(_index_result(be, res.indices), be, None))


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """``input`` with each run of equal consecutive elements (slices along ``dim``) kept
    once, as ``torch.unique_consecutive`` (flattened without ``dim``)."""
    x = _tensor(input, "unique_consecutive")
    if dim is None:
        flat = reshape(x, (-1, 1))
        values, inverse, counts = _by_dim(flat, 0, True)
        values = reshape(values, (-1,))
        inverse = reshape(inverse, tuple(x._data.shape))
    else:
        if x._data.ndim == 0:
            raise IndexError(f"unique_consecutive: dim {dim} given for a 0-d tensor")
        ax = norm_dim(dim, x._data.ndim, "unique_consecutive")
        values, inverse, counts = _by_dim(x, ax, True)
    return _result(values, inverse, counts, return_inverse, return_counts)


def argwhere(input):
    """The indices of the nonzero elements of ``input``: an int64 tensor of shape
    ``(count, input.ndim)``, one row per element in row-major order (NaN is nonzero), as
    ``torch.argwhere``."""
    x = _tensor(input, "argwhere")
    be = x._be
    xp = be.xp
    d = x._data
    itype = be.native_dtype(_dt.int64)
    if d.ndim == 0:
        hit = bool(d != 0)
        return x._make(xp.zeros((1 if hit else 0, 0), dtype=itype, **be.device_kwargs), be, None)
    nz = xp.nonzero(d != 0 if be.dtype_of(d) is not _dt.bool else d)
    cols = [xp.astype(i, itype) for i in nz]
    return x._make(xp.stack(cols, axis=1), be, None)


class UniqueMethods:
    """Tensor methods: ``unique``, ``unique_consecutive``, ``argwhere``."""

    __slots__ = ()

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return unique(self, sorted, return_inverse, return_counts, dim)

    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        return unique_consecutive(self, return_inverse, return_counts, dim)

    def argwhere(self):
        return argwhere(self)
