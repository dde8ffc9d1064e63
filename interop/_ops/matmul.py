"""Linear algebra: ``matmul`` (``@``), ``mm``, ``bmm``, ``dot``, ``outer``, ``einsum`` and
``norm``."""

import math
from collections import Counter

from .._args import Unset, either, mixed_backends, norm_dims, same_backend
from .cast import astype, clone
from .binary import multiply
from .._dtype_rules import interop_dtype, promote_types, result_type
from .unary import conj
from .._errors import DTypeError, ShapeError
from .rearrange import diagonal
from .reduce import sum as _sum
from .views import unsqueeze, reshape, permute_dims, broadcast_to
from ..autograd.graph import Node, OUTPUT
from ..autograd.grad_mode import state as grad_state
from ..autograd.variable import Variable, record

__all__ = ["matmul", "mm", "bmm", "dot", "outer", "einsum", "norm", "tensordot", "vecdot"]


class MatmulBackward(Node):
    """``conj``: the product was complex (the gradients then take conjugated operands)."""
    __slots__ = ("conj",)
    saves = ("a", "b")

    def backward(self, xp, g, s):
        a, b = s.a, s.b
        a1 = len(a.shape) == 1
        b1 = len(b.shape) == 1
        ga = gb = None
        if a1 and b1:             # a dot product: g is 0-d
            if self.next[0] is not None:
                ga = g * (xp.conj(b) if self.conj else b)
            if self.next[1] is not None:
                gb = g * (xp.conj(a) if self.conj else a)
            return ga, gb
        if a1:
            a = xp.reshape(a, (1,) + tuple(a.shape))
            g = xp.expand_dims(g, axis=-2)
        if b1:
            b = xp.reshape(b, tuple(b.shape) + (1,))
            g = xp.expand_dims(g, axis=-1)
        if self.next[0] is not None:
            ga = xp.matmul(g, xp.conj(xp.matrix_transpose(b)) if self.conj else xp.matrix_transpose(b))
            if a1:
                ga = xp.reshape(ga, tuple(ga.shape[:-2]) + (ga.shape[-1],))
            if tuple(ga.shape) != tuple(s.a.shape):
                ga = xp.sum_to(ga, tuple(s.a.shape))
        if self.next[1] is not None:
            gb = xp.matmul(xp.conj(xp.matrix_transpose(a)) if self.conj else xp.matrix_transpose(a), g)
            if b1:
                gb = xp.reshape(gb, tuple(gb.shape[:-1]))
            if tuple(gb.shape) != tuple(s.b.shape):
                gb = xp.sum_to(gb, tuple(s.b.shape))
        return ga, gb


def matmul(x1, x2, /):
    if not isinstance(x1, Variable) or not isinstance(x2, Variable):
        raise TypeError(f"matmul: expected two Tensors, got {type(x1).__name__} and {type(x2).__name__}")
    if x1._be is not x2._be:
        raise mixed_backends(x1, x2, "matmul")
    a, b = x1._data, x2._data
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: both arguments must be at least 1-d, got shapes {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb:
        raise ShapeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
                         f"({ka} != {kb})")
    if a.dtype != b.dtype:
        # the standard's type promotion (PyTorch refuses mixed dtypes; the namespace is the
        # standard's); a pair the table does not promote raises there, naming both
        x1, x2 = _common_dtype(x1, x2)
        a, b = x1._data, x2._data
    be = x1._be
    try:
        data = be.xp.matmul(a, b)
    except TypeError:
        raise DTypeError(f"matmul: not supported for dtype {x1._be.dtype_of(a)}") from None
    except Exception:           # (each library words its refusal differently)
        raise ShapeError(f"matmul: the batch dims of shapes {tuple(a.shape)} and {tuple(b.shape)} "
                         f"cannot be broadcast together") from None
    if (x1._node is None and x2._node is None) or not grad_state.enabled:
        return x1._make(data, be, None)
    node = record(MatmulBackward, be, (x1, x2), (x1, x2), (a, b))
    node.conj = data.dtype in be.complex_natives
    return x1._make(data, be, node)


