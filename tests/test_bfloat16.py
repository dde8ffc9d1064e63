"""bfloat16 on the cpu backend through ml_dtypes (issue 24, section 4): DLPack exchange with
PyTorch and JAX without copies, both ways, and arithmetic with PyTorch's results (ml_dtypes
rounds each elementwise result from float32, as PyTorch does; sums and products accumulate
in float32 and round once, as PyTorch's CPU kernels do)."""

import gc
import os
import subprocess
import sys

import numpy as np
import pytest

import interop as it

torch = pytest.importorskip("torch")
pytest.importorskip("ml_dtypes")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BF16_ULP = 2.0 ** -7       # the relative spacing of bfloat16 values near 1 (8 significant bits)


def ptr_torch(t):
    return t.data_ptr()


def ptr_it(x):
    return x.numpy().__array_interface__["data"][0]


@pytest.fixture
def cpu():
    with it.use_backend("cpu") as be:
        yield be


def test_from_torch_is_a_view_both_ways(cpu):
    t = torch.tensor([1.5, -2.25, 3.0, 1e-3], dtype=torch.bfloat16)
    x = it.from_dlpack(t)
    assert x.dtype is it.bfloat16 and ptr_it(x) == ptr_torch(t)
    t[0] = 7.0
    assert x[0].item() == 7.0
    x[1] = 5.0
    assert t[1].item() == 5.0
    back = torch.from_dlpack(x)
    assert back.dtype == torch.bfloat16 and ptr_torch(back) == ptr_torch(t)
    assert back.tolist() == t.tolist()
    del t, back
    gc.collect()
    assert x.tolist() == [7.0, 5.0, 3.0, pytest.approx(1e-3, rel=BF16_ULP)]   # memory kept alive


@pytest.mark.parametrize("make", [
    lambda: torch.arange(12, dtype=torch.bfloat16).reshape(3, 4).t(),     # transposed
    lambda: torch.arange(12, dtype=torch.bfloat16)[1::3],                 # strided, offset
    lambda: torch.tensor(2.5, dtype=torch.bfloat16),                      # 0-d
    lambda: torch.zeros(0, 3, dtype=torch.bfloat16),                      # empty
    lambda: torch.ones(2, 1, dtype=torch.bfloat16).expand(2, 3)])         # stride 0
def test_layouts_from_torch(cpu, make):
    t = make()
    x = it.from_dlpack(t)
    assert tuple(x.shape) == tuple(t.shape) and x.dtype is it.bfloat16
    assert x.tolist() == t.tolist()
    c = it.from_dlpack(t, copy=True)
    assert c.tolist() == t.tolist()
    if t.numel():
        assert ptr_it(c) != ptr_torch(t)


def test_export_layouts_to_torch(cpu):
    x = it.arange(6.0).to(it.bfloat16).reshape(2, 3)
    assert torch.from_dlpack(x[:, ::-1]).tolist() == [[2.0, 1.0, 0.0], [5.0, 4.0, 3.0]]
    assert torch.from_dlpack(x.T).tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    c = torch.from_dlpack(x.__dlpack__(copy=True))
    assert c.tolist() == x.tolist() and ptr_torch(c) != ptr_it(x)
    assert torch.from_dlpack(it.tensor(1.5, dtype=it.bfloat16)).item() == 1.5
    raw = torch.ones(2, dtype=torch.bfloat16).__dlpack__()
    assert it.from_dlpack(raw).tolist() == [1.0, 1.0]
    with pytest.raises(BufferError, match="requires grad"):
        torch.from_dlpack(it.ones(2, dtype=it.bfloat16, requires_grad=True))


_JAX_ROUND_TRIP = """
import jax.numpy as jnp
import interop as it
j = jnp.array([1.0, 2.5, -3.0], dtype=jnp.bfloat16)
x = it.from_dlpack(j)
assert x.dtype is it.bfloat16 and x.tolist() == [1.0, 2.5, -3.0]
try:
    x[0] = 2.0
    raise SystemExit("a JAX array imported writable")
except RuntimeError as e:
    assert "read-only" in str(e)         # JAX arrays are immutable: the view refuses writes
k = jnp.from_dlpack(it.tensor([0.5, 4.0], dtype=it.bfloat16))
assert str(k.dtype) == "bfloat16" and k.tolist() == [0.5, 4.0]
print("ok")
"""


def test_round_trip_with_jax():
    # in a process of its own: JAX's threads would make later forks (DataLoader workers in
    # the same pytest process) unsafe
    pytest.importorskip("jax")
    out = subprocess.run([sys.executable, "-c", _JAX_ROUND_TRIP], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, env={**os.environ, "PYTHONPATH": ROOT})
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


