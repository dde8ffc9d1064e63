"""interop running on other frameworks' Array API namespaces, checked against
those frameworks' own autograd (JAX's ``jax.grad``, PyTorch's ``backward``)."""

import numpy as np
import pytest

import interop as it


def _model(xp_x, w1, w2):
    return ((xp_x @ w1).tanh() @ w2).sigmoid().sum()


def _data():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((5, 3)).astype("float32"),
            rng.standard_normal((3, 4)).astype("float32"),
            rng.standard_normal((4, 2)).astype("float32"))


def _run_interop(backend_name):
    x, w1, w2 = _data()
    with it.use_backend(backend_name):
        tx = it.tensor(x.tolist())
        t1 = it.tensor(w1.tolist(), requires_grad=True)
        t2 = it.tensor(w2.tolist(), requires_grad=True)
        loss = _model(tx, t1, t2)
        loss.backward()
        assert t1.grad.backend.name == backend_name
        return loss.item(), np.array(t1.grad.tolist()), np.array(t2.grad.tolist())


def test_jax_numpy_as_backend_matches_jax_grad():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    it.register_backend("jax-test", jnp)
    loss, g1, g2 = _run_interop("jax-test")
    x, w1, w2 = _data()

    def f(a, b):
        return jax.nn.sigmoid(jnp.tanh(x @ a) @ b).sum()
    ref = f(w1, w2)
    r1, r2 = jax.grad(f, argnums=(0, 1))(w1, w2)
    assert abs(loss - float(ref)) < 1e-5
    np.testing.assert_allclose(g1, np.asarray(r1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g2, np.asarray(r2), rtol=1e-5, atol=1e-6)


def test_torch_namespace_as_backend_matches_torch_autograd():
    torch = pytest.importorskip("torch")
    compat_torch = pytest.importorskip("array_api_compat.torch")
    it.register_backend("torch-test", compat_torch)
    loss, g1, g2 = _run_interop("torch-test")
    x, w1, w2 = _data()
    a = torch.tensor(w1, requires_grad=True)
    b = torch.tensor(w2, requires_grad=True)
    ref = torch.sigmoid(torch.tanh(torch.tensor(x) @ a) @ b).sum()
    ref.backward()
    assert abs(loss - ref.item()) < 1e-5
    np.testing.assert_allclose(g1, a.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g2, b.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_same_numbers_on_cpu_and_strict():
    pytest.importorskip("array_api_strict")
    a = _run_interop("cpu")
    b = _run_interop("strict")
    assert a[0] == pytest.approx(b[0], rel=1e-6)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-6)
    np.testing.assert_allclose(a[2], b[2], rtol=1e-6)
