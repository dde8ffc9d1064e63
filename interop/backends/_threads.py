"""The process's CPU thread pools (PyTorch's ``set_num_threads``/``get_num_threads``).

A backend's CPU work is parallel inside its library's BLAS (OpenBLAS, MKL, BLIS) and OpenMP
pools, and in the cpu backend's compiled matrix product (``_jit_gemm.py``), which splits a
large product over as many threads as the BLAS pool has now (:func:`blas_threads`), run by
interop's own team of threads (``_jit_team.py``). Those pools are per process, not per backend,
so the limit is too: it holds for the ``cpu`` backend and for ``strict`` (NumPy underneath),
and for any other namespace whose library runs on such a pool (threadpoolctl finds the pools
of every library loaded in the process). A GPU backend's kernels do not use them: a limit
does not change its speed. Where no pool is loaded, work runs on the calling thread:
``get_num_threads()`` says 1 and ``set_num_threads`` has nothing to limit.
"""

import threadpoolctl

__all__ = ["set_num_threads", "get_num_threads", "blas_threads"]

_controller = None      # threadpoolctl's view of the loaded pools, built on first use
_blas = []              # [the loaded BLAS's threadpoolctl controller, or None], found on first use


def _pools():
    global _controller
    if _controller is None:
        _controller = threadpoolctl.ThreadpoolController()
    return _controller


def set_num_threads(n):
    """Limit the CPU thread pools (BLAS and OpenMP) loaded in this process to ``n`` threads
    each, as ``torch.set_num_threads``; the limit stays until the next call."""
    if n.__class__ is bool or not isinstance(n, int):
        raise TypeError(f"set_num_threads: expected an int, got {type(n).__name__} {n!r}")
    if n < 1:
        raise ValueError(f"set_num_threads: the number of threads must be positive, got {n}")
    global _controller
    _controller = threadpoolctl.ThreadpoolController()   # pools loaded since the last call too
    _controller.limit(limits=n)


def get_num_threads():
    """The number of threads a CPU op may use: the largest pool's size (the BLAS pools
    first, where there are), or 1 where no pool is loaded (work runs on the calling thread)."""
    info = _pools().info()
    blas = [p["num_threads"] for p in info if p.get("user_api") == "blas"]
    sizes = blas or [p["num_threads"] for p in info]
    return max(sizes) if sizes else 1


def blas_threads():
    """The loaded BLAS pool's size now (limits set through threadpoolctl directly included):
    one call into the library (~0.3 us), 1 where no BLAS is loaded."""
    if not _blas:
        found = _pools().select(user_api="blas").lib_controllers
        _blas.append(found[0] if found else None)
    lib = _blas[0]
    return 1 if lib is None else lib.get_num_threads()
