"""``interop.distributed``: process groups and collectives with ``torch.distributed``'s API,
on existing engines: MPI through mpi4py (tensors on any host backend) and NCCL through
CuPy (tensors on CUDA GPUs).

    mpirun -n 2 python train.py          # every rank runs the same script

    import interop.distributed as dist
    dist.init_process_group("mpi")
    t = it.ones(3) * dist.get_rank()
    dist.all_reduce(t)                    # in place: the sum over the ranks
"""

from ._work import ReduceOp, Work   # noqa: F401
from ._api import *          # noqa: F401,F403
from ._api import __all__, _progress   # noqa: F401
