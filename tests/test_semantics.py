"""PyTorch's semantics where the Array API standard is silent, checked against PyTorch on
every backend: max/min by dim, promotion across kinds, NaN and zero-division conventions,
0-d and empty inputs, bools on a standard-only namespace, error classes, and PyTorch's
positional ``dim``. (Gradient conventions at kinks are in test_kinks.py.)"""

import warnings

import numpy as np
import pytest

import interop as it

xp = it.array_api      # the standard's namespace (the top-level one is PyTorch's)
from helpers import to_np
from torch_compare import In, assert_same, assert_same_error, compare, no_backend_words, torch, NAN

# inf and NaN arithmetic is the point here: NumPy's floating-point warnings are expected
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")



def F(data, dtype="float32"):
    return In(data, dtype)


# ------------------------------------------------------------- 1. max/min by dim

@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("dim,keepdim", [(0, False), (1, False), (-1, True), (2, False)])
def test_max_dim_ties_send_the_gradient_to_the_index(be, op, dim, keepdim):
    x = F([[[1., 3., 3.], [2., 2., 0.]], [[5., 5., 5.], [0., 7., 7.]]], "float64")
    compare(be, lambda L, x: getattr(L, op)(x, dim, keepdim=keepdim), x)
    compare(be, lambda L, x: getattr(x, op)(dim, keepdim), x)


def test_max_dim_brief_example(be):
    x = it.tensor([[1., 3., 3.]], requires_grad=True)
    v, i = x.max(dim=1)
    v.sum().backward()
    assert to_np(x.grad).tolist() == [[0., 1., 0.]] and i.tolist() == [1]


def test_max_dim_saves_only_the_indices(be):
    # changing the input in place afterwards is no error (PyTorch saves only the indices)
    def f(L, x):
        y = x * 1
        v = L.max(y, 1).values
        y.add_(1)
        return v
    compare(be, f, F([[1., 3., 3.], [4., 0., 4.]], "float64"))


def test_max_dim_nan_input(be):
    compare(be, lambda L, x: L.max(x, 1), F([[1., NAN, 3.], [NAN, 1., NAN]], "float64"))
    compare(be, lambda L, x: L.amin(x, 1), F([[1., NAN, 3.], [0., 1., 2.]], "float64"))


# ------------------------------------------------------------- 2. max(x, 1) is PyTorch's

def test_max_positional_dim_is_values_and_indices(be):
    out = it.tensor([[0.1, 0.7, 0.2], [0.9, 0.05, 0.05]])
    _, pred = it.max(out, 1)                       # the classic accuracy line
    assert pred.tolist() == [1, 0] and pred.dtype == it.int64
    v = it.max(out, 1)
    assert type(v).__name__ == "max" and v.values.shape == (2,) and v.indices.shape == (2,)
    compare(be, lambda L, x: L.max(x, 1), F([[1., 3., 2.]]))
    compare(be, lambda L, x: L.max(x, 1, True), F([[1., 3., 2.]]))
    compare(be, lambda L, x: L.min(x, 0), F([[1., 3., 2.], [0., 4., 2.]]))
    # PyTorch takes axis= as an alias of dim; the standard namespace's max gives the values
    assert type(it.max(out, axis=1)).__name__ == "max"
    assert tuple(xp.max(out, axis=1).shape) == (2,) and isinstance(xp.max(out, axis=1), it.Tensor)


def test_max_with_a_tensor_is_maximum(be):
    compare(be, lambda L, a, b: L.max(a, b), F([1., 5., 2.]), F([3., 4., 2.]))
    compare(be, lambda L, a, b: L.min(a, b), F([1., 5., 2.]), F([3., 4., 2.]))
    compare(be, lambda L, a, b: a.max(b), F([1., 5., 2.]), F([3., 4., 2.]))


# ------------------------------------------------------------- 3. promotion across kinds

