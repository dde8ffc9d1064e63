"""Every function the top-level ``interop`` namespace shares with ``torch`` gives PyTorch's
answer: the same value, dtype and structure (named tuples and their fields, tuples, Python
bools and ints), and an error where PyTorch raises, for the same call. The calls are
random inputs in several dtypes, with and without ``dim``/``keepdim`` (and PyTorch's
``axis``/``keepdims`` aliases) where the function takes them.

``test_every_shared_name_has_cases`` walks ``dir(interop)``: a name PyTorch also has must
have cases here, or be in ``NOT_COMPARED`` with the reason. What differs on purpose is in
``DIFFERENCES``, each with its reason, and each of those names must be in the README's
"Coming from PyTorch" table (``test_differences_are_in_the_readme``). The standard's
versions of these functions are ``interop.array_api`` (array-api-tests runs against it;
tests/test_standard_*.py check it against the backend namespaces).
"""

import pathlib
import types
import zlib

import numpy as np
import pytest

import interop as it
from helpers import from_np
from torch_compare import np_of, dtype_name

torch = pytest.importorskip("torch")


class X:
    """An input: a random array of ``shape`` and ``dtype`` (``kind`` picks the values:
    "n" normal with a NaN, an inf and a zero among them where there is room, "u" in (0, 1),
    "p" positive, "d" distinct, "t" with ties, "i" small ints, "nz" nonzero ints)."""

    def __init__(self, shape, dtype="float32", kind=None, grad=False):
        self.shape, self.dtype, self.kind, self.grad = tuple(shape), dtype, kind, grad

    def draw(self, rng):
        n = int(np.prod(self.shape))
        dt, kind = self.dtype, self.kind
        if dt == "bool":
            a = rng.random(n) < 0.5
        elif dt.startswith(("int", "uint")):
            lo, hi = {"nz": (1, 5), "p": (0, 6)}.get(kind, (-4 if dt.startswith("int") else 0, 6))
            a = rng.integers(lo, hi, n)
        else:
            if kind == "u":
                a = rng.uniform(0.05, 0.95, n)
            elif kind == "p":
                a = rng.uniform(0.5, 3.0, n)
            elif kind == "d":
                a = rng.permutation(n) * 0.5 - n / 4
            elif kind == "t":
                a = rng.integers(0, 3, n).astype(float)
            elif kind == "m":                       # well-conditioned square matrices
                a = (rng.normal(size=self.shape) + 4 * np.eye(self.shape[-1])).reshape(-1)
            else:
                a = rng.normal(size=n) * 2
                if kind == "s" and n >= 4:          # special values
                    a[:3] = [np.nan, np.inf, 0.0]
            if dt.startswith("complex"):
                a = a + 1j * rng.normal(size=n)
        return np.asarray(a).astype(dt).reshape(self.shape)


def _build(lib, spec, arr):
    if lib is torch:
        t = torch.from_numpy(arr.copy())
    else:
        t = from_np(arr).reshape(arr.shape)
    return t.requires_grad_(True) if spec.grad else t


def _inputs(case_args, rng):
    """Each X drawn once: (interop args, torch args)."""
    ia, ta = [], []
    for a in case_args:
        if isinstance(a, X):
            arr = a.draw(rng)
            ia.append(_build(it, a, arr))
            ta.append(_build(torch, a, arr))
        elif isinstance(a, list) and a and all(isinstance(v, X) for v in a):
            arrs = [v.draw(rng) for v in a]
            ia.append([_build(it, v, r) for v, r in zip(a, arrs)])
            ta.append([_build(torch, v, r) for v, r in zip(a, arrs)])
        else:
            ia.append(a)
            ta.append(a)
    return ia, ta


class C:
    """A call: ``fn(lib, *args)``; ``values=False`` compares structure, shapes and dtypes
    only (random draws); ``differs`` names the DIFFERENCES entry that covers this call;
    ``tag`` marks a kind of call that DIFFERENCES may name for several functions."""

    def __init__(self, fn, *args, values=True, differs=None, tag=None):
        self.fn, self.args, self.values, self.differs, self.tag = fn, args, values, differs, tag

    def __repr__(self):
        return f"C({self.fn.__code__.co_firstlineno}, {self.args!r})"


# ------------------------------------------------------------------ comparison

def _same(got, want, what, values):
    if isinstance(want, torch.Tensor):
        assert isinstance(got, it.Tensor), f"{what}: got {type(got).__name__}, torch a Tensor"
        assert tuple(got.shape) == tuple(want.shape), \
            f"{what}: shape {tuple(got.shape)}, torch {tuple(want.shape)}"
        assert dtype_name(got) == dtype_name(want), \
            f"{what}: dtype {dtype_name(got)}, torch {dtype_name(want)}"
        if not values:
            return
        g, w = np_of(got), np_of(want.resolve_conj())
        if g.dtype.kind in "fc":
            np.testing.assert_array_equal(np.isnan(g), np.isnan(w), err_msg=f"{what}: NaNs")
            tol = 1e-10 if g.dtype in (np.float64, np.complex128) else 2e-5
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol, equal_nan=True, err_msg=what)
        else:
            np.testing.assert_array_equal(g, w, err_msg=what)
    elif isinstance(want, tuple) and hasattr(type(want), "n_fields"):     # torch.return_types
        fields = type(want).__match_args__
        assert getattr(got, "_fields", None) == fields, \
            f"{what}: got {type(got).__name__}, torch a named tuple {fields}"
        for f in fields:
            _same(getattr(got, f), getattr(want, f), f"{what}.{f}", values)
    elif isinstance(want, torch.Size):
        assert tuple(got) == tuple(want), f"{what}: {got} against torch's {want}"
    elif isinstance(want, (tuple, list)):
        assert type(got) is type(want), f"{what}: a {type(got).__name__}, torch a {type(want).__name__}"
        assert len(got) == len(want), f"{what}: {len(got)} items, torch {len(want)}"
        for k, (g, w) in enumerate(zip(got, want)):
            _same(g, w, f"{what}[{k}]", values)
    elif isinstance(want, torch.dtype):
        assert isinstance(got, it.dtype) and got.name == str(want).split(".")[-1], \
            f"{what}: {got!r}, torch {want!r}"
    elif isinstance(want, (torch.finfo, torch.iinfo)):
        for f in ("bits", "max", "min") + (("eps", "tiny", "resolution")
                                            if isinstance(want, torch.finfo) else ()):
            assert getattr(got, f) == getattr(want, f), f"{what}.{f}: {getattr(got, f)}"
    else:
        assert type(got) is type(want), f"{what}: a {type(got).__name__}, torch a {type(want).__name__}"
        if values:
            assert got == want, f"{what}: {got!r}, torch {want!r}"


def _resolve(lib, name):
    for part in name.split("."):
        lib = getattr(lib, part)
    return lib


