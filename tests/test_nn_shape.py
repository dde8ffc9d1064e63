"""Padding, resampling and shape layers against PyTorch: F.pad (every mode, negative pads),
F.interpolate (every mode, up and down, align_corners, scale factors), the upsample aliases,
pixel_shuffle / pixel_unshuffle / channel_shuffle, affine_grid / grid_sample, and the
padding, Upsample*, PixelShuffle, ChannelShuffle, Flatten and Unflatten modules: values,
gradients (also second order), reprs and the errors for bad input."""

import warnings

import numpy as np
import pytest

import interop as it
from interop import nn
import interop.nn.functional as F
from interop.nn.functional import _padding
from helpers import to_np, jax_backend
from nn_twin import assert_same, check_function, check_module

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _rand(shape, dtype="float32", seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _second_order(fn_ours, fn_theirs, x):
    """Gradients of ``sum(grad(f(x))**2)`` (a second derivative) on both sides."""
    def run(lib, fn):
        xt = lib.asarray(x.copy()).requires_grad_()
        y = fn(xt)
        c = lib.asarray(_rand(tuple(y.shape), str(x.dtype), 7))
        g, = lib.autograd.grad((y * y * c).sum(), (xt,), create_graph=True)
        (g ** 2).sum().backward()
        return xt.grad
    assert_same(run(it, fn_ours), run(torch, fn_theirs), "second-order gradient")


# ------------------------------------------------------------------------------ pad

_PAD_SHAPES = [((2, 3, 5), 1), ((3, 5), 1), ((2, 3, 4, 5), 2), ((3, 4, 5), 2),
               ((1, 2, 3, 4, 5), 3), ((2, 3, 4, 5), 3)]
_PADS = [(1, 2), (0, 0), (2, 0), (-1, 3), (3, -1), (-2, -1), (3, 3)]


@pytest.fixture(params=["concat", "fill"])
def pad_path(request, monkeypatch):
    """Edge padding concatenates slices (small inputs) or fills one output (large ones):
    run both on small inputs."""
    monkeypatch.setattr(_padding, "_FILL_MIN", 0 if request.param == "fill" else 1 << 62)


def _pad_cases():
    """Every mode x shape x amounts that PyTorch computes correctly; the rest (reflect
    padding as large as the dim, circular padding that wraps more than once, and an empty
    result, whose gradient PyTorch leaves uninitialized) have tests of their own below."""
    for mode in ("constant", "reflect", "replicate", "circular"):
        for shape, k in _PAD_SHAPES:
            for p in _PADS:
                if mode == "reflect" and max(p) >= min(shape[-k:]):
                    continue
                if mode == "circular" and max(p) > min(shape[-k:]) - max(0, -min(p)):
                    continue
                if min(shape[-k:]) + sum(p) == 0:
                    continue
                yield mode, shape, k, p


@pytest.mark.parametrize("mode, shape, k, p", list(_pad_cases()))
def test_pad_matches_pytorch(be, pad_path, mode, shape, k, p):
    pads = p * k
    check_function(lambda x: F.pad(x, pads, mode=mode), lambda x: TF.pad(x, pads, mode=mode),
                   _rand(shape))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_float64_mixed_amounts_and_empty_batch(be, pad_path, mode):
    pads = (2, 1, 0, 3, 1, 1)
    check_function(lambda x: F.pad(x, pads, mode=mode), lambda x: TF.pad(x, pads, mode=mode),
                   _rand((2, 3, 4, 4, 5), "float64"))
    check_function(lambda x: F.pad(x, (1, 2), mode=mode), lambda x: TF.pad(x, (1, 2), mode=mode),
                   _rand((0, 3, 4)))


@pytest.mark.parametrize("mode, pads", [("reflect", (4, -4)), ("reflect", (-4, 4)),
                                        ("replicate", (2, -4)), ("replicate", (-4, 2)),
                                        ("reflect", (-2, 3))])
def test_pad_negative_on_one_side_reaches_past_the_crop(be, pad_path, mode, pads):
    """Reflect/replicate place the output on the input's own coordinates: a crop on one side
    does not move the other side's mirror or edge."""
    check_function(lambda x: F.pad(x, pads, mode=mode), lambda x: TF.pad(x, pads, mode=mode),
                   _rand((2, 5, 5)))


@pytest.mark.parametrize("pads", [(1,), (1, 2, 3)])
def test_pad_constant_nd_and_values(be, pads):
    pads = pads * 2
    for value in (None, 2.5, -1):
        check_function(lambda x: F.pad(x, pads, value=value),
                       lambda x: TF.pad(x, pads, value=value), _rand((2, 3, 4, 2)))


def test_pad_constant_integer_and_bool(be):
    for a in (np.arange(12, dtype=np.int64).reshape(3, 4), np.arange(12).reshape(3, 4) % 3 == 0):
        check_function(lambda x: F.pad(x, (1, 2, -1, 1), value=1),
                       lambda x: TF.pad(x, (1, 2, -1, 1), value=1), a)
    check_function(lambda x: F.pad(x, (1, 1), mode="reflect"),
                   lambda x: TF.pad(x, (1, 1), mode="reflect"), np.arange(6).reshape(2, 3))


def test_pad_result_is_a_new_tensor(be, pad_path):
    x = it.asarray(_rand((2, 3, 4)))
    for mode in ("constant", "reflect", "replicate", "circular"):
        for pads in ((-1, 0), (0, -1, -1, 0), (0, 0)):
            y = F.pad(x, pads, mode=mode)
            y += 1.0
            np.testing.assert_array_equal(to_np(x), _rand((2, 3, 4)))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_output_empty_along_a_dim(be, pad_path, mode):
    x = it.asarray(_rand((2, 3, 4, 5))).requires_grad_()
    y = F.pad(x, (0, 0, -1, -3), mode=mode)
    assert y.shape == (2, 3, 0, 5) and y.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), np.zeros((2, 3, 4, 5), np.float32))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_second_order_gradient(be, pad_path, mode):
    _second_order(lambda x: F.pad(x, (2, 1, 1, 2), mode=mode),
                  lambda x: TF.pad(x, (2, 1, 1, 2), mode=mode), _rand((2, 3, 4), "float64"))


