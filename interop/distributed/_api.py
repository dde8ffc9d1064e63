"""The process groups and the collectives, with PyTorch's names and arguments
(``torch.distributed``): ranks in ``src=``/``dst=`` are ranks of the world (``group_src=``
/ ``group_dst=`` take ranks of ``group``); tensors are changed in place; ``async_op=True``
returns a :class:`Work`, otherwise the call returns when its result is in place.

Launch: ``mpirun -n N python train.py`` (backend ``"mpi"``, or ``"nccl"`` bootstrapped
over MPI); without MPI's variables, those of ``torchrun`` (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``) give the rank, the size and the GPU.
"""

import importlib
import importlib.util
import os
import sys
import time

import interop as it
from interop.backends import comm as _comm

from ._mpi import MPIProcessGroup, INSTALL as _MPI_INSTALL
from ._nccl import NCCLProcessGroup
from ._work import ReduceOp, Work

__all__ = ["init_process_group", "destroy_process_group", "is_initialized", "is_available",
           "is_mpi_available", "is_nccl_available", "get_rank", "get_world_size", "get_backend",
           "new_group", "get_process_group_ranks", "get_global_rank", "GroupMember", "group",
           "all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor",
           "reduce_scatter", "reduce_scatter_tensor", "gather", "scatter", "send", "recv",
           "isend", "irecv", "barrier", "ReduceOp", "Work", "Backend"]


class Backend:
    """The process-group backends' names."""
    MPI = "mpi"
    NCCL = "nccl"


class GroupMember:
    """``WORLD``: the default group (as ``group=None``); ``NON_GROUP_MEMBER``: what
    ``new_group`` returns on the ranks it leaves out (collectives on it do nothing)."""
    WORLD = object()
    NON_GROUP_MEMBER = object()


group = GroupMember

_world = None
_groups = []
_prev_excepthook = None

# (rank, size, local rank) as the MPI launchers set them, then as torchrun does.
_MPI_ENV = (("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"),
            ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID"),
            ("PMIX_RANK", "PMIX_SIZE", "PMIX_LOCAL_RANK"),
            ("MV2_COMM_WORLD_RANK", "MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_LOCAL_RANK"))
_TORCHRUN_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


def _env_int(name):
    v = os.environ.get(name)
    if v is None or v == "":
        return None
    try:
        return int(v)
    except ValueError:
        raise ValueError(f"environment variable {name}={v!r} is not an integer") from None


def _launch_env():
    """``(rank, size, local_rank, who)`` from the launcher's environment: MPI's variables
    where present, else torchrun's; ``(None, None, None, None)`` when neither is set."""
    for names in _MPI_ENV:
        if os.environ.get(names[0]) is not None and os.environ.get(names[1]) is not None:
            return _env_int(names[0]), _env_int(names[1]), _env_int(names[2]), "mpirun"
    rank, size = _env_int("RANK"), _env_int("WORLD_SIZE")
    if rank is not None or size is not None:
        return rank, size, _env_int("LOCAL_RANK"), "torchrun"
    return None, None, None, None


def is_available():
    return True


def is_mpi_available():
    return importlib.util.find_spec("mpi4py") is not None


def is_nccl_available():
    return importlib.util.find_spec("cupy") is not None


def is_initialized():
    return _world is not None