def run(name, case, seed):
    rng = np.random.default_rng(seed)
    ia, ta = _inputs(case.args, rng)
    fi, ft = _resolve(it, name), _resolve(torch, name)
    try:
        want = case.fn(ft, *ta)
    except Exception as e:          # PyTorch refuses: so must interop
        with pytest.raises(Exception):
            got = case.fn(fi, *ia)
            pytest.fail(f"{name}{case!r}: torch raises {type(e).__name__}({e}); interop gives "
                        f"{got!r}")
        return
    try:
        got = case.fn(fi, *ia)
    except Exception as e:
        pytest.fail(f"{name}{case!r}: interop raises {type(e).__name__}({e}); torch gives "
                    f"{want!r}")
    _same(got, want, f"{name}{case!r}", case.values)


# ------------------------------------------------------------------ the cases

F4, F8, I8, I4, B, C8, U1 = "float32", "float64", "int64", "int32", "bool", "complex64", "uint8"
S = (3, 4)
NUM = (F4, F8, I8, I4, B)


def _unary(kinds=None, dtypes=NUM + (C8,)):
    return [C(lambda f, x: f(x), X(S, dt, kinds)) for dt in dtypes] + \
        [C(lambda f, x: f(x), X((), F4, kinds)), C(lambda f, x: f(x), X((0, 2), F8, kinds))]


def _binary(kind=None, pairs=((F4, F4), (F8, F8), (I8, I8), (I4, I8), (I8, F4), (B, B), (F4, F8),
                                (B, I8))):
    out = [C(lambda f, a, b: f(a, b), X(S, p, kind), X((4,), q, kind),
             tag="mixed" if p != q else None) for p, q in pairs]
    out += [C(lambda f, a: f(a, 2), X(S, F4, kind), tag="scalar"),
            C(lambda f, a: f(a, 2.5), X(S, I8, kind), tag="scalar"),
            C(lambda f, a: f(a, 3), X(S, I8, kind), tag="scalar"),
            C(lambda f, a, b: f(a, b), X((), F8, kind), X(S, F4, kind), tag="0-d"),
            C(lambda f, a, b: f(a, b), X(S, C8, kind), X(S, F4, kind), tag="complex")]
    return out


UNARY_NAMES = ["abs", "acos", "acosh", "asin", "asinh", "atan", "atanh", "arccos", "arccosh",
               "arcsin", "arcsinh", "arctan", "arctanh", "ceil", "conj", "cos", "cosh", "exp",
               "expm1", "floor", "isfinite", "isinf", "isnan", "log", "log10", "log1p", "log2",
               "logical_not", "neg", "negative", "positive", "reciprocal", "relu", "round",
               "rsqrt", "sgn", "sigmoid", "sign", "signbit", "sin", "sinh", "sqrt", "square",
               "tan", "tanh", "trunc", "real", "imag"]
BINARY_NAMES = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
                "maximum", "minimum", "atan2", "arctan2", "logaddexp", "hypot", "copysign",
                "nextafter", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal",
                "less", "less_equal", "not_equal", "logical_and", "logical_or", "logical_xor",
                "bitwise_and", "bitwise_or", "bitwise_xor", "isclose"]

CASES = {n: _unary("s") for n in UNARY_NAMES}
CASES.update({n: _binary() for n in BINARY_NAMES})
for _n in ("add", "sub", "subtract"):
    CASES[_n] += [C(lambda f, a, b: f(a, b, alpha=2), X(S, F4), X(S, F4)),
                  C(lambda f, a, b: f(a, b, alpha=3), X(S, I8), X(S, I8))]
for _n in ("div", "divide"):
    CASES[_n] += [C(lambda f, a, b: f(a, b, rounding_mode=m), X(S, t), X(S, t, "nz"))
                  for m in ("floor", "trunc") for t in (F4, I8)]
CASES.update({
    "pow": _binary("p", ((F4, F4), (F8, F8), (I8, I8), (I4, I8), (I8, F4), (F4, F8))) + [
        C(lambda f, b: f(2, b), X(S, F4)), C(lambda f, b: f(2, b), X(S, I8, "p")),C(lambda f, a, b: f(a, b), X(S, I8, "p"), X(S, I8, "p")),
                           C(lambda f, a: f(a, 0.5), X(S, F4, "p"))],
    "remainder": _binary("nz") + [C(lambda f, b: f(7, b), X(S, I8, "nz"))],
    "floor_divide": _binary("nz") + [
        C(lambda f, a: f(a, 2.0), X((4,), F4, "s"), differs="floor of infinities")],
    "bitwise_left_shift": [C(lambda f, a, b: f(a, b), X(S, t, "p"), X(S, t, "p"))
                           for t in (I8, I4, U1)],
    "bitwise_right_shift": [C(lambda f, a, b: f(a, b), X(S, t, "p"), X(S, t, "p"))
                            for t in (I8, I4, U1)],
    "allclose": [C(lambda f, a, b: f(a, b), X(S, F4), X(S, F4)),
                 C(lambda f, a: f(a, a + 1e-9), X(S, F8))],
    "equal": [C(lambda f, a, b: f(a, b), X(S, F4), X(S, F4))] +
             [C(lambda f, a: f(a, a.clone()), X(S, t)) for t in NUM] +
             [C(lambda f, a, b: f(a, b), X((2,), F4, "t"), X((1,), F4, "t")),
              C(lambda f, a: f(a, a.double()), X(S, I8)),
              C(lambda f, a: f(a, a.reshape(4, 3)), X(S, F4)),
              C(lambda f, a: f(a, a), X(S, F4, "s"))],
})


def _reductions(dtypes, calls):
    return [C(fn, X((2, 3, 4), dt)) for dt in dtypes for fn in calls]


_DIMS = [lambda f, x: f(x), lambda f, x: f(x, 1), lambda f, x: f(x, -1, keepdim=True),
         lambda f, x: f(x, dim=0), lambda f, x: f(x, (0, 2)), lambda f, x: f(x, dim=(1,), keepdim=True),
         lambda f, x: f(x, axis=1), lambda f, x: f(x, 1, keepdims=True), lambda f, x: f(x, ()),
         lambda f, x: f(x, axis=())]
_ONE_DIM = [lambda f, x: f(x), lambda f, x: f(x, 1), lambda f, x: f(x, -1, keepdim=True),
            lambda f, x: f(x, dim=0), lambda f, x: f(x, axis=1), lambda f, x: f(x, 2, keepdims=True),
            lambda f, x: f(x, (0, 1))]
_SPREAD = [lambda f, x: f(x), lambda f, x: f(x, 1), lambda f, x: f(x, 1, keepdim=True),
           lambda f, x: f(x, dim=(0, 2)), lambda f, x: f(x, unbiased=False),
           lambda f, x: f(x, 1, False), lambda f, x: f(x, False), lambda f, x: f(x, 0, True, True),
           lambda f, x: f(x, correction=0), lambda f, x: f(x, 2, correction=2, keepdim=True),
           lambda f, x: f(x, axis=1), lambda f, x: f(x, ())]

