"""Parametrizations: a module's tensor recomputed from other tensors on every access.

``register_parametrization(module, "weight", P)`` moves ``module.weight`` into
``module.parametrizations.weight.original`` (or ``original0``, ``original1``... when
``P.right_inverse`` returns several tensors) and makes ``module.weight`` a property that
returns ``P(original)``; assigning to ``module.weight`` stores ``P.right_inverse(value)``.
As in PyTorch, the module's class is swapped for a generated subclass
(``ParametrizedLinear``) that carries the property, so other instances are untouched, and
the ``state_dict`` keys are PyTorch's (``parametrizations.weight.original``).
"""

import collections.abc
import contextlib
import copy

import interop as it
from ..modules.container import ModuleDict, ModuleList
from ..modules.module import Module
from ..parameter import Parameter

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized", "cached",
           "type_before_parametrizations", "transfer_parametrizations_and_params",
           "ParametrizationList"]

# The cache of parametrized tensors inside ``with cached():`` (depth, values by module+name).
_cache_depth = 0
_cache = {}


@contextlib.contextmanager
def cached():
    """Inside this block each parametrized tensor is computed once, at its first access,
    and reused (e.g. a weight read at every time step of a recurrent net)."""
    global _cache_depth
    _cache_depth += 1
    try:
        yield
    finally:
        _cache_depth -= 1
        if not _cache_depth:
            _cache.clear()


def _register(module, name, tensor):
    """``tensor`` as parameter ``name`` of ``module`` if it is a Parameter, else a buffer."""
    if isinstance(tensor, Parameter):
        module.register_parameter(name, tensor)
    else:
        module.register_buffer(name, tensor)


def _set_data(dest, src):
    """Makes ``dest`` hold ``src``'s values (same object, so parameter references and
    optimizers keep seeing it; PyTorch's ``set_``)."""
    if src is not dest:
        dest.data = src.detach()


