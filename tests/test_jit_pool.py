"""Max pooling's kernels, ``window_argmax`` and ``window_argmax_add`` (interop/backends/
_jit_pool.py compiled, _fallbacks.py the reference): the compiled kernels against the
reference on every geometry a pooling hands them (padding, ceil_mode's windows past the end,
dilation, overlapping windows, 1-d to 3-d, empty batches, float32 and float64) and at the
edges (ties, NaN, -inf, windows of padding only, large magnitudes); max pooling through them
against PyTorch (values, indices, gradients, float32 and float64), gradcheck and gradgradcheck
in float64 on both paths, and the kernels' argument errors."""

import itertools

import numpy as np
import pytest

import interop as it
import interop.nn.functional as F
from interop.backends import _jit
from helpers import compiled_and_reference, to_np
from torch_compare import check_function

torch = pytest.importorskip("torch")
TF = torch.nn.functional

INF, NAN = np.inf, np.nan


def _data(shape, dtype, kind, seed=0):
    rng = np.random.default_rng(seed)
    if kind == "ties":          # small integers: windows full of equal maxima
        return rng.integers(0, 3, shape).astype(dtype)
    x = rng.standard_normal(shape).astype(dtype)
    if kind == "special":       # NaN, -inf, +inf and -0.0 sprinkled, some windows all -inf
        flat = x.reshape(-1)
        for v, frac in ((NAN, 0.05), (-INF, 0.3), (INF, 0.03), (-0.0, 0.05)):
            flat[rng.random(flat.shape) < frac] = v
    if kind == "large":
        x = (x / np.abs(x).max(initial=1) * (3e38 if dtype == "float32" else 1e307)).astype(dtype)
    return x


def _out(size, kernel, stride, dilation, padding, ceil):
    """PyTorch's output size per dim."""
    res = []
    for m, k, s, d, p in zip(size, kernel, stride, dilation, padding):
        span = m + 2 * p - d * (k - 1) - 1
        o = (span + (s - 1 if ceil else 0)) // s + 1
        if ceil and (o - 1) * s >= m + p:
            o -= 1
        res.append(o)
    return tuple(res)


# (shape, kernel, stride, dilation, padding, ceil_mode)
GEOMETRY = [
    ((3, 4, 12, 10), (2, 2), (2, 2), (1, 1), (0, 0), False),      # LeNet's: the 2x2 fast path
    ((2, 3, 11, 11), (2, 2), (2, 2), (1, 1), (0, 0), False),      # last row and col dropped
    ((2, 3, 11, 11), (2, 2), (2, 2), (1, 1), (0, 0), True),       # ceil_mode: past the end
    ((2, 3, 9, 10), (3, 3), (2, 2), (1, 1), (1, 1), False),       # ResNet's stem pool
    ((2, 3, 9, 10), (3, 3), (1, 1), (1, 1), (1, 1), False),       # overlapping windows
    ((2, 3, 9, 13), (2, 3), (1, 2), (2, 1), (1, 1), True),        # dilation, mixed sizes
    ((1, 2, 7, 8), (3, 2), (2, 3), (2, 2), (1, 1), True),
    ((2, 5, 17), (3,), (2,), (1,), (1,), True),                   # 1-d
    ((2, 5, 17), (2,), (1,), (3,), (0,), False),
    ((2, 2, 5, 6, 7), (2, 2, 2), (2, 2, 2), (1, 1, 1), (0, 0, 0), False),   # 3-d
    ((1, 2, 5, 6, 7), (3, 3, 2), (2, 1, 2), (1, 2, 1), (1, 1, 1), True),
    ((0, 3, 8, 8), (2, 2), (2, 2), (1, 1), (0, 0), False),        # empty batch
    ((2, 3, 1, 1), (2, 2), (2, 2), (2, 2), (1, 1), False),        # windows of padding only
]


