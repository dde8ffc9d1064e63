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
import interop.nn.functional as F
from interop.backends import _jit

torch = pytest.importorskip("torch")

compiled = pytest.mark.skipif(not _jit.available(), reason="numba is not installed")

INF, NAN = float("inf"), float("nan")


def _both_paths(fn):
    """``fn()`` with the compiled path on, then off (the reference), as NumPy arrays."""
    prev = _jit.set_enabled(True)
    try:
        on = fn()
        _jit.set_enabled(False)
        off = fn()
    finally:
        _jit.set_enabled(prev)
    return on, off


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
@pytest.mark.parametrize("n", [1, 5, 16, 17, 33, 256, 1000])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_kernels_compiled_match_reference(name, n):
    rng = np.random.default_rng(n)
    x = _edge_rows(n, rng)
    g = rng.standard_normal(x.shape).astype(np.float32)
    ns = it.get_backend("cpu").ns
    fwd, bwd = getattr(ns, name), getattr(ns, name + "_backward")
    y_on, y_off = _both_paths(lambda: fwd(x, (1,)))
    np.testing.assert_allclose(y_on, y_off, rtol=2e-6, atol=1e-7 if name == "softmax" else 2e-6)
    assert y_on.dtype == np.float32
    y = y_off
    g_on, g_off = _both_paths(lambda: bwd(g, y, (1,)))
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
    on, off = _both_paths(lambda: ns.softmax_backward(g, y, (1,)))
    np.testing.assert_allclose(on, off, rtol=1e-13, atol=1e-15)
    on, off = _both_paths(lambda: ns.log_softmax_backward(g, np.log(y), (1,)))
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
