"""Data-parallel training: a small CNN on scikit-learn's 8x8 digits, one replica per process.

    mpirun -n 2 python examples/ddp_digits.py [--epochs 15] [--batch 64]
    python examples/ddp_digits.py              # the same on one process, for comparison

(as root, mpirun also wants --allow-run-as-root; on fewer cores than ranks, --oversubscribe)

Written as with torch.distributed: ``init_process_group("mpi")``, a ``DistributedSampler``
giving each rank its share of every epoch, the model wrapped in ``DistributedDataParallel``
(rank 0's weights broadcast at construction, gradients averaged during backward). The
global batch is ``--batch`` whatever the number of ranks (each takes ``batch / ranks``), so
the run follows the single-process one and ends at its accuracy. Rank 0 prints the test
accuracy after each epoch.
"""

import argparse
import time

import interop as it
import interop.distributed as dist
from interop import nn
from interop.data.datasets import Digits
from interop.nn.parallel import DistributedDataParallel
from interop.utils.data import DataLoader, DistributedSampler, TensorDataset


def make_model():
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 2 * 2, 64), nn.ReLU(), nn.Linear(64, 10))


def digits():
    """(train, test) TensorDatasets: interop.data.datasets.Digits (scikit-learn's 1,797 8x8
    images, the last 360 held out), pixels scaled to [0, 1], as whole tensors."""
    parts = [Digits(train=train) for train in (True, False)]
    return tuple(TensorDataset(d.data[:, None].float() / 255, d.targets) for d in parts)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--batch", type=int, default=64, help="global batch (all ranks together)")
    ap.add_argument("--lr", type=float, default=0.05)
    args = ap.parse_args(argv)

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    if args.batch % world:
        raise SystemExit(f"--batch {args.batch} must be a multiple of the {world} ranks")
    train, test = digits()
    sampler = DistributedSampler(train, shuffle=True, seed=0)    # rank and size from dist
    loader = DataLoader(train, batch_size=args.batch // world, sampler=sampler)

    it.manual_seed(rank)        # different on each rank: the broadcast makes them equal
    model = DistributedDataParallel(make_model())
    opt = it.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    lossf = nn.CrossEntropyLoss()
    xt, yt = test.tensors
    start = time.perf_counter()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        model.train()
        for x, y in loader:
            opt.zero_grad()
            lossf(model(x), y).backward()
            opt.step()
        if rank == 0:
            model.eval()
            with it.no_grad():
                acc = (model(xt).argmax(1) == yt).astype(it.float32).mean().item()
            print(f"epoch {epoch + 1}: test accuracy {100 * acc:.1f}% "
                  f"({world} rank{'s' if world > 1 else ''}, "
                  f"{time.perf_counter() - start:.1f} s)", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