PROMOTION = [
    ("cat_f32_i64", lambda L: L.cat([L.tensor([1.5]), L.tensor([2])])),
    ("cat_i64_bool", lambda L: L.cat([L.tensor([2]), L.tensor([True])])),
    ("stack_f32_i64", lambda L: L.stack([L.tensor([1.5]), L.tensor([2])])),
    ("stack_i32_f64", lambda L: L.stack([L.tensor([1], dtype=L.int32), L.tensor([2.], dtype=L.float64)])),
    ("where_f32_i64", lambda L: L.where(L.tensor([True, False]), L.tensor([1.5, 2.5]), L.tensor([3, 4]))),
    ("where_i64_f32", lambda L: L.where(L.tensor([True, False]), L.tensor([3, 4]), L.tensor([1.5, 2.5]))),
    ("where_two_floats", lambda L: L.where(L.tensor([True, False]), 1., -1.)),
    ("where_two_ints", lambda L: L.where(L.tensor([True, False]), 1, -1)),
    ("where_int_float", lambda L: L.where(L.tensor([True, False]), 1, -1.)),
    ("where_two_bools", lambda L: L.where(L.tensor([True, False]), True, False)),
    ("where_int_tensor_float", lambda L: L.where(L.tensor([True, False]), L.tensor([3, 4]), 1.)),
    ("where_bool_tensor_int", lambda L: L.where(L.tensor([True, False]), L.tensor([True, False]), 1)),
    ("where_f64_tensor_float", lambda L: L.where(L.tensor([True, False]),
                                                 L.tensor([3., 4.], dtype=L.float64), 1.)),
    ("where_i32_tensor_int", lambda L: L.where(L.tensor([True, False]), L.tensor([3, 4], dtype=L.int32), 1)),
    ("clamp_int_float_bounds", lambda L: L.tensor([1, 5]).clamp(0.5, 3.5)),
    ("clamp_int_float_min", lambda L: L.tensor([1, 5]).clamp(min=2.5)),
    ("clamp_int_int_bounds", lambda L: L.tensor([1, 5]).clamp(0, 3)),
    ("clamp_i8_float", lambda L: L.tensor([1, 2], dtype=L.int8).clamp(0.5)),
    ("clamp_bool_int_bounds", lambda L: L.tensor([True, False]).clamp(0, 1)),
    ("clamp_bool_float", lambda L: L.tensor([True, False]).clamp(0.5)),
    ("clamp_int_float_tensor_bound", lambda L: L.tensor([1, 5]).clamp(L.tensor([2.5]))),
    ("clamp_f32_f64_tensor_bound", lambda L: L.tensor([1., 5.]).clamp(L.tensor([2.], dtype=L.float64))),
    ("masked_fill_int_float", lambda L: L.tensor([1, 5]).masked_fill(L.tensor([True, False]), 2.5)),
    ("masked_fill_int_negative_float", lambda L: L.tensor([1, 5]).masked_fill(L.tensor([True, False]), -2.5)),
    ("masked_fill_bool_int", lambda L: L.tensor([True, False]).masked_fill(L.tensor([False, True]), 2)),
    ("masked_fill_f32_f64_value", lambda L: L.tensor([1., 5.]).masked_fill(L.tensor([True, False]),
                                                                         L.tensor(2.5, dtype=L.float64))),
    ("masked_fill_int_float_value", lambda L: L.tensor([1, 5]).masked_fill(L.tensor([True, False]),
                                                                          L.tensor(2.5))),
    ("atan2_ints", lambda L: L.atan2(L.tensor([1, 2]), L.tensor([3, 4]))),
    ("atan2_i32_i64", lambda L: L.atan2(L.tensor([1, 2], dtype=L.int32), L.tensor([3, 4]))),
    ("atan2_bools", lambda L: L.atan2(L.tensor([True]), L.tensor([True]))),
    ("square_bool", lambda L: L.square(L.tensor([True, False]))),
    ("square_i32", lambda L: L.square(L.tensor([3], dtype=L.int32))),
    ("bool_pow_int", lambda L: L.tensor([True, False]) ** 2),
    ("div_trunc_int", lambda L: L.div(L.tensor([-7, 7, -8, 0, 5]), 2, rounding_mode="trunc")),
    ("div_floor_int", lambda L: L.div(L.tensor([-7, 7, -8, 0, 5]), 2, rounding_mode="floor")),
    ("div_trunc_int_negative_divisor", lambda L: L.div(L.tensor([-7, 7, 6]), L.tensor([-2, -2, -3]),
                                                       rounding_mode="trunc")),
    ("div_trunc_scalar_by_int", lambda L: L.div(7, L.tensor([-2, 2, 3]), rounding_mode="trunc")),
    ("div_trunc_large_int", lambda L: L.div(L.tensor([2 ** 62 + 1, -(2 ** 62) - 1]), 3,
                                            rounding_mode="trunc")),
    ("div_trunc_i32_i64", lambda L: L.div(L.tensor([-7], dtype=L.int32), L.tensor([2]), rounding_mode="trunc")),
    ("div_trunc_int_float_scalar", lambda L: L.div(L.tensor([-7, 7]), 2.0, rounding_mode="trunc")),
    ("div_floor_int_float_scalar", lambda L: L.div(L.tensor([-7, 7]), 2.0, rounding_mode="floor")),
    ("div_trunc_float", lambda L: L.div(L.tensor([-7., 7.]), 2, rounding_mode="trunc")),
    ("bool_and_int", lambda L: L.tensor([True, False]) & L.tensor([1, 3])),
    ("int_and_bool", lambda L: L.tensor([1, 3]) & L.tensor([True, False])),
    ("bool_or_int", lambda L: L.tensor([True, False]) | L.tensor([2, 3])),
    ("bool_xor_int", lambda L: L.tensor([True, False]) ^ L.tensor([1, 3])),
    ("bool_and_python_int", lambda L: L.tensor([True, False]) & 1),
    ("bool_and_python_bool", lambda L: L.tensor([True, False]) & True),
    ("bool_or_bool", lambda L: L.tensor([True, False]) | L.tensor([False, False])),
    ("int_and_python_bool", lambda L: L.tensor([1, 2]) & True),
    ("bool_lshift_int", lambda L: L.tensor([True, False]) << L.tensor([1, 3])),
    ("bitwise_and_bool_int", lambda L: L.bitwise_and(L.tensor([True, False]), L.tensor([1, 3]))),
    ("bitwise_xor_bools", lambda L: L.bitwise_xor(L.tensor([True, False]), L.tensor([True, True]))),
    ("logical_and_floats", lambda L: L.logical_and(L.tensor([1., 0., NAN]), L.tensor([2., 2., 1.]))),
    ("logical_or_ints", lambda L: L.logical_or(L.tensor([1, 0]), L.tensor([0, 0]))),
    ("logical_xor_int_float", lambda L: L.logical_xor(L.tensor([1, 0]), L.tensor([0., 1.]))),
    ("logical_and_bool_int", lambda L: L.logical_and(L.tensor([True, False]), L.tensor([1, 3]))),
    ("logical_not_floats", lambda L: L.logical_not(L.tensor([1., 0., NAN, -0.]))),
    ("logical_not_ints", lambda L: L.logical_not(L.tensor([1, 0, -3]))),
    ("logical_not_method", lambda L: L.tensor([2.5, 0.]).logical_not()),
]


