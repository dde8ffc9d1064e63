"""Convolution (``interop.nn.modules.conv`` and its functional forms) against PyTorch:
conv1d/2d/3d, conv_transpose1d/2d/3d, unfold/fold and the Conv*, ConvTranspose*, Lazy*,
Unfold and Fold modules: outputs, input and parameter gradients over strides, paddings,
dilations, groups, float32 and float64, unbatched and empty batches; gradients of gradients
(also through conv followed by pooling); lazy modules inferring their channels;
default-init statistics, reprs and the errors for bad input. Pooling is in
test_nn_pooling.py."""

import math

import numpy as np
import pytest

import interop as it
from interop import nn
import interop.nn.functional as F
from helpers import to_np
from torch_compare import assert_same, check_function, check_module, load_twin, np_of

torch = pytest.importorskip("torch")
TF = torch.nn.functional
TNN = torch.nn


def _rand(shape, dtype="float32", seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ------------------------------------------------------------------------- convolution

CONV = [
    # (n, input shape, weight shape, keyword arguments)
    (1, (2, 4, 9), (6, 4, 3), {}),
    (1, (2, 4, 9), (6, 4, 3), dict(stride=2, padding=1)),
    (1, (2, 4, 10), (6, 2, 4), dict(groups=2, dilation=2, padding="same")),
    (1, (3, 9), (6, 3, 2), dict(padding="valid", stride=(3,))),
    (2, (2, 4, 7, 6), (6, 4, 3, 2), {}),
    (2, (2, 4, 7, 6), (6, 4, 3, 2), dict(stride=(2, 1), padding=(1, 2))),
    (2, (2, 4, 7, 6), (6, 2, 3, 3), dict(groups=2, dilation=(2, 1), padding=1)),
    (2, (2, 4, 7, 6), (8, 1, 2, 3), dict(groups=4, padding="same", dilation=2)),
    (2, (4, 7, 6), (3, 4, 3, 3), dict(stride=3, padding=2)),
    (2, (0, 4, 7, 6), (6, 4, 3, 2), dict(padding=1)),
    (3, (1, 2, 5, 4, 5), (3, 2, 2, 3, 2), {}),
    (3, (2, 2, 5, 4, 5), (4, 1, 3, 2, 2), dict(stride=2, padding=(1, 0, 1), groups=2)),
]


@pytest.mark.parametrize("case", CONV, ids=lambda c: f"{c[0]}d-{c[1]}-{c[3]}")
@pytest.mark.parametrize("bias", [True, False])
def test_conv_matches_pytorch(be, case, bias):
    n, xs, ws, kw = case
    fn = f"conv{n}d"
    args = (_rand(xs), _rand(ws, seed=1), _rand((ws[0],), seed=2) if bias else None)
    check_function(getattr(F, fn), getattr(TF, fn), *args, **kw)


@pytest.mark.parametrize("case", CONV[::3], ids=lambda c: f"{c[0]}d-{c[3]}")
def test_conv_float64_matches_pytorch(be, case):
    n, xs, ws, kw = case
    fn = f"conv{n}d"
    check_function(getattr(F, fn), getattr(TF, fn), _rand(xs, "float64"),
                   _rand(ws, "float64", 1), _rand((ws[0],), "float64", 2), **kw)


def test_conv_weight_only_gradient(be):
    """An input that needs no gradient: only the weight's matmul runs in backward."""
    x = it.asarray(_rand((2, 3, 5, 5)))
    w = it.asarray(_rand((4, 3, 3, 3), seed=1)).requires_grad_()
    F.conv2d(x, w).sum().backward()
    xt = torch.from_numpy(_rand((2, 3, 5, 5)))
    wt = torch.from_numpy(_rand((4, 3, 3, 3), seed=1)).requires_grad_()
    TF.conv2d(xt, wt).sum().backward()
    assert_same(w.grad, wt.grad, "weight gradient")



# Few input channels (C / groups * kernel < C_out): the matmul runs per sample, and a bias is
# folded into it (a row of ones), the bias's gradient coming out of the weight's matmul.
CONV_FOLDED = [
    (1, (2, 1, 9), (6, 1, 3), dict(stride=2)),
    (2, (3, 1, 8, 7), (8, 1, 2, 3), dict(padding=1, dilation=(2, 1))),
    (2, (1, 5, 7), (8, 1, 2, 2), {}),
    (2, (2, 2, 6, 6), (24, 2, 3, 3), dict(padding="same")),
    (2, (0, 1, 6, 6), (8, 1, 2, 2), dict(stride=(1, 2))),
    (3, (1, 1, 4, 5, 4), (9, 1, 2, 2, 2), dict(padding=(0, 1, 1))),
    # batches of 8 samples or more: the cpu backend's compiled weight gradient sums them in
    # parts (_jit_conv.summed_products), with an odd number of columns where there is no bias
    (2, (16, 1, 12, 12), (24, 1, 3, 3), {}),
    (2, (9, 3, 9, 8), (30, 3, 3, 3), dict(stride=2, padding=1)),
]


@pytest.mark.parametrize("case", CONV_FOLDED, ids=lambda c: f"{c[0]}d-{c[1]}-{c[3]}")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bias", [True, False])
def test_conv_per_sample_and_folded_bias_match_pytorch(be, case, dtype, bias):
    n, xs, ws, kw = case
    fn = f"conv{n}d"
    check_function(getattr(F, fn), getattr(TF, fn), _rand(xs, dtype), _rand(ws, dtype, 1),
                   _rand((ws[0],), dtype, 2) if bias else None, **kw)


def _assert_partial_gradients_match(arrays, grads):
    """conv2d (padding 1) of x, w, b = ``arrays`` where only the ones named in ``grads``
    ("x", "w", "b") require grad: each gradient matches PyTorch's."""
    def run(lib, fns):
        ts = [lib.asarray(a.copy()) for a in arrays]
        for t, name in zip(ts, "xwb"):
            if name in grads:
                t.requires_grad_()
        y = fns.conv2d(*ts, padding=1)
        (y * lib.asarray(_rand(tuple(y.shape), seed=3))).sum().backward()
        return [t.grad for t, name in zip(ts, "xwb") if name in grads]

    for o, t, name in zip(run(it, F), run(torch, TF), grads):
        assert_same(o, t, f"gradient of {name}")


@pytest.mark.parametrize("grads", ["wb", "xb", "b", "xw"])
def test_conv_folded_bias_partial_gradients(be, grads):
    """Only some of input, weight and bias need a gradient (the first layer's input never
    does): each gradient that is asked for matches PyTorch's, whichever matmul gives it."""
    arrays = (_rand((3, 1, 6, 6)), _rand((16, 1, 3, 3), seed=1), _rand((16,), seed=2))
    _assert_partial_gradients_match(arrays, grads)


@pytest.mark.parametrize("backend", ["cpu", "strict"])
def test_conv_folded_bias_gradcheck_and_gradgradcheck(backend):
    """The folded path's first and second derivatives by finite differences in float64."""
    with it.use_backend(backend):
        inputs = tuple(it.asarray(_rand(s, "float64", i)).requires_grad_()
                       for i, s in enumerate([(1, 1, 4, 5), (6, 1, 2, 2), (6,)]))
        fn = lambda x, w, b: F.conv2d(x, w, b, stride=(1, 2), padding=1)
        assert it.autograd.gradcheck(fn, inputs)
        assert it.autograd.gradgradcheck(fn, inputs)

CONV_T = [
    (1, (2, 4, 5), (4, 3, 3), {}),
    (1, (2, 4, 5), (4, 2, 3), dict(stride=2, padding=1, output_padding=1, groups=2)),
    (1, (4, 6), (4, 3, 2), dict(dilation=3, output_padding=2, stride=1)),
    (2, (2, 4, 4, 5), (4, 3, 3, 2), {}),
    (2, (2, 4, 4, 5), (4, 3, 3, 3), dict(stride=(2, 3), padding=(1, 2), output_padding=(1, 2))),
    (2, (2, 4, 4, 5), (4, 1, 2, 3), dict(groups=4, dilation=2, padding=1)),
    (2, (0, 4, 4, 5), (4, 3, 3, 2), dict(stride=2)),
    (3, (1, 2, 3, 4, 3), (2, 2, 2, 3, 2), dict(stride=2, padding=1, output_padding=(1, 0, 1))),
]


@pytest.mark.parametrize("case", CONV_T, ids=lambda c: f"{c[0]}d-{c[1]}-{c[3]}")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv_transpose_matches_pytorch(be, case, dtype):
    n, xs, ws, kw = case
    fn = f"conv_transpose{n}d"
    groups = kw.get("groups", 1)
    check_function(getattr(F, fn), getattr(TF, fn), _rand(xs, dtype), _rand(ws, dtype, 1),
                   _rand((ws[1] * groups,), dtype, 2), **kw)


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=(2, 1)),
                                dict(kernel_size=3, dilation=2, padding=1, stride=2)])
