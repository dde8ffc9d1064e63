"""The rarer torch.nn layers against PyTorch: max_unpool1d/2d/3d and MaxUnpool1d/2d/3d,
fractional_max_pool2d/3d and FractionalMaxPool2d/3d (the same ``_random_samples`` give
PyTorch's windows), LazyConv1d/2d/3d and LazyConvTranspose1d/2d/3d, AdaptiveLogSoftmaxWithLoss,
CrossMapLRN2d and NLLLoss2d: outputs, indices, input and parameter gradients over shapes and
options, float32 and float64, unbatched inputs, default-init statistics, reprs and the errors
for bad input."""

import math
import warnings

import numpy as np
import pytest

import interop as it
from interop import nn
import interop.nn.functional as F
from helpers import to_np
from torch_compare import Const, assert_same, check_function, check_module, load_twin, np_of

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
    y = _rand(y.shape, dtype, seed=1)           # any values: unpool writes them at the indices
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


# ------------------------------------------------------------------------ lazy convolution

LAZY = [
    ("LazyConv1d", (4, 3), dict(stride=2, padding=1), (2, 6, 9)),
    ("LazyConv2d", (4, 3), {}, (2, 3, 6, 5)),
    ("LazyConv2d", (4, (2, 3)), dict(groups=2, bias=False, padding="same",
                                     padding_mode="reflect"), (6, 7, 7)),
    ("LazyConv3d", (2, 2), dict(dilation=(1, 2, 1)), (1, 2, 4, 5, 4)),
    ("LazyConvTranspose1d", (4, 3), dict(stride=2, output_padding=1), (2, 3, 5)),
    ("LazyConvTranspose2d", (4, 3), dict(groups=2, dilation=2), (2, 4, 4, 3)),
    ("LazyConvTranspose3d", (2, 2), dict(bias=False), (3, 3, 3, 2)),
]


@pytest.mark.parametrize("case", LAZY, ids=lambda c: f"{c[0]}-{c[2]}-{c[3]}")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lazy_conv_infers_in_channels_and_matches_pytorch(be, case, dtype):
    name, args, kw, shape = case
    ours = getattr(nn, name)(*args, dtype=getattr(it, dtype), **kw)
    theirs = getattr(TNN, name)(*args, dtype=getattr(torch, dtype), **kw)
    assert repr(ours) == repr(theirs)
    assert ours.has_uninitialized_params()
    x = _rand(shape, dtype)
    y = ours(it.asarray(x))
    theirs(torch.from_numpy(x))
    assert type(ours).__name__ == type(theirs).__name__ == name[4:]     # became the eager class
    assert isinstance(ours, getattr(nn, name[4:]))
    assert repr(ours) == repr(theirs)
    assert ours.in_channels == theirs.in_channels
    assert tuple(y.shape) == tuple(theirs(torch.from_numpy(x)).shape)
    check_module(ours, theirs, x)


def test_lazy_conv_loads_a_state_dict_before_its_first_call(be):
    theirs = TNN.Conv2d(3, 4, 3)
    ours = nn.LazyConv2d(4, 3)
    load_twin(ours, theirs)
    assert not ours.has_uninitialized_params()
    assert tuple(ours.weight.shape) == (4, 3, 3, 3)
    check_module(ours, theirs, _rand((2, 3, 5, 5)))
    assert type(ours) is nn.Conv2d


