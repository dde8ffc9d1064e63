"""The Tensor object on every backend: creation and dtypes, properties, repr, operators,
indexing, views, PyTorch spellings beside the standard's, and errors on bad input."""

import operator
import re

import numpy as np
import pytest

import interop as it
from helpers import to_np, from_np, assert_close, jax_backend


def _other_backend(be):
    # (by Backend object: device="cpu" keeps the current backend when it is on the CPU)
    return it.get_backend("strict" if be.name != "strict" else "cpu")


# ------------------------------------------------------------------ creation

@pytest.mark.parametrize("data, dtype", [
    (1.5, it.float32), (1, it.int64), (True, it.bool), (2 + 1j, it.complex64),
    ([1.0, 2.0], it.float32), ([1, 2], it.int64), ([True, False], it.bool),
    ([1, 2.5], it.float32), ([True, 2], it.int64), ([[1, 2], [3, 4.0]], it.float32),
    ((1, 2, 3), it.int64), ([], it.float32),
])
def test_tensor_python_dtype_defaults(be, data, dtype):
    t = it.tensor(data)
    assert t.dtype is dtype
    assert t.backend is be
    expected = np.asarray(data)
    assert tuple(t.shape) == expected.shape
    np.testing.assert_array_equal(to_np(t), expected.astype(dtype.name))


@pytest.mark.parametrize("npdtype", ["float64", "float32", "int32", "int64", "uint8", "bool"])
def test_tensor_from_numpy_keeps_dtype_and_copies(be, npdtype):
    a = np.arange(6).reshape(2, 3).astype(npdtype)
    t = it.tensor(a)
    assert t.dtype is getattr(it, npdtype)
    np.testing.assert_array_equal(to_np(t), a)
    a[0, 0] = 1 - a[0, 0]              # tensor() copies
    assert to_np(t)[0, 0] != a[0, 0]


def test_tensor_explicit_dtype_and_requires_grad(be):
    t = it.tensor([1, 2], dtype=it.float64, requires_grad=True)
    assert t.dtype is it.float64 and t.requires_grad and t.is_leaf
    assert it.tensor([1.7, 2.2], dtype=it.int32).dtype is it.int32
    assert it.tensor(3, dtype="float64").dtype is it.float64
    u = it.tensor(t)          # from a tensor: a copy, cut from the graph
    assert not u.requires_grad
    np.testing.assert_array_equal(to_np(u), [1.0, 2.0])


def test_tensor_from_list_of_tensors_is_refused(be):
    # one-element tensors are scalars there (tests/test_torch_everyday.py); others are
    # refused with PyTorch's ValueError, pointing at stack
    with pytest.raises(ValueError, match="stack"):
        it.tensor([it.ones(2), it.ones(2)])


def test_asarray(be):
    x = it.tensor([1.0, 2.0])
    assert it.asarray(x) is x
    y = it.asarray(x, dtype=it.float64)
    assert y.dtype is it.float64 and y is not x
    z = it.asarray(x, copy=True)
    z[0] = 5.0
    assert x[0].item() == 1.0
    with pytest.raises(ValueError, match="float64"):
        it.asarray(x, dtype=it.float64, copy=False)
    a = it.asarray([[1, 2], [3, 4]])
    assert a.dtype is it.int64 and tuple(a.shape) == (2, 2)
    b = it.asarray(np.array([1.5, 2.5], dtype=np.float32))
    assert b.dtype is it.float32
    np.testing.assert_array_equal(to_np(b), [1.5, 2.5])


@pytest.mark.parametrize("fn, value", [(it.zeros, 0.0), (it.ones, 1.0)])
def test_zeros_ones(be, fn, value):
    for t in (fn(2, 3), fn((2, 3)), fn([2, 3])):
        assert t.dtype is it.float32 and tuple(t.shape) == (2, 3) and t.backend is be
        np.testing.assert_array_equal(to_np(t), np.full((2, 3), value))
    assert fn(()).shape == () and fn(0).numel() == 0
    assert fn(2, dtype=it.int32).dtype is it.int32
    t = fn(3, requires_grad=True)
    assert t.requires_grad and t.is_leaf
    with pytest.raises(ValueError, match="negative"):
        fn(2, -1)


def test_full_and_empty(be):
    assert it.full((2,), 1.5).dtype is it.float32
    assert it.full((2,), 7).dtype is it.int64
    assert it.full((2,), True).dtype is it.bool
    assert it.full(3, 2.0, dtype=it.float64).dtype is it.float64
    np.testing.assert_array_equal(to_np(it.full((2, 2), 7)), np.full((2, 2), 7))
    e = it.empty(2, 3)
    assert tuple(e.shape) == (2, 3) and e.dtype is it.float32
    assert it.empty(4, dtype=it.int64).dtype is it.int64


def test_like_functions(be):
    x = it.tensor([[1, 2, 3]], dtype=it.int32)
    for fn, v in ((it.zeros_like, 0), (it.ones_like, 1)):
        t = fn(x)
        assert t.dtype is it.int32 and tuple(t.shape) == (1, 3)
        np.testing.assert_array_equal(to_np(t), np.full((1, 3), v))
        assert fn(x, dtype=it.float64).dtype is it.float64
    f = it.full_like(x, 4)
    assert f.dtype is it.int32
    np.testing.assert_array_equal(to_np(f), np.full((1, 3), 4))
    e = it.empty_like(x, dtype=it.float32)
    assert e.dtype is it.float32 and tuple(e.shape) == (1, 3)
    assert it.zeros_like(x, dtype=it.float32, requires_grad=True).requires_grad


def test_arange_linspace_eye(be):
    a = it.arange(5)
    assert a.dtype is it.int64
    np.testing.assert_array_equal(to_np(a), np.arange(5))
    np.testing.assert_array_equal(to_np(it.arange(2, 11, 3)), np.arange(2, 11, 3))
    f = it.arange(0.0, 1.0, 0.25)
    assert f.dtype is it.float32
    np.testing.assert_allclose(to_np(f), [0, 0.25, 0.5, 0.75])
    np.testing.assert_array_equal(to_np(it.arange(5, 0, -2)), [5, 3, 1])
    assert it.arange(3, dtype=it.float64).dtype is it.float64
    with pytest.raises(ValueError, match="step"):
        it.arange(0, 3, 0)
    lin = it.linspace(0, 1, 5)
    assert lin.dtype is it.float32
    np.testing.assert_allclose(to_np(lin), np.linspace(0, 1, 5), rtol=1e-6)
    np.testing.assert_allclose(to_np(it.linspace(-1, 1, steps=3)), [-1, 0, 1])
    np.testing.assert_array_equal(to_np(it.eye(3)), np.eye(3))
    np.testing.assert_array_equal(to_np(it.array_api.eye(2, 4, k=1)), np.eye(2, 4, k=1))
    assert it.eye(2, dtype=it.int64).dtype is it.int64


