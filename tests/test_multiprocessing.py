"""Shared memory across processes: Tensor.share_memory_/is_shared, Module.share_memory, and
interop.multiprocessing passing tensors by shared memory to forked and spawned processes
(PyTorch's Hogwild pattern updates the parent's parameters); backends that cannot share
raise."""

import os
import pickle
from multiprocessing.reduction import ForkingPickler
import sys

import numpy as np
import pytest
import torch

import interop as it
import interop.multiprocessing as mp

import mp_workers
from helpers import to_np

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="POSIX shared memory, fork")


def test_share_memory_matches_pytorch_on_cpu():
    x, tx = it.arange(6.0).reshape(2, 3), torch.arange(6.0).reshape(2, 3)
    assert x.is_shared() is tx.is_shared() is False
    assert x.share_memory_() is x and tx.share_memory_() is tx
    assert x.is_shared() and tx.is_shared()
    assert x[1].is_shared() and tx[1].is_shared()               # views of shared memory
    np.testing.assert_array_equal(to_np(x), tx.numpy())
    assert x.share_memory_() is x                               # idempotent
    base = it.arange(8.0)
    v = base[1::3]                                              # a view moves its base
    v.share_memory_()
    assert v.is_shared() and base.is_shared()
    v[0] = 100.0
    assert to_np(base).tolist() == [0, 100, 2, 3, 4, 5, 6, 7] and to_np(v).tolist() == [100, 4, 7]
    m, tm = it.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    assert m.share_memory() is m and tm.share_memory() is tm
    assert all(p.is_shared() for p in m.parameters())
    data = it.ones(2)
    p = it.nn.Parameter(data)
    p.share_memory_()
    assert data.is_shared()             # the tensor it was made from moves too, as in PyTorch
    assert p.requires_grad and p.is_leaf and isinstance(p, it.nn.Parameter)
    with it.no_grad():
        p.add_(1)
    assert to_np(p).tolist() == [2.0, 2.0]


def test_share_memory_refuses_where_it_cannot_work():
    with it.use_backend("strict"):
        with pytest.raises(RuntimeError, match="'strict' backend .* cannot place tensors in "
                                               "memory shared"):
            it.ones(2).share_memory_()
        with pytest.raises(RuntimeError, match="'strict' backend"):
            it.nn.Linear(2, 2).share_memory()
        assert not it.ones(2).is_shared()
    base = it.arange(8.0)
    late = base[::-2]
    base.share_memory_()
    with pytest.raises(RuntimeError, match="view was taken before its base moved"):
        late.share_memory_()
    x = it.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="Cowardly refusing to serialize non-leaf tensor"):
        ForkingPickler.dumps(x)
    with pytest.raises(TypeError, match="interop.multiprocessing"):
        pickle.dumps(it.ones(2))            # plain pickle still refuses
    with it.use_backend("strict"):
        with pytest.raises(RuntimeError, match="'strict' backend"):
            ForkingPickler.dumps(it.ones(2))


def test_forked_process_writes_reach_the_parent():
    ctx = mp.get_context("fork")
    m = it.nn.Linear(2, 2).share_memory()
    before = to_np(m.weight).copy()
    p = ctx.Process(target=mp_workers.add_into, args=(0, m.weight, 1.0))
    p.start()
    p.join()
    assert p.exitcode == 0
    np.testing.assert_array_equal(to_np(m.weight), before + 1.0)
    # not shared: the child's write stays in the child, as in PyTorch
    q = it.zeros(2)
    p = ctx.Process(target=mp_workers.add_into, args=(0, q, 1.0))
    p.start()
    p.join()
    assert to_np(q).tolist() == [0.0, 0.0]


def test_hogwild_pattern_updates_the_parents_model_in_spawned_processes():
    g = np.random.default_rng(0)
    xs = it.tensor(g.standard_normal((32, 4)).astype(np.float32))
    ys = xs @ it.tensor([[1.0], [-2.0], [0.5], [3.0]])
    model = it.nn.Linear(4, 1)
    model.register_buffer("counter", it.zeros(()))
    model.share_memory()                       # PyTorch's mnist_hogwild/main.py
    loss0 = float(((model(xs) - ys) ** 2).mean())
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    processes = []
    for rank in range(2):
        p = ctx.Process(target=mp_workers.hogwild_train, args=(rank, model, xs, ys, 30, queue))
        p.start()
        processes.append(p)
    got = sorted((queue.get(timeout=20) for _ in processes), key=lambda r: r[1])
    for p in processes:
        p.join()
    assert [p.exitcode for p in processes] == [0, 0]
    assert float(model.counter) == 2.0                       # both workers wrote here
    loss1 = float(((model(xs) - ys) ** 2).mean())
    assert loss1 < 0.2 * loss0                               # 60 steps trained the parent
    assert [to_np(t).tolist() for _, _, t in got] == [[0.0, 0.0], [1.0, 1.0]]
    assert all(t.is_shared() for _, _, t in got)


def test_spawn_runs_fn_per_rank_and_reports_a_failure():
    t = it.arange(3.0).share_memory_()
    mp.spawn(mp_workers.add_into, args=(t, 1.0), nprocs=2)
    assert to_np(t).tolist() == [3.0, 4.0, 5.0]               # 0..2 + 1 + 2
    with pytest.raises(mp.ProcessRaisedException,
                       match=r"(?s)Process 1 terminated.*ValueError: worker 1 saw \[3.0"):
        mp.start_processes(mp_workers.fails, args=(t,), nprocs=2, start_method="fork")
    ctx = mp.start_processes(mp_workers.add_into, args=(t, 0.0), nprocs=1, join=False,
                             start_method="fork")
    assert len(ctx.pids()) == 1
    while not ctx.join():
        pass


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_childs_own_shared_memory_is_freed_when_it_exits(method):
    ctx = mp.get_context(method)
    queue = ctx.Queue()
    p = ctx.Process(target=mp_workers.make_shared_and_report, args=(queue,))
    p.start()
    names = queue.get(timeout=60)
    p.join()
    assert p.exitcode == 0 and names
    assert not any(os.path.exists(f"/dev/shm/{n}") for n in names)


def test_multiprocessing_namespace_is_pytorchs():
    for name in ["Process", "Queue", "SimpleQueue", "Pipe", "Pool", "get_context",
                 "set_start_method", "get_start_method", "cpu_count", "Event", "Lock",
                 "spawn", "start_processes", "ProcessContext", "ProcessRaisedException",
                 "ProcessExitedException", "get_sharing_strategy", "set_sharing_strategy",
                 "get_all_sharing_strategies"]:
        assert hasattr(mp, name), name
        assert hasattr(torch.multiprocessing, name), name
    assert mp.get_sharing_strategy() in mp.get_all_sharing_strategies()
    with pytest.raises(ValueError, match="file_descriptor"):
        mp.set_sharing_strategy("file_descriptor")
