"""Custom differentiable functions, PyTorch style.

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            y, = ctx.saved_tensors
            return g * y

    y = Exp.apply(x)

PyTorch 2's form works too: ``forward(x)`` without ``ctx`` plus a static
``setup_context(ctx, inputs, output)`` that saves for backward.

``forward`` runs on Tensors with recording off; ``backward`` gets Tensors and runs
with recording on only under ``create_graph=True`` (so a backward written with
interop ops is differentiable again).
"""

import functools
import warnings
import weakref

from . import graph as _graph
from .engine import FREED_MSG, check_versions, saved_tensors
from .grad_mode import state as _gm
from .graph import Output
from .variable import Variable, record as _record

__all__ = ["Function", "FunctionCtx", "once_differentiable", "primitive"]


class FunctionCtx:
    """The ``ctx`` object: save tensors and flags for backward."""

    def save_for_backward(self, *tensors):
        if getattr(self, "_in_forward", False) is False:
            raise RuntimeError("save_for_backward can only be called from forward")
        if hasattr(self, "_to_save"):
            raise RuntimeError("save_for_backward can be called at most once")
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Variable):
                raise TypeError(f"save_for_backward expects tensors or None, got "
                                f"{type(t).__name__} at position {i}")
        self._to_save = tensors

    @property
    def saved_tensors(self):
        ref = self._node_ref
        if ref is None:                       # forward has not finished: what was passed in
            return tuple(getattr(self, "_to_save", ()))
        node = ref()
        if node is None or node.saved is None:
            raise RuntimeError(FREED_MSG)
        if _graph.inplace[0] > node.seq:
            check_versions(node)
        if self._create_graph:      # saved inputs as they are, outputs wired to this node
            return tuple(saved_tensors(node, node.make))
        make, be = node.make, node.be
        return tuple(None if t is None else make(a, be, None) for t, a in zip(node.saved, node.arrs))

    def mark_non_differentiable(self, *tensors):
        self._non_diff = set(id(t) for t in tensors)

    def mark_dirty(self, *tensors):
        """Inputs that forward modified in place (and returns): they move onto this node."""
        self._dirty = set(id(t) for t in tensors)

    def set_materialize_grads(self, value):
        self._materialize = bool(value)


class _FunctionNodeBase(_graph.Node):
    """The node of a custom Function: saves what ``ctx.save_for_backward`` got, by position
    (``saves = None``); its backward wraps the gradients into tensors for the user's
    ``backward(ctx, *grads)``."""
    __slots__ = ("ctx", "fn", "out_meta", "make")
    saves = None

    @classmethod
    def name(cls):
        return cls.__name__

    def backward(self, xp, g, s):
        make = self.make
        ctx = self.ctx
        create_graph = xp is not self.be.ns
        gs = list(g) if self.nout > 1 else [g]
        wrapped = []
        for gi, (shape, be, dt) in zip(gs, self.out_meta):
            if dt is None:            # a non-tensor output
                gi = None
            elif gi is None:
                if getattr(ctx, "_materialize", True):
                    gi = make(be.xp.zeros(shape, dtype=dt, **be.device_kwargs), be, None)
            elif not isinstance(gi, Variable):
                gi = make(gi, be, None)
            wrapped.append(gi)
        ctx._create_graph = create_graph
        prev = _gm.enabled
        _gm.enabled = create_graph
        try:
            res = self.fn.backward(ctx, *wrapped)
        finally:
            _gm.enabled = prev
        if not isinstance(res, tuple):
            res = (res,)
        n_in = len(self.next)
        if len(res) < n_in:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                               f"(expected {n_in}, got {len(res)})")
        res = res[:n_in] if all(r is None for r in res[n_in:]) else res
        if len(res) != n_in:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                               f"(expected {n_in}, got {len(res)})")
        out = []
        for i, (r, e) in enumerate(zip(res, self.next)):
            if r is None or e is None:
                out.append(None)
                continue
            if not isinstance(r, Variable):
                raise TypeError(f"function {self.name()} returned a {type(r).__name__} as gradient "
                                f"{i}; expected a Tensor or None")
            shape = self.in_shapes[i]
            if tuple(r._data.shape) != shape:
                raise RuntimeError(f"function {self.name()} returned an invalid gradient at index {i} "
                                   f"- got {list(r._data.shape)} but expected shape compatible with "
                                   f"{list(shape)}")
            out.append(r if create_graph else r._data)
        return tuple(out)


class FunctionMeta(type):
    """Gives every Function subclass a readable ``<Name>Backward`` node class."""

    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + "Backward", (_FunctionNodeBase,),
                                 {"__slots__": (), "in_shapes": ()})


