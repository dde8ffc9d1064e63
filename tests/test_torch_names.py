"""The PyTorch names ported code uses most, beyond what the op table checks
(tests/test_ops.py has their values and gradients): named tuples, index results,
views and copies, in-place forms, sampling, dtype objects and the default dtype,
errors. Every test runs on every backend and, where PyTorch has the function, compares
with it."""

import importlib.util
import warnings

import numpy as np
import pytest

import interop as it

xp = it.array_api      # the standard's namespace (the top-level one is PyTorch's)
from helpers import to_np, from_np

torch = pytest.importorskip("torch")


def _t(a, **kw):
    return torch.tensor(np.asarray(a), **kw)


# ------------------------------------------------------------------ sort / argsort / topk

TIES = np.array([[1., 3, 3, 2, 3, 1], [0, -1, 5, 5, -1, 0]])
LONG_TIES = np.array([[5., 5, 5, 1, 5, 5, 5, 5, 5, 5, 2, 5, 5, 5, 5, 5, 5, 5]])


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("data", [TIES, LONG_TIES], ids=["short", "long"])
def test_sort_method_named_tuple_matches_torch_stable(be, data, descending):
    x = from_np(data)
    out = x.sort(1, descending)
    ref = _t(data).sort(dim=1, descending=descending, stable=True)
    assert type(out).__name__ == "sort" and out._fields == ("values", "indices")
    values, indices = out                           # unpacks as a pair
    np.testing.assert_array_equal(to_np(values), ref.values.numpy())
    np.testing.assert_array_equal(to_np(indices), ref.indices.numpy())
    assert indices.dtype is it.int64 and not indices.requires_grad
    # stable=False (PyTorch's default) gives the stable order too: a valid unstable result
    np.testing.assert_array_equal(to_np(x.sort(dim=1, descending=descending, stable=False).indices),
                                  ref.indices.numpy())


def test_sort_is_torchs_and_the_standard_namespace_gives_values(be):
    x = from_np(TIES)
    v = xp.sort(x)                                   # the standard: values only
    assert isinstance(v, it.Tensor)
    np.testing.assert_array_equal(to_np(v), np.sort(TIES, axis=-1))
    np.testing.assert_array_equal(to_np(xp.sort(x, axis=0, descending=True)),
                                  -np.sort(-TIES, axis=0))
    for out in (it.sort(x), it.sort(x, 1), it.sort(x, dim=1, descending=True),
                it.sort(x, axis=0)):                 # PyTorch's: (values, indices)
        assert type(out).__name__ == "sort"
    ref = torch.sort(_t(TIES), dim=1, descending=True, stable=True)
    np.testing.assert_array_equal(to_np(it.sort(x, 1, True).indices), ref.indices.numpy())
    values, indices = it.sort(x)                     # v, i = torch.sort(x)
    ref = torch.sort(_t(TIES), stable=True)
    np.testing.assert_array_equal(to_np(indices), ref.indices.numpy())
    with pytest.raises(TypeError, match="axis="):
        it.sort(x, dim=0, axis=1)
    with pytest.raises(TypeError):
        xp.sort(x, 1)                                # (keyword-only in the standard)


@pytest.mark.parametrize("descending", [False, True])
def test_argsort_matches_torch_stable(be, descending):
    for data in (TIES, LONG_TIES):
        ref = torch.argsort(_t(data), dim=-1, descending=descending, stable=True).numpy()
        np.testing.assert_array_equal(to_np(it.argsort(from_np(data), descending=descending)), ref)
        np.testing.assert_array_equal(to_np(from_np(data).argsort(-1, descending)), ref)
    ref0 = torch.argsort(_t(TIES), dim=0, stable=True).numpy()
    np.testing.assert_array_equal(to_np(it.argsort(from_np(TIES), axis=0)), ref0)
    np.testing.assert_array_equal(to_np(it.argsort(from_np(TIES), 0)), ref0)


def test_sort_gradient_goes_to_the_source_of_each_value(be):
    x = from_np(TIES, requires_grad=True)
    w = np.arange(12.).reshape(2, 6)
    (x.sort(1, descending=True).values * from_np(w)).sum().backward()
    tx = _t(TIES, requires_grad=True)
    (tx.sort(dim=1, descending=True, stable=True).values * _t(w)).sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), tx.grad.numpy())


