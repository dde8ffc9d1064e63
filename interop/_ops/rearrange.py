"""Rearranging elements: ``roll``, ``flip``, ``tile``/``repeat``/``repeat_interleave``,
``narrow``, ``unfold``, ``triu``/``tril``, ``diag``/``diagonal``. (``flip`` itself is in
``interop._ops.flip``, below indexing, which needs it; its Tensor method is here.)

Names shared by the standard and PyTorch take both spellings (``roll(x, shift, axis=)``
and ``roll(x, shifts, dims)``). One name means two things: the standard's ``repeat`` (and
NumPy's) repeats each element, which PyTorch calls ``repeat_interleave``, while PyTorch's
``Tensor.repeat`` tiles the whole tensor, which the standard calls ``tile``. So
``interop.repeat`` is the standard's and ``Tensor.repeat`` PyTorch's.

Views and copies: ``narrow`` is always a view, as in PyTorch. ``diagonal`` and
``unfold`` are views where basic indexing and reshaping can reach the elements (see each
function); otherwise they return a copy that refuses writes, so that code which writes
through PyTorch's view fails loudly here instead of writing into a copy.
"""

import math

from .._args import either, norm_dim, norm_dims, shape_arg, keyword_dim
from .cast import clone
from .flip import flip
from .indexing import getitem, take, index_data
from .join import concat
from .select import where
from .views import reshape, permute_dims, broadcast_to, moveaxis
from ..autograd.graph import Node
from ..autograd.grad_mode import state as grad_state
from ..autograd.variable import Variable, record

__all__ = ["roll", "tile", "repeat", "repeat_interleave", "narrow", "unfold", "triu", "tril",
           "diag", "diagonal"]


def _tensor(x, op):
    if not isinstance(x, Variable):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return x


def _root(t):
    return t if t._vroot is None else t._vroot


# ------------------------------------------------------------------ roll

class RollBackward(Node):
    __slots__ = ("shift", "axis")

    def backward(self, xp, g, s):
        return xp.roll(g, self.shift, axis=self.axis),


def roll(x, /, shift=None, dims=None, *, axis=None, shifts=None):
    """Elements shifted along ``axis`` (PyTorch: ``dims``), wrapping around; with no axis
    the tensor is rolled as if flattened, then given its shape back."""
    _tensor(x, "roll")
    shift = either("roll", "shift", shift, "shifts", shifts)
    if shift is None:
        raise TypeError("roll: missing the shift (shifts=)")
    axis = keyword_dim("roll", dims, axis)
    if not x._data.ndim:
        return clone(x)
    many = isinstance(shift, (tuple, list))
    shift_t = tuple(int(v) for v in shift) if many else (int(shift),)
    if axis is None:
        if many and len(shift_t) != 1:
            raise ValueError(f"roll: {len(shift_t)} shifts need as many dims, got none")
        axes = None
    else:
        axes = norm_dims(axis, x._data.ndim, "roll")
        if len(axes) != len(shift_t):
            raise ValueError(f"roll: shifts and dims must align: got {len(shift_t)} shifts and "
                             f"{len(axes)} dims")
    be = x._be
    xd = x._data
    sh = shift_t if axes is not None else shift_t[0]
    data = be.xp.roll(xd, sh, axis=axes)
    node = None
    if x._node is not None and grad_state.enabled:
        node = record(RollBackward, be, (x,))
        node.shift = tuple(-v for v in shift_t) if axes is not None else -shift_t[0]
        node.axis = axes
    return x._make(data, be, node)


# ------------------------------------------------------------------ tile / repeat

def _tile(x, reps, op):
    nd = x._data.ndim
    for r in reps:
        if r < 0:
            raise ValueError(f"{op}: repetitions must be non-negative, got {tuple(reps)}")
    reps = (1,) * (nd - len(reps)) + tuple(reps)
    shape = (1,) * (len(reps) - nd) + tuple(x._data.shape)
    pairs = tuple(v for s in shape for v in (1, s))
    spread = tuple(v for r, s in zip(reps, shape) for v in (r, s))
    y = broadcast_to(reshape(x, pairs), spread)
    return reshape(y, tuple(r * s for r, s in zip(reps, shape)), copy=True)


