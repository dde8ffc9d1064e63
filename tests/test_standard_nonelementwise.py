"""Every NON-elementwise function of the Array API standard (2025.12), the ``linalg`` and
``fft`` extensions included, against the backend namespace itself and against finite
differences.

For each function a *case drawer* draws, with hypothesis, a shape (0-d and empty where the
function allows them), a dtype among those the standard allows for it (and the backend
has), the function's options (axis/axes, keepdims, correction, stable/descending, side,
n/s/norm, ...) and the data, and returns ``fn(ns, *arrays)``: one call written once against
a namespace argument. The same call then runs twice,

* on the backend namespace ``it.get_backend().xp`` with the backend's own arrays, and
* on ``interop.array_api`` (the standard's namespace; the top-level ``interop`` is
  PyTorch's) with interop tensors,

and the two results must agree: same structure (tuples, named-tuple fields), same shape,
same dtype, same values (NaN where the backend gives NaN, the sign of zeros where the
standard fixes it); exactly where interop does the backend's arithmetic, else within a
tolerance suited to the function (a few ulps for reductions, more for linalg and fft, in
units of the dtype's eps). The gradient tests draw the same cases in float64 (and
complex128 where the function takes complex input: PyTorch's conjugate-Wirtinger
convention, which ``gradcheck`` checks in all four real directions), with inputs kept away
from the function's non-differentiable points (ties for max/sort, repeated singular
values, bounds of clip, ...), and run ``it.autograd.gradcheck`` (and ``gradgradcheck``
where it is cheap).

Where interop deliberately differs from the raw namespace, the case says so and compares
what the standard fixes: interop's default floating dtype is float32 (PyTorch's; NumPy's
and array-api-strict's is float64, see DESIGN.md "Conventions"), so a creation call that
leaves the dtype to the default asks the backend for interop's default explicitly.

Decompositions are differentiated through quantities the standard makes functions of
the input: eigen and singular vectors only up to a sign (a phase, complex), so their
cases read ``abs(v)``, ``U @ Vh`` and the like (tests/test_linalg.py checks that a loss
that depends on a phase raises).

Runs on cpu (NumPy) and strict (array-api-strict); not on the torch backend (its
namespace is checked against PyTorch itself in tests/test_ops.py). Keep shapes tiny:
array-api-strict costs ~40 us per op and the whole file must stay well under a minute per
backend with HYPOTHESIS_PROFILE=ci.
"""

import math
import warnings
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, settings, HealthCheck, strategies as st

import interop as it
from interop.autograd import gradcheck, gradgradcheck

API = it.array_api      # the namespace under test (the top-level one is PyTorch's)

_HC = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]

BOOL = ("bool",)
SIGNED = ("int8", "int16", "int32", "int64")
UNSIGNED = ("uint8", "uint16", "uint32", "uint64")
INTS = SIGNED + UNSIGNED
FLOATS = ("float32", "float64")
COMPLEX = ("complex64", "complex128")
REAL = INTS + FLOATS
NUMERIC = REAL + COMPLEX
INEXACT = FLOATS + COMPLEX
ALL = BOOL + NUMERIC
# dtypes of the gradient checks
G_REAL = ("float64",)
G_ALL = ("float64", "complex128")


# ------------------------------------------------------------------ drawing


class Draw:
    """Hypothesis draws (``d(strategy)``, and the shorthands below) plus a NumPy generator
    seeded by a drawn seed, for the data."""

    def __init__(self, data):
        self.data = data
        self.rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))

    def __call__(self, strategy, label=None):
        return self.data.draw(strategy, label=label)

    def bool(self, label=None):
        return self(st.booleans(), label)

    def int(self, lo, hi, label=None):
        return self(st.integers(lo, hi), label)

    def choice(self, seq, label=None):
        return self(st.sampled_from(list(seq)), label)

    def shape(self, min_dims=0, max_dims=3, min_side=0, max_side=3, label="shape"):
        return tuple(self(st.lists(st.integers(min_side, max_side), min_size=min_dims,
                                   max_size=max_dims), label))

    def axis(self, ndim, label="axis"):
        """An axis of an ``ndim``-d array, possibly negative."""
        return self.int(-ndim, ndim - 1, label)

    def axes(self, ndim, none=True, label="axis"):
        """None (all axes), one axis, or a tuple of distinct axes (possibly negative)."""
        kinds = (["none"] if none else []) + (["int", "tuple"] if ndim else ["tuple"])
        kind = self.choice(kinds, label + " kind")
        if kind == "none":
            return None
        if kind == "int":
            return self.axis(ndim, label)
        picked = self(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim), label) \
            if ndim else []
        return tuple(a - ndim if self.bool() else a for a in picked)

    def array(self, dtype, shape, special=False, distinct=False, lo=None, hi=None):
        """NumPy data of ``dtype``: small values with ties, -0.0 and 0.0 (and, with
        ``special``, NaN and ±inf; integers in [lo, hi)) for the value checks; ``distinct``
        values, at least 0.4 apart and 0.05 from 0 (no ties, no zeros), for the gradient
        checks."""
        n = math.prod(shape)
        rng = self.rng
        if distinct:
            v = (rng.permutation(n) - (n - 1) / 2) * 0.5 + rng.uniform(0.05, 0.15, n)
            if dtype in COMPLEX:
                v = v + 1j * rng.standard_normal(n)
            return v.astype(dtype).reshape(shape)
        if dtype == "bool":
            return rng.integers(0, 2, n).astype(bool).reshape(shape)
        if dtype in INTS:
            lo_ = -3 if lo is None else lo
            lo_ = max(lo_, 0) if dtype in UNSIGNED else lo_
            hi_ = 6 if hi is None else hi
            return rng.integers(lo_, hi_, n).astype(dtype).reshape(shape)
        pool = [-2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 3.0, 1.25]
        if special:
            pool += [np.nan, np.inf, -np.inf]
        v = rng.choice(pool, n)
        if dtype in COMPLEX:        # (parts set apart: 1j * inf would put a NaN in the real part)
            z = np.empty(n, dtype)
            z.real, z.imag = v, rng.choice(pool, n)
            return z.reshape(shape)
        return v.astype(dtype).reshape(shape)

    def garray(self, dtype, shape):
        """Gradient-check data: standard normal (complex: both parts)."""
        v = self.rng.standard_normal(shape)
        if dtype in COMPLEX:
            v = v + 1j * self.rng.standard_normal(shape)
        return np.asarray(v, dtype=dtype)


Case = namedtuple("Case", "fn arrays tol zero_sign values", defaults=(0, True, True))
Case.__doc__ = """One drawn call: ``fn(ns, *arrays)``. ``tol``: 0 for exact equality, else the
tolerance in units of the result dtype's eps (relative, and absolute against the largest
magnitude). ``zero_sign``: the sign of zeros is fixed by the standard (checked when exact).
``values``: False where the values are undefined (``empty``)."""

Spec = namedtuple("Spec", "draw dtypes grad gradgrad", defaults=((), False))
Spec.__doc__ = """A function's case drawer ``draw(d, dtype, for_grad) -> Case``, the dtypes
its values are checked in, the dtypes its gradient is checked in (none: not
differentiable) and whether gradgradcheck runs too."""


def _dt(ns, name):
    return None if name is None else getattr(ns, name)


def _default(ns, name, kind):
    """The dtype argument of a creation call: ``name``, or, for None (left to the default),
    None for interop and interop's default dtype of ``kind`` for the backend: interop's
    default floating dtypes are float32/complex64 (PyTorch's; DESIGN.md "Conventions"),
    NumPy's and array-api-strict's float64/complex128."""
    if name is not None:
        return getattr(ns, name)
    if ns is it or kind == "bool":
        return None
    return getattr(ns, it.__array_namespace_info__().default_dtypes()[kind].name)


def _kind(dtype):
    return ("bool" if dtype == "bool" else "integral" if dtype in INTS
            else "real floating" if dtype in FLOATS else "complex floating")


def _wider(d, dtype):
    """None, or a dtype argument for sum/prod/cumulative_*/trace of the same kind and at
    least as wide (the standard's ``dtype=``: the accumulator)."""
    options = {"float32": ["float32", "float64"], "float64": ["float64"],
               "complex64": ["complex64", "complex128"], "complex128": ["complex128"],
               **{s: ["int64"] for s in SIGNED}, **{u: ["uint64"] for u in UNSIGNED}}
    return d.choice([None] + options[dtype], "dtype=")


def _scalar(dtype, rng):
    """A Python scalar of ``dtype``'s kind."""
    if dtype == "bool":
        return bool(rng.integers(0, 2))
    if dtype in INTS:
        return int(rng.integers(0 if dtype in UNSIGNED else -3, 6))
    if dtype in FLOATS:
        return float(rng.choice([-1.5, -0.0, 0.0, 2.0, 0.25]))
    return complex(rng.choice([-1.5, 0.0, 2.0]), rng.choice([-1.0, 0.5]))


# ------------------------------------------------------------------ comparing


def _dname(d):
    if isinstance(d, np.dtype) or (isinstance(d, type) and issubclass(d, np.generic)):
        return np.dtype(d).name
    return getattr(d, "name", None) or str(d).rsplit(".", 1)[-1]


def _is_array(x):
    return hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, np.generic)


def _host(be, x):
    if isinstance(x, it.Tensor):
        return x.detach().numpy()
    return np.asarray(be.to_host(x))


def _same(be, got, want, case, where):
    """``got`` (interop's) equals ``want`` (the backend's): structure, shape, dtype, values."""
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)), f"{where}: {type(got).__name__} vs a sequence"
        if isinstance(want, tuple):
            assert isinstance(got, tuple), f"{where}: {type(got).__name__}, the backend a tuple"
        assert len(got) == len(want), f"{where}: {len(got)} results vs {len(want)}"
        if hasattr(want, "_fields"):
            assert tuple(got._fields) == tuple(want._fields), f"{where}: fields {got._fields}"
        for k, (g, w) in enumerate(zip(got, want)):
            _same(be, g, w, case, f"{where}[{k}]")
        return
    if isinstance(want, np.generic) and isinstance(got, it.Tensor):
        want = np.asarray(want)              # NumPy gives 0-d results as NumPy scalars
    if not _is_array(want):
        if isinstance(want, (bool, int, float, complex, np.generic)):
            want = want.item() if isinstance(want, np.generic) else want
            # the standard's Python scalars: bool, int, float (finfo's fields, can_cast, ...)
            assert type(got) is type(want) and (got == want or (got != got and want != want)), \
                f"{where}: {got!r} vs the backend's {want!r}"
        else:                                          # a dtype
            assert _dname(got) == _dname(want), f"{where}: {got} vs the backend's {want}"
        return
    assert isinstance(got, it.Tensor), f"{where}: got a {type(got).__name__}, not a Tensor"
    assert got.dtype.name == _dname(want.dtype), \
        f"{where}: dtype {got.dtype} vs the backend's {_dname(want.dtype)}"
    assert tuple(got.shape) == tuple(want.shape), \
        f"{where}: shape {tuple(got.shape)} vs the backend's {tuple(want.shape)}"
    if not case.values:
        return
    g, w = _host(be, got), _host(be, want)
    if case.tol and g.dtype.kind in "fc":
        eps = float(np.finfo(g.dtype).eps)
        finite = np.abs(w[np.isfinite(w)])
        scale = max(1.0, float(finite.max())) if finite.size else 1.0
        np.testing.assert_allclose(g, w, rtol=case.tol * eps, atol=case.tol * eps * scale,
                                   equal_nan=True, err_msg=where)
        return
    np.testing.assert_array_equal(g, w, err_msg=where, strict=True)
    if case.zero_sign and g.dtype.kind == "f":
        zero = w == 0
        np.testing.assert_array_equal(np.signbit(g[zero]), np.signbit(w[zero]),
                                      err_msg=f"{where}: sign of zero")


