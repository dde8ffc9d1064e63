"""The ``mpi`` process group: collectives on tensors of any host backend through mpi4py.

Tensors reach MPI as NumPy arrays over their own memory (``interop.backends.comm``,
through DLPack): no copy where the tensor is C-contiguous and writable. A strided view, a
read-only tensor or a GPU tensor goes through a host copy, written back when the
operation completes.

A collective called with ``async_op=True`` runs MPI's blocking call (``Allreduce``,
``Bcast``, ...) on the group's communication thread, which takes them one at a time in the
order they were issued (so every rank issues the same sequence), while the caller goes
on: mpi4py releases the GIL inside MPI, so the reduction really runs beside the caller's
computation, and MPI's blocking algorithms are the fast ones (Open MPI's non-blocking
collectives, libnbc, took twice as long for 7 MiB here, and they move on only inside MPI
calls). A call without ``async_op`` runs in the caller's thread when nothing is in flight,
else it queues behind what is. This needs MPI_THREAD_MULTIPLE (mpi4py asks for it; Open
MPI gives it) and a core for the thread: by default each rank of the node must have two
(``INTEROP_MPI_THREAD=1`` or ``0`` decides instead). Otherwise an ``async_op=True``
collective is MPI's non-blocking one (``Iallreduce``, ...), moved on by ``progress()`` and
``wait()``, and the others MPI's blocking ones.
Point-to-point operations are MPI's non-blocking ones in any case.
"""

import os
import queue
import threading

import interop as it
from interop.backends import comm as _comm
from interop.autograd.graph import bump_version

from ._work import ReduceOp, Work

__all__ = ["MPIProcessGroup", "INSTALL"]

INSTALL = ("install an MPI library and mpi4py: the system's Open MPI (Debian/Ubuntu: "
           "apt-get install openmpi-bin libopenmpi-dev; macOS: brew install open-mpi; conda: "
           "conda install -c conda-forge openmpi), then pip install \"interop[mpi]\" (mpi4py)")


def _read(t):
    """A host array holding tensor ``t``'s data, to be read by MPI."""
    d = t.detach()
    return _comm.host_buffer(d, False, d.cpu)[0]


def _write(t, finish):
    """A host array that MPI writes ``t``'s new data into; appends to ``finish`` what makes
    the data ``t``'s once the operation is complete."""
    d = t.detach()
    host, shared = _comm.host_buffer(d, True, d.cpu)
    if shared:
        finish.append(lambda: bump_version(t))
    else:
        finish.append(lambda: _copy_in(d, host))
    return host


def _copy_in(d, host):
    with it.no_grad():
        d.copy_(it.from_dlpack(host).reshape(d.shape))


def _copy_slices(tensors, host, finish):
    """After completion, tensor i of ``tensors`` takes slice i of the host array ``host``."""
    def run():
        with it.no_grad():
            for i, t in enumerate(tensors):
                t.detach().copy_(it.from_dlpack(host[i]).reshape(t.shape))
    finish.append(run)


def _spare_core(MPI, comm):
    """Whether each rank here has a core for a communication thread besides its own:
    ``INTEROP_MPI_THREAD=1``/``0`` decides; by default, when this node has at least twice
    as many cores as ranks (a thread that spins inside MPI on a core the computation needs
    slows both down)."""
    flag = os.environ.get("INTEROP_MPI_THREAD")
    if flag in ("0", "1"):
        return flag == "1"
    if flag:
        raise ValueError(f"INTEROP_MPI_THREAD must be 0 or 1, got {flag!r}")
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    ranks_here = local.Get_size()
    local.Free()
    return (os.cpu_count() or 1) >= 2 * ranks_here


