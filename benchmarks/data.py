"""Data-loading throughput: interop's DataLoader against PyTorch's, in one run.

An in-memory dataset of 28x28 uint8 images (MNIST's shape) whose ``__getitem__`` applies a
per-sample transform in NumPy (to float32, scale, normalise, random horizontal flip) and
returns ``(image, label)``; batches of 64, shuffled; 0 and 2 worker processes. The figure is
batches per second over whole epochs after a warm-up epoch (workers persistent, so process
start-up is not counted). Target: interop at least PyTorch's throughput with 2 workers.
"""

from __future__ import annotations

import json
import os
import statistics
import time

import numpy as np

N_IMAGES = 8192
BATCH = 64


class Images:
    """The same dataset for both loaders (it returns NumPy arrays, as a user's would)."""

    def __init__(self, n=N_IMAGES, seed=0):
        g = np.random.default_rng(seed)
        self.images = g.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        self.labels = g.integers(0, 10, n)
        self.flip = g.random(n) < 0.5

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        x = self.images[i].astype(np.float32) / 255.0
        x = (x - 0.1307) / 0.3081
        if self.flip[i]:
            x = x[:, ::-1]
        return np.ascontiguousarray(x)[None], int(self.labels[i])


def _loader(lib, dataset, workers):
    utils = lib.utils.data
    kwargs = dict(batch_size=BATCH, shuffle=True, num_workers=workers)
    if workers:
        kwargs["persistent_workers"] = True
    return utils.DataLoader(dataset, **kwargs)


def _epoch_rate(loader):
    t = time.perf_counter()
    n = sum(1 for _ in loader)
    return n / (time.perf_counter() - t)


def main(*, quick=False, json_path=None):
    import interop as it
    import torch
    import interop.utils.data  # noqa: F401  (loads the data layer)

    epochs = 2 if quick else 5
    ds = Images(2048 if quick else N_IMAGES)
    # torch's Dataset protocol is duck-typed; ours too: the same object serves both
    print(f"# data loading: {len(ds)} images 28x28, batch {BATCH}, shuffle, per-sample "
          f"transform; {os.cpu_count()} cpus, torch {torch.__version__}")
    results = {}
    for workers in (0, 2):
        loaders = {"interop": _loader(it, ds, workers), "torch": _loader(torch, ds, workers)}
        for ld in loaders.values():        # warm-up epoch: workers start, caches fill
            _epoch_rate(ld)
        rates = {name: [] for name in loaders}
        for _ in range(epochs):
            for name, ld in loaders.items():
                rates[name].append(_epoch_rate(ld))
        med = {name: statistics.median(r) for name, r in rates.items()}
        ratio = med["interop"] / med["torch"]
        results[f"workers={workers}"] = dict(med, ratio=ratio)
        print(f"num_workers={workers}: interop {med['interop']:.0f} batches/s, torch "
              f"{med['torch']:.0f} batches/s, interop/torch throughput {ratio:.2f}x"
              + ("  (target >= 1.0x)" if workers else ""))
        del loaders
    if json_path:
        with open(json_path, "w") as f:
            json.dump(results, f, indent=2)
    return 0
