"""One table of differentiable ops, checked two ways on every backend:

a) ``interop.autograd.gradcheck`` (central finite differences) in float64;
b) forward values and the gradients of ``sum(out * w)`` against PyTorch, in float32
   and float64.

Each entry names the op, its interop callable, its PyTorch callable (the same
callable where the spelling is shared) and a generator that draws shapes with
hypothesis and values from a seeded NumPy RNG, inside the op's domain. Generators
return the call's arguments: float NumPy arrays become differentiable tensors,
integer/bool arrays become index/mask tensors, anything else is passed as is.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings, HealthCheck, strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import interop as it
from helpers import to_np, from_np

try:
    import torch
except ImportError:      # the torch comparison importorskips; gradcheck runs without it
    torch = None

_HC = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]

# Small shapes: at most 3 dims of size 1-3 (<= 27 elements; gradcheck is O(numel)).
SHAPE = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
SHAPE1 = array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)
SHAPE2 = array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=3)
BCAST2 = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)
BCAST3 = mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3)


class Op:
    def __init__(self, name, f, tf=None, gen=None, gc=None, dtype=None, tol=None, torch=True,
                 gradcheck=True):
        self.name = name
        self.f = f                      # interop callable
        self.tf = tf or f               # torch callable (same callable when spellings agree)
        self.gen = gen                  # gen(draw, rng) -> tuple of call arguments
        self.gc = gc or {}              # extra gradcheck keywords
        self.dtype = dtype              # fixed float input dtype (astype entries), else None
        self.tol = tol or {}            # extra tolerance for the torch comparison
        self.torch = torch              # False: PyTorch cannot compute this case (see the entry)
        self.gradcheck = gradcheck      # False: not differentiable there (ties), torch only

    def __repr__(self):
        return self.name


# ------------------------------------------------------------------ value domains

def _arr(v):
    return np.asarray(v, dtype=np.float64)


def real(rng, shape, lo=-2.0, hi=2.0):
    return _arr(rng.uniform(lo, hi, shape))


def pos(rng, shape, lo=0.2, hi=3.0):
    return real(rng, shape, lo, hi)


def away0(rng, shape, lo=0.3, hi=2.0):
    """|x| in [lo, hi] with a random sign (kinks and poles at 0 stay out of reach)."""
    return _arr(rng.uniform(lo, hi, shape) * rng.choice([-1.0, 1.0], shape))


def unit(rng, shape):
    return real(rng, shape, -0.9, 0.9)


def distinct(rng, shape):
    """Values with no ties (max/min/amax/amin are not differentiable at ties)."""
    n = math.prod(shape)
    v = rng.permutation(n).astype(np.float64) * 0.37 - 0.3 * n + rng.uniform(-0.05, 0.05, n)
    return _arr(v.reshape(shape))


def _dims(draw, ndim, allow_tuple=True, allow_none=True):
    """A reduction's dim spec for an ndim-dim input: None, an int (maybe negative) or a tuple."""
    choices = ["int"] + (["none"] if allow_none else []) + (["tuple"] if allow_tuple and ndim > 1 else [])
    kind = draw(st.sampled_from(choices))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    return tuple(draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True)))


# ------------------------------------------------------------------ generators

def g_unary(domain=real, shape=SHAPE):
    def g(draw, rng):
        return (domain(rng, draw(shape)),)
    return g


def g_binary(da=real, db=real):
    def g(draw, rng):
        sa, sb = draw(BCAST2).input_shapes
        return da(rng, sa), db(rng, sb)
    return g


def g_maxmin(draw, rng):
    sa, sb = draw(BCAST2).input_shapes
    a = real(rng, sa)
    b = real(rng, sb)
    # keep |a - b| >= 0.1 everywhere (no ties within the finite-difference step)
    d = np.broadcast_to(b, np.broadcast_shapes(sa, sb))
    close = np.abs(np.broadcast_to(a, d.shape) - d) < 0.1
    if close.any():
        b = b + 0.25
    return a, _arr(b)


def g_remainder(draw, rng):
    sa, sb = draw(BCAST2).input_shapes
    b = away0(rng, sb, 0.5, 2.0)
    # a = b * (k + frac) with frac in [0.1, 0.9]: away from the jumps at multiples of b
    bb = np.broadcast_to(b, np.broadcast_shapes(sa, sb))
    k = rng.integers(-2, 3, bb.shape) + rng.uniform(0.1, 0.9, bb.shape)
    a = bb * k
    # reduce a back to its own shape: take the first element along the broadcast dims
    lead = len(bb.shape) - len(sa)
    a = a[(0,) * lead] if lead else a
    for i, n in enumerate(sa):
        if n == 1 and a.shape[i] != 1:
            a = np.take(a, [0], axis=i)
    return _arr(a), b


def g_reduce(domain=real, shape=SHAPE1, allow_tuple=True):
    def g(draw, rng):
        s = draw(shape)
        return domain(rng, s), _dims(draw, len(s), allow_tuple), draw(st.booleans())
    return g


def g_var(draw, rng):
    s = draw(array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=3))
    # well-separated values: a spread near zero cancels catastrophically in float32
    return distinct(rng, s), _dims(draw, len(s)), draw(st.booleans()), draw(st.sampled_from([0, 1]))


def g_dim(domain=real, shape=SHAPE1):
    def g(draw, rng):
        s = draw(shape)
        return domain(rng, s), draw(st.integers(-len(s), len(s) - 1))
    return g


def g_reshape(draw, rng):
    s = draw(SHAPE)
    n = math.prod(s)
    target = draw(st.sampled_from([(n,), (1, n), (n, 1), (-1,), tuple(reversed(s)) or (1,)]))
    return real(rng, s), target


def g_permute(draw, rng):
    s = draw(SHAPE1)
    return real(rng, s), tuple(draw(st.permutations(range(len(s)))))


def g_transpose(draw, rng):
    s = draw(SHAPE1)
    n = len(s)
    return real(rng, s), draw(st.integers(-n, n - 1)), draw(st.integers(-n, n - 1))


def g_squeeze(draw, rng):
    s = list(draw(SHAPE1))
    s.insert(draw(st.integers(0, len(s))), 1)
    s = tuple(s)
    ones = [i for i, n in enumerate(s) if n == 1]
    dim = draw(st.sampled_from([None] + ones + [i - len(s) for i in ones]))
    return real(rng, s), dim


def g_unsqueeze(draw, rng):
    s = draw(SHAPE)
    return real(rng, s), draw(st.integers(-len(s) - 1, len(s)))


def g_expand(draw, rng):
    s = draw(array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))
    ones = tuple(1 if draw(st.booleans()) else n for n in s)
    target = tuple(draw(st.integers(1, 3)) if n == 1 else n for n in ones)
    lead = tuple(draw(st.lists(st.integers(1, 2), max_size=1)))
    return real(rng, ones), lead + target


def g_flatten(draw, rng):
    s = draw(SHAPE1)
    n = len(s)
    a = draw(st.integers(0, n - 1))
    b = draw(st.integers(a, n - 1))
    return real(rng, s), a, b - n if draw(st.booleans()) else b


def g_cat(draw, rng):
    s = list(draw(SHAPE1))
    d = draw(st.integers(0, len(s) - 1))
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        s[d] = draw(st.integers(1, 2))
        parts.append(real(rng, tuple(s)))
    return (d - len(s) if draw(st.booleans()) else d, *parts)


