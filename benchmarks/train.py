"""Training-step benchmarks: an MLP, a LeNet-like CNN and the network of PyTorch's MNIST
example trained side by side with PyTorch, and the peak memory of 50 steps of each in a fresh
process.

* ``mlp``: 784-1024-1024-10 with ReLU, batch 128, cross-entropy, SGD (lr 0.01). Target:
  interop's step time <= 1.0x PyTorch's (issue #29: at 2 threads).
* ``cnn``: conv 1->32 3x3, relu, maxpool 2, conv 32->64 3x3, relu, maxpool 2, flatten,
  linear 1600->128, relu, linear 128->10; batch 64 of 28x28, float32, cross-entropy, SGD.
  Target: <= 1.2x PyTorch's step time (issue #29: at 2 threads).
* ``mnist``: the network of PyTorch's MNIST example (written here, not copied): conv 1->32
  3x3, relu, conv 32->64 3x3, relu, maxpool 2, dropout 0.25, flatten, linear 9216->128,
  relu, dropout 0.5, linear 128->10, log_softmax; nll_loss, SGD; batch 64 of 28x28.
  Target: <= 1.2x PyTorch's step time.
* ``memory``: peak RSS of a fresh process that builds a model and runs 50 steps, interop
  against PyTorch, for each model. Target: <= 1.0x. The peak is the process's ``VmHWM``
  (Linux): ``ru_maxrss`` would carry over the RSS of the benchmark's own process (which has
  PyTorch loaded) across ``exec``, and read ~220 MB for every interop run.

The same work on both sides: both libraries start from the same weights (PyTorch's,
loaded into interop through ``load_state_dict``), see the same batch and run the same full
step (``zero_grad`` to None, forward in grad mode, ``backward``, ``SGD.step``), so their
losses must agree: the benchmark checks that after the timed steps, so a fast wrong step
cannot pass. Where the model has dropout (``mnist``) the two libraries draw different masks,
so the losses are compared on one step with dropout off (``eval()``) from the same weights,
before the timed steps, which run in training mode. Each library trains in a process of its
own (in one process OpenBLAS's and PyTorch's thread pools spin against each other); the two
take turns, sample by sample, so drift in the machine's speed falls on both alike, with a
pause between turns in which the thread pools of the process that just ran fall asleep
(they spin for a while after their last job, on the cores the other process is about to be
timed on).

Same conditions on both sides, stated in the output:

* threads: both processes are set to the same number (``threads``; default: every core)
  with ``torch.set_num_threads`` and ``interop.set_num_threads``;
* the allocator: interop's CPU backend tunes glibc's malloc for its process (freed array
  memory is kept for reuse instead of being unmapped and page-faulted in again). That
  tuning speeds PyTorch up as much (a LeNet step ~1.3x), so both processes get the same
  settings, through glibc's ``GLIBC_TUNABLES`` (kept as given where the caller set it).
  Without it the comparison measured the allocator, not the frameworks: PyTorch ran with
  glibc's defaults, interop with its tuning, and the CNN ratio read ~1.0x where both
  libraries in one process (same allocator) read ~1.4x.

The figure is the median, over ``repeats`` samples, of the mean step time of ``steps``
consecutive steps, after ``warmup`` steps.
"""

from __future__ import annotations

import contextlib
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
MODELS = ("mlp", "cnn", "mnist")
DROPOUT = ("mnist",)        # models whose losses are compared with dropout off
FULL = dict(repeats=15, steps=10, warmup=10)


def build(lib, model):
    """The benchmark model, written once for either library (same names, same layout)."""
    nn = lib.nn
    if model == "mlp":
        return nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                             nn.Linear(1024, 10))
    if model == "mnist":
        return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
                             nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5),
                             nn.Linear(128, 10), nn.LogSoftmax(dim=1))
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))


