"""Standard functions of interop (issue: a complete Array API namespace): values against
NumPy (the reference the standard's functions are modelled on) and PyTorch, gradients with
gradcheck, shapes and values drawn by hypothesis, on every backend. The standard's
spellings are those of ``interop.array_api`` (``xp`` here); the top-level namespace takes
PyTorch's, and the tests say which they call.
"""

import numpy as np
import pytest
from hypothesis import given, settings, HealthCheck, strategies as st

import interop as it
from interop.autograd import gradcheck, gradgradcheck

xp = it.array_api

torch = pytest.importorskip("torch")
_HC = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def f64(a, requires_grad=False):
    return it.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def shapes(min_dims=1, max_dims=3, max_side=4):
    return st.lists(st.integers(1, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


# ------------------------------------------------------------------ dtypes and shapes

def test_result_type_and_can_cast(be):
    assert it.result_type(it.int8, it.int16) is it.int16
    assert it.result_type(it.ones(2, dtype=it.float32), it.float64) is it.float64
    assert it.result_type(it.ones(2, dtype=it.int32), 1.5) is it.float32     # PyTorch's rule
    assert it.result_type(it.uint8, it.int8) is it.int16
    with pytest.raises(ValueError, match="at least one"):
        it.result_type(1, 2.0)
    with pytest.raises(TypeError, match="no integer dtype"):
        it.result_type(it.int64, it.uint64)
    for a, b in [(it.int8, it.int16), (it.float32, it.float64), (it.bool, it.int8),
                 (it.int64, it.float32), (it.float32, it.complex64), (it.uint8, it.int16)]:
        assert it.can_cast(a, b), (a, b)
    for a, b in [(it.int16, it.int8), (it.float64, it.float32), (it.float32, it.int64),
                 (it.complex64, it.float64), (it.int8, it.uint8), (it.int8, it.bool)]:
        assert not it.can_cast(a, b), (a, b)
    assert it.can_cast(it.ones(2, dtype=it.int8), it.int32)


@settings(suppress_health_check=_HC)
@given(st.lists(shapes(0, 4), min_size=1, max_size=3))
def test_broadcast_shapes_matches_numpy(be, shps):
    try:
        expected = np.broadcast_shapes(*shps)
    except ValueError:
        with pytest.raises(ValueError, match="cannot be broadcast"):
            it.broadcast_shapes(*shps)
        return
    assert it.broadcast_shapes(*shps) == expected


def test_namespace_info(be):
    info = it.__array_namespace_info__()
    caps = info.capabilities()
    assert caps["boolean indexing"] and caps["data-dependent shapes"]
    assert info.default_device() == be.device
    d = info.default_dtypes()
    assert d["real floating"] is it.float32 and d["indexing"] is be.default_int
    assert it.device("cpu") in info.devices()
    floats = info.dtypes(kind="real floating")
    assert set(floats) == {"float32", "float64"}        # (the standard's; float16 is extra)
    assert isinstance(info.devices(), tuple)
    assert set(info.dtypes(kind=("bool", "complex floating"))) == {"bool", "complex64", "complex128"}
    assert all(it.ones(1, dtype=v).dtype is v for v in info.dtypes().values())
    with pytest.raises(ValueError, match="unknown kind"):
        info.dtypes(kind="floats")


def test_standard_signatures_and_pytorch_forms(be):
    for make in (it.zeros, it.ones, it.empty):
        assert make((2, 3)).shape == (2, 3) == make(2, 3).shape == make(shape=(2, 3)).shape
        assert make(size=(2, 3)).shape == (2, 3) and make(4).shape == (4,)
        with pytest.raises(TypeError, match="twice"):
            make(2, size=(2,))
    assert it.full((2,), 1.5).tolist() == [1.5, 1.5] == it.full(size=(2,), fill_value=1.5).tolist()
    assert it.full(shape=(1,), fill_value=2).dtype is it.int64
    assert xp.arange(1, stop=4).tolist() == [1, 2, 3] == it.arange(1, end=4).tolist()
    assert it.arange(end=3).tolist() == [0, 1, 2]
    with pytest.raises(TypeError):
        it.arange(1, stop=4)           # (PyTorch's name is end)
    with pytest.raises(TypeError):
        xp.zeros(2, 3)                 # (the standard takes one shape)
    x = it.arange(6.0).reshape(2, 3)
    assert [t.tolist() for t in it.unstack(x, axis=1)] == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    assert x.to_device(be.device) is x


# ------------------------------------------------------------------ elementwise

@settings(suppress_health_check=_HC)
@given(st.lists(st.sampled_from([0.0, -0.0, 1.5, -2.25, np.inf, -np.inf, np.nan, 3e-39]),
                min_size=1, max_size=6), st.data())
def test_copysign_and_nextafter_match_numpy_and_torch(be, a, data):
    b = data.draw(st.lists(st.sampled_from([0.0, -0.0, 2.0, -1.0, np.inf, -np.inf]),
                           min_size=len(a), max_size=len(a)))
    for name in ("copysign", "nextafter"):
        for dt in ("float32", "float64"):
            got = getattr(it, name)(it.tensor(np.array(a, dt)), it.tensor(np.array(b, dt)))
            want = getattr(np, name)(np.array(a, dt), np.array(b, dt))
            assert got.dtype.name == dt
            np.testing.assert_array_equal(got.numpy(), want)
            np.testing.assert_array_equal(np.signbit(got.numpy()), np.signbit(want))
            tw = getattr(torch, name)(torch.tensor(np.array(a, dt)), torch.tensor(np.array(b, dt)))
            np.testing.assert_array_equal(got.numpy(), tw.numpy())


def test_copysign_gradient_matches_torch(be):
    a, b = [1.5, -2.0, 0.0, 3.0, -0.5], [-1.0, -1.0, -1.0, 2.0, 0.0]
    x, y = f64(a, True), f64(b, True)
    it.copysign(x, y).sum().backward()
    tx = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    ty = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    torch.copysign(tx, ty).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_array_equal(y.grad.numpy(), ty.grad.numpy())
    assert gradcheck(lambda t: it.copysign(t, f64([-1.0, 2.0, -3.0])), (f64([1.5, -2.0, 0.7], True),))
    assert gradgradcheck(lambda t: it.copysign(t, -1.0), (f64([1.5, -2.0, 0.7], True),))
    assert it.copysign(it.tensor([1.0, 2.0]), -1.0).tolist() == [-1.0, -2.0]
    ints = it.copysign(it.tensor([1, 2]), it.tensor([1, -1]))   # the default float, as PyTorch
    assert ints.dtype is it.float32 and ints.tolist() == [1.0, -2.0]


def test_nextafter_refuses_a_gradient(be):
    x = f64([1.0, 2.0], True)
    y = it.nextafter(x, 3.0)
    assert y.detach().numpy()[0] == np.nextafter(1.0, 3.0)
    with pytest.raises(RuntimeError, match="not differentiable"):
        y.sum().backward()


# ------------------------------------------------------------------ linear algebra

@settings(suppress_health_check=_HC)
@given(st.data())
def test_tensordot_matches_numpy_and_gradchecks(be, data):
    n = data.draw(st.integers(0, 2), label="n")
    free1, free2 = data.draw(shapes(0, 2), label="free1"), data.draw(shapes(0, 2), label="free2")
    shared = data.draw(shapes(n, n), label="shared")
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16), label="seed"))
    a, b = rng.standard_normal(free1 + shared), rng.standard_normal(shared + free2)
    x, y = f64(a, True), f64(b, True)
    got = xp.tensordot(x, y, axes=n)
    np.testing.assert_allclose(got.detach().numpy(), np.tensordot(a, b, axes=n), rtol=1e-12,
                               atol=1e-12)
    assert gradcheck(lambda p, q: it.tensordot(p, q, n), (x, y))


