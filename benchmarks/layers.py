"""Per-layer forward + backward time against PyTorch's, in one process.

Each row is one layer call written once for both libraries -- ``fn(F, *tensors)`` with ``F``
``interop.nn.functional`` or ``torch.nn.functional``, which read the same -- on the same
float32 data: the inputs marked for gradients are leaves, and one backward with a fixed
cotangent follows each forward. Before anything is timed, the two libraries' outputs and
gradients must agree (a fast wrong layer measures nothing). Samples of all rows and both
libraries are interleaved, so that drift in the machine's speed falls on all alike; the
figure is the median time per call, and the ratio interop / PyTorch. Both libraries use
every core (PyTorch's default threads, NumPy's BLAS threads), as the training benchmarks;
``threads=N`` limits both to N (NumPy's BLAS through threadpoolctl), which gives steadier
figures on a machine that other work shares.

The rows are ``ROWS``; :func:`add_row` adds one (one line per layer)::

    add_row("conv2d", "conv 32->64 3x3 on 13x13, batch 64", lambda F, x, w, b: F.conv2d(x, w, b),
            (64, 32, 13, 13), (64, 32, 3, 3), (64,))
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

# (repeats, seconds per sample, warm-up calls)
QUICK = dict(repeats=5, sample_s=0.05, warmup=2)
FULL = dict(repeats=21, sample_s=0.25, warmup=5)


@dataclass
class Row:
    name: str
    description: str
    fn: Callable            # fn(F, *tensors) -> tensor, for either library's functional module
    shapes: tuple           # the inputs' shapes
    grad: tuple             # whether each input requires grad
    samples: dict = field(default_factory=dict)     # library -> seconds per call, per sample


ROWS: list[Row] = []


def add_row(name, description, fn, *shapes, grad=None):
    """Time ``fn(F, *inputs)`` forward + backward: ``shapes`` are the float32 inputs' shapes
    (standard normal data), ``grad`` says which require grad (default: all)."""
    grad = tuple(grad) if grad is not None else (True,) * len(shapes)
    if len(grad) != len(shapes):
        raise ValueError(f"add_row({name!r}): grad has {len(grad)} entries for {len(shapes)} inputs")
    ROWS.append(Row(name, description, fn, tuple(map(tuple, shapes)), grad))


# LeNet's layers (the CNN training benchmark): the second conv, the first, and both pools.
add_row("conv2d", "conv2d 32->64, 3x3, on (64, 32, 13, 13)",
        lambda F, x, w, b: F.conv2d(x, w, b), (64, 32, 13, 13), (64, 32, 3, 3), (64,))
add_row("conv2d_first", "conv2d 1->32, 3x3, on (64, 1, 28, 28); input needs no grad",
        lambda F, x, w, b: F.conv2d(x, w, b), (64, 1, 28, 28), (32, 1, 3, 3), (32,),
        grad=(False, True, True))
add_row("max_pool2d", "max_pool2d 2x2 on (64, 32, 26, 26)",
        lambda F, x: F.max_pool2d(x, 2), (64, 32, 26, 26))
add_row("max_pool2d_odd", "max_pool2d 2x2 on (64, 64, 11, 11) (the last row, col dropped)",
        lambda F, x: F.max_pool2d(x, 2), (64, 64, 11, 11))


# Layers beyond LeNet's (the list). Modules and integer inputs are made once per
# library: ``_once(F, key, make)`` builds them with that library (``make(lib)``, where
# ``lib`` is ``interop`` or ``torch``), parameters filled from a seeded NumPy generator by
# name, so both libraries hold the same weights.
_MADE = {}


def _once(F, key, make):
    lib_name = F.__name__.split(".")[0]
    got = _MADE.get((lib_name, key))
    if got is None:
        lib = sys.modules[lib_name]
        got = make(lib)
        if hasattr(got, "named_parameters"):
            rng = np.random.default_rng(7)
            with lib.no_grad():
                for _, p in sorted(got.named_parameters(), key=lambda kv: kv[0]):
                    p.copy_(lib.asarray(
                        (rng.standard_normal(tuple(p.shape)) * 0.1).astype(np.float32)))
        _MADE[(lib_name, key)] = got
    return got


def _indices(high, shape, seed):
    return lambda lib: lib.asarray(np.random.default_rng(seed).integers(0, high, shape))


add_row("batch_norm2d", "batch_norm, training, on (64, 32, 26, 26)",
        lambda F, x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        (64, 32, 26, 26), (32,), (32,))
add_row("layer_norm", "layer_norm over 256 on (32, 128, 256)",
        lambda F, x, w, b: F.layer_norm(x, (256,), w, b), (32, 128, 256), (256,), (256,))
add_row("group_norm", "group_norm, 8 groups, on (32, 64, 16, 16)",
        lambda F, x, w, b: F.group_norm(x, 8, w, b), (32, 64, 16, 16), (64,), (64,))
add_row("softmax", "softmax over the last dim of (32, 128, 256)",
        lambda F, x: F.softmax(x, dim=-1), (32, 128, 256))
add_row("log_softmax_256", "log_softmax over the last dim of (32, 128, 256)",
        lambda F, x: F.log_softmax(x, dim=-1), (32, 128, 256))
add_row("embedding", "embedding of 4096 indices into a (10000, 128) table",
        lambda F, w: F.embedding(_once(F, "emb", _indices(10000, (32, 128), 1)), w),
        (10000, 128))
add_row("log_softmax", "log_softmax over dim 1 of (128, 1000) logits",
        lambda F, x: F.log_softmax(x, dim=1), (128, 1000))
add_row("cross_entropy", "cross_entropy on (128, 10) logits (the MLP's loss)",
        lambda F, x: F.cross_entropy(x, _once(F, "ce10", _indices(10, (128,), 2))), (128, 10))
add_row("cross_entropy_1k", "cross_entropy on (128, 1000) logits",
        lambda F, x: F.cross_entropy(x, _once(F, "ce1k", _indices(1000, (128,), 3))),
        (128, 1000))
add_row("gelu", "gelu (exact erf) on 2M floats, (2048, 1024)",
        lambda F, x: F.gelu(x), (2048, 1024))
add_row("gelu_tanh", "gelu (approximate='tanh') on 2M floats, (2048, 1024)",
        lambda F, x: F.gelu(x, approximate="tanh"), (2048, 1024))
add_row("sigmoid", "sigmoid on 2M floats, (2048, 1024)",
        lambda F, x: F.sigmoid(x), (2048, 1024))
add_row("silu", "silu on 2M floats, (2048, 1024)",
        lambda F, x: F.silu(x), (2048, 1024))
add_row("lstm", "LSTM 128->128, seq 32, batch 16",
        lambda F, x: _once(F, "lstm", lambda lib: lib.nn.LSTM(128, 128))(x)[0], (32, 16, 128))
# The recurrent workloads: 2 layers, hidden 200, (seq 35, batch 32, 200 features).
add_row("lstm_2x200", "LSTM 200->200, 2 layers, on (35, 32, 200)",
        lambda F, x: _once(F, "lstm2", lambda lib: lib.nn.LSTM(200, 200, 2))(x)[0],
        (35, 32, 200))
add_row("gru_2x200", "GRU 200->200, 2 layers, on (35, 32, 200)",
        lambda F, x: _once(F, "gru2", lambda lib: lib.nn.GRU(200, 200, 2))(x)[0],
        (35, 32, 200))
add_row("mha", "MultiheadAttention d 256, 8 heads, self-attention, seq 128, batch 8",
        lambda F, x: _once(F, "mha", lambda lib: lib.nn.MultiheadAttention(
            256, 8, batch_first=True))(x, x, x, need_weights=False)[0], (8, 128, 256))
add_row("transformer_encoder", "TransformerEncoderLayer d 256, 8 heads, ff 1024, seq 64, batch 4",
        lambda F, x: _once(F, "enc", lambda lib: lib.nn.TransformerEncoderLayer(
            256, 8, 1024, dropout=0.0, batch_first=True))(x), (4, 64, 256))
add_row("transformer_4h", "TransformerEncoderLayer d 256, 4 heads, ff 1024, on (32, 64, 256)",
        lambda F, x: _once(F, "enc4", lambda lib: lib.nn.TransformerEncoderLayer(
            256, 4, 1024, dropout=0.0, batch_first=True))(x), (32, 64, 256))
add_row("matmul", "a @ b, 1024 x 1024 float32, both requiring grad",
        lambda F, a, b: a @ b, (1024, 1024), (1024, 1024))


class _Case:
    """One row on one library: its leaves, cotangent and one timed call (fwd + bwd)."""

    def __init__(self, lib, functional, row, arrays, cot, sync):
        self.lib, self.F, self.row, self.sync = lib, functional, row, sync
        self.inputs = [lib.asarray(a.copy()) for a in arrays]
        self.leaves = [t.requires_grad_() for t, g in zip(self.inputs, row.grad) if g]
        out = row.fn(functional, *self.inputs)
        self.cot = lib.asarray(cot(tuple(out.shape)))

    def call(self):
        for t in self.leaves:
            t.grad = None
        out = self.row.fn(self.F, *self.inputs)
        out.backward(self.cot)
        return out

    def values(self):
        """The output and the leaves' gradients as NumPy arrays (for the cross-check)."""
        out = self.call()
        return [_host(out)] + [_host(t.grad) for t in self.leaves]

    def time(self, n):
        t0 = time.perf_counter()
        for _ in range(n):
            out = self.call()
        if self.sync is not None:
            self.sync(out)
        return (time.perf_counter() - t0) / n


