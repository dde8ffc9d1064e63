"""The top-level functions where PyTorch and the Array API standard disagree, with PyTorch's
signatures and results, so that ``import interop as it`` reads as ``import torch``.

The standard's versions of these names live in ``interop.array_api`` (what
``Tensor.__array_namespace__()`` returns), on the same primitives. Here the first
positional argument after the input is PyTorch's (``dim``, ``dims``, ``shifts``,
``diagonal``, ``n``...), and ``axis=``/``keepdims=`` are accepted only where PyTorch accepts
them, as plain aliases of ``dim``/``keepdim`` with PyTorch's meaning: ``sum(x, axis=())``
reduces every dim, ``max(x, axis=1)`` gives values and indices. Where PyTorch takes no
``axis`` (``flip``, ``roll``, ``take``, ``tril``, ``tensordot``...) neither does this
namespace. The README's "Coming from PyTorch" section lists what still differs from
PyTorch, and ``tests/test_torch_parity.py`` checks every shared name against it.
"""

from collections import namedtuple

from . import _creation

from ._ops import (binary as _binary, flip as _flip, indexing as _indexing, join as _join,
                   matmul as _matmul, rearrange as _rearrange, reduce as _reduce,
                   select as _select, sets as _sets, sorting as _sorting, unary as _unary,
                   views as _views)
from . import dtypes as _dt
from . import random as _random
from .autograd.variable import Variable

__all__ = ["sum", "prod", "mean", "amax", "amin", "all", "any", "logsumexp", "argmax", "argmin",
           "count_nonzero", "max", "min", "var", "std", "cumsum", "cumprod", "sort", "argsort",
           "equal", "nonzero", "where", "meshgrid", "flip", "squeeze", "take", "concat", "cat",
           "concatenate", "stack", "roll", "tile", "tril", "triu", "eye", "linspace", "clamp",
           "clip", "sign", "diff", "searchsorted", "isin", "tensordot", "arange", "bernoulli"]

_sum = sum


def _dim(op, dim, axis):
    """PyTorch's ``dim``, or its alias ``axis=`` (not both)."""
    if axis is None:
        return dim
    if dim is not None:
        raise TypeError(f"{op}: got both dim={dim!r} and axis={axis!r} (axis is PyTorch's alias "
                        f"of dim); give one")
    return axis


def _keepdim(op, keepdim, keepdims):
    """PyTorch's ``keepdim``, or its alias ``keepdims=`` (not both)."""
    if keepdims is None:
        return bool(keepdim)
    if keepdim:
        raise TypeError(f"{op}: got both keepdim and keepdims (PyTorch's alias); give one")
    return bool(keepdims)


# ---------------------------------------------------------------- reductions

