"""The graph and the engine.

A :class:`Node` is one recorded differentiable primitive. Its hot fields are
slots: ``next`` (one edge per input: the producer's node, ``(node, index)`` for
a multi-output producer, or ``None`` where no gradient is needed), ``seq`` (a
global creation number: consumers always have a larger one, so walking nodes
in decreasing ``seq`` is a topological order), ``be`` (the backend whose kernel
namespace ``be.ns`` runs the backward), ``saved`` (tensors kept for backward;
``None`` entries stand for the node's own output) and ``arrs`` (the same data as
raw arrays).

``backward(self, xp, g, s)`` is written once against a namespace argument:

* an ordinary ``backward()`` passes the backend namespace, raw arrays for ``g``
  and ``s`` (``s`` is ``arrs``): no Tensor objects, nothing recorded;
* ``create_graph=True`` passes the interop namespace and Tensors, so the
  backward is itself recorded and can be differentiated again.

It returns one gradient (or ``None``) per input edge.

Version counters: every in-place op draws a stamp from the same counter as
``seq`` and appends it to the modified tensor's root (``Tensor._vh``). A saved
tensor was modified after the node was made exactly when its last stamp is
larger than the node's ``seq``; the check is skipped when no in-place op ran
since the node was made (one integer comparison).
"""

import heapq
import itertools
import math

from . import grad_mode as _gm

__all__ = ["Node", "AccumulateGrad", "run_backward", "grad"]

_counter = itertools.count(1)
# Every node creation calls ``graph.next_seq()`` through the module, so that
# detect_anomaly can swap in a version that also records the forward stack.
next_seq = _counter.__next__

# Set by interop._tensor / interop.__init__ (they sit above this layer).
Tensor = None
interop_ns = None
# The last in-place stamp handed out anywhere (0: none yet).
inplace = [0]


def bump_version(t):
    """Record an in-place change of tensor ``t`` (shared by all views of its base)."""
    root = t._base if t._base is not None else t
    stamp = next_seq()
    if root._vh is None:
        root._vh = [stamp]
    else:
        root._vh.append(stamp)
    inplace[0] = stamp
    # A node that saved this tensor as its own output learns it here.
    n = root._node
    if n.__class__ is tuple:
        n = n[0]
    if n is not None and n.__class__ is not AccumulateGrad:
        n._out_changed = len(root._vh)
    return stamp