def check_values(be, spec, data, name):
    d = Draw(data)
    dtypes = [t for t in spec.dtypes if getattr(it, t) in be.to_native]
    dtype = d.choice(dtypes, "dtype")
    case = spec.draw(d, dtype, False)
    where = f"{name}({dtype}, {[a.shape for a in case.arrays]})"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = case.fn(be.xp, *(be.from_host(a) for a in case.arrays))
        got = case.fn(API, *(it.asarray(a) for a in case.arrays))
    _same(be, got, want, case, where)


def check_gradient(be, spec, data):
    d = Draw(data)
    dtype = d.choice([t for t in spec.grad if getattr(it, t) in be.to_native], "dtype")
    case = spec.draw(d, dtype, True)
    inputs = tuple(it.asarray(a, requires_grad=a.dtype.kind in "fc") for a in case.arrays)
    assert any(t.requires_grad for t in inputs), "a gradient case needs a float input"

    def f(*ts):
        return case.fn(API, *ts)

    # the values again, now through the recording path (some functions take another route
    # when a graph is built, e.g. pinv through svd)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = case.fn(be.xp, *(be.from_host(a) for a in case.arrays))
        got = f(*inputs)
    _same(be, got, want, case, f"recorded {dtype}")
    assert gradcheck(f, inputs)
    if spec.gradgrad:
        # grad_outputs from the example's own generator (reproducible with the example)
        outs = f(*inputs)
        outs = outs if isinstance(outs, tuple) else (outs,)
        gos = tuple(it.asarray(d.garray(o.dtype.name, tuple(o.shape)), requires_grad=True)
                    for o in outs)
        assert gradgradcheck(f, inputs, gos)


# ------------------------------------------------------------------ creation


def _arange(d, dtype, for_grad):
    if dtype in FLOATS:
        num = st.integers(-8, 8).map(lambda k: k / 2)          # exact halves
        step = d(st.sampled_from([0.5, 1.0, 1.5, -0.5, -1.0, 2.0]), "step")
    else:
        lo = 0 if dtype in UNSIGNED else -6
        num = st.integers(lo, 8)
        step = d(st.sampled_from([1, 2, 3, -1, -2]), "step")
    start, stop = d(num, "start"), d(st.none() | num, "stop")
    if stop is None:
        start, step = abs(start), 1 if dtype in INTS else 1.0     # arange(stop)
    name = d.choice([dtype, None], "dtype=")       # None: inferred from the Python numbers
    kind = "real floating" if dtype in FLOATS else "integral"

    def fn(ns):
        if stop is None:
            return ns.arange(start, dtype=_default(ns, name, kind))
        return ns.arange(start, stop, step, dtype=_default(ns, name, kind))
    return Case(fn, ())


def _asarray(d, dtype, for_grad):
    source = d.choice(["nested list", "array", "scalar"], "source")
    a = d.array(dtype, () if source == "scalar" else d.shape(), special=True)
    if source == "array":
        copy = d.choice([None, True], "copy")
        return Case(lambda ns, x: ns.asarray(x, copy=copy), (a,))
    obj = a.tolist()           # (a Python scalar for a 0-d array)
    name = d.choice([dtype, None], "dtype=")
    kind = "real floating" if a.size == 0 and source != "scalar" else _kind(dtype)
    return Case(lambda ns: ns.asarray(obj, dtype=_default(ns, name, kind)), ())


def _zeros_ones_empty(fname):
    def draw(d, dtype, for_grad):
        shape = d.shape()
        if len(shape) == 1 and d.bool():
            shape = shape[0]                      # an int shape
        name = d.choice([dtype, None], "dtype=")
        return Case(lambda ns: getattr(ns, fname)(shape, dtype=_default(ns, name, "real floating")),
                    (), values=fname != "empty")
    return draw


def _fill(d, dtype):
    """A fill value of ``dtype``'s kind (NaN, ±inf included); no signed zeros (a zero is
    0.0 or 0j): the cpu backend fills -0.0 as +0.0 (test_full_keeps_negative_zero)."""
    fill = d.array(dtype, (), special=True).item()
    return type(fill)(0) if isinstance(fill, (float, complex)) and fill == 0 else fill


def _full(d, dtype, for_grad):
    shape = d.shape()
    fill = _fill(d, dtype)
    name = d.choice([dtype, None], "dtype=")
    return Case(lambda ns: ns.full(shape, fill, dtype=_default(ns, name, _kind(dtype))), ())


def _like(fname):
    def draw(d, dtype, for_grad):
        x = d.array(dtype, d.shape())
        out = d.choice([None, d.choice(ALL, "dtype= value")], "dtype=")
        if fname == "full_like":
            fill = _fill(d, out or dtype)
            return Case(lambda ns, x: ns.full_like(x, fill, dtype=_dt(ns, out)), (x,))
        return Case(lambda ns, x: getattr(ns, fname)(x, dtype=_dt(ns, out)), (x,),
                    values=fname != "empty_like")
    return draw


def _eye(d, dtype, for_grad):
    n, m, k = d.int(0, 4, "n_rows"), d(st.none() | st.integers(0, 4), "n_cols"), d.int(-4, 4, "k")
    name = d.choice([dtype, None], "dtype=")
    return Case(lambda ns: ns.eye(n, m, k=k, dtype=_default(ns, name, "real floating")), ())


def _linspace(d, dtype, for_grad):
    num = st.integers(-12, 12).map(lambda k: k / 4)
    start, stop = d(num, "start"), d(num, "stop")
    if dtype in COMPLEX:
        start, stop = complex(start, d(num, "start.imag")), complex(stop, d(num, "stop.imag"))
    count, endpoint = d.int(0, 6, "num"), d.bool("endpoint")
    name = d.choice([dtype, None], "dtype=")
    return Case(lambda ns: ns.linspace(start, stop, count, endpoint=endpoint,
                                       dtype=_default(ns, name, _kind(dtype))), (), tol=4)


def _meshgrid(d, dtype, for_grad):
    k = d.int(0 if not for_grad else 1, 3, "number of arrays")
    xs = tuple((d.garray if for_grad else d.array)(dtype, (d.int(0 if not for_grad else 1, 3),))
               for _ in range(k))
    indexing = d.choice(["xy", "ij"], "indexing")
    return Case(lambda ns, *xs: ns.meshgrid(*xs, indexing=indexing), xs)


def _tri(fname):
    def draw(d, dtype, for_grad):
        shape = d.shape(0, 1, 1, 2, "batch") + d.shape(2, 2, 0 if not for_grad else 1, 3, "matrix")
        x = d.garray(dtype, shape) if for_grad else d.array(dtype, shape, special=True)
        k = d.int(-3, 3, "k")
        return Case(lambda ns, x: getattr(ns, fname)(x, k=k), (x,))
    return draw


def _from_dlpack(d, dtype, for_grad):
    """From the namespace's own array (an interop tensor for interop), or from a NumPy
    array (another library's, for strict), with copy= None or True."""
    x = d.array(dtype, d.shape(), special=True)
    copy = d.choice([None, True], "copy")
    if d.bool("from a NumPy array"):
        return Case(lambda ns: ns.from_dlpack(x, copy=copy), ())
    return Case(lambda ns, x: ns.from_dlpack(x, copy=copy), (x,))


CREATION = {
    "arange": Spec(_arange, REAL),
    "asarray": Spec(_asarray, ALL),
    "empty": Spec(_zeros_ones_empty("empty"), ALL),
    "empty_like": Spec(_like("empty_like"), ALL),
    "eye": Spec(_eye, ALL),
    "from_dlpack": Spec(_from_dlpack, ALL),
    "full": Spec(_full, ALL),
    "full_like": Spec(_like("full_like"), ALL),
    "linspace": Spec(_linspace, INEXACT),
    "meshgrid": Spec(_meshgrid, ALL, G_ALL),
    "ones": Spec(_zeros_ones_empty("ones"), ALL),
    "ones_like": Spec(_like("ones_like"), ALL),
    "tril": Spec(_tri("tril"), ALL, G_ALL, True),
    "triu": Spec(_tri("triu"), ALL, G_ALL),
    "zeros": Spec(_zeros_ones_empty("zeros"), ALL),
    "zeros_like": Spec(_like("zeros_like"), ALL),
}


@settings(suppress_health_check=_HC)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(CREATION))
def test_creation_values(standard_be, name, data):
    """Creation functions: shape (int or tuple, empty and 0-d included), dtype (given, or
    inferred from the Python arguments), values (empty/empty_like: shape and dtype only),
    options: arange's start/stop/step (negative steps, empty ranges), asarray from nested
    lists, scalars and arrays (copy=), eye's n_cols and k, full's fill value (NaN, ±inf;
    -0.0 is test_full_keeps_negative_zero), linspace's num and endpoint (complex too),
    meshgrid's indexing (0 to 3 arrays), tril/triu's k on batches, *_like with a dtype=
    override, from_dlpack of interop's own tensors and of NumPy arrays (copy=)."""
    check_values(standard_be, CREATION[name], data, name)


@pytest.mark.parametrize("shape", [(3,), (40, 40)])
def test_full_keeps_negative_zero(standard_be, shape):
    """``full``/``full_like`` with -0.0 (or -0.0 + 0j) fill -0.0, as the backend's own
    ``full`` does (small arrays and large, aligned ones)."""
    xp = standard_be.xp
    z = complex(-0.0, 0.0)
    pairs = [(it.full(shape, -0.0, dtype=it.float64), xp.full(shape, -0.0, dtype=xp.float64)),
             (it.full_like(it.ones(shape), -0.0), xp.full(shape, -0.0, dtype=xp.float32)),
             (it.full(shape, z, dtype=it.complex128), xp.full(shape, z, dtype=xp.complex128))]
    for got, want in pairs:
        _same(standard_be, got, want, Case(None, ()), f"full({shape}, -0.0)")
        np.testing.assert_array_equal(np.signbit(got.numpy().real),
                                      np.signbit(np.asarray(standard_be.to_host(want)).real))


@settings(suppress_health_check=_HC)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(n for n in CREATION if CREATION[n].grad))
def test_creation_gradients(standard_be, name, data):
    """meshgrid (both indexings), tril/triu (any k, batched; tril also second order),
    in float64 and complex128."""
    check_gradient(standard_be, CREATION[name], data)


