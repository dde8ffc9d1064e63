"""An LSTM that counts: a synthetic sequence task, written as in PyTorch.

    python examples/sequence_lstm.py [--backend cpu|strict|cuda|NAME] [--steps 1000]

Each input is a sequence of ``--length`` random bits; the target is how many of them are 1
(a class from 0 to length). A one-layer ``nn.LSTM`` reads the sequence, a linear layer
classifies its last hidden state. The model must carry a count through time, which a bag
of features cannot do position by position; chance is about 18% (the most common count).
Fresh batches are drawn every step, so the held-out accuracy measures what it learnt.
"""

import argparse
import time

from threadpoolctl import threadpool_limits

import interop as it
from interop import nn


class Counter(nn.Module):
    def __init__(self, hidden=48, length=20):
        super().__init__()
        self.lstm = nn.LSTM(input_size=1, hidden_size=hidden, batch_first=True)
        self.head = nn.Linear(hidden, length + 1)

    def forward(self, x):                      # x: (batch, length, 1)
        out, (h, c) = self.lstm(x)
        return self.head(out[:, -1])


def batch(n, length):
    bits = (it.rand(n, length, 1) < 0.5).astype(it.float32)
    return bits, bits.sum((1, 2)).astype(it.int64)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", default="cpu")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--length", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="BLAS threads on the CPU (default: 1)")
    args = p.parse_args(argv)
    # small matrices: one BLAS thread is faster, and on a busy machine a second one
    # spinning for a core made these examples up to 10x slower (threadpoolctl comes
    # with scikit-learn)
    with threadpool_limits(args.threads):
        return train(args)


def train(args):
    it.set_backend(args.backend)
    it.manual_seed(args.seed)

    model = Counter(length=args.length)
    opt = it.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    x_test, y_test = batch(1000, args.length)
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        x, y = batch(args.batch_size, args.length)
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 100 == 0 or step == args.steps:
            with it.no_grad():
                acc = (model(x_test).argmax(1) == y_test).astype(it.float32).mean().item()
            print(f"step {step:4d}  loss {loss.item():.4f}  held-out accuracy {acc:.1%}")
    print(f"backend {it.get_backend().name}: {args.steps} steps in "
          f"{time.perf_counter() - t0:.1f} s")
    x, y = batch(4, args.length)
    with it.no_grad():
        pred = model(x).argmax(1)
    for i in range(4):
        bits = "".join(str(int(b)) for b in x[i, :, 0].tolist())
        print(f"{bits}  ones: {int(y[i])}  predicted: {int(pred[i])}")
    return acc


if __name__ == "__main__":
    main()
