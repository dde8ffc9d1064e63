"""The graph: nodes, their creation order, and version stamps.

This module knows no tensor class. A :class:`Node` is one recorded differentiable
primitive; its hot fields are slots:

* ``next``: one edge per input: the producer's node, ``(node, index)`` for one output
  of a multi-output producer, or ``None`` where no gradient is needed;
* ``seq``: a global creation number. Consumers always have a larger one, so walking
  nodes in decreasing ``seq`` is a topological order;
* ``be``: the backend whose kernel namespace ``be.ns`` runs the backward;
* ``saved``: what backward reads, as recorded, one entry per name in the class's
  ``saves``: a saved input variable, ``OUTPUT`` (or ``Output(k)``: the node's own output
  k, held as an array only, so that the output and its node do not keep each other
  alive), or a constant (a Python scalar, a raw index or mask array, a key);
* ``arrs``: the same entries as raw arrays (what an ordinary backward reads), as a
  tuple of the class's ``Saved`` type: ``s.x``, ``s.out`` read the slots by name.

One function records every primitive: ``interop.autograd.variable.record(cls, be,
inputs, saved, arrs)``. A primitive is one forward function and one ``Node`` subclass
beside it that names its saved slots and writes its backward::

    class ExpBackward(Node):
        saves = ("out",)
        def backward(self, xp, g, s):
            return g * s.out,

    def exp(x):
        data = x._be.xp.exp(x._data)
        node = record(ExpBackward, x._be, (x,), (OUTPUT,), (data,)) if recording(x) else None
        return x._make(data, x._be, node)

``backward(self, xp, g, s)`` is written once against a namespace argument:

* an ordinary ``backward()`` passes the backend namespace, raw arrays for ``g`` and
  ``s`` (``s`` is ``arrs``): no tensor objects, nothing recorded;
* ``create_graph=True`` passes the interop namespace and tensors (constants become
  tensors too), so the backward is itself recorded and can be differentiated again.
  ``xp is not self.be.ns`` tells a formula which case it is in.

It returns one gradient (or ``None``) per input edge.

Version stamps: every in-place op draws a stamp from the same counter as ``seq`` and
appends it to the version history of the memory it wrote (kept on the tensor that owns
the memory, ``_vroot``). A saved tensor was modified after the node was made exactly
when its last stamp is larger than the node's ``seq``; that check is skipped when no
in-place op ran since the node was made (one integer comparison).
"""

import itertools
import operator
import threading
import weakref

from .hooks import RemovableHandle

__all__ = ["Node", "AccumulateGrad", "UNSAVED", "OUTPUT", "Output", "slots", "next_seq",
           "bump_version", "version", "version_at", "trace_creation", "post_accumulate_hooked"]

_count = itertools.count(1).__next__

# The last in-place stamp handed out anywhere (0: none yet).
inplace = [0]

# A slot of ``saved`` that the gradients needed by this node do not read (not saved).
UNSAVED = "<not saved>"


class Output(int):
    """A slot of ``saved`` that holds the node's own output number ``k`` (its array is in
    ``arrs``; under ``create_graph`` the engine rebuilds it as a tensor wired to the node)."""
    __slots__ = ()

    def __repr__(self):
        return "OUTPUT" if self == 0 else f"Output({int(self)})"


OUTPUT = Output(0)


def slots(name, names):
    """A tuple type whose items are also read by name (``s.x`` is ``s[0]`` for names
    ``("x", ...)``): the saved slots of a node class, as its backward reads them."""
    attrs = {"__slots__": (), "names": tuple(names)}
    for i, n in enumerate(names):
        attrs[n] = property(operator.itemgetter(i), doc=f"saved slot {i}")
    return type(name, (tuple,), attrs)


class _Trace(threading.local):
    record = None       # this thread's ``trace_creation`` callable, or None


_trace = _Trace()
# How many threads trace creation now: the common case (none) costs one test per node.
_tracing = [0]
_tracing_lock = threading.Lock()


def traced(seq):
    """Where the calling thread traces creation (:func:`trace_creation`), record ``seq``."""
    record = _trace.record
    if record is not None:
        record(seq)


def next_seq():
    """The next creation number (nodes and in-place stamps draw from one counter), traced
    where the calling thread traces creation. (``record()``, on the hot path, inlines this:
    ``_count()``, and ``traced(seq)`` only while some thread traces.)"""
    seq = _count()
    if _tracing[0]:
        traced(seq)
    return seq


def trace_creation(record):
    """In the calling thread only: while ``record`` is a callable, every node created (and
    in-place stamp drawn) calls ``record(seq)`` (anomaly detection keeps the forward stack);
    ``None`` turns that off. Other threads are not affected."""
    was = _trace.record is not None
    _trace.record = record
    with _tracing_lock:
        _tracing[0] += (record is not None) - was


