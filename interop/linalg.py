"""``interop.linalg``: the standard's linear-algebra extension, with gradients, and
PyTorch's spellings of it (``torch.linalg``: ``dim``/``keepdim``, ``ord`` and
``full_matrices`` positional, ``UPLO``, ``hermitian``, ``atol``, ``left``, and ``norm``). The
two agree on every result but one (``solve`` of a batch of vectors: the standard's rule, see
``solve``), so this module is both ``interop.linalg`` and ``interop.array_api.linalg``.

The decompositions run in the backend's ``linalg``. Every function has PyTorch's
gradient, in its convention (conjugate Wirtinger for complex inputs), differentiable again
to any order:

* single-output functions (inv, det, solve, cholesky, eigvalsh, eigvals, svdvals, pinv)
  save the input and recompute the factorization in backward, with whatever namespace
  backward runs on: the backend's for a first derivative, interop's under
  ``create_graph``;
* the multi-output decompositions (eigh, eig, svd, qr, complex slogdet) are one node
  each, saving the input and the outputs; under ``create_graph`` the outputs are wired to
  that node, so the second derivative sees a single factorization.

Where a gradient is not defined, backward raises and says why instead of returning one
choice of it: a loss that depends on the arbitrary phase of complex eigen/singular
vectors, or on the extra (arbitrary-basis) columns of ``svd(full_matrices=True)`` /
``qr(mode="complete")`` of a non-square matrix. Repeated eigenvalues or singular values
give inf/NaN, as PyTorch's.
"""

import math
from collections import namedtuple

from . import dtypes as _dt
from ._args import norm_dims
from ._ops.binary import maximum as _maximum, multiply, subtract
from ._ops.join import stack
from ._ops.matmul import matmul, outer, tensordot, _common_dtype, _vector_norm
from ._ops.matmul import vecdot as _vecdot
from ._ops.rearrange import diagonal as _diagonal
from ._ops.reduce import sum as _sum, max as _max, min as _min
from ._ops.cast import astype
from ._ops.unary import abs as _abs, sqrt as _sqrt, conj as _conj
from ._ops.views import matrix_transpose, moveaxis, unsqueeze
from .autograd.graph import Node, Output
from .autograd.grad_mode import state as grad_state
from .autograd.variable import Variable, record

__all__ = ["cholesky", "cross", "det", "diagonal", "eig", "eigh", "eigvals", "eigvalsh", "inv",
           "matmul", "matrix_norm", "matrix_power", "matrix_rank", "matrix_transpose", "outer",
           "pinv", "qr", "slogdet", "solve", "svd", "svdvals", "tensordot", "trace", "vecdot",
           "vector_norm", "norm", "EighResult", "QRResult", "SlogdetResult", "SVDResult", "EigResult"]

EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
EigResult = namedtuple("EigResult", ["eigenvalues", "eigenvectors"])
QRResult = namedtuple("QRResult", ["Q", "R"])
SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])


# ------------------------------------------------------------------ helpers

def _floating(x, op):
    if not isinstance(x, Variable):
        raise TypeError(f"linalg.{op}: expected a Tensor, got {type(x).__name__}")
    dt = x.dtype
    if not (dt.is_floating_point or dt.is_complex):
        raise TypeError(f"linalg.{op}: expected a floating-point tensor, got {dt}")
    return x


def _matrices(x, op, square=True):
    _floating(x, op)
    shape = tuple(x._data.shape)
    if len(shape) < 2 or (square and shape[-1] != shape[-2]):
        raise ValueError(f"linalg.{op}: expected a {'square ' if square else ''}matrix or a "
                         f"stack of them (shape (..., M, {'M' if square else 'N'})), got shape "
                         f"{shape}")
    return x


def _is_complex(xp, a):
    dt = a.dtype
    return dt.is_complex if isinstance(dt, _dt.dtype) else xp.isdtype(dt, "complex floating")


def _mH(xp, a):
    """The conjugate transpose of the last two dims."""
    t = xp.matrix_transpose(a)
    return xp.conj(t) if _is_complex(xp, a) else t


def _eye_like(xp, a):
    return xp.eye(a.shape[-1], dtype=a.dtype, device=a.device)


def _run(x, fn, op, *more):
    """``fn(the backend's linalg, x's data, *more)``, with the backend's own errors
    (LinAlgError...) turned into a ValueError that names the function."""
    try:
        return fn(x._be.xp.linalg, x._data, *more)
    except (ValueError, TypeError, RuntimeError):
        raise
    except Exception as e:     # LinAlgError and the like: the backend's words, named here
        raise ValueError(f"linalg.{op}: {type(e).__name__}: {e}") from None


