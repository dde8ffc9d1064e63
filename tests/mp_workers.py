"""Functions the processes of tests/test_multiprocessing.py run: a module that imports
only interop, so that a spawned process starts quickly (it imports this module, not the test
module and PyTorch)."""

import interop as it
from interop.backends import _shared


def add_into(rank, tensor, amount):
    with it.no_grad():
        tensor.add_(amount * (rank + 1))


def hogwild_train(rank, model, xs, ys, steps, queue):
    it.manual_seed(rank)
    opt = it.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(xs) - ys) ** 2).mean()
        loss.backward()
        opt.step()
    with it.no_grad():
        model.counter.add_(1)
    queue.put(("done", rank, it.full((2,), float(rank))))     # a tensor back to the parent


def fails(rank, tensor):
    if rank == 1:
        raise ValueError(f"worker {rank} saw {tensor.tolist()}")


KEPT = []


def make_shared_and_report(queue):
    """Makes a shared tensor it keeps until it exits and reports its block's name."""
    KEPT.append(it.ones(3).share_memory_())
    queue.put([name for _, name, _ in _shared._ROOTS.values()])
