"""Pooling (``interop.nn.modules.pooling`` and its functional forms) against PyTorch:
max/avg/lp/adaptive pooling, max_unpool1d/2d/3d, fractional_max_pool2d/3d (the same
``_random_samples`` give PyTorch's windows) and their modules: outputs, indices, input
gradients over strides, paddings, dilations, ceil_mode, shapes and options, float32 and
float64, unbatched and empty batches; ties, NaN and -inf in max pooling; gradients of
gradients; index dtypes where int64 is missing; reprs and the errors for bad input."""

import numpy as np
import pytest

import interop as it
from interop import nn
import interop.nn.functional as F
from helpers import to_np, jax_backend
from torch_compare import Const, assert_same, check_function, check_module

torch = pytest.importorskip("torch")
TF = torch.nn.functional
TNN = torch.nn


def _rand(shape, dtype="float32", seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _ties(shape, dtype="float32", seed=0):
    """Small integers as floats: windows full of equal maxima."""
    return np.random.default_rng(seed).integers(0, 3, shape).astype(dtype)


def _x(*shape, dtype="float32"):
    return it.asarray(_rand(shape, dtype))


# ---------------------------------------------------------------------------- max pooling

MAX_POOL = [
    (1, (2, 3, 9), dict(kernel_size=3, stride=2, padding=1)),
    (1, (2, 3, 9), dict(kernel_size=2)),
    (1, (3, 10), dict(kernel_size=3, stride=1, dilation=2, ceil_mode=True)),
    (2, (2, 3, 8, 8), dict(kernel_size=2)),
    (2, (2, 3, 7, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    (2, (2, 3, 7, 8), dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1), padding=(1, 1))),
    (2, (3, 5, 6), dict(kernel_size=2, stride=1)),
    (2, (0, 3, 6, 6), dict(kernel_size=2)),
    (3, (1, 2, 5, 4, 5), dict(kernel_size=2)),
    (3, (1, 2, 5, 4, 5), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
]


@pytest.mark.parametrize("case", MAX_POOL, ids=lambda c: f"{c[0]}d-{c[1]}-{c[2]}")
@pytest.mark.parametrize("indices", [False, True])
@pytest.mark.parametrize("data", [_rand, _ties])
def test_max_pool_matches_pytorch(be, case, indices, data):
    """Random values, and small integers (ties: the gradient goes to the first maximum)."""
    n, shape, kw = case
    fn = f"max_pool{n}d"
    check_function(getattr(F, fn), getattr(TF, fn), data(shape), return_indices=indices, **kw)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_max_pool_nan_and_inf_match_pytorch(be, dtype):
    """A window with NaNs gives NaN, its gradient to the last NaN; -inf inputs beside -inf
    padding send the gradient to the first real element."""
    x = _rand((1, 2, 6, 7), dtype)
    x[0, 0, 1, 1] = x[0, 0, 0, 1] = x[0, 1, 4, 4] = np.nan
    x[0, 1, :3, :3] = -np.inf
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
               dict(kernel_size=3, stride=1, padding=1, return_indices=True)):
        check_function(F.max_pool2d, TF.max_pool2d, x, **kw)
    check_function(F.max_pool1d, TF.max_pool1d, x[0], kernel_size=2, stride=1, padding=1,
                   return_indices=True)


def test_max_pool_with_indices_functions(be):
    x = _rand((2, 3, 6, 6))
    check_function(F.max_pool2d_with_indices, TF.max_pool2d_with_indices, x, 3, 2, 1)
    check_function(F.max_pool1d_with_indices, TF.max_pool1d_with_indices, x[0], 2)


# ------------------------------------------------------------------------ average pooling

AVG_POOL = [
    (1, (2, 3, 9), dict(kernel_size=3, stride=2, padding=1)),
    (1, (3, 10), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True,
                      count_include_pad=False)),
    (2, (2, 3, 8, 8), dict(kernel_size=2)),
    (2, (2, 3, 7, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    (2, (2, 3, 7, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                           count_include_pad=False)),
    (2, (2, 3, 7, 8), dict(kernel_size=(2, 3), stride=(3, 1), padding=(1, 1),
                           divisor_override=5)),
    (2, (0, 3, 7, 8), dict(kernel_size=2)),
    (3, (1, 2, 5, 4, 5), dict(kernel_size=2, stride=1)),
    (3, (2, 5, 4, 5), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False,
                           ceil_mode=True)),
]


@pytest.mark.parametrize("case", AVG_POOL, ids=lambda c: f"{c[0]}d-{c[1]}-{c[2]}")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_avg_pool_matches_pytorch(be, case, dtype):
    n, shape, kw = case
    fn = f"avg_pool{n}d"
    check_function(getattr(F, fn), getattr(TF, fn), _rand(shape, dtype), **kw)


@pytest.mark.parametrize("n, shape, kw", [
    (1, (2, 3, 9), dict(norm_type=2, kernel_size=3, stride=2)),
    (1, (3, 9), dict(norm_type=3.0, kernel_size=2, ceil_mode=True)),
    (2, (2, 3, 7, 8), dict(norm_type=2, kernel_size=(2, 3))),
    (2, (2, 3, 7, 8), dict(norm_type=1.5, kernel_size=3, stride=2, ceil_mode=True)),
    (3, (1, 2, 4, 5, 4), dict(norm_type=2, kernel_size=2)),
])
def test_lp_pool_matches_pytorch(be, n, shape, kw):
    fn = f"lp_pool{n}d"
    check_function(getattr(F, fn), getattr(TF, fn), np.abs(_rand(shape)) + 0.1, **kw)


# ----------------------------------------------------------------------- adaptive pooling

ADAPTIVE = [
    (1, (2, 3, 9), 4),
    (1, (3, 7), 7),
    (1, (2, 3, 5), 8),
    (2, (2, 3, 7, 9), (3, 4)),
    (2, (2, 3, 7, 9), (None, 2)),
    (2, (3, 6, 6), 1),
    (2, (2, 3, 5, 4), (7, 6)),
    (2, (0, 3, 6, 6), 2),
    (3, (1, 2, 5, 4, 6), (2, 3, 4)),
]


@pytest.mark.parametrize("case", ADAPTIVE, ids=lambda c: f"{c[0]}d-{c[1]}-{c[2]}")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adaptive_avg_pool_matches_pytorch(be, case, dtype):
    n, shape, size = case
    fn = f"adaptive_avg_pool{n}d"
    check_function(getattr(F, fn), getattr(TF, fn), _rand(shape, dtype), size)


@pytest.mark.parametrize("case", ADAPTIVE, ids=lambda c: f"{c[0]}d-{c[1]}-{c[2]}")
@pytest.mark.parametrize("data", [_rand, _ties])
def test_adaptive_max_pool_matches_pytorch(be, case, data):
    n, shape, size = case
    fn = f"adaptive_max_pool{n}d"
    check_function(getattr(F, fn), getattr(TF, fn), data(shape), size, return_indices=True)
    check_function(getattr(F, fn), getattr(TF, fn), data(shape), size)


def test_adaptive_max_pool_nan_matches_pytorch(be):
    x = _rand((1, 2, 5, 7))
    x[0, 0, 1, 2] = x[0, 0, 2, 2] = x[0, 1, 4, 6] = np.nan
    check_function(F.adaptive_max_pool2d, TF.adaptive_max_pool2d, x, (3, 4), True)


# ---------------------------------------------------------------------------- max unpool

UNPOOL = [
    # (n, input shape, pool arguments, extra unpool arguments)
    (1, (2, 3, 9), dict(kernel_size=2), {}),
    (1, (3, 8), dict(kernel_size=3, stride=2, padding=1), dict(output_size=[8])),
    (2, (2, 3, 6, 5), dict(kernel_size=2), dict(output_size=(6, 5))),
    (2, (2, 2, 7, 7), dict(kernel_size=3, stride=2, padding=1), {}),
    (2, (3, 5, 6), dict(kernel_size=(2, 3), stride=(1, 2)), dict(output_size=(5, 6))),
    (2, (2, 3, 4, 4), dict(kernel_size=2), dict(output_size=(2, 3, 5, 5))),
    (3, (1, 2, 4, 5, 4), dict(kernel_size=2), dict(output_size=(5, 5, 4))),
    (3, (2, 4, 4, 4), dict(kernel_size=(1, 2, 2), stride=(1, 2, 1)), {}),
]


def _pooled(n, shape, pool, dtype="float32", data=_rand):
    """PyTorch's max pool of random data: (values, indices) as NumPy arrays."""
    x = torch.from_numpy(data(shape, dtype))
    y, i = getattr(TF, f"max_pool{n}d")(x, return_indices=True, **pool)
    return y.numpy(), i.numpy()


@pytest.mark.parametrize("case", UNPOOL, ids=lambda c: f"{c[0]}d-{c[1]}-{c[2]}-{c[3]}")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_max_unpool_matches_pytorch(be, case, dtype):
    n, shape, pool, extra = case
    y, i = _pooled(n, shape, pool, dtype)
    # any values, one per index: where overlapping windows repeat an index, which of its
    # writes lands in PyTorch's output varies from run to run with more than one thread
    # (max_unpool1d on (3, 8), kernel 3, stride 2: 2 distinct results in 50 calls at 2
    # threads, 1 at 1), so repeated indices carry one value
    y = (np.sin(i * 1.37 + 0.5) * 2).astype(dtype)
    kw = dict(pool, **extra)
    fn = f"max_unpool{n}d"
    check_function(getattr(F, fn), getattr(TF, fn), y, Const(i), **kw)


def test_max_unpool_repeated_indices_match_pytorch(be):
    """Overlapping windows full of ties pick the same element many times: the output is
    that element once, and every input's gradient is the gradient there."""
    y, i = _pooled(2, (2, 2, 6, 6), dict(kernel_size=3, stride=1), data=_ties)
    assert len(np.unique(i)) < i.size
    check_function(F.max_unpool2d, TF.max_unpool2d, y, Const(i), 3, stride=1,
                   output_size=(6, 6))


def test_max_unpool_inverts_our_max_pool(be):
    x = it.asarray(_rand((2, 3, 6, 8)))
    y, i = F.max_pool2d(x, 2, return_indices=True)
    u = F.max_unpool2d(y, i, 2)
    kept = to_np(u) != 0
    assert np.array_equal(to_np(u)[kept], to_np(x)[kept])
    assert kept.sum() == y.numel()


def test_max_unpool_double_backward(be):
    """Unpool is linear: the gradient of its gradient reaches the cotangent's weights."""
    y, i = _pooled(1, (2, 6), dict(kernel_size=2))
    x = it.asarray(y).requires_grad_()
    w = it.asarray(_rand((2, 6), seed=2)).requires_grad_()
    (g,) = it.autograd.grad((F.max_unpool1d(x, it.asarray(i), 2) * w).sum(), x,
                            create_graph=True)
    (g * g).sum().backward()
    xt = torch.from_numpy(y).requires_grad_()
    wt = torch.from_numpy(_rand((2, 6), seed=2)).requires_grad_()
    (gt,) = torch.autograd.grad((TF.max_unpool1d(xt, torch.from_numpy(i), 2) * wt).sum(), xt,
                                create_graph=True)
    (gt * gt).sum().backward()
    assert_same(g, gt, "gradient")
    assert_same(w.grad, wt.grad, "gradient of the gradient")


@pytest.mark.parametrize("make, size", [
    (lambda m: m.MaxUnpool1d(2), (8,)), (lambda m: m.MaxUnpool1d(3, 2, 1), (7,)),
    (lambda m: m.MaxUnpool2d(2), (6, 4)), (lambda m: m.MaxUnpool2d((2, 3), (1, 2)), (5, 7)),
    (lambda m: m.MaxUnpool3d(2, padding=(0, 1, 0)), (4, 6, 2)),
])
def test_max_unpool_modules_match_pytorch_and_repr(be, make, size):
    ours, theirs = make(nn), make(TNN)
    assert repr(ours) == repr(theirs)
    assert (ours.kernel_size, ours.stride, ours.padding) == \
        (theirs.kernel_size, theirs.stride, theirs.padding)
    pool = dict(kernel_size=theirs.kernel_size, stride=theirs.stride, padding=theirs.padding)
    y, i = _pooled(len(size), (2, 3) + size, pool)
    check_module(ours, theirs, y, Const(i))
    # a size the pool could have come from too (one more where the stride leaves room)
    grown = tuple(v + (s > 1) for v, s in zip(size, theirs.stride))
    check_module(ours, theirs, y, Const(i), output_size=grown)


def _unpool_args():
    y, i = F.max_pool2d(_x(1, 2, 4, 4), 2, return_indices=True)
    return y, i


@pytest.mark.parametrize("call, exc, match", [
    (lambda y, i: F.max_unpool2d(y, i, 2, output_size=(6, 5)), ValueError,
     r"dim 0 must be between 2 and 6"),
    (lambda y, i: F.max_unpool2d(y, i, 2, output_size=(5,)), ValueError,
     r"2 or 4 elements, but it has a length of 1"),
    (lambda y, i: F.max_unpool2d(y, it.astype(i, it.int32), 2), it.DTypeError,
     r"int64.*got interop.int32"),
    (lambda y, i: F.max_unpool2d(y, i[:, :, :1], 2), it.ShapeError,
     r"input's shape \[1, 2, 2, 2\], got indices of shape \[1, 2, 1, 2\]"),
    (lambda y, i: F.max_unpool2d(y, i + 100, 2), it.ArgumentError,
     r"invalid max index: 10\d.*\[0, 16\).*4 x 4"),
    (lambda y, i: F.max_unpool2d(y, i - 100, 2), it.ArgumentError, r"invalid max index: -"),
    (lambda y, i: F.max_unpool2d(y[0, 0], i[0, 0], 2), it.ShapeError,
     r"3-D \(unbatched\) or 4-D.*\[2, 2\]"),
    (lambda y, i: F.max_unpool2d(y[:, :0], i[:, :0], 2), it.ShapeError, r"\[1, 0, 2, 2\]"),
    (lambda y, i: F.max_unpool2d(it.astype(y, it.int64), i, 2), it.DTypeError,
     "floating-point"),
    (lambda y, i: F.max_unpool2d(y, i, 2, stride=0), it.ArgumentError,
     "stride must be greater than zero"),
    (lambda y, i: F.max_unpool2d(y, i, 2, padding=3), ValueError,
     r"non-negative spatial dimensions, but got output_size\[0\]=-2"),
    (lambda y, i: F.max_unpool2d(y, i, (2, 2, 2)), it.ArgumentError, "kernel_size"),
])
def test_max_unpool_errors(be, call, exc, match):
    with pytest.raises(exc, match=match):
        call(*_unpool_args())


# ------------------------------------------------------------------ fractional max pooling

FRACTIONAL = [
    # (n, input shape, kernel_size, keyword arguments)
    (2, (2, 3, 9, 8), 2, dict(output_size=(5, 4))),
    (2, (2, 2, 10, 7), (3, 2), dict(output_size=6)),        # overlapping windows
    (2, (3, 8, 8), 2, dict(output_ratio=(0.5, 0.75))),
    (2, (1, 2, 5, 5), 1, dict(output_size=5)),               # the largest output 2-d allows
    (2, (2, 2, 7, 6), 3, dict(output_size=1)),
    (3, (2, 2, 6, 7, 5), 2, dict(output_size=(3, 4, 2))),
    (3, (2, 7, 6, 6), (3, 2, 2), dict(output_ratio=0.5)),
    (3, (1, 1, 5, 5, 5), 1, dict(output_size=4)),            # the largest output 3-d allows
]


def _samples(case, dtype, seed=3):
    n, shape = case[0], case[1]
    nb = shape[0] if len(shape) == n + 2 else 1
    c = shape[-n - 1]
    return np.random.default_rng(seed).random((nb, c, n)).astype(dtype)


@pytest.mark.parametrize("case", FRACTIONAL, ids=lambda c: f"{c[0]}d-{c[1]}-{c[2]}-{c[3]}")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fractional_max_pool_matches_pytorch(be, case, dtype):
    n, shape, kernel, kw = case
    fn = f"fractional_max_pool{n}d"
    check_function(getattr(F, fn), getattr(TF, fn), _rand(shape, dtype), kernel,
                   return_indices=True, _random_samples=Const(_samples(case, dtype)), **kw)
    check_function(getattr(F, fn + "_with_indices"), getattr(TF, fn + "_with_indices"),
                   _ties(shape, dtype), kernel, _random_samples=Const(_samples(case, dtype, 4)),
                   **kw)


@pytest.mark.parametrize("seed", range(6))
def test_fractional_windows_match_pytorch_for_many_samples(be, seed):
    """The windows come from float32 arithmetic on the samples, as in PyTorch's kernel:
    many samples, sizes and kernels give the same indices."""
    rng = np.random.default_rng(seed)
    h, w = rng.integers(5, 30, 2)
    k = tuple(int(v) for v in rng.integers(1, 4, 2))
    out = (int(rng.integers(1, h - k[0] + 2)), int(rng.integers(1, w - k[1] + 2)))
    x, s = _rand((1, 16, h, w), seed=seed), rng.random((1, 16, 2)).astype("float32")
    _, i = F.fractional_max_pool2d(it.asarray(x), k, out, return_indices=True,
                                   _random_samples=it.asarray(s))
    _, i_t = TF.fractional_max_pool2d(torch.from_numpy(x), k, out, return_indices=True,
                                      _random_samples=torch.from_numpy(s))
    assert_same(i, i_t, "indices")


def test_fractional_max_pool_nan_and_empty(be):
    x = _rand((1, 2, 6, 6))
    x[0, 0, 1, 1] = x[0, 1, 2, 3] = x[0, 1, 3, 3] = np.nan
    s = Const(_samples((2, (1, 2, 6, 6)), "float32"))
    check_function(F.fractional_max_pool2d, TF.fractional_max_pool2d, x, 2, 3,
                   return_indices=True, _random_samples=s)
    check_function(F.fractional_max_pool2d, TF.fractional_max_pool2d, x, 2, (0, 3),
                   return_indices=True, _random_samples=s)
    check_function(F.fractional_max_pool2d, TF.fractional_max_pool2d, _rand((0, 2, 6, 6)), 2, 3,
                   return_indices=True)


def test_fractional_max_pool_draws_samples(be):
    """Without samples every call draws new windows (from interop's generator): the output
    has the asked size, holds input values, and a seed repeats it."""
    x = _x(2, 3, 12, 12)
    it.manual_seed(0)
    y1, i1 = F.fractional_max_pool2d(x, 2, output_ratio=0.5, return_indices=True)
    it.manual_seed(0)
    y2 = F.fractional_max_pool2d(x, 2, output_ratio=0.5)
    assert tuple(y1.shape) == (2, 3, 6, 6)
    assert np.array_equal(to_np(y1), to_np(y2))
    flat = to_np(x).reshape(2, 3, -1)
    assert np.array_equal(np.take_along_axis(flat, to_np(i1).reshape(2, 3, -1), 2),
                          to_np(y1).reshape(2, 3, -1))
    y3 = F.fractional_max_pool3d(_x(2, 7, 7, 7), 2, output_size=3)
    assert tuple(y3.shape) == (2, 3, 3, 3)


def test_fractional_max_pool_double_backward(be):
    x = _rand((1, 2, 7, 7), "float64")
    s = _samples((2, (1, 2, 7, 7)), "float64")
    w = _rand((1, 2, 3, 3), "float64", seed=5)

    def run(lib, fn, x, s, w):
        xt = lib.asarray(x) if lib is it else torch.from_numpy(x)
        xt.requires_grad_()
        st = lib.asarray(s) if lib is it else torch.from_numpy(s)
        wt = lib.asarray(w) if lib is it else torch.from_numpy(w)
        wt.requires_grad_()
        (g,) = lib.autograd.grad((fn(xt, 3, 3, _random_samples=st) * wt).sum(), xt,
                                 create_graph=True)
        (g * g).sum().backward()
        return g, wt.grad

    g, gw = run(it, F.fractional_max_pool2d, x, s, w)
    g_t, gw_t = run(torch, TF.fractional_max_pool2d, x, s, w)
    assert_same(g, g_t, "gradient")
    assert_same(gw, gw_t, "gradient of the gradient")


@pytest.mark.parametrize("make, shape", [
    (lambda m, s: m.FractionalMaxPool2d(2, output_size=4, _random_samples=s), (2, 3, 8, 9)),
    (lambda m, s: m.FractionalMaxPool2d((2, 3), output_ratio=(0.5, 0.6), return_indices=True,
                                        _random_samples=s), (2, 3, 8, 9)),
    (lambda m, s: m.FractionalMaxPool3d(2, output_size=(2, 3, 2), _random_samples=s),
     (2, 3, 5, 6, 5)),
    (lambda m, s: m.FractionalMaxPool3d(2, output_ratio=0.5, return_indices=True,
                                        _random_samples=s), (3, 6, 6, 6)),
])
def test_fractional_max_pool_modules_match_pytorch_and_repr(be, make, shape):
    n = len(make(TNN, None).kernel_size)
    s = _samples((n, shape), "float32")
    ours, theirs = make(nn, it.asarray(s)), make(TNN, torch.from_numpy(s))
    assert repr(ours) == repr(theirs)
    assert (ours.kernel_size, ours.output_size, ours.output_ratio, ours.return_indices) == \
        (theirs.kernel_size, theirs.output_size, theirs.output_ratio, theirs.return_indices)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["_random_samples"]
    check_module(ours, theirs, _rand(shape))
    assert list(make(nn, None).state_dict()) == []


@pytest.mark.parametrize("call, exc, match", [
    (lambda: F.fractional_max_pool2d(_x(1, 2, 7, 6), 2), ValueError,
     "either an output_size or an output_ratio"),
    (lambda: F.fractional_max_pool2d(_x(1, 2, 7, 6), 2, 6), it.ShapeError,
     "pool width 2 too large relative to input width 6"),
    (lambda: F.fractional_max_pool2d(_x(1, 2, 7, 6), 2, 7), it.ShapeError,
     "pool height 2 too large relative to input height 7"),
    (lambda: F.fractional_max_pool3d(_x(1, 1, 5, 5, 5), 1, 5), it.ShapeError,
     "pool time 1 too large relative to input time 5"),
    (lambda: F.fractional_max_pool2d(_x(1, 2, 7, 6), 0, 2), it.ArgumentError,
     "kernel_size must be greater than zero"),
    (lambda: F.fractional_max_pool2d(_x(1, 2, 7, 6), 2, -1), it.ArgumentError,
     "non-negative"),
    (lambda: F.fractional_max_pool2d(_x(1, 2, 7, 6), 2, output_ratio=(0.5, 0.5, 0.5)),
     ValueError, "output_ratio"),
    (lambda: F.fractional_max_pool2d(_x(1, 2, 7, 6), 2, 3, _random_samples=_x(1, 2, 2,
                                                                              dtype="float64")),
     it.DTypeError, "input's dtype"),
    (lambda: F.fractional_max_pool2d(_x(2, 2, 7, 6), 2, 3, _random_samples=_x(1, 2, 2)),
     it.ShapeError, r"batch size 2 and C=2, got \[1, 2, 2\]"),
    (lambda: F.fractional_max_pool2d(_x(1, 2, 7, 6), 2, 3, _random_samples=_x(1, 2, 3)),
     it.ShapeError, r"\(N, C, 2\).*got \[1, 2, 3\]"),
    (lambda: F.fractional_max_pool2d(_x(1, 2, 7, 6), 2, 3,
                                     _random_samples=it.full((1, 2, 2), 1.5)),
     it.ArgumentError, r"in \[0, 1\)"),
    (lambda: F.fractional_max_pool2d(_x(7, 6), 2, 3), it.ShapeError,
     r"3-D \(unbatched\) or 4-D.*\[7, 6\]"),
    (lambda: F.fractional_max_pool2d(it.ones((1, 2, 7, 6), dtype=it.int64), 2, 3),
     it.DTypeError, "floating-point"),
    (lambda: nn.FractionalMaxPool2d(2), ValueError, "output size, or a pooling ratio"),
    (lambda: nn.FractionalMaxPool2d(2, 3, 0.5), ValueError, "only one of"),
    (lambda: nn.FractionalMaxPool3d(2, output_ratio=(0.5, 1.5, 0.5)), ValueError,
     "between 0 and 1"),
])
def test_fractional_max_pool_errors(be, call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# -------------------------------------------------------------------------------- modules

@pytest.mark.parametrize("make", [
    lambda m: m.MaxPool1d(3, 2, 1), lambda m: m.MaxPool2d(2), lambda m: m.MaxPool2d(3, 2, 1,
                                                                                   ceil_mode=True),
    lambda m: m.MaxPool2d(2, return_indices=True), lambda m: m.MaxPool3d(2),
    lambda m: m.AvgPool1d(3, 2, 1), lambda m: m.AvgPool2d(3, 2, 1, count_include_pad=False),
    lambda m: m.AvgPool2d(2, divisor_override=3), lambda m: m.AvgPool3d(2, 1),
    lambda m: m.LPPool1d(2, 3), lambda m: m.LPPool2d(2, (2, 3), 2), lambda m: m.LPPool3d(2, 2),
    lambda m: m.AdaptiveAvgPool1d(3), lambda m: m.AdaptiveAvgPool2d((None, 2)),
    lambda m: m.AdaptiveAvgPool3d(2), lambda m: m.AdaptiveMaxPool1d(4),
    lambda m: m.AdaptiveMaxPool2d((3, 2), return_indices=True), lambda m: m.AdaptiveMaxPool3d(2),
])
def test_pool_modules_match_pytorch_and_repr(be, make):
    ours, theirs = make(nn), make(TNN)
    assert repr(ours) == repr(theirs)
    name = type(ours).__name__
    n = int(name[-2]) if name[-2].isdigit() else 2
    shape = (2, 3) + (6, 5, 4)[:n]
    x = np.abs(_rand(shape)) + 0.1
    check_module(ours, theirs, x)


# ------------------------------------------------------------------------- errors

@pytest.mark.parametrize("call, exc, match", [
    (lambda: F.max_pool2d(_x(1, 1, 5, 5), 3, padding=2), it.ArgumentError,
     r"at most half of kernel size, but got pad=\[2, 2\] and kernel_size=\[3, 3\]"),
    (lambda: F.max_pool1d(_x(1, 1, 9), 2, dilation=3, padding=2), it.ArgumentError,
     "at most half of kernel size"),
    (lambda: F.max_pool2d(_x(1, 1, 5, 5), 0), it.ArgumentError, "kernel_size must be greater"),
    (lambda: F.max_pool2d(_x(1, 1, 5, 5), 2, 0), it.ArgumentError, "stride must be greater"),
    (lambda: F.max_pool2d(_x(1, 1, 1, 1), 2), it.ShapeError, "Output size is too small"),
    (lambda: F.max_pool2d(_x(5, 5), 2), it.ShapeError, r"3-D \(unbatched\) or 4-D.*\[5, 5\]"),
    (lambda: F.max_pool2d(_x(1, 0, 4, 4), 2), it.ShapeError, r"non-zero.*\[1, 0, 4, 4\]"),
    (lambda: F.max_pool2d(it.ones((1, 1, 4, 4), dtype=it.int64), 2), it.DTypeError, "int64"),
    (lambda: F.avg_pool2d(_x(1, 1, 5, 5), 3, divisor_override=0), it.ArgumentError,
     "divisor must be not zero"),
    (lambda: F.adaptive_avg_pool2d(_x(1, 1, 5, 5), (2, 2, 2)), it.ArgumentError,
     "output_size must be 2"),
    (lambda: F.adaptive_max_pool2d(_x(5, 5), 2), it.ShapeError, r"\[5, 5\]"),
])
def test_pool_errors_name_what_was_expected_and_given(be, call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ------------------------------------------------ a backend without int64 (JAX, no x64)

def test_pool_indices_use_the_default_index_dtype_where_int64_is_missing():
    """max-pool indices were built as int64, which JAX without x64 does not have: adaptive
    max pools, max_unpool and fractional max pools all raised there."""
    x_np = np.random.default_rng(0).standard_normal((1, 2, 6, 6)).astype(np.float32)
    tx = torch.from_numpy(x_np)
    ty, tk = torch.nn.functional.adaptive_max_pool2d(tx, 3, return_indices=True)
    tu = torch.nn.functional.max_unpool2d(*torch.nn.functional.max_pool2d(
        tx, 2, return_indices=True), 2)
    with jax_backend():
        x = it.tensor(x_np.tolist())
        y, k = F.adaptive_max_pool2d(x, 3, return_indices=True)
        assert k.dtype == it.int32
        np.testing.assert_array_equal(to_np(y), ty.numpy())
        np.testing.assert_array_equal(to_np(k), tk.numpy())
        m, idx = F.max_pool2d(x, 2, return_indices=True)
        assert idx.dtype == it.int32
        np.testing.assert_array_equal(to_np(F.max_unpool2d(m, idx, 2)), tu.numpy())
        with pytest.raises(it.DTypeError, match="int32"):
            F.max_unpool2d(m, idx.to(it.int16), 2)