def _import_mpi(who):
    try:
        return importlib.import_module("mpi4py.MPI")
    except ImportError as e:
        raise RuntimeError(f"{who} needs mpi4py and an MPI library, and importing mpi4py.MPI "
                           f"failed ({e}); {_MPI_INSTALL}") from e


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Join the default process group.

    ``backend``: ``"mpi"`` (tensors on any host backend; needs mpi4py and an MPI library,
    and the processes started by ``mpirun``) or ``"nccl"`` (CUDA tensors; CuPy's NCCL).
    Default: ``"nccl"`` when the current backend is a GPU, else ``"mpi"``.
    ``world_size``/``rank``, when given, must agree with the launcher's. For ``"nccl"``
    the ranks exchange NCCL's id over MPI when started by ``mpirun``, else through a file
    named by ``init_method="file:///path"`` (shared by the ranks; ``timeout`` seconds,
    default 300, to wait for it); the GPU is ``device_id`` or the local rank.
    """
    global _world
    if _world is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    if store is not None or pg_options is not None:
        raise ValueError("init_process_group: store= and pg_options= are not supported; "
                         "the ranks meet through MPI or init_method='file://...'")
    if backend is None:
        backend = "nccl" if it.get_backend().device.type == "cuda" else "mpi"
    if not isinstance(backend, str) or backend.lower() not in ("mpi", "nccl"):
        raise ValueError(f"init_process_group: backend must be 'mpi' or 'nccl', got {backend!r}")
    backend = backend.lower()
    if backend == "mpi":
        _world = _init_mpi(world_size, rank)
    else:
        _world = _init_nccl(init_method, timeout, world_size, rank, device_id)


def _check_arg(name, given, actual, who):
    if given is not None and given != -1 and given != actual:
        raise ValueError(f"init_process_group: {name}={given} was given, but {who} started "
                         f"this process with {name} {actual}")


def _init_mpi(world_size, rank):
    _yield_when_cores_are_full()
    MPI = _import_mpi('init_process_group("mpi")')
    comm = MPI.COMM_WORLD
    env_rank, env_size, _, who = _launch_env()
    if who == "torchrun" and (env_size or 1) > 1 and comm.Get_size() == 1:
        raise RuntimeError(
            f"init_process_group('mpi'): WORLD_SIZE={env_size} says another launcher "
            f"(torchrun?) started this process, but MPI sees a world of 1: with backend "
            f"'mpi' start the processes with mpirun (mpirun -n {env_size} python ...)")
    _check_arg("world_size", world_size, comm.Get_size(), "mpirun")
    _check_arg("rank", rank, comm.Get_rank(), "mpirun")
    _abort_on_uncaught_exception(MPI)
    return MPIProcessGroup(MPI, comm, range(comm.Get_size()))


def _yield_when_cores_are_full():
    """When mpirun put as many ranks on this node as it has cores, Open MPI's waiting ranks
    yield the core (``mpi_yield_when_idle``) instead of spinning on it: a spinning rank
    takes the time slices its peer needs to reach the collective (a 7 MiB all-reduce
    between 2 ranks on this project's 2 busy cores: 20-26 ms spinning, 5 ms yielding).
    Open MPI reads it at MPI_Init, so only before mpi4py.MPI is first imported; a value
    already set in the environment wins."""
    local = os.environ.get("OMPI_COMM_WORLD_LOCAL_SIZE")
    if local and local.isdigit() and int(local) >= (os.cpu_count() or 1):
        os.environ.setdefault("OMPI_MCA_mpi_yield_when_idle", "1")


def _abort_on_uncaught_exception(MPI):
    """An uncaught exception on one rank prints its traceback and aborts the whole MPI job
    (MPI_Abort: mpirun ends every rank), instead of leaving the others waiting forever in
    a collective for a rank that has gone."""
    global _prev_excepthook
    if _prev_excepthook is not None:
        return
    prev = _prev_excepthook = sys.excepthook
    world = MPI.COMM_WORLD

    def hook(tp, value, tb):
        try:
            prev(tp, value, tb)
            print(f"interop.distributed: rank {world.Get_rank()} of {world.Get_size()} raised "
                  f"{tp.__name__}; aborting the MPI job", file=sys.stderr)
            sys.stderr.flush()
            sys.stdout.flush()
        finally:
            if world.Get_size() > 1:
                world.Abort(1)
    sys.excepthook = hook


class _MPIStore:
    """NCCL ids reach the other ranks through an MPI broadcast (mpirun launches)."""

    def __init__(self, MPI):
        self.comm = MPI.COMM_WORLD

    def broadcast(self, key, value, root):
        return self.comm.bcast(value, root=root)


class _FileStore:
    """NCCL ids reach the other ranks through files in a directory all of them see."""

    def __init__(self, path, timeout):
        self.path = path
        self.timeout = timeout
        os.makedirs(path, exist_ok=True)

    def broadcast(self, key, value, root):
        name = os.path.join(self.path, key)
        if value is not None:
            tmp = f"{name}.{os.getpid()}.tmp"
            with open(tmp, "wb") as f:
                f.write(value)
            os.replace(tmp, name)
            return value
        deadline = time.monotonic() + self.timeout
        while not os.path.exists(name):
            if time.monotonic() > deadline:
                raise TimeoutError(f"init_process_group('nccl'): no rank wrote {name} within "
                                   f"{self.timeout} s (is rank {root} running, with the same "
                                   f"init_method?)")
            time.sleep(0.05)
        with open(name, "rb") as f:
            return f.read()


def _init_nccl(init_method, timeout, world_size, rank, device_id):
    env_rank, env_size, local, who = _launch_env()
    size = world_size if world_size not in (None, -1) else env_size
    r = rank if rank not in (None, -1) else env_rank
    if size is None or r is None:
        raise ValueError("init_process_group('nccl'): rank and world size unknown: start the "
                         "processes with mpirun or torchrun, or pass rank= and world_size=")
    if who is not None:
        _check_arg("world_size", world_size, env_size, who)
        _check_arg("rank", rank, env_rank, who)
    if init_method is not None and init_method.startswith("file://"):
        store = _FileStore(init_method[len("file://"):], 300 if timeout is None else
                           _seconds(timeout))
    elif who == "mpirun" and is_mpi_available():
        store = _MPIStore(_import_mpi("init_process_group('nccl') under mpirun"))
    else:
        raise ValueError("init_process_group('nccl'): the ranks need a way to exchange NCCL's "
                         "id: start them with mpirun (with mpi4py installed), or pass "
                         "init_method='file:///a/path/all/ranks/see'")
    if device_id is not None:
        dev = device_id.index if isinstance(device_id, it.device) else int(device_id)
    else:
        count = it.cuda.device_count()
        if count == 0:
            raise RuntimeError("init_process_group('nccl'): no CUDA GPU is usable here; use "
                               "backend 'mpi' for CPU tensors")
        dev = (local if local is not None else r) % count
    it.cuda.set_device(dev)
    uid = store.broadcast("nccl-id-world", _comm.nccl_unique_id() if r == 0 else None, 0)
    nc = _comm.NcclCommunicator(size, uid, r, dev)
    return NCCLProcessGroup(nc, r, size, range(size), store)


def _seconds(timeout):
    return timeout.total_seconds() if hasattr(timeout, "total_seconds") else float(timeout)


def destroy_process_group(group=None):
    """Leave ``group`` (default: every group, the default one included)."""
    global _world, _prev_excepthook
    if _world is None:
        raise RuntimeError("destroy_process_group: the default process group has not been "
                           "initialized")
    if group is not None and group is not GroupMember.WORLD and group is not _world:
        if group is not GroupMember.NON_GROUP_MEMBER:
            group.destroy()
            _groups.remove(group)
        return
    for g in _groups:
        g.destroy()
    _groups.clear()
    _world.destroy()
    _world = None
    if _prev_excepthook is not None:
        sys.excepthook = _prev_excepthook
        _prev_excepthook = None


def _group(g, who):
    if _world is None:
        raise RuntimeError(f"{who}: the default process group has not been initialized; call "
                           f"interop.distributed.init_process_group first")
    if g is None or g is GroupMember.WORLD:
        return _world
    if g is GroupMember.NON_GROUP_MEMBER:
        return None
    if not isinstance(g, (MPIProcessGroup, NCCLProcessGroup)):
        raise TypeError(f"{who}: group must be a process group from new_group or None, got "
                        f"{type(g).__name__}")
    return g


def get_rank(group=None):
    """This process's rank in ``group`` (default: the world); -1 outside the group."""
    g = _group(group, "get_rank")
    return -1 if g is None else g.rank()


def get_world_size(group=None):
    g = _group(group, "get_world_size")
    return -1 if g is None else g.size()


def get_backend(group=None):
    g = _group(group, "get_backend")
    if g is None:
        raise ValueError("get_backend: this rank is not in the group")
    return g.backend


def get_process_group_ranks(group):
    """The world ranks of ``group``'s members, in the group's order."""
    g = _group(group, "get_process_group_ranks")
    return list(g.ranks) if g is not None else []


def get_global_rank(group, group_rank):
    ranks = get_process_group_ranks(group)
    if not 0 <= group_rank < len(ranks):
        raise ValueError(f"get_global_rank: group rank {group_rank} is not in the group (it has "
                         f"{len(ranks)} ranks)")
    return ranks[group_rank]


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization=False):
    """A group of the world ranks ``ranks`` (default: all). Every rank of the world must
    call it, in the same order; ranks left out get ``GroupMember.NON_GROUP_MEMBER``."""
    w = _group(None, "new_group")
    size = w.size()
    ranks = list(range(size)) if ranks is None else sorted(ranks)
    if not ranks or len(set(ranks)) != len(ranks) or \
            any(not isinstance(r, int) or not 0 <= r < size for r in ranks):
        raise ValueError(f"new_group: ranks must be distinct world ranks in [0, {size}), "
                         f"got {ranks}")
    if backend is not None and backend.lower() != w.backend:
        raise ValueError(f"new_group: backend {backend!r} differs from the default group's "
                         f"{w.backend!r}")
    if isinstance(w, MPIProcessGroup):
        g = w.subgroup(ranks)
    else:
        me = w.rank()
        key = f"nccl-id-group-{len(_groups)}-{'-'.join(map(str, ranks))}"
        uid = w.store.broadcast(key, _comm.nccl_unique_id() if me == ranks[0] else None,
                                ranks[0])
        g = None
        if me in ranks:
            nc = _comm.NcclCommunicator(len(ranks), uid, ranks.index(me), w.nc.device.id)
            g = NCCLProcessGroup(nc, ranks.index(me), len(ranks), ranks, w.store)
    if g is None:
        return GroupMember.NON_GROUP_MEMBER
    _groups.append(g)
    return g


# ------------------------------------------------------------------------- arguments

def _tensor(t, who, name="tensor"):
    if not isinstance(t, it.Tensor):
        raise TypeError(f"{who}: {name} must be an interop Tensor, got {type(t).__name__}")
    return t


def _tensor_list(ts, n, like, who, name):
    if not isinstance(ts, (list, tuple)):
        raise TypeError(f"{who}: {name} must be a list of {n} tensors, got {type(ts).__name__}")
    if len(ts) != n:
        raise ValueError(f"{who}: {name} must hold one tensor per rank of the group ({n}), got "
                         f"{len(ts)}")
    for i, t in enumerate(ts):
        _tensor(t, who, f"{name}[{i}]")
        if tuple(t.shape) != tuple(like.shape) or t.dtype is not like.dtype:
            raise ValueError(f"{who}: {name}[{i}] is {t.dtype} of shape {tuple(t.shape)}; "
                             f"expected {like.dtype} of shape {tuple(like.shape)} (as tensor)")
    return list(ts)


def _op(op, who):
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{who}: op must be an interop.distributed.ReduceOp, got {op!r}")
    return op


def _peer(g, global_rank, group_rank, who, name):
    """The group rank named by world rank ``global_rank`` or group rank ``group_rank``."""
    if (global_rank is None) == (group_rank is None):
        raise ValueError(f"{who}: give exactly one of {name}= (a world rank) and "
                         f"group_{name}= (a rank of the group)")
    if group_rank is not None:
        if not 0 <= group_rank < g.size():
            raise ValueError(f"{who}: group_{name}={group_rank} is not a rank of the group "
                             f"(size {g.size()})")
        return group_rank
    if global_rank not in g.ranks:
        raise ValueError(f"{who}: {name}={global_rank} is not a member of the group (its world "
                         f"ranks are {g.ranks})")
    return g.ranks.index(global_rank)


def _finish(work, async_op):
    if async_op:
        return work
    work.wait()
    return None


# ------------------------------------------------------------------------- collectives

def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Every rank's ``tensor`` becomes ``op`` over the ranks' tensors."""
    g = _group(group, "all_reduce")
    _tensor(tensor, "all_reduce")
    _op(op, "all_reduce")
    if g is None:
        return None
    return _finish(g.allreduce(tensor, op, async_op=async_op), async_op)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Every rank's ``tensor`` becomes rank ``src``'s."""
    g = _group(group, "broadcast")
    _tensor(tensor, "broadcast")
    if g is None:
        return None
    root = _peer(g, src, group_src, "broadcast", "src")
    return _finish(g.broadcast(tensor, root, async_op=async_op), async_op)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Rank ``dst``'s ``tensor`` becomes ``op`` over the ranks' tensors (the others' are
    left as they are)."""
    g = _group(group, "reduce")
    _tensor(tensor, "reduce")
    _op(op, "reduce")
    if g is None:
        return None
    root = _peer(g, dst, group_dst, "reduce", "dst")
    return _finish(g.reduce(tensor, root, op, async_op=async_op), async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """``tensor_list[r]`` becomes rank r's ``tensor``, on every rank."""
    g = _group(group, "all_gather")
    _tensor(tensor, "all_gather")
    if g is None:
        return None
    outs = _tensor_list(tensor_list, g.size(), tensor, "all_gather", "tensor_list")
    return _finish(g.allgather(outs, tensor, async_op=async_op), async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """``output_tensor`` (world size times ``input_tensor``'s elements: the inputs
    concatenated along dim 0, or stacked on a new dim 0) becomes every rank's input."""
    g = _group(group, "all_gather_into_tensor")
    _tensor(output_tensor, "all_gather_into_tensor", "output_tensor")
    _tensor(input_tensor, "all_gather_into_tensor", "input_tensor")
    if g is None:
        return None
    _check_flat(output_tensor, input_tensor, g.size(), "all_gather_into_tensor",
                "output_tensor", "input_tensor")
    return _finish(g.allgather_into(output_tensor, input_tensor, async_op=async_op), async_op)


def _check_flat(big, small, n, who, big_name, small_name):
    if big.dtype is not small.dtype:
        raise ValueError(f"{who}: {big_name} is {big.dtype} but {small_name} is {small.dtype}")
    if big.numel() != n * small.numel():
        raise ValueError(f"{who}: {big_name} (shape {tuple(big.shape)}) must have the group's "
                         f"size ({n}) times the elements of {small_name} (shape "
                         f"{tuple(small.shape)})")


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """``output`` on rank r becomes ``op`` over the ranks' ``input_list[r]``."""
    g = _group(group, "reduce_scatter")
    _tensor(output, "reduce_scatter", "output")
    _op(op, "reduce_scatter")
    if g is None:
        return None
    ins = _tensor_list(input_list, g.size(), output, "reduce_scatter", "input_list")
    return _finish(g.reduce_scatter(output, ins, op, async_op=async_op), async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """As :func:`reduce_scatter`, with the inputs as one tensor (rank r's share is its
    r-th block of ``output.numel()`` elements)."""
    g = _group(group, "reduce_scatter_tensor")
    _tensor(output, "reduce_scatter_tensor", "output")
    _tensor(input, "reduce_scatter_tensor", "input")
    _op(op, "reduce_scatter_tensor")
    if g is None:
        return None
    _check_flat(input, output, g.size(), "reduce_scatter_tensor", "input", "output")
    return _finish(g.reduce_scatter_tensor(output, input, op, async_op=async_op), async_op)


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """On rank ``dst``, ``gather_list[r]`` becomes rank r's ``tensor`` (the other ranks pass
    no list)."""
    g = _group(group, "gather")
    _tensor(tensor, "gather")
    if g is None:
        return None
    root, outs = _rooted_list(g, "gather", tensor, gather_list, "gather_list", dst, group_dst,
                              "dst")
    return _finish(g.gather(tensor, outs, root, async_op=async_op), async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Rank r's ``tensor`` becomes ``scatter_list[r]`` of rank ``src`` (the others pass no
    list)."""
    g = _group(group, "scatter")
    _tensor(tensor, "scatter")
    if g is None:
        return None
    root, ins = _rooted_list(g, "scatter", tensor, scatter_list, "scatter_list", src, group_src,
                             "src")
    return _finish(g.scatter(tensor, ins, root, async_op=async_op), async_op)


def _rooted_list(g, name, tensor, tensors, list_name, rank, group_rank, role):
    """``(root, list)`` of a gather or scatter: the root rank (``role`` "dst" or "src", the
    group's first rank by default) and, on the root only, its checked tensor list."""
    root = _peer(g, rank if rank is not None or group_rank is not None else g.ranks[0],
                 group_rank, name, role)
    who = "destination" if role == "dst" else "source"
    if g.rank() != root:
        if tensors:
            raise ValueError(f"{name}: {list_name} must not be given on ranks other than the "
                             f"{who}")
        return root, None
    if tensors is None:
        raise ValueError(f"{name}: the {who} rank must pass {list_name}")
    return root, _tensor_list(tensors, g.size(), tensor, name, list_name)


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send ``tensor`` to rank ``dst``; returns a :class:`Work`."""
    g = _group(group, "isend")
    _tensor(tensor, "isend")
    if g is None:
        return None
    peer = _peer(g, dst, group_dst, "isend", "dst")
    if peer == g.rank():
        raise ValueError("isend: a rank cannot send to itself")
    return g.send(tensor, peer, tag)


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    w = isend(tensor, dst, group, tag, group_dst)
    if w is not None:
        w.wait()


def _irecv(tensor, src, group, tag, group_src, who):
    g = _group(group, who)
    _tensor(tensor, who)
    if g is None:
        return None, None, None
    peer = None if src is None and group_src is None else _peer(g, src, group_src, who, "src")
    if peer is not None and peer == g.rank():
        raise ValueError(f"{who}: a rank cannot receive from itself")
    work, status = g.recv(tensor, peer, tag)
    return g, work, status


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into ``tensor`` from rank ``src`` (default: any); returns a :class:`Work`."""
    return _irecv(tensor, src, group, tag, group_src, "irecv")[1]


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into ``tensor`` from rank ``src`` (default: any); returns the sender's world
    rank."""
    g, work, status = _irecv(tensor, src, group, tag, group_src, "recv")
    if g is None:
        return -1
    work.wait()
    source = status if isinstance(status, int) else status.Get_source()
    return g.ranks[source]


def barrier(group=None, async_op=False, device_ids=None):
    """Returns when every rank of the group has called it."""
    g = _group(group, "barrier")
    if g is None:
        return None
    return _finish(g.barrier(async_op=async_op), async_op)


def _progress(group=None):
    """Let the engine advance operations in flight (DistributedDataParallel calls it from
    its gradient hooks: MPI moves non-blocking collectives on inside MPI calls only)."""
    g = _group(group, "progress")
    if g is not None:
        g.progress()