def _kernels(x, geometry, g_seed=1):
    """Both kernels on the cpu backend: (m, offsets, the input gradient)."""
    shape, kernel, stride, dilation, padding, ceil = geometry
    out = _out(shape[-len(kernel):], kernel, stride, dilation, padding, ceil)
    ns = it.get_backend("cpu").ns
    m, offsets = ns.window_argmax(x, kernel, stride, dilation, padding, out)
    g = np.random.default_rng(g_seed).standard_normal(m.shape).astype(x.dtype)
    gx = ns.window_argmax_add(tuple(x.shape), g, offsets, kernel, stride, dilation, padding)
    return np.asarray(m), np.asarray(offsets), np.asarray(gx)


def _geometry_id(g):
    return f"{g[0]}-k{g[1]}-s{g[2]}-d{g[3]}-p{g[4]}-{'ceil' if g[5] else 'floor'}"


@pytest.mark.parametrize("geometry", GEOMETRY, ids=_geometry_id)
@pytest.mark.parametrize("kind", ["random", "ties", "special", "large"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_compiled_kernels_agree_with_the_reference(geometry, kind, dtype):
    """The same maxima (NaN where NaN, the sign of a zero aside), the same offsets, and the
    same gradient (to the last bits where windows overlap: the order of the adds)."""
    x = _data(geometry[0], dtype, kind)
    with np.errstate(invalid="ignore", over="ignore"):
        on, off = compiled_and_reference(lambda: _kernels(x, geometry))
    for a, b, what in zip(on, off, ("maxima", "offsets", "gradient")):
        assert a.dtype == b.dtype and a.shape == b.shape, what
        if what == "gradient":
            tol = 1e-6 if dtype == "float32" else 1e-14     # (sums of a few normal draws)
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=what)
        else:
            np.testing.assert_array_equal(a, b, err_msg=what)
    assert on[1].dtype == np.int8


def test_compiled_kernels_run_where_they_claim():
    """The compiled forward takes 1-d to 3-d windows of up to 128 offsets of float32 and
    float64 (None otherwise: the reference runs); the backward int8 offsets."""
    if not _jit.available():
        pytest.skip("numba is not installed")
    from interop.backends import _jit_pool
    x = np.zeros((2, 9, 9), np.float32)
    assert _jit_pool.window_argmax(x, (2, 2), (1, 1), (1, 1), (0, 0), (8, 8)) is not None
    assert _jit_pool.window_argmax(x, (9, 9), (1, 1), (1, 1), (0, 0), (1, 1)) is not None
    assert _jit_pool.window_argmax(x, (12, 12), (1, 1), (1, 1), (0, 0), (1, 1)) is None
    assert _jit_pool.window_argmax(x.astype(np.float16), (2, 2), (1, 1), (1, 1), (0, 0),
                                   (8, 8)) is None
    assert _jit_pool.window_argmax(np.zeros((1, 2, 2, 2, 2)), (1, 1, 1, 1), (1,) * 4,
                                   (1,) * 4, (0,) * 4, (2,) * 4) is None
    g = np.zeros((2, 8, 8), np.float32)
    assert _jit_pool.window_argmax_add((2, 9, 9), g, np.zeros(g.shape, np.int16), (2, 2),
                                       (1, 1), (1, 1), (0, 0)) is None
    # a kernel of more than 128 offsets (int16 offsets) on the reference, through max pooling
    xt = np.random.default_rng(0).standard_normal((1, 2, 13, 13)).astype(np.float32)
    check_function(F.max_pool2d, TF.max_pool2d, xt, kernel_size=12, stride=1,
                   return_indices=True)


# ------------------------------------------------------------- max pooling against PyTorch

EDGES = [
    # (n, shape, pool arguments): the edges of the geometry PyTorch allows
    (2, (2, 3, 8, 9), dict(kernel_size=2)),
    (2, (2, 3, 9, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    (2, (2, 3, 9, 8), dict(kernel_size=3, stride=1, padding=1)),                 # overlapping
    (2, (1, 2, 10, 9), dict(kernel_size=(3, 2), stride=(2, 1), dilation=(2, 3), padding=1)),
    (2, (3, 7, 7), dict(kernel_size=2, ceil_mode=True)),                          # unbatched
    (1, (2, 4, 11), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True)),
    (3, (1, 2, 6, 5, 7), dict(kernel_size=3, stride=2, padding=1, dilation=(1, 2, 1))),
    (2, (0, 3, 6, 6), dict(kernel_size=2)),                                       # empty batch
]


def _ids(c):
    return f"{c[0]}d-{c[1]}-{'-'.join(f'{k}={v}' for k, v in c[2].items())}"


@pytest.mark.parametrize("case", EDGES, ids=_ids)
@pytest.mark.parametrize("kind", ["random", "ties", "special"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("compiled", [True, False])
def test_max_pool_matches_pytorch_on_both_paths(case, kind, dtype, compiled):
    """Values, indices and the input gradient against PyTorch: ties to the first maximum,
    a window with NaNs to its last NaN, -inf beside padding to the first real element."""
    if compiled and not _jit.available():
        pytest.skip("numba is not installed")
    n, shape, kw = case
    x = _data(shape, dtype, kind)
    fn = f"max_pool{n}d"
    prev = _jit.set_enabled(compiled) if (compiled or _jit.available()) else None
    try:
        with it.use_backend("cpu"):
            check_function(getattr(F, fn), getattr(TF, fn), x, return_indices=True, **kw)
            check_function(getattr(F, fn), getattr(TF, fn), x, **kw)
    finally:
        if prev is not None:
            _jit.set_enabled(prev)


def test_max_pool_gradient_to_the_first_maximum_and_the_last_nan():
    """Written out: a window of equal values sends its gradient to its first element; one
    with two NaNs to the second; overlapping windows add at a shared maximum; -inf beside
    the padding goes to the real element; an inf gradient stays in its window."""
    x = np.array([[[[1.0, 1.0, 0.0, NAN],
                    [1.0, 1.0, NAN, 2.0],
                    [-INF, -INF, 5.0, 0.0],
                    [-INF, -INF, 0.0, 0.0]]]], np.float32)
    for compiled in ([True, False] if _jit.available() else [False]):
        prev = _jit.set_enabled(compiled)
        try:
            t = it.asarray(x).requires_grad_()
            y, i = F.max_pool2d(t, 2, return_indices=True)
            y.backward(it.asarray(np.array([[[[1.0, 2.0], [INF, 4.0]]]], np.float32)))
            assert to_np(i).tolist() == [[[[0, 6], [8, 10]]]]
            want = np.zeros_like(x)
            want[0, 0, 0, 0], want[0, 0, 1, 2], want[0, 0, 2, 0], want[0, 0, 2, 2] = 1, 2, INF, 4
            np.testing.assert_array_equal(to_np(t.grad), want)
            # stride 1: the 5.0 is in four windows, the maximum of the two without a NaN, whose
            # gradients add there; the NaN takes the other two
            t = it.asarray(x[:, :, 1:, 1:].copy()).requires_grad_()
            F.max_pool2d(t, 2, stride=1).sum().backward()
            assert to_np(t.grad)[0, 0, 1, 1] == 2.0 and to_np(t.grad)[0, 0, 0, 1] == 2.0
        finally:
            _jit.set_enabled(prev)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("fn, shape", [
    (lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), (1, 2, 6, 7)),
    (lambda x: F.max_pool2d(x, 2, 1, dilation=2), (2, 1, 5, 5)),
    (lambda x: F.max_pool1d(x, 3, 2, 1), (2, 2, 8)),
    (lambda x: F.max_pool3d(x, 2, 1, 1), (1, 1, 3, 3, 4)),
    (lambda x: F.adaptive_max_pool2d(x, (2, 3)), (1, 2, 5, 7)),
])
def test_gradcheck_and_gradgradcheck_on_both_paths(compiled, fn, shape):
    """Finite differences in float64 (distinct values: away from the kinks), first and
    second order: the second through the create_graph formula."""
    if compiled and not _jit.available():
        pytest.skip("numba is not installed")
    rng = np.random.default_rng(3)
    x = rng.permutation(np.arange(np.prod(shape), dtype=np.float64)).reshape(shape) / 7
    prev = _jit.set_enabled(compiled) if (compiled or _jit.available()) else None
    try:
        with it.use_backend("cpu"):
            t = it.asarray(x).requires_grad_()
            assert it.autograd.gradcheck(fn, (t,))
            assert it.autograd.gradgradcheck(fn, (t,))
    finally:
        if prev is not None:
            _jit.set_enabled(prev)


def test_double_backward_matches_pytorch():
    """The gradient of the gradient (create_graph) through overlapping, padded windows."""
    x = np.random.default_rng(0).standard_normal((2, 2, 7, 6))
    w = np.random.default_rng(1).standard_normal((2, 2, 7, 6))

    def run(lib, fn):
        xt = (lib.asarray(x) if lib is it else torch.from_numpy(x)).requires_grad_()
        wt = lib.asarray(w) if lib is it else torch.from_numpy(w)
        y = fn(xt * wt, 3, stride=1, padding=1)
        (g,) = lib.autograd.grad((y * y).sum(), xt, create_graph=True)
        (g * g).sum().backward()
        return to_np(g) if lib is it else g.detach().numpy(), \
            to_np(xt.grad) if lib is it else xt.grad.numpy()

    for compiled in ([True, False] if _jit.available() else [False]):
        prev = _jit.set_enabled(compiled)
        try:
            ours, theirs = run(it, F.max_pool2d), run(torch, TF.max_pool2d)
        finally:
            _jit.set_enabled(prev)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_inference_takes_the_maxima_alone():
    """Under no_grad (no indices asked for) the maxima come from NumPy's maximum per offset:
    the same values as the kernel's."""
    x = _data((2, 3, 9, 10), "float32", "special")
    t = it.asarray(x)
    with it.no_grad():
        a = to_np(F.max_pool2d(t, 3, 2, 1, ceil_mode=True))
    b = to_np(F.max_pool2d(t.requires_grad_(), 3, 2, 1, ceil_mode=True))
    np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------------------ the kernels

@pytest.mark.parametrize("bname", ["cpu", "strict"])
def test_kernel_errors_name_what_was_expected_and_given(bname):
    ns = it.get_backend(bname).ns
    be = it.get_backend(bname)
    x = be.from_host(np.zeros((2, 4, 4), np.float32))
    g = be.from_host(np.zeros((2, 2, 2), np.float32))
    k = be.from_host(np.zeros((2, 2, 2), np.int8))
    with pytest.raises(ValueError, match=r"window_argmax: padding must be a tuple of 2 ints >= 0"):
        ns.window_argmax(x, (2, 2), (2, 2), (1, 1), (0, -1), (2, 2))
    with pytest.raises(ValueError, match=r"window_argmax: out must be a tuple of 2 ints"):
        ns.window_argmax(x, (2, 2), (2, 2), (1, 1), (0, 0), (2,))
    with pytest.raises(TypeError, match=r"window_argmax: expected an array of a real floating "
                                        r"dtype, got interop.int8"):
        ns.window_argmax(k, (2, 2), (2, 2), (1, 1), (0, 0), (1, 1))
    with pytest.raises(ValueError, match=r"kernel, stride and dilation must be positive"):
        ns.window_argmax(x, (0, 2), (2, 2), (1, 1), (0, 0), (2, 2))
    with pytest.raises(TypeError, match=r"window_argmax_add: offsets must be an array of "
                                        r"integers, got interop.float32"):
        ns.window_argmax_add((2, 4, 4), g, g, (2, 2), (2, 2), (1, 1), (0, 0))
    with pytest.raises(ValueError, match=r"window_argmax_add: expected g of shape \(3,\) \+ out"):
        ns.window_argmax_add((3, 4, 4), g, k, (2, 2), (2, 2), (1, 1), (0, 0))
    with pytest.raises(ValueError, match=r"offsets of g's shape; got g \(2, 2, 2\) and offsets "
                                         r"\(2, 2\)"):
        ns.window_argmax_add((2, 4, 4), g, k[0, ...], (2, 2), (2, 2), (1, 1), (0, 0))


def test_kernels_on_every_geometry_against_loops():
    """The reference itself against plain Python loops over the windows (small cases,
    every padding and ceil combination of one 1-d geometry family)."""
    ns = it.get_backend("strict").ns
    be = it.get_backend("strict")
    rng = np.random.default_rng(5)
    for m, k, s, d, p in itertools.product((4, 5), (1, 2, 3), (1, 2), (1, 2), (0, 1)):
        if 2 * p > k or m + 2 * p < d * (k - 1) + 1:
            continue
        for ceil in (False, True):
            (o,) = _out((m,), (k,), (s,), (d,), (p,), ceil)
            x = rng.integers(0, 3, (2, m)).astype(np.float64)
            x[0, rng.integers(0, m)] = NAN
            mm, off = ns.window_argmax(be.from_host(x), (k,), (s,), (d,), (p,), (o,))
            mm, off = np.asarray(be.to_host(mm)), np.asarray(be.to_host(off))
            for r in range(2):
                for j in range(o):
                    pos = [j * s - p + t * d for t in range(k)]
                    real = [(t, x[r, q]) for t, q in enumerate(pos) if 0 <= q < m]
                    vals = [v for _, v in real]
                    nans = [t for t, v in real if v != v]
                    if nans:
                        want, at = NAN, nans[-1]
                    elif real:
                        want = max(vals)
                        at = next(t for t, v in real if v == want)
                    else:
                        want, at = -INF, 0
                    np.testing.assert_equal(mm[r, j], want)
                    assert off[r, j] == at, (m, k, s, d, p, ceil, r, j)


def test_max_pool_on_a_backend_without_item_assignment():
    """JAX's arrays take no item assignment: the reference pads by concatenation and adds
    the gradient back without writes (values, indices and gradients as PyTorch's)."""
    from helpers import jax_backend
    x = _data((2, 2, 7, 6), "float32", "special")
    kw = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)
    with jax_backend():
        check_function(F.max_pool2d, TF.max_pool2d, x, **kw)
        check_function(F.max_pool1d, TF.max_pool1d, x[0], kernel_size=2, stride=1,
                       dilation=2)
        _, i = F.max_pool2d(it.asarray(x), return_indices=True, **kw)
        assert i.dtype == it.int32          # (JAX without x64: the default index dtype)
    _, want = TF.max_pool2d(torch.from_numpy(x), return_indices=True, **kw)
    np.testing.assert_array_equal(to_np(i), want.numpy())


@pytest.mark.parametrize("geometry", [GEOMETRY[0], GEOMETRY[4]], ids=["2x2", "overlapping"])
def test_threads_share_the_planes_bit_for_bit(monkeypatch, geometry):
    # (float32 planes split among the team's threads: parts of whole planes, each as alone)
    if not _jit.available():
        pytest.skip("numba is not installed")
    from threadpoolctl import threadpool_limits
    from interop.backends import _jit_pool
    prev = _jit.set_enabled(True)
    monkeypatch.setattr(_jit_pool, "SPLIT", 1)
    try:
        shape, kernel, stride, dilation, padding, ceil = geometry
        x = _data(shape, "float32", "special", seed=3)
        out = _out(shape[2:], kernel, stride, dilation, padding, ceil)
        results = []
        for n in (1, 2):
            with threadpool_limits(limits=n, user_api="blas"):     # (the team's count)
                m, idx = _jit_pool.window_argmax(x, kernel, stride, dilation, padding, out)
                g = _data(m.shape, "float32", "normal", seed=4)
                gx = _jit_pool.window_argmax_add(shape, g, idx, kernel, stride, dilation,
                                                 padding)
            results.append((m, idx, gx))
        for a, b in zip(*results):
            np.testing.assert_array_equal(a, b)
    finally:
        _jit.set_enabled(prev)