class Function(metaclass=FunctionMeta):
    """Base class for custom differentiable ops; call them with ``MyFn.apply(...)``."""

    def __init__(self, *args, **kwargs):
        warnings.warn(f"{type(self).__name__} should not be instantiated; call "
                      f"{type(self).__name__}.apply(...) instead", DeprecationWarning, stacklevel=2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. "
                           "Please use new-style autograd function with static forward method "
                           f"and call it as {type(self).__name__}.apply(...)")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement the backward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """PyTorch 2's split form: a Function that defines ``setup_context`` has a
        ``forward(*args)`` without ``ctx``; ``setup_context(ctx, inputs, output)`` then saves
        what backward needs."""
        raise NotImplementedError("setup_context is not overridden")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        ctx._node_ref = None
        tensor_args = [a if isinstance(a, Variable) else None for a in args]
        ctx.needs_input_grad = tuple(a is not None and a._node is not None for a in tensor_args)
        record = _gm.enabled and any(ctx.needs_input_grad)
        ctx._in_forward = True
        prev = _gm.enabled
        _gm.enabled = False
        try:
            if cls.setup_context is Function.setup_context:
                outputs = cls.forward(ctx, *args, **kwargs)
            else:
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
        finally:
            _gm.enabled = prev
            ctx._in_forward = None
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        if not record:
            return outputs
        first = next(a for a in tensor_args if a is not None)
        be = first._be
        in_ids = {id(a) for a in tensor_args if a is not None}
        out_ids = {id(o): i for i, o in enumerate(outs) if isinstance(o, Variable)}
        # What backward will unpack, by position: a saved tensor, Output(i) for output i (its
        # data only: rebuilt on this node under create_graph), or None.
        to_save = getattr(ctx, "_to_save", ())
        saved = tuple(t if t is None or id(t) not in out_ids or id(t) in in_ids
                      else Output(out_ids[id(t)]) for t in to_save)
        node = _record(cls._backward_cls, be, tensor_args, saved,
                       tuple(None if t is None else t._data for t in to_save))
        node.make = first._make
        node.ctx = ctx
        node.fn = cls
        node.in_shapes = tuple(tuple(a._data.shape) if a is not None else () for a in tensor_args)
        node.out_meta = tuple((tuple(o._data.shape), o._be, o._data.dtype) if isinstance(o, Variable)
                              else ((), be, None) for o in outs)
        if len(outs) > 1:
            node.nout = len(outs)
        results = _wire(node, outs, in_ids, getattr(ctx, "_non_diff", ()),
                        getattr(ctx, "_dirty", ()))
        ctx._node_ref = weakref.ref(node)
        ctx._create_graph = False
        return results[0] if single else tuple(results)


def _wire(node, outs, in_ids, non_diff, dirty):
    """The results of a recorded ``node``: each tensor of ``outs`` on its edge of the node
    (none for those in ``non_diff`` and for integer and bool outputs), as a new tensor over
    the same data, or, for an input modified in place (in ``dirty``), that tensor itself."""
    multi = len(outs) > 1
    results = []
    for i, o in enumerate(outs):
        if not isinstance(o, Variable):
            results.append(o)
            continue
        edge = None if id(o) in non_diff else ((node, i) if multi else node)
        odt = o._be.dtype_of(o._data)
        if edge is not None and not (odt.is_floating_point or odt.is_complex):
            edge = None
        if id(o) in dirty:
            # an input modified in place and returned: the same tensor, now on this node
            _graph.bump_version(o)
            o._node = edge
            r = o
        else:
            r = o._make(o._data, o._be, edge)
            # an input returned as is, or a view made in forward, shares its memory
            root = o if o._vroot is None else o._vroot
            if id(o) in in_ids or o._vroot is not None:
                r._vroot = root
        if multi:
            r._oidx = i
        results.append(r)
    return results


