"""``Parameter`` and ``Buffer``: the tensors a :class:`~interop.nn.Module` registers when they
are assigned to it.

A parameter is a :class:`~interop.Tensor` subclass (``isinstance(p, it.Tensor)`` holds, and
every op accepts it and returns a plain tensor); it shares the memory of the tensor it was
made from, is cut from that tensor's graph, and requires grad unless told otherwise.
"""

import interop as it

__all__ = ["Parameter", "Buffer"]


def _leaf_of(cls, data, requires_grad, who):
    if data is None:
        data = it.empty(0)
    elif not isinstance(data, it.Tensor):
        raise TypeError(f"{who}: expected a Tensor as data, got {type(data).__name__}")
    t = data.detach().as_subclass(cls)
    if requires_grad:
        t.requires_grad_(True)
    return t


class Parameter(it.Tensor):
    """``Parameter(data=None, requires_grad=True)``: a tensor that is a module's parameter."""

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        return _leaf_of(cls, data, requires_grad, "Parameter")

    def __init__(self, data=None, requires_grad=True):
        pass        # built by __new__

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = type(self)(self.detach().clone(), self.requires_grad)
        if self._grad is not None:
            out.grad = self._grad.clone()
        memo[id(self)] = out
        return out


class Buffer(it.Tensor):
    """``Buffer(data, persistent=True)``: marks a tensor as a module's buffer when assigned
    (``self.running_mean = nn.Buffer(t)`` is ``register_buffer("running_mean", t)``). The
    module stores the tensor itself, not this wrapper."""

    __slots__ = ()

    def __new__(cls, data=None, *, persistent=True):
        t = _leaf_of(cls, data, False, "Buffer")
        t.persistent = persistent
        return t

    def __init__(self, data=None, *, persistent=True):
        pass