# ------------------------------------------------------------------ data types


def _astype(d, dtype, for_grad):
    shape = d.shape()
    if for_grad:
        to = d.choice(G_ALL if dtype == "float64" else ("complex128",), "to")
        return Case(lambda ns, x: ns.astype(x, getattr(ns, to)), (d.garray(dtype, shape),))
    # complex -> real is left open by the standard, and so are casts of values the target
    # cannot hold: float -> integer gets whole numbers in [0, 6) (no NaN, inf, fractions),
    # integer -> integer values in [0, 6)
    to = d.choice([t for t in ALL if not (dtype in COMPLEX and t not in COMPLEX)], "to")
    if to in INTS and dtype in INEXACT:
        x = d.rng.integers(0, 6, shape).astype(dtype)
    elif to in INTS and dtype in INTS:
        x = d.array(dtype, shape, lo=0)
    else:
        x = d.array(dtype, shape, special=True)
    copy = d.bool("copy")
    return Case(lambda ns, x: ns.astype(x, getattr(ns, to), copy=copy), (x,))


def _dtype_or_array(d, dtype, label):
    """A dtype, or (for functions that take either) a small array of it."""
    if d.bool(label + " as an array"):
        return (lambda ns, x: x), (d.array(dtype, d.shape(max_dims=1)),)
    return (lambda ns, *_: getattr(ns, dtype)), ()


def _can_cast(d, dtype, for_grad):
    """Within a kind (bool; integers, signed and unsigned; real floating; complex): across
    kinds interop says True toward a higher kind, as PyTorch (interop/_dtype_rules.py), where
    the standard defines no casting between bool, integers and floats (array-api-strict
    says False, NumPy depends on the widths). Real -> complex, which the standard's table
    does define, is test_can_cast_real_to_complex."""
    src, arrays = _dtype_or_array(d, dtype, "from_")
    group = next(g for g in (BOOL, INTS, FLOATS, COMPLEX) if dtype in g)
    to = d.choice(group, "to")
    return Case(lambda ns, *xs: ns.can_cast(src(ns, *xs), getattr(ns, to)), arrays)


def _finfo(d, dtype, for_grad):
    src, arrays = _dtype_or_array(d, dtype, "type")

    def fn(ns, *xs):
        f = ns.finfo(src(ns, *xs))
        return f.bits, f.eps, f.max, f.min, f.smallest_normal, f.dtype
    return Case(fn, arrays)


def _iinfo(d, dtype, for_grad):
    src, arrays = _dtype_or_array(d, dtype, "type")

    def fn(ns, *xs):
        f = ns.iinfo(src(ns, *xs))
        return f.bits, f.max, f.min, f.dtype
    return Case(fn, arrays)


_KINDS = ("bool", "signed integer", "unsigned integer", "integral", "real floating",
          "complex floating", "numeric")


def _isdtype(d, dtype, for_grad):
    kinds = d(st.lists(st.sampled_from(_KINDS + ALL), min_size=1, max_size=3), "kinds")
    as_tuple = len(kinds) > 1 or d.bool("kind as a tuple")

    def fn(ns):
        k = tuple(getattr(ns, k) if k in ALL else k for k in kinds)
        return ns.isdtype(getattr(ns, dtype), k if as_tuple else k[0])
    return Case(fn, ())


def _result_type(d, dtype, for_grad):
    """1 to 3 dtypes or arrays (the drawn dtype first) of the kinds the standard's table
    mixes (integers, signed and unsigned; real and complex floating), and Python scalars of
    a kind it defines with them (a bool with bools, an int with integers or floats, a float
    with floats or complex). A signed integer with uint64, and bools, integers and floats
    mixed, are left open by the standard (interop follows PyTorch there, README "Coming
    from PyTorch")."""
    items = [dtype] + d(st.lists(st.sampled_from(ALL), max_size=2), "more dtypes")
    groups = {"bool" if t == "bool" else "int" if t in INTS else "inexact" for t in items}
    if len(groups) > 1 or (set(items) & set(SIGNED) and "uint64" in items):
        items = [dtype]
    kind = _kind(dtype)
    scalar_ok = {"bool": "bool", "integral": "uint8", "real floating": "float32",
                 "complex floating": "float32"}[kind]
    scalars = [_scalar(scalar_ok, d.rng) for _ in range(d.int(0, 2, "scalars"))]
    as_array = [d.bool(f"item {k} as an array") for k in range(len(items))]
    arrays = tuple(d.array(t, (2,)) for t, a in zip(items, as_array) if a)

    def fn(ns, *xs):
        xs = list(xs)
        args = [xs.pop(0) if a else getattr(ns, t) for t, a in zip(items, as_array)]
        return ns.result_type(*args, *scalars)
    return Case(fn, arrays)


def _broadcast_shapes(d, dtype, for_grad):
    shapes = d(st.lists(st.lists(st.sampled_from([0, 1, 1, 2, 3]), max_size=3).map(tuple),
                        min_size=1, max_size=3), "shapes")
    if not d.bool("may fail"):
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:
            shapes = shapes[:1]

    def fn(ns):
        try:
            return ns.broadcast_shapes(*shapes)
        except ValueError:
            return "ValueError"
    return Case(fn, ())


DTYPES = {
    "astype": Spec(_astype, ALL, G_ALL),
    "broadcast_shapes": Spec(_broadcast_shapes, BOOL),
    "can_cast": Spec(_can_cast, ALL),
    "finfo": Spec(_finfo, INEXACT),
    "iinfo": Spec(_iinfo, INTS),
    "isdtype": Spec(_isdtype, ALL),
    "result_type": Spec(_result_type, ALL),
}


@settings(suppress_health_check=_HC)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(DTYPES))
def test_data_type_functions_values(standard_be, name, data):
    """astype (every pair of dtypes the standard defines, copy=), can_cast and result_type
    (dtypes, arrays and Python scalars; every standard dtype; real with complex floating
    dtypes in result_type), finfo/iinfo (of a dtype or
    an array: every field, Python scalars), isdtype (every kind name, dtypes, tuples),
    broadcast_shapes (the shape, or ValueError from both)."""
    check_values(standard_be, DTYPES[name], data, name)


def test_can_cast_real_to_complex(standard_be):
    """can_cast between real and complex floating dtypes, which the standard's type
    promotion table covers, against the backend's."""
    xp = standard_be.xp
    for a in FLOATS:
        for b in COMPLEX:
            assert it.can_cast(getattr(it, a), getattr(it, b)) == \
                xp.can_cast(getattr(xp, a), getattr(xp, b)), (a, b)


@settings(suppress_health_check=_HC)
@given(data=st.data())
def test_astype_gradient(standard_be, data):
    """astype float64 -> float64/complex128 and complex128 -> complex128."""
    check_gradient(standard_be, DTYPES["astype"], data)


# ------------------------------------------------------------------ manipulation


def _data(d, dtype, shape, for_grad):
    """Value-check data (ties, NaN, ±inf, -0.0) or gradient-check data (normal)."""
    return d.garray(dtype, shape) if for_grad else d.array(dtype, shape, special=True)


def _broadcastable_to(d, shape, label):
    """A shape that broadcasts to ``shape``: a suffix of it with some sides set to 1."""
    k = d.int(0, len(shape), label + " ndim")
    return tuple(1 if d.bool() else n for n in shape[len(shape) - k:])


def _broadcast_arrays(d, dtype, for_grad):
    target = d.shape()
    xs = tuple(_data(d, dtype, _broadcastable_to(d, target, f"input {k}"), for_grad)
               for k in range(d.int(1, 3, "number of arrays")))
    return Case(lambda ns, *xs: ns.broadcast_arrays(*xs), xs)


def _broadcast_to(d, dtype, for_grad):
    target = d.shape()
    x = _data(d, dtype, _broadcastable_to(d, target, "x"), for_grad)
    return Case(lambda ns, x: ns.broadcast_to(x, target), (x,))


def _concat(d, dtype, for_grad):
    shape = list(d.shape(1, 3))
    axis = d(st.none() | st.integers(-len(shape), len(shape) - 1), "axis")
    # a second dtype of the same kind: the standard's promotion (uint64 with a signed
    # integer is left open)
    group = next(g for g in (BOOL, SIGNED + UNSIGNED[:3], UNSIGNED, FLOATS, COMPLEX)
                 if dtype in g)
    xs = []
    for k in range(d.int(1, 3, "number of arrays")):
        if axis is not None:
            shape[axis] = d.int(0, 3, f"side {k}")
        t = dtype if for_grad else d.choice(group, f"dtype {k}")
        xs.append(_data(d, t, tuple(shape) if axis is not None else d.shape(1, 3), for_grad))
    return Case(lambda ns, *xs: ns.concat(xs, axis=axis), tuple(xs))


def _expand_dims(d, dtype, for_grad):
    x = _data(d, dtype, d.shape(), for_grad)
    k = d.int(1, 2, "new axes")
    out_ndim = x.ndim + k
    picked = d(st.lists(st.integers(0, out_ndim - 1), min_size=k, max_size=k, unique=True), "axis")
    axis = tuple(a - out_ndim if d.bool() else a for a in picked)
    if k == 1 and d.bool("an int axis"):
        axis = axis[0]
    return Case(lambda ns, x: ns.expand_dims(x, axis=axis), (x,))


def _flip(d, dtype, for_grad):
    x = _data(d, dtype, d.shape(), for_grad)
    axis = d.axes(x.ndim)
    return Case(lambda ns, x: ns.flip(x, axis=axis), (x,))


def _moveaxis(d, dtype, for_grad):
    x = _data(d, dtype, d.shape(1), for_grad)
    n = x.ndim
    k = d.int(1, n, "moved")
    src = d(st.permutations(range(n)), "source")[:k]
    dst = d(st.permutations(range(n)), "destination")[:k]
    src = tuple(a - n if d.bool() else a for a in src)
    dst = tuple(a - n if d.bool() else a for a in dst)
    if k == 1 and d.bool("int axes"):
        src, dst = src[0], dst[0]
    return Case(lambda ns, x: ns.moveaxis(x, src, dst), (x,))


def _permute_dims(d, dtype, for_grad):
    x = _data(d, dtype, d.shape(), for_grad)
    axes = tuple(d(st.permutations(range(x.ndim)), "axes"))
    return Case(lambda ns, x: ns.permute_dims(x, axes), (x,))


def _repeat(d, dtype, for_grad):
    x = _data(d, dtype, d.shape(), for_grad)
    axis = d(st.none() | st.integers(-x.ndim, x.ndim - 1), "axis") if x.ndim else None
    n = x.size if axis is None else x.shape[axis]
    if d.bool("repeats as an array"):
        reps = d.rng.integers(0, 3, d.choice([n, 1], "repeats length")).astype(
            d.choice(["int64", "int32", "uint8"], "repeats dtype"))
        return Case(lambda ns, x, r: ns.repeat(x, r, axis=axis), (x, reps))
    r = d.int(0, 3, "repeats")
    return Case(lambda ns, x: ns.repeat(x, r, axis=axis), (x,))