def test_tensordot_explicit_axes_dtypes_and_errors(be):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 3, 5))
    x, y = f64(a, True), f64(b, True)
    out = xp.tensordot(x, y, axes=([1, 2], [1, 0]))
    np.testing.assert_allclose(out.detach().numpy(), np.tensordot(a, b, axes=([1, 2], [1, 0])))
    assert gradcheck(lambda p, q: it.tensordot(p, q, dims=([2, 1], [0, 1])), (x, y))
    tt = torch.tensordot(torch.tensor(a), torch.tensor(b), dims=([1, 2], [1, 0]))
    np.testing.assert_allclose(out.detach().numpy(), tt.numpy())
    mixed = xp.tensordot(it.ones(2, 3, dtype=it.int32), it.ones(3, dtype=it.float32), axes=1)
    assert mixed.dtype is it.float32 and mixed.tolist() == [3.0, 3.0]
    with pytest.raises(ValueError, match="size"):
        xp.tensordot(it.ones(2, 3), it.ones(2, 3), axes=1)
    with pytest.raises(ValueError, match="axes"):
        it.tensordot(it.ones(2), it.ones(2), dims=3)
    with pytest.raises(TypeError):
        it.tensordot(x, y, axes=1)      # (PyTorch's keyword is dims, the standard's axes)
    with pytest.raises(TypeError):
        xp.tensordot(x, y, dims=1)


