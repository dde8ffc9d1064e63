"""The cpu backend's compiled float32 matrix product (interop/backends/_jit_gemm.py) against
its reference, NumPy's matmul (the compiled path turned off), and against the float64
product: within BLAS's accuracy on every layout and edge size a caller hands it, batched and
broadcast, with non-finite values, split over threads bit for bit as on one; ``None`` where
it does not take the product."""

import concurrent.futures
import multiprocessing
import time

import numpy as np
import pytest

import interop as it
from interop.backends import _jit
from tests.helpers import compiled_and_reference

pytestmark = pytest.mark.skipif(not _jit.available(), reason="numba is not installed")

if _jit.available():
    from interop.backends import _jit_gemm, _jit_team


@pytest.fixture(autouse=True)
def _compiled(monkeypatch):
    """The compiled path on, for products of every size (small ones test the edges)."""
    prev = _jit.set_enabled(True)
    if not _jit_gemm.usable():
        _jit.set_enabled(prev)
        pytest.skip("the compiled product needs AVX-512")
    monkeypatch.setattr(_jit_gemm, "FROM", 0)
    yield
    _jit.set_enabled(prev)


def _data(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _check(got, a, b):
    """``got`` is ``a @ b`` within float32 BLAS accuracy: against the float64 product, no
    further than a few times NumPy's own float32 product is, or than k ulps of the row-column
    magnitude."""
    want = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert got.shape == want.shape and got.dtype == np.float32
    k = a.shape[-1]
    scale = np.matmul(np.abs(a).astype(np.float64), np.abs(b).astype(np.float64))
    err = np.abs(got - want)
    blas = np.abs(np.matmul(a, b) - want)
    assert np.all(err <= np.maximum(4 * blas, 4 * np.sqrt(k) * 2.0 ** -24 * scale) + 1e-30)


def _layouts(x):
    """``x`` row-major, column-major, with strided columns and with reversed rows."""
    yield x
    yield np.asfortranarray(x)
    wide = np.zeros((x.shape[0], 2 * x.shape[1]), np.float32)
    wide[:, ::2] = x
    yield wide[:, ::2]
    yield np.ascontiguousarray(x[::-1])[::-1]


@pytest.mark.parametrize("m,k,n", [(8, 1, 32), (9, 5, 33), (16, 256, 64), (33, 257, 70),
                                   (40, 600, 96), (64, 288, 100), (17, 31, 287)])
def test_every_layout_and_edge_size(m, k, n):
    a0, b0 = _data((m, k), 1), _data((k, n), 2)
    for a in _layouts(a0):
        for b in _layouts(b0):
            got = _jit_gemm.product(a, b)
            assert got is not None
            _check(got, a, b)


def test_a_power_of_two_row_step_copies_panels(monkeypatch):
    # (B's rows 1024 floats apart would share cache sets: its panels are copied first, or,
    # split over threads, B once, with a longer row step)
    a, b = _data((24, 300), 3), _data((300, 1024), 4)
    one = _jit_gemm.product(a, b)
    _check(one, a, b)
    _check(_jit_gemm.product(a, b[:, :100]), a, b[:, :100])
    monkeypatch.setattr(_jit_gemm, "SPLIT", 1)
    tall = _data((600, 300), 5)                     # (parts of rows: each reads all of B)
    np.testing.assert_array_equal(_jit_gemm.product(tall, b, 2), _jit_gemm.product(tall, b))
    np.testing.assert_array_equal(_jit_gemm.product(a, b, 2), one)
    shape, kernel = (32, 3, 12, 10), (3, 3)         # (L * N = 80 * 32: rows 2560 floats apart)
    at, g = _data((27, 16), 6), _data((16, 80 * 32), 7)
    one = _jit_gemm.windows_add_product(shape, at, g, kernel, (1, 1), (1, 1))
    np.testing.assert_array_equal(
        _jit_gemm.windows_add_product(shape, at, g, kernel, (1, 1), (1, 1), 2), one)


@pytest.mark.parametrize("sa,sb", [((3, 20, 50), (50, 40)), ((20, 50), (2, 50, 40)),
                                   ((2, 1, 20, 50), (3, 50, 40)), ((1, 1, 20, 50), (50, 40)),
                                   ((4, 20, 50), (4, 50, 40))])
def test_batched_and_broadcast(sa, sb):
    a, b = _data(sa, 5), _data(sb, 6)
    batch = np.broadcast_shapes(sa[:-2], sb[:-2])
    bt = np.swapaxes(np.swapaxes(b, -1, -2).copy(), -1, -2)      # B's columns strided
    for b_ in (b, bt):
        got = _jit_gemm.product(a, b_)
        assert got.shape == np.matmul(a, b_).shape and got.flags.c_contiguous
        _check(got, np.broadcast_to(a, batch + sa[-2:]), np.broadcast_to(b_, batch + sb[-2:]))


def test_non_finite_values_land_where_numpys_do():
    a, b = _data((20, 64), 7), _data((64, 50), 8)
    a[3, 5] = np.inf
    a[7, 9] = np.nan
    b[10, 40] = -np.inf
    b[:, 45] = 0.0
    with np.errstate(invalid="ignore"):
        want = np.matmul(a, b)
    got = _jit_gemm.product(a, b)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(want))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("b_transposed", [False, True])
