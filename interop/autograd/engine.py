"""The engine: the backward walk, and the entry points ``backward`` and ``grad``.

It works on :class:`~interop.autograd.variable.Variable` objects and nodes only.
Gradients handed to users are built with the roots' ``_make``; under
``create_graph=True`` backward formulas run on the namespace the roots report through
the standard's ``__array_namespace__()``.
"""

import heapq
import math
import sys

from . import grad_mode as _gm
from .anomaly import anomaly_enabled, check_grads
from .graph import (AccumulateGrad, Node, Output, edge_node, inplace as _inplace,
                    post_accumulate_hooked, version, version_at)
from .variable import Variable

__all__ = ["run_backward", "backward", "grad"]

FREED_MSG = ("Trying to backward through the graph a second time (or directly access saved "
             "tensors after they have already been freed). Saved intermediate values of the graph "
             "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True "
             "if you need to backward through the graph a second time or if you need to access "
             "saved tensors after calling backward.")


def _stale_error(node, t, expected, current, what):
    return RuntimeError(
        f"one of the tensors needed for gradient computation has been modified by an in-place "
        f"operation: {what} of {node.name()} (shape {tuple(t._data.shape)}, dtype "
        f"{t._be.dtype_of(t._data)}) is at version {current}; expected version {expected} instead. "
        f"Clone it before the in-place op, or do the in-place op before it is used.")


def check_versions(node):
    """Raise if a tensor ``node`` saved was modified in place after the node was made."""
    seq = node.seq
    names = node.saves
    for i, t in enumerate(node.saved):
        if not isinstance(t, Variable):     # the node's own output or a constant
            continue
        root = t if t._vroot is None else t._vroot
        vh = root._vh
        if vh is not None and vh[-1] > seq:
            expected, exact = version_at(vh, seq)
            raise _stale_error(node, t, expected if exact else f"{expected} or less",
                               version(vh),
                               f"saved input {i}" + (f" ({names[i]!r})" if names else ""))
    if node._out_changed and any(t.__class__ is Output for t in node.saved):
        v = node._out_changed
        raise RuntimeError(
            f"one of the tensors needed for gradient computation has been modified by an in-place "
            f"operation: the output of {node.name()} is at version {v}; expected version 0 "
            f"instead. Clone the output before modifying it in place.")


def run_backward(roots, grads, retain_graph=False, create_graph=False, inputs=None,
                 allow_unused=False):
    """Propagate ``grads`` (arrays, or tensors when ``create_graph``) from ``roots``.

    Without ``inputs``: accumulate into ``.grad`` of the leaves reached.
    With ``inputs`` (a sequence of tensors): return their gradients instead and
    touch no ``.grad``.
    """
    anomaly = anomaly_enabled()
    make = roots[0]._make
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

    if capture is None and post_accumulate_hooked:
        _schedule_hooked_leaves(roots, pending, heap, leaves, create_graph, make)

    simple = needed is None
    # anything beyond "run the node's backward on raw arrays": the per-node step below
    special = capture is not None or anomaly or create_graph
    ns = roots[0].__array_namespace__() if create_graph else None
    prev_mode = _gm.state.enabled
    _gm.state.enabled = create_graph
    results = [None] * len(inputs) if inputs is not None else None
    out = ()
    try:
        while heap:
            node = pop(heap)[1]
            g = pending.pop(node)
            if special or node._hooked:
                out = _step(node, g, capture, results, retain_graph, create_graph, ns, make,
                            anomaly)
            else:                           # the common case, inlined
                arrs = node.arrs
                if arrs is None:
                    raise RuntimeError(FREED_MSG + f" (node: {node.name()})")
                if _inplace[0] > node.seq:
                    check_versions(node)
                out = node.backward(node.be.ns, g, arrs)
                if not retain_graph:
                    node.saved = node.arrs = None
            nxt = node.next         # (one input, the common case: cheaper than a zip)
            for e, gi in ((nxt[0], out[0]),) if len(nxt) == 1 else zip(nxt, out):
                if e is None or gi is None:
                    continue
                if not simple or e.__class__ is tuple:
                    add(e, gi)
                elif e.__class__ is AccumulateGrad:         # (add()'s cases, inlined)
                    prev = leaves.get(e)
                    leaves[e] = gi if prev is None else prev + gi
                else:                                       # a single-output node
                    prev = pending.get(e)
                    if prev is None:
                        pending[e] = gi
                        push(heap, (-e.seq, e))
                    else:
                        pending[e] = prev + gi
        # (the walk's last gradients must not look held by someone when leaves take theirs)
        g = gi = out = arrs = None
        if capture is not None:
            for acc, g in leaves.items():
                if acc._pre_hooks is not None:
                    g = _run_pre_hooks(acc, g, create_graph, make)
                _capture(capture, acc, g, results, create_graph, make)
        else:
            for acc in list(leaves):
                _finish_leaf(acc, [leaves.pop(acc)], create_graph, make)
    finally:
        _gm.state.enabled = prev_mode
    if inputs is not None:
        for i, r in enumerate(results):
            if r is None and not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (input {i}, shape "
                    f"{tuple(inputs[i]._data.shape)}) appears to not have been used in the graph. "
                    f"Set allow_unused=True if this is the desired behavior.")
        return results
    return None