def test_topk_named_tuple_values_and_tie_gradients_match_torch(be):
    """PyTorch's choice among tied values is unspecified (it is not the stable one): the
    values agree, and within each group of equal inputs the gradients are the same
    multiset (each kept element gets its slot's gradient, whole)."""
    rng = np.random.default_rng(0)
    for data in (TIES, LONG_TIES, rng.integers(0, 3, (3, 7)).astype(np.float64)):
        for k in range(1, data.shape[1] + 1):
            for largest in (True, False):
                x = from_np(data, requires_grad=True)
                out = it.topk(x, k, largest=largest)
                assert type(out).__name__ == "topk" and out._fields == ("values", "indices")
                tx = _t(data, requires_grad=True)
                ref = torch.topk(tx, k, largest=largest)
                np.testing.assert_array_equal(to_np(out.values), ref.values.detach().numpy())
                # our indices point at elements holding those values
                np.testing.assert_array_equal(np.take_along_axis(data, to_np(out.indices), 1),
                                              to_np(out.values))
                w = rng.permutation(data.shape[0] * k).reshape(data.shape[0], k) + 1.0
                (out.values * from_np(w)).sum().backward()
                (ref.values * _t(w)).sum().backward()
                g, tg = to_np(x.grad), tx.grad.numpy()
                for r in range(data.shape[0]):
                    for v in np.unique(data[r]):
                        sel = data[r] == v
                        np.testing.assert_array_equal(np.sort(g[r][sel]), np.sort(tg[r][sel]))


def test_topk_and_sort_edges(be):
    x0 = it.tensor(3.0, requires_grad=True)
    out = x0.topk(1)
    ref = torch.topk(torch.tensor(3.0), 1)
    assert tuple(out.values.shape) == tuple(ref.values.shape) == ()
    assert out.indices.item() == ref.indices.item() == 0
    s = x0.sort()
    assert s.values.item() == 3.0 and s.indices.item() == 0
    s.values.backward()
    assert x0.grad.item() == 1.0
    x = from_np(TIES)
    assert tuple(x.topk(0).values.shape) == (2, 0)
    with pytest.raises(IndexError, match="out of range"):
        x.topk(7)
    with pytest.raises(TypeError, match="complex"):
        it.tensor([1j, 2]).sort()
    np.testing.assert_array_equal(to_np(x.msort()), torch.msort(_t(TIES)).numpy())


def test_sort_puts_nan_last_like_torch(be):
    data = np.array([1.0, np.nan, -2.0, 0.5])
    for desc in (False, True):
        ref = torch.sort(_t(data), descending=desc, stable=True)
        out = from_np(data).sort(descending=desc)
        np.testing.assert_array_equal(to_np(out.values), ref.values.numpy())
        np.testing.assert_array_equal(to_np(out.indices), ref.indices.numpy())


# ------------------------------------------------------------------ nonzero

def test_nonzero_standard_tuple_and_torch_forms(be):
    data = np.array([[0, 1.5, 0], [2, 0, 3]])
    x = from_np(data)
    assert len(it.nonzero(x)) == 3                   # PyTorch's: one row per nonzero element
    std = xp.nonzero(x)
    assert isinstance(std, tuple) and len(std) == 2
    for got, ref in zip(std, torch.nonzero(_t(data), as_tuple=True)):
        np.testing.assert_array_equal(to_np(got), ref.numpy())
        assert got.dtype is it.int64
    ref2 = torch.nonzero(_t(data)).numpy()
    for got in (it.nonzero(x), it.nonzero(x, as_tuple=False), x.nonzero(), x.argwhere()):
        assert got.dtype is it.int64
        np.testing.assert_array_equal(to_np(got), ref2)
    for got, ref in zip(x.nonzero(as_tuple=True), _t(data).nonzero(as_tuple=True)):
        np.testing.assert_array_equal(to_np(got), ref.numpy())
    empty = it.zeros(2, 3).nonzero()
    assert tuple(empty.shape) == (0, 2)
    for v in (3.0, 0.0):
        assert tuple(it.tensor(v).nonzero().shape) == tuple(torch.tensor(v).nonzero().shape)
        assert [to_np(c).tolist() for c in it.tensor(v).nonzero(as_tuple=True)] == \
            [c.tolist() for c in torch.tensor(v).nonzero(as_tuple=True)]


# ------------------------------------------------------------------ repeat / tile / roll

def test_repeat_means_tiling_on_tensors_and_repeating_in_the_standard_namespace(be):
    data = np.array([[1., 2], [3, 4]])
    x = from_np(data)
    np.testing.assert_array_equal(to_np(x.repeat(2, 1, 3)), _t(data).repeat(2, 1, 3).numpy())
    np.testing.assert_array_equal(to_np(xp.repeat(x, 2, axis=1)),
                                  torch.repeat_interleave(_t(data), 2, dim=1).numpy())
    np.testing.assert_array_equal(to_np(xp.repeat(x, 2)), np.repeat(data, 2))
    with pytest.raises(AttributeError, match="repeat_interleave"):
        it.repeat(x, 2)                 # torch has no repeat function; the error says where to go
    np.testing.assert_array_equal(to_np(it.tile(x, (2,))), torch.tile(_t(data), (2,)).numpy())
    np.testing.assert_array_equal(to_np(it.tile(x, dims=(2, 1, 1))),
                                  torch.tile(_t(data), (2, 1, 1)).numpy())
    np.testing.assert_array_equal(to_np(xp.tile(x, (2, 1, 1))),
                                  torch.tile(_t(data), (2, 1, 1)).numpy())
    with pytest.raises(ValueError, match="can not be smaller"):
        x.repeat(2)
    t = x.repeat(1, 1)              # always a copy, as PyTorch's
    t[0, 0] = 100.0
    assert x[0, 0].item() == 1.0