@pytest.mark.parametrize("name,fn", PROMOTION, ids=[p[0] for p in PROMOTION])
def test_dtype_and_values_match_torch(be, name, fn):
    assert_same(fn(it), fn(torch), name, single_op=True)


def test_promotion_gradients_return_in_each_input_dtype(be):
    compare(be, lambda L, a, b: L.cat([a, L.tensor([2]), b], 0), F([1.5], "float32"), F([2.5], "float64"))
    compare(be, lambda L, x: L.where(L.tensor([True, False]), x, L.tensor([3, 4])), F([1.5, 2.5]))
    compare(be, lambda L, x, v: x.masked_fill(L.tensor([True, False]), v), F([1., 5.]), F(2.5, "float64"))


# ------------------------------------------------------------- 4. NaN and zero conventions

def test_relu_keeps_nan_and_negative_zero(be):
    compare(be, lambda L, x: L.relu(x), F([NAN, -1., 0., -0., 2.]), zero_sign=True)


def test_clamp_nan_bound_gives_nan(be):
    compare(be, lambda L, x: x.clamp(NAN, 3.), F([1., 2.]))
    compare(be, lambda L, x: x.clamp(0., NAN), F([1., 2.]))
    compare(be, lambda L, x: x.clamp(min=NAN), F([1., 2.]))
    assert_same(it.tensor([1, 2]).clamp(NAN), torch.tensor([1, 2]).clamp(NAN), single_op=True)


def test_maximum_minimum_nan_gradients(be):
    compare(be, lambda L, a, b: L.maximum(a, b), F([NAN, 1., 2.]), F([1., NAN, 2.]))
    compare(be, lambda L, a, b: L.minimum(a, b), F([NAN, 1., 2.]), F([1., NAN, 2.]))