def _reshape(d, dtype, for_grad):
    x = _data(d, dtype, d.shape(), for_grad)
    if x.size == 0:
        target = d.choice([(0,), (0, 2), (3, 0, 1), (1, 0)], "shape")
    else:
        sides = [f for f in range(1, x.size + 1) if x.size % f == 0]
        target, rest = [], x.size
        for _ in range(d.int(0, 2, "ndim - 1")):
            f = d.choice([f for f in sides if rest % f == 0], "side")
            target.append(f)
            rest //= f
        target.append(rest)
        if d.bool("a -1"):
            target[d.int(0, len(target) - 1, "where -1")] = -1
        if target == [1] and d.bool("0-d"):
            target = []
    target = tuple(target)
    copy = d.choice([None, True], "copy")
    return Case(lambda ns, x: ns.reshape(x, target, copy=copy), (x,))


def _roll(d, dtype, for_grad):
    x = _data(d, dtype, d.shape(), for_grad)
    axis = d.axes(x.ndim) or None             # (NumPy's roll fails on empty tuples)
    if isinstance(axis, tuple):
        shift = tuple(d.int(-4, 4, "shift") for _ in axis)
    else:
        shift = d.int(-4, 4, "shift")
        if axis is not None and d.bool("1-tuples"):
            shift, axis = (shift,), (axis,)
    return Case(lambda ns, x: ns.roll(x, shift, axis=axis), (x,))


def _squeeze(d, dtype, for_grad):
    shape = list(d.shape(0, 3, 0, 2))
    shape.insert(d.int(0, len(shape), "where a 1"), 1)
    x = _data(d, dtype, tuple(shape), for_grad)
    ones = [a for a, n in enumerate(shape) if n == 1]
    picked = d(st.lists(st.sampled_from(ones), min_size=1, unique=True), "axis")
    axis = tuple(a - x.ndim if d.bool() else a for a in picked)
    if len(axis) == 1 and d.bool("an int axis"):
        axis = axis[0]
    return Case(lambda ns, x: ns.squeeze(x, axis=axis), (x,))


def _stack(d, dtype, for_grad):
    shape = d.shape(0, 2)
    xs = tuple(_data(d, dtype, shape, for_grad) for _ in range(d.int(1, 3, "number of arrays")))
    axis = d.int(-len(shape) - 1, len(shape), "axis")
    return Case(lambda ns, *xs: ns.stack(xs, axis=axis), xs)


def _tile(d, dtype, for_grad):
    x = _data(d, dtype, d.shape(0, 2), for_grad)
    reps = tuple(d(st.lists(st.integers(0, 2), max_size=3), "repetitions"))
    return Case(lambda ns, x: ns.tile(x, reps), (x,))


def _unstack(d, dtype, for_grad):
    x = _data(d, dtype, d.shape(1), for_grad)
    axis = d.axis(x.ndim)
    return Case(lambda ns, x: ns.unstack(x, axis=axis), (x,))


MANIPULATION = {
    "broadcast_arrays": Spec(_broadcast_arrays, ALL, G_ALL),
    "broadcast_to": Spec(_broadcast_to, ALL, G_ALL, True),
    "concat": Spec(_concat, ALL, G_ALL),
    "expand_dims": Spec(_expand_dims, ALL, G_ALL),
    "flip": Spec(_flip, ALL, G_ALL),
    "moveaxis": Spec(_moveaxis, ALL, G_ALL),
    "permute_dims": Spec(_permute_dims, ALL, G_ALL),
    "repeat": Spec(_repeat, ALL, G_ALL, True),
    "reshape": Spec(_reshape, ALL, G_ALL),
    "roll": Spec(_roll, ALL, G_ALL),
    "squeeze": Spec(_squeeze, ALL, G_ALL),
    "stack": Spec(_stack, ALL, G_ALL),
    "tile": Spec(_tile, ALL, G_ALL),
    "unstack": Spec(_unstack, ALL, G_ALL),
}


@settings(suppress_health_check=_HC)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(MANIPULATION))
def test_manipulation_values(standard_be, name, data):
    """Manipulation functions, exactly (every dtype, NaN/±inf/-0.0 data, 0-d and empty
    shapes): broadcast_arrays/broadcast_to (1 to 3 inputs, sides of 1), concat (1 to 3
    inputs, axis=None, mixed dtypes of one kind), expand_dims (an int or a tuple of new
    axes, negative too), flip/roll (axis None, int, tuple; shifts per axis), moveaxis (ints
    and tuples), permute_dims, repeat (an int, or an array of repeats of any integer dtype,
    axis=None), reshape (-1, 0-d, copy=), squeeze (an int or a tuple), stack (every axis),
    tile (repetitions shorter, longer, zero), unstack (every axis; a tuple)."""
    check_values(standard_be, MANIPULATION[name], data, name)


@settings(suppress_health_check=_HC)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(MANIPULATION))
def test_manipulation_gradients(standard_be, name, data):
    """The same draws in float64 and complex128 (every input of concat, stack and
    broadcast_arrays; broadcast_to and repeat also second order)."""
    check_gradient(standard_be, MANIPULATION[name], data)


# ------------------------------------------------------------------ searching, sets, sorting


def _arg_reduce(fname):
    def draw(d, dtype, for_grad):
        x = d.array(dtype, d.shape(0, 3, 1))        # ties, no NaN (which the standard leaves open)
        axis = d(st.none() | st.integers(-x.ndim, x.ndim - 1), "axis") if x.ndim else None
        keepdims = d.bool("keepdims")
        return Case(lambda ns, x: getattr(ns, fname)(x, axis=axis, keepdims=keepdims), (x,))
    return draw


def _count_nonzero(d, dtype, for_grad):
    x = d.array(dtype, d.shape(), special=True)
    axis, keepdims = d.axes(x.ndim), d.bool("keepdims")
    return Case(lambda ns, x: ns.count_nonzero(x, axis=axis, keepdims=keepdims), (x,))


def _nonzero(d, dtype, for_grad):
    x = d.array(dtype, d.shape(1), special=True)
    return Case(lambda ns, x: ns.nonzero(x), (x,))


def _searchsorted(d, dtype, for_grad):
    x1 = d.array(dtype, (d.int(0, 6, "len(x1)"),), special=d.bool("NaN, ±inf"))
    x2 = d.array(dtype, d.shape(), special=True)
    side = d.choice(["left", "right"], "side")
    if d.bool("sorter"):
        sorter = np.argsort(x1, kind="stable").astype(d.choice(["int64", "int32"], "sorter dtype"))
        return Case(lambda ns, x1, x2, s: ns.searchsorted(x1, x2, side=side, sorter=s),
                    (x1, x2, sorter))
    x1 = np.sort(x1)                                     # NaNs last, as the standard sorts
    return Case(lambda ns, x1, x2: ns.searchsorted(x1, x2, side=side), (x1, x2))


def _where(d, dtype, for_grad):
    target = d.shape()
    cond = d.array("bool", _broadcastable_to(d, target, "condition"))
    arrays, scalars = [cond], []
    for k in (1, 2):
        if not for_grad and d.bool(f"x{k} a Python scalar"):
            scalars.append(_scalar(dtype, d.rng))
        else:
            scalars.append(None)
            arrays.append(_data(d, dtype, _broadcastable_to(d, target, f"x{k}"), for_grad))
    if scalars == [None, None] or for_grad:
        return Case(lambda ns, c, a, b: ns.where(c, a, b), tuple(arrays))
    if scalars[0] is not None and scalars[1] is not None:
        # (the standard wants one array of x1, x2)
        return Case(lambda ns, c, a: ns.where(c, a, scalars[1]),
                    (cond, d.array(dtype, _broadcastable_to(d, target, "x1"))))
    if scalars[0] is not None:
        return Case(lambda ns, c, b: ns.where(c, scalars[0], b), tuple(arrays))
    return Case(lambda ns, c, a: ns.where(c, a, scalars[1]), tuple(arrays))


SEARCHING = {
    "argmax": Spec(_arg_reduce("argmax"), REAL),
    "argmin": Spec(_arg_reduce("argmin"), REAL),
    "count_nonzero": Spec(_count_nonzero, ALL),
    "nonzero": Spec(_nonzero, ALL),
    "searchsorted": Spec(_searchsorted, REAL),
    "where": Spec(_where, ALL, G_ALL, True),
}


@settings(suppress_health_check=_HC)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(SEARCHING))
def test_searching_values(standard_be, name, data):
    """argmax/argmin (ties: the first; axis None or an int; keepdims; 0-d), count_nonzero
    (NaN counts, -0.0 does not; axis tuples; keepdims), nonzero (a tuple of index arrays;
    empty), searchsorted (side, sorter of int32/int64, NaN and ±inf in both arrays, an empty
    x1, 0-d x2), where (broadcasting of all three; a Python scalar for x1 or x2)."""
    check_values(standard_be, SEARCHING[name], data, name)


@settings(suppress_health_check=_HC)
@given(data=st.data())
def test_where_gradient(standard_be, data):
    """where: both branches, broadcast condition and branches, float64 and complex128,
    first and second order."""
    check_gradient(standard_be, SEARCHING["where"], data)


def _unique(fname):
    def draw(d, dtype, for_grad):
        shape = d.shape(0, 3, 0, 3)
        x = d.array(dtype, shape, distinct=True) if for_grad else \
            d.array(dtype, shape, special=True)

        def fn(ns, x):
            r = getattr(ns, fname)(x)
            if dtype not in FLOATS or fname in ("unique_values", "unique_counts"):
                return r
            # NaNs are each their own value; which of them an index (first occurrence,
            # inverse) points to is left open: those indices become -1
            nan = ns.isnan(r.values)
            inv = r.inverse_indices
            to_nan = ns.reshape(ns.take(nan, ns.reshape(inv, (-1,))), inv.shape)
            r = r._replace(inverse_indices=ns.where(to_nan, -1, inv))
            return r._replace(indices=ns.where(nan, -1, r.indices)) if fname == "unique_all" \
                else r
        # ties (and -0.0 next to 0.0) in the value checks: which one of equal zeros is
        # kept is left open by the standard
        return Case(fn, (x,), zero_sign=False)
    return draw


def _isin(d, dtype, for_grad):
    """invert=True is asked of interop only; the backend's answer is logical_not of its
    isin: array-api-strict 2.6.1 ignores ``invert`` (its isin calls np.isin without it)."""
    x1 = d.array(dtype, d.shape())
    invert = d.bool("invert")

    def fn(ns, x1, *x2):
        x2 = x2[0] if x2 else scalar
        if ns is it:
            return ns.isin(x1, x2, invert=invert)
        found = ns.isin(x1, x2)
        return ns.logical_not(found) if invert else found
    if d.bool("x2 a Python int"):
        scalar = _scalar("uint8", d.rng)
        return Case(fn, (x1,))
    return Case(fn, (x1, d.array(dtype, d.shape())))