def test_repeat_interleave_forms_and_errors(be):
    r = it.tensor([1, 0, 2])
    np.testing.assert_array_equal(to_np(it.repeat_interleave(r)),
                                  torch.repeat_interleave(torch.tensor([1, 0, 2])).numpy())
    x = from_np(np.array([[1., 2, 3], [4, 5, 6]]))
    np.testing.assert_array_equal(to_np(x.repeat_interleave(it.tensor([2]), dim=0)),
                                  _t(to_np(x)).repeat_interleave(torch.tensor([2]), dim=0).numpy())
    out = x.repeat_interleave(r, dim=1, output_size=3)
    assert tuple(out.shape) == (2, 3)
    with pytest.raises(ValueError, match="output_size"):
        x.repeat_interleave(r, dim=1, output_size=4)
    with pytest.raises(ValueError, match="same size"):
        x.repeat_interleave(it.tensor([1, 2]), dim=1)
    with pytest.raises(ValueError, match="negative"):
        x.repeat_interleave(it.tensor([1, -1, 2]), dim=1)
    with pytest.raises(TypeError, match="integer dtype"):
        x.repeat_interleave(it.tensor([1.0, 2.0, 1.0]), dim=1)


def test_roll_spellings_and_errors(be):
    data = np.arange(6.).reshape(2, 3)
    x = from_np(data)
    np.testing.assert_array_equal(to_np(it.roll(x, 1)), torch.roll(_t(data), 1).numpy())
    np.testing.assert_array_equal(to_np(it.roll(x, shifts=(1, -1), dims=(0, 1))),
                                  torch.roll(_t(data), (1, -1), (0, 1)).numpy())
    np.testing.assert_array_equal(to_np(xp.roll(x, shift=2, axis=1)), np.roll(data, 2, axis=1))
    with pytest.raises(ValueError, match="align"):
        it.roll(x, (1, 2), 0)
    with pytest.raises(TypeError):
        it.roll(x, 1, axis=1)           # (PyTorch's keyword is dims)
    with pytest.raises(TypeError):
        xp.roll(x, 1, dims=1)           # (the standard's is axis)


# ------------------------------------------------------------------ views and copies

def test_narrow_is_a_view_that_writes_through(be):
    data = np.arange(12.).reshape(3, 4)
    x = from_np(data)
    n = x.narrow(1, -3, 2)
    ref = _t(data).narrow(1, -3, 2)
    np.testing.assert_array_equal(to_np(n), ref.numpy())
    assert n._base is x
    n.fill_(-1.0)
    expected = data.copy()
    expected[:, 1:3] = -1
    np.testing.assert_array_equal(to_np(x), expected)
    with pytest.raises(IndexError, match="exceeds"):
        x.narrow(0, 2, 2)
    with pytest.raises(IndexError, match="0-dim"):
        it.tensor(1.0).narrow(0, 0, 1)


def test_unfold_view_when_windows_do_not_overlap_else_read_only_copy(be):
    data = np.arange(14.).reshape(2, 7)
    x = from_np(data)
    for size, step in [(2, 2), (2, 3), (3, 1), (3, 2), (1, 1), (7, 1)]:
        np.testing.assert_array_equal(to_np(x.unfold(1, size, step)),
                                      _t(data).unfold(1, size, step).numpy())
    v = x.unfold(1, 3, 3)                 # windows [0:3], [3:6]: a view
    v[0, 1, 0] = -5.0
    assert x[0, 3].item() == -5.0
    c = x.unfold(1, 3, 1)                 # overlapping: a copy that refuses writes
    with pytest.raises(RuntimeError, match="read-only"):
        c[0, 0, 0] = 1.0
    with pytest.raises(ValueError, match="maximum size"):
        x.unfold(1, 8, 1)
    with pytest.raises(ValueError, match="step"):
        x.unfold(1, 2, 0)
    assert to_np(it.tensor(5.0).unfold(0, 1, 1)).tolist() == \
        torch.tensor(5.0).unfold(0, 1, 1).tolist()


def test_diagonal_view_writes_through_and_copy_refuses_writes(be):
    data = np.arange(12.).reshape(3, 4)
    x = from_np(data)
    for off in (-3, -1, 0, 1, 2, 4):
        for d1, d2 in ((0, 1), (1, 0)):
            np.testing.assert_array_equal(to_np(x.diagonal(off, d1, d2)),
                                          _t(data).diagonal(off, d1, d2).numpy())
    d = x.diagonal(1)
    d.fill_(0.0)                          # a view, as in PyTorch: the zeros land in x
    ref = _t(data)
    ref.diagonal(1).fill_(0.0)
    np.testing.assert_array_equal(to_np(x), ref.numpy())
    x.T.diagonal().fill_(-1.0)            # a transposed layout is a view too
    ref.T.diagonal().fill_(-1.0)
    np.testing.assert_array_equal(to_np(x), ref.numpy())
    y = from_np(np.arange(24.).reshape(2, 3, 4))
    c = y.diagonal(0, 0, 2)               # dims 0 and 2 do not merge: a copy
    np.testing.assert_array_equal(to_np(c), torch.arange(24.).reshape(2, 3, 4)
                                  .diagonal(0, 0, 2).numpy())
    with pytest.raises(RuntimeError, match="read-only"):
        c.fill_(0.0)
    with pytest.raises(ValueError, match="identical"):
        x.diagonal(0, 1, -1)
    with pytest.raises(ValueError, match="at least 2"):
        it.ones(3).diagonal()