def _recorded(x, data, cls, op_inputs=None, **attrs):
    """A tensor over ``data``, recorded with ``cls`` (its fields set from ``attrs``) saving
    the inputs (recomputed in backward) when a graph is needed."""
    inputs = op_inputs or (x,)
    if not grad_state.enabled or all(t._node is None for t in inputs):
        return x._make(data, x._be, None)
    node = record(cls, x._be, inputs, inputs, tuple(t._data for t in inputs))
    for name, value in attrs.items():
        setattr(node, name, value)
    return x._make(data, x._be, node)


def _outputs(x, datas, cls, **attrs):
    """Tensors over ``datas``, the outputs of one ``cls`` node that saves ``x`` and the
    outputs (``s = (a, *outputs)`` in backward, named by the class's ``saves``; under
    ``create_graph`` the outputs are wired to this node, so a second derivative sees one
    factorization, not two whose arbitrary phases would have to agree). Backward gets one
    gradient per output, ``None`` for the outputs nothing used."""
    if not grad_state.enabled or x._node is None:
        return tuple(x._make(d, x._be, None) for d in datas)
    node = record(cls, x._be, (x,), (x,) + tuple(Output(k) for k in range(len(datas))),
                  (x._data,) + tuple(datas))
    node.nout = len(datas)
    for name, value in attrs.items():
        setattr(node, name, value)
    outs = []
    for i, d in enumerate(datas):
        t = x._make(d, x._be, (node, i))
        t._oidx = i
        outs.append(t)
    return tuple(outs)


# --- pieces of the backward formulas, for both namespaces backward runs on

def _diag(xp, a):
    return xp.linalg.diagonal(a)


def _diag_embed(xp, v, like):
    """The matrices with ``v`` on the diagonal, in ``like``'s dtype."""
    return _eye_like(xp, like) * xp.expand_dims(v, axis=-2)


def _off_diagonal(xp, a):
    return a * (1 - _eye_like(xp, a))


def _real(xp, a):
    return xp.real(a) if _is_complex(xp, a) else a


def _skew(xp, a):
    return a - _mH(xp, a)


def _host_max_abs(xp, a):
    """``max |a|`` as a Python float (0 for an empty ``a``)."""
    if math.prod(a.shape) == 0:
        return 0.0
    return float(xp.max(xp.abs(a)))


def _check_phase_free(xp, im_diag, refs, what):
    """Complex eigen/singular vectors are defined up to a phase each (``v -> v e^{i phi}``).
    A loss that depends on those phases has no gradient: then ``Im diag(V^H gV)`` is not
    zero (next to the size of ``refs``, the ``V^H gV`` matrices) and backward raises, as
    PyTorch's does, rather than pick one phase silently."""
    scale = max(_host_max_abs(xp, r) for r in refs)
    eps = 1.2e-7 if refs[0].dtype == xp.complex64 else 2.3e-16
    if scale and _host_max_abs(xp, im_diag) > math.sqrt(eps) * scale:
        raise RuntimeError(
            f"linalg.{what}: the loss depends on the phase of the complex singular or "
            f"eigenvectors, which is arbitrary (v -> v e^(i phi) is as valid), so it has no "
            f"gradient; use phase-free quantities such as abs(v), or U @ Vh")


# ------------------------------------------------------------------ inverse, solve, det

class InvBackward(Node):
    __slots__ = ()
    saves = ("a",)

    def backward(self, xp, g, s):
        yh = _mH(xp, xp.linalg.inv(s.a))
        return -xp.matmul(xp.matmul(yh, g), yh),


def inv(x, /):
    """The inverse of each square matrix (a ValueError for a singular one)."""
    _matrices(x, "inv")
    return _recorded(x, _run(x, lambda la, a: la.inv(a), "inv"), InvBackward)


class SolveBackward(Node):
    __slots__ = ("vector",)
    saves = ("a", "b")

    def backward(self, xp, g, s):
        a, b = s.a, s.b
        if self.vector:                                  # b: (M,), solved as (M, 1)
            b = xp.expand_dims(b, axis=-1)
            g = xp.expand_dims(g, axis=-1)
        x = xp.linalg.solve(a, b)
        gb = xp.linalg.solve(_mH(xp, a), g)
        ga = -xp.matmul(gb, _mH(xp, x))
        if self.vector:
            gb = xp.sum_to(xp.reshape(gb, tuple(gb.shape[:-1])), tuple(s.b.shape))
        else:
            gb = xp.sum_to(gb, tuple(s.b.shape))
        return xp.sum_to(ga, tuple(s.a.shape)), gb