@pytest.mark.parametrize("dtype", it.dtypes.ALL_DTYPES, ids=str)
def test_every_backend_dtype(be, dtype):
    if dtype not in be.to_native:
        try:
            be.native_dtype(dtype)      # a dtype taken on first use (cpu's bfloat16: ml_dtypes)
        except TypeError:
            pass
    if dtype in be.to_native:
        t = it.zeros(3, dtype=dtype)
        assert t.dtype is dtype and t.dtype == dtype
        assert t.element_size() == dtype.itemsize
        assert it.ones(2, dtype=dtype).tolist() == [dtype.name.startswith("bool") or 1] * 2
        u = it.tensor([1, 0], dtype=dtype)
        assert u.dtype is dtype
        assert it.is_floating_point(u) == dtype.is_floating_point
        if dtype is not it.bool:
            assert f"dtype={dtype}" in repr(u) or dtype in (it.float32, it.int64, it.complex64)
    else:
        # missing: float16 and bfloat16 on the strict backend only (array-api-strict has
        # neither; cpu has bfloat16 through ml_dtypes, tests/test_bfloat16.py), and on the
        # torch namespace the unsigned dtypes PyTorch stores but cannot add
        assert (be.name, dtype) in {("strict", it.float16), ("strict", it.bfloat16),
                                    ("torch", it.uint16), ("torch", it.uint32),
                                    ("torch", it.uint64)}
        with pytest.raises(TypeError, match=dtype.name):
            it.zeros(3, dtype=dtype)
        with pytest.raises(TypeError, match=dtype.name):
            it.tensor([1.0], dtype=dtype)
        with pytest.raises(TypeError, match=dtype.name):
            it.ones(2).astype(dtype)


def test_float16_where_the_backend_has_it(be):
    if be.name != "strict":          # NumPy and torch have float16; array-api-strict does not
        t = it.tensor([1.5, 2.0], dtype=it.float16)
        assert t.dtype is it.float16
        assert (t + t).dtype is it.float16
        assert repr(t).startswith("tensor([1.5000, 2.0000], dtype=interop.float16")
    else:
        assert it.float16 not in be.to_native
        with pytest.raises(TypeError, match="float16 is not available on backend 'strict'"):
            it.tensor([1.5], dtype=it.float16)


def test_device(be):
    x = it.ones(2)
    assert x.device == "cpu" and x.device == it.device("cpu")
    assert str(x.device) == "cpu" and x.device.type == "cpu"
    assert it.ones(2, device="cpu").backend is be          # "cpu" keeps the current CPU backend
    assert it.ones(2, device=it.device("cpu")).backend is be
    assert it.ones(2, device=be).backend is be
    assert it.device("cuda:1").index == 1 and it.device("cuda", 1) == "cuda:1"
    other = it.ones(2, device=_other_backend(be))
    assert other.backend is _other_backend(be) and other.backend is not be
    moved = other.to(be)
    assert moved.backend is be
    np.testing.assert_array_equal(to_np(moved), [1.0, 1.0])


# ------------------------------------------------------------------ properties

def test_shape_properties(be):
    x = it.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and isinstance(x.shape, tuple)
    assert repr(x.shape) == "interop.Size([2, 3, 4])"
    assert x.ndim == 3 and x.dim() == 3
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.numel() == 24 and it.numel(x) == 24 and len(x) == 2
    assert x.dtype is it.float32
    assert x.T.shape == (4, 3, 2)
    assert x.mT.shape == (2, 4, 3)
    with pytest.raises(IndexError, match="dimension out of range"):
        x.size(3)
    with pytest.raises(TypeError, match="0-d"):
        len(it.tensor(1.0))


def test_T_mT_values(be):
    a = np.arange(6.0).reshape(2, 3)
    x = from_np(a)
    assert_close(x.T, a.T)
    assert_close(x.mT, a.T)
    b = np.arange(24.0).reshape(2, 3, 4)
    assert_close(from_np(b).mT, np.swapaxes(b, -1, -2))
    assert_close(from_np(b).T, b.transpose(2, 1, 0))
    with pytest.raises(ValueError, match="2 dims"):
        it.ones(3).mT


def test_item_tolist(be):
    assert it.tensor(2.5).item() == 2.5 and isinstance(it.tensor(2.5).item(), float)
    assert it.tensor([[7]]).item() == 7 and isinstance(it.tensor(7).item(), int)
    assert it.tensor(True).item() is True
    assert it.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert it.tensor([1.5, 2.0]).tolist() == [1.5, 2.0]
    assert it.tensor(3).tolist() == 3
    assert float(it.tensor([2.0])) == 2.0 and int(it.tensor(3)) == 3
    with pytest.raises(RuntimeError, match="2 elements"):
        it.tensor([1.0, 2.0]).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(it.tensor([1.0, 2.0]))


def _repr(be, body, *extras):
    """The expected repr: PyTorch's, plus backend='strict' off the default backend (before
    the autograd suffix, as PyTorch puts device= there)."""
    ex = [e for e in extras if not e.startswith(("grad_fn", "requires_grad"))]
    grad = [e for e in extras if e.startswith(("grad_fn", "requires_grad"))]
    if be.name != "cpu":
        ex.append(f"backend='{be.name}'")
    return "tensor(" + ", ".join([body] + ex + grad) + ")"