def test_diag_and_triangles(be):
    v = np.array([1., 2, 3])
    for k in (-2, 0, 1):
        np.testing.assert_array_equal(to_np(it.diag(from_np(v), k)), torch.diag(_t(v), k).numpy())
    m = np.arange(12.).reshape(3, 4)
    d = it.diag(from_np(m), 1)
    np.testing.assert_array_equal(to_np(d), torch.diag(_t(m), 1).numpy())
    d[0] = 100.0                          # diag of a matrix is a copy, as in PyTorch
    assert m[0, 1] == 1.0
    with pytest.raises(ValueError, match="1-d or 2-d"):
        it.diag(it.ones(2, 2, 2))
    for k in (-1, 0, 2):
        np.testing.assert_array_equal(to_np(from_np(m).triu(k)), torch.triu(_t(m), k).numpy())
        np.testing.assert_array_equal(to_np(it.tril(from_np(m), k)), torch.tril(_t(m), k).numpy())
        np.testing.assert_array_equal(to_np(xp.tril(from_np(m), k=k)), torch.tril(_t(m), k).numpy())
    with pytest.raises(ValueError, match="at least 2"):
        it.triu(it.ones(3))


# ------------------------------------------------------------------ einsum / bmm / dot

def test_einsum_result_is_fresh_memory_and_errors_name_the_problem(be):
    data = np.arange(6.).reshape(2, 3)
    x = from_np(data)
    for eq in ("ij->ij", "ij->ji", "ij"):
        out = it.einsum(eq, x)
        np.testing.assert_array_equal(to_np(out), torch.einsum(eq, _t(data)).numpy())
        out[0, 0] = 100.0
        assert x[0, 0].item() == 0.0
    sq = from_np(np.arange(9.).reshape(3, 3))
    out = it.einsum("ii->i", sq)
    out[0] = 7.0
    assert sq[0, 0].item() == 0.0
    with pytest.raises(ValueError, match="number of dimensions"):
        it.einsum("ijk", x)
    with pytest.raises(ValueError, match="operands"):
        it.einsum("ij,jk", x)
    with pytest.raises(ValueError, match="letters"):
        it.einsum("i1", x)
    with pytest.raises(ValueError, match="does not appear"):
        it.einsum("ij->k", x)
    with pytest.raises(ValueError, match="more than once"):
        it.einsum("ij->ii", x)
    with pytest.raises(ValueError, match="broadcast"):
        it.einsum("ij,ij->i", x, from_np(np.ones((2, 4))))
    with pytest.raises(ValueError, match="repeated"):
        it.einsum("ii", x)
    with pytest.raises(TypeError, match="one dtype"):
        it.einsum("ij,jk", x, it.ones(3, 2, dtype=it.float32))
    with pytest.raises(TypeError, match="sublist"):
        it.einsum(x, [0, 1])


def test_bmm_and_dot_check_their_shapes(be):
    with pytest.raises(ValueError, match="3-d"):
        it.bmm(it.ones(2, 3), it.ones(3, 2))
    with pytest.raises(ValueError, match="batch"):
        it.bmm(it.ones(2, 2, 3), it.ones(3, 3, 2))
    with pytest.raises(ValueError, match="1-d"):
        it.dot(it.ones(2, 2), it.ones(2))
    with pytest.raises(ValueError, match="inconsistent"):
        it.dot(it.ones(3), it.ones(4))
    assert it.dot(it.tensor([1., 2]), it.tensor([3., 4])).item() == \
        torch.dot(torch.tensor([1., 2]), torch.tensor([3., 4])).item()


# ------------------------------------------------------------------ norm

