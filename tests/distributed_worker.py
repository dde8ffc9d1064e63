"""What ``tests/test_distributed.py`` runs on each rank under ``mpirun -n 2``:

    python tests/distributed_worker.py collectives BACKEND[,BACKEND]   # every collective
    python tests/distributed_worker.py ddp                             # DDP numerics, no_sync...
    python tests/distributed_worker.py fail                            # rank 1 raises

Each check raises AssertionError with what differed; the launch passes when every rank
prints its ``OK`` line and mpirun exits with 0.
"""

import os
import sys

import numpy as np

import interop as it
import interop.distributed as dist
from interop import nn
from interop.nn.parallel import DistributedDataParallel as DDP


def close(a, b, tol, what):
    a = np.asarray(a.detach().cpu().numpy() if isinstance(a, it.Tensor) else a, dtype=np.float64)
    b = np.asarray(b.detach().cpu().numpy() if isinstance(b, it.Tensor) else b, dtype=np.float64)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    err = float(np.max(np.abs(a - b))) if a.size else 0.0
    assert err <= tol, f"{what}: max difference {err} > {tol}\n{a}\n{b}"


# ------------------------------------------------------------------------ collectives

def collectives(backend):
    r, n = dist.get_rank(), dist.get_world_size()
    assert n == 2, n
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    vals = [x + 10 * k for k in range(n)]                 # rank k's data
    mine = lambda dtype=it.float32: it.tensor(vals[r], dtype=dtype)   # noqa: E731

    ops = {dist.ReduceOp.SUM: sum(vals), dist.ReduceOp.AVG: sum(vals) / n,
           dist.ReduceOp.PRODUCT: vals[0] * vals[1], dist.ReduceOp.MIN: np.minimum(*vals),
           dist.ReduceOp.MAX: np.maximum(*vals)}
    for op, want in ops.items():
        t = mine()
        assert dist.all_reduce(t, op) is None
        close(t, want, 0, f"all_reduce {op}")
        t = mine(it.float64)
        w = dist.all_reduce(t, op, async_op=True)
        assert w.wait() is True and w.is_completed()
        close(t, want, 0, f"all_reduce {op} float64 async")
    for op, f in ((dist.ReduceOp.BAND, np.bitwise_and), (dist.ReduceOp.BOR, np.bitwise_or),
                  (dist.ReduceOp.BXOR, np.bitwise_xor)):
        t = mine(it.int32)
        dist.all_reduce(t, op)
        close(t, f(vals[0].astype(np.int32), vals[1].astype(np.int32)), 0, f"all_reduce {op}")
    t = it.tensor([r == 0, False])
    dist.all_reduce(t)                                    # bool SUM is a logical or
    assert t.tolist() == [True, False], t
    # a strided view: reduced through a copy, written back into the base
    base = it.zeros(2, 4)
    base[:, 1] = it.tensor([1.0, 2.0]) * (r + 1)
    dist.all_reduce(base[:, 1])
    close(base, np.array([[0, 3, 0, 0], [0, 6, 0, 0]]), 0, "all_reduce of a strided view")
    try:
        dist.all_reduce(mine(it.int64), dist.ReduceOp.AVG)
        raise AssertionError("AVG of an int tensor did not raise")
    except TypeError as e:
        assert "AVG needs a floating tensor" in str(e), e

    for src in range(n):
        t = mine()
        w = dist.broadcast(t, src=src, async_op=True)
        w.wait()
        close(t, vals[src], 0, f"broadcast from {src}")
    if backend == "cpu":                                  # (strict has no float16)
        t = it.tensor([1.5, -2.25], dtype=it.float16) * (r == 1)
        dist.broadcast(t, src=1)
        close(t, [1.5, -2.25], 0, "broadcast float16")

    t = mine()
    dist.reduce(t, dst=1, op=dist.ReduceOp.SUM)
    close(t, sum(vals) if r == 1 else vals[r], 0, "reduce to 1 (others unchanged)")

    outs = [it.zeros(2, 3) for _ in range(n)]
    dist.all_gather(outs, mine())
    for k in range(n):
        close(outs[k], vals[k], 0, f"all_gather [{k}]")
    out = it.zeros(2 * n, 3)
    dist.all_gather_into_tensor(out, mine())
    close(out, np.concatenate(vals), 0, "all_gather_into_tensor (concatenated)")
    out = it.zeros(n, 2, 3)
    w = dist.all_gather_into_tensor(out, mine(), async_op=True)
    w.wait()
    close(out, np.stack(vals), 0, "all_gather_into_tensor (stacked)")

    # rank k sends input_list[j] = vals[k] + j; rank j receives the sum over k
    out = it.zeros(2, 3)
    dist.reduce_scatter(out, [mine() + j for j in range(n)])
    close(out, sum(vals) + n * r, 0, "reduce_scatter")
    out = it.zeros(3)
    dist.reduce_scatter_tensor(out, mine().reshape(-1), op=dist.ReduceOp.MAX)
    close(out, np.maximum(*vals).reshape(-1)[3 * r:3 * r + 3], 0, "reduce_scatter_tensor")

    gl = [it.zeros(2, 3) for _ in range(n)] if r == 0 else None
    dist.gather(mine(), gl, dst=0)
    if r == 0:
        for k in range(n):
            close(gl[k], vals[k], 0, f"gather [{k}]")
    t = it.zeros(2, 3)
    dist.scatter(t, [it.tensor(v) * 2 for v in vals] if r == 1 else None, src=1)
    close(t, vals[r] * 2, 0, "scatter from 1")

    if r == 0:
        dist.send(mine(), dst=1, tag=7)
        w = dist.isend(mine() + 1, dst=1)
        w.wait()
        t = it.zeros(2, 3)
        assert dist.recv(t) == 1
        close(t, vals[1], 0, "recv from any")
    else:
        t = it.zeros(2, 3)
        t_late = it.zeros(2, 3)
        late = dist.irecv(t_late, src=0, tag=99)     # rank 0 sends it only after the barrier
        try:
            late.wait(timeout=0.2)
            raise AssertionError("wait(timeout) returned before anything was sent")
        except TimeoutError as e:
            assert "did not complete within 0.2 s" in str(e), e
        assert dist.recv(t, src=0, tag=7) == 0
        close(t, vals[0], 0, "send/recv")
        w = dist.irecv(t, src=0)
        w.wait()
        close(t, vals[0] + 1, 0, "isend/irecv")
        dist.send(mine(), dst=0)

    assert dist.barrier() is None
    dist.barrier(async_op=True).wait(timeout=60)
    if r == 0:
        dist.send(mine() * 3, dst=1, tag=99)
    else:
        late.wait()
        close(t_late, vals[0] * 3, 0, "irecv completed after a timed-out wait")

    # argument errors name what was expected
    for call, text in ((lambda: dist.all_gather([it.zeros(2, 3)], mine()), "one tensor per rank"),
                       (lambda: dist.all_gather([it.zeros(3), it.zeros(3)], mine()),
                        "expected interop.float32 of shape (2, 3)"),
                       (lambda: dist.broadcast(mine(), src=5), "not a member"),
                       (lambda: dist.all_reduce(mine(), "sum"), "ReduceOp"),
                       (lambda: dist.all_gather_into_tensor(it.zeros(5), mine()),
                        "times the elements")):
        try:
            call()
            raise AssertionError(f"no error for {text}")
        except (ValueError, TypeError) as e:
            assert text in str(e), (text, e)

    # a subgroup of rank 1 alone, and one of both ranks in reverse order of creation
    g1 = dist.new_group([1])
    if r == 1:
        assert dist.get_rank(g1) == 0 and dist.get_world_size(g1) == 1
        t = mine()
        dist.all_reduce(t, group=g1)
        close(t, vals[1], 0, "all_reduce in a group of one")
    else:
        assert g1 is dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(g1) == -1
        assert dist.all_reduce(mine(), group=g1) is None
    g2 = dist.new_group([0, 1])
    t = mine()
    dist.all_reduce(t, group=g2)
    close(t, sum(vals), 0, "all_reduce in a group of both")
    assert dist.get_process_group_ranks(g2) == [0, 1]
    print(f"rank {r}: collectives OK on {backend}", flush=True)