def _step(node, g, capture, results, retain_graph, create_graph, ns, make, anomaly):
    """One node of the walk with everything the common case skips: capture for ``inputs``,
    hooks, ``create_graph`` (the backward on tensors, recorded), anomaly checks. Returns the
    node's input gradients."""
    if capture is not None:
        # (PyTorch's order: a non-leaf input is captured before its own hooks run; a leaf's
        # hooks run first, at the end of the walk)
        _capture(capture, node, g, results, create_graph, make)
    if node._hooked:
        g = _run_pre_hooks(node, g, create_graph, make)
    arrs = node.arrs
    if arrs is None:
        raise RuntimeError(FREED_MSG + f" (node: {node.name()})")
    if _inplace[0] > node.seq:
        check_versions(node)
    if create_graph:
        xp = ns
        s = saved_tensors(node, make)
        if node.nout > 1:
            g = [x if x is None or isinstance(x, Variable) else make(x, node.be, None)
                 for x in g]
        elif not isinstance(g, Variable):
            g = make(g, node.be, None)
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
        check_grads(node, out)
    if node._post_hooks is not None:
        for h in list(node._post_hooks.values()):
            h(out, g)
    if not retain_graph:
        node.saved = None
        node.arrs = None
    return out


def _finish_leaf(acc, box, create_graph, make):
    """A leaf's gradient for this backward is complete: its hooks, then ``.grad``, then its
    post-accumulate hooks. ``box`` is a one-item list holding the gradient, the engine's only
    reference to it (see :func:`_held_elsewhere`)."""
    if acc._pre_hooks is not None:
        box[0] = _run_pre_hooks(acc, box[0], create_graph, make)
    t = acc.variable()
    if t is None:
        return
    accumulate(t, box, create_graph, own=not create_graph and not _held_elsewhere(box))
    hooks = acc._post_acc_hooks
    if hooks:
        for h in list(hooks.values()):
            h(t)


class _LeafFlush(Node):
    """Not an operation: a mark in the walk's queue, placed right after the last consumer of
    some leaves that carry post-accumulate hooks (all their consumers have larger ``seq``, so
    when the walk reaches the mark their gradients are complete). It accumulates them there,
    in the middle of the backward, as PyTorch's engine does, instead of at the end."""

    def backward(self, xp, g, s):
        for acc in self.accs:
            box = [self.leaves.pop(acc, None)]
            if box[0] is not None:
                _finish_leaf(acc, box, self.create_graph, self.make)
        return ()


def _schedule_hooked_leaves(roots, pending, heap, leaves, create_graph, make):
    """Put a :class:`_LeafFlush` in the queue for the hooked leaves reachable from ``roots``,
    each just after its consumer with the smallest ``seq``."""
    last = {}                   # hooked AccumulateGrad -> smallest seq among its consumers
    for n in _reachable(roots):
        for e in n.next:
            if e is not None:
                m = edge_node(e)
                if m.__class__ is AccumulateGrad and m._post_acc_hooks \
                        and (m not in last or n.seq < last[m]):
                    last[m] = n.seq
    groups = {}
    for acc, seq in last.items():
        groups.setdefault(seq, []).append(acc)
    for seq, accs in groups.items():
        mark = _LeafFlush.__new__(_LeafFlush)
        mark.next = ()
        mark.seq = seq
        mark.be = accs[0].be
        mark.saved = mark.arrs = ()
        mark.accs = accs
        mark.leaves = leaves
        mark.create_graph = create_graph
        mark.make = make
        pending[mark] = None
        heapq.heappush(heap, (0.5 - seq, mark))     # just after the node numbered seq


def _reachable(roots):
    """Every node reachable from the tensors ``roots`` (each once, depth first)."""
    seen = set()
    stack = [edge_node(r._node) for r in roots if r._node is not None]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        yield n
        for e in n.next:
            if e is not None:
                stack.append(edge_node(e))