def test_repr(be):
    assert repr(it.tensor([1.0, 2.0])) == _repr(be, "[1., 2.]")
    assert repr(it.tensor([1.5, 2.25])) == _repr(be, "[1.5000, 2.2500]")
    assert repr(it.tensor(3.5)) == _repr(be, "3.5000")
    assert repr(it.tensor([1, 2])) == _repr(be, "[1, 2]")
    assert repr(it.tensor([True, False])) == _repr(be, "[ True, False]")
    assert repr(it.tensor([1.0, 2.0], dtype=it.float64)) == _repr(be, "[1., 2.]", "dtype=interop.float64")
    assert repr(it.tensor([1, 2], dtype=it.int32)) == _repr(be, "[1, 2]", "dtype=interop.int32")
    assert repr(it.tensor([[1.0, 2.0], [3.0, 4.0]])) == _repr(be, "[[1., 2.],\n        [3., 4.]]")
    assert repr(it.zeros(0)) == _repr(be, "[]")
    assert repr(it.zeros(2, 0)) == _repr(be, "[]", "size=(2, 0)")
    x = it.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == _repr(be, "[1., 2.]", "requires_grad=True")
    assert repr(x * 2) == _repr(be, "[2., 4.]", "grad_fn=<MulBackward>")
    assert repr(x.sum()) == _repr(be, "3.", "grad_fn=<SumBackward>")
    assert str(x.detach()) == _repr(be, "[1., 2.]")


# ------------------------------------------------------------------ operators

_A = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.25]])
_B = np.array([2.0, -0.5, 1.5])            # broadcasts against _A

_BINARY = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
           operator.mod, operator.pow]
_COMPARE = [operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne]