def tile(x, /, repetitions=None, *, dims=None):
    """The standard's ``tile(x, repetitions)`` (PyTorch: ``torch.tile(x, dims)``): ``x``
    repeated as a whole along each dim. Fewer repetitions than dims are padded with 1s
    in front; more make ``x`` gain leading dims. Always a copy."""
    _tensor(x, "tile")
    repetitions = either("tile", "repetitions", repetitions, "dims", dims)
    if repetitions is None:
        raise TypeError("tile: missing the repetitions")
    if not isinstance(repetitions, (tuple, list)):
        repetitions = (repetitions,)
    return _tile(x, shape_arg(tuple(repetitions), "tile"), "tile")


def _repeat_indices(x, n, repeats, op):
    """Raw index array that repeats positions ``0..n-1`` by ``repeats`` (an int or an
    integer tensor with one entry per position, or one for all)."""
    be = x._be
    xp = be.xp
    itype = be.native_dtype(be.default_int)
    if isinstance(repeats, Variable):
        r = index_data(repeats, x, op, "repeats")
        if r.ndim > 1:
            raise ValueError(f"{op}: repeats must be 0-d or 1-d, got shape {tuple(r.shape)}")
        if math.prod(r.shape) == 1:
            repeats = int(xp.reshape(r, ()))
        else:
            if r.shape[0] != n:
                raise ValueError(f"{op}: repeats must have the same size as input along dim: got "
                                 f"{r.shape[0]} repeats for a dim of size {n}")
            if r.shape[0] and bool(xp.any(r < 0)):
                raise ValueError(f"{op}: repeats can not be negative")
            return xp.repeat(xp.arange(n, dtype=itype, **be.device_kwargs), xp.astype(r, itype))
    try:
        repeats = repeats.__index__()
    except AttributeError:
        raise TypeError(f"{op}: repeats must be an int or an integer Tensor, got "
                        f"{type(repeats).__name__}") from None
    if repeats < 0:
        raise ValueError(f"{op}: repeats can not be negative, got {repeats}")
    if repeats == 0:
        return xp.zeros((0,), dtype=itype, **be.device_kwargs)
    return xp.arange(n * repeats, dtype=itype, **be.device_kwargs) // repeats


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (or slice along ``dim``) repeated ``repeats`` times in place, as
    ``torch.repeat_interleave``; no ``dim``: over the flattened tensor. With ``input``
    alone, an integer tensor of repeats, the positions repeated that often."""
    if repeats is None:
        r = _tensor(input, "repeat_interleave")
        if r._data.ndim != 1:
            raise ValueError(f"repeat_interleave: repeats must be 1-d, got shape "
                             f"{tuple(r._data.shape)}")
        return r._make(_repeat_indices(r, r._data.shape[0], r, "repeat_interleave"), r._be, None)
    x = _tensor(input, "repeat_interleave")
    if dim is None:
        x = reshape(x, (-1,))
        d = 0
    else:
        d = norm_dim(dim, x._data.ndim, "repeat_interleave")
        if x._data.ndim == 0:
            x = reshape(x, (1,))
    idx = _repeat_indices(x, x._data.shape[d], repeats, "repeat_interleave")
    if output_size is not None and output_size != idx.shape[0]:
        raise ValueError(f"repeat_interleave: output_size {output_size} differs from the size of "
                         f"the result ({idx.shape[0]})")
    return take(x, x._make(idx, x._be, None), axis=d)


def repeat(x, repeats, /, *, axis=None):
    """The standard's ``repeat`` (NumPy's, PyTorch's ``repeat_interleave``): each element
    repeated ``repeats`` times along ``axis`` (no axis: over the flattened tensor). For
    PyTorch's tiling ``Tensor.repeat(*sizes)`` see :func:`tile`."""
    return repeat_interleave(x, repeats, axis)


# ------------------------------------------------------------------ narrow / unfold

def narrow(input, dim, start, length):
    """Elements ``start .. start + length - 1`` along ``dim``: a view (PyTorch's
    ``narrow``); a negative ``start`` counts from the end."""
    x = _tensor(input, "narrow")
    if x._data.ndim == 0:
        raise IndexError("narrow() cannot be applied to a 0-dim tensor")
    d = norm_dim(dim, x._data.ndim, "narrow")
    n = x._data.shape[d]
    start = start.__index__()
    length = length.__index__()
    if not -n <= start <= n:
        raise IndexError(f"narrow: start ({start}) out of range for dimension {d} of size {n}")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise IndexError(f"narrow: start ({start}) + length ({length}) exceeds dimension size "
                         f"({n})")
    return getitem(x, (slice(None),) * d + (slice(start, start + length),))