@settings(suppress_health_check=_HC)
@given(shapes(1, 3), st.data())
def test_vecdot_matches_numpy_and_gradchecks(be, shape, data):
    lead = data.draw(shapes(0, 2), label="other batch")
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16), label="seed"))
    a = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    b = rng.standard_normal(lead[:1] + shape[-1:]) + 1j * rng.standard_normal(lead[:1] + shape[-1:])
    try:
        want = np.vecdot(a, b)
    except ValueError:
        return
    if be.name == "strict" or be.name == "torch":
        a, b = a.real, b.real
        want = np.vecdot(a, b)
    x, y = it.tensor(a, requires_grad=True), it.tensor(b, requires_grad=True)
    np.testing.assert_allclose(it.vecdot(x, y).detach().numpy(), want, rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda p, q: it.vecdot(p, q), (x, y))


# ------------------------------------------------------------------ search and sets

@settings(suppress_health_check=_HC)
@given(st.lists(st.integers(-5, 5), min_size=1, max_size=8),
       st.lists(st.integers(-6, 6), min_size=0, max_size=6), st.sampled_from(["left", "right"]))
def test_searchsorted_matches_numpy_and_torch(be, seq, vals, side):
    s = np.sort(np.array(seq, dtype=np.float64))
    v = np.array(vals, dtype=np.float64)
    got = it.searchsorted(it.tensor(s), it.tensor(v), side=side)
    assert got.dtype is it.int64
    np.testing.assert_array_equal(got.numpy(), np.searchsorted(s, v, side=side))
    tw = torch.searchsorted(torch.tensor(s), torch.tensor(v), right=side == "right")
    np.testing.assert_array_equal(got.numpy(), tw.numpy())
    order = np.argsort(np.array(seq, dtype=np.float64), kind="stable")
    with_sorter = it.searchsorted(it.tensor(np.array(seq, dtype=np.float64)), it.tensor(v),
                                  side=side, sorter=it.tensor(order))
    np.testing.assert_array_equal(with_sorter.numpy(), np.searchsorted(s, v, side=side))
    if vals:
        assert int(it.searchsorted(it.tensor(s), float(vals[0]), side=side)) == \
            np.searchsorted(s, vals[0], side=side)


def test_searchsorted_errors(be):
    with pytest.raises(ValueError, match="1-d"):
        it.searchsorted(it.ones(2, 2), it.ones(2))
    with pytest.raises(ValueError, match="side"):
        it.searchsorted(it.ones(2), it.ones(2), side="middle")
    with pytest.raises(TypeError, match="disagree"):
        it.searchsorted(it.ones(2), it.ones(2), side="left", right=True)
    assert it.searchsorted(it.tensor([1.0, 2.0]), 1.0, side="right", right=True).item() == 1
    assert xp.searchsorted(it.tensor([1.0, 2.0]), it.tensor(1.0), side="right").item() == 1
    with pytest.raises(TypeError):
        xp.searchsorted(it.ones(2), it.ones(2), right=True)     # (PyTorch's keyword)


