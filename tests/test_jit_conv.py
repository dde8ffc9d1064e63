"""The cpu backend's compiled col2im (interop/backends/_jit_conv.py) against its reference,
NumPy's ``windows_add`` (the compiled path turned off): the same sums, bit for bit, on every
layout a caller hands it, with non-finite values; ``None`` where it does not apply."""

import itertools
import math

import numpy as np
import pytest

import interop as it
from interop.backends import _jit

pytestmark = pytest.mark.skipif(not _jit.available(), reason="numba is not installed")

if _jit.available():
    from interop.backends import _jit_conv


def _reference(shape, cols, kernel, stride, dilation):
    be = it.get_backend("cpu")
    prev = _jit.set_enabled(False)
    try:
        with np.errstate(invalid="ignore"):         # inf + -inf
            return be.ns.windows_add(shape, cols, kernel, stride, dilation)
    finally:
        _jit.set_enabled(prev)


def _counts(shape, kernel, stride, dilation):
    n = len(kernel)
    return tuple((m - d * (k - 1) - 1) // s + 1
                 for m, k, s, d in zip(shape[-n:], kernel, stride, dilation))


CASES = [
    # (shape, kernel, stride, dilation)
    ((2, 3, 7, 6), (3, 3), (1, 1), (1, 1)),        # overlapping windows
    ((2, 3, 8, 6), (2, 3), (2, 3), (1, 1)),        # windows tile the array
    ((2, 3, 9, 8), (2, 2), (3, 3), (1, 1)),        # gaps between windows
    ((1, 4, 9, 10), (3, 2), (2, 1), (2, 3)),       # stride and dilation
    ((3, 11), (3, 2), (1, 2), (1, 1)),              # one lead dim
    ((7, 6), (2, 2), (1, 1), (1, 1)),               # none
    ((2, 2, 2, 6, 5), (2, 3), (1, 1), (1, 1)),      # three lead dims
    ((2, 3, 12), (3,), (2,), (2,)),                 # 1-d windows
    ((12,), (4,), (4,), (1,)),
]


def _disjoint(counts, kernel, stride, dilation):
    """Whether no two windows share a position (the reference then assigns, not adds): no
    offset difference t moves by a whole number of strides that another window starts at."""
    return all(all((t * d) % s or t * d // s >= o for t in range(1, k))
               for o, k, s, d in zip(counts, kernel, stride, dilation))


def _layouts(cols, lead):
    """cols as it is, laid out channel-major as a convolution's input gradient arrives
    ((C, *kernel, N, *out) in memory), and reversed in memory."""
    yield "row-major", cols
    n = (cols.ndim - lead) // 2
    if lead == 2:
        major = np.ascontiguousarray(cols.transpose(1, *range(2, n + 2), 0,
                                                    *range(n + 2, 2 * n + 2)))
        yield "channel-major", major.transpose(n + 1, 0, *range(1, n + 1),
                                               *range(n + 2, 2 * n + 2))
        # (C, *kernel, *out, N) in memory: the batch-innermost column order
        inner = np.ascontiguousarray(np.moveaxis(cols, 0, -1))
        yield "batch-inner", np.moveaxis(inner, -1, 0)
    yield "reversed", np.asfortranarray(cols)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-k{c[1]}-s{c[2]}-d{c[3]}")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_compiled_col2im_equals_the_reference(case, dtype):
    shape, kernel, stride, dilation = case
    n = len(kernel)
    lead = len(shape) - n
    cshape = tuple(shape[:lead]) + kernel + _counts(shape, kernel, stride, dilation)
    cols = np.random.default_rng(0).standard_normal(cshape).astype(dtype)
    flat = cols.reshape(-1)
    flat[::7] = np.nan
    flat[3::11] = np.inf
    flat[5::13] = -np.inf
    flat[2::17] = -0.0
    for name, c in _layouts(cols, lead):
        got = _jit_conv.windows_add(shape, c, kernel, stride, dilation)
        want = _reference(shape, c, kernel, stride, dilation)
        assert got.shape == want.shape == shape and got.dtype == want.dtype, name
        np.testing.assert_array_equal(got, want, err_msg=name)
        if not _disjoint(cshape[lead + n:], kernel, stride, dilation):
            # both paths add to zeros there: the signs of zero sums agree too
            zero = want == 0
            np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(want[zero]),
                                          err_msg=name)


