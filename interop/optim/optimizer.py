"""``Optimizer``: the base of every optimizer, with PyTorch's contract.

An optimizer holds ``param_groups`` (dicts: ``"params"`` plus the group's options, the
constructor's ``defaults`` filling what a group leaves out) and ``state`` (per parameter:
the tensors and counters the algorithm keeps between steps). ``state_dict()`` has
PyTorch's layout, ``{"state": {index: {...}}, "param_groups": [{..., "params": [index]}]}``,
so checkpoints move between interop and PyTorch (tensors converted) and an interrupted run
resumes bit for bit.

Every subclass's ``step`` is wrapped once, when the class is created: the step pre-hooks
run, then ``step`` under ``no_grad`` (an update is never recorded; a closure is evaluated
with grad enabled by :meth:`Optimizer._evaluate`), then the post-hooks.
"""

from collections import OrderedDict, defaultdict
from copy import deepcopy
import functools
import itertools

import interop as it

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook",
           "register_optimizer_step_post_hook"]


class _RequiredParameter:
    """The default of an option every parameter group must give itself."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

_global_step_pre_hooks = OrderedDict()
_global_step_post_hooks = OrderedDict()


def register_optimizer_step_pre_hook(hook):
    """``hook(optimizer, args, kwargs) -> None or (args, kwargs)``, run before every
    optimizer's step (before its own pre-hooks)."""
    return it.autograd.RemovableHandle(_global_step_pre_hooks, hook)


def register_optimizer_step_post_hook(hook):
    """``hook(optimizer, args, kwargs)``, run after every optimizer's step (after its own
    post-hooks)."""
    return it.autograd.RemovableHandle(_global_step_post_hooks, hook)


