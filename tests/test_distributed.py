"""interop.distributed and DistributedDataParallel.

The multi-rank checks run ``tests/distributed_worker.py`` on 2 ranks with ``mpirun`` over
loopback (five launches of a few seconds each: the collectives with MPI's non-blocking calls
and with the communication thread, DDP, the digits example, a failing rank); they skip,
saying why, where Open MPI's ``mpirun`` or mpi4py is missing. A launch that outlives its
timeout is ended (mpirun gets SIGTERM, which ends its ranks) and the test fails as a hang.
The NCCL check needs a GPU.
"""

import importlib.util
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

import interop as it
import interop.distributed as dist
from interop import nn

ROOT = pathlib.Path(__file__).resolve().parent.parent
WORKER = "tests/distributed_worker.py"

_why_no_mpi = None
if shutil.which("mpirun") is None:
    _why_no_mpi = ("Open MPI's mpirun is not installed (apt-get install openmpi-bin "
                   "libopenmpi-dev)")
elif importlib.util.find_spec("mpi4py") is None:
    _why_no_mpi = "mpi4py is not installed (pip install mpi4py, or the 'mpi' extra)"
needs_mpi = pytest.mark.skipif(_why_no_mpi is not None, reason=_why_no_mpi or "")


def mpirun(*args, timeout=120, thread="0"):
    """Run the worker on 2 ranks; (return code, stdout + stderr). ``thread``: whether the
    MPI groups run collectives on a communication thread (INTEROP_MPI_THREAD)."""
    cmd = ["mpirun", "-n", "2", "--oversubscribe"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-run-as-root")       # containers and CI run as root
    cmd += ["-x", "PYTHONPATH", "-x", "INTEROP_MPI_THREAD", sys.executable,
            *(args if args[0].endswith(".py") else (WORKER, *args))]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               INTEROP_MPI_THREAD=thread)
    p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.terminate()           # SIGTERM: mpirun ends its ranks (SIGKILL would orphan them)
        try:
            out, _ = p.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        pytest.fail(f"mpirun {' '.join(args)} did not finish within {timeout} s (a hang):\n{out}")
    return p.returncode, out


@needs_mpi
def test_every_collective_on_two_ranks():
    # cpu with MPI's non-blocking collectives, strict with the communication thread
    rc, out = mpirun("collectives", "cpu")
    assert rc == 0, out
    assert "rank 0: collectives OK on cpu" in out and "rank 1: collectives OK on cpu" in out
    rc, out = mpirun("collectives", "cpu,strict", thread="1")
    assert rc == 0, out
    for r in (0, 1):
        for be in ("cpu", "strict"):
            assert f"rank {r}: collectives OK on {be}" in out, out


@needs_mpi
def test_ddp_two_ranks_match_one_process_and_no_sync_and_unused_parameters():
    # MLP and digits CNN, SGD and Adam: 2 ranks x batch 16 against 1 process x batch 32,
    # within 1e-5 after 5 steps; small buckets; state_dict keys; no_sync; unused parameters
    rc, out = mpirun("ddp", timeout=300)
    assert rc == 0, out
    assert "rank 0: ddp OK" in out and "rank 1: ddp OK" in out, out


@needs_mpi
def test_ddp_digits_example_learns_on_two_ranks():
    pytest.importorskip("sklearn")
    rc, out = mpirun("examples/ddp_digits.py", "--epochs", "6", timeout=300)
    assert rc == 0, out
    accs = [float(a) for a in re.findall(r"test accuracy ([\d.]+)% \(2 ranks", out)]
    assert len(accs) == 6 and accs[-1] > 85.0, out      # (one process: 90.3% at epoch 6)


@needs_mpi
def test_a_failing_rank_ends_the_job_with_its_error():
    # rank 1 raises while rank 0 waits in an all_reduce: the job must end (not hang), with
    # a non-zero status and rank 1's traceback in the output
    rc, out = mpirun("fail", timeout=60)
    assert rc != 0, out
    assert "ValueError: rank one fails on purpose before the all_reduce" in out, out
    assert "rank 1 of 2 raised ValueError; aborting the MPI job" in out, out
    assert "rank 0 passed the all_reduce" not in out, out


def test_without_mpi4py_init_says_what_to_install():
    code = ("import sys; sys.modules['mpi4py'] = None; sys.modules['mpi4py.MPI'] = None\n"
            "import interop.distributed as dist\n"
            "try:\n    dist.init_process_group('mpi')\n"
            "except RuntimeError as e:\n    print(e)\n")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)
    assert "needs mpi4py and an MPI library" in p.stdout, p.stdout + p.stderr
    assert "apt-get install openmpi-bin libopenmpi-dev" in p.stdout
    assert 'pip install "interop[mpi]"' in p.stdout


def test_calls_before_init_process_group_raise():
    assert not dist.is_initialized()
    for call in (lambda: dist.all_reduce(it.ones(2)), lambda: dist.get_rank(),
                 lambda: dist.barrier(), lambda: nn.parallel.DistributedDataParallel(nn.Linear(2, 2))):
        with pytest.raises(RuntimeError, match="init_process_group"):
            call()
    with pytest.raises(ValueError, match="backend must be 'mpi' or 'nccl'"):
        dist.init_process_group("gloo")


def test_torchrun_variables_with_backend_mpi_ask_for_mpirun():
    if _why_no_mpi is not None:
        pytest.skip(_why_no_mpi)
    code = ("import interop.distributed as dist\n"
            "try:\n    dist.init_process_group('mpi')\n"
            "except RuntimeError as e:\n    print(e)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMI", "PMIX"))}
    env.update(RANK="0", WORLD_SIZE="2", LOCAL_RANK="0", PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=60)
    assert "start the processes with mpirun (mpirun -n 2 python ...)" in p.stdout, \
        p.stdout + p.stderr