def unfold(x, dimension, size, step):
    """PyTorch's ``Tensor.unfold``: windows of ``size`` elements along ``dimension``, every
    ``step``, as a new last dim (``dimension`` gets the number of windows).

    A view of ``x`` when the windows do not overlap (``step >= size``) and
    ``windows * step`` fits in the dim (narrow, reshape, narrow, move: basic indexing and
    reshapes only). Overlapping windows cannot be reached that way: then it is a copy
    gathered by index, which refuses writes (PyTorch's would write through).
    """
    _tensor(x, "unfold")
    nd = x._data.ndim
    d = norm_dim(dimension, nd, "unfold")
    n = x._data.shape[d] if nd else 1
    size = size.__index__()
    step = step.__index__()
    if size < 0 or size > n:
        raise ValueError(f"unfold: maximum size for tensor at dimension {d} is {n} but size is "
                         f"{size}")
    if step <= 0:
        raise ValueError(f"unfold: step is {step} but must be > 0")
    if nd == 0:
        return reshape(x, (size,))
    shape = tuple(x._data.shape)
    nw = (n - size) // step + 1
    if step >= size and nw * step <= n:
        y = narrow(x, d, 0, nw * step)
        y = reshape(y, shape[:d] + (nw, step) + shape[d + 1:])
        y = narrow(y, d + 1, 0, size)
        return moveaxis(y, d + 1, -1)
    be = x._be
    xp = be.xp
    itype = be.native_dtype(be.default_int)
    starts = xp.arange(nw, dtype=itype, **be.device_kwargs) * step
    idx = xp.reshape(xp.reshape(starts, (nw, 1)) + xp.arange(size, dtype=itype, **be.device_kwargs),
                     (-1,))
    y = take(x, x._make(idx, be, None), axis=d)
    y = moveaxis(reshape(y, shape[:d] + (nw, size) + shape[d + 1:]), d + 1, -1)
    y._readonly = (f"unfold with overlapping windows (size {size}, step {step}) is a copy here, "
                   f"not a view of the tensor")
    return y


# ------------------------------------------------------------------ triangles

class TriangleBackward(Node):
    __slots__ = ("upper", "k")

    def backward(self, xp, g, s):
        return (xp.triu(g, k=self.k) if self.upper else xp.tril(g, k=self.k)),


def _triangle(x, diagonal, k, upper, op):
    _tensor(x, op)
    if k is not None:
        diagonal = k
    diagonal = diagonal.__index__()
    if x._data.ndim < 2:
        raise ValueError(f"{op}: input tensor must have at least 2 dimensions, got shape "
                         f"{tuple(x._data.shape)}")
    be = x._be
    data = (be.xp.triu if upper else be.xp.tril)(x._data, k=diagonal)
    node = None
    if x._node is not None and grad_state.enabled:
        node = record(TriangleBackward, be, (x,))
        node.upper, node.k = upper, diagonal
    return x._make(data, be, node)


def triu(x, /, diagonal=0, *, k=None):
    """The upper triangle of the last two dims (on and above diagonal ``k``; the standard
    spells it ``k=``, PyTorch ``diagonal``); zeros elsewhere."""
    return _triangle(x, diagonal, k, True, "triu")


def tril(x, /, diagonal=0, *, k=None):
    """The lower triangle of the last two dims (on and below diagonal ``k``)."""
    return _triangle(x, diagonal, k, False, "tril")


# ------------------------------------------------------------------ diagonals