@pytest.mark.parametrize("sa,sb", [((70, 300), (300, 530)), ((5, 40, 60), (5, 60, 70)),
                                   ((2, 3, 40, 60), (60, 70))])
def test_threads_split_the_work_bit_for_bit(monkeypatch, sa, sb, b_transposed):
    monkeypatch.setattr(_jit_gemm, "SPLIT", 1)
    a, b = _data(sa, 9), _data(sb, 10)
    if b_transposed:
        b = np.swapaxes(np.swapaxes(b, -1, -2).copy(), -1, -2)
    one = _jit_gemm.product(a, b)
    for threads in (2, 3):
        np.testing.assert_array_equal(_jit_gemm.product(a, b, threads), one)


def test_thin_products_with_threads():
    # (with more than one thread every product OpenBLAS would thread is taken here: its
    # threads, once woken, spin and take the cores; columns 8 to 31 run transposed)
    a, b = _data((300, 500), 16), _data((500, 10), 17)
    assert _jit_gemm.product(a, b) is None
    got = _jit_gemm.product(a, b, 2)
    assert got.flags.c_contiguous
    _check(got, a, b)
    _check(_jit_gemm.product(a, np.asfortranarray(b), 2), a, b)
    assert _jit_gemm.product(a, b[:, :7], 2) is None          # under 8 columns
    assert _jit_gemm.product(a[:7], _data((500, 64), 18), 2) is None


def test_small_products_are_left_to_numpy(monkeypatch):
    monkeypatch.setattr(_jit_gemm, "FROM", 1 << 16)
    assert _jit_gemm.product(_data((8, 100), 1), _data((100, 64), 2)) is None
    assert _jit_gemm.product(_data((8, 200), 1), _data((200, 64), 2)) is not None


@pytest.mark.parametrize("sa,sb,dtype", [((7, 500), (500, 64), np.float32),    # thin: rows
                                         ((64, 500), (500, 31), np.float32),   # thin: columns
                                         ((64, 500), (500, 64), np.float64),
                                         ((64, 0), (0, 64), np.float32),
                                         ((64, 30), (31, 64), np.float32),
                                         ((500,), (500, 64), np.float32),
                                         ("odd", (500, 64), np.float32)])
def test_products_it_leaves_to_numpy(sa, sb, dtype):
    if sa == "odd":         # (a row step of 4002 bytes: not whole floats)
        raw = np.ones(64 * 1001, np.float32)
        a = np.lib.stride_tricks.as_strided(raw, (64, 500), (4002, 8))
    else:
        a = _data(sa, 11).astype(dtype)
    b = _data(sb, 12).astype(dtype)
    assert _jit_gemm.product(a, b) is None