@pytest.mark.parametrize("call, exc, match", [
    (lambda x: F.pad(x, (1, 2, 3)), RuntimeError, "divisible by 2"),
    (lambda x: F.pad(x, (1,) * 8), RuntimeError, "padding length 8 and input of dimension 3"),
    (lambda x: F.pad(x, (1, 1), mode="foo"), NotImplementedError, "'foo'"),
    (lambda x: F.pad(x, (1, 1), mode="reflect", value=1.0), RuntimeError, "value"),
    (lambda x: F.pad(x, (4, 1), mode="reflect"), RuntimeError, r"\(4, 1\) of dim 2 must be less"),
    (lambda x: F.pad(x, (1,) * 6, mode="reflect"), NotImplementedError, "3-D input"),
    (lambda x: F.pad(x[0, 0], (1, 1), mode="replicate"), NotImplementedError, "1-D input"),
    (lambda x: F.pad(x, (5, 0), mode="circular"), RuntimeError, "more than once"),
    (lambda x: F.pad(x, (2, -3), mode="circular"), RuntimeError, "more than once"),
    (lambda x: F.pad(x, (-3, -2)), RuntimeError, "crops more than its 4"),
    (lambda x: F.pad(x, (-1, -4), mode="replicate"), RuntimeError, "negative size"),
    (lambda x: F.pad(x[:, :0], (1, 1), mode="reflect"), RuntimeError, r"non-zero.*\(2, 0, 4\)"),
    (lambda x: F.pad(x, [1.5, 1]), TypeError, "float at pos 0"),
    (lambda x: F.pad(x, 1), TypeError, "tuple of ints"),
    (lambda x: F.pad(np.zeros(3), (1, 1)), TypeError, "Tensor"),
])
def test_pad_errors(be, call, exc, match):
    with pytest.raises(exc, match=match):
        call(it.zeros((2, 3, 4)))


# ---------------------------------------------------------------------- interpolate

_SIZES = [{"size": 9}, {"size": 3}, {"scale_factor": 2}, {"scale_factor": 0.5},
          {"scale_factor": 1.7}, {"scale_factor": 0.34, "recompute_scale_factor": True},
          {"scale_factor": 2.5, "recompute_scale_factor": False}]
_MODES = {1: [("nearest", None), ("nearest-exact", None), ("linear", False), ("linear", True),
              ("area", None)],
          2: [("nearest", None), ("nearest-exact", None), ("bilinear", False),
              ("bilinear", True), ("bicubic", False), ("bicubic", True), ("area", None)],
          3: [("nearest", None), ("nearest-exact", None), ("trilinear", False),
              ("trilinear", True), ("area", None)]}