def g_stack(draw, rng):
    s = draw(array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    k = draw(st.integers(1, 3))
    return (draw(st.integers(-len(s) - 1, len(s))), *[real(rng, s) for _ in range(k)])


def g_split(draw, rng):
    s = list(draw(SHAPE1))
    d = draw(st.integers(0, len(s) - 1))
    s[d] = draw(st.integers(1, 4))
    n = s[d]
    if draw(st.booleans()):
        sizes = draw(st.integers(1, n))
    else:
        cuts = sorted(draw(st.lists(st.integers(0, n), max_size=2)))
        b = [0] + cuts + [n]
        sizes = [b[i + 1] - b[i] for i in range(len(b) - 1)]
    return real(rng, tuple(s)), sizes, d


def g_chunk(draw, rng):
    s = list(draw(SHAPE1))
    d = draw(st.integers(0, len(s) - 1))
    s[d] = draw(st.integers(1, 4))
    return real(rng, tuple(s)), draw(st.integers(1, 4)), d


def g_flip(draw, rng):
    s = draw(SHAPE1)
    return real(rng, s), tuple(draw(st.lists(st.integers(0, len(s) - 1), min_size=1,
                                             max_size=len(s), unique=True)))


def g_where(draw, rng):
    sc, sa, sb = draw(BCAST3).input_shapes
    return np.asarray(rng.random(sc) < 0.5), real(rng, sa), real(rng, sb)


def g_clamp(lo, hi):
    def g(draw, rng):
        x = real(rng, draw(SHAPE))
        for b in (lo, hi):     # no value within 0.05 of a bound
            if b is not None:
                x = np.where(np.abs(x - b) < 0.05, x + 0.1, x)
        return (_arr(x),)
    return g


def g_matmul(kind):
    def g(draw, rng):
        n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
        if kind == "1d1d":
            return real(rng, (k,)), real(rng, (k,))
        if kind == "1d2d":
            return real(rng, (k,)), real(rng, (k, m))
        if kind == "2d1d":
            return real(rng, (n, k)), real(rng, (k,))
        if kind == "2d2d":
            return real(rng, (n, k)), real(rng, (k, m))
        ba, bb = draw(mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=2,
                                                    max_side=2)).input_shapes
        return real(rng, ba + (n, k)), real(rng, bb + (k, m))
    return g


def _index(rng, n, shape, negative=True):
    lo = -n if negative else 0
    return np.asarray(rng.integers(lo, n, shape), dtype=np.int64)


def g_gather(draw, rng):
    s = draw(SHAPE1)
    d = draw(st.integers(0, len(s) - 1))
    ishape = tuple(draw(st.integers(1, 3)) if i == d else draw(st.integers(1, n))
                   for i, n in enumerate(s))
    return real(rng, s), d, _index(rng, s[d], ishape, negative=False)


def g_scatter_add(larger_src):
    def g(draw, rng):
        s = draw(SHAPE1)
        d = draw(st.integers(0, len(s) - 1))
        ishape = tuple(draw(st.integers(1, 3)) if i == d else draw(st.integers(1, n))
                       for i, n in enumerate(s))
        src = tuple(n + draw(st.integers(0, 1)) for n in ishape) if larger_src else ishape
        return real(rng, s), d, _index(rng, s[d], ishape, negative=False), real(rng, src)
    return g


def g_index_select(draw, rng):
    s = draw(SHAPE1)
    d = draw(st.integers(0, len(s) - 1))
    return real(rng, s), d, _index(rng, s[d], (draw(st.integers(1, 4)),), negative=False)


def g_index_add(draw, rng):
    s = draw(SHAPE1)
    d = draw(st.integers(0, len(s) - 1))
    k = draw(st.integers(1, 4))
    src = tuple(k if i == d else n for i, n in enumerate(s))
    return real(rng, s), d, _index(rng, s[d], (k,), negative=False), real(rng, src)


def g_take(draw, rng):
    s = draw(SHAPE)
    return real(rng, s), _index(rng, math.prod(s), (draw(st.integers(1, 5)),), negative=False)


def _basic_key(draw, s):
    key = []
    for n in s:
        kind = draw(st.sampled_from(["int", "slice", "full"]))
        if kind == "int":
            key.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            a = draw(st.integers(0, n - 1))
            key.append(slice(a - n if draw(st.booleans()) else a, draw(st.integers(a + 1, n)),
                             draw(st.integers(1, 2))))
        else:
            key.append(slice(None))
    if key and draw(st.booleans()):
        key.pop()                    # a key shorter than ndim
    return tuple(key)


def g_getitem_basic(draw, rng):
    s = draw(SHAPE1)
    return real(rng, s), _basic_key(draw, s)


def g_getitem_int(draw, rng):
    s = draw(SHAPE1)
    # repeated indices on purpose: their gradients must accumulate
    idx = _index(rng, s[0], draw(st.sampled_from([(4,), (2, 2), (1,)])))
    return real(rng, s), idx


def g_getitem_int_dim1(draw, rng):
    s = draw(SHAPE2)
    return real(rng, s), _index(rng, s[1], (draw(st.integers(1, 4)),))


def g_mask(rng, s):
    m = rng.random(s) < 0.5
    m.reshape(-1)[rng.integers(0, max(m.size, 1))] = True   # at least one element selected
    return m


def g_getitem_mask(draw, rng):
    s = draw(SHAPE1)
    return real(rng, s), g_mask(rng, s)


def g_getitem_mask_rows(draw, rng):
    s = draw(SHAPE2)
    return real(rng, s), g_mask(rng, s[:1])


def g_setitem_basic(draw, rng):
    s = draw(SHAPE1)
    key = _basic_key(draw, s)
    vshape = np.empty(s)[key].shape
    if vshape and draw(st.booleans()):
        vshape = vshape[1:]          # broadcast along the leading dim
    return real(rng, s), key, real(rng, vshape)


def g_setitem_int(draw, rng):
    s = draw(SHAPE1)
    k = draw(st.integers(1, s[0]))
    idx = np.asarray(rng.permutation(s[0])[:k], dtype=np.int64)   # no repeats: no write order
    return real(rng, s), idx, real(rng, (k,) + tuple(s[1:]))


def g_setitem_mask(draw, rng):
    s = draw(SHAPE1)
    m = g_mask(rng, s)
    return real(rng, s), m, real(rng, (int(m.sum()),))


# ------------------------------------------------------------------ torch helpers

def _t_prod(x, d, k):
    if d is None:
        out = torch.prod(x)
        return out.reshape((1,) * x.ndim) if k else out
    return torch.prod(x, d, keepdim=k)


def _t_lse(x, d, k):
    return torch.logsumexp(x, dim=tuple(range(x.ndim)) if d is None else d, keepdim=k)


def _t_amax(fn):
    return lambda x, d, k: fn(x, dim=() if d is None else d, keepdim=k)


def _t_split(x, sizes, d):
    return torch.split(x, sizes, dim=d)


def _setitem(x, key, v):
    y = x.clone()
    y[key] = v
    return y


def _setitem_mul(x, key, v):
    # also checks that the gradient flows through ops after the write
    y = x.clone()
    y[key] = v
    return y * y


def _astype(to):
    return lambda x: it.astype(x, getattr(it, to)) * 1.5


def _torch_to(to):
    return lambda x: x.to(getattr(torch, to)) * 1.5


# ------------------------------------------------------------------ the table

def _ns(name):
    """A (namespace-function, torch-function) pair with the same name."""
    return (getattr(it, name), lambda *a, **k: getattr(torch, name)(*a, **k))


_UNARY_DOMAINS = {
    "exp": real, "expm1": real, "log": pos, "log1p": pos, "log2": pos, "log10": pos,
    "sqrt": pos, "rsqrt": pos, "sin": real, "cos": real,
    "tan": lambda r, s: real(r, s, -1.2, 1.2), "tanh": real, "sinh": real, "cosh": real,
    "asin": unit, "acos": unit, "atan": real, "asinh": real,
    "acosh": lambda r, s: real(r, s, 1.1, 3.0), "atanh": unit, "reciprocal": away0,
    "square": real, "abs": away0, "sigmoid": real, "relu": away0,
}

OPS = []

