"""Normalization layers against PyTorch: BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d, LayerNorm,
GroupNorm, RMSNorm, LocalResponseNorm, CrossMapLRN2d and F.normalize. Twins compare outputs,
input and parameter gradients and running statistics over several training steps and in
eval mode; then second derivatives, state_dict round trips with PyTorch (num_batches_tracked
included), kinks (constant channels, large offsets, zero vectors, NaN), empty batches,
reprs and the errors for bad input."""

import numpy as np
import pytest

import interop as it
from interop import nn
import interop.nn.functional as F
from interop.nn.functional import _norm
from helpers import to_np, jax_backend
from torch_compare import Const, assert_same, check_function, check_module, load_twin

torch = pytest.importorskip("torch")
TF = torch.nn.functional

DTYPES = ["float32", "float64"]


def _rand(shape, dtype="float32", seed=0, loc=0.0, scale=1.0):
    g = np.random.default_rng(seed)
    return (loc + scale * g.standard_normal(shape)).astype(dtype)


def _pair(cls_name, *args, dtype="float32", **kwargs):
    """The same layer built in interop and in PyTorch."""
    ours = getattr(nn, cls_name)(*args, dtype=getattr(it, dtype), **kwargs)
    theirs = getattr(torch.nn, cls_name)(*args, dtype=getattr(torch, dtype), **kwargs)
    return ours, theirs


def _train_then_eval(ours, theirs, shape, dtype, steps=3, **kw):
    """``steps`` training steps on fresh batches (outputs, gradients and running statistics
    compared after each), then one step in eval mode."""
    for step in range(steps):
        check_module(ours, theirs, _rand(shape, dtype, seed=step, loc=0.5 * step),
                     load=step == 0, seed=step, **kw)
    check_module(ours, theirs, _rand(shape, dtype, seed=10, loc=0.3), train=False, load=False,
                 **kw)


# ------------------------------------------------------------------ BatchNorm

