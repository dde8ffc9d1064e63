"""``Module``: the base class of every layer, with PyTorch's contract.

A module owns parameters, buffers and sub-modules, registered when they are assigned
(``self.weight = Parameter(...)``, ``self.fc = Linear(...)``) or through ``register_*``;
they are found again by name (``state_dict`` keys are PyTorch's: ``"fc.weight"``), moved
together (``to``, ``cpu``, ``cuda``, ``float``...), switched together (``train``/``eval``,
``requires_grad_``, ``zero_grad``) and hooked around ``forward`` (pre/post forward hooks,
full backward hooks). Calling a module runs its hooks and ``forward``; with no hook
registered it is ``forward`` plus one check, so small layers stay cheap.
"""

from collections import OrderedDict, namedtuple
import functools
import itertools
import weakref

import interop as it
from ..parameter import Parameter, Buffer

__all__ = ["Module", "register_module_forward_pre_hook", "register_module_forward_hook",
           "register_module_full_backward_hook", "register_module_full_backward_pre_hook"]


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it did not find and the keys it did not use."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


# Hooks that apply to every module (PyTorch's global module hooks).
_global_forward_pre_hooks = OrderedDict()
_global_forward_hooks = OrderedDict()
_global_backward_hooks = OrderedDict()
_global_backward_pre_hooks = OrderedDict()


def _add_hook(hooks, hook, prepend=False):
    handle = it.autograd.RemovableHandle(hooks, hook)
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_module_forward_pre_hook(hook):
    """A forward pre-hook ``hook(module, args)`` run before every module's own."""
    return _add_hook(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook):
    """A forward hook ``hook(module, args, output)`` run before every module's own."""
    return _add_hook(_global_forward_hooks, hook)


def register_module_full_backward_hook(hook):
    """A backward hook ``hook(module, grad_input, grad_output)`` for every module."""
    return _add_hook(_global_backward_hooks, hook)


def register_module_full_backward_pre_hook(hook):
    """A backward pre-hook ``hook(module, grad_output)`` for every module."""
    return _add_hook(_global_backward_pre_hooks, hook)


def _remove(name, *stores):
    """Drops ``name`` from each dict or set in ``stores`` that holds it (an attribute that
    changes kind: a plain value becoming a parameter, a module becoming a buffer...)."""
    for store in stores:
        if name in store:
            if isinstance(store, set):
                store.discard(name)
            else:
                del store[name]


def _forward_unimplemented(self, *args, **kwargs):
    raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                              f'"forward" function')


