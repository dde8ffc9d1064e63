"""``interop.array_api``: the Array API standard's namespace (revision 2025.12), exactly,
with gradients. ``Tensor.__array_namespace__()`` returns it, so libraries written against
the standard (scikit-learn, SciPy, array-api-extra, einops) take interop tensors, and
array-api-tests runs against it. It has the ``linalg`` and ``fft`` extensions and
``__array_namespace_info__()``.

The top-level ``interop`` namespace is PyTorch's spelling of the same functions (as
``torch`` is beside ``array_api_compat.torch``); where the two disagree (``sort``, ``std``,
``max``, ``nonzero``, ``meshgrid``, ``flip``, ``squeeze``, ``equal``...) this module gives the
standard's signature and result, on the same primitives. Functions whose two spellings
agree are the very same objects in both namespaces.

Beyond the standard it carries only the differentiable twins of the backend kernels
(``getitem``, ``add_at``, ``index_add``, ``scatter_add``, ``sum_to``, ``windows``,
``windows_add``): backward formulas are written once against a namespace and, under
``create_graph=True``, are recorded through this one.
"""

from . import _creation

from ._ops import (flip as _flip, indexing as _indexing, join as _join, reduce as _reduce,
                   rearrange as _rearrange, sets as _sets, sorting as _sorting, views as _views)
from . import fft, linalg
from ._ops.cast import astype
from ._creation import from_dlpack
from ._ops.binary import (add, subtract, multiply, divide, pow, remainder, floor_divide, maximum,
                           minimum, atan2, logaddexp, hypot, copysign, nextafter, equal, not_equal,
                           less, less_equal, greater, greater_equal, logical_and, logical_or,
                           logical_xor, bitwise_and, bitwise_or, bitwise_xor, bitwise_left_shift,
                           bitwise_right_shift)
from ._ops.indexing import (take, take_along_axis, getitem, add_at, index_add, scatter_add, windows,
                        windows_add)
from ._info import __array_namespace_info__
from ._ops.matmul import matmul, vecdot
from ._namespace import result_type, can_cast, broadcast_shapes
from ._ops.rearrange import repeat
from ._ops.reduce import sum_to
from ._ops.select import where, clip
from ._ops.sets import unique_all, unique_counts, unique_inverse, unique_values
from ._ops.unary import (exp, expm1, log, log1p, log2, log10, sqrt, sin, cos, tan, tanh, sinh, cosh,
                     asin, acos, atan, asinh, acosh, atanh, reciprocal, square, abs, negative,
                     positive, conj, floor, ceil, trunc, sign, isnan, isinf, isfinite, signbit,
                     logical_not, bitwise_invert, real, imag)
from ._ops.unary import round as _round
from ._ops.views import (reshape, permute_dims, matrix_transpose, moveaxis, expand_dims, broadcast_to,
                     broadcast_arrays)
from .dtypes import (bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32,
                     float64, complex64, complex128, isdtype)
from .dtypes import finfo as _finfo, iinfo as _iinfo

__array_api_version__ = "2025.12"

e = 2.718281828459045
pi = 3.141592653589793
inf = float("inf")
nan = float("nan")
newaxis = None

_builtin_tuple = tuple


# ---------------------------------------------------------------- creation

def arange(start, /, stop=None, step=1, *, dtype=None, device=None):
    return _creation.arange(start, stop, step, dtype=dtype, device=device)


def asarray(obj, /, *, dtype=None, device=None, copy=None):
    return _creation.asarray(obj, dtype=dtype, device=device, copy=copy)


def empty(shape, *, dtype=None, device=None):
    return _creation.empty(shape, dtype=dtype, device=device)


def empty_like(x, /, *, dtype=None, device=None):
    return _creation.empty_like(x, dtype=dtype, device=device)


def eye(n_rows, n_cols=None, /, *, k=0, dtype=None, device=None):
    return _creation.eye(n_rows, n_cols, k=k, dtype=dtype, device=device)


def full(shape, fill_value, *, dtype=None, device=None):
    return _creation.full(shape, fill_value, dtype=dtype, device=device)


def full_like(x, /, fill_value, *, dtype=None, device=None):
    return _creation.full_like(x, fill_value, dtype=dtype, device=device)


def linspace(start, stop, /, num, *, dtype=None, device=None, endpoint=True):
    return _creation.linspace(start, stop, num, dtype=dtype, device=device, endpoint=endpoint)


def meshgrid(*arrays, indexing="xy"):
    """Coordinate grids; ``indexing='xy'`` (the standard's default) swaps the first two dims."""
    return _creation.meshgrid(*arrays, indexing=indexing)


def ones(shape, *, dtype=None, device=None):
    return _creation.ones(shape, dtype=dtype, device=device)


def ones_like(x, /, *, dtype=None, device=None):
    return _creation.ones_like(x, dtype=dtype, device=device)


