"""``interop.linalg``: the standard's linear-algebra extension, with gradients.

The decompositions run in the backend's ``linalg``. Their backward nodes save the input
and recompute the factorization in backward, with whatever namespace backward runs on:
the backend's for a first derivative, interop's under ``create_graph``, so the gradients
are differentiable again to any order. (This costs one more factorization per backward.)

Gradients follow PyTorch's formulas and convention (conjugate Wirtinger for complex
inputs). Not differentiable yet, and saying so when backward reaches them rather than giving
a wrong gradient: ``eig``/``eigvals``; for complex inputs the ``U``/``Vh`` of ``svd`` (its
``S`` is differentiable), ``qr``, ``pinv``, the eigenvectors of ``eigh`` and the sign from
``slogdet``; ``qr`` of a wide matrix and the extra columns of ``full_matrices``/``complete``.
"""

import math
from collections import namedtuple

from . import dtypes as _dt
from ._args import norm_dims
from ._elementwise import multiply, subtract
from ._join import stack
from ._linalg import matmul, outer, tensordot, vecdot, _common_dtype, _vector_norm
from ._rearrange import diagonal as _diagonal
from ._select import where
from ._reduce import sum as _sum, max as _max, min as _min
from ._unary import abs as _abs, sqrt as _sqrt, conj
from ._views import matrix_transpose, unsqueeze
from .autograd.graph import Node
from .autograd.grad_mode import state as grad_state
from .autograd.variable import Variable, record

__all__ = ["cholesky", "cross", "det", "diagonal", "eig", "eigh", "eigvals", "eigvalsh", "inv",
           "matmul", "matrix_norm", "matrix_power", "matrix_rank", "matrix_transpose", "outer",
           "pinv", "qr", "slogdet", "solve", "svd", "svdvals", "tensordot", "trace", "vecdot",
           "vector_norm", "EighResult", "QRResult", "SlogdetResult", "SVDResult", "EigResult"]

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
    return xp.eye(a.shape[-1], dtype=a.dtype)


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


class _NotDifferentiable(Node):
    """Backward of an output whose gradient is not implemented: an error, never zeros."""
    __slots__ = ("what",)

    def backward(self, xp, g, s):
        raise RuntimeError(f"linalg: the gradient of {self.what} is not implemented yet; "
                           f"detach() it, or differentiate through another function "
                           f"(svdvals, eigvalsh, solve, inv...)")


def _undifferentiable(x, data, what):
    if not grad_state.enabled or x._node is None:
        return x._make(data, x._be, None)
    node = record(_NotDifferentiable, x._be, (x,))
    node.what = what
    return x._make(data, x._be, node)


# ------------------------------------------------------------------ inverse, solve, det

class InvBackward(Node):
    __slots__ = ()

    def backward(self, xp, g, s):
        yh = _mH(xp, xp.linalg.inv(s[0]))
        return -xp.matmul(xp.matmul(yh, g), yh),


def inv(x, /):
    """The inverse of each square matrix (a ValueError for a singular one)."""
    _matrices(x, "inv")
    return _recorded(x, _run(x, lambda la, a: la.inv(a), "inv"), InvBackward)


class SolveBackward(Node):
    __slots__ = ("vector",)

    def backward(self, xp, g, s):
        a, b = s
        if self.vector:                                  # b: (M,), solved as (M, 1)
            b = xp.expand_dims(b, axis=-1)
            g = xp.expand_dims(g, axis=-1)
        x = xp.linalg.solve(a, b)
        gb = xp.linalg.solve(_mH(xp, a), g)
        ga = -xp.matmul(gb, _mH(xp, x))
        if self.vector:
            gb = xp.sum_to(xp.reshape(gb, tuple(gb.shape[:-1])), tuple(s[1].shape))
        else:
            gb = xp.sum_to(gb, tuple(s[1].shape))
        return xp.sum_to(ga, tuple(s[0].shape)), gb


