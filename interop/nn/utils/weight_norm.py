"""The original weight normalization, PyTorch's deprecated ``nn.utils.weight_norm``:
``module.weight`` is replaced by parameters ``weight_g`` (magnitude) and ``weight_v``
(direction), and a forward pre-hook recomputes ``weight = g * v / ||v||`` as a plain
attribute before every call. The state_dict keys (``weight_g``, ``weight_v``) are PyTorch's.
New code should use :func:`interop.nn.utils.parametrizations.weight_norm`, which also loads
these checkpoints."""

import warnings

from .._lazy import UninitializedParameter
from ..parameter import Parameter
from .parametrizations import _norm_except_dim, _weight_norm

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]


class WeightNorm:
    """The forward pre-hook of :func:`weight_norm`: recomputes ``module.<name>`` from
    ``<name>_g`` and ``<name>_v``, the norm over every dim but ``dim`` (``-1``: all)."""

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        return _weight_norm(getattr(module, self.name + "_v"),
                            getattr(module, self.name + "_g"), self.dim)

    @staticmethod
    def apply(module, name, dim):
        """Splits ``module.<name>`` into ``<name>_g`` and ``<name>_v`` and registers the hook."""
        warnings.warn("`interop.nn.utils.weight_norm` is deprecated in favor of "
                      "`interop.nn.utils.parametrizations.weight_norm`.", FutureWarning,
                      stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same "
                                   f"parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        if isinstance(weight, UninitializedParameter):
            raise ValueError("The module passed to `WeightNorm` can't have uninitialized "
                             "parameters. Make sure to run the dummy forward before applying "
                             "weight normalization")
        if name not in module._parameters:
            raise KeyError(f"weight_norm: '{name}' is not a parameter of "
                           f"{type(module).__name__}")
        g = _norm_except_dim(weight, fn.dim)        # checks dim before anything changes
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(g.detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        """Puts back ``module.<name>`` as one parameter holding the current weight."""
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Reparametrizes parameter ``module.<name>`` as magnitude ``<name>_g`` times direction
    ``<name>_v / ||<name>_v||``, recomputed before every forward; the norm runs over every
    dim but ``dim`` (``dim=None``: one norm over the whole tensor). Deprecated, as in
    PyTorch (a FutureWarning): prefer :func:`~interop.nn.utils.parametrizations.weight_norm`.
    Returns ``module``."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Undoes :func:`weight_norm` on ``module.<name>``: one parameter again, holding the
    current normalized weight. Returns ``module``."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