def _host(t):
    return np.asarray(t.detach().cpu().numpy())


def _calibrate(case, warmup, sample_s):
    for _ in range(warmup):
        case.time(1)
    one = min(case.time(1) for _ in range(3))
    return max(1, round(sample_s / max(one, 1e-9)))


def _agree(a, b):
    scale = max(1.0, float(np.max(np.abs(b))) if b.size else 1.0)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-4, atol=1e-4 * scale)


def main(*, quick: bool = False, backend: str = "cpu", json_path: str | None = None,
         only: list[str] | None = None, threads: int | None = None) -> int:
    import torch

    if threads is None:
        return _run(quick, backend, json_path, only)
    torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print("layers: --threads needs threadpoolctl to limit NumPy's BLAS threads "
              "(pip install threadpoolctl)", file=sys.stderr)
        return 2
    with threadpool_limits(threads):
        return _run(quick, backend, json_path, only)


def _run(quick, backend, json_path, only):
    cfg = QUICK if quick else FULL
    import interop as it
    import interop.nn.functional as itF
    import torch
    import torch.nn.functional as tF

    it.set_backend(backend)
    sync = None if backend in ("cpu", "numpy", "strict") else (lambda y: float(y.sum()))
    rows = [r for r in ROWS if only is None or r.name in only]
    if not rows:
        print(f"layers: no row named {', '.join(only)}; rows: {', '.join(r.name for r in ROWS)}",
              file=sys.stderr)
        return 2
    cases = []
    for i, row in enumerate(rows):
        rng = np.random.default_rng(i)
        arrays = [rng.standard_normal(s).astype(np.float32) for s in row.shapes]
        cot = np.random.default_rng(100 + i)
        fixed = {}

        def cotangent(shape, fixed=fixed, cot=cot):
            if shape not in fixed:
                fixed[shape] = cot.standard_normal(shape).astype(np.float32)
            return fixed[shape]

        ours = _Case(it, itF, row, arrays, cotangent, sync)
        theirs = _Case(torch, tF, row, arrays, cotangent, None)
        names = ["output"] + [f"gradient of input {k}" for k, g in enumerate(row.grad) if g]
        for name, a, b in zip(names, ours.values(), theirs.values()):
            if not _agree(a, b):
                print(f"layers: {row.name}: interop's {name} disagrees with PyTorch's",
                      file=sys.stderr)
                return 1
        cases.append((row, {"interop": ours, "torch": theirs}))

    inner = {(row.name, lib): _calibrate(c, cfg["warmup"], cfg["sample_s"])
             for row, cs in cases for lib, c in cs.items()}
    for _ in range(cfg["repeats"]):
        for row, cs in cases:
            for lib, c in cs.items():
                gc.collect()
                row.samples.setdefault(lib, []).append(c.time(inner[(row.name, lib)]))

    results = {}
    print(f"layers: forward + backward per call, median of {cfg['repeats']} samples"
          f"{' (--quick)' if quick else ''}; interop backend {backend!r}")
    header = f"{'layer':18}{'interop ms':>12}{'torch ms':>12}{'ratio':>8}  description"
    print(header)
    print("-" * len(header))
    for row, _ in cases:
        ours = statistics.median(row.samples["interop"]) * 1e3
        theirs = statistics.median(row.samples["torch"]) * 1e3
        results[row.name] = {"description": row.description, "interop_ms": ours,
                             "torch_ms": theirs, "ratio": ours / theirs,
                             "samples_ms": {k: [v * 1e3 for v in s] for k, s in row.samples.items()}}
        print(f"{row.name:18}{ours:>12.2f}{theirs:>12.2f}{ours / theirs:>7.2f}x  {row.description}")
    versions = {"python": platform.python_version(), "numpy": np.__version__,
                "torch": torch.__version__, "torch_threads": torch.get_num_threads()}
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items())
          + f"; {os.cpu_count()} CPUs, {platform.machine()}")
    if json_path:
        with open(json_path, "w", encoding="utf-8") as f:
            json.dump({"benchmark": "layers", "backend": backend, "quick": quick,
                       "statistic": "median", "repeats": cfg["repeats"], "results": results,
                       "versions": versions}, f, indent=2)
            f.write("\n")
        print(f"wrote {json_path}")
    return 0