BN_CASES = [("BatchNorm1d", (5, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (2, 3, 4, 3)),
            ("BatchNorm3d", (2, 3, 2, 2, 3))]
BN_OPTIONS = [dict(), dict(momentum=None, affine=False), dict(track_running_stats=False),
              dict(momentum=0.3, bias=False)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", BN_OPTIONS, ids=lambda o: ",".join(map(str, o.items())))
@pytest.mark.parametrize("cls, shape", BN_CASES)
def test_batchnorm_train_and_eval_match_pytorch(be, cls, shape, options, dtype):
    ours, theirs = _pair(cls, 3, dtype=dtype, **options)
    _train_then_eval(ours, theirs, shape, dtype)


def test_batchnorm_running_stats_after_training_steps(be):
    """momentum=None is the cumulative average over all batches; the variance tracked is
    the unbiased one, while the batch is normalized with the biased one."""
    bn = nn.BatchNorm1d(2, momentum=None, dtype=it.float64)
    batches = [_rand((4, 2), "float64", seed=s, loc=s) for s in range(3)]
    for b in batches:
        bn(it.asarray(b))
    np.testing.assert_allclose(to_np(bn.running_mean), np.mean([b.mean(0) for b in batches], 0),
                               rtol=1e-12)
    np.testing.assert_allclose(to_np(bn.running_var),
                               np.mean([b.var(0, ddof=1) for b in batches], 0), rtol=1e-12)
    assert bn.num_batches_tracked.item() == 3 and bn.num_batches_tracked.dtype == it.int64


def test_batchnorm_eval_without_running_stats_uses_the_batch(be):
    ours, theirs = _pair("BatchNorm2d", 3, track_running_stats=False)
    check_module(ours, theirs, _rand((2, 3, 2, 2)), train=False)
    assert ours.running_mean is None and ours.num_batches_tracked is None


@pytest.mark.parametrize("shape", [(0, 3, 2, 2), (2, 3, 0, 2)])
def test_batchnorm_empty_batch(be, shape):
    """No values: an empty result, weight and bias gradients zero, running statistics
    unchanged (the batch still counts), as PyTorch."""
    ours, theirs = _pair("BatchNorm2d", 3)
    check_module(ours, theirs, _rand(shape))
    assert ours.num_batches_tracked.item() == 1
    np.testing.assert_array_equal(to_np(ours.weight.grad), np.zeros(3, np.float32))


@pytest.mark.parametrize("training", [True, False])
def test_functional_batch_norm_matches_pytorch(be, training):
    x = _rand((4, 3, 2), "float64")
    rm, rv = _rand(3, "float64", seed=1), _rand(3, "float64", seed=2) ** 2 + 0.5
    ours_rm, ours_rv = it.asarray(rm.copy()), it.asarray(rv.copy())
    theirs_rm, theirs_rv = torch.tensor(rm), torch.tensor(rv)
    check_function(lambda *a, **k: F.batch_norm(*a, ours_rm, ours_rv, **k),
                   lambda *a, **k: TF.batch_norm(*a, theirs_rm, theirs_rv, **k),
                   x, weight=_rand(3, "float64", 3), bias=_rand(3, "float64", 4),
                   training=training, momentum=0.2, eps=1e-3)
    assert_same(ours_rm, theirs_rm, "running_mean")
    assert_same(ours_rv, theirs_rv, "running_var")


def test_functional_batch_norm_weight_without_bias_and_no_stats(be):
    check_function(F.batch_norm, TF.batch_norm, _rand((5, 2)), None, None,
                   _rand(2, seed=1), None, True)


@pytest.mark.parametrize("fn", ["batch_norm", "layer_norm", "group_norm", "instance_norm"])
def test_parameter_gradients_of_an_input_without_gradient(be, fn):
    """Only the weight and bias need gradients (the backward computes only those)."""
    x, w, b = Const(_rand((3, 4, 2), "float64")), _rand(4, "float64", 1), _rand(4, "float64", 2)
    args = {"batch_norm": (None, None, w, b, True), "layer_norm": ((2,), w[:2], b[:2]),
            "group_norm": (2, w, b), "instance_norm": (None, None, w, b)}[fn]
    check_function(getattr(F, fn), getattr(TF, fn), x, *args)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_constant_channel(be, dtype):
    """A channel of equal values has variance 0: the output is 0 and the input gradient is
    1/sqrt(eps) times the centred cotangent."""
    x = _rand((6, 3), dtype, loc=0.5)
    x[:, 0] = 2.5
    ours, theirs = _pair("BatchNorm1d", 3, dtype=dtype)
    # PyTorch's float32 mean of six 2.5s is off by an ulp (its output -1.5e-5, ours 0)
    check_module(ours, theirs, x, tol=1e-4 if dtype == "float32" else None)


def test_batchnorm_large_offset_is_exact(be):
    """Channels far from 0 relative to their spread (mean 1e3, std 1e-3 in float32): the
    corrected two-pass statistics give the float64 answer to float32 precision (PyTorch's
    float32 kernel is off by 3e-3 here)."""
    x = _rand((6, 2), "float32", seed=3)
    x[:, 0] = x[:, 0] * 1e-3 + 1e3
    x64 = x.astype(np.float64)
    expected = (x64 - x64.mean(0)) / np.sqrt(x64.var(0) + 1e-5)
    bn = nn.BatchNorm1d(2)
    np.testing.assert_allclose(to_np(bn(it.asarray(x))), expected, rtol=0, atol=2e-6)
    np.testing.assert_allclose(to_np(bn.running_mean), 0.1 * x64.mean(0), rtol=1e-6)
    np.testing.assert_allclose(to_np(bn.running_var), 0.9 + 0.1 * x64.var(0, ddof=1), rtol=1e-6)


def test_batchnorm_nan_propagates_to_its_channel_only(be):
    x = _rand((4, 2, 3))
    x[1, 0, 2] = np.nan
    ours, theirs = _pair("BatchNorm1d", 2)
    out, _ = check_module(ours, theirs, x)
    y = to_np(out)
    assert np.isnan(y[:, 0]).all() and np.isfinite(y[:, 1]).all()


def test_batchnorm_double_backward_matches_pytorch(be):
    x, w, b = _rand((4, 3, 2), "float64"), _rand(3, "float64", 1), _rand(3, "float64", 2)
    _second_order(lambda lib, f, t: f.batch_norm(t[0], None, None, t[1], t[2], True), (x, w, b))


def _second_order(fn, arrays):
    """``grad(fn(x...).tanh().sum(), inputs, create_graph=True)`` then backward of a function
    of those gradients: the second derivatives against PyTorch's."""
    def run(lib, f):
        ts = [lib.asarray(a.copy()).requires_grad_() for a in arrays]
        y = fn(lib, f, ts).tanh().sum()
        gs = lib.autograd.grad(y, ts, create_graph=True)
        sum((g ** 2).sum() for g in gs).backward()
        return [t.grad for t in ts]

    for i, (o, t) in enumerate(zip(run(it, F), run(torch, TF))):
        assert_same(o, t, f"second-order gradient of input {i}")


def test_batchnorm_state_dict_round_trips_with_pytorch(be):
    ours, theirs = _pair("BatchNorm2d", 3, momentum=0.2)
    for s in range(2):
        ours(it.asarray(_rand((2, 3, 2, 2), seed=s)))
    state = ours.state_dict()
    assert list(state) == list(theirs.state_dict())
    count = state["num_batches_tracked"]
    assert count.dtype == it.int64 and count.item() == 2
    theirs.load_state_dict({k: torch.from_numpy(to_np(v)) for k, v in state.items()})
    assert theirs.num_batches_tracked.item() == 2
    back = nn.BatchNorm2d(3, momentum=0.2)
    load_twin(back, theirs)
    for name, buf in ours.named_buffers():
        assert_same(dict(back.named_buffers())[name], dict(theirs.named_buffers())[name], name)
        np.testing.assert_array_equal(to_np(buf), to_np(dict(back.named_buffers())[name]))


def test_batchnorm_loads_a_checkpoint_without_num_batches_tracked(be):
    """Old (PyTorch < 0.4.1) checkpoints have no num_batches_tracked: a strict load keeps
    the module's count, as PyTorch's."""
    bn = nn.BatchNorm1d(2)
    bn(it.asarray(_rand((3, 2))))
    state = {k: v.clone() for k, v in nn.BatchNorm1d(2).state_dict().items()
             if k != "num_batches_tracked"}
    bn.load_state_dict(state)
    assert bn.num_batches_tracked.item() == 1
    np.testing.assert_array_equal(to_np(bn.running_mean), np.zeros(2, np.float32))
    with pytest.raises(RuntimeError, match="size mismatch for running_mean"):
        bn.load_state_dict({**state, "running_mean": it.zeros(3)})


def test_batchnorm_in_a_container_state_dict_keys(be):
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    check_module(ours, theirs, _rand((5, 3)))


def test_batchnorm_reset_and_defaults_match_pytorch(be):
    ours, theirs = _pair("BatchNorm1d", 4, affine=True)
    for name, t in theirs.state_dict().items():
        assert_same(ours.state_dict()[name], t, name)
    ours(it.asarray(_rand((3, 4))))
    with it.no_grad():
        ours.weight.fill_(2.0)
    ours.reset_running_stats()
    assert ours.num_batches_tracked.item() == 0
    np.testing.assert_array_equal(to_np(ours.running_var), np.ones(4, np.float32))
    np.testing.assert_array_equal(to_np(ours.weight), np.full(4, 2.0, np.float32))
    ours.reset_parameters()
    np.testing.assert_array_equal(to_np(ours.weight), np.ones(4, np.float32))
    assert ours.weight.requires_grad and not ours.running_mean.requires_grad


@pytest.mark.parametrize("name, args, kwargs", [
    ("BatchNorm3d", (5,), {}), ("LayerNorm", ((2, 3),), {}), ("GroupNorm", (2, 6), {}),
    ("InstanceNorm2d", (4,), dict(affine=True, track_running_stats=True)),
    ("RMSNorm", (7,), {}), ("BatchNorm1d", (3,), dict(dtype="float64"))])
def test_default_init_matches_pytorch(be, name, args, kwargs):
    """Weight ones, bias zeros, running mean 0 and variance 1: every entry, dtype and shape
    of the fresh state_dict is PyTorch's."""
    kwargs = dict(kwargs)
    ours, theirs = _pair(name, *args, dtype=kwargs.pop("dtype", "float32"), **kwargs)
    state = ours.state_dict()
    assert list(state) == list(theirs.state_dict())
    for key, t in theirs.state_dict().items():
        assert_same(state[key], t, key)
    for p in ours.parameters():
        assert p.requires_grad and isinstance(p, nn.Parameter)


def test_empty_batches_of_group_and_instance_norm(be):
    ours, theirs = _pair("GroupNorm", 2, 4)
    check_module(ours, theirs, _rand((0, 4, 3)))
    inorm = nn.InstanceNorm1d(4, affine=True, track_running_stats=True)
    x = it.asarray(_rand((0, 4, 3))).requires_grad_()
    y = inorm(x)                    # (PyTorch's kernel fails on this batch with an IndexError)
    y.sum().backward()
    assert y.shape == (0, 4, 3) and x.grad.shape == (0, 4, 3)
    np.testing.assert_array_equal(to_np(inorm.weight.grad), np.zeros(4, np.float32))
    np.testing.assert_array_equal(to_np(inorm.running_mean), np.zeros(4, np.float32))


def test_norm_reprs_match_pytorch(be):
    cases = [("BatchNorm2d", (16,), {}), ("BatchNorm1d", (3,), dict(momentum=None, bias=False)),
             ("BatchNorm3d", (2,), dict(affine=False, track_running_stats=False)),
             ("InstanceNorm1d", (3,), {}), ("InstanceNorm3d", (3,), dict(affine=True)),
             ("LayerNorm", ((4, 5),), dict(bias=False)), ("LayerNorm", (4,), dict(eps=1e-3)),
             ("LayerNorm", ([2],), dict(elementwise_affine=False)),
             ("GroupNorm", (2, 4), {}), ("GroupNorm", (1, 3), dict(affine=False)),
             ("RMSNorm", (4,), {}), ("RMSNorm", ([2, 3],), dict(eps=1e-6)),
             ("LocalResponseNorm", (2,), {}), ("LocalResponseNorm", (3, 0.1, 0.5, 2.0), {})]
    for name, args, kwargs in cases:
        assert repr(getattr(nn, name)(*args, **kwargs)) == \
            repr(getattr(torch.nn, name)(*args, **kwargs))


@pytest.mark.parametrize("cls, shape, match", [
    ("BatchNorm1d", (3,), r"expected 2D or 3D input \(got 1D input\)"),
    ("BatchNorm1d", (2, 3, 2, 2), r"expected 2D or 3D input \(got 4D input\)"),
    ("BatchNorm2d", (2, 3, 4), r"expected 4D input \(got 3D input\)"),
    ("BatchNorm3d", (2, 3, 4, 4), r"expected 5D input \(got 4D input\)"),
])
def test_batchnorm_dimension_errors(be, cls, shape, match):
    for layer in (getattr(nn, cls)(3), getattr(torch.nn, cls)(3)):
        with pytest.raises(ValueError, match=match):
            layer(it.zeros(shape) if isinstance(layer, nn.Module) else torch.zeros(shape))


def test_batchnorm_channel_and_batch_size_errors(be):
    bn = nn.BatchNorm2d(3)
    with pytest.raises(RuntimeError, match=r"running_mean should contain 4 elements.*not 3"):
        bn(it.zeros((2, 4, 2, 2)))
    with pytest.raises(ValueError, match=r"more than 1 value per channel when training.*"
                                         r"1, 3, 1, 1"):
        bn(it.zeros((1, 3, 1, 1)))
    bn.eval()
    assert bn(it.ones((1, 3, 1, 1))).shape == (1, 3, 1, 1)     # eval: one value is fine


def test_functional_batch_norm_errors(be):
    x = it.asarray(_rand((4, 3)))
    rm, rv = it.zeros(3), it.ones(3)
    with pytest.raises(ValueError, match="both be None or neither"):
        F.batch_norm(x, rm, None, training=True)
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match="eps must be positive during training, but got 0"):
        F.batch_norm(x, rm, rv, training=True, eps=0)
    with pytest.raises(ValueError, match="eps must be non-negative, but got -1"):
        F.batch_norm(x, rm, rv, training=False, eps=-1)
    with pytest.raises(RuntimeError, match=r"weight should contain 3 elements.*not 4"):
        F.batch_norm(x, rm, rv, it.ones(4), training=True)
    with pytest.raises(RuntimeError, match=r"bias should contain 3 elements.*not 2"):
        F.batch_norm(x, rm, rv, None, it.ones(2), training=True)
    with pytest.raises(TypeError, match="float64"):
        F.batch_norm(x, rm, rv, it.ones(3, dtype=it.float64), training=True)
    with pytest.raises(TypeError, match="floating point input, got dtype interop.int64"):
        F.batch_norm(it.arange(6).reshape(2, 3), rm, rv, training=True)
    with pytest.raises(RuntimeError, match=r"at least 2 dims, got shape \(3,\)"):
        F.batch_norm(it.ones(3), rm, rv, training=False)
    with pytest.raises(TypeError, match="momentum"):
        F.batch_norm(x, rm, rv, training=True, momentum=None)


@pytest.mark.parametrize("cls, shape", [("BatchNorm1d", (4, 3)), ("BatchNorm2d", (2, 3, 2, 2)),
                                        ("BatchNorm3d", (2, 3, 1, 2, 2)),
                                        ("InstanceNorm1d", (2, 3, 4)),
                                        ("InstanceNorm2d", (3, 2, 2))])
def test_lazy_norms_become_their_class(be, cls, shape):
    """The first input gives num_features (the channel dim, also for unbatched instance
    norm); the module then is the plain class and matches PyTorch's from there on. The
    defaults are PyTorch's (affine and tracked statistics, for the instance norms too)."""
    ours = getattr(nn, "Lazy" + cls)()
    assert repr(ours) == repr(getattr(torch.nn, "Lazy" + cls)())
    x = _rand(shape)
    ours(it.asarray(x))
    assert type(ours) is getattr(nn, cls) and ours.num_features == 3
    theirs = getattr(torch.nn, cls)(3, affine=True, track_running_stats=True)
    theirs(torch.from_numpy(x))
    for name, t in theirs.state_dict().items():
        assert_same(ours.state_dict()[name], t, name)
    check_module(ours, theirs, _rand(shape, seed=1))


LAZY_NORMS = [("LazyBatchNorm1d", (4, 3)), ("LazyBatchNorm2d", (4, 3, 5, 5)),
              ("LazyBatchNorm3d", (2, 3, 2, 3, 3)), ("LazyInstanceNorm1d", (2, 3, 6)),
              ("LazyInstanceNorm2d", (2, 3, 4, 4)), ("LazyInstanceNorm3d", (2, 3, 2, 3, 3))]


@pytest.mark.parametrize("name, shape", LAZY_NORMS)
def test_lazy_norms_infer_features_and_match_pytorch(be, name, shape):
    ours, theirs = getattr(nn, name)(), getattr(torch.nn, name)()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    ours(it.asarray(x))
    theirs(torch.from_numpy(x))
    assert type(ours).__name__ == type(theirs).__name__      # became the eager class
    check_module(ours, theirs, x)
    check_module(ours, theirs, x, train=False)


@pytest.mark.parametrize("name, shape", LAZY_NORMS)
@pytest.mark.parametrize("train", [True, False])
def test_lazy_norm_first_call_matches_pytorch(be, name, shape, train):
    """Lazy norms initialise deterministically (weight ones, bias zeros, running mean 0 and
    var 1), so the first call of ours and of PyTorch's lazy module, which infers
    num_features and makes each the eager class, are compared directly: outputs, gradients
    and running statistics, in training and eval mode."""
    ours, theirs = getattr(nn, name)(), getattr(torch.nn, name)()
    assert type(ours) is getattr(nn, name)
    check_module(ours, theirs, _rand(shape, seed=1), train=train, load=False)
    assert type(ours) is getattr(nn, name[4:]) and ours.num_features == 3


def test_lazy_batchnorm_materializes_from_a_state_dict(be):
    theirs = torch.nn.BatchNorm1d(4)
    theirs(torch.from_numpy(_rand((5, 4))))
    ours = nn.LazyBatchNorm1d()
    load_twin(ours, theirs)
    assert ours.weight.shape == (4,) and ours.num_batches_tracked.item() == 1
    check_module(ours, theirs, _rand((3, 4)), load=False)
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.LazyBatchNorm1d()(it.zeros((2, 3, 2, 2)))


# ------------------------------------------------------------------ InstanceNorm

IN_CASES = [("InstanceNorm1d", (2, 3, 5)), ("InstanceNorm1d", (3, 4)),
            ("InstanceNorm2d", (2, 3, 3, 2)), ("InstanceNorm2d", (3, 2, 3)),
            ("InstanceNorm3d", (2, 3, 2, 2, 2)), ("InstanceNorm3d", (3, 2, 1, 3))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", [dict(), dict(affine=True, track_running_stats=True),
                                     dict(affine=True, bias=False, momentum=None,
                                          track_running_stats=True)],
                         ids=lambda o: ",".join(map(str, o.items())))
