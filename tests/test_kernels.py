"""The backend kernel contract (interop/backends/_kernels.py): every kernel of the table,
on every kind of implementation, against a NumPy reference.

Backends: ``cpu`` (NumPy's native fast paths), ``std`` (a bare ``Backend`` on
array-api-compat's NumPy: the standard-only fallbacks), ``strict`` (the fallbacks on
array-api-strict), ``torch`` (``array_api_compat.torch`` registered as a namespace: the
fallbacks on torch tensors) and ``torch-kernels`` (the same namespace registered with
torch's own index_add/scatter_add as kernels). Each call also checks that its inputs are
unchanged and that the result has x's shape and dtype.
"""

import inspect
import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, strategies as st

import interop as it
from interop.backends import Backend, KERNELS

from helpers import to_np

BACKENDS = ["cpu", "std", "strict", "torch", "torch-kernels"]

# inf - inf and nan in the inputs are the point of several tests; NumPy warns about them
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
INF, NAN = float("inf"), float("nan")


def _torch_index_add(x, dim, index, source):
    return x.index_add(dim, index, source)


def _torch_scatter_add(x, dim, index, src):
    return x.scatter_add(dim, index, src)


_made = {}


def _backend(name):
    if name in _made:
        return _made[name]
    if name == "std":
        import array_api_compat.numpy as xp_np
        be = Backend("std", xp_np)
    elif name.startswith("torch"):
        pytest.importorskip("torch")
        import array_api_compat.torch as xp_torch
        kernels = ({"index_add": _torch_index_add, "scatter_add": _torch_scatter_add}
                   if name == "torch-kernels" else None)
        it.register_backend("test-kernels-" + name, xp_torch, kernels=kernels)
        be = it.get_backend("test-kernels-" + name)
    else:
        be = it.get_backend(name)
    _made[name] = be
    return be


@pytest.fixture(scope="module", autouse=True)
def _unregister():
    yield
    for n in ("torch", "torch-kernels"):
        it.backends._FACTORIES.pop("test-kernels-" + n, None)
        it.backends._INSTANCES.pop("test-kernels-" + n, None)
    _made.clear()


def test_the_backends_run_what_they_claim():
    assert set(_backend("cpu").kernel_paths.values()) == {"native"}
    for n in ("std", "strict"):
        assert set(_backend(n).kernel_paths.values()) == {"fallback"}
    pytest.importorskip("torch")
    assert set(_backend("torch").kernel_paths.values()) == {"fallback"}
    paths = _backend("torch-kernels").kernel_paths
    assert paths["index_add"] == paths["scatter_add"] == "registered"
    assert paths["add_at"] == "fallback"


# ------------------------------------------------------------------ the reference

def _acc(dtype):
    """The dtype the NumPy reference accumulates in."""
    return {"f": np.float64, "c": np.complex128}.get(np.dtype(dtype).kind, dtype)


def _np_key(name, x, args):
    """(key, values) for np.add.at that does what kernel ``name`` does with ``args``."""
    if name == "add_at":
        key, values = args
        return key, values
    dim, index, v = args
    dim = dim % max(x.ndim, 1)
    if name == "index_add":
        return (slice(None),) * dim + (index,), v
    coords = tuple(index if d == dim else np.arange(n).reshape([-1 if e == d else 1
                                                                for e in range(index.ndim)])
                   for d, n in enumerate(index.shape))
    return coords, v[tuple(slice(0, n) for n in index.shape)]


def reference(name, x, *args):
    """(expected result, bool mask of the positions something is added to)."""
    key, values = _np_key(name, x, args)
    out = x.astype(_acc(x.dtype))
    with np.errstate(invalid="ignore", over="ignore"):
        np.add.at(out, key, np.asarray(values).astype(out.dtype))
    touched = np.zeros(x.shape, dtype=bool)
    np.add.at(touched, key, True)
    return out.astype(x.dtype), touched


def _conv(be, a):
    if isinstance(a, np.ndarray):
        return be.from_host(a)
    if isinstance(a, tuple):
        return tuple(_conv(be, k) for k in a)
    return a


def _host(be, a):
    return np.asarray(be.to_host(a))


def run_kernel(be, name, *args):
    """Kernel ``name`` on backend ``be`` with NumPy arguments; checks the inputs are unchanged
    and the result has x's dtype and shape; returns the result as NumPy."""
    conv = [_conv(be, a) for a in args]
    out = getattr(be.ns, name)(*conv)
    flat = [(a, c) for a, c in zip(args, conv) if isinstance(a, np.ndarray)]
    flat += [(k, c) for a, cs in zip(args, conv) if isinstance(a, tuple)
             for k, c in zip(a, cs) if isinstance(k, np.ndarray)]
    for a, c in flat:
        np.testing.assert_array_equal(_host(be, c), a, err_msg=f"{be.name}.{name} changed an input")
    got = _host(be, out)
    assert got.dtype == args[0].dtype, (be.name, name, got.dtype, args[0].dtype)
    if name != "sum_to":
        assert got.shape == args[0].shape, (be.name, name, got.shape, args[0].shape)
    return got


def check(bname, name, x, *args):
    """Kernel against the NumPy reference: same values (NaN where NaN, inf where inf, to a
    rounding tolerance elsewhere) and the positions nothing is added to kept bit for bit."""
    be = _backend(bname)
    got = run_kernel(be, name, x, *args)
    want, touched = reference(name, x, *args)
    if x.dtype.kind in "fc":
        tol = 1e-5 if x.dtype in (np.float32, np.complex64) else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * (1 + np.nanmax(
            np.abs(np.where(np.isfinite(want), want, 0)), initial=0)),
            equal_nan=True, err_msg=f"{name} on {bname}")
    else:
        np.testing.assert_array_equal(got, want, err_msg=f"{name} on {bname}")
    np.testing.assert_array_equal(got[~touched].view(np.uint8), x[~touched].view(np.uint8),
                                  err_msg=f"{name} on {bname} changed untouched positions")
    return got


def _finite(rng, shape, dtype):
    if np.dtype(dtype).kind in "iu":
        return rng.integers(-50, 50, size=shape).astype(dtype)
    if np.dtype(dtype).kind == "b":
        return rng.random(shape) < 0.3
    return rng.standard_normal(shape).astype(dtype)


def _sprinkle(rng, a, frac=0.2):
    """``a`` with inf, -inf, nan and -0.0 at random places."""
    a = a.copy()
    flat = a.reshape(-1)
    for v in (INF, -INF, NAN, -0.0):
        flat[rng.random(flat.shape) < frac / 4] = v
    return a


# --------------------------------------------------------------------- index_add

