"""A small CNN on the handwritten digits that ship with scikit-learn, written as in PyTorch.

    python examples/digits_cnn.py [--backend cpu|strict|cuda|NAME] [--epochs 30]
                                  [--plot curves.png] [--logdir runs/digits]

The 1,797 8x8 digits of ``sklearn.datasets.load_digits`` (no download) are split into a
fixed training set (the first 1,437) and a held-out test set (the last 360):
``interop.data.datasets.Digits``. Two 3x3 convolutions, a max-pool and two linear layers are
trained with Adam on ``DataLoader`` batches with a random-crop augmentation; a tqdm bar per
epoch shows the running loss. The weights are saved as safetensors, loaded into a fresh
model and the test accuracy is measured again: the last line is ``test accuracy: NN.N%``.
"""

import argparse
import os
import sys
import tempfile
import time

from threadpoolctl import threadpool_limits

import interop as it
from interop import nn
from interop.utils.data import DataLoader
from interop.utils.data.datasets import Digits
from interop.utils.data import transforms as T

MEAN, STD = 0.31, 0.38          # of the training pixels after ToTensor (rounded)


def make_model():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),                                  # 32 x 4 x 4
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Dropout(0.25),
        nn.Linear(64, 10),
    )


def evaluate(model, loader):
    model.eval()
    correct = total = 0
    with it.no_grad():
        for x, y in loader:
            correct += int((model(x).argmax(1) == y).sum().item())
            total += int(y.shape[0])
    return correct / total


def _require(args):
    """Fails fast, before training, when an option's optional package is missing."""
    tools = {}
    if args.plot:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            sys.exit("--plot needs matplotlib: pip install matplotlib "
                     "(or pip install -e \".[plot]\")")
        tools["plt"] = plt
    if args.logdir:
        try:
            from interop.utils.tensorboard import SummaryWriter
        except ImportError as e:
            sys.exit(f"--logdir needs interop.utils.tensorboard ({e}); it is not in this "
                     f"version of interop, or its dependency is missing: "
                     f"pip install tensorboard")
        tools["writer"] = SummaryWriter(args.logdir)
    try:
        from tqdm import tqdm
    except ImportError:
        sys.exit("the progress bar needs tqdm: pip install tqdm")
    tools["tqdm"] = tqdm
    return tools


def plot_curves(path, losses, accs, plt):
    epochs = range(1, len(losses) + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(epochs, losses, marker="o")
    ax1.set(xlabel="epoch", ylabel="training loss (mean over the epoch)", yscale="log",
            title="loss")
    ax2.plot(epochs, [100 * a for a in accs], marker="o", color="tab:green")
    ax2.set(xlabel="epoch", ylabel="held-out test accuracy (%)", title="accuracy")
    ax2.grid(alpha=0.3)
    fig.suptitle(f"digits CNN on interop ({it.get_backend().name} backend)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", default="cpu", help="interop backend (default: cpu)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--train-size", type=int, default=None, metavar="N",
                   help="train on the first N training images only (for quick checks)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint", default=os.path.join(tempfile.gettempdir(),
                                                        "interop_digits_cnn.safetensors"),
                   metavar="FILE", help="where to save the weights (default: %(default)s)")
    p.add_argument("--plot", metavar="FILE.png", help="write loss and accuracy curves "
                   "(needs matplotlib)")
    p.add_argument("--logdir", metavar="DIR", help="write TensorBoard scalars "
                   "(interop.utils.tensorboard.SummaryWriter)")
    p.add_argument("--threads", type=int, default=1, metavar="N",
                   help="BLAS threads on the CPU (default: 1, fastest for a model this small)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    tools = _require(args)
    # The model's matrices are tiny: one BLAS thread is faster than two, and on a busy
    # machine a second thread that spins waiting for a core made training 5x slower
    # (threadpoolctl comes with scikit-learn, which the data set already needs)
    with threadpool_limits(args.threads):
        return train(args, tools)


def train(args, tools):
    tqdm, writer = tools["tqdm"], tools.get("writer")

    it.set_backend(args.backend)
    it.manual_seed(args.seed)
    t0 = time.perf_counter()
    normalize = T.Normalize((MEAN,), (STD,))
    train_set = Digits(train=True, transform=T.Compose([
        T.RandomCrop(8, padding=1), T.ToTensor(), normalize]))
    test_set = Digits(train=False, transform=T.Compose([T.ToTensor(), normalize]))
    if args.train_size is not None:
        train_set = it.utils.data.Subset(train_set, range(args.train_size))
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=len(test_set))

    model = make_model()
    opt = it.optim.Adam(model.parameters(), lr=args.lr)
    sched = it.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(args.epochs, 1))
    loss_fn = nn.CrossEntropyLoss()
    print(f"interop {it.__version__} on backend {it.get_backend().name}: "
          f"{len(train_set)} training and {len(test_set)} test digits (8x8), "
          f"{sum(p.numel() for p in model.parameters()):,} parameters")
    losses, accs, step = [], [], 0
    for epoch in range(args.epochs):
        model.train()
        total, count = 0.0, 0
        bar = tqdm(train_loader, desc=f"epoch {epoch + 1:2d}/{args.epochs}", leave=False,
                   disable=args.no_progress, unit="batch")
        for x, y in bar:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            value = loss.item()
            total, count, step = total + value * int(y.shape[0]), count + int(y.shape[0]), step + 1
            bar.set_postfix(loss=f"{total / count:.4f}")
            if writer is not None:
                writer.add_scalar("train/loss", value, step)
        sched.step()
        losses.append(total / count)
        accs.append(evaluate(model, test_loader))
        if writer is not None:
            writer.add_scalar("train/epoch_loss", losses[-1], epoch + 1)
            writer.add_scalar("test/accuracy", accs[-1], epoch + 1)
        print(f"epoch {epoch + 1:2d}/{args.epochs}  loss {losses[-1]:.4f}  "
              f"test accuracy {accs[-1]:.1%}")
    train_time = time.perf_counter() - t0
    if writer is not None:
        writer.close()
        print(f"TensorBoard scalars written to {args.logdir}")

    it.save(model.state_dict(), args.checkpoint)
    fresh = make_model()
    fresh.load_state_dict(it.load(args.checkpoint))
    acc = evaluate(fresh, test_loader)
    if acc != accs[-1]:
        raise RuntimeError(f"the reloaded model scores {acc:.2%}, the trained one "
                           f"{accs[-1]:.2%}: the checkpoint {args.checkpoint} lost something")
    print(f"trained in {train_time:.1f} s; saved {args.checkpoint} "
          f"({os.path.getsize(args.checkpoint) / 1024:.0f} KB), reloaded into a fresh model")
    if args.plot:
        plot_curves(args.plot, losses, accs, tools["plt"])
        print(f"loss and accuracy curves written to {args.plot}")
    print(f"test accuracy: {acc:.1%}")
    return acc


if __name__ == "__main__":
    main()
