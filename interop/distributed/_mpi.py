"""The ``mpi`` process group: collectives on tensors of any host backend through mpi4py.

Tensors reach MPI as NumPy arrays over their own memory (``interop.backends.comm``,
through DLPack): no copy where the tensor is C-contiguous and writable. A strided view, a
read-only tensor or a GPU tensor goes through a host copy, written back when the
operation completes. Every operation is MPI's non-blocking one (``Iallreduce``,
``Ibcast``, ...); a blocking call is the same followed by ``wait()``.
"""

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

    def progress(self):
        """Let MPI advance the operations in flight (it moves non-blocking collectives on
        only inside MPI calls); forgets the completed ones."""
        self._pending = [w for w in self._pending if not w.is_completed()]

    def _average(self, host, finish):
        n = self._size
        finish.insert(0, lambda: host.__itruediv__(n))

    # -------------------------------------------------------------- collectives
    def allreduce(self, t, op):
        finish = []
        host = _write(t, finish)
        mop = self._mpi_op(op, t.dtype, "all_reduce")
        if op is ReduceOp.AVG:
            self._average(host, finish)
        return self._work(self.comm.Iallreduce(self.MPI.IN_PLACE, host, mop), finish, [t], host)

    def broadcast(self, t, root):
        finish = []
        if self._rank == root:
            host = _read(t)
        else:
            host = _write(t, finish)
        return self._work(self.comm.Ibcast(self._bytes(host), root), finish, [t], host)

    def reduce(self, t, root, op):
        mop = self._mpi_op(op, t.dtype, "reduce")
        finish = []
        if self._rank == root:
            host = _write(t, finish)
            if op is ReduceOp.AVG:
                self._average(host, finish)
            req = self.comm.Ireduce(self.MPI.IN_PLACE, host, mop, root)
        else:
            host = _read(t)
            req = self.comm.Ireduce(host, None, mop, root)
        return self._work(req, finish, [t], host)

    def allgather(self, outs, t):
        send = _read(t)
        recv = _comm.empty_host((self._size,) + send.shape, send)
        finish = []
        _copy_slices(outs, recv, finish)
        return self._work(self.comm.Iallgather(self._bytes(send), self._bytes(recv)), finish,
                          outs, (send, recv))

    def allgather_into(self, out, t):
        send = _read(t)
        finish = []
        recv = _write(out, finish)
        return self._work(self.comm.Iallgather(self._bytes(send), self._bytes(recv)), finish,
                          [out], (send, recv))

    def reduce_scatter(self, out, ins, op):
        mop = self._mpi_op(op, out.dtype, "reduce_scatter")
        send = _comm.concat_host([_read(x) for x in ins])
        finish = []
        recv = _write(out, finish)
        if op is ReduceOp.AVG:
            self._average(recv, finish)
        return self._work(self.comm.Ireduce_scatter_block(send, recv, mop), finish, [out],
                          (send, recv))

    def reduce_scatter_tensor(self, out, inp, op):
        mop = self._mpi_op(op, out.dtype, "reduce_scatter_tensor")
        send = _read(inp)
        finish = []
        recv = _write(out, finish)
        if op is ReduceOp.AVG:
            self._average(recv, finish)
        return self._work(self.comm.Ireduce_scatter_block(send, recv, mop), finish, [out],
                          (send, recv))

    def gather(self, t, outs, root):
        send = _read(t)
        finish = []
        recv = None
        if self._rank == root:
            recv = _comm.empty_host((self._size,) + send.shape, send)
            _copy_slices(outs, recv, finish)
        req = self.comm.Igather(self._bytes(send),
                                None if recv is None else self._bytes(recv), root)
        return self._work(req, finish, outs or [], (send, recv))

    def scatter(self, t, ins, root):
        finish = []
        recv = _write(t, finish)
        send = _comm.concat_host([_read(x) for x in ins]) if self._rank == root else None
        req = self.comm.Iscatter(None if send is None else self._bytes(send), self._bytes(recv),
                                 root)
        return self._work(req, finish, [t], (send, recv))

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

    def barrier(self):
        return self._work(self.comm.Ibarrier(), [], [], None)

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
        if self.comm != self.MPI.COMM_WORLD:
            self.comm.Free()