def _mergeable(y):
    """True when the last two dims of ``y`` can become one strided dim without a copy
    (True also where the backend does not expose its layout: then reshape decides)."""
    st = y._be.strides(y._data)
    if st is None:
        return True
    n, m = y._data.shape[-2], y._data.shape[-1]
    return n <= 1 or m <= 1 or st[-2] == st[-1] * m


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal ``offset`` of the matrices spanned by ``dim1`` and ``dim2``, as a new
    last dim (PyTorch's ``torch.diagonal``).

    A view where the two dims can be merged without a copy (the last two dims of a
    contiguous tensor, in either order; any 2-d tensor that is contiguous or transposed):
    the elements are then every ``(m + 1)``-th of the merged dim, a strided slice.
    Otherwise a copy that refuses writes (PyTorch's is always a view).
    """
    x = _tensor(input, "diagonal")
    nd = x._data.ndim
    if nd < 2:
        raise ValueError(f"diagonal: expected a tensor with at least 2 dims, got shape "
                         f"{tuple(x._data.shape)}")
    d1 = norm_dim(dim1, nd, "diagonal")
    d2 = norm_dim(dim2, nd, "diagonal")
    if d1 == d2:
        raise ValueError(f"diagonal: dimensions cannot be identical ({dim1}, {dim2})")
    offset = offset.__index__()
    rest = [d for d in range(nd) if d not in (d1, d2)]
    y = permute_dims(x, tuple(rest) + (d1, d2))
    if not _mergeable(y) and _mergeable(permute_dims(x, tuple(rest) + (d2, d1))):
        # the same diagonal of the transposed matrices (swapping the dims negates the
        # offset) lies in a layout that merges without a copy
        y = permute_dims(x, tuple(rest) + (d2, d1))
        offset = -offset
    n, m = y._data.shape[-2], y._data.shape[-1]
    length = max(0, min(n, m - offset) if offset >= 0 else min(n + offset, m))
    flat = reshape(y, tuple(y._data.shape[:-2]) + (n * m,))
    if length == 0:
        key = slice(0, 0)
    else:
        start = offset if offset >= 0 else -offset * m
        key = slice(start, start + (length - 1) * (m + 1) + 1, m + 1)
    out = getitem(flat, (Ellipsis, key))
    if _root(out) is not _root(x):
        out._readonly = ("diagonal of this tensor is a copy here (its two dims cannot be merged "
                         "into one strided dim without copying), not a view")
    return out


_diagonal = diagonal      # (diag's argument is called diagonal, as in PyTorch)


def diag(input, diagonal=0):
    """PyTorch's ``diag``: a 1-d tensor becomes a square matrix with it on diagonal
    ``diagonal`` (zeros elsewhere); a 2-d tensor gives a copy of that diagonal."""
    x = _tensor(input, "diag")
    k = diagonal.__index__()
    nd = x._data.ndim
    if nd == 2:
        return clone(_diagonal(x, k))
    if nd != 1:
        raise ValueError(f"diag: expected a 1-d or 2-d tensor, got shape {tuple(x._data.shape)}")
    be = x._be
    xp = be.xp
    n = x._data.shape[0]
    size = n + abs(k)
    pad = x._make(xp.zeros((abs(k),), dtype=x._data.dtype, **be.device_kwargs), be, None)
    row = concat([pad, x] if k >= 0 else [x, pad], axis=0)
    mask = x._make(xp.eye(size, size, k=k, dtype=xp.bool, **be.device_kwargs), be, None)
    zero = x._make(xp.zeros((), dtype=x._data.dtype, **be.device_kwargs), be, None)
    return where(mask, broadcast_to(reshape(row, (1, size)), (size, size)), zero)


class RearrangeMethods:
    """Tensor methods that rearrange elements (PyTorch's signatures)."""

    __slots__ = ()

    def roll(self, shifts, dims=None):
        return roll(self, shifts, dims)

    def flip(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return flip(self, axis=dims)

    def repeat(self, *sizes):
        """PyTorch's ``Tensor.repeat``: the tensor tiled ``sizes`` times along each dim (at
        least as many sizes as dims; extra ones add leading dims). See :func:`tile`."""
        sizes = shape_arg(sizes, "repeat")
        if len(sizes) < self._data.ndim:
            raise ValueError(f"repeat: number of dimensions of repeat dims ({len(sizes)}) can not "
                             f"be smaller than number of dimensions of tensor "
                             f"({self._data.ndim})")
        return _tile(self, sizes, "repeat")

    def tile(self, *dims):
        return _tile(self, shape_arg(dims, "tile"), "tile")

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        return repeat_interleave(self, repeats, dim, output_size=output_size)

    def narrow(self, dim, start, length):
        return narrow(self, dim, start, length)

    def unfold(self, dimension, size, step):
        return unfold(self, dimension, size, step)

    def triu(self, diagonal=0):
        return triu(self, diagonal)

    def tril(self, diagonal=0):
        return tril(self, diagonal)

    def diag(self, diagonal=0):
        return diag(self, diagonal)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return diagonal(self, offset, dim1, dim2)
