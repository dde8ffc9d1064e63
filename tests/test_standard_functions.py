"""Every elementwise function of the standard (``interop.array_api``), against the backend namespace itself: same
values (NaN where it gives NaN, signed zeros included) and same dtype, for every dtype the
standard allows the function, with shapes, broadcasting and edge values (0, -0, ±inf,
NaN) drawn by hypothesis, on the cpu and strict backends. interop may add checks and
gradients on top of the backend, never different numbers.
"""

import warnings

import numpy as np
from hypothesis import given, settings, HealthCheck, strategies as st

import interop as it

xp = it.array_api      # the standard's namespace (the top-level one is PyTorch's)

_HC = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]

FLOATS = ["float32", "float64"]
SIGNED = ["int8", "int16", "int32", "int64"]
UNSIGNED = ["uint8", "uint16", "uint32", "uint64"]
INTS = SIGNED + UNSIGNED
REAL = INTS + FLOATS

# function: the dtypes the standard defines it for (complex left out: the backends' complex
# special values are not all the standard's; interop puts in those of expm1 and tanh,
# test_complex_special_values_follow_the_standard)
UNARY = {
    **{f: FLOATS for f in ("acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh",
                            "exp", "expm1", "log", "log1p", "log2", "log10", "sin", "sinh",
                            "sqrt", "tan", "tanh", "reciprocal", "signbit")},
    **{f: REAL for f in ("abs", "negative", "positive", "square", "sign", "ceil", "floor",
                         "round", "trunc", "isfinite", "isinf", "isnan")},
    "bitwise_invert": INTS + ["bool"],
    "logical_not": ["bool"],
}
BINARY = {
    **{f: REAL for f in ("add", "subtract", "multiply", "maximum", "minimum", "equal",
                         "not_equal", "greater", "greater_equal", "less", "less_equal",
                         "remainder", "floor_divide")},
    **{f: FLOATS for f in ("atan2", "copysign", "divide", "hypot", "logaddexp", "nextafter",
                           "pow")},
    **{f: INTS + ["bool"] for f in ("bitwise_and", "bitwise_or", "bitwise_xor")},
    **{f: INTS for f in ("bitwise_left_shift", "bitwise_right_shift")},
    **{f: ["bool"] for f in ("logical_and", "logical_or", "logical_xor")},
}

_FLOAT_VALUES = [-2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 3.0, np.inf, -np.inf, np.nan]


def _values(dtype, n, rng, positive=False, nonzero=False):
    if dtype == "bool":
        return rng.integers(0, 2, n).astype(bool)
    if dtype in FLOATS:
        return rng.choice(_FLOAT_VALUES, n).astype(dtype)
    lo = 0 if dtype in UNSIGNED or positive else -3
    v = rng.integers(lo, 6, n)
    if nonzero:
        v[v == 0] = 1
    return v.astype(dtype)


def _compare(be, got, want, where):
    want_name = str(want.dtype).rsplit(".", 1)[-1]
    assert got.dtype.name == want_name, f"{where}: dtype {got.dtype} vs the backend's {want_name}"
    g = got.numpy()
    w = np.asarray(be.to_host(want))
    assert g.shape == w.shape, f"{where}: shape {g.shape} vs {w.shape}"
    if g.dtype.kind == "f":
        np.testing.assert_allclose(g, w, rtol=1e-6 if g.dtype == np.float32 else 1e-12,
                                   atol=0, equal_nan=True, err_msg=where)
        finite_zero = (w == 0)
        np.testing.assert_array_equal(np.signbit(g[finite_zero]), np.signbit(w[finite_zero]),
                                      err_msg=f"{where}: sign of zero")
    else:
        np.testing.assert_array_equal(g, w, err_msg=where)


shapes = st.sampled_from([(), (1,), (4,), (2, 3), (3, 1), (1, 4), (2, 1, 3)])


