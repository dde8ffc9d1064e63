"""A variational autoencoder on the handwritten digits, written as in PyTorch.

    python examples/vae.py [--backend cpu|strict|cuda|NAME] [--epochs 80] [--plot samples.png]

The 8x8 digits of ``interop.data.datasets.Digits`` (scikit-learn's, no download) are
encoded into a 2-number latent code by an MLP that outputs a mean and a log-variance; a
sample drawn with the reparameterisation trick is decoded back to 64 pixel intensities.
The loss is the binary cross-entropy of the reconstruction plus the KL divergence to the
standard normal (the negative ELBO, per image). ``--plot`` writes a PNG: a grid of digits
decoded from a regular grid of latent codes, beside test digits and their reconstructions.
"""

import argparse
import sys
import time

from threadpoolctl import threadpool_limits

import interop as it
from interop import nn
from interop.utils.data import DataLoader, TensorDataset
from interop.utils.data.datasets import Digits


class VAE(nn.Module):
    def __init__(self, latent=2, hidden=256):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(),
                                     nn.Linear(hidden, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(),
                                     nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 64))

    def forward(self, x):
        h = self.encoder(x)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + it.randn_like(mu) * (0.5 * logvar).exp()      # the reparameterisation trick
        return self.decoder(z), mu, logvar


def neg_elbo(logits, x, mu, logvar):
    """Per image: reconstruction BCE summed over pixels + KL(q(z|x) || N(0, I))."""
    rec = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum()
    return (rec + kl) / x.shape[0], rec / x.shape[0], kl / x.shape[0]


def plot(path, model, test_x, plt):
    n = 12
    grid = it.linspace(-2.5, 2.5, n)
    # row r, column c decodes z = (grid[c], grid[n - 1 - r]): z[0] grows to the right, z[1] up
    z = it.stack([it.tile(grid, (n,)), it.repeat_interleave(it.flip(grid, (0,)), n)], dim=1)
    with it.no_grad():
        samples = model.decoder(z).sigmoid().reshape(n, n, 8, 8)
        recon = model(test_x[:n])[0].sigmoid().reshape(n, 8, 8)
    tiles = nn.functional.pad(samples, (0, 1, 0, 1))            # a blank line between digits
    canvas = tiles.permute(0, 2, 1, 3).reshape(n * 9, n * 9).numpy()
    pairs = nn.functional.pad(it.stack([test_x[:n].reshape(n, 8, 8), recon], dim=1),
                              (0, 1, 0, 1))                      # (n, 2, 9, 9)
    strip = pairs.reshape(n, 18, 9).permute(1, 0, 2).reshape(18, n * 9).numpy()
    fig = plt.figure(figsize=(7, 8.6))
    ax1 = fig.add_axes([0.1, 0.22, 0.85, 0.72])
    ax1.imshow(canvas, cmap="gray_r", extent=(-2.5, 2.5, -2.5, 2.5))
    ax1.set(title="digits decoded from a grid of latent codes", xlabel="z[0]", ylabel="z[1]")
    ax2 = fig.add_axes([0.05, 0.02, 0.9, 0.14])
    ax2.imshow(strip, cmap="gray_r")
    ax2.set_axis_off()
    ax2.set_title("test digits (top) and their reconstructions (bottom)")
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", default="cpu")
    p.add_argument("--epochs", type=int, default=80)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plot", metavar="FILE.png", help="write a PNG of samples (needs matplotlib)")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads on the CPU (default: 1)")
    args = p.parse_args(argv)
    plt = None
    if args.plot:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            sys.exit("--plot needs matplotlib: pip install matplotlib (or pip install -e \".[plot]\")")
    # small matrices: one BLAS thread is faster, and on a busy machine a second one
    # spinning for a core made these examples up to 10x slower (threadpoolctl comes
    # with scikit-learn)
    with threadpool_limits(args.threads):
        return train(args, plt)


def train(args, plt):
    it.set_backend(args.backend)
    it.manual_seed(args.seed)

    def flat(train):                       # uint8 (N, 8, 8) -> float (N, 64) in [0, 1]
        return Digits(train=train).data.reshape(-1, 64).astype(it.float32) / 255

    train_x, test_x = flat(True), flat(False)
    loader = DataLoader(TensorDataset(train_x), batch_size=args.batch_size, shuffle=True)
    model = VAE()
    opt = it.optim.Adam(model.parameters(), lr=2e-3)
    t0 = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        for (x,) in loader:
            opt.zero_grad()
            logits, mu, logvar = model(x)
            loss = neg_elbo(logits, x, mu, logvar)[0]
            loss.backward()
            opt.step()
        if epoch % 20 == 0 or epoch == args.epochs:
            model.eval()
            with it.no_grad():
                logits, mu, logvar = model(test_x)
                test, trec, tkl = (v.item() for v in neg_elbo(logits, test_x, mu, logvar))
            print(f"epoch {epoch:3d}  test loss {test:.2f} per digit "
                  f"(reconstruction {trec:.2f} + KL {tkl:.2f})")
    print(f"backend {it.get_backend().name}: {args.epochs} epochs in "
          f"{time.perf_counter() - t0:.1f} s")
    if plt is not None:
        plot(args.plot, model, test_x, plt)
        print(f"samples written to {args.plot}")
    return test


if __name__ == "__main__":
    main()