def _common_dtype(x1, x2):
    """Both tensors in their promoted dtype (recorded casts, so gradients return in each
    input's own dtype)."""
    rt = result_type(x1, x2)
    return (x1 if x1.dtype is rt else astype(x1, rt)), (x2 if x2.dtype is rt else astype(x2, rt))


_AXES = Unset(2)


def tensordot(x1, x2, /, *, axes=_AXES, dims=None):
    """The standard's ``tensordot``: sum the products over ``axes`` -- an int N (the last N
    dims of ``x1`` with the first N of ``x2``) or two sequences of dims (PyTorch spells the
    keyword ``dims``). The result has the remaining dims of ``x1``, then those of ``x2``.
    Differentiable (a permute, a reshape and one matmul)."""
    axes = either("tensordot", "axes", None if axes is _AXES else axes, "dims", dims)
    if axes is None:
        axes = 2
    if not isinstance(x1, Variable) or not isinstance(x2, Variable):
        raise TypeError(f"tensordot: expected two Tensors, got {type(x1).__name__} and "
                        f"{type(x2).__name__}")
    same_backend((x1, x2), "tensordot")
    s1, s2 = tuple(x1._data.shape), tuple(x2._data.shape)
    if isinstance(axes, int) or (isinstance(axes, Variable) and axes.ndim == 0):
        n = int(axes)
        if n < 0 or n > len(s1) or n > len(s2):
            raise ValueError(f"tensordot: axes={n} must be in [0, {min(len(s1), len(s2))}] for "
                             f"shapes {s1} and {s2}")
        a1, a2 = list(range(len(s1) - n, len(s1))), list(range(n))
    else:
        try:
            a1, a2 = (list(norm_dims(tuple(a), len(s), "tensordot")) for a, s in
                      zip(axes, (s1, s2)))
        except (TypeError, ValueError) as e:
            raise ValueError(f"tensordot: axes must be an int or two sequences of dims, got "
                             f"{axes!r} ({e})") from None
        if len(a1) != len(a2):
            raise ValueError(f"tensordot: axes {axes!r} name {len(a1)} and {len(a2)} dims")
    for i, j in zip(a1, a2):
        if s1[i] != s2[j]:
            raise ShapeError(f"tensordot: contracted dim {i} of shape {s1} has size {s1[i]}, dim "
                             f"{j} of shape {s2} has size {s2[j]}")
    x1, x2 = _common_dtype(x1, x2)
    f1 = [d for d in range(len(s1)) if d not in a1]
    f2 = [d for d in range(len(s2)) if d not in a2]
    k = math.prod(s1[i] for i in a1)
    m = reshape(permute_dims(x1, tuple(f1 + a1)), (math.prod(s1[i] for i in f1), k))
    v = reshape(permute_dims(x2, tuple(a2 + f2)), (k, math.prod(s2[j] for j in f2)))
    return reshape(matmul(m, v), tuple(s1[i] for i in f1) + tuple(s2[j] for j in f2))


def vecdot(x1, x2, /, *, axis=-1):
    """The standard's ``vecdot``: ``sum(conj(x1) * x2)`` over ``axis``, the other dims
    broadcast. Differentiable."""
    if not isinstance(x1, Variable) or not isinstance(x2, Variable):
        raise TypeError(f"vecdot: expected two Tensors, got {type(x1).__name__} and "
                        f"{type(x2).__name__}")
    n1, n2 = x1._data.shape, x2._data.shape
    if not -min(len(n1), len(n2)) <= axis < min(len(n1), len(n2)) or (
            n1[axis] != n2[axis]):
        raise ShapeError(f"vecdot: axis {axis} must name a dim of equal size in shapes "
                         f"{tuple(n1)} and {tuple(n2)}")
    if axis >= 0:       # the standard counts the axis from the end of the broadcast shape
        axis -= max(len(n1), len(n2))
    x1, x2 = _common_dtype(x1, x2)
    return _sum(multiply(conj(x1) if x1.dtype.is_complex else x1, x2), axis, dtype=x1.dtype)


