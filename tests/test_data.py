"""interop.data against torch.utils.data: datasets, samplers, collation, and the DataLoader
with and without worker processes (same batches in the same order; raising, dying and slow
workers end the loop with a clear error within seconds)."""

import collections
import os
import signal
import time

import numpy as np
import pytest

import interop as it
from interop import data
from helpers import to_np

torch = pytest.importorskip("torch")
tud = torch.utils.data


def _plain(x):
    """A comparable plain-Python picture of a batch from either library."""
    if isinstance(x, it.Tensor):
        return ("T", str(x.dtype).split(".")[-1], to_np(x).tolist())
    if isinstance(x, torch.Tensor):
        return ("T", str(x.dtype).split(".")[-1], x.numpy().tolist())
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__,) + tuple(_plain(v) for v in x)
    if isinstance(x, (list, tuple)):
        return [type(x).__name__] + [_plain(v) for v in x]
    return x


Point = collections.namedtuple("Point", "x y")

SAMPLES = {
    "numbers": [1, 2, 3],
    "floats": [1.5, 2.5],
    "bools": [True, False],
    "strings": ["a", "bc"],
    "numpy": [np.arange(3, dtype=np.float32), np.ones(3, np.float32)],
    "numpy scalars": [np.float32(1.5), np.float32(2.0)],
    "dicts": [{"x": np.zeros(2), "label": 1}, {"x": np.ones(2), "label": 0}],
    "tuples": [(np.zeros(2, np.int32), 1.0), (np.ones(2, np.int32), 2.0)],
    "lists": [[1, 2], [3, 4]],
    "named tuples": [Point(1, np.zeros(2)), Point(2, np.ones(2))],
    "nested": [{"a": [(1, "x")], "b": {"c": 1.0}}, {"a": [(2, "y")], "b": {"c": 2.0}}],
}


@pytest.mark.parametrize("case", sorted(SAMPLES))
def test_default_collate_matches_pytorch(be, case):
    batch = SAMPLES[case]
    ours = data.default_collate(batch)
    theirs = tud.default_collate(batch)
    assert _plain(ours) == _plain(theirs)
    flat = [ours] if isinstance(ours, it.Tensor) else []
    assert all(t.backend is be for t in flat)