@pytest.mark.parametrize("op", _BINARY, ids=lambda f: f.__name__)
def test_binary_operators(be, op):
    a = np.abs(_A) if op is operator.pow else _A
    x, y = from_np(a.astype(np.float32)), from_np(_B.astype(np.float32))
    ref = op(a.astype(np.float32), _B.astype(np.float32))
    for out, expected in ((op(x, y), ref), (op(x, 2.0), op(a.astype(np.float32), np.float32(2.0))),
                          (op(x, 3), op(a.astype(np.float32), np.float32(3)))):
        assert out.dtype is it.float32 and tuple(out.shape) == expected.shape
        np.testing.assert_allclose(to_np(out), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("op", _BINARY, ids=lambda f: f.__name__)
def test_reflected_operators(be, op):
    x = from_np(_B.astype(np.float32))
    out = op(2, x)
    assert out.dtype is it.float32
    np.testing.assert_allclose(to_np(out), op(np.float32(2), _B.astype(np.float32)), rtol=1e-6)
    np.testing.assert_allclose(to_np(op(2.5, x)), op(np.float32(2.5), _B.astype(np.float32)),
                               rtol=1e-6)


def test_reflected_named_cases(be):
    x = it.tensor([1.0, 2.0, 4.0])
    np.testing.assert_allclose(to_np(2 - x), [1.0, 0.0, -2.0])
    np.testing.assert_allclose(to_np(2 / x), [2.0, 1.0, 0.5])
    np.testing.assert_allclose(to_np(2 ** x), [2.0, 4.0, 16.0])
    np.testing.assert_allclose(to_np(3 * x + 1), [4.0, 7.0, 13.0])


def test_integer_arithmetic(be):
    a = np.array([7, -3, 5, 0])
    x = from_np(a)
    assert (x + 1).dtype is it.int64 and (x * x).dtype is it.int64
    np.testing.assert_array_equal(to_np(x + 1), a + 1)
    np.testing.assert_array_equal(to_np(x // 2), a // 2)
    np.testing.assert_array_equal(to_np(x % 3), a % 3)
    np.testing.assert_array_equal(to_np(x ** 2), a ** 2)
    f = x * 1.5                         # float scalar with an int tensor: float32 (PyTorch)
    assert f.dtype is it.float32
    np.testing.assert_allclose(to_np(f), a * 1.5)
    assert (x + True).dtype is it.int64


def test_unary_operators(be):
    x = from_np(_A.astype(np.float32))
    np.testing.assert_array_equal(to_np(-x), -_A.astype(np.float32))
    np.testing.assert_array_equal(to_np(+x), _A.astype(np.float32))
    np.testing.assert_array_equal(to_np(abs(x)), np.abs(_A).astype(np.float32))
    b = it.tensor([True, False])
    assert (~b).tolist() == [False, True]
    assert (~it.tensor([0, 5])).tolist() == [-1, -6]


@pytest.mark.parametrize("op", _COMPARE, ids=lambda f: f.__name__)
def test_comparisons_return_bool(be, op):
    x = from_np(_A)
    y = from_np(np.array([1.5, 4.0, -1.25]))
    for out, expected in ((op(x, y), op(_A, np.array([1.5, 4.0, -1.25]))), (op(x, 0.5), op(_A, 0.5))):
        assert out.dtype is it.bool and tuple(out.shape) == expected.shape
        np.testing.assert_array_equal(to_np(out), expected)
    # a Python scalar on the left: the reflected comparison
    np.testing.assert_array_equal(to_np(op(0.5, x)), op(0.5, _A))


def test_logical_and_bitwise_operators(be):
    p, q = it.tensor([True, True, False]), it.tensor([True, False, False])
    assert (p & q).tolist() == [True, False, False]
    assert (p | q).tolist() == [True, True, False]
    assert (p ^ q).tolist() == [False, True, False]
    i, j = it.tensor([12, 10]), it.tensor([10, 6])
    assert (i & j).tolist() == [8, 2] and (i | j).tolist() == [14, 14] and (i ^ j).tolist() == [6, 12]
    assert (i << 1).tolist() == [24, 20] and (i >> 2).tolist() == [3, 2]


def test_matmul_operator(be):
    a = np.arange(6.0).reshape(2, 3)
    b = np.arange(12.0).reshape(3, 4)
    x, y = from_np(a), from_np(b)
    assert_close(x @ y, a @ b)
    assert_close(x @ from_np(b[:, 0]), a @ b[:, 0])
    assert_close(from_np(a[0]) @ from_np(a[1]), a[0] @ a[1])
    batch = np.arange(24.0).reshape(2, 4, 3)
    assert_close(from_np(batch) @ y, batch @ b)
    assert_close(it.matmul(x, y), a @ b)
    assert_close(x.mm(y), a @ b)
    with pytest.raises(TypeError, match="@="):
        z = it.ones(2, 2)
        z @= it.ones(2, 2)


_INPLACE = [
    ("__iadd__", operator.add, 2.5), ("__isub__", operator.sub, 1.5), ("__imul__", operator.mul, 3.0),
    ("__itruediv__", operator.truediv, 4.0), ("__ipow__", operator.pow, 2.0),
    ("__ifloordiv__", operator.floordiv, 2.0), ("__imod__", operator.mod, 1.5),
]


@pytest.mark.parametrize("name, op, scalar", _INPLACE, ids=[n for n, _, _ in _INPLACE])
def test_inplace_operators(be, name, op, scalar):
    a = np.abs(_A)
    x = from_np(a)
    data_id = x
    out = getattr(x, name)(scalar)
    assert out is data_id                                  # the same tensor object
    np.testing.assert_allclose(to_np(x), op(a, scalar), rtol=1e-12)
    y = from_np(a)
    getattr(y, name)(from_np(np.abs(_B)))                  # a broadcast tensor operand
    np.testing.assert_allclose(to_np(y), op(a, np.abs(_B)), rtol=1e-12)
    # the in-place form writes into the memory a view shares
    z = from_np(a)
    row = z[0]
    getattr(row, name)(scalar)
    np.testing.assert_allclose(to_np(z)[0], op(a[0], scalar), rtol=1e-12)
    np.testing.assert_allclose(to_np(z)[1], a[1])


def test_inplace_operator_statements(be):
    x = it.tensor([1.0, 2.0, 3.0])
    x += 1
    x -= 0.5
    x *= 2
    x /= 4
    x **= 2
    np.testing.assert_allclose(to_np(x), (((np.array([1.0, 2, 3]) + 1 - 0.5) * 2 / 4) ** 2))
    i = it.tensor([6, 5, 12])
    i //= 2
    i %= 4
    i <<= 2
    i >>= 1
    i |= 1
    i &= 7
    i ^= 2
    expected = np.array([6, 5, 12]) // 2 % 4
    expected = (((expected << 2) >> 1) | 1) & 7 ^ 2
    assert i.tolist() == expected.tolist()
    b = it.tensor([True, False])
    b |= it.tensor([False, False])
    b &= it.tensor([True, True])
    assert b.tolist() == [True, False]


def test_inplace_named_methods(be):
    x = it.tensor([1.0, 4.0])
    assert x.add_(1) is x and x.tolist() == [2.0, 5.0]
    x.mul_(2).sub_(1)
    assert x.tolist() == [3.0, 9.0]
    x.sqrt_()
    np.testing.assert_allclose(to_np(x), [3 ** 0.5, 3.0])
    x.zero_()
    assert x.tolist() == [0.0, 0.0]
    x.fill_(2.5)
    assert x.tolist() == [2.5, 2.5]
    x.clamp_(max=1.0)
    assert x.tolist() == [1.0, 1.0]
    x.add_(it.tensor([1.0, 2.0]), alpha=2)
    assert x.tolist() == [3.0, 5.0]


def test_inplace_refuses_bad_results(be):
    i = it.tensor([1, 2])
    with pytest.raises(RuntimeError, match="int64"):
        i += 1.5                       # the float result cannot be written into int64
    x = it.ones(3)
    with pytest.raises(RuntimeError, match=r"\(3\)|\(2, 3\)"):
        x += it.ones(2, 3)             # the result would not fit x's shape


# ------------------------------------------------------------------ indexing

_GET_KEYS = [
    1, -1, (0, 1), (-2, -1), slice(None), slice(1, None), slice(None, None, 2), (slice(None), 1),
    (Ellipsis, 1), (1, Ellipsis), (None, 0), (slice(None), None, slice(1, 3)), (Ellipsis, None),
    (0, slice(None), -1), slice(None, None, -1), (slice(None), slice(None, None, -2)),
    [0, 2], [2, 0, 2], [-1], (slice(None), slice(None), [1, 3, 1]), (slice(None), [1, 0, 1]), (1, [0, -1]), ([0, 1], Ellipsis),
]


def _grid():
    return np.arange(24.0).reshape(3, 2, 4)


@pytest.mark.parametrize("key", _GET_KEYS, ids=repr)
def test_getitem_matches_numpy(be, key):
    a = _grid()
    out = from_np(a)[key]
    expected = a[key]
    assert tuple(out.shape) == expected.shape
    np.testing.assert_array_equal(to_np(out), expected)


def test_getitem_tensor_keys(be):
    a = _grid()
    x = from_np(a)
    idx = np.array([[2, 0], [1, 1]])
    np.testing.assert_array_equal(to_np(x[from_np(idx)]), a[idx])
    np.testing.assert_array_equal(to_np(x[:, :, from_np(np.array([3, -4]))]), a[:, :, [3, -4]])
    mask = a > 10
    np.testing.assert_array_equal(to_np(x[from_np(mask)]), a[mask])
    np.testing.assert_array_equal(to_np(x[x > 10]), a[mask])
    rows = np.array([True, False, True])
    np.testing.assert_array_equal(to_np(x[from_np(rows)]), a[rows])
    np.testing.assert_array_equal(to_np(x[it.tensor(1)]), a[1])     # a 0-d integer tensor


_SET_KEYS = [
    (1, 7.0), (-1, 7.0), ((0, 1), np.array([1.0, 2, 3, 4])), ((slice(None), 0), 5.0),
    ((Ellipsis, -1), np.array([9.0])), (slice(1, None), np.arange(16.0).reshape(2, 2, 4)),
    ((slice(None), slice(None), slice(None, None, 2)), -1.0), ([0, 2], 3.5),
    (([2, 0], Ellipsis), np.arange(8.0).reshape(2, 4)), ((slice(None), 1, [0, 3]), 0.25),
    ((1, [-1, 0]), np.array([[1.0, 2, 3, 4], [5, 6, 7, 8]])),
]


@pytest.mark.parametrize("key, value", _SET_KEYS, ids=[repr(k) for k, _ in _SET_KEYS])
def test_setitem_matches_numpy(be, key, value):
    a = _grid()
    x = from_np(a)
    x[key] = from_np(value) if isinstance(value, np.ndarray) else value
    a[key] = value
    np.testing.assert_array_equal(to_np(x), a)


def test_setitem_masks_and_tensor_indices(be):
    a = _grid()
    x = from_np(a)
    x[x > 20] = 0.0
    a[a > 20] = 0.0
    np.testing.assert_array_equal(to_np(x), a)
    mask = (a % 3) == 0
    vals = -np.arange(mask.sum(), dtype=np.float64)
    x[from_np(mask)] = from_np(vals)
    a[mask] = vals
    np.testing.assert_array_equal(to_np(x), a)
    idx = np.array([2, -3])
    x[from_np(idx)] = 1.0
    a[idx] = 1.0
    np.testing.assert_array_equal(to_np(x), a)


def test_setitem_dtype_rules(be):
    x = it.zeros(3, dtype=it.int64)
    x[0] = 5
    x[1] = True
    assert x.tolist() == [5, 1, 0]
    with pytest.raises(TypeError, match="float"):
        x[2] = 1.5
    f = it.zeros(2)
    f[0] = 3                               # int into float is fine
    f[1] = it.tensor(2, dtype=it.int64)
    assert f.tolist() == [3.0, 2.0] and f.dtype is it.float32
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)|\(2,\).*\(3,\)"):
        f[:] = it.ones(3)


# ------------------------------------------------------------------ views share memory

def test_views_share_memory(be):
    x = it.arange(12.0).reshape(3, 4)
    v = x[0]
    v += 1
    assert x[0].tolist() == [1.0, 2.0, 3.0, 4.0]
    x.view(4, 3)[0, 0] = 100.0
    assert x[0, 0].item() == 100.0
    x.view(-1)[5] = -5.0
    assert x[1, 1].item() == -5.0
    x.reshape(2, 6)[1, 0] = 60.0
    assert x[1, 2].item() == 60.0
    x.permute(1, 0)[3, 2] = 32.0
    assert x[2, 3].item() == 32.0
    x.transpose(0, 1)[0, 1] = 10.0
    assert x[1, 0].item() == 10.0
    x.unsqueeze(0)[0, 2, 0] = 20.0
    assert x[2, 0].item() == 20.0
    x[None].squeeze(0)[2, 1] = 21.0
    assert x[2, 1].item() == 21.0
    x.flatten()[3] = 3.5
    assert x[0, 3].item() == 3.5
    x.T[2, 0] = -2.0
    assert x[0, 2].item() == -2.0
    x[:, 1:3][0, 0] = 0.5
    assert x[0, 1].item() == 0.5
    e = x[0:1].expand(5, 4)           # writes to the base show through an expanded view
    x[0, 0] = 42.0
    assert e[4, 0].item() == 42.0 and tuple(e.shape) == (5, 4)
    b = x[1].broadcast_to((2, 4))
    x[1, 3] = 13.0
    assert b[1, 3].item() == 13.0
    assert x.sum().item() == pytest.approx(float(to_np(x).sum()))


def test_clone_and_detach(be):
    x = it.tensor([1.0, 2.0])
    c = x.clone()
    c[0] = 9.0
    assert x[0].item() == 1.0
    d = x.detach()
    d[0] = 9.0                         # detach shares the data
    assert x[0].item() == 9.0


# ------------------------------------------------------------------ PyTorch spellings

def test_reduction_spellings(be):
    a = np.arange(24.0).reshape(2, 3, 4)
    x = from_np(a)
    for out in (x.sum(dim=1, keepdim=True), x.sum(1, keepdim=True), x.sum(1, True),
                it.sum(x, dim=1, keepdim=True), it.sum(x, axis=1, keepdims=True),
                x.sum(axis=1, keepdims=True)):
        assert tuple(out.shape) == (2, 1, 4)
        np.testing.assert_array_equal(to_np(out), a.sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(to_np(x.sum((0, 2))), a.sum(axis=(0, 2)))
    np.testing.assert_array_equal(to_np(it.sum(x, axis=(-1, 0))), a.sum(axis=(-1, 0)))
    assert x.sum().item() == a.sum()
    np.testing.assert_allclose(to_np(x.mean(-1)), a.mean(-1))
    np.testing.assert_allclose(to_np(it.mean(x, axis=0, keepdims=True)), a.mean(0, keepdims=True))
    np.testing.assert_array_equal(to_np(x.amax(2)), a.max(2))
    np.testing.assert_array_equal(to_np(it.max(x, axis=1).values), a.max(1))   # axis: dim's alias
    np.testing.assert_array_equal(to_np(it.array_api.max(x, axis=1)), a.max(1))
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(to_np(values), a.max(1))
    np.testing.assert_array_equal(to_np(indices), a.argmax(1))
    assert indices.dtype is it.int64
    np.testing.assert_array_equal(to_np(x.min(0).values), a.min(0))
    np.testing.assert_allclose(to_np(x.var(1)), a.var(1, ddof=1))       # PyTorch: unbiased
    np.testing.assert_allclose(to_np(it.var(x, axis=1)), a.var(1, ddof=1))   # torch.var: unbiased
    np.testing.assert_allclose(to_np(it.array_api.var(x, axis=1)), a.var(1))  # standard: correction=0
    np.testing.assert_allclose(to_np(x.std(1, unbiased=False)), a.std(1))
    np.testing.assert_allclose(to_np(x.prod(2)), a.prod(2))
    np.testing.assert_array_equal(to_np(x.cumsum(1)), a.cumsum(1))
    np.testing.assert_array_equal(to_np(x.argmax(-1)), a.argmax(-1))
    assert it.sum(it.tensor([1, 2, 3], dtype=it.int32)).dtype is it.int64   # PyTorch's int sums
    with pytest.raises(TypeError, match="axis="):
        it.sum(x, axis=0, dim=1)


def test_join_spellings(be):
    a, b = np.ones((2, 3)), np.zeros((2, 2))
    x, y = from_np(a), from_np(b)
    for out in (it.cat([x, y], dim=1), it.concat([x, y], axis=1), it.concatenate((x, y), axis=-1),
                it.cat([x, y], 1) if False else it.cat([x, y], dim=-1)):
        np.testing.assert_array_equal(to_np(out), np.concatenate([a, b], axis=1))
    np.testing.assert_array_equal(to_np(it.stack([x, x], dim=1)), np.stack([a, a], axis=1))
    np.testing.assert_array_equal(to_np(it.stack([x, x], axis=-1)), np.stack([a, a], axis=-1))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 2\)"):
        it.cat([x, y], dim=0)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 2\)"):
        it.stack([x, y])


def test_shape_spellings(be):
    a = np.arange(24.0).reshape(2, 3, 4)
    x = from_np(a)
    assert x.view(6, 4).shape == (6, 4) and x.view((4, -1)).shape == (4, 6)
    assert x.reshape(-1).shape == (24,) and it.reshape(x, (4, 6)).shape == (4, 6)
    np.testing.assert_array_equal(to_np(x.permute(2, 0, 1)), a.transpose(2, 0, 1))
    np.testing.assert_array_equal(to_np(x.permute((2, 0, 1))), a.transpose(2, 0, 1))
    np.testing.assert_array_equal(to_np(it.permute_dims(x, (1, 2, 0))), a.transpose(1, 2, 0))
    np.testing.assert_array_equal(to_np(x.transpose(0, 2)), a.swapaxes(0, 2))
    assert x.unsqueeze(1).shape == (2, 1, 3, 4) and it.expand_dims(x, axis=-1).shape == (2, 3, 4, 1)
    assert x[:, :1].squeeze().shape == (2, 4) and x[:, :1].squeeze(1).shape == (2, 4)
    assert x.squeeze(0).shape == (2, 3, 4)             # PyTorch: a non-1 dim is left alone
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12)
    assert x.flatten(0, 1).shape == (6, 4)
    assert x[:, :1].expand(2, 5, 4).shape == (2, 5, 4) and x[:1].expand(-1, 3, 4).shape == (1, 3, 4)
    np.testing.assert_array_equal(to_np(x.flip(0)), a[::-1])
    np.testing.assert_array_equal(to_np(it.flip(x, (1, 2))), a[:, ::-1, ::-1])
    np.testing.assert_array_equal(to_np(it.array_api.flip(x, axis=(1, 2))), a[:, ::-1, ::-1])
    with pytest.raises(RuntimeError, match="invalid for input of size 24"):
        x.view(5, 5)