class Node:
    """A recorded primitive. Subclasses set ``backward`` and, if any, extra slots."""

    __slots__ = ("next", "seq", "be", "saved", "arrs", "__dict__", "__weakref__")

    # Rare per-node fields live in __dict__ and default here.
    nout = 1                 # outputs; >1 means pending grads are kept in a list
    _out_changed = 0         # version of the own output when it was modified in place
    _pre_hooks = None        # {output index: [hook, ...]} from Tensor.register_hook
    _retain = None           # {output index: weakref to the tensor} from retain_grad()
    _post_hooks = None
    _node_prehooks = None    # node-level pre-hooks: fn(grad_outputs) -> new grads or None
    _hooked = False          # _pre_hooks, _retain or _node_prehooks is set (one engine check)

    def backward(self, xp, g, s):
        raise NotImplementedError(f"{self.name()} has no backward")

    @classmethod
    def name(cls):
        return cls.__name__

    def __repr__(self):
        return f"<{self.name()} object>"

    @property
    def next_functions(self):
        out = []
        for e in self.next:
            if e is None:
                out.append((None, 0))
            elif e.__class__ is tuple:
                out.append(e)
            else:
                out.append((e, 0))
        return tuple(out)

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node's backward."""
        from .hooks import RemovableHandle
        if self._post_hooks is None:
            self._post_hooks = {}
        return RemovableHandle(self._post_hooks, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node's backward; may return new grads."""
        from .hooks import RemovableHandle
        if self._node_prehooks is None:
            self._node_prehooks = {}
        self._hooked = True
        return RemovableHandle(self._node_prehooks, fn)


class AccumulateGrad(Node):
    """The sink for a leaf tensor that requires grad; holds the leaf weakly."""

    __slots__ = ("variable",)

    def __init__(self, tensor_ref, be):
        self.variable = tensor_ref      # weakref.ref to the leaf Tensor
        self.next = ()
        self.seq = 0
        self.be = be
        self.saved = ()
        self.arrs = ()

    def backward(self, xp, g, s):
        return ()


def _edge_node(e):
    return e[0] if e.__class__ is tuple else e


def _wrap(array, be, node=None):
    return Tensor._make(array, be, node)


def _out_tensor(node, i, array):
    """The node's own output as a Tensor wired to the node (for create_graph)."""
    if node.nout > 1:
        t = Tensor._make(array, node.be, (node, i))
        t._oidx = i
        return t
    return Tensor._make(array, node.be, node)


def _stale_error(node, t, expected, current, what):
    return RuntimeError(
        f"one of the tensors needed for gradient computation has been modified by an in-place "
        f"operation: {what} of {node.name()} (shape {tuple(t.shape)}, dtype {t.dtype}) is at "
        f"version {current}; expected version {expected} instead. Clone it before the in-place "
        f"op, or do the in-place op before it is used.")


def _check_versions(node):
    seq = node.seq
    for i, t in enumerate(node.saved):
        if not isinstance(t, Tensor):     # None (the node's own output) or a Python scalar
            continue
        root = t._base if t._base is not None else t
        vh = root._vh
        if vh is not None and vh[-1] > seq:
            expected = sum(1 for s in vh if s < seq)
            raise _stale_error(node, t, expected, len(vh), f"saved input {i}")
    if node._out_changed and any(t is None for t in node.saved):   # (identity, not __eq__)
        v = node._out_changed
        raise RuntimeError(
            f"one of the tensors needed for gradient computation has been modified by an in-place "
            f"operation: the output of {node.name()} is at version {v}; expected version 0 "
            f"instead. Clone the output before modifying it in place.")


_FREED_MSG = ("Trying to backward through the graph a second time (or directly access saved "
              "tensors after they have already been freed). Saved intermediate values of the graph "
              "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True "
              "if you need to backward through the graph a second time or if you need to access "
              "saved tensors after calling backward.")


def _anomaly_check(node, grads):
    from .anomaly import check_grads
    check_grads(node, grads)


def run_backward(roots, grads, retain_graph=False, create_graph=False, inputs=None,
                 allow_unused=False):
    """Propagate ``grads`` (arrays, or Tensors when ``create_graph``) from ``roots``.

    Without ``inputs``: accumulate into ``.grad`` of the leaves reached.
    With ``inputs`` (a sequence of Tensors): return their gradients instead and
    touch no ``.grad``.
    """
    from .anomaly import anomaly_enabled
    anomaly = anomaly_enabled()
    pending = {}
    heap = []
    leaves = {}
    push = heapq.heappush
    pop = heapq.heappop

    capture = None
    needed = None
    if inputs is not None:
        capture = {}
        for i, t in enumerate(inputs):
            e = t._node
            if e is None:
                continue
            capture.setdefault(e if e.__class__ is tuple else (e, 0), []).append(i)
        needed = _nodes_leading_to({k[0] for k in capture}, roots)

    def add(edge, g):
        if edge.__class__ is tuple:
            node, idx = edge
            if needed is not None and node not in needed:
                return
            slot = pending.get(node)
            if slot is None:
                slot = pending[node] = [None] * node.nout
                push(heap, (-node.seq, node))
            slot[idx] = g if slot[idx] is None else slot[idx] + g
            return
        node = edge
        if needed is not None and node not in needed:
            return
        if node.__class__ is AccumulateGrad:
            prev = leaves.get(node)
            leaves[node] = g if prev is None else prev + g
            return
        # A plain edge always points at a single-output node (multi-output ones are
        # reached through (node, index) edges).
        prev = pending.get(node)
        if prev is None:
            pending[node] = g
            push(heap, (-node.seq, node))
        else:
            pending[node] = prev + g

    for r, g in zip(roots, grads):
        e = r._node     # a node, or (node, index) for one output of a multi-output node
        if e is not None:
            add(e, g)

    simple = needed is None
    ns = interop_ns
    prev_mode = _gm.state.enabled
    _gm.state.enabled = create_graph
    results = [None] * len(inputs) if inputs is not None else None
    try:
        while heap:
            node = pop(heap)[1]
            g = pending.pop(node)
            if capture is not None:
                # (PyTorch's order: a non-leaf input is captured before its own hooks run;
                # a leaf's hooks run first, below)
                _capture(capture, node, g, results, create_graph)
            if node._hooked:
                g = _run_pre_hooks(node, g, create_graph)
            arrs = node.arrs
            if arrs is None:
                raise RuntimeError(_FREED_MSG + f" (node: {node.name()})")
            if inplace[0] > node.seq:
                _check_versions(node)
            if create_graph:
                xp = ns
                s = _saved_tensors(node)
                if node.nout > 1:
                    g = [x if x is None or x.__class__ is Tensor else _wrap(x, node.be) for x in g]
                elif g.__class__ is not Tensor:
                    g = _wrap(g, node.be)
            else:
                xp = node.be.ns
                s = arrs
            try:
                out = node.backward(xp, g, s)
            except Exception as e:
                if anomaly:
                    raise RuntimeError(f"error in the backward of {node.name()}: {e}") from e
                raise
            if anomaly:
                _anomaly_check(node, out)
            if node._post_hooks is not None:
                for h in list(node._post_hooks.values()):
                    h(out, g)
            if not retain_graph:
                node.saved = None
                node.arrs = None
            for e, gi in zip(node.next, out):
                if e is None or gi is None:
                    continue
                if simple and e.__class__ is not tuple and e.__class__ is not AccumulateGrad:
                    # the common case, inlined: a single-output node
                    prev = pending.get(e)
                    if prev is None:
                        pending[e] = gi
                        push(heap, (-e.seq, e))
                    else:
                        pending[e] = prev + gi
                else:
                    add(e, gi)
        for acc, g in leaves.items():
            if acc._pre_hooks is not None:
                g = _run_pre_hooks(acc, g, create_graph)
            if capture is not None:
                _capture(capture, acc, g, results, create_graph)
                continue
            t = acc.variable()
            if t is None:
                continue
            _accumulate(t, g, create_graph)
    finally:
        _gm.state.enabled = prev_mode
    if inputs is not None:
        for i, r in enumerate(results):
            if r is None and not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (input {i}, shape {tuple(inputs[i].shape)}) "
                    f"appears to not have been used in the graph. Set allow_unused=True if this is "
                    f"the desired behavior.")
        return results
    return None