CASES.update({
    "sum": _reductions(NUM, _DIMS) + [C(lambda f, x: f(x, 1, dtype=f.float64), X(S, I8))],
    "prod": _reductions(NUM, _ONE_DIM[:-1]) + [C(lambda f, x: f(x, 0, dtype=f.float64), X(S, F4)),
                                               C(lambda f, x: f(x, (0, 1)), X(S, F4), differs="more dims")],
    "mean": _reductions((F4, F8, I8), _DIMS) + [C(lambda f, x: f(x, dtype=f.float64), X(S, I8))],
    "amax": _reductions(NUM, _DIMS), "amin": _reductions(NUM, _DIMS),
    "all": _reductions(NUM + (U1,), _DIMS), "any": _reductions(NUM + (U1,), _DIMS),
    "logsumexp": _reductions((F4, F8, I8), _DIMS[1:-2]) +
                 [C(lambda f, x: f(x, ()), X(S, F4), differs="more dims")],
    "argmax": _reductions((F4, F8, I8), _ONE_DIM[:-1]) + [C(lambda f, x: f(x, 1), X(S, F4, "t"))],
    "argmin": _reductions((F4, F8, I8), _ONE_DIM[:-1]) + [C(lambda f, x: f(x, 1), X(S, F4, "t"))],
    "count_nonzero": _reductions((F4, I8, B), [lambda f, x: f(x), lambda f, x: f(x, 1),
                                               lambda f, x: f(x, (0, 2)), lambda f, x: f(x, dim=-1)]),
    "max": _reductions((F4, F8, I8, B), _ONE_DIM) + [
        C(lambda f, x: f(x, 1), X(S, F4, "t")),
        C(lambda f, x, y: f(x, y), X(S, F4), X(S, F4)),
        C(lambda f, x: f(x, dim=1, keepdim=True), X(S, F4, "s"))],
    "min": _reductions((F4, F8, I8, B), _ONE_DIM) + [
        C(lambda f, x: f(x, 1), X(S, F4, "t")),
        C(lambda f, x, y: f(x, y), X(S, F4), X(S, F4))],
    "var": _reductions((F4, F8, I8, C8), _SPREAD), "std": _reductions((F4, F8, I8, C8), _SPREAD),
    "cumsum": [C(fn, X(S, dt)) for dt in NUM for fn in
               (lambda f, x: f(x, 1), lambda f, x: f(x, dim=0), lambda f, x: f(x, -1, dtype=f.float64),
                lambda f, x: f(x, axis=0))] + [C(lambda f, x: f(x, 0), X((), F4))],
    "cumprod": [C(fn, X(S, dt)) for dt in NUM for fn in
                (lambda f, x: f(x, 1), lambda f, x: f(x, dim=0), lambda f, x: f(x, 0, dtype=f.float64))],
    "softmax": [C(fn, X(S, dt)) for dt in (F4, F8) for fn in
                (lambda f, x: f(x, 1), lambda f, x: f(x, dim=0), lambda f, x: f(x, -1, dtype=f.float64),
                 lambda f, x: f(x, axis=0))],
    "log_softmax": [C(fn, X(S, dt)) for dt in (F4, F8) for fn in
                    (lambda f, x: f(x, 1), lambda f, x: f(x, dim=0),
                     lambda f, x: f(x, -1, dtype=f.float64))],
})

_SORTS = [(lambda f, x: f(x), "d"), (lambda f, x: f(x, 0), "d"),
          (lambda f, x: f(x, dim=0, descending=True), "d"), (lambda f, x: f(x, 1, True), "d"),
          (lambda f, x: f(x, stable=True), "t"), (lambda f, x: f(x, dim=0, descending=True, stable=True), "t"),
          (lambda f, x: f(x, axis=0), "d")]
CASES.update({
    "sort": [C(fn, X(S, dt, kind)) for dt in (F4, F8) for fn, kind in _SORTS] +
            [C(lambda f, x: f(x), X((), F4)), C(lambda f, x: f(x, stable=True), X((5,), I8))],
    "argsort": [C(fn, X(S, dt, kind)) for dt in (F4, F8) for fn, kind in _SORTS] +
               [C(lambda f, x: f(x, stable=True), X((5,), I8))],
    "topk": [C(lambda f, x: f(x, 2), X(S, F4, "d")), C(lambda f, x: f(x, 2, dim=0, largest=False),
                                                      X(S, F8, "d")),
             C(lambda f, x: f(x, 1, 0), X(S, I8, "d"))],
    "nonzero": [C(lambda f, x: f(x), X(S, dt)) for dt in (F4, I8, B)] + [
        C(lambda f, x: f(x, as_tuple=True), X(S, B)), C(lambda f, x: f(x), X((), B)),
        C(lambda f, x: f(x, as_tuple=True), X((), F4)), C(lambda f, x: f(x), X((2, 0), B))],
    "where": [C(lambda f, c, a, b: f(c, a, b), X(S, B), X(S, F4), X((4,), F4)),
              C(lambda f, c, a, b: f(c, a, b), X(S, B), X(S, I8), X(S, F4)),
              C(lambda f, c: f(c, 1.0, 0.0), X(S, B)), C(lambda f, c: f(c, 1, 0), X(S, B)),
              C(lambda f, c, a: f(c, a, 0), X(S, B), X(S, F8)),
              C(lambda f, c: f(c), X(S, B)), C(lambda f, c: f(c), X(S, F4))],
    "searchsorted": [
        C(lambda f, s, v: f(f.sort(s).values, v), X((6,), F4, "t"), X((4,), F4, "t")),
        C(lambda f, s, v: f(f.sort(s).values, v, right=True), X((6,), F4, "t"), X((4,), F4, "t")),
        C(lambda f, s, v: f(f.sort(s).values, v, side="right"), X((6,), I8, "t"), X((4,), I8, "t")),
        C(lambda f, s, v: f(f.sort(s).values, v, out_int32=True), X((6,), F8), X((2, 3), F8)),
        C(lambda f, s: f(f.sort(s).values, 1.0), X((6,), F4, "t"))],
    "isin": [C(lambda f, a, b: f(a, b), X(S, I8), X((3,), I8)),
             C(lambda f, a, b: f(a, b, invert=True), X(S, F4, "t"), X((2,), F4, "t")),
             C(lambda f, a: f(a, 2), X(S, I8))],
})