ZERO_DIVISION = [
    ("floordiv_scalar", lambda L: L.tensor([7]) // 0),
    ("mod_scalar", lambda L: L.tensor([7]) % 0),
    ("mod_tensor", lambda L: L.tensor([7, 3]) % L.tensor([0, 2])),
    ("floordiv_tensor", lambda L: L.tensor([7, 3]) // L.tensor([0, 2])),
    ("rfloordiv", lambda L: 7 // L.tensor([0, 2])),
    ("rmod", lambda L: 7 % L.tensor([1, 0])),
    ("remainder_fn", lambda L: L.remainder(L.tensor([7]), L.tensor([0]))),
    ("floor_divide_fn", lambda L: L.floor_divide(L.tensor([7], dtype=L.int32), 0)),
    ("div_trunc", lambda L: L.div(L.tensor([7]), 0, rounding_mode="trunc")),
    ("div_floor", lambda L: L.div(L.tensor([7]), 0, rounding_mode="floor")),
    ("bool_divisor", lambda L: L.tensor([7]) // L.tensor([False])),
]


@pytest.mark.parametrize("name,fn", ZERO_DIVISION, ids=[z[0] for z in ZERO_DIVISION])
def test_integer_division_by_zero_raises(be, name, fn):
    e = assert_same_error(be, fn, also=ZeroDivisionError)
    assert isinstance(e, it.IntegerDivisionByZero)


def test_float_division_by_zero_is_not_an_error(be):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(it.tensor([7., -7., 0.]) // 0, torch.tensor([7., -7., 0.]) // 0, single_op=True)
        assert_same(it.tensor([5]) % it.tensor([0.]), torch.tensor([5]) % torch.tensor([0.]), single_op=True)


def test_integer_negative_power(be):
    for fn in (lambda L: L.tensor([2]) ** -1, lambda L: L.tensor([1, -1]) ** -1,
               lambda L: L.pow(L.tensor([2]), -2), lambda L: L.tensor([True]) ** -1):
        e = assert_same_error(be, fn, also=ValueError)
        assert "broadcast" not in str(e) and "negative" in str(e)
    # a tensor exponent: PyTorch's values (1 and -1 stay +-1, other bases give 0)
    cases = (lambda L: L.tensor([0, 1, -1, -1, 2, -2, 3]) ** L.tensor([-1, -1, -1, -2, -2, -1, 0]),
             lambda L: 2 ** L.tensor([-1, 0, 3]),
             lambda L: L.tensor([[2], [-1]]) ** L.tensor([-1, 2, -3]))
    for fn in cases:
        assert_same(fn(it), fn(torch), single_op=True)


# ------------------------------------------------------------- 5. 0-d and empty tensors

ZERO_D = [
    ("sum0", lambda L, x: x.sum(0)), ("sum_keepdim", lambda L, x: x.sum(0, keepdim=True)),
    ("mean-1", lambda L, x: x.mean(-1)), ("max0", lambda L, x: x.max(0)),
    ("min0_keepdim", lambda L, x: x.min(0, keepdim=True)), ("max_fn", lambda L, x: L.max(x, 0)),
    ("softmax0", lambda L, x: x.softmax(0)), ("log_softmax0", lambda L, x: x.log_softmax(0)),
    ("squeeze-1", lambda L, x: x.squeeze(-1) * 1), ("cumsum0", lambda L, x: x.cumsum(0)),
    ("cumsum-1", lambda L, x: L.cumsum(x, -1)), ("logsumexp0", lambda L, x: x.logsumexp(0)),
    ("amax0", lambda L, x: x.amax(0)), ("prod0", lambda L, x: x.prod(0)),
    ("var0_biased", lambda L, x: x.var(0, unbiased=False)), ("std0_biased", lambda L, x: x.std(0, unbiased=False)),
    ("unsqueeze0", lambda L, x: x.unsqueeze(0) * 1), ("flip0", lambda L, x: x.flip(0)),
    ("stack0d", lambda L, x: L.stack([x, x], 0)),
]


@pytest.mark.parametrize("name,fn", ZERO_D, ids=[z[0] for z in ZERO_D])
def test_0d_tensor_takes_a_dim(be, name, fn):
    compare(be, fn, F(2., "float64"))


def test_0d_without_gradient(be):
    for fn in (lambda L, x: x.argmax(0), lambda L, x: x.argmin(-1, keepdim=True),
               lambda L, x: L.argmax(x), lambda L, x: x.count_nonzero(0)):
        compare(be, fn, F(2.), grad=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # (both warn about the 0 degrees of freedom)
        compare(be, lambda L, x: x.var(0), F(2., "float64"), grad=False)
        compare(be, lambda L, x: x.std(0), F(2., "float64"), grad=False)
    assert_same_error(be, lambda L: L.tensor(2.).sum(1))
    assert_same_error(be, lambda L: L.tensor(2.).softmax(1))


def test_empty_tensors(be):
    for fn in (lambda L, x: x.reshape(0, 3).amax(dim=1), lambda L, x: x.reshape(0, 3).max(1),
               lambda L, x: x.reshape(0, 3).argmax(1), lambda L, x: x.reshape(3, 0).softmax(1),
               lambda L, x: x.reshape(3, 0).log_softmax(1), lambda L, x: x.reshape(3, 0).softmax(0),
               lambda L, x: x.reshape(3, 0).logsumexp(0), lambda L, x: x.reshape(0, 3).prod(0)):
        compare(be, fn, F([]), grad=False)
    compare(be, lambda L, x: x.reshape(3, 0).logsumexp(1), F([], "float64"))   # -inf, as PyTorch
    compare(be, lambda L, x: x.reshape(0, 3).logsumexp(0), F([], "float64"))
    compare(be, lambda L, x: x.reshape(3, 0).sum(1), F([], "float64"))
    for fn in (lambda L: L.zeros(0, 3).amax(0), lambda L: L.zeros(0, 3).max(0),
               lambda L: L.zeros(0, 3).argmax(0)):
        assert_same_error(be, fn)
    assert_same_error(be, lambda L: L.zeros(0, 3).amax(), also=ValueError)
    assert_same_error(be, lambda L: L.zeros(0, 3).max(), also=ValueError)
    assert_same_error(be, lambda L: L.zeros(0, 3).argmax())


def test_empty_dim_tuple(be):
    x = F([[1., 2., 3.], [4., 5., 6.]], "float64")
    for fn in (lambda L, x: L.sum(x, dim=()), lambda L, x: x.sum(()), lambda L, x: x.mean(dim=()),
               lambda L, x: L.amax(x, dim=()), lambda L, x: L.logsumexp(x, dim=(0, 1))):
        compare(be, fn, x)
    # (PyTorch's var/std reduce everything for dim=() but their backward does not: its
    # gradient is +-inf there. The values are compared; the gradient is checked by gradcheck.)
    for fn in (lambda L, x: x.var(dim=()), lambda L, x: x.std(())):
        compare(be, fn, x, grad=False)
    xs = it.tensor([[1., 2., 3.], [4., 5., 6.]], dtype=it.float64, requires_grad=True)
    assert it.autograd.gradcheck(lambda t: t.var(dim=()), [xs])
    compare(be, lambda L, x: L.count_nonzero(x, dim=()), x, grad=False)
    compare(be, lambda L, x: L.any(x > 2, dim=()), x, grad=False)   # PyTorch: reduces none here
    compare(be, lambda L, x: L.sum(x, axis=()), x)       # (axis: PyTorch's alias of dim)
    # the standard's axis=() reduces nothing
    t = it.tensor([[1., 2., 3.], [4., 5., 6.]])
    for f in (xp.sum, xp.prod, xp.mean, xp.max, xp.min, xp.std, xp.var, xp.any, xp.all):
        assert tuple(f(t, axis=()).shape) == (2, 3), f.__name__
    assert to_np(xp.sum(t, axis=())).tolist() == to_np(t).tolist()


def test_squeeze_dims(be):
    compare(be, lambda L, x: x.squeeze((0, 1)) * 1, F(np.zeros((1, 3, 1)).tolist()))
    compare(be, lambda L, x: x.squeeze(0, 2) * 1, F(np.zeros((1, 3, 1)).tolist()))
    compare(be, lambda L, x: L.squeeze(x, dim=1) * 1, F(np.zeros((1, 3, 1)).tolist()))
    compare(be, lambda L, x: L.squeeze(x, 1) * 1, F(np.zeros((1, 3, 1)).tolist()))  # no-op
    compare(be, lambda L, x: L.squeeze(x, axis=(0, 1)) * 1, F(np.zeros((1, 3, 1)).tolist()))
    with pytest.raises(ValueError, match="not 1"):
        xp.squeeze(it.zeros(1, 3, 1), axis=1)           # the standard: only size-1 axes
    with pytest.raises(ValueError, match="not 1"):
        xp.squeeze(it.zeros(1, 3, 1), 1)


# ------------------------------------------------------------- 6. what strict refused

BOOLS = [
    ("sum", lambda L, b: b.sum()), ("sum_dim", lambda L, b: L.sum(b, 0)),
    ("count_nonzero", lambda L, b: b.count_nonzero()), ("prod", lambda L, b: b.prod()),
    ("cumsum", lambda L, b: b.cumsum(0)), ("add", lambda L, b: b + b.flip(0)),
    ("add_true", lambda L, b: b + True), ("add_int", lambda L, b: b + 1), ("mul", lambda L, b: b * b.flip(0)),
    ("lt", lambda L, b: b < b.flip(0)), ("le", lambda L, b: b <= b.flip(0)),
    ("gt", lambda L, b: b > b.flip(0)), ("ge", lambda L, b: b >= True),
    ("lt_int", lambda L, b: b < 1), ("gt_float", lambda L, b: b > 0.5),
    ("maximum", lambda L, b: L.maximum(b, b.flip(0))), ("minimum", lambda L, b: L.minimum(b, b.flip(0))),
    ("maximum_int", lambda L, b: L.maximum(b, L.tensor([0, 3]))), ("amax", lambda L, b: b.amax()),
    ("max_dim", lambda L, b: b.max(0).values), ("max_dim_index", lambda L, b: L.max(b, 0).indices),
    ("isnan", lambda L, b: L.isnan(b)), ("isinf", lambda L, b: L.isinf(b)),
    ("isfinite", lambda L, b: L.isfinite(b)), ("square", lambda L, b: L.square(b)),
    ("sign", lambda L, b: L.sign(b)), ("signbit", lambda L, b: L.signbit(b)), ("invert", lambda L, b: ~b),
    ("eq", lambda L, b: b == b.flip(0)), ("where", lambda L, b: L.where(b, b, False)),
]


@pytest.mark.parametrize("name,fn", BOOLS, ids=[b[0] for b in BOOLS])
def test_bools_as_torch(be, name, fn):
    assert_same(fn(it, it.tensor([True, False])), fn(torch, torch.tensor([True, False])), name, single_op=True)


INTS = [
    ("isnan", lambda L, i: L.isnan(i)), ("isinf", lambda L, i: L.isinf(i)), ("isfinite", lambda L, i: L.isfinite(i)),
    ("logical_not", lambda L, i: L.logical_not(i)), ("signbit", lambda L, i: L.signbit(i)),
    ("square", lambda L, i: L.square(i)), ("floor", lambda L, i: L.floor(i)), ("relu", lambda L, i: L.relu(i)),
]


@pytest.mark.parametrize("name,fn", INTS, ids=[n[0] for n in INTS])
def test_integer_tests_as_torch(be, name, fn):
    assert_same(fn(it, it.tensor([-1, 0, 3])), fn(torch, torch.tensor([-1, 0, 3])), name, single_op=True)


BOOL_ERRORS = [
    ("sub", lambda L: L.tensor([True]) - L.tensor([False])), ("sub_true", lambda L: L.tensor([True]) - True),
    ("sub_int", lambda L: L.tensor([True]) - 1), ("rsub", lambda L: 1 - L.tensor([True])),
    ("int_sub_bool", lambda L: L.tensor([1]) - L.tensor([True])), ("float_sub_true", lambda L: L.tensor([1.]) - True),
    ("neg", lambda L: -L.tensor([True])), ("pos", lambda L: +L.tensor([True])),
    ("abs", lambda L: L.abs(L.tensor([True]))), ("relu", lambda L: L.relu(L.tensor([True]))),
    ("floor", lambda L: L.floor(L.tensor([True]))), ("round", lambda L: L.round(L.tensor([True]))),
    ("floordiv", lambda L: L.tensor([True]) // L.tensor([True])), ("mod", lambda L: L.tensor([True]) % L.tensor([True])),
    ("lshift", lambda L: L.tensor([True]) << L.tensor([True])), ("and_float", lambda L: L.tensor([True]) & L.tensor([1.])),
    ("argmax", lambda L: L.tensor([True, False]).argmax()),
    ("clamp_bool_bounds", lambda L: L.tensor([True, False]).clamp(False, True)),
    ("hypot_ints", lambda L: L.hypot(L.tensor([3]), L.tensor([4]))),
    ("logaddexp_ints", lambda L: L.logaddexp(L.tensor([3]), L.tensor([4]))),
]


@pytest.mark.parametrize("name,fn", BOOL_ERRORS, ids=[b[0] for b in BOOL_ERRORS])
def test_dtype_errors_as_torch(be, name, fn):
    assert_same_error(be, fn, also=TypeError)


def test_negative_bool_message(be):
    with pytest.raises(RuntimeError, match="logical_not") as e:
        -it.tensor([True, False])
    assert "numpy" not in str(e.value).lower()


def test_logical_not_and_isnan_of_floats(be):
    assert_same(it.logical_not(it.tensor([1., 0.])), torch.logical_not(torch.tensor([1., 0.])), single_op=True)
    assert_same(it.isnan(it.tensor([1., NAN])), torch.isnan(torch.tensor([1., NAN])), single_op=True)


def test_inplace_add_of_python_bool(be):
    t = it.tensor([1, 2])
    t += True
    u = torch.tensor([1, 2])
    u += True
    assert_same(t, u, single_op=True)


def test_mask_indexing_double_backward_of_0d(be):
    # the brief's example: the gradient of a linear function does not depend on x, so it
    # does not require grad and backward() through it raises -- exactly as in PyTorch
    def first(L):
        x = L.tensor(2., dtype=L.float64, requires_grad=True)
        g, = L.autograd.grad(x[x > 0].sum(), x, create_graph=True)
        return x, g
    (_, gi), (_, gt) = first(it), first(torch)
    assert_same(gi, gt, single_op=True)
    assert not gi.requires_grad and not gt.requires_grad
    assert_same_error(be, lambda L: first(L)[1].backward())
    # through a nonlinear function the second derivative exists and matches
    for v in (2., -2.):
        def second(L):
            x = L.tensor(v, dtype=L.float64, requires_grad=True)
            g, = L.autograd.grad((x[x > 0] ** 3).sum(), x, create_graph=True)
            g.backward()
            return g, x.grad
        for a, b in zip(second(it), second(torch)):
            assert_same(a, b, single_op=True)


# ------------------------------------------------------------- 7. error classes and texts

SHAPE_ERRORS = [
    ("add", lambda L: L.zeros(2) + L.zeros(3)), ("mul_scalar_shape", lambda L: L.zeros(2, 3) * L.zeros(2)),
    ("cat", lambda L: L.cat([L.zeros(2, 2), L.zeros(2, 3)])), ("cat_0d", lambda L: L.cat([L.tensor(1.), L.tensor(2.)])),
    ("stack", lambda L: L.stack([L.zeros(2, 2), L.zeros(2, 3)])), ("reshape", lambda L: L.zeros(2).reshape(3)),
    ("view", lambda L: L.zeros(2, 3).t().view(6)), ("expand", lambda L: L.zeros(2).expand(3)),
    ("broadcast_to", lambda L: L.broadcast_to(L.zeros(2), (3,))), ("mm", lambda L: L.zeros(2, 2).mm(L.zeros(3, 2))),
    ("matmul_0d", lambda L: L.matmul(L.zeros(()), L.zeros(2))), ("matmul_batch", lambda L: L.zeros(2, 1, 2) @ L.zeros(3, 2, 1)),
    ("where", lambda L: L.where(L.zeros(2, dtype=L.bool), L.zeros(3), 1.)),
    ("split_sizes", lambda L: L.zeros(2).split([1, 2])), ("t_3d", lambda L: L.zeros(1, 1, 1).t()),
]


@pytest.mark.parametrize("name,fn", SHAPE_ERRORS, ids=[s[0] for s in SHAPE_ERRORS])
def test_shape_errors_are_runtime_and_value_errors(be, name, fn):
    e = assert_same_error(be, fn, also=ValueError)
    assert isinstance(e, it.ShapeError)


ARG_ERRORS = [
    ("chunk0", lambda L: L.zeros(2).chunk(0)), ("permute_dup", lambda L: L.zeros(2, 2).permute(0, 0)),
    ("sum_dup", lambda L: L.zeros(1, 2).sum((0, 0))), ("flatten", lambda L: L.zeros(1, 2).flatten(1, 0)),
    ("clamp_none", lambda L: L.zeros(2).clamp()), ("split_negative", lambda L: L.zeros(2).split(-1)),
]


@pytest.mark.parametrize("name,fn", ARG_ERRORS, ids=[a[0] for a in ARG_ERRORS])
def test_argument_errors_are_runtime_and_value_errors(be, name, fn):
    assert_same_error(be, fn, also=ValueError)


def test_dtype_errors_are_runtime_and_type_errors(be):
    # (f32 @ f64 is not among them: PyTorch refuses it, the standard promotes, and so does
    # interop; tests/test_standard_nonelementwise.py::test_matmul_promotes_mixed_dtypes)
    assert_same_error(be, lambda L: L.zeros(2, dtype=L.int64).mean(), also=TypeError)
    assert_same_error(be, lambda L: ~L.zeros(2), also=TypeError)
    assert_same_error(be, lambda L: L.zeros(2).masked_fill(L.ones(2, dtype=L.bool), 1j), also=TypeError)


BAD_DIMS = [
    ("sum", lambda L, x: x.sum(5)), ("sum_tuple", lambda L, x: L.sum(x, (0, 5))), ("max", lambda L, x: L.max(x, 5)),
    ("amax", lambda L, x: L.amax(x, 5)), ("argmax", lambda L, x: L.argmax(x, 5)), ("softmax", lambda L, x: L.softmax(x, 5)),
    ("log_softmax", lambda L, x: x.log_softmax(-3)), ("cumsum", lambda L, x: L.cumsum(x, 5)),
    ("logsumexp", lambda L, x: L.logsumexp(x, 5)), ("var", lambda L, x: L.var(x, 5)), ("flip", lambda L, x: L.flip(x, [5])),
    ("cat", lambda L, x: L.cat([x, x], 5)), ("stack", lambda L, x: L.stack([x, x], 5)), ("squeeze", lambda L, x: x.squeeze(5)),
    ("unsqueeze", lambda L, x: x.unsqueeze(5)), ("transpose", lambda L, x: x.transpose(0, 5)),
    ("movedim", lambda L, x: L.movedim(x, 5, 0)), ("unbind", lambda L, x: L.unbind(x, 5)),
    ("split", lambda L, x: L.split(x, 1, 5)), ("all", lambda L, x: L.all(x, 5)), ("count_nonzero", lambda L, x: L.count_nonzero(x, 5)),
    ("gather", lambda L, x: L.gather(x, 5, L.zeros(2, 3, dtype=L.int64))),
    ("index_select", lambda L, x: L.index_select(x, 5, L.zeros(1, dtype=L.int64))),
]


@pytest.mark.parametrize("name,fn", BAD_DIMS, ids=[b[0] for b in BAD_DIMS])
def test_bad_dim_is_an_index_error_in_our_words(be, name, fn):
    e = assert_same_error(be, fn, In(np.zeros((2, 3)).tolist()))
    assert type(e) is IndexError and "out of range" in str(e)


STANDARD_AXIS = [("squeeze", lambda x: xp.squeeze(x, axis=5)), ("expand_dims", lambda x: xp.expand_dims(x, axis=5)),
                 ("cumulative_sum", lambda x: xp.cumulative_sum(x, axis=5)), ("take", lambda x: xp.take(x, it.tensor([0]), axis=5)),
                 ("concat", lambda x: xp.concat([x], axis=5)), ("flip", lambda x: xp.flip(x, axis=(0, 5))),
                 ("take_along_axis", lambda x: xp.take_along_axis(x, it.zeros(2, 3, dtype=it.int64), axis=5))]


@pytest.mark.parametrize("name,fn", STANDARD_AXIS, ids=[s[0] for s in STANDARD_AXIS])
def test_bad_axis_never_surfaces_the_backends_error(be, name, fn):
    with pytest.raises(IndexError) as e:
        fn(it.zeros(2, 3))
    no_backend_words(e.value)


def test_backend_text_does_not_leak(be):
    calls = [lambda: -it.tensor([True]), lambda: it.tensor([True]) - it.tensor([True]),
             lambda: it.zeros(2) + it.zeros(3), lambda: it.tensor([2]) ** -1,
             lambda: it.zeros(2) & it.zeros(2), lambda: ~it.zeros(2), lambda: it.signbit(it.tensor([1j])),
             lambda: it.zeros(2, 2) @ it.zeros(3, 2), lambda: it.tensor([1]) + it.tensor([1], dtype=it.uint64),
             lambda: it.where(it.tensor([True]), it.zeros(2), it.zeros(3))]
    for call in calls:
        with pytest.raises(Exception) as e:
            call()
        no_backend_words(e.value)


def test_positional_axis_where_only_a_keyword_is_accepted(be):
    with pytest.raises(TypeError, match="keyword-only.*axis=0"):
        it.cumulative_sum(it.zeros(2, 3), 0)
    for call in (lambda x: xp.sum(x, 0), lambda x: xp.sort(x, 0), lambda x: xp.flip(x, 0),
                 lambda x: xp.squeeze(x, 0, 1), lambda x: xp.std(x, 0), lambda x: xp.max(x, 0)):
        with pytest.raises(TypeError):
            call(it.zeros(1, 3))


# ------------------------------------------------------------- 8. PyTorch's positional dim

POSITIONAL = [
    ("cat", lambda L, x: L.cat([x, x], 1)), ("cat_negative", lambda L, x: L.cat([x, x * 2], -1)),
    ("concat", lambda L, x: L.concat([x, x], 1)), ("stack", lambda L, x: L.stack([x, x], 2)),
    ("flip_list", lambda L, x: L.flip(x, [0])), ("flip_method", lambda L, x: x.flip(0)),
    ("flip_method_two", lambda L, x: x.flip(0, 1)), ("flip_method_tuple", lambda L, x: x.flip((1,))),
    ("softmax", lambda L, x: L.softmax(x, 1)), ("log_softmax", lambda L, x: L.log_softmax(x, 0)),
    ("cumsum", lambda L, x: L.cumsum(x, 1)), ("cumsum_method", lambda L, x: x.cumsum(0)),
    ("max", lambda L, x: L.max(x, 1)), ("min_keepdim", lambda L, x: L.min(x, 0, True)),
    ("sum", lambda L, x: L.sum(x, 1)), ("sum_keepdim", lambda L, x: L.sum(x, 1, True)),
    ("mean", lambda L, x: L.mean(x, 0)), ("prod", lambda L, x: L.prod(x, 1)),
    ("amax", lambda L, x: L.amax(x, 1)), ("logsumexp", lambda L, x: L.logsumexp(x, 1)),
    ("var", lambda L, x: L.var(x, 1, correction=0)), ("std_method", lambda L, x: x.std(1)),
    ("squeeze", lambda L, x: L.unsqueeze(x, 0).squeeze(0)), ("unsqueeze", lambda L, x: L.unsqueeze(x, 1)),
]


@pytest.mark.parametrize("name,fn", POSITIONAL, ids=[p[0] for p in POSITIONAL])
def test_positional_dim_as_torch(be, name, fn):
    compare(be, fn, F([[1., 3., 2.], [0.5, -1., 4.]], "float64"))


def test_positional_dim_without_gradient(be):
    for fn in (lambda L, x: L.argmax(x, 1), lambda L, x: L.argmin(x, 0, True), lambda L, x: L.any(x > 1, 1),
               lambda L, x: L.all(x > 0, 0), lambda L, x: L.count_nonzero(x, 1)):
        compare(be, fn, F([[1., 3., 2.], [0.5, -1., 4.]]), grad=False)


BOTH_SPELLINGS = [
    ("sum", lambda x: it.sum(x, axis=0, dim=0)), ("sum_positional", lambda x: it.sum(x, 0, axis=0)),
    ("mean", lambda x: it.mean(x, axis=0, dim=0)), ("prod", lambda x: it.prod(x, axis=0, dim=0)),
    ("max", lambda x: it.max(x, axis=0, dim=0)), ("min", lambda x: it.min(x, 1, axis=0)),
    ("amax", lambda x: it.amax(x, axis=0, dim=0)), ("amin", lambda x: it.amin(x, axis=0, dim=0)),
    ("var", lambda x: it.var(x, axis=0, dim=0)), ("std", lambda x: it.std(x, axis=0, dim=0)),
    ("logsumexp", lambda x: it.logsumexp(x, axis=0, dim=0)), ("argmax", lambda x: it.argmax(x, axis=0, dim=0)),
    ("argmin", lambda x: it.argmin(x, axis=0, dim=0)), ("all", lambda x: it.all(x, axis=0, dim=0)),
    ("any", lambda x: it.any(x, axis=0, dim=0)), ("count_nonzero", lambda x: it.count_nonzero(x, axis=0, dim=0)),
    ("cumulative_sum", lambda x: it.cumulative_sum(x, axis=0, dim=0)),
    ("softmax", lambda x: it.softmax(x, 0, axis=0)), ("log_softmax", lambda x: it.log_softmax(x, dim=0, axis=0)),
    ("concat", lambda x: it.concat([x], 0, axis=0)), ("stack", lambda x: it.stack([x], dim=0, axis=0)),
    ("squeeze", lambda x: it.squeeze(x, axis=0, dim=0)),
    ("method_sum", lambda x: x.sum(0, axis=0)), ("method_mean", lambda x: x.mean(dim=0, axis=0)),
]


@pytest.mark.parametrize("name,fn", BOTH_SPELLINGS, ids=[b[0] for b in BOTH_SPELLINGS])
def test_both_spellings_is_a_type_error_naming_both(be, name, fn):
    with pytest.raises(TypeError) as e:
        fn(it.ones(1, 3))
    assert "axis=" in str(e.value) and "dim=" in str(e.value)


def test_negative_indices_where_pytorch_refuses_them(be):
    x = it.tensor([[1.0, 2.0, 3.0]])
    neg = it.tensor([[-1]])
    for f in (lambda: x.gather(1, neg), lambda: it.zeros(1, 3).scatter_add(1, neg, x[:, :1]),
              lambda: it.zeros(3).index_add(0, it.tensor([-1]), it.ones(1)),
              lambda: x.index_select(1, it.tensor([-1])), lambda: it.zeros(1, 3).scatter(1, neg, 5.0),
              lambda: x.gather(1, it.tensor([[3]]))):
        with pytest.raises(IndexError, match="out of bounds"):
            f()
    assert it.take(x, it.tensor([-1])).tolist() == [3.0]       # take counts from the end, as torch
    assert torch.take(torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([-1])).tolist() == [3.0]


@pytest.mark.parametrize("dtype", ["uint8", "int16", "int32", "int64"])
def test_every_integer_index_dtype_indexes_alike(be, dtype):
    """The standard allows any integer dtype for indices; torch's namespace takes only int64
    in some ops and reads uint8 as a boolean mask (a silent wrong result): interop indexes
    with int64 on every backend."""
    x = it.arange(6.0).reshape(2, 3)
    i = it.asarray([[0], [1]], dtype=getattr(it, dtype))
    assert it.gather(x, 1, i).tolist() == [[0.0], [4.0]]
    assert it.take_along_axis(x, i, axis=1).tolist() == [[0.0], [4.0]]
    assert it.take(x.flatten(), i.flatten()).tolist() == [0.0, 1.0]
    assert it.index_select(x, 1, i.flatten()).tolist() == [[0.0, 1.0], [3.0, 4.0]]
    assert x[i.flatten()].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert it.scatter_add(x, 1, i, it.ones(2, 1)).tolist() == [[1.0, 1.0, 2.0],
                                                               [3.0, 5.0, 5.0]]