# ------------------------------------------------------------------------ DDP

def mlp():
    return nn.Sequential(nn.Linear(20, 32), nn.Tanh(), nn.Linear(32, 32), nn.ReLU(),
                         nn.Linear(32, 5))


def digits_cnn():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(16 * 2 * 2, 10))


def data(kind, n):
    if kind == "mlp":
        rng = np.random.default_rng(0)
        return (it.tensor(rng.standard_normal((n, 20)), dtype=it.float32),
                it.tensor(rng.integers(0, 5, n)))
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.images[:n] / 16.0).astype(np.float32)[:, None]
    return it.tensor(x), it.tensor(d.target[:n])


def optimizer(name, params):
    if name == "sgd":
        return it.optim.SGD(params, lr=0.1, momentum=0.9)
    return it.optim.Adam(params, lr=1e-2)


def ddp_matches_one_process(kind, opt_name, steps=5, B=16, bucket_cap_mb=None, group=None):
    """Two ranks with batch B end where one process with batch 2B ends."""
    r, n = dist.get_rank(), dist.get_world_size()
    make = mlp if kind == "mlp" else digits_cnn
    x, y = data(kind, steps * n * B)
    it.manual_seed(0)
    ref = make()
    it.manual_seed(100 + r)                  # the replicas start different: DDP syncs them
    model = DDP(make(), bucket_cap_mb=bucket_cap_mb, process_group=group)
    with it.no_grad():
        for (_, p), (_, q) in zip(ref.named_parameters(), model.module.named_parameters()):
            if r == 0:
                q.copy_(p)
    model = DDP(model.module, bucket_cap_mb=bucket_cap_mb, process_group=group)  # broadcasts
    for p, q in zip(ref.parameters(), model.module.parameters()):
        close(q, p, 0, f"{kind}: parameters after construction")
    o_ref, o = optimizer(opt_name, ref.parameters()), optimizer(opt_name, model.parameters())
    lossf = nn.CrossEntropyLoss()
    for s in range(steps):
        big = slice(s * n * B, (s + 1) * n * B)
        part = slice(s * n * B + r * B, s * n * B + (r + 1) * B)
        o_ref.zero_grad()
        lossf(ref(x[big]), y[big]).backward()
        o_ref.step()
        o.zero_grad()
        lossf(model(x[part]), y[part]).backward()
        o.step()
    for (name, p), q in zip(ref.named_parameters(), model.module.parameters()):
        close(q, p, 1e-5, f"{kind}/{opt_name}: {name} after {steps} steps")
    return model