CASES.update({
    "reshape": [C(lambda f, x: f(x, (4, 3)), X(S, F4)), C(lambda f, x: f(x, (-1,)), X(S, I8))],
    "flatten": [C(lambda f, x: f(x), X((2, 3, 4), F4)), C(lambda f, x: f(x, 1), X((2, 3, 4), F4)),
                C(lambda f, x: f(x, 0, 1), X((2, 3, 4), I8)), C(lambda f, x: f(x), X((), F4))],
    "unflatten": [C(lambda f, x: f(x, 1, (2, 2)), X(S, F4)), C(lambda f, x: f(x, -1, (2, -1)), X(S, F4))],
    "permute": [C(lambda f, x: f(x, (1, 0)), X(S, F4)), C(lambda f, x: f(x, (2, 0, 1)), X((2, 3, 4), I8))],
    "transpose": [C(lambda f, x: f(x, 0, 1), X(S, F4)), C(lambda f, x: f(x, -1, 0), X((2, 3, 4), F8))],
    "swapaxes": [C(lambda f, x: f(x, 0, 1), X(S, F4))],
    "t": [C(lambda f, x: f(x), X(S, F4)), C(lambda f, x: f(x), X((3,), F4))],
    "moveaxis": [C(lambda f, x: f(x, 0, -1), X((2, 3, 4), F4)),
                 C(lambda f, x: f(x, (0, 1), (1, 0)), X((2, 3, 4), F4))],
    "movedim": [C(lambda f, x: f(x, 0, -1), X((2, 3, 4), F4))],
    "squeeze": [C(fn, X((1, 3, 1, 4), F4)) for fn in
                (lambda f, x: f(x), lambda f, x: f(x, 0), lambda f, x: f(x, 1),
                 lambda f, x: f(x, (0, 2)), lambda f, x: f(x, dim=2), lambda f, x: f(x, (1, 3)),
                 lambda f, x: f(x, axis=0))] + [C(lambda f, x: f(x), X((), F4))],
    "unsqueeze": [C(lambda f, x: f(x, 1), X(S, F4)), C(lambda f, x: f(x, -1), X(S, F4))],
    "broadcast_to": [C(lambda f, x: f(x, (2, 3, 4)), X((4,), F4))],
    "flip": [C(lambda f, x: f(x, (0,)), X(S, F4)), C(lambda f, x: f(x, [0, 1]), X(S, I8)),
             C(lambda f, x: f(x, ()), X(S, F4))],
    "roll": [C(lambda f, x: f(x, 1), X(S, F4)), C(lambda f, x: f(x, 1, 0), X(S, F4)),
             C(lambda f, x: f(x, (1, 2), (0, 1)), X(S, I8)), C(lambda f, x: f(x, -1, dims=1), X(S, F4))],
    "tile": [C(lambda f, x: f(x, (2,)), X(S, F4)), C(lambda f, x: f(x, (2, 1, 1)), X(S, F4))],
    "repeat_interleave": [C(lambda f, x: f(x, 2), X(S, F4)), C(lambda f, x: f(x, 2, dim=0), X(S, F4)),
                          C(lambda f, x: f(x, f.tensor([1, 0, 2]), dim=0), X(S, I8))],
    "narrow": [C(lambda f, x: f(x, 1, 1, 2), X(S, F4))],
    "tril": [C(lambda f, x: f(x), X(S, F4)), C(lambda f, x: f(x, 1), X(S, I8)),
             C(lambda f, x: f(x, diagonal=-1), X((2, 3, 4), F4))],
    "triu": [C(lambda f, x: f(x), X(S, F4)), C(lambda f, x: f(x, 1), X(S, I8)),
             C(lambda f, x: f(x, diagonal=-1), X((2, 3, 4), F4))],
    "diag": [C(lambda f, x: f(x), X((3,), F4)), C(lambda f, x: f(x), X(S, F4)),
             C(lambda f, x: f(x, 1), X(S, F4)), C(lambda f, x: f(x, -1), X((3,), I8))],
    "diagonal": [C(lambda f, x: f(x), X(S, F4)), C(lambda f, x: f(x, 1), X(S, F4)),
                 C(lambda f, x: f(x, 0, 1, 2), X((2, 3, 4), F4)),
                 C(lambda f, x: f(x, offset=-1, dim1=-1, dim2=0), X((2, 3, 4), F4))],
    "chunk": [C(lambda f, x: f(x, 2), X(S, F4)), C(lambda f, x: f(x, 3, dim=1), X(S, F4)),
              C(lambda f, x: f(x, 3, 1), X((2, 5), I8))],
    "split": [C(lambda f, x: f(x, 2), X(S, F4)), C(lambda f, x: f(x, [1, 2], dim=0), X(S, F4)),
              C(lambda f, x: f(x, 3, 1), X(S, I8))],
    "unbind": [C(lambda f, x: f(x), X(S, F4)), C(lambda f, x: f(x, 1), X(S, F4))],
    "clone": [C(lambda f, x: f(x), X(S, dt)) for dt in NUM],
})
_JOIN = [lambda f, a, b: f([a, b]), lambda f, a, b: f([a, b], 1), lambda f, a, b: f([a, b], dim=-1),
         lambda f, a, b: f((a, b), axis=0)]
CASES.update({n: [C(fn, X(S, p), X(S, q)) for fn in _JOIN for p, q in ((F4, F4), (F4, I8), (B, I8))]
              for n in ("cat", "concat", "concatenate")})
CASES["stack"] = [C(fn, X(S, p), X(S, q)) for fn in _JOIN for p, q in ((F4, F4), (I4, I8))]
CASES["concatenate"] = [C(lambda f, a, b: f([a, b], axis=1), X(S, F4), X(S, F4)),
                        C(lambda f, a, b: f((a, b)), X(S, I8), X(S, F8))]

_IDX = X((2, 4), I8, "p")
CASES.update({
    "gather": [C(lambda f, x, i: f(x, 1, i.clamp(0, 3)), X(S, F4), _IDX),
               C(lambda f, x, i: f(x, 0, i.clamp(0, 2)), X(S, I8), _IDX)],
    "take": [C(lambda f, x, i: f(x, i), X(S, F4), _IDX), C(lambda f, x: f(x, f.tensor([-1, 0, 5])), X(S, F4)),
             C(lambda f, x: f(x, f.tensor(3)), X(S, I8))],
    "index_select": [C(lambda f, x: f(x, 0, f.tensor([2, 0, 2])), X(S, F4)),
                     C(lambda f, x: f(x, 1, f.tensor([3])), X(S, I8))],
    "index_add": [C(lambda f, x, s: f(x, 0, f.tensor([2, 0]), s), X(S, F4), X((2, 4), F4)),
                  C(lambda f, x, s: f(x, 1, f.tensor([1, 1]), s, alpha=2), X(S, F8), X((3, 2), F8))],
    "scatter": [C(lambda f, x, i, s: f(x, 1, i.clamp(0, 3)[:1], s), X(S, F4), _IDX, X(S, F4)),
                C(lambda f, x, i: f(x, 0, i.clamp(0, 2)[:1], 2.5), X(S, F4), _IDX),
                C(lambda f, x, i, s: f(x, 1, i.clamp(0, 3), s, reduce="add"), X(S, F4), _IDX, X(S, F4))],
    "scatter_add": [C(lambda f, x, i, s: f(x, 1, i.clamp(0, 3), s), X(S, F4), _IDX, X(S, F4))],
    "masked_fill": [C(lambda f, x, m: f(x, m, 0.5), X(S, F4), X(S, B)),
                    C(lambda f, x, m: f(x, m, 2), X(S, I8), X((4,), B))],
})

