"""``interop.backends.cudnn``: PyTorch's ``torch.backends.cudnn`` switches, so that a ported
script's ``torch.backends.cudnn.benchmark = True`` runs unchanged.

interop never calls cuDNN: on the GPU its convolutions are im2col views and matrix products
(cuBLAS, through CuPy), which give the same result run after run on one GPU. So:

* :func:`is_available` is False (there is no cuDNN to use), and :func:`version` None;
* ``deterministic = True`` already holds for every convolution; the flag is kept for code
  that reads it back;
* ``benchmark`` has no algorithm to choose, ``enabled`` no library to switch off, and
  ``allow_tf32`` no TF32 path: they are plain settings, read back as set.

Code that needs a deterministic scatter-add (cupyx's uses atomic adds, whose float sums
may differ in the last bits from run to run) should not count on these flags.
"""

import contextlib

__all__ = ["enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32",
           "is_available", "version", "is_acceptable", "flags"]

enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def is_available():
    """False: interop's CUDA backends (CuPy) do not call cuDNN."""
    return False


def version():
    """None: no cuDNN is loaded (PyTorch answers the same where it has none)."""
    return None


def is_acceptable(tensor):
    """False: cuDNN would never be used for ``tensor``."""
    return False


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True):
    """Set the switches for the duration of a ``with`` block (PyTorch's ``cudnn.flags``)."""
    g = globals()
    names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")
    old = {n: g[n] for n in names}
    g.update(zip(names, (enabled, benchmark, benchmark_limit, deterministic, allow_tf32)))
    try:
        yield
    finally:
        g.update(old)
