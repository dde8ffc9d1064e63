"""Every workload in one run: ``python -m benchmarks`` (no subcommand).

It runs the benchmark modules one after the other -- ``perop`` (per-op overhead), ``train``
(MLP, CNN and MNIST-example training steps; ``train2``: the same at 2 threads), ``layers`` (conv, pooling, norms, embedding,
losses, LSTM, attention, a Transformer encoder layer, matmul 1024²), ``optim`` (Adam steps),
``data`` (DataLoader) and ``dlpack`` (hand-offs) -- each measuring interop side by side with PyTorch
in the same run as it does alone (``python -m benchmarks NAME`` prints the details), and
gathers their figures into one table: interop's time, PyTorch's, and the ratio (interop /
PyTorch: below 1 is faster). Where a raw NumPy floor exists (per-op) it is shown too.
Every figure is a time (data-loading throughput is turned into ms per batch), so every
ratio reads the same way.

``quick=True`` uses each module's quick settings (under two minutes on 2 cores);
``json_path`` writes the rows; ``plot_path`` draws the ratios as a bar chart (matplotlib).
``SUITE`` lists the parts: one line each, ``(name, run, rows)``.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import platform
import sys
import tempfile
import time


def _perop(r):
    out = []
    for mode, label in (("fwdbwd", "fwd+bwd"), ("fwd_nograd", "fwd, no_grad")):
        ours, theirs = r["results"][f"interop_{mode}"], r["results"][f"torch_{mode}"]
        floor = r["results"]["numpy_fwd"]["us_per_op"] if mode == "fwd_nograd" else None
        out.append(_row("per-op", f"100-op elementwise chain, {label}", ours["us_per_op"],
                        theirs["us_per_op"], "µs/op", floor))
    return out


def _train(r):
    names = {"mlp": "MLP 784-1024-1024-10, batch 128, SGD step",
             "cnn": "LeNet-like CNN, batch 64, SGD step",
             "mnist": "PyTorch's MNIST example network, batch 64, SGD step"}
    return [_row("training", names[k] + (f", {v['threads']['torch']} thread(s)" if "threads" in v
                                         else ""), v["interop_s"] * 1e3, v["torch_s"] * 1e3, "ms")
            for k, v in r.items() if k in names]


def _layers(r):
    return [_row("layers", v["description"], v["interop_ms"], v["torch_ms"], "ms")
            for v in r["results"].values()]


def _optim(r):
    names = {"mlp": "Adam step over the MLP's parameters", "small": "Adam step over 100 small tensors"}
    out = []
    for k, v in r.items():
        ms = v["ms_per_step"]
        theirs = min(t for name, t in ms.items() if name.startswith("torch"))
        out.append(_row("optim", names.get(k, k) + " (PyTorch: its faster mode)",
                        ms["interop"], theirs, "ms"))
    return out


def _data(r):
    return [_row("data", f"DataLoader, 28x28 images + transform, batch 64, "
                 f"{k.replace('=', ' ')}", 1e3 / v["interop"], 1e3 / v["torch"], "ms/batch")
            for k, v in r.items()]


def _dlpack(r):
    """interop's hand-offs against PyTorch's doing the same with the same partner."""
    us = {(row["pair"], row["size"]): row["us"] for row in r["rows"]}
    out = []
    for (pair, size), t in us.items():
        src, dst = (s.strip() for s in pair.replace("cuda ", "").split("->"))
        if "interop" not in (src, dst) or {src, dst} == {"interop", "torch"}:
            continue
        ref_pair = pair.replace("interop", "torch")
        if (ref_pair, size) in us:
            out.append(_row("dlpack", f"{pair} vs {ref_pair}, {size}", t, us[(ref_pair, size)],
                            "µs"))
    return out


def _row(group, workload, interop, torch, unit, floor=None):
    return {"group": group, "workload": workload, "interop": interop, "torch": torch,
            "unit": unit, "ratio": interop / torch if torch else None, "numpy_floor": floor}


def _run_perop(quick, backend, path):
    from benchmarks import perop
    return perop.main(quick=quick, backend=backend, json_path=path)


def _run_train(quick, backend, path):
    from benchmarks import train
    # one thread on both sides too: with two, on a shared 2-core machine, a CNN step's ratio
    # read 0.78x, 1.03x, 1.19x and 10.65x within one hour (threads spinning at barriers while
    # the other is descheduled); `python -m benchmarks cnn --threads 2` measures it
    return train.main(which=("mlp", "cnn", "mnist"), quick=quick, backend=backend, json_path=path,
                      threads=1)


def _run_train_threads(quick, backend, path):
    from benchmarks import train
    # the training steps at two threads, where issue #29 states the MLP's and LeNet's
    # targets (the MNIST example's too: its target names no thread count): interop's team of
    # threads spins between products as PyTorch's OpenMP threads do, so the figure measures
    # the libraries (it read 0.78x-10.65x within an hour while interop's threads slept
    # between products and OpenBLAS's spun against them)
    return train.main(which=("mlp", "cnn", "mnist"), quick=quick, backend=backend,
                      json_path=path, threads=2)


def _run_layers(quick, backend, path):
    from benchmarks import layers
    # one thread on both sides, as the README's layer table: in one process OpenBLAS's and
    # PyTorch's thread pools spin against each other (a busy 2-core machine measured 12x-150x)
    return layers.main(quick=quick, backend=backend, json_path=path, threads=1)


def _run_optim(quick, backend, path):
    from benchmarks import optim
    return optim.main(quick=quick, backend=backend, json_path=path)


def _run_data(quick, backend, path):
    from benchmarks import data
    return data.main(quick=quick, json_path=path)


def _run_dlpack(quick, backend, path):
    from benchmarks import dlpack
    return dlpack.main(quick=quick, json_path=path)


# (name, run(quick, backend, json_path) -> exit status, rows(json) -> table rows)
SUITE = [
    ("perop", _run_perop, _perop),
    ("train", _run_train, _train),
    ("train2", _run_train_threads, _train),
    ("layers", _run_layers, _layers),
    ("optim", _run_optim, _optim),
    ("data", _run_data, _data),
    ("dlpack", _run_dlpack, _dlpack),
]


def run(*, quick=False, backend="cpu", only=None, log=sys.stderr):
    """Runs the parts of SUITE (``only``: names to keep); returns (rows, failures), where a
    failure is (name, exit status, the part's own output)."""
    rows, failures = [], []
    for name, run_part, to_rows in SUITE:
        if only is not None and name not in only:
            continue
        t0 = time.perf_counter()
        print(f"running {name} ...", end="", file=log, flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, f"{name}.json")
            buf = io.StringIO()
            try:
                with contextlib.redirect_stdout(buf):
                    status = run_part(quick, backend, path)
            except Exception as e:                     # one part failing must not hide the rest
                status, buf = 1, io.StringIO(buf.getvalue() + f"\n{type(e).__name__}: {e}")
            if status == 0 and os.path.exists(path):
                with open(path, encoding="utf-8") as f:
                    rows += to_rows(json.load(f))
            else:
                failures.append((name, status, buf.getvalue()))
        print(f" {time.perf_counter() - t0:.0f} s" + ("" if status == 0 else " FAILED"),
              file=log, flush=True)
    return rows, failures


def _fmt(v):
    if v is None:
        return "-"
    return f"{v:.3g}" if v < 100 else f"{v:.0f}"


def format_table(rows):
    w = max([len(r["workload"]) for r in rows] + [8])
    lines = [f"{'workload':<{w}}  {'unit':<8} {'interop':>9} {'PyTorch':>9} {'ratio':>7} "
             f"{'NumPy floor':>11}"]
    lines.append("-" * len(lines[0]))
    group = None
    for r in rows:
        if r["group"] != group:
            group = r["group"]
            lines.append(f"[{group}]")
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        lines.append(f"{r['workload']:<{w}}  {r['unit']:<8} {_fmt(r['interop']):>9} "
                     f"{_fmt(r['torch']):>9} {ratio:>7} {_fmt(r['numpy_floor']):>11}")
    return "\n".join(lines)


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    rows = [r for r in rows if r["ratio"] is not None]
    fig, ax = plt.subplots(figsize=(10, 0.32 * len(rows) + 1.4))
    ys = list(range(len(rows)))[::-1]
    colors = ["tab:green" if r["ratio"] <= 1 else "tab:orange" for r in rows]
    ax.barh(ys, [r["ratio"] for r in rows], color=colors)
    ax.axvline(1.0, color="black", lw=1)
    ax.set_xscale("log")
    lo, hi = min(r["ratio"] for r in rows), max(r["ratio"] for r in rows)
    ticks = [t for t in (0.125, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64) if lo / 2 <= t <= hi * 2]
    ax.set_xticks(ticks, [f"{t:g}x" for t in ticks])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_yticks(ys, [f"{r['group']}: {r['workload']}" for r in rows], fontsize=8)
    ax.set_xlabel("time ratio interop / PyTorch (log scale; left of 1 = interop faster)")
    for y, r in zip(ys, rows):
        ax.text(r["ratio"], y, f" {r['ratio']:.2f}x", va="center", fontsize=7)
    ax.set_title(f"python -m benchmarks, {datetime.date.today()}, {platform.machine()}, "
                 f"{os.cpu_count()} CPUs", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(*, quick=False, backend="cpu", json_path=None, plot_path=None, only=None):
    if plot_path:
        try:
            import matplotlib  # noqa: F401  (checked before minutes of measuring)
        except ImportError:
            print("--plot needs matplotlib: pip install matplotlib (or pip install -e \".[plot]\")",
                  file=sys.stderr)
            return 2
    t0 = time.perf_counter()
    rows, failures = run(quick=quick, backend=backend, only=only)
    import torch
    import numpy as np
    import interop as it
    print(f"interop {it.__version__} (backend {backend}) against PyTorch {torch.__version__}, "
          f"NumPy {np.__version__}, Python {platform.python_version()}; {platform.machine()}, "
          f"{os.cpu_count()} CPUs; {datetime.date.today()}; "
          f"{'quick' if quick else 'full'} run, {time.perf_counter() - t0:.0f} s")
    print("ratio = interop / PyTorch time (below 1: interop faster); each part's details: "
          "python -m benchmarks NAME")
    print()
    if rows:
        print(format_table(rows))
    for name, status, output in failures:
        print(f"\n{name} failed (exit status {status}); its output:\n{output}", file=sys.stderr)
    if json_path:
        with open(json_path, "w", encoding="utf-8") as f:
            json.dump({"date": str(datetime.date.today()), "quick": quick, "backend": backend,
                       "machine": {"arch": platform.machine(), "cpus": os.cpu_count()},
                       "versions": {"interop": it.__version__, "torch": torch.__version__,
                                    "numpy": np.__version__,
                                    "python": platform.python_version()},
                       "rows": rows, "failed": [f[0] for f in failures]}, f, indent=2)
        print(f"\nwrote {json_path}")
    if plot_path and rows:
        plot(rows, plot_path)
        print(f"wrote {plot_path}")
    return 1 if failures else 0
