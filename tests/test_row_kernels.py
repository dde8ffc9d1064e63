"""The row kernels of issue 29: softmax and log_softmax (kernels ``softmax``,
``log_softmax``, ``softmax_backward``, ``log_softmax_backward``) and the normalization rows
of layer and group norm. On the cpu backend they run compiled (interop/backends/_jit_norm.py)
where numba is installed: every test here compares the compiled path with the NumPy
reference (``_jit.set_enabled(False)``) on the same data, and the layers with PyTorch in
float32 at the edges (NaN and inf rows, -inf logits, empty batches, non-contiguous inputs),
on every backend; float64 gradcheck and gradgradcheck, and double backward through the
compiled forward."""

import numpy as np
import pytest

import interop as it
from interop.backends import _jit
from helpers import compiled_and_reference

torch = pytest.importorskip("torch")

compiled = pytest.mark.skipif(not _jit.available(), reason="numba is not installed")

INF, NAN = float("inf"), float("nan")


def _edge_rows(n, rng):
    """(7, n) float32 logits: ordinary, large, tiny, with -inf entries, with a NaN, with +inf,
    and all -inf."""
    x = rng.standard_normal((7, n)).astype(np.float32)
    x[1] *= 1e4
    x[2] *= 1e-6
    x[3, ::3] = -INF
    x[4, n // 2] = NAN
    x[5, n - 1] = INF
    x[6] = -INF
    return x


# ----------------------------------------------------------------------------- softmax

@compiled
@pytest.mark.parametrize("n", [1, 5, 16, 17, 33, 256, 1000, 70001])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_kernels_compiled_match_reference(name, n):
    rng = np.random.default_rng(n)
    x = _edge_rows(n, rng)
    g = rng.standard_normal(x.shape).astype(np.float32)
    ns = it.get_backend("cpu").ns
    fwd, bwd = getattr(ns, name), getattr(ns, name + "_backward")
    y_on, y_off = compiled_and_reference(lambda: fwd(x, (1,)))
    np.testing.assert_allclose(y_on, y_off, rtol=2e-6, atol=1e-7 if name == "softmax" else 2e-6)
    assert y_on.dtype == np.float32
    y = y_off
    g_on, g_off = compiled_and_reference(lambda: bwd(g, y, (1,)))
    np.testing.assert_allclose(g_on, g_off, rtol=2e-6, atol=2e-6)
    np.testing.assert_array_equal(x, _edge_rows(n, np.random.default_rng(n)))   # unchanged


@compiled
def test_softmax_backward_compiled_in_float64_and_on_broadcast_gradients():
    """softmax's backward is compiled for float64 too (no exp in it); a gradient that is a
    broadcast (zero strides, as from a sum) is taken as it is."""
    rng = np.random.default_rng(3)
    ns = it.get_backend("cpu").ns
    y = ns.softmax(rng.standard_normal((6, 40)), (1,))
    g = np.broadcast_to(rng.standard_normal((1, 40)), (6, 40))
    on, off = compiled_and_reference(lambda: ns.softmax_backward(g, y, (1,)))
    np.testing.assert_allclose(on, off, rtol=1e-13, atol=1e-15)
    on, off = compiled_and_reference(lambda: ns.log_softmax_backward(g, np.log(y), (1,)))
    np.testing.assert_allclose(on, off, rtol=1e-13, atol=1e-15)


def _torch_softmax_case(name, x, dim, g):
    t = torch.tensor(x, requires_grad=True)
    y = getattr(torch, name)(t, dim)
    y.backward(torch.tensor(g))
    return y.detach().numpy(), t.grad.numpy()


def _interop_softmax_case(name, x, dim, g):
    t = it.tensor(x, requires_grad=True)
    y = getattr(it, name)(t, dim)
    y.backward(it.tensor(g))
    return y.detach().numpy(), t.grad.numpy()


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("case", ["edges", "transposed", "dim0", "empty_batch", "empty_rows",
                                  "one_d", "zero_d"])
def test_softmax_matches_torch_at_the_edges(be, name, case):
    rng = np.random.default_rng(11)
    dim = -1
    if case == "edges":
        x = _edge_rows(40, rng)
    elif case == "transposed":             # a non-contiguous input (rows along memory's dim 0)
        x = _edge_rows(24, rng).T
    elif case == "dim0":
        x, dim = _edge_rows(20, rng), 0
    elif case == "empty_batch":
        x = np.zeros((0, 8), np.float32)
    elif case == "empty_rows":
        x = np.zeros((3, 0), np.float32)
    elif case == "one_d":
        x = rng.standard_normal(300).astype(np.float32)
    else:
        x = np.full((), 1.5, np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    want_y, want_g = _torch_softmax_case(name, np.array(x, order="C"), dim, g)
    if case == "transposed":
        t = it.tensor(x.T.copy(), requires_grad=True)
        y = getattr(it, name)(t.T, dim)
        y.backward(it.tensor(g))
        got_y, got_g = y.detach().numpy(), t.grad.numpy().T
    else:
        got_y, got_g = _interop_softmax_case(name, x, dim, g)
    np.testing.assert_allclose(got_y, want_y, rtol=1.3e-6, atol=1e-5)
    np.testing.assert_allclose(got_g, want_g, rtol=1.3e-6, atol=1e-5)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_gradcheck_and_gradgradcheck(be, name):
    rng = np.random.default_rng(5)
    x = it.tensor(rng.standard_normal((3, 20)), requires_grad=True)
    fn = lambda t: getattr(it, name)(t, -1)
    assert it.autograd.gradcheck(fn, (x,))
    assert it.autograd.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_double_backward_in_float32_matches_torch(be, name):
    """create_graph through the (compiled, on cpu) float32 forward: the backward runs on
    tensors there, and its own gradient matches PyTorch's."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 48)).astype(np.float32)
    v = rng.standard_normal(x.shape).astype(np.float32)
    w = rng.standard_normal(x.shape).astype(np.float32)

    def run(lib, t, v, w):
        y = getattr(lib, name)(t, -1)
        (gx,) = lib.autograd.grad((y * v).sum(), t, create_graph=True)
        (ggx,) = lib.autograd.grad((gx * w).sum(), t)
        return gx.detach().numpy(), ggx.numpy()

    want = run(torch, torch.tensor(x, requires_grad=True), torch.tensor(v), torch.tensor(w))
    got = run(it, it.tensor(x, requires_grad=True), it.tensor(v), it.tensor(w))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------- normalization rows

def _norm_rows_data(form, dtype, rng):
    """x (R, P, Q) with awkward rows (a large mean and a tiny spread, a constant row, a NaN,
    an inf), g, and the weight shape."""
    if form == "layer":
        x, wshape = rng.standard_normal((9, 1, 40)), (1, 1, 40)
    elif form == "group":
        x, wshape = rng.standard_normal((8, 3, 7)), (4, 3, 1)
    elif form == "entries":          # a weight per entry of a (P, Q) row
        x, wshape = rng.standard_normal((8, 3, 7)), (1, 3, 7)
    else:                            # ... and per group of rows: the standard-only form
        x, wshape = rng.standard_normal((8, 3, 7)), (2, 3, 7)
    x[1] = 1e3 + 1e-3 * x[1]
    x[2] = 0.5
    x[3].flat[4] = NAN
    x[4].flat[2] = INF
    return x.astype(dtype), rng.standard_normal(x.shape).astype(dtype), wshape


@compiled
@pytest.mark.parametrize("form", ["layer", "group", "entries", "general"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, True),
                                    (False, False)])
def test_normalize_rows_kernels_compiled_match_reference(form, dtype, affine):
    rng = np.random.default_rng(21)
    x, g, wshape = _norm_rows_data(form, dtype, rng)
    w = rng.standard_normal(wshape).astype(dtype) if affine[0] else None
    b = rng.standard_normal(wshape).astype(dtype) if affine[1] else None
    ns = it.get_backend("cpu").ns
    fwd_on, fwd_off = compiled_and_reference(lambda: ns.normalize_rows(x, w, b, 1e-5))
    # (row 1's spread is 1e-6 of its mean: its normalized values carry 1e6 times the
    # dtype's rounding, on either path; row 2 is constant: rstd = 1/sqrt(eps) = 316 scales
    # its gradient's rounding)
    tol = dict(rtol=5e-5, atol=5e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-9)
    for a, c in zip(fwd_on, fwd_off):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, c, **tol)
    _, mean, rstd = fwd_off
    bwd_on, bwd_off = compiled_and_reference(lambda: ns.normalize_rows_backward(g, x, w, mean, rstd, wshape))
    ok = np.ones(x.shape[0], bool)
    ok[[3, 4]] = False               # (NaN rows: their sums reach every weight's gradient)
    np.testing.assert_allclose(bwd_on[0][ok], bwd_off[0][ok], **tol)
    assert np.isnan(bwd_on[0][~ok]).all() and np.isnan(bwd_off[0][~ok]).all()
    for a, c in zip(bwd_on[1:], bwd_off[1:]):
        assert a.shape == wshape and a.dtype == dtype
        np.testing.assert_array_equal(np.isnan(a), np.isnan(c))
    # without the NaN and inf rows the weight's and bias's gradients agree too
    clean = x.copy()
    clean[~ok] = rng.standard_normal(clean[~ok].shape)
    _, mean, rstd = ns.normalize_rows(clean, w, b, 1e-5)
    k_on, k_off = compiled_and_reference(lambda: ns.normalize_rows_backward(g, clean, w, mean, rstd,
                                                                 wshape))
    for a, c in zip(k_on, k_off):
        np.testing.assert_allclose(a, c, **tol)


def _layer(lib, x, w, b, eps, kind):
    F_ = lib.nn.functional
    if kind == "layer":
        return F_.layer_norm(x, (x.shape[-1],), w, b, eps)
    return F_.group_norm(x, 2, w, b, eps)


@pytest.mark.parametrize("kind", ["layer", "group"])
@pytest.mark.parametrize("case", ["plain", "edges", "no_weight", "no_bias", "no_affine",
                                  "eps", "transposed", "empty_batch"])
def test_layer_and_group_norm_match_torch_at_the_edges(be, kind, case):
    rng = np.random.default_rng(31)
    shape = (6, 40) if kind == "layer" else (3, 4, 5, 6)
    if case == "empty_batch":
        shape = (0,) + shape[1:]
    x = rng.standard_normal(shape).astype(np.float32)
    if case == "edges" and kind == "layer":
        x[1] = 1e3 + 1e-3 * x[1]
        x[2] = 0.25
        x[3, 7] = NAN
        x[4, 0] = -INF
    elif case == "edges":
        x[0, :2] = 1e3 + 1e-3 * x[0, :2]
        x[1, 2:] = 0.25
        x[2, 0, 1, 1] = NAN
    c = shape[-1] if kind == "layer" else shape[1]
    w = rng.standard_normal(c).astype(np.float32) if case not in ("no_weight",
                                                                 "no_affine") else None
    b = rng.standard_normal(c).astype(np.float32) if case not in ("no_bias",
                                                                 "no_affine") else None
    eps = 0.5 if case == "eps" else 1e-5
    g = rng.standard_normal(shape).astype(np.float32)

    def run(lib, dtype=None):
        if case == "transposed":        # a non-contiguous input: the transpose of a copy
            base = lib.tensor(np.swapaxes(x, 0, -1).copy(), requires_grad=True)
            t = base.transpose(0, -1) if lib is torch else it.permute_dims(
                base, tuple(range(base.ndim))[::-1] if base.ndim == 2 else (3, 1, 2, 0))
        else:
            base = t = lib.tensor(x, requires_grad=True, dtype=dtype)
        tw = None if w is None else lib.tensor(w, requires_grad=True, dtype=dtype)
        tb = None if b is None else lib.tensor(b, requires_grad=True, dtype=dtype)
        wy = tw
        if lib is torch and kind == "group" and w is None and b is not None:
            # (PyTorch's group_norm backward fails with a bias and no weight: a weight of
            # ones outside the graph instead, the same function)
            wy = torch.ones(c, dtype=dtype or torch.float32)
        y = _layer(lib, t, wy, tb, eps, kind)
        y.backward(lib.tensor(g, dtype=dtype))
        grads = [base.grad.numpy()] + [a.grad.numpy() for a in (tw, tb) if a is not None]
        return [y.detach().numpy()] + grads

    # a spread of 1e-6 of the mean: PyTorch's float32 result is off by up to 2e-2 there.
    # interop's must be no further from the float64 truth than PyTorch's, NaN where it is.
    _assert_like_torch(run, case)


def _assert_like_torch(run, case):
    """``run(lib[, dtype])`` (results as NumPy arrays) of interop against PyTorch: within
    1e-4 in float32, except for the "edges" case, where interop's results must be no further
    from the float64 truth than PyTorch's float32 ones, and NaN exactly where PyTorch's are."""
    if case != "edges":
        for got, want in zip(run(it), run(torch)):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
        return
    for got, want32, truth in zip(run(it), run(torch), run(torch, torch.float64)):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want32))
        fin = ~np.isnan(want32)
        err, err_torch = np.abs(got - truth)[fin], np.abs(want32 - truth)[fin]
        assert (err <= err_torch + 1e-4 + 1e-4 * np.abs(truth[fin])).all(), \
            (err.max(), err_torch.max())


@pytest.mark.parametrize("kind", ["layer", "group"])
def test_layer_and_group_norm_gradcheck_and_gradgradcheck(be, kind):
    rng = np.random.default_rng(8)
    shape = (3, 20) if kind == "layer" else (2, 4, 3, 2)
    c = shape[-1] if kind == "layer" else shape[1]
    x = it.tensor(rng.standard_normal(shape), requires_grad=True)
    w = it.tensor(rng.standard_normal(c), requires_grad=True)
    b = it.tensor(rng.standard_normal(c), requires_grad=True)
    fn = lambda x, w, b: _layer(it, x, w, b, 1e-5, kind)
    assert it.autograd.gradcheck(fn, (x, w, b))
    assert it.autograd.gradgradcheck(fn, (x, w, b))


@pytest.mark.parametrize("kind", ["layer", "group"])
def test_layer_and_group_norm_double_backward_in_float32_matches_torch(be, kind):
    """create_graph through the (compiled, on cpu) float32 forward: the backward runs on
    tensors there, with the statistics recomputed from x."""
    rng = np.random.default_rng(9)
    shape = (5, 48) if kind == "layer" else (2, 4, 6, 5)
    c = shape[-1] if kind == "layer" else shape[1]
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal(c).astype(np.float32)
    v = rng.standard_normal(shape).astype(np.float32)
    u = rng.standard_normal(shape).astype(np.float32)

    def run(lib):
        t, tw = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = _layer(lib, t, tw, None, 1e-5, kind)
        gx, gw = lib.autograd.grad((y * lib.tensor(v)).sum(), (t, tw), create_graph=True)
        (ggx,) = lib.autograd.grad((gx * lib.tensor(u)).sum() + gw.sum(), (t,))
        return gx.detach().numpy(), gw.detach().numpy(), ggx.numpy()

    for got, want in zip(run(it), run(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_run_kernel_refuses_to_drop_a_gradient_and_names_what_is_wrong():
    x = it.ones((2, 1, 3), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"run_kernel\('normalize_rows'\) records no "
                                           r"gradient, and an argument requires grad"):
        it.autograd.run_kernel("normalize_rows", x, None, None, 1e-5)
    with it.no_grad():
        y, mean, rstd = it.autograd.run_kernel("normalize_rows", x, None, None, 1e-5)
    assert isinstance(y, it.Tensor) and tuple(mean.shape) == (2,) and not y.requires_grad
    with pytest.raises(KeyError, match=r"unknown kernel 'no_such'"):
        it.autograd.run_kernel("no_such", x.detach())
    with pytest.raises(TypeError, match=r"at least one tensor"):
        it.autograd.run_kernel("softmax", 1.0, (0,))


@compiled
def test_the_compiled_path_is_the_one_that_runs_and_set_enabled_turns_it_off(monkeypatch):
    """(So that the comparisons above compare two different paths.)"""
    from interop.backends import _jit_norm
    calls = []
    for name in ("softmax_rows", "softmax_grad_rows", "log_softmax_grad_rows",
                 "normalize_rows", "normalize_rows_grad", "normalize_channels",
                 "normalize_channels_grad"):
        real = getattr(_jit_norm, name)
        monkeypatch.setattr(_jit_norm, name,
                            lambda *a, _real=real, _name=name: calls.append(_name) or _real(*a))
    ns = it.get_backend("cpu").ns
    x = np.ones((3, 1, 20), np.float32)

    def run_all():
        y = ns.softmax(x[:, 0], (1,))
        ns.softmax_backward(y, y, (1,))
        ns.log_softmax_backward(y, ns.log_softmax(x[:, 0], (1,)), (1,))
        _, mean, rstd = ns.normalize_rows(x, None, None, 1e-5)
        ns.normalize_rows_backward(x, x, None, mean, rstd, (1, 1, 20))
        _, mean, rstd, _ = ns.normalize_channels(x, None, None, 1e-5)
        ns.normalize_channels_backward(x, x, None, mean, rstd)

    prev = _jit.set_enabled(True)
    try:
        run_all()
        on = calls[:]
        del calls[:]
        _jit.set_enabled(False)
        run_all()
    finally:
        _jit.set_enabled(prev)
    assert on == ["softmax_rows", "softmax_grad_rows", "softmax_rows", "log_softmax_grad_rows",
                  "normalize_rows", "normalize_rows_grad", "normalize_channels",
                  "normalize_channels_grad"]
    assert calls == []


@pytest.mark.parametrize("form", ["layer", "group", "entries", "general"])
def test_normalize_rows_kernels_match_torch_autograd(form):
    """Both paths of the cpu backend's normalize_rows and its backward against the same
    function written with PyTorch's ops (float64, ordinary rows), for every weight layout
    the kernel table allows."""
    rng = np.random.default_rng(41)
    x, g, wshape = _norm_rows_data(form, np.float64, rng)
    x = rng.standard_normal(x.shape)
    w, b = rng.standard_normal(wshape), rng.standard_normal(wshape)
    reps = x.shape[0] // wshape[0]
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    var = tx.var(dim=(1, 2), keepdim=True, unbiased=False)
    ty = (tx - tx.mean(dim=(1, 2), keepdim=True)) / torch.sqrt(var + 1e-5)
    ty = ty * tw.repeat(reps, 1, 1) + tb.repeat(reps, 1, 1)
    ty.backward(torch.tensor(g))
    ns = it.get_backend("cpu").ns
    for paths in compiled_and_reference(lambda: (ns.normalize_rows(x, w, b, 1e-5),)):
        y, mean, rstd = paths[0]
        np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    for gx, gw, gb in compiled_and_reference(lambda: ns.normalize_rows_backward(g, x, w, mean, rstd,
                                                                     wshape)):
        np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(gw, tw.grad.numpy(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------- normalization channels

def _channels_data(dtype, rng):
    """x (A, K, L) with awkward channels (a large mean and a tiny spread, a constant one, a
    NaN, an inf) and g."""
    x = rng.standard_normal((5, 6, 9))
    x[:, 1] = 1e3 + 1e-3 * x[:, 1]
    x[:, 2] = 0.5
    x[2, 3, 4] = NAN
    x[1, 4, 0] = INF
    return x.astype(dtype), rng.standard_normal(x.shape).astype(dtype)


@compiled
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, True),
                                    (False, False)])
def test_normalize_channels_kernels_compiled_match_reference(dtype, affine):
    rng = np.random.default_rng(51)
    x, g = _channels_data(dtype, rng)
    w = rng.standard_normal(6).astype(dtype) if affine[0] else None
    b = rng.standard_normal(6).astype(dtype) if affine[1] else None
    ns = it.get_backend("cpu").ns
    tol = dict(rtol=5e-5, atol=5e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-9)
    fwd_on, fwd_off = compiled_and_reference(lambda: ns.normalize_channels(x, w, b, 1e-5))
    for a, c in zip(fwd_on, fwd_off):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, c, **tol)
    _, mean, rstd, _ = fwd_off
    bwd_on, bwd_off = compiled_and_reference(lambda: ns.normalize_channels_backward(g, x, w, mean, rstd))
    for a, c in zip(bwd_on, bwd_off):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, c, **tol)
    assert np.isnan(bwd_on[0][:, 3:5]).all() and np.isfinite(bwd_on[0][:, :3]).all()


def test_normalize_channels_kernels_match_torch_autograd():
    rng = np.random.default_rng(52)
    x, g = rng.standard_normal((4, 3, 10)), rng.standard_normal((4, 3, 10))
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = torch.nn.functional.batch_norm(tx, None, None, tw, tb, training=True)
    ty.backward(torch.tensor(g))
    var = x.var(axis=(0, 2))
    ns = it.get_backend("cpu").ns
    for y, mean, rstd, ssd in compiled_and_reference(lambda: ns.normalize_channels(x, w, b, 1e-5)):
        np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(mean, x.mean(axis=(0, 2)), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ssd, var * 40, rtol=1e-10)
        np.testing.assert_allclose(rstd, 1 / np.sqrt(var + 1e-5), rtol=1e-10)
    for gx, gw, gb in compiled_and_reference(lambda: ns.normalize_channels_backward(g, x, w, mean, rstd)):
        np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(gw, tw.grad.numpy(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=1e-10, atol=1e-10)


def _channel_layer(lib, kind, x, w, b, eps, stats=None):
    F_ = lib.nn.functional
    if kind == "batch":
        rm, rv = stats if stats is not None else (None, None)
        return F_.batch_norm(x, rm, rv, w, b, training=True, momentum=0.3, eps=eps)
    if kind == "instance":
        return F_.instance_norm(x, weight=w, bias=b, eps=eps)
    return F_.group_norm(x, x.shape[1], w, b, eps)       # (a group per channel)


@pytest.mark.parametrize("kind", ["batch", "instance", "group_per_channel"])
@pytest.mark.parametrize("case", ["plain", "edges", "no_weight", "no_affine", "eps",
                                  "transposed", "three_d"])
def test_batch_and_instance_norm_match_torch_at_the_edges(be, kind, case):
    rng = np.random.default_rng(61)
    shape = (4, 3, 5) if case == "three_d" else (4, 3, 5, 6)
    x = rng.standard_normal(shape).astype(np.float32)
    if case == "edges":
        x[:, 0] = 1e3 + 1e-3 * x[:, 0]
        x[:, 1] = 0.25
        x[1, 2, 2] = NAN
    w = None if case in ("no_weight", "no_affine") else rng.standard_normal(3).astype(
        np.float32)
    b = None if case == "no_affine" else rng.standard_normal(3).astype(np.float32)
    if kind == "group_per_channel" and w is None and b is not None:
        b = None         # (PyTorch's group_norm backward fails with a bias and no weight)
    eps = 0.5 if case == "eps" else 1e-5
    g = rng.standard_normal(shape).astype(np.float32)

    def run(lib, dtype=None):
        if case == "transposed":        # a non-contiguous input: channels last in memory
            base = lib.tensor(np.moveaxis(x, 1, -1).copy(), requires_grad=True, dtype=dtype)
            t = base.permute(0, 3, 1, 2) if lib is torch else it.permute_dims(base,
                                                                               (0, 3, 1, 2))
        else:
            base = t = lib.tensor(x, requires_grad=True, dtype=dtype)
        tw = None if w is None else lib.tensor(w, requires_grad=True, dtype=dtype)
        tb = None if b is None else lib.tensor(b, requires_grad=True, dtype=dtype)
        stats = (lib.zeros(3, dtype=dtype), lib.ones(3, dtype=dtype)) if kind == "batch" \
            else None
        y = _channel_layer(lib, kind, t, tw, tb, eps, stats)
        y.backward(lib.tensor(g, dtype=dtype))
        grads = [base.grad.numpy()] + [a.grad.numpy() for a in (tw, tb) if a is not None]
        out = [y.detach().numpy()] + grads
        if stats is not None:
            out += [s.numpy() for s in stats]
        return out

    # (a NaN reaches every entry a channel's sums touch)
    _assert_like_torch(run, case)


@pytest.mark.parametrize("kind", ["batch", "instance"])
def test_batch_and_instance_norm_gradcheck_and_gradgradcheck(be, kind):
    rng = np.random.default_rng(62)
    x = it.tensor(rng.standard_normal((3, 2, 4)), requires_grad=True)
    w = it.tensor(rng.standard_normal(2), requires_grad=True)
    b = it.tensor(rng.standard_normal(2), requires_grad=True)
    fn = lambda x, w, b: _channel_layer(it, kind, x, w, b, 1e-5)
    assert it.autograd.gradcheck(fn, (x, w, b))
    assert it.autograd.gradgradcheck(fn, (x, w, b))


def test_batch_norm_double_backward_in_float32_matches_torch(be):
    rng = np.random.default_rng(63)
    x = rng.standard_normal((6, 4, 5)).astype(np.float32)
    w = rng.standard_normal(4).astype(np.float32)
    v = rng.standard_normal(x.shape).astype(np.float32)
    u = rng.standard_normal(x.shape).astype(np.float32)

    def run(lib):
        t, tw = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = _channel_layer(lib, "batch", t, tw, None, 1e-5)
        gx, gw = lib.autograd.grad((y * lib.tensor(v)).sum(), (t, tw), create_graph=True)
        (ggx,) = lib.autograd.grad((gx * lib.tensor(u)).sum() + gw.sum(), (t,))
        return gx.detach().numpy(), gw.detach().numpy(), ggx.numpy()

    for got, want in zip(run(it), run(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