def test_interop_matmul_and_its_gradients_compiled_and_reference():
    a0, b0 = _data((3, 40, 72), 13), _data((72, 50), 14)

    def run():
        a, b = it.asarray(a0).requires_grad_(), it.asarray(b0).requires_grad_()
        y = a @ b
        y.backward(it.asarray(_data(tuple(y.shape), 15)))
        return [np.asarray(t) for t in (y, a.grad, b.grad)]

    on, off = compiled_and_reference(run)
    for x, y in zip(on, off):
        np.testing.assert_allclose(x, y, rtol=2e-5, atol=2e-5)


def _product_in_child():
    _jit.set_enabled(True)
    a, b = _data((64, 300), 1), _data((300, 256), 2)
    got = _jit_gemm.product(a, b, 2)
    return bool(np.allclose(got, a @ b, rtol=1e-4, atol=1e-4))


def test_a_forked_child_gets_its_own_threads(monkeypatch):
    # (the parent's team threads are not in the child: a part left to them would never be
    # finished, and the caller would wait for it forever)
    monkeypatch.setattr(_jit_gemm, "SPLIT", 1)
    a, b = _data((64, 300), 1), _data((300, 256), 2)
    _jit_gemm.product(a, b, 2)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        got = pool.apply_async(_product_in_child).get(timeout=60)
    assert got


def _until(condition, what):
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.001)


def _until_taken(team, k, a, b, threads, one):
    """Products on ``threads`` threads until team thread ``k`` has taken a part of one (once
    it has its compiled loop; where it wakes late for a job, the caller takes every part)."""
    before = team.taken(k)
    deadline = time.monotonic() + 60
    while team.taken(k) == before:
        np.testing.assert_array_equal(_jit_gemm.product(a, b, threads), one)
        assert time.monotonic() < deadline, f"team thread {k} never took a part"


def test_the_team_thread_takes_parts_sleeps_after_its_spin_and_is_rung_awake(monkeypatch):
    monkeypatch.setattr(_jit_gemm, "SPLIT", 1)
    a, b = _data((256, 300), 3), _data((300, 512), 4)
    one = _jit_gemm.product(a, b)
    team = _jit_team.team(1)
    _until_taken(team, 1, a, b, 2, one)
    _until(lambda: team.asleep(1), "the thread kept spinning after SPIN_S")
    _until_taken(team, 1, a, b, 2, one)


def test_threads_of_the_process_that_share_products_at_once(monkeypatch):
    # (one job at a time: a second caller's parts run on its own thread, never mixed into
    # the first's)
    monkeypatch.setattr(_jit_gemm, "SPLIT", 1)
    pairs = [(_data((96, 200 + 8 * i), i), _data((200 + 8 * i, 160), 50 + i)) for i in range(6)]
    want = [_jit_gemm.product(a, b) for a, b in pairs]

    def run(i):
        a, b = pairs[i]
        return all(np.array_equal(_jit_gemm.product(a, b, 2), want[i]) for _ in range(30))

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        assert all(pool.map(run, range(6)))


def test_a_team_thread_beyond_the_jobs_threads_takes_no_part(monkeypatch):
    # (set_num_threads(2) after 3: the third thread spins on, and must leave the parts alone)
    monkeypatch.setattr(_jit_gemm, "SPLIT", 1)
    a, b = _data((256, 300), 5), _data((300, 512), 6)
    one = _jit_gemm.product(a, b)
    team = _jit_team.team(2)
    _until_taken(team, 2, a, b, 3, one)
    before = team.taken(2)
    for _ in range(50):
        np.testing.assert_array_equal(_jit_gemm.product(a, b, 2), one)
    assert team.taken(2) == before


def test_a_kernel_that_cannot_be_built_warns_and_leaves_numpy(monkeypatch):
    monkeypatch.setattr(_jit_gemm, "_state", {"usable": None,
                                              "error": RuntimeError("no such intrinsic")})
    with pytest.warns(RuntimeWarning, match="no such intrinsic.*NumPy's matmul"):
        assert not _jit_gemm.usable()
    a, b = _data((64, 300), 1), _data((300, 256), 2)
    assert _jit_gemm.product(a, b) is None
    np.testing.assert_array_equal(it.get_backend("cpu").ns.matmul(a, b), a @ b)