SETS = {
    "isin": Spec(_isin, INTS),               # (the standard's isin takes integers)
    "unique_all": Spec(_unique("unique_all"), REAL, G_REAL),
    "unique_counts": Spec(_unique("unique_counts"), REAL, G_REAL),
    "unique_inverse": Spec(_unique("unique_inverse"), REAL, G_REAL),
    "unique_values": Spec(_unique("unique_values"), REAL, G_REAL),
}


@settings(suppress_health_check=_HC)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(SETS))
def test_set_values(standard_be, name, data):
    """unique_all/counts/inverse/values (the named tuples' fields, sorted values, first
    indices, inverse indices of x's shape, counts; ties, NaN each its own value, ±inf; 0-d
    and empty), isin (integers, invert, any shapes, x2 a Python int)."""
    check_values(standard_be, SETS[name], data, name)


@settings(suppress_health_check=_HC)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(n for n in SETS if SETS[n].grad))
def test_set_gradients(standard_be, name, data):
    """unique_*: the gradient of the values (to the element each came from), on distinct
    data (with ties the unique values are not differentiable: a step splits them)."""
    check_gradient(standard_be, SETS[name], data)


def _sort(fname):
    def draw(d, dtype, for_grad):
        shape = d.shape(1, 3, 1 if for_grad else 0)
        x = d.array(dtype, shape, distinct=True) if for_grad else \
            d.array(dtype, shape, special=True)
        axis, descending = d.axis(x.ndim), d.bool("descending")
        stable = d.bool("stable")

        def fn(ns, x):
            if fname == "sort" and descending and ns is not it:
                # array-api-compat's and array-api-strict's sort(descending=True) flip the
                # ascending sort, which reverses the order of ties (-0.0 and 0.0): not
                # stable. Their argsort keeps it: the sorted values are taken with it
                return ns.take_along_axis(x, ns.argsort(x, axis=axis, descending=True,
                                                        stable=stable), axis=axis)
            return getattr(ns, fname)(x, axis=axis, descending=descending, stable=stable)
        if stable or fname == "sort":
            # the order of ties (equal values, -0.0 and 0.0) is fixed only by stable=True
            return Case(fn, (x,), zero_sign=stable)
        # stable=False: the indices of ties are left open: compare the values they take
        return Case(lambda ns, x: ns.take_along_axis(x, fn(ns, x), axis=axis), (x,),
                    zero_sign=False)
    return draw


SORTING = {
    "argsort": Spec(_sort("argsort"), REAL),
    "sort": Spec(_sort("sort"), REAL, G_REAL, True),
}


@settings(suppress_health_check=_HC)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(SORTING))
def test_sorting_values(standard_be, name, data):
    """sort/argsort along every axis, ascending and descending, stable (ties, and -0.0 next
    to 0.0, keep their order, descending too) or not (then the values the indices take);
    NaN and ±inf; empty."""
    check_values(standard_be, SORTING[name], data, name)


def test_sort_descending_is_stable(standard_be):
    """sort(descending=True) keeps equal values in their order (-0.0 and 0.0 show it), as
    argsort(descending=True) and the standard's ``stable`` say. (The backends' own sort
    flips an ascending sort, which reverses ties, so it is not the reference here.)"""
    a = np.array([0.0, 1.0, -0.0, 0.0, -1.0, -0.0])
    got = API.sort(it.asarray(a), descending=True)
    order = np.argsort(-a, kind="stable")
    np.testing.assert_array_equal(np.signbit(got.numpy()), np.signbit(a[order]))
    np.testing.assert_array_equal(API.argsort(it.asarray(a), descending=True).numpy(), order)


@settings(suppress_health_check=_HC)
@given(data=st.data())
def test_sort_gradient(standard_be, data):
    """sort: the gradient goes to the element each value came from (distinct values; any
    axis, descending), first and second order."""
    check_gradient(standard_be, SORTING["sort"], data)


# ------------------------------------------------------------------ statistics, utility


def _cumulative(fname):
    """include_initial=False: interop raises NotImplementedError for include_initial=True
    (test_cumulative_include_initial)."""
    def draw(d, dtype, for_grad):
        shape = d.shape(1, 2, 1 if for_grad else 0)
        x = d.garray(dtype, shape) if for_grad else \
            d.array(dtype, shape, special=True, lo=-2, hi=3)
        axis = d.axis(x.ndim) if x.ndim > 1 or d.bool("axis given") else None
        out = None if for_grad else _wider(d, dtype)
        initial = False
        return Case(lambda ns, x: getattr(ns, fname)(x, axis=axis, dtype=_dt(ns, out),
                                                     include_initial=initial), (x,), tol=8)
    return draw


def _reduction(fname, dtype_kw=False, correction=False, nonempty=False):
    def draw(d, dtype, for_grad):
        x = d.array(dtype, d.shape(0, 3, 1 if for_grad else 0), distinct=True) if for_grad \
            else d.array(dtype, d.shape(0, 3, 1 if nonempty else 0), special=True,
                         lo=-2, hi=3)
        axis, keepdims = d.axes(x.ndim), d.bool("keepdims")
        kw = {"axis": axis, "keepdims": keepdims}
        if correction:
            n = x.size if axis is None else math.prod(
                x.shape[a] for a in ((axis,) if isinstance(axis, int) else axis))
            kw["correction"] = d.choice([0, 1, 0.5, 2] if not for_grad else
                                        [c for c in (0, 1, 0.5) if c < n], "correction")
        out = _wider(d, dtype) if dtype_kw and not for_grad else None

        def fn(ns, x):
            extra = {"dtype": _dt(ns, out)} if out else {}
            return getattr(ns, fname)(x, **kw, **extra)
        return Case(fn, (x,), tol=8)
    return draw


STATISTICAL = {
    "cumulative_prod": Spec(_cumulative("cumulative_prod"), NUMERIC, G_ALL, True),
    "cumulative_sum": Spec(_cumulative("cumulative_sum"), NUMERIC, G_ALL, True),
    "max": Spec(_reduction("max", nonempty=True), REAL, G_REAL),
    "mean": Spec(_reduction("mean"), INEXACT, G_ALL, True),
    "min": Spec(_reduction("min", nonempty=True), REAL, G_REAL),
    # complex prod: test_prod_complex_gradient
    "prod": Spec(_reduction("prod", dtype_kw=True), NUMERIC, G_REAL, True),
    "std": Spec(_reduction("std", correction=True), FLOATS, G_REAL),
    "sum": Spec(_reduction("sum", dtype_kw=True), NUMERIC, G_ALL, True),
    "var": Spec(_reduction("var", correction=True), FLOATS, G_REAL, True),
}


@settings(suppress_health_check=_HC)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(STATISTICAL))
def test_statistical_values(standard_be, name, data):
    """Reductions over axis None, an int or a tuple (empty tuple too), keepdims, 0-d and
    empty inputs (max/min: non-empty), NaN and ±inf propagation, the dtype= accumulator of
    sum/prod/cumulative_* (and the default: integers to int64/uint64), std/var's correction
    (0, 1, 0.5, 2: past the number of elements too), cumulative_sum/prod's axis (given or not
    for 1-D); within 8 eps."""
    check_values(standard_be, STATISTICAL[name], data, name)


@pytest.mark.parametrize("name", ["cumulative_sum", "cumulative_prod"])
def test_cumulative_include_initial(standard_be, name):
    """cumulative_sum/prod(include_initial=True), values and gradient."""
    a = np.array([[2.0, -1.5, 0.5], [1.0, 3.0, -2.0]])
    f = lambda ns, x: getattr(ns, name)(x, axis=1, include_initial=True)   # noqa: E731
    _same(standard_be, f(API, it.asarray(a)), f(standard_be.xp, standard_be.from_host(a)), Case(f, (), tol=8),
          f"{name}(include_initial=True)")
    assert gradcheck(lambda t: f(API, t), (it.asarray(a, requires_grad=True),))


@pytest.mark.parametrize("axis", [None, 1])
def test_prod_complex_gradient(standard_be, axis):
    """prod of complex128 input, against finite differences."""
    a = np.array([[1 + 2j, 3 - 1j], [0.5 + 0.5j, -1j]])
    assert gradcheck(lambda t: API.prod(t, axis=axis), (it.asarray(a, requires_grad=True),))


@settings(suppress_health_check=_HC)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(STATISTICAL))
def test_statistical_gradients(standard_be, name, data):
    """The same draws in float64 (and complex128 for sum/mean/cumulative_*), on
    distinct values (no ties for max/min, no zeros for prod); second order for sum, prod,
    mean, var and the cumulative functions."""
    check_gradient(standard_be, STATISTICAL[name], data)


def _all_any(fname):
    def draw(d, dtype, for_grad):
        x = d.array(dtype, d.shape(), special=True)
        axis, keepdims = d.axes(x.ndim), d.bool("keepdims")
        return Case(lambda ns, x: getattr(ns, fname)(x, axis=axis, keepdims=keepdims), (x,))
    return draw


def _diff(d, dtype, for_grad):
    shape = list(d.shape(1, 3, 1 if for_grad else 0))
    x = _data(d, dtype, tuple(shape), for_grad)
    axis = d.axis(len(shape))
    n = d.int(0 if not for_grad else 1, 3, "n")
    arrays, names = [x], []
    for k in ("prepend", "append"):
        if d.bool(k):
            side = list(shape)
            side[axis] = d.int(0, 2, f"len({k})")
            arrays.append(_data(d, dtype, tuple(side), for_grad))
            names.append(k)

    def fn(ns, x, *extra):
        return ns.diff(x, axis=axis, n=n, **dict(zip(names, extra)))
    return Case(fn, tuple(arrays))


UTILITY = {
    "all": Spec(_all_any("all"), ALL),
    "any": Spec(_all_any("any"), ALL),
    "diff": Spec(_diff, NUMERIC, G_ALL, True),
}


@settings(suppress_health_check=_HC)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(UTILITY))
def test_utility_values(standard_be, name, data):
    """all/any (every dtype, NaN is true, -0.0 false; axis None/int/tuple, keepdims, 0-d and
    empty), diff (every axis, n from 0 to 3, past the length too, prepend/append)."""
    check_values(standard_be, UTILITY[name], data, name)


@settings(suppress_health_check=_HC)
@given(data=st.data())
def test_diff_gradient(standard_be, data):
    """diff: gradients of x, prepend and append, float64 and complex128, second order."""
    check_gradient(standard_be, UTILITY["diff"], data)


# ------------------------------------------------------------------ indexing, clip


def _take(d, dtype, for_grad):
    """Indices of any integer dtype, negative ones (counted from the end) in signed dtypes."""
    x = _data(d, dtype, d.shape(1, 3, 1 if for_grad else 0), for_grad)
    axis = d.axis(x.ndim) if x.ndim > 1 or d.bool("axis given") else None
    n = x.shape[axis if axis is not None else 0]
    m = d.int(0, 4, "len(indices)") if n else 0
    idx = d.rng.integers(-n, n, m) if n else np.zeros(0, int)
    idx_dtype = d.choice(INTS, "indices dtype")
    idx = (idx % max(n, 1) if idx_dtype in UNSIGNED else idx).astype(idx_dtype)
    return Case(lambda ns, x, i: ns.take(x, i, axis=axis), (x, idx))