# binary ops, tensor-tensor with broadcasting
OPS += [
    Op("add", it.add, lambda a, b: torch.add(a, b), g_binary()),
    Op("add_alpha", lambda a, b: it.add(a, b, alpha=2.5), lambda a, b: torch.add(a, b, alpha=2.5),
       g_binary()),
    Op("sub", it.subtract, lambda a, b: torch.sub(a, b), g_binary()),
    Op("mul", it.multiply, lambda a, b: torch.mul(a, b), g_binary()),
    Op("div", it.divide, lambda a, b: torch.div(a, b), g_binary(real, away0)),
    Op("pow", it.pow, lambda a, b: torch.pow(a, b), g_binary(pos, real)),
    Op("op_add", lambda a, b: a + b, None, g_binary()),
    Op("op_sub", lambda a, b: a - b, None, g_binary()),
    Op("op_mul", lambda a, b: a * b, None, g_binary()),
    Op("op_div", lambda a, b: a / b, None, g_binary(real, away0)),
    Op("op_pow", lambda a, b: a ** b, None, g_binary(pos, real)),
    Op("op_neg", lambda a: -a, None, g_unary()),
    Op("maximum", it.maximum, lambda a, b: torch.maximum(a, b), g_maxmin),
    Op("minimum", it.minimum, lambda a, b: torch.minimum(a, b), g_maxmin),
    Op("atan2", it.atan2, lambda a, b: torch.atan2(a, b), g_binary(away0, away0)),
    Op("remainder", it.remainder, lambda a, b: torch.remainder(a, b), g_remainder),
    Op("op_mod", lambda a, b: a % b, None, g_remainder),
    Op("logaddexp", it.logaddexp, lambda a, b: torch.logaddexp(a, b), g_binary()),
    Op("hypot", it.hypot, lambda a, b: torch.hypot(a, b), g_binary(away0, away0)),
]

# binary ops with a Python scalar, both orders
OPS += [
    Op("add_scalar", lambda x: x + 2.5, None, g_unary()),
    Op("radd_scalar", lambda x: 2.5 + x, None, g_unary()),
    Op("sub_scalar", lambda x: x - 1.5, None, g_unary()),
    Op("rsub_scalar", lambda x: 1.5 - x, None, g_unary()),
    Op("mul_scalar", lambda x: x * -3.0, None, g_unary()),
    Op("rmul_scalar", lambda x: 3 * x, None, g_unary()),
    Op("div_scalar", lambda x: x / 2.5, None, g_unary()),
    Op("rdiv_scalar", lambda x: 2.5 / x, None, g_unary(away0)),
    Op("pow_int_scalar", lambda x: x ** 3, None, g_unary()),
    Op("pow_float_scalar", lambda x: x ** 2.5, None, g_unary(pos)),
    Op("pow_zero_scalar", lambda x: x ** 0, None, g_unary()),
    Op("pow_neg_scalar", lambda x: x ** -2, None, g_unary(away0)),
    Op("rpow_scalar", lambda x: 2.0 ** x, None, g_unary()),
    Op("mod_scalar", lambda x: x % 0.7, None,
       lambda draw, rng: (_arr(0.7 * (rng.integers(-3, 3, s := draw(SHAPE)) +
                                      rng.uniform(0.1, 0.9, s))),)),
    Op("maximum_scalar", lambda x: it.maximum(x, 0.5), lambda x: torch.clamp(x, min=0.5),
       g_clamp(0.5, None)),
    Op("minimum_scalar", lambda x: it.minimum(x, 0.5), lambda x: torch.clamp(x, max=0.5),
       g_clamp(None, 0.5)),
]

# unary ops (namespace function and method; PyTorch's name where it differs)
for _n, _dom in _UNARY_DOMAINS.items():
    OPS.append(Op(_n, getattr(it, _n), (lambda n: lambda x: getattr(torch, n)(x))(_n), g_unary(_dom)))
    OPS.append(Op(_n + "_method", (lambda n: lambda x: getattr(x, n)())(_n), None, g_unary(_dom)))
OPS += [
    Op("neg", it.neg, lambda x: torch.neg(x), g_unary()),
    Op("negative", it.negative, lambda x: torch.negative(x), g_unary()),
    Op("positive", it.positive, lambda x: torch.positive(x), g_unary()),
    Op("op_abs", lambda x: abs(x), None, g_unary(away0)),
    Op("arcsin", it.arcsin, lambda x: torch.arcsin(x), g_unary(unit)),
]

# reductions: namespace spelling (dim=/keepdim=) against torch; method and axis=/keepdims=
OPS += [
    Op("sum", lambda x, d, k: it.sum(x, dim=d, keepdim=k),
       lambda x, d, k: torch.sum(x, dim=d, keepdim=k), g_reduce()),
    Op("sum_axis", lambda x, d, k: it.sum(x, axis=d, keepdims=k),
       lambda x, d, k: torch.sum(x, dim=d, keepdim=k), g_reduce()),
    Op("sum_method", lambda x, d, k: x.sum(d, keepdim=k), None, g_reduce()),
    Op("mean", lambda x, d, k: it.mean(x, dim=d, keepdim=k),
       lambda x, d, k: torch.mean(x, dim=d, keepdim=k), g_reduce()),
    Op("mean_method", lambda x, d, k: x.mean(d, keepdim=k), None, g_reduce()),
    Op("prod", lambda x, d, k: it.prod(x, dim=d, keepdim=k), _t_prod,
       g_reduce(lambda r, s: away0(r, s, 0.5, 1.5), allow_tuple=False)),
    Op("prod_with_zero", lambda x, d, k: it.prod(x, dim=d, keepdim=k), _t_prod,
       lambda draw, rng: (lambda x, d, k: (_arr(np.where(rng.random(x.shape) < 0.3, 0.0, x)), d, k))(
           *g_reduce(allow_tuple=False)(draw, rng))),
    Op("amax", lambda x, d, k: it.amax(x, dim=d, keepdim=k),
       _t_amax(lambda *a, **kw: torch.amax(*a, **kw)), g_reduce(distinct)),
    Op("amin", lambda x, d, k: it.amin(x, dim=d, keepdim=k),
       _t_amax(lambda *a, **kw: torch.amin(*a, **kw)), g_reduce(distinct)),
    Op("amax_ties", lambda x, d, k: it.amax(x, dim=d, keepdim=k),
       _t_amax(lambda *a, **kw: torch.amax(*a, **kw)),
       lambda draw, rng: (_arr(np.round(rng.uniform(-1, 1, s := draw(SHAPE1)))),
                          _dims(draw, len(s)), draw(st.booleans())), gradcheck=False),
    Op("max_dim_values", lambda x, d, k: it.max(x, dim=d, keepdim=k).values,
       lambda x, d, k: torch.max(x, dim=d, keepdim=k).values,
       lambda draw, rng: (distinct(rng, s := draw(SHAPE1)), draw(st.integers(-len(s), len(s) - 1)),
                          draw(st.booleans()))),
    Op("var", lambda x, d, k, c: it.var(x, dim=d, keepdim=k, correction=c),
       lambda x, d, k, c: torch.var(x, dim=d, keepdim=k, correction=c), g_var),
    Op("std", lambda x, d, k, c: it.std(x, dim=d, keepdim=k, correction=c),
       lambda x, d, k, c: torch.std(x, dim=d, keepdim=k, correction=c), g_var),
    Op("var_method", lambda x, d, k, c: x.var(d, unbiased=bool(c), keepdim=k), None, g_var),
    Op("std_method", lambda x, d, k, c: x.std(d, unbiased=bool(c), keepdim=k), None, g_var),
    Op("logsumexp", lambda x, d, k: it.logsumexp(x, dim=d, keepdim=k), _t_lse, g_reduce()),
    Op("logsumexp_large", lambda x, d, k: it.logsumexp(x, dim=d, keepdim=k), _t_lse,
       g_reduce(lambda r, s: real(r, s, 80.0, 90.0))),
    Op("cumsum", lambda x, d: it.cumsum(x, d), lambda x, d: torch.cumsum(x, d), g_dim()),
    Op("cumulative_sum", lambda x, d: it.cumulative_sum(x, axis=d),
       lambda x, d: torch.cumsum(x, d), g_dim()),
]