ELEMENTWISE = {
    "add": lambda L, a, b: a + b, "mul": lambda L, a, b: a * b, "div": lambda L, a, b: a / b,
    "sub_scalar": lambda L, a, b: a - 0.3, "exp": lambda L, a, b: L.exp(a),
    "tanh": lambda L, a, b: L.tanh(a), "sqrt": lambda L, a, b: L.sqrt(L.abs(a)),
    "sigmoid": lambda L, a, b: L.sigmoid(a), "log1p": lambda L, a, b: L.log1p(L.abs(a)),
    "maximum": lambda L, a, b: L.maximum(a, b), "where": lambda L, a, b: L.where(a > b, a, b),
    "clamp": lambda L, a, b: a.clamp(-0.5, 0.5), "pow": lambda L, a, b: L.abs(a) ** 1.5,
    "lt": lambda L, a, b: a < b, "to_f32": lambda L, a, b: a.float(),
    "from_f32": lambda L, a, b: a.float().exp().to(L.bfloat16),
    "sum": lambda L, a, b: a.sum(), "sum_dim": lambda L, a, b: a.sum(1),
    "mean": lambda L, a, b: a.mean(0), "amax": lambda L, a, b: a.amax(1),
    "cumsum": lambda L, a, b: a.cumsum(1),
    "matmul": lambda L, a, b: a @ b.T, "softmax": lambda L, a, b: L.softmax(a, 1),
    "norm": lambda L, a, b: a.norm(dim=1), "argmax": lambda L, a, b: a.argmax(1),
    "sort": lambda L, a, b: a.sort(1)[0], "mixed_f32": lambda L, a, b: a + b.float(),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_ops_match_pytorch(cpu, name):
    rng = np.random.RandomState(0)
    da, db = rng.randn(4, 64), rng.randn(4, 64)
    f = ELEMENTWISE[name]
    r = f(it, it.tensor(da).to(it.bfloat16), it.tensor(db).to(it.bfloat16))
    t = f(torch, torch.tensor(da).to(torch.bfloat16), torch.tensor(db).to(torch.bfloat16))
    assert str(r.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    rv = np.asarray(r.float().tolist() if r.dtype is it.bfloat16 else r.tolist(), np.float64)
    tv = np.asarray(t.float().tolist() if t.dtype == torch.bfloat16 else t.tolist(), np.float64)
    # one bfloat16 step: a float32 result rounded to bfloat16 may land on either neighbour
    np.testing.assert_allclose(rv, tv, rtol=BF16_ULP, atol=1e-6)


def test_prod_accumulates_in_float32(cpu):
    # PyTorch's CPU prod of bfloat16 rounds at every step (0.7734 here, 1.5% off); interop
    # multiplies in float32 and rounds once, as its sums do (and PyTorch's sums)
    a = it.tensor(np.random.RandomState(0).randn(4, 64)).to(it.bfloat16) * 0.1 + 1
    exact = np.prod(np.asarray(a.float().tolist(), np.float64), axis=1)
    np.testing.assert_allclose(np.asarray(a.prod(1).float().tolist()), exact, rtol=BF16_ULP)
    assert a.prod(1).dtype is it.bfloat16


def test_gradients_in_bfloat16_match_pytorch(cpu):
    d = np.random.RandomState(1).randn(3, 8)
    x = it.tensor(d).to(it.bfloat16).requires_grad_(True)
    tx = torch.tensor(d).to(torch.bfloat16).requires_grad_(True)
    (it.tanh(x) * x).sum().backward()
    (torch.tanh(tx) * tx).sum().backward()
    assert x.grad.dtype is it.bfloat16
    np.testing.assert_allclose(np.asarray(x.grad.float().tolist()), tx.grad.float().numpy(),
                               rtol=2 * BF16_ULP, atol=1e-6)


def test_strict_still_refuses_bfloat16_naming_the_backend():
    with it.use_backend("strict"):
        with pytest.raises(TypeError, match="strict"):
            it.zeros(2, dtype=it.bfloat16)
        with pytest.raises(Exception):
            it.from_dlpack(torch.ones(2, dtype=torch.bfloat16))


def test_safetensors_bf16_with_pytorch(cpu, tmp_path):
    st = pytest.importorskip("safetensors.torch")
    t = torch.tensor([[1.5, -2.25], [3e-3, 1e20]], dtype=torch.bfloat16)
    st.save_file({"w": t}, str(tmp_path / "torch.safetensors"))
    x = it.load(str(tmp_path / "torch.safetensors"))["w"]
    assert x.dtype is it.bfloat16 and x.tolist() == t.tolist()     # the same bits
    it.save({"v": x.T, "f": it.ones(2)}, str(tmp_path / "ours.safetensors"))
    back = st.load_file(str(tmp_path / "ours.safetensors"))
    assert back["v"].dtype == torch.bfloat16 and back["v"].tolist() == t.T.tolist()
    assert it.load(str(tmp_path / "ours.safetensors"))["v"].tolist() == t.T.tolist()