def ddp_checks():
    r, n = dist.get_rank(), dist.get_world_size()
    for kind in ("mlp", "cnn"):
        for opt_name in ("sgd", "adam"):
            ddp_matches_one_process(kind, opt_name)
    # small buckets: several reductions in flight in one backward, with MPI's non-blocking
    # collectives (the launch sets INTEROP_MPI_THREAD=0) and with the communication thread
    model = ddp_matches_one_process("mlp", "sgd", steps=2, bucket_cap_mb=0.001)
    assert model.bucket_sizes == [1221, 672], model.bucket_sizes   # last layers first
    os.environ["INTEROP_MPI_THREAD"] = "1"
    threaded = dist.new_group([0, 1])
    assert threaded._threaded
    ddp_matches_one_process("mlp", "adam", steps=3, bucket_cap_mb=0.001, group=threaded)
    ddp_matches_one_process("cnn", "sgd", steps=3, group=threaded)
    with it.use_backend("strict"):
        ddp_matches_one_process("mlp", "adam", steps=2, bucket_cap_mb=0.001)

    # the first bucket (the last layers) is on its way before backward reaches the first
    # layer: its reduction is launched from the hooks, in the middle of backward
    x, y = data("mlp", 8)
    seen = []

    def watch_first_layer_output(module, inputs, output):
        output.register_hook(lambda g: seen.append(
            (model._next_bucket, model._buckets[0].work is not None, model._finished)))

    fh = model.module[0].register_forward_hook(watch_first_layer_output)
    nn.CrossEntropyLoss()(model(x), y).backward()
    fh.remove()
    assert seen == [(1, True, False)], seen     # bucket 0 launched, reductions not finished
    assert model._finished and model._next_bucket == 2

    # state_dict keys are PyTorch DDP's: the module's, with the prefix "module."
    keys = list(model.state_dict())
    assert keys == ["module." + k for k in model.module.state_dict()], keys

    # no_sync: gradients accumulate locally, then the next synced backward averages the sum
    x, y = data("mlp", 4 * n * 8)
    it.manual_seed(0)
    ref = mlp()
    it.manual_seed(0)
    model = DDP(mlp())
    lossf = nn.CrossEntropyLoss()
    for m in range(2):
        lossf(ref(x[m * 16:(m + 1) * 16]), y[m * 16:(m + 1) * 16]).backward()
    mine = [slice(m * 16 + r * 8, m * 16 + (r + 1) * 8) for m in range(2)]
    with model.no_sync():
        lossf(model(x[mine[0]]), y[mine[0]]).backward()
    g = model.module[0].weight.grad.clone()
    other = [it.zeros_like(g) for _ in range(n)]
    dist.all_gather(other, g)
    assert not bool(it.allclose(other[0], other[1])), "no_sync communicated"
    lossf(model(x[mine[1]]), y[mine[1]]).backward()
    for (name, p), q in zip(ref.named_parameters(), model.module.parameters()):
        close(q.grad, p.grad, 1e-5, f"no_sync: grad of {name}")

    # buffers are rank 0's after construction too (BatchNorm's running statistics)
    net = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    with it.no_grad():
        net[1].running_mean.fill_(float(r + 1))
        net[1].num_batches_tracked.fill_(10 * (r + 1))
    DDP(net)
    close(net[1].running_mean, [1.0] * 3, 0, "running_mean broadcast from rank 0")
    assert net[1].num_batches_tracked.item() == 10

    # a parameter the loss does not reach
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 3)
            self.b = nn.Linear(4, 3)

        def forward(self, x, use_b=False):
            return self.a(x) + (self.b(x) if use_b else 0)

    it.manual_seed(0)
    model = DDP(Branchy())
    xin = it.ones(2, 4)
    model(xin).sum().backward()
    try:
        model(xin)
        raise AssertionError("an unused parameter went unnoticed")
    except RuntimeError as e:
        assert "find_unused_parameters=True" in str(e) and "b.weight" in str(e), e
    it.manual_seed(0)
    model = DDP(Branchy(), find_unused_parameters=True)
    for _ in range(2):
        model.zero_grad()
        model(xin * (r + 1), use_b=(r == 1)).sum().backward()   # b used on rank 1 only
        assert model.module.a.weight.grad is not None
        close(model.module.b.bias.grad, [1.0] * 3, 0, "b's gradient averaged over the ranks")
    model.zero_grad()
    model(xin).sum().backward()                                 # b used on no rank
    assert model.module.b.weight.grad is None, "a parameter used on no rank got a gradient"
    assert model.module.a.weight.grad is not None
    print(f"rank {r}: ddp OK", flush=True)


def fail():
    r = dist.get_rank()
    if r == 1:
        raise ValueError("rank one fails on purpose before the all_reduce")
    dist.all_reduce(it.ones(3))
    print("rank 0 passed the all_reduce: the failure did not stop it", flush=True)


def main(argv):
    for bad, text in (({"world_size": 3}, "world_size=3 was given, but mpirun started this "
                       "process with world_size 2"), ({"rank": 5}, "rank=5 was given")):
        try:
            dist.init_process_group("mpi", **bad)
            raise AssertionError(f"no error for {bad}")
        except ValueError as e:
            assert text in str(e), (text, e)
    assert not dist.is_initialized()
    dist.init_process_group("mpi")
    try:
        dist.init_process_group("mpi")
        raise AssertionError("a second init_process_group did not raise")
    except RuntimeError as e:
        assert "twice" in str(e), e
    assert dist.get_backend() == "mpi" and dist.is_initialized()
    what = argv[0]
    if what == "collectives":
        for backend in argv[1].split(","):
            with it.use_backend(backend):
                collectives(backend)
    elif what == "ddp":
        ddp_checks()
    elif what == "fail":
        fail()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1:])
