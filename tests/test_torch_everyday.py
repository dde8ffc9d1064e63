"""The everyday PyTorch names a ported program reaches for (issue 24, section 2), each
checked against PyTorch itself on every backend, at the edges (empty, 0-d, NaN, ties,
dtypes)."""

import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import interop as it

from helpers import to_np

torch = pytest.importorskip("torch")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAN = float("nan")


def _dt(t):
    return str(t.dtype).split(".")[-1]


def same(r, t, rtol=1e-6, atol=1e-7):
    """interop result ``r`` equals PyTorch result ``t``: structure, shapes, dtypes, values."""
    if isinstance(t, (tuple, list)):
        assert isinstance(r, tuple) and len(r) == len(t), (r, t)
        for a, b in zip(r, t):
            same(a, b, rtol, atol)
        return
    assert tuple(r.shape) == tuple(t.shape), (r, t)
    assert _dt(r) == _dt(t), (r.dtype, t.dtype)
    np.testing.assert_allclose(to_np(r).astype(np.float64) if r.dtype is not it.bool else to_np(r),
                               t.detach().double().numpy() if t.dtype is not torch.bool
                               else t.numpy(), rtol=rtol, atol=atol, equal_nan=True)


def _has(be, dt):
    """Whether backend ``be`` holds dtype ``dt`` (asking loads one taken on first use)."""
    try:
        be.native_dtype(dt)
        return True
    except TypeError:
        return False


def both(data, dtype=None):
    """(interop tensor, torch tensor) of the same data."""
    itd = None if dtype is None else getattr(it, dtype)
    ttd = None if dtype is None else getattr(torch, dtype)
    if itd is not None and not _has(it.get_backend(), itd):
        pytest.skip(f"backend {it.get_backend().name!r} has no {dtype}")
    return it.tensor(data, dtype=itd), torch.tensor(data, dtype=ttd)


# ---------------------------------------------------------------- stacking

STACK_INPUTS = [
    [[1.0, 2.0], [3.0]],                    # 1-d of different lengths
    [[[1.0, 2.0]], [[3.0, 4.0]]],           # 2-d
    [1.5, 2.5],                             # 0-d
    [[[1, 2], [3, 4]], [[5, 6], [7, 8]]],   # integers
    [[], []],                               # empty 1-d
    [[[[1.0]]], [[[2.0]]]],                 # 3-d
]


@pytest.mark.parametrize("fn", ["hstack", "vstack", "row_stack", "column_stack", "dstack"])
@pytest.mark.parametrize("case", range(len(STACK_INPUTS)))
def test_stacking_matches_pytorch(be, fn, case):
    items = STACK_INPUTS[case]
    r = t = None
    try:
        t = getattr(torch, fn)([torch.tensor(x) for x in items])
    except RuntimeError:
        with pytest.raises(Exception):
            getattr(it, fn)([it.tensor(x) for x in items])
        return
    r = getattr(it, fn)([it.tensor(x) for x in items])
    same(r, t)


def test_stacking_promotes_and_is_differentiable(be):
    a = it.tensor([1.0, 2.0], requires_grad=True)
    b = it.tensor([3, 4])
    r = it.column_stack([a, b])
    assert r.dtype == it.float32 and tuple(r.shape) == (2, 2)
    (r * it.tensor([[1.0, 0.0], [2.0, 0.0]])).sum().backward()
    assert a.grad.tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match="list or tuple"):
        it.hstack(it.ones(2))
    with pytest.raises(ValueError, match="non-empty"):
        it.vstack([])
    for fn in ("atleast_1d", "atleast_2d", "atleast_3d"):
        for x in (1.0, [1.0, 2.0], [[1.0]]):
            same(getattr(it, fn)(it.tensor(x)), getattr(torch, fn)(torch.tensor(x)))
        same(getattr(it, fn)(it.tensor(1.0), it.tensor([2.0])),
             getattr(torch, fn)(torch.tensor(1.0), torch.tensor([2.0])))


# ---------------------------------------------------------------- var_mean / std_mean

@pytest.mark.parametrize("fn", ["var_mean", "std_mean"])
@pytest.mark.parametrize("args,kwargs", [
    ((), {}), ((1,), {}), ((0,), {"keepdim": True}), ((), {"correction": 0}),
    ((1,), {"correction": 2}), ((True,), {}), ((False,), {}), ((1, False), {}),
    ((1, True, True), {}), (((0, 1),), {}), ((), {"dim": 1, "unbiased": False})])
def test_var_mean_std_mean_match_pytorch(be, fn, args, kwargs):
    data = [[1.0, 2.0, 0.5, 4.0], [3.0, -4.0, 0.0, 1.0], [2.0, 2.0, 2.0, 2.0]]
    x, tx = both(data, "float64")
    same(getattr(it, fn)(x, *args, **kwargs), getattr(torch, fn)(tx, *args, **kwargs))