def _with_step_hooks(step):
    """``step`` run with the step hooks, under no_grad, marking the optimizer as stepped
    (what a learning-rate scheduler checks)."""

    @functools.wraps(step)
    def hooked_step(self, *args, **kwargs):
        if self._in_step:       # a subclass's step calling super().step(): hooks ran already
            return step(self, *args, **kwargs)
        for hook in itertools.chain(_global_step_pre_hooks.values(),
                                    self._optimizer_step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{step} must return None or a tuple of (new_args, "
                                       f"new_kwargs), but got {result}.")
                args, kwargs = result
        self._opt_called = True
        self._in_step = True
        try:
            with it.no_grad():
                out = step(self, *args, **kwargs)
        finally:
            self._in_step = False
        for hook in itertools.chain(self._optimizer_step_post_hooks.values(),
                                    _global_step_post_hooks.values()):
            hook(self, args, kwargs)
        return out

    hooked_step.hooked = True
    return hooked_step


def _typename(obj):
    cls = type(obj)
    return cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def scalar(value):
    """A hyper-parameter as a Python number (a 1-element tensor is accepted, as in PyTorch)."""
    return value.item() if isinstance(value, it.Tensor) else value


def check_lr(lr):
    """PyTorch's check of a learning rate (a number, or a 1-element tensor)."""
    if isinstance(lr, it.Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def check_nonnegative(name, value):
    """PyTorch's check of a hyper-parameter that must not be negative."""
    if not 0.0 <= value:
        raise ValueError(f"Invalid {name} value: {value}")


def check_betas(betas):
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")


def check_implementation(differentiable, foreach=None, fused=None):
    """The implementation switches PyTorch offers: ``foreach`` (False: one parameter at a
    time; else Adam and AdamW flatten small parameters, see :class:`FlatGroup`) and
    ``fused`` (no fused kernels here: accepted, stored, no effect) are taken;
    ``differentiable`` steps are not offered."""
    if differentiable:
        raise NotImplementedError("differentiable=True: interop optimizers run their steps "
                                  "without recording a graph; differentiating through an "
                                  "optimizer step is not supported")
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def new_step():
    """A step counter: a float32 0-d tensor on the CPU, as PyTorch keeps it (so a
    ``state_dict`` has PyTorch's types)."""
    return it.zeros((), dtype=it.float32, device="cpu")


_WIDE_FLOATS = (it.float32, it.float64)


def ema_(avg, x, weight):
    """``avg += weight * (x - avg)`` in place: a running average (PyTorch's ``lerp_``, and
    ``mul_``/``addcmul_`` for an average of squares, to a few ulps).

    In float32 and float64 it runs as ``(avg * ((1 - weight) / weight) + x) * weight``: no
    temporary, and two of the three passes are scalings, the cheapest pass over memory (an
    Adam step is ~10% faster than with ``avg - x``). Narrower floats, whose range the
    intermediate ``avg / weight`` could leave, take the direct form."""
    if weight != 0 and avg.dtype in _WIDE_FLOATS:
        avg.mul_((1 - weight) / weight).add_(x).mul_(weight)
    else:
        avg.add_((x - avg).mul_(weight))


def zero_buffers(*names):
    """An ``init`` for :meth:`Optimizer._with_grads`: zero buffers ``names`` shaped like p."""
    def init(state, p):
        for name in names:
            state[name] = it.zeros_like(p)
    return init


def grad_of(p, maximize):
    """The gradient the update descends (``-grad`` when maximizing)."""
    return -p.grad if maximize else p.grad


# The foreach path flattens the parameters of at most FLAT_MAX_NUMEL elements, in chunks of
# about FLAT_CHUNK_NUMEL: for those the per-parameter ops (a few µs each) cost more than the
# flat path's copies, and chunks this small keep its temporaries in cache (measured with
# benchmarks/optim.py and 20 to 200 parameters of 1K to 64K elements).
FLAT_MAX_NUMEL = 4096
FLAT_CHUNK_NUMEL = 32768


class FlatGroup:
    """Parameters of one group updated as one flat vector: a foreach-style path for many
    small parameters, where one op over all of them replaces one op per parameter.

    The state tensors named by ``keys`` become views of one flat buffer per key, and the
    step counters views of one float32 vector, so ``optimizer.state`` (and the state_dict)
    keeps PyTorch's per-parameter layout while an update touches each buffer once. Per step
    the gradients are gathered into one vector (:meth:`gradients`), the update is written
    into :attr:`update` and each parameter subtracts its view of it (:meth:`apply`).
    """

    __slots__ = ("params", "buffers", "views", "steps", "step_views", "update", "update_views")

    @classmethod
    def build(cls, state, params, keys, init):
        """A FlatGroup over ``params`` (their per-parameter state made by ``init(p)`` where
        missing), or None where the flat path does not apply: parameters on different
        backends or of different dtypes, step counts that differ, or a backend with
        immutable arrays (where writing a buffer would not reach its views), the parameters'
        or the step counters' (on the "cpu" device: the current backend where it is a CPU one)."""
        first = params[0]
        if not first.backend.mutable or any(p.dtype != first.dtype or
                                            p.backend is not first.backend for p in params):
            return None
        states = [state[p] or init(p) for p in params]
        counts = {float(st["step"]) for st in states}
        if len(counts) != 1:
            return None
        steps = it.full((len(params),), counts.pop(), dtype=it.float32, device="cpu")
        if not steps.backend.mutable:
            return None    # (the current backend's CPU arrays are immutable (JAX): as above)
        self = cls()
        self.params = list(params)
        sizes = [p.numel() for p in params]
        bounds = list(zip(itertools.accumulate([0] + sizes[:-1]), itertools.accumulate(sizes)))

        def views_of(flat):
            return [flat[a:b].reshape(p.shape) for (a, b), p in zip(bounds, params)]

        self.buffers, self.views = {}, {}
        for key in keys:
            flat = it.concat([st[key].reshape(-1) for st in states])
            self.buffers[key] = flat
            self.views[key] = views_of(flat)
            for st, view in zip(states, self.views[key]):
                st[key] = view
        self.steps = steps
        self.step_views = [self.steps[i] for i in range(len(params))]
        for st, view in zip(states, self.step_views):
            st["step"] = view
        self.update = it.zeros_like(self.buffers[keys[0]])
        self.update_views = views_of(self.update)
        return self

    def holds(self, state):
        """Whether the parameters' state still is this flat group's views (no state replaced,
        e.g. by ``load_state_dict``)."""
        for i, p in enumerate(self.params):
            st = state.get(p)
            if st is None or st.get("step") is not self.step_views[i] or any(
                    st.get(key) is not views[i] for key, views in self.views.items()):
                return False
        return True

    def gradients(self, maximize):
        """All the gradients as one vector (negated when maximizing)."""
        g = it.concat([p.grad.reshape(-1) for p in self.params])
        return g.mul_(-1) if maximize else g

    def parameters(self):
        """All the parameters' values as one vector (a copy)."""
        return it.concat([p.reshape(-1) for p in self.params])

    def apply(self, shrink=None):
        """Each parameter minus its view of :attr:`update` (first scaled by ``shrink``:
        decoupled weight decay)."""
        for p, u in zip(self.params, self.update_views):
            if shrink is not None:
                p.mul_(shrink)
            p.sub_(u)


def flat_partition(optimizer, group, params, keys, init):
    """The group's parameters with gradients for this step, split into :class:`FlatGroup`
    chunks of small parameters and the parameters to update one by one. With
    ``group["foreach"]`` False every parameter goes one by one. The chunks are kept
    between steps, and rebuilt when the parameters with gradients or their state change."""
    if group.get("foreach") is False:
        return (), params
    cached = optimizer._flat_groups.get(id(group))
    if cached is not None:
        known, chunks, loose = cached
        if len(known) == len(params) and all(p is q for p, q in zip(params, known)) and all(
                chunk.holds(optimizer.state) for chunk in chunks):
            return chunks, loose
    small = [p for p in params if p.numel() <= FLAT_MAX_NUMEL]
    loose = [p for p in params if p.numel() > FLAT_MAX_NUMEL]
    runs, size = [[]], 0
    for p in small:
        if size >= FLAT_CHUNK_NUMEL:
            runs.append([])
            size = 0
        runs[-1].append(p)
        size += p.numel()
    chunks = []
    for run in runs:
        chunk = FlatGroup.build(optimizer.state, run, keys, init) if len(run) > 1 else None
        if chunk is None:
            loose += run
        else:
            chunks.append(chunk)
    optimizer._flat_groups[id(group)] = (list(params), chunks, loose)
    return chunks, loose


class Optimizer:
    """Base class of all optimizers.

    ``Optimizer(params, defaults)``: ``params`` is an iterable of tensors, of
    ``(name, tensor)`` pairs (``model.named_parameters()``), or of dicts (parameter groups,
    each with ``"params"`` and its own options); ``defaults`` holds the options a group
    does not give. Give parameters in a deterministic order (a list, not a set): the
    state_dict refers to them by position.

    A parameter given twice in one group is an error here (PyTorch only warns).
    """

    _in_step = False
    _supports_complex = True    # False where the update treats a complex number as one value
    _tensor_step = True         # the state's "step" is a float32 tensor (PyTorch's type)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            cls.step = _with_step_hooks(step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()
        if isinstance(params, it.Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []
        self._flat_groups = {}      # id(group) -> (params, flat chunks, the others): foreach path
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)
        check_implementation(defaults.get("differentiable"), defaults.get("foreach"),
                             defaults.get("fused"))

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for group in self.param_groups:      # a checkpoint from before an option existed
            for name, default in self.defaults.items():
                if default is not required:
                    group.setdefault(name, default)

    def __repr__(self):
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines) + "\n)"

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with ``"params"`` and options of its own),
        e.g. layers unfrozen while training."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, it.Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. Please "
                            "use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        param_group["params"] = params
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            param_group["param_names"] = names

        for p in params:
            if not isinstance(p, it.Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(p))
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
            if not self._supports_complex and p.is_complex():
                raise ValueError(f"{type(self).__name__} does not support complex parameters "
                                 f"(got one of dtype {p.dtype} and shape {tuple(p.shape)}); "
                                 f"optimize its real and imaginary parts as real tensors")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)

        seen = {}
        for i, p in enumerate(params):
            if id(p) in seen:
                raise ValueError(f"optimizer got a parameter group with duplicate parameters: "
                                 f"params[{seen[id(p)]}] and params[{i}] are the same tensor "
                                 f"(shape {tuple(p.shape)}); give each parameter once")
            seen[id(p)] = i

        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(f"all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
            if any(id(p) in seen for p in group["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of every optimized tensor: to None (the default), or to zeros
        in place (cut from any graph they carry)."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g.zero_()

    def step(self, closure=None):
        """One optimization step; ``closure`` (optional for most optimizers) re-evaluates the
        model and returns the loss, which ``step`` returns."""
        raise NotImplementedError

    def _with_grads(self, group, init):
        """``(p, state, g)`` for each parameter of ``group`` that has a gradient: its state
        (made on first sight: the step counter, then what ``init(state, p)`` adds), with the
        step already counted, and ``g`` the gradient to descend (``-grad`` when maximizing)."""
        maximize = group["maximize"]
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if not state:
                state["step"] = new_step()
                init(state, p)
            state["step"] += 1
            yield p, state, grad_of(p, maximize)

    @staticmethod
    def _evaluate(closure):
        """``closure()`` with grad enabled (``step`` itself runs under no_grad), or None."""
        if closure is None:
            return None
        with it.enable_grad():
            return closure()

    # ------------------------------------------------------------------ hooks
    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs) -> None or (args, kwargs)`` before each step."""
        return it.autograd.RemovableHandle(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` after each step."""
        return it.autograd.RemovableHandle(self._optimizer_step_post_hooks, hook)

    @staticmethod
    def _add_hook(hooks, hook, prepend):
        handle = it.autograd.RemovableHandle(hooks, hook)
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer)`` before :meth:`state_dict` builds the dict."""
        return self._add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict) -> None or state_dict`` on the built dict."""
        return self._add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict) -> None or state_dict`` before loading."""
        return self._add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer)`` after loading."""
        return self._add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ------------------------------------------------------------- state dict
    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``:
        parameters are numbered in the order the groups hold them (PyTorch's layout). The
        state's tensors are the optimizer's own, not copies."""
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, it.Tensor) else k): v
                 for k, v in self.state.items()}
        out = {"state": state, "param_groups": groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            result = hook(self, out)
            if result is not None:
                out = result
        return out

    def load_state_dict(self, state_dict):
        """Load a :meth:`state_dict` (ours or PyTorch's, tensors converted): the groups must
        hold as many parameters as this optimizer's, matched by position. State tensors are
        copied onto each parameter's backend and into its floating dtype (step counters keep
        theirs), so the loaded optimizer shares no memory with ``state_dict``."""
        state_dict = state_dict.copy()
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        by_index = dict(zip(itertools.chain.from_iterable(s["params"] for s in saved_groups),
                            itertools.chain.from_iterable(g["params"] for g in groups)))
        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in by_index:
                p = by_index[k]
                state[p] = self._cast_state(p, v)
            else:
                state[k] = v
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self._flat_groups.clear()
        self.__setstate__({"state": state, "param_groups": saved_groups})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)

    def _cast_state(self, p, value, key=None):
        """A loaded state value made this optimizer's own (see :meth:`load_state_dict`)."""
        if isinstance(value, it.Tensor):
            if key == "step":
                return value.to("cpu", copy=True)
            if p.is_floating_point() or p.is_complex():
                return value.to(p, copy=True)
            return value.to(p.device, copy=True)
        if isinstance(value, dict):
            return {k: self._cast_state(p, v, k) for k, v in value.items()}
        if key == "step" and isinstance(value, (int, float)) and self._tensor_step:
            return it.tensor(float(value), dtype=it.float32, device="cpu")
        if isinstance(value, (list, tuple)):
            return type(value)(self._cast_state(p, v) for v in value)
        return value
