"""Arguments as the ops take them: dims, shapes, backends, and the checks that name what
was expected and what was given (``dtype=`` arguments: ``interop._dtype_rules``)."""

from ._errors import ArgumentError, DTypeError, ShapeError
from .autograd.variable import Variable

SCALAR_TYPES = (bool, int, float, complex)


def norm_dim(dim, ndim, who="dim"):
    """Normalize a possibly negative ``dim`` for a tensor of ``ndim`` dims (a 0-d tensor
    takes dim 0 and -1, as in PyTorch)."""
    try:
        d = dim.__index__()
    except AttributeError:
        raise TypeError(f"{who}: dim must be an int, got {type(dim).__name__} {dim!r}") from None
    n = ndim if ndim > 0 else 1
    if not -n <= d < n:
        raise IndexError(f"{who}: dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return d + n if d < 0 else d


def norm_dims(dim, ndim, who="dim"):
    """``None`` (all), an int, or a sequence of ints -> tuple of non-negative axes, or None.
    On a 0-d tensor every dim normalizes to nothing (there is no axis to reduce)."""
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        axes = tuple(norm_dim(d, ndim, who) for d in dim)
        if len(set(axes)) != len(axes):
            raise ArgumentError(f"{who}: dim {tuple(dim)} names an axis twice")
    else:
        axes = (norm_dim(dim, ndim, who),)
    return axes if ndim else ()


def shape_arg(shape, op):
    """A shape given as ints or as one tuple/list -> a tuple of ints."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    out = []
    for s in shape:
        try:
            out.append(s.__index__())
        except AttributeError:
            raise TypeError(f"{op}: shape entries must be ints, got {type(s).__name__} {s!r}") from None
    return tuple(out)


def size_arg(size, op):
    """Like :func:`shape_arg`, refusing negative sizes (creation functions)."""
    out = shape_arg(size, op)
    for v in out:
        if v < 0:
            raise ValueError(f"{op}: negative dimension {v} in size {out}")
    return out


def mixed_backends(a, b, op):
    return RuntimeError(
        f"{op}: expected all tensors on the same backend and device, but found one on "
        f"{a._be.name!r} ({a._be.device}) and one on {b._be.name!r} ({b._be.device}); "
        f"move one explicitly with .to(...)")


def same_backend(tensors, op):
    """The backend shared by the tensors among ``tensors`` (a clear error if they differ)."""
    be = None
    first = None
    for t in tensors:
        if isinstance(t, Variable):
            if be is None:
                be, first = t._be, t
            elif t._be is not be:
                raise mixed_backends(first, t, op)
    return be


def expect_tensor(x, op, what="input"):
    if not isinstance(x, Variable):
        raise TypeError(f"{op}: expected a Tensor as {what}, got {type(x).__name__}")
    return x


def real_only(x, op):
    """Ordering ops have no meaning on complex numbers (NumPy would order them anyway)."""
    if isinstance(x, Variable) and x._data.dtype in x._be.complex_natives:
        raise DTypeError(f"{op}: not supported for complex tensors (dtype "
                         f"{x._be.dtype_of(x._data)}); compare abs() or the real part instead")


def both_spellings(op, axis, dim):
    """The error for an op given both the standard's ``axis=`` and PyTorch's ``dim``."""
    return TypeError(f"{op}: got both axis={axis!r} (the Array API spelling) and dim={dim!r} "
                     f"(PyTorch's, also the positional argument); give either axis= or dim=, "
                     f"not both")


def either(op, name, value, alias_name, alias):
    """One argument with two spellings (the standard's and PyTorch's): the one given (None if
    neither), a TypeError if both are."""
    if alias is None:
        return value
    if value is not None:
        raise TypeError(f"{op}: give either {name} or {alias_name}, not both")
    return alias


def keyword_dim(op, dim, axis):
    """``dim`` (PyTorch, keyword or positional) or ``axis=`` (the standard), not both."""
    if dim is not None:
        if axis is not None:
            raise both_spellings(op, axis, dim)
        return dim
    return axis


class Unset:
    """The default of a keyword whose explicit use must be told apart from its absence
    (``concat``'s ``axis=0`` against PyTorch's positional ``dim``). Reads as its value."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return repr(self.value)


def broadcast_shapes(*shapes, op=None):
    """The shape ``shapes`` broadcast to (a :class:`ShapeError` naming them if they do not)."""
    nd = max((len(s) for s in shapes), default=0)
    out = [1] * nd
    for s in shapes:
        for i, n in enumerate(s):
            j = nd - len(s) + i
            if out[j] == 1:
                out[j] = n
            elif n != 1 and n != out[j]:
                raise ShapeError(f"{op + ': ' if op else ''}shapes "
                                 f"{', '.join(str(tuple(s)) for s in shapes)} cannot be broadcast "
                                 f"together (size {n} against {out[j]} in dim {j})")
    return tuple(out)
