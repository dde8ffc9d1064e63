"""Regression tests for the differential fuzzer's findings against PyTorch (issue 24, section
3). Each was a silent difference or a spurious error; each test checks interop against
PyTorch itself (or against the analytic value where PyTorch is wrong) on every backend."""

import math
import warnings

import numpy as np
import pytest

import interop as it

from helpers import to_np

torch = pytest.importorskip("torch")


def _outcome(f):
    """("ok", value as a NumPy array) or ("raises", exception type name)."""
    try:
        r = f()
    except Exception as e:              # noqa: BLE001 -- compared below
        return "raises", type(e).__name__
    return "ok", r


# ---------------------------------------------------------------- pow's mixed derivative

@pytest.mark.parametrize("a,b", [(0.5, 0.0), (2.0, 0.0), (-1.5, 0.0), (0.5, 1.0), (3.0, 2.0)])
def test_pow_mixed_second_derivative(be, a, b):
    # d/db d/da a**b = a**(b-1) * (1 + b log a): 1/a at b == 0 (PyTorch gives 0 there)
    x = it.tensor(a, dtype=it.float64, requires_grad=True)
    y = it.tensor(b, dtype=it.float64, requires_grad=True)
    ga, = it.autograd.grad(x ** y, x, create_graph=True)
    gab, = it.autograd.grad(ga, y)
    assert float(ga) == pytest.approx(b * a ** (b - 1))
    if a > 0:
        assert float(gab) == pytest.approx(a ** (b - 1) * (1 + b * math.log(a)))
    else:       # log of a negative base: NaN, as the first derivative in b is (PyTorch's too)
        assert math.isnan(float(gab))


def test_pow_gradient_at_zero_to_the_zero_stays_zero(be):
    x = it.tensor([0.0, 0.0, 0.5], dtype=it.float64, requires_grad=True)
    y = it.tensor([0.0, 2.0, 0.0], dtype=it.float64, requires_grad=True)
    ga, = it.autograd.grad((x ** y).sum(), x, create_graph=True)
    tx = torch.tensor([0.0, 0.0, 0.5], dtype=torch.float64, requires_grad=True)
    ty = torch.tensor([0.0, 2.0, 0.0], dtype=torch.float64, requires_grad=True)
    tga, = torch.autograd.grad((tx ** ty).sum(), tx, create_graph=True)
    np.testing.assert_array_equal(to_np(ga), tga.detach().numpy())


# ---------------------------------------------------------------- rounding of integers

@pytest.mark.parametrize("op", ["ceil", "floor", "trunc", "round"])
def test_rounding_an_integer_tensor_gives_a_new_tensor(be, op):
    x = it.tensor([1, -2, 3])
    r = getattr(it, op)(x)
    assert r.dtype == it.int64
    r += 10
    assert x.tolist() == [1, -2, 3]          # the input is untouched (strict returned it itself)
    assert r.tolist() == [11, 8, 13]


# ---------------------------------------------------------------- clamp with tensor bounds

@pytest.mark.parametrize("bounds", ["min", "max", "both"])
def test_clamp_tensor_bounds_output_may_change_in_place(be, bounds):
    def run(lib):
        x = lib.tensor([0.5, 2.0, -3.0], requires_grad=True)
        c = lib.tensor([0.3, 0.1, 1.0], requires_grad=True)
        kw = {"min": -c.abs()} if bounds == "min" else {"max": c} if bounds == "max" else \
            {"min": -c.abs(), "max": c}
        y = (x * 1).clamp(**kw)
        y.mul_(2)                      # the output is not saved: no error, as in PyTorch
        y.sum().backward()
        return x.grad, c.grad
    gx, gc = run(it)
    tgx, tgc = run(torch)
    np.testing.assert_allclose(to_np(gx), tgx.numpy())
    np.testing.assert_allclose(to_np(gc), tgc.numpy())


def test_clamp_in_place_with_a_tensor_bound(be):
    def run(lib):
        x = lib.tensor([0.5, 2.0, -3.0], requires_grad=True)
        c = lib.tensor([0.3, 0.1, 1.0], requires_grad=True)
        a = x * 1
        a.clamp_(min=-c.abs())
        a.mul_(2)
        a.sum().backward()
        return x.grad, c.grad
    (gx, gc), (tgx, tgc) = run(it), run(torch)
    np.testing.assert_allclose(to_np(gx), tgx.numpy())
    np.testing.assert_allclose(to_np(gc), tgc.numpy())


# ---------------------------------------------------------------- setitem through an expanded view