def test_launcher_variables_mpi_first_then_torchrun(monkeypatch):
    from interop.distributed._api import _launch_env
    for k in list(os.environ):
        if k.startswith(("OMPI_COMM_WORLD", "PMI", "MV2_")) or k in ("RANK", "WORLD_SIZE",
                                                                        "LOCAL_RANK"):
            monkeypatch.delenv(k)
    assert _launch_env() == (None, None, None, None)
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert _launch_env() == (3, 4, 1, "torchrun")
    monkeypatch.setenv("OMPI_COMM_WORLD_RANK", "0")
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_RANK", "0")
    assert _launch_env() == (0, 2, 0, "mpirun")
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "two")
    with pytest.raises(ValueError, match="OMPI_COMM_WORLD_SIZE='two' is not an integer"):
        _launch_env()


def test_post_accumulate_grad_hooks_fire_during_backward_as_in_pytorch(be):
    # DDP launches its reductions from these hooks: the last layer's parameters must be
    # ready before the first layer's gradient is computed, as in PyTorch
    torch = pytest.importorskip("torch")

    def events(lib):
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
        ev = []
        for name, p in m.named_parameters():
            p.register_post_accumulate_grad_hook(
                lambda t, name=name: ev.append((name.split(".")[0], t.grad is not None)))
        x = lib.randn(5, 3, requires_grad=True)
        h = m[0](x)
        h.register_hook(lambda g: ev.append("hidden"))
        m[2](m[1](h)).sum().backward()
        return ev

    mine, theirs = events(it), events(torch)
    assert mine == theirs == [("2", True), ("2", True), "hidden", ("0", True), ("0", True)]


def test_post_accumulate_grad_hook_errors_and_removal(be):
    x = it.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        it.ones(2).register_post_accumulate_grad_hook(lambda t: None)
    seen = []
    h = x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    (x * 3).sum().backward()
    (x * 3).sum().backward(inputs=[x])
    assert seen == [[3.0, 3.0], [6.0, 6.0]]
    h.remove()
    (x * 3).sum().backward()
    it.autograd.grad((x * 3).sum(), x)          # grad() accumulates nothing: no hook
    assert len(seen) == 2


def test_ddp_bucket_assignment_follows_pytorch():
    # not initialized: the assignment alone, on a stand-in (reverse order, first bucket
    # at most 1 MiB, the others at most bucket_cap_mb)
    from interop.nn.parallel.distributed import DistributedDataParallel as DDP
    model = nn.Sequential(nn.Linear(512, 512), nn.Linear(512, 1024), nn.Linear(1024, 10))
    stub = DDP.__new__(DDP)
    stub.__dict__["_params"] = list(model.parameters())
    stub.__dict__["bucket_bytes_cap"] = 4 * 1024 * 1024
    sizes = [b.numel for b in stub._assign_buckets()]
    # 2.* (10250 floats) + 1.bias + 1.weight (525312 floats) pass 1 MiB; the rest after
    assert sizes == [10 + 10240 + 1024 + 524288, 512 + 262144]


def test_nccl_id_reaches_the_other_ranks_through_a_file_store(tmp_path):
    # how "nccl" ranks meet without MPI (init_method="file://..."): no GPU needed for this part
    import threading
    from interop.distributed._api import _FileStore
    got = []
    reader = threading.Thread(target=lambda: got.append(
        _FileStore(str(tmp_path), 10).broadcast("nccl-id-world", None, 0)))
    reader.start()
    assert _FileStore(str(tmp_path), 10).broadcast("nccl-id-world", b"\x00\xffid", 0) == \
        b"\x00\xffid"
    reader.join(10)
    assert got == [b"\x00\xffid"]
    with pytest.raises(TimeoutError, match="no rank wrote .*missing within 0.2 s"):
        _FileStore(str(tmp_path), 0.2).broadcast("missing", None, 0)


@pytest.mark.gpu
def test_nccl_collectives_on_one_gpu(tmp_path):
    if importlib.util.find_spec("cupy") is None or it.cuda.device_count() == 0:
        pytest.skip("needs CuPy and a CUDA GPU (NCCL)")
    code = f"""
import interop as it, interop.distributed as dist
dist.init_process_group("nccl", init_method="file://{tmp_path}", rank=0, world_size=1)
assert dist.get_backend() == "nccl"
it.set_backend("cuda")
t = it.arange(6.0).reshape(2, 3)
dist.all_reduce(t); assert t.cpu().tolist() == [[0, 1, 2], [3, 4, 5]]
w = dist.all_reduce(t, dist.ReduceOp.AVG, async_op=True); w.wait()
assert t.cpu().tolist() == [[0, 1, 2], [3, 4, 5]]
dist.broadcast(t[:, 1], src=0)
o = [it.zeros(2, 3)]; dist.all_gather(o, t); assert o[0].cpu().tolist() == t.cpu().tolist()
o = it.zeros(2, 3); dist.all_gather_into_tensor(o, t); assert o.cpu().tolist() == t.cpu().tolist()
o = it.zeros(2, 3); dist.reduce_scatter(o, [t * 2]); assert o.cpu().tolist() == (t * 2).cpu().tolist()
dist.barrier()
m = it.nn.parallel.DistributedDataParallel(it.nn.Linear(3, 2).cuda())
m(t).sum().backward(); assert m.module.weight.grad is not None
dist.destroy_process_group()
print("nccl OK")
"""
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert "nccl OK" in p.stdout, p.stdout + p.stderr