CASES.update({
    "zeros": [C(lambda f: f((2, 3))), C(lambda f: f(2, 3)), C(lambda f: f(2, dtype=f.int64)),
              C(lambda f: f([])), C(lambda f: f(size=(2,)))],
    "ones": [C(lambda f: f((2, 3))), C(lambda f: f(2, 3, dtype=f.bool))],
    "empty": [C(lambda f: f((2, 3)), values=False), C(lambda f: f(2, dtype=f.int32), values=False)],
    "full": [C(lambda f: f((2, 3), 1.5)), C(lambda f: f((2,), 2)), C(lambda f: f((2,), True)),
             C(lambda f: f((2,), 2, dtype=f.float64)), C(lambda f: f((), 1j))],
    "zeros_like": [C(lambda f, x: f(x), X(S, t)) for t in (F4, I8)] +
                  [C(lambda f, x: f(x, dtype=f.float64), X(S, I8))],
    "ones_like": [C(lambda f, x: f(x), X(S, t)) for t in (F4, B)],
    "empty_like": [C(lambda f, x: f(x), X(S, F8), values=False)],
    "full_like": [C(lambda f, x: f(x, 3), X(S, F4)), C(lambda f, x: f(x, 2.7), X(S, I8)),
                  C(lambda f, x: f(x, 1, dtype=f.float64), X(S, B))],
    "arange": [C(lambda f: f(5)), C(lambda f: f(1, 5)), C(lambda f: f(0, 1, 0.25)), C(lambda f: f(5.0)),
               C(lambda f: f(1, 7, 2, dtype=f.float64)), C(lambda f: f(end=3))],
    "linspace": [C(lambda f: f(0, 1, 5)), C(lambda f: f(0, 1, steps=4)), C(lambda f: f(-1, 1, 3, dtype=f.float64)),
                 C(lambda f: f(0, 10, 1))],
    "eye": [C(lambda f: f(3)), C(lambda f: f(2, 3)), C(lambda f: f(2, 3, dtype=f.int64))],
    "tensor": [C(lambda f: f([1, 2])), C(lambda f: f([1.5, 2])), C(lambda f: f(True)), C(lambda f: f([[1j]])),
               C(lambda f: f([1, 2], dtype=f.float64)), C(lambda f: f([]))],
    "as_tensor": [C(lambda f: f([1, 2])), C(lambda f: f([0.5], dtype=f.float64))],
    "asarray": [C(lambda f: f([1, 2])), C(lambda f: f([1.0, 2.0])), C(lambda f: f(3))],
    "from_numpy": [C(lambda f: f(np.arange(6.0).reshape(2, 3))), C(lambda f: f(np.array([1, 2], np.int32)))],
    "from_dlpack": [C(lambda f, x: f(x), X(S, F4)), C(lambda f, x: f(x), X(S, I8))],
    "meshgrid": [C(lambda f, a, b: f(a, b), X((2,), F4), X((3,), F4)),
                 C(lambda f, a, b: f(a, b, indexing="xy"), X((2,), F4), X((3,), F4)),
                 C(lambda f, a, b: f(a, b, indexing="ij"), X((2,), I8), X((3,), I8)),
                 C(lambda f, a, b, c: f([a, b, c]), X((2,), F4), X((3,), F4), X((4,), F4))],
})

CASES.update({
    "matmul": [C(lambda f, a, b: f(a, b), X(S, F4), X((4, 2), F4)), C(lambda f, a, b: f(a, b), X((4,), F8), X((4,), F8)),
               C(lambda f, a, b: f(a, b), X((2, 3, 4), F4), X((4,), F4)),
               C(lambda f, a, b: f(a, b), X((2, 1, 3, 4), F8), X((5, 4, 2), F8)),
               C(lambda f, a, b: f(a, b), X(S, I8), X((4, 2), I8)),
               C(lambda f, a, b: f(a, b), X(S, F4), X((4, 2), F8), differs="promotes")],
    "mm": [C(lambda f, a, b: f(a, b), X(S, F4), X((4, 2), F4))],
    "bmm": [C(lambda f, a, b: f(a, b), X((2, 3, 4), F4), X((2, 4, 5), F4))],
    "dot": [C(lambda f, a, b: f(a, b), X((4,), F4), X((4,), F4)), C(lambda f, a, b: f(a, b), X((4,), I8), X((4,), I8))],
    "outer": [C(lambda f, a, b: f(a, b), X((3,), F4), X((4,), F4)), C(lambda f, a, b: f(a, b), X((3,), I8), X((2,), F4))],
    "einsum": [C(lambda f, a, b: f("ij,jk->ik", a, b), X(S, F4), X((4, 2), F4)),
               C(lambda f, a: f("ii->i", a), X((3, 3), F8)), C(lambda f, a, b: f("i,j", a, b), X((2,), F4), X((3,), F4)),
               C(lambda f, a: f("...ij->...ji", a), X((2, 3, 4), F4))],
    "tensordot": [C(lambda f, a, b: f(a, b), X((2, 3, 4), F4), X((3, 4, 5), F4)),
                  C(lambda f, a, b: f(a, b, 1), X(S, F4), X((4, 2), F4)),
                  C(lambda f, a, b: f(a, b, dims=([1, 0], [0, 1])), X((3, 4, 2), F8), X((4, 3), F8))],
    "norm": [C(lambda f, x: f(x), X(S, F4)), C(lambda f, x: f(x, 1), X(S, F4)), C(lambda f, x: f(x, dim=1), X(S, F4)),
             C(lambda f, x: f(x, p=2, dim=1, keepdim=True), X(S, F8)), C(lambda f, x: f(x, "fro"), X(S, F4)),
             C(lambda f, x: f(x, float("inf"), dim=0), X(S, F4))],
    "addcmul": [C(lambda f, x, a, b: f(x, a, b, value=0.5), X(S, F4), X(S, F4), X((4,), F4)),
                C(lambda f, x, a, b: f(x, a, b), X(S, I8), X(S, I8), X(S, I8))],
    "addcdiv": [C(lambda f, x, a, b: f(x, a, b, value=0.5), X(S, F4), X(S, F4), X((4,), F4, "p"))],
    "lerp": [C(lambda f, a, b: f(a, b, 0.3), X(S, F4), X(S, F4)),
             C(lambda f, a, b, w: f(a, b, w), X(S, F8), X(S, F8), X((4,), F8, "u"))],
    "clamp": [C(lambda f, x: f(x, -0.5, 0.5), X(S, F4)), C(lambda f, x: f(x, min=0), X(S, F4)),
              C(lambda f, x: f(x, max=1), X(S, I8)), C(lambda f, x: f(x, 0.5, 3.5), X(S, I8)),
              C(lambda f, x, lo, hi: f(x, lo, hi), X(S, F4), X((4,), F4), X(S, F4)),
              C(lambda f, x: f(x), X(S, F4)), C(lambda f, x: f(x, 1, 0), X(S, F4))],
    "clip": [C(lambda f, x: f(x, -1, 1), X(S, F4)), C(lambda f, x: f(x), X(S, F4)),
             C(lambda f, x: f(x, max=2), X(S, I8))],
    "diff": [C(lambda f, x: f(x), X(S, F4)), C(lambda f, x: f(x, 2), X(S, F4)), C(lambda f, x: f(x, dim=0), X(S, I8)),
             C(lambda f, x: f(x, 1, 0), X(S, F4)), C(lambda f, x: f(x, 1, -1, x[:, :1], x[:, :2]), X(S, F8)),
             C(lambda f, x: f(x), X((5,), B))],
    "round": _unary("s", NUM) + [C(lambda f, x: f(x), X(S, C8), differs="complex round"),C(lambda f, x: f(x, decimals=1), X(S, F4)), C(lambda f, x: f(x, decimals=-1), X(S, F8))],
    "logsumexp": CASES["logsumexp"],
    "relu": _unary("s", (F4, F8, I8, I4, B)),
    "sigmoid": _unary("s", (F4, F8, I8, C8)),
    "softmax": CASES["softmax"],
})

