"""Sorting: ``sort`` and ``argsort`` (the primitives under both public spellings), ``topk``.

Called with the standard's ``axis=`` (as ``interop.array_api.sort`` does), ``sort`` returns
the sorted values; with PyTorch's ``dim`` (as ``interop.sort`` and the method ``x.sort``
do), PyTorch's named tuple ``(values, indices)``.

Every sort here is stable (equal elements keep their order; with ``descending=True`` too),
also where ``stable=False`` allows otherwise: the indices of ties are then the ones
``torch.sort(..., stable=True)`` gives. ``topk`` takes the first ``k`` of that order, so
among equal values the lower index wins (PyTorch's own choice among ties is
unspecified). The gradient of the values goes to the element each value came from.
"""

from collections import namedtuple

from .._args import norm_dim, real_only, keyword_dim
from ..autograd.graph import Node, UNSAVED
from ..autograd.grad_mode import state as grad_state
from ..autograd.variable import Variable, record

__all__ = ["sort", "argsort", "topk", "sort_result", "topk_result"]

sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])


class SortBackward(Node):
    """The values are ``x`` taken along ``axis`` in sorted order, the first ``k`` of ``n``
    (all of them for sort). ``s.inverse`` is the inverse of the full sorting permutation: the
    gradient (zeros after the first ``k``) is gathered back into the input's order."""

    __slots__ = ("axis", "n")
    saves = ("inverse",)

    def backward(self, xp, g, s):
        ax = self.axis
        if ax is None:          # a 0-d input: the value is the input
            return g,
        k = g.shape[ax]
        if k < self.n:
            shape = list(g.shape)
            shape[ax] = self.n - k
            g = xp.concat([g, xp.zeros(tuple(shape), dtype=g.dtype, device=g.device)], axis=ax)
        return xp.take_along_axis(g, s.inverse, axis=ax),


class TopkBackward(SortBackward):
    __slots__ = ()


def _sorted(x, axis, descending, k, op):
    """(values, indices) of ``x`` sorted along ``axis`` (stably), the first ``k`` if given."""
    if not isinstance(x, Variable):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    real_only(x, op)
    be = x._be
    xp = be.xp
    xd = x._data
    scalar = xd.ndim == 0
    if scalar:
        xd = xp.reshape(xd, (1,))
    ax = norm_dim(axis, xd.ndim, op)
    n = xd.shape[ax]
    if k is not None and not 0 <= k <= n:
        raise IndexError(f"{op}: k ({k}) out of range: dimension {ax} has size {n} (shape "
                         f"{tuple(x._data.shape)})")
    order = xp.argsort(xd, axis=ax, descending=bool(descending), stable=True)
    idx = order if k is None or k == n else order[(slice(None),) * ax + (slice(0, k), Ellipsis)]
    vals = xp.take_along_axis(xd, idx, axis=ax)
    if scalar:
        vals = xp.reshape(vals, ())
        idx = xp.reshape(idx, ())
    node = None
    if x._node is not None and grad_state.enabled:
        if scalar:
            node = record(SortBackward, be, (x,), (UNSAVED,), (UNSAVED,))
            node.axis, node.n = None, 1
        else:
            inv = xp.argsort(order, axis=ax)      # the inverse permutation
            node = record(SortBackward if k is None else TopkBackward, be, (x,), (inv,), (inv,))
            node.axis, node.n = ax, n
    return x._make(vals, be, node), x._make(idx, be, None)


def sort(x, /, dim=None, descending=False, *, axis=None, stable=True):
    """The standard's ``sort(x, axis=-1, descending=False, stable=True)``: the sorted values.

    With PyTorch's ``dim`` (positional or ``dim=``) it returns PyTorch's named tuple
    ``(values, indices)`` instead, as ``torch.sort(x, dim)``. Always stable.
    """
    if dim is None:
        values, _ = _sorted(x, -1 if axis is None else axis, descending, None, "sort")
        return values
    return sort_result(*_sorted(x, keyword_dim("sort", dim, axis), descending, None, "sort"))


def argsort(x, /, dim=None, descending=False, *, axis=None, stable=True):
    """Indices that sort ``x`` along ``axis`` (or PyTorch's ``dim``; default the last),
    stably: equal elements keep their order."""
    ax = keyword_dim("argsort", dim, axis)
    return _sorted(x, -1 if ax is None else ax, descending, None, "argsort")[1]


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (``largest=False``: smallest) elements along ``dim`` and their
    indices, as PyTorch's ``torch.topk``; always in sorted order. Among equal values the
    lower index comes first."""
    if not isinstance(k, int) and not hasattr(k, "__index__"):
        raise TypeError(f"topk: k must be an int, got {type(k).__name__}")
    return topk_result(*_sorted(input, dim, largest, k.__index__(), "topk"))


class SortingMethods:
    """Tensor methods that sort (PyTorch's signatures and named tuples)."""

    __slots__ = ()

    def sort(self, dim=-1, descending=False, *, stable=False):
        """``(values, indices)`` sorted along ``dim`` (stable also when ``stable=False``)."""
        return sort_result(*_sorted(self, dim, descending, None, "sort"))

    def argsort(self, dim=-1, descending=False, *, stable=False):
        return _sorted(self, dim, descending, None, "argsort")[1]

    def msort(self):
        return _sorted(self, 0, False, None, "msort")[0]

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return topk(self, k, dim, largest, sorted)
