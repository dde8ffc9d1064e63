"""The kink table: gradients where an op's convention decides the answer (ties, bounds,
zeros, NaNs and infinities), each checked against PyTorch on every backend, in float64.
Values and gradients must match, NaN positions and infinities included.

A row is ``(name, fn(L, *inputs), inputs)``: ``L`` is ``interop`` or ``torch``; float
inputs require grad; the gradient is that of ``out.sum()`` (every upstream gradient 1).
"""

import pytest

from torch_compare import In, compare, NAN, INF

# inf and NaN arithmetic is the point here: NumPy's floating-point warnings are expected
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def F(*data):
    return In(list(data), "float64")


def F2(rows):
    return In(rows, "float64")


def B(*data):
    return In(list(data), "bool")


ROWS = [
    # max / min along a dim: the gradient goes to the returned (first) index
    ("max_dim_ties", lambda L, x: L.max(x, 1).values, [F2([[1., 3., 3.], [2., 2., 1.], [5., 5., 5.]])]),
    ("max_dim_ties_keepdim", lambda L, x: L.max(x, 0, keepdim=True).values,
     [F2([[1., 3., 3.], [1., 3., 0.]])]),
    ("min_dim_ties", lambda L, x: L.min(x, 1).values, [F2([[3., 1., 1.], [0., 0., 0.]])]),
    ("max_dim_method_negative_dim", lambda L, x: x.max(-1)[0], [F2([[0., 0.], [-1., -1.]])]),
    ("max_dim_nan", lambda L, x: L.max(x, 1).values, [F2([[1., NAN, 3.], [NAN, NAN, 0.]])]),
    ("min_dim_nan", lambda L, x: L.min(x, 1).values, [F2([[1., NAN, -3.]])]),
    # max / min over everything: the maxima share the gradient (the NaNs, if any)
    ("max_all_ties", lambda L, x: x.max(), [F2([[1., 3., 3.], [3., 0., 1.]])]),
    ("min_all_ties", lambda L, x: L.min(x), [F(1., 1., 3.)]),
    ("max_all_nan", lambda L, x: x.max(), [F(1., NAN, 3., NAN)]),
    # amax / amin: ties share the gradient evenly, over one dim or several
    ("amax_ties_dim", lambda L, x: L.amax(x, dim=1), [F2([[1., 3., 3.], [2., 2., 2.]])]),
    ("amax_ties_all", lambda L, x: L.amax(x, dim=(0, 1)), [F2([[1., 3.], [3., 3.]])]),
    ("amin_ties_dim0", lambda L, x: L.amin(x, dim=0, keepdim=True), [F2([[1., 3.], [1., 2.]])]),
    ("amax_nan", lambda L, x: L.amax(x, dim=1), [F2([[1., NAN, 3.], [1., 2., 3.]])]),
    # maximum / minimum: ties split, NaN gives both operands the full gradient
    ("maximum_ties", lambda L, a, b: L.maximum(a, b), [F(1., 2., 3.), F(1., 0., 4.)]),
    ("minimum_ties", lambda L, a, b: L.minimum(a, b), [F(1., 2., 3.), F(1., 0., 4.)]),
    ("maximum_nan", lambda L, a, b: L.maximum(a, b), [F(NAN, 1., NAN), F(1., NAN, NAN)]),
    ("minimum_nan", lambda L, a, b: L.minimum(a, b), [F(NAN, 1., 2.), F(1., NAN, 2.)]),
    # clamp exactly at the bounds
    ("clamp_at_bounds", lambda L, x: L.clamp(x, 0., 1.), [F(-1., 0., 0.5, 1., 2.)]),
    ("clamp_min_at_bound", lambda L, x: L.clamp(x, min=0.), [F(-1., 0., 1.)]),
    ("clamp_max_at_bound", lambda L, x: L.clamp(x, max=1.), [F(0., 1., 2.)]),
    ("clamp_min_eq_max", lambda L, x: L.clamp(x, 1., 1.), [F(0., 1., 2.)]),
    ("clamp_min_gt_max", lambda L, x: L.clamp(x, 2., 1.), [F(0., 1.5, 3.)]),
    ("clamp_nan_input", lambda L, x: L.clamp(x, 0., 1.), [F(NAN, 0.5)]),
    ("clamp_nan_bound", lambda L, x: L.clamp(x, NAN, 1.), [F(0., 0.5, 2.)]),
    ("clamp_tensor_bounds_at_ties", lambda L, x, lo, hi: L.clamp(x, lo, hi),
     [F(0., 1., 0.5, 1., 2.), F(0., 0., 0., 1., 2.), F(1., 1., 1., 1., 1.)]),
    ("clamp_tensor_min_at_tie", lambda L, x, lo: L.clamp(x, min=lo), [F(0., 1., NAN), F(0., 0., 0.)]),
    ("clamp_tensor_nan_bound", lambda L, x, lo, hi: L.clamp(x, lo, hi),
     [F(1., 2., 0.), F(NAN, 0., 1.), F(5., NAN, 0.)]),
    # relu, abs, sign at 0 and -0.0
    ("relu_zero", lambda L, x: L.relu(x), [F(0., -0., -1., 1., NAN)]),
    ("abs_zero", lambda L, x: L.abs(x), [F(0., -0., -1., 1.)]),
    ("sign_zero", lambda L, x: L.sign(x), [F(0., -0., -2., 2.)]),
    # pow at 0
    ("pow_0_0_tensors", lambda L, a, b: a ** b, [F(0., 0., 2.), F(0., 1., 0.)]),
    ("pow_x_0_scalar", lambda L, x: x ** 0, [F(0., -0., 2.)]),
    ("pow_x_0_float_scalar", lambda L, x: x ** 0.0, [F(0., 2.)]),
    ("pow_0_half", lambda L, x: x ** 0.5, [F(0., 4.)]),       # (-0.0 ** 0.5: see the report)
    ("pow_0_1", lambda L, x: x ** 1, [F(0., -0., 3.)]),
    ("pow_0_2", lambda L, x: x ** 2, [F(0., -0., 3.)]),
    ("pow_0_minus1", lambda L, x: x ** -1, [F(0., -0., 2.)]),
    ("pow_0_p_tensor_exponent", lambda L, a, b: a ** b, [F(0., 0., 0., 0., 0.), F(0.5, 1., 2., -1., 0.)]),
    ("pow_zero_base_scalar", lambda L, b: 0.0 ** b, [F(0., 1., 2., -1., 0.5)]),
    ("pow_negative_base_tensor", lambda L, a, b: a ** b, [F(-2., -2.), F(2., 0.5)]),
    # sqrt at 0
    ("sqrt_zero", lambda L, x: L.sqrt(x), [F(0., 4.)]),
    # where: a NaN in the unselected branch does not reach the selected gradient
    ("where_nan_unselected", lambda L, c, a, b: L.where(c, a, b),
     [B(True, False, True), F(1., NAN, INF), F(NAN, 2., 3.)]),
    ("where_scalar_nan_branch", lambda L, c, a: L.where(c, a, NAN), [B(True, False), F(1., 2.)]),
    ("where_sqrt_of_negative", lambda L, x: L.where(x > 0, L.sqrt(x), x * 0), [F(-1., 4.)]),
    # logsumexp / softmax with infinite entries
    ("logsumexp_minus_inf", lambda L, x: L.logsumexp(x, 1),
     [F2([[-INF, 0.], [-INF, -INF], [INF, 0.], [NAN, 0.]])]),
    ("logsumexp_minus_inf_all", lambda L, x: L.logsumexp(x, (0, 1)), [F2([[-INF, 0.], [1., -INF]])]),
    ("softmax_minus_inf", lambda L, x: L.softmax(x, 1), [F2([[-INF, 0., 1.], [-INF, -INF, -INF]])]),
    ("log_softmax_minus_inf", lambda L, x: L.log_softmax(x, 1), [F2([[-INF, 0., 1.]])]),
    # std of a constant slice: 0, with gradient 0 (not sqrt's inf * 0 = NaN)
    ("std_constant", lambda L, x: x.std(1), [F2([[2., 2., 2.], [1., 2., 3.]])]),
    ("std_biased_single", lambda L, x: x.std(0, unbiased=False), [F2([[1., 2.]])]),
    # prod with zeros
    ("prod_one_zero", lambda L, x: L.prod(x), [F(2., 0., 3.)]),
    ("prod_two_zeros", lambda L, x: L.prod(x), [F(2., 0., 0.)]),
    ("prod_dim_zeros", lambda L, x: L.prod(x, 1), [F2([[2., 0., 3.], [0., 0., 1.], [1., 2., 3.]])]),
    ("prod_dim0_zeros", lambda L, x: L.prod(x, 0, keepdim=True), [F2([[2., 0.], [0., 0.], [1., 2.]])]),
]


@pytest.mark.parametrize("name,fn,inputs", ROWS, ids=[r[0] for r in ROWS])
def test_kink_matches_torch(be, name, fn, inputs):
    compare(be, fn, *inputs, zero_sign=True)


def test_kink_names_unique():
    assert len({r[0] for r in ROWS}) == len(ROWS)


def test_max_dim_nan_upstream_stays_at_the_index(be):
    # a NaN upstream gradient reaches the selected element only (torch: [0, nan, 0]);
    # amax spreads it over the slice, as torch's amax does
    compare(be, lambda L, x: L.max(x, 1).values, F2([[1., 3., 3.]]), upstream=[NAN])
    compare(be, lambda L, x: L.amax(x, 1), F2([[1., 3., 3.]]), upstream=[NAN])
    compare(be, lambda L, x: x.max(), F(1., 3., 3.), upstream=NAN)