@pytest.mark.parametrize("n, size", [(5, 2), (6, 3), (4, 5), (1, 1), (7, 3)])
def test_split_sizes_match_torch(be, n, size):
    torch = pytest.importorskip("torch")
    x = it.arange(n * 2).reshape(n, 2)
    tx = torch.arange(n * 2).reshape(n, 2)
    for ours, theirs in ((it.split(x, size), torch.split(tx, size)),
                         (x.split(size, 0), tx.split(size, 0)),
                         (it.chunk(x, size), torch.chunk(tx, size)),
                         (x.chunk(size, dim=0), tx.chunk(size, dim=0))):
        assert [tuple(p.shape) for p in ours] == [tuple(p.shape) for p in theirs]
        assert [p.tolist() for p in ours] == [p.tolist() for p in theirs]
    sections = [1, n - 1]
    assert [p.shape[0] for p in it.split(x, sections)] == sections
    assert [p.tolist() for p in it.unbind(x, 1)] == [p.tolist() for p in torch.unbind(tx, 1)]
    with pytest.raises(ValueError, match=str(n + 1)):
        it.split(x, [1, n])


# ------------------------------------------------------------------ gather / scatter / clamp / where

def test_gather_scatter_add_match_torch(be):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4))
    for dim, idx in ((0, rng.integers(0, 3, (2, 4))), (1, rng.integers(0, 4, (3, 5))),
                     (1, rng.integers(0, 4, (2, 2)))):
        out = it.gather(from_np(a), dim, from_np(idx))
        ref = torch.gather(torch.from_numpy(a), dim, torch.from_numpy(idx))
        np.testing.assert_array_equal(to_np(out), ref.numpy())
        np.testing.assert_array_equal(to_np(from_np(a).gather(dim, from_np(idx))), ref.numpy())
    src = rng.standard_normal((4, 5))
    for dim, idx in ((0, rng.integers(0, 3, (4, 4))), (1, rng.integers(0, 4, (3, 5))),
                     (0, rng.integers(0, 3, (2, 3)))):
        out = it.scatter_add(from_np(a), dim, from_np(idx), from_np(src))
        ref = torch.scatter_add(torch.from_numpy(a), dim, torch.from_numpy(idx), torch.from_numpy(src))
        np.testing.assert_allclose(to_np(out), ref.numpy(), rtol=1e-12)
    ia = np.arange(12).reshape(3, 4)
    out = it.scatter_add(from_np(ia), 0, from_np(np.array([[0, 0, 2, 1]])), from_np(np.ones((1, 4), int)))
    np.testing.assert_array_equal(to_np(out), ia + np.array([[1, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]))


def test_index_select_index_add_take(be):
    torch = pytest.importorskip("torch")
    a = np.arange(12.0).reshape(3, 4)
    idx = np.array([2, 0, 2])
    np.testing.assert_array_equal(to_np(it.index_select(from_np(a), 1, from_np(idx))), a[:, idx])
    np.testing.assert_array_equal(to_np(from_np(a).index_select(0, from_np(idx))), a[idx])
    src = np.ones((3, 3))
    ref = torch.index_add(torch.from_numpy(a), 1, torch.from_numpy(idx), torch.from_numpy(src))
    np.testing.assert_array_equal(to_np(it.index_add(from_np(a), 1, from_np(idx), from_np(src))),
                                  ref.numpy())
    np.testing.assert_array_equal(to_np(it.take(from_np(a), from_np(np.array([11, 0, 5])))),
                                  [11.0, 0.0, 5.0])


def test_clamp(be):
    a = np.array([-2.0, -0.5, 0.0, 0.7, 3.0])
    x = from_np(a)
    np.testing.assert_array_equal(to_np(x.clamp(-1, 1)), np.clip(a, -1, 1))
    np.testing.assert_array_equal(to_np(it.clamp(x, min=0.0)), np.maximum(a, 0))
    np.testing.assert_array_equal(to_np(x.clamp(max=0.5)), np.minimum(a, 0.5))
    np.testing.assert_array_equal(to_np(it.clip(x, -1, 1)), np.clip(a, -1, 1))
    lo = from_np(np.full(5, -0.25))
    np.testing.assert_array_equal(to_np(x.clamp(min=lo)), np.maximum(a, -0.25))
    np.testing.assert_array_equal(to_np(x.clamp(lo, from_np(np.full(5, 0.25)))), np.clip(a, -0.25, 0.25))
    i = it.tensor([-5, 0, 5])
    assert i.clamp(-1, 1).tolist() == [-1, 0, 1] and i.clamp(-1, 1).dtype is it.int64
    with pytest.raises(ValueError, match="min and max"):
        x.clamp()


def test_where(be):
    a = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]])
    x = from_np(a)
    np.testing.assert_array_equal(to_np(it.where(x > 0, x, 0.0)), np.where(a > 0, a, 0.0))
    np.testing.assert_array_equal(to_np(it.where(x > 0, 1.0, x)), np.where(a > 0, 1.0, a))
    row = from_np(np.array([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(to_np(it.where(x > 0, x, row)), np.where(a > 0, a, [10, 20, 30]))
    np.testing.assert_array_equal(to_np(x.where(x < 0, row)), np.where(a < 0, a, [10, 20, 30]))
    with pytest.raises(TypeError, match="bool"):
        it.where(x, x, x)


# ------------------------------------------------------------------ errors

def test_error_shape_mismatch_in_add_names_both_shapes(be):
    x, y = it.ones(2, 3), it.ones(4)
    with pytest.raises(ValueError) as e:
        x + y
    msg = str(e.value)
    assert "(2, 3)" in msg and "(4,)" in msg
    with pytest.raises(ValueError, match=re.escape("(2, 3)")):
        it.add(x, y)


def test_error_matmul_names_both_shapes(be):
    with pytest.raises(ValueError) as e:
        it.ones(2, 3) @ it.ones(4, 5)
    assert "(2, 3)" in str(e.value) and "(4, 5)" in str(e.value)
    with pytest.raises(ValueError) as e:
        it.matmul(it.ones(3), it.ones(2, 7))
    assert "(3,)" in str(e.value) and "(2, 7)" in str(e.value)


def test_error_int_requires_grad(be):
    with pytest.raises(RuntimeError, match="int64"):
        it.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="int32"):
        it.zeros(2, dtype=it.int32, requires_grad=True)
    with pytest.raises(RuntimeError, match="bool"):
        it.tensor([True]).requires_grad = True
    assert it.tensor([1.0]).requires_grad_().requires_grad


def test_error_gather_index_dtype(be):
    with pytest.raises(TypeError, match="float32"):
        it.gather(it.ones(2, 3), 1, it.tensor([[0.0]]))
    with pytest.raises(TypeError, match="float64"):
        it.scatter_add(it.ones(2, 3), 0, it.tensor([[0.5]], dtype=it.float64), it.ones(1, 1))


def test_error_index_out_of_range_names_dim_and_size(be):
    x = it.ones(2, 3)
    for key, dim, size in ((5, 0, 2), (-3, 0, 2), ((slice(None), 7), 1, 3), ((1, -4), 1, 3)):
        with pytest.raises(IndexError) as e:
            x[key]
        assert f"dimension {dim}" in str(e.value) and f"size {size}" in str(e.value)
        with pytest.raises(IndexError) as e:
            x[key] = 0.0
        assert f"dimension {dim}" in str(e.value) and f"size {size}" in str(e.value)
    with pytest.raises(IndexError) as e:
        x[it.tensor([0, 5])]
    assert "dimension 0" in str(e.value) and "size 2" in str(e.value)
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="dimension out of range"):
        x.sum(dim=2)


def test_error_mixing_backends_names_both(be):
    ob = _other_backend(be)
    other = ob.name
    x = it.ones(2)
    y = it.ones(2, device=ob)
    for f in (lambda: x + y, lambda: y * x, lambda: it.maximum(x, y), lambda: it.cat([x, y]),
              lambda: x @ y, lambda: it.where(x > 0, x, y)):
        with pytest.raises(RuntimeError) as e:
            f()
        msg = str(e.value)
        assert f"'{be.name}'" in msg and f"'{other}'" in msg, msg
    with pytest.raises(RuntimeError, match=other):
        x[it.tensor([0], device=ob)]


# ---- promotion policy where the standard is silent (PyTorch's choices, same on every backend)

def test_integer_true_division_gives_default_float(be):
    i = it.tensor([1, 2, 3])
    for r in (i / 2, 2 / i, i / i, it.divide(i, i)):
        assert r.dtype == it.float32
    np.testing.assert_allclose(to_np(i / 2), [0.5, 1.0, 1.5])
    np.testing.assert_allclose(to_np(2 / i), [2.0, 1.0, 2 / 3], rtol=1e-6)


def test_mixed_int_float_tensors_take_the_float_dtype(be):
    i = it.tensor([1, 2, 3])
    f = it.tensor([0.5, 1.0, 2.0], dtype=it.float64)
    assert (i + f).dtype == it.float64
    assert (f * i).dtype == it.float64
    assert ((i > 1) + i).dtype == it.int64
    np.testing.assert_allclose(to_np(i + f), [1.5, 3.0, 5.0])


def test_int64_with_uint64_is_refused_naming_both(be):
    if it.uint64 not in be.to_native:     # (PyTorch's namespace: no arithmetic on uint64)
        with pytest.raises(TypeError, match="uint64 is not available on backend"):
            it.tensor([1, 2], dtype=it.uint64)
        return
    a = it.tensor([1, 2], dtype=it.int64)
    b = it.tensor([1, 2], dtype=it.uint64)
    with pytest.raises(TypeError, match="int64.*uint64"):
        a + b


# ---- PyTorch conveniences

def test_new_factories_follow_the_tensor(be):
    x = it.ones(2, dtype=it.float64)
    for t in (x.new_zeros(2, 3), x.new_ones((2, 3)), x.new_empty(2, 3), x.new_full((2, 3), 7.0)):
        assert t.shape == (2, 3) and t.dtype == it.float64 and t.backend is x.backend
    np.testing.assert_allclose(to_np(x.new_full((2,), 7.0)), [7.0, 7.0])
    assert x.new_tensor([1, 2]).dtype == it.float64


def test_masked_fill_and_its_gradient(be):
    x = it.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.masked_fill(x > 1.5, -1.0)
    np.testing.assert_allclose(to_np(y), [1.0, -1.0, -1.0])
    (y * 2).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [2.0, 0.0, 0.0])
    z = it.zeros(3)
    z.masked_fill_(it.tensor([True, False, True]), 5.0)
    np.testing.assert_allclose(to_np(z), [5.0, 0.0, 5.0])
    with pytest.raises(TypeError, match="bool"):
        x.masked_fill(it.tensor([1, 0, 1]), 0.0)