@pytest.mark.parametrize("cls, shape", IN_CASES)
def test_instancenorm_train_and_eval_match_pytorch(be, cls, shape, options, dtype):
    ours, theirs = _pair(cls, 3, dtype=dtype, **options)
    _train_then_eval(ours, theirs, shape, dtype, steps=2)


def test_functional_instance_norm_with_running_stats(be):
    x = _rand((2, 3, 4), "float64")
    rm, rv = _rand(3, "float64", 1), _rand(3, "float64", 2) ** 2 + 0.5
    ours_rm, ours_rv = it.asarray(rm.copy()), it.asarray(rv.copy())
    theirs_rm, theirs_rv = torch.tensor(rm), torch.tensor(rv)
    check_function(lambda *a, **k: F.instance_norm(*a, ours_rm, ours_rv, **k),
                   lambda *a, **k: TF.instance_norm(*a, theirs_rm, theirs_rv, **k),
                   x, weight=_rand(3, "float64", 3), momentum=0.3, eps=1e-4)
    assert_same(ours_rm, theirs_rm, "running_mean")
    assert_same(ours_rv, theirs_rv, "running_var")
    check_function(F.instance_norm, TF.instance_norm, x, Const(rm), Const(rv),
                   use_input_stats=False)


def test_instancenorm_double_backward_matches_pytorch(be):
    x, w = _rand((2, 3, 4), "float64"), _rand(3, "float64", 1)
    _second_order(lambda lib, f, t: f.instance_norm(t[0], weight=t[1]), (x, w))


