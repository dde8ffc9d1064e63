"""``DataLoader``: batches from a dataset, in the main process or in worker processes.

With ``num_workers > 0`` each worker process reads and collates whole batches; batches come
back in sampler order whatever order the workers finish in. Tensors in a batch cross the
process boundary through shared memory (the worker writes each tensor's bytes into a new
shared-memory block; the main process copies them out once and frees the block), never as
pickles. A worker that raises surfaces in the main process as the same exception type with
the worker id and the original traceback; a worker that dies is reported within a fraction
of a second (never a hang); ``timeout`` bounds the wait for any one batch.

Workers are forked where the platform allows it (as PyTorch's default on Linux), run on the
``cpu`` backend, and are seeded ``base_seed + worker_id`` (Python's ``random`` and interop's
default generator), ``base_seed`` being drawn from ``generator`` once per epoch.
"""

import itertools
import multiprocessing
import pickle
import queue
import random
import signal
import time
import traceback

import interop as it
from .collate import default_collate, default_convert, map_structure
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info", "WorkerInfo"]

_POLL_S = 0.1          # how often a waiting main process checks that its workers live


class WorkerInfo:
    """What :func:`get_worker_info` returns inside a worker: ``id``, ``num_workers``,
    ``seed`` and ``dataset`` (this worker's copy)."""

    def __init__(self, id, num_workers, seed, dataset):
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self):
        return (f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
                f"dataset={type(self.dataset).__name__})")


_worker_info = None


def get_worker_info():
    """In a DataLoader worker process: its :class:`WorkerInfo`; in the main process: None."""
    return _worker_info


# ------------------------------------------------------------------ fetching

class _MapFetcher:
    def __init__(self, dataset, auto_collation, collate_fn):
        self.dataset, self.auto, self.collate = dataset, auto_collation, collate_fn
        self.getitems = getattr(dataset, "__getitems__", None) if auto_collation else None

    def fetch(self, index):
        if not self.auto:
            return self.collate(self.dataset[index])
        if self.getitems is not None:
            return self.collate(self.getitems(index))
        return self.collate([self.dataset[i] for i in index])


class _IterFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, batch_size, drop_last):
        self.it = iter(dataset)
        self.auto, self.collate = auto_collation, collate_fn
        self.batch_size, self.drop_last = batch_size, drop_last
        self.ended = False

    def fetch(self, _index):
        if self.ended:
            raise StopIteration
        if not self.auto:
            return self.collate(next(self.it))
        batch = list(itertools.islice(self.it, self.batch_size))
        if len(batch) < self.batch_size:
            self.ended = True
            if not batch or self.drop_last:
                raise StopIteration
        return self.collate(batch)


# ------------------------------------------------------------------ shared memory transport

class _Shared:
    """A tensor in transit: where its bytes lie in its batch's shared-memory block."""

    __slots__ = ("offset", "dtype", "shape")

    def __init__(self, offset, dtype, shape):
        self.offset, self.dtype, self.shape = offset, dtype, shape


class _Batch:
    """A collated batch in transit: its structure, with every tensor replaced by a
    :class:`_Shared`, and the name of the one shared-memory block holding them all."""

    __slots__ = ("block", "structure")

    def __init__(self, block, structure):
        self.block, self.structure = block, structure


def _nbytes(t):
    return t.numel() * t.dtype.itemsize


def _pack(data):
    """``data`` for the trip to the main process: its tensors' bytes in one new
    shared-memory block (each at a 64-byte boundary), the rest pickled as it is."""
    tensors = []

    def place(d):
        if isinstance(d, it.Tensor):
            t = d.detach()
            offset = tensors[-1][1] + -(-_nbytes(tensors[-1][0]) // 64) * 64 if tensors else 0
            tensors.append((t, offset))
            return _Shared(offset, t.dtype.name, tuple(t.shape))
        return map_structure(d, place)
    structure = place(data)
    if not tensors:
        return _Batch(None, data)
    last, offset = tensors[-1]
    shm = it.backends.open_block(size=max(offset + _nbytes(last), 1))
    try:
        for t, offset in tensors:
            it.backends.to_buffer(t, t.dtype, shm.buf[offset:offset + _nbytes(t)])
    finally:
        shm.close()
    return _Batch(shm.name, structure)


def _unpack(batch, device):
    """The batch a worker packed, as tensors on ``device``; frees its block."""
    if batch.block is None:
        return batch.structure
    shm = it.backends.open_block(name=batch.block)
    try:
        def get(d):
            if isinstance(d, _Shared):
                dt = it.dtypes.by_name(d.dtype)
                n = 1
                for k in d.shape:
                    n *= k
                host = it.backends.from_bytes(shm.buf[d.offset:d.offset + n * dt.itemsize],
                                              dt, d.shape)
                return it.asarray(host, device=device)
            return map_structure(d, get)
        return get(batch.structure)
    finally:
        shm.close()
        shm.unlink()


def _free(batch):
    """Frees the block of a batch that will never be read (an epoch that ended early)."""
    if isinstance(batch, _Batch) and batch.block is not None:
        try:
            shm = it.backends.open_block(name=batch.block)
            shm.close()
            shm.unlink()
        except FileNotFoundError:
            pass


# ------------------------------------------------------------------ worker processes

class _WorkerError:
    """An exception raised in a worker, carried back to be raised again in the main one."""

    def __init__(self, exc, worker_id, where):
        try:
            pickle.dumps(type(exc))
            self.type = type(exc)
        except Exception:           # a class the main process could not import
            self.type = RuntimeError
        self.text = (f"Caught {type(exc).__name__} in DataLoader worker process {worker_id} "
                     f"{where}.\nOriginal Traceback (most recent call last):\n"
                     + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[1:]))

    def reraise(self):
        try:
            exc = self.type(self.text)
        except Exception:
            exc = RuntimeError(self.text)
        raise exc