@pytest.mark.parametrize("bname", BACKENDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_index_add_repeated_indices(bname, dtype, dim):
    rng = np.random.default_rng(dim + 7)
    x = _finite(rng, (4, 5, 3), dtype)
    n = x.shape[dim]
    index = rng.integers(-n, n, size=9)              # repeats guaranteed; negative entries too
    shape = list(x.shape)
    shape[dim] = 9
    check(bname, "index_add", x, dim, index, _finite(rng, shape, dtype))


@pytest.mark.parametrize("bname", BACKENDS)
@pytest.mark.parametrize("positions,rows", [
    (100_000, (16,)),      # rows, no position repeated
    (3_000, (16,)),        # rows, most positions once, a few up to ~6 times (rank passes)
    (40, (3, 2)),          # rows, every position ~25 times (rank passes, then reduceat)
    (1, (4,)),             # rows, one position 1000 times
    (300, ()),             # scalars per position (one reduceat)
])
def test_index_add_large_repeated_indices(bname, positions, rows):
    """Past the NumPy backend's size switch (1000 added values), every path of its
    sort-based accumulation, with inf/nan kept to their positions."""
    rng = np.random.default_rng(positions)
    if positions == 100_000:
        index = rng.permutation(positions)[:1000]
    else:
        index = rng.integers(0, positions, size=1000)
    x = _sprinkle(rng, _finite(rng, (positions,) + rows, "float32"), 0.01)
    check(bname, "index_add", x, 0, index,
          _sprinkle(rng, _finite(rng, (1000,) + rows, "float32"), 0.01))


@pytest.mark.parametrize("bname", BACKENDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_index_add_non_finite(bname, dtype):
    rng = np.random.default_rng(1)
    for dim in (0, 1):
        x = _sprinkle(rng, _finite(rng, (6, 4), dtype))
        index = rng.integers(0, x.shape[dim], size=10)
        shape = list(x.shape)
        shape[dim] = 10
        check(bname, "index_add", x, dim, index, _sprinkle(rng, _finite(rng, shape, dtype)))


@pytest.mark.parametrize("bname", BACKENDS)
def test_index_add_inf_stays_in_its_slot(bname):
    for dtype in ("float32", "float64"):
        x = np.zeros(3, dtype=dtype)
        got = check(bname, "index_add", x, 0, np.array([0]), np.array([INF], dtype=dtype))
        np.testing.assert_array_equal(got, [INF, 0, 0])
        got = check(bname, "index_add", x, 0, np.array([2, 2, 0]),
                    np.array([INF, -INF, NAN], dtype=dtype))
        assert np.isnan(got[0]) and got[1] == 0 and np.isnan(got[2])


@pytest.mark.parametrize("bname", BACKENDS)
def test_index_add_empty_and_small(bname):
    rng = np.random.default_rng(2)
    x = _finite(rng, (4, 3), "float64")
    check(bname, "index_add", x, 0, np.zeros(0, dtype=np.int64), np.zeros((0, 3)))
    check(bname, "index_add", x, 1, np.zeros(0, dtype=np.int64), np.zeros((4, 0)))
    check(bname, "index_add", np.zeros((0, 3)), 1, np.array([0, 2, 2]), np.zeros((0, 3)))
    check(bname, "index_add", x, 0, np.array([3, 3, 3]), np.ones((3, 3)))     # one slot only
    check(bname, "index_add", np.array([1.5, -0.0]), 0, np.array([0]), np.array([2.0]))


@pytest.mark.parametrize("bname", BACKENDS)
def test_index_add_integer_dtypes_are_exact(bname):
    rng = np.random.default_rng(3)
    x = _finite(rng, (5, 2), "int64")
    index = rng.integers(0, 5, size=12)
    check(bname, "index_add", x, 0, index, _finite(rng, (12, 2), "int64"))
    big = np.array([2 ** 62, 1], dtype=np.int64)
    check(bname, "index_add", big, 0, np.array([0, 0, 1]), np.array([1, 2, 3], dtype=np.int64))


# ------------------------------------------------------------------- scatter_add

@pytest.mark.parametrize("bname", BACKENDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("dim", [0, 1, -1, -2])
def test_scatter_add_repeated_indices(bname, dtype, dim):
    rng = np.random.default_rng(dim + 11)
    x = _finite(rng, (3, 4), dtype)
    ishape = (5, 3) if dim % 2 == 0 else (2, 6)      # more entries than x has along dim
    index = rng.integers(-x.shape[dim], x.shape[dim], size=ishape)
    src = _finite(rng, (6, 7), dtype)                # larger than index: only its block is used
    check(bname, "scatter_add", x, dim, index, src)


@pytest.mark.parametrize("bname", BACKENDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_scatter_add_non_finite_and_empty(bname, dtype):
    rng = np.random.default_rng(4)
    x = _sprinkle(rng, _finite(rng, (4, 5), dtype))
    index = rng.integers(0, 4, size=(8, 5))
    check(bname, "scatter_add", x, 0, index, _sprinkle(rng, _finite(rng, (8, 5), dtype)))
    check(bname, "scatter_add", x, 1, np.zeros((4, 0), dtype=np.int64), np.zeros((4, 0), dtype))
    check(bname, "scatter_add", x, 0, np.zeros((0, 5), dtype=np.int64), np.zeros((2, 5), dtype))


@pytest.mark.parametrize("bname", BACKENDS)
def test_scatter_add_three_dims(bname):
    rng = np.random.default_rng(5)
    x = _finite(rng, (3, 4, 2), "float64")
    for dim in range(3):
        ishape = [2, 3, 2]
        ishape[dim] = 6
        index = rng.integers(0, x.shape[dim], size=ishape)
        check(bname, "scatter_add", x, dim, index, _finite(rng, ishape, "float64"))


# ------------------------------------------------------------------------ add_at

@pytest.mark.parametrize("bname", BACKENDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_add_at_keys(bname, dtype):
    rng = np.random.default_rng(6)
    x = _finite(rng, (5, 3), dtype)
    rows = rng.integers(-5, 5, size=8)               # repeated, negative entries too
    cols = rng.integers(0, 3, size=8)
    mask = rng.random(5) < 0.5
    for key in [(rows, cols), (rows,), (rows, Ellipsis), (slice(None), cols), (1, cols),
                (rows[:, None], cols[None, :]), (mask,), (None, rows, 2), (slice(1, 4), -1)]:
        values = _finite(rng, x[key].shape, dtype)
        check(bname, "add_at", x, key, values)
    check(bname, "add_at", x[:, 0].copy(), (rows,), _finite(rng, (8,), dtype))


@pytest.mark.parametrize("bname", BACKENDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_add_at_broadcast_values(bname, dtype):
    rng = np.random.default_rng(7)
    x = _finite(rng, (5, 3), dtype)
    rows = rng.integers(0, 5, size=8)
    cols = rng.integers(0, 3, size=8)
    check(bname, "add_at", x, (rows, cols), np.asarray(1.5, dtype=dtype))        # 0-d array
    check(bname, "add_at", x, (rows, Ellipsis), _finite(rng, (3,), dtype))      # a row, broadcast
    be = _backend(bname)
    out = be.ns.add_at(be.from_host(x), (be.from_host(rows), be.from_host(cols)), 2)  # Python int
    want, _ = reference("add_at", x, (rows, cols), np.asarray(2, dtype=dtype))
    np.testing.assert_allclose(_host(be, out), want, rtol=1e-6)


@pytest.mark.parametrize("bname", BACKENDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_add_at_non_finite_and_empty(bname, dtype):
    rng = np.random.default_rng(8)
    x = _sprinkle(rng, _finite(rng, (6, 4), dtype))
    rows = rng.integers(0, 6, size=20)
    cols = rng.integers(0, 4, size=20)
    check(bname, "add_at", x, (rows, cols), _sprinkle(rng, _finite(rng, (20,), dtype)))
    empty = np.zeros(0, dtype=np.int64)
    check(bname, "add_at", x, (empty, empty), np.zeros(0, dtype))
    check(bname, "add_at", np.zeros((0, 2), dtype), (empty,), np.zeros((0, 2), dtype))


@pytest.mark.parametrize("bname", BACKENDS)
def test_add_at_bool_is_logical_or(bname):
    x = np.array([False, True, False, False])
    check(bname, "add_at", x, (np.array([0, 0, 1, 3]),), np.array([True, False, False, True]))


# ------------------------------------------------------------------------ sum_to

@pytest.mark.parametrize("bname", BACKENDS)
@pytest.mark.parametrize("shape,target", [
    ((4, 3), (3,)), ((4, 3), (1, 3)), ((4, 3), (4, 1)), ((2, 4, 3), (4, 1)), ((2, 4, 3), ()),
    ((2, 1, 3), (1, 3)), ((5,), (1,)), ((0, 3), (3,)), ((0, 3), (1, 3)), ((3, 0), (3, 1)),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sum_to(bname, shape, target, dtype):
    rng = np.random.default_rng(0)
    g = _sprinkle(rng, _finite(rng, shape, dtype), 0.1)
    lead = g.ndim - len(target)
    want = g.astype(np.float64).sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(target) if n == 1 and want.shape[i] != 1)
    want = want.sum(axis=axes, keepdims=True) if axes else want
    got = run_kernel(_backend(bname), "sum_to", g, target)
    assert got.shape == target
    np.testing.assert_allclose(got, want.astype(dtype), rtol=1e-5, atol=1e-5, equal_nan=True)


@pytest.mark.parametrize("bname", BACKENDS)
def test_sum_to_same_shape_is_x_and_bad_shape_is_an_error(bname):
    be = _backend(bname)
    g = be.from_host(np.ones((4, 3)))
    assert be.ns.sum_to(g, (4, 3)) is g
    for bad in [(5,), (2, 4, 3), (4, 2)]:
        with pytest.raises(ValueError, match=r"\(4, 3\).*" + repr(bad).replace("(", r"\(")
                           .replace(")", r"\)")):
            be.ns.sum_to(g, bad)


# ----------------------------------------------------------------------- getitem

@pytest.mark.parametrize("bname", BACKENDS)
def test_getitem(bname):
    be = _backend(bname)
    x = np.arange(36.0).reshape(3, 3, 4)
    idx = np.array([2, -1, 0])
    for key in [(idx, Ellipsis), (slice(None), idx), (0, idx, idx[:, None]), (Ellipsis, idx),
                (np.array([1, -2]), slice(None), idx[:2]), (np.array([True, False, True]),),
                (None, 1, idx)]:
        got = _host(be, be.ns.getitem(be.from_host(x), _conv(be, key)))
        np.testing.assert_array_equal(got, x[key], err_msg=f"{bname} {key}")
    with pytest.raises(IndexError):
        be.ns.getitem(be.from_host(x), (be.from_host(np.array([0, 3])), Ellipsis))


# ---------------------------------------------------- large inputs: not O(N * K)

@pytest.mark.parametrize("bname", ["std", "strict"])
def test_fallback_memory_is_linear(bname):
    """200k values into 1k slots: an (N, K) one-hot would take 800 MB in float32; the
    segment-sum stays within a few copies of its inputs (measured: ~7 MiB)."""
    be = _backend(bname)
    rng = np.random.default_rng(9)
    n, k = 200_000, 1_000
    index = rng.integers(0, k, size=n)
    values = rng.standard_normal(n).astype(np.float32)
    x = np.zeros(k, dtype=np.float32)
    args = (be.from_host(x), 0, be.from_host(index), be.from_host(values))
    tracemalloc.start()
    try:
        out = be.ns.index_add(*args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2 ** 20, f"peak {peak / 2 ** 20:.0f} MiB"
    want = np.bincount(index, weights=values.astype(np.float64), minlength=k)
    np.testing.assert_allclose(_host(be, out), want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("bname", ["std", "strict", "torch"])
def test_fallback_runs_where_one_hot_is_impossible(bname):
    """1M values into 1M slots: the one-hot matrix would have 10^12 entries."""
    be = _backend(bname)
    rng = np.random.default_rng(10)
    n = 1_000_000
    index = rng.integers(0, n, size=n)
    values = rng.integers(-3, 4, size=n).astype(np.float64)
    out = be.ns.add_at(be.from_host(np.zeros(n)), (be.from_host(index),), be.from_host(values))
    np.testing.assert_array_equal(_host(be, out), np.bincount(index, weights=values, minlength=n))


# -------------------------------------------------------- differential fuzzing

@st.composite
def _index_add_case(draw):
    nd = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=nd, max_size=nd)))
    dim = draw(st.integers(-nd, nd - 1))
    n = shape[dim]
    m = draw(st.integers(0, 8)) if n else 0
    index = np.array(draw(st.lists(st.integers(-n, n - 1), min_size=m, max_size=m)) if n else [],
                     dtype=np.int64)
    dtype = draw(st.sampled_from(["float32", "float64"]))
    floats = st.one_of(st.floats(-10, 10, width=32), st.sampled_from([INF, -INF, NAN, -0.0]))
    sshape = list(shape)
    sshape[dim] = m
    size = int(np.prod(sshape))
    source = np.array(draw(st.lists(floats, min_size=size, max_size=size)), dtype=dtype)
    x = np.array(draw(st.lists(floats, min_size=int(np.prod(shape)),
                               max_size=int(np.prod(shape)))), dtype=dtype)
    return x.reshape(shape), dim, index, source.reshape(sshape)


@given(_index_add_case())
def test_index_add_fuzz(case):
    x, dim, index, source = case
    for bname in ("cpu", "std", "strict"):
        check(bname, "index_add", x, dim, index, source)


@given(_index_add_case())
def test_add_at_fuzz(case):
    x, dim, index, source = case       # the same case, as an add_at key
    key = (slice(None),) * (dim % x.ndim) + (index, Ellipsis)
    for bname in ("cpu", "std", "strict"):
        check(bname, "add_at", x, key, source)


# -------------------------------------------------------------------- errors

@pytest.mark.parametrize("bname", BACKENDS)
def test_errors_name_what_was_expected_and_given(bname):
    be = _backend(bname)
    x = be.from_host(np.zeros((3, 2)))
    idx = be.from_host(np.array([0, 3]))
    with pytest.raises(IndexError, match=r"\[-3, 3\).*from 0 to 3"):
        be.ns.index_add(x, 0, idx, be.from_host(np.zeros((2, 2))))
    with pytest.raises(IndexError, match=r"\[-3, 3\)"):
        be.ns.scatter_add(x, 0, be.from_host(np.array([[0, -4]])), be.from_host(np.zeros((1, 2))))
    with pytest.raises(IndexError):
        be.ns.add_at(x, (idx,), 1.0)
    with pytest.raises(IndexError, match="dim 2"):
        be.ns.index_add(x, 2, be.from_host(np.array([0])), be.from_host(np.zeros((3, 1))))
    with pytest.raises(TypeError, match="float32.*float64"):
        be.ns.index_add(x, 0, be.from_host(np.array([0])),
                        be.from_host(np.zeros((1, 2), dtype=np.float32)))
    with pytest.raises(TypeError, match="integers"):
        be.ns.index_add(x, 0, be.from_host(np.array([0.0])), be.from_host(np.zeros((1, 2))))
    with pytest.raises(ValueError, match=r"\(1, 2\).*\(1, 3\)"):
        be.ns.index_add(x, 0, be.from_host(np.array([0])), be.from_host(np.zeros((1, 3))))
    with pytest.raises(ValueError, match=r"\(2, 5\)"):
        be.ns.scatter_add(x, 0, be.from_host(np.zeros((2, 5), dtype=np.int64)),
                          be.from_host(np.zeros((2, 5))))
    with pytest.raises(ValueError, match=r"\(4,\).*\(2,\)"):
        be.ns.add_at(x, (be.from_host(np.array([0, 1])), 0), be.from_host(np.zeros(4)))
    with pytest.raises(TypeError, match="complex"):
        be.ns.add_at(x, (idx,), 1j)


# --------------------------------------------------------------- the table itself

def _params(fn):
    return [p.name for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def test_table_methods_fallbacks_and_twins_agree():
    """Backward formulas call ``xp.<kernel>(...)`` on ``be.ns`` or on ``interop``: the
    kernel, its fallback and its twin take the same positional parameters (the twin may add
    keyword-only options with defaults)."""
    for name, k in KERNELS.items():
        params = k.signature[len(name) + 1:-1].split(", ")
        assert k.signature.startswith(name + "(")
        assert "unchanged" in k.semantics, name
        assert _params(getattr(Backend, name))[1:] == params, name
        assert _params(getattr(Backend, "_fallback_" + name))[1:] == params, name
        for bname in ("cpu", "std", "strict"):
            assert getattr(_backend(bname).ns, name) == getattr(_backend(bname), name)
        if k.twin is None:          # (called only on raw arrays: a backward's raw path)
            continue
        twin = getattr(it, k.twin.split(".", 1)[1])
        assert _params(twin) == params, (name, _params(twin))
        extra = [p for p in inspect.signature(twin).parameters.values() if p.name not in params]
        assert all(p.kind is p.KEYWORD_ONLY and p.default is not p.empty for p in extra), name


def test_twins_agree_with_kernels(be):
    """The differentiable twins give the kernels' results on tensors (the create_graph
    path of every backward that calls a kernel)."""
    x = it.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    i = it.tensor([2, -1, 0])
    v = it.tensor([[1.0, 10.0], [100.0, 1000.0], [0.5, 0.25]])
    ns = be.ns
    j = it.tensor([2, 2, 0])     # (interop.index_add refuses negative entries, as torch's)
    pairs = [(it.index_add(x, 0, j, v), ns.index_add(x._data, 0, j._data, v._data)),
             (it.scatter_add(x, 0, it.tensor([[0, 2], [0, 0]]), v),
              ns.scatter_add(x._data, 0, it.tensor([[0, 2], [0, 0]])._data, v._data)),
             (it.add_at(x, (i, 1), 2.0), ns.add_at(x._data, (i._data, 1), 2.0)),
             (it.sum_to(v, (1, 2)), ns.sum_to(v._data, (1, 2))),
             (it.getitem(x, (i, ...)), ns.getitem(x._data, (i._data, ...)))]
    for t, a in pairs:
        np.testing.assert_array_equal(to_np(t), np.asarray(be.to_host(a)))


def test_take_backward_with_negative_indices(be):
    x = it.tensor([1.0, 2.0, 3.0], requires_grad=True)
    it.take(x, it.tensor([-1, 0, -1])).sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [1.0, 0.0, 2.0])


def test_index_add_with_inf_on_every_backend(be):
    out = it.zeros(3).index_add(0, it.tensor([0]), it.tensor([INF]))
    np.testing.assert_array_equal(to_np(out), [INF, 0.0, 0.0])


def test_embedding_style_backward_is_linear(be):
    """The gradient of a lookup of 100k rows in a 1k x 8 table (take along dim 0) goes
    through index_add: fine on every backend, where a one-hot would need 100k x 1k."""
    rng = np.random.default_rng(12)
    w = it.tensor(rng.standard_normal((1000, 8)).tolist(), requires_grad=True)
    idx = rng.integers(0, 1000, size=100_000)
    it.index_select(w, 0, it.tensor(idx.tolist())).sum().backward()
    counts = np.bincount(idx, minlength=1000).astype(np.float32)
    np.testing.assert_array_equal(to_np(w.grad), np.repeat(counts[:, None], 8, axis=1))


# ------------------------------------------------------- registered kernels

def test_register_backend_rejects_bad_kernels():
    import array_api_compat.numpy as xp_np
    with pytest.raises(ValueError, match="'index_addd'.*index_add"):
        it.register_backend("bad-kernels", xp_np, kernels={"index_addd": lambda *a: None})
    with pytest.raises(TypeError, match="'add_at' \\(int\\)"):
        it.register_backend("bad-kernels", xp_np, kernels={"add_at": 3})
    with pytest.raises(TypeError, match=r"index_add\(x, dim, index, source\)"):
        it.register_backend("bad-kernels", xp_np, kernels={"index_add": lambda x, index: x})
    with pytest.raises(TypeError, match="dict"):
        it.register_backend("bad-kernels", xp_np, kernels=[_torch_index_add])
    with pytest.raises(TypeError, match="namespace"):
        it.register_backend("bad-kernels", Backend("x", xp_np),
                            kernels={"index_add": _torch_index_add})
    assert "bad-kernels" not in it.list_backends()


def test_registered_kernels_get_checked_arguments_and_results_are_checked():
    import array_api_compat.numpy as xp_np
    seen = []

    def index_add(x, dim, index, source):
        seen.append((dim, np.asarray(index).tolist(), source.dtype))
        return x + 0

    def sum_to(x, shape):
        return x + 0                                   # wrong: not reduced

    def scatter_add(x, dim, index, src):
        return x                                       # wrong: not a new array

    it.register_backend("recording", xp_np, kernels={"index_add": index_add, "sum_to": sum_to,
                                                     "scatter_add": scatter_add})
    try:
        be = it.get_backend("recording")
        assert be.kernel_paths["index_add"] == "registered"
        x = np.zeros((2, 3))
        be.ns.index_add(x, -2, np.array([-1, 0]), np.ones((2, 3)))
        assert seen == [(0, [1, 0], np.dtype("float64"))]
        with pytest.raises(RuntimeError, match=r"'sum_to'.*shape \(2, 3\).*\(3,\)"):
            be.ns.sum_to(x, (3,))
        with pytest.raises(RuntimeError, match=r"'scatter_add'.*input x itself"):
            be.ns.scatter_add(x, 0, np.zeros((1, 1), dtype=np.int64), np.ones((1, 1)))
    finally:
        it.backends._FACTORIES.pop("recording", None)
        it.backends._INSTANCES.pop("recording", None)


def test_out_of_range_keys_raise_where_the_library_would_clamp():
    """JAX clamps out-of-range gathers (CuPy wraps them around); the table says IndexError."""
    jnp = pytest.importorskip("jax.numpy")
    it.register_backend("test-kernels-jax", jnp)
    try:
        be = it.get_backend("test-kernels-jax")
        x = be.from_host(np.array([1.0, 2.0, 3.0], dtype=np.float32))
        idx = be.from_host(np.array([5, 0]))
        for call in (lambda: be.ns.getitem(x, (idx,)), lambda: be.ns.add_at(x, (idx,), 1.0),
                     lambda: be.ns.getitem(be.xp.reshape(x, (1, 3)), (0, idx))):
            with pytest.raises(IndexError, match="dimension .* size 3"):
                call()
        with it.use_backend(be):
            t = it.tensor([1.0, 2.0, 3.0])
            with pytest.raises(IndexError, match="size 3"):
                t[it.tensor([3])]
            np.testing.assert_array_equal(to_np(t[it.tensor([-1, 0])]), [3.0, 1.0])
    finally:
        it.backends._FACTORIES.pop("test-kernels-jax", None)
        it.backends._INSTANCES.pop("test-kernels-jax", None)


# ------------------------------------------------------------- windows / windows_add

def _windows_reference(x, kernel, stride, dilation):
    """The windows of x by explicit loops: (*lead, *kernel, *out)."""
    n = len(kernel)
    lead, size = x.shape[:x.ndim - n], x.shape[x.ndim - n:]
    out = tuple(max(0, (m - d * (k - 1) - 1) // s + 1)
                for m, k, s, d in zip(size, kernel, stride, dilation))
    res = np.zeros(lead + kernel + out, dtype=x.dtype)
    for k in np.ndindex(*kernel):
        for o in np.ndindex(*out):
            src = tuple(oi * s + ki * d for oi, ki, s, d in zip(o, k, stride, dilation))
            res[(Ellipsis,) + k + o] = x[(Ellipsis,) + src]
    return res


def _windows_add_reference(shape, cols, kernel, stride, dilation):
    out = cols.shape[len(shape):]
    acc = np.zeros(shape, dtype=_acc(cols.dtype))
    for k in np.ndindex(*kernel):
        for o in np.ndindex(*out):
            dst = tuple(oi * s + ki * d for oi, ki, s, d in zip(o, k, stride, dilation))
            acc[(Ellipsis,) + dst] += cols[(Ellipsis,) + k + o]
    return acc.astype(cols.dtype) if cols.dtype != bool else acc


WINDOWS = [
    # (x shape, kernel, stride, dilation)
    ((2, 3, 7), (3,), (1,), (1,)),
    ((2, 3, 7), (2,), (3,), (2,)),
    ((2, 3, 7, 6), (3, 2), (2, 1), (1, 2)),
    ((7, 6), (2, 2), (2, 2), (1, 1)),
    ((3, 5, 4, 6), (2, 1, 3), (1, 2, 2), (2, 1, 1)),
    ((2, 4, 5), (4, 5), (1, 1), (1, 1)),           # one window
    ((2, 2, 3), (4,), (1,), (1,)),                  # no window fits: empty
    ((0, 3, 5), (2,), (1,), (2,)),                  # empty lead dim
    ((2, 3, 8, 6), (2, 3), (2, 3), (1, 1)),         # windows tile the array
    ((2, 9), (3,), (2,), (3,)),                     # dilated, yet disjoint
]


@pytest.mark.parametrize("bname", BACKENDS)
@pytest.mark.parametrize("case", WINDOWS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_windows_and_windows_add_against_loops(bname, case, dtype):
    shape, kernel, stride, dilation = case
    be = _backend(bname)
    rng = np.random.default_rng(len(shape))
    x = _finite(rng, shape, dtype)
    xb = be.from_host(x)
    got = _host(be, be.ns.windows(xb, kernel, stride, dilation))
    want = _windows_reference(x, kernel, stride, dilation)
    assert got.shape == want.shape and got.dtype == x.dtype
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(_host(be, xb), x)
    cols = _finite(rng, want.shape, dtype)
    cb = be.from_host(cols)
    got = _host(be, be.ns.windows_add(shape, cb, kernel, stride, dilation))
    want = _windows_add_reference(shape, cols, kernel, stride, dilation)
    assert got.shape == shape and got.dtype == cols.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6 if dtype == "float32" else 1e-12)
    np.testing.assert_array_equal(_host(be, cb), cols)


@pytest.mark.parametrize("bname", ["cpu", "std", "strict"])
def test_windows_add_of_a_transposed_cols(bname):
    """cols laid out channel-major (a convolution's gradient arrives so)."""
    be = _backend(bname)
    rng = np.random.default_rng(7)
    for shape, kernel, stride, dilation in [((4, 3, 7, 6), (3, 2), (1, 2), (1, 1)),
                                            ((4, 3, 8, 6), (2, 2), (2, 2), (1, 1))]:
        want_shape = _windows_reference(np.zeros(shape), kernel, stride, dilation).shape
        cols = rng.standard_normal((want_shape[1], want_shape[0]) + want_shape[2:])
        cols = cols.transpose((1, 0) + tuple(range(2, cols.ndim)))
        got = _host(be, be.ns.windows_add(shape, be.from_host(cols), kernel, stride, dilation))
        np.testing.assert_allclose(got, _windows_add_reference(shape, cols, kernel, stride,
                                                               dilation), rtol=1e-12)


@pytest.mark.parametrize("bname", BACKENDS)
def test_windows_add_is_the_adjoint_of_windows(bname):
    """<windows(x), c> == <x, windows_add(c)>: each is the other's gradient."""
    be = _backend(bname)
    rng = np.random.default_rng(3)
    for shape, kernel, stride, dilation in WINDOWS[:6]:
        x = rng.standard_normal(shape)
        w = _windows_reference(x, kernel, stride, dilation)
        c = rng.standard_normal(w.shape)
        left = float((_host(be, be.ns.windows(be.from_host(x), kernel, stride, dilation)) * c)
                     .sum())
        right = float((x * _host(be, be.ns.windows_add(shape, be.from_host(c), kernel, stride,
                                                       dilation))).sum())
        assert math.isclose(left, right, rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize("bname", BACKENDS)
def test_windows_add_non_finite_and_bool(bname):
    be = _backend(bname)
    rng = np.random.default_rng(4)
    shape, kernel, stride, dilation = (2, 9, 8), (3, 2), (2, 3), (1, 2)
    for dtype in ("float32", "float64"):
        cols = _sprinkle(rng, _finite(rng, (2, 3, 2, 4, 2), dtype))
        got = _host(be, be.ns.windows_add(shape, be.from_host(cols), kernel, stride, dilation))
        want = _windows_add_reference(shape, cols, kernel, stride, dilation)
        np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True)
        touched = _windows_add_reference(shape, np.ones(cols.shape, bool), kernel, stride,
                                         dilation)
        assert (got[~touched] == 0).all() and not np.signbit(got[~touched]).any()
    cols = rng.random((2, 3, 2, 4, 2)) < 0.3
    got = _host(be, be.ns.windows_add(shape, be.from_host(cols), kernel, stride, dilation))
    np.testing.assert_array_equal(got, _windows_add_reference(shape, cols, kernel, stride,
                                                              dilation))


@pytest.mark.parametrize("bname", BACKENDS)
def test_windows_errors_name_what_was_given(bname):
    be = _backend(bname)
    x = be.from_host(np.zeros((2, 5, 6)))
    with pytest.raises(ValueError, match=r"1 <= n <= 3.*kernel \(1, 1, 1, 1\)"):
        be.ns.windows(x, (1, 1, 1, 1), (1, 1, 1, 1), (1, 1, 1, 1))
    with pytest.raises(ValueError, match=r"one length.*stride \(1,\)"):
        be.ns.windows(x, (2, 2), (1,), (1, 1))
    with pytest.raises(ValueError, match=r"positive.*dilation \(0, 1\)"):
        be.ns.windows(x, (2, 2), (1, 1), (0, 1))
    with pytest.raises(TypeError, match="kernel must be a tuple of ints, got 2"):
        be.ns.windows(x, 2, (1,), (1,))
    with pytest.raises(ValueError, match=r"cols must have shape \(2, 2, 2, 4, 5\).*\(2, 2, 2, 5, 5\)"):
        be.ns.windows_add((2, 5, 6), be.from_host(np.zeros((2, 2, 2, 5, 5))), (2, 2), (1, 1),
                          (1, 1))
    with pytest.raises(ValueError, match="negative size"):
        be.ns.windows_add((2, -1), be.from_host(np.zeros((2, 1, 0))), (1,), (1,), (1,))


def test_registered_windows_kernels_are_checked():
    import array_api_compat.numpy as xp_np
    it.register_backend("bad-windows", xp_np, kernels={
        "windows": lambda x, kernel, stride, dilation: x,
        "windows_add": lambda shape, cols, kernel, stride, dilation: np.zeros(shape, np.float32)})
    try:
        be = it.get_backend("bad-windows")
        assert be.kernel_paths["windows"] == be.kernel_paths["windows_add"] == "registered"
        with pytest.raises(RuntimeError, match=r"'windows'.*input x itself.*\(2, 2, 3\)"):
            be.ns.windows(np.zeros((2, 4)), (2,), (1,), (1,))
        with pytest.raises(RuntimeError, match=r"'windows_add'.*float32.*float64"):
            be.ns.windows_add((2, 4), np.zeros((2, 2, 3)), (2,), (1,), (1,))
    finally:
        it.backends._FACTORIES.pop("bad-windows", None)
        it.backends._INSTANCES.pop("bad-windows", None)


def test_each_kernel_says_how_its_result_is_checked():
    """The result checks of registered kernels are data in the table (``Kernel.result``),
    applied by one wrapper: every kernel whose result has a fixed shape refuses a wrong
    one, names itself and what it expected; getitem's shape depends on the key, so its
    result is not checked; sum_to refuses a shape x cannot be summed to before the call."""
    import array_api_compat.numpy as xp_np
    for name, k in KERNELS.items():
        params = k.signature[len(name) + 1:-1].split(", ")
        if k.result is not None:
            inspect.signature(k.result).bind(*params)       # (a TypeError if it cannot)
    assert [n for n, k in KERNELS.items() if k.result is None] == ["getitem"]
    called = []

    def wrong(*args):
        called.append(True)
        return np.zeros((7,), dtype=np.float32)

    calls = {
        "getitem": lambda ns: ns.getitem(np.arange(6.0), (np.array([1, 2]),)),
        "add_at": lambda ns: ns.add_at(np.zeros((3, 2)), (np.array([0, 2]),), 1.0),
        "index_add": lambda ns: ns.index_add(np.zeros((3, 2)), 0, np.array([0, 2]),
                                             np.ones((2, 2))),
        "scatter_add": lambda ns: ns.scatter_add(np.zeros((3, 2)), 0, np.array([[0, 2]]),
                                                 np.ones((1, 2))),
        "sum_to": lambda ns: ns.sum_to(np.ones((2, 3)), (3,)),
        "windows": lambda ns: ns.windows(np.ones((2, 5)), (2,), (1,), (1,)),
        "windows_add": lambda ns: ns.windows_add((2, 5), np.ones((2, 2, 4)), (2,), (1,), (1,)),
        # the activations
        "relu": lambda ns: ns.relu(np.ones((2, 3))),
        "relu_backward": lambda ns: ns.relu_backward(np.ones((2, 3)), np.ones((2, 3))),
        "sigmoid": lambda ns: ns.sigmoid(np.ones((2, 3))),
        "sigmoid_backward": lambda ns: ns.sigmoid_backward(np.ones((2, 3)), np.ones((2, 3))),
        "silu": lambda ns: ns.silu(np.ones((2, 3))),
        "silu_backward": lambda ns: ns.silu_backward(np.ones((2, 3)), np.ones((2, 3))),
        "gelu": lambda ns: ns.gelu(np.ones((2, 3)), "tanh"),
        "gelu_backward": lambda ns: ns.gelu_backward(np.ones((2, 3)), np.ones((2, 3)), "none"),
        "class_cross_entropy": lambda ns: ns.class_cross_entropy(np.ones((2, 3)),
                                                                 np.array([0, 2]), -100, "none"),
        "class_cross_entropy_backward": lambda ns: ns.class_cross_entropy_backward(
            np.ones(()), np.ones((2, 3)), np.array([0, 2]), -100, "mean"),
    }
    calls.update({      # softmax rows (issue 29)
        "softmax": lambda ns: ns.softmax(np.ones((2, 3)), 1),
        "log_softmax": lambda ns: ns.log_softmax(np.ones((2, 3)), 1),
        "softmax_backward": lambda ns: ns.softmax_backward(np.ones((2, 3)), np.ones((2, 3)), 1),
        "log_softmax_backward": lambda ns: ns.log_softmax_backward(np.ones((2, 3)),
                                                                   np.ones((2, 3)), 1),
    })
    calls.update({      # the normalization of rows (issue 29): tuples of three arrays
        "normalize_rows": lambda ns: ns.normalize_rows(np.ones((2, 1, 3)), None, None, 1e-5),
        "normalize_rows_backward": lambda ns: ns.normalize_rows_backward(
            np.ones((2, 1, 3)), np.ones((2, 1, 3)), None, np.zeros(2), np.ones(2), (1, 1, 3)),
        "normalize_channels": lambda ns: ns.normalize_channels(np.ones((2, 2, 3)), None, None,
                                                               1e-5),
        "normalize_channels_backward": lambda ns: ns.normalize_channels_backward(
            np.ones((2, 2, 3)), np.ones((2, 2, 3)), None, np.zeros(2), np.ones(2)),
    })
    f32 = lambda *shape: np.ones(shape, np.float32)      # noqa: E731
    calls.update({      # the LSTM's time loop (issue 29): tuples of three and four
        "lstm_scan": lambda ns: ns.lstm_scan(f32(3, 8), f32(2, 2), f32(2, 2), f32(8, 2), None,
                                             (2, 1), False, False),
        "lstm_scan_backward": lambda ns: ns.lstm_scan_backward(
            f32(3, 2), f32(2, 2), f32(2, 2), f32(3, 8), f32(3, 2), f32(3, 2), None, f32(8, 2),
            None, (2, 1), True, False, False),
        "batch_to_front": lambda ns: ns.batch_to_front(np.ones((2, 3, 4)), np.ones(2)),
        "batch_to_back": lambda ns: ns.batch_to_back(np.ones((2, 3, 4))),
        "windows_add_product": lambda ns: ns.windows_add_product(
            (2, 1, 3, 3), np.ones((4, 2)), np.ones((2, 8)), (2, 2), (1, 1), (1, 1)),
        "windows_product": lambda ns: ns.windows_product(
            np.ones((3, 4)), np.ones((2, 1, 3, 3)), (2, 2), (1, 1), (1, 1)),
        "product_windows": lambda ns: ns.product_windows(
            np.ones((3, 8)), np.ones((2, 1, 3, 3)), (2, 2), (1, 1), (1, 1)),
    })
    calls.update({      # max pooling's windows (issue 29): a tuple of two, and one array
        "window_argmax": lambda ns: ns.window_argmax(np.ones((2, 4, 4)), (2, 2), (2, 2), (1, 1),
                                                     (0, 0), (2, 2)),
        "window_argmax_add": lambda ns: ns.window_argmax_add(
            (2, 4, 4), np.ones((2, 2, 2)), np.zeros((2, 2, 2), np.int8), (2, 2), (2, 2),
            (1, 1), (0, 0)),
    })
    assert set(calls) == set(KERNELS)
    it.register_backend("wrong-results", xp_np, kernels={n: wrong for n in KERNELS})
    try:
        ns = it.get_backend("wrong-results").ns
        for name, call in calls.items():
            if KERNELS[name].result is None:
                assert call(ns).shape == (7,)
                continue
            if name.startswith(("normalize_", "lstm_")) or name == "window_argmax":
                n_out = {"normalize_channels": 4, "lstm_scan_backward": 4,
                         "window_argmax": 2}.get(name, 3)      # (results: tuples)
                with pytest.raises(RuntimeError, match=rf"kernel '{name}' registered for "
                                   rf"backend 'wrong-results' returned ndarray; expected a "
                                   rf"tuple of {n_out} new arrays"):
                    call(ns)
                continue
            with pytest.raises(RuntimeError, match=rf"kernel '{name}' registered for backend "
                                                   rf"'wrong-results' returned ndarray of shape "
                                                   rf"\(7,\) and dtype float32; expected"):
                call(ns)
        called.clear()
        with pytest.raises(ValueError, match=r"cannot sum an array of shape \(2, 3\) to shape "
                                             r"\(2,\)"):
            ns.sum_to(np.ones((2, 3)), (2,))
        assert called == []
    finally:
        it.backends._FACTORIES.pop("wrong-results", None)
        it.backends._INSTANCES.pop("wrong-results", None)
    # one wrong array inside a tuple result is named too
    good = it.get_backend("cpu").normalize_rows
    it.register_backend("wrong-results", xp_np, kernels={
        "normalize_rows": lambda x, w, b, eps: good(x, w, b, eps)[:2] + (np.zeros(5),)})
    try:
        with pytest.raises(RuntimeError, match=r"kernel 'normalize_rows' registered for backend "
                                               r"'wrong-results' returned ndarray of shape "
                                               r"\(5,\) and dtype float64; expected a new "
                                               r"array of shape \(2,\)"):
            it.get_backend("wrong-results").ns.normalize_rows(np.ones((2, 1, 3)), None, None,
                                                              1e-5)
    finally:
        it.backends._FACTORIES.pop("wrong-results", None)
        it.backends._INSTANCES.pop("wrong-results", None)


def test_windows_add_on_a_namespace_without_item_assignment():
    """JAX arrays take no item assignment: the fallback spreads each offset with zeros."""
    jnp = pytest.importorskip("jax.numpy")
    it.register_backend("test-windows-jax", jnp)
    try:
        be = it.get_backend("test-windows-jax")
        assert not be.mutable
        rng = np.random.default_rng(5)
        for shape, kernel, stride, dilation in (WINDOWS[2], WINDOWS[6]):
            want = _windows_reference(np.zeros(shape), kernel, stride, dilation)
            cols = rng.standard_normal(want.shape).astype(np.float32)
            got = _host(be, be.ns.windows_add(shape, be.from_host(cols), kernel, stride, dilation))
            np.testing.assert_allclose(got, _windows_add_reference(shape, cols, kernel, stride,
                                                                   dilation), rtol=1e-5,
                                       atol=1e-5)
    finally:
        it.backends._FACTORIES.pop("test-windows-jax", None)
        it.backends._INSTANCES.pop("test-windows-jax", None)


def test_windows_twins_agree_and_differentiate(be):
    """The twins give the kernels' results and are each other's gradients, to second order
    (gradcheck and gradgradcheck in float64)."""
    rng = np.random.default_rng(6)
    x = it.asarray(rng.standard_normal((2, 3, 6, 5))).requires_grad_()
    args = ((3, 2), (2, 1), (1, 2))
    w = it.windows(x, *args)
    np.testing.assert_array_equal(to_np(w), np.asarray(be.to_host(be.ns.windows(x._data, *args))))
    c = it.asarray(rng.standard_normal(tuple(w.shape))).requires_grad_()
    np.testing.assert_array_equal(to_np(it.windows_add((2, 3, 6, 5), c, *args)),
                                  np.asarray(be.to_host(be.ns.windows_add((2, 3, 6, 5), c._data,
                                                                          *args))))
    small = it.asarray(rng.standard_normal((1, 2, 4, 4))).requires_grad_()
    assert it.autograd.gradcheck(lambda t: it.windows(t, *args) ** 2, (small,))
    assert it.autograd.gradgradcheck(lambda t: it.windows(t, *args) ** 2, (small,))
    cs = it.asarray(rng.standard_normal((1, 2, 3, 2, 1, 2))).requires_grad_()
    assert it.autograd.gradcheck(lambda t: it.windows_add((1, 2, 4, 4), t, *args) ** 2, (cs,))
    assert it.autograd.gradgradcheck(lambda t: it.windows_add((1, 2, 4, 4), t, *args) ** 2, (cs,))


def test_windows_twin_refuses_writes_and_sees_in_place_changes(be):
    x = it.arange(12.0).reshape(3, 4).requires_grad_()
    y = x * 1
    w = it.windows(y, (2,), (1,), (1,))
    with pytest.raises(RuntimeError, match="read-only"):
        w.add_(1)
    z = (w * w).sum()
    y.mul_(2)
    with pytest.raises(RuntimeError):
        z.backward()


# ------------------------------------------------- the NumPy backend's large-array paths

def test_numpy_accumulating_kernels_on_many_values_agree_with_the_fallbacks():
    """Past SEGMENT_FROM added values the NumPy backend sums repeated positions by sort and
    reduceat: the same sums as np.add.at (and the standard-only fallback), inf and nan kept
    where they are added, untouched positions (a -0.0 among them) bit for bit."""
    cpu, std = it.get_backend("cpu"), _backend("std")
    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float64, np.int64, np.bool_):
        x = (rng.standard_normal((60, 5)) * 4).astype(dt)
        if dt == np.float32:
            x[59] = -0.0
        idx = rng.integers(0, 50, 3000)
        src = (rng.standard_normal((3000, 5)) * 4).astype(dt)
        if dt == np.float64:
            src[7, 1], src[9, 2] = INF, NAN
        ref = x.copy()
        np.add.at(ref, idx, src)
        for be in (cpu, std):
            got = np.asarray(be.index_add(be.xp.asarray(x), 0, be.xp.asarray(idx),
                                          be.xp.asarray(src)))
            np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-4)
            assert np.array_equal(np.isnan(got), np.isnan(ref))
        if dt == np.float32:
            assert np.signbit(got[59]).all()
        index = rng.integers(0, 60, (900, 5))
        big = (rng.standard_normal((950, 7)) * 4).astype(dt)
        ref = x.copy()
        np.add.at(ref, cpu._scatter_coords(0, index), big[:900, :5])
        got = cpu.scatter_add(x, 0, index, big)
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "bool", "float16"])
def test_numpy_where_on_large_arrays_is_np_where(dtype):
    """The NumPy backend's bit-mask where picks exactly np.where's elements (NaN payloads,
    signed zeros and all)."""
    xp = it.get_backend("cpu").xp
    rng = np.random.default_rng(1)
    shape = (70, 90)                      # past SELECT_FROM elements
    a = (rng.standard_normal(shape) * 5).astype(dtype)
    b = (rng.standard_normal(shape) * 5).astype(dtype)
    if dtype.startswith("float"):
        a[0, :3] = [np.nan, -0.0, np.inf]
        b[0, :3] = [-0.0, np.nan, -np.inf]
    c = rng.random(shape) < 0.5
    got = xp.where(c, a, b)
    ref = np.where(c, a, b)
    assert got.dtype == ref.dtype and got.shape == ref.shape
    assert np.array_equal(got.view(np.uint8), ref.view(np.uint8))
    assert np.array_equal(xp.where(c[:1], a, b), np.where(c[:1], a, b), equal_nan=True)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "uint16", "int64", "bool"])
@pytest.mark.parametrize("zero", [0, 0.0, -0.0])
def test_numpy_where_with_a_zero_branch_is_np_where(dtype, zero):
    """The ReLU form, ``where(c, 0, x)`` and ``where(c, x, 0)``: the one-``and`` select gives
    np.where's bits (a -0.0 branch, a bool x and a float zero with an integer x go the
    general way)."""
    xp = it.get_backend("cpu").xp
    rng = np.random.default_rng(2)
    shape = (70, 90)
    x = (rng.standard_normal(shape) * 5).astype(dtype)
    if dtype.startswith("float"):
        x[0, :4] = [np.nan, -0.0, np.inf, -np.nan]
    c = x < 0 if dtype != "bool" else rng.random(shape) < 0.5
    for got, ref in ((xp.where(c, zero, x), np.where(c, zero, x)),
                     (xp.where(c, x, zero), np.where(c, x, zero))):
        assert got.dtype == ref.dtype and got.shape == ref.shape
        assert np.array_equal(got.view(np.uint8), ref.view(np.uint8))


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "int64"])
def test_index_add_into_broadcast_zero_rows(dtype):
    """An embedding's gradient: rows added into a broadcast +0 table (the cpu backend writes
    into fresh zeros instead of copying the broadcast): same bits as zeros + np.add.at,
    -0.0 sums included, on every backend."""
    rng = np.random.default_rng(11)
    index = rng.integers(0, 700, size=2_000)
    index[:40] = 5                                  # one long run past the rank passes
    source = _finite(rng, (2_000, 6), dtype)
    if np.dtype(dtype).kind in "fc":
        source[rng.random(2_000) < 0.3] = -0.0      # rows of -0.0: +0 + -0 is +0
    for bname in ("cpu", "std", "strict"):
        be = _backend(bname)
        zero = be.ns.broadcast_to(be.ns.zeros((), dtype=be.from_host(source).dtype), (700, 6))
        got = _host(be, be.ns.index_add(zero, 0, be.from_host(index), be.from_host(source)))
        want, _ = reference("index_add", np.zeros((700, 6), dtype), 0, index, source)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=bname)
        untouched = np.ones(700, bool)
        untouched[index] = False
        assert not np.signbit(np.real(got[untouched])).any(), bname
        once = np.bincount(index, minlength=700) == 1
        np.testing.assert_array_equal(got[once].view(np.uint8),
                                      want[once].view(np.uint8), err_msg=bname)