def primitive(cls, inputs, outputs, saved=(), nondiff=(), **fields):
    """Record one differentiable primitive whose backward runs on the backend's raw arrays,
    as interop's own ops are recorded: the way layers above the tensor class (``nn``)
    declare theirs. ``outputs`` (a tensor or a tuple of tensors) were computed from
    ``inputs`` with recording off (``with interop.no_grad():``).

    * ``cls``: a :class:`~interop.autograd.graph.Node` subclass that names its saved slots
      in ``saves`` and writes ``backward(self, xp, g, s)`` once against the namespace
      ``xp``: an ordinary backward passes the backend namespace and raw arrays (``g``: one
      gradient, or a list with one per output, ``None`` where none reached it); under
      ``create_graph`` the interop namespace and tensors. It returns one gradient (or
      ``None``) per entry of ``inputs``, each in the shape of its input.
    * ``inputs``: what the result depends on (tensors; ``None`` or constants get no gradient).
    * ``saved``: one entry per name in ``cls.saves``: a tensor (an input, an intermediate, or
      one of the outputs, which is then held as the node's own output), or a constant.
    * ``nondiff``: the positions of outputs that get no gradient (statistics, indices).
    * ``fields``: per-call constants, set on the node (the backward reads ``self.<name>``).

    Returns the outputs wired to the node (new tensors over the same data), or the outputs
    as given where grad mode is off or no input requires grad."""
    if not _gm.enabled or not any(isinstance(t, Variable) and t._node is not None
                                  for t in inputs):
        return outputs
    single = not isinstance(outputs, tuple)
    outs = (outputs,) if single else outputs
    first = next(t for t in inputs if isinstance(t, Variable))
    in_ids = {id(t) for t in inputs if isinstance(t, Variable)}
    out_ids = {id(o): i for i, o in enumerate(outs) if isinstance(o, Variable)}
    held, arrs = [], []
    for t in saved:
        if isinstance(t, Variable):
            i = out_ids.get(id(t))
            held.append(Output(i) if i is not None and id(t) not in in_ids else t)
            arrs.append(t._data)
        else:
            held.append(t)
            arrs.append(t)
    names = cls.saves
    if names is not None and len(held) != len(names):
        raise TypeError(f"{cls.__name__} saves {names!r}; recorded with {len(held)} saved "
                        f"entries")
    node = _record(cls, first._be, inputs, tuple(held), tuple(arrs))
    for name, value in fields.items():
        setattr(node, name, value)
    if len(outs) > 1:
        node.nout = len(outs)
    results = _wire(node, outs, in_ids, {id(outs[i]) for i in nondiff}, ())
    return results[0] if single else tuple(results)


def run_kernel(name, *args):
    """The backend kernel ``name`` (the table ``interop.backends.KERNELS``) run on the arrays
    of the tensors among ``args`` (other arguments passed as they are), outside the graph:
    how a primitive recorded with :func:`primitive` computes its forward on raw arrays from a
    layer above the tensor class (``nn``), with the kernels its backward also calls. The
    result is a tensor on the first tensor's backend, or a tuple of them for a kernel that
    returns several arrays. Call it with recording off (``with interop.no_grad():``): where
    grad mode is on and a tensor argument requires grad it refuses, since the result would
    silently carry no gradient."""
    tensors = [a for a in args if isinstance(a, Variable)]
    if not tensors:
        raise TypeError(f"run_kernel({name!r}): expected at least one tensor argument")
    be = tensors[0]._be
    for t in tensors:
        if t._be is not be:
            raise ValueError(f"run_kernel({name!r}): expected all tensors on one backend, got "
                             f"{be.name!r} and {t._be.name!r}")
    if _gm.enabled and any(t._node is not None for t in tensors):
        raise RuntimeError(f"run_kernel({name!r}) records no gradient, and an argument "
                           f"requires grad: call it under interop.no_grad() inside a "
                           f"primitive's forward (see interop.autograd.primitive)")
    if name not in be.KERNELS:
        raise KeyError(f"run_kernel: unknown kernel {name!r}; the table has "
                       f"{', '.join(be.KERNELS)}")
    out = getattr(be.ns, name)(*[a._data if isinstance(a, Variable) else a for a in args])
    make = tensors[0]._make
    if isinstance(out, tuple):
        return tuple(None if o is None else make(o, be, None) for o in out)
    return make(out, be, None)


def once_differentiable(fn):
    """Decorate a ``backward``: it runs without recording; differentiating it again raises."""

    @functools.wraps(fn)
    def wrapper(ctx, *grads):
        prev = _gm.enabled
        _gm.enabled = False
        try:
            res = fn(ctx, *[g.detach() if isinstance(g, Variable) else g for g in grads])
        finally:
            _gm.enabled = prev
        live = [g for g in grads if isinstance(g, Variable) and g._node is not None]
        if not prev or not live:
            return res
        single = not isinstance(res, tuple)
        outs = (res,) if single else res
        wrapped = []
        for r in outs:
            if isinstance(r, Variable):
                r = _DelayedError.apply(r, *live)
            wrapped.append(r)
        return wrapped[0] if single else tuple(wrapped)
    return wrapper


class _DelayedError(Function):
    @staticmethod
    def forward(ctx, x, *grads):
        return x.detach()

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")