def test_instancenorm_errors_and_warning(be):
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.InstanceNorm2d(3)(it.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"size at dim=1 to match num_features \(3\), but got: 4"):
        nn.InstanceNorm1d(3, affine=True)(it.zeros((2, 4, 5)))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(3)(it.asarray(_rand((2, 4, 5))))
    with pytest.raises(ValueError, match="more than 1 spatial element when training"):
        F.instance_norm(it.zeros((2, 3, 1)))
    with pytest.raises(RuntimeError, match="running_mean and running_var to be defined"):
        F.instance_norm(it.zeros((2, 3, 4)), use_input_stats=False)
    with pytest.raises(RuntimeError, match=r"running_mean should contain 3 elements.*not 2"):
        F.instance_norm(it.zeros((2, 3, 4)), it.zeros(2), it.ones(2))


def test_instancenorm_refuses_stale_running_stats_in_state_dict(be):
    """A checkpoint with running statistics for an instance norm that tracks none is an
    error naming the keys: PyTorch's rule for pre-0.4 checkpoints (no version metadata); a
    current checkpoint (with versions) reports them as unexpected keys, as PyTorch's."""
    state = nn.InstanceNorm1d(3, affine=True, track_running_stats=True).state_dict()
    with pytest.raises(RuntimeError, match=r"Unexpected key\(s\) in state_dict: "
                                           r"\"running_mean\", \"running_var\""):
        nn.InstanceNorm1d(3, affine=True).load_state_dict(state)
    del state._metadata
    with pytest.raises(RuntimeError, match=r"Unexpected running stats buffer\(s\) 'running_mean'"
                                           r" and 'running_var' for InstanceNorm1d"):
        nn.InstanceNorm1d(3, affine=True).load_state_dict(state)