def test_isclose_allclose(be):
    a = it.tensor([1.0, 2.0, float("nan")])
    b = it.tensor([1.0 + 1e-7, 2.1, float("nan")])
    assert to_np(it.isclose(a, b)).tolist() == [True, False, False]
    assert to_np(it.isclose(a, b, equal_nan=True)).tolist() == [True, False, True]
    assert it.allclose(a[:1], b[:1]) and not it.allclose(a, b)


def test_numpy_conversion(be):
    x = it.tensor([1.0, 2.0])
    a = x.numpy()
    assert isinstance(a, np.ndarray) and a.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="detach"):
        it.ones(2, requires_grad=True).numpy()


@pytest.mark.parametrize("call", [lambda: it.exp([1.0]), lambda: it.sigmoid(3.0),
                                  lambda: it.maximum(1.0, 2.0), lambda: it.less(1, 2),
                                  lambda: it.isnan(1.0)])
def test_namespace_functions_refuse_non_tensors_by_name(call):
    with pytest.raises(TypeError, match="expected"):
        call()


def test_view_never_copies_and_reshape_copies_only_when_it_must(be):
    x = it.arange(12.0).reshape(3, 4)
    v = x.reshape(-1)
    v[0] = 100.0                          # a real view: x sees the write
    assert x[0, 0].item() == 100.0
    c = x.t().reshape(-1)                 # a transpose cannot be flattened in place: a copy
    c[0] = -1.0
    assert x[0, 0].item() == 100.0
    with pytest.raises(RuntimeError, match="reshape"):
        x.t().view(-1)


