"""The same training code (a small MLP and a small LeNet-like CNN, cross-entropy, SGD) runs
on every backend, from the same weights, and its losses follow the cpu run's and PyTorch's
step by step: the proof that nn and optim only use the namespace."""

import numpy as np
import pytest

import interop as it
from torch_compare import np_of

torch = pytest.importorskip("torch")

STEPS = 4


def _model(lib, kind):
    nn = lib.nn
    if kind == "mlp":
        return nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                             nn.Linear(32, 5))
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8, 16), nn.ReLU(),
                         nn.Linear(16, 5))


def _data(kind):
    g = np.random.default_rng(3)
    x = g.standard_normal((16, 20) if kind == "mlp" else (8, 1, 12, 12)).astype(np.float32)
    return x, g.integers(0, 5, len(x)).astype(np.int64)


def _train(lib, net, x, y):
    opt = lib.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()
    x, y = lib.asarray(x), lib.asarray(y)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        losses.append(float(loss.item()))
    return losses


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_losses_follow_cpu_and_pytorch(be, kind):
    x, y = _data(kind)
    torch.manual_seed(0)
    theirs = _model(torch, kind)
    state = {k: np_of(v) for k, v in theirs.state_dict().items()}
    with it.use_backend("cpu"):
        ref = _model(it, kind)
        ref.load_state_dict({k: it.asarray(v) for k, v in state.items()})
        cpu_losses = _train(it, ref, x, y)
    ours = _model(it, kind)
    ours.load_state_dict({k: it.asarray(v) for k, v in state.items()})
    assert all(p.backend is be for p in ours.parameters())
    losses = _train(it, ours, x, y)
    torch_losses = _train(torch, theirs, x, y)
    assert losses[-1] < losses[0]           # it learns
    np.testing.assert_allclose(losses, cpu_losses, rtol=1e-5)
    np.testing.assert_allclose(losses, torch_losses, rtol=1e-4)
