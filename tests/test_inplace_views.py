"""In-place ops, views and aliases against PyTorch: stale views after an in-place op,
aliasing that must not reach a leaf, dtypes kept through in-place promotion, saved
values that an in-place op may change without error, and backends whose arrays are
immutable. Each case runs the same program in interop and torch and compares values
and gradients (the random-program version of these checks is tests/test_fuzz.py)."""

import numpy as np
import pytest

import interop as it

from helpers import to_np, jax_backend

torch = pytest.importorskip("torch")


def _both(program, *data, dtype="float64"):
    """Run ``program(lib, *leaves)`` with interop and with torch on leaves made from
    ``data``; return (interop outputs, torch outputs, interop grads, torch grads)."""
    xs = [it.tensor(d, dtype=getattr(it, dtype), requires_grad=True) for d in data]
    ts = [torch.tensor(d, dtype=getattr(torch, dtype), requires_grad=True) for d in data]
    out = program(it, *xs)
    tout = program(torch, *ts)
    out.sum().backward()
    tout.sum().backward()
    return out, tout, [x.grad for x in xs], [t.grad for t in ts]


def _check(program, *data, dtype="float64"):
    out, tout, gs, tgs = _both(program, *data, dtype=dtype)
    np.testing.assert_allclose(to_np(out), tout.detach().numpy(), rtol=1e-12)
    assert str(out.dtype).split(".")[-1] == str(tout.dtype).split(".")[-1]
    for g, tg in zip(gs, tgs):
        if tg is None:
            assert g is None
            continue
        assert str(g.dtype).split(".")[-1] == str(tg.dtype).split(".")[-1]
        np.testing.assert_allclose(to_np(g), tg.numpy(), rtol=1e-12)


# -------------------------------------------------------------- stale views (item 1)

def test_other_view_sees_inplace_through_a_sibling_view(be):
    def prog(lib, x):
        y = x * 1
        a, b = y[:], y[:]
        b.mul_(10)
        return a
    _check(prog, [1.0, 2.0])


def test_view_sees_inplace_on_its_base(be):
    def prog(lib, x):
        y = x * 1
        a = y.view(2)
        y.mul_(10)
        return a
    _check(prog, [1.0, 2.0])


def test_views_of_views_and_permuted_views_follow_their_base(be):
    def prog(lib, x):
        y = x * 1
        t = y.t()
        row = y[1]
        col = t[:, 0][1:]
        y[0, 1:].mul_(3.0)
        row.add_(y[0])          # through a view, reading another view of the same base
        return t.sum(1) * 2 + row + col.sum()
    _check(prog, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def test_view_of_plain_tensor_joins_the_graph_when_its_base_does(be):
    def prog(lib, w):
        y = lib.zeros(3, dtype=w.dtype)
        v1 = y[:2]
        v2 = y[1:]
        v2.copy_(w)
        return v1 * 1
    _check(prog, [1.0, 2.0])


def test_expanded_view_is_refreshed_but_not_written(be):
    def prog(lib, x):
        y = x * 1
        e = y.expand(3, 2)
        y.mul_(2)
        return e
    _check(prog, [1.0, 2.0])
    x = it.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="expanded"):
        x.expand(3, 2).add_(1)


# ----------------------------------------------------------------- aliasing (item 2)

def test_flip_is_a_copy_on_every_backend(be):
    x = it.tensor([1.0, 2.0, 3.0])
    y = x.flip([0])
    y[0] = 5.0
    y.mul_(2)
    assert x.tolist() == [1.0, 2.0, 3.0]


def test_contiguous_copies_a_non_contiguous_layout(be):
    t = it.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.is_contiguous() and not t.t().is_contiguous()
    c = t.t().contiguous()
    assert c.is_contiguous()
    c.add_(100)
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert t.t().contiguous().view(-1).tolist() == [1.0, 3.0, 2.0, 4.0]
    assert t.contiguous() is t          # already contiguous: itself, as in PyTorch