# shape ops
OPS += [
    Op("reshape", lambda x, s: it.reshape(x, s), lambda x, s: torch.reshape(x, s), g_reshape),
    Op("reshape_method", lambda x, s: x.reshape(*s), None, g_reshape),
    Op("view", lambda x, s: x.view(*s), None, g_reshape),
    Op("permute", lambda x, p: x.permute(*p), None, g_permute),
    Op("permute_dims", lambda x, p: it.permute_dims(x, p), lambda x, p: torch.permute(x, p),
       g_permute),
    Op("transpose", lambda x, a, b: it.transpose(x, a, b), lambda x, a, b: torch.transpose(x, a, b),
       g_transpose),
    Op("squeeze", lambda x, d: x.squeeze(d), lambda x, d: x.squeeze() if d is None else x.squeeze(d),
       g_squeeze),
    Op("unsqueeze", lambda x, d: it.unsqueeze(x, d), lambda x, d: torch.unsqueeze(x, d), g_unsqueeze),
    Op("expand", lambda x, s: x.expand(*s), None, g_expand),
    Op("broadcast_to", lambda x, s: it.broadcast_to(x, s), lambda x, s: torch.broadcast_to(x, s),
       g_expand),
    Op("flatten", lambda x, a, b: it.flatten(x, a, b), lambda x, a, b: torch.flatten(x, a, b),
       g_flatten),
    Op("cat", lambda d, *xs: it.cat(list(xs), dim=d), lambda d, *xs: torch.cat(list(xs), dim=d), g_cat),
    Op("concat_axis", lambda d, *xs: it.concat(list(xs), axis=d),
       lambda d, *xs: torch.cat(list(xs), dim=d), g_cat),
    Op("stack", lambda d, *xs: it.stack(list(xs), dim=d), lambda d, *xs: torch.stack(list(xs), dim=d),
       g_stack),
    Op("split", lambda x, s, d: it.split(x, s, d), _t_split, g_split),
    Op("split_method", lambda x, s, d: x.split(s, d), None, g_split),
    Op("chunk", lambda x, c, d: it.chunk(x, c, d), lambda x, c, d: torch.chunk(x, c, d), g_chunk),
    Op("unbind", lambda x, d: it.unbind(x, d), lambda x, d: torch.unbind(x, d), g_dim()),
    Op("split_partial_use", lambda x, c, d: it.chunk(x, c, d)[0] * 2.0,
       lambda x, c, d: torch.chunk(x, c, d)[0] * 2.0, g_chunk),
    Op("flip", lambda x, d: it.flip(x, dims=d), lambda x, d: torch.flip(x, d), g_flip),
    Op("flip_method", lambda x, d: x.flip(d), None, g_flip),
    Op("T", lambda x: x.T * 1.0, lambda x: x.permute(*range(x.ndim - 1, -1, -1)) * 1.0,
       g_unary(shape=SHAPE1)),
    Op("mT", lambda x: x.mT * 1.0, None, g_unary(shape=SHAPE2)),
]

# where, clamp, matmul
OPS += [
    Op("where", it.where, lambda c, a, b: torch.where(c, a, b), g_where),
    Op("where_scalar", lambda c, a, b: it.where(c, a, 0.5), lambda c, a, b: torch.where(c, a, 0.5),
       g_where),
    Op("clamp", lambda x: it.clamp(x, -0.5, 0.7), lambda x: torch.clamp(x, -0.5, 0.7),
       g_clamp(-0.5, 0.7)),
    Op("clamp_min", lambda x: x.clamp(min=-0.3), None, g_clamp(-0.3, None)),
    Op("clamp_max", lambda x: x.clamp(max=0.4), None, g_clamp(None, 0.4)),
    Op("clip", lambda x: it.clip(x, -0.5, 0.7), lambda x: torch.clip(x, -0.5, 0.7),
       g_clamp(-0.5, 0.7)),
]
for _k in ("1d1d", "1d2d", "2d1d", "2d2d", "batched"):
    OPS.append(Op("matmul_" + _k, it.matmul, lambda a, b: torch.matmul(a, b), g_matmul(_k)))
OPS.append(Op("op_matmul", lambda a, b: a @ b, None, g_matmul("batched")))

# gather / scatter / index
OPS += [
    Op("gather", lambda x, d, i: it.gather(x, d, i), lambda x, d, i: torch.gather(x, d, i), g_gather),
    Op("gather_method", lambda x, d, i: x.gather(d, i), None, g_gather),
    Op("scatter_add", lambda x, d, i, s: it.scatter_add(x, d, i, s),
       lambda x, d, i, s: torch.scatter_add(x, d, i, s), g_scatter_add(False)),
    # src larger than index: the extra src entries get zero gradient (PyTorch's own
    # backward returns a gradient of the index's shape there and errors, so gradcheck only)
    Op("scatter_add_larger_src", lambda x, d, i, s: it.scatter_add(x, d, i, s), None,
       g_scatter_add(True), torch=False),
    Op("index_select", lambda x, d, i: it.index_select(x, d, i),
       lambda x, d, i: torch.index_select(x, d, i), g_index_select),
    Op("index_add", lambda x, d, i, s: it.index_add(x, d, i, s),
       lambda x, d, i, s: torch.index_add(x, d, i, s), g_index_add),
    Op("take", lambda x, i: it.take(x, i), lambda x, i: torch.take(x, i), g_take),
    Op("getitem_basic", lambda x, k: x[k], None, g_getitem_basic),
    Op("getitem_none_ellipsis", lambda x: x[None, ..., 0], None, g_unary(shape=SHAPE1)),
    Op("getitem_int_array", lambda x, i: x[i], None, g_getitem_int),
    Op("getitem_int_array_dim1", lambda x, i: x[:, i], None, g_getitem_int_dim1),
    Op("getitem_mask", lambda x, m: x[m], None, g_getitem_mask),
    Op("getitem_mask_rows", lambda x, m: x[m], None, g_getitem_mask_rows),
    Op("setitem_basic", _setitem, None, g_setitem_basic),
    Op("setitem_basic_then_op", _setitem_mul, None, g_setitem_basic),
    Op("setitem_int_array", _setitem, None, g_setitem_int),
    Op("setitem_mask", _setitem, None, g_setitem_mask),
]

# casts (the finite-difference step must stay well above float32 rounding)
OPS += [
    Op("astype_f64_to_f32", _astype("float32"), _torch_to("float32"), g_unary(), dtype="float64",
       gc={"eps": 1e-3, "atol": 1e-4}),
    Op("astype_f32_to_f64", _astype("float64"), _torch_to("float64"), g_unary(), dtype="float32",
       gc={"eps": 1e-3, "atol": 1e-4}),
    Op("to_double", lambda x: x.double() * 1.5, lambda x: x.double() * 1.5, g_unary(),
       dtype="float32", gc={"eps": 1e-3, "atol": 1e-4}),
]


# composites and kernels exposed in the namespace
def g_clamp_tensor(draw, rng):
    s = draw(SHAPE)
    lo = real(rng, s, -1.0, -0.3)
    hi = real(rng, s, 0.3, 1.0)
    x = real(rng, s)
    for b in (lo, hi):          # keep x off the bounds (the gradient jumps there)
        x = np.where(np.abs(x - b) < 0.05, b + 0.1, x)
    return _arr(x), _arr(lo), _arr(hi)


def g_sum_to(draw, rng):
    target, other = draw(BCAST2).input_shapes
    full = np.broadcast_shapes(target, other)
    return real(rng, full), tuple(target)


def _t_sum_to(x, target):
    lead = x.ndim - len(target)
    if lead:
        x = x.sum(dim=tuple(range(lead)))
    for i, n in enumerate(target):
        if n == 1 and x.shape[i] != 1:
            x = x.sum(dim=i, keepdim=True)
    return x


def g_add_at(draw, rng):
    s = draw(SHAPE1)
    k = draw(st.integers(1, 4))
    return real(rng, s), _index(rng, s[0], (k,), negative=False), real(rng, (k,) + tuple(s[1:]))


OPS += [
    Op("softmax", lambda x, d: it.softmax(x, d), lambda x, d: torch.softmax(x, d), g_dim()),
    Op("softmax_method", lambda x, d: x.softmax(d), lambda x, d: x.softmax(d), g_dim()),
    Op("log_softmax", lambda x, d: it.log_softmax(x, d), lambda x, d: torch.log_softmax(x, d),
       g_dim()),
    Op("clamp_tensor_bounds", lambda x, lo, hi: it.clamp(x, lo, hi),
       lambda x, lo, hi: torch.clamp(x, lo, hi), g_clamp_tensor),
    Op("sum_to", lambda x, t: it.sum_to(x, t), _t_sum_to, g_sum_to),
    Op("add_at", lambda x, i, v: it.add_at(x, (i,), v),
       lambda x, i, v: x.index_put((i,), v, accumulate=True), g_add_at),
]