def _addindent(text, spaces):
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class Module:
    """Base class of all layers: subclass it, call ``super().__init__()`` first in
    ``__init__``, assign parameters and sub-modules as attributes, and define ``forward``."""

    training = True
    _version = 1
    forward = _forward_unimplemented
    call_super_init = False

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments "
                            f"{args!r} {kwargs!r}: Module.__init__ takes none")
        setattr_ = object.__setattr__
        setattr_(self, "training", True)
        setattr_(self, "_parameters", {})
        setattr_(self, "_buffers", {})
        setattr_(self, "_non_persistent_buffers_set", set())
        setattr_(self, "_modules", {})
        setattr_(self, "_forward_pre_hooks", OrderedDict())
        setattr_(self, "_forward_pre_hooks_with_kwargs", set())
        setattr_(self, "_forward_hooks", OrderedDict())
        setattr_(self, "_forward_hooks_with_kwargs", set())
        setattr_(self, "_forward_hooks_always_called", set())
        setattr_(self, "_backward_hooks", OrderedDict())
        setattr_(self, "_backward_pre_hooks", OrderedDict())
        setattr_(self, "_state_dict_hooks", OrderedDict())
        setattr_(self, "_state_dict_pre_hooks", OrderedDict())
        setattr_(self, "_load_state_dict_pre_hooks", OrderedDict())
        setattr_(self, "_load_state_dict_post_hooks", OrderedDict())

    # ------------------------------------------------------------ registration
    def _check_name(self, name, kind):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain ".", got {name!r}')

    def register_buffer(self, name, tensor, persistent=True):
        """Registers ``tensor`` (or None) as buffer ``name``: saved in ``state_dict`` unless
        ``persistent=False``, moved by ``to()``, never a parameter."""
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, it.Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            f"(interop Tensor or None required)")
        if isinstance(tensor, Buffer):
            persistent = tensor.persistent
            tensor = tensor.as_subclass(it.Tensor)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name, param):
        """Registers ``param`` (a :class:`Parameter`, or None) as parameter ``name``."""
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is None:
            self._parameters[name] = None
            return
        if not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (interop.nn.Parameter or None required)")
        if param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model "
                             f"parameters must be created explicitly. To express '{name}' as a "
                             f"function of another Tensor, compute the value in the forward() "
                             f"method.")
        self._parameters[name] = param

    def add_module(self, name, module):
        """Registers ``module`` (or None) as sub-module ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def _get_by_path(self, target, kind):
        if target == "":
            return self
        mod = self
        *path, last = target.split(".")
        for i, item in enumerate(path):
            if item not in mod._modules or mod._modules[item] is None:
                raise AttributeError(f"{type(mod).__name__} has no attribute `{item}` "
                                     f"(looking up {kind} {target!r})")
            mod = mod._modules[item]
        return mod, last

    def get_submodule(self, target):
        """The sub-module at dotted path ``target`` (``"encoder.layers.0"``)."""
        if target == "":
            return self
        mod, last = self._get_by_path(target, "module")
        sub = mod._modules.get(last)
        if sub is None:
            raise AttributeError(f"{type(mod).__name__} has no attribute `{last}`")
        return sub

    def get_parameter(self, target):
        """The parameter at dotted path ``target`` (``"fc.weight"``)."""
        mod, last = self._get_by_path(target, "parameter")
        if last not in mod._parameters:
            raise AttributeError(f"`{last}` is not an nn.Parameter of {type(mod).__name__}")
        return mod._parameters[last]

    def get_buffer(self, target):
        """The buffer at dotted path ``target`` (``"bn.running_mean"``)."""
        mod, last = self._get_by_path(target, "buffer")
        if last not in mod._buffers:
            raise AttributeError(f"`{last}` is not a buffer of {type(mod).__name__}")
        return mod._buffers[last]

    # ------------------------------------------------------------ attributes
    def __getattr__(self, name):
        d = self.__dict__
        if "_parameters" in d:
            if name in d["_parameters"]:
                return d["_parameters"][name]
            if name in d["_buffers"]:
                return d["_buffers"][name]
            if name in d["_modules"]:
                return d["_modules"][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")

        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            _remove(name, d, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                f"(interop.nn.Parameter or None expected)")
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            _remove(name, d, self._parameters, self._buffers, self._non_persistent_buffers_set)
            self._modules[name] = value
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (interop.nn.Module or None expected)")
            self._modules[name] = value
        elif isinstance(value, Buffer):
            if params is None:
                raise AttributeError("cannot assign buffers before Module.__init__() call")
            _remove(name, d, self._parameters, self._modules)
            self.register_buffer(name, value, value.persistent)
        elif params is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, it.Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                f"(interop Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __delattr__(self, name):
        for dd in ("_parameters", "_buffers", "_modules"):
            store = self.__dict__.get(dd)
            if store is not None and name in store:
                del store[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        keys = set(dir(type(self))) | set(self.__dict__) | set(self._parameters) | \
            set(self._modules) | set(self._buffers)
        return sorted(k for k in keys if not k[0].isdigit())

    def __setstate__(self, state):
        self.__dict__.update(state)

    # ------------------------------------------------------------ traversal
    def _named_members(self, get_members, prefix="", recurse=True, remove_duplicate=True):
        memo = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for k, v in get_members(module):
                if v is None or (remove_duplicate and id(v) in memo):
                    continue
                if remove_duplicate:
                    memo.add(id(v))
                yield (module_prefix + ("." if module_prefix else "") + k), v

    def parameters(self, recurse=True):
        """The module's parameters (and its sub-modules' with ``recurse``), each once."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """``(name, parameter)`` pairs, names as in ``state_dict``."""
        return self._named_members(lambda m: m._parameters.items(), prefix, recurse,
                                   remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members(lambda m: m._buffers.items(), prefix, recurse,
                                   remove_duplicate)

    def children(self):
        for _, m in self.named_children():
            yield m

    def named_children(self):
        memo = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in memo:
                memo.add(id(m))
                yield name, m

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """``(dotted name, module)`` for this module and every sub-module, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from m.named_modules(memo, sub, remove_duplicate)

    # ------------------------------------------------------------ state switches
    def apply(self, fn):
        """Calls ``fn`` on every sub-module (children first) and on this module."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def train(self, mode=True):
        """Training mode (``mode=True``) or evaluation mode, for this module and below."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got "
                             f"{type(mode).__name__}")
        self.training = mode
        for m in self.children():
            m.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clears every parameter's gradient (sets it to None, or zeros it in place)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                g = p.grad
                if g.grad_fn is not None:
                    g = g.detach()
                    p.grad = g
                with it.no_grad():
                    g.zero_()

    # ------------------------------------------------------------ moving
    def _apply(self, fn, recurse=True):
        """Replaces every parameter's and buffer's data with ``fn(data)``. A parameter
        stays the same object when ``fn`` keeps it on its backend (optimizers holding it
        still see it); moved to another backend it becomes a new Parameter."""
        if recurse:
            for m in self.children():
                m._apply(fn)
        for name, p in self._parameters.items():
            if p is None:
                continue
            with it.no_grad():
                new = fn(p.detach())
            self._parameters[name] = _reparent(p, new)
        for name, b in self._buffers.items():
            if b is not None:
                self._buffers[name] = fn(b)
        return self

    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)``, ``to(tensor)``, ``to(device, dtype)``: moves and
        casts parameters and buffers (only floating ones change dtype, as in PyTorch)."""
        device, dtype = _parse_to(args, kwargs)
        if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, "
                            f"but got desired dtype={dtype}")

        def convert(t):
            cast = dtype if dtype is not None and (t.dtype.is_floating_point or
                                                   t.dtype.is_complex) else None
            if device is None and cast is None:
                return t
            return t.to(device=device, dtype=cast)
        return self._apply(convert)

    def cpu(self):
        return self._apply(lambda t: t.cpu())

    def cuda(self, device=None):
        return self._apply(lambda t: t.cuda(device))

    def type(self, dst_type):
        return self._apply(lambda t: t.to(dtype=dst_type))

    def _cast_floating(self, dtype):
        return self._apply(lambda t: t.to(dtype=dtype) if t.dtype.is_floating_point else t)

    def float(self):
        return self._cast_floating(it.float32)

    def double(self):
        return self._cast_floating(it.float64)

    def half(self):
        return self._cast_floating(it.float16)

    def bfloat16(self):
        return self._cast_floating(it.bfloat16)

    def to_empty(self, *, device=None, recurse=True):
        return self._apply(lambda t: it.empty(t.shape, dtype=t.dtype, device=device), recurse)

    def share_memory(self):
        """Moves every parameter and buffer (and existing gradient) into memory shared
        between processes (:meth:`Tensor.share_memory_`): processes forked afterwards, or
        given the module through ``interop.multiprocessing``, train the same weights
        (PyTorch's Hogwild pattern). The cpu backend only; the others raise."""
        for t in itertools.chain(self.parameters(), self.buffers()):
            t.share_memory_()
            if t.grad is not None:
                t.grad.share_memory_()
        return self

    # ------------------------------------------------------------ state_dict
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        extra = type(self).get_extra_state
        if extra is not Module.get_extra_state:
            destination[prefix + "_extra_state"] = self.get_extra_state()

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """Every parameter and persistent buffer by dotted name (PyTorch's keys), detached
        unless ``keep_vars``; tensors share memory with the module."""
        if args:    # PyTorch's deprecated positional form (destination, prefix, keep_vars)
            destination, prefix, keep_vars = (list(args) + [destination, prefix, keep_vars][
                len(args):])[:3]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = {"version": self._version}
        if hasattr(destination, "_metadata"):      # per-module versions, as PyTorch keeps
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination=destination, prefix=prefix + name + ".",
                             keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            result = hook(self, destination, prefix, local_metadata)
            if result is not None:
                destination = result
        return destination

    def get_extra_state(self):
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never "
                           "be called.")

    def set_extra_state(self, state):
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never "
                           "be called.")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """Copies this module's own entries of ``state_dict`` (keys ``prefix + name``) into
        its parameters and persistent buffers; records missing keys and size mismatches."""
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                 error_msgs)
        local = {k: v for k, v in itertools.chain(
            self._parameters.items(),
            ((k, v) for k, v in self._buffers.items()
             if k not in self._non_persistent_buffers_set)) if v is not None}
        assign = local_metadata.get("assign_to_params_buffers", False)
        # load_state_dict defers the copies until every key has been checked, so a failing
        # load changes nothing; called on its own, this method copies as it goes
        deferred = local_metadata.get("interop_pending")
        pending = deferred if deferred is not None else []
        for name, param in local.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            if not isinstance(value, it.Tensor):
                error_msgs.append(f'While copying the parameter named "{key}", expected an '
                                  f'interop Tensor from checkpoint but received '
                                  f'{type(value).__name__}')
                continue
            if tuple(value.shape) != tuple(param.shape):
                error_msgs.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{_size(value.shape)} from checkpoint, the shape in current "
                                  f"model is {_size(param.shape)}.")
                continue
            if assign:
                if isinstance(param, Parameter):
                    value = Parameter(value, requires_grad=param.requires_grad)
                    pending.append(functools.partial(self._parameters.__setitem__, name, value))
                else:
                    pending.append(functools.partial(self._buffers.__setitem__, name, value))
                continue
            pending.append(functools.partial(_copy_into, param, value))
        if deferred is None:
            for copy in pending:
                copy()
        extra_key = prefix + "_extra_state"
        if type(self).set_extra_state is not Module.set_extra_state:
            if extra_key in state_dict:
                self.set_extra_state(state_dict[extra_key])
            elif strict:
                missing_keys.append(extra_key)
        if strict:
            for key in state_dict:
                if key.startswith(prefix) and key != extra_key:
                    rest = key[len(prefix):]
                    head = rest.split(".", 1)[0]
                    if head not in self._modules and rest not in local:
                        unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copies ``state_dict`` (as ``state_dict()`` makes it, or PyTorch's keys) into the
        parameters and buffers. With ``strict``, a missing or unexpected key is an error;
        a shape mismatch always is. Returns ``(missing_keys, unexpected_keys)``."""
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing, unexpected, errors, pending = [], [], [], []
        metadata = getattr(state_dict, "_metadata", None) or {}
        state_dict = OrderedDict(state_dict)

        def load(module, prefix=""):
            local_metadata = dict(metadata.get(prefix[:-1], {}))
            local_metadata["interop_pending"] = pending
            if assign:
                local_metadata["assign_to_params_buffers"] = True
            module._load_from_state_dict(state_dict, prefix, local_metadata, True, missing,
                                         unexpected, errors)
            for name, child in module._modules.items():
                if child is not None:
                    load(child, prefix + name + ".")
            result = _IncompatibleKeys(missing, unexpected)
            for hook in module._load_state_dict_post_hooks.values():
                hook(module, result)

        load(self)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " +
                              ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " +
                              ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors) + "\n\tNothing was loaded.")
        for copy in pending:
            copy()
        return _IncompatibleKeys(missing, unexpected)

    def register_state_dict_pre_hook(self, hook):
        return _add_hook(self._state_dict_pre_hooks, hook)

    def register_state_dict_post_hook(self, hook):
        return _add_hook(self._state_dict_hooks, hook)

    def _register_state_dict_hook(self, hook):
        return _add_hook(self._state_dict_hooks, hook)

    def register_load_state_dict_pre_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` before this module loads its entries."""
        return _add_hook(self._load_state_dict_pre_hooks, functools.partial(hook, self))

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        return _add_hook(self._load_state_dict_pre_hooks,
                         functools.partial(hook, self) if with_module else hook)

    def register_load_state_dict_post_hook(self, hook):
        """``hook(module, incompatible_keys)`` after this module and its children loaded;
        it may clear entries of the key lists to accept them."""
        return _add_hook(self._load_state_dict_post_hooks, hook)

    # ------------------------------------------------------------ hooks
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args)`` (or ``hook(module, args, kwargs)`` with ``with_kwargs``)
        before ``forward``; a non-None return replaces the arguments."""
        handle = _add_hook(self._forward_pre_hooks, hook, prepend)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(handle.id)
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        """``hook(module, args, output)`` (or ``hook(module, args, kwargs, output)``) after
        ``forward``; a non-None return replaces the output."""
        handle = _add_hook(self._forward_hooks, hook, prepend)
        if with_kwargs:
            self._forward_hooks_with_kwargs.add(handle.id)
        if always_call:
            self._forward_hooks_always_called.add(handle.id)
        return handle

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output)`` once the gradients with respect to the
        module's tensor inputs are computed; a non-None return replaces ``grad_input``."""
        return _add_hook(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output)`` when the gradients of the module's outputs are
        known; a non-None return replaces ``grad_output``."""
        return _add_hook(self._backward_pre_hooks, hook, prepend)

    def register_backward_hook(self, hook):
        raise RuntimeError("register_backward_hook is deprecated in PyTorch and not offered: "
                           "use register_full_backward_hook")

    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or
                self._backward_pre_hooks or _global_forward_pre_hooks or
                _global_forward_hooks or _global_backward_hooks or _global_backward_pre_hooks):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args, kwargs):
        for hid, hook in itertools.chain(_global_forward_pre_hooks.items(),
                                         self._forward_pre_hooks.items()):
            if hid in self._forward_pre_hooks_with_kwargs:
                res = hook(self, args, kwargs)
                if res is not None:
                    if not (isinstance(res, tuple) and len(res) == 2):
                        raise RuntimeError(f"forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {res}.")
                    args, kwargs = res
            else:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        bw_hooks = list(_global_backward_hooks.values()) + list(self._backward_hooks.values())
        bw_pre = list(_global_backward_pre_hooks.values()) + \
            list(self._backward_pre_hooks.values())
        state = None
        if (bw_hooks or bw_pre) and it.is_grad_enabled():
            state = _BackwardHookState(self, bw_hooks, bw_pre)
            args = state.wrap_inputs(args)
        called = set()
        try:
            out = self.forward(*args, **kwargs)
            for hid, hook in itertools.chain(_global_forward_hooks.items(),
                                             self._forward_hooks.items()):
                called.add(hid)
                if hid in self._forward_hooks_with_kwargs:
                    res = hook(self, args, kwargs, out)
                else:
                    res = hook(self, args, out)
                if res is not None:
                    out = res
        except Exception:
            for hid in self._forward_hooks_always_called - called:
                hook = self._forward_hooks[hid]
                try:
                    if hid in self._forward_hooks_with_kwargs:
                        hook(self, args, kwargs, None)
                    else:
                        hook(self, args, None)
                except Exception:
                    pass
            raise
        if state is not None:
            out = state.wrap_outputs(out)
        return out

    # ------------------------------------------------------------ repr
    def extra_repr(self):
        """The text between the parentheses of this module's repr (override it)."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, m in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(m), 2))
        main = type(self).__name__ + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def _get_name(self):
        return type(self).__name__