def test_norm_conventions_and_errors(be):
    data = np.array([[0., 0, 0], [3, -4, 0]])
    x = from_np(data, requires_grad=True)
    tx = _t(data, requires_grad=True)
    it.norm(x, dim=1).sum().backward()
    torch.norm(tx, dim=1).sum().backward()
    g = to_np(x.grad)
    assert not np.isnan(g).any()
    np.testing.assert_allclose(g, tx.grad.numpy())
    assert it.norm(x).dtype is it.float64
    d32 = data.astype(np.float32)
    np.testing.assert_allclose(to_np(it.norm(from_np(d32), dtype=it.float64)),
                               torch.norm(_t(d32), dtype=torch.float64).numpy())
    assert it.norm(from_np(d32), dtype=it.float64).dtype is it.float64
    with pytest.raises(TypeError, match="narrowing"):          # as PyTorch
        it.norm(from_np(data), dtype=it.float32)
    z = it.tensor([3 + 4j, 1j], requires_grad=True)
    tz = torch.tensor([3 + 4j, 1j], requires_grad=True)
    it.norm(z).backward()
    torch.norm(tz).backward()
    assert it.norm(z).dtype is it.float32
    np.testing.assert_allclose(to_np(z.grad), tz.grad.numpy(), rtol=1e-6)
    with pytest.raises(NotImplementedError, match="nuclear"):
        it.norm(x, "nuc")
    with pytest.raises(ValueError, match="at most 2 dims"):
        it.norm(it.ones(2, 2, 2), dim=(0, 1, 2))
    np.testing.assert_allclose(to_np(it.norm(it.ones(2, 2, 2), 2, dim=(0, 1, 2))),
                               torch.norm(torch.ones(2, 2, 2), 2, dim=(0, 1, 2)).numpy())
    with pytest.raises(TypeError, match="floating point"):
        it.norm(it.tensor([1, 2]))
    with pytest.raises(ValueError, match="'fro' and 'nuc'"):
        it.norm(x, "max")


# ------------------------------------------------------------------ cumprod

def test_cumprod_dtypes_like_torch(be):
    for dtype in ("int32", "int64", "float32"):
        data = np.array([1, 2, 3], dtype=dtype)
        assert str(it.cumprod(from_np(data), 0).dtype).split(".")[1] == \
            str(torch.cumprod(torch.from_numpy(data), 0).dtype).split(".")[1]
    out = it.cumprod(it.tensor([1., 2, 3]), 0, dtype=it.float64)
    assert out.dtype is it.float64 and to_np(out).tolist() == [1, 2, 6]


# ------------------------------------------------------------------ scatter

def test_scatter_reduce_and_errors(be):
    x = from_np(np.ones((2, 3)), requires_grad=True)
    idx = it.tensor([[0, 0, 2]])
    src = from_np(np.array([[2., 3, 4]]), requires_grad=True)
    with warnings.catch_warnings():          # (PyTorch deprecates reduce= in favour of
        warnings.simplefilter("ignore")      # scatter_reduce, which interop lacks)
        ref = torch.ones(2, 3).scatter(1, torch.tensor([[0, 0, 2]]), torch.tensor([[2., 3, 4]]),
                                       reduce="multiply")
    out = it.scatter(x, 1, idx, src, reduce="multiply")
    np.testing.assert_array_equal(to_np(out), ref.numpy())
    with pytest.raises(RuntimeError, match="not differentiable"):
        out.sum().backward()
    add = x.scatter(1, idx, src, reduce="add")
    add.sum().backward()                   # as scatter_add's: PyTorch has none here
    np.testing.assert_array_equal(to_np(src.grad), [[1., 1, 1]])
    with pytest.raises(TypeError, match="dtype"):
        it.scatter(x, 1, idx, it.ones(1, 3, dtype=it.float32))
    with pytest.raises(TypeError, match="src or value|not both"):
        it.scatter(x, 1, idx, src, value=1.0)
    with pytest.raises(TypeError, match="integer"):
        it.scatter(x, 1, it.tensor([[0.0]]), src)
    with pytest.raises(ValueError, match="reduce"):
        it.scatter(x, 1, idx, src, reduce="max")


def test_scatter_inplace_on_a_view_updates_the_base_graph(be):
    base = from_np(np.zeros((2, 3)), requires_grad=True)
    y = base * 1.0
    row = y[0]
    row.scatter_(0, it.tensor([2, 0]), from_np(np.array([5., 6.])))
    y.sum().backward()
    tb = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    ty = tb * 1.0
    ty[0].scatter_(0, torch.tensor([2, 0]), torch.tensor([5., 6.], dtype=torch.float64))
    ty.sum().backward()
    np.testing.assert_array_equal(to_np(y), ty.detach().numpy())
    np.testing.assert_array_equal(to_np(base.grad), tb.grad.numpy())


# ------------------------------------------------------------------ addcmul / addcdiv / lerp

def test_compound_inplace_update_like_an_optimizer_step(be):
    rng = np.random.default_rng(1)
    p, g, v = (rng.standard_normal((3, 2)) for _ in range(3))
    ours = [from_np(a.copy()) for a in (p, g, np.abs(v) + 0.5)]
    refs = [_t(a.copy()) for a in (p, g, np.abs(v) + 0.5)]
    for (q, grad, sq), t in ((ours, it), (refs, torch)):
        with (it.no_grad() if t is it else torch.no_grad()):
            sq.mul_(0.9).addcmul_(grad, grad, value=0.1)
            q.addcdiv_(grad, sq.sqrt(), value=-0.01)
            q.lerp_(grad, 0.25)
    for a, b in zip(ours, refs):
        np.testing.assert_allclose(to_np(a), b.numpy(), rtol=1e-12)