def test_contiguous_matches_torch_strides(be):
    x = it.arange(24).reshape(2, 3, 4)
    tx = torch.arange(24).reshape(2, 3, 4)
    for f in (lambda a: a, lambda a: a.permute(2, 0, 1), lambda a: a[:, 1:, ::2],
              lambda a: a.transpose(0, 1)):
        assert f(x).is_contiguous() == f(tx).is_contiguous()
        assert f(x).contiguous().stride() == f(tx).contiguous().stride()
        assert f(x).contiguous().tolist() == f(tx).contiguous().tolist()


def test_real_part_of_a_complex_tensor_refuses_writes(be):
    z = it.tensor([1 + 2j, 3 - 1j])
    r = z.real
    with pytest.raises(RuntimeError, match="copy"):
        r.add_(1)
    x = it.tensor([1.0, 2.0])
    assert x.real is x


def test_sum_to_same_shape_is_the_tensor_itself(be):
    x = it.tensor([1.0, 2.0])
    assert it.sum_to(x, (2,)) is x


# -------------------------------------------------------- dtypes in place (item 5)

def test_float64_operand_into_float32_tensor_keeps_its_gradient_dtype(be):
    x32 = it.tensor([1.0, 2.0], requires_grad=True)
    x64 = it.tensor([3.0, 4.0], dtype=it.float64, requires_grad=True)
    t32 = torch.tensor([1.0, 2.0], requires_grad=True)
    t64 = torch.tensor([3.0, 4.0], dtype=torch.float64, requires_grad=True)
    y = x32 * 1
    y += x64 * x64
    ty = t32 * 1
    ty += t64 * t64
    assert y.dtype is it.float32
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    assert x64.grad.dtype is it.float64 and x32.grad.dtype is it.float32
    np.testing.assert_allclose(to_np(x64.grad), t64.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(to_np(x32.grad), t32.grad.numpy(), rtol=1e-6)


def test_setitem_of_float64_value_keeps_its_gradient_dtype(be):
    v = it.tensor([3.0], dtype=it.float64, requires_grad=True)
    tv = torch.tensor([3.0], dtype=torch.float64, requires_grad=True)
    y = it.zeros(2)
    ty = torch.zeros(2)
    y[0:1] = v
    ty[0:1] = tv
    (y * 2).sum().backward()
    (ty * 2).sum().backward()
    assert v.grad.dtype is it.float64
    np.testing.assert_allclose(to_np(v.grad), tv.grad.numpy())


# ----------------------------------------- saved values PyTorch does not save

@pytest.mark.parametrize("name", ["mul_scalar", "div", "logaddexp", "pow", "relu", "remainder",
                                  "add_alpha", "sub_alpha"])
def test_inplace_on_values_the_backward_does_not_read_is_fine(be, name):
    def prog(lib, x, w):
        y = x * 1
        if name == "mul_scalar":
            z = y * 2.0
            y.add_(1)           # y is not needed for the gradient of y * 2
        elif name == "div":
            z = y / w
            z.add_(1)           # the output of / is not saved
        elif name == "logaddexp":
            z = lib.logaddexp(y, w)
            z.mul_(2)
        elif name == "pow":
            z = y ** 2.0
            z.add_(1)           # y ** scalar saves y, not the output
        elif name == "relu":
            z = lib.relu(y)
            y.add_(1)           # relu saves its output, not its input
        elif name == "remainder":
            z = lib.remainder(y, w.detach())
            y.mul_(3)
        elif name == "add_alpha":
            z = y.add(w, alpha=2.0)
            y.mul_(2)
        else:
            z = y.sub(w, alpha=0.5)
            y.mul_(2)
        return z
    _check(prog, [1.0, 2.5], [0.5, 1.5])


def test_inplace_on_a_saved_value_still_raises(be):
    x = it.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y * y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


# ------------------------------------------------------ immutable arrays (item 9)

def test_immutable_backend_refuses_writes_through_views_and_rebinds_owners():
    jnp = pytest.importorskip("jax.numpy")
    it.register_backend("jax-inplace-test", jnp)
    with it.use_backend("jax-inplace-test") as be:
        assert not be.mutable
        x = it.tensor([1.0, 2.0, 3.0])
        x.add_(1)                                  # owns its memory: rebinding is exact
        x[1] = 10.0
        assert x.tolist() == [2.0, 10.0, 4.0]
        v = x[0]
        with pytest.raises(RuntimeError, match="immutable"):
            v.add_(1)                              # a view: the write could not reach x
        with pytest.raises(RuntimeError, match="immutable"):
            x.mul_(2)                              # x has a live view that would go stale
        del v
        x.mul_(2)
        assert x.tolist() == [4.0, 20.0, 8.0]
        # aliases read the very same array: a write through one reaches every live one
        d = x.detach()
        p = it.nn.Parameter(x)
        d.add_(1)
        assert x.tolist() == p.tolist() == d.tolist() == [5.0, 21.0, 9.0]
        p.data.mul_(2)
        x.sub_(1)
        assert x.tolist() == p.tolist() == d.tolist() == [9.0, 41.0, 17.0]
        v = p[1:]
        with pytest.raises(RuntimeError, match="live views"):
            d.zero_()                              # ... but a live view of them would not
        del v
        w = it.tensor([1.0, 2.0], requires_grad=True)
        y = w * 1
        y.mul_(w)                                  # recorded in-place ops work too
        y.sum().backward()
        assert w.grad.tolist() == [2.0, 4.0]


def test_basic_index_gradients_on_an_immutable_backend():
    """The gradient of x[basic key] was written into zeros by item assignment, which JAX's
    arrays refuse (every slice, diagonal, pad, conv and pool backward went through it)."""
    data = np.arange(20, dtype=np.float32).reshape(4, 5)
    with jax_backend():
        for key in [(slice(1, 3), slice(None, None, 2)), (None, 1, slice(-3, None))]:
            x = it.tensor(data.tolist(), requires_grad=True)
            tx = torch.tensor(data, requires_grad=True)
            y, ty = x[key], tx[key]
            w = np.arange(1, 1 + y.numel(), dtype=np.float32).reshape(tuple(y.shape))
            (y * it.tensor(w.tolist())).sum().backward()
            (ty * torch.from_numpy(w)).sum().backward()
            np.testing.assert_array_equal(to_np(x.grad), tx.grad.numpy(), err_msg=str(key))


# ------------------------------------------- writes that crashed on strict only

def test_setitem_with_none_in_the_key(be):
    x = it.zeros(2, 3)
    tx = torch.zeros(2, 3)
    x[None, 0] = 5.0
    tx[None, 0] = 5.0
    w = it.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    tw = torch.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    x[None, 1] = w
    tx[None, 1] = tw
    assert x.tolist() == tx.tolist()
    (x * 2).sum().backward()
    (tx * 2).sum().backward()
    assert w.grad.tolist() == tw.grad.tolist()


def test_empty_tensors_view_and_masked_write(be):
    assert it.zeros(2, 0).view(0).shape == (0,)
    assert it.zeros(2, 0).view(-1, 2).shape == (0, 2)
    x = it.zeros(0, 3)
    x[x > 0] = 1.0
    assert x.shape == (0, 3)
    y = it.zeros(2, 3)
    y[y > 0] = it.tensor(1.0)
    assert y.tolist() == [[0.0] * 3] * 2


def test_integer_tensor_plus_python_bool_in_place(be):
    y = it.tensor([1, 2])
    y += True
    ty = torch.tensor([1, 2])
    ty += True
    assert y.tolist() == ty.tolist() and y.dtype is it.int64


def test_constant_written_through_an_expanded_view_reaches_the_aliased_memory(be):
    for write in (lambda v: v.fill_(0.5), lambda v: v.zero_(), lambda v: v.__setitem__(0, 2.0),
                  lambda v: v.__setitem__((0, slice(1, 3)), 2.0)):
        b, tb = it.zeros(1, 4), torch.zeros(1, 4)
        write(b.expand(3, 4))
        write(tb.expand(3, 4))
        assert b.tolist() == tb.tolist()
    with pytest.raises(RuntimeError, match="expanded"):
        it.zeros(1, 4).expand(3, 4).copy_(it.ones(3, 4))   # a tensor value: refused, as torch
    x = it.tensor([[1.0, 2.0]], requires_grad=True)
    v = (x * 1).expand(3, 2)
    assert v.fill_(0.5) is v
    (v * x).sum().backward()                  # PyTorch cannot differentiate this; interop can
    assert x.grad.tolist() == [[1.5, 1.5]] and v.tolist() == [[0.5, 0.5]] * 3


def test_write_into_a_row_of_an_expanded_tensor_reaches_its_base(be):
    def prog(lib, x):
        b = x * 1
        r = b.expand(3, 4)[1]            # distinct memory: writable, as in PyTorch
        r.mul_(x[0])
        return b * b
    _check(prog, [[1.0, 2.0, 3.0, 4.0]])
    with pytest.raises(RuntimeError, match="share a memory location"):
        it.zeros(1, 4).expand(3, 4).add_(1)


def test_float_result_into_an_integer_tensor_is_refused_in_a_graph_too(be):
    i = it.tensor([1, 2])
    f = it.tensor([0.5, 1.5], requires_grad=True)
    with pytest.raises(RuntimeError, match="can't be cast"):
        i += f
    with pytest.raises(RuntimeError, match="can't be cast"):
        i += 0.5
    assert i.tolist() == [1, 2]


def test_inplace_operand_overlapping_the_written_memory_is_read_first(be):
    # x += x[:, :1]: interop reads the operand before writing (NumPy's rule); PyTorch reads it
    # while writing, so its result depends on the kernel's traversal order (undefined there).
    a = np.array([[0.5, 1.0, 2.0], [1.5, 3.0, 4.0]])
    x = it.tensor(a, requires_grad=True)
    y = x * 1.0
    y.add_(y[:, :1])
    np.testing.assert_array_equal(to_np(y.detach()), a + a[:, :1])
    y.sum().backward()
    # d/dx of y = x + x[:, :1] (broadcast): 1 everywhere, plus the row length at column 0
    np.testing.assert_array_equal(to_np(x.grad), [[4.0, 1.0, 1.0], [4.0, 1.0, 1.0]])
    z = it.tensor(a)
    z.mul_(z[:, :1])
    np.testing.assert_array_equal(to_np(z), a * a[:, :1])


def test_setitem_with_repeated_indices_keeps_the_last_write(be):
    """NumPy's rule (and PyTorch's on the CPU): the last write to a position wins, on every
    backend; the standard-only path used to add the repeated writes up."""
    w = it.zeros(4)
    w[it.asarray([1, 1, 2])] = it.asarray([5.0, 6.0, 7.0])
    assert w.tolist() == [0.0, 6.0, 7.0, 0.0]
    m = it.zeros(3, 3)
    m[it.asarray([0, 0, 2]), it.asarray([1, 1, 1])] = it.asarray([1.0, 2.0, 3.0])
    assert m.tolist() == [[0.0, 2.0, 0.0], [0.0, 0.0, 0.0], [0.0, 3.0, 0.0]]
    v = it.zeros(3)
    v[it.asarray([2, 0, 2, 2])] = it.asarray([1.0, 2.0, float("nan"), 4.0])
    assert v.tolist() == [2.0, 0.0, 4.0]
    with pytest.raises(ValueError, match="from=1 > to=0"):
        it.zeros(2).uniform_(1, 0)
    with pytest.raises(ValueError, match="std >= 0.0"):
        it.zeros(2).normal_(0, -1)
