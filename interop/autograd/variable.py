"""``Variable``: what the engine differentiates. ``interop.Tensor`` derives from it.

A Variable is one backend array (``_data`` on backend ``_be``) with its edge into the
graph (``_node``) and its accumulated gradient (``_grad``). The operations live in the
tensor class above this layer; this layer asks of it a single method,
``_make(data, be, node)``, which builds a result (a plain tensor) from a raw array.
As in PyTorch, ``isinstance(t, interop.autograd.Variable)`` holds for every tensor.

``_node`` is ``None`` (no grad), an :class:`~interop.autograd.graph.AccumulateGrad`
(a leaf that requires grad), a node, or ``(node, index)`` for one output of a
multi-output node.

Memory shared between tensors is described by three rare fields (class defaults,
set in ``__dict__`` only where they apply):

* ``_vroot``: the tensor that owns the memory this one reads; it keeps the version
  history ``_vh`` for all of them (``None``: this tensor owns its memory);
* ``_base``: for a view, the tensor it is a view of (never itself a view), as
  PyTorch's ``Tensor._base``; ``None`` for tensors that own their memory and for
  aliases (``detach()``, ``.data``), which share memory but not the graph;
* ``_view_ops``: for a view, the steps that take ``_base`` to it (see
  ``interop._ops.views``); an in-place op on the view replays them to rewrite the base's
  graph, and an in-place op on the base replays them to refresh the view's graph.
"""

import warnings
import weakref

from . import graph as _graph
from .grad_mode import state as _grad_state
from .hooks import RemovableHandle

__all__ = ["Variable", "record"]

_AccumulateGrad = _graph.AccumulateGrad
_new = object.__new__
_tuple_new = tuple.__new__
_count = _graph._count
_tracing = _graph._tracing


