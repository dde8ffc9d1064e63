"""Padding (``interop.nn.modules.padding`` and F.pad) against PyTorch: F.pad in every
mode on both of its code paths, negative pads, constant values for every dtype, empty
outputs, and the ZeroPad*, ConstantPad*, ReflectionPad*, ReplicationPad* and CircularPad*
modules: values, gradients (also second order and on an immutable backend), reprs and the
errors for bad input."""

import numpy as np
import pytest

import interop as it
from interop import nn
import interop.nn.functional as F
from interop.nn.functional import _padding
from helpers import to_np, jax_backend
from torch_compare import check_function, check_module, check_second_order

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _rand(shape, dtype="float32", seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


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
    check_second_order(lambda x: F.pad(x, (2, 1, 1, 2), mode=mode),
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