def _nodes_leading_to(targets, roots):
    """All nodes from which some node in ``targets`` is reachable (targets included)."""
    order = list(_reachable(roots))
    useful = set(targets)
    # Children have smaller seq than parents: visit in increasing seq.
    for n in sorted(order, key=lambda n: n.seq):
        if n in useful:
            continue
        for e in n.next:
            if e is not None and edge_node(e) in useful:
                useful.add(n)
                break
    return useful


def _capture(capture, node, g, results, create_graph, make):
    if node.nout > 1 and node.__class__ is not AccumulateGrad:
        items = [((node, i), gi) for i, gi in enumerate(g)]
    else:
        items = [((node, 0), g)]
    for key, gi in items:
        idxs = capture.get(key)
        if idxs is None or gi is None:
            continue
        for i in idxs:
            results[i] = gi if create_graph else make(gi, node.be, None)


def _constant(c, be, make):
    """A recorded constant as a backward formula on tensors reads it: raw arrays become
    tensors (inside key tuples too); Python scalars, slices and the like stay."""
    if c.__class__ is tuple:
        return tuple(_constant(k, be, make) for k in c)
    if hasattr(c, "shape") and hasattr(c, "dtype") and not isinstance(c, Variable):
        return make(c, be, None)
    return c


def saved_tensors(node, make):
    """``node.saved`` as tensors, for a backward that is recorded (create_graph)."""
    saved = node.saved
    if saved is None:
        raise RuntimeError(FREED_MSG + f" (node: {node.name()})")
    out = []
    for t, a in zip(saved, node.arrs):
        if isinstance(t, Variable):
            out.append(t)
        elif t.__class__ is Output:          # the node's own output, wired to the node
            if node.nout > 1:
                o = make(a, node.be, (node, int(t)))
                o._oidx = int(t)
            else:
                o = make(a, node.be, node)
            out.append(o)
        else:
            out.append(_constant(t, node.be, make))
    return tuple.__new__(node.Saved, out)


def _run_pre_hooks(node, g, create_graph, make):
    multi = node.nout > 1 and node.__class__ is not AccumulateGrad
    gs = list(g) if multi else [g]
    hooks = node._pre_hooks or {}
    for idx in range(len(gs)):
        if gs[idx] is None:
            continue
        for h in list(hooks.get(idx, {}).values()):
            gt = gs[idx] if isinstance(gs[idx], Variable) else make(gs[idx], node.be, None)
            r = h(gt)
            if r is not None:
                if not isinstance(r, Variable):
                    raise TypeError(f"a tensor hook must return None or a Tensor, got {type(r).__name__}")
                if tuple(r._data.shape) != tuple(gt._data.shape):
                    raise RuntimeError(f"hook returned a gradient of shape {tuple(r._data.shape)}; "
                                       f"expected shape {tuple(gt._data.shape)}")
                gs[idx] = r if create_graph else r._data
    if node._retain is not None:
        for idx, ref in node._retain.items():
            t = ref()
            if t is not None and gs[idx] is not None:
                gi = gs[idx]
                if not isinstance(gi, Variable):
                    gi = make(gi, node.be, None)
                if not create_graph:
                    gi = make(_copy(gi._data, t), t._be, None)
                t.grad = gi if t.grad is None else t.grad + gi
    nodehooks = node._node_prehooks
    if nodehooks:
        for h in list(nodehooks.values()):
            r = h(tuple(x if x is None or isinstance(x, Variable) else make(x, node.be, None)
                        for x in gs))
            if r is not None:
                gs = [x if x is None or create_graph else x._data for x in r]
    return gs if multi else gs[0]


def _copy(array, like):
    """A copy of gradient ``array`` to become ``like.grad``, row-major as PyTorch keeps a
    gradient in its (contiguous) parameter's layout: a transposed gradient (``x @ w.T``
    gives one) would make every optimizer update on it strided, and several times slower."""
    be = like._be
    if be.row_major(array) is False:
        return be.ascontiguous(array)      # (a new array: the layout differs)
    return be.xp.asarray(array, copy=True)


def _refs(box):
    return sys.getrefcount(box[0])


# what _refs reports for an object that only its box holds (calibrated, not assumed: the
# count an interpreter reports for the same expression differs between versions)
_SOLE = _refs([object()])


def _held_elsewhere(box):
    """Whether anything but ``box`` (a one-item list) holds a reference to its item: a tensor
    (the user's, or a hook's), a saved array, another leaf's gradient, a view (a view holds
    its base)."""
    return _refs(box) > _SOLE