def test_default_collate_of_tensors_and_errors(be):
    out = data.default_collate([it.ones(2, 3), it.zeros(2, 3)])
    assert tuple(out.shape) == (2, 2, 3) and out.backend is be
    with pytest.raises(RuntimeError, match="equal size"):
        data.default_collate([it.ones(2), it.ones(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        data.default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found object"):
        data.default_collate([object(), object()])
    with pytest.raises(TypeError, match="<U1"):
        data.default_collate([np.array(["a"]), np.array(["b"])])


def test_datasets(be):
    ds = data.TensorDataset(it.arange(6.0), it.arange(6))
    x, y = ds[2]
    assert float(x) == 2.0 and int(y) == 2 and len(ds) == 6
    with pytest.raises(ValueError, match="Size mismatch"):
        data.TensorDataset(it.ones(3), it.ones(4))
    with pytest.raises(TypeError, match="not a Tensor"):
        data.TensorDataset([1, 2])
    cat = ds + data.TensorDataset(it.arange(6.0, 9.0), it.arange(6, 9))
    assert isinstance(cat, data.ConcatDataset) and len(cat) == 9
    assert float(cat[7][0]) == 7.0 and float(cat[-1][0]) == 8.0
    with pytest.raises(IndexError):
        cat[9]
    sub = data.Subset(cat, [8, 0])
    assert float(sub[0][0]) == 8.0 and len(sub) == 2
    st = data.StackDataset(a=list("abc"), b=[1, 2, 3])
    assert st[1] == {"a": "b", "b": 2}
    with pytest.raises(ValueError, match="Size mismatch"):
        data.StackDataset([1], [1, 2])


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.33, 0.33, 0.34], [0.5, 0.5]])
def test_random_split_lengths_match_pytorch(lengths):
    parts = data.random_split(list(range(10)), lengths, generator=it.Generator().manual_seed(0))
    theirs = tud.random_split(list(range(10)), lengths,
                              generator=torch.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [len(p) for p in theirs]
    seen = sorted(i for p in parts for i in p)
    assert seen == list(range(10))
    with pytest.raises(ValueError, match="Sum of input lengths"):
        data.random_split(list(range(10)), [3, 3])


def test_samplers():
    seq = list(data.SequentialSampler(range(5)))
    assert seq == [0, 1, 2, 3, 4]
    g = it.Generator().manual_seed(1)
    perm = list(data.RandomSampler(range(50), generator=g))
    assert sorted(perm) == list(range(50)) and perm != list(range(50))
    assert list(data.RandomSampler(range(50), generator=it.Generator().manual_seed(1))) == perm
    many = list(data.RandomSampler(range(5), num_samples=12, generator=g))
    assert len(many) == 12 and sorted(many[:5]) == list(range(5))
    repl = list(data.RandomSampler(range(5), replacement=True, num_samples=40, generator=g))
    assert len(repl) == 40 and set(repl) <= set(range(5))
    assert sorted(data.SubsetRandomSampler([3, 9, 4], generator=g)) == [3, 4, 9]
    for drop in (True, False):
        for n, b in ((10, 3), (9, 3), (1, 4), (0, 2)):
            ours = data.BatchSampler(range(n), b, drop)
            theirs = tud.BatchSampler(range(n), b, drop)
            assert list(ours) == list(theirs) and len(ours) == len(theirs)
    with pytest.raises(ValueError, match="batch_size"):
        data.BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="num_samples"):
        data.RandomSampler(range(3), num_samples=0)


