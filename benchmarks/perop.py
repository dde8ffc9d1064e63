"""Per-op overhead: a 100-op elementwise chain on a tiny tensor, forward + backward.

The workload is all overhead and no arithmetic: a float32 tensor of shape (16,), and
25 blocks of four elementwise ops each::

    y = x
    repeat 25 times:
        y = y * w          # w: a second leaf that requires grad
        y = y + 0.5
        y = y.tanh()
        y = y.sigmoid()
    y.sum().backward()     # counted as part of the chain, but not as an op

Per op = time of one chain / 100. Measured side by side in one process:

* interop, on the chosen backend (public API only);
* PyTorch on the CPU with one thread (skipped, with a note, if torch is missing);
* raw NumPy, forward only, no autograd: the floor. NumPy has no sigmoid ufunc, so
  its sigmoid is ``1 / (1 + exp(-y))``, the same arithmetic a backend without a
  native sigmoid does.

Each row is timed in samples of ``inner`` chains (calibrated so that a sample lasts
about a fixed time), after a warm-up; samples of all rows are interleaved so that
drift in the machine's speed falls on every row alike. The figure reported is the
median over the samples (the minimum is reported too).
"""

from __future__ import annotations

import gc
import json
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

BLOCKS = 25
OPS_PER_BLOCK = 4
OPS = BLOCKS * OPS_PER_BLOCK  # 100
SIZE = 16
SEED = 0

# (repeats, seconds per sample, warm-up chains)
QUICK = dict(repeats=7, sample_s=0.02, warmup=20)
FULL = dict(repeats=21, sample_s=0.15, warmup=200)

_CPU_BACKENDS = {"cpu", "numpy", "strict"}


# --------------------------------------------------------------------------- chains


def chain_tensor(x, w):
    """The 100-op chain, written once for interop and torch tensors (same methods)."""
    y = x
    for _ in range(BLOCKS):
        y = y * w
        y = y + 0.5
        y = y.tanh()
        y = y.sigmoid()
    return y


def chain_numpy(x, w):
    """The same 100 ops on NumPy arrays, no autograd."""
    tanh = np.tanh
    exp = np.exp
    y = x
    for _ in range(BLOCKS):
        y = y * w
        y = y + 0.5
        y = tanh(y)
        y = 1.0 / (1.0 + exp(-y))
    return y


# --------------------------------------------------------------------------- rows


@dataclass
class Row:
    key: str
    label: str
    run: Callable[[int], Any]  # run(n): n chains
    mode: str  # "fwdbwd" | "fwd_record" | "fwd_nograd" | "numpy"
    sync: Callable[[Any], None] | None = None
    inner: int = 1
    samples: list[float] = field(default_factory=list)  # µs per op, one per sample

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def best(self) -> float:
        return min(self.samples)


def _to_float(t) -> float:
    if hasattr(t, "detach"):          # interop and torch tensors: no autograd on the readout
        t = t.detach()
    try:
        return float(t)
    except TypeError:
        return float(t.item())


def _autograd_rows(lib, name: str, x0: np.ndarray, w0: np.ndarray,
                   sync: Callable[[Any], None] | None = None) -> tuple[list[Row], dict]:
    """Rows for a framework with PyTorch's API (interop and torch both have it)."""
    x = lib.tensor(x0.tolist(), dtype=lib.float32, requires_grad=True)
    w = lib.tensor(w0.tolist(), dtype=lib.float32, requires_grad=True)

    def fwdbwd(n):
        y = None
        for _ in range(n):
            y = chain_tensor(x, w)
            y.sum().backward()
            x.grad = None
            w.grad = None
        return y

    def fwd_record(n):
        y = None
        for _ in range(n):
            y = chain_tensor(x, w)
        return y

    def fwd_nograd(n):
        y = None
        with lib.no_grad():
            for _ in range(n):
                y = chain_tensor(x, w)
        return y

    # Values for the cross-check.
    y = chain_tensor(x, w)
    s = y.sum()
    s.backward()
    check = {
        "sum": _to_float(s),
        "x_grad_sum": _to_float(x.grad.sum()),
        "w_grad_sum": _to_float(w.grad.sum()),
    }
    x.grad = None
    w.grad = None

    rows = [
        Row(f"{name}_fwdbwd", f"{name} fwd+bwd", fwdbwd, "fwdbwd", sync),
        Row(f"{name}_fwd", f"{name} fwd (recording)", fwd_record, "fwd_record", sync),
        Row(f"{name}_fwd_nograd", f"{name} fwd no_grad", fwd_nograd, "fwd_nograd", sync),
    ]
    return rows, check


