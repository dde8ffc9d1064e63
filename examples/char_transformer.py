"""A character-level Transformer language model, written as in PyTorch.

    python examples/char_transformer.py [--backend cpu|strict|cuda|NAME] [--steps 600]

It learns the text of ``examples/data/arrays.txt`` (a few paragraphs written for this
repository, no download) one character at a time: token and position embeddings, a causal
``nn.TransformerEncoder`` (two layers, four heads) and a linear head over the characters.
The loss is printed against the uniform-guess loss, ln(vocabulary size), and a few lines
are sampled from the trained model at the end.
"""

import argparse
import math
import pathlib
import time

from threadpoolctl import threadpool_limits

import interop as it
from interop import nn

TEXT = pathlib.Path(__file__).resolve().parent / "data" / "arrays.txt"


class CharLM(nn.Module):
    def __init__(self, vocab, context, d_model=64, heads=4, layers=2):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(context, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=4 * d_model,
                                           dropout=0.2, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab)

    def forward(self, idx):                     # idx: (batch, time) of character indices
        t = idx.shape[1]
        x = self.tok(idx) + self.pos(it.arange(t, device=idx.device))
        mask = nn.Transformer.generate_square_subsequent_mask(t)
        return self.head(self.norm(self.encoder(x, mask=mask, is_causal=True)))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", default="cpu")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--context", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lines", type=int, default=3, help="lines to sample at the end")
    p.add_argument("--temperature", type=float, default=0.7)
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

    text = TEXT.read_text(encoding="utf-8")
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = it.asarray([stoi[c] for c in text], dtype=it.int64)
    split = int(0.9 * len(text))
    train, val = data[:split], data[split:]
    print(f"{len(text)} characters, vocabulary of {len(chars)}; uniform guess loss "
          f"{math.log(len(chars)):.3f}")

    def batch(source, n):
        starts = it.randint(0, source.shape[0] - args.context - 1, (n,))
        offsets = it.arange(args.context + 1)
        rows = source[starts[:, None] + offsets[None, :]]
        return rows[:, :-1], rows[:, 1:]

    model = CharLM(len(chars), args.context)
    opt = it.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    sched = it.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=args.steps)
    loss_fn = nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        model.train()
        x, y = batch(train, args.batch_size)
        opt.zero_grad()
        loss = loss_fn(model(x).reshape(-1, len(chars)), y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 100 == 0 or step == args.steps:
            model.eval()
            with it.no_grad():
                vx, vy = batch(val, 64)
                vloss = loss_fn(model(vx).reshape(-1, len(chars)), vy.reshape(-1)).item()
            print(f"step {step:4d}  train loss {loss.item():.3f}  held-out loss {vloss:.3f}")
    print(f"backend {it.get_backend().name}: {args.steps} steps in "
          f"{time.perf_counter() - t0:.1f} s")

    model.eval()
    out, lines = [stoi["\n"]], []
    with it.no_grad():
        while len(lines) < args.lines and len(out) < 200 * args.lines:
            ctx = it.asarray(out[-args.context:], dtype=it.int64)[None]
            probs = (model(ctx)[0, -1] / args.temperature).softmax(-1)
            out.append(int(it.multinomial(probs, 1).item()))
            lines = [ln for ln in "".join(chars[i] for i in out).split("\n")[1:-1] if ln]
    sample = lines or ["".join(chars[i] for i in out[1:])]
    print("sampled:")
    for line in sample:
        print(f"  {line}")
    return vloss


if __name__ == "__main__":
    main()