@pytest.mark.parametrize("shape", [(2, 3, 7, 6), (3, 7, 6)])
def test_unfold_and_fold_match_pytorch(be, kw, shape):
    cols, _ = check_function(F.unfold, TF.unfold, _rand(shape), **kw)
    check_function(F.fold, TF.fold, _rand(tuple(cols.shape), seed=1), output_size=(7, 6), **kw)


def test_fold_is_the_adjoint_of_unfold(be):
    x, c = _rand((2, 3, 6, 5), "float64"), _rand((2, 3 * 6, 9), "float64", 1)
    kw = dict(kernel_size=(3, 2), dilation=(1, 2), padding=1, stride=2)
    left = float((F.unfold(it.asarray(x), **kw) * it.asarray(c)).sum())
    right = float((it.asarray(x) * F.fold(it.asarray(c), (6, 5), **kw)).sum())
    assert math.isclose(left, right, rel_tol=1e-12)


# ------------------------------------------------------------------- second order

def test_conv_and_pool_double_backward_match_pytorch(be):
    x, w = _rand((2, 3, 6, 6), "float64"), _rand((4, 3, 3, 3), "float64", 1)

    def run(lib, fns):
        xt, wt = (lib.asarray(a.copy()).requires_grad_() for a in (x, w))
        h = fns.conv2d(xt, wt, stride=2, padding=1)
        y = (fns.max_pool2d(h.tanh(), 2, 1) + fns.avg_pool2d(h ** 2, 2, 1)).sum()
        gx, gw = lib.autograd.grad(y, (xt, wt), create_graph=True)
        ((gx ** 2).sum() + (gw ** 3).sum()).backward()
        return xt.grad, wt.grad

    for o, t, name in zip(run(it, F), run(torch, TF), "xw"):
        assert_same(o, t, f"second-order gradient of {name}")


