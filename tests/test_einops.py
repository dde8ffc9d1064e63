"""einops on interop tensors (issue 24, section 4): rearrange, reduce, repeat, pack/unpack
and einsum give PyTorch's results through einops' torch backend, gradients included, on
every backend; interop imports without einops installed."""

import os
import subprocess
import sys

import numpy as np
import pytest

import interop as it

from helpers import to_np

einops = pytest.importorskip("einops")
torch = pytest.importorskip("torch")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CASES = [
    ("rearrange", ("b c h w -> b (h w) c",), {}),
    ("rearrange", ("b c (h p) w -> b c h p w",), {"p": 2}),
    ("rearrange", ("b c h w -> (b c) h w",), {}),
    ("rearrange", ("b c h w -> w h c b",), {}),
    ("reduce", ("b c h w -> b c", "mean"), {}),
    ("reduce", ("b c h w -> b", "sum"), {}),
    ("reduce", ("b c h w -> c h", "max"), {}),
    ("reduce", ("b c h w -> b w", "min"), {}),
    ("reduce", ("b c h w -> b c", "prod"), {}),
    ("reduce", ("b c (h h2) (w w2) -> b c h w", "mean"), {"h2": 2, "w2": 2}),
    ("repeat", ("b c h w -> b c h w r",), {"r": 3}),
    ("repeat", ("b c h w -> (b r) c h w",), {"r": 2}),
    ("repeat", ("b c h w -> b c (h 2) (w 2)",), {}),
]


@pytest.mark.parametrize("fn,args,kw", CASES)
def test_einops_functions_match_pytorch_with_gradients(be, fn, args, kw):
    data = np.random.RandomState(0).rand(2, 3, 4, 6)
    x = it.tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    r = getattr(einops, fn)(x, *args, **kw)
    t = getattr(einops, fn)(tx, *args, **kw)
    assert isinstance(r, it.Tensor) and tuple(r.shape) == tuple(t.shape)
    assert r.dtype == it.float64
    np.testing.assert_allclose(to_np(r), t.detach().numpy(), rtol=1e-12)
    w = np.random.RandomState(1).rand(*t.shape)
    (r * it.tensor(w)).sum().backward()
    (t * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), tx.grad.numpy(), rtol=1e-12)


def test_einops_pack_unpack_einsum_and_integers(be):
    a = it.ones(2, 3, requires_grad=True)
    b = it.arange(6.0).reshape(2, 3, 1).requires_grad_(True)
    packed, ps = einops.pack([a, b], "i *")
    assert tuple(packed.shape) == (2, 6)
    ua, ub = einops.unpack(packed * 2, ps, "i *")
    assert tuple(ub.shape) == (2, 3, 1)
    (ua.sum() + ub.sum()).backward()
    assert a.grad.tolist() == [[2.0] * 3] * 2 and b.grad.tolist() == [[[2.0]] * 3] * 2
    x = it.arange(6.0).reshape(2, 3)
    r = einops.einsum(x, x, "i j, i j -> i")
    assert r.tolist() == [5.0, 50.0]
    n = it.arange(12).reshape(3, 4)
    assert einops.reduce(n, "a b -> a", "sum").tolist() == [6, 22, 38]
    assert einops.reduce(n, "a b -> b", "max").tolist() == [8, 9, 10, 11]
    with pytest.raises(NotImplementedError, match="non-floating"):
        einops.reduce(n, "a b -> a", "mean")          # einops refuses to average integers
    with pytest.raises(einops.EinopsError):
        einops.rearrange(x, "a b c -> a")               # a pattern that does not fit


def test_interop_imports_without_einops():
    code = ("import sys; sys.modules['einops'] = None; import interop as it; "
            "print(it._einops.__all__, it.ones(2).sum().item())")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTHONPATH": ROOT})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[]", "2.0"]