def data(model, seed=0):
    g = np.random.default_rng(seed)
    if model == "mlp":
        x = g.standard_normal((128, 784)).astype(np.float32)
        y = g.integers(0, 10, 128)
    else:       # cnn, mnist
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
        self.loss_fn = lib.nn.NLLLoss() if model == "mnist" else lib.nn.CrossEntropyLoss()
        self.x = lib.asarray(x)
        self.y = lib.asarray(y)
        self.loss = None

    def step(self):
        self.opt.zero_grad()
        loss = self.loss_fn(self.net(self.x), self.y)
        loss.backward()
        self.opt.step()
        self.loss = loss

    def eval_step(self):
        """One step with dropout off (``eval()``); the loss, as a float."""
        self.net.eval()
        self.step()
        self.net.train()
        return float(self.loss.item())

    def run(self, n):
        t = time.perf_counter()
        for _ in range(n):
            self.step()
        return (time.perf_counter() - t) / n


# interop's CPU backend tunes glibc's malloc (interop/backends/_numpy.py: tune_malloc); the
# same two settings as glibc tunables, for every process the benchmark starts
SAME_ALLOCATOR = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456"
PAUSE_S = 0.25      # between turns: the pools of the process that just ran fall asleep


@contextlib.contextmanager
def same_allocator():
    """Processes started inside get the allocator settings of SAME_ALLOCATOR (unless the
    caller set GLIBC_TUNABLES: then theirs, for both libraries alike)."""
    given = os.environ.get("GLIBC_TUNABLES")
    if given is None:
        os.environ["GLIBC_TUNABLES"] = SAME_ALLOCATOR
    try:
        yield os.environ["GLIBC_TUNABLES"]
    finally:
        if given is None:
            del os.environ["GLIBC_TUNABLES"]


def _worker(lib_name, model, backend, state, threads, conn):
    """One library's trainer in a process of its own: runs ``n`` steps per request and
    answers with the seconds per step; ``None`` asks for the last loss and ends it (for a
    model with dropout, the loss of a first step taken with dropout off). The first message
    back is the number of threads in effect."""
    if lib_name == "torch":
        import torch as lib
        state = {k: lib.from_numpy(v) for k, v in state.items()}
    else:
        import interop as lib
        lib.set_backend(backend)
        state = {k: lib.asarray(v) for k, v in state.items()}
    lib.set_num_threads(threads)
    x, y = data(model)
    trainer = Trainer(lib, model, x, y, state)
    check = trainer.eval_step() if model in DROPOUT else None
    conn.send(lib.get_num_threads())
    while True:
        n = conn.recv()
        if n is None:
            conn.send(float(trainer.loss.item()) if check is None else check)
            return
        conn.send(trainer.run(n))


def default_threads():
    return os.cpu_count() or 1