def solve(x1, x2, /, *, left=True):
    """``X`` with ``x1 @ X == x2`` for square ``x1`` (``left=False``: ``X @ x1 == x2``);
    ``x2`` is a vector only when it is 1-d (the standard's rule; PyTorch also reads an
    ``x2`` of shape ``x1.shape[:-1]`` as a batch of vectors), else a stack of matrices;
    batch dims broadcast."""
    if not left:                           # X A = B  <=>  A^T X^T = B^T
        return matrix_transpose(solve(matrix_transpose(x1), matrix_transpose(x2)))
    _matrices(x1, "solve")
    _floating(x2, "solve")
    x1, x2 = _common_dtype(x1, x2)
    vector = x2._data.ndim == 1
    xp = x1._be.xp
    b = xp.expand_dims(x2._data, axis=-1) if vector else x2._data
    if b.shape[-2] != x1._data.shape[-1]:
        raise ValueError(f"linalg.solve: x1 of shape {tuple(x1._data.shape)} and x2 of shape "
                         f"{tuple(x2._data.shape)}: x2 must have {x1._data.shape[-1]} rows")
    data = _run(x1, lambda la, a, bd: la.solve(a, bd), "solve", b)
    if vector:
        data = xp.reshape(data, tuple(data.shape[:-1]))
    return _recorded(x1, data, SolveBackward, (x1, x2), vector=vector)


class DetBackward(Node):
    __slots__ = ()
    saves = ("a",)

    def backward(self, xp, g, s):
        a = s.a
        d = xp.linalg.det(a)
        c = g * (xp.conj(d) if _is_complex(xp, a) else d)
        return xp.expand_dims(xp.expand_dims(c, axis=-1), axis=-1) * _mH(xp, xp.linalg.inv(a)),


def det(x, /):
    """The determinant of each square matrix. Its gradient needs the inverse: at a singular
    matrix backward raises."""
    _matrices(x, "det")
    return _recorded(x, _run(x, lambda la, a: la.det(a), "det"), DetBackward)


class LogAbsDetBackward(Node):
    __slots__ = ()
    saves = ("a",)

    def backward(self, xp, g, s):
        g = xp.expand_dims(xp.expand_dims(g, axis=-1), axis=-1)
        return g * _mH(xp, xp.linalg.inv(s.a)),


class SlogdetBackward(Node):
    """Both outputs of a complex slogdet: with ``log det = logabsdet + i theta`` and
    ``sign = e^(i theta)``, the gradient is ``c A^-H`` for ``c = g_logabsdet -
    i Im(conj(g_sign) sign)`` (conjugate Wirtinger)."""
    __slots__ = ()
    saves = ("a", "sign", "logabsdet")

    def backward(self, xp, g, s):
        gsign, glog = g
        a, sign = s.a, s.sign
        c = 0
        if glog is not None:
            c = xp.astype(glog, a.dtype)
        if gsign is not None:
            c = c - xp.astype(xp.imag(xp.conj(gsign) * sign), a.dtype) * 1j
        c = xp.expand_dims(xp.expand_dims(c, axis=-1), axis=-1)
        return c * _mH(xp, xp.linalg.inv(a)),


def slogdet(x, /):
    """``(sign, logabsdet)`` of each square matrix: the determinant is
    ``sign * exp(logabsdet)``, without overflow. Both are differentiable for complex
    matrices; a real sign is piecewise constant (no gradient)."""
    _matrices(x, "slogdet")
    sign, logabs = _run(x, lambda la, a: la.slogdet(a), "slogdet")
    if x.dtype.is_complex:
        return SlogdetResult(*_outputs(x, (sign, logabs), SlogdetBackward))
    return SlogdetResult(x._make(sign, x._be, None), _recorded(x, logabs, LogAbsDetBackward))


# ------------------------------------------------------------------ factorizations

class CholeskyBackward(Node):
    __slots__ = ("upper",)
    saves = ("a",)

    def backward(self, xp, g, s):
        a = s.a
        low = xp.linalg.cholesky(a)
        gl = _mH(xp, g) if self.upper else g
        phi = xp.matmul(_mH(xp, low), gl)
        phi = xp.tril(phi, k=-1) + 0.5 * xp.triu(xp.tril(phi))
        li = xp.linalg.inv(low)
        ga = xp.matmul(xp.matmul(_mH(xp, li), phi), li)
        return 0.5 * (ga + _mH(xp, ga)),


def cholesky(x, /, *, upper=False):
    """The Cholesky factor of each Hermitian positive-definite matrix: lower ``L`` with
    ``x = L @ L^H`` (``upper=True``: ``U = L^H``). Only the lower triangle of ``x`` is read."""
    _matrices(x, "cholesky")
    data = _run(x, lambda la, a: la.cholesky(a), "cholesky")
    if upper:
        data = x._be.xp.matrix_transpose(data)
        if x.dtype.is_complex:
            data = x._be.xp.conj(data)
    return _recorded(x, data, CholeskyBackward, upper=upper)


class EigvalshBackward(Node):
    __slots__ = ()
    saves = ("a",)

    def backward(self, xp, g, s):
        w, v = xp.linalg.eigh(s.a)
        return xp.matmul(v * xp.expand_dims(g, axis=-2), _mH(xp, v)),