_SHAPES = {1: (2, 3, 5), 2: (2, 2, 5, 4), 3: (1, 2, 3, 4, 5)}
_INTERP = [(d, m, ac, kw) for d in (1, 2, 3) for m, ac in _MODES[d] for kw in _SIZES] + \
          [(d, m, ac, {"scale_factor": (2.0, 0.6, 1.5)[:d]}) for d in (2, 3)
           for m, ac in _MODES[d]]


def _interp(lib, mode, ac, kw):
    fn = F.interpolate if lib is it else TF.interpolate
    return lambda x: fn(x, mode=mode, align_corners=ac, **kw)


@pytest.mark.parametrize("d, mode, ac, kw", _INTERP)
def test_interpolate_matches_pytorch(be, d, mode, ac, kw):
    check_function(_interp(it, mode, ac, kw), _interp(torch, mode, ac, kw), _rand(_SHAPES[d]))


@pytest.mark.parametrize("mode, ac", [("nearest", None), ("nearest-exact", None),
                                      ("bilinear", False), ("bilinear", True), ("bicubic", True),
                                      ("area", None)])
@pytest.mark.parametrize("kw", [{"scale_factor": 1.7}, {"size": (3, 7)}])
def test_interpolate_float64_and_empty_batch(be, mode, ac, kw):
    check_function(_interp(it, mode, ac, kw), _interp(torch, mode, ac, kw),
                   _rand((2, 2, 5, 4), "float64"))
    check_function(_interp(it, mode, ac, kw), _interp(torch, mode, ac, kw), _rand((0, 2, 5, 4)))


@pytest.mark.parametrize("size", [(1, 1), (2, 1), (3, 2)])
def test_interpolate_area_long_windows(be, size):
    check_function(_interp(it, "area", None, {"size": size}),
                   _interp(torch, "area", None, {"size": size}), _rand((2, 3, 12, 10)))


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_interpolate_nearest_picks_exactly_pytorch_s(be, d, mode):
    """The picks are computed in float32 as PyTorch's kernels do: sizes and scale factors
    where a source coordinate lands on (or rounds across) an integer pick the same pixel.
    (For float64 inputs PyTorch's 1-d kernel picks differently in its vectorized part and
    its tail at such scale factors: float32 is the reference.)"""
    x = np.arange(1.0, 38.0, dtype=np.float32)
    for n, kw in [(7, {"size": 17}), (13, {"size": 5}), (37, {"scale_factor": 0.3}),
                  (9, {"scale_factor": 1 / 3}), (10, {"scale_factor": 2.0000001}),
                  (11, {"scale_factor": 0.7, "recompute_scale_factor": True})]:
        shape = (1, 1) + (1,) * (d - 1) + (n,)
        a = x[:n].reshape(shape)
        kw = {k: (1,) * (d - 1) + (v,) if k != "recompute_scale_factor" else v
              for k, v in kw.items()}
        ours = F.interpolate(it.asarray(a), mode=mode, **kw)
        theirs = TF.interpolate(torch.from_numpy(a), mode=mode, **kw)
        np.testing.assert_array_equal(to_np(ours), theirs.numpy(), err_msg=f"{n} {kw}")


@pytest.mark.parametrize("d, mode, kw", [(1, "nearest", {"scale_factor": 1.1}),
                                         (1, "nearest", {"scale_factor": 2.1}),
                                         (3, "nearest", {"scale_factor": 1.1}),
                                         (2, "bicubic", {"scale_factor": 1.1})])
def test_interpolate_where_pytorch_backward_disagrees_with_its_forward(be, d, mode, kw):
    """With a scale factor whose output keeps (or doubles) the size, PyTorch's 1-d and 3-d
    nearest and its bicubic kernels resample in forward but copy in backward. Values
    follow PyTorch's forward; the gradient is the true one (checked by finite
    differences)."""
    check_function(_interp(it, mode, None if mode == "nearest" else False, kw),
                   _interp(torch, mode, None if mode == "nearest" else False, kw),
                   _rand(_SHAPES[d]), grad=False)
    x = it.asarray(_rand(_SHAPES[d][:2] + (3,) * d, "float64")).requires_grad_()
    assert it.autograd.gradcheck(lambda t: F.interpolate(t, mode=mode, **kw), (x,))


