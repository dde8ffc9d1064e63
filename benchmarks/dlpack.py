"""DLPack hand-off time: interop <-> NumPy, PyTorch and JAX, at 1 KB and 256 MB.

One hand-off is ``consumer.from_dlpack(producer)``: the producer exports a capsule, the
consumer wraps the memory. Zero-copy means O(1): the same time at 1 KB and 256 MB. Rows
with interop on one side are measured side by side with the same hand-off between the
other libraries (torch <-> numpy is the reference every PyTorch user knows). Each figure is
the median over samples of a calibrated number of hand-offs; the ``shared`` column says
whether the consumer's data pointer equals the producer's.

Where CuPy has a CUDA GPU (``interop.cuda.is_available()``), rows prefixed ``cuda`` add the
same hand-offs on GPU 0 between interop's ``cuda`` backend, CuPy and ``torch.cuda``
(torch.cuda <-> CuPy as the reference); elsewhere they are left out, and the table says so.

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
    if isinstance(x, it.Tensor):
        x = getattr(x._data, "_array", x._data)          # (array-api-strict wraps NumPy)
    if isinstance(x, np.ndarray):
        return x.__array_interface__["data"][0]
    if hasattr(x, "data_ptr"):                          # torch
        return x.data_ptr()
    if hasattr(getattr(x, "data", None), "ptr"):        # CuPy
        return x.data.ptr
    return x.unsafe_buffer_pointer()                    # JAX


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


def _cuda_libraries(libs):
    """CuPy and torch.cuda where CuPy has a GPU, else None."""
    if not it.cuda.is_available():
        return None
    import cupy
    out = {"cupy": cupy}
    torch = libs.get("torch")
    if torch is not None and torch.cuda.is_available():
        out["torch"] = torch
    return out


def _cuda_producers(cuda_libs, nbytes):
    n = nbytes // 4
    with it.use_backend("cuda:0"):
        out = {"interop": it.zeros(n)}
    out["cupy"] = cuda_libs["cupy"].zeros(n, dtype=cuda_libs["cupy"].float32)
    if "torch" in cuda_libs:
        out["torch"] = cuda_libs["torch"].zeros(n, device="cuda:0")
    cuda_libs["cupy"].cuda.Device(0).synchronize()
    return out


def _cuda_consumers(cuda_libs):
    out = {"interop": it.from_dlpack, "cupy": cuda_libs["cupy"].from_dlpack}
    if "torch" in cuda_libs:
        out["torch"] = cuda_libs["torch"].from_dlpack
    return out


CUDA_PAIRS = [("interop", "cupy"), ("cupy", "interop"), ("interop", "torch"),
              ("torch", "interop"), ("torch", "cupy"), ("cupy", "torch")]

PAIRS = [("interop", "numpy"), ("numpy", "interop"), ("torch", "numpy"), ("numpy", "torch"),
         ("interop", "torch"), ("torch", "interop"), ("interop", "jax"), ("jax", "interop"),
         ("numpy", "jax"), ("torch", "jax")]


def _measure(rows, label, producers, consumers, pairs, cfg, prefix=""):
    for src, dst in pairs:
        if src not in producers or dst not in consumers:
            continue
        x, take = producers[src], consumers[dst]
        y = take(x)
        shared = _pointer(y) == _pointer(x)
        del y
        secs = _time(lambda: take(x), **cfg, copies=not shared)
        rows.append(dict(size=label, pair=f"{prefix}{src} -> {dst}", us=secs * 1e6,
                         shared=shared))


def main(*, quick=False, json_path=None):
    cfg = QUICK if quick else FULL
    libs = _libraries()
    consumers = _consumers(libs)
    cuda_libs = _cuda_libraries(libs)
    rows = []
    for label, nbytes in SIZES.items():
        producers = _producers(libs, nbytes)
        _measure(rows, label, producers, consumers, PAIRS, cfg)
        del producers
        if cuda_libs is not None:
            producers = _cuda_producers(cuda_libs, nbytes)
            _measure(rows, label, producers, _cuda_consumers(cuda_libs), CUDA_PAIRS, cfg,
                     prefix="cuda ")
            del producers
        gc.collect()

    print("dlpack: one hand-off = consumer.from_dlpack(producer), float32; median "
          f"({'--quick' if quick else 'full'})")
    print(f"{'hand-off':<27}" + "".join(f"{s:>14}" for s in SIZES) + "   shared (zero-copy)")
    print("-" * 79)
    for pair in dict.fromkeys(r["pair"] for r in rows):
        cells = {r["size"]: r for r in rows if r["pair"] == pair}
        figs = "".join(f"{_fmt(cells[s]['us']):>14}" if s in cells else f"{'-':>14}" for s in SIZES)
        shared = " / ".join("yes" if cells[s]["shared"] else "NO" for s in SIZES if s in cells)
        print(f"{pair:<27}{figs}   {shared}")
    if cuda_libs is None:
        print("(no CUDA GPU here: the cuda rows are left out)")
    versions = {k: getattr(v, "__version__", "?") for k, v in libs.items() if k != "jax"}
    if cuda_libs is not None:
        versions["cupy"] = cuda_libs["cupy"].__version__
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
