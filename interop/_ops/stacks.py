"""PyTorch's (and NumPy's) stacking helpers: ``atleast_1d/2d/3d``, ``hstack``, ``vstack``
(``row_stack``), ``column_stack`` and ``dstack``. Each is reshapes and one ``concat``, so
it is differentiable and promotes dtypes as ``cat`` does."""

from .join import concat
from .views import reshape
from ..autograd.variable import Variable

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack", "row_stack",
           "column_stack", "dstack"]


def _shaped(x, fn, op):
    if not isinstance(x, Variable):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return fn(x, tuple(x._data.shape))


def _one_or_many(args, fn, op):
    """PyTorch's atleast_*: one tensor gives a tensor; several (or one list) a tuple."""
    if len(args) == 1 and not isinstance(args[0], (list, tuple)):
        return _shaped(args[0], fn, op)
    items = args[0] if len(args) == 1 else args
    return tuple(_shaped(x, fn, op) for x in items)


def _to_1d(x, s):
    return reshape(x, (1,)) if len(s) == 0 else x


def _to_2d(x, s):
    return reshape(x, (1,) * (2 - len(s)) + s) if len(s) < 2 else x


def _to_3d(x, s):
    if len(s) == 0:
        return reshape(x, (1, 1, 1))
    if len(s) == 1:
        return reshape(x, (1, s[0], 1))
    if len(s) == 2:
        return reshape(x, s + (1,))
    return x


def atleast_1d(*tensors):
    """``x`` with at least one dim (a 0-d tensor becomes shape (1,))."""
    return _one_or_many(tensors, _to_1d, "atleast_1d")


def atleast_2d(*tensors):
    """``x`` with at least two dims (shape (n,) becomes (1, n))."""
    return _one_or_many(tensors, _to_2d, "atleast_2d")


def atleast_3d(*tensors):
    """``x`` with at least three dims ((n,) becomes (1, n, 1), (m, n) becomes (m, n, 1))."""
    return _one_or_many(tensors, _to_3d, "atleast_3d")


def _sequence(tensors, op):
    if isinstance(tensors, Variable) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of Tensors, got "
                        f"{type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty list of Tensors")
    for t in tensors:
        if not isinstance(t, Variable):
            raise TypeError(f"{op}: expected a list of Tensors, got an element of type "
                            f"{type(t).__name__}")
    return tensors


def hstack(tensors):
    """Join along the second dim (the first for 1-d tensors); 0-d tensors count as (1,)."""
    ts = [_to_1d(t, tuple(t._data.shape)) for t in _sequence(tensors, "hstack")]
    return concat(ts, axis=0 if ts[0]._data.ndim == 1 else 1)


def vstack(tensors):
    """Join along the first dim after making every tensor at least 2-d ((n,) is a row)."""
    ts = [_to_2d(t, tuple(t._data.shape)) for t in _sequence(tensors, "vstack")]
    return concat(ts, axis=0)


def row_stack(tensors):
    """The same as :func:`vstack`."""
    return vstack(tensors)


def column_stack(tensors):
    """Join along the second dim; 0-d and 1-d tensors become columns ((n,) is (n, 1))."""
    ts = []
    for t in _sequence(tensors, "column_stack"):
        s = tuple(t._data.shape)
        ts.append(reshape(t, (_numel(s), 1)) if len(s) < 2 else t)
    return concat(ts, axis=1)


def dstack(tensors):
    """Join along the third dim after making every tensor at least 3-d."""
    ts = [_to_3d(t, tuple(t._data.shape)) for t in _sequence(tensors, "dstack")]
    return concat(ts, axis=2)


def _numel(s):
    n = 1
    for d in s:
        n *= d
    return n
