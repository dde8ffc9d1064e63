"""Quick start: a small network trained on synthetic data, written as in PyTorch.

    python examples/quickstart.py [--backend cpu|strict|cuda] [--epochs 20]

Points inside the unit circle are class 1, the rest class 0. The model is an
``nn.Sequential`` MLP, trained with ``optim.Adam`` on batches from a ``DataLoader``; the
weights are saved as safetensors, loaded into a fresh model and checked again.
"""

import argparse
import os
import tempfile
import time

import interop as it
from interop import nn
from interop.utils.data import DataLoader, TensorDataset


def make_model():
    return nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                         nn.Linear(32, 1))


def accuracy(model, x, y):
    with it.no_grad():
        return ((model(x) > 0).astype(it.float32) == y).astype(it.float32).mean().item()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", default="cpu")
    p.add_argument("--epochs", type=int, default=20)
    args = p.parse_args(argv)
    it.set_backend(args.backend)
    it.manual_seed(0)

    x = it.randn(2048, 2)
    y = ((x * x).sum(1, keepdim=True) < 1.0).astype(it.float32)
    loader = DataLoader(TensorDataset(x[:1536], y[:1536]), batch_size=64, shuffle=True)
    x_test, y_test = x[1536:], y[1536:]

    model = make_model()
    opt = it.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.BCEWithLogitsLoss()
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
        if epoch % 5 == 0 or epoch == args.epochs - 1:
            print(f"epoch {epoch:3d}  loss {loss.item():.4f}  "
                  f"test accuracy {accuracy(model, x_test, y_test):.1%}")
    print(f"backend {it.get_backend().name}: {args.epochs} epochs in "
          f"{time.perf_counter() - t0:.2f} s")

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.safetensors")
        it.save(model.state_dict(), path)
        fresh = make_model()
        fresh.load_state_dict(it.load(path))
    print(f"reloaded from safetensors: test accuracy {accuracy(fresh, x_test, y_test):.1%}")


if __name__ == "__main__":
    main()
