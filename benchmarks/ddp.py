"""``python -m benchmarks ddp``: data-parallel training steps/s of an MLP on 1 and 2 ranks,
interop's DistributedDataParallel over MPI beside PyTorch's over gloo, same model, same
per-rank batch, in the same run; and the time per step spent communicating.

Each measurement is its own ``mpirun -n N`` launch of this module as a worker, every rank
limited to one BLAS thread (2 ranks on this machine's 2 cores); three rounds of the four
launches, interleaved, and the median launch of each configuration is reported. Communication per step:
interop's is the host time DDP spends launching and waiting for its reductions
(``DistributedDataParallel.comm_seconds``); for both libraries, a bare ``all_reduce`` of
all the gradients (one flat tensor) is timed as well.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time

SIZES = (784, 1024, 1024, 10)
BATCH = 64


def _worker(lib, steps, warmup):
    import numpy as np
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    ys = rng.integers(0, SIZES[-1], BATCH)
    if lib == "interop":
        import interop as it
        import interop.distributed as dist
        from interop import nn
        dist.init_process_group("mpi")
        rank, world = dist.get_rank(), dist.get_world_size()
        x, y = it.tensor(xs), it.tensor(ys)
        layers = []
        for a, b in zip(SIZES[:-1], SIZES[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        model = nn.parallel.DistributedDataParallel(nn.Sequential(*layers[:-1]))
        flat = it.zeros(sum(p.numel() for p in model.parameters()))
        sync = lambda: None                                    # noqa: E731
        reduce = lambda: dist.all_reduce(flat)                 # noqa: E731
    else:
        import torch
        import torch.distributed as dist
        torch.set_num_threads(1)
        dist.init_process_group("gloo", rank=int(os.environ["OMPI_COMM_WORLD_RANK"]),
                                world_size=int(os.environ["OMPI_COMM_WORLD_SIZE"]))
        rank, world = dist.get_rank(), dist.get_world_size()
        it = torch
        nn = torch.nn
        x, y = torch.from_numpy(xs), torch.from_numpy(ys)
        layers = []
        for a, b in zip(SIZES[:-1], SIZES[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        model = nn.parallel.DistributedDataParallel(nn.Sequential(*layers[:-1]))
        flat = torch.zeros(sum(p.numel() for p in model.parameters()))
        sync = lambda: None                                    # noqa: E731
        reduce = lambda: dist.all_reduce(flat)                 # noqa: E731
    opt = it.optim.SGD(model.parameters(), lr=0.01)
    lossf = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        lossf(model(x), y).backward()
        opt.step()

    for _ in range(warmup):
        step()
    dist.barrier()
    if lib == "interop":
        model.comm_seconds = 0.0
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    dt = (time.perf_counter() - t0) / steps
    comm = model.comm_seconds / steps if lib == "interop" else None
    dist.barrier()
    t0 = time.perf_counter()
    for _ in range(steps):
        reduce()
    bare = (time.perf_counter() - t0) / steps
    if rank == 0:
        print(json.dumps({"lib": lib, "ranks": world, "step_ms": dt * 1e3,
                          "ddp_comm_ms": None if comm is None else comm * 1e3,
                          "allreduce_ms": bare * 1e3, "numel": int(flat.numel())}), flush=True)
    dist.destroy_process_group()
    if lib == "torch":
        # gloo's threads sometimes abort the process at interpreter exit ("terminate called
        # without an active exception", signal 6) after everything is done: leave at once
        sys.stdout.flush()
        os._exit(0)


def _launch(lib, ranks, steps, warmup):
    cmd = ["mpirun", "-n", str(ranks), "--oversubscribe", "--bind-to", "none"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with socket.socket() as s:        # a free port for gloo's rendezvous
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""),
               MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONPATH",
              "MASTER_ADDR", "MASTER_PORT") + (("INTEROP_MPI_THREAD",) if
                                               "INTEROP_MPI_THREAD" in env else ()):
        cmd += ["-x", k]
    cmd += [sys.executable, "-m", "benchmarks.ddp", "--worker", lib, str(steps), str(warmup)]
    p = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return json.loads(lines[-1])


def main(quick=False, json_path=None):
    if shutil.which("mpirun") is None:
        print("ddp: needs Open MPI's mpirun (apt-get install openmpi-bin libopenmpi-dev) and "
              "mpi4py", file=sys.stderr)
        return 1
    steps, warmup, rounds = (10, 3, 1) if quick else (40, 5, 3)
    # rounds of the four launches, interleaved: the machine's load drifts between launches,
    # and the median of each configuration over the rounds is what is reported
    runs = {}
    for _ in range(rounds):
        for n in (1, 2):
            for lib in ("interop", "torch"):
                runs.setdefault((n, lib), []).append(_launch(lib, n, steps, warmup))
    rows = []
    for runs_ in runs.values():
        runs_.sort(key=lambda r: r["step_ms"])
        rows.append(runs_[len(runs_) // 2])
    print(f"MLP {'-'.join(map(str, SIZES))}, batch {BATCH} per rank, SGD; {steps} steps, median "
          f"of {rounds} launch{'es' if rounds > 1 else ''}; "
          f"one BLAS thread per rank; gradients: {rows[0]['numel']} float32 "
          f"({rows[0]['numel'] * 4 / 2**20:.1f} MiB)")
    print(f"{'library':<22} {'ranks':>5} {'ms/step':>8} {'steps/s':>8} {'samples/s':>10} "
          f"{'DDP comm ms/step':>17} {'bare all_reduce ms':>19}")
    for r in rows:
        name = "interop (mpi)" if r["lib"] == "interop" else "PyTorch DDP (gloo)"
        comm = "-" if r["ddp_comm_ms"] is None else f"{r['ddp_comm_ms']:.2f}"
        print(f"{name:<22} {r['ranks']:>5} {r['step_ms']:>8.2f} {1e3 / r['step_ms']:>8.1f} "
              f"{r['ranks'] * BATCH * 1e3 / r['step_ms']:>10.0f} {comm:>17} "
              f"{r['allreduce_ms']:>19.2f}")
    if json_path:
        with open(json_path, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(main(quick="--quick" in sys.argv))
