"""Optimizer-step benchmark: one Adam step, interop against PyTorch's Adam in one process,
over the parameters of

* ``mlp``: the MLP 784-1024-1024-10 (six tensors, 1.86 M floats); the target figure:
  interop's step <= 1.0x PyTorch's (issue #29);
* ``small``: a 50-layer MLP 64 wide (100 tensors of 4096 and 64 floats), where the cost is
  per tensor, not per float: what interop's foreach path (``FlatGroup``) is for.

Both libraries start from the same parameters and take the same fixed gradients at every
step, so after the timed steps their parameters must agree (checked: a fast wrong step
cannot pass). PyTorch runs with ``foreach=True`` (its multi-tensor implementation, the
default on GPUs) and with its CPU default (``foreach=None``, one tensor at a time); the
ratio reported against the target is against the faster of the two. PyTorch runs on one
thread, as NumPy's elementwise kernels do (on a shared machine more threads only add
contention; this is the stricter comparison for interop). Steps are timed in
interleaved samples (drift in the machine's speed falls on every row alike); the figure
is the median step time.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time

import numpy as np
import torch

import interop as it

WORKLOADS = {"mlp": [(1024, 784), (1024,), (1024, 1024), (1024,), (10, 1024), (10,)],
             "small": [(64, 64), (64,)] * 50}
QUICK = dict(repeats=5, steps=3, warmup=2)
FULL = dict(repeats=15, steps=10, warmup=5)
TARGET = 1.0


def _arrays(shapes, seed=0):
    g = np.random.default_rng(seed)
    params = [(g.standard_normal(s) * 0.05).astype(np.float32) for s in shapes]
    grads = [g.standard_normal(s).astype(np.float32) for s in shapes]
    return params, grads


class _Stepper:
    """One library's parameters (gradients set once) and its Adam."""

    def __init__(self, lib, params, grads, **options):
        self.params = [lib.tensor(p, requires_grad=True) for p in params]
        for p, g in zip(self.params, grads):
            p.grad = lib.tensor(g)
        self.opt = lib.optim.Adam(self.params, lr=1e-3, **options)

    def run(self, n):
        t0 = time.perf_counter()
        for _ in range(n):
            self.opt.step()
        return (time.perf_counter() - t0) / n

    def values(self):
        return [np.asarray(p.detach().tolist(), dtype=np.float32) for p in self.params]


def main(*, quick=False, backend="cpu", json_path=None):
    cfg = QUICK if quick else FULL
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _measure(cfg, quick, backend, json_path)
    finally:
        torch.set_num_threads(threads)


def _measure(cfg, quick, backend, json_path):
    print(f"# Adam steps, interop ({backend}) vs torch {torch.__version__} (1 thread), "
          f"{platform.machine()}, {os.cpu_count()} cpus, {'quick' if quick else 'full'} run")
    results, agree = {}, True
    for workload, shapes in WORKLOADS.items():
        times, error = _workload(cfg, backend, shapes)
        ratio = times["interop"] / min(times["torch foreach"], times["torch default"])
        agree &= error <= 1e-5
        numel = sum(int(np.prod(s)) for s in shapes)
        print(f"{workload}: {len(shapes)} tensors, {numel / 1e6:.2f} M floats")
        for name, t in times.items():
            print(f"  {name:14s} {1 / t:8.1f} steps/s  ({t * 1e3:6.2f} ms/step)")
        print(f"  ratio interop / fastest torch: {ratio:.2f}x"
              + (f" (target <= {TARGET}x)" if workload == "mlp" else "")
              + f"; parameters after the run differ by at most {error:.1e}"
              + ("" if error <= 1e-5 else "  <-- DISAGREE"))
        results[workload] = {"ms_per_step": {k: v * 1e3 for k, v in times.items()},
                             "ratio": ratio, "max_abs_difference": error}
    if json_path:
        with open(json_path, "w") as f:
            json.dump(results, f, indent=2)
    return 0 if agree else 1


def _workload(cfg, backend, shapes):
    """Median seconds per step of each row, and the largest difference of the parameters
    of interop and PyTorch (foreach) after the run."""
    params, grads = _arrays(shapes)
    with it.use_backend(backend):
        rows = {"interop": _Stepper(it, params, grads),
                "torch foreach": _Stepper(torch, params, grads, foreach=True),
                "torch default": _Stepper(torch, params, grads)}
        for row in rows.values():
            row.run(cfg["warmup"])
        samples = {name: [] for name in rows}
        for _ in range(cfg["repeats"]):
            for name, row in rows.items():
                samples[name].append(row.run(cfg["steps"]))
        ours = rows["interop"].values()
    times = {name: statistics.median(s) for name, s in samples.items()}
    error = max(float(np.max(np.abs(a - b))) for a, b in zip(ours, rows["torch foreach"].values()))
    return times, error