def test_interpolate_integer_input_nearest(be):
    a = np.arange(24, dtype=np.uint8).reshape(1, 2, 3, 4)
    check_function(lambda x: F.interpolate(x, size=(5, 3)),
                   lambda x: TF.interpolate(x, size=(5, 3)), a)
    with pytest.raises(TypeError, match="floating-point input, got dtype interop.uint8"):
        F.interpolate(it.asarray(a), size=3, mode="bilinear")


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")     # NumPy's, on NaN
def test_interpolate_keeps_nan_and_inf_local(be):
    """The gather-based forward and its gather-based gradient keep a NaN or inf next to
    where it is (a matrix product would spread it along the row)."""
    a = _rand((1, 1, 2, 6))
    a[0, 0, 0, 1] = np.nan
    a[0, 0, 1, 4] = np.inf
    for mode, ac in (("bilinear", False), ("bicubic", True), ("nearest", None), ("area", None)):
        check_function(_interp(it, mode, ac, {"size": (3, 9)}),
                       _interp(torch, mode, ac, {"size": (3, 9)}), a)


@pytest.mark.parametrize("mode, ac", [("bilinear", False), ("bicubic", True), ("nearest", None),
                                      ("area", None)])
def test_interpolate_second_order_gradient(be, mode, ac):
    _second_order(_interp(it, mode, ac, {"size": (7, 3)}),
                  _interp(torch, mode, ac, {"size": (7, 3)}), _rand((1, 2, 4, 5), "float64"))


def test_interpolate_returns_a_new_tensor_when_sizes_stay(be):
    x = it.asarray(_rand((1, 1, 4)))
    y = F.interpolate(x, size=4, mode="linear")
    y += 1.0
    np.testing.assert_array_equal(to_np(x), _rand((1, 1, 4)))


@pytest.mark.parametrize("call, exc, match", [
    (lambda x: F.interpolate(x[0], scale_factor=2), NotImplementedError, "got 2-D input"),
    (lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"), NotImplementedError,
     "bilinear mode needs 4-D"),
    (lambda x: F.interpolate(x, scale_factor=2, mode="bicubic"), NotImplementedError,
     "bicubic mode needs 4-D"),
    (lambda x: F.interpolate(x[None], scale_factor=2, mode="linear"), NotImplementedError,
     "linear mode needs 3-D"),
    (lambda x: F.interpolate(x, scale_factor=2, mode="cubic"), NotImplementedError, "'cubic'"),
    (lambda x: F.interpolate(x, scale_factor=2, mode="lanczos"), NotImplementedError, "lanczos"),
    (lambda x: F.interpolate(x), ValueError, "either size or scale_factor"),
    (lambda x: F.interpolate(x, size=3, scale_factor=2), ValueError, "only one of"),
    (lambda x: F.interpolate(x, size=(3, 4)), ValueError, r"spatial dimensions of \[4\]"),
    (lambda x: F.interpolate(x, scale_factor=(3, 4)), ValueError, "scale_factor of shape"),
    (lambda x: F.interpolate(x, size=3, recompute_scale_factor=True), ValueError,
     "not meaningful"),
    (lambda x: F.interpolate(x, size=3, align_corners=True), ValueError, "align_corners"),
    (lambda x: F.interpolate(x, size=3, mode="linear", antialias=True), ValueError,
     "(?i)anti-alias"),
    (lambda x: F.interpolate(x[None], size=3, mode="bilinear", antialias=True),
     NotImplementedError, "antialias=True is not supported"),
    (lambda x: F.interpolate(x, size=0), RuntimeError, r"input \(W: 4\) and output \(W: 0\)"),
    (lambda x: F.interpolate(x, scale_factor=0.1), RuntimeError, r"output \(W: 0\)"),
    (lambda x: F.interpolate(x[:, :, :0], size=3), RuntimeError, r"input \(W: 0\)"),
    (lambda x: F.interpolate(x, size=3.5), TypeError, "size must be a tuple of ints"),
    (lambda x: F.interpolate(x, scale_factor="2"), TypeError, "scale_factor must be a float"),
    (lambda x: F.interpolate(x, scale_factor=float("inf")), ValueError, "finite, got inf"),
])
def test_interpolate_errors(be, call, exc, match):
    with pytest.raises(exc, match=match):
        call(it.zeros((2, 3, 4)))