def _take_along_axis(d, dtype, for_grad):
    """Indices in [0, n) (interop refuses negative ones: test_take_along_axis_negative),
    of the same rank as x, broadcasting against it on the other axes."""
    shape = list(d.shape(1, 3, 1 if for_grad else 0))
    x = _data(d, dtype, tuple(shape), for_grad)
    axis = d.axis(len(shape))
    n = shape[axis]
    # broadcast on the other axes (not a 1 against a 0: test_take_along_axis_broadcasts_empty)
    ishape = [1 if k and d.bool() else k for k in shape]
    ishape[axis] = d.int(0, 3, "len along axis") if n else 0
    idx = d.rng.integers(0, max(n, 1), ishape).astype(d.choice(INTS, "indices dtype"))
    return Case(lambda ns, x, i: ns.take_along_axis(x, i, axis=axis), (x, idx))


def _clip(d, dtype, for_grad):
    """Bounds: None, a Python scalar of x's kind, or an array of x's dtype that broadcasts to
    x's shape; min <= max (the standard leaves min > max open; floats: min < max, no kink
    where they meet), no NaN bounds. The bounds
    are whole numbers + 0.5, which the gradient data (distinct: k/2 + [0.05, 0.15], or
    shifted by 0.25) keeps at least 0.05 away from (the kinks)."""
    shape = d.shape()
    x = d.array(dtype, shape, distinct=True) if for_grad else d.array(dtype, shape, special=True)
    lo_kind = d.choice(["none", "scalar", "array"], "min")
    hi_kind = d.choice(["none", "scalar", "array"], "max")
    lo_shape = _broadcastable_to(d, shape, "min")
    hi_shape = lo_shape if d.bool("bounds of one shape") else _broadcastable_to(d, shape, "max")
    if dtype in INTS:
        lo = d.rng.integers(0 if dtype in UNSIGNED else -2, 3, lo_shape)
        hi = lo + d.rng.integers(0, 3, lo_shape) if lo_shape == hi_shape \
            else d.rng.integers(3, 6, hi_shape)
    else:
        lo = d.rng.integers(-3, 1, lo_shape) + 0.5
        hi = lo + d.rng.integers(1, 3, lo_shape) if lo_shape == hi_shape \
            else d.rng.integers(1, 4, hi_shape) + 0.5
    lo, hi = np.asarray(lo, dtype), np.asarray(hi, dtype)
    arrays = [x] + ([lo] if lo_kind == "array" else []) + ([hi] if hi_kind == "array" else [])
    lo_s = None if lo_kind == "none" or not lo.size else lo.reshape(-1)[0].item()
    hi_s = None if hi_kind == "none" or not hi.size else hi.reshape(-1)[0].item()
    gap = 0 if dtype in INTS else 1
    if lo_kind == "scalar" and hi_kind == "array" and lo_s is not None and hi.size:
        lo_s = min(lo_s, hi.min().item() - gap)
    if hi_kind == "scalar" and lo_kind == "array" and hi_s is not None and lo.size:
        hi_s = max(hi_s, lo.max().item() + gap)
    if lo_kind == hi_kind == "scalar" and lo_s is not None and hi_s is not None:
        hi_s = max(lo_s + gap, hi_s)

    def fn(ns, x, *bounds):
        bounds = list(bounds)
        mn = bounds.pop(0) if lo_kind == "array" else lo_s
        mx = bounds.pop(0) if hi_kind == "array" else hi_s
        return ns.clip(x, min=mn, max=mx)
    return Case(fn, tuple(arrays))


INDEXING = {
    "clip": Spec(_clip, REAL, G_REAL, True),
    "take": Spec(_take, ALL, G_ALL, True),
    "take_along_axis": Spec(_take_along_axis, ALL, G_ALL),
}


@settings(suppress_health_check=_HC)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(INDEXING))
def test_indexing_and_clip_values(standard_be, name, data):
    """take (axis given or not for 1-D, repeated indices of every integer dtype, negative
    ones in signed dtypes, empty), take_along_axis (every axis, indices of every dtype,
    broadcast against x on the other axes), clip (bounds None, Python scalars or broadcast
    arrays; NaN in x stays NaN)."""
    check_values(standard_be, INDEXING[name], data, name)


@pytest.mark.parametrize("dtype", ["uint8", "int8"])
def test_take_narrow_index_dtypes(standard_be, dtype):
    """take with int8/uint8 indices into an axis longer than those dtypes reach (the bounds
    check must not compare in the index dtype: it raised OverflowError before 0cc067d)."""
    a = np.arange(300, dtype=np.float64)
    idx = np.array([2, 0, 4] + ([-1] if dtype == "int8" else [255]), dtype=dtype)
    f = lambda ns, x, i: ns.take(x, i)                              # noqa: E731
    _same(standard_be, f(API, it.asarray(a), it.asarray(idx)),
          f(standard_be.xp, standard_be.from_host(a), standard_be.from_host(idx)), Case(f, ()), f"take {dtype}")


def test_take_along_axis_negative(standard_be):
    """take_along_axis with negative indices."""
    a = np.arange(6.0).reshape(2, 3)
    idx = np.array([[-1, 0], [-3, -2]])
    f = lambda ns, x, i: ns.take_along_axis(x, i, axis=1)          # noqa: E731
    _same(standard_be, f(API, it.asarray(a), it.asarray(idx)),
          f(standard_be.xp, standard_be.from_host(a), standard_be.from_host(idx)), Case(f, ()),
          "take_along_axis negative")


def test_take_along_axis_broadcasts_empty(standard_be):
    """take_along_axis with indices of side 1 against an empty side of x."""
    a, idx = np.zeros((2, 0)), np.zeros((1, 1), dtype=np.int64)
    f = lambda ns, x, i: ns.take_along_axis(x, i, axis=0)           # noqa: E731
    _same(standard_be, f(API, it.asarray(a), it.asarray(idx)),
          f(standard_be.xp, standard_be.from_host(a), standard_be.from_host(idx)), Case(f, ()),
          "take_along_axis empty broadcast")


@settings(suppress_health_check=_HC)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(INDEXING))
def test_indexing_and_clip_gradients(standard_be, name, data):
    """take/take_along_axis (repeated indices accumulate; float64 and complex128), clip
    (x and array bounds, away from the kinks); take and clip second order."""
    check_gradient(standard_be, INDEXING[name], data)


# ------------------------------------------------------------------ linear algebra


def _H(ns, x, dtype):
    """The conjugate transpose of a stack of matrices."""
    xt = ns.matrix_transpose(x)
    return ns.conj(xt) if dtype in COMPLEX else xt


def _normal(d, dtype, shape):
    """Normal data of a floating dtype, or small whole numbers of an integer one."""
    if dtype in INTS:
        return d.array(dtype, shape)
    return d.garray(dtype, shape)


def _unitary(d, dtype, n):
    q, _ = np.linalg.qr(d.garray("complex128" if dtype in COMPLEX else "float64", (n, n)))
    return q


def _spectrum(d, k):
    """``k`` distinct positive values at least 0.5 apart, in [0.5, 4.5) (singular values,
    eigenvalues): no degenerate gradients."""
    return np.sort(d.rng.permutation(8)[:k] * 0.5 + 0.5 + d.rng.uniform(0, 0.1, k))[::-1]


def _with_spectrum(d, dtype, batch, m, n):
    """Matrices (batch, m, n) with distinct singular values in [0.5, 4.5)."""
    k = min(m, n)
    out = np.empty(batch + (m, n), dtype=dtype)
    for i in np.ndindex(*batch):
        u, v = _unitary(d, dtype, m)[:, :k], _unitary(d, dtype, n)[:k, :]
        out[i] = (u * _spectrum(d, k)) @ v
    return out


def _well_conditioned(d, dtype, shape):
    n = shape[-1]
    return (d.garray(dtype, shape) + 2 * n * np.eye(n)).astype(dtype)


def _batch(d, max_dims=1, label="batch"):
    return d.shape(0, max_dims, 1, 2, label)


def _matmul(fname):
    def draw(d, dtype, for_grad):
        lo = 1 if for_grad else 0
        m, k, n = d.int(lo, 3, "m"), d.int(lo, 3, "k"), d.int(lo, 3, "n")
        kind = d.choice(["matrices", "vector @ matrix", "matrix @ vector", "vector @ vector"],
                        "operands")
        batch = _batch(d, 2)
        s1 = (k,) if kind.startswith("vector") else _broadcastable_to(d, batch, "x1 batch") + (m, k)
        s2 = (k,) if kind.endswith("vector") else _broadcastable_to(d, batch, "x2 batch") + (k, n)
        xs = (_normal(d, dtype, s1), _normal(d, dtype, s2))
        f = it.linalg.matmul if fname == "linalg.matmul" else None
        return Case(lambda ns, a, b: (ns.linalg.matmul if f else ns.matmul)(a, b), xs, tol=64)
    return draw


def _matrix_transpose(fname):
    def draw(d, dtype, for_grad):
        x = _data(d, dtype, d.shape(0, 2) + d.shape(2, 2), for_grad)
        return Case(lambda ns, x: (ns.linalg if fname.startswith("linalg") else ns)
                    .matrix_transpose(x), (x,))
    return draw


def _tensordot(fname):
    def draw(d, dtype, for_grad):
        lo = 1 if for_grad else 0
        contracted = d.shape(0, 2, lo, 3, "contracted sides")
        s1 = d.shape(0, 2, lo, 3, "x1 sides") + contracted
        s2 = contracted + d.shape(0, 2, lo, 3, "x2 sides")
        k = len(contracted)
        axes = k
        if d.bool("axes as sequences"):
            # contract the same sides, listed from x1's and x2's axes in a drawn order
            p = d(st.permutations(range(k)), "order")
            axes = ([len(s1) - k + i for i in p], [i for i in p])
        xs = (_normal(d, dtype, s1), _normal(d, dtype, s2))
        return Case(lambda ns, a, b: (ns.linalg if fname.startswith("linalg") else ns)
                    .tensordot(a, b, axes=axes), xs, tol=64)
    return draw


def _vecdot(fname):
    def draw(d, dtype, for_grad):
        shape = d.shape(1, 3, 1 if for_grad else 0)
        axis = d.int(-len(shape), -1, "axis")
        s1 = list(_broadcastable_to(d, shape, "x1"))
        s2 = list(_broadcastable_to(d, shape, "x2"))
        # the contracted axis is not broadcast
        for s in (s1, s2):
            while len(s) < -axis:
                s.insert(0, 1)
            s[axis] = shape[axis]
        xs = (_normal(d, dtype, tuple(s1)), _normal(d, dtype, tuple(s2)))
        return Case(lambda ns, a, b: (ns.linalg if fname.startswith("linalg") else ns)
                    .vecdot(a, b, axis=axis), xs, tol=64)
    return draw


def _cholesky(d, dtype, for_grad):
    n = d.int(1, 3, "n")
    x = d.garray(dtype, _batch(d) + (n, n))
    upper = d.bool("upper")
    # x x^H + n I: positive definite, and every entry of x moves it
    return Case(lambda ns, x: ns.linalg.cholesky(
        ns.matmul(x, _H(ns, x, dtype)) + n * ns.eye(n, dtype=x.dtype), upper=upper), (x,), tol=64)


