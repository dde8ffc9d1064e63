"""Fused optimizer updates: an optimizer's per-element arithmetic on the backend's raw
arrays, in place, one call per parameter (the part ``torch._fused_adam_`` plays in PyTorch).

Written with tensor methods (``interop.optim``), Adam's update of one parameter is a dozen
tensor calls, each checked and version-counted, and on a large parameter each one pass over
memory. :func:`adam_update_` checks the tensors once and hands their arrays to the backend
(``Backend.adam_update_``), whose standard-only implementation runs the same passes, in the
same order and with the same scalars, with the standard's in-place operators: its results
are bit for bit those of the tensor form, and the step's time is the passes' own. A
parameter of more than ``2 * block`` elements is updated there in blocks of its rows of
about ``block`` elements, small enough that the dozen passes over a block find it in the
cache; each element gets the same arithmetic either way. The cpu backend runs one compiled
pass instead where numba runs and the arrays are C-contiguous float32 or float64
(``backends/_jit_optim.py``): the same operations on each element, rounded alike, so the
same bits.

Writing into arrays needs a mutable backend (JAX's arrays are not); the optimizer keeps its
tensor form there, and for the narrow floats (whose moment estimates take another form).
"""

from .. import dtypes as _dt
from .mutation import check_inplace
from .views import writable_view
from ..autograd.graph import bump_version
from ..autograd.grad_mode import state as grad_state
from ..autograd.variable import Variable

__all__ = ["adam_update_"]

_WIDE_FLOATS = (_dt.float32, _dt.float64)


def _check(op, tensors, names):
    """The arrays of ``tensors`` (all on ``tensors[0]``'s backend, of its shape and dtype, a
    wide float on a mutable backend), ``None`` kept as ``None``."""
    first = tensors[0]
    be, shape, dtype = first._be, tuple(first._data.shape), first.dtype
    if not be.mutable:
        raise TypeError(f"{op}: backend {be.name!r} has immutable arrays; update with tensor "
                        f"ops instead")
    if dtype not in _WIDE_FLOATS:
        raise TypeError(f"{op}: expected float32 or float64 tensors, got {names[0]} of dtype "
                        f"{dtype}")
    arrays = []
    for t, name in zip(tensors, names):
        if t is None:
            arrays.append(None)
            continue
        if not isinstance(t, Variable):
            raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(t).__name__}")
        if t._be is not be:
            raise TypeError(f"{op}: expected every tensor on {names[0]}'s backend {be.name!r}, "
                            f"got {name} on {t._be.name!r}")
        if t.dtype is not dtype or tuple(t._data.shape) != shape:
            raise ValueError(f"{op}: expected {name} of {names[0]}'s shape {shape} and dtype "
                             f"{dtype}, got shape {tuple(t._data.shape)} and dtype {t.dtype}")
        arrays.append(t._data)
    return arrays


def adam_update_(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, weight1, weight2, eps,
                 scale, *, block, maximize=False, weight_decay=0, shrink=None):
    """One Adam update of ``param``, in place: the gradient ``g`` is ``grad`` (``-grad`` where
    ``maximize``, plus ``weight_decay * param`` where that is not 0: L2 decay), ``param`` is
    first multiplied by ``shrink`` where given (AdamW's decoupled decay, ``1 - lr *
    weight_decay``), the moment estimates move (``exp_avg += weight1 * (g - exp_avg)``,
    ``exp_avg_sq += weight2 * (g**2 - exp_avg_sq)``, ``max_exp_avg_sq`` (or None) keeps the
    running maximum of the latter) and ``param -= scale * exp_avg / (sqrt(v) + eps)``, ``v``
    the maximum where kept, else ``exp_avg_sq``. The arithmetic of ``interop.optim.adam``'s
    tensor form (``grad_of``, ``_decay`` and ``_update``), pass for pass (the averages as
    ``(avg * ((1 - w) / w) + x) * w``); ``grad`` is read, not written (it may be any tensor
    of the parameter's shape and dtype). Returns ``param``. Runs without recording: call it
    under ``no_grad`` (as an optimizer's step does)."""
    op = "adam_update_"
    names = ("param", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    tensors = (param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq)
    if not isinstance(param, Variable):
        raise TypeError(f"{op}: expected param to be a Tensor, got {type(param).__name__}")
    if grad_state.enabled:
        raise RuntimeError(f"{op}: an optimizer update is not differentiable; call it under "
                           f"interop.no_grad()")
    arrays = _check(op, tensors, names)
    written = [(i, t) for i, t in enumerate(tensors) if i != 1 and t is not None]
    for i, t in written:
        name = names[i]
        check_inplace(t, op)
        if t._base is not None and not writable_view(t):
            raise RuntimeError(f"{op}: cannot write into {name}, an expanded/broadcast view "
                               f"(shape {tuple(t._data.shape)}): some of its elements share a "
                               f"memory location; clone() it first")
    for i, t in written:
        arrays[i] = t._writable_data()
    roots = {id(t._vroot if t._vroot is not None else t) for _, t in written}
    be = param._be
    if id(grad._vroot if grad._vroot is not None else grad) in roots:
        arrays[1] = be.ns.asarray(arrays[1], copy=True)     # (read before anything is written)
    be.adam_update_(*arrays, weight1, weight2, eps, scale, block, maximize=maximize,
                    weight_decay=weight_decay, shrink=shrink)
    for _, t in written:
        bump_version(t)
    return param