# ------------------------------------------------------------------ LayerNorm

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", [dict(), dict(bias=False), dict(elementwise_affine=False),
                                     dict(eps=1e-2)],
                         ids=lambda o: ",".join(map(str, o.items())))
@pytest.mark.parametrize("shape, normalized", [((4, 5), 5), ((2, 3, 4), (3, 4)), ((5,), [5]),
                                               ((2, 1, 3), (1, 3))])
def test_layernorm_matches_pytorch(be, shape, normalized, options, dtype):
    ours, theirs = _pair("LayerNorm", normalized, dtype=dtype, **options)
    # a non-default affine, so that the weight and bias gradients mean something
    theirs.load_state_dict({k: torch.from_numpy(_rand(v.shape, dtype, seed=7 + i))
                            for i, (k, v) in enumerate(theirs.state_dict().items())})
    check_module(ours, theirs, _rand(shape, dtype, loc=1.0))


def test_functional_layer_norm_weight_only_and_empty(be):
    check_function(F.layer_norm, TF.layer_norm, _rand((3, 4)), [4], _rand(4, seed=1))
    check_function(F.layer_norm, TF.layer_norm, _rand((0, 4)), (4,), _rand(4, seed=1),
                   _rand(4, seed=2))


def test_layernorm_constant_rows_and_offset(be):
    x = _rand((3, 6), "float64", loc=50.0)
    x[0] = -1.25
    check_function(F.layer_norm, TF.layer_norm, x, (6,), _rand(6, "float64", 1))