@pytest.mark.parametrize("fn, args", [
    (lambda x, w: F.conv2d(x, w, stride=(2, 1), padding=1, dilation=(1, 2)), ((1, 2, 5, 6),
                                                                            (3, 2, 2, 2))),
    (lambda x, w: F.conv_transpose2d(x, w, stride=2, output_padding=1, groups=2),
     ((1, 2, 3, 3), (2, 1, 2, 2))),
    (lambda x: F.max_pool2d(x, 3, 2, 1), ((1, 2, 5, 5),)),
    (lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
     ((1, 2, 5, 5),)),
    (lambda x: F.adaptive_max_pool2d(x, (2, 3)), ((1, 1, 5, 4),)),
])
@pytest.mark.parametrize("backend", ["cpu", "strict"])
def test_gradcheck_and_gradgradcheck(backend, fn, args):
    """Finite differences in float64 on the NumPy and standard-only backends."""
    with it.use_backend(backend):
        inputs = tuple(it.asarray(_rand(s, "float64", i)).requires_grad_()
                       for i, s in enumerate(args))
        assert it.autograd.gradcheck(fn, inputs)
        assert it.autograd.gradgradcheck(fn, inputs)


# -------------------------------------------------------------------------------- modules

@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_conv_modules_match_pytorch(be, n, mode):
    cls = f"Conv{n}d"
    kw = dict(kernel_size=3, stride=2, padding=1, padding_mode=mode, groups=2)
    ours, theirs = getattr(nn, cls)(4, 6, **kw), getattr(TNN, cls)(4, 6, **kw)
    check_module(ours, theirs, _rand((2, 4) + (6, 5, 4)[:n]))


@pytest.mark.parametrize("padding", ["same", "valid", (1, 0)])
def test_conv2d_module_padding_strings_and_dtype(be, padding):
    kw = dict(kernel_size=(4, 3), padding=padding, padding_mode="reflect", dilation=(1, 2),
              bias=False)
    ours = nn.Conv2d(3, 2, **kw, dtype=it.float64)
    theirs = TNN.Conv2d(3, 2, **kw, dtype=torch.float64)
    check_module(ours, theirs, _rand((2, 3, 7, 8), "float64"))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_conv_transpose_modules_match_pytorch(be, n):
    cls = f"ConvTranspose{n}d"
    kw = dict(kernel_size=3, stride=2, padding=1, output_padding=1, dilation=1)
    ours, theirs = getattr(nn, cls)(4, 2, **kw), getattr(TNN, cls)(4, 2, **kw)
    check_module(ours, theirs, _rand((2, 4) + (4, 3, 4)[:n]))


def test_conv_transpose_output_size(be):
    ours, theirs = nn.ConvTranspose2d(3, 2, 3, stride=3), TNN.ConvTranspose2d(3, 2, 3, stride=3)
    for size in [(12, 13), (1, 2, 14, 12), [13, 14]]:
        check_module(ours, theirs, _rand((1, 3, 4, 4)), output_size=size, grad=False)
    with pytest.raises(ValueError, match=r"valid sizes range from \[12, 12\] to \[14, 14\]"):
        ours(it.asarray(_rand((1, 3, 4, 4))), output_size=(20, 12))
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
        ours(it.asarray(_rand((1, 3, 4, 4))), output_size=(12,))