def mm(x1, x2):
    if x1._data.ndim != 2 or x2._data.ndim != 2:
        raise ShapeError(f"mm: expected 2-d tensors, got shapes {tuple(x1._data.shape)} and "
                         f"{tuple(x2._data.shape)}")
    return matmul(x1, x2)


def outer(x1, x2):
    return unsqueeze(x1, -1) * unsqueeze(x2, 0)


def _shapes(*ts):
    return " and ".join(str(tuple(t._data.shape)) for t in ts)


def bmm(input, mat2):
    """Batched matrix product of two 3-d tensors with the same batch size (no broadcasting,
    as ``torch.bmm``)."""
    for t in (input, mat2):
        if not isinstance(t, Variable):
            raise TypeError(f"bmm: expected two Tensors, got {type(t).__name__}")
    a, b = input._data, mat2._data
    if a.ndim != 3 or b.ndim != 3:
        raise ValueError(f"bmm: expected two 3-d tensors, got shapes {_shapes(input, mat2)}")
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"bmm: batch sizes differ: shapes {_shapes(input, mat2)}")
    return matmul(input, mat2)


def dot(input, tensor):
    """The dot product of two 1-d tensors of the same size and dtype (``torch.dot``; no
    conjugation)."""
    for t in (input, tensor):
        if not isinstance(t, Variable):
            raise TypeError(f"dot: expected two Tensors, got {type(t).__name__}")
    if input._data.ndim != 1 or tensor._data.ndim != 1:
        raise ValueError(f"dot: 1-d tensors expected, got shapes {_shapes(input, tensor)}")
    if input._data.shape[0] != tensor._data.shape[0]:
        raise ValueError(f"dot: inconsistent tensor size: shapes {_shapes(input, tensor)}")
    return matmul(input, tensor)


# ------------------------------------------------------------------ einsum

_ELL = "..."


def _parse_subscripts(term, who):
    labels = []
    i = 0
    while i < len(term):
        c = term[i]
        if c == ".":
            if term[i:i + 3] != "..." or _ELL in labels:
                raise ValueError(f"einsum(): invalid subscripts {term!r} for {who}: '.' only in "
                                 f"one '...'")
            labels.append(_ELL)
            i += 3
            continue
        if not ("a" <= c <= "z" or "A" <= c <= "Z"):
            raise ValueError(f"einsum(): invalid subscript {c!r} in {term!r} for {who}: "
                             f"subscripts must be letters in [a-zA-Z]")
        labels.append(c)
        i += 1
    return labels


def _label_name(label):
    return label if isinstance(label, str) else f"... (dim {label})"


def _expand_shared(t, labels, sizes, shared):
    """``t`` with its size-1 dims of the ``shared`` labels broadcast to the labels' sizes."""
    shape = tuple(t._data.shape)
    target = tuple(sizes[l] if l in shared else n for l, n in zip(labels, shape))
    return t if target == shape else broadcast_to(t, target)


def _contract(a, la, b, lb, keep, sizes):
    """Contract operands ``a`` (labels ``la``) and ``b`` over their shared labels not in
    ``keep``, with one batched matmul. Returns the result and its labels."""
    batch = [l for l in la if l in lb and l in keep]
    summed = [l for l in la if l in lb and l not in keep]
    a_only = [l for l in la if l not in lb]
    b_only = [l for l in lb if l not in la]
    shared = set(batch) | set(summed)
    a = _expand_shared(a, la, sizes, shared)
    b = _expand_shared(b, lb, sizes, shared)
    a = permute_dims(a, tuple(la.index(l) for l in batch + a_only + summed))
    b = permute_dims(b, tuple(lb.index(l) for l in batch + summed + b_only))
    nb, na, ns = len(batch), len(a_only), len(summed)
    sa, sb = tuple(a._data.shape), tuple(b._data.shape)
    bs, as_, cs, bos = sa[:nb], sa[nb:nb + na], sa[nb + na:], sb[nb + ns:]
    m = matmul(reshape(a, (math.prod(bs), math.prod(as_), math.prod(cs))),
               reshape(b, (math.prod(bs), math.prod(cs), math.prod(bos))))
    return reshape(m, bs + as_ + bos), batch + a_only + b_only