class EighBackward(Node):
    """Both outputs of eigh (PyTorch's formula): ``V (diag(gL) + skew(V^H gV) / 2E) V^H``
    with ``E[i, j] = L[j] - L[i]``, a Hermitian gradient. Distinct eigenvalues; complex
    eigenvectors through a loss free of their phases."""
    __slots__ = ()
    saves = ("a", "eigenvalues", "eigenvectors")

    def backward(self, xp, g, s):
        gl, gv = g
        w, v = s.eigenvalues, s.eigenvectors
        vh = _mH(xp, v)
        if gv is None:
            inner = _diag_embed(xp, gl, v)
        else:
            k = xp.matmul(vh, gv)
            if _is_complex(xp, k):
                _check_phase_free(xp, xp.imag(_diag(xp, k)), (k,), "eigh")
            e = xp.expand_dims(w, axis=-2) - xp.expand_dims(w, axis=-1)
            eye = _eye_like(xp, e)
            inner = _off_diagonal(xp, _skew(xp, k) / (2 * (e + eye)))
            if gl is not None:
                inner = inner + _diag_embed(xp, gl, inner)
        return xp.matmul(xp.matmul(v, inner), vh),


def _triangle(x, uplo, op):
    """The Hermitian matrix read from the lower (``"L"``) or upper (``"U"``) triangle: the
    backends read the lower one, so the upper is given as the lower of ``x^H``."""
    if uplo not in ("L", "U"):
        raise ValueError(f"linalg.{op}: UPLO must be 'L' or 'U', got {uplo!r}")
    if uplo == "L":
        return x
    _matrices(x, op)
    return matrix_transpose(_conj(x))


