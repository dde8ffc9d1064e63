"""Quick start: a two-layer network trained with hand-written SGD on synthetic data.

    python examples/quickstart.py [--backend cpu|strict|cuda] [--steps 300]

Uses only the core (tensors, autograd, RNG); the nn and optim packages come later.
"""

import argparse
import time

import interop as it


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", default="cpu")
    p.add_argument("--steps", type=int, default=300)
    args = p.parse_args(argv)
    it.set_backend(args.backend)
    it.manual_seed(0)

    # Two interleaved spirals' worth of difficulty is too much for a quick start: a ring.
    n = 512
    x = it.randn(n, 2)
    r = (x * x).sum(1, keepdim=True).sqrt()
    y = (r < 1.0).astype(it.float32)                      # inside the unit circle -> 1

    w1 = (it.randn(2, 32) * 0.5).requires_grad_()
    b1 = it.zeros(32, requires_grad=True)
    w2 = (it.randn(32, 1) * 0.2).requires_grad_()
    b2 = it.zeros(1, requires_grad=True)
    params = [w1, b1, w2, b2]

    t0 = time.perf_counter()
    for step in range(args.steps):
        h = (x @ w1 + b1).tanh()
        logits = h @ w2 + b2
        # binary cross-entropy with logits, written with core ops
        loss = (it.maximum(logits, 0.0) - logits * y + (-(logits.abs())).exp().log1p()).mean()
        for p_ in params:
            p_.grad = None
        loss.backward()
        with it.no_grad():
            for p_ in params:
                p_ -= 0.5 * p_.grad
        if step % 100 == 0 or step == args.steps - 1:
            acc = ((logits > 0).astype(it.float32) == y).astype(it.float32).mean().item()
            print(f"step {step:4d}  loss {loss.item():.4f}  accuracy {acc:.1%}")
    print(f"backend {it.get_backend().name}: {args.steps} steps in {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