# PyTorch's everyday names beyond the standard (issue 24, section 2)
_STACKS = [lambda f, a, b: f([a, b]), lambda f, a, b: f((a, b))]
CASES.update({n: [C(fn, X(S, p), X(S, q)) for fn in _STACKS for p, q in ((F4, F4), (I8, F4))]
              + [C(lambda f, a, b: f([a, b]), X((4,), F8), X((4,), F8))]
              for n in ("hstack", "vstack", "row_stack", "column_stack", "dstack")})
CASES.update({n: [C(lambda f, x: f(x), X(s, F4)) for s in ((), (3,), S)]
              + [C(lambda f, a, b: f(a, b), X((), I8), X((2,), F4))]
              for n in ("atleast_1d", "atleast_2d", "atleast_3d")})
CASES.update({
    "argwhere": [C(lambda f, x: f(x), X(S, t)) for t in (F4, I8, B)],
    "bincount": [C(lambda f, x: f(x), X((6,), I8, "p")),
                 C(lambda f, x, w: f(x, w), X((6,), I8, "p"), X((6,), F8)),
                 C(lambda f, x: f(x, minlength=9), X((6,), I8, "p"))],
    "histc": [C(lambda f, x: f(x), X(S, F4)), C(lambda f, x: f(x, 4, -1, 1), X(S, F8))],
    "cdist": [C(lambda f, a, b: f(a, b), X(S, F8), X((2, 4), F8)),
              C(lambda f, a, b: f(a, b, p=1), X(S, F4), X((2, 4), F4))],
    "std_mean": [C(lambda f, x: f(x), X(S, F4)), C(lambda f, x: f(x, 1, keepdim=True), X(S, F8)),
                 C(lambda f, x: f(x, 0, correction=0), X(S, F8))],
    "var_mean": [C(lambda f, x: f(x), X(S, F4)), C(lambda f, x: f(x, 1, keepdim=True), X(S, F8)),
                 C(lambda f, x: f(x, 0, correction=0), X(S, F8))],
    "unique": [C(lambda f, x: f(x), X(S, I8, "t")),
               C(lambda f, x: f(x, return_inverse=True, return_counts=True), X(S, F4, "t")),
               C(lambda f, x: f(x, dim=0), X(S, I8, "t"))],
    "unique_consecutive": [C(lambda f, x: f(x), X((8,), I8, "t")),
                           C(lambda f, x: f(x, return_counts=True), X((8,), I8, "t"))],
    "index_fill": [C(lambda f, x: f(x, 1, f.tensor([0, 2]), -1.0), X(S, F4))],
    "index_copy": [C(lambda f, x, s: f(x, 0, f.tensor([2, 0]), s), X(S, F4), X((2, 4), F4))],
    "masked_scatter": [C(lambda f, x, m, s: f(x, m, s), X(S, F4), X(S, B), X((12,), F4))],
})

_RAND = dict(values=False)
CASES.update({
    "rand": [C(lambda f: f(2, 3), **_RAND), C(lambda f: f((2,), dtype=f.float64), **_RAND)],
    "randn": [C(lambda f: f(2, 3), **_RAND), C(lambda f: f(4, dtype=f.float64), **_RAND)],
    "randint": [C(lambda f: f(0, 5, (3,)), **_RAND), C(lambda f: f(5, (2, 2)), **_RAND),
                C(lambda f: f(0, 5, (3,), dtype=f.int32), **_RAND)],
    "randperm": [C(lambda f: f.sort(f(6)).values), C(lambda f: f(4, dtype=f.int32), **_RAND)],
    "rand_like": [C(lambda f, x: f(x), X(S, F8), **_RAND)],
    "randn_like": [C(lambda f, x: f(x), X(S, F4), **_RAND)],
    "randint_like": [C(lambda f, x: f(x, 5), X(S, I8), **_RAND), C(lambda f, x: f(x, 0, 5), X(S, F4), **_RAND)],
    "normal": [C(lambda f: f(0.0, 1.0, (3,)), **_RAND), C(lambda f, m, s: f(m, s), X(S, F4), X(S, F4, "p"), **_RAND),
               C(lambda f, m: f(m, 2.0), X(S, F8), **_RAND)],
    "bernoulli": [C(lambda f, p: f(p), X(S, F4, "u"), **_RAND), C(lambda f, p: f(p, 0.5), X(S, F8), **_RAND)],
    "multinomial": [C(lambda f, p: f(p, 2), X((4,), F4, "p"), **_RAND),
                    C(lambda f, p: f(p, 5, replacement=True), X((2, 4), F4, "p"), **_RAND)],
})

CASES.update({
    "numel": [C(lambda f, x: f(x), X(S, F4)), C(lambda f, x: f(x), X((), I8))],
    "is_tensor": [C(lambda f, x: f(x), X(S, F4)), C(lambda f: f([1.0]))],
    "is_floating_point": [C(lambda f, x: f(x), X(S, t)) for t in (F4, I8, C8, B)],
    "is_complex": [C(lambda f, x: f(x), X(S, t)) for t in (F4, C8)],
    "result_type": [C(lambda f, a, b: f(a, b), X(S, p), X(S, q)) for p, q in ((F4, I8), (I4, I8), (B, I8))] +
                   [C(lambda f, a: f(a, 1.0), X(S, I8)), C(lambda f, a: f(a, 1), X(S, F8)),
                    C(lambda f, a, b: f(a, b), X(S, F4), X((), F8), differs="0-d promotion")],
    "can_cast": [C(lambda f: f(f.float32, f.int64)), C(lambda f: f(f.int32, f.float64)),
                 C(lambda f: f(f.bool, f.int8)), C(lambda f: f(f.float64, f.float32))],
    "finfo": [C(lambda f: f(f.float32)), C(lambda f: f(f.float64)), C(lambda f: f())],
    "iinfo": [C(lambda f: f(f.int32)), C(lambda f: f(f.uint8)), C(lambda f: f(f.int64))],
    "broadcast_shapes": [C(lambda f: f((2, 1), (3,))), C(lambda f: f((1,), (4, 1), ()))],
    "get_default_dtype": [C(lambda f: f())],
    "is_grad_enabled": [C(lambda f: f())],
    "is_inference_mode_enabled": [C(lambda f: f())],
})