def test_layernorm_double_backward_matches_pytorch(be):
    x, w, b = _rand((3, 4), "float64"), _rand(4, "float64", 1), _rand(4, "float64", 2)
    _second_order(lambda lib, f, t: f.layer_norm(t[0], (4,), t[1], t[2]), (x, w, b))


def test_layernorm_errors(be):
    x = it.zeros((4, 3))
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[2, 3\], expected input with "
                                           r"shape \[\*, 2, 3\], but got input of size \[4, 3\]"):
        F.layer_norm(x, (2, 3))
    with pytest.raises(RuntimeError, match=r"weight to be of same shape as normalized_shape.*"
                                           r"\[4\].*\[3\]"):
        F.layer_norm(x, (3,), it.ones(4))
    with pytest.raises(RuntimeError, match="at least one dim"):
        F.layer_norm(x, ())
    with pytest.raises(TypeError, match="normalized_shape must be a tuple or list"):
        F.layer_norm(x, 3)
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*, 4\]"):
        nn.LayerNorm(4)(x)


# ------------------------------------------------------------------ GroupNorm

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, groups", [(s, g) for s in [(2, 6, 4), (3, 6), (2, 6, 2, 3)]
                                           for g in [1, 2, 6] if (s, g) != ((3, 6), 6)])
def test_groupnorm_matches_pytorch(be, shape, groups, dtype):
    """(One value per group, (3, 6) in 6 groups, is test_groupnorm_single_value_groups.)"""
    ours, theirs = _pair("GroupNorm", groups, 6, dtype=dtype)
    theirs.load_state_dict({k: torch.from_numpy(_rand(6, dtype, seed=3 + i))
                            for i, k in enumerate(theirs.state_dict())})
    check_module(ours, theirs, _rand(shape, dtype))


def test_groupnorm_single_value_groups(be):
    """Groups of one value have variance 0: the output is the bias and the input gradient 0
    (PyTorch's float32 kernel leaves rounding noise of 1e-5 here, so exact values are
    checked, and PyTorch in float64)."""
    x = _rand((3, 4), "float64")
    check_function(F.group_norm, TF.group_norm, x, 4, _rand(4, "float64", 1),
                   _rand(4, "float64", 2))
    gn = nn.GroupNorm(4, 4)
    with it.no_grad():
        gn.bias.copy_(it.asarray(_rand(4, seed=2)))
    xt = it.asarray(_rand((3, 4))).requires_grad_()
    y = gn(xt)
    y.backward(it.asarray(_rand((3, 4), seed=5)))
    np.testing.assert_array_equal(to_np(y), np.tile(_rand(4, seed=2), (3, 1)))
    np.testing.assert_array_equal(to_np(xt.grad), np.zeros((3, 4), np.float32))


@pytest.mark.parametrize("options", [dict(affine=False), dict(bias=False)])
def test_groupnorm_options_match_pytorch(be, options):
    ours, theirs = _pair("GroupNorm", 3, 6, **options)
    check_module(ours, theirs, _rand((2, 6, 3)))


def test_groupnorm_double_backward_matches_pytorch(be):
    x, w, b = _rand((2, 4, 3), "float64"), _rand(4, "float64", 1), _rand(4, "float64", 2)
    _second_order(lambda lib, f, t: f.group_norm(t[0], 2, t[1], t[2]), (x, w, b))


def test_groupnorm_errors(be):
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by "
                                         r"num_groups \(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(RuntimeError, match=r"divisible by num_groups, but got input of shape "
                                           r"\[2, 4, 3\] and num_groups=3"):
        nn.GroupNorm(3, 6)(it.zeros((2, 4, 3)))
    with pytest.raises(RuntimeError, match=r"weight to be a vector of size equal to the number "
                                           r"of channels.*\[3\].*\[2, 6, 3\]"):
        F.group_norm(it.zeros((2, 6, 3)), 3, it.ones(3))
    with pytest.raises(RuntimeError, match=r"at least 2 dimensions for input tensor "
                                           r"\(N, C, \*\) but received 1"):
        F.group_norm(it.zeros(6), 3)
    with pytest.raises(ValueError, match=r"more than 1 value per channel when training.*\[1, 6\]"):
        F.group_norm(it.zeros((1, 6)), 6)