def _numpy_rows(x0: np.ndarray, w0: np.ndarray) -> tuple[list[Row], dict]:
    x = x0.copy()
    w = w0.copy()

    def fwd(n):
        y = None
        for _ in range(n):
            y = chain_numpy(x, w)
        return y

    y = chain_numpy(x, w)
    assert y.dtype == np.float32, y.dtype
    check = {"sum": float(y.sum())}
    return [Row("numpy_fwd", "numpy fwd (floor)", fwd, "numpy")], check


# --------------------------------------------------------------------------- timing


def _time(row: Row, n: int) -> float:
    """Seconds for n chains of this row."""
    t0 = time.perf_counter()
    y = row.run(n)
    if row.sync is not None:
        row.sync(y)
    return time.perf_counter() - t0


def _calibrate(row: Row, warmup: int, sample_s: float) -> None:
    # Warm up (caches, lazy imports, allocator), bounded in time as well as count.
    deadline = time.perf_counter() + max(0.5, 10 * sample_s)
    for _ in range(warmup):
        _time(row, 1)
        if time.perf_counter() > deadline:
            break
    one = min(_time(row, 1) for _ in range(3))
    row.inner = max(1, min(100_000, round(sample_s / max(one, 1e-9))))


def _measure(rows: list[Row], repeats: int) -> None:
    for _ in range(repeats):
        for row in rows:
            gc.collect()
            dt = _time(row, row.inner)
            row.samples.append(dt / (row.inner * OPS) * 1e6)


# --------------------------------------------------------------------------- report


def _check(ours: dict, theirs: dict, who: str, problems: list[str]) -> None:
    for k, v in theirs.items():
        if k not in ours:
            continue
        a = ours[k]
        if not (math.isfinite(a) and math.isclose(a, v, rel_tol=1e-3, abs_tol=1e-5)):
            problems.append(f"interop {k} = {a!r}, {who} gives {v!r}")


def _version(dist: str, module: Any = None) -> str | None:
    v = getattr(module, "__version__", None)
    if v:
        return str(v)
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:
        return None


def _fmt_ratio(r: float | None) -> str:
    return "-" if r is None else f"{r:.2f}x"


def _mu() -> str:
    enc = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "µ".encode(enc)
        return "µ"
    except (UnicodeEncodeError, LookupError):
        return "u"