def solve(x1, x2, /):
    """``X`` with ``x1 @ X == x2`` for square ``x1``; ``x2`` is a vector only when it is 1-d
    (the standard's rule), else a stack of matrices; batch dims broadcast."""
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

    def backward(self, xp, g, s):
        a = s[0]
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

    def backward(self, xp, g, s):
        g = xp.expand_dims(xp.expand_dims(g, axis=-1), axis=-1)
        return g * _mH(xp, xp.linalg.inv(s[0])),


def slogdet(x, /):
    """``(sign, logabsdet)`` of each square matrix: the determinant is
    ``sign * exp(logabsdet)``, without overflow."""
    _matrices(x, "slogdet")
    sign, logabs = _run(x, lambda la, a: la.slogdet(a), "slogdet")
    logabsdet = _recorded(x, logabs, LogAbsDetBackward)
    if x.dtype.is_complex:
        sign_t = _undifferentiable(x, sign, "the sign from slogdet of a complex matrix")
    else:
        sign_t = x._make(sign, x._be, None)           # piecewise constant: no gradient
    return SlogdetResult(sign_t, logabsdet)


# ------------------------------------------------------------------ factorizations

class CholeskyBackward(Node):
    __slots__ = ("upper",)

    def backward(self, xp, g, s):
        a = s[0]
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

    def backward(self, xp, g, s):
        w, v = xp.linalg.eigh(s[0])
        return xp.matmul(v * xp.expand_dims(g, axis=-2), _mH(xp, v)),


class EigvecshBackward(Node):
    __slots__ = ()

    def backward(self, xp, g, s):
        w, v = xp.linalg.eigh(s[0])
        e = xp.expand_dims(w, axis=-2) - xp.expand_dims(w, axis=-1)   # e[i, j] = w[j] - w[i]
        eye = _eye_like(xp, e)
        f = (1 - eye) / (e + eye)
        inner = f * xp.matmul(_mH(xp, v), g)
        return xp.matmul(xp.matmul(v, inner), _mH(xp, v)),


def eigh(x, /):
    """Eigenvalues (ascending) and eigenvectors of each Hermitian matrix (its lower triangle
    is read). Eigenvector gradients assume distinct eigenvalues, as PyTorch's."""
    _matrices(x, "eigh")
    w, v = _run(x, lambda la, a: la.eigh(a), "eigh")
    values = _recorded(x, w, EigvalshBackward)
    if x.dtype.is_complex:
        vectors = _undifferentiable(x, v, "the eigenvectors of a complex eigh")
    else:
        vectors = _recorded(x, v, EigvecshBackward)
    return EighResult(values, vectors)


def eigvalsh(x, /):
    """The eigenvalues (ascending) of each Hermitian matrix."""
    _matrices(x, "eigvalsh")
    return _recorded(x, _run(x, lambda la, a: la.eigvalsh(a), "eigvalsh"), EigvalshBackward)


class SvdvalsBackward(Node):
    __slots__ = ()

    def backward(self, xp, g, s):
        u, _, vh = xp.linalg.svd(s[0], full_matrices=False)
        return xp.matmul(u * xp.expand_dims(g, axis=-2), vh),


def svdvals(x, /):
    """The singular values of each matrix, descending."""
    _matrices(x, "svdvals", square=False)
    return _recorded(x, _run(x, lambda la, a: la.svdvals(a), "svdvals"), SvdvalsBackward)


def _svd_parts(xp, a):
    """The reduced SVD and ``E[i, j] = S[j]^2 - S[i]^2`` (1 on the diagonal)."""
    u, sv, vh = xp.linalg.svd(a, full_matrices=False)
    s2 = sv * sv
    e = xp.expand_dims(s2, axis=-2) - xp.expand_dims(s2, axis=-1)
    return u, sv, vh, e + _eye_like(xp, e)