def test_compiled_col2im_batch_inner_calls_its_kernel(monkeypatch):
    """The batch-innermost layout runs the kernel written for it (a spy sees the call), and
    its result is C-contiguous in the shape asked for."""
    calls = []
    real = _jit_conv._col2im_lead_inner
    monkeypatch.setattr(_jit_conv, "_col2im_lead_inner", lambda *a: calls.append(1) or real(*a))
    cols = np.moveaxis(np.ones((3, 2, 2, 4, 5, 6), np.float32), -1, 0)   # (N=6, C=3, ...)
    got = _jit_conv.windows_add((6, 3, 5, 6), cols, (2, 2), (1, 1), (1, 1))
    assert calls == [1] and got.flags.c_contiguous and got.shape == (6, 3, 5, 6)
    np.testing.assert_array_equal(got, _reference((6, 3, 5, 6), cols, (2, 2), (1, 1), (1, 1)))


def test_the_backend_runs_the_compiled_col2im_where_enabled(monkeypatch):
    """With the compiled path on, the cpu backend's windows_add is the compiled one (a spy
    sees the call); turned off, it is not called."""
    calls = []
    real = _jit_conv.windows_add
    monkeypatch.setattr(_jit_conv, "windows_add", lambda *a: calls.append(1) or real(*a))
    cols = np.ones((2, 3, 3, 3, 4, 4), np.float32)
    be = it.get_backend("cpu")
    prev = _jit.set_enabled(True)
    try:
        on = be.ns.windows_add((2, 3, 6, 6), cols, (3, 3), (1, 1), (1, 1))
        assert calls == [1]
        _jit.set_enabled(False)
        off = be.ns.windows_add((2, 3, 6, 6), cols, (3, 3), (1, 1), (1, 1))
        assert calls == [1]
    finally:
        _jit.set_enabled(prev)
    np.testing.assert_array_equal(on, off)
    assert on[0, 0, 2, 2] == 9 and on[0, 0, 0, 0] == 1


@pytest.mark.parametrize("shape, cols", [
    ((1, 2, 4, 4, 4), np.ones((1, 2, 2, 2, 2, 3, 3, 3), np.float32)),    # 3-d windows
    ((2, 4, 4), np.ones((2, 2, 2, 3, 3), np.int64)),                      # integers
    ((2, 4, 4), np.ones((2, 2, 2, 3, 3), bool)),                          # masks
    ((2, 4, 4), np.ones((2, 2, 2, 3, 3), np.complex64)),
    ((0, 4, 4), np.ones((0, 2, 2, 3, 3), np.float32)),                    # empty
])
def test_compiled_col2im_declines_what_it_does_not_handle(shape, cols):
    """None, so that the backend runs the reference (which the kernel tests check)."""
    n = 3 if len(shape) == 5 else 2
    assert _jit_conv.windows_add(shape, cols, (2,) * n, (1,) * n, (1,) * n) is None


def test_lead_dims_that_do_not_merge_are_copied_first():
    """Three lead dims whose first two are not one stride apart (no view merges them): the
    reference's sums all the same."""
    base = np.random.default_rng(1).standard_normal((3, 2, 2, 2, 2, 5, 5)).astype(np.float32)
    cols = base.transpose(1, 0, 2, 3, 4, 5, 6)       # lead (2, 3, 2), kernel (2, 2), out (5, 5)
    shape = (2, 3, 2, 6, 6)
    got = _jit_conv.windows_add(shape, cols, (2, 2), (1, 1), (1, 1))
    np.testing.assert_array_equal(got, _reference(shape, cols, (2, 2), (1, 1), (1, 1)))
    for idx in itertools.product(range(2), range(3), range(2)):     # each plane its own sums
        np.testing.assert_array_equal(
            got[idx], _reference((6, 6), cols[idx], (2, 2), (1, 1), (1, 1)))


# ---- batch_to_front: a convolution's output from its matmul's (O, L, N) to (N, O, L), the
# bias added, compiled, against the standard-only fallback