def version_root(t):
    """The tensor that owns the memory (and version history) ``t`` reads."""
    r = t._vroot
    return t if r is None else r


# A version history keeps its newest KEEP_STAMPS stamps and a count of the older ones: a
# parameter updated in place every step must not grow a list for the whole run.
KEEP_STAMPS = 64


def bump_version(t):
    """Record an in-place change of tensor ``t`` (shared by everything over its memory).
    The history (``_vh`` of the memory's owner) is ``[older stamps dropped, stamp, ...]``."""
    root = version_root(t)
    stamp = next_seq()
    vh = root._vh
    if vh is None:
        vh = root._vh = [0, stamp]
    else:
        vh.append(stamp)
        if len(vh) > 2 * KEEP_STAMPS:
            drop = len(vh) - 1 - KEEP_STAMPS
            vh[0] += drop
            del vh[1:1 + drop]
    inplace[0] = stamp
    # A node that saved this memory as its own output learns it here.
    for owner in (t, root):
        n = owner._node
        if n.__class__ is tuple:
            n = n[0]
        if n is not None and n.__class__ is not AccumulateGrad:
            n._out_changed = version(vh)
    return stamp


def version(vh):
    """The version a history gives: how many in-place changes the memory has had."""
    return vh[0] + len(vh) - 1


def version_at(vh, seq):
    """``(n, exact)``: the version the memory had when the node numbered ``seq`` was made; not
    ``exact`` where the stamps that would tell were dropped (then ``n`` is the most it was)."""
    kept = vh[1:]
    n = vh[0] + sum(1 for s in kept if s < seq)
    return n, vh[0] == 0 or kept[0] < seq


class Node:
    """A recorded primitive. Subclasses name their saved slots in ``saves`` (the backward
    reads them as ``s.<name>``), write ``backward(self, xp, g, s)`` and, if any, declare
    extra per-node fields in ``__slots__``."""

    __slots__ = ("next", "seq", "be", "saved", "arrs", "__dict__", "__weakref__")

    saves = ()               # names of the saved slots, in order
    Saved = tuple            # the type of ``arrs``: ``slots(..., saves)``

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if "saves" in cls.__dict__ and cls.saves is not None:    # (None: any number, by position)
            names = cls.saves
            bad = [n for n in names if not (isinstance(n, str) and n.isidentifier())]
            if bad or len(set(names)) != len(names):
                raise TypeError(f"{cls.__name__}.saves must be distinct identifiers, got {names!r}")
            cls.Saved = slots(cls.__name__ + "Saved", names) if names else tuple

    # Rare per-node fields live in __dict__ and default here.
    nout = 1                 # outputs; >1 means pending grads are kept in a list
    _out_changed = 0         # version of the own output when it was modified in place
    _pre_hooks = None        # {output index: {id: hook}} from Tensor.register_hook
    _retain = None           # {output index: weakref to the tensor} from retain_grad()
    _post_hooks = None
    _node_prehooks = None    # node-level pre-hooks: fn(grad_outputs) -> new grads or None
    _hooked = False          # some hook or retain_grad is set: the engine's slow step

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
        if self._post_hooks is None:
            self._post_hooks = {}
        self._hooked = True
        return RemovableHandle(self._post_hooks, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node's backward; may return new grads."""
        if self._node_prehooks is None:
            self._node_prehooks = {}
        self._hooked = True
        return RemovableHandle(self._node_prehooks, fn)


# The AccumulateGrad nodes that carry post-accumulate-grad hooks: while there is one, a
# backward first finds, for each of them it reaches, its last consumer, so that the leaf's
# gradient is accumulated (and its hooks run) as soon as it is complete, during the walk.
post_accumulate_hooked = weakref.WeakSet()


class AccumulateGrad(Node):
    """The sink for a leaf tensor that requires grad; holds the leaf weakly.

    ``_post_acc_hooks`` (``{id: hook}``, from ``register_post_accumulate_grad_hook``):
    ``hook(leaf)`` runs right after the leaf's ``.grad`` has been accumulated."""

    __slots__ = ("variable",)
    _post_acc_hooks = None

    def __init__(self, tensor_ref, be):
        self.variable = tensor_ref      # weakref.ref to the leaf
        self.next = ()
        self.seq = 0
        self.be = be
        self.saved = ()
        self.arrs = ()

    def backward(self, xp, g, s):
        return ()


def edge_node(e):
    """The node an edge points at (an edge is a node or ``(node, output index)``)."""
    return e[0] if e.__class__ is tuple else e