@pytest.mark.parametrize("key", ["rows", "cols", "pair"])
def test_setitem_with_index_array_through_expanded_view(be, key):
    def run(lib):
        base = lib.zeros(1, 4) if key == "rows" else lib.zeros(3, 1)
        e = base.expand(3, 4)
        k = {"rows": lib.tensor([0]), "cols": (slice(None), lib.tensor([0, 2])),
             "pair": (lib.tensor([0, 1]), lib.tensor([1, 2]))}[key]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")    # PyTorch warns about the shared memory
            e[k] = 1.0
        return e.tolist(), base.tolist()
    assert run(it) == run(torch)


# ---------------------------------------------------------------- logsumexp of bool

@pytest.mark.parametrize("data,dim,keepdim", [([True, False], 0, False), ([[True, False]], 1, True),
                                              ([[True], [False]], 0, False), ([], 0, False)])
def test_logsumexp_of_bool_and_integer_tensors(be, data, dim, keepdim):
    for idt, tdt in ((it.bool, torch.bool), (it.int8, torch.int8), (it.int64, torch.int64)):
        r = it.logsumexp(it.tensor(data, dtype=idt), dim, keepdim=keepdim)
        t = torch.logsumexp(torch.tensor(data, dtype=tdt), dim, keepdim=keepdim)
        assert r.dtype == it.float32 and t.dtype == torch.float32
        np.testing.assert_allclose(to_np(r), t.numpy(), rtol=1e-6)


# ---------------------------------------------------------------- integer division of nothing

def _trunc_div(a, b):
    return (it if isinstance(a, it.Tensor) else torch).div(a, b, rounding_mode="trunc")


@pytest.mark.parametrize("op", ["floor_divide", "remainder", "trunc_divide"])
def test_integer_division_by_zero_of_an_empty_tensor(be, op):
    f = {"floor_divide": lambda a, b: a // b, "remainder": lambda a, b: a % b,
         "trunc_divide": _trunc_div}[op]
    for shape_a, b in (((0,), 0), ((0, 3), [0, 0, 0]), ((2, 0), [0])):
        ia = it.zeros(shape_a, dtype=it.int64)
        ta = torch.zeros(shape_a, dtype=torch.int64)
        ib = b if isinstance(b, int) else it.tensor(b)
        tb = b if isinstance(b, int) else torch.tensor(b)
        r, t = f(ia, ib), f(ta, tb)
        assert tuple(r.shape) == tuple(t.shape) and r.dtype == it.int64
    with pytest.raises(it.IntegerDivisionByZero):      # something to divide: still an error
        f(it.tensor([1, 2]), 0)


# ---------------------------------------------------------------- bool ** bool