def _describe(t):
    return f"shape {tuple(t.shape)} and dtype {t.dtype}"


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, with the unconstrained
    original(s) they start from (``original`` or ``original0``, ``original1``...)."""

    def __init__(self, modules, original, unsafe=False):
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        shape, dtype = tuple(original.shape), original.dtype
        with it.no_grad():
            new = original
            for m in reversed(list(self)):
                if hasattr(m, "right_inverse"):
                    try:
                        new = m.right_inverse(new)
                    except NotImplementedError:
                        pass
        if not isinstance(new, (it.Tensor, collections.abc.Sequence)):
            raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of tensors "
                             f"(list, tuple...), got {type(new).__name__}")
        self.is_tensor = isinstance(new, it.Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if new.dtype != dtype:
                raise ValueError(f"When `right_inverse` outputs one tensor, it may not change "
                                 f"the dtype: original {dtype}, right_inverse(original) "
                                 f"{new.dtype}")
            with it.no_grad():
                _set_data(original, new)
            _register(self, "original", original)
        else:
            for i, t in enumerate(new):
                if not isinstance(t, it.Tensor):
                    raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of "
                                     f"tensors, got element {i} of type {type(t).__name__}")
                if isinstance(original, Parameter):
                    t = Parameter(t, original.requires_grad)
                _register(self, f"original{i}", t)
        if not unsafe:
            z = self()
            if not isinstance(z, it.Tensor):
                raise ValueError(f"A parametrization must return a tensor, got "
                                 f"{type(z).__name__}")
            if z.dtype != dtype or tuple(z.shape) != shape:
                raise ValueError(f"Registering a parametrization may not change the shape or "
                                 f"dtype of the tensor, unless `unsafe` flag is enabled: "
                                 f"unparametrized {shape} {dtype}, parametrized "
                                 f"{_describe(z)}")

    def right_inverse(self, value):
        """Stores ``value`` by running the right inverses backwards into the original(s)."""
        with it.no_grad():
            for m in reversed(list(self)):
                if not hasattr(m, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(m).__name__} does not implement "
                                       f"right_inverse.")
                value = m.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, it.Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor, got "
                                     f"{type(value).__name__}")
                original = self.original
                if value.dtype != original.dtype:
                    raise ValueError(f"The tensor returned by `right_inverse` has dtype "
                                     f"{value.dtype} while `original` has dtype "
                                     f"{original.dtype}")
                if not self.unsafe and tuple(value.shape) != tuple(original.shape):
                    raise ValueError(f"The tensor returned by `right_inverse` has shape "
                                     f"{tuple(value.shape)} while `original` has shape "
                                     f"{tuple(original.shape)}")
                _set_data(original, value)
            else:
                if not isinstance(value, collections.abc.Sequence) or \
                        len(value) != self.ntensors:
                    got = len(value) if isinstance(value, collections.abc.Sequence) else \
                        type(value).__name__
                    raise ValueError(f"'right_inverse' must return a sequence of "
                                     f"{self.ntensors} tensors, got {got}")
                for i, t in enumerate(value):
                    original = getattr(self, f"original{i}")
                    if t.dtype != original.dtype:
                        raise ValueError(f"Tensor {i} returned by `right_inverse` has dtype "
                                         f"{t.dtype} while `original{i}` has dtype "
                                         f"{original.dtype}")
                    _set_data(original, t)

    def forward(self):
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for m in list(self)[1:]:
            x = m(x)
        return x


def _no_pickle(self):
    raise RuntimeError("Serialization of parametrized modules is only supported through "
                       "state_dict().")


def _deepcopy(self, memo):
    """A deep copy of a parametrized module (its generated class kept)."""
    replica = self.__new__(type(self))
    memo[id(self)] = replica
    replica.__dict__ = copy.deepcopy(self.__dict__, memo)
    return replica


def _inject_new_class(module):
    """Swaps ``module``'s class for ``Parametrized<Class>``, a subclass that will carry the
    properties of its parametrized tensors."""
    cls = module.__class__
    attrs = {"__getstate__": _no_pickle}
    if not hasattr(cls, "__deepcopy__"):
        attrs["__deepcopy__"] = _deepcopy
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), attrs)


def _inject_property(module, name):
    """``module.<name>``: the parametrization's output (cached inside ``cached()``);
    assigning stores through its right inverse."""

    def get(self):
        plist = self.parametrizations[name]
        if not _cache_depth:
            return plist()
        key = (id(self), name)
        value = _cache.get(key)
        if value is None:
            value = _cache[key] = plist()
        return value

    def set_(self, value):
        self.parametrizations[name].right_inverse(value)

    setattr(module.__class__, name, property(get, set_))


def is_parametrized(module, tensor_name=None):
    """True if ``module`` has a parametrization (on ``tensor_name``, if given)."""
    plists = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(plists, ModuleDict):
        return False
    return len(plists) > 0 if tensor_name is None else tensor_name in plists


def type_before_parametrizations(module):
    """The module's class before parametrizations swapped it."""
    return type(module).__bases__[0] if is_parametrized(module) else type(module)


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Makes ``module.<tensor_name>`` the output of ``parametrization`` (a Module) applied to
    the original tensor, which moves to ``module.parametrizations[tensor_name].original``.
    Registering a second one on the same tensor chains it after the first. With
    ``right_inverse(X)`` defined, the original is initialized to it (several tensors when it
    returns a sequence: ``original0``, ``original1``...). Unless ``unsafe``, the
    parametrized tensor must keep the original's shape and dtype. Returns ``module``."""
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization: the parametrization must be an "
                        f"interop.nn.Module, got {type(parametrization).__name__}")
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            y = getattr(module, tensor_name)
            x = parametrization(y)
            if not isinstance(x, it.Tensor):
                raise ValueError(f"A parametrization must return a tensor, got "
                                 f"{type(x).__name__}")
            if x.dtype != y.dtype or tuple(x.shape) != tuple(y.shape):
                raise ValueError(f"Registering a parametrization may not change the shape or "
                                 f"dtype of the tensor, unless `unsafe` flag is enabled: "
                                 f"unparametrized {_describe(y)}, parametrized {_describe(x)}")
            if hasattr(parametrization, "right_inverse"):
                try:
                    z = parametrization.right_inverse(x)
                except NotImplementedError:
                    pass
                else:
                    if not isinstance(z, it.Tensor):
                        raise ValueError(f"parametrization.right_inverse must return a tensor, "
                                         f"got {type(z).__name__}")
                    if z.dtype != y.dtype or tuple(z.shape) != tuple(y.shape):
                        raise ValueError(f"The tensor returned by parametrization.right_inverse "
                                         f"must have the shape and dtype of the unparametrized "
                                         f"tensor ({_describe(y)}), got {_describe(z)}")
        plist = module.parametrizations[tensor_name]
        plist.append(parametrization)
        plist.unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        plist = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = plist
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    return module


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Removes the parametrizations on ``module.<tensor_name>``: it becomes a plain
    parameter (or buffer) again, holding the current parametrized value
    (``leave_parametrized=True``) or the original. The module gets its class back once no
    parametrization is left. Returns ``module``."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with it.no_grad():
                _set_data(original, getattr(module, tensor_name))
    elif leave_parametrized:
        t = getattr(module, tensor_name)
        original = Parameter(t.detach(), t.requires_grad) if t.requires_grad else t.detach()
    else:
        raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                         "that is parametrized in terms of a sequence of tensors.")
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _register(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__.__bases__[0]
    return module


def transfer_parametrizations_and_params(from_module, to_module, tensor_name=None):
    """Gives ``to_module`` the parametrizations ``from_module`` has on ``tensor_name`` (on
    every tensor when None): the same parametrization modules, registered in the same order,
    then the same original tensors (shared, not copied), so both modules compute the same
    value. A tensor that ``to_module`` lacks is first created there as a Parameter holding
    ``from_module``'s current value. Nothing happens when ``from_module`` is not
    parametrized. Returns ``to_module``."""
    if not is_parametrized(from_module):
        return to_module
    names = list(from_module.parametrizations) if tensor_name is None else [tensor_name]
    for name in names:
        if not is_parametrized(from_module, name):
            raise KeyError(f"transfer_parametrizations_and_params: {type(from_module).__name__} "
                           f"has no parametrization on '{name}' (it has "
                           f"{sorted(from_module.parametrizations)})")
        source = from_module.parametrizations[name]
        if not hasattr(to_module, name):
            setattr(to_module, name, Parameter(getattr(from_module, name).detach()))
        for parametrization in source:
            register_parametrization(to_module, name, parametrization)
        target = to_module.parametrizations[name]
        originals = ["original"] if source.is_tensor else \
            [f"original{i}" for i in range(source.ntensors)]
        for key in originals:
            setattr(target, key, getattr(source, key))
    return to_module