def main(*, quick: bool = False, backend: str = "cpu", json_path: str | None = None) -> int:
    cfg = QUICK if quick else FULL
    notes: list[str] = []

    rng = np.random.default_rng(SEED)
    x0 = rng.standard_normal(SIZE).astype(np.float32)
    w0 = rng.standard_normal(SIZE).astype(np.float32)

    # interop: the thing being measured; failing to import or run it is an error.
    import interop as it

    it.set_backend(backend)
    # A device backend runs asynchronously: end each timed sample by reading one
    # number back, so that the sample includes the work it queued.
    sync = None if backend in _CPU_BACKENDS else (lambda y: _to_float(y.sum()))
    interop_rows, interop_check = _autograd_rows(it, "interop", x0, w0, sync)

    # PyTorch: optional.
    try:
        import torch
    except ImportError:
        torch = None
        notes.append("torch is not installed: the torch rows are skipped.")
    torch_rows: list[Row] = []
    torch_check: dict = {}
    if torch is not None:
        torch.set_num_threads(1)
        torch_rows, torch_check = _autograd_rows(torch, "torch", x0, w0)

    numpy_rows, numpy_check = _numpy_rows(x0, w0)

    # Cross-check before timing: a benchmark of a wrong answer measures nothing.
    problems: list[str] = []
    _check(interop_check, numpy_check, "numpy", problems)
    _check(interop_check, torch_check, "torch", problems)
    if problems:
        print("perop: interop disagrees with the reference on the benchmark chain:", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1

    rows = interop_rows + torch_rows + numpy_rows
    for row in rows:
        _calibrate(row, cfg["warmup"], cfg["sample_s"])
    _measure(rows, cfg["repeats"])

    by_mode_torch = {r.mode: r for r in torch_rows}
    numpy_row = numpy_rows[0]
    torch_nograd = by_mode_torch.get("fwd_nograd")

    results: dict[str, dict] = {}
    for row in rows:
        ref = torch_nograd if row.mode == "numpy" else by_mode_torch.get(row.mode)
        vs_torch = None if ref is None else row.median / ref.median
        results[row.key] = {
            "label": row.label,
            "us_per_op": row.median,
            "us_per_op_min": row.best,
            "vs_torch": vs_torch,
            "vs_numpy": row.median / numpy_row.median,
            "chains_per_sample": row.inner,
            "samples_us_per_op": row.samples,
        }

    # ------------------------------------------------------------------ print
    mu = _mu()
    order = [
        "interop_fwdbwd",
        "torch_fwdbwd",
        "interop_fwd",
        "torch_fwd",
        "interop_fwd_nograd",
        "torch_fwd_nograd",
        "numpy_fwd",
    ]
    print(
        f"perop: {OPS}-op elementwise chain ({BLOCKS} x [* w, + 0.5, tanh, sigmoid]) "
        f"on float32 ({SIZE},); interop backend {backend!r}"
    )
    print(
        f"per op = chain time / {OPS} (fwd+bwd rows include sum() and backward()); "
        f"median of {cfg['repeats']} samples{' (--quick)' if quick else ''}"
    )
    print(
        "vs torch: against torch in the same mode (numpy against torch no_grad); "
        "vs numpy: against the raw NumPy forward"
    )
    print()
    header = f"{'':26}{mu + 's/op':>10}{'min':>10}{'vs torch':>10}{'vs numpy':>10}"
    print(header)
    print("-" * len(header))
    for key in order:
        r = results.get(key)
        if r is None:
            continue
        print(
            f"{r['label']:26}{r['us_per_op']:>10.2f}{r['us_per_op_min']:>10.2f}"
            f"{_fmt_ratio(r['vs_torch']):>10}{_fmt_ratio(r['vs_numpy']):>10}"
        )
    print()
    versions = {
        "python": platform.python_version(),
        "interop": _version("interop", it),
        "numpy": np.__version__,
        "torch": None if torch is None else torch.__version__,
    }
    print(
        "versions: "
        + ", ".join(f"{k} {v}" for k, v in versions.items() if v is not None)
        + f"; {os.cpu_count()} CPUs, {platform.machine()}"
    )
    for n in notes:
        print("note: " + n)

    if json_path:
        payload = {
            "benchmark": "perop",
            "backend": backend,
            "quick": quick,
            "shape": [SIZE],
            "dtype": "float32",
            "ops_per_chain": OPS,
            "chain": f"{BLOCKS} x [y * w, y + 0.5, tanh, sigmoid], then sum().backward()",
            "statistic": "median",
            "repeats": cfg["repeats"],
            "results": results,
            "check": {"interop": interop_check, "torch": torch_check, "numpy": numpy_check},
            "versions": versions,
            "machine": {"cpus": os.cpu_count(), "arch": platform.machine(), "system": platform.system()},
            "notes": notes,
        }
        with open(json_path, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=2)
            f.write("\n")
        print(f"wrote {json_path}")
    return 0