def _nodes_leading_to(targets, roots):
    """All nodes from which some node in ``targets`` is reachable (targets included)."""
    order = []
    seen = set()
    stack = [_edge_node(r._node) for r in roots if r._node is not None]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        order.append(n)
        for e in n.next:
            if e is not None:
                stack.append(_edge_node(e))
    useful = set(targets)
    # Children have smaller seq than parents: visit in increasing seq.
    for n in sorted(order, key=lambda n: n.seq):
        if n in useful:
            continue
        for e in n.next:
            if e is not None and _edge_node(e) in useful:
                useful.add(n)
                break
    return useful


def _capture(capture, node, g, results, create_graph):
    if node.nout > 1 and node.__class__ is not AccumulateGrad:
        items = [((node, i), gi) for i, gi in enumerate(g)]
    else:
        items = [((node, 0), g)]
    for key, gi in items:
        idxs = capture.get(key)
        if idxs is None or gi is None:
            continue
        for i in idxs:
            results[i] = gi if create_graph else _wrap(gi, node.be)


def _saved_tensors(node):
    saved = node.saved
    if saved is None:
        raise RuntimeError(_FREED_MSG + f" (node: {node.name()})")
    if all(t is not None for t in saved):     # (identity, not Tensor.__eq__)
        return saved
    return tuple(t if t is not None else _out_tensor(node, 0, a)
                 for t, a in zip(saved, node.arrs))


def _run_pre_hooks(node, g, create_graph):
    multi = node.nout > 1 and node.__class__ is not AccumulateGrad
    gs = list(g) if multi else [g]
    hooks = node._pre_hooks or {}
    for idx in range(len(gs)):
        if gs[idx] is None:
            continue
        for h in list(hooks.get(idx, {}).values()):
            gt = gs[idx] if gs[idx].__class__ is Tensor else _wrap(gs[idx], node.be)
            r = h(gt)
            if r is not None:
                if r.__class__ is not Tensor:
                    raise TypeError(f"a tensor hook must return None or a Tensor, got {type(r).__name__}")
                if tuple(r.shape) != tuple(gt.shape):
                    raise RuntimeError(f"hook returned a gradient of shape {tuple(r.shape)}; "
                                       f"expected shape {tuple(gt.shape)}")
                gs[idx] = r if create_graph else r._data
    if node._retain is not None:
        for idx, ref in node._retain.items():
            t = ref()
            if t is not None and gs[idx] is not None:
                gi = gs[idx]
                gi = gi if gi.__class__ is Tensor else _wrap(gi, node.be)
                if not create_graph:
                    gi = _wrap(_copy(gi._data, t), t._be)
                t.grad = gi if t.grad is None else t.grad + gi
    nodehooks = node._node_prehooks
    if nodehooks:
        for h in list(nodehooks.values()):
            r = h(tuple(x if x is None or x.__class__ is Tensor else _wrap(x, node.be) for x in gs))
            if r is not None:
                gs = [x if x is None or create_graph else x._data for x in r]
    return gs if multi else gs[0]