def step_times(model, *, quick=False, backend="cpu", threads=None, info=None):
    """Median seconds per training step for interop and PyTorch, and their final losses.

    Each library trains in a process of its own (in one process the two thread pools --
    OpenBLAS's and PyTorch's -- spin against each other and slow both down), with the same
    number of threads and the same allocator settings (see the module's docstring), from
    the same weights (PyTorch's default init) on the same batch; the processes take turns,
    with a pause between turns, so drift in the machine's speed falls on both alike.
    ``info`` (a dict), when given, receives the threads each process ran with and the
    allocator settings."""
    import torch

    cfg = QUICK if quick else FULL
    threads = default_threads() if threads is None else threads
    torch.manual_seed(0)
    state = {k: v.detach().numpy().copy() for k, v in build(torch, model).state_dict().items()}
    ctx = multiprocessing.get_context("spawn")
    conns, procs, used = {}, [], {}
    with same_allocator() as allocator:
        for name in ("interop", "torch"):
            here, there = ctx.Pipe()
            p = ctx.Process(target=_worker, args=(name, model, backend, state, threads, there),
                            daemon=True)
            p.start()
            conns[name] = here
            procs.append(p)
    try:
        for name, c in conns.items():
            used[name] = c.recv()
            c.send(cfg["warmup"])
            c.recv()
        samples = {name: [] for name in conns}
        for _ in range(cfg["repeats"]):
            for name, c in conns.items():
                time.sleep(PAUSE_S)
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
    if info is not None:
        info.update(threads=used, allocator=allocator)
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
lib.set_num_threads(int(sys.argv[2]))
model = sys.argv[3]
x, y = data(model)
t = Trainer(lib, model, x, y)
t.run(50)
try:        # this process image's own peak (ru_maxrss keeps the parent's across exec)
    with open("/proc/self/status") as f:
        print(next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")))
except OSError:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_memory(threads=None, model="cnn"):
    """Max RSS (MB) of a fresh process running 50 steps of ``model``, per library (both with
    the allocator settings of :func:`same_allocator` and ``threads`` threads)."""
    threads = default_threads() if threads is None else threads
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = _MEMORY_SCRIPT.format(root=root)
    out = {}
    for name in ("interop", "torch"):
        with same_allocator():
            res = subprocess.run([sys.executable, "-c", script, name, str(threads), model],
                                 capture_output=True, text=True, check=True)
        out[name] = int(res.stdout.split()[-1]) / 1024     # KB on Linux
    return out


def main(*, which=("mlp", "cnn", "mnist", "memory"), quick=False, backend="cpu", json_path=None,
         threads=None):
    import torch

    cfg = QUICK if quick else FULL
    threads = default_threads() if threads is None else threads
    print(f"# training steps, interop ({backend}) vs torch {torch.__version__}, "
          f"{threads} thread(s) each, {platform.machine()}, {os.cpu_count()} cpus, "
          f"{'quick' if quick else 'full'} run: median of {cfg['repeats']} samples of "
          f"{cfg['steps']} steps after {cfg['warmup']}; GLIBC_TUNABLES="
          f"{os.environ.get('GLIBC_TUNABLES', SAME_ALLOCATOR)} in both processes")
    results, failed = {}, False
    targets = {"mlp": 1.0, "cnn": 1.2, "mnist": 1.2, "memory": 1.0}
    for model in which:
        if model == "memory":
            results["memory"] = {}
            for name in MODELS:
                mem = peak_memory(threads, name)
                ratio = mem["interop"] / mem["torch"]
                results["memory"][name] = dict(mem, ratio=ratio)
                print(f"{name}, 50 steps, peak RSS: interop {mem['interop']:.0f} MB, "
                      f"torch {mem['torch']:.0f} MB, ratio {ratio:.2f}x "
                      f"(target <= {targets['memory']}x)")
            continue
        info = {}
        times, (loss_o, loss_t) = step_times(model, quick=quick, backend=backend,
                                             threads=threads, info=info)
        ratio = times["interop"] / times["torch"]
        agree = abs(loss_o - loss_t) <= 1e-3 * max(1.0, abs(loss_t))
        failed |= not agree
        results[model] = dict(interop_s=times["interop"], torch_s=times["torch"], ratio=ratio,
                              loss_interop=loss_o, loss_torch=loss_t, **info)
        which_loss = "of a step with dropout off" if model in DROPOUT else "after the run"
        print(f"{model}: interop {1 / times['interop']:.1f} steps/s "
              f"({times['interop'] * 1e3:.2f} ms), torch {1 / times['torch']:.1f} steps/s "
              f"({times['torch'] * 1e3:.2f} ms), ratio {ratio:.2f}x (target <= "
              f"{targets[model]}x); losses {which_loss} {loss_o:.6f} vs {loss_t:.6f}"
              + ("" if agree else "  <-- DISAGREE")
              + f"; threads in effect {info['threads']}")
    print(f"peak RSS of this process: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if json_path:
        with open(json_path, "w") as f:
            json.dump(results, f, indent=2)
    return 1 if failed else 0
