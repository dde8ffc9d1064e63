"""``interop.multiprocessing``: Python's ``multiprocessing`` (everything it exports), with
interop tensors passed between processes by shared memory, as ``torch.multiprocessing``.

Importing it registers interop's tensor reductions with ``multiprocessing``'s pickler: a
tensor (a ``Parameter``, a model's weights) sent to a ``Process``, through a ``Queue`` or a
``Pipe``, moves into shared memory (:meth:`Tensor.share_memory_`) and the receiver maps the
same memory, in spawned processes as in forked ones. So PyTorch's Hogwild pattern —
``model.share_memory()``, then several ``Process(target=train, args=(model,))`` — updates
the parent's parameters. ``spawn(fn, args, nprocs)`` runs ``fn(i, *args)`` in ``nprocs``
processes and raises ``ProcessRaisedException`` with a child's traceback if one fails.
Only the cpu backend can share memory; a tensor of another backend raises when sent.
"""

import multiprocessing
import multiprocessing.connection
import signal
import sys
import time
import traceback
from multiprocessing import *            # noqa: F401,F403  (PyTorch re-exports it all)
from multiprocessing.reduction import ForkingPickler

import interop as it
import interop.nn as nn
from interop._sharing import reduce_tensor, rebuild_tensor

__all__ = list(multiprocessing.__all__) + [
    "spawn", "start_processes", "ProcessContext", "ProcessException", "ProcessRaisedException",
    "ProcessExitedException", "get_sharing_strategy", "set_sharing_strategy",
    "get_all_sharing_strategies"]

def _rebuild(cls, handle, requires_grad):
    # what a pickled tensor calls: unpickling one imports this module, so a process that
    # receives a tensor can send tensors too
    return rebuild_tensor(cls, handle, requires_grad)


def _reduce(t):
    _, args = reduce_tensor(t)
    return _rebuild, args


for _cls in (it.Tensor, nn.Parameter, nn.Buffer):
    ForkingPickler.register(_cls, _reduce)

_STRATEGIES = {"file_system"}     # named POSIX shared-memory blocks (PyTorch's name for it)


def get_all_sharing_strategies():
    return set(_STRATEGIES)


def get_sharing_strategy():
    return "file_system"


def set_sharing_strategy(new_strategy):
    """Only ``"file_system"`` (named shared-memory blocks) is implemented; PyTorch's
    ``"file_descriptor"`` is refused rather than silently replaced."""
    if new_strategy not in _STRATEGIES:
        raise ValueError(f"set_sharing_strategy: interop implements {sorted(_STRATEGIES)}, "
                         f"got {new_strategy!r}")


class ProcessException(Exception):
    def __init__(self, msg, error_index, pid):
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """A process started by :func:`spawn` raised; the message holds its traceback."""


class ProcessExitedException(ProcessException):
    """A process started by :func:`spawn` exited with a non-zero code or a signal."""

    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code,
                            self.signal_name)


def _wrap(fn, i, args, error_queue):
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass
    except Exception:
        error_queue.put(traceback.format_exc())
        sys.exit(1)


class ProcessContext:
    """The processes :func:`start_processes` started: ``join()`` waits for them."""

    def __init__(self, processes, error_queues):
        self.processes, self.error_queues = processes, error_queues

    def pids(self):
        return [p.pid for p in self.processes]

    def join(self, timeout=None):
        """Waits up to ``timeout`` seconds; True when every process has finished, False
        while some run. The first failure terminates the others and raises."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            failed = next((i for i, p in enumerate(self.processes)
                           if p.exitcode not in (None, 0)), None)
            if failed is not None:
                return self._raise(failed)
            if all(p.exitcode == 0 for p in self.processes):
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            multiprocessing.connection.wait([p.sentinel for p in self.processes
                                             if p.exitcode is None], timeout=0.1)

    def _raise(self, i):
        for p in self.processes:
            if p.is_alive():
                p.terminate()
            p.join()
        p = self.processes[i]
        if not self.error_queues[i].empty():
            tb = self.error_queues[i].get()
            raise ProcessRaisedException(
                f"\n\n-- Process {i} terminated with the following error:\n{tb}", i, p.pid)
        if p.exitcode < 0:
            name = signal.Signals(-p.exitcode).name
            raise ProcessExitedException(f"process {i} terminated with signal {name}", i,
                                         p.pid, p.exitcode, name)
        raise ProcessExitedException(f"process {i} terminated with exit code {p.exitcode}", i,
                                     p.pid, p.exitcode)


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Runs ``fn(i, *args)`` for ``i`` in ``range(nprocs)``, each in its own process."""
    ctx = multiprocessing.get_context(start_method)
    processes, queues = [], []
    for i in range(nprocs):
        q = ctx.SimpleQueue()
        p = ctx.Process(target=_wrap, args=(fn, i, args, q), daemon=daemon)
        p.start()
        processes.append(p)
        queues.append(q)
    context = ProcessContext(processes, queues)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """:func:`start_processes` with the ``spawn`` start method (PyTorch's ``mp.spawn``)."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)