# ------------------------------------------------------------------ the shared primitive
# Batch, instance, layer and group norm record one primitive (_NormalizeBackward) whose
# backward runs on raw arrays, with its own fast path per layout; under create_graph it
# recomputes the statistics on tensors. Each layout, affine or not, with only some inputs
# needing a gradient, against finite differences (float64), to second order.

_NORM_CALLS = [
    pytest.param(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                 (4, 3, 2), (3,), id="batch_norm"),
    pytest.param(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (2, 3, 4), (3,),
                 id="instance_norm"),
    pytest.param(lambda x, w, b: F.layer_norm(x, (2, 3), w, b), (2, 2, 3), (2, 3),
                 id="layer_norm"),
    pytest.param(lambda x, w, b: F.group_norm(x, 2, w, b), (2, 4, 3), (4,), id="group_norm"),
    pytest.param(lambda x, w, b: F.group_norm(x, 4, w, b), (2, 4, 3), (4,),
                 id="group_norm_per_channel"),
]


@pytest.mark.parametrize("fn, shape, wshape", _NORM_CALLS)
@pytest.mark.parametrize("affine, x_grad", [("both", True), ("weight", True), ("none", True),
                                            ("both", False)])
def test_normalize_primitive_gradcheck_and_gradgradcheck(be, fn, shape, wshape, affine, x_grad):
    x = it.asarray(_rand(shape, "float64", seed=3, loc=0.3)).requires_grad_(x_grad)
    w = it.asarray(_rand(wshape, "float64", seed=4, loc=1.0)).requires_grad_()
    b = it.asarray(_rand(wshape, "float64", seed=5)).requires_grad_()
    w, b = {"both": (w, b), "weight": (w, None), "none": (None, None)}[affine]
    inputs = tuple(t for t in (x, w, b) if t is not None)

    def f(*ts):
        full = dict(zip([k for k, t in (("x", x), ("w", w), ("b", b)) if t is not None], ts))
        return fn(full["x"], full.get("w"), full.get("b"))

    assert it.autograd.gradcheck(f, inputs)
    assert it.autograd.gradgradcheck(f, inputs)


def test_normalize_backward_runs_on_raw_arrays(be, monkeypatch):
    """One node per call, whose ordinary backward gets the backend's namespace and arrays."""
    seen = []
    orig = _norm._NormalizeBackward.backward

    def spy(self, xp, g, s):
        seen.append((xp is be.ns, isinstance(g, it.Tensor), isinstance(s.x, it.Tensor)))
        return orig(self, xp, g, s)

    monkeypatch.setattr(_norm._NormalizeBackward, "backward", spy)
    x = it.asarray(_rand((2, 3, 4))).requires_grad_()
    for y in (F.layer_norm(x, (4,)), F.batch_norm(x, None, None, training=True)):
        assert y.grad_fn.name() == "_NormalizeBackward"
        y.sum().backward()
    assert seen == [(True, False, False)] * 2


def test_normalize_backward_on_an_immutable_backend():
    """The raw-array backward updates fresh arrays in place where it can; on JAX's
    immutable arrays the same code gives new arrays, and the same gradients as PyTorch."""
    x_np, w_np = _rand((3, 4, 5), seed=1), _rand(4, seed=2, loc=1.0)
    calls = [lambda f, x, w: f.batch_norm(x, None, None, w, w * 0.5, training=True),
             lambda f, x, w: f.instance_norm(x, weight=w, bias=w * 0.5),
             lambda f, x, w: f.layer_norm(x.transpose(1, 2), (4,), w, w * 0.5),
             lambda f, x, w: f.group_norm(x, 2, w, w * 0.5)]
    for call in calls:
        tx, tw = (torch.from_numpy(a.copy()).requires_grad_() for a in (x_np, w_np))
        (call(TF, tx, tw) ** 2).sum().backward()
        with jax_backend():
            x, w = (it.tensor(a.tolist()).requires_grad_() for a in (x_np, w_np))
            (call(F, x, w) ** 2).sum().backward()
            for ours, theirs in ((x, tx), (w, tw)):
                np.testing.assert_allclose(to_np(ours.grad), theirs.grad.numpy(), rtol=1e-4,
                                           atol=1e-4)


# ------------------------------------------------------------------ RMSNorm

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", [dict(), dict(eps=1e-3), dict(elementwise_affine=False)],
                         ids=lambda o: ",".join(map(str, o.items())))