def test_wrong_trial_values_turn_it_off(monkeypatch):
    monkeypatch.setattr(_jit_gemm, "_state", {"usable": None, "error": None})
    monkeypatch.setattr(_jit_gemm._jit, "module", lambda: _jit_gemm._state.update(usable=True))
    monkeypatch.setattr(_jit_gemm, "_into", lambda a, b, c, threads: c.fill(7))
    with pytest.warns(RuntimeWarning, match="wrong values"):
        assert not _jit_gemm.usable()


def _windows_reference(shape, a, b, kernel, stride, dilation):
    """windows_add_product as its reference computes it: the product, then col2im, in
    float64 (the compiled sums go in another order)."""
    be = it.get_backend("cpu")
    from interop.backends import _fallbacks
    prod = np.matmul(a.astype(np.float64), b.astype(np.float64))
    cols = _fallbacks.window_cols(be.ns, prod, shape, kernel, stride, dilation)
    prev = _jit.set_enabled(False)
    try:
        return be.ns.windows_add(shape, cols, kernel, stride, dilation)
    finally:
        _jit.set_enabled(prev)


@pytest.mark.parametrize("shape,kernel,stride,dilation,p", [
    ((32, 3, 7, 6), (3, 3), (1, 1), (1, 1), 5),          # overlapping windows, C * K = 27
    ((64, 2, 9, 8), (2, 3), (2, 1), (1, 2), 700),        # stride, dilation, three blocks of k
    ((32, 1, 8, 8), (2, 2), (2, 2), (1, 1), 16),         # windows that tile the image
    ((32, 4, 9, 9), (2, 2), (3, 3), (1, 1), 8),          # gaps between windows
    ((96, 3, 6, 6), (3, 3), (1, 1), (1, 1), 9),          # three blocks of samples
    ((64, 2, 6, 6), (3, 3), (1, 1), (1, 1), 12)])        # B's rows 4 KiB apart (copied)
def test_windows_add_product_against_the_product_then_col2im(monkeypatch, shape, kernel,
                                                            stride, dilation, p):
    be = it.get_backend("cpu")
    counts = [(m - d * (k - 1) - 1) // s + 1
              for m, k, s, d in zip(shape[2:], kernel, stride, dilation)]
    a = _data((shape[1] * kernel[0] * kernel[1], p), 20)
    b = _data((p, counts[0] * counts[1] * shape[0]), 21)
    want = _windows_reference(shape, a, b, kernel, stride, dilation)
    assert _jit_gemm.windows_add_product(shape, a, b, kernel, stride, dilation) is not None
    on, off = compiled_and_reference(
        lambda: be.ns.windows_add_product(shape, a, b, kernel, stride, dilation))
    scale = _windows_reference(shape, np.abs(a), np.abs(b), kernel, stride, dilation)
    for got in (on, off):
        assert got.shape == shape and got.dtype == np.float32
        assert np.all(np.abs(got - want) <= 8 * np.sqrt(p) * 2.0 ** -24 * scale + 1e-30)
    at = np.asfortranarray(a)          # (the transposed weight a convolution passes)
    one = _jit_gemm.windows_add_product(shape, at, b, kernel, stride, dilation)
    np.testing.assert_array_equal(be.ns.windows_add_product(shape, at, b, kernel, stride,
                                                            dilation).reshape(shape[:2] + (-1,)),
                                  np.moveaxis(one, 2, 0))
    monkeypatch.setattr(_jit_gemm, "SPLIT", 1)
    for threads in (2, 3):          # (parts: blocks of samples within chunks of channels)
        np.testing.assert_array_equal(_jit_gemm.windows_add_product(
            shape, at, b, kernel, stride, dilation, threads), one)