@pytest.mark.parametrize("case", ["tt", "ts_true", "ts_false", "st", "t_int", "int_t", "t_float"])
def test_pow_of_bools_as_pytorch(be, case):
    def run(lib):
        m = lib.tensor([True, False])
        return {"tt": lambda: m ** lib.tensor([True, True]),
                "ts_true": lambda: m ** True,
                "ts_false": lambda: m ** False,
                "st": lambda: True ** m,
                "t_int": lambda: m ** 2,
                "int_t": lambda: 2 ** m,
                "t_float": lambda: m ** 2.0}[case]()
    kind, r = _outcome(lambda: run(it))
    tkind, t = _outcome(lambda: run(torch))
    assert kind == tkind, (r, t)
    if kind == "ok":
        assert str(r.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        assert r.tolist() == t.tolist()
    else:
        with pytest.raises(it.DTypeError, match="bool"):
            run(it)


# ---------------------------------------------------------------- softmax of integers

@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_of_an_integer_tensor_is_refused_as_in_pytorch(be, fn):
    # decided: PyTorch refuses integer (and bool) input; so does interop, naming the way out
    for data in ([1, 2], [True, False]):
        with pytest.raises(it.DTypeError, match="dtype="):
            getattr(it, fn)(it.tensor(data), 0)
        with pytest.raises(it.DTypeError, match="dtype="):
            getattr(it.tensor(data), fn)(0)
        with pytest.raises(it.DTypeError, match="dtype="):
            getattr(it.nn.functional, fn)(it.tensor(data), 0)
    r = getattr(it, fn)(it.tensor([1, 2]), 0, dtype=it.float64)
    t = getattr(torch, fn)(torch.tensor([1, 2]), 0, dtype=torch.float64)
    assert r.dtype == it.float64
    np.testing.assert_allclose(to_np(r), t.numpy())


# ---------------------------------------------------------------- atan2 at the origin

def test_atan2_gradient_at_the_origin_is_zero(be):
    def run(lib):
        y = lib.tensor([0.0, 1.0, -0.0, 0.0], dtype=lib.float64, requires_grad=True)
        x = lib.tensor([0.0, 1.0, 0.0, -2.0], dtype=lib.float64, requires_grad=True)
        lib.atan2(y, x).sum().backward()
        return y.grad, x.grad
    with warnings.catch_warnings():
        warnings.simplefilter("error")         # no backend warning either
        gy, gx = run(it)
    tgy, tgx = run(torch)
    np.testing.assert_allclose(to_np(gy), tgy.numpy())
    np.testing.assert_allclose(to_np(gx), tgx.numpy())


def test_atan2_origin_does_not_spread_nan_through_broadcast(be):
    def run(lib):
        y = lib.tensor([[0.0], [1.0]], dtype=lib.float64, requires_grad=True)
        x = lib.tensor([0.0, 2.0], dtype=lib.float64, requires_grad=True)
        lib.atan2(y, x).sum().backward()
        return y.grad, x.grad
    (gy, gx), (tgy, tgx) = run(it), run(torch)
    np.testing.assert_allclose(to_np(gy), tgy.numpy())
    np.testing.assert_allclose(to_np(gx), tgx.numpy())


def test_atan2_second_derivative_away_from_the_origin_as_pytorch(be):
    y = it.tensor([0.0, 1.0, -2.0], dtype=it.float64, requires_grad=True)
    x = it.tensor([0.0, 1.0, 0.5], dtype=it.float64, requires_grad=True)
    gy, = it.autograd.grad(it.atan2(y, x).sum(), y, create_graph=True)
    ggx, ggy = it.autograd.grad(gy.sum(), (x, y))
    ty = torch.tensor([0.0, 1.0, -2.0], dtype=torch.float64, requires_grad=True)
    tx = torch.tensor([0.0, 1.0, 0.5], dtype=torch.float64, requires_grad=True)
    tgy, = torch.autograd.grad(torch.atan2(ty, tx).sum(), ty, create_graph=True)
    tggx, tggy = torch.autograd.grad(tgy.sum(), (tx, ty))
    # at the origin the gradient is the constant 0, so its derivative is 0 (PyTorch: NaN)
    assert to_np(ggx)[0] == 0 and to_np(ggy)[0] == 0
    np.testing.assert_allclose(to_np(ggx)[1:], tggx.numpy()[1:])
    np.testing.assert_allclose(to_np(ggy)[1:], tggy.numpy()[1:])


# ---------------------------------------------------------------- relu under create_graph

@pytest.mark.parametrize("fn", ["relu", "relu_method", "F.relu"])
def test_relu_gradient_is_differentiable_again(be, fn):
    def run(lib):
        x = lib.tensor([-1.0, 2.0, 0.0], dtype=lib.float64, requires_grad=True)
        f = {"relu": lambda v: lib.relu(v), "relu_method": lambda v: v.relu(),
             "F.relu": lambda v: lib.nn.functional.relu(v)}[fn]
        g, = lib.autograd.grad((f(x) * x).sum(), x, create_graph=True)
        req = g.requires_grad
        gg, = lib.autograd.grad(g.sum(), x)
        return req, g.detach(), gg
    req, g, gg = run(it)
    treq, tg, tgg = run(torch)
    assert req == treq
    np.testing.assert_allclose(to_np(g), tg.numpy())
    np.testing.assert_allclose(to_np(gg), tgg.numpy())


def test_relu_alone_gradient_requires_grad_with_create_graph(be):
    x = it.tensor([-1.0, 2.0], requires_grad=True)
    g, = it.autograd.grad(it.relu(x).sum(), x, create_graph=True)
    assert g.requires_grad
    gg, = it.autograd.grad(g.sum(), x)
    assert gg.tolist() == [0.0, 0.0]


# ---------------------------------------------------------------- add/sub with alpha

@pytest.mark.parametrize("call", [
    "add(x, 1, alpha=2)", "add(x, 1.5, alpha=2)", "sub(x, 1, alpha=2)", "add(x, y, alpha=0.5)",
    "sub(x, y, alpha=3)", "add(i, j, alpha=3)", "add(i, 1, alpha=2.5)", "add(i, j, alpha=2.5)",
    "add(1, x, alpha=2)", "add(i, 1, alpha=2)", "x.add(1, alpha=2)", "x.sub(y, alpha=2)",
    "add(x, y, alpha=True)", "add(i, 2.0, alpha=2)"])
def test_add_and_sub_with_alpha(be, call):
    def run(lib):
        ns = {"x": lib.tensor([1.0, 2.0]), "y": lib.tensor([0.5, -1.0]),
              "i": lib.tensor([1, 2]), "j": lib.tensor([3, 4]),
              "add": lib.add, "sub": lib.sub}
        return eval(call, ns)
    kind, r = _outcome(lambda: run(it))
    tkind, t = _outcome(lambda: run(torch))
    assert kind == tkind, (r, t)
    if kind == "ok":
        assert str(r.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        assert r.tolist() == t.tolist()


def test_add_alpha_gradient(be):
    x = it.tensor([1.0, 2.0], requires_grad=True)
    y = it.tensor([3.0, 4.0], requires_grad=True)
    it.add(x, y, alpha=3).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0] and y.grad.tolist() == [3.0, 3.0]