@settings(suppress_health_check=_HC)
@given(st.lists(st.sampled_from([0.0, 1.0, -2.0, 3.5, np.nan, np.inf]), min_size=0, max_size=8),
       st.lists(st.sampled_from([0.0, 1.0, 3.5, np.nan, -np.inf]), min_size=0, max_size=5),
       st.booleans())
def test_isin_matches_numpy(be, a, b, invert):
    x, y = np.array(a, dtype=np.float64), np.array(b, dtype=np.float64)
    got = it.isin(it.tensor(x), it.tensor(y), invert=invert)
    assert got.dtype is it.bool and got.shape == x.shape
    np.testing.assert_array_equal(got.numpy(), np.isin(x, y, invert=invert))


def test_isin_shapes_scalars_and_dtypes(be):
    x = it.tensor([[1, 2], [3, 4]])
    assert it.isin(x, it.tensor([2, 4, 9])).tolist() == [[False, True], [False, True]]
    assert it.isin(x, 3).tolist() == [[False, False], [True, False]]
    assert bool(it.isin(3, it.tensor([1.0, 3.0])))
    assert it.isin(it.tensor([1, 2]), it.tensor([2.0])).tolist() == [False, True]


@settings(suppress_health_check=_HC)
@given(st.lists(st.sampled_from([3.0, 1.0, -2.0, 1.0, 0.0, -0.0, np.nan]), min_size=0, max_size=9),
       shapes(1, 2, 3))
def test_unique_functions_match_numpy(be, vals, _):
    x = np.array(vals, dtype=np.float64)
    t = it.tensor(x)
    u = it.unique_all(t)
    values, index, inverse, counts = np.unique(x, return_index=True, return_inverse=True,
                                               return_counts=True, equal_nan=False)
    np.testing.assert_array_equal(u.values.numpy(), values)
    np.testing.assert_array_equal(u.counts.numpy(), counts)
    np.testing.assert_array_equal(u.inverse_indices.numpy(), inverse.reshape(x.shape))
    finite = ~np.isnan(values)
    np.testing.assert_array_equal(x[u.indices.numpy()][finite], values[finite])
    assert u.indices.dtype is u.counts.dtype is u.inverse_indices.dtype is it.int64
    np.testing.assert_array_equal(it.unique_values(t).numpy(), values)
    c = it.unique_counts(t)
    np.testing.assert_array_equal(c.counts.numpy(), counts)
    inv = it.unique_inverse(t)
    np.testing.assert_array_equal(inv.values.numpy()[inv.inverse_indices.numpy()], x)


def test_unique_values_gradient_reaches_first_occurrences(be):
    x = f64([3.0, 1.0, 3.0, 2.0], True)
    v = it.unique_values(x)
    (v * f64([10.0, 20.0, 30.0])).sum().backward()
    assert v.tolist() == [1.0, 2.0, 3.0] and x.grad.tolist() == [30.0, 10.0, 0.0, 20.0]
    m = it.unique_inverse(it.tensor([[2, 1], [1, 2]]))
    assert m.inverse_indices.shape == (2, 2)


# ------------------------------------------------------------------ diff

@settings(suppress_health_check=_HC)
@given(shapes(1, 3, 5), st.integers(0, 3), st.booleans(), st.booleans(), st.data())
def test_diff_matches_numpy_and_torch_and_gradchecks(be, shape, n, pre, app, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16), label="seed"))
    a = rng.standard_normal(shape)
    side = list(shape)
    side[axis] = 2
    p = rng.standard_normal(side) if pre else None
    q = rng.standard_normal(side) if app else None
    kw = {k: v for k, v in (("prepend", p), ("append", q)) if v is not None}
    want = np.diff(a, n=n, axis=axis, **kw)
    x = f64(a, True)
    ikw = {k: f64(v) for k, v in kw.items()}
    got = xp.diff(x, axis=axis, n=n, **ikw)
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-12, atol=1e-12)
    tw = torch.diff(torch.tensor(a), n=n, dim=axis, **{k: torch.tensor(v) for k, v in kw.items()})
    np.testing.assert_allclose(got.detach().numpy(), tw.numpy(), rtol=1e-12, atol=1e-12)
    if got.numel():
        assert gradcheck(lambda t: it.diff(t, n, axis, **ikw), (x,))