def eigh(x, /, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors of each Hermitian matrix (its lower triangle
    is read, the upper with ``UPLO="U"``). Eigenvector gradients assume distinct eigenvalues,
    as PyTorch's; for complex matrices the loss must not depend on the (arbitrary) phase of
    each eigenvector."""
    x = _triangle(x, UPLO, "eigh")
    _matrices(x, "eigh")
    w, v = _run(x, lambda la, a: la.eigh(a), "eigh")
    return EighResult(*_outputs(x, (w, v), EighBackward))


def eigvalsh(x, /, UPLO="L"):
    """The eigenvalues (ascending) of each Hermitian matrix (``UPLO``: as ``eigh``)."""
    x = _triangle(x, UPLO, "eigvalsh")
    _matrices(x, "eigvalsh")
    return _recorded(x, _run(x, lambda la, a: la.eigvalsh(a), "eigvalsh"), EigvalshBackward)


def _eig_backward(xp, a, w, v, gl, gv):
    """PyTorch's formula for a general ``A V = V diag(L)`` (columns of V of norm 1):
    ``V^-H (diag(gL) + K / conj(E)) V^H`` with ``K = V^H gV - V^H V diag(Re diag(V^H gV))``
    (the norm constraint) and ``E[i, j] = L[j] - L[i]``; for a real ``A`` its real part."""
    vh = _mH(xp, v)
    if gv is None:
        inner = _diag_embed(xp, gl, v)
    else:
        k = xp.matmul(vh, gv)
        d = _diag(xp, k)
        _check_phase_free(xp, xp.imag(d), (k,), "eig")
        k = k - xp.matmul(vh, v) * xp.expand_dims(xp.real(d), axis=-2)
        wc = xp.conj(w)
        e = xp.expand_dims(wc, axis=-2) - xp.expand_dims(wc, axis=-1)
        inner = _off_diagonal(xp, k / (e + _eye_like(xp, e)))
        if gl is not None:
            inner = inner + _diag_embed(xp, gl, inner)
    ga = xp.linalg.solve(vh, xp.matmul(inner, vh))
    return ga if _is_complex(xp, a) else xp.real(ga)


class EigBackward(Node):
    __slots__ = ()
    saves = ("a", "eigenvalues", "eigenvectors")

    def backward(self, xp, g, s):
        return _eig_backward(xp, s.a, s.eigenvalues, s.eigenvectors, *g),


class EigvalsBackward(Node):
    __slots__ = ()
    saves = ("a",)

    def backward(self, xp, g, s):
        w, v = xp.linalg.eig(s.a)
        return _eig_backward(xp, s.a, w, v, g, None),


def eig(x, /):
    """Eigenvalues and eigenvectors (columns of norm 1) of each square matrix, complex.
    Differentiable for distinct eigenvalues; the loss must not depend on the (arbitrary)
    phase of each eigenvector."""
    _matrices(x, "eig")
    w, v = _run(x, lambda la, a: la.eig(a), "eig")
    return EigResult(*_outputs(x, (w, v), EigBackward))


def eigvals(x, /):
    """Eigenvalues of each square matrix, complex. Differentiable for distinct ones."""
    _matrices(x, "eigvals")
    return _recorded(x, _run(x, lambda la, a: la.eigvals(a), "eigvals"), EigvalsBackward)


class SvdvalsBackward(Node):
    __slots__ = ()
    saves = ("a",)

    def backward(self, xp, g, s):
        u, _, vh = xp.linalg.svd(s.a, full_matrices=False)
        return xp.matmul(u * xp.expand_dims(g, axis=-2), vh),


def _no_driver(driver, op):
    if driver is not None:
        raise ValueError(f"linalg.{op}: driver= chooses a cuSOLVER routine in PyTorch; interop "
                         f"runs the backend's own ({driver!r} given); leave it None")


def svdvals(x, /, *, driver=None):
    """The singular values of each matrix, descending."""
    _no_driver(driver, "svdvals")
    _matrices(x, "svdvals", square=False)
    return _recorded(x, _run(x, lambda la, a: la.svdvals(a), "svdvals"), SvdvalsBackward)


def _unused_extra(xp, g, part, what):
    """The gradient of the columns (rows) a full ``svd``/complete ``qr`` adds: they are an
    arbitrary basis of the complement, so a loss may not depend on them. Zero is ignored
    (a loss that reads only the first columns); anything else raises."""
    if _host_max_abs(xp, part) != 0.0:
        raise RuntimeError(f"linalg.{what}: the loss depends on the extra columns of a "
                           f"full/complete factorization, which are an arbitrary basis (not "
                           f"a function of the input), so it has no gradient; use "
                           f"full_matrices=False / mode='reduced' or only the leading columns")
    return g


class SvdBackward(Node):
    """All three outputs of svd (reduced; a full one's extra columns must not be used).
    With ``J = U^H gU``, ``K = V^H gV``, ``E[i, j] = S[j]^2 - S[i]^2``:
    ``U ((skew(J) S + S skew(K)) / E + diag(gS + i Im(diag(J - K)) / 2S)) V^H``, plus the
    parts of gU (tall) or gV (wide) outside the span. Distinct nonzero singular values;
    for complex matrices a loss free of the phases of the singular vector pairs."""
    __slots__ = ()
    saves = ("a", "U", "S", "Vh")

    def backward(self, xp, g, s):
        gu, gs, gvh = g
        a, u, sv, vh = s.a, s.U, s.S, s.Vh
        m, n = a.shape[-2], a.shape[-1]
        k = sv.shape[-1]
        u, vh = u[..., :k], vh[..., :k, :]            # (full_matrices: the reduced ones)
        if gu is not None and gu.shape[-1] > k:
            gu = _unused_extra(xp, gu[..., :k], gu[..., k:], "svd")
        if gvh is not None and gvh.shape[-2] > k:
            gvh = _unused_extra(xp, gvh[..., :k, :], gvh[..., k:, :], "svd")
        if gu is None and gvh is None:
            return xp.matmul(u * xp.expand_dims(gs, axis=-2), vh),
        complex_ = _is_complex(xp, a)
        s2 = sv * sv
        e = xp.expand_dims(s2, axis=-2) - xp.expand_dims(s2, axis=-1)
        e = e + _eye_like(xp, e)
        inner, refs, im_u, im_v = 0, [], 0, 0
        if gu is not None:
            j = xp.matmul(_mH(xp, u), gu)                     # U^H gU
            inner = _skew(xp, j) * xp.expand_dims(sv, axis=-2)
            refs.append(j)
            if complex_:
                im_u = xp.imag(_diag(xp, j))
        if gvh is not None:
            kv = xp.matmul(vh, _mH(xp, gvh))                  # V^H gV
            inner = inner + xp.expand_dims(sv, axis=-1) * _skew(xp, kv)
            refs.append(kv)
            if complex_:
                im_v = xp.imag(_diag(xp, kv))
        if complex_:
            # a column of U and the matching one of V share one free phase
            _check_phase_free(xp, im_u + im_v, refs, "svd")
        inner = _off_diagonal(xp, inner / e)
        if gs is not None:
            inner = inner + _diag_embed(xp, gs, inner)
        if complex_:
            im = xp.astype((im_u - im_v) / (2 * sv), a.dtype) * 1j
            inner = inner + _diag_embed(xp, im, inner)
        if m > k and gu is not None:                # tall: gU outside U's span
            rest = (gu - xp.matmul(u, xp.matmul(_mH(xp, u), gu))) / xp.expand_dims(sv, axis=-2)
            return xp.matmul(xp.matmul(u, inner) + rest, vh),
        if n > k and gvh is not None:               # wide: gV outside V's span
            rest = (gvh - xp.matmul(xp.matmul(gvh, _mH(xp, vh)), vh)) / xp.expand_dims(sv, axis=-1)
            return xp.matmul(u, xp.matmul(inner, vh) + rest),
        return xp.matmul(xp.matmul(u, inner), vh),


def svd(x, /, full_matrices=True, *, driver=None):
    """``(U, S, Vh)`` with ``x = U @ diag(S) @ Vh``. Differentiable (PyTorch's formula) for
    distinct nonzero singular values, through a loss that does not depend on the signs
    (phases) of the singular vectors; with ``full_matrices=True`` on a non-square matrix
    the extra columns of ``U`` (rows of ``Vh``) are an arbitrary basis: a loss that uses
    them raises in backward."""
    _no_driver(driver, "svd")
    _matrices(x, "svd", square=False)
    u, sv, vh = _run(x, lambda la, a: la.svd(a, full_matrices=full_matrices), "svd")
    return SVDResult(*_outputs(x, (u, sv, vh), SvdBackward))


def _qr_tall_backward(xp, q, r, gq, gr):
    """``(gQ + Q herm(triu(gR R^H - Q^H gQ))) R^-H`` for ``A = QR``, ``m >= n``, where
    ``herm`` mirrors the strict upper triangle onto the lower one, conjugated, and keeps
    the real part of the diagonal (R's diagonal is real)."""
    m = 0
    if gr is not None:
        m = xp.matmul(gr, _mH(xp, r))
    if gq is not None:
        m = m - xp.matmul(_mH(xp, q), gq)
    up = xp.triu(m, k=1)
    herm = up + _mH(xp, up) + _diag_embed(xp, _real(xp, _diag(xp, m)), m)
    b = xp.matmul(q, herm)
    if gq is not None:
        b = b + gq
    return _mH(xp, xp.linalg.solve(r, _mH(xp, b)))


class QrBackward(Node):
    """Both outputs of qr. Tall or square: :func:`_qr_tall_backward`. Wide, ``A = [X | Y]``
    with ``X`` square: ``Q, R[:, :m]`` are the QR of ``X`` and ``R[:, m:] = Q^H Y``, so
    ``gY = Q gR[:, m:]`` and ``X`` sees ``gQ + Y gR[:, m:]^H``. A complete ``Q`` of a tall
    matrix: its extra columns must not be used (R's extra rows are zero: no gradient)."""
    __slots__ = ()
    saves = ("a", "Q", "R")

    def backward(self, xp, g, s):
        gq, gr = g
        a, q, r = s.a, s.Q, s.R
        m, n = a.shape[-2], a.shape[-1]
        if m > n:                                   # (mode="complete": the reduced ones)
            q, r = q[..., :n], r[..., :n, :]
            if gq is not None and gq.shape[-1] > n:
                gq = _unused_extra(xp, gq[..., :n], gq[..., n:], "qr")
            if gr is not None and gr.shape[-2] > n:
                gr = gr[..., :n, :]
        if m >= n:
            return _qr_tall_backward(xp, q, r, gq, gr),
        gv = None if gr is None else gr[..., :, m:]
        if gv is not None:
            gy_q = xp.matmul(a[..., :, m:], _mH(xp, gv))
            gq = gy_q if gq is None else gq + gy_q
        gx = _qr_tall_backward(xp, q, r[..., :, :m], gq, None if gr is None else gr[..., :, :m])
        gy = xp.zeros_like(a[..., :, m:]) if gv is None else xp.matmul(q, gv)
        return xp.concat([gx, gy], axis=-1),


def qr(x, /, mode="reduced"):
    """``(Q, R)`` with ``x = Q @ R`` (``mode`` "reduced" or "complete"). Differentiable
    (PyTorch's formula) where the leading square block of R is invertible; the extra
    columns of a complete Q of a tall matrix are an arbitrary basis: a loss that uses them
    raises in backward."""
    _matrices(x, "qr", square=False)
    if mode not in ("reduced", "complete"):
        raise ValueError(f"linalg.qr: mode must be 'reduced' or 'complete', got {mode!r}")
    q, r = _run(x, lambda la, a: la.qr(a, mode=mode), "qr")
    return QRResult(*_outputs(x, (q, r), QrBackward))


class PinvBackward(Node):
    """The derivative of ``P = pinv(A)`` at constant rank:
    ``-P^H gP P^H + (I - A P) gP^H P P^H + P^H P gP^H (I - P A)`` (one pinv, no SVD
    gradient: zero singular values are fine)."""
    __slots__ = ("rtol",)
    saves = ("a",)

    def backward(self, xp, g, s):
        a = s.a
        p = xp.linalg.pinv(a, rtol=self.rtol)
        ph, gh = _mH(xp, p), _mH(xp, g)
        out = -xp.matmul(xp.matmul(ph, g), ph)
        ap = xp.matmul(a, p)
        out = out + xp.matmul(gh - xp.matmul(ap, gh), xp.matmul(p, ph))
        pa = xp.matmul(p, a)
        return out + xp.matmul(xp.matmul(ph, p), gh - xp.matmul(gh, pa)),


def pinv(x, /, *, rtol=None, atol=None, hermitian=False):
    """The Moore-Penrose pseudo-inverse of each matrix: singular values at or below
    ``rtol * max(S)`` (default ``rtol``: ``max(M, N) * eps``) count as zero.
    Differentiable where the rank does not change nearby. ``hermitian=True`` (PyTorch's
    hint) gives the same result; an absolute ``atol`` is refused."""
    if atol is not None:
        raise ValueError("linalg.pinv: atol= is not supported (the cut-off is relative: give "
                         "rtol=)")
    _matrices(x, "pinv", square=False)
    return _recorded(x, _run(x, lambda la, a: la.pinv(a, rtol=rtol), "pinv"), PinvBackward,
                     rtol=rtol)


def matrix_rank(x, /, *, rtol=None, atol=None, hermitian=False):
    """The rank of each matrix: the singular values above ``rtol * max(S)`` (default
    ``rtol``: ``max(M, N) * eps``). PyTorch's ``atol`` counts those above ``max(atol, rtol *
    max(S))`` (``rtol`` then defaults to 0); ``hermitian=True`` reads the eigenvalues."""
    _matrices(x, "matrix_rank", square=False)
    be = x._be
    if atol is None and not hermitian:
        data = _run(x, lambda la, a: la.matrix_rank(a, rtol=rtol), "matrix_rank")
        return x._make(be.xp.astype(data, be.native_dtype(be.default_int)), be, None)
    xd = x.detach()
    sv = _abs(eigvalsh(xd)) if hermitian else svdvals(xd)
    if sv._data.shape[-1] == 0:
        return x._make(be.xp.zeros(tuple(sv._data.shape[:-1]),
                                   dtype=be.native_dtype(be.default_int), **be.device_kwargs),
                       be, None)
    if rtol is None:
        m, n = x._data.shape[-2:]
        rtol = 0.0 if atol is not None and atol > 0 else max(m, n) * _dt.finfo(sv.dtype).eps
    tol = _max(sv, axis=-1, keepdims=True) * rtol
    if atol is not None:
        tol = _maximum(tol, atol)
    return _sum(sv > tol, -1)
    return x._make(be.xp.astype(data, be.native_dtype(be.default_int)), be, None)


# ------------------------------------------------------------------ built from other ops

def matrix_power(x, n, /):
    """``x`` multiplied by itself ``n`` times (``n < 0``: of its inverse; ``n == 0``: the
    identity). Differentiable."""
    _matrices(x, "matrix_power")
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {n!r}")
    if n == 0:                          # a constant: its derivative is zero
        be = x._be
        eye = be.xp.eye(x._data.shape[-1], dtype=x._data.dtype, **be.device_kwargs)
        return x._make(be.xp.asarray(be.xp.broadcast_to(eye, tuple(x._data.shape)), copy=True),
                       be, None)
    base = inv(x) if n < 0 else x
    result, power, k = None, base, abs(n)
    while k:                                     # by squaring: O(log n) products
        if k & 1:
            result = power if result is None else matmul(result, power)
        k >>= 1
        if k:
            power = matmul(power, power)
    return result


def diagonal(x, /, *, offset=0, dim1=-2, dim2=-1):
    """The ``offset`` diagonal of each matrix (the last two dims, or PyTorch's ``dim1`` and
    ``dim2``); any dtype."""
    if not isinstance(x, Variable) or x._data.ndim < 2:
        raise ValueError("linalg.diagonal: expected a matrix or a stack of them")
    return _diagonal(x, offset, dim1, dim2)


def trace(x, /, *, offset=0, dtype=None):
    """The sum of the ``offset`` diagonal of each matrix."""
    if not isinstance(x, Variable) or x._data.ndim < 2:
        raise ValueError("linalg.trace: expected a matrix or a stack of them")
    return _sum(_diagonal(x, offset, -2, -1), -1, dtype=dtype)


def _either(op, axis, dim, default):
    if dim is not None:
        if axis is not None:
            raise TypeError(f"linalg.{op}: got both axis={axis!r} (the standard's) and dim={dim!r} "
                            f"(PyTorch's); give one")
        return dim
    return default if axis is None else axis


def cross(x1, x2, /, *, axis=None, dim=None):
    """The cross product of 3-element vectors along ``axis`` (PyTorch: ``dim``; default the
    last; other dims broadcast)."""
    axis = _either("cross", axis, dim, -1)
    for t in (x1, x2):
        if not isinstance(t, Variable):
            raise TypeError(f"linalg.cross: expected Tensors, got {type(t).__name__}")
        if not -t._data.ndim <= axis < t._data.ndim or t._data.shape[axis] != 3:
            raise ValueError(f"linalg.cross: axis {axis} must have size 3 in both, got shapes "
                             f"{tuple(x1._data.shape)} and {tuple(x2._data.shape)}")
    if axis >= 0:
        axis -= max(x1._data.ndim, x2._data.ndim)
    x1, x2 = _common_dtype(x1, x2)
    a = [x1[(Ellipsis, i) + (slice(None),) * (-axis - 1)] for i in range(3)]
    b = [x2[(Ellipsis, i) + (slice(None),) * (-axis - 1)] for i in range(3)]
    parts = [subtract(multiply(a[1], b[2]), multiply(a[2], b[1])),
             subtract(multiply(a[2], b[0]), multiply(a[0], b[2])),
             subtract(multiply(a[0], b[1]), multiply(a[1], b[0]))]
    return stack(parts, axis=axis)


def vecdot(x1, x2, /, *, axis=None, dim=None):
    """``sum(conj(x1) * x2)`` over ``axis`` (PyTorch: ``dim``; default the last)."""
    return _vecdot(x1, x2, axis=_either("vecdot", axis, dim, -1))


def _keep(op, keepdims, keepdim):
    if keepdim is not None:
        if keepdims:
            raise TypeError(f"linalg.{op}: got both keepdims and keepdim; give one")
        return bool(keepdim)
    return bool(keepdims)


def vector_norm(x, /, ord=2, dim=None, keepdim=None, *, axis=None, keepdims=False, dtype=None):
    """The ``ord``-norm of ``x`` over ``axis`` (PyTorch: ``dim``; all elements by default):
    ``inf``, ``-inf``, ``0`` (a count) or any real power; ``dtype``: computed in it."""
    axis = _either("vector_norm", axis, dim, None)
    keepdims = _keep("vector_norm", keepdims, keepdim)
    if dtype is not None:
        x = astype(x, dtype)
    _floating(x, "vector_norm")
    axes = norm_dims(axis, x._data.ndim, "vector_norm")
    return _vector_norm(x, ord, axes, keepdims)


def matrix_norm(x, /, ord="fro", dim=(-2, -1), keepdim=None, *, keepdims=False, dtype=None):
    """The ``ord``-norm of each matrix: "fro", "nuc", 1, -1, 2, -2, inf or -inf; the matrices
    are the last two dims (PyTorch: any two, ``dim``)."""
    keepdims = _keep("matrix_norm", keepdims, keepdim)
    if dtype is not None:
        x = astype(x, dtype)
    if not isinstance(x, Variable) or x._data.ndim < 2:
        _matrices(x, "matrix_norm", square=False)
    nd = x._data.ndim
    dims = norm_dims(tuple(dim), nd, "linalg.matrix_norm")
    if len(dims) != 2:
        raise ValueError(f"linalg.matrix_norm: dim must name two dims, got {dim!r}")
    if dims != (nd - 2, nd - 1):
        out = matrix_norm(moveaxis(x, dims, (-2, -1)), ord)
        if keepdims:
            for d in sorted(dims):
                out = unsqueeze(out, d)
        return out
    _matrices(x, "matrix_norm", square=False)
    inf = math.inf
    if ord == "fro":
        out = _sqrt(_sum(_abs(x) ** 2 if not x.dtype.is_complex else
                         multiply(_abs(x), _abs(x)), (-2, -1)))
    elif ord == "nuc":
        out = _sum(svdvals(x), -1)
    elif ord in (2, -2):
        s = svdvals(x)
        out = _max(s, axis=-1) if ord == 2 else _min(s, axis=-1)
    elif ord in (1, -1):
        c = _sum(_abs(x), -2)
        out = _max(c, axis=-1) if ord == 1 else _min(c, axis=-1)
    elif ord in (inf, -inf):
        r = _sum(_abs(x), -1)
        out = _max(r, axis=-1) if ord == inf else _min(r, axis=-1)
    else:
        raise ValueError(f"linalg.matrix_norm: ord must be 'fro', 'nuc', 1, -1, 2, -2, inf or "
                         f"-inf, got {ord!r}")
    return unsqueeze(unsqueeze(out, -1), -1) if keepdims else out


def norm(A, /, ord=None, dim=None, keepdim=False, *, dtype=None):
    """PyTorch's ``torch.linalg.norm``: a vector norm over one dim (``ord`` default 2), a
    matrix norm over two (default "fro"); without ``dim`` the 2-norm of all elements
    (``ord`` given: ``A`` must be 1-d, a vector, or 2-d, a matrix)."""
    if not isinstance(A, Variable):
        raise TypeError(f"linalg.norm: expected a Tensor, got {type(A).__name__}")
    if dim is None:
        if ord is None:
            return vector_norm(A, 2, None, keepdim, dtype=dtype)
        if A._data.ndim == 1:
            return vector_norm(A, ord, None, keepdim, dtype=dtype)
        if A._data.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
        raise ValueError(f"linalg.norm: with ord={ord!r} and no dim, A must be 1-d or 2-d, got "
                         f"shape {tuple(A._data.shape)}")
    if isinstance(dim, int) or len(dim) == 1:
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    raise ValueError(f"linalg.norm: dim must be an int or two dims, got {dim!r}")