def einsum(equation, *operands):
    """Einstein summation, as ``torch.einsum``: ``einsum("bij,bjk->bik", a, b)``.

    Subscripts are letters; ``...`` stands for the dims no letter names (broadcast
    between operands); a letter repeated in one operand takes that operand's diagonal
    (``"ii->i"``, ``"ii"`` the trace); without ``->`` the output is ``...`` and then the
    letters seen once, in alphabetical order (upper case first). Dims of size 1 broadcast
    against the same letter elsewhere. Built from diagonal, sum, permute, reshape and
    matmul (one batched matmul per operand after the first, left to right), so it is
    differentiable to any order. Operands must share a dtype. The result never shares
    memory with an operand.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError("einsum(): expected the equation string first, as einsum('ij,jk->ik', a, "
                        "b); the sublist format is not supported")
    if not operands:
        raise ValueError("einsum(): must provide at least one operand")
    for i, t in enumerate(operands):
        if not isinstance(t, Variable):
            raise TypeError(f"einsum(): operand {i} is a {type(t).__name__}, expected a Tensor")
    same_backend(operands, "einsum")
    dtypes = {t._be.dtype_of(t._data) for t in operands}
    if len(dtypes) > 1:
        raise TypeError(f"einsum(): expected operands of one dtype, got "
                        f"{', '.join(str(t.dtype) for t in operands)}")
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    if "->" in rhs:
        raise ValueError(f"einsum(): equation {equation!r} has more than one '->'")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum(): the equation {equation!r} has subscripts for {len(terms)} "
                         f"operands, but {len(operands)} were given")
    parsed = []
    n_ell = 0
    for k, (term, t) in enumerate(zip(terms, operands)):
        labels = _parse_subscripts(term, f"operand {k}")
        named = len(labels) - (_ELL in labels)
        nd = t._data.ndim
        if _ELL in labels:
            if nd < named:
                raise ValueError(f"einsum(): operand {k} has {nd} dims, fewer than the {named} "
                                 f"subscripts in {term!r}")
            n_ell = max(n_ell, nd - named)
        elif nd != named:
            raise ValueError(f"einsum(): the number of subscripts in the equation ({named}) does "
                             f"not match the number of dimensions ({nd}) for operand {k} and no "
                             f"ellipsis was given")
        parsed.append(labels)
    # ``...`` dims become integer labels, aligned from the right across operands
    full = []
    for labels, t in zip(parsed, operands):
        if _ELL in labels:
            e = t._data.ndim - (len(labels) - 1)
            i = labels.index(_ELL)
            labels = labels[:i] + [n_ell - e + j for j in range(e)] + labels[i + 1:]
        full.append(labels)
    sizes = {}
    for k, (labels, t) in enumerate(zip(full, operands)):
        own = {}
        for label, n in zip(labels, t._data.shape):
            if own.setdefault(label, n) != n:
                raise ValueError(f"einsum(): subscript {_label_name(label)} is repeated for operand "
                                 f"{k} but the sizes don't match, {own[label]} != {n}")
            prev = sizes.get(label)
            if prev is None or prev == 1:
                sizes[label] = n
            elif n != 1 and n != prev:
                raise ValueError(f"einsum(): subscript {_label_name(label)} has size {n} for "
                                 f"operand {k}, which does not broadcast with the size {prev} "
                                 f"seen before")
    counts = Counter(label for labels in full for label in labels)
    if not arrow:
        out = list(range(n_ell)) + sorted(l for l, c in counts.items()
                                          if isinstance(l, str) and c == 1)
    else:
        out = []
        for label in _parse_subscripts(rhs, "the output"):
            if label == _ELL:
                out.extend(range(n_ell))
                continue
            if label not in counts:
                raise ValueError(f"einsum(): output subscript {label} does not appear in the "
                                 f"equation for any input operand")
            if label in out:
                raise ValueError(f"einsum(): output subscript {label} appears more than once in "
                                 f"the output")
            out.append(label)
    # each operand: diagonals for repeated labels
    ops = []
    for k, (labels, t) in enumerate(zip(full, operands)):
        while True:
            dup = next((l for l in labels if labels.count(l) > 1), None)
            if dup is None:
                break
            i = labels.index(dup)
            j = labels.index(dup, i + 1)
            t = diagonal(t, 0, i, j)
            labels = [l for q, l in enumerate(labels) if q not in (i, j)] + [dup]
        ops.append((t, labels))
    # labels in one operand only and not in the output are summed at once
    for k, (t, labels) in enumerate(ops):
        elsewhere = set(out).union(*(set(lb) for q, (_, lb) in enumerate(ops) if q != k))
        axes = tuple(i for i, l in enumerate(labels) if l not in elsewhere)
        if axes:
            ops[k] = (_sum(t, axes), [l for i, l in enumerate(labels) if i not in axes])
    t, labels = ops[0]
    for k in range(1, len(ops)):
        keep = set(out).union(*(set(lb) for _, lb in ops[k + 1:]))
        t, labels = _contract(t, labels, ops[k][0], ops[k][1], keep, sizes)
    axes = tuple(i for i, l in enumerate(labels) if l not in out)
    if axes:
        t = _sum(t, axes)
        labels = [l for i, l in enumerate(labels) if i not in axes]
    perm = tuple(labels.index(l) for l in out)
    if perm != tuple(range(len(perm))):
        t = permute_dims(t, perm)
    roots = {id(o if o._vroot is None else o._vroot) for o in operands}
    if id(t if t._vroot is None else t._vroot) in roots:
        t = clone(t)       # only views were taken: the result gets memory of its own
    return t


# ------------------------------------------------------------------ norm

_INF = float("inf")


def _kept(shape, axes):
    return tuple(1 if axes is None or i in axes else n for i, n in enumerate(shape))


class NormBackward(Node):
    """The gradient of a vector p-norm, with PyTorch's conventions: zero where the norm is
    0 (p = 2 and the other p > 1: no NaN), ``sign(x)`` for p = 1, ties of the max (min)
    sharing the gradient evenly for p = inf (-inf), none for p = 0."""

    __slots__ = ("p", "axes", "keepdims")
    saves = ("x", "out")

    def backward(self, xp, g, s):
        p = self.p
        if p == 0:
            return None,
        x, n = s.x, s.out
        if not self.keepdims:
            ks = _kept(tuple(x.shape), self.axes)
            g = xp.reshape(g, ks)
            n = xp.reshape(n, ks)
        if p == 1:
            return xp.sign(x) * g,
        zero = n == 0
        safe_n = xp.where(zero, xp.ones_like(n), n)
        if p == 2:
            return x * xp.where(zero, xp.zeros_like(g), g / safe_n),
        a = xp.abs(x)
        if p == _INF or p == -_INF:
            mask = xp.astype((a == n) | xp.isnan(a), g.dtype)
            count = xp.sum(mask, axis=self.axes, keepdims=True)
            return xp.sign(x) * (mask * (g / count)),
        if p < 1:
            xz = a == 0
            ap = xp.where(xz, xp.zeros_like(a), xp.where(xz, xp.ones_like(a), a) ** (p - 1))
            return xp.sign(x) * (ap * (g * n ** (1 - p))),
        scale = xp.where(zero, xp.zeros_like(g), g / safe_n ** (p - 1))
        if p < 2:
            return xp.sign(x) * (a ** (p - 1) * scale),
        return x * (a ** (p - 2) * scale),


def _vector_norm(x, p, axes, keepdims):
    be = x._be
    xp = be.xp
    xd = x._data
    a = xp.abs(xd)
    if p == 2:
        data = xp.sqrt(xp.sum(a * a, axis=axes, keepdims=keepdims))
    elif p == 1:
        data = xp.sum(a, axis=axes, keepdims=keepdims)
    elif p == _INF or p == -_INF:
        if 0 in xd.shape:
            raise ValueError(f"norm: the {p} norm of an empty tensor (shape {tuple(xd.shape)}) is "
                             f"undefined")
        data = (xp.max if p > 0 else xp.min)(a, axis=axes, keepdims=keepdims)
    elif p == 0:
        data = xp.sum(xp.astype(xd != 0, a.dtype), axis=axes, keepdims=keepdims)
    else:
        if p < 0:       # |0| ** p is inf: the sum is inf and the norm 0 (no warnings)
            safe = xp.where(a == 0, xp.ones_like(a), a) ** p
            ap = xp.where(a == 0, xp.full_like(a, _INF), safe)
        else:
            ap = a ** p
        data = xp.sum(ap, axis=axes, keepdims=keepdims) ** (1.0 / p)
    if x._node is None or not grad_state.enabled:
        return x._make(data, be, None)
    node = record(NormBackward, be, (x,), (x, OUTPUT), (xd, data))
    node.p, node.axes, node.keepdims = p, axes, keepdims
    return x._make(data, be, node)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """``torch.norm``: the vector ``p``-norm over ``dim`` (all elements by default).

    ``p``: a number (2, 1, ``inf``, ``-inf``, 0 = the count of nonzeros, any other real) or
    ``"fro"`` (the default: the 2-norm, over at most 2 dims). ``"nuc"`` needs a singular
    value decomposition and is not supported. Differentiable with PyTorch's conventions
    at kinks: a zero norm has zero gradient, not NaN.
    """
    x = input
    if not isinstance(x, Variable):
        raise TypeError(f"norm: expected a Tensor, got {type(x).__name__}")
    if isinstance(p, str):
        if p == "nuc":
            raise NotImplementedError("norm: the nuclear norm (p='nuc') needs a singular value "
                                      "decomposition, which interop does not provide yet")
        if p != "fro":
            raise ValueError(f"norm: only valid string values are 'fro' and 'nuc', found {p!r}")
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise ValueError(f"norm: p='fro' takes at most 2 dims, got dim={tuple(dim)}; use "
                             f"p=2 for the 2-norm over more dims")
        p = 2
    elif p is None:
        p = 2
    else:
        p = float(p)
    if dtype is not None:
        want = interop_dtype(x._be, dtype)
        if promote_types(x.dtype, want) is not want:
            raise TypeError(f"norm: the input's dtype {x.dtype} cannot be converted to dtype={want} "
                            f"without narrowing")
        x = astype(x, want)
    dt = x._be.dtype_of(x._data)
    if not (dt.is_floating_point or dt.is_complex):
        raise TypeError(f"norm: expected a floating point or complex tensor as input, got dtype "
                        f"{dt}")
    axes = norm_dims(dim, x._data.ndim, "norm")
    return _vector_norm(x, p, axes, bool(keepdim))


class LinalgMethods:
    """Tensor operators and methods for linear algebra."""

    __slots__ = ()

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    def matmul(self, other):
        return matmul(self, other)

    def mm(self, other):
        return mm(self, other)

    def outer(self, other):
        return outer(self, other)

    def bmm(self, mat2):
        return bmm(self, mat2)

    def dot(self, other):
        return dot(self, other)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return norm(self, p, dim, keepdim, dtype)