@pytest.mark.parametrize("make, shape", [(lambda m: m.Unfold(2, padding=1), (2, 3, 6, 5)),
                                         (lambda m: m.Fold((4, 5), 2), (2, 12, 12))])
def test_fold_modules_match_pytorch_and_repr(be, make, shape):
    ours, theirs = make(nn), make(TNN)
    assert repr(ours) == repr(theirs)
    x = _rand(shape)
    if type(ours).__name__ == "Unfold":
        x = np.abs(x) + 0.1
    check_module(ours, theirs, x)


@pytest.mark.parametrize("make", [
    lambda m: m.Conv2d(1, 32, 3),
    lambda m: m.Conv2d(4, 8, (3, 5), stride=2, padding=1, dilation=2, groups=2, bias=False,
                       padding_mode="reflect"),
    lambda m: m.Conv1d(2, 4, 3, padding="same"),
    lambda m: m.Conv3d(2, 4, (1, 2, 3), padding="valid"),
    lambda m: m.ConvTranspose2d(4, 8, 3, stride=2, output_padding=1),
    lambda m: m.ConvTranspose1d(4, 8, 3, groups=2, dilation=2, bias=False),
    lambda m: m.ConvTranspose3d(2, 2, 2),
])
def test_conv_repr_and_attributes(be, make):
    ours, theirs = make(nn), make(TNN)
    assert repr(ours) == repr(theirs)
    for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
                 "transposed", "output_padding", "groups", "padding_mode",
                 "_reversed_padding_repeated_twice"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}


def _same_distribution(ours, theirs, bound):
    """Same mean, spread and range as PyTorch's draw (uniform on [-bound, bound])."""
    a, b = to_np(ours).ravel().astype(np.float64), theirs.detach().numpy().ravel()
    n = a.size
    std = bound / math.sqrt(3)
    assert abs(a.mean()) < 5 * std / math.sqrt(n) and abs(b.mean()) < 5 * std / math.sqrt(n)
    assert abs(a.std() - b.std()) < 8 * std / math.sqrt(2 * n)
    assert -bound <= a.min() and a.max() <= bound
    assert a.max() > (1 - 30 / n) * bound and a.min() < -(1 - 30 / n) * bound


@pytest.mark.parametrize("make, fan_in", [
    (lambda m: m.Conv2d(64, 128, 3), 64 * 9),
    (lambda m: m.Conv1d(32, 4096, 5, groups=4), 8 * 5),
    (lambda m: m.ConvTranspose2d(32, 1024, 3, groups=2), 512 * 9),
])
def test_default_init_matches_pytorch(be, make, fan_in):
    ours, theirs = make(nn), make(TNN)
    bound = 1 / math.sqrt(fan_in)
    _same_distribution(ours.weight, theirs.weight, bound)
    _same_distribution(ours.bias, theirs.bias, bound)


def test_factory_kwargs_and_reset(be):
    c = nn.Conv2d(2, 3, 3, dtype=it.float64, device=be.name)
    assert c.weight.dtype == it.float64 and c.bias.dtype == it.float64
    assert c.weight.requires_grad and c.weight.is_leaf and c.weight.device == be.device
    before = to_np(c.weight).copy()
    c.reset_parameters()
    assert not np.array_equal(before, to_np(c.weight))


# --------------------------------------------------------------------------------- errors

def _x(*shape):
    return it.asarray(_rand(shape))