def _copy(array, like):
    return like._be.xp.asarray(array, copy=True)


def _accumulate(t, g, create_graph):
    if create_graph:
        gt = g if g.__class__ is Tensor else _wrap(g, t._be)
        t.grad = gt if t.grad is None else t.grad + gt
        return
    if g.__class__ is Tensor:
        g = g._data
    if g.dtype != t._data.dtype:
        # a real leaf used in a complex computation keeps the real part (PyTorch's rule)
        xp = t._be.xp
        if g.dtype in t._be.complex_natives and t._data.dtype not in t._be.complex_natives:
            g = xp.real(g)
        g = xp.astype(g, t._data.dtype)
    cur = t._grad
    if cur is None:
        t._grad = Tensor._make(_copy(g, t), t._be, None)
    else:
        cur._data = cur._data + g


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (``.grad`` untouched).

    Like ``torch.autograd.grad``: with ``create_graph=True`` the result is itself
    differentiable (higher-order gradients).
    """
    single = not isinstance(inputs, (list, tuple))
    inputs = [inputs] if single else list(inputs)
    for i, t in enumerate(inputs):
        if Tensor is None or t.__class__ is not Tensor and not isinstance(t, Tensor):
            raise TypeError(f"grad(): inputs[{i}] must be a Tensor, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError(f"grad(): inputs[{i}] (shape {tuple(t.shape)}) does not require grad")
    roots, grads = _prepare_roots(outputs, grad_outputs, create_graph, "grad")
    if retain_graph is None:
        retain_graph = create_graph
    res = run_backward(roots, grads, retain_graph, create_graph, inputs=inputs,
                       allow_unused=allow_unused or materialize_grads)
    if materialize_grads:
        from .. import zeros_like
        res = [zeros_like(t) if r is None else r for r, t in zip(res, inputs)]
    return tuple(res)


def _prepare_roots(outputs, grad_outputs, create_graph, who):
    """Lists of root tensors and their seed gradients (arrays, or Tensors under create_graph)."""
    single = not isinstance(outputs, (list, tuple))
    outputs = [outputs] if single else list(outputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif single or not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    else:
        grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"{who}(): got {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    roots, grads = [], []
    for i, (o, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(o, Tensor):
            raise TypeError(f"{who}(): outputs[{i}] must be a Tensor, got {type(o).__name__}")
        if o._node is None:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a "
                               f"grad_fn")
        if g is None:
            if o._data.ndim != 0 and math.prod(o._data.shape) != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs; "
                                   f"output {i} has shape {tuple(o.shape)}: pass gradient= "
                                   f"(a tensor of that shape)")
            if not o.dtype.is_floating_point and not o.dtype.is_complex:
                raise RuntimeError(f"only floating point outputs can require grad, got {o.dtype}")
            g = o._be.xp.ones_like(o._data)
            if create_graph:
                g = Tensor._make(g, o._be, None)
        else:
            if not isinstance(g, Tensor):
                raise TypeError(f"{who}(): the gradient for output {i} must be a Tensor, "
                                f"got {type(g).__name__}")
            if tuple(g.shape) != tuple(o.shape):
                raise RuntimeError(f"{who}(): mismatch in shape: gradient for output {i} has shape "
                                   f"{tuple(g.shape)}, but the output has shape {tuple(o.shape)}")
            if g._be is not o._be:
                raise RuntimeError(f"{who}(): gradient for output {i} is on backend {g._be.name!r}, "
                                   f"the output on {o._be.name!r}")
            if g.dtype is not o.dtype:
                raise RuntimeError(f"{who}(): gradient for output {i} has dtype {g.dtype}, the output "
                                   f"has dtype {o.dtype}")
            if not create_graph:
                g = g._data
        roots.append(o)
        grads.append(g)
    return roots, grads
