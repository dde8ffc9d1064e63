"""Register a third-party Array API namespace as an interop backend and train the same
model on it.

    python examples/custom_backend.py [--namespace array_api_compat.torch] [--steps 300]

interop's autograd, ``nn`` and ``optim`` are written against the Array API standard, so
any namespace that follows it can carry them: here PyTorch's tensors through
``array_api_compat.torch`` (the default), or any importable namespace named with
``--namespace``. The script registers it with ``it.backends.register_backend``, trains the
same MLP from the same initial weights on the built-in ``cpu`` backend (NumPy) and on the
new one, and prints both loss curves side by side: they agree to float32 rounding.
"""

import argparse
import importlib
import time

from threadpoolctl import threadpool_limits

import interop as it
from interop import nn


def make_model():
    return nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                         nn.Linear(32, 1))


def train(backend, init, x_host, y_host, steps):
    """Trains a fresh model on ``backend`` from the weights ``init``; returns the losses."""
    with it.use_backend(backend):
        x, y = it.from_dlpack(x_host), it.from_dlpack(y_host)   # onto this backend, no copy
        model = make_model()
        model.load_state_dict(init)                         # the same start everywhere
        opt = it.optim.Adam(model.parameters(), lr=1e-2)
        losses, t0 = [], time.perf_counter()
        for _ in range(steps):
            opt.zero_grad()
            loss = nn.functional.binary_cross_entropy_with_logits(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        kind = it.get_backend().library                     # the library underneath
        return losses, time.perf_counter() - t0, kind


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--namespace", default="array_api_compat.torch",
                   help="an importable Array API namespace (default: %(default)s)")
    p.add_argument("--name", default="mine", help="the name to register it under")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--threads", type=int, default=1, help="BLAS threads on the CPU (default: 1)")
    args = p.parse_args(argv)
    # small matrices: one BLAS thread is faster, and on a busy machine a second one
    # spinning for a core made these examples up to 10x slower (threadpoolctl comes
    # with scikit-learn)
    with threadpool_limits(args.threads):
        return run(args)


def run(args):

    xp = importlib.import_module(args.namespace)
    if args.name not in it.backends.list_backends():
        it.backends.register_backend(args.name, xp)
    print(f"registered {args.namespace} as backend {args.name!r}: "
          f"{it.backends.get_backend(args.name)}")

    it.manual_seed(0)
    with it.use_backend("cpu"):
        x = it.randn(1024, 2)
        y = ((x * x).sum(1, keepdim=True) < 1.0).astype(it.float32)   # inside the circle?
        init = make_model().state_dict()
    runs = {b: train(b, init, x, y, args.steps) for b in ("cpu", args.name)}
    (ref, t_ref, k_ref), (new, t_new, k_new) = runs["cpu"], runs[args.name]
    print(f"loss at step   backend 'cpu' ({k_ref})   backend {args.name!r} ({k_new})")
    for i in sorted({0, *range(49, args.steps, 50), args.steps - 1}):
        print(f"{i + 1:12d}   {ref[i]:20.6f}   {new[i]:20.6f}")
    diff = max(abs(a - b) for a, b in zip(ref, new))
    print(f"time: cpu {t_ref:.2f} s, {args.name} {t_new:.2f} s; "
          f"largest loss difference over {args.steps} steps: {diff:.1e}")
    return diff


if __name__ == "__main__":
    main()