@pytest.mark.parametrize("call, exc, match", [
    (lambda: F.conv2d(_x(1, 5, 8, 8), _x(4, 3, 3, 3)), it.ShapeError,
     r"expected input\[1, 5, 8, 8\] to have 3 channels, but got 5 channels instead"),
    (lambda: F.conv2d(_x(1, 4, 8, 8), _x(4, 3, 3, 3), groups=2), it.ShapeError,
     "groups=2.*to have 6 channels, but got 4"),
    (lambda: F.conv2d(_x(8, 8), _x(4, 3, 3, 3)), it.ShapeError,
     r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of size: "
     r"\[8, 8\]"),
    (lambda: F.conv2d(_x(1, 3, 8, 8), _x(4, 3, 3)), it.ShapeError, r"4-D weight.*\[4, 3, 3\]"),
    (lambda: F.conv2d(_x(1, 6, 8, 8), _x(5, 3, 3, 3), groups=2), it.ShapeError,
     "divisible by 2"),
    (lambda: F.conv2d(_x(1, 3, 2, 2), _x(4, 3, 3, 3)), it.ShapeError,
     r"\(2 x 2\).*\(3 x 3\).*can't be greater"),
    (lambda: F.conv2d(_x(1, 3, 8, 8), _x(4, 3, 3, 3), stride=0), it.ArgumentError,
     "non-positive stride"),
    (lambda: F.conv2d(_x(1, 3, 8, 8), _x(4, 3, 3, 3), padding=-1), it.ArgumentError,
     "negative padding"),
    (lambda: F.conv2d(_x(1, 3, 8, 8), _x(4, 3, 3, 3), padding="same", stride=2),
     it.ArgumentError, "strided convolutions"),
    (lambda: F.conv2d(_x(1, 3, 8, 8), _x(4, 3, 3, 3), padding="full"), it.ArgumentError,
     "'full'"),
    (lambda: F.conv2d(_x(1, 3, 8, 8), _x(4, 3, 3, 3), stride=(1, 1, 1)), it.ArgumentError,
     r"list of 2 values.*\[1, 1, 1\]"),
    (lambda: F.conv2d(_x(1, 3, 8, 8), _x(4, 3, 3, 3), groups=0), it.ArgumentError,
     "non-positive groups"),
    (lambda: F.conv2d(_x(1, 3, 8, 8), _x(4, 3, 3, 3), _x(3)), it.ShapeError,
     r"bias to be 1-dimensional with 4 elements, but got bias of size \[3\]"),
    (lambda: F.conv2d(_x(1, 3, 8, 8), _x(4, 3, 3, 3).astype(it.float64)), it.DTypeError,
     "float32.*float64"),
    (lambda: F.conv_transpose2d(_x(1, 3, 8, 8), _x(4, 2, 3, 3)), it.ShapeError,
     "transposed=1.*to have 4 channels, but got 3"),
    (lambda: F.conv_transpose2d(_x(1, 3, 8, 8), _x(3, 2, 3, 3), output_padding=1),
     it.ArgumentError, "output padding must be smaller than either stride or dilation"),
    (lambda: F.conv_transpose2d(_x(1, 3, 2, 2), _x(3, 2, 3, 3), padding=3), it.ShapeError,
     "Output size is too small"),
    (lambda: F.unfold(_x(3, 4), 2), it.ShapeError, r"3-D or 4-D.*\[3, 4\]"),
    (lambda: F.unfold(_x(1, 3, 4, 4), 5), it.ShapeError, r"sliding blocks as \(0, 0\)"),
    (lambda: F.fold(_x(1, 13, 9), (4, 4), 2), it.ShapeError,
     r"divisible by the product of kernel_size.*13"),
    (lambda: F.fold(_x(1, 12, 8), (4, 4), 2), it.ShapeError, r"3 \* 3 = 9.*input.size\(2\)=8"),
])
def test_errors_name_what_was_expected_and_given(be, call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_module_constructor_errors(be):
    for kw, match in [(dict(groups=2), "in_channels must be divisible by groups"),
                      (dict(groups=0), "groups must be a positive integer"),
                      (dict(padding="foo"), "Invalid padding string 'foo'"),
                      (dict(padding="same", stride=2), "strided convolutions"),
                      (dict(padding_mode="foo"), "padding_mode must be one of")]:
        with pytest.raises(ValueError, match=match):
            nn.Conv2d(3, 4, 3, **kw)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect")
    conv = nn.Conv2d(4, 8, 3)
    with pytest.raises(it.ShapeError, match=r"to have 4 channels, but got 3 channels instead"):
        conv(_x(1, 3, 8, 8))


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


@pytest.mark.parametrize("name, args, shape", [
    ("LazyConv1d", (4, 3), (2, 3, 7)), ("LazyConv2d", (4, 3), (2, 3, 5, 5)),
    ("LazyConv3d", (2, 2), (1, 3, 3, 4, 3)), ("LazyConvTranspose1d", (4, 3), (2, 3, 5)),
    ("LazyConvTranspose2d", (4, 3), (2, 3, 3, 4)), ("LazyConvTranspose3d", (2, 2), (1, 3, 2, 3, 2)),
])
def test_lazy_conv_first_call_after_loading_matches_pytorch(be, name, args, shape):
    """A lazy convolution given the state_dict of PyTorch's eager layer before its first
    call: that call, which makes it the eager class, gives PyTorch's outputs and gradients."""
    theirs = getattr(TNN, name[4:])(shape[1], *args)
    ours = getattr(nn, name)(*args)
    load_twin(ours, theirs)
    assert type(ours) is getattr(nn, name)
    check_module(ours, theirs, _rand(shape), load=False)
    assert type(ours) is getattr(nn, name[4:])


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


# ---------------------------------------------------------------- backward in blocks

# Where C / groups * kernel >= C_out the convolution is one matrix, and its backward runs on
# raw arrays in blocks of samples (``_conv.BLOCK_BYTES``; the col2im of each block while it
# is in the cache, compiled where numba is installed). These cases run it with blocks of one
# and of two samples: several blocks, and an uneven last one.
from interop.nn.functional import _conv
from interop.backends import _jit

CONV_BLOCKS = [
    (1, (5, 4, 9), (3, 4, 3), dict(stride=2, padding=1)),
    (2, (5, 4, 7, 6), (6, 4, 3, 3), {}),
    (2, (5, 4, 7, 6), (4, 2, 2, 3), dict(groups=2, dilation=(2, 1), padding=(1, 2),
                                         stride=(1, 2))),
    (2, (3, 6, 9, 8), (6, 2, 3, 3), dict(groups=3, stride=2, padding="valid")),
    (2, (3, 4, 6, 6), (4, 4, 2, 2), dict(stride=2)),            # windows tile the input
    (3, (3, 2, 4, 5, 4), (3, 2, 2, 2, 2), dict(padding=1)),
]
JIT = [False, True] if _jit.available() else [False]


def _blocks_of(monkeypatch, samples, fn, x, w, **kw):
    """Sets ``BLOCK_BYTES`` so that the backward of ``fn(x, w, **kw)`` runs ``samples``
    samples per block."""
    out = getattr(TF, fn)(torch.from_numpy(x), torch.from_numpy(w), **kw).shape[2:]
    sample = x.shape[1] * math.prod(w.shape[2:]) * math.prod(out) * x.itemsize
    monkeypatch.setattr(_conv, "BLOCK_BYTES", samples * sample)
    monkeypatch.setattr(_conv, "BLOCKS_FROM", 0)
    monkeypatch.setattr(_conv, "IMPLICIT", False)       # (2-d windows would read in place)


@pytest.fixture
def jit_mode(request):
    """The cpu backend's compiled col2im on (True) or its NumPy reference (False)."""
    prev = _jit.set_enabled(request.param)
    yield request.param
    _jit.set_enabled(prev)


@pytest.mark.parametrize("case", CONV_BLOCKS, ids=lambda c: f"{c[0]}d-{c[1]}-{c[3]}")
@pytest.mark.parametrize("samples", [1, 2])
@pytest.mark.parametrize("jit_mode", JIT, indirect=True, ids=lambda j: "jit" if j else "numpy")
def test_conv_backward_in_blocks_matches_pytorch(be, monkeypatch, jit_mode, case, samples):
    n, xs, ws, kw = case
    fn = f"conv{n}d"
    x, w = _rand(xs), _rand(ws, seed=1)
    _blocks_of(monkeypatch, samples, fn, x, w, **kw)
    check_function(getattr(F, fn), getattr(TF, fn), x, w, _rand((ws[0],), seed=2), **kw)


def test_conv_backward_runs_in_the_blocks_asked_for(monkeypatch):
    """The block size the backward uses follows BLOCK_BYTES (so the cases above do run
    several blocks), a block holds at least one sample, and a matrix of at most
    BLOCKS_FROM bytes runs whole."""
    x, w = _rand((5, 4, 7, 6)), _rand((6, 4, 3, 3), seed=1)
    run = lambda: F.conv2d(it.asarray(x).requires_grad_(), it.asarray(w)).grad_fn.args[8]
    for samples in (1, 2, 5):
        _blocks_of(monkeypatch, samples, "conv2d", x, w)
        assert run() == samples
    monkeypatch.setattr(_conv, "BLOCK_BYTES", 1)
    assert run() == 1
    monkeypatch.setattr(_conv, "BLOCKS_FROM", 5 * 4 * 9 * 5 * 4 * 4)     # the whole matrix
    assert run() is None


@pytest.mark.parametrize("grads", ["x", "w", "b", "wb", "xb"])
@pytest.mark.parametrize("jit_mode", JIT, indirect=True, ids=lambda j: "jit" if j else "numpy")
def test_conv_backward_in_blocks_partial_gradients(be, monkeypatch, jit_mode, grads):
    """Only some of input, weight and bias need a gradient: each one asked for matches
    PyTorch's, block by block."""
    arrays = (_rand((5, 4, 6, 6)), _rand((6, 4, 3, 3), seed=1), _rand((6,), seed=2))
    _blocks_of(monkeypatch, 2, "conv2d", arrays[0], arrays[1], padding=1)
    _assert_partial_gradients_match(arrays, grads)


@pytest.mark.parametrize("jit_mode", JIT, indirect=True, ids=lambda j: "jit" if j else "numpy")
def test_conv_backward_in_blocks_non_finite(be, monkeypatch, jit_mode):
    """NaN, inf and -inf in the input and the incoming gradient reach the same gradients as
    PyTorch's, block by block (no zero padding of the matmuls turns 0 * inf into NaN)."""
    x, w = _rand((4, 4, 6, 5)), _rand((5, 4, 3, 2), seed=1)
    x[0, 1, 2, 3], x[2, 0, 0, 0], x[3, 3, 5, 4] = np.nan, np.inf, -np.inf
    _blocks_of(monkeypatch, 1, "conv2d", x, w, stride=(1, 2))
    g = _rand((4, 5, 4, 2), seed=2)
    g[1, 2, 3, 1] = np.inf

    def run(lib, fns):
        xt, wt = (lib.asarray(a.copy()).requires_grad_() for a in (x, w))
        y = fns.conv2d(xt, wt, stride=(1, 2))
        y.backward(lib.asarray(g))
        return y, xt.grad, wt.grad

    for o, t, name in zip(run(it, F), run(torch, TF), ("output", "x", "w")):
        assert_same(o, t, f"{name} with non-finite entries")


@pytest.mark.parametrize("case", [
    ((3, 2, 4, 5), (2, 2, 2, 3), dict(stride=(2, 1), padding=1)),
    ((3, 4, 4, 5), (2, 2, 3, 2), dict(groups=2, dilation=(1, 2), padding=(2, 1))),
    ((3, 2, 4, 4), (2, 2, 2, 2), dict(stride=2)),
], ids=["stride-padding", "groups-dilation", "tiled"])
@pytest.mark.parametrize("backend, jit_mode", [("cpu", False), ("strict", False)]
                         + [("cpu", True)] * _jit.available(),
                         indirect=["jit_mode"],
                         ids=lambda v: {True: "jit", False: "numpy"}.get(v, v))
def test_conv_backward_in_blocks_gradcheck_and_gradgradcheck(monkeypatch, jit_mode, backend,
                                                             case):
    """First and second derivatives by finite differences in float64, with blocks of two
    samples (three samples: an uneven last block); the second runs the whole-array
    backward, recorded."""
    xs, ws, kw = case
    x, w, b = _rand(xs, "float64"), _rand(ws, "float64", 1), _rand((ws[0],), "float64", 2)
    _blocks_of(monkeypatch, 2, "conv2d", x, w, **kw)
    with it.use_backend(backend):
        inputs = tuple(it.asarray(a).requires_grad_() for a in (x, w, b))
        fn = lambda x, w, b: F.conv2d(x, w, b, **kw)
        assert fn(*inputs).grad_fn.args[8] == 2
        assert it.autograd.gradcheck(fn, inputs)
        assert it.autograd.gradgradcheck(fn, inputs)


@pytest.mark.parametrize("jit_mode", JIT, indirect=True, ids=lambda j: "jit" if j else "numpy")
def test_conv_empty_batch_one_matrix_layout(be, jit_mode):
    """An empty batch in the one-matrix layout: an empty output, zero weight and bias
    gradients (no blocks to run)."""
    check_function(F.conv2d, TF.conv2d, _rand((0, 4, 6, 6)), _rand((6, 4, 3, 3), seed=1),
                   _rand((6,), seed=2), padding=1)


# ------------------------------------------------------- the batch-innermost matrix layout

# The one-matrix layout orders its columns (N, L) or, where the windows' rows are narrow
# (``_conv.INNER_BELOW``), (L, N): the batch innermost, the output moved to (N, O, *out) by
# the ``batch_to_front`` kernel. Each case runs in both orders, whole and in blocks, on both
# of the cpu backend's paths.
# the one-matrix layout's column orders: (N, L), (L, N) with the im2col matrix stored, and
# (L, N) read in place from the image (2-d windows, one group: windows_product)
LAYOUTS = {"rows": (0, False), "inner": (1 << 30, False), "implicit": (1 << 30, True)}


def _layout(monkeypatch, name):
    monkeypatch.setattr(_conv, "INNER_BELOW", LAYOUTS[name][0])
    monkeypatch.setattr(_conv, "IMPLICIT", LAYOUTS[name][1])
    return name != "rows"


@pytest.mark.parametrize("case", CONV + CONV_BLOCKS, ids=lambda c: f"{c[0]}d-{c[1]}-{c[3]}")
@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("jit_mode", JIT, indirect=True, ids=lambda j: "jit" if j else "numpy")
def test_conv_column_orders_match_pytorch(be, monkeypatch, jit_mode, layout, case):
    n, xs, ws, kw = case
    fn = f"conv{n}d"
    inner = _layout(monkeypatch, layout)
    x, w, b = _rand(xs), _rand(ws, seed=1), _rand((ws[0],), seed=2)
    if len(xs) == n + 2:    # (an unbatched input's output is a view of the primitive's)
        y = getattr(F, fn)(it.asarray(x).requires_grad_(), it.asarray(w), it.asarray(b), **kw)
        per_sample = y.grad_fn.args[5]
        assert y.grad_fn.args[7] == (inner and not per_sample)
    check_function(getattr(F, fn), getattr(TF, fn), x, w, b, **kw)
    if xs[0] > 2:           # in blocks of two samples too
        _blocks_of(monkeypatch, 2, fn, x, w, **kw)
        check_function(getattr(F, fn), getattr(TF, fn), x, w, b, **kw)


@pytest.mark.parametrize("grads", ["x", "w", "b", "wb", "xb"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_conv_column_orders_partial_gradients(be, monkeypatch, layout, grads):
    """Only some of input, weight and bias need a gradient, in either column order: each
    one asked for matches PyTorch's."""
    _layout(monkeypatch, layout)
    arrays = (_rand((5, 4, 6, 6)), _rand((6, 4, 3, 3), seed=1), _rand((6,), seed=2))
    _assert_partial_gradients_match(arrays, grads)


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("jit_mode", JIT, indirect=True, ids=lambda j: "jit" if j else "numpy")
def test_conv_column_orders_non_finite(be, monkeypatch, jit_mode, layout):
    """NaN, inf and -inf in the input, the bias and the incoming gradient reach the same
    output and gradients as PyTorch's in either column order."""
    _layout(monkeypatch, layout)
    x, w, b = _rand((4, 4, 6, 5)), _rand((5, 4, 3, 2), seed=1), _rand((5,), seed=3)
    x[0, 1, 2, 3], x[2, 0, 0, 0], x[3, 3, 5, 4] = np.nan, np.inf, -np.inf
    b[1] = np.inf
    g = _rand((4, 5, 4, 2), seed=2)
    g[1, 2, 3, 1] = np.inf
    g[2, 3, 0, 0] = np.nan

    def run(lib, fns):
        xt, wt, bt = (lib.asarray(a.copy()).requires_grad_() for a in (x, w, b))
        y = fns.conv2d(xt, wt, bt, stride=(1, 2))
        y.backward(lib.asarray(g))
        return y, xt.grad, wt.grad, bt.grad

    for o, t, name in zip(run(it, F), run(torch, TF), ("output", "x", "w", "b")):
        assert_same(o, t, f"{name} with non-finite entries")


@pytest.mark.parametrize("case", [
    (2, (3, 2, 4, 5), (2, 2, 2, 3), dict(stride=(2, 1), padding=1)),
    (2, (3, 4, 4, 5), (2, 2, 3, 2), dict(groups=2, dilation=(1, 2), padding=(2, 1))),
    (1, (3, 4, 7), (4, 2, 3), dict(groups=2, stride=2)),
    (3, (2, 2, 3, 4, 3), (2, 2, 2, 2, 2), dict(padding=(1, 0, 1))),
], ids=["2d-stride-padding", "2d-groups-dilation", "1d-groups-stride", "3d-padding"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("backend, jit_mode", [("cpu", False), ("strict", False)]
                         + [("cpu", True)] * _jit.available(),
                         indirect=["jit_mode"],
                         ids=lambda v: {True: "jit", False: "numpy"}.get(v, v))
def test_conv_column_orders_gradcheck_and_gradgradcheck(monkeypatch, jit_mode, backend, layout,
                                                        case):
    """First and second derivatives by finite differences in float64, in either column
    order (the second runs the recorded backward, which makes the columns again in that
    order)."""
    n, xs, ws, kw = case
    inner = _layout(monkeypatch, layout)
    x, w, b = _rand(xs, "float64"), _rand(ws, "float64", 1), _rand((ws[0],), "float64", 2)
    with it.use_backend(backend):
        inputs = tuple(it.asarray(a).requires_grad_() for a in (x, w, b))
        fn = lambda x, w, b: getattr(F, f"conv{n}d")(x, w, b, **kw)
        assert fn(*inputs).grad_fn.args[7] == inner
        assert it.autograd.gradcheck(fn, inputs)
        assert it.autograd.gradgradcheck(fn, inputs)