class _IterableEnd:
    def __init__(self, worker_id):
        self.worker_id = worker_id


class _Resume:
    """Sent to persistent workers at the start of an epoch (iterable datasets restart)."""


def _worker_loop(dataset, is_iterable, auto_collation, collate_fn, batch_size, drop_last,
                 index_queue, result_queue, seed, init_fn, worker_id, num_workers):
    global _worker_info
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # Ctrl-C is the main process's to handle
    it.set_backend("cpu")
    random.seed(seed)
    it.manual_seed(seed)
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    init_error = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
    except Exception as e:
        init_error = _WorkerError(e, worker_id, "in worker_init_fn")

    def new_fetcher():
        if is_iterable:
            return _IterFetcher(dataset, auto_collation, collate_fn, batch_size, drop_last)
        return _MapFetcher(dataset, auto_collation, collate_fn)
    fetcher = None
    while True:
        task = index_queue.get()
        if task is None:
            break
        if isinstance(task, _Resume):
            fetcher = None
            result_queue.put((task, None))
            continue
        idx, index = task
        if init_error is not None:
            result_queue.put((idx, init_error))
            continue
        data = None
        try:
            if fetcher is None:
                fetcher = new_fetcher()
            data = _pack(fetcher.fetch(index))
            payload = pickle.dumps(data)    # here, so that a failure is reported, not lost
        except StopIteration:
            payload = pickle.dumps(_IterableEnd(worker_id))
        except Exception as e:
            if data is not None:
                _free(data)
            payload = pickle.dumps(_WorkerError(e, worker_id, ""))
        result_queue.put((idx, payload))


def _loads(payload):
    # results come from this loader's own worker processes (trusted), never from a file
    return pickle.loads(payload) if isinstance(payload, bytes) else payload


def _exit_text(p):
    code = p.exitcode
    if code is not None and code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class _Workers:
    """The worker processes of one loader (kept between epochs with persistent_workers)."""

    def __init__(self, loader, seed):
        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = multiprocessing.get_context(
                "fork" if "fork" in multiprocessing.get_all_start_methods() else None)
        elif isinstance(ctx, str):
            ctx = multiprocessing.get_context(ctx)
        self.result_queue = ctx.Queue()
        self.index_queues, self.procs = [], []
        is_iterable = isinstance(loader.dataset, IterableDataset)
        for wid in range(loader.num_workers):
            q = ctx.Queue()
            p = ctx.Process(target=_worker_loop, daemon=True, args=(
                loader.dataset, is_iterable, loader._auto_collation, loader.collate_fn,
                loader.batch_size, loader.drop_last, q, self.result_queue, seed + wid,
                loader.worker_init_fn, wid, loader.num_workers))
            p.start()
            self.index_queues.append(q)
            self.procs.append(p)
        self.closed = False

    def check_alive(self):
        dead = [p for p in self.procs if not p.is_alive()]
        if dead:
            self.shutdown()
            raise RuntimeError("DataLoader worker (pid(s) " + ", ".join(str(p.pid) for p in dead)
                               + ") exited unexpectedly (" + ", ".join(_exit_text(p)
                                                                      for p in dead) + ")")

    def shutdown(self):
        if self.closed:
            return
        self.closed = True
        for q in self.index_queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + 1.0
        for p in self.procs:
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.terminate()
                p.join(1.0)
        while True:                         # free the blocks of batches nobody will read
            try:
                _, payload = self.result_queue.get_nowait()
            except (queue.Empty, OSError, ValueError, EOFError):
                break
            _free(_loads(payload))
        for q in self.index_queues + [self.result_queue]:
            q.cancel_join_thread()
            q.close()


def _base_seed(loader):
    """Every epoch draws the workers' base seed from the loader's generator first (with or
    without workers, so that a seeded shuffle is the same either way)."""
    return int(it.randint(0, 2 ** 62, (), generator=loader.generator, device="cpu"))


class _SingleProcessIter:
    def __init__(self, loader):
        self.loader = loader
        _base_seed(loader)
        self.sampler_iter = iter(loader._index_sampler)
        if isinstance(loader.dataset, IterableDataset):
            self.fetcher = _IterFetcher(loader.dataset, loader._auto_collation,
                                        loader.collate_fn, loader.batch_size, loader.drop_last)
        else:
            self.fetcher = _MapFetcher(loader.dataset, loader._auto_collation,
                                       loader.collate_fn)

    def __iter__(self):
        return self

    def __next__(self):
        index = next(self.sampler_iter)
        return self.fetcher.fetch(index)

    def __len__(self):
        return len(self.loader)