def _cross(d, dtype, for_grad):
    shape = list(d.shape(0, 2, 1, 2))
    axis = d.int(-len(shape) - 1, -1, "axis")
    shape.insert(len(shape) + 1 + axis, 3)
    s1, s2 = list(shape), list(shape)
    for s in (s1, s2):
        for i in range(len(s)):
            if i != len(s) + axis and d.bool():
                s[i] = 1
    xs = (_normal(d, dtype, tuple(s1)), _normal(d, dtype, tuple(s2)))
    return Case(lambda ns, a, b: ns.linalg.cross(a, b, axis=axis), xs, tol=64)


def _square(fname, tol=64):
    def draw(d, dtype, for_grad):
        n = d.int(1 if for_grad else 0, 3, "n")
        x = _well_conditioned(d, dtype, _batch(d) + (n, n))
        return Case(lambda ns, x: getattr(ns.linalg, fname)(x), (x,), tol=tol)
    return draw


def _diagonal(d, dtype, for_grad):
    x = _data(d, dtype, d.shape(0, 2) + d.shape(2, 2), for_grad)
    offset = d.int(-3, 3, "offset")
    return Case(lambda ns, x: ns.linalg.diagonal(x, offset=offset), (x,))


def _eig(fname):
    def draw(d, dtype, for_grad):
        """General square matrices ``P diag(L) P^-1`` with distinct eigenvalues (complex ones
        for complex dtypes); the gradient through the eigenvalues and |eigenvectors|^2 (each
        eigenvector has norm 1 and a free phase)."""
        n = d.int(1 if for_grad else 0, 3, "n")
        batch = _batch(d)
        x = np.empty(batch + (n, n), dtype)
        for i in np.ndindex(*batch):
            p = _well_conditioned(d, dtype, (n, n))
            lam = _spectrum(d, n) * (1 if dtype in FLOATS else np.exp(1j * d.rng.uniform(0, 1, n)))
            x[i] = (p * lam) @ np.linalg.inv(p)
        if fname == "eigvals" or not for_grad:
            return Case(lambda ns, x: getattr(ns.linalg, fname)(x), (x,), tol=256)

        def fn(ns, x):
            w, v = ns.linalg.eig(x)
            return w, ns.abs(v) ** 2
        return Case(fn, (x,), tol=256)
    return draw


def _eigh(fname):
    def draw(d, dtype, for_grad):
        """Hermitian matrices with distinct eigenvalues (of both signs); the gradient of
        eigh through the eigenvalues and |eigenvectors|^2 (their sign is free)."""
        n = d.int(1, 3, "n")
        batch = _batch(d)
        x = np.empty(batch + (n, n), dtype)
        for i in np.ndindex(*batch):
            q = _unitary(d, dtype, n)
            x[i] = (q * (_spectrum(d, n) - 2.2)) @ q.conj().T
        if not for_grad:
            return Case(lambda ns, x: getattr(ns.linalg, fname)(x), (x,), tol=64)

        def fn(ns, x):
            # (symmetrized: eigh reads one triangle, so a step in the other moves nothing)
            h = (x + _H(ns, x, dtype)) / 2
            if fname == "eigvalsh":
                return ns.linalg.eigvalsh(h)
            w, v = ns.linalg.eigh(h)
            return w, ns.abs(v) ** 2
        return Case(fn, (x,), tol=64)
    return draw


_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


def _matrix_norm(d, dtype, for_grad):
    m, n = d.int(1, 3, "m"), d.int(1, 3, "n")
    x = _with_spectrum(d, dtype, _batch(d), m, n) if for_grad else \
        d.garray(dtype, _batch(d) + (m, n))
    order, keepdims = d.choice(_MATRIX_ORDS, "ord"), d.bool("keepdims")
    return Case(lambda ns, x: ns.linalg.matrix_norm(x, ord=order, keepdims=keepdims), (x,),
                tol=64)


def _matrix_power(d, dtype, for_grad):
    n = d.int(1 if for_grad else 0, 3, "n")
    p = d.int(-2, 3, "power")
    x = _well_conditioned(d, dtype, _batch(d) + (n, n)) / (2 * n)
    return Case(lambda ns, x: ns.linalg.matrix_power(x, p), (x,), tol=64)


def _matrix_rank(d, dtype, for_grad):
    m, n = d.int(1, 3, "m"), d.int(1, 3, "n")
    r = d.int(0, min(m, n), "rank")
    batch = _batch(d)
    x = (d.garray(dtype, batch + (m, r)) @ d.garray(dtype, batch + (r, n))).astype(dtype)
    rtol = d.choice([None, 1e-3, 0.5], "rtol")
    return Case(lambda ns, x: ns.linalg.matrix_rank(x, rtol=rtol), (x,))


def _outer(d, dtype, for_grad):
    lo = 1 if for_grad else 0
    xs = (_normal(d, dtype, (d.int(lo, 3),)), _normal(d, dtype, (d.int(lo, 3),)))
    return Case(lambda ns, a, b: ns.linalg.outer(a, b), xs, tol=8)


def _pinv(d, dtype, for_grad):
    m, n = d.int(1, 3, "m"), d.int(1, 3, "n")
    x = _with_spectrum(d, dtype, _batch(d), m, n)
    if not for_grad and min(m, n) > 1 and d.bool("rank deficient"):
        # (gradients: a finite step would raise the rank; tests/test_linalg.py checks the
        # derivative at constant rank against PyTorch's)
        u, s, vh = np.linalg.svd(x, full_matrices=False)
        s[..., -1] = 0
        x = ((u * s[..., None, :]) @ vh).astype(dtype)
    return Case(lambda ns, x: ns.linalg.pinv(x), (x,), tol=256)


def _qr(d, dtype, for_grad):
    m, n = d.int(1, 3, "m"), d.int(1, 3, "n")
    mode = d.choice(["reduced", "complete"], "mode")
    x = _with_spectrum(d, dtype, _batch(d), m, n)
    if for_grad and mode == "complete" and m > n:
        # the extra columns of a complete Q are an arbitrary basis: not a function of x
        return Case(lambda ns, x: (lambda q, r: (q[..., :n], r))(*ns.linalg.qr(x, mode=mode)),
                    (x,), tol=64)
    return Case(lambda ns, x: ns.linalg.qr(x, mode=mode), (x,), tol=64)


def _solve(d, dtype, for_grad):
    n = d.int(1, 3, "n")
    batch = _batch(d, 2)
    x1 = _well_conditioned(d, dtype, _broadcastable_to(d, batch, "x1 batch") + (n, n))
    if d.bool("x2 a vector"):
        x2 = d.garray(dtype, (n,))
    else:
        x2 = d.garray(dtype, _broadcastable_to(d, batch, "x2 batch") + (n, d.int(1, 3, "k")))
    return Case(lambda ns, a, b: ns.linalg.solve(a, b), (x1, x2), tol=64)


def _svd(fname):
    def draw(d, dtype, for_grad):
        """Distinct singular values; the gradient of svd through S, |U|^2, |Vh|^2 and
        U @ Vh (free of the signs/phases of the singular vectors), of the leading k
        columns (rows) with full_matrices (the others are an arbitrary basis)."""
        m, n = d.int(1, 3, "m"), d.int(1, 3, "n")
        k = min(m, n)
        x = _with_spectrum(d, dtype, _batch(d), m, n)
        if fname == "svdvals":
            return Case(lambda ns, x: ns.linalg.svdvals(x), (x,), tol=64)
        full = d.bool("full_matrices")
        if for_grad:
            def fn(ns, x):
                u, s, vh = ns.linalg.svd(x, full_matrices=full)
                u, vh = u[..., :k], vh[..., :k, :]
                return s, ns.abs(u) ** 2, ns.abs(vh) ** 2, ns.matmul(u, vh)
            return Case(fn, (x,), tol=64)
        return Case(lambda ns, x: ns.linalg.svd(x, full_matrices=full), (x,), tol=64)
    return draw


def _trace(d, dtype, for_grad):
    x = _data(d, dtype, d.shape(0, 2) + d.shape(2, 2), for_grad) if dtype not in INTS \
        else d.array(dtype, d.shape(0, 2) + d.shape(2, 2))
    offset = d.int(-3, 3, "offset")
    out = None if for_grad else _wider(d, dtype)
    return Case(lambda ns, x: ns.linalg.trace(x, offset=offset, dtype=_dt(ns, out)), (x,), tol=8)


_VECTOR_ORDS = (2, 1, math.inf, -math.inf, 0, -1, 3, 0.5)


def _vector_norm(d, dtype, for_grad):
    shape = d.shape(0, 3, 1 if for_grad else 0)
    # (complex: no NaN/inf. For inf + NaN j NumPy's 2-norm is NaN, as it sums re^2 + im^2;
    # interop's is inf, as abs(inf + NaN j) is inf in the standard)
    x = d.array(dtype, shape, distinct=True) if for_grad else \
        d.array(dtype, shape, special=dtype in FLOATS)
    axis, keepdims = d.axes(x.ndim), d.bool("keepdims")
    order = d.choice([o for o in _VECTOR_ORDS if o != 0] if for_grad else _VECTOR_ORDS, "ord")
    if x.size == 0 and order in (math.inf, -math.inf):
        # the max/min of nothing: NumPy gives 0 (+inf) or raises (-inf), interop raises as
        # PyTorch; the standard does not say
        order = 2
    return Case(lambda ns, x: ns.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=order),
                (x,), tol=64)


LINALG = {
    "matmul": Spec(_matmul("matmul"), NUMERIC, G_ALL, True),
    "matrix_transpose": Spec(_matrix_transpose("matrix_transpose"), ALL, G_ALL),
    "tensordot": Spec(_tensordot("tensordot"), NUMERIC, G_ALL),
    "vecdot": Spec(_vecdot("vecdot"), NUMERIC, G_ALL, True),
    "linalg.cholesky": Spec(_cholesky, INEXACT, G_ALL),
    "linalg.cross": Spec(_cross, NUMERIC, G_ALL),
    "linalg.det": Spec(_square("det"), INEXACT, G_ALL, True),
    "linalg.diagonal": Spec(_diagonal, ALL, G_ALL),
    "linalg.eig": Spec(_eig("eig"), INEXACT, G_ALL),
    "linalg.eigh": Spec(_eigh("eigh"), INEXACT, G_ALL),
    "linalg.eigvals": Spec(_eig("eigvals"), INEXACT, G_ALL),
    "linalg.eigvalsh": Spec(_eigh("eigvalsh"), INEXACT, G_ALL),
    "linalg.inv": Spec(_square("inv"), INEXACT, G_ALL, True),
    "linalg.matmul": Spec(_matmul("linalg.matmul"), NUMERIC, G_REAL),
    "linalg.matrix_norm": Spec(_matrix_norm, INEXACT, G_ALL),
    "linalg.matrix_power": Spec(_matrix_power, INEXACT, G_ALL),
    "linalg.matrix_rank": Spec(_matrix_rank, INEXACT),
    "linalg.matrix_transpose": Spec(_matrix_transpose("linalg.matrix_transpose"), ALL),
    "linalg.outer": Spec(_outer, NUMERIC, G_ALL, True),
    "linalg.pinv": Spec(_pinv, INEXACT, G_ALL),
    "linalg.qr": Spec(_qr, INEXACT, G_ALL),
    "linalg.slogdet": Spec(_square("slogdet"), INEXACT, G_ALL),
    "linalg.solve": Spec(_solve, INEXACT, G_ALL),
    "linalg.svd": Spec(_svd("svd"), INEXACT, G_ALL),
    "linalg.svdvals": Spec(_svd("svdvals"), INEXACT, G_ALL),
    "linalg.tensordot": Spec(_tensordot("linalg.tensordot"), NUMERIC),
    "linalg.trace": Spec(_trace, NUMERIC, G_ALL, True),
    "linalg.vecdot": Spec(_vecdot("linalg.vecdot"), NUMERIC),
    "linalg.vector_norm": Spec(_vector_norm, INEXACT, G_ALL),
}