def test_compound_errors(be):
    with pytest.raises(TypeError, match="integer division"):
        it.addcdiv(it.ones(2), it.tensor([1, 2]), it.tensor([1, 2]))
    with pytest.raises(TypeError, match="one dtype"):
        it.lerp(it.ones(2), it.ones(2, dtype=it.float64), 0.5)
    with pytest.raises(TypeError, match="tensor1 must be a Tensor"):
        it.addcmul(it.ones(2), 2.0, it.ones(2))
    leaf = it.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.addcmul_(it.ones(2), it.ones(2))
    with pytest.raises(RuntimeError, match="shape"):
        it.ones(2).lerp_(it.ones(3, 2), 0.5)


# ------------------------------------------------------------------ sampling

def test_multinomial_is_reproducible_and_draws_the_right_distribution(be):
    p = it.tensor([0.1, 0.0, 0.6, 0.3], dtype=it.float64)
    a = it.multinomial(p, 50, True, generator=it.Generator().manual_seed(7))
    b = p.multinomial(50, replacement=True, generator=it.Generator().manual_seed(7))
    assert a.dtype is it.int64 and tuple(a.shape) == (50,)
    np.testing.assert_array_equal(to_np(a), to_np(b))
    n = 20000
    ours = np.bincount(to_np(it.multinomial(p, n, True, generator=it.Generator().manual_seed(1))),
                       minlength=4) / n
    ref = np.bincount(torch.multinomial(torch.tensor([0.1, 0.0, 0.6, 0.3]), n, True,
                                        generator=torch.Generator().manual_seed(1)).numpy(),
                      minlength=4) / n
    assert ours[1] == 0 and ref[1] == 0
    np.testing.assert_allclose(ours, [0.1, 0.0, 0.6, 0.3], atol=0.015)
    np.testing.assert_allclose(ours, ref, atol=0.02)


def test_multinomial_without_replacement_draws_in_order_of_remaining_weight(be):
    w = [1.0, 2.0, 0.0, 5.0]                    # unnormalized, one impossible category
    rows = it.tensor([w] * 4000, dtype=it.float64)
    draws = to_np(it.multinomial(rows, 2, generator=it.Generator().manual_seed(3)))
    assert draws.shape == (4000, 2)
    assert (draws[:, 0] != draws[:, 1]).all() and not (draws == 2).any()
    pw = np.array(w) / sum(w)
    pair = {(i, j): pw[i] * pw[j] / (1 - pw[i]) for i in (0, 1, 3) for j in (0, 1, 3) if i != j}
    tdraws = torch.multinomial(torch.tensor([w] * 4000), 2,
                               generator=torch.Generator().manual_seed(3)).numpy()
    for (i, j), prob in pair.items():
        ours = np.mean((draws[:, 0] == i) & (draws[:, 1] == j))
        theirs = np.mean((tdraws[:, 0] == i) & (tdraws[:, 1] == j))
        assert abs(ours - prob) < 0.03 and abs(ours - theirs) < 0.04, (i, j, ours, theirs, prob)
    full = to_np(it.multinomial(it.tensor([1.0, 1.0, 1.0]), 3))
    assert sorted(full.tolist()) == [0, 1, 2]


def test_multinomial_errors(be):
    with pytest.raises(ValueError, match="without replacement"):
        it.multinomial(it.tensor([1.0, 1.0]), 3)
    with pytest.raises(ValueError, match="not enough categories"):
        it.multinomial(it.tensor([1.0, 0.0, 0.0]), 2)
    with pytest.raises(ValueError, match="< 0"):
        it.multinomial(it.tensor([1.0, -1.0]), 1)
    with pytest.raises(ValueError, match="inf, nan"):
        it.multinomial(it.tensor([1.0, float("nan")]), 1)
    with pytest.raises(ValueError, match="sum to 0"):
        it.multinomial(it.tensor([[1.0, 1.0], [0.0, 0.0]]), 1, True)
    with pytest.raises(TypeError, match="floating point"):
        it.multinomial(it.tensor([1, 2]), 1)
    with pytest.raises(ValueError, match="1-d or 2-d"):
        it.multinomial(it.ones(2, 2, 2), 1)
    with pytest.raises(ValueError, match="num_samples <= 0"):
        it.multinomial(it.ones(2), 0)