def zeros(shape, *, dtype=None, device=None):
    return _creation.zeros(shape, dtype=dtype, device=device)


def zeros_like(x, /, *, dtype=None, device=None):
    return _creation.zeros_like(x, dtype=dtype, device=device)


def tril(x, /, *, k=0):
    return _rearrange.tril(x, k=k)


def triu(x, /, *, k=0):
    return _rearrange.triu(x, k=k)


# ---------------------------------------------------------------- data types

def finfo(type, /):
    return _finfo(type)


def iinfo(type, /):
    return _iinfo(type)


def round(x, /):
    """Round half to even."""
    return _round(x)


# ---------------------------------------------------------------- linear algebra

def tensordot(x1, x2, /, *, axes=2):
    return linalg.tensordot(x1, x2, axes=axes)


# ---------------------------------------------------------------- manipulation

def concat(arrays, /, *, axis=0):
    """Join along ``axis``; ``axis=None`` flattens the arrays first."""
    return _join.concat(arrays, axis=axis)


def flip(x, /, *, axis=None):
    """Reverse along ``axis`` (an int or a tuple; every axis when None)."""
    return _flip.flip(x, axis=axis)


def roll(x, /, shift, *, axis=None):
    return _rearrange.roll(x, shift, axis=axis)


def squeeze(x, /, axis):
    """Remove the size-1 ``axis`` (an int or a tuple); an error if one is not of size 1."""
    return _views.squeeze(x, axis)


def stack(arrays, /, *, axis=0):
    return _join.stack(arrays, axis=axis)


def tile(x, repetitions, /):
    return _rearrange.tile(x, repetitions)


def unstack(x, /, *, axis=0):
    return _join.unstack(x, axis=axis)


# ---------------------------------------------------------------- searching and sorting

def argmax(x, /, *, axis=None, keepdims=False):
    return _reduce.argmax(x, axis=axis, keepdims=keepdims)


def argmin(x, /, *, axis=None, keepdims=False):
    return _reduce.argmin(x, axis=axis, keepdims=keepdims)


def count_nonzero(x, /, *, axis=None, keepdims=False):
    return _reduce.count_nonzero(x, axis=axis, keepdims=keepdims)


def nonzero(x, /):
    """A tuple of index arrays, one per dim (a 0-d input is an error)."""
    return _indexing.nonzero(x)


def searchsorted(x1, x2, /, *, side="left", sorter=None):
    return _sets.searchsorted(x1, x2, side=side, sorter=sorter)


def isin(x1, x2, /, *, invert=False):
    return _sets.isin(x1, x2, invert=invert)


def argsort(x, /, *, axis=-1, descending=False, stable=True):
    return _sorting.argsort(x, axis=axis, descending=descending)


def sort(x, /, *, axis=-1, descending=False, stable=True):
    """The sorted values (stable)."""
    return _sorting.sort(x, axis=axis, descending=descending)


# ---------------------------------------------------------------- statistics

def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    return _reduce.cumulative_sum(x, axis=axis, dtype=dtype, include_initial=include_initial)


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
    return _reduce.cumulative_prod(x, axis=axis, dtype=dtype, include_initial=include_initial)


def max(x, /, *, axis=None, keepdims=False):
    """The maximum over ``axis`` (all axes when None; ``()``: none): values only."""
    return _reduce.max(x, axis=axis, keepdims=keepdims)


def min(x, /, *, axis=None, keepdims=False):
    return _reduce.min(x, axis=axis, keepdims=keepdims)


def mean(x, /, *, axis=None, keepdims=False):
    return _reduce.mean(x, axis=axis, keepdims=keepdims)


def prod(x, /, *, axis=None, dtype=None, keepdims=False):
    return _reduce.prod(x, axis=axis, dtype=dtype, keepdims=keepdims)


def sum(x, /, *, axis=None, dtype=None, keepdims=False):
    return _reduce.sum(x, axis=axis, dtype=dtype, keepdims=keepdims)


def std(x, /, *, axis=None, correction=0.0, keepdims=False):
    """Standard deviation; ``correction=0`` (divide by N) unless told otherwise."""
    return _reduce.std(x, axis=axis, correction=correction, keepdims=keepdims)


def var(x, /, *, axis=None, correction=0.0, keepdims=False):
    """Variance; ``correction=0`` (divide by N) unless told otherwise."""
    return _reduce.var(x, axis=axis, correction=correction, keepdims=keepdims)


# ---------------------------------------------------------------- utility

def all(x, /, *, axis=None, keepdims=False):
    return _reduce.all(x, axis=axis, keepdims=keepdims)


def any(x, /, *, axis=None, keepdims=False):
    return _reduce.any(x, axis=axis, keepdims=keepdims)


def diff(x, /, *, axis=-1, n=1, prepend=None, append=None):
    return _sets.diff(x, axis=axis, n=n, prepend=prepend, append=append)