def test_upsample_aliases_warn_and_match_pytorch(be):
    x = _rand((1, 2, 3, 4))
    for ours, theirs, kw in [(F.upsample, TF.upsample, {"scale_factor": 2, "mode": "bilinear"}),
                             (F.upsample_nearest, TF.upsample_nearest, {"size": (5, 3)}),
                             (F.upsample_bilinear, TF.upsample_bilinear, {"scale_factor": 1.5})]:
        with pytest.warns(UserWarning, match="deprecated"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")          # torch's own warning
                check_function(lambda t: ours(t, **kw), lambda t: theirs(t, **kw), x)
            ours(it.asarray(x), **kw)


# ------------------------------------------------------------ rearranging channels

@pytest.mark.parametrize("shape, r", [((2, 8, 3, 4), 2), ((18, 2, 3), 3), ((2, 1, 4, 3, 2), 2),
                                      ((0, 4, 2, 2), 2), ((4, 0, 3), 2)])
def test_pixel_shuffle_matches_pytorch(be, shape, r):
    up = tuple(shape[:-3]) + (shape[-3] // (r * r), shape[-2] * r, shape[-1] * r)
    if 0 not in shape:
        check_function(lambda x: F.pixel_shuffle(x, r), lambda x: TF.pixel_shuffle(x, r),
                       _rand(shape))
        check_function(lambda x: F.pixel_unshuffle(x, r), lambda x: TF.pixel_unshuffle(x, r),
                       _rand(up, "float64"))
    else:       # PyTorch fails the backward, and pixel_unshuffle returns its input's shape
        x = it.asarray(_rand(shape)).requires_grad_()
        y = F.pixel_shuffle(x, r)
        y.sum().backward()
        assert y.shape == up and x.grad.shape == x.shape
        assert F.pixel_unshuffle(it.zeros(up), r).shape == shape


@pytest.mark.parametrize("shape, g", [((2, 6, 3), 3), ((2, 6, 3, 2), 2), ((1, 4, 2, 2, 2), 4),
                                      ((0, 4, 3), 2), ((2, 5, 3), 1)])
def test_channel_shuffle_matches_pytorch(be, shape, g):
    check_function(lambda x: F.channel_shuffle(x, g), lambda x: TF.channel_shuffle(x, g),
                   _rand(shape))
    check_function(lambda x: F.native_channel_shuffle(x, g),     # (PyTorch's: no gradient)
                   lambda x: TF.native_channel_shuffle(x, g), _rand(shape), grad=False)


@pytest.mark.parametrize("call, exc, match", [
    (lambda x: F.pixel_shuffle(x, 2), RuntimeError, r"input.size\(-3\)=5 is not divisible by 4"),
    (lambda x: F.pixel_shuffle(x, 0), RuntimeError, "positive upscale_factor, but got 0"),
    (lambda x: F.pixel_shuffle(x[0, 0], 1), RuntimeError, "at least 3 dimensions"),
    (lambda x: F.pixel_shuffle(x, 1.0), TypeError, "upscale_factor must be an int"),
    (lambda x: F.pixel_unshuffle(x, 3), RuntimeError, "divisible by downscale_factor"),
    (lambda x: F.pixel_unshuffle(x, -1), RuntimeError, "positive downscale_factor"),
    (lambda x: F.channel_shuffle(x, 2), RuntimeError, "Got 5 channels and 2 groups"),
    (lambda x: F.channel_shuffle(x, 0), RuntimeError, "positive groups"),
    (lambda x: F.channel_shuffle(x[0, 0], 1), RuntimeError, "at least 3 dimensions"),
])
def test_rearrange_errors(be, call, exc, match):
    with pytest.raises(exc, match=match):
        call(it.zeros((2, 5, 4, 4)))


# ------------------------------------------------------------------- sampling grids

@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 2, 3, 4, 5), (1, 1, 1, 1)])
@pytest.mark.parametrize("ac", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_affine_grid_matches_pytorch(be, size, ac, dtype):
    k = len(size) - 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # torch's note on unit-size grids
        check_function(lambda t: F.affine_grid(t, size, align_corners=ac),
                       lambda t: TF.affine_grid(t, size, align_corners=ac),
                       _rand((size[0], k, k + 1), dtype))


@pytest.mark.parametrize("shapes", [((2, 3, 5, 6), (2, 4, 7, 2)), ((1, 1, 1, 3), (1, 2, 2, 2)),
                                    ((2, 2, 3, 4, 5), (2, 3, 2, 4, 3))])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("ac", [False, True])
def test_grid_sample_matches_pytorch(be, shapes, mode, padding_mode, ac):
    x, grid = _rand(shapes[0]), _rand(shapes[1], seed=1) * 1.5
    check_function(lambda a, g: F.grid_sample(a, g, mode, padding_mode, ac),
                   lambda a, g: TF.grid_sample(a, g, mode, padding_mode, ac), x, grid)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("ac", [False, True])
def test_grid_sample_kinks_and_ties_as_pytorch(be, padding_mode, ac):
    """Grid points on the edges, on pixel centres and half-way between (nearest rounds
    half to even); an edge counts as outside for the grid's gradient, as in PyTorch."""
    x = (np.arange(12.0).reshape(1, 1, 3, 4) ** 2)
    grid = np.array([[[[-1., -1.], [1., 1.], [-1, 1], [0.5, -0.5], [1.5, 2.0], [-3., -1.25],
                       [-0.75, 0.], [0.25, 0.], [0., 0.], [-0.5, 1 / 3]]]])
    for mode in ("bilinear", "nearest"):
        check_function(lambda a, g: F.grid_sample(a, g, mode, padding_mode, ac),
                       lambda a, g: TF.grid_sample(a, g, mode, padding_mode, ac), x, grid)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")     # NumPy's, on NaN
def test_grid_sample_non_finite_grid_and_empty_inputs(be):
    """A NaN or infinite grid point reads zero padding, or the clipped / reflected edge
    (NaN counts as 0 there), as PyTorch's CPU kernel."""
    x = np.arange(12.0).reshape(1, 1, 3, 4)
    grid = np.array([[[[np.nan, 0.], [0.2, np.inf], [-np.inf, 0.1]]]])
    for padding_mode in ("zeros", "border", "reflection"):
        for mode in ("bilinear", "nearest"):
            check_function(lambda a, g: F.grid_sample(a, g, mode, padding_mode, False),
                           lambda a, g: TF.grid_sample(a, g, mode, padding_mode, False),
                           x, grid, grad=False)
    for xs, gs in [((0, 2, 3, 4), (0, 2, 2, 2)), ((2, 0, 3, 4), (2, 2, 2, 2)),
                   ((2, 2, 3, 4), (2, 0, 2, 2))]:
        check_function(lambda a, g: F.grid_sample(a, g, align_corners=True),
                       lambda a, g: TF.grid_sample(a, g, align_corners=True),
                       _rand(xs), _rand(gs, seed=1))


def test_grid_sample_second_order_gradient(be):
    x = _rand((1, 2, 3, 4), "float64")

    def run(lib, fn):
        a = lib.asarray(x.copy()).requires_grad_()
        g = lib.asarray(_rand((1, 2, 3, 2), "float64", 1) * 0.9).requires_grad_()
        y = fn(a, g, "bilinear", "border", False)
        ga, gg = lib.autograd.grad((y ** 2).sum(), (a, g), create_graph=True)
        ((ga ** 2).sum() + (gg * ga.sum()).sum()).backward()
        return a.grad, g.grad

    for o, t in zip(run(it, F.grid_sample), run(torch, TF.grid_sample)):
        assert_same(o, t, "second-order gradient")


@pytest.mark.parametrize("call, exc, match", [
    (lambda x, g: F.grid_sample(x, g, mode="cubic"), ValueError, "'cubic'"),
    (lambda x, g: F.grid_sample(x, g, mode="bicubic"), NotImplementedError, "bicubic"),
    (lambda x, g: F.grid_sample(x, g, padding_mode="wrap"), ValueError, "'wrap'"),
    (lambda x, g: F.grid_sample(x[0], g), RuntimeError, "4-D or 5-D input"),
    (lambda x, g: F.grid_sample(x, g[..., :1]), RuntimeError, r"grid of shape \(1, 2, 2, 1\)"),
    (lambda x, g: F.grid_sample(x, g.astype(it.float64)), TypeError, "same floating dtype"),
    (lambda x, g: F.affine_grid(g[0], (1, 1, 2, 2)), RuntimeError, r"theta of shape \(2, 2, 2\)"),
    (lambda x, g: F.affine_grid(it.zeros((1, 2, 3)), (1, 1, 2)), NotImplementedError,
     "4-D and 5-D sizes"),
    (lambda x, g: F.affine_grid(it.zeros((2, 2, 3)), (1, 1, 2, 2)), RuntimeError, "N = size"),
    (lambda x, g: F.affine_grid(it.zeros((0, 2, 3)), (0, 1, 2, 2)), RuntimeError,
     r"positive output size, got size \(0, 1, 2, 2\)"),
    (lambda x, g: F.affine_grid(it.zeros((1, 2, 3), dtype=it.int64), (1, 1, 2, 2)),
     TypeError, "floating point"),
])
def test_grid_errors(be, call, exc, match):
    with pytest.raises(exc, match=match):
        call(it.zeros((1, 3, 4, 4)), it.zeros((1, 2, 2, 2)))


# ------------------------------------------------------------------------ modules

_PAD_MODULES = [("ZeroPad1d", (2,), (2, 3, 4)), ("ZeroPad2d", ((1, 2, 0, 3),), (3, 4, 5)),
                ("ZeroPad3d", (1,), (1, 2, 3, 3, 3)), ("ConstantPad1d", ((1, -1), 2.5), (3, 4)),
                ("ConstantPad2d", (1, -1.0), (2, 1, 3, 3)), ("ConstantPad3d", (1, 0), (2, 2, 2, 2)),
                ("ReflectionPad1d", (2,), (2, 3, 4)),
                ("ReflectionPad2d", ((1, 0, 2, 1),), (2, 3, 3)),
                ("ReflectionPad3d", (1,), (1, 2, 2, 3, 3)), ("ReplicationPad1d", ((3, 1),), (3, 2)),
                ("ReplicationPad2d", (2,), (1, 2, 3, 3)), ("ReplicationPad3d", (1,), (2, 2, 3, 2)),
                ("CircularPad1d", (2,), (2, 3, 4)), ("CircularPad2d", ((1, 0, 2, 1),), (3, 3, 3)),
                ("CircularPad3d", (1,), (1, 1, 2, 2, 3))]


@pytest.mark.parametrize("name, args, shape", _PAD_MODULES)
def test_padding_modules_match_pytorch(be, name, args, shape):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert ours.padding == theirs.padding
    assert getattr(ours, "value", None) == getattr(theirs, "value", None)
    assert not list(ours.parameters()) and not ours.state_dict()
    check_module(ours, theirs, _rand(shape))


def test_padding_module_types_and_errors(be):
    assert isinstance(nn.ZeroPad2d(1), nn.ConstantPad2d) and nn.ZeroPad2d(1).value == 0.0
    with pytest.raises(TypeError, match=r"tuple of 2 ints"):
        nn.ReflectionPad1d((1, 2, 3))
    with pytest.raises(TypeError, match=r"int or a tuple of 4 ints, got float"):
        nn.ZeroPad2d(1.5)
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 1D input"):
        nn.CircularPad2d(1)(it.zeros(5))
    with pytest.raises(NotImplementedError, match="padding size 4"):
        nn.ReflectionPad2d(1)(it.zeros((2, 3, 4, 5, 6)))


@pytest.mark.parametrize("kw, shape", [
    ({"scale_factor": 2}, (1, 2, 3)), ({"size": (3, 5), "mode": "bilinear"}, (1, 2, 4, 4)),
    ({"scale_factor": (2, 1.5), "mode": "bicubic", "align_corners": True}, (1, 1, 3, 4)),
    ({"scale_factor": 0.5, "mode": "trilinear", "recompute_scale_factor": True}, (1, 1, 4, 4, 4)),
    ({"size": 2, "mode": "area"}, (2, 1, 5)), ({"scale_factor": 1.5, "mode": "nearest-exact"},
                                              (1, 1, 3, 3))])
def test_upsample_module_matches_pytorch(be, kw, shape):
    ours, theirs = nn.Upsample(**kw), torch.nn.Upsample(**kw)
    assert repr(ours) == repr(theirs)
    for attr in ("name", "size", "scale_factor", "mode", "align_corners",
                 "recompute_scale_factor"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    check_module(ours, theirs, _rand(shape))


@pytest.mark.parametrize("cls", ["UpsamplingNearest2d", "UpsamplingBilinear2d"])
@pytest.mark.parametrize("kw", [{"scale_factor": 2}, {"size": (3, 5)}])
def test_upsampling_2d_modules_match_pytorch(be, cls, kw):
    ours, theirs = getattr(nn, cls)(**kw), getattr(torch.nn, cls)(**kw)
    assert repr(ours) == repr(theirs)
    assert ours.align_corners == theirs.align_corners
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_module(ours, theirs, _rand((2, 1, 3, 4)))


@pytest.mark.parametrize("ours, theirs, shape", [
    (nn.PixelShuffle(2), torch.nn.PixelShuffle(2), (2, 8, 2, 3)),
    (nn.PixelUnshuffle(3), torch.nn.PixelUnshuffle(3), (1, 2, 3, 6)),
    (nn.ChannelShuffle(3), torch.nn.ChannelShuffle(3), (2, 6, 2)),
    (nn.Flatten(), torch.nn.Flatten(), (2, 3, 4)),
    (nn.Flatten(0, 1), torch.nn.Flatten(0, 1), (2, 3, 4)),
    (nn.Flatten(-2), torch.nn.Flatten(-2), (2, 3, 4, 5)),
    (nn.Flatten(), torch.nn.Flatten(), (0, 3, 2)),
    (nn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3)), (4, 6)),
    (nn.Unflatten(-1, [2, -1]), torch.nn.Unflatten(-1, [2, -1]), (2, 2, 6)),
])
def test_rearranging_modules_match_pytorch(be, ours, theirs, shape):
    assert repr(ours) == repr(theirs)
    check_module(ours, theirs, _rand(shape))