class SvdUBackward(Node):
    """The part of svd's gradient that comes through ``U`` (PyTorch's formula; real inputs,
    distinct nonzero singular values)."""
    __slots__ = ()

    def backward(self, xp, g, s):
        u, sv, vh, e = _svd_parts(xp, s[0])
        uhgu = xp.matmul(_mH(xp, u), g)
        inner = (uhgu - _mH(xp, uhgu)) / e * xp.expand_dims(sv, axis=-2)
        ga = xp.matmul(xp.matmul(u, inner), vh)
        if s[0].shape[-2] > sv.shape[-1]:           # tall: U does not span the columns
            rest = (g - xp.matmul(u, uhgu)) / xp.expand_dims(sv, axis=-2)
            ga = ga + xp.matmul(rest, vh)
        return ga,


class SvdVhBackward(Node):
    """The part of svd's gradient that comes through ``Vh``."""
    __slots__ = ()

    def backward(self, xp, g, s):
        u, sv, vh, e = _svd_parts(xp, s[0])
        vhgv = xp.matmul(vh, _mH(xp, g))              # V^H gV with gV = g^H
        inner = xp.expand_dims(sv, axis=-1) * ((vhgv - _mH(xp, vhgv)) / e)
        ga = xp.matmul(xp.matmul(u, inner), vh)
        if s[0].shape[-1] > sv.shape[-1]:           # wide: Vh does not span the rows
            rest = (g - xp.matmul(xp.matmul(g, _mH(xp, vh)), vh)) / xp.expand_dims(sv, axis=-1)
            ga = ga + xp.matmul(u, rest)
        return ga,


def svd(x, /, *, full_matrices=True):
    """``(U, S, Vh)`` with ``x = U @ diag(S) @ Vh``. Differentiable for real matrices with
    distinct nonzero singular values, through a function that does not depend on the signs
    of the singular vectors (as PyTorch's); with ``full_matrices=True`` on a non-square
    matrix, and for complex ``U``/``Vh``, backward raises (not implemented)."""
    _matrices(x, "svd", square=False)
    u, sv, vh = _run(x, lambda la, a: la.svd(a, full_matrices=full_matrices), "svd")
    m, n = x._data.shape[-2], x._data.shape[-1]
    if x.dtype.is_complex or (full_matrices and m != n):
        why = "complex svd" if x.dtype.is_complex else "svd(full_matrices=True) of a non-square matrix"
        return SVDResult(_undifferentiable(x, u, f"U from {why}"), _recorded(x, sv, SvdvalsBackward),
                         _undifferentiable(x, vh, f"Vh from {why}"))
    return SVDResult(_recorded(x, u, SvdUBackward), _recorded(x, sv, SvdvalsBackward),
                     _recorded(x, vh, SvdVhBackward))


def _qr_parts(xp, a):
    q, r = xp.linalg.qr(a)
    return q, r, xp.linalg.inv(r)


def _copyltu(xp, m):
    """The lower triangle of ``m`` mirrored onto the upper one (the diagonal kept)."""
    low = xp.tril(m, k=-1)
    return low + xp.matrix_transpose(low) + (xp.tril(m) - low)


class QrQBackward(Node):
    """The part of qr's gradient through ``Q`` (PyTorch's formula; real, tall or square)."""
    __slots__ = ()

    def backward(self, xp, g, s):
        q, r, ri = _qr_parts(xp, s[0])
        m = -xp.matmul(xp.matrix_transpose(g), q)
        b = g + xp.matmul(q, _copyltu(xp, m))
        return xp.matmul(b, xp.matrix_transpose(ri)),


class QrRBackward(Node):
    """The part of qr's gradient through ``R``."""
    __slots__ = ()

    def backward(self, xp, g, s):
        q, r, ri = _qr_parts(xp, s[0])
        m = xp.matmul(r, xp.matrix_transpose(g))
        b = xp.matmul(q, _copyltu(xp, m))
        return xp.matmul(b, xp.matrix_transpose(ri)),