def _fallback(name, *args):
    return getattr(it.get_backend("cpu"), "_fallback_" + name)(*args)


def _special(shape, dtype, seed):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    flat = a.reshape(-1)
    flat[::7] = np.nan
    flat[3::11] = np.inf
    flat[5::13] = -np.inf
    flat[2::17] = -0.0
    flat[4::19] = np.finfo(dtype).max
    return a


@pytest.mark.parametrize("shape", [(3, 5, 4), (64, 121, 64), (2, 1, 1), (1, 300, 3)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("strided", [False, True])
def test_compiled_batch_to_front_equals_the_reference(shape, dtype, bias, strided):
    """out[n, a, m] = x[a, m, n] (+ bias[a]) bit for bit (-0.0 kept where there is no bias,
    NaN, inf and overflow as x + bias gives them), from any layout of x."""
    x = _special(shape, dtype, 0)
    if strided:
        x = np.asfortranarray(x)
    b = _special((shape[0],), dtype, 1) if bias else None
    got = _jit_conv.batch_to_front(x, b)
    with np.errstate(invalid="ignore", over="ignore"):
        want = _fallback("batch_to_front", x, b)
    assert got.shape == want.shape == (shape[2], shape[0], shape[1])
    assert got.dtype == want.dtype and got.flags.c_contiguous
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize("threads", [1, 2])
def test_batch_to_front_shared_by_threads(monkeypatch, threads):
    """float32 rows shared by the team's threads (parts of rows): the same bits as alone."""
    from threadpoolctl import threadpool_limits
    monkeypatch.setattr(_jit_conv, "SPLIT", 1)
    with threadpool_limits(limits=threads, user_api="blas"):       # (the team's count)
        for shape, bias in (((64, 121, 64), True), ((7, 5, 3), False), ((1, 4, 4), True)):
            x = _special(shape, "float32", 0)
            b = _special((shape[0],), "float32", 1) if bias else None
            with np.errstate(invalid="ignore", over="ignore"):
                want = _fallback("batch_to_front", x, b)
            np.testing.assert_array_equal(_jit_conv.batch_to_front(x, b), want)


@pytest.mark.parametrize("args", [
    (np.ones((2, 3, 0), np.float32), None),
    (np.ones((2, 3, 4), np.int64), np.ones(2, np.int64)),
    (np.ones((2, 3, 4), np.complex64), None),
], ids=["empty", "int64", "complex64"])
def test_compiled_batch_to_front_declines_what_it_does_not_handle(args):
    """None (empty arrays, integers, complex): the backend then runs NumPy's copy, which
    agrees with the fallback."""
    assert _jit_conv.batch_to_front(*args) is None
    got = it.get_backend("cpu").ns.batch_to_front(*args)
    want = _fallback("batch_to_front", *args)
    assert got.shape == want.shape and got.dtype == want.dtype and got.flags.c_contiguous
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("bias", [True, False])
def test_the_backend_runs_the_compiled_batch_to_front_where_enabled(monkeypatch, bias):
    """With the compiled path on, the cpu backend's batch_to_front is the compiled one (a
    spy sees the call); turned off, NumPy's copy runs, with the same result."""
    calls = []
    real = _jit_conv.batch_to_front
    monkeypatch.setattr(_jit_conv, "batch_to_front", lambda *a: calls.append(1) or real(*a))
    x = np.random.default_rng(4).standard_normal((4, 6, 5)).astype(np.float32)
    x[1, 2, 3] = -0.0
    b = np.arange(4, dtype=np.float32) if bias else None
    ns = it.get_backend("cpu").ns
    prev = _jit.set_enabled(True)
    try:
        on = ns.batch_to_front(x, b)
        assert calls == [1]
        _jit.set_enabled(False)
        off = ns.batch_to_front(x, b)
        assert calls == [1]
    finally:
        _jit.set_enabled(prev)
    assert off.flags.c_contiguous
    np.testing.assert_array_equal(on, off)
    np.testing.assert_array_equal(np.signbit(on), np.signbit(off))


@pytest.mark.parametrize("shape", [(3, 5, 4), (4, 8, 128), (3, 4, 256), (2, 1, 1024),
                                   (1, 16, 64), (0, 3, 4), (3, 0, 5)],
                         ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("strided", [False, True])
def test_batch_to_back_equals_the_reference(shape, dtype, strided):
    """(N, A, M) -> (A, M, N), the same elements as the reference's copy, C-contiguous:
    samples 4 KiB apart (float32 (3, 4, 256), float64 (4, 8, 128), (2, 1, 1024)), spread
    before the move, and every other layout."""
    x = (np.arange(math.prod(shape)).reshape(shape) if dtype == "int64"
         else _special(shape, dtype, 2))
    if strided:
        x = np.flip(x, axis=2)
    got = it.get_backend("cpu").ns.batch_to_back(x)
    want = _fallback("batch_to_back", x)
    assert got.shape == want.shape == (shape[1], shape[2], shape[0])
    assert got.dtype == x.dtype and got.flags.c_contiguous
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def test_batch_to_back_checks_its_arguments():
    ns = it.get_backend("cpu").ns
    with pytest.raises(ValueError, match=r"batch_to_back: expected an array x of 3 dims, got "
                                         r"shape \(2, 3\)"):
        ns.batch_to_back(np.ones((2, 3), np.float32))


def test_batch_to_front_checks_its_arguments():
    ns = it.get_backend("cpu").ns
    with pytest.raises(ValueError, match=r"batch_to_front: expected an array x of 3 dims, got "
                                         r"shape \(2, 3\)"):
        ns.batch_to_front(np.ones((2, 3), np.float32), None)
    with pytest.raises(ValueError, match=r"batch_to_front: bias must be None or an \(2,\) "
                                         r"array of x's dtype float32"):
        ns.batch_to_front(np.ones((2, 3, 4), np.float32), np.ones(3, np.float32))
    with pytest.raises(ValueError, match=r"batch_to_front: bias must be None"):
        ns.batch_to_front(np.ones((2, 3, 4), np.float32), np.ones(2, np.float64))


# ---- summed_products: the weight gradient of a convolution whose products run per sample

def _summed_reference(a, b):
    """``sum_n a[n] @ b[n]^T`` in float64 (what the compiled sums are held against)."""
    return np.einsum("nmp,nkp->mk", a.astype(np.float64), b.astype(np.float64))


@pytest.mark.parametrize("shape", [(64, 32, 676, 10), (8, 5, 7, 3), (9, 7, 33, 9),
                                   (9, 1, 5, 1), (3, 3, 1, 2), (16, 6, 40, 64), (8, 4, 0, 2)],
                         ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_summed_products_equal_the_sums(shape, dtype):
    """Every shape of rows and columns (blocks of 4 x 2 and what is left of them, one row,
    one column, an empty shared dim) against the float64 sums, within the dtype's rounding;
    the samples' parts where there are at least SUM_PARTS of them."""
    n, m, p, k = shape
    rng = np.random.default_rng(sum(shape))
    a = rng.standard_normal((n, m, p)).astype(dtype)
    b = rng.standard_normal((n, k, p)).astype(dtype)
    got = _jit_conv.summed_products(a, b)
    assert got.shape == (m, k) and got.dtype == a.dtype
    tol = 1e-4 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, _summed_reference(a, b), rtol=tol, atol=tol * max(1, p))
    np.testing.assert_allclose(got, np.tensordot(a, b, axes=([0, 2], [0, 2])), rtol=tol,
                               atol=tol * max(1, p))


def test_summed_products_carry_non_finite_values():
    """A NaN or inf in a row reaches exactly the sums it takes part in, as NumPy's."""
    rng = np.random.default_rng(5)
    a = rng.standard_normal((8, 6, 20)).astype(np.float32)
    b = rng.standard_normal((8, 3, 20)).astype(np.float32)
    a[2, 1, 4] = np.nan
    a[5, 4, 7] = np.inf
    b[6, 2, 9] = -np.inf
    got = _jit_conv.summed_products(a, b)
    with np.errstate(invalid="ignore"):
        want = np.tensordot(a, b, axes=([0, 2], [0, 2]))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("threads", [2, 3])
def test_summed_products_shared_by_threads(monkeypatch, threads):
    """The samples' parts taken by the team's threads: the same bits as on one thread."""
    from threadpoolctl import threadpool_limits
    monkeypatch.setattr(_jit_conv, "SPLIT", 1)
    rng = np.random.default_rng(6)
    a = rng.standard_normal((37, 9, 50)).astype(np.float32)
    b = rng.standard_normal((37, 5, 50)).astype(np.float32)
    with threadpool_limits(limits=1, user_api="blas"):
        alone = _jit_conv.summed_products(a, b)
    with threadpool_limits(limits=threads, user_api="blas"):
        for _ in range(3):
            np.testing.assert_array_equal(_jit_conv.summed_products(a, b), alone)


@pytest.mark.parametrize("args", [
    (np.ones((8, 3, 4), np.float32), np.ones((8, 2, 5), np.float32)),
    (np.ones((8, 3, 4), np.float32), np.ones((8, 2, 4), np.float64)),
    (np.ones((8, 3, 4), np.int64), np.ones((8, 2, 4), np.int64)),
    (np.ones((8, 3, 4), np.float32), np.ones((8, 65, 4), np.float32)),
    (np.ones((8, 0, 4), np.float32), np.ones((8, 2, 4), np.float32)),
], ids=["shared-dims-differ", "dtypes-differ", "int64", "many-columns", "empty"])
def test_summed_products_decline_what_they_do_not_handle(args):
    """None: the backend's tensordot then runs NumPy's (or raises NumPy's error)."""
    assert _jit_conv.summed_products(*args) is None


def test_the_backend_runs_the_summed_products_in_tensordot(monkeypatch):
    """The cpu backend's tensordot over axes ([0, 2], [0, 2]) of 3-d arrays is the compiled
    sum (a spy sees the call) where the compiled path is on; other contractions and the
    path off run NumPy's, with the same result."""
    calls = []
    real = _jit_conv.summed_products
    monkeypatch.setattr(_jit_conv, "summed_products", lambda *a: calls.append(1) or real(*a))
    rng = np.random.default_rng(7)
    a = rng.standard_normal((8, 6, 30)).astype(np.float32)
    b = rng.standard_normal((8, 4, 30)).astype(np.float32)
    ns = it.get_backend("cpu").ns
    prev = _jit.set_enabled(True)
    try:
        on = ns.tensordot(a, b, axes=([0, 2], [0, 2]))
        assert calls == [1]
        ns.tensordot(a, b, axes=([2], [2]))
        ns.tensordot(a, a, axes=3)
        assert calls == [1]
        _jit.set_enabled(False)
        off = ns.tensordot(a, b, axes=([0, 2], [0, 2]))
        assert calls == [1]
    finally:
        _jit.set_enabled(prev)
    np.testing.assert_allclose(on, off, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("enabled", [True, False])
def test_the_backends_tensordot_keeps_numpys_results(enabled):
    """Every dtype and contraction gives NumPy's tensordot's result and dtype: the summed
    products (compiled, or batched products and their sum with the path off) for floating
    and complex arrays of one dtype, NumPy's own for the rest (integers, bools, mixed
    dtypes, other axes) and its errors."""
    ns = it.get_backend("cpu").ns
    rng = np.random.default_rng(8)
    cases = [rng.standard_normal((9, 4, 6)).astype(d) for d in ("float32", "float64")]
    cases.append(cases[1] + 1j * cases[1])
    cases += [rng.integers(-3, 4, (9, 4, 6)), rng.integers(0, 2, (9, 4, 6)).astype(bool)]
    prev = _jit.set_enabled(enabled)
    try:
        for a in cases:
            b = a[:, :3, :]
            got = ns.tensordot(a, b, axes=([0, 2], [0, 2]))
            want = np.tensordot(a, b, axes=([0, 2], [0, 2]))
            assert got.dtype == want.dtype and got.shape == want.shape == (4, 3)
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
        mixed = ns.tensordot(cases[0], cases[1][:, :2], axes=([0, 2], [0, 2]))
        assert mixed.dtype == np.float64
        with pytest.raises(ValueError):
            ns.tensordot(cases[0], cases[0][:, :, :5], axes=([0, 2], [0, 2]))
    finally:
        _jit.set_enabled(prev)