def off_integers(rng, shape):
    """Values at least 0.1 from an integer and from a .5 (floor/round jump there)."""
    v = rng.integers(-3, 3, shape) + rng.uniform(0.1, 0.4, shape) * rng.choice([1.0, -1.0], shape)
    return _arr(v + 0.0)


def g_moveaxis(draw, rng):
    s = draw(SHAPE1)
    return real(rng, s), draw(st.integers(0, len(s) - 1)), draw(st.integers(0, len(s) - 1))


def g_take_along(draw, rng):
    s = draw(SHAPE1)
    d = draw(st.integers(0, len(s) - 1))
    ishape = tuple(draw(st.integers(1, 3)) if i == d else n for i, n in enumerate(s))
    return real(rng, s), _index(rng, s[d], ishape, negative=False), d


def g_outer(draw, rng):
    return real(rng, (draw(st.integers(1, 4)),)), real(rng, (draw(st.integers(1, 4)),))


def g_mm(draw, rng):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    return real(rng, (n, k)), real(rng, (k, m))


def g_unflatten(draw, rng):
    a, b = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return real(rng, (2, a * b)), (a, b)


def _other_backend(x):
    """Move to the other CPU backend and back: both moves are differentiable."""
    other = "cpu" if x.backend.name == "strict" else "strict"
    return (x.to(other) * 2.0).to(x.backend)


OPS += [
    Op("floor", it.floor, lambda x: torch.floor(x), g_unary(off_integers)),
    Op("ceil", it.ceil, lambda x: torch.ceil(x), g_unary(off_integers)),
    Op("round", it.round, lambda x: torch.round(x), g_unary(off_integers)),
    Op("trunc", it.trunc, lambda x: torch.trunc(x), g_unary(off_integers)),
    Op("sign", it.sign, lambda x: torch.sign(x), g_unary(away0)),
    Op("conj_real", it.conj, lambda x: torch.conj(x), g_unary()),
    Op("clone", it.clone, lambda x: torch.clone(x), g_unary()),
    Op("moveaxis", lambda x, a, b: it.moveaxis(x, a, b), lambda x, a, b: torch.moveaxis(x, a, b),
       g_moveaxis),
    Op("take_along_axis", lambda x, i, d: it.take_along_axis(x, i, axis=d),
       lambda x, i, d: torch.take_along_dim(x, i, dim=d), g_take_along),
    Op("outer", it.outer, lambda a, b: torch.outer(a, b), g_outer),
    Op("mm", it.mm, lambda a, b: torch.mm(a, b), g_mm),
    Op("unflatten", lambda x, s: it.unflatten(x, 1, s), lambda x, s: torch.unflatten(x, 1, s),
       g_unflatten),
    Op("to_other_backend", _other_backend, lambda x: x * 2.0, g_unary()),
]

# ------------------------------------------------------------------ semantics (branch `semantics`)
# PyTorch's spellings and conventions where the standard is silent: positional dim, max
# over a dim and over everything (the gradient to the index / shared by the maxima), 0-d
# inputs, joins and selections across dtypes. Ties and NaNs are in test_kinks.py.


def _ties(rng, shape):
    """Few distinct values: ties in every slice of any size."""
    return _arr(np.round(rng.uniform(-1, 1, shape)))


def g_dim_keep(domain):
    def g(draw, rng):
        s = draw(SHAPE1)
        return domain(rng, s), draw(st.integers(-len(s), len(s) - 1)), draw(st.booleans())
    return g


def g_cat_int(draw, rng):
    s = list(draw(SHAPE1))
    d = draw(st.integers(0, len(s) - 1))
    x = real(rng, tuple(s))
    s[d] = draw(st.integers(1, 2))
    return d, x, np.asarray(rng.integers(-3, 3, tuple(s)), dtype=np.int64)


def g_where_int(draw, rng):
    sc, sa, sb = draw(BCAST3).input_shapes
    return (np.asarray(rng.random(sc) < 0.5), real(rng, sa),
            np.asarray(rng.integers(-3, 3, sb), dtype=np.int64))


OPS += [
    Op("max_dim_positional", lambda x, d, k: it.max(x, d, k).values,
       lambda x, d, k: torch.max(x, d, k).values, g_dim_keep(distinct)),
    Op("min_dim_method_positional", lambda x, d, k: x.min(d, k)[0], None, g_dim_keep(distinct)),
    Op("max_dim_ties_values_indices", lambda x, d, k: tuple(it.max(x, d, k)),
       lambda x, d, k: tuple(torch.max(x, d, k)), g_dim_keep(_ties), gradcheck=False),
    Op("max_all", lambda x: x.max(), None, g_unary(distinct, SHAPE1)),
    Op("min_all_ties", lambda x: it.min(x), lambda x: torch.min(x), g_unary(_ties, SHAPE1),
       gradcheck=False),
    Op("cat_positional_int_part", lambda d, x, i: it.cat([x, i], d),
       lambda d, x, i: torch.cat([x, i], d), g_cat_int),
    Op("where_int_branch", lambda c, x, i: it.where(c, x, i),
       lambda c, x, i: torch.where(c, x, i), g_where_int),
    Op("flip_positional", lambda x, d: it.flip(x, list(d)), lambda x, d: torch.flip(x, d), g_flip),
    Op("softmax_any_rank", lambda x: it.softmax(x, -1), lambda x: torch.softmax(x, -1), g_unary()),
    Op("cumsum_any_rank", lambda x: x.cumsum(-1), lambda x: x.cumsum(-1), g_unary()),
]



# ------------------------------------------------------------------ PyTorch names
# sort/topk, rearranging (roll, tile, repeat, narrow, unfold, triu, diagonal...), einsum,
# bmm, dot, norm, cumprod, scatter, addcmul/addcdiv/lerp (and their in-place forms),
# meshgrid. Ties, zeros and repeated indices are drawn on purpose: PyTorch's conventions
# there are what a port meets. Non-differentiable results, named tuples and errors are
# in tests/test_torch_names.py.

def ties(rng, shape):
    """Small integers: ties everywhere."""
    return _arr(rng.integers(-2, 3, shape))


def _dim_of(draw, s):
    n = max(len(s), 1)
    return draw(st.integers(-n, n - 1))


def g_sort(values):
    def g(draw, rng):
        s = draw(SHAPE)
        return values(rng, s), _dim_of(draw, s), draw(st.booleans())
    return g


def g_topk(draw, rng):
    s = draw(SHAPE1)
    d = _dim_of(draw, s)
    return distinct(rng, s), draw(st.integers(0, s[d])), d, draw(st.booleans())


def g_topk_ties(draw, rng):
    """Ties, with k chosen so that no group of equal values straddles the k-th place (which
    of a straddling group PyTorch keeps is unspecified; test_torch_names checks those)."""
    s = draw(SHAPE1)
    d = _dim_of(draw, s)
    largest = draw(st.booleans())
    x = ties(rng, s)
    srt = np.sort(x, axis=d)
    if largest:
        srt = np.flip(srt, axis=d)
    n = s[d]
    ks = [k for k in range(1, n + 1)
          if k == n or np.all(np.take(srt, k - 1, axis=d) != np.take(srt, k, axis=d))]
    return x, draw(st.sampled_from(ks)), d, largest


def _t_sort(x, d, desc):
    return torch.sort(x, dim=d, descending=desc, stable=True)


def g_roll(draw, rng):
    s = draw(SHAPE1)
    if draw(st.booleans()):
        return real(rng, s), draw(st.integers(-4, 4)), None
    dims = tuple(draw(st.lists(st.integers(-len(s), len(s) - 1), min_size=1, max_size=len(s),
                               unique_by=lambda v: v % len(s))))
    return real(rng, s), tuple(draw(st.integers(-4, 4)) for _ in dims), dims


def g_tile(draw, rng):
    s = draw(SHAPE)
    return real(rng, s), tuple(draw(st.lists(st.integers(0, 2), min_size=1, max_size=len(s) + 1)))