# ---------------------------------------------------------------- helpers

def _size(shape):
    return "interop.Size([" + ", ".join(str(int(d)) for d in shape) + "])"


def _copy_into(param, value):
    """Copies checkpoint tensor ``value`` into ``param`` in place (from any backend)."""
    if value.backend is not param.backend:
        value = value.to(param.device)
    with it.no_grad():
        param.copy_(value)


def _reparent(old, new):
    """The parameter for data ``new`` that replaces parameter ``old``: ``old`` itself (its
    data swapped) when ``new`` stays on its backend, else a new Parameter."""
    if new is old or (new._data is old._data and new._be is old._be):
        return old      # (two backends may share an array type: the same data, moved)
    if new.backend is old.backend:
        old.data = new
        if old._grad is not None and old._grad.dtype != new.dtype:
            old._grad = old._grad.to(dtype=new.dtype)
        return old
    p = Parameter(new, old.requires_grad)
    if old._grad is not None:
        p.grad = old._grad.to(device=new.device, dtype=new.dtype)
    return p


def _parse_to(args, kwargs):
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("copy", None)
    if kwargs:
        raise TypeError(f"Module.to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, it.dtype):
            dtype = a
        elif isinstance(a, it.Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, (str, it.device, int, it.backends.Backend)):
            device = a          # (a Backend: a registered namespace, as Tensor.to takes it)
        elif isinstance(a, bool):
            continue
        else:
            raise TypeError(f"Module.to() expected a device, dtype or tensor, got "
                            f"{type(a).__name__}")
    return device, dtype


# ---------------------------------------------------------------- full backward hooks

class _HookIdentity(it.autograd.Function):
    """Identity on a group of tensors whose backward hands the group's gradients to a
    callback, which may replace them (how full backward hooks see a module's boundary)."""

    @staticmethod
    def forward(ctx, callback, *tensors):
        ctx.callback = callback
        return tuple(t.view_as(t) for t in tensors)

    @staticmethod
    def backward(ctx, *grads):
        res = ctx.callback(grads)
        return (None,) + tuple(res if res is not None else grads)


class _BackwardHookState:
    """One forward call's backward hooks: wraps the tensor inputs and outputs in
    :class:`_HookIdentity` so that the outputs' gradients (for pre-hooks) and then the
    inputs' gradients (for hooks) are seen as groups."""

    def __init__(self, module, hooks, pre_hooks):
        self.module = weakref.ref(module)
        self.hooks = hooks
        self.pre_hooks = pre_hooks
        self.n_inputs = 0
        self.wraps_inputs = False
        self.grad_output = None

    def wrap_inputs(self, args):
        pos = [i for i, a in enumerate(args) if isinstance(a, it.Tensor)]
        self.n_inputs = len(pos)
        if not any(args[i].requires_grad for i in pos):
            return args
        out = _HookIdentity.apply(self._on_input_grads, *(args[i] for i in pos))
        out = out if isinstance(out, tuple) else (out,)
        args = list(args)
        for i, t in zip(pos, out):
            args[i] = t
        self.wraps_inputs = True
        return tuple(args)

    def wrap_outputs(self, out):
        single = isinstance(out, it.Tensor)
        outs = (out,) if single else out
        if not isinstance(outs, tuple):
            return out
        pos = [i for i, o in enumerate(outs) if isinstance(o, it.Tensor) and o.requires_grad]
        if not pos:
            return out
        wrapped = _HookIdentity.apply(self._on_output_grads, *(outs[i] for i in pos))
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        outs = list(outs)
        for i, t in zip(pos, wrapped):
            outs[i] = t
        return outs[0] if single else tuple(outs)

    def _on_output_grads(self, grads):
        module = self.module()
        for hook in self.pre_hooks:
            res = hook(module, grads)
            if res is not None:
                grads = tuple(res) if isinstance(res, (tuple, list)) else (res,)
        self.grad_output = grads
        if not self.wraps_inputs and self.hooks:
            # no input needs a gradient: the hooks run now, with None for every input
            for hook in self.hooks:
                hook(module, (None,) * self.n_inputs, grads)
        return grads

    def _on_input_grads(self, grads):
        module = self.module()
        for hook in self.hooks:
            res = hook(module, grads, self.grad_output)
            if res is not None:
                res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
                if len(res) != len(grads):
                    raise RuntimeError(f"backward hook returned {len(res)} gradients; the "
                                       f"module has {len(grads)} tensor inputs")
                grads = res
        return grads