def test_windows_add_product_non_finite_and_where_it_does_not_apply():
    be = it.get_backend("cpu")
    shape, kernel = (32, 2, 5, 5), (3, 3)
    a, b = _data((18, 4), 22), _data((4, 9 * 32), 23)
    a[3, 1] = np.inf
    b[2, 40] = np.nan
    with np.errstate(invalid="ignore"):
        want = be.ns.windows_add_product(shape, a, b, kernel, (1, 1), (1, 1))
        _jit.set_enabled(False)
        try:
            ref = be.ns.windows_add_product(shape, a, b, kernel, (1, 1), (1, 1))
        finally:
            _jit.set_enabled(True)
    np.testing.assert_array_equal(np.isnan(want), np.isnan(ref))
    np.testing.assert_array_equal(np.isinf(want), np.isinf(ref))
    for s in ((31, 2, 5, 5), (32, 2, 5)):               # batch not a multiple of 32, 1-d
        k = (3, 3) if len(s) == 4 else (3,)
        rows, cols = 2 * (9 if len(s) == 4 else 3), (9 if len(s) == 4 else 3) * s[0]
        assert _jit_gemm.windows_add_product(s, _data((rows, 4), 1), _data((4, cols), 2), k,
                                             (1,) * len(k), (1,) * len(k)) is None


def _batch_inner(x):
    """``x`` (N, C, H, W) copied so that its memory is (C, H, W, N): a convolution's input as
    windows_product reads it."""
    return np.ascontiguousarray(np.moveaxis(x, 0, -1)).transpose(3, 0, 1, 2)


def _window_matrix(x, kernel, stride, dilation):
    """The windows' matrix (C * K, L * N), batch innermost, in float64, by loops."""
    nb, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
    m = np.empty((c, kh, kw, oh, ow, nb))
    xt = np.moveaxis(x, 0, -1).astype(np.float64)
    for i in range(kh):
        for j in range(kw):
            m[:, i, j] = xt[:, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                            j * dw:j * dw + sw * (ow - 1) + 1:sw]
    return m.reshape(c * kh * kw, oh * ow * nb)


@pytest.mark.parametrize("shape,kernel,stride,dilation,m", [
    ((32, 3, 9, 8), (2, 3), (2, 1), (1, 2), 5), ((64, 16, 7, 7), (3, 3), (1, 1), (1, 1), 24),
    ((32, 5, 6, 11), (1, 1), (1, 1), (1, 1), 33), ((32, 7, 10, 9), (3, 2), (3, 2), (2, 1), 8)])
def test_windows_product_and_product_windows(monkeypatch, shape, kernel, stride, dilation, m):
    # (the windows read in place: every row and column edge, strides, dilations, 1x1)
    monkeypatch.setattr(_jit_gemm, "SPLIT", 1)
    x = _batch_inner(_data(shape, 40))
    wm = _window_matrix(x, kernel, stride, dilation)
    be = it.get_backend("cpu")
    a = _data((m, wm.shape[0]), 41)
    g = _data((m, wm.shape[1]), 42)
    for got_of, left, right in (
            (lambda t: _jit_gemm.windows_product(a, x, kernel, stride, dilation, t), a, wm),
            (lambda t: _jit_gemm.product_windows(g, x, kernel, stride, dilation, t), g, wm.T)):
        got = got_of(1)
        want = left.astype(np.float64) @ right
        scale = np.abs(left).astype(np.float64) @ np.abs(right)
        assert got.shape == want.shape and got.dtype == np.float32 and got.flags.c_contiguous
        assert np.all(np.abs(got - want) <= 4 * np.sqrt(left.shape[1]) * 2.0 ** -24 * scale)
        for threads in (2, 3):
            np.testing.assert_array_equal(got_of(threads), got)
    for name, arg in (("windows_product", a), ("product_windows", g)):
        on, off = compiled_and_reference(
            lambda: getattr(be.ns, name)(arg, x, kernel, stride, dilation))
        np.testing.assert_allclose(on, off, rtol=1e-4, atol=1e-4 * np.abs(off).max())