def test_weighted_random_sampler_statistics():
    w = [0.1, 0.0, 0.6, 0.3]
    draws = list(data.WeightedRandomSampler(w, 20000, generator=it.Generator().manual_seed(0)))
    freq = np.bincount(draws, minlength=4) / len(draws)
    np.testing.assert_allclose(freq, w, atol=0.015)
    once = list(data.WeightedRandomSampler(w, 3, replacement=False,
                                           generator=it.Generator().manual_seed(0)))
    assert sorted(once) == [0, 2, 3]
    with pytest.raises(ValueError, match="without replacement"):
        data.WeightedRandomSampler(w, 4, replacement=False)
    with pytest.raises(ValueError, match="non-negative"):
        data.WeightedRandomSampler([-1.0, 2.0], 2)


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("n", [10, 11])
def test_distributed_sampler_matches_pytorch_without_shuffle(n, drop_last):
    for rank in range(3):
        ours = data.DistributedSampler(range(n), num_replicas=3, rank=rank, shuffle=False,
                                       drop_last=drop_last)
        theirs = tud.DistributedSampler(range(n), num_replicas=3, rank=rank, shuffle=False,
                                        drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
    shuffled = [list(data.DistributedSampler(range(n), 3, r, seed=5)) for r in range(3)]
    assert set().union(*map(set, shuffled)) == set(range(n))


class Squares(data.Dataset):
    """Sample i: (a float32 array of i's, i squared); index `bad` raises, `kill` dies."""

    def __init__(self, n, bad=None, kill=None, sleep=0.0):
        self.n, self.bad, self.kill, self.sleep = n, bad, kill, sleep

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            raise KeyError(f"sample {i} is broken")
        if i == self.kill and data.get_worker_info() is not None:
            os.kill(os.getpid(), signal.SIGKILL)
        if self.sleep:
            time.sleep(self.sleep)
        return np.full((2, 2), i, np.float32), i * i


class Stream(data.IterableDataset):
    """0 .. n-1, shared out between workers by get_worker_info."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = data.get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))

    def __len__(self):
        return self.n


def _batches(loader):
    return [_plain(b) for b in loader]


@pytest.mark.parametrize("drop_last", [False, True])
def test_workers_give_the_same_batches_in_the_same_order(be, drop_last):
    ds = Squares(23)

    def loader(workers):
        return data.DataLoader(ds, batch_size=4, shuffle=True, num_workers=workers,
                               drop_last=drop_last, generator=it.Generator().manual_seed(3))
    serial = _batches(loader(0))
    parallel = _batches(loader(2))
    assert serial == parallel and len(serial) == len(loader(0)) == len(loader(2))
    assert len(loader(0)) == len(tud.DataLoader(range(23), batch_size=4, drop_last=drop_last))
    b = next(iter(loader(2)))
    assert b[0].backend is be and b[0].dtype == it.float32 and b[1].dtype == it.int64


def test_iterable_dataset_with_workers(be):
    serial = sorted(i for b in data.DataLoader(Stream(10), batch_size=3) for i in to_np(b))
    par = data.DataLoader(Stream(10), batch_size=3, num_workers=2)
    got = sorted(i for b in par for i in to_np(b))
    assert serial == got == list(range(10))
    assert len(par) == 4


def test_worker_exception_surfaces_with_type_and_worker_id():
    loader = data.DataLoader(Squares(8, bad=5), batch_size=2, num_workers=2)
    start = time.monotonic()
    with pytest.raises(KeyError) as e:
        list(loader)
    assert "in DataLoader worker process" in str(e.value) and "sample 5 is broken" in str(e.value)
    assert time.monotonic() - start < 10


def test_killed_worker_is_reported_not_hung():
    loader = data.DataLoader(Squares(8, kill=3), batch_size=2, num_workers=2)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="exited unexpectedly.*SIGKILL"):
        list(loader)
    assert time.monotonic() - start < 10


def test_timeout_expires_with_a_clear_error():
    loader = data.DataLoader(Squares(4, sleep=3.0), batch_size=2, num_workers=1, timeout=0.5)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="timed out after 0.5 seconds"):
        next(iter(loader))
    assert time.monotonic() - start < 3


def test_worker_init_fn_seeds_and_persistent_workers():
    class Seeds(data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            info = data.get_worker_info()
            return info.id, info.seed, os.getpid(), float(it.rand(()))

    loader = data.DataLoader(Seeds(), batch_size=1, num_workers=2, persistent_workers=True,
                             worker_init_fn=lambda wid: None)
    first = [tuple(int(x) if i < 3 else float(x) for i, x in enumerate(b)) for b in loader]
    second = [tuple(int(x) if i < 3 else float(x) for i, x in enumerate(b)) for b in loader]
    assert [b[0] for b in first] == [0, 1, 0, 1]
    assert first[0][1] + 1 == first[1][1]                   # seeds base + worker id
    assert {b[2] for b in first} == {b[2] for b in second}  # the same processes, kept
    assert data.get_worker_info() is None


def test_batch_size_none_and_custom_collate(be):
    loader = data.DataLoader(Squares(3), batch_size=None)
    first = next(iter(loader))
    assert isinstance(first[0], it.Tensor) and first[1] == 0 and len(loader) == 3
    loader = data.DataLoader(Squares(4), batch_size=2, collate_fn=lambda b: len(b))
    assert list(loader) == [2, 2]


def test_argument_errors_match_pytorch():
    ds = Squares(4)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        data.DataLoader(ds, sampler=data.SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        data.DataLoader(ds, batch_sampler=data.BatchSampler(range(4), 2, False), batch_size=2)
    with pytest.raises(ValueError, match="num_workers"):
        data.DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="prefetch_factor"):
        data.DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="shuffle"):
        data.DataLoader(Stream(3), shuffle=True)
    with pytest.raises(ValueError, match="drop_last"):
        data.DataLoader(ds, batch_size=None, drop_last=True)