def test_flatten_unflatten_errors(be):
    with pytest.raises(TypeError, match="must be a tuple of ints, but found type int"):
        nn.Unflatten(1, 4)
    with pytest.raises(TypeError, match="element of type float at pos 1"):
        nn.Unflatten(1, (4, 1.5))
    with pytest.raises(RuntimeError):
        nn.Unflatten(1, (2, 3))(it.zeros((2, 5)))
    with pytest.raises(RuntimeError):
        nn.Flatten(2, 1)(it.zeros((2, 3, 4)))
    with pytest.raises(IndexError):
        nn.Flatten(1, 5)(it.zeros((2, 3, 4)))


def test_interpolate_and_grid_sample_where_int64_is_missing():
    """Interpolation taps and grid_sample's gather positions were cast to int64 (JAX without
    x64 has none): every linear, cubic and grid-sampling path raised there."""
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((1, 1, 3, 4)).astype(np.float32)
    g_np = (rng.random((1, 2, 2, 2)) * 2 - 1).astype(np.float32)
    tx = torch.from_numpy(x_np)
    want = {m: torch.nn.functional.interpolate(tx, size=(5, 6), mode=m, align_corners=False)
            for m in ("bilinear", "bicubic")}
    want_grid = torch.nn.functional.grid_sample(tx, torch.from_numpy(g_np), align_corners=False)
    with jax_backend():
        x = it.tensor(x_np.tolist())
        for m, w in want.items():
            np.testing.assert_allclose(to_np(F.interpolate(x, size=(5, 6), mode=m,
                                                           align_corners=False)),
                                       w.numpy(), rtol=1e-5, atol=1e-5, err_msg=m)
        np.testing.assert_allclose(to_np(F.grid_sample(x, it.tensor(g_np.tolist()),
                                                       align_corners=False)),
                                   want_grid.numpy(), rtol=1e-5, atol=1e-5)


def test_pad_gradients_on_an_immutable_backend():
    """The backward of reflect/replicate/circular padding added each folded run into a
    view of its result in place, which JAX's immutable arrays cannot write through."""
    x_np = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    w_np = np.arange(1, 15, dtype=np.float32).reshape(1, 2, 7)
    want = {}
    for mode in ("reflect", "replicate", "circular"):
        tx = torch.from_numpy(x_np).requires_grad_()
        (torch.nn.functional.pad(tx, (2, 2), mode=mode) * torch.from_numpy(w_np)).sum().backward()
        want[mode] = tx.grad.numpy()
    with jax_backend():
        for mode, w in want.items():
            x = it.tensor(x_np.tolist(), requires_grad=True)
            (F.pad(x, (2, 2), mode=mode) * it.tensor(w_np.tolist())).sum().backward()
            np.testing.assert_array_equal(to_np(x.grad), w, err_msg=mode)