def test_windows_products_non_finite_and_where_they_do_not_apply():
    x = _batch_inner(_data((32, 2, 5, 5), 43))
    x[3, 1, 2, 2], x[7, 0, 0, 4] = np.nan, np.inf
    a, g = _data((4, 18), 44), _data((4, 9 * 32), 45)
    be = it.get_backend("cpu")
    for name, arg in (("windows_product", a), ("product_windows", g)):
        on, off = compiled_and_reference(
            lambda: getattr(be.ns, name)(arg, x, (3, 3), (1, 1), (1, 1)))
        np.testing.assert_array_equal(np.isnan(on), np.isnan(off))
        np.testing.assert_array_equal(np.isinf(on), np.isinf(off))
        finite = np.isfinite(off)
        np.testing.assert_allclose(on[finite], off[finite], rtol=1e-4, atol=1e-4)
    plain = np.ascontiguousarray(x)                     # (batch outermost in memory)
    assert _jit_gemm.windows_product(a, plain, (3, 3), (1, 1), (1, 1)) is None
    assert _jit_gemm.windows_product(a, x[:31], (3, 3), (1, 1), (1, 1)) is None
    assert _jit_gemm.windows_product(a.astype(np.float64), x.astype(np.float64), (3, 3),
                                     (1, 1), (1, 1)) is None
    assert _jit_gemm.product_windows(g, x, (6, 6), (1, 1), (1, 1)) is None     # no window
    np.testing.assert_allclose(be.ns.windows_product(a, plain, (3, 3), (1, 1), (1, 1)),
                               be.ns.windows_product(a, x, (3, 3), (1, 1), (1, 1)),
                               rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match=r"expected a of shape \(M, 18\)"):
        be.ns.windows_product(g, x, (3, 3), (1, 1), (1, 1))
    with pytest.raises(ValueError, match=r"expected a of shape \(M, 288\)"):
        be.ns.product_windows(a, x, (3, 3), (1, 1), (1, 1))
    with pytest.raises(ValueError, match="one dtype"):
        be.ns.product_windows(g.astype(np.float64), x, (3, 3), (1, 1), (1, 1))


@pytest.mark.parametrize("padding,stride,bias", [(0, 1, False), (1, 2, True)])
def test_conv2d_through_the_compiled_kernels_matches_torch(padding, stride, bias):
    # (a batch of 32: the forward and the weight gradient read the windows in place, the
    # input gradient adds the product's blocks into the image; NaN and inf reach the same
    # places as PyTorch's)
    torch = pytest.importorskip("torch")
    x0, w0 = _data((32, 16, 13, 13), 24), _data((24, 16, 3, 3), 25) * 0.1
    b0 = _data((24,), 27) if bias else None
    x0[4, 3, 6, 6], x0[9, 0, 0, 1] = np.nan, np.inf
    out = (13 + 2 * padding - 3) // stride + 1
    g0 = _data((32, 24, out, out), 26)
    names = ("windows_product", "product_windows", "windows_add_product")
    calls = {name: [] for name in names}
    real = {name: getattr(_jit_gemm, name) for name in names}

    def spy(name):
        def call(*args, **kwargs):
            res = real[name](*args, **kwargs)
            calls[name].append(res is not None)
            return res
        return call

    def run():
        x, w = it.asarray(x0).requires_grad_(), it.asarray(w0).requires_grad_()
        b = None if b0 is None else it.asarray(b0).requires_grad_()
        y = it.nn.functional.conv2d(x, w, b, stride=stride, padding=padding)
        y.backward(it.asarray(g0))
        return [np.asarray(t) for t in (y.detach(), x.grad, w.grad)] + (
            [] if b is None else [np.asarray(b.grad)])

    for name in names:
        setattr(_jit_gemm, name, spy(name))
    try:
        on, off = compiled_and_reference(run)
    finally:
        for name in names:
            setattr(_jit_gemm, name, real[name])
    assert all(calls[name] and calls[name][0] for name in names), calls
    ts = [torch.tensor(a, requires_grad=True) for a in (x0, w0) + ((b0,) if bias else ())]
    y = torch.nn.functional.conv2d(*ts, stride=stride, padding=padding)
    y.backward(torch.tensor(g0))
    want = [y.detach().numpy()] + [t.grad.numpy() for t in ts]
    for got in (on, off):
        for a, b in zip(got, want):
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
            finite = np.isfinite(b)
            np.testing.assert_allclose(a[finite], b[finite], rtol=1e-4, atol=1e-3)
