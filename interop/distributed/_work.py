"""``ReduceOp`` and ``Work``, the handle an ``async_op=True`` call returns."""

import enum
import time

__all__ = ["ReduceOp", "Work"]


class ReduceOp(enum.Enum):
    """How ``all_reduce``, ``reduce`` and ``reduce_scatter`` combine the ranks' values.
    ``AVG`` is the sum divided by the group's size (floating dtypes only); the bitwise ones
    take integer or bool tensors (MPI only: NCCL has none)."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"

    def __repr__(self):
        return f"<ReduceOp.{self.name}>"


class Work:
    """One communication in flight. ``wait()`` blocks until it is complete and the output
    tensors hold the result (on NCCL: until the current CUDA stream is ordered after it),
    then returns True; ``is_completed()`` asks without blocking. ``result()`` is the list
    of output tensors.

    Made by a process group from ``wait_fn()`` (blocks), ``test_fn()`` (True when done,
    never blocks) and ``finish`` callables run once after completion (copies back into
    tensors that could not be handed to the engine as they are, version bumps)."""

    __slots__ = ("_wait", "_test", "_finish", "_outputs", "_done", "_keep")

    def __init__(self, wait_fn, test_fn, finish=(), outputs=(), keep=()):
        self._wait = wait_fn
        self._test = test_fn
        self._finish = list(finish)
        self._outputs = list(outputs)
        self._done = False
        self._keep = keep          # buffers the engine reads or writes until completion

    def _complete(self):
        self._done = True
        self._keep = None
        for f in self._finish:
            f()
        self._finish = ()

    def _completed_now(self):
        """This Work's operation has already completed (a blocking call): finish it."""
        self._complete()
        return self

    def wait(self, timeout=None):
        """Block until complete; with ``timeout`` (seconds or a ``timedelta``), raise
        TimeoutError if it is not complete by then (the operation stays in flight: a later
        ``wait()`` can still complete it)."""
        if not self._done:
            if timeout is not None:
                secs = timeout.total_seconds() if hasattr(timeout, "total_seconds") \
                    else float(timeout)
                deadline = time.monotonic() + secs
                while not self._test():
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"Work.wait: the operation did not complete within "
                                           f"{secs} s")
                    time.sleep(0.0002)
            self._wait()
            self._complete()
        return True

    def is_completed(self):
        if not self._done and self._test():
            self._complete()
        return self._done

    def is_success(self):
        return self.is_completed()

    def result(self):
        return list(self._outputs)

    def __repr__(self):
        return f"<Work {'completed' if self._done else 'in flight'}>"

