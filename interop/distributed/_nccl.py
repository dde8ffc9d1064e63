"""The ``nccl`` process group: collectives on GPU tensors (the ``cuda`` backends) through
CuPy's NCCL (``cupy.cuda.nccl``, reached through ``interop.backends.comm``).

A tensor reaches NCCL as a CuPy array over its own memory (DLPack, no copy); a strided
view goes through a contiguous copy, written back on completion. Operations run on the
communicator's own CUDA stream, after the work already queued on the current stream, so
they overlap the computation queued after them; ``Work.wait()`` makes the current stream
wait for the operation (the host does not block), as PyTorch's NCCL work does.
"""

import interop as it
from interop.autograd.graph import bump_version

from ._work import ReduceOp, Work

__all__ = ["NCCLProcessGroup"]


class NCCLProcessGroup:
    """Rank ``rank`` of ``size`` over an :class:`interop.backends.comm.NcclCommunicator`;
    ``ranks`` lists the members' world ranks in this group's order."""

    backend = "nccl"

    def __init__(self, communicator, rank, size, ranks, store):
        self.nc = communicator
        self._rank = rank
        self._size = size
        self.ranks = list(ranks)
        self.store = store          # how ids reach other ranks (new_group needs it)

    def rank(self):
        return self._rank

    def size(self):
        return self._size

    def progress(self):
        pass

    # -------------------------------------------------------------- helpers
    def _device(self, t, who):
        if t.device.type != "cuda":
            raise RuntimeError(f"{who}: the 'nccl' process group takes tensors on a CUDA GPU, got "
                               f"one on {t.device}; move it with .cuda() or use backend 'mpi'")
        return self.nc.device_array(t.detach())

    def _read(self, t, who):
        return self.nc.contiguous(self._device(t, who))[0]

    def _write(self, t, who, finish):
        arr = self._device(t, who)
        buf, shared = self.nc.contiguous(arr)
        if not shared:                              # a strided view: copy back
            finish.append(lambda: arr.__setitem__(Ellipsis, buf))
        finish.append(lambda: bump_version(t))
        return buf

    def _op(self, op, t, who):
        if op is ReduceOp.AVG and not t.dtype.is_floating_point:
            raise TypeError(f"{who}: ReduceOp.AVG needs a floating tensor, got {t.dtype}")
        name = op.value
        if name in ("band", "bor", "bxor"):
            raise TypeError(f"{who}: NCCL has no bitwise reductions ({op}); use backend 'mpi'")
        if t.dtype is it.bool:
            raise TypeError(f"{who}: NCCL cannot reduce bool tensors; cast to uint8 first")
        if name == "avg" and "avg" not in self.nc.ops:
            return self.nc.ops["sum"], True
        return self.nc.ops[name], False

    def _work(self, event, finish, outputs, keep):
        nc = self.nc
        finish.insert(0, lambda: nc.wait(event))
        return Work(lambda: None, lambda: nc.done(event), finish, outputs, keep)

    def _after_sum(self, buf, divide, finish):
        if divide:
            finish.insert(0, lambda: self.nc.divide_(buf, self._size))

    # -------------------------------------------------------------- collectives
    def allreduce(self, t, op, async_op=False):
        finish = []
        buf = self._write(t, "all_reduce", finish)
        code, divide = self._op(op, t, "all_reduce")
        p = self.nc.pointer(buf)
        ev = self.nc.run("allReduce", [buf], p, p, buf.size,
                         self.nc.dtype_code(buf, "all_reduce"), code)
        self._after_sum(buf, divide, finish)
        return self._work(ev, finish, [t], buf)

    def broadcast(self, t, root, async_op=False):
        finish = []
        buf = self._read(t, "broadcast") if self._rank == root else \
            self._write(t, "broadcast", finish)
        p = self.nc.pointer(buf)
        ev = self.nc.run("broadcast", [buf], p, p, buf.size,
                         self.nc.dtype_code(buf, "broadcast"), root)
        return self._work(ev, finish, [t], buf)

    def reduce(self, t, root, op, async_op=False):
        finish = []
        code, divide = self._op(op, t, "reduce")
        buf = self._write(t, "reduce", finish) if self._rank == root else \
            self._read(t, "reduce")
        p = self.nc.pointer(buf)
        ev = self.nc.run("reduce", [buf], p, p, buf.size, self.nc.dtype_code(buf, "reduce"),
                         code, root)
        if self._rank == root:
            self._after_sum(buf, divide, finish)
        return self._work(ev, finish, [t], buf)

    def allgather(self, outs, t, async_op=False):
        send = self._read(t, "all_gather")
        recv = self.nc.empty_like(send, (self._size,) + tuple(send.shape))
        ev = self.nc.run("allGather", [send, recv], self.nc.pointer(send), self.nc.pointer(recv),
                         send.size, self.nc.dtype_code(send, "all_gather"))
        finish = [lambda: self._copy_slices(outs, recv)]
        return self._work(ev, finish, outs, (send, recv))

    def _copy_slices(self, outs, recv):
        for i, o in enumerate(outs):
            self._device(o, "all_gather")[...] = recv[i].reshape(tuple(o.shape))
            bump_version(o)

    def allgather_into(self, out, t, async_op=False):
        finish = []
        send = self._read(t, "all_gather_into_tensor")
        recv = self._write(out, "all_gather_into_tensor", finish)
        ev = self.nc.run("allGather", [send, recv], self.nc.pointer(send), self.nc.pointer(recv),
                         send.size, self.nc.dtype_code(send, "all_gather_into_tensor"))
        return self._work(ev, finish, [out], (send, recv))

    def reduce_scatter(self, out, ins, op, async_op=False):
        send = self.nc.concat([self._read(x, "reduce_scatter") for x in ins])
        return self._reduce_scatter(out, send, op, "reduce_scatter")

    def reduce_scatter_tensor(self, out, inp, op, async_op=False):
        return self._reduce_scatter(out, self._read(inp, "reduce_scatter_tensor"), op,
                                    "reduce_scatter_tensor")

    def _reduce_scatter(self, out, send, op, who):
        finish = []
        code, divide = self._op(op, out, who)
        recv = self._write(out, who, finish)
        ev = self.nc.run("reduceScatter", [send, recv], self.nc.pointer(send),
                         self.nc.pointer(recv), recv.size, self.nc.dtype_code(recv, who), code)
        self._after_sum(recv, divide, finish)
        return self._work(ev, finish, [out], (send, recv))

    def gather(self, t, outs, root, async_op=False):
        # NCCL has no gather: one group of sends to the root and receives on it
        send = self._read(t, "gather")
        dt = self.nc.dtype_code(send, "gather")
        calls = [("send", (self.nc.pointer(send), send.size, dt, root))]
        finish, recv = [], None
        if self._rank == root:
            recv = self.nc.empty_like(send, (self._size,) + tuple(send.shape))
            calls += [("recv", (self.nc.pointer(recv[r]), send.size, dt, r))
                      for r in range(self._size)]
            finish.append(lambda: self._copy_slices(outs, recv))
        ev = self.nc.group(calls)
        return self._work(ev, finish, outs or [], (send, recv))

    def scatter(self, t, ins, root, async_op=False):
        finish = []
        recv = self._write(t, "scatter", finish)
        dt = self.nc.dtype_code(recv, "scatter")
        calls = [("recv", (self.nc.pointer(recv), recv.size, dt, root))]
        send = None
        if self._rank == root:
            send = self.nc.concat([self._read(x, "scatter") for x in ins])
            n = recv.size
            calls += [("send", (self.nc.pointer(send[r * n:(r + 1) * n]), n, dt, r))
                      for r in range(self._size)]
        ev = self.nc.group(calls)
        return self._work(ev, finish, [t], (send, recv))

    def send(self, t, peer, tag):
        buf = self._read(t, "send")
        ev = self.nc.run("send", [buf], self.nc.pointer(buf), buf.size,
                         self.nc.dtype_code(buf, "send"), peer)
        return self._work(ev, [], [t], buf)

    def recv(self, t, peer, tag):
        if peer is None:
            raise ValueError("recv: NCCL cannot receive from any source; pass src=")
        finish = []
        buf = self._write(t, "recv", finish)
        ev = self.nc.run("recv", [buf], self.nc.pointer(buf), buf.size,
                         self.nc.dtype_code(buf, "recv"), peer)
        return self._work(ev, finish, [t], buf), peer

    def barrier(self, async_op=False):
        # an all-reduce of one element; the host waits for the communicator's stream
        one = it.ones(1, device=f"cuda:{self.nc.device.id}")
        self.allreduce(one, ReduceOp.SUM)
        stream = self.nc.stream
        return Work(stream.synchronize, lambda: stream.done, (), (), one)


    def destroy(self):
        self.nc.destroy()
