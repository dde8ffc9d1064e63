"""Parametrizations built on :mod:`~interop.nn.utils.parametrize`: ``weight_norm``,
``spectral_norm`` and ``orthogonal``, with PyTorch's state_dict layout
(``parametrizations.weight.original0`` / ``original1`` for weight norm's g and v;
``parametrizations.weight.original`` and the power iteration's
``parametrizations.weight.0._u`` / ``_v`` buffers for spectral norm;
``parametrizations.weight.original`` and, with the trivialization, the
``parametrizations.weight.0.base`` buffer for orthogonal)."""

import math

import interop as it
from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from ..modules.module import Module
from . import parametrize

__all__ = ["weight_norm", "spectral_norm", "orthogonal"]

# Layers whose weight is (in, out, ...): spectral_norm's default dim is 1 for them.
_TRANSPOSED = (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)


def _norm_except_dim(v, dim):
    """The 2-norm of ``v`` over every dim but ``dim`` (kept, size 1 elsewhere); over the
    whole tensor (0-d) for ``dim=-1``, as PyTorch's ``norm_except_dim``."""
    if dim == -1:
        return it.linalg.vector_norm(v)
    if not -v.ndim <= dim < v.ndim:
        raise IndexError(f"weight_norm: dim {dim} is out of range for a tensor of shape "
                         f"{tuple(v.shape)}")
    dim %= v.ndim
    axes = tuple(d for d in range(v.ndim) if d != dim)
    return it.linalg.vector_norm(v, axis=axes, keepdims=True)


def _weight_norm(v, g, dim):
    """``g * v / ||v||``, the norm over every dim of ``v`` but ``dim`` (``-1``: all)."""
    return v * (g / _norm_except_dim(v, dim))


