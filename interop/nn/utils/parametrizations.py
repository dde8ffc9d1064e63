"""Parametrizations built on :mod:`~interop.nn.utils.parametrize`: ``weight_norm`` and
``spectral_norm``, with PyTorch's state_dict layout (``parametrizations.weight.original0`` /
``original1`` for weight norm's g and v; ``parametrizations.weight.original`` and the power
iteration's ``parametrizations.weight.0._u`` / ``_v`` buffers for spectral norm)."""

import interop as it
from ..modules.module import Module
from . import parametrize

__all__ = ["weight_norm", "spectral_norm"]

# Layers whose weight is (in, out, ...): spectral_norm's default dim is 1 for them.
_TRANSPOSED = ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")


def _norm_except_dim(v, dim):
    """The 2-norm of ``v`` over every dim but ``dim`` (kept, size 1 elsewhere); over the
    whole tensor (0-d) for ``dim=-1``, as PyTorch's ``norm_except_dim``."""
    if dim == -1:
        return it.linalg.vector_norm(v)
    axes = tuple(d for d in range(v.ndim) if d != dim)
    return it.linalg.vector_norm(v, axis=axes, keepdims=True)


class _WeightNorm(Module):
    """``weight = g * v / ||v||``, the norm over all dims but ``dim``."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def _dim(self, v):
        if self.dim == -1:
            return -1
        if not -v.ndim <= self.dim < v.ndim:
            raise IndexError(f"weight_norm: dim {self.dim} is out of range for a tensor of shape "
                             f"{tuple(v.shape)}")
        return self.dim % v.ndim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / _norm_except_dim(weight_v, self._dim(weight_v)))

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self._dim(weight)), weight


def weight_norm(module, name="weight", dim=0):
    """Reparametrizes ``module.<name>`` as magnitude ``g`` times direction ``v / ||v||``
    (norms over every dim but ``dim``; ``dim=None``: one norm over the whole tensor).
    ``g`` and ``v`` are ``parametrizations.<name>.original0`` and ``original1``; a state_dict
    saved by the old ``nn.utils.weight_norm`` (``<name>_g``, ``<name>_v``) loads too."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def old_keys(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                 error_msgs):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(old_keys)
    return module


def _normalize(x, eps):
    """``x / max(||x||, eps)`` for a vector."""
    return x / it.clamp(it.linalg.vector_norm(x), min=eps)


class _SpectralNorm(Module):
    """``weight / sigma``, ``sigma`` the largest singular value of the weight (as a matrix
    with ``dim`` first), estimated by power iteration: ``n_power_iterations`` steps per
    forward in training mode, refining the ``_u`` / ``_v`` buffers."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if not -ndim <= dim < ndim:
            raise IndexError(f"spectral_norm: dimension out of range (expected to be in range "
                             f"of [{-ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: expected n_power_iterations to be positive, got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim % ndim if ndim else 0
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            mat = self._matrix(weight)
            h, w = mat.shape
            self.register_buffer("_u", _normalize(it.randn(h, dtype=mat.dtype,
                                                           device=mat.device), eps))
            self.register_buffer("_v", _normalize(it.randn(w, dtype=mat.dtype,
                                                           device=mat.device), eps))
            self._power_method(mat, 15)

    def _matrix(self, weight):
        """The weight as (size of ``dim``, everything else)."""
        if self.dim != 0:
            weight = it.permute_dims(weight, (self.dim,) + tuple(
                d for d in range(weight.ndim) if d != self.dim))
        return it.reshape(weight, (weight.shape[0], -1))

    def _power_method(self, mat, steps):
        """``steps`` power-iteration steps, written into ``_u`` and ``_v`` in place."""
        with it.no_grad():
            mat = mat.detach()
            for _ in range(steps):
                self._u.copy_(_normalize(it.matmul(mat, self._v), self.eps))
                self._v.copy_(_normalize(it.matmul(self._u, mat), self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return _normalize(weight, self.eps)
        mat = self._matrix(weight)
        if self.training:
            self._power_method(mat, self.n_power_iterations)
        u, v = it.clone(self._u), it.clone(self._v)
        sigma = it.vecdot(u, it.matmul(mat, v))
        return weight / sigma

    def right_inverse(self, value):
        # the stored original is taken as already normalized (PyTorch's convention)
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divides ``module.<name>`` by its spectral norm (largest singular value), estimated by
    ``n_power_iterations`` power-iteration steps per training-mode access. ``dim`` (default
    0, or 1 for transposed convolutions) is the output dim, moved first before the weight is
    flattened to a matrix."""
    weight = getattr(module, name, None)
    if not isinstance(weight, it.Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        transposed = any(c.__name__ in _TRANSPOSED for c in type(module).__mro__)
        dim = 1 if transposed else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