def qr(x, /, *, mode="reduced"):
    """``(Q, R)`` with ``x = Q @ R`` (``mode`` "reduced" or "complete"). Differentiable for
    real matrices with at least as many rows as columns in the reduced mode (R invertible);
    elsewhere backward raises (not implemented)."""
    _matrices(x, "qr", square=False)
    if mode not in ("reduced", "complete"):
        raise ValueError(f"linalg.qr: mode must be 'reduced' or 'complete', got {mode!r}")
    q, r = _run(x, lambda la, a: la.qr(a, mode=mode), "qr")
    m, n = x._data.shape[-2], x._data.shape[-1]
    if x.dtype.is_complex or m < n or (mode == "complete" and m != n):
        why = ("complex qr" if x.dtype.is_complex else
               "qr of a wide matrix" if m < n else "qr(mode='complete') of a tall matrix")
        return QRResult(_undifferentiable(x, q, f"Q from {why}"),
                        _undifferentiable(x, r, f"R from {why}"))
    return QRResult(_recorded(x, q, QrQBackward), _recorded(x, r, QrRBackward))


def eig(x, /):
    """Eigenvalues and eigenvectors of each square matrix (complex); not differentiable yet."""
    _matrices(x, "eig")
    w, v = _run(x, lambda la, a: la.eig(a), "eig")
    return EigResult(_undifferentiable(x, w, "eig"), _undifferentiable(x, v, "eig"))


def eigvals(x, /):
    """Eigenvalues of each square matrix (complex); not differentiable yet."""
    _matrices(x, "eigvals")
    return _undifferentiable(x, _run(x, lambda la, a: la.eigvals(a), "eigvals"), "eigvals")


def pinv(x, /, *, rtol=None):
    """The Moore-Penrose pseudo-inverse of each matrix: singular values at or below
    ``rtol * max(S)`` (default ``rtol``: ``max(M, N) * eps``) count as zero. Differentiable
    through ``svd`` (real matrices whose rank does not change nearby)."""
    _matrices(x, "pinv", square=False)
    if x._node is None or not grad_state.enabled:
        return x._make(_run(x, lambda la, a: la.pinv(a, rtol=rtol), "pinv"), x._be, None)
    u, sv, vh = svd(x, full_matrices=False)
    if rtol is None:
        rtol = max(x._data.shape[-2:]) * _dt.finfo(x.dtype.to_real()).eps
    keep = sv > multiply(_max(sv, axis=-1, keepdims=True), rtol)
    inv_s = where(keep, 1.0 / where(keep, sv, 1.0), 0.0)
    vs = multiply(conj(matrix_transpose(vh)) if x.dtype.is_complex else matrix_transpose(vh),
                  unsqueeze(inv_s, -2))
    return matmul(vs, conj(matrix_transpose(u)) if x.dtype.is_complex else matrix_transpose(u))


def matrix_rank(x, /, *, rtol=None):
    """The rank of each matrix: singular values above ``rtol * max(M, N) * eps * max(S)``."""
    _matrices(x, "matrix_rank", square=False)
    data = _run(x, lambda la, a: la.matrix_rank(a, rtol=rtol), "matrix_rank")
    be = x._be
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


def diagonal(x, /, *, offset=0):
    """The ``offset`` diagonal of each matrix (the last two dims); any dtype."""
    if not isinstance(x, Variable) or x._data.ndim < 2:
        raise ValueError("linalg.diagonal: expected a matrix or a stack of them")
    return _diagonal(x, offset, -2, -1)


def trace(x, /, *, offset=0, dtype=None):
    """The sum of the ``offset`` diagonal of each matrix."""
    if not isinstance(x, Variable) or x._data.ndim < 2:
        raise ValueError("linalg.trace: expected a matrix or a stack of them")
    return _sum(_diagonal(x, offset, -2, -1), -1, dtype=dtype)


def cross(x1, x2, /, *, axis=-1):
    """The cross product of 3-element vectors along ``axis`` (other dims broadcast)."""
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


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """The ``ord``-norm of ``x`` over ``axis`` (all elements by default): ``inf``, ``-inf``,
    ``0`` (a count) or any real power."""
    _floating(x, "vector_norm")
    axes = norm_dims(axis, x._data.ndim, "vector_norm")
    return _vector_norm(x, ord, axes, keepdims)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """The ``ord``-norm of each matrix: "fro", "nuc", 1, -1, 2, -2, inf or -inf."""
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