M = X((3, 4, 4), F8, "m")
M4 = X((2, 4, 4), F4, "m")
CASES.update({
    "linalg.det": [C(lambda f, a: f(a), M), C(lambda f, a: f(a), M4)],
    "linalg.inv": [C(lambda f, a: f(a), M), C(lambda f, a: f(a), M4)],
    "linalg.slogdet": [C(lambda f, a: f(a), M), C(lambda f, a: f(-a), M4)],
    "linalg.cholesky": [C(lambda f, a: f(a @ a.mT), M), C(lambda f, a: f(a @ a.mT, upper=True), M)],
    "linalg.solve": [C(lambda f, a, b: f(a, b), M, X((3, 4, 2), F8)),
                     C(lambda f, a, b: f(a, b), M, X((4,), F8)),
                     C(lambda f, a, b: f(a, b, left=False), M, X((3, 2, 4), F8)),
                     C(lambda f, a, b: f(a, b), M, X((3, 4), F8), differs="solve vectors")],
    "linalg.matrix_power": [C(lambda f, a: f(a, 3), M), C(lambda f, a: f(a, -2), M), C(lambda f, a: f(a, 0), M4)],
    "linalg.matmul": [C(lambda f, a, b: f(a, b), M, M), C(lambda f, a, b: f(a, b), X(S, F4), X((4,), F4))],
    "linalg.eigh": [C(lambda f, a: f(a + a.mT), M, values=False),
                    C(lambda f, a: f(a + a.mT).eigenvalues, M),
                    C(lambda f, a: f(a + a.mT).eigenvectors.abs(), M),
                    C(lambda f, a: f(a, UPLO="U").eigenvalues, M), C(lambda f, a: f(a, "U").eigenvalues, M4)],
    "linalg.eigvalsh": [C(lambda f, a: f(a + a.mT), M), C(lambda f, a: f(a, UPLO="U"), M)],
    "linalg.eig": [C(lambda f, a: f(a), M, values=False)],
    "linalg.eigvals": [C(lambda f, a: f(a), M, values=False)],
    "linalg.svd": [C(lambda f, a: f(a), X((3, 4, 2), F8), values=False),
                   C(lambda f, a: f(a, False).S, X((3, 4, 2), F8)),
                   C(lambda f, a: f(a, full_matrices=False).U.abs(), X((4, 2), F8))],
    "linalg.svdvals": [C(lambda f, a: f(a), X((3, 4, 2), F8)), C(lambda f, a: f(a), M4)],
    "linalg.qr": [C(lambda f, a: f(a), X((3, 4, 2), F8), values=False),
                  C(lambda f, a: f(a, "complete"), X((4, 2), F8), values=False),
                  C(lambda f, a: f(a).R.abs(), X((4, 3), F8))],
    "linalg.pinv": [C(lambda f, a: f(a), X((3, 4, 2), F8)), C(lambda f, a: f(a, rtol=0.5), X((4, 3), F8)),
                    C(lambda f, a: f(a + a.mT, hermitian=True), M)],
    "linalg.matrix_rank": [C(lambda f, a: f(a), X((3, 4, 2), F8)),
                           C(lambda f, a: f(a, atol=4.0), M), C(lambda f, a: f(a, rtol=0.5), M),
                           C(lambda f, a: f(a + a.mT, hermitian=True), M),
                           C(lambda f, a: f(a, atol=1.0, rtol=0.3), M)],
    "linalg.diagonal": [C(lambda f, a: f(a), M), C(lambda f, a: f(a, offset=1), X(S, F4)),
                        C(lambda f, a: f(a, offset=-1, dim1=0, dim2=2), X((2, 3, 4), I8))],
    "linalg.cross": [C(lambda f, a, b: f(a, b), X((4, 3), F4), X((4, 3), F4)),
                     C(lambda f, a, b: f(a, b, dim=0), X((3, 2), F8), X((3, 1), F8)),
                     C(lambda f, a, b: f(a, b), X((2, 3), I8), X((2, 3), I8))],
    "linalg.vecdot": [C(lambda f, a, b: f(a, b), X(S, F4), X(S, F4)),
                      C(lambda f, a, b: f(a, b, dim=0), X(S, C8), X(S, C8))],
    "linalg.vector_norm": [C(fn, X((2, 3, 4), dt)) for dt in (F4, F8, C8) for fn in
                           (lambda f, x: f(x), lambda f, x: f(x, 1), lambda f, x: f(x, float("inf"), dim=1),
                            lambda f, x: f(x, 2, (0, 2), True), lambda f, x: f(x, ord=0, dim=-1),
                            lambda f, x: f(x, 3, dim=1, keepdim=True), lambda f, x: f(x, dtype=f.float64))],
    "linalg.matrix_norm": [C(fn, X((2, 3, 4), dt)) for dt in (F4, F8) for fn in
                           (lambda f, x: f(x), lambda f, x: f(x, "nuc"), lambda f, x: f(x, 1, keepdim=True),
                            lambda f, x: f(x, float("-inf")), lambda f, x: f(x, 2, dim=(0, 2)),
                            lambda f, x: f(x, "fro", (2, 0), True))],
    "linalg.norm": [C(fn, X((2, 3, 4), F8)) for fn in
                    (lambda f, x: f(x), lambda f, x: f(x, dim=1), lambda f, x: f(x, 1, (0, 2)),
                     lambda f, x: f(x[0], "nuc"), lambda f, x: f(x[0, 0], 3), lambda f, x: f(x, keepdim=True),
                     lambda f, x: f(x, float("inf"), dim=(1, 2), keepdim=True))],
})
_FFT1 = [lambda f, x: f(x), lambda f, x: f(x, 6), lambda f, x: f(x, None, 0), lambda f, x: f(x, norm="ortho"),
         lambda f, x: f(x, dim=0, norm="forward"), lambda f, x: f(x, n=3, dim=-1)]
_FFTN = [lambda f, x: f(x), lambda f, x: f(x, (4, 6)), lambda f, x: f(x, None, (0,)),
         lambda f, x: f(x, dim=(0, 1), norm="ortho"), lambda f, x: f(x, s=(3,), dim=(1,), norm="forward")]
CASES.update({f"fft.{n}": [C(fn, X(S, dt)) for dt in (F4, F8, C8) for fn in _FFT1]
              for n in ("fft", "ifft", "hfft")})
CASES.update({f"fft.{n}": [C(fn, X(S, dt)) for dt in (F4, F8) for fn in _FFT1] for n in ("rfft", "ihfft")})
CASES["fft.irfft"] = [C(fn, X(S, dt)) for dt in (F4, C8) for fn in _FFT1]
CASES.update({f"fft.{n}": [C(fn, X(S, dt)) for dt in (F4, C8) for fn in _FFTN] for n in ("fftn", "ifftn")})
CASES["fft.rfftn"] = [C(fn, X(S, F8)) for fn in _FFTN]
CASES["fft.irfftn"] = [C(fn, X(S, C8)) for fn in _FFTN]
CASES.update({f"fft.{n}": [C(lambda f: f(5)), C(lambda f: f(4, 0.5)), C(lambda f: f(6, d=2.0, dtype=f.float64))]
              for n in ("fftfreq", "rfftfreq")})
CASES.update({f"fft.{n}": [C(lambda f, x: f(x), X((3, 5), F4)), C(lambda f, x: f(x, 0), X((3, 5), F4)),
                           C(lambda f, x: f(x, dim=(0, 1)), X((3, 5), I8))] for n in ("fftshift", "ifftshift")})