@pytest.mark.parametrize("fn", ["var_mean", "std_mean"])
def test_var_mean_edges(be, fn):
    for data in ([5.0], [NAN, 1.0], [[1.0, 2.0]]):
        x, tx = both(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")        # PyTorch warns of N - correction <= 0
            same(getattr(it, fn)(x), getattr(torch, fn)(tx))
    x = it.tensor([1.0, 2.0, 4.0], dtype=it.float64, requires_grad=True)
    tx = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64, requires_grad=True)
    s, m = getattr(it, fn)(x)
    ts, tm = getattr(torch, fn)(tx)
    (s + 2 * m).backward()
    (ts + 2 * tm).backward()
    np.testing.assert_allclose(to_np(x.grad), tx.grad.numpy())
    with pytest.raises(it.DTypeError, match="floating"):
        getattr(it, fn)(it.tensor([1, 2]))
    with pytest.raises(TypeError, match="not both"):
        getattr(it, fn)(it.ones(3), 0, True, correction=1)


# ---------------------------------------------------------------- bincount / histc

@pytest.mark.parametrize("data,weights,minlength", [
    ([0, 1, 1, 3], None, 0), ([0, 1, 1, 3], None, 6), ([], None, 0), ([], None, 3),
    ([2, 2, 2], None, 1), ([0, 1, 1, 3], ([0.5, 1.0, 1.0, 2.0], "float32"), 0),
    ([0, 1, 1, 3], ([0.5, 1.0, 1.0, 2.0], "float64"), 2), ([1, 0], ([1, 2], "int64"), 0),
    ([1, 0], ([1.0, 2.0], "float16"), 0), ([1, 0], ([True, False], "bool"), 0)])
def test_bincount_matches_pytorch(be, data, weights, minlength):
    x, tx = both(data, "int64")
    if weights is None:
        same(it.bincount(x, minlength=minlength), torch.bincount(tx, minlength=minlength))
        same(x.bincount(minlength=minlength), tx.bincount(minlength=minlength))
    else:
        w, tw = both(*weights)
        same(it.bincount(x, w, minlength), torch.bincount(tx, tw, minlength))


def test_bincount_errors_and_gradient(be):
    for bad in ([-1, 2], [[1]]):
        with pytest.raises((ValueError, it.ShapeError)):
            it.bincount(it.tensor(bad))
    with pytest.raises(it.DTypeError):
        it.bincount(it.tensor([1.0]))
    with pytest.raises(it.DTypeError):
        it.bincount(it.tensor([True]))
    with pytest.raises(ValueError, match="minlength"):
        it.bincount(it.tensor([1]), minlength=-1)
    with pytest.raises(it.ShapeError, match="same length"):
        it.bincount(it.tensor([1, 2]), weights=it.ones(3))
    w = it.tensor([1.0, 2.0, 3.0], dtype=it.float64, requires_grad=True)
    (it.bincount(it.tensor([2, 0, 2])) * 0 + it.bincount(it.tensor([2, 0, 2]), w) *
     it.tensor([1.0, 10.0, 100.0], dtype=it.float64)).sum().backward()
    assert w.grad.tolist() == [100.0, 1.0, 100.0]     # PyTorch has no gradient here


@pytest.mark.parametrize("data,kw", [
    ([1.0, 2, 1, 4, 2.5, 3.0], {"bins": 4, "min": 0, "max": 3}),
    ([1.0, 2, 1, 4, 2.5], {"bins": 7}), ([2.0, 2.0], {"bins": 4}), ([], {"bins": 3}),
    ([0.0, 1.0, 0.999999, 0.5], {"bins": 2, "min": 0, "max": 1}),
    ([1.0, NAN], {"bins": 3, "min": 0, "max": 2}), ([[1.0, 2.0], [0.5, 3.0]], {"bins": 3}),
    ([0.1, 0.2, 0.3, 0.7], {"bins": 10, "min": 0.0, "max": 1.0}),
    ([-5.0, 5.0, 0.0], {"bins": 3, "min": -5, "max": 5})])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histc_matches_pytorch(be, data, kw, dtype):
    x, tx = both(data, dtype)
    same(it.histc(x, **kw), torch.histc(tx, **kw))
    same(x.histc(**kw), tx.histc(**kw))


def test_histc_errors(be):
    with pytest.raises(it.DTypeError):
        it.histc(it.tensor([1, 2]), bins=3)
    with pytest.raises(ValueError, match="not finite"):
        it.histc(it.tensor([1.0, NAN]), bins=3)
    with pytest.raises(ValueError, match="not finite"):
        it.histc(it.tensor([1.0, math.inf]), bins=3)
    with pytest.raises(ValueError, match="bins"):
        it.histc(it.tensor([1.0]), bins=0)
    with pytest.raises(ValueError, match="larger"):
        it.histc(it.tensor([1.0]), bins=3, min=2, max=1)


# ---------------------------------------------------------------- cdist

@pytest.mark.parametrize("p", [0, 0.5, 1, 1.5, 2, 3, math.inf])
@pytest.mark.parametrize("shapes", [((4, 3), (5, 3)), ((2, 4, 3), (2, 5, 3)), ((2, 1, 4, 3), (3, 5, 3)),
                                    ((30, 2), (27, 2)), ((0, 3), (2, 3)), ((2, 0), (3, 0))])