class Variable:
    __slots__ = ("_data", "_be", "_node", "_grad", "__dict__", "__weakref__")

    _vroot = None       # owner of the memory and its version history (None: self)
    _vh = None          # version history: in-place stamps (kept on the owner only)
    _base = None        # the tensor this one is a view of
    _view_ops = None    # steps from _base to this view
    _views = None       # (on a base) weak references to its views, refreshed after in-place ops
    _oidx = 0           # output index in a multi-output node
    _retains_grad = False
    _readonly = False
    name = None

    # ------------------------------------------------------------------ gradient
    @property
    def grad(self):
        """The accumulated gradient (a tensor or None). Reading it on a non-leaf tensor that
        does not retain its gradient warns, as in PyTorch: it is never filled there."""
        g = self._grad
        if g is None and self._node is not None and self._node.__class__ is not _AccumulateGrad \
                and not self._retains_grad:
            warnings.warn("The .grad attribute of a Tensor that is not a leaf Tensor is being "
                          "accessed. Its .grad attribute won't be populated during backward(). If "
                          "you indeed want the .grad field to be populated for a non-leaf Tensor, "
                          "use .retain_grad() on the non-leaf Tensor. If you access the non-leaf "
                          "Tensor by mistake, make sure you access the leaf Tensor instead.",
                          UserWarning, stacklevel=2)
        return g

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Variable):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got "
                                f"{type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"assigned grad has data of a different size: the tensor has "
                                   f"shape {tuple(self._data.shape)}, the grad "
                                   f"{tuple(value._data.shape)}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(f"assigned grad has dtype {value._be.dtype_of(value._data)}; "
                                   f"the tensor has dtype {self._be.dtype_of(self._data)}")
            if value._be is not self._be:
                raise RuntimeError(f"assigned grad is on backend {value._be.name!r}; the tensor is "
                                   f"on {self._be.name!r}")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def requires_grad(self):
        return self._node is not None

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        if not isinstance(requires_grad, bool):
            raise TypeError(f"requires_grad_ expected a bool, got {type(requires_grad).__name__}")
        n = self._node
        if n is not None and n.__class__ is not _AccumulateGrad:
            if not requires_grad:
                raise RuntimeError("you can only change requires_grad flags of leaf variables. If you "
                                   "want to use a computed variable in a subgraph that doesn't require "
                                   "differentiation use var_no_grad = var.detach().")
            return self
        if requires_grad:
            dt = self._be.dtype_of(self._data)
            if not (dt.is_floating_point or dt.is_complex):
                raise RuntimeError(f"only tensors of floating point or complex dtype can require "
                                   f"gradients, got dtype {dt}")
            if n is None:
                acc = self.__dict__.get("_acc")
                if acc is None:
                    acc = self.__dict__["_acc"] = _AccumulateGrad(weakref.ref(self), self._be)
                self._node = acc
        else:
            self._node = None
        return self

    @property
    def is_leaf(self):
        n = self._node
        return n is None or n.__class__ is _AccumulateGrad

    @property
    def grad_fn(self):
        n = self._node
        if n is None or n.__class__ is _AccumulateGrad:
            return None
        return n[0] if n.__class__ is tuple else n

    @property
    def output_nr(self):
        return self._oidx

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in ``.grad`` during backward."""
        n = self._node
        if n is None:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if n.__class__ is _AccumulateGrad or self._retains_grad:
            return
        node, idx = (n if n.__class__ is tuple else (n, 0))
        if node._retain is None:
            node._retain = {}
        node._retain[idx] = weakref.ref(self)
        node._hooked = True
        self._retains_grad = True

    @property
    def retains_grad(self):
        return self._retains_grad

    def register_hook(self, hook):
        """``hook(grad) -> Tensor or None`` runs when this tensor's gradient is computed."""
        n = self._node
        if n is None:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        node, idx = (n if n.__class__ is tuple else (n, 0))
        if node._pre_hooks is None:
            node._pre_hooks = {}
        node._hooked = True
        return RemovableHandle(node._pre_hooks.setdefault(idx, {}), hook)

    def register_post_accumulate_grad_hook(self, hook):
        """``hook(tensor) -> None`` runs right after this leaf's ``.grad`` has been
        accumulated by a backward (not by ``autograd.grad``), as soon as the gradient is
        complete: during the backward walk, before the gradients of earlier layers are
        computed (``DistributedDataParallel`` launches its communication from here)."""
        n = self._node
        if n is None:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if n.__class__ is not _AccumulateGrad:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if not callable(hook):
            raise TypeError(f"register_post_accumulate_grad_hook: expected a callable, got "
                            f"{type(hook).__name__}")
        if n._post_acc_hooks is None:
            n._post_acc_hooks = {}
        _graph.post_accumulate_hooked.add(n)
        return RemovableHandle(n._post_acc_hooks, hook)


def record(cls, be, inputs, saved=(), arrs=()):
    """The one function that records a primitive: a new ``cls`` node (a
    :class:`~interop.autograd.graph.Node` subclass) on backend ``be`` with one edge per
    input (``None`` for non-variables and inputs that need no gradient). ``saved`` has one
    entry per name in ``cls.saves``: a saved input variable, ``OUTPUT``/``Output(k)`` for
    the node's own output k, or a constant; ``arrs`` the same entries as raw arrays, which
    the backward reads by name (``s.x``)."""
    node = _new(cls)
    n = len(inputs)
    if n == 1:
        t = inputs[0]
        node.next = (t._node if isinstance(t, Variable) else None,)
    elif n == 2:
        a, b = inputs
        node.next = (a._node if isinstance(a, Variable) else None,
                     b._node if isinstance(b, Variable) else None)
    else:
        node.next = tuple([t._node if isinstance(t, Variable) else None for t in inputs])
    node.seq = seq = _count()
    if _tracing[0]:                   # (some thread traces node creation: anomaly mode)
        _graph.traced(seq)
    node.be = be
    node.saved = saved
    node.arrs = _tuple_new(cls.Saved, arrs) if arrs else ()
    return node


def recording(*inputs):
    """True when an op on ``inputs`` must be recorded (grad mode on, some input requires grad)."""
    if not _grad_state.enabled:
        return False
    for t in inputs:
        if isinstance(t, Variable) and t._node is not None:
            return True
    return False