def test_diff_bools_ints_and_errors(be):
    assert it.diff(it.tensor([True, False, False, True])).tolist() == [True, False, True]
    assert it.diff(it.tensor([1, 4, 9, 16]), n=2).tolist() == [2, 2]
    assert it.diff(it.tensor([1.0]), n=3).shape == (0,)
    assert it.diff(it.tensor([[1, 2], [4, 8]]), dim=0).tolist() == [[3, 6]]
    with pytest.raises(ValueError, match="0-d"):
        it.diff(it.tensor(1.0))
    with pytest.raises(ValueError, match="non-negative"):
        it.diff(it.ones(3), n=-1)
    assert it.diff(it.tensor([1, 4, 9, 16]), 2).tolist() == [2, 2]     # torch.diff(x, n)
    with pytest.raises(TypeError):
        xp.diff(it.ones(2, 2), dim=1)      # (the standard's keyword is axis)
    with pytest.raises(TypeError):
        xp.diff(it.ones(3), 2)             # (keyword-only in the standard)


# ------------------------------------------------------------------ the standard over PyTorch

def test_floor_divide_with_infinities_follows_the_standard(be):
    # NumPy and PyTorch give NaN and -1 here; the standard (and floor(x1 / x2)) gives these.
    inf = float("inf")
    x = it.tensor([inf, -inf, inf, -inf, 1.0, -1.0, 1.0, -1.0, 7.0, -7.0])
    y = it.tensor([2.0, 2.0, -2.0, -2.0, inf, inf, -inf, -inf, 2.0, 2.0])
    got = (x // y).numpy()
    want = [inf, -inf, -inf, inf, 0.0, -0.0, -0.0, 0.0, 3.0, -4.0]
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
    np.testing.assert_array_equal(it.floor_divide(x, 2.0).numpy()[:2], [inf, -inf])
    z = x.clone()
    z //= y
    np.testing.assert_array_equal(z.numpy(), want)
    assert (it.tensor([7, -7]) // 2).tolist() == [3, -4]


def test_nonzero_of_a_0d_tensor(be):
    with pytest.raises(ValueError, match="0-d"):
        xp.nonzero(it.tensor(True))                           # the standard's rule
    assert it.tensor(True).nonzero().shape == (1, 0)          # PyTorch's, as a 1-d tensor
    assert it.nonzero(it.tensor(True)).shape == (1, 0)
    assert it.nonzero(it.tensor(5), as_tuple=True)[0].tolist() == [0]


def test_the_tensor_names_the_standard_namespace(be):
    x = it.ones(2, 3)
    assert x.__array_namespace__() is xp and x.__array_namespace__("2024.12") is xp
    assert xp.__array_api_version__ == "2025.12" and xp.linalg is it.linalg and xp.fft is it.fft
    assert xp.__array_namespace_info__().default_dtypes()["real floating"] is it.float32
    # the two namespaces share every function whose spellings agree, and only those
    assert xp.add is it.add and xp.exp is it.exp and xp.take_along_axis is it.take_along_axis
    for name in ("sum", "max", "std", "sort", "nonzero", "meshgrid", "flip", "squeeze", "take",
                 "where", "equal", "concat", "roll", "tril", "eye", "linspace", "arange"):
        assert getattr(xp, name) is not getattr(it, name), name
    assert xp.std(it.tensor([1.0, 3.0])).item() == 1.0 and it.var(it.tensor([1.0, 3.0])).item() == 2.0
    assert it.equal(it.ones(2), it.ones(2)) is True and xp.equal(it.ones(2), it.ones(2)).shape == (2,)
    assert not hasattr(xp, "float16") and not hasattr(xp, "repeat_interleave")