def test_cdist_matches_pytorch_with_gradients(be, p, shapes):
    rng = np.random.RandomState(0)
    a = rng.randn(*shapes[0]).round(1)
    b = rng.randn(*shapes[1]).round(1)
    if a.size and b.size:
        b.reshape(-1, b.shape[-1])[0] = a.reshape(-1, a.shape[-1])[0]   # a zero distance
        a.reshape(-1)[-1] = b.reshape(-1)[-1] = 0.0                      # and a zero difference
    x = it.tensor(a, requires_grad=True)
    y = it.tensor(b, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    ty = torch.tensor(b, requires_grad=True)
    r = it.cdist(x, y, p=p)
    t = torch.cdist(tx, ty, p=p)
    same(r, t, rtol=1e-5, atol=1e-6)
    w = rng.randn(*t.shape)
    (r * it.tensor(w)).sum().backward()
    (t * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(to_np(y.grad), ty.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_cdist_inf_norm_gradient_and_ties(be):
    a = [[0.0, 2.0, -2.0], [1.0, 1.0, 1.0]]
    b = [[0.0, 0.0, 0.0], [3.0, 1.0, 1.0]]
    x, tx = it.tensor(a, dtype=it.float64, requires_grad=True), torch.tensor(a, dtype=torch.float64, requires_grad=True)
    y, ty = it.tensor(b, dtype=it.float64, requires_grad=True), torch.tensor(b, dtype=torch.float64, requires_grad=True)
    it.cdist(x, y, p=math.inf).sum().backward()
    torch.cdist(tx, ty, p=math.inf).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), tx.grad.numpy())
    np.testing.assert_allclose(to_np(y.grad), ty.grad.numpy())


def test_cdist_errors(be):
    with pytest.raises(it.ShapeError):
        it.cdist(it.ones(3), it.ones(2, 3))
    with pytest.raises(it.ShapeError, match="columns"):
        it.cdist(it.ones(2, 3), it.ones(2, 4))
    with pytest.raises(ValueError, match="non-negative"):
        it.cdist(it.ones(2, 3), it.ones(2, 3), p=-1)
    with pytest.raises(it.DTypeError):
        it.cdist(it.ones(2, 3, dtype=it.int64), it.ones(2, 3, dtype=it.int64))


# ---------------------------------------------------------------- unique & co

UNIQUE_DATA = [[3, 1, 2, 1, 3], [3.0, NAN, 1.0, NAN, 3.0, 2.0], [], [[1, 2], [1, 2], [0, 5]],
               5, [True, False, True], [[1.0, NAN], [1.0, NAN]]]


@pytest.mark.parametrize("case", range(len(UNIQUE_DATA)))
@pytest.mark.parametrize("flags", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_unique_matches_pytorch(be, case, flags, dim):
    x, tx = both(UNIQUE_DATA[case])
    if dim is not None and (x.ndim == 0 or dim >= x.ndim):
        return
    if dim is not None and x.dtype.is_floating_point and bool(it.isnan(x).any()):
        return     # PyTorch's dim-wise sort misplaces NaN slices: test_unique_dim_with_nans
    inv, cnt = flags
    t = torch.unique(tx, return_inverse=inv, return_counts=cnt, dim=dim)
    same(it.unique(x, return_inverse=inv, return_counts=cnt, dim=dim), t)
    same(x.unique(sorted=False, return_inverse=inv, return_counts=cnt, dim=dim), t)
    tc = torch.unique_consecutive(tx, return_inverse=inv, return_counts=cnt, dim=dim)
    same(it.unique_consecutive(x, return_inverse=inv, return_counts=cnt, dim=dim), tc)
    same(x.unique_consecutive(return_inverse=inv, return_counts=cnt, dim=dim), tc)


def test_unique_dim_with_nans(be):
    # a slice holding a NaN equals no other (as PyTorch); sorted after the others, where
    # PyTorch's order is not sorted (tensor([1., 3., nan, nan, 2., 3.]) for this input)
    x = it.tensor([3.0, NAN, 1.0, NAN, 3.0, 2.0])
    v, inv, cnt = it.unique(x, dim=0, return_inverse=True, return_counts=True)
    assert to_np(v)[:3].tolist() == [1.0, 2.0, 3.0] and np.isnan(to_np(v)[3:]).all()
    assert inv.tolist() == [2, 3, 0, 4, 2, 1] and cnt.tolist() == [1, 1, 2, 1, 1]
    rows = it.tensor([[1.0, NAN], [1.0, NAN], [0.0, 1.0]])
    same(it.unique(rows, dim=0), torch.tensor([[0.0, 1.0], [1.0, NAN], [1.0, NAN]]))


def test_unique_consecutive_runs_and_gradient(be):
    x, tx = both([1, 1, 2, 2, 3, 1, 1, 2])
    same(it.unique_consecutive(x, return_inverse=True, return_counts=True),
         torch.unique_consecutive(tx, return_inverse=True, return_counts=True))
    x, tx = both([[1, 2], [1, 2], [0, 5], [1, 2]])
    same(it.unique_consecutive(x, dim=0, return_counts=True),
         torch.unique_consecutive(tx, dim=0, return_counts=True))
    v = it.tensor([2.0, 1.0, 2.0, 3.0], requires_grad=True)
    (it.unique(v) * it.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert v.grad.tolist() == [10.0, 1.0, 0.0, 100.0]     # the first occurrence of each value


@pytest.mark.parametrize("data", [[[1, 0, 3], [0, 5, 6]], 3, 0, [[0.0, NAN]], [], [False, True],
                                  [[[1, 0]], [[0, 2]]]])
def test_argwhere_matches_pytorch(be, data):
    x, tx = both(data)
    same(it.argwhere(x), torch.argwhere(tx))
    same(x.argwhere(), tx.argwhere())


# ---------------------------------------------------------------- in-place twins

def _twin_case(lib, name):
    f = lib.tensor([0.5, -0.25, 0.75], dtype=lib.float64)
    g = lib.tensor([0.25, 0.5, -0.5], dtype=lib.float64)
    i = lib.tensor([6, 3, 5])
    j = lib.tensor([1, 2, 3])
    m = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
    cases = {
        "absolute_": lambda: f.absolute_(), "acos_": lambda: f.acos_(), "arccos_": lambda: f.arccos_(),
        "acosh_": lambda: (f + 2).acosh_(), "asin_": lambda: f.asin_(), "asinh_": lambda: f.asinh_(),
        "atan_": lambda: f.atan_(), "atanh_": lambda: f.atanh_(), "arctan_": lambda: f.arctan_(),
        "cosh_": lambda: f.cosh_(), "sinh_": lambda: f.sinh_(), "tan_": lambda: f.tan_(),
        "expm1_": lambda: f.expm1_(), "log10_": lambda: f.abs().log10_(), "log1p_": lambda: f.log1p_(),
        "log2_": lambda: f.abs().log2_(), "rsqrt_": lambda: f.abs().rsqrt_(), "sgn_": lambda: f.sgn_(),
        "bitwise_not_": lambda: i.bitwise_not_(), "logical_not_": lambda: f.logical_not_(),
        "atan2_": lambda: f.atan2_(g), "arctan2_": lambda: f.arctan2_(g),
        "bitwise_and_": lambda: i.bitwise_and_(j), "bitwise_or_": lambda: i.bitwise_or_(j),
        "bitwise_xor_": lambda: i.bitwise_xor_(j), "bitwise_left_shift_": lambda: i.bitwise_left_shift_(j),
        "bitwise_right_shift_": lambda: i.bitwise_right_shift_(j), "copysign_": lambda: f.copysign_(g),
        "hypot_": lambda: f.hypot_(g), "nextafter_": lambda: f.nextafter_(g),
        "floor_divide_": lambda: i.floor_divide_(j), "true_divide_": lambda: f.true_divide_(g),
        "eq_": lambda: f.eq_(g), "ne_": lambda: i.ne_(j), "lt_": lambda: f.lt_(g), "le_": lambda: i.le_(j),
        "gt_": lambda: f.gt_(0.0), "ge_": lambda: f.ge_(g), "greater_": lambda: f.greater_(g),
        "less_equal_": lambda: f.less_equal_(g), "not_equal_": lambda: f.not_equal_(g),
        "logical_and_": lambda: f.logical_and_(g), "logical_or_": lambda: i.logical_or_(j),
        "logical_xor_": lambda: f.logical_xor_(g), "clamp_min_": lambda: f.clamp_min_(0.0),
        "clamp_max_": lambda: f.clamp_max_(g), "cumsum_": lambda: f.cumsum_(0), "cumprod_": lambda: f.cumprod_(0),
        "triu_": lambda: m.triu_(), "tril_": lambda: m.tril_(-1),
        "index_add_": lambda: f.index_add_(0, lib.tensor([0, 0, 2]), g, alpha=2),
        "scatter_add_": lambda: m.scatter_add_(1, lib.tensor([[0, 0], [1, 0]]), m.clone()),
        "index_fill_": lambda: m.index_fill_(1, lib.tensor([1]), -1.0),
        "index_copy_": lambda: m.index_copy_(0, lib.tensor([1, 0]), lib.tensor([[5.0, 6.0], [7.0, 8.0]])),
        "masked_scatter_": lambda: m.masked_scatter_(lib.tensor([[True, False], [True, True]]),
                                                    lib.tensor([9.0, 8.0, 7.0, 6.0])),
        "squeeze_": lambda: lib.zeros(2, 1, 3).squeeze_(), "unsqueeze_": lambda: f.unsqueeze_(1),
        "t_": lambda: lib.arange(6.0).reshape(2, 3).t_(), "transpose_": lambda: m.transpose_(0, 1),
        "swapaxes_": lambda: m.swapaxes_(0, 1), "swapdims_": lambda: m.swapdims_(1, 0),
        "squeeze_dim": lambda: lib.zeros(2, 1, 1).squeeze_(1),
    }
    return cases[name]


TWINS = ["absolute_", "acos_", "arccos_", "acosh_", "asin_", "asinh_", "atan_", "atanh_", "arctan_",
         "cosh_", "sinh_", "tan_", "expm1_", "log10_", "log1p_", "log2_", "rsqrt_", "sgn_",
         "bitwise_not_", "logical_not_", "atan2_", "arctan2_", "bitwise_and_", "bitwise_or_",
         "bitwise_xor_", "bitwise_left_shift_", "bitwise_right_shift_", "copysign_", "hypot_",
         "nextafter_", "floor_divide_", "true_divide_", "eq_", "ne_", "lt_", "le_", "gt_", "ge_",
         "greater_", "less_equal_", "not_equal_", "logical_and_", "logical_or_", "logical_xor_",
         "clamp_min_", "clamp_max_", "cumsum_", "cumprod_", "triu_", "tril_", "index_add_",
         "scatter_add_", "index_fill_", "index_copy_", "masked_scatter_", "squeeze_",
         "unsqueeze_", "t_", "transpose_", "swapaxes_", "swapdims_", "squeeze_dim"]


@pytest.mark.parametrize("name", TWINS)
def test_inplace_twins_match_pytorch(be, name):
    r = _twin_case(it, name)()
    t = _twin_case(torch, name)()
    same(r, t)


def test_inplace_twins_write_in_place_and_record(be):
    x = it.tensor([0.5, -0.25, 0.75])
    out = x.asin_()
    assert out is x and x.tolist() == pytest.approx([math.asin(0.5), math.asin(-0.25), math.asin(0.75)])
    x = it.tensor([1.0, 2.0, 3.0])
    view = x[1:]
    view.eq_(it.tensor([2.0, 0.0]))
    assert x.tolist() == [1.0, 1.0, 0.0]                       # through the view
    a = it.tensor([1.0, 2.0, 3.0], requires_grad=True)
    s = it.tensor([5.0, 6.0], requires_grad=True)
    y = a * 1
    y.index_add_(0, it.tensor([2, 0]), s, alpha=3)
    y.sum().backward()
    ta = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    ts = torch.tensor([5.0, 6.0], requires_grad=True)
    ty = ta * 1
    ty.index_add_(0, torch.tensor([2, 0]), ts, alpha=3)
    ty.sum().backward()
    assert a.grad.tolist() == ta.grad.tolist() and s.grad.tolist() == ts.grad.tolist()
    m = it.zeros(2, 2, requires_grad=True)
    v = it.tensor([1.0, 2.0, 3.0], requires_grad=True)
    r = (m * 1).masked_scatter(it.tensor([[True, False], [False, True]]), v)
    (r * it.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    assert m.grad.tolist() == [[0.0, 2.0], [3.0, 0.0]] and v.grad.tolist() == [1.0, 4.0, 0.0]
    leaf = it.ones(2, 1, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.squeeze_()
    with pytest.raises(RuntimeError, match="can't be cast"):
        it.tensor([1, 2]).asin_()                              # float into int, as PyTorch
    base = it.zeros(2, 1)
    _ = base[0]
    with pytest.raises(RuntimeError, match="live views"):
        base.squeeze_()


def test_shape_twin_keeps_graph(be):
    x = it.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    y = x * 2
    y.squeeze_(0)
    y.unsqueeze_(1)
    assert tuple(y.shape) == (3, 1)
    (y * it.tensor([[1.0], [2.0], [3.0]])).sum().backward()
    assert x.grad.tolist() == [[2.0, 4.0, 6.0]]


def test_shape_twin_on_a_view_writes_through(be):
    def run(lib):
        base = lib.zeros(2, 1, 3)
        v = base[0:1]
        v.squeeze_()
        v.add_(1)
        b = lib.zeros(3, 1, requires_grad=True)
        y = b * 1
        w = y[1:]
        w.squeeze_(1)
        w.mul_(2)
        y.sum().backward()
        return tuple(v.shape), base.tolist(), b.grad.tolist()
    assert run(it) == run(torch)


def test_random_fill_ranges(be):
    for dt, lo, hi in ((it.float32, 0, 2 ** 24), (it.int8, 0, 127), (it.bool, 0, 1),
                       (it.float64, 0, 2 ** 53)):
        x = it.zeros(2000, dtype=dt).random_()
        v = to_np(x).astype(np.float64)
        assert v.min() >= lo and v.max() <= hi and len(np.unique(v)) > 1
        assert np.all(v == np.round(v))
    x = it.zeros(1000).random_(3, 6)
    assert set(to_np(x).tolist()) == {3.0, 4.0, 5.0}
    x = it.zeros(1000, dtype=it.int64).random_(4)
    assert set(to_np(x).tolist()) == {0, 1, 2, 3}
    it.manual_seed(3)
    a = it.zeros(5).random_(100)
    it.manual_seed(3)
    b = it.zeros(5).random_(100)
    assert a.tolist() == b.tolist()
    with pytest.raises(ValueError, match="less than"):
        it.zeros(2).random_(5, 5)


def test_out_of_place_index_fill_copy_masked_scatter(be):
    m, tm = both([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    same(it.index_fill(m, 1, it.tensor([0, 2]), 0.5), torch.index_fill(tm, 1, torch.tensor([0, 2]), 0.5))
    same(m.index_fill(0, it.tensor(1), it.tensor(9.0)), tm.index_fill(0, torch.tensor(1), torch.tensor(9.0)))
    src, tsrc = both([[7.0, 8.0, 9.0]])
    same(it.index_copy(m, 0, it.tensor([1]), src), torch.index_copy(tm, 0, torch.tensor([1]), tsrc))
    mask, tmask = both([True, False, True])
    s, ts = both([10.0, 20.0, 30.0, 40.0, 50.0])
    same(it.masked_scatter(m, mask, s), torch.masked_scatter(tm, tmask, ts))
    assert m.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]         # out of place
    with pytest.raises(ValueError, match="only 1"):
        it.masked_scatter(m, mask, it.tensor([1.0]))


# ---------------------------------------------------------------- Tensor.equal, types

@pytest.mark.parametrize("a,b", [([1, 2], [1, 2]), ([1], [1.0]), ([1, 2], [1, 3]), ([1], [1, 1]),
                                 ([NAN], [NAN]), ([], []), (3, 3), ([[1]], [1]),
                                 ([True, False], [1, 0])])
def test_tensor_equal_is_one_bool_as_pytorch(be, a, b):
    x, tx = both(a)
    y, ty = both(b)
    r = x.equal(y)
    assert r is tx.equal(ty)


def test_typed_constructors_and_type(be):
    for name, td in (("FloatTensor", torch.float32), ("DoubleTensor", torch.float64),
                     ("HalfTensor", torch.float16), ("ByteTensor", torch.uint8),
                     ("CharTensor", torch.int8), ("ShortTensor", torch.int16),
                     ("IntTensor", torch.int32), ("LongTensor", torch.int64),
                     ("BoolTensor", torch.bool), ("BFloat16Tensor", torch.bfloat16)):
        cls = getattr(it, name)
        if not _has(be, cls.dtype):
            continue         # (no such arrays on the backend: float16/bfloat16 on strict)
        tcls = getattr(torch, name)
        data = [1.5, 0, 2] if name != "BoolTensor" else [1, 0, 1]
        r, t = cls(data), tcls(data)
        same(r, t)
        assert isinstance(r, cls) and isinstance(r, it.Tensor)
        assert tuple(cls(2, 3).shape) == (2, 3) and cls(2, 3).dtype is r.dtype
        assert tuple(cls().shape) == (0,)
        assert r.type() == t.type() == f"torch.{name}"
        same(it.tensor([1, 2]).type(f"torch.{name}"), torch.tensor([1, 2]).type(f"torch.{name}"))
        same(it.tensor([1, 2]).type(cls), torch.tensor([1, 2]).type(tcls))
    assert not isinstance(it.tensor([1.0]), it.LongTensor)
    x = it.tensor([1, 2])
    assert x.type("torch.LongTensor") is x and x.type(it.int64) is x
    assert it.LongTensor(x) is x
    with pytest.raises(TypeError, match="dtype"):
        it.FloatTensor(x)
    with pytest.raises(ValueError, match="invalid type"):
        x.type("torch.Foo")
    with pytest.raises(ValueError, match="invalid type"):
        x.type("LongTensor")
    with pytest.raises(ValueError, match="to\\('cuda'\\)"):
        x.type("torch.cuda.FloatTensor")
    assert it.tensor([1.0 + 1j]).type() == "torch.ComplexFloatTensor"


# ---------------------------------------------------------------- tensor() of tensors

_TENSORS_AMONG_DATA = [
    lambda L: [L.tensor(1.5), L.tensor(2.0)], lambda L: [L.tensor(1.5), 2.0],
    lambda L: [[L.tensor(1)], [2]], lambda L: [L.tensor(1), 2.5],
    lambda L: [L.tensor(1, dtype=L.int8), 300], lambda L: [L.tensor(1, dtype=L.int8), L.tensor(1, dtype=L.int16)],
    lambda L: [L.tensor(True), 2], lambda L: [L.tensor(1.0, dtype=L.float64), 1],
    lambda L: [L.tensor(1.0, dtype=L.float16), L.tensor(1)], lambda L: [L.tensor([1.0]), L.tensor([[2.0]])],
    lambda L: [L.tensor(2.0, requires_grad=True) * 3, 1.0], lambda L: (L.tensor(1), L.tensor(2))]


def _built(build, torch_constructor):
    """PyTorch's tensor of ``build(torch)`` by ``torch_constructor``, and ``build(it)`` (the
    data for interop's; a skip where the backend lacks its dtype: float16 on strict)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # PyTorch warns about requires_grad elements
        t = torch_constructor(build(torch))
    try:
        return t, build(it)
    except TypeError as e:
        if "not available on backend" in str(e):
            pytest.skip(str(e))
        raise


@pytest.mark.parametrize("build", _TENSORS_AMONG_DATA)
def test_tensor_of_zero_d_tensors_as_pytorch(be, build):
    t, data = _built(build, torch.tensor)
    r = it.tensor(data)
    same(r, t)
    assert not r.requires_grad
    same(it.tensor(build(it), dtype=it.float64), torch.tensor(build(torch), dtype=torch.float64))


@pytest.mark.parametrize("build", _TENSORS_AMONG_DATA)
def test_legacy_tensor_constructor_of_zero_d_tensors_as_pytorch(be, build):
    """``torch.Tensor([[word_idx]])`` (word_language_model's generate.py, word_idx a 0-d
    tensor): the legacy constructor is a default-float tensor whatever the elements are."""
    t, data = _built(build, torch.Tensor)
    r = it.Tensor(data)
    same(r, t)
    assert not r.requires_grad
    with pytest.raises(ValueError, match="one-element tensors"):
        it.Tensor([it.tensor([1.0, 2.0])])


# ---------------------------------------------------------------- printing

@pytest.fixture
def print_defaults():
    yield
    it.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


@pytest.mark.parametrize("opts", [
    {"precision": 2}, {"precision": 6}, {"sci_mode": True}, {"sci_mode": False},
    {"threshold": 5}, {"threshold": 5, "edgeitems": 1}, {"linewidth": 30}, {"profile": "short"},
    {"profile": "full"}, {"profile": "short", "precision": 5}, {}])
def test_set_printoptions_changes_repr_as_pytorch(print_defaults, opts):
    it.set_printoptions(**opts)
    torch.set_printoptions(**opts)
    for data in ([1.123456, 2.5, 1000.0], [1.0, 10.0, -3.0], [1e-5, 1.5], [1e9, 1.0],
                 [[0.5, 0.25], [1.0, 2.0]], 3.5, [1.0, NAN, -math.inf]):
        assert repr(it.tensor(data)) == repr(torch.tensor(data)), data
    assert repr(it.arange(20.0)).replace("  ...", " ...") == \
        repr(torch.arange(20.0)).replace("  ...", " ...")
    assert repr(it.arange(20)).replace("  ...", " ...") == \
        repr(torch.arange(20)).replace("  ...", " ...")


def test_set_printoptions_resets_sci_mode_and_checks(print_defaults):
    it.set_printoptions(sci_mode=True)
    it.set_printoptions(precision=3)
    assert it.get_printoptions() == {"precision": 3, "threshold": 1000, "edgeitems": 3,
                                     "linewidth": 80, "sci_mode": None}
    with pytest.raises(ValueError, match="profile"):
        it.set_printoptions(profile="long")
    with pytest.raises(TypeError, match="precision"):
        it.set_printoptions(precision=-1)
    it.set_printoptions(profile="full")
    assert "..." not in repr(it.arange(5000))


# ---------------------------------------------------------------- compile, module paths

def test_compile_returns_the_model_unchanged(be):
    model = it.nn.Linear(2, 3)
    assert it.compile(model) is model
    assert it.compile(model, mode="max-autotune", fullgraph=True, dynamic=False) is model

    def f(x):
        return x * 2
    assert it.compile(f) is f
    assert it.compile(backend="eager")(f) is f
    with pytest.raises(TypeError):
        it.compile(model, not_an_option=1)
    with pytest.raises(TypeError, match="module or a function"):
        it.compile(3)


def test_pytorch_module_paths_of_nn_layers():
    import importlib
    import inspect
    for mod in ("activation", "adaptive", "batchnorm", "channelshuffle", "container", "conv",
                "distance", "dropout", "flatten", "fold", "instancenorm", "linear", "loss",
                "module", "normalization", "padding", "pixelshuffle", "pooling", "rnn", "sparse",
                "transformer", "upsampling"):
        tm = importlib.import_module(f"torch.nn.modules.{mod}")
        im = getattr(it.nn.modules, mod)
        names = [n for n, v in vars(tm).items() if inspect.isclass(v) and v.__module__ == tm.__name__
                 and not n.startswith("_") and hasattr(it.nn, n)]
        for n in names:
            assert getattr(im, n) is getattr(it.nn, n), f"interop.nn.modules.{mod}.{n}"
    from interop.nn.modules.activation import MultiheadAttention
    assert MultiheadAttention is it.nn.MultiheadAttention
    from interop.nn.modules.lazy import LazyModuleMixin
    assert issubclass(it.nn.LazyLinear, LazyModuleMixin)


# ---------------------------------------------------------------- accelerator & friends

def test_accelerator_backends_and_cuda_names_without_a_gpu():
    gpu = it.cuda.is_available()
    assert it.accelerator.is_available() is gpu
    assert it.accelerator.device_count() == it.cuda.device_count()
    if not gpu:
        assert it.accelerator.current_accelerator() is None
        assert it.accelerator.current_accelerator(check_available=True) is None
        with pytest.raises(RuntimeError, match="no accelerator"):
            it.accelerator.current_device_index()
        it.cuda.empty_cache()                    # nothing cached: nothing to do
        it.accelerator.empty_cache()
    else:
        assert it.accelerator.current_accelerator() == it.device("cuda")
    cudnn = it.backends.cudnn
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic) == (True, False, False)
    cudnn.benchmark = True
    cudnn.deterministic = True
    try:
        assert it.backends.cudnn.benchmark and it.backends.cudnn.deterministic
        with cudnn.flags(enabled=False, benchmark=False):
            assert not cudnn.enabled and not cudnn.benchmark
        assert cudnn.enabled and cudnn.benchmark
    finally:
        cudnn.benchmark = cudnn.deterministic = False
    assert cudnn.is_available() is False and cudnn.version() is None
    assert it.backends.mps.is_available() is False and it.backends.mps.is_built() is False
    assert "cpu" in it.backends.list_backends()          # the registry is intact


def test_cuda_seeds_leave_the_cpu_stream_alone():
    it.manual_seed(5)
    a = it.rand(3)
    it.manual_seed(5)
    it.cuda.manual_seed(123)
    it.cuda.manual_seed_all(7)
    assert it.rand(3).tolist() == a.tolist()
    assert it.cuda.initial_seed() == 7
    assert it.initial_seed() == 5
    it.manual_seed(9)                                     # seeds every device again
    assert it.cuda.initial_seed() == 9
    with pytest.raises(TypeError, match="int"):
        it.cuda.manual_seed(1.5)


def _run(code):
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": ROOT})


def test_an_unseeded_process_draws_a_fresh_seed():
    code = "import interop as it; print(it.initial_seed(), it.rand(2).tolist())"
    outs = [_run(code) for _ in range(2)]
    for o in outs:
        assert o.returncode == 0, o.stderr
    (s1, r1), (s2, r2) = [o.stdout.split(" ", 1) for o in outs]
    assert s1 != s2 and r1 != r2
    assert it.Generator().initial_seed() == 67280421310721      # a new Generator: fixed, as PyTorch
    code = "import interop as it; it.manual_seed(4); print(it.initial_seed(), it.rand(2).tolist())"
    assert _run(code).stdout == _run(code).stdout


# ---------------------------------------------------------------- no backend warnings

IEEE = [lambda: it.log(it.tensor([0.0, -1.0])), lambda: it.tensor([1.0, 0.0]) / it.tensor([0.0, 0.0]),
        lambda: it.tensor([1.0, 0.0]) / 0.0, lambda: it.exp(it.tensor([1000.0])),
        lambda: it.sqrt(it.tensor([-1.0])), lambda: it.tensor([NAN, 1.0]) < it.tensor([1.0, NAN]),
        lambda: it.tensor([math.inf]) * 0, lambda: it.tensor([10.0]) ** 1000,
        lambda: it.tensor([1.0]).var(), lambda: it.remainder(it.tensor([1.0]), 0.0),
        lambda: it.tensor([1.0]) // 0.0, lambda: it.acos(it.tensor([2.0])),
        lambda: it.softmax(it.tensor([math.inf, 1.0]), 0), lambda: it.logsumexp(it.tensor([-math.inf]), 0),
        lambda: it.autograd.grad(it.log(it.tensor([0.0], requires_grad=True)).sum(),
                                 it.tensor([0.0], requires_grad=True), allow_unused=True)]


@pytest.mark.parametrize("case", range(len(IEEE)))
def test_no_backend_warning_for_ieee_results(be, case):
    with warnings.catch_warnings(record=True) as w:
        IEEE[case]()
    assert not [str(x.message) for x in w if issubclass(x.category, RuntimeWarning)]


def test_real_problems_still_warn(standard_be):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        np.log(np.zeros(1))                                 # the user's own NumPy: untouched
    assert any("divide by zero" in str(x.message) for x in w)
    with warnings.catch_warnings(record=True) as w:
        it.tensor([NAN, math.inf]).to(it.int32)             # no IEEE answer: a real problem
    assert any("cast" in str(x.message) for x in w)


_DEVICE_AND_LAYOUT_FLAGS = ["is_cpu", "is_cuda", "is_xpu", "is_mps", "is_meta", "is_sparse",
                            "is_sparse_csr", "is_quantized", "is_nested", "is_mkldnn"]


def test_tensor_device_and_layout_flags_as_pytorch(be):
    """dcgan's forward tests ``input.is_cuda or input.is_xpu``: each flag is a property and
    reads as PyTorch's for a tensor on the same kind of device."""
    x = it.ones(2, 3)
    ref = torch.ones(2, 3, device="cuda" if x.is_cuda else "cpu")
    assert x.device.type == ref.device.type
    for name in _DEVICE_AND_LAYOUT_FLAGS:
        assert getattr(x, name) is getattr(ref, name), name
    assert it.ones(2)[1:].is_cpu is (x.device.type == "cpu")     # views too