def g_repeat_method(draw, rng):
    s = draw(SHAPE)
    extra = draw(st.integers(0 if s else 1, 1))
    return real(rng, s), tuple(draw(st.integers(1, 2)) for _ in range(len(s) + extra))


def g_repeat_interleave(draw, rng):
    s = draw(SHAPE)
    dim = draw(st.sampled_from([None] + list(range(-len(s), len(s)))))
    n = math.prod(s) if dim is None else s[dim]
    if draw(st.booleans()):
        return real(rng, s), draw(st.integers(0, 2)), dim
    return real(rng, s), np.asarray(rng.integers(0, 3, n), dtype=np.int64), dim


def g_narrow(draw, rng):
    s = draw(SHAPE1)
    d = _dim_of(draw, s)
    n = s[d]
    start = draw(st.integers(-n, n))
    length = draw(st.integers(0, n - (start + n if start < 0 else start)))
    return real(rng, s), d, start, length


def g_unfold(draw, rng):
    s = list(draw(SHAPE1))
    d = draw(st.integers(0, len(s) - 1))
    s[d] = draw(st.integers(1, 5))
    return (real(rng, tuple(s)), d - len(s) if draw(st.booleans()) else d,
            draw(st.integers(1, s[d])), draw(st.integers(1, 3)))


def g_tri(draw, rng):
    return real(rng, draw(SHAPE2)), draw(st.integers(-3, 3))


def g_diagonal(draw, rng):
    s = draw(SHAPE2)
    n = len(s)
    d1, d2 = draw(st.permutations(range(n)))[:2]
    return (real(rng, s), draw(st.integers(-3, 3)), d1 - n if draw(st.booleans()) else d1,
            d2 - n if draw(st.booleans()) else d2)


def g_diag(draw, rng):
    s = draw(array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))
    return real(rng, s), draw(st.integers(-2, 2))


# (equation, operand subscripts): letters get sizes 1-3, '.' marks the ellipsis
_EINSUM = [
    "ij,jk->ik", "ij,jk", "bij,bjk->bik", "i,i->", "i,j->ij", "ij->ji", "ij->", "ii->i", "ii",
    "iij,jk->ki", "bii->b", "iji->j", "Ab,bA->A", "bA,aB", "ab,bc,cd->ad", "i,ij,j", "...ij,...jk->...ik",
    "...i,i", "i...->...", "ij...,jk...->ik...",
]


def g_einsum(draw, rng):
    eq = draw(st.sampled_from(_EINSUM))
    terms = eq.split("->")[0].split(",")
    size = {c: draw(st.integers(1, 3)) for c in eq if c.isalpha()}
    ell = [draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 2)))]
    ops = []
    for t in terms:
        shape, at = [], {}
        for tok in t.replace("...", "."):
            if tok == ".":
                k = draw(st.integers(0, len(ell)))          # fewer leading dims broadcast too
                shape.extend(1 if draw(st.booleans()) else n for n in ell[len(ell) - k:])
            else:
                at.setdefault(tok, []).append(len(shape))
                shape.append(size[tok])
        for c, pos in at.items():
            if len(pos) == 1 and sum(c in u for u in terms) > 1 and draw(st.integers(0, 4)) == 0:
                shape[pos[0]] = 1     # a size-1 dim broadcasts against the same letter elsewhere
        ops.append(real(rng, tuple(shape)))
    return (eq, *ops)


def g_bmm(draw, rng):
    b, n, k, m = (draw(st.integers(1, 3)) for _ in range(4))
    return real(rng, (b, n, k)), real(rng, (b, k, m))


def g_dot(draw, rng):
    n = draw(st.integers(1, 4))
    return real(rng, (n,)), real(rng, (n,))


def g_norm(domain=away0, fro=False):
    def g(draw, rng):
        s = draw(SHAPE1)
        dim = _dims(draw, len(s))
        if fro and isinstance(dim, tuple) and len(dim) > 2:
            dim = dim[:2]
        return domain(rng, s), dim, draw(st.booleans())
    return g


def with_zeros(rng, shape):
    """Some elements 0 and, where there are rows, a whole row of zeros."""
    x = away0(rng, shape)
    x = np.where(rng.random(shape) < 0.3, 0.0, x)
    if len(shape) >= 1:
        x[(rng.integers(0, shape[0]),) + (slice(None),) * (len(shape) - 1)] = 0.0
    return _arr(x)


def abs_ties(rng, shape):
    """|x| in {0.5, 1}: ties of the max (and min) absolute value."""
    return _arr(rng.choice([-1.0, -0.5, 0.5, 1.0], shape))


def _t_norm(p):
    return lambda x, d, k: torch.norm(x, p, d, k)


def g_cumprod(domain):
    def g(draw, rng):
        s = draw(SHAPE1)
        return domain(rng, s), _dim_of(draw, s)
    return g


def zeros_in(rng, shape):
    """Values with zeros (often more than one in a slice)."""
    return _arr(np.where(rng.random(shape) < 0.35, 0.0, real(rng, shape)))


def g_addc(div):
    def g(draw, rng):
        sa, sb, sc = draw(BCAST3).input_shapes
        return real(rng, sa), real(rng, sb), (away0 if div else real)(rng, sc), \
            draw(st.sampled_from([1, 0.5, -2]))
    return g


def g_addc_inplace(div):
    def g(draw, rng):
        full, sb, sc = draw(BCAST3).input_shapes
        full = np.broadcast_shapes(full, sb, sc)
        return real(rng, full), real(rng, sb), (away0 if div else real)(rng, sc)
    return g


def g_lerp_scalar(draw, rng):
    sa, sb = draw(BCAST2).input_shapes
    return real(rng, sa), real(rng, sb), draw(st.sampled_from([0.0, 0.3, 0.5, 0.8, 1.0, 1.5, -0.4]))


def g_lerp_tensor(draw, rng):
    sa, sb, sw = draw(BCAST3).input_shapes
    return real(rng, sa), real(rng, sb), _arr(rng.uniform(-0.5, 1.5, sw))


def g_lerp_inplace(draw, rng):
    full, sb, sw = draw(BCAST3).input_shapes
    full = np.broadcast_shapes(full, sb, sw)
    return real(rng, full), real(rng, sb), _arr(rng.uniform(-0.5, 1.5, sw))


def _scatter_index(draw, rng, s, d, unique):
    ishape = tuple(draw(st.integers(1, n)) for n in s)
    if not unique:
        return _index(rng, s[d], ishape, negative=False)
    keys = rng.random(tuple(s[d] if i == d else n for i, n in enumerate(ishape)))
    order = np.argsort(keys, axis=d)                 # distinct targets along d per column
    return np.asarray(np.take(order, range(ishape[d]), axis=d), dtype=np.int64)


def g_scatter(unique, value=False):
    def g(draw, rng):
        s = draw(SHAPE1)
        d = draw(st.integers(0, len(s) - 1))
        idx = _scatter_index(draw, rng, s, d, unique)
        return real(rng, s), d, idx, (0.75 if value else real(rng, idx.shape))
    return g


def g_meshgrid(draw, rng):
    return tuple(real(rng, (draw(st.integers(1, 3)),)) for _ in range(draw(st.integers(1, 3))))