class _WeightNorm(Module):
    """``weight = g * v / ||v||``, the norm over all dims but ``dim``."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


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


def _as_matrix(weight, dim):
    """``weight`` as a matrix (size of ``dim``, everything else), ``dim`` moved first."""
    if dim != 0:
        weight = it.permute_dims(weight, (dim,) + tuple(d for d in range(weight.ndim)
                                                        if d != dim))
    return it.reshape(weight, (weight.shape[0], -1))


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
            mat = _as_matrix(weight, self.dim)
            h, w = mat.shape
            self.register_buffer("_u", _normalize(it.randn(h, dtype=mat.dtype,
                                                           device=mat.device), eps))
            self.register_buffer("_v", _normalize(it.randn(w, dtype=mat.dtype,
                                                           device=mat.device), eps))
            self._power_method(mat, 15)

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
        mat = _as_matrix(weight, self.dim)
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
        dim = 1 if isinstance(module, _TRANSPOSED) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


# ------------------------------------------------------------------ orthogonal

_ORTHOGONAL_MAPS = ("matrix_exp", "cayley", "householder")


def _mH(x):
    """The conjugate transpose of the last two dims."""
    t = it.matrix_transpose(x)
    return it.conj(t) if x.dtype.is_complex else t


def _eye_like(x, n, k):
    return it.eye(n, k, dtype=x.dtype, device=x.device)


def _taylor_degree(dtype, theta):
    """The smallest degree ``m`` whose Taylor remainder of ``exp`` at norm ``theta``,
    ``theta**(m+1) / (m+1)!``, is below half the rounding unit of ``dtype``."""
    eps = it.finfo(dtype).eps
    m, term = 1, theta * theta / 2
    while term >= eps / 2:
        m += 1
        term *= theta / (m + 1)
    return m


def _matrix_exp(a):
    """``exp(a)`` for a square matrix or a stack of them, by scaling and squaring: a Taylor
    polynomial (Horner's scheme) of ``a / 2**s``, squared ``s`` times, ``s`` chosen so that
    the scaled matrix has 1-norm at most 1/2 and the degree so that the truncation error is
    below the dtype's rounding (degree 8 in single precision, 14 in double). Only ordinary
    ops are used, so it differentiates through autograd, to any order."""
    theta = 0.5
    n = a.shape[-1]
    with it.no_grad():
        norm = float(it.max(it.sum(it.abs(a.detach()), axis=-2))) if a.size else 0.0
    s = math.ceil(math.log2(norm / theta)) if math.isfinite(norm) and norm > theta else 0
    if s:
        a = a / float(2 ** s)
    eye = _eye_like(a, n, n)
    m = _taylor_degree(a.dtype, theta)
    e = eye + a / m
    for k in range(m - 1, 0, -1):
        e = eye + it.matmul(a, e) / k
    for _ in range(s):
        e = it.matmul(e, e)
    return e


def _householder_product(v, tau):
    """The first ``k`` columns of ``H_1 H_2 ... H_k`` (real ``v`` of shape (..., n, k)),
    ``H_j = I - tau_j w_j w_j^T`` with ``w_j`` zero above row ``j``, one at row ``j`` and
    ``v[j+1:, j]`` below (LAPACK's ``orgqr``; PyTorch's ``linalg.householder_product``)."""
    n, k = v.shape[-2:]
    eye = _eye_like(v, n, k)
    w = it.tril(v, -1) + eye
    tau = it.expand_dims(tau, axis=-1)
    q = eye
    for j in range(k - 1, -1, -1):
        wj = w[..., j:j + 1]                                      # (..., n, 1)
        q = q - it.matmul(wj * tau[..., j:j + 1, :], it.matmul(it.matrix_transpose(wj), q))
    return q


def _geqrf(a):
    """LAPACK's ``geqrf`` of a real tall matrix (or stack): returns ``(r, tau)``, ``r``
    holding R on and above its diagonal and the Householder vectors of
    :func:`_householder_product` below it (reflector ``j`` maps column ``j`` to
    ``beta_j e_j``, ``beta_j`` of the opposite sign to the pivot; ``tau_j = 0`` where the
    column is already zero below the diagonal)."""
    r = it.clone(a)
    n, k = a.shape[-2:]
    taus = []
    for j in range(k):
        alpha, rest = r[..., j, j], r[..., j + 1:, j]
        xnorm = it.linalg.vector_norm(rest, axis=-1)
        done = xnorm == 0
        beta = it.where(done, alpha,
                        -it.copysign(it.sqrt(alpha * alpha + xnorm * xnorm), alpha))
        tau = it.where(done, 0.0, (beta - alpha) / it.where(done, 1.0, beta))
        v = rest / it.expand_dims(it.where(done, 1.0, alpha - beta), axis=-1)
        if j + 1 < k:
            w = it.concat([it.ones(tuple(v.shape[:-1]) + (1,), dtype=v.dtype, device=v.device),
                           v], axis=-1)
            w = it.expand_dims(w, axis=-1)                         # (..., n - j, 1)
            trail = r[..., j:, j + 1:]
            scale = it.expand_dims(it.expand_dims(tau, axis=-1), axis=-1)
            r[..., j:, j + 1:] = trail - it.matmul(w * scale,
                                                   it.matmul(it.matrix_transpose(w), trail))
        r[..., j, j] = beta
        r[..., j + 1:, j] = v
        taus.append(tau)
    return r, it.stack(taus, axis=-1)


def _sgn(x):
    """``x / |x|`` (0 where ``x`` is): the sign of a real tensor, the phase of a complex."""
    if not x.dtype.is_complex:
        return it.sign(x)
    mag = it.abs(x)
    return it.where(mag == 0, it.zeros_like(x), x / it.astype(it.where(mag == 0, 1.0, mag),
                                                                x.dtype))


def _make_orthogonal(a):
    """The Q of ``a = QR`` (``a`` tall) normalized so that R's diagonal is real and
    non-negative: the orthonormal basis Gram-Schmidt would give."""
    q, r = it.linalg.qr(a)
    return q * it.expand_dims(_sgn(it.linalg.diagonal(r)), axis=-2)


def _is_orthogonal(q):
    """``q^H q == I`` to ``10 n`` rounding units of ``q``'s dtype (``q`` tall)."""
    n, k = q.shape[-2:]
    eps = 10.0 * n * it.finfo(q.dtype).eps
    return it.allclose(it.matmul(_mH(q), q), _eye_like(q, k, k), atol=eps)


def _randn_like(x, shape):
    """Standard normal samples of ``shape`` with ``x``'s dtype and device (complex: real and
    imaginary parts of variance 1/2 each, as PyTorch's)."""
    if not x.dtype.is_complex:
        return it.randn(*shape, dtype=x.dtype, device=x.device)
    real = it.finfo(x.dtype).dtype
    re, im = (it.astype(it.randn(*shape, dtype=real, device=x.device) * math.sqrt(0.5),
                        x.dtype) for _ in range(2))
    return re + im * 1j


class _Orthogonal(Module):
    """An orthogonal (unitary, for complex tensors) matrix, or a stack of them, from an
    unconstrained one of the same shape. Wide matrices are handled transposed, as tall
    ``(n, k)`` ones:

    - ``"matrix_exp"`` / ``"cayley"``: the lower triangle, padded with zeros to ``(n, n)``,
      minus its conjugate transpose is a skew-Hermitian ``A``; ``exp(A)`` or
      ``(I - A/2)^{-1} (I + A/2)`` is orthogonal, and its first ``k`` columns are the result;
    - ``"householder"``: the product of the reflectors stored below the diagonal (LAPACK's
      ``geqrf`` layout), its columns' signs taken from the diagonal (+1 or -1; not trained).

    With the trivialization, the result is multiplied on the left by the ``base`` buffer,
    an orthogonal ``(n, n)`` matrix set when a value is assigned (and at registration): the
    original then starts at ``-I``, which every map sends to the identity."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        if weight.dtype.is_complex and orthogonal_map == "householder":
            raise ValueError("The householder parametrization does not support complex "
                             "tensors: use orthogonal_map='matrix_exp' or 'cayley'")
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def extra_repr(self):
        return f"orthogonal_map={self.orthogonal_map!r}"

    def forward(self, x):
        n, k = x.shape[-2:]
        transposed = n < k
        if transposed:
            x = it.matrix_transpose(x)
            n, k = k, n
        if self.orthogonal_map == "householder":
            a = it.tril(x, -1)
            q = _householder_product(a, 2.0 / (1.0 + it.sum(a * a, axis=-2)))
            signs = it.trunc(it.linalg.diagonal(x.detach()))
            q = q * it.expand_dims(signs, axis=-2)
        else:
            x = it.tril(x)
            if n != k:
                x = it.concat([x, it.zeros(tuple(x.shape[:-1]) + (n - k,), dtype=x.dtype,
                                           device=x.device)], axis=-1)
            a = x - _mH(x)
            if self.orthogonal_map == "matrix_exp":
                q = _matrix_exp(a)
            else:
                eye = _eye_like(a, n, n)
                q = it.linalg.solve(eye - a * 0.5, eye + a * 0.5)
            if n != k:
                q = q[..., :k]
        if "base" in self._buffers:
            q = it.matmul(self.base, q)
        return it.matrix_transpose(q) if transposed else q

    def right_inverse(self, q):
        """An original whose image is ``q`` (orthogonal, or orthogonalized by QR): with the
        trivialization, ``base`` becomes ``q`` (completed to a square matrix by random
        columns) and the original ``-I``; without it, ``q``'s Householder QR (the
        ``householder`` map only)."""
        if tuple(q.shape) != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {tuple(q.shape)}.")
        with it.no_grad():
            q0 = q.detach()
            q = q0
            n, k = q.shape[-2:]
            transposed = n < k
            if transposed:
                q = it.matrix_transpose(q)
                n, k = k, n
            if "base" not in self._buffers:
                if self.orthogonal_map != "householder":
                    raise NotImplementedError(
                        f"It is not possible to assign to the matrix exponential or the Cayley "
                        f"parametrizations when use_trivialization=False "
                        f"(orthogonal_map={self.orthogonal_map!r})")
                a, tau = _geqrf(q)
                signs = it.sign(it.linalg.diagonal(a))
                signs = it.where(tau == 0, -signs, signs)
                a = it.where(_eye_like(a, n, k) != 0, it.expand_dims(signs, axis=-2), a)
                return it.matrix_transpose(a) if transposed else a
            if n == k and _is_orthogonal(q):
                q = it.clone(q)
            else:
                if n != k:
                    q = it.concat([q, _randn_like(q, tuple(q.shape[:-1]) + (n - k,))],
                                  axis=-1)
                q = _make_orthogonal(q)
            self.base = q
            return it.zeros(q0.shape, dtype=q0.dtype, device=q0.device) - \
                _eye_like(q0, *q0.shape[-2:])


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Makes ``module.<name>`` (a matrix or a stack of them, shape (..., m, n)) orthogonal,
    unitary if complex: orthonormal columns when ``m >= n``, orthonormal rows otherwise.

    ``orthogonal_map`` is ``"matrix_exp"`` (the default for square or complex matrices),
    ``"cayley"`` or ``"householder"`` (the default otherwise); see :class:`_Orthogonal`.
    With ``use_trivialization`` (default) an extra orthogonal ``base`` buffer,
    ``parametrizations.<name>.0.base`` in the state_dict, holds the current point and the
    original parametrizes a step from it. The initial value is the tensor itself when it is
    orthogonal, else its QR orthogonalization (also for ``"householder"`` without the
    trivialization). Returns ``module``."""
    weight = getattr(module, name, None)
    if not isinstance(weight, it.Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of "
                         f"{weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.shape[-1] == weight.shape[-2]
        orthogonal_map = "matrix_exp" if square or weight.dtype.is_complex else "householder"
    if orthogonal_map not in _ORTHOGONAL_MAPS:
        raise ValueError(f'orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