# Special functions (interop._ops.special): the unary ones on PyTorch's "s" draws (NaN, inf, 0
# among normal values) in every dtype (complex refused, as PyTorch), plus their domains' edges
_SPECIAL_UNARY = {"erf": "s", "erfc": "s", "erfinv": "u", "special.erf": "s", "special.erfc": "s",
                  "special.erfcx": "s", "special.erfinv": "u", "special.expit": "s",
                  "special.ndtr": "s", "special.log_ndtr": "s", "special.ndtri": "u",
                  "special.expm1": "s", "special.log1p": "s"}
CASES.update({n: _unary(k, (F4, F8, I8, B, C8)) +
              [C(lambda f, x: f(x * 1.5 - 0.25), X((6,), F8, "u"))]
              for n, k in _SPECIAL_UNARY.items()})
for _n in ("logit", "special.logit"):
    CASES[_n] = _unary("u", (F4, F8, I8, C8)) + [
        C(lambda f, x: f(x, 0.2), X(S, F8, "u")), C(lambda f, x: f(x, eps=1e-6), X(S, F4, "u")),
        C(lambda f, x: f(x * 2 - 0.5), X(S, F8, "u"))]
for _n in ("xlogy", "special.xlogy"):
    CASES[_n] = [C(lambda f, a, b: f(a, b), X(S, p, "s"), X((4,), q, "p"))
                 for p, q in ((F4, F4), (F8, F8), (I8, I8), (I8, F4), (F4, F8), (B, F8))] + [
        C(lambda f, a, b: f(a * 0, b), X(S, F8), X(S, F8, "s")),
        C(lambda f, a: f(a, 2.5), X(S, F4)), C(lambda f, b: f(3, b), X(S, F8, "p")),
        C(lambda f, a, b: f(a, b), X(S, C8), X(S, F4, "p"))]

# Shared names not compared here, and why.
NOT_COMPARED = {
    "compile": "returns the model or function unchanged (interop has no compiler); "
               "tests/test_torch_everyday.py",
    "set_printoptions": "changes how tensors print, not values; tests/test_torch_everyday.py "
                        "compares the printed text with PyTorch's",
    "manual_seed": "seeds interop's own generator; its draws differ from PyTorch's (tests/test_random.py)",
    "seed": "random state (tests/test_random.py)",
    "initial_seed": "random state (tests/test_random.py)",
    "get_rng_state": "interop's generator state, not PyTorch's bytes (tests/test_random.py)",
    "set_rng_state": "interop's generator state, not PyTorch's bytes (tests/test_random.py)",
    "set_default_dtype": "changes global state (tests/test_torch_names.py)",
    "set_num_threads": "changes the process's thread pools (tests/test_special.py checks them "
                       "through threadpoolctl)",
    "get_num_threads": "the size of this process's BLAS pools, not PyTorch's own intra-op "
                       "threads (tests/test_special.py)",
}

# What differs from PyTorch on purpose: key -> (what the README's "Coming from PyTorch" table
# says, as text it must contain; the reason). A case names its key with ``differs=``, or
# gets it from its tag through DIFFERS_BY_TAG.
DIFFERENCES = {
    "0-d promotion": ("f32 (n-d) + f64 (0-d)", "the array object's operators follow the "
                      "standard's promotion, which a 0-d tensor joins as any other; functions "
                      "that are operators (add, mul, maximum...) promote as they do"),
    "promotes": ("`f32 @ f64`", "matmul and isclose promote mixed dtypes (the standard's "
                 "rule) where PyTorch refuses them"),
    "scalar operands": ("Python scalar as the second operand",
                        "every binary function takes a Python scalar, as the standard allows; "
                        "PyTorch refuses one for some (maximum, atan2, hypot...)"),
    "more dims": ("`torch.prod(x, (0, 1))`", "prod and logsumexp reduce over a tuple (or () "
                  "for all) of dims, as sum does; PyTorch refuses"),
    "complex round": ("`torch.round` of a complex tensor", "rounds both parts (the "
                      "standard's rule); PyTorch refuses"),
    "floor of infinities": ("`inf // 2` is NaN", "floor_divide follows the standard "
                            "(floor(x1 / x2)) at infinities, as the // operator does"),
    "solve vectors": ("`torch.linalg.solve(A, b)` with `b` of shape `A.shape[:-1]`",
                      "b is a stack of matrices unless it is 1-d (the standard's rule); PyTorch "
                      "reads it as a batch of vectors"),
    "complex logaddexp": ("`torch.logaddexp` of complex tensors", "refused: the standard "
                          "defines logaddexp for real floats"),
}
_ZERO_D = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "pow",
           "remainder", "floor_divide", "maximum", "minimum", "atan2", "arctan2", "logaddexp",
           "hypot", "copysign", "nextafter", "isclose", "allclose"]
_NO_SCALARS = ["maximum", "minimum", "atan2", "arctan2", "hypot", "nextafter", "logaddexp", "logical_and",
               "logical_or", "logical_xor", "isclose"]
DIFFERS_BY_TAG = {**{(n, "0-d"): "0-d promotion" for n in _ZERO_D},
                  **{(n, "scalar"): "scalar operands" for n in _NO_SCALARS},
                  ("isclose", "mixed"): "promotes", ("isclose", "complex"): "promotes",
                  ("logaddexp", "complex"): "complex logaddexp"}


def _shared_names(prefix=""):
    ours, theirs = _resolve(it, prefix[:-1]) if prefix else it, \
        _resolve(torch, prefix[:-1]) if prefix else torch
    out = []
    for n in dir(ours):
        if n.startswith("_") or not hasattr(theirs, n):
            continue
        o, t = getattr(ours, n), getattr(theirs, n)
        if isinstance(o, (type, types.ModuleType, it.dtype)) or not callable(o):
            continue
        if isinstance(t, types.ModuleType) or not callable(t):
            continue
        out.append(prefix + n)
    return out


SHARED = _shared_names() + _shared_names("linalg.") + _shared_names("fft.") + \
    _shared_names("special.")


def test_every_shared_name_has_cases():
    missing = [n for n in SHARED if n not in CASES and n not in NOT_COMPARED]
    assert not missing, f"shared with torch but not compared: {missing}"
    stale = [n for n in list(CASES) + list(NOT_COMPARED) if n not in SHARED]
    assert not stale, f"cases for names that are not shared with torch: {stale}"


def test_differences_are_in_the_readme():
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Coming from PyTorch", 1)[1].split("\n## ", 1)[0]
    for key, (text, _) in DIFFERENCES.items():
        assert text in section, f"{key}: the README's table does not say {text!r}"
    used = {c.differs for cs in CASES.values() for c in cs if c.differs} | \
        set(DIFFERS_BY_TAG.values())
    assert used == set(DIFFERENCES), used ^ set(DIFFERENCES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(be, name):
    seed = zlib.crc32(name.encode())
    for k, case in enumerate(CASES[name]):
        if case.differs or (name, case.tag) in DIFFERS_BY_TAG:
            continue
        run(name, case, seed + k)