def test_lazy_conv_default_init_matches_pytorch(be):
    """After the first call the weight and bias are drawn as the eager layer's: uniform on
    +-1/sqrt(fan_in), fan_in from the inferred channels."""
    for name, x, fan_in in [("LazyConv2d", (1, 32, 3, 3), 32 * 9 // 2),
                            ("LazyConvTranspose1d", (1, 64, 2), 512 // 2 * 3)]:
        ours, theirs = getattr(nn, name)(512, 3, groups=2), getattr(TNN, name)(512, 3, groups=2)
        ours(it.asarray(_rand(x)))
        theirs(torch.from_numpy(_rand(x)))
        bound = 1 / math.sqrt(fan_in)
        for p, q in [(ours.weight, theirs.weight), (ours.bias, theirs.bias)]:
            a, b = to_np(p).ravel().astype(np.float64), np_of(q).ravel()
            assert a.shape == b.shape
            std = bound / math.sqrt(3)
            assert abs(a.mean()) < 5 * std / math.sqrt(a.size)
            assert abs(a.std() - b.std()) < 8 * std / math.sqrt(2 * a.size)
            assert -bound <= a.min() and a.max() <= bound and a.max() > 0.9 * bound


def test_lazy_conv_factory_kwargs(be):
    m = nn.LazyConv1d(3, 2, dtype=it.float64, device=be.name)
    m(it.asarray(_rand((2, 4, 5), "float64")))
    assert m.weight.dtype == it.float64 and m.bias.dtype == it.float64
    assert m.weight.device == be.device and m.weight.requires_grad


@pytest.mark.parametrize("call, exc, match", [
    (lambda: nn.LazyConv2d(4, 3)(_x(5, 5)), it.ShapeError,
     r"Expected 3D \(unbatched\) or 4D \(batched\) input to LazyConv2d.*\[5, 5\]"),
    (lambda: nn.LazyConv2d(4, 3, groups=2)(_x(1, 3, 5, 5)), ValueError,
     "in_channels=3 from the input, groups=2"),
    (lambda: nn.LazyConvTranspose1d(3, 3, groups=2), ValueError,
     "out_channels=3, groups=2"),
    (lambda: nn.LazyConv1d(-1, 3), ValueError, "out_channels must be non-negative"),
    (lambda: nn.LazyConv2d(2, 3).weight.shape, RuntimeError, "uninitialized parameter"),
])
def test_lazy_conv_errors(be, call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ------------------------------------------------------------- adaptive log softmax

ADAPTIVE = [
    # (in_features, n_classes, cutoffs, keyword arguments, batch)
    (8, 10, [2, 5], {}, 12),
    (16, 20, [4, 8, 15], dict(div_value=2.0, head_bias=True), 16),
    (8, 6, [3], dict(div_value=8.0), 5),                 # a tail with an empty hidden layer
    (6, 9, [2, 4], dict(head_bias=True), None),          # unbatched
]


# a tail whose hidden layer is empty (in_features // div_value ** i == 0) warns when it is
# initialized, in PyTorch as here
_EMPTY_INIT = pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")


def _targets(n_classes, batch, seed=0):
    rng = np.random.default_rng(seed)
    if batch is None:
        return np.asarray(rng.integers(0, n_classes))
    return rng.integers(0, n_classes, batch)


@_EMPTY_INIT
@pytest.mark.parametrize("case", ADAPTIVE, ids=lambda c: f"{c[:4]}")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adaptive_log_softmax_matches_pytorch(be, case, dtype):
    fin, ncls, cutoffs, kw, batch = case
    torch.manual_seed(0)
    theirs = TNN.AdaptiveLogSoftmaxWithLoss(fin, ncls, cutoffs, dtype=getattr(torch, dtype),
                                            **kw)
    ours = nn.AdaptiveLogSoftmaxWithLoss(fin, ncls, cutoffs, dtype=getattr(it, dtype), **kw)
    assert repr(ours) == repr(theirs)
    shape = (fin,) if batch is None else (batch, fin)
    out, _ = check_module(ours, theirs, _rand(shape, dtype), Const(_targets(ncls, batch)))
    assert type(out).__name__ == "_ASMoutput" and out._fields == ("output", "loss")
    # a batch whose targets leave some clusters empty
    if batch is not None:
        check_module(ours, theirs, _rand(shape, dtype, 1), Const(np.zeros(batch, np.int64)))


@_EMPTY_INIT
def test_adaptive_log_softmax_log_prob_and_predict(be):
    torch.manual_seed(1)
    theirs = TNN.AdaptiveLogSoftmaxWithLoss(8, 12, [3, 7], head_bias=True)
    ours = nn.AdaptiveLogSoftmaxWithLoss(8, 12, [3, 7], head_bias=True)
    load_twin(ours, theirs)
    x = _rand((20, 8))
    lp, lp_t = check_function(ours.log_prob, theirs.log_prob, x)
    assert np.allclose(np.exp(to_np(lp)).sum(1), 1, atol=1e-5)
    for bias in ([0.0] * 5, [5.0, 5, 5, -5, -5], [-5.0, -5, -5, 5, 5], [0.0, 0, 0, 0.3, 0.3]):
        # the head prefers the shortlist everywhere, nowhere, and somewhere
        with it.no_grad():
            ours.head.bias.copy_(it.asarray(np.asarray(bias, np.float32)))
        with torch.no_grad():
            theirs.head.bias.copy_(torch.tensor(bias))
        p = ours.predict(it.asarray(x))
        assert_same(p, theirs.predict(torch.from_numpy(x)), f"predict, head bias {bias}")
        assert np.array_equal(to_np(p), to_np(ours.log_prob(it.asarray(x))).argmax(1))


def test_adaptive_log_softmax_default_init_and_reset(be):
    ours = nn.AdaptiveLogSoftmaxWithLoss(256, 1000, [100, 400], head_bias=True)
    theirs = TNN.AdaptiveLogSoftmaxWithLoss(256, 1000, [100, 400], head_bias=True)
    p_o, p_t = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(p_o) == list(p_t) == ["head.weight", "head.bias", "tail.0.0.weight",
                                      "tail.0.1.weight", "tail.1.0.weight", "tail.1.1.weight"]
    for k, q in p_t.items():
        a, b = to_np(p_o[k]).ravel().astype(np.float64), np_of(q).ravel()
        assert a.shape == b.shape, k
        bound = 1 / math.sqrt(p_o[k].shape[-1] if k.endswith("weight") else 256)
        assert np.abs(a).max() <= bound and np.abs(a).max() > 0.9 * bound, k
        assert abs(a.std() - b.std()) < 0.1 * b.std(), k
    before = to_np(ours.tail[1][0].weight).copy()
    ours.reset_parameters()
    assert not np.array_equal(before, to_np(ours.tail[1][0].weight))


@pytest.mark.parametrize("call, exc, match", [
    (lambda m: m(_x(3, 8), it.asarray([1, 2, 10])), it.ArgumentError,
     r"Target values should be in \[0, 9\], but values in range \[1, 10\] were found"),
    (lambda m: m(_x(3, 8), it.asarray([-1, 2, 3])), it.ArgumentError, r"\[-1, 3\]"),
    (lambda m: m(_x(3, 8), it.asarray([1, 2])), it.ShapeError, "same size in the batch"),
    (lambda m: m(_x(3, 8), it.asarray([[1, 2]])), it.ShapeError, "0D or 1D target"),
    (lambda m: m(_x(2, 8), it.asarray(1)), it.ShapeError,
     r"0D target tensor expects 1D input tensors.*\[2, 8\]"),
    (lambda m: m(_x(3, 2, 8), it.asarray([1, 2, 3])), it.ShapeError,
     r"1D target tensor expects 2D input"),
    (lambda m: m(_x(3, 8), it.asarray([1.0, 2, 3])), it.DTypeError, "integer target"),
    (lambda m: m.log_prob(_x(8)), it.ShapeError, r"2-D input \(N, in_features=8\), got \[8\]"),
    (lambda m: m.predict(_x(8)), it.ShapeError, "2-D input"),
    (lambda m: nn.AdaptiveLogSoftmaxWithLoss(8, 10, []), ValueError, "length larger than 0"),
    (lambda m: nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5, 2]), ValueError, "sorted"),
    (lambda m: nn.AdaptiveLogSoftmaxWithLoss(8, 10, [2, 10]), ValueError,
     r"between 1 and n_classes-1 = 9, got \[2, 10\]"),
    (lambda m: nn.AdaptiveLogSoftmaxWithLoss(8, 10, [2.5]), ValueError, "integers"),
    (lambda m: nn.AdaptiveLogSoftmaxWithLoss(8, 10, [2, 2]), ValueError, "unique"),
])
@_EMPTY_INIT
def test_adaptive_log_softmax_errors(be, call, exc, match):
    m = nn.AdaptiveLogSoftmaxWithLoss(8, 10, [2, 5])
    with pytest.raises(exc, match=match):
        call(m)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")        # the mean of no losses: NaN
def test_adaptive_log_softmax_empty_batch(be):
    torch.manual_seed(0)
    theirs = TNN.AdaptiveLogSoftmaxWithLoss(4, 6, [2])
    ours = nn.AdaptiveLogSoftmaxWithLoss(4, 6, [2])
    check_module(ours, theirs, _rand((0, 4)), Const(np.zeros(0, np.int64)), grad=False)


# ------------------------------------------------------------------------ CrossMapLRN2d

def _torch_cross_map_lrn(x, size, alpha=1e-4, beta=0.75, k=1):
    """PyTorch's CrossMapLRN2d forward written with differentiable torch ops (PyTorch's own
    backward for it is not the gradient of its forward, so gradients are compared with
    this): the squares summed over the channels within (size - 1) // 2, plus channel 0 for
    the channels past its window."""
    c = x.shape[1]
    half = (size - 1) // 2
    sq = x * x
    acc = []
    for j in range(c):
        chans = set(range(max(0, j - half), min(c, j + half + 1))) | {0}
        acc.append(sum(sq[:, i] for i in sorted(chans)))
    return x * (torch.stack(acc, 1) * (alpha / size) + k) ** -beta


@pytest.mark.parametrize("size, alpha, beta, k, shape", [
    (5, 1e-4, 0.75, 1, (2, 8, 3, 3)),
    (3, 0.5, 0.75, 2.0, (2, 6, 2, 3)),
    (4, 1.0, 0.5, 1.0, (1, 7, 2, 2)),
    (2, 0.3, 1.0, 1.0, (2, 4, 3, 1)),
    (1, 0.2, 0.75, 1.0, (1, 3, 2, 2)),
    (9, 0.5, 0.75, 1.0, (2, 3, 2, 2)),          # a window wider than the channels
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_map_lrn2d_matches_pytorch(be, size, alpha, beta, k, shape, dtype):
    ours, theirs = nn.CrossMapLRN2d(size, alpha, beta, k), TNN.CrossMapLRN2d(size, alpha, beta, k)
    assert repr(ours) == repr(theirs)
    x = _rand(shape, dtype) * 2
    check_module(ours, theirs, x, grad=False)
    check_function(ours, lambda t: _torch_cross_map_lrn(t, size, alpha, beta, k), x)


def test_cross_map_lrn2d_double_backward(be):
    x = _rand((1, 6, 2, 2), "float64")
    ours = nn.CrossMapLRN2d(3, 0.5, 0.75, 1.0)
    xo = it.asarray(x).requires_grad_()
    (g,) = it.autograd.grad(ours(xo).sum(), xo, create_graph=True)
    (g * g).sum().backward()
    xt = torch.from_numpy(x).requires_grad_()
    (gt,) = torch.autograd.grad(_torch_cross_map_lrn(xt, 3, 0.5, 0.75, 1.0).sum(), xt,
                                create_graph=True)
    (gt * gt).sum().backward()
    assert_same(g, gt, "gradient")
    assert_same(xo.grad, xt.grad, "gradient of the gradient")


@pytest.mark.parametrize("call, exc, match", [
    (lambda: nn.CrossMapLRN2d(3)(_x(2, 3, 4)), it.ShapeError,
     r"Expected input to be 4D, got 3D instead"),
    (lambda: nn.CrossMapLRN2d(3)(it.ones((1, 2, 2, 2), dtype=it.int64)), it.DTypeError,
     "floating-point"),
    (lambda: nn.CrossMapLRN2d(0)(_x(1, 2, 2, 2)), ValueError, "positive integer, got 0"),
])
def test_cross_map_lrn2d_errors(be, call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---------------------------------------------------------------------------- NLLLoss2d

@pytest.mark.parametrize("kw", [{}, dict(reduction="sum", ignore_index=1),
                                dict(weight=[0.2, 1.0, 3.0], reduction="none")])
def test_nll_loss2d_is_nll_loss_and_warns(be, kw):
    w = kw.pop("weight", None)
    with pytest.warns(FutureWarning, match="NLLLoss2d is deprecated"):
        ours = nn.NLLLoss2d(weight=None if w is None else it.asarray(np.float32(w)), **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        theirs = TNN.NLLLoss2d(weight=None if w is None else torch.tensor(w), **kw)
    assert isinstance(ours, nn.NLLLoss) and repr(ours) == repr(theirs)
    x = np.log(np.random.default_rng(0).dirichlet(np.ones(3), (2, 4, 5))).astype("float32")
    x = np.moveaxis(x, -1, 1)
    target = np.random.default_rng(1).integers(0, 3, (2, 4, 5))
    check_module(ours, theirs, x, Const(target))