@settings(suppress_health_check=_HC)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(LINALG))
def test_linalg_values(standard_be, name, data):
    """matmul (batches broadcast, 1-D operands, empty inner sides; integers exactly),
    matrix_transpose, tensordot (axes an int or sequences, in any order), vecdot (broadcast,
    a negative axis; complex conjugates x1), and linalg.*: cholesky (upper), cross
    (broadcast, every axis), det/inv/slogdet (0x0 too), diagonal (offsets past the matrix),
    eig/eigvals (distinct eigenvalues), eigh/eigvalsh (distinct eigenvalues), matrix_norm
    (every ord, keepdims), matrix_power (-2 to 3), matrix_rank (drawn rank, rtol), outer,
    pinv (rank deficient too), qr (both modes, tall, square and wide), solve (batches
    broadcast, x2 a vector), svd (full_matrices)/svdvals, trace (offset, dtype=),
    vector_norm (every kind of ord, axis tuples, keepdims, real NaN/±inf); linalg's
    matmul, matrix_transpose, tensordot and vecdot. Batched shapes, float32 to complex128,
    within 64 eps (pinv, eig 256)."""
    check_values(standard_be, LINALG[name], data, name)


@settings(suppress_health_check=_HC)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(n for n in LINALG if LINALG[n].grad))
def test_linalg_gradients(standard_be, name, data):
    """Every differentiable linalg function in float64 and complex128 on batched,
    well-conditioned inputs: positive definite (cholesky), distinct eigenvalues and
    singular values (eig, eigh, svd, pinv, qr, the spectral matrix norms); eig, eigh and
    svd through quantities free of the signs (phases) of the vectors; qr tall, square and
    wide, both modes; slogdet's sign and logabsdet. Second order for matmul, vecdot, det,
    inv, outer and trace (the decompositions': tests/test_linalg.py)."""
    check_gradient(standard_be, LINALG[name], data)


# ------------------------------------------------------------------ fft

_NORMS = ("backward", "ortho", "forward")


def _fft_input(d, dtype, for_grad, min_last=1):
    shape = d.shape(1, 3, 1, 4)
    if shape[-1] < min_last:
        shape = shape[:-1] + (min_last,)
    return _data(d, dtype, shape, True)            # (normal data: no NaN/inf)


def _fft_1d(fname, hermitian_out=False):
    def draw(d, dtype, for_grad):
        """``n`` None or 1 to 5 (cut or padded), any axis, every norm. irfft/hfft: the
        default n = 2 (m - 1) needs m >= 2."""
        x = _fft_input(d, dtype, for_grad, 2 if hermitian_out else 1)
        axis = d.axis(x.ndim)
        n = d(st.none() | st.integers(1, 5), "n")
        if hermitian_out and n is None and x.shape[axis] < 2:
            n = 2
        norm = d.choice(_NORMS, "norm")
        return Case(lambda ns, x: getattr(ns.fft, fname)(x, n=n, axis=axis, norm=norm), (x,),
                    tol=64)
    return draw


def _fft_nd(fname, hermitian_out=False):
    def draw(d, dtype, for_grad):
        """``axes`` None or distinct axes in any order; ``s`` None or a length per axis
        (with axes given): cut, padded; every norm. irfftn: the last s is the output length
        (default 2 (m - 1), m >= 2)."""
        x = _fft_input(d, dtype, for_grad, 2 if hermitian_out else 1)
        axes = None
        if d.bool("axes given"):
            axes = tuple(d(st.lists(st.integers(0, x.ndim - 1), min_size=1, unique=True),
                           "axes"))
            axes = tuple(a - x.ndim if d.bool() else a for a in axes)
        s = None
        if axes is not None and d.bool("s given"):
            s = tuple(d.int(1, 4, "s") for _ in axes)
        last = x.shape[(axes or (-1,))[-1]]
        if hermitian_out and s is None and last < 2:
            s = tuple(x.shape[a] for a in axes) if axes else None
            if s is None:
                axes = tuple(range(x.ndim))
                s = x.shape
            s = s[:-1] + (2,)
        norm = d.choice(_NORMS, "norm")
        return Case(lambda ns, x: getattr(ns.fft, fname)(x, s=s, axes=axes, norm=norm), (x,),
                    tol=64)
    return draw


def _freq(fname):
    def draw(d, dtype, for_grad):
        n, spacing = d.int(1, 6, "n"), d.choice([1.0, 0.5, 2.0, 0.1], "d")
        name = d.choice([dtype, None], "dtype=")
        return Case(lambda ns: getattr(ns.fft, fname)(
            n, d=spacing, dtype=_default(ns, name, "real floating")), (), tol=4)
    return draw


def _shift(fname):
    def draw(d, dtype, for_grad):
        # (no empty axes, nor 0-d: NumPy's roll fails on an empty tuple of axes)
        x = _data(d, dtype, d.shape(1), for_grad)
        axes = d.axes(x.ndim) or None
        return Case(lambda ns, x: getattr(ns.fft, fname)(x, axes=axes), (x,))
    return draw


G_COMPLEX = ("complex128",)
FFT = {
    "fft.fft": Spec(_fft_1d("fft"), COMPLEX, G_COMPLEX, True),
    "fft.ifft": Spec(_fft_1d("ifft"), COMPLEX, G_COMPLEX),
    "fft.fftn": Spec(_fft_nd("fftn"), COMPLEX, G_COMPLEX),
    "fft.ifftn": Spec(_fft_nd("ifftn"), COMPLEX, G_COMPLEX),
    "fft.rfft": Spec(_fft_1d("rfft"), FLOATS, G_REAL, True),
    "fft.irfft": Spec(_fft_1d("irfft", True), COMPLEX, G_COMPLEX),
    "fft.rfftn": Spec(_fft_nd("rfftn"), FLOATS, G_REAL),
    "fft.irfftn": Spec(_fft_nd("irfftn", True), COMPLEX, G_COMPLEX),
    "fft.hfft": Spec(_fft_1d("hfft", True), COMPLEX, G_COMPLEX),
    "fft.ihfft": Spec(_fft_1d("ihfft"), FLOATS, G_REAL),
    "fft.fftfreq": Spec(_freq("fftfreq"), FLOATS),
    "fft.rfftfreq": Spec(_freq("rfftfreq"), FLOATS),
    "fft.fftshift": Spec(_shift("fftshift"), INEXACT, G_ALL),
    "fft.ifftshift": Spec(_shift("ifftshift"), INEXACT, G_ALL),
}


@settings(suppress_health_check=_HC)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(FFT))
def test_fft_values(standard_be, name, data):
    """fft/ifft/rfft/irfft/hfft/ihfft (n, axis, norm), fftn/ifftn/rfftn/irfftn (s, axes,
    norm), each in the input dtypes the standard gives it (complex for fft, ifft, the
    n-d complex ones, irfft*, hfft; real for rfft*, ihfft), within 64 eps; fftfreq/rfftfreq
    (n, d, dtype= or the default); fftshift/ifftshift (axes None, int, tuple; exactly)."""
    check_values(standard_be, FFT[name], data, name)


@settings(suppress_health_check=_HC)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(n for n in FFT if FFT[n].grad))
def test_fft_gradients(standard_be, name, data):
    """Every transform and shift, on the same draws, in complex128 (complex-input
    transforms: all four real directions) or float64 (rfft, rfftn, ihfft); second order for
    fft and rfft."""
    check_gradient(standard_be, FFT[name], data)


def test_matmul_promotes_mixed_dtypes(standard_be):
    """The standard's type promotion (PyTorch refuses mixed dtypes), found by array-api-tests
    at 100 examples: the result in the promoted dtype, each gradient in its operand's."""
    a = np.arange(6, dtype="uint8").reshape(2, 3)
    b = np.arange(6, dtype="uint16").reshape(3, 2)
    out = it.matmul(it.asarray(a), it.asarray(b))
    assert out.dtype == it.uint16
    np.testing.assert_array_equal(out.numpy(), a.astype("uint16") @ b)
    x = it.asarray(a.astype("float32"), requires_grad=True)
    y = it.asarray(b.astype("float64"), requires_grad=True)
    z = x @ y
    assert z.dtype == it.float64
    z.sum().backward()
    assert x.grad.dtype == it.float32 and y.grad.dtype == it.float64
    with pytest.raises(TypeError, match="int64 and interop.uint64"):
        it.ones((2, 3), dtype=it.int64) @ it.ones((3, 2), dtype=it.uint64)


def test_cumulative_prod_keeps_the_dtype_asked_for(standard_be):
    """``dtype=uint8`` on uint8 input stays uint8 (array-api-strict widened it to uint64;
    found by array-api-tests at 100 examples)."""
    for shape in ((0,), (4,)):
        x = it.asarray(np.arange(1, 1 + shape[0], dtype="uint8").reshape(shape))
        for include_initial in (False, True):
            out = it.cumulative_prod(x, axis=0, dtype=it.uint8, include_initial=include_initial)
            assert out.dtype == it.uint8


def test_zero_dim_boolean_index(standard_be):
    """``x[True]``/``x[False]`` (a 0-d mask: a new dim of 1 or 0), alone and beside other
    indices, as NumPy; array-api-strict's own indexing refuses some of these combinations
    and interop's rewrite of them once called nonzero() on the 0-d mask."""
    a = np.arange(6).reshape(2, 3)
    x = it.asarray(a)
    keys = [(True,), (False,), (True, 0), (0, False), (False, slice(None), 1), (Ellipsis, True),
            (np.array([0, 1]), True), (True, np.array([1, 0]))]
    for key in keys:
        got = x[tuple(it.asarray(k) if isinstance(k, (bool, np.ndarray)) else k for k in key)]
        want = a[tuple(np.bool_(k) if isinstance(k, bool) else k for k in key)]
        assert got.shape == want.shape, key
        np.testing.assert_array_equal(got.numpy(), want)
    assert it.asarray(np.zeros(0, bool))[it.asarray(False)].shape == (0, 0)
