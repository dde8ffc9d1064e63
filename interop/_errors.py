"""Exception classes for errors that the Array API standard (or Python) and PyTorch name
differently. Each derives from both, so that ``except ValueError`` / ``except TypeError``
(the standard's and NumPy's habit) and ``except RuntimeError`` (PyTorch's) keep working.

==========================  ==================================  ============================
class                       raised for                          PyTorch raises
==========================  ==================================  ============================
``ShapeError``              shapes that do not broadcast,       RuntimeError
                            match or fit an op
``DTypeError``              a dtype (or pair) an op does not    RuntimeError (or its
                            take                                subclass NotImplementedError)
``ArgumentError``           an argument value an op does not    RuntimeError
                            take (``chunks=0``, integers to
                            negative integer powers)
``IntegerDivisionByZero``   integer ``//``, ``%`` and           RuntimeError("ZeroDivisionError")
                            rounding division by zero
==========================  ==================================  ============================
"""

__all__ = ["ShapeError", "DTypeError", "ArgumentError", "IntegerDivisionByZero"]


class ShapeError(ValueError, RuntimeError):
    """Shapes that do not broadcast together, match, or fit the op."""


class DTypeError(TypeError, RuntimeError):
    """A dtype, or a combination of dtypes, that the op does not take."""


class ArgumentError(ValueError, RuntimeError):
    """An argument value that the op does not take."""


class IntegerDivisionByZero(ZeroDivisionError, RuntimeError):
    """Integer floor division, remainder or rounding division by zero (NumPy would give 0)."""