class MPIProcessGroup:
    """The ranks of MPI communicator ``comm``; ``ranks`` lists their ranks in the world
    group (in this group's order)."""

    backend = "mpi"

    def __init__(self, MPI, comm, ranks):
        self.MPI = MPI
        self.comm = comm
        self.ranks = list(ranks)
        self._rank = comm.Get_rank()
        self._size = comm.Get_size()
        self._pending = []
        self._thread = None
        self._threaded = MPI.Query_thread() >= MPI.THREAD_MULTIPLE and _spare_core(MPI, comm)
        self._ops = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
                     ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND,
                     ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}

    def rank(self):
        return self._rank

    def size(self):
        return self._size

    # -------------------------------------------------------------- helpers
    def _mpi_op(self, op, dtype, who):
        if dtype in (it.float16, it.bfloat16):
            raise TypeError(f"{who}: MPI cannot reduce {dtype} tensors (it has no {dtype} type); "
                            f"cast to float32 first")
        if dtype is it.bool:
            if op in (ReduceOp.SUM, ReduceOp.MAX, ReduceOp.BOR):
                return self.MPI.LOR
            if op in (ReduceOp.PRODUCT, ReduceOp.MIN, ReduceOp.BAND):
                return self.MPI.LAND
            if op is ReduceOp.BXOR:
                return self.MPI.LXOR
        if op is ReduceOp.AVG and not dtype.is_floating_point and not dtype.is_complex:
            raise TypeError(f"{who}: ReduceOp.AVG needs a floating tensor, got {dtype}")
        if op in (ReduceOp.MIN, ReduceOp.MAX) and dtype.is_complex:
            raise TypeError(f"{who}: {op} is not defined for complex tensors ({dtype})")
        if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and (
                dtype.is_floating_point or dtype.is_complex):
            raise TypeError(f"{who}: {op} needs an integer or bool tensor, got {dtype}")
        return self._ops[op]

    @staticmethod
    def _bytes(host):
        """float16 travels as its bits (MPI has no 16-bit float type)."""
        return host.view("uint16") if host.dtype.name == "float16" else host

    def _work(self, req, finish, outputs, keep):
        reqs = req if isinstance(req, list) else [req]
        MPI = self.MPI
        work = Work(lambda: MPI.Request.Waitall(reqs), lambda: MPI.Request.Testall(reqs),
                    finish, outputs, keep)
        self._pending.append(work)
        return work

    def _coll(self, name, args, finish, outputs, keep, async_op):
        """Collective ``name`` (mpi4py's blocking spelling) on ``args``, as a Work."""
        fn = getattr(self.comm, name)
        if not self._threaded and async_op:
            start = getattr(self.comm, "I" + name[0].lower() + name[1:])     # Iallreduce...
            return self._work(start(*args), finish, outputs, keep)
        if not self._threaded or not async_op and (self._thread is None or self._thread.idle()):
            # MPI's blocking call, right here (with the thread: only when it has nothing in
            # flight; without: after the non-blocking ones in flight, as MPI orders them)
            fn(*args)
            return Work(None, None, finish, outputs, keep)._completed_now()
        if self._thread is None:
            self._thread = _CommThread(f"interop-mpi-{id(self.comm):x}")
        job = self._thread.submit(fn, args)
        return Work(job.wait, job.event.is_set, finish, outputs, keep)

    def progress(self):
        """Let MPI advance the operations in flight (it moves non-blocking collectives on
        only inside MPI calls); forgets the completed ones."""
        self._pending = [w for w in self._pending if not w.is_completed()]

    def _average(self, host, finish):
        n = self._size
        finish.insert(0, lambda: host.__itruediv__(n))

    # -------------------------------------------------------------- collectives
    def allreduce(self, t, op, async_op=False):
        finish = []
        host = _write(t, finish)
        mop = self._mpi_op(op, t.dtype, "all_reduce")
        if op is ReduceOp.AVG:
            self._average(host, finish)
        return self._coll("Allreduce", (self.MPI.IN_PLACE, host, mop), finish, [t], host, async_op)

    def broadcast(self, t, root, async_op=False):
        finish = []
        if self._rank == root:
            host = _read(t)
        else:
            host = _write(t, finish)
        return self._coll("Bcast", (self._bytes(host), root), finish, [t], host, async_op)

    def reduce(self, t, root, op, async_op=False):
        mop = self._mpi_op(op, t.dtype, "reduce")
        finish = []
        if self._rank == root:
            host = _write(t, finish)
            if op is ReduceOp.AVG:
                self._average(host, finish)
            args = (self.MPI.IN_PLACE, host, mop, root)
        else:
            host = _read(t)
            args = (host, None, mop, root)
        return self._coll("Reduce", args, finish, [t], host, async_op)

    def allgather(self, outs, t, async_op=False):
        send = _read(t)
        recv = _comm.empty_host((self._size,) + send.shape, send)
        finish = []
        _copy_slices(outs, recv, finish)
        return self._coll("Allgather", (self._bytes(send), self._bytes(recv)), finish, outs,
                          (send, recv), async_op)

    def allgather_into(self, out, t, async_op=False):
        send = _read(t)
        finish = []
        recv = _write(out, finish)
        return self._coll("Allgather", (self._bytes(send), self._bytes(recv)), finish, [out],
                          (send, recv), async_op)

    def reduce_scatter(self, out, ins, op, async_op=False):
        return self._reduce_scatter(out, _comm.concat_host([_read(x) for x in ins]), op,
                                    async_op, "reduce_scatter")

    def reduce_scatter_tensor(self, out, inp, op, async_op=False):
        return self._reduce_scatter(out, _read(inp), op, async_op, "reduce_scatter_tensor")

    def _reduce_scatter(self, out, send, op, async_op, name):
        mop = self._mpi_op(op, out.dtype, name)
        finish = []
        recv = _write(out, finish)
        if op is ReduceOp.AVG:
            self._average(recv, finish)
        return self._coll("Reduce_scatter_block", (send, recv, mop), finish, [out],
                          (send, recv), async_op)

    def gather(self, t, outs, root, async_op=False):
        send = _read(t)
        finish = []
        recv = None
        if self._rank == root:
            recv = _comm.empty_host((self._size,) + send.shape, send)
            _copy_slices(outs, recv, finish)
        args = (self._bytes(send), None if recv is None else self._bytes(recv), root)
        return self._coll("Gather", args, finish, outs or [], (send, recv), async_op)

    def scatter(self, t, ins, root, async_op=False):
        finish = []
        recv = _write(t, finish)
        send = _comm.concat_host([_read(x) for x in ins]) if self._rank == root else None
        args = (None if send is None else self._bytes(send), self._bytes(recv), root)
        return self._coll("Scatter", args, finish, [t], (send, recv), async_op)

    def send(self, t, peer, tag):
        host = _read(t)
        return self._work(self.comm.Isend(self._bytes(host), peer, tag), [], [t], host)

    def recv(self, t, peer, tag):
        """``(work, status)``: after ``work.wait()``, ``status.Get_source()`` is the sender's
        rank in this group."""
        finish = []
        host = _write(t, finish)
        MPI = self.MPI
        status = MPI.Status()
        req = self.comm.Irecv(self._bytes(host), MPI.ANY_SOURCE if peer is None else peer,
                              tag)
        return Work(lambda: req.Wait(status), lambda: req.Test(status), finish, [t], host), status

    def barrier(self, async_op=False):
        return self._coll("Barrier", (), [], [], None, async_op)

    # -------------------------------------------------------------- groups
    def subgroup(self, ranks):
        """A new group of the world ranks ``ranks`` (every rank of this group calls it);
        None on the ranks outside it."""
        members = [self.ranks.index(r) for r in ranks]
        sub = self.comm.Create(self.comm.Get_group().Incl(members))
        if sub == self.MPI.COMM_NULL:
            return None
        return MPIProcessGroup(self.MPI, sub, ranks)

    def destroy(self):
        for w in self._pending:
            w.wait()
        self._pending = []
        if self._thread is not None:
            self._thread.stop()
            self._thread = None
        if self.comm != self.MPI.COMM_WORLD:
            self.comm.Free()


class _Job:
    __slots__ = ("fn", "args", "event", "error")

    def __init__(self, fn, args):
        self.fn = fn
        self.args = args
        self.event = threading.Event()
        self.error = None

    def wait(self):
        self.event.wait()
        if self.error is not None:
            raise self.error


class _CommThread:
    """Runs queued MPI calls one after another, in the order they were submitted."""

    def __init__(self, name):
        self.queue = queue.SimpleQueue()
        self.inflight = 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.thread.start()

    def idle(self):
        return self.inflight == 0

    def submit(self, fn, args):
        job = _Job(fn, args)
        with self.lock:
            self.inflight += 1
        self.queue.put(job)
        return job

    def _loop(self):
        while True:
            job = self.queue.get()
            if job is None:
                return
            try:
                job.fn(*job.args)
            except BaseException as e:          # handed to the caller's wait()
                job.error = e
            finally:
                with self.lock:
                    self.inflight -= 1
                job.event.set()

    def stop(self):
        self.queue.put(None)
        self.thread.join()