OPS += [
    Op("sort", lambda x, d, desc: it.sort(x, d, desc).values, lambda x, d, desc: _t_sort(x, d, desc).values,
       g_sort(distinct)),
    Op("sort_standard", lambda x, d, desc: it.array_api.sort(x, axis=d, descending=desc),
       lambda x, d, desc: _t_sort(x, d, desc).values, g_sort(distinct)),
    Op("sort_method", lambda x, d, desc: x.sort(d, desc).values, None, g_sort(distinct)),
    # ties: the values match, and each tied element gets the gradient of the slot PyTorch's
    # stable sort puts it in (not a share of the group's)
    Op("sort_ties", lambda x, d, desc: it.sort(x, dim=d, descending=desc).values,
       lambda x, d, desc: _t_sort(x, d, desc).values, g_sort(ties), gradcheck=False),
    Op("topk", lambda x, k, d, big: it.topk(x, k, d, big).values,
       lambda x, k, d, big: torch.topk(x, k, d, big).values, g_topk),
    Op("topk_method", lambda x, k, d, big: x.topk(k, dim=d, largest=big).values, None, g_topk),
    # every kept tied element gets the whole gradient (not a share, as amax's ties do)
    Op("topk_ties_sum", lambda x, k, d, big: it.topk(x, k, d, big).values.sum(d),
       lambda x, k, d, big: torch.topk(x, k, d, big).values.sum(d), g_topk_ties,
       gradcheck=False),
    Op("roll", lambda x, s, d: it.roll(x, s, d), lambda x, s, d: torch.roll(x, s, d), g_roll),
    Op("roll_standard", lambda x, s, d: it.array_api.roll(x, shift=s, axis=d),
       lambda x, s, d: torch.roll(x, s, d), g_roll),
    Op("roll_method", lambda x, s, d: x.roll(s, d), None, g_roll),
    Op("tile", lambda x, r: it.tile(x, r), lambda x, r: torch.tile(x, r), g_tile),
    Op("tile_method", lambda x, r: x.tile(*r), None, g_tile),
    Op("repeat_method", lambda x, r: x.repeat(*r), None, g_repeat_method),
    Op("repeat_interleave", lambda x, r, d: it.repeat_interleave(x, r, d),
       lambda x, r, d: torch.repeat_interleave(x, r, d), g_repeat_interleave),
    Op("repeat_interleave_method", lambda x, r, d: x.repeat_interleave(r, d), None,
       g_repeat_interleave),
    Op("repeat_standard", lambda x, r, d: it.array_api.repeat(x, r, axis=d),
       lambda x, r, d: torch.repeat_interleave(x, r, d), g_repeat_interleave),
    Op("narrow", lambda x, d, s, n: it.narrow(x, d, s, n), lambda x, d, s, n: torch.narrow(x, d, s, n),
       g_narrow),
    Op("narrow_method", lambda x, d, s, n: x.narrow(d, s, n) * 2.0, None, g_narrow),
    Op("unfold", lambda x, d, size, step: x.unfold(d, size, step), None, g_unfold),
    Op("triu", lambda x, k: it.triu(x, k), lambda x, k: torch.triu(x, k), g_tri),
    Op("tril", lambda x, k: it.tril(x, k), lambda x, k: torch.tril(x, k), g_tri),
    Op("triu_standard", lambda x, k: it.array_api.triu(x, k=k), lambda x, k: torch.triu(x, k), g_tri),
    Op("tril_method", lambda x, k: x.tril(k), None, g_tri),
    Op("diagonal", lambda x, o, a, b: it.diagonal(x, o, a, b),
       lambda x, o, a, b: torch.diagonal(x, o, a, b), g_diagonal),
    Op("diagonal_method", lambda x, o, a, b: x.diagonal(o, a, b) * 2.0, None, g_diagonal),
    Op("diag", lambda x, k: it.diag(x, k), lambda x, k: torch.diag(x, k), g_diag),
    Op("diag_method", lambda x, k: x.diag(k), None, g_diag),
    Op("einsum", lambda eq, *xs: it.einsum(eq, *xs), lambda eq, *xs: torch.einsum(eq, *xs), g_einsum),
    Op("einsum_list", lambda eq, *xs: it.einsum(eq, list(xs)),
       lambda eq, *xs: torch.einsum(eq, list(xs)), g_einsum),
    Op("bmm", it.bmm, lambda a, b: torch.bmm(a, b), g_bmm),
    Op("bmm_method", lambda a, b: a.bmm(b), None, g_bmm),
    Op("dot", it.dot, lambda a, b: torch.dot(a, b), g_dot),
    Op("dot_method", lambda a, b: a.dot(b), None, g_dot),
    Op("norm", lambda x, d, k: it.norm(x, dim=d, keepdim=k), lambda x, d, k: torch.norm(x, dim=d, keepdim=k),
       g_norm(fro=True)),
    Op("norm_method", lambda x, d, k: x.norm(2, d, k), None, g_norm()),
    Op("norm_p1", lambda x, d, k: it.norm(x, 1, d, k), _t_norm(1), g_norm()),
    Op("norm_p3", lambda x, d, k: it.norm(x, 3, d, k), _t_norm(3), g_norm()),
    Op("norm_p_half", lambda x, d, k: it.norm(x, 0.5, d, k), _t_norm(0.5), g_norm()),
    Op("norm_p_1_5", lambda x, d, k: it.norm(x, 1.5, d, k), _t_norm(1.5), g_norm()),
    Op("norm_p_neg1", lambda x, d, k: it.norm(x, -1, d, k), _t_norm(-1), g_norm()),
    Op("norm_inf", lambda x, d, k: it.norm(x, math.inf, d, k), _t_norm(math.inf), g_norm(distinct)),
    Op("norm_neg_inf", lambda x, d, k: it.norm(x, -math.inf, d, k), _t_norm(-math.inf),
       g_norm(distinct)),
    # kinks: PyTorch's subgradients (zero at a zero norm, never NaN; ties of |x| share)
    Op("norm_zeros", lambda x, d, k: it.norm(x, dim=d, keepdim=k),
       lambda x, d, k: torch.norm(x, dim=d, keepdim=k), g_norm(with_zeros, fro=True), gradcheck=False),
    Op("norm_p1_zeros", lambda x, d, k: it.norm(x, 1, d, k), _t_norm(1), g_norm(with_zeros),
       gradcheck=False),
    Op("norm_p3_zeros", lambda x, d, k: it.norm(x, 3, d, k), _t_norm(3), g_norm(with_zeros),
       gradcheck=False),
    Op("norm_p_half_zeros", lambda x, d, k: it.norm(x, 0.5, d, k), _t_norm(0.5), g_norm(with_zeros),
       gradcheck=False),
    Op("norm_p_1_5_zeros", lambda x, d, k: it.norm(x, 1.5, d, k), _t_norm(1.5), g_norm(with_zeros),
       gradcheck=False),
    Op("norm_p0", lambda x, d, k: it.norm(x, 0, d, k), _t_norm(0), g_norm(with_zeros), gradcheck=False),
    Op("norm_inf_ties", lambda x, d, k: it.norm(x, math.inf, d, k), _t_norm(math.inf),
       g_norm(abs_ties), gradcheck=False),
    Op("norm_neg_inf_ties", lambda x, d, k: it.norm(x, -math.inf, d, k), _t_norm(-math.inf),
       g_norm(abs_ties), gradcheck=False),
    Op("cumprod", lambda x, d: it.cumprod(x, d), lambda x, d: torch.cumprod(x, d), g_cumprod(real)),
    # zeros: the gradient where a slice has one or more zeros (PyTorch's, no NaN); the
    # gradient is a polynomial, so gradcheck and gradgradcheck hold there too
    Op("cumprod_zeros", lambda x, d: it.cumprod(x, d), lambda x, d: torch.cumprod(x, d),
       g_cumprod(zeros_in)),
    Op("cumulative_prod", lambda x, d: it.cumulative_prod(x, axis=d),
       lambda x, d: torch.cumprod(x, d), g_cumprod(zeros_in)),
    Op("cumprod_method", lambda x, d: x.cumprod(d), None, g_cumprod(zeros_in)),
    Op("addcmul", lambda a, b, c, v: it.addcmul(a, b, c, value=v),
       lambda a, b, c, v: torch.addcmul(a, b, c, value=v), g_addc(False)),
    Op("addcdiv", lambda a, b, c, v: it.addcdiv(a, b, c, value=v),
       lambda a, b, c, v: torch.addcdiv(a, b, c, value=v), g_addc(True)),
    Op("addcmul_method", lambda a, b, c, v: a.addcmul(b, c, value=v), None, g_addc(False)),
    Op("addcmul_", lambda a, b, c: a.clone().addcmul_(b, c, value=0.5), None, g_addc_inplace(False)),
    Op("addcdiv_", lambda a, b, c: a.clone().addcdiv_(b, c, value=-1.5), None, g_addc_inplace(True)),
    Op("lerp", lambda a, b, w: it.lerp(a, b, w), lambda a, b, w: torch.lerp(a, b, w), g_lerp_scalar),
    Op("lerp_tensor", lambda a, b, w: it.lerp(a, b, w), lambda a, b, w: torch.lerp(a, b, w),
       g_lerp_tensor),
    Op("lerp_", lambda a, b, w: a.clone().lerp_(b, w), None, g_lerp_inplace),
    Op("scatter", lambda x, d, i, s: it.scatter(x, d, i, s), lambda x, d, i, s: torch.scatter(x, d, i, s),
       g_scatter(True)),
    Op("scatter_method", lambda x, d, i, s: x.scatter(d, i, s), None, g_scatter(True)),
    Op("scatter_value", lambda x, d, i, v: it.scatter(x, d, i, value=v),
       lambda x, d, i, v: torch.scatter(x, d, i, v), g_scatter(True, value=True)),
    Op("scatter_", lambda x, d, i, s: x.clone().scatter_(d, i, s), None, g_scatter(True)),
    # repeated indices: the last write wins (PyTorch on the CPU), and every src entry gets
    # the gradient at its target (PyTorch's formula; not the derivative, hence no gradcheck)
    Op("scatter_repeated", lambda x, d, i, s: it.scatter(x, d, i, s),
       lambda x, d, i, s: torch.scatter(x, d, i, s), g_scatter(False), gradcheck=False),
    Op("meshgrid_ij", lambda *xs: it.meshgrid(*xs, indexing="ij"),
       lambda *xs: torch.meshgrid(*xs, indexing="ij"), g_meshgrid),
    Op("meshgrid_xy", lambda *xs: it.meshgrid(*xs, indexing="xy"),
       lambda *xs: torch.meshgrid(*xs, indexing="xy"), g_meshgrid),
]