def test_zero_dim_views_and_aliases_share_memory(be):
    x = it.tensor([1.0, 2.0])
    v = x[0]                       # a 0-d view, as in PyTorch
    v += 10.0
    assert x.tolist() == [11.0, 2.0]
    s = it.tensor([1.0, 2.0]).sum()      # a 0-d result
    d = s.detach()
    s.add_(1.0)
    assert d.item() == 4.0
    s[...] = 7.0
    assert s.item() == 7.0 and d.item() == 7.0


@pytest.mark.parametrize("call", [lambda z: z.relu(), lambda z: z < z, lambda z: it.maximum(z, z),
                                  lambda z: z.clamp(0, 1), lambda z: z.max(), lambda z: z.argmax()])
def test_ordering_ops_refuse_complex_on_every_backend(be, call):
    z = it.tensor([1 + 1j, 2 - 1j])
    with pytest.raises(TypeError, match="complex"):
        call(z)


# ---------------------------------------------------------------- Tensor subclasses

class _Param(it.Tensor):
    def __new__(cls, data, requires_grad=True):
        return data.detach().as_subclass(cls).requires_grad_(requires_grad)


class _Tagged(it.Tensor):
    """A subclass that asks for results of its own type (it overrides ``_make``)."""

    @staticmethod
    def _make(data, be, node):
        return it.Tensor._make(data, be, node).as_subclass(_Tagged)


