"""Argument checks shared by ``interop.nn``'s functions and layers: each rule, and its error
message, defined once.

Every check takes the same arguments in the same order: ``op``, the label its message
starts with, written as the caller's other messages write it (``'mse_loss'``,
``'conv2d()'``, ``'nn.init.uniform_'``); then the argument's ``name``; then the value
(and what it is checked against). A check raises where the argument is wrong (TypeError
for the wrong kind of value, ``it.DTypeError`` / ``it.ArgumentError`` for a wrong dtype or
value) and otherwise returns the value, converted where its docstring says so.
"""

import operator

import interop as it


def tensor(op, name, x):
    """``x``, which must be a Tensor."""
    if not isinstance(x, it.Tensor):
        raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(x).__name__}")
    return x


def floating(op, name, x):
    """``x``, which must be a Tensor of a floating dtype (all that PyTorch's kernel for
    ``op`` takes)."""
    tensor(op, name, x)
    if not x.dtype.is_floating_point:
        raise it.DTypeError(f"{op}: expected a floating point {name}, got dtype {x.dtype}")
    return x


def input_dtype(op, name, t, x):
    """``t``, which must have the dtype of the input ``x``."""
    if t.dtype != x.dtype:
        raise it.DTypeError(f"{op}: expected {name} to have the input's dtype {x.dtype}, got "
                            f"{t.dtype}")
    return t


def same_dtype(op, **tensors):
    """The tensors given by name (None skipped) must all have one dtype; the message lists
    each one's."""
    given = {k: t for k, t in tensors.items() if t is not None}
    if len({t.dtype for t in given.values()}) > 1:
        raise it.DTypeError(f"{op}: all tensors must have the same dtype, got "
                            + ", ".join(f"{k}: {t.dtype}" for k, t in given.items()))


def ints(op, name, v, n):
    """``v`` -- an int, or a sequence of 1 or ``n`` ints -- as a tuple of ``n`` Python ints
    (PyTorch's ``int[n]`` arguments: kernel sizes, strides, paddings...)."""
    if isinstance(v, (tuple, list)):
        try:
            t = tuple(operator.index(a) for a in v)
        except TypeError:
            t = None
    else:
        try:
            t = (operator.index(v),) * n
        except TypeError:
            t = None
    if t is None:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    if len(t) == 1:
        t *= n
    if len(t) != n:
        raise it.ArgumentError(f"{op}: expected {name} to be a single integer value or a list "
                               f"of {n} values to match the {n}-d spatial dims, but got "
                               f"{name}={list(t)}")
    return t


def positive(op, name, t):
    """``t``, a tuple of ints, which must all be greater than zero."""
    if any(v <= 0 for v in t):
        raise it.ArgumentError(f"{op}: {name} must be greater than zero, but got {name}="
                               f"{list(t)}")
    return t


def int_list(op, name, seq):
    """``seq`` -- a tuple or list of Python ints, as PyTorch's ``int[]`` arguments (a pad
    list, a size) -- as a tuple."""
    if isinstance(seq, it.Tensor) or not isinstance(seq, (tuple, list)):
        raise TypeError(f"{op}: {name} must be a tuple of ints, got {type(seq).__name__}")
    out = []
    for i, v in enumerate(seq):
        if isinstance(v, bool) or not hasattr(v, "__index__"):
            raise TypeError(f"{op}: {name} must be a tuple of ints, but found element of type "
                            f"{type(v).__name__} at pos {i}")
        out.append(v.__index__())
    return tuple(out)


def ntuple(v, n):
    """``v`` as a tuple: a sequence kept, anything else repeated ``n`` times (PyTorch's
    ``_single``/``_pair``/``_triple``, as the layers store their size arguments)."""
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def dims(size):
    """A size as PyTorch's messages write it: ``'3 x 4'``."""
    return " x ".join(map(str, size))
