"""Standard functions about dtypes and shapes that take no tensor data: ``result_type``,
``can_cast``, ``broadcast_shapes``."""

from ._args import broadcast_shapes as _broadcast_shapes
from ._dtype_rules import can_cast, result_type as _result_type
from .backends import get_backend

__all__ = ["result_type", "can_cast", "broadcast_shapes"]


def result_type(*arrays_and_dtypes):
    """The dtype of an op on ``arrays_and_dtypes`` (tensors, dtypes, and Python scalars next to
    at least one of those), by interop's promotion rules (see ``interop._dtype_rules``)."""
    if not arrays_and_dtypes:
        raise ValueError("result_type: expected at least one tensor or dtype")
    if all(a.__class__ in (bool, int, float, complex) for a in arrays_and_dtypes):
        raise ValueError("result_type: Python scalars alone have no result type; give at least "
                         "one tensor or dtype")
    return _result_type(*arrays_and_dtypes, be=get_backend())


def broadcast_shapes(*shapes):
    """The shape that ``shapes`` broadcast to; a ValueError naming them where they do not."""
    for s in shapes:
        if not isinstance(s, (tuple, list)) or not all(isinstance(n, int) for n in s):
            raise TypeError(f"broadcast_shapes: expected shapes (tuples of ints), got {s!r}")
    return _broadcast_shapes(*(tuple(s) for s in shapes), op="broadcast_shapes")