def test_subclass_instances_work_in_every_operator(be):
    p = _Param(it.tensor([1.0, 2.0]))
    x = it.tensor([3.0, 4.0])
    assert isinstance(p, it.Tensor) and isinstance(p, it.autograd.Variable) and p.is_leaf
    for r in (p * x, x * p, p * 2.0, 2.0 * p, p + p, p @ x, -p, p.exp(), p[0], p.sum(), p > 1):
        assert type(r) is it.Tensor
    (p * x).sum().backward()
    assert p.grad.tolist() == [3.0, 4.0]
    with it.no_grad():
        p -= 0.5 * p.grad                       # an optimizer step on a subclass
    assert type(p) is _Param and p.tolist() == [-0.5, 0.0]


def test_subclass_can_ask_for_results_of_its_type(be):
    t = it.tensor([1.0, 2.0]).as_subclass(_Tagged)
    assert type(t * 2) is _Tagged and type(t.exp()) is _Tagged and type(t[0]) is _Tagged
    assert (t * 2).tolist() == [2.0, 4.0]


def test_tensor_constructor_pytorch_forms(be):
    t = it.Tensor([1, 2])
    assert t.dtype is it.float32 and t.tolist() == [1.0, 2.0]
    assert it.Tensor(2, 3).shape == (2, 3) and it.Tensor(2, 3).dtype is it.float32
    assert it.Tensor().shape == (0,)
    assert it.Tensor((2, 3)).tolist() == [2.0, 3.0]
    with pytest.raises(TypeError, match="data"):
        it.Tensor([1.0], [2.0])


def test_contains_and_numpy_asarray(be):
    t = it.tensor([1.0, 2.0, 3.0])
    assert 2.0 in t and 5 not in t and it.tensor(3.0) in t
    with pytest.raises(RuntimeError, match="Tensor or scalar"):
        "a" in t
    if be.device.type == "cpu":
        a = np.asarray(t)
        assert a.dtype == np.float32 and a.tolist() == [1.0, 2.0, 3.0]
        assert np.asarray(it.tensor([1, 2])).dtype == np.int64


def test_arrays_of_other_libraries_are_refused_alike_on_every_backend(be):
    # promise 1: the same code behaves the same on every backend, so a raw NumPy array is
    # never taken as a tensor (it would be this backend's own array on cpu only)
    x = it.tensor([1.0, 2.0])
    m = np.array([True, False])
    for f in (lambda: it.where(m, x, 0.0), lambda: it.add(x, np.ones(2)), lambda: x + np.ones(2),
              lambda: np.ones(2) * x, lambda: it.maximum(x, np.ones(2)), lambda: x < np.ones(2)):
        with pytest.raises(TypeError, match="Tensor"):
            f()
    with pytest.raises(TypeError):
        x + "a"
    assert (x + it.asarray(np.ones(2))).tolist() == [2.0, 3.0]     # converted explicitly: fine


def test_index_results_use_the_default_index_dtype_where_int64_is_missing():
    """nonzero and multinomial asked for int64, which JAX without x64 lacks."""
    with jax_backend():
        x = it.tensor([[0.0, 1.0], [2.0, 0.0]])
        rows, cols = it.nonzero(x)
        assert rows.dtype == it.int32 and rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
        assert x.nonzero().tolist() == [[0, 1], [1, 0]]
        d = it.multinomial(it.tensor([0.0, 1.0]), 3, replacement=True)
        assert d.dtype == it.int32 and d.tolist() == [1, 1, 1]