@settings(suppress_health_check=_HC, max_examples=60)
@given(st.sampled_from(sorted(UNARY)), shapes, st.data())
def test_unary_functions_equal_the_backend(standard_be, name, shape, data):
    be = standard_be
    dtype = data.draw(st.sampled_from(UNARY[name]), label="dtype")
    if getattr(it, dtype) not in be.to_native:
        return
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16), label="seed"))
    a = _values(dtype, int(np.prod(shape)), rng).reshape(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = getattr(be.xp, name)(be.from_host(a))
        got = getattr(xp, name)(it.tensor(a))
    _compare(be, got, want, f"{name}({dtype} {shape})")


@settings(suppress_health_check=_HC, max_examples=80)
@given(st.sampled_from(sorted(BINARY)), shapes, shapes, st.data())
def test_binary_functions_equal_the_backend(standard_be, name, s1, s2, data):
    be = standard_be
    try:
        np.broadcast_shapes(s1, s2)
    except ValueError:
        return
    dtype = data.draw(st.sampled_from(BINARY[name]), label="dtype")
    if getattr(it, dtype) not in be.to_native:
        return
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16), label="seed"))
    a = _values(dtype, int(np.prod(s1)), rng).reshape(s1)
    # integer division by zero raises in interop (PyTorch's rule; NumPy gives 0), and
    # shifts by negative or too-large amounts are undefined in the standard
    shift = name.startswith("bitwise_") and "shift" in name
    b = _values(dtype, int(np.prod(s2)), rng, positive=shift,
                nonzero=name in ("remainder", "floor_divide") and dtype in INTS).reshape(s2)
    if shift:
        b = np.minimum(b, 3).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = getattr(be.xp, name)(be.from_host(a), be.from_host(b))
        got = getattr(xp, name)(it.tensor(a), it.tensor(b))
    if name == "floor_divide" and dtype in FLOATS:
        # interop follows the standard where NumPy does not: inf // finite, finite // inf
        special = (np.isinf(a) & np.isfinite(b)) | (np.isfinite(a) & np.isinf(b))
        if special.any():
            with np.errstate(all="ignore"):
                expected = np.where(special, np.floor(a / b), np.asarray(be.to_host(want)))
            np.testing.assert_array_equal(got.numpy(), expected)
            return
    _compare(be, got, want, f"{name}({dtype} {s1}, {s2})")


_INF, _NAN = np.inf, np.nan
# the standard's complex special values (its expm1 and tanh pages) that NumPy's, and so
# array-api-strict's, functions miss; interop puts them in. (a, b) -> value for a + bj;
# the standard's values are conjugate-symmetric, checked for -b too.
_COMPLEX_SPECIAL = {
    "expm1": [((0.0, 0.0), 0j), ((-0.0, 0.0), 0j), ((_INF, 0.0), complex(_INF, 0.0)),
              ((_NAN, 0.0), complex(_NAN, 0.0)), ((-_INF, _INF), complex(-1.0, 0.0)),
              ((-_INF, _NAN), complex(-1.0, 0.0)), ((_INF, _INF), complex(_INF, _NAN)),
              ((_INF, _NAN), complex(_INF, _NAN)), ((-_INF, 2.0), complex(-1.0, 0.0))],
    "tanh": [((_INF, 1.0), complex(1.0, 0.0)), ((_INF, 3.0), complex(1.0, 0.0)),
             ((_INF, 0.0), complex(1.0, 0.0)), ((-_INF, 2.0), complex(-1.0, 0.0))],
}


def _same_complex(got, want):
    for part in ("real", "imag"):
        g, w = getattr(got, part), getattr(want, part)
        if np.isnan(w):
            assert np.isnan(g), (got, want)
        else:
            assert g == w and np.signbit(g) == np.signbit(w), (got, want, part)


def test_complex_special_values_follow_the_standard(standard_be):
    for name, cases in _COMPLEX_SPECIAL.items():
        for dtype in ("complex64", "complex128"):
            zs = [complex(a, c) for (a, b), _ in cases for c in (b, -b)]   # (-b: sign bit set)
            got = getattr(xp, name)(xp.asarray(np.asarray(zs, dtype=dtype))).numpy()
            for (_, want), g0, g1 in zip(cases, got[::2], got[1::2]):
                _same_complex(g0, want)
                _same_complex(g1, want.conjugate())
            # and the backend's numbers everywhere else
            rng = np.random.default_rng(0)
            z = (rng.standard_normal(16) + 1j * rng.standard_normal(16)).astype(dtype)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                want = np.asarray(standard_be.to_host(
                    getattr(standard_be.xp, name)(standard_be.from_host(z))))
            np.testing.assert_array_equal(getattr(xp, name)(xp.asarray(z)).numpy(), want)
    # sign: 0 + 0j at every complex zero (array-api-strict keeps the zero's signs)
    zeros = [complex(a, b) for a in (0.0, -0.0) for b in (0.0, -0.0)]
    for g in xp.sign(xp.asarray(np.asarray(zeros, dtype="complex128"))).numpy():
        _same_complex(g, 0j)