assert len({op.name for op in OPS}) == len(OPS), "op names must be unique"


# ------------------------------------------------------------------ the checks

def _draw_args(op, data):
    seed = data.draw(st.integers(0, 2 ** 32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    return op.gen(data.draw, rng), rng


def _float_dtype(op, dtype):
    return op.dtype or dtype


def _to_interop(args, dtype):
    out = []
    for a in args:
        if isinstance(a, np.ndarray):
            if a.dtype.kind == "f":
                out.append(from_np(a.astype(dtype), requires_grad=True))
            else:
                out.append(from_np(a))
        else:
            out.append(a)
    return out


def _to_torch(args, dtype):
    out = []
    for a in args:
        if isinstance(a, np.ndarray):
            if a.dtype.kind == "f":
                out.append(torch.tensor(a.astype(dtype), requires_grad=True))
            else:
                out.append(torch.from_numpy(np.array(a, copy=True)))
        else:
            out.append(a)
    return out


def _tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


@pytest.mark.parametrize("op", [o for o in OPS if o.gradcheck], ids=repr)
@settings(suppress_health_check=_HC)
@given(data=st.data())
def test_gradcheck(be, op, data):
    args, _ = _draw_args(op, data)
    inputs = _to_interop(args, _float_dtype(op, "float64"))
    kw = op.gc
    if op.dtype == "float32":     # gradcheck warns that float32 inputs make a weak check
        with pytest.warns(UserWarning, match="float64"):
            assert it.autograd.gradcheck(op.f, inputs, **kw)
    else:
        assert it.autograd.gradcheck(op.f, inputs, **kw)


@pytest.mark.parametrize("op", [o for o in OPS if o.gradcheck and not o.dtype], ids=repr)
@settings(suppress_health_check=_HC, max_examples=max(2, settings.default.max_examples // 4))
@given(data=st.data())
def test_gradgradcheck(be, op, data):
    """Second derivatives: every backward is itself differentiable (create_graph=True runs
    the same backward formulas on interop tensors)."""
    args, _ = _draw_args(op, data)
    inputs = _to_interop(args, "float64")
    assert it.autograd.gradgradcheck(op.f, inputs, **op.gc)


class Param(it.Tensor):
    """A Tensor subclass made the way ``nn.Parameter`` is: ``Param(tensor)`` shares the data
    and is a leaf that requires grad."""

    def __new__(cls, data, requires_grad=True):
        return data.detach().as_subclass(cls).requires_grad_(requires_grad)


def _plain_results(op, args, dtype, subclass):
    inputs = _to_interop(args, dtype)
    if subclass:
        inputs = [Param(x) if isinstance(x, it.Tensor) and x.requires_grad else x for x in inputs]
    outs = _tuple(op.f(*inputs))
    loss = None
    for o in outs:
        if o.requires_grad:
            term = (o * o).sum()
            loss = term if loss is None else loss + term
    if loss is not None:
        loss.backward()
    return inputs, outs


@pytest.mark.parametrize("op", OPS, ids=repr)
@settings(suppress_health_check=_HC, max_examples=max(2, settings.default.max_examples // 4))
@given(data=st.data())
def test_subclass_inputs(be, op, data):
    """Every op accepts Tensor subclasses (as nn.Parameter is one), returns plain Tensors,
    and computes the same values and gradients as with plain tensors."""
    args, _ = _draw_args(op, data)
    dt = _float_dtype(op, "float64")
    xs, outs = _plain_results(op, args, dt, subclass=False)
    ps, pouts = _plain_results(op, args, dt, subclass=True)
    assert any(isinstance(p, Param) for p in ps)
    for o, po in zip(outs, pouts):
        assert type(po) is it.Tensor or po is not None and any(po is p for p in ps), \
            f"{op.name}: result of type {type(po).__name__}"
        assert po.dtype == o.dtype and tuple(po.shape) == tuple(o.shape)
        np.testing.assert_array_equal(to_np(po), to_np(o))
    for x, p in zip(xs, ps):
        if isinstance(p, Param):
            assert (x.grad is None) == (p.grad is None)
            if x.grad is not None:
                assert type(p.grad) is it.Tensor
                np.testing.assert_array_equal(to_np(p.grad), to_np(x.grad))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", [o for o in OPS if o.torch], ids=repr)
@settings(suppress_health_check=_HC)
@given(data=st.data())
def test_matches_torch(be, op, dtype, data):
    pytest.importorskip("torch")
    args, rng = _draw_args(op, data)
    dt = _float_dtype(op, dtype)
    xs = _to_interop(args, dt)
    ts = _to_torch(args, dt)

    outs = _tuple(op.f(*xs))
    touts = _tuple(op.tf(*ts))
    assert len(outs) == len(touts), f"{op.name}: {len(outs)} outputs, torch gives {len(touts)}"
    rtol = op.tol.get("rtol", 1e-5)
    atol = op.tol.get("atol", 1e-5 if "float32" in (dt, dtype) else 1e-9)
    for o, t in zip(outs, touts):
        assert tuple(o.shape) == tuple(t.shape), f"{op.name}: shape {tuple(o.shape)} vs torch {tuple(t.shape)}"
        assert str(o.dtype) == "interop." + str(t.dtype).split(".")[-1], \
            f"{op.name}: dtype {o.dtype} vs torch {t.dtype}"
        np.testing.assert_allclose(to_np(o), t.detach().numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"{op.name}: forward")

    weights = [rng.standard_normal(tuple(t.shape)).astype(str(t.dtype).split(".")[-1]) for t in touts]
    loss = None
    for o, w in zip(outs, weights):
        term = (o * from_np(w).reshape(w.shape)).sum()   # from_np of an empty array is 1-d
        loss = term if loss is None else loss + term
    loss.backward()
    tloss = sum((t * torch.from_numpy(w)).sum() for t, w in zip(touts, weights))
    tloss.backward()

    checked = 0
    for x, tx in zip(xs, ts):
        if not isinstance(x, it.Tensor) or not x.requires_grad:
            continue
        expected = tx.grad.numpy() if tx.grad is not None else np.zeros(tuple(tx.shape))
        got = to_np(x.grad) if x.grad is not None else np.zeros(tuple(x.shape))
        if x.grad is not None:
            assert x.grad.dtype == x.dtype and tuple(x.grad.shape) == tuple(x.shape)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol * 10,
                                   err_msg=f"{op.name}: gradient")
        checked += 1
    assert checked >= 1