def _reduction(fn, name, takes_dtype):
    # (the aliases are checked only when given: these wrappers sit on hot paths)
    if takes_dtype:
        def f(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
            if axis is not None or keepdims is not None:
                dim, keepdim = _dim(name, dim, axis), _keepdim(name, keepdim, keepdims)
            return fn(input, dim, keepdim, dtype=dtype)
    else:
        def f(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
            if axis is not None or keepdims is not None:
                dim, keepdim = _dim(name, dim, axis), _keepdim(name, keepdim, keepdims)
            return fn(input, dim, keepdim)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"``torch.{name}``: over ``dim`` (an int or a tuple; all dims when None or "
                 f"``()``), keeping the reduced dims with ``keepdim=True``.")
    return f


sum = _reduction(_reduce.sum, "sum", True)
prod = _reduction(_reduce.prod, "prod", True)
mean = _reduction(_reduce.mean, "mean", True)
amax = _reduction(_reduce.amax, "amax", False)
amin = _reduction(_reduce.amin, "amin", False)
argmax = _reduction(_reduce.argmax, "argmax", False)
argmin = _reduction(_reduce.argmin, "argmin", False)


def _truth(fn, name):
    def f(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
        out = fn(input, _dim(name, dim, axis), _keepdim(name, keepdim, keepdims))
        # PyTorch keeps uint8 for a uint8 input (its old boolean type); bool otherwise
        return out.astype(_dt.uint8) if input.dtype is _dt.uint8 else out
    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"``torch.{name}``: a bool tensor (uint8 for a uint8 input, as PyTorch) over "
                 f"``dim`` (an int or a tuple; all dims when None).")
    return f


all = _truth(_reduce.all, "all")
any = _truth(_reduce.any, "any")


def _required_dim(op, dim, axis):
    dim = _dim(op, dim, axis)
    if dim is None:
        raise TypeError(f"{op}: missing the required argument dim")
    return dim


def logsumexp(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """``torch.logsumexp``: ``log(sum(exp(x)))`` over ``dim`` (every dim when None, where
    PyTorch requires one)."""
    return _reduce.logsumexp(input, _dim("logsumexp", dim, axis),
                             _keepdim("logsumexp", keepdim, keepdims))


def count_nonzero(input, dim=None, *, axis=None):
    """``torch.count_nonzero``: the number of nonzero elements over ``dim`` (all by default)."""
    return _reduce.count_nonzero(input, _dim("count_nonzero", dim, axis))


def _extreme(fn, elementwise, name):
    def f(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
        if axis is not None:
            dim = _dim(name, dim, axis)
        if isinstance(dim, Variable):             # torch.max(x, other): elementwise
            if keepdim or keepdims is not None:
                raise TypeError(f"{name}(input, other) (elementwise) takes no keepdim")
            return elementwise(input, dim)
        kd = keepdim if keepdims is None else _keepdim(name, keepdim, keepdims)
        if dim is None:
            if kd:
                raise TypeError(f"{name}: keepdim needs a dim (torch.{name}(input) reduces every "
                                f"element to a 0-d tensor)")
            return fn(input)
        return fn(input, dim, kd)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"``torch.{name}``: ``{name}(input)`` is the {name}imum element; "
                 f"``{name}(input, dim, keepdim=False)`` a named tuple ``(values, indices)`` (the "
                 f"gradient goes to the index); ``{name}(input, other)`` the elementwise "
                 f"``{name}imum``.")
    return f


max = _extreme(_reduce.max, _binary.maximum, "max")
min = _extreme(_reduce.min, _binary.minimum, "min")


def _correction(op, unbiased, correction):
    if unbiased is not None:
        if correction is not None:
            raise TypeError(f"{op}: got both unbiased and correction; give one")
        return 1 if unbiased else 0
    return 1 if correction is None else correction


def _spread(fn, name):
    def f(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
          keepdims=None):
        if isinstance(dim, bool):                 # torch.var(x, False): the unbiased flag
            if unbiased is not None:
                raise TypeError(f"{name}: got unbiased twice")
            dim, unbiased = None, dim
        c = _correction(name, unbiased, correction)
        return fn(input, _dim(name, dim, axis), correction=c,
                  keepdim=_keepdim(name, keepdim, keepdims))
    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"``torch.{name}``: over ``dim`` (all dims by default) with Bessel's correction "
                 f"(``correction=1``, ``unbiased=True``) unless told otherwise, as PyTorch.")
    return f


var = _spread(_reduce.var, "var")
std = _spread(_reduce.std, "std")


def cumsum(input, dim=None, *, dtype=None, axis=None):
    """``torch.cumsum``: running sums along ``dim`` (required)."""
    return _reduce.cumsum(input, _required_dim("cumsum", dim, axis), dtype=dtype)


def cumprod(input, dim=None, *, dtype=None, axis=None):
    """``torch.cumprod``: running products along ``dim`` (required)."""
    return _reduce.cumprod(input, _required_dim("cumprod", dim, axis), dtype=dtype)


# ---------------------------------------------------------------- sorting and searching

def _dim_or(op, dim, axis, default):
    d = _dim(op, dim, axis)
    return default if d is None else d


def sort(input, dim=None, descending=False, *, stable=False, axis=None):
    """``torch.sort``: the named tuple ``(values, indices)`` along ``dim`` (default the
    last). Always stable: ties keep their order (a valid result of ``stable=False`` too)."""
    return _sorting.sort(input, _dim_or("sort", dim, axis, -1), descending)


def argsort(input, dim=None, descending=False, *, stable=False, axis=None):
    """``torch.argsort``: the indices that sort ``input`` along ``dim`` (default the last),
    always stably."""
    return _sorting.argsort(input, _dim_or("argsort", dim, axis, -1), descending)


def nonzero(input, *, as_tuple=False):
    """``torch.nonzero``: the ``(count, ndim)`` tensor of the nonzero elements' coordinates;
    ``as_tuple=True``: one 1-d tensor per dim (a 0-d input counts as 1-d)."""
    return _indexing.nonzero(input, as_tuple=bool(as_tuple))


def where(condition, input=None, other=None):
    """``torch.where(condition, input, other)``: elements of ``input`` where ``condition``,
    else of ``other`` (tensors or Python scalars); ``torch.where(condition)`` is
    ``nonzero(condition, as_tuple=True)``."""
    if input is None and other is None:
        return _indexing.nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where: give both input and other (or neither: where(condition) is "
                        "nonzero(condition, as_tuple=True))")
    return _select.where(condition, input, other)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """``torch.searchsorted`` of a 1-d ``sorted_sequence`` (``right=True`` or
    ``side="right"``: after equal elements); int64 indices, int32 with ``out_int32=True``."""
    if side is not None and right and side != "right":
        raise TypeError(f"searchsorted: side={side!r} and right=True disagree; give one")
    out = _sets.searchsorted(sorted_sequence, input, side=side or ("right" if right else "left"),
                             sorter=sorter)
    return out.astype(_dt.int32) if out_int32 else out


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """``torch.isin``: True where an element of ``elements`` is in ``test_elements``."""
    return _sets.isin(elements, test_elements, invert=invert)


def equal(input, other):
    """``torch.equal``: True if the two tensors have the same shape and equal elements (a
    Python bool; NaN equals nothing). The elementwise comparison is ``eq`` / ``==``."""
    for v, what in ((input, "input"), (other, "other")):
        if not isinstance(v, Variable):
            raise TypeError(f"equal: expected a Tensor as {what}, got {type(v).__name__}")
    if tuple(input.shape) != tuple(other.shape):
        return False
    return _builtin_bool(_reduce.all(_binary.equal(input, other)).item())


_builtin_bool = bool


# ---------------------------------------------------------------- shapes and arrangement

def meshgrid(*tensors, indexing=None):
    """``torch.meshgrid``: coordinate grids from 1-d tensors, ``indexing='ij'`` by default
    (PyTorch's; the standard's default is ``'xy'``). A single list of tensors works too."""
    return _creation.meshgrid(*tensors, indexing="ij" if indexing is None else indexing)


def flip(input, dims):
    """``torch.flip``: ``input`` reversed along each dim in ``dims`` (a copy)."""
    return _flip.flip(input, dims)


def squeeze(input, dim=None, *, axis=None):
    """``torch.squeeze``: without ``dim`` every size-1 dim is removed; with ``dim`` (an int
    or a tuple) those of size 1 among them, and the others are left alone."""
    dim = _dim("squeeze", dim, axis)
    return _views.squeeze(input) if dim is None else _views.squeeze(input, dim=dim)


def take(input, index):
    """``torch.take``: the elements of ``input`` seen as 1-d at ``index`` (any shape, which
    the result takes); negative indices count from the end."""
    return _indexing.take(input, index)


def concat(tensors, dim=None, *, axis=None):
    """``torch.cat``/``concat``/``concatenate``: ``tensors`` joined along ``dim`` (default 0);
    mixed dtypes promote."""
    return _join.concat(tensors, dim if dim is not None and axis is None else
                        _dim_or("cat", dim, axis, 0))


cat = concat
concatenate = concat


def stack(tensors, dim=None, *, axis=None):
    """``torch.stack``: ``tensors`` (of one shape) joined along a new ``dim`` (default 0)."""
    return _join.stack(tensors, _dim_or("stack", dim, axis, 0))


def roll(input, shifts, dims=None):
    """``torch.roll``: elements shifted by ``shifts`` along ``dims`` (flattened without)."""
    return _rearrange.roll(input, shifts, dims)


def tile(input, dims):
    """``torch.tile``: ``input`` repeated as a whole ``dims[i]`` times along each dim."""
    return _rearrange.tile(input, dims)


def tril(input, diagonal=0):
    """``torch.tril``: the lower triangle (on and below ``diagonal``) of the last two dims."""
    return _rearrange.tril(input, diagonal)


def triu(input, diagonal=0):
    """``torch.triu``: the upper triangle (on and above ``diagonal``) of the last two dims."""
    return _rearrange.triu(input, diagonal)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """``torch.diff``: the ``n``-th forward difference along ``dim``."""
    return _sets.diff(input, n=n, dim=dim, prepend=prepend, append=append)


def tensordot(a, b, dims=2):
    """``torch.tensordot``: contract the last ``dims`` dims of ``a`` with the first of ``b``,
    or the dims listed in ``dims = (dims_a, dims_b)``."""
    return _matmul.tensordot(a, b, dims=dims)


# ---------------------------------------------------------------- creation

def arange(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """``torch.arange``: ``[start, end)`` in steps of ``step``; ``arange(end)`` from 0."""
    if end is None:
        start, end = 0, start
    return _creation.arange(start, end, step, dtype=dtype, device=device,
                            requires_grad=requires_grad)


def bernoulli(input, p=None, *, generator=None):
    """``torch.bernoulli``: 0/1 draws with the probabilities in ``input``, or with the one
    probability ``p`` in ``input``'s shape and dtype."""
    if p is None:
        return _random.bernoulli(input, generator=generator)
    return _random.bernoulli(_creation.full_like(input, p), generator=generator)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    """``torch.eye``: an ``n x m`` (``n x n``) identity matrix."""
    return _creation.eye(n, m, dtype=dtype, device=device, requires_grad=requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``torch.linspace``: ``steps`` evenly spaced values from ``start`` to ``end``."""
    return _creation.linspace(start, end, steps, dtype=dtype, device=device,
                              requires_grad=requires_grad)


# ---------------------------------------------------------------- elementwise

def clamp(input, min=None, max=None):
    """``torch.clamp``/``clip``: ``input`` bounded to ``[min, max]`` (one may be None, not
    both); see ``interop._ops.select.clamp`` for dtypes and gradients."""
    return _select.clamp(input, min, max)


clip = clamp


sign = _unary.pytorch_sign