def accumulate(t, g, create_graph, own=False):
    """Add gradient ``g`` (an array, or a tensor under create_graph) into leaf ``t``'s ``.grad``.

    ``g`` may be a one-item list holding the gradient; ``own=True`` says nothing else holds
    it (see :func:`_held_elsewhere`): then a first ``.grad`` takes the array itself where it
    can (``Backend.adoptable``) instead of a copy, as PyTorch's AccumulateGrad steals a
    gradient no one else references. A gradient anyone else may see is always copied: a
    leaf's ``.grad`` never aliases another tensor."""
    if g.__class__ is list:
        g = g.pop()
    if create_graph:
        gt = g if isinstance(g, Variable) else t._make(g, t._be, None)
        t.grad = gt if t.grad is None else t.grad + gt
        return
    if isinstance(g, Variable):
        g = g._data
    if g.dtype != t._data.dtype:
        # a real leaf used in a complex computation keeps the real part (PyTorch's rule)
        xp = t._be.xp
        if g.dtype in t._be.complex_natives and t._data.dtype not in t._be.complex_natives:
            g = xp.real(g)
        g = xp.astype(g, t._data.dtype)         # (a new array)
        own = True
    cur = t._grad
    if cur is None:
        t._grad = t._make(g if own and t._be.adoptable(g, t._data) else _copy(g, t), t._be,
                          None)
    else:
        cur._data = cur._data + g


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate gradients of ``tensors`` into ``.grad`` of the leaves (``inputs`` limits
    which leaves receive them)."""
    roots, grads = _prepare_roots(tensors, grad_tensors, create_graph, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Variable) else list(inputs)
        res = run_backward(roots, grads, retain_graph, create_graph, inputs=inputs,
                           allow_unused=True)
        for t, g in zip(inputs, res):
            if g is not None:
                accumulate(t, g if create_graph else g._data, create_graph)
                hooks = t._node._post_acc_hooks if t.is_leaf else None
                if hooks:
                    for h in list(hooks.values()):
                        h(t)
        return
    run_backward(roots, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (``.grad`` untouched).

    Like ``torch.autograd.grad``: with ``create_graph=True`` the result is itself
    differentiable (higher-order gradients).
    """
    single = not isinstance(inputs, (list, tuple))
    inputs = [inputs] if single else list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Variable):
            raise TypeError(f"grad(): inputs[{i}] must be a Tensor, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError(f"grad(): inputs[{i}] (shape {tuple(t._data.shape)}) does not "
                               f"require grad")
    roots, grads = _prepare_roots(outputs, grad_outputs, create_graph, "grad")
    if retain_graph is None:
        retain_graph = create_graph
    res = run_backward(roots, grads, retain_graph, create_graph, inputs=inputs,
                       allow_unused=allow_unused or materialize_grads)
    if materialize_grads:
        res = [t._make(t._be.xp.zeros_like(t._data), t._be, None) if r is None else r
               for r, t in zip(res, inputs)]
    return tuple(res)


def _prepare_roots(outputs, grad_outputs, create_graph, who):
    """Lists of root tensors and their seed gradients (arrays, or tensors under create_graph)."""
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
        if not isinstance(o, Variable):
            raise TypeError(f"{who}(): outputs[{i}] must be a Tensor, got {type(o).__name__}")
        if o._node is None:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a "
                               f"grad_fn")
        shape = tuple(o._data.shape)
        dtype = o._be.dtype_of(o._data)
        if g is None:
            if math.prod(shape) != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs; "
                                   f"output {i} has shape {shape}: pass gradient= "
                                   f"(a tensor of that shape)")
            if not dtype.is_floating_point and not dtype.is_complex:
                raise RuntimeError(f"only floating point outputs can require grad, got {dtype}")
            g = o._be.full(shape, 1, o._data.dtype)
            if create_graph:
                g = o._make(g, o._be, None)
        else:
            if not isinstance(g, Variable):
                raise TypeError(f"{who}(): the gradient for output {i} must be a Tensor, "
                                f"got {type(g).__name__}")
            if tuple(g._data.shape) != shape:
                raise RuntimeError(f"{who}(): mismatch in shape: gradient for output {i} has shape "
                                   f"{tuple(g._data.shape)}, but the output has shape {shape}")
            if g._be is not o._be:
                raise RuntimeError(f"{who}(): gradient for output {i} is on backend {g._be.name!r}, "
                                   f"the output on {o._be.name!r}")
            if g._data.dtype != o._data.dtype:
                raise RuntimeError(f"{who}(): gradient for output {i} has dtype "
                                   f"{g._be.dtype_of(g._data)}, the output has dtype {dtype}")
            if not create_graph:
                g = g._data
        roots.append(o)
        grads.append(g)
    return roots, grads
