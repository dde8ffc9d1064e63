"""Training-step benchmarks: an MLP and a LeNet-like CNN trained side by side with PyTorch
in one process, and the peak memory of 50 CNN steps in a fresh process each.

* ``mlp``: 784-1024-1024-10 with ReLU, batch 128, cross-entropy, SGD (lr 0.01). Target:
  interop's step time <= 1.1x PyTorch's.
* ``cnn``: conv 1->32 3x3, relu, maxpool 2, conv 32->64 3x3, relu, maxpool 2, flatten,
  linear 1600->128, relu, linear 128->10; batch 64 of 28x28, float32, cross-entropy, SGD.
  Target: <= 1.5x PyTorch's step time (stretch 1.2x).
* ``memory``: max RSS of a fresh process that builds the CNN and runs 50 steps, interop
  against PyTorch. Target: <= 1.5x.

Both libraries start from the same weights (PyTorch's, loaded into interop through
``load_state_dict``) and see the same batch, so their losses must agree: the benchmark
checks that after the timed steps, so a fast wrong step cannot pass. Each library trains
in a process of its own (in one process OpenBLAS's and PyTorch's thread pools spin against
each other); the two take turns, sample by sample, so drift in the machine's speed falls
on both alike. The figure is the median step time. Both use every core (PyTorch's default
threads; NumPy's BLAS threads).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

QUICK = dict(repeats=5, steps=3, warmup=3)
FULL = dict(repeats=15, steps=10, warmup=10)


def build(lib, model):
    """The benchmark model, written once for either library (same names, same layout)."""
    nn = lib.nn
    if model == "mlp":
        return nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                             nn.Linear(1024, 10))
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))


def data(model, seed=0):
    g = np.random.default_rng(seed)
    if model == "mlp":
        x = g.standard_normal((128, 784)).astype(np.float32)
        y = g.integers(0, 10, 128)
    else:
        x = g.standard_normal((64, 1, 28, 28)).astype(np.float32)
        y = g.integers(0, 10, 64)
    return x, y.astype(np.int64)


class Trainer:
    """One library's model, optimizer and batch; ``step()`` is one training step."""

    def __init__(self, lib, model, x, y, state=None):
        self.lib = lib
        self.net = build(lib, model)
        if state is not None:
            self.net.load_state_dict(state)
        self.opt = lib.optim.SGD(self.net.parameters(), lr=0.01)
        self.loss_fn = lib.nn.CrossEntropyLoss()
        self.x = lib.asarray(x)
        self.y = lib.asarray(y)
        self.loss = None

    def step(self):
        self.opt.zero_grad()
        loss = self.loss_fn(self.net(self.x), self.y)
        loss.backward()
        self.opt.step()
        self.loss = loss

    def run(self, n):
        t = time.perf_counter()
        for _ in range(n):
            self.step()
        return (time.perf_counter() - t) / n


def _worker(lib_name, model, backend, state, conn):
    """One library's trainer in a process of its own: runs ``n`` steps per request and
    answers with the seconds per step; ``None`` asks for the last loss and ends it."""
    if lib_name == "torch":
        import torch as lib
        state = {k: lib.from_numpy(v) for k, v in state.items()}
    else:
        import interop as lib
        lib.set_backend(backend)
        state = {k: lib.asarray(v) for k, v in state.items()}
    x, y = data(model)
    trainer = Trainer(lib, model, x, y, state)
    while True:
        n = conn.recv()
        if n is None:
            conn.send(float(trainer.loss.item()))
            return
        conn.send(trainer.run(n))


def step_times(model, *, quick=False, backend="cpu"):
    """Median seconds per training step for interop and PyTorch, and their final losses.

    Each library trains in a process of its own (both use every core: in one process the
    two thread pools -- OpenBLAS's and PyTorch's -- spin against each other and slow both
    down), from the same weights (PyTorch's default init) on the same batch; the processes
    take turns, so drift in the machine's speed falls on both alike."""
    import torch

    cfg = QUICK if quick else FULL
    torch.manual_seed(0)
    state = {k: v.detach().numpy().copy() for k, v in build(torch, model).state_dict().items()}
    ctx = multiprocessing.get_context("spawn")
    conns, procs = {}, []
    for name in ("interop", "torch"):
        here, there = ctx.Pipe()
        p = ctx.Process(target=_worker, args=(name, model, backend, state, there), daemon=True)
        p.start()
        conns[name] = here
        procs.append(p)
    try:
        for c in conns.values():
            c.send(cfg["warmup"])
            c.recv()
        samples = {name: [] for name in conns}
        for _ in range(cfg["repeats"]):
            for name, c in conns.items():
                c.send(cfg["steps"])
                samples[name].append(c.recv())
        losses = {}
        for name, c in conns.items():
            c.send(None)
            losses[name] = c.recv()
    finally:
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.terminate()
    return ({name: statistics.median(s) for name, s in samples.items()},
            (losses["interop"], losses["torch"]))


_MEMORY_SCRIPT = """
import resource, sys
sys.path.insert(0, {root!r})
from benchmarks.train import Trainer, data
lib_name = sys.argv[1]
if lib_name == "torch":
    import torch as lib
else:
    import interop as lib
x, y = data("cnn")
t = Trainer(lib, "cnn", x, y)
t.run(50)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_memory():
    """Max RSS (MB) of a fresh process running 50 CNN steps, per library."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = _MEMORY_SCRIPT.format(root=root)
    out = {}
    for name in ("interop", "torch"):
        res = subprocess.run([sys.executable, "-c", script, name], capture_output=True,
                             text=True, check=True)
        out[name] = int(res.stdout.split()[-1]) / 1024     # ru_maxrss is in KB on Linux
    return out


def main(*, which=("mlp", "cnn", "memory"), quick=False, backend="cpu", json_path=None):
    import torch

    print(f"# training steps, interop ({backend}) vs torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), {platform.machine()}, "
          f"{os.cpu_count()} cpus, {'quick' if quick else 'full'} run")
    results, failed = {}, False
    targets = {"mlp": 1.1, "cnn": 1.5, "memory": 1.5}
    for model in which:
        if model == "memory":
            mem = peak_memory()
            ratio = mem["interop"] / mem["torch"]
            results["memory"] = dict(mem, ratio=ratio)
            print(f"cnn, 50 steps, peak RSS: interop {mem['interop']:.0f} MB, "
                  f"torch {mem['torch']:.0f} MB, ratio {ratio:.2f}x "
                  f"(target <= {targets['memory']}x)")
            continue
        times, (loss_o, loss_t) = step_times(model, quick=quick, backend=backend)
        ratio = times["interop"] / times["torch"]
        agree = abs(loss_o - loss_t) <= 1e-3 * max(1.0, abs(loss_t))
        failed |= not agree
        results[model] = dict(interop_s=times["interop"], torch_s=times["torch"], ratio=ratio,
                              loss_interop=loss_o, loss_torch=loss_t)
        print(f"{model}: interop {1 / times['interop']:.1f} steps/s "
              f"({times['interop'] * 1e3:.2f} ms), torch {1 / times['torch']:.1f} steps/s "
              f"({times['torch'] * 1e3:.2f} ms), ratio {ratio:.2f}x (target <= "
              f"{targets[model]}x); losses after the run {loss_o:.6f} vs {loss_t:.6f}"
              + ("" if agree else "  <-- DISAGREE"))
    print(f"peak RSS of this process: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if json_path:
        with open(json_path, "w") as f:
            json.dump(results, f, indent=2)
    return 1 if failed else 0