class _MultiProcessIter:
    def __init__(self, loader):
        self.loader = loader
        self.device = it.get_backend().device
        seed = _base_seed(loader)
        if loader.persistent_workers and loader._workers is not None and \
                not loader._workers.closed:
            self.workers = loader._workers
            self.workers.check_alive()
            for q in self.workers.index_queues:
                q.put(_Resume())
            for _ in self.workers.index_queues:
                self._get()
        else:
            self.workers = _Workers(loader, seed)
            if loader.persistent_workers:
                loader._workers = self.workers
        self.sampler_iter = iter(loader._index_sampler)
        n = loader.num_workers
        self.active = [True] * n
        self.next_worker = itertools.cycle(range(n))
        self.send_idx = self.rcvd_idx = 0
        self.tasks = {}             # batch index -> [worker id] or [worker id, data]
        self.done = False
        for _ in range(loader.prefetch_factor * n):
            self._send()

    def __iter__(self):
        return self

    def __len__(self):
        return len(self.loader)

    def _send(self):
        if not any(self.active):
            return
        try:
            index = next(self.sampler_iter)
        except StopIteration:
            return
        for _ in range(len(self.active)):
            w = next(self.next_worker)
            if self.active[w]:
                break
        self.workers.index_queues[w].put((self.send_idx, index))
        self.tasks[self.send_idx] = [w]
        self.send_idx += 1

    def _get(self):
        timeout = self.loader.timeout
        start = time.monotonic()
        while True:
            wait = _POLL_S if timeout <= 0 else min(_POLL_S, max(
                0.0, timeout - (time.monotonic() - start)))
            try:
                idx, payload = self.workers.result_queue.get(timeout=wait)
                return idx, _loads(payload)
            except queue.Empty:
                self.workers.check_alive()
                if timeout > 0 and time.monotonic() - start >= timeout:
                    self._finish()
                    raise RuntimeError(f"DataLoader timed out after {timeout} seconds waiting "
                                       f"for a batch from its workers") from None

    def __next__(self):
        while True:
            if self.done:
                raise StopIteration
            while self.rcvd_idx < self.send_idx:
                task = self.tasks[self.rcvd_idx]
                if len(task) == 2 or self.active[task[0]]:
                    break
                del self.tasks[self.rcvd_idx]      # its worker's iterable ended before it
                self.rcvd_idx += 1
                self._send()                        # ask a worker that still has data
            else:
                self._finish()
                raise StopIteration
            task = self.tasks[self.rcvd_idx]
            if len(task) == 2:
                del self.tasks[self.rcvd_idx]
                self.rcvd_idx += 1
                self._send()
                return self._deliver(task[1])
            idx, data = self._get()
            if isinstance(data, _IterableEnd):     # its task is skipped above
                self.active[data.worker_id] = False
                continue
            if idx != self.rcvd_idx:
                self.tasks[idx].append(data)
                continue
            del self.tasks[idx]
            self.rcvd_idx += 1
            self._send()
            return self._deliver(data)

    def _deliver(self, data):
        if isinstance(data, _WorkerError):
            self._finish()
            data.reraise()
        return _unpack(data, self.device)

    def _finish(self):
        if self.done:
            return
        self.done = True
        for task in self.tasks.values():
            if len(task) == 2:
                _free(task[1])
        if not self.loader.persistent_workers or self.workers is not self.loader._workers:
            self.workers.shutdown()
        else:                       # drain what is still in flight, for the next epoch
            outstanding = sum(1 for t in self.tasks.values() if len(t) == 1)
            for _ in range(outstanding):
                try:
                    _, data = self._get()
                except RuntimeError:
                    break
                _free(data)
        self.tasks.clear()

    def __del__(self):
        try:
            self._finish()
        except Exception:
            pass


class DataLoader:
    """Batches of ``dataset``, as PyTorch's ``DataLoader`` (same arguments and rules)."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"num_workers option should be non-negative; use num_workers=0 to "
                             f"disable multiprocessing (got {num_workers!r})")
        if timeout < 0:
            raise ValueError(f"timeout option should be non-negative, got {timeout}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing. let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor < 1:
            raise ValueError(f"prefetch_factor must be a positive integer, got "
                             f"{prefetch_factor}")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if not in_order:
            raise ValueError("in_order=False is not supported: batches always come in "
                             "sampler order")
        is_iterable = isinstance(dataset, IterableDataset)
        if is_iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            if is_iterable:
                sampler = _InfiniteSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory            # nothing to pin: host memory is what we have
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.persistent_workers = persistent_workers
        self._auto_collation = batch_sampler is not None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._workers = None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        return _MultiProcessIter(self)

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)

    def __del__(self):
        w = getattr(self, "_workers", None)
        if w is not None:
            try:
                w.shutdown()
            except Exception:
                pass


class _InfiniteSampler(Sampler):
    """Tokens for iterable datasets: every request asks a worker for its next batch."""

    def __iter__(self):
        while True:
            yield None