@pytest.mark.parametrize("shape, normalized", [((4, 5), 5), ((2, 3, 4), (3, 4))])
def test_rmsnorm_matches_pytorch(be, shape, normalized, options, dtype):
    ours, theirs = _pair("RMSNorm", normalized, dtype=dtype, **options)
    if theirs.weight is not None:
        theirs.load_state_dict({"weight": torch.from_numpy(_rand(theirs.weight.shape, dtype, 5))})
    check_module(ours, theirs, _rand(shape, dtype))


def test_rms_norm_default_eps_is_the_dtypes(be):
    """eps=None is the machine epsilon of the dtype: it decides rows of tiny values."""
    for dtype in DTYPES:
        x = np.full((2, 4), 1e-4, dtype)
        check_function(F.rms_norm, TF.rms_norm, x, (4,))
    with pytest.raises(RuntimeError, match="weight to be of same shape"):
        F.rms_norm(it.zeros((2, 4)), (4,), it.ones(3))


def test_rms_norm_zero_rows(be):
    check_function(F.rms_norm, TF.rms_norm, np.zeros((2, 3), np.float64), [3], eps=1e-6)


# ------------------------------------------------------------------ LocalResponseNorm

@pytest.mark.parametrize("size", [1, 2, 3, 5])
@pytest.mark.parametrize("shape", [(2, 4, 3), (2, 3, 2, 2), (1, 4, 2, 1, 2)])
def test_local_response_norm_matches_pytorch(be, shape, size):
    ours, theirs = nn.LocalResponseNorm(size, alpha=0.5, beta=0.6, k=1.5), \
        torch.nn.LocalResponseNorm(size, alpha=0.5, beta=0.6, k=1.5)
    check_module(ours, theirs, _rand(shape, "float64"))


def test_local_response_norm_defaults_empty_and_errors(be):
    check_function(F.local_response_norm, TF.local_response_norm, _rand((2, 6, 3)), 3)
    empty = it.zeros((0, 3, 2))
    assert F.local_response_norm(empty, 2) is empty
    with pytest.raises(ValueError, match=r"Expected 3D or higher dimensionality input \(got 2"):
        F.local_response_norm(it.zeros((2, 3)), 2)


# ------------------------------------------------------------------ normalize

@pytest.mark.parametrize("p", [2.0, 1, 3.5, float("inf")])
@pytest.mark.parametrize("dim", [1, 0, -1, (1, 2)])
def test_normalize_matches_pytorch(be, p, dim):
    check_function(F.normalize, TF.normalize, _rand((2, 3, 4), "float64"), p=p, dim=dim)


def test_normalize_zero_vectors(be):
    """A zero vector stays zero and its gradient is the cotangent over eps (the clamp is
    flat there), as PyTorch's."""
    x = _rand((3, 4))
    x[1] = 0.0
    check_function(F.normalize, TF.normalize, x, eps=1e-3)
    check_function(F.normalize, TF.normalize, np.zeros((2, 3), np.float64))


def test_normalize_out_and_errors(be):
    x = it.asarray(_rand((2, 3)))
    out = it.empty((2, 3))
    assert F.normalize(x, out=out) is out
    assert_same(out, TF.normalize(torch.from_numpy(_rand((2, 3)))), "out")
    with pytest.raises(TypeError, match="floating point or complex input, got dtype interop.int64"):
        F.normalize(it.arange(3), dim=0)


def test_layer_and_group_norm_on_an_immutable_backend():
    """The affine of layer_norm/group_norm was applied in place to a reshaped view, which
    JAX's immutable arrays cannot write through."""
    x_np = np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32)
    w_np = np.linspace(0.5, 2.0, 12, dtype=np.float32).reshape(4, 3)
    tx, tw = torch.from_numpy(x_np), torch.from_numpy(w_np)
    tf = torch.nn.functional
    want_ln = tf.layer_norm(tx, (4, 3), tw, tw[0, 0] - tw)
    want_gn = tf.group_norm(tx, 2, tw[:, 0], tw[:, 1])
    with jax_backend():
        x, w = it.tensor(x_np.tolist()), it.tensor(w_np.tolist())
        np.testing.assert_allclose(to_np(F.layer_norm(x, (4, 3), w, w[0, 0] - w)), want_ln.numpy(),
                                   rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(to_np(F.group_norm(x, 2, w[:, 0], w[:, 1])), want_gn.numpy(),
                                   rtol=1e-5, atol=1e-5)


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
    ours = nn.CrossMapLRN2d(size, alpha, beta, k)
    theirs = torch.nn.CrossMapLRN2d(size, alpha, beta, k)
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
    (lambda: nn.CrossMapLRN2d(3)(it.asarray(_rand((2, 3, 4)))), it.ShapeError,
     r"Expected input to be 4D, got 3D instead"),
    (lambda: nn.CrossMapLRN2d(3)(it.ones((1, 2, 2, 2), dtype=it.int64)), it.DTypeError,
     "floating-point"),
    (lambda: nn.CrossMapLRN2d(0)(it.asarray(_rand((1, 2, 2, 2)))), ValueError,
     "positive integer, got 0"),
])
def test_cross_map_lrn2d_errors(be, call, exc, match):
    with pytest.raises(exc, match=match):
        call()
