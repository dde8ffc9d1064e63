"""The original spectral normalization, PyTorch's ``nn.utils.spectral_norm``: parameter
``module.weight`` becomes ``weight_orig``, buffers ``weight_u`` and ``weight_v`` hold the
power iteration's singular-vector estimates, and a forward pre-hook sets the plain attribute
``module.weight = weight_orig / sigma`` before every call (one or more power-iteration steps
first, in training mode only). State_dict keys and the loading of older checkpoints (those
that stored ``weight`` but no ``weight_v``) are PyTorch's. New code should use
:func:`interop.nn.utils.parametrizations.spectral_norm`."""

import interop as it
from .._lazy import UninitializedParameter
from ..parameter import Parameter
from .parametrizations import _TRANSPOSED, _as_matrix, _normalize

__all__ = ["SpectralNorm", "SpectralNormLoadStateDictPreHook", "SpectralNormStateDictHook",
           "spectral_norm", "remove_spectral_norm"]


class SpectralNorm:
    """The forward pre-hook of :func:`spectral_norm`: ``module.<name>`` from
    ``<name>_orig`` divided by ``sigma = u . (W v)``, ``W`` the weight as a matrix with
    ``dim`` first; in training mode ``n_power_iterations`` steps refine ``<name>_u`` and
    ``<name>_v`` in place before."""

    _version = 1     # 1: ``<name>_v`` is stored; 0 (older checkpoints): it is solved for

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name = name
        self.dim = dim
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight):
        return _as_matrix(weight, self.dim)

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with it.no_grad():
                m = mat.detach()
                for _ in range(self.n_power_iterations):
                    v.copy_(_normalize(it.matmul(u, m), self.eps))
                    u.copy_(_normalize(it.matmul(m, v), self.eps))
        # copies: the buffers change in place at the next training-mode call, and the
        # graph of this weight must not see that
        u, v = it.clone(u), it.clone(v)
        return weight / it.dot(u, it.matmul(mat, v))

    def remove(self, module):
        """Puts back ``module.<name>`` as one parameter holding the current weight."""
        with it.no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, module.training))

    def _solve_v_and_rescale(self, mat, u, target_sigma):
        """The ``v`` with ``W^T W v = W^T u`` (least squares), scaled so that
        ``u . (W v) = target_sigma``: how a version-0 checkpoint's ``v`` is recovered."""
        mt = it.matrix_transpose(mat)
        v = it.matmul(it.matmul(it.linalg.pinv(it.matmul(mt, mat)), mt), u)
        return v * (target_sigma / it.dot(u, it.matmul(mat, v)))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        """Moves parameter ``module.<name>`` to ``<name>_orig``, adds the ``_u``/``_v``
        buffers (random unit vectors) and registers the hooks."""
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same "
                                   f"parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        if name not in module._parameters:
            raise KeyError(f"spectral_norm: '{name}' is not a parameter of "
                           f"{type(module).__name__}")
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        if isinstance(weight, UninitializedParameter):
            raise ValueError("The module passed to `SpectralNorm` can't have uninitialized "
                             "parameters. Make sure to run the dummy forward before applying "
                             "spectral normalization")
        if not -max(weight.ndim, 1) <= dim < max(weight.ndim, 1):
            raise IndexError(f"spectral_norm: dimension out of range (expected to be in range "
                             f"of [{-max(weight.ndim, 1)}, {max(weight.ndim, 1) - 1}] but got "
                             f"{dim})")
        with it.no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).shape
            u = _normalize(it.randn(h, dtype=weight.dtype, device=weight.device), eps)
            v = _normalize(it.randn(w, dtype=weight.dtype, device=weight.device), eps)
        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, weight.detach())
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        module._register_state_dict_hook(SpectralNormStateDictHook(fn))
        module._register_load_state_dict_pre_hook(SpectralNormLoadStateDictPreHook(fn))
        return fn


class SpectralNormLoadStateDictPreHook:
    """Upgrades a version-0 checkpoint while it loads: one holding ``<name>_orig``, the
    normalized ``<name>`` and ``<name>_u`` but no ``<name>_v``. Its ``sigma`` is the mean
    ratio of the two weights and ``<name>_v`` is solved for (see ``_solve_v_and_rescale``).
    The version is read from the state_dict's metadata; without metadata, a checkpoint with
    all three of ``_orig``, ``_u``, ``_v`` and no ``<name>`` is taken as current."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, state_dict, prefix, local_metadata, strict, missing_keys,
                 unexpected_keys, error_msgs):
        fn = self.fn
        version = local_metadata.get("spectral_norm", {}).get(fn.name + ".version", None)
        if version is not None and version >= 1:
            return
        key = prefix + fn.name
        if version is None and key not in state_dict and \
                all(key + s in state_dict for s in ("_orig", "_u", "_v")):
            return
        missing = [key + s for s in ("_orig", "", "_u") if key + s not in state_dict]
        if missing:
            if strict:
                missing_keys.extend(missing)
            return
        with it.no_grad():
            weight_orig = state_dict[key + "_orig"]
            sigma = it.mean(weight_orig / state_dict.pop(key))
            mat = fn.reshape_weight_to_matrix(weight_orig)
            state_dict[key + "_v"] = fn._solve_v_and_rescale(mat, state_dict[key + "_u"], sigma)


class SpectralNormStateDictHook:
    """Records ``spectral_norm``'s format version in the module's state_dict metadata
    (``local_metadata["spectral_norm"]["<name>.version"]``), as PyTorch does."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, module, state_dict, prefix, local_metadata):
        versions = local_metadata.setdefault("spectral_norm", {})
        key = self.fn.name + ".version"
        if key in versions:
            raise RuntimeError(f"Unexpected key in metadata['spectral_norm']: {key}")
        versions[key] = self.fn._version


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divides parameter ``module.<name>`` by its spectral norm (largest singular value),
    estimated by ``n_power_iterations`` power-iteration steps before every training-mode
    forward; ``dim`` (default 0, or 1 for transposed convolutions) is the output dim, moved
    first before the weight is flattened to a matrix. Returns ``module``."""
    if dim is None:
        dim = 1 if isinstance(module, _TRANSPOSED) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undoes :func:`spectral_norm` on ``module.<name>``: one parameter again, holding the
    current normalized weight (no power-iteration step), and the hooks removed. Returns
    ``module``."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            break
    else:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    for hooks, cls in ((module._state_dict_hooks, SpectralNormStateDictHook),
                       (module._load_state_dict_pre_hooks, SpectralNormLoadStateDictPreHook)):
        for key, hook in hooks.items():
            if isinstance(hook, cls) and hook.fn.name == name:
                del hooks[key]
                break
    return module