def test_bernoulli_inplace(be):
    x = it.zeros(20000, dtype=it.float64)
    assert x.bernoulli_(0.3, generator=it.Generator().manual_seed(0)) is x
    vals = to_np(x)
    assert set(np.unique(vals)) <= {0.0, 1.0} and abs(vals.mean() - 0.3) < 0.015
    again = it.zeros(20000, dtype=it.float64).bernoulli_(0.3, generator=it.Generator().manual_seed(0))
    np.testing.assert_array_equal(to_np(again), vals)
    ints = it.zeros(3, 4, dtype=it.int64).bernoulli_(it.tensor([0.0, 1.0, 0.0, 1.0]))
    assert ints.dtype is it.int64
    np.testing.assert_array_equal(to_np(ints), np.tile([0, 1, 0, 1], (3, 1)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        it.zeros(2).bernoulli_(1.5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        it.zeros(2).bernoulli_(it.tensor([0.5, 2.0]))
    with pytest.raises(ValueError, match="broadcast"):
        it.zeros(2).bernoulli_(it.tensor([0.5, 0.5, 0.5]))
    # in a graph the old values get a zero gradient, as in PyTorch
    a = it.ones(3, requires_grad=True)
    y = a * 2.0
    y.bernoulli_(0.5)
    (y * 3.0).sum().backward()
    ta = torch.ones(3, requires_grad=True)
    ty = ta * 2.0
    ty.bernoulli_(0.5)
    (ty * 3.0).sum().backward()
    np.testing.assert_array_equal(to_np(a.grad), ta.grad.numpy())


# ------------------------------------------------------------------ from_numpy / meshgrid

@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "int32", "uint8", "bool",
                                   "complex64"])
def test_from_numpy_shares_memory(be, dtype):
    a = np.arange(6).reshape(2, 3).astype(dtype)
    t = it.from_numpy(a)
    ref = torch.from_numpy(a)
    assert t.backend is be and str(t.dtype) == "interop." + str(ref.dtype).split(".")[1]
    a[0, 0] = 1 if dtype != "bool" else True
    assert t[0, 0].item() == a[0, 0]
    t[1, 2] = False if dtype == "bool" else 0
    assert a[1, 2] == 0
    assert to_np(it.from_numpy(np.array(2.5))).tolist() == 2.5


def test_from_numpy_refuses_what_it_cannot_share(be):
    with pytest.raises(TypeError, match="expected np.ndarray"):
        it.from_numpy([1, 2])
    with pytest.raises(TypeError, match="expected np.ndarray"):
        it.from_numpy(np.float64(1.0))
    with pytest.raises(TypeError, match="object"):
        it.from_numpy(np.array([{}, 1], dtype=object))
    with pytest.raises(TypeError, match="byte order"):
        it.from_numpy(np.arange(3, dtype=">f8"))


def test_meshgrid_defaults_to_ij_and_the_standard_namespace_to_xy(be):
    a, b = np.array([1., 2]), np.array([3., 4, 5])
    grids = xp.meshgrid(from_np(a), from_np(b))      # the standard's default: 'xy'
    for g, r in zip(grids, torch.meshgrid(_t(a), _t(b), indexing="xy")):
        np.testing.assert_array_equal(to_np(g), r.numpy())
    for g, r in zip(it.meshgrid(from_np(a), from_np(b)), torch.meshgrid(_t(a), _t(b), indexing="ij")):
        np.testing.assert_array_equal(to_np(g), r.numpy())     # PyTorch's default: 'ij'

    for g, r in zip(it.meshgrid([from_np(a), from_np(b)], indexing="ij"),
                    torch.meshgrid([_t(a), _t(b)], indexing="ij")):
        np.testing.assert_array_equal(to_np(g), r.numpy())
    # the grids are broadcast views of the inputs: a constant written into one lands in the
    # input it aliases, as in PyTorch
    ta = _t(a)
    tgrid = torch.meshgrid(ta, _t(b), indexing="xy")[0]
    src = from_np(a)
    grid = it.meshgrid(src, from_np(b), indexing="xy")[0]
    grid[0, 1] = 10.0
    tgrid[0, 1] = 10.0
    np.testing.assert_array_equal(to_np(src), ta.numpy())
    np.testing.assert_array_equal(to_np(grid), tgrid.numpy())
    with pytest.raises(ValueError, match="indexing"):
        it.meshgrid(from_np(a), indexing="yx")
    with pytest.raises(ValueError, match="1-d"):
        it.meshgrid(it.ones(2, 2))
    with pytest.raises(TypeError, match="same dtype"):
        it.meshgrid(it.ones(2), it.ones(2, dtype=it.float64), indexing="ij")


# ------------------------------------------------------------------ dtypes

@pytest.fixture
def restore_default_dtype():
    yield
    it.set_default_dtype(it.float32)
    torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("name", ["float64", "float16"])
def test_set_default_dtype_reaches_every_backend(be, restore_default_dtype, name):
    dt = getattr(it, name)
    assert it.get_default_dtype() is it.float32
    it.set_default_dtype(dt)
    torch.set_default_dtype(getattr(torch, name))
    assert it.get_default_dtype() is dt
    for backend in ("cpu", "strict"):
        if dt not in it.get_backend(backend).to_native:
            with pytest.raises(TypeError, match=f"{name} is not available on backend"):
                it.zeros(2, device=backend)
            continue
        with it.use_backend(backend):
            cases = {"zeros": lambda m: m.zeros(2), "tensor": lambda m: m.tensor([1.5, 2]),
                     "arange": lambda m: m.arange(0, 1, 0.5), "linspace": lambda m: m.linspace(0, 1, 3),
                     "rand": lambda m: m.rand(2), "int_div": lambda m: m.tensor([1, 2]) / 2,
                     "int_times_float": lambda m: m.tensor([1, 2]) * 0.5,
                     "complex": lambda m: m.tensor([1j])}
            if dt is it.float16:
                del cases["complex"]       # PyTorch's complex32 (chalf) has no interop dtype
            for key, make in cases.items():
                t, r = make(it), make(torch)
                assert str(t.dtype).split(".")[1] == str(r.dtype).split(".")[1], key
    it.set_default_dtype(it.float32)
    assert it.zeros(1).dtype is it.float32 and it.get_backend("strict").default_float is it.float32


def test_set_default_dtype_refuses_non_floating(be):
    with pytest.raises(TypeError, match="floating point"):
        it.set_default_dtype(it.int64)
    with pytest.raises(TypeError, match="floating point"):
        it.set_default_dtype(it.complex64)
    assert it.get_default_dtype() is it.float32


_FLOATS = ["float16", "bfloat16", "float32", "float64", "complex64", "complex128"]
_INTS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]


