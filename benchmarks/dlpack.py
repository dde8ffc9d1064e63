"""DLPack hand-off time: interop <-> NumPy, PyTorch and JAX, at 1 KB and 256 MB.

One hand-off is ``consumer.from_dlpack(producer)``: the producer exports a capsule, the
consumer wraps the memory. Zero-copy means O(1): the same time at 1 KB and 256 MB. Rows
with interop on one side are measured side by side with the same hand-off between the
other libraries (torch <-> numpy is the reference every PyTorch user knows). Each figure is
the median over samples of a calibrated number of hand-offs; the ``shared`` column says
whether the consumer's data pointer equals the producer's.

Target (issue: DLPack interchange): O(1), under 5 µs per hand-off with numpy and torch.
"""

from __future__ import annotations

import gc
import json
import platform
import statistics
import sys
import time

import numpy as np

import interop as it

SIZES = {"1 KB": 1 << 10, "256 MB": 256 << 20}
QUICK = dict(repeats=5, sample_s=0.02)
FULL = dict(repeats=15, sample_s=0.1)


def _pointer(x):
    if isinstance(x, np.ndarray):
        return x.__array_interface__["data"][0]
    if isinstance(x, it.Tensor):
        d = x._data
        return _pointer(np.asarray(getattr(d, "_array", d)))
    if hasattr(x, "data_ptr"):
        return x.data_ptr()
    return x.unsafe_buffer_pointer()


def _time(fn, repeats, sample_s, copies=False):
    """Median seconds per call of ``fn``. A hand-off that copies is timed one call at a time,
    three times, with its copy freed in between (a loop of 256 MB copies would time the
    allocator and the swap instead)."""
    if copies:
        samples = []
        for _ in range(3):
            gc.collect()
            t0 = time.perf_counter()
            fn()                      # (the copy is freed on return)
            samples.append(time.perf_counter() - t0)
        return statistics.median(samples)
    t0 = time.perf_counter()
    fn()
    once = time.perf_counter() - t0
    n = max(1, min(100_000, int(sample_s / max(once, 1e-7))))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t0) / n)
    return statistics.median(samples)


def _libraries():
    libs = {"numpy": np}
    try:
        import torch
        torch.set_num_threads(1)
        libs["torch"] = torch
    except ImportError:
        pass
    try:
        import jax.numpy as jnp
        libs["jax"] = jnp
    except ImportError:
        pass
    return libs


def _producers(libs, nbytes):
    n = nbytes // 4
    out = {"interop": it.zeros(n)}                 # interop allocates 64-byte aligned
    out["numpy"] = np.zeros(n, np.float32)
    if "torch" in libs:
        out["torch"] = libs["torch"].zeros(n)
    if "jax" in libs:
        out["jax"] = libs["jax"].zeros(n, dtype=libs["jax"].float32)
    return out


def _consumers(libs):
    out = {"interop": it.from_dlpack, "numpy": np.from_dlpack}
    if "torch" in libs:
        out["torch"] = libs["torch"].from_dlpack
    if "jax" in libs:
        out["jax"] = libs["jax"].from_dlpack
    return out


PAIRS = [("interop", "numpy"), ("numpy", "interop"), ("torch", "numpy"), ("numpy", "torch"),
         ("interop", "torch"), ("torch", "interop"), ("interop", "jax"), ("jax", "interop"),
         ("numpy", "jax"), ("torch", "jax")]


def main(*, quick=False, json_path=None):
    cfg = QUICK if quick else FULL
    libs = _libraries()
    consumers = _consumers(libs)
    rows = []
    for label, nbytes in SIZES.items():
        producers = _producers(libs, nbytes)
        for src, dst in PAIRS:
            if src not in producers or dst not in consumers:
                continue
            x, take = producers[src], consumers[dst]
            y = take(x)
            shared = _pointer(y) == _pointer(x)
            del y
            secs = _time(lambda: take(x), **cfg, copies=not shared)
            rows.append(dict(size=label, pair=f"{src} -> {dst}", us=secs * 1e6, shared=shared))
        del producers
        gc.collect()

    print("dlpack: one hand-off = consumer.from_dlpack(producer), float32; median "
          f"({'--quick' if quick else 'full'})")
    print(f"{'hand-off':<22}" + "".join(f"{s:>14}" for s in SIZES) + "   shared (zero-copy)")
    print("-" * 74)
    for pair in dict.fromkeys(r["pair"] for r in rows):
        cells = {r["size"]: r for r in rows if r["pair"] == pair}
        figs = "".join(f"{_fmt(cells[s]['us']):>14}" if s in cells else f"{'-':>14}" for s in SIZES)
        shared = " / ".join("yes" if cells[s]["shared"] else "NO" for s in SIZES if s in cells)
        print(f"{pair:<22}{figs}   {shared}")
    versions = {k: getattr(v, "__version__", "?") for k, v in libs.items() if k != "jax"}
    if "jax" in libs:
        import jax
        versions["jax"] = jax.__version__
    print("\nversions: python " + platform.python_version() + ", " +
          ", ".join(f"{k} {v}" for k, v in versions.items()))
    if json_path:
        with open(json_path, "w", encoding="utf-8") as fh:
            json.dump(dict(rows=rows, versions=versions), fh, indent=2)
    return 0


def _fmt(us):
    return f"{us:.1f} µs" if us < 10_000 else f"{us / 1000:.0f} ms"


if __name__ == "__main__":
    sys.exit(main(quick="--quick" in sys.argv))
