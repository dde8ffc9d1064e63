"""Lazy modules: parameters whose shape is known only at the first call.

``UninitializedParameter`` / ``UninitializedBuffer`` hold a dtype and a device but no shape;
``materialize(shape)`` gives them their storage and turns them into an ordinary
``Parameter`` / tensor in place (the same object, so optimizers and references see it).
``LazyModuleMixin`` runs the module's ``initialize_parameters(*args)`` before its first
forward, and materializes lazy entries from the shapes of a loaded ``state_dict``; once
every entry is materialized the module becomes its ``cls_to_become`` (``LazyLinear`` ->
``Linear``), as in PyTorch.
"""

import itertools

import interop as it
from .parameter import Parameter

__all__ = ["UninitializedParameter", "UninitializedBuffer", "LazyModuleMixin", "is_lazy"]

_NO_SHAPE = ("Can't access the shape of an uninitialized parameter or buffer. This usually "
             "happens in `load_state_dict` when loading an uninitialized parameter into an "
             "initialized one: call `forward` once to initialize the parameters before using "
             "their attributes.")


class UninitializedTensorMixin:
    """What uninitialized parameters and buffers share: no shape until ``materialize``."""

    __slots__ = ()
    cls_to_become = None

    def materialize(self, shape, device=None, dtype=None):
        """Gives this tensor storage of ``shape`` (uninitialized values) and makes it a
        ``cls_to_become`` in place; ``device``/``dtype`` default to the ones it was made with."""
        dev = self.device if device is None else device
        dt = self.dtype if dtype is None else dtype
        self.data = it.empty(tuple(shape), device=dev, dtype=dt)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(_NO_SHAPE)

    @property
    def ndim(self):
        raise RuntimeError(_NO_SHAPE)

    def size(self, dim=None):
        raise RuntimeError(_NO_SHAPE)

    def numel(self):
        raise RuntimeError(_NO_SHAPE)

    def dim(self):
        raise RuntimeError(_NO_SHAPE)

    def __repr__(self):
        return f"<{type(self).__name__}>"

    __str__ = __repr__

    def __deepcopy__(self, memo):
        out = memo.get(id(self))
        if out is None:
            out = memo[id(self)] = self._same_kind()
        return out


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter with no shape yet (``LazyLinear``'s weight before its first call)."""

    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return Parameter.__new__(cls, it.empty(0, device=device, dtype=dtype), requires_grad)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass        # built by __new__

    def _same_kind(self):
        return type(self)(self.requires_grad, self.device, self.dtype)


class UninitializedBuffer(UninitializedTensorMixin, it.Tensor):
    """A buffer with no shape yet; ``persistent`` says whether it will be saved."""

    __slots__ = ()
    cls_to_become = it.Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        t = it.empty(0, device=device, dtype=dtype).as_subclass(cls)
        if requires_grad:
            t.requires_grad_(True)
        t.persistent = persistent
        return t

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass        # built by __new__

    def _same_kind(self):
        return type(self)(self.requires_grad, self.device, self.dtype, self.persistent)


def is_lazy(t):
    """True for an uninitialized parameter or buffer."""
    return isinstance(t, UninitializedTensorMixin)


class LazyModuleMixin:
    """Mixed in before a module class: its lazy parameters are shaped by
    ``initialize_parameters(*args, **kwargs)`` (which the subclass writes) at the first
    call, or by the shapes in a ``state_dict`` loaded before that; then the module becomes
    ``cls_to_become``."""

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._load_hook = self._register_load_state_dict_pre_hook(self._lazy_load_hook)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters,
                                                               with_kwargs=True)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        # uninitialized entries are saved as themselves (they have no data to detach)
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if is_lazy(p) or keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if is_lazy(b) or keep_vars else b.detach()

    def _lazy_load_hook(self, state_dict, prefix, local_metadata, strict, missing_keys,
                        unexpected_keys, error_msgs):
        """Materializes each lazy entry that the state_dict holds an initialized value for,
        with that value's shape (the copy that follows fills it)."""
        for name, t in itertools.chain(self._parameters.items(), self._buffers.items()):
            key = prefix + name
            if t is not None and is_lazy(t) and key in state_dict:
                value = state_dict[key]
                if not is_lazy(value):
                    with it.no_grad():
                        t.materialize(tuple(value.shape))

    def initialize_parameters(self, *args, **kwargs):
        """Shapes the lazy parameters from the first call's arguments (subclasses write it)."""
        raise NotImplementedError(f"initialize_parameters is not implemented for "
                                  f"{type(self).__name__}")

    def has_uninitialized_params(self):
        """True while some parameter or buffer is still uninitialized."""
        return any(is_lazy(t) for t in itertools.chain(self._parameters.values(),
                                                       self._buffers.values()))

    def _infer_parameters(self, module, args, kwargs=None):
        """The forward pre-hook of the first call: initialize, then stop being lazy."""
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {module._get_name()} has not been fully initialized by "
                               f"initialize_parameters")
        module._initialize_hook.remove()
        module._load_hook.remove()
        del module._initialize_hook
        del module._load_hook
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become