@pytest.mark.parametrize("name", _FLOATS)
def test_finfo_matches_torch(be, name):
    ours, ref = it.finfo(getattr(it, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(ours, attr) == getattr(ref, attr), attr
    assert ours.dtype.name == ref.dtype and isinstance(ours.dtype, it.dtype)
    assert it.finfo(name).eps == ref.eps


@pytest.mark.parametrize("name", _INTS)
def test_iinfo_matches_torch(be, name):
    ours, ref = it.iinfo(getattr(it, name)), torch.iinfo(getattr(torch, name))
    assert (ours.bits, ours.max, ours.min, ours.dtype.name) == (ref.bits, ref.max, ref.min, ref.dtype)


def test_finfo_iinfo_of_tensors_default_and_errors(be, restore_default_dtype):
    assert it.finfo(it.ones(2)).dtype is it.float32
    assert it.finfo(it.ones(2, dtype=it.complex128)).dtype is it.float64
    assert it.iinfo(it.tensor([1, 2])).max == 2 ** 63 - 1
    assert it.finfo().eps == torch.finfo().eps
    it.set_default_dtype(it.float64)
    assert it.finfo().dtype is it.float64
    with pytest.raises(TypeError, match="iinfo"):
        it.finfo(it.int32)
    with pytest.raises(TypeError, match="finfo"):
        it.iinfo(it.float32)
    with pytest.raises(TypeError, match="integer"):
        it.iinfo(it.bool)
    assert "eps=" in repr(it.finfo(it.float32)) and "max=127" in repr(it.iinfo(it.int8))


def test_bfloat16_is_a_dtype_that_backends_without_it_refuse_clearly(be):
    bf = it.bfloat16
    assert bf is it.dtypes.by_name("bfloat16") and bf.is_floating_point and bf.itemsize == 2
    assert bf is not it.float16 and bf != it.float16 and str(bf) == "interop.bfloat16"
    assert it.isdtype(bf, "real floating")
    # a registered torch namespace has it, and cpu where ml_dtypes is installed (loaded on
    # the first use of bfloat16, so it may not be in the table yet)
    has = bf in be.to_native or (be.name == "cpu" and importlib.util.find_spec("ml_dtypes"))
    for make in (lambda: it.zeros(2, dtype=bf), lambda: it.ones(2).astype(bf),
                 lambda: it.tensor([1.0], dtype=bf)):
        if has:
            assert make().dtype is bf
            continue
        with pytest.raises(TypeError, match=rf"bfloat16 is not available on backend '{be.name}' "
                                            rf"\(it has bool, .*float32"):
            make()
    promote = it._dtype_rules.promote_types
    for a, b, r in [(it.float16, bf, it.float32), (bf, it.complex64, it.complex64),
                    (bf, it.int64, bf), (bf, it.float64, it.float64)]:
        tr = torch.promote_types(getattr(torch, a.name), getattr(torch, b.name))
        assert promote(a, b) is r and r.name == str(tr).split(".")[1]


def test_bfloat16_where_the_backend_has_it(be):
    compat_torch = pytest.importorskip("array_api_compat.torch")
    it.register_backend("torch-bf16-test", compat_torch)
    x = it.tensor([1.0, 2.5], device="torch-bf16-test", requires_grad=True)
    y = x.astype(it.bfloat16)
    assert y.dtype is it.bfloat16 and (y * 2).dtype is it.bfloat16
    assert (y + it.ones(2, dtype=it.float16, device="torch-bf16-test")).dtype is it.float32
    (y * 3.0).astype(it.float32).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    assert it.zeros(2, dtype=it.bfloat16, device="torch-bf16-test").astype(it.float32).tolist() == \
        [0.0, 0.0]
