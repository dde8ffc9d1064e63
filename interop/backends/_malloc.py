"""glibc malloc tuning: the one process-wide effect of the ``cpu`` backend, and its switch.

NumPy allocates every op's result afresh. By default glibc maps every block above its mmap
threshold (128 KB, rising with use) on allocation and unmaps it on free, and returns freed
heap memory above 128 KB to the system, so an op chain over arrays of a few MB page-faults
its memory in again for every result (a LeNet training step spent ~20% of its time so).
Tuned, the heap serves blocks up to 32 MB (glibc's ceiling for the threshold) and keeps up
to 256 MB of freed memory for reuse. Peak memory is unchanged; memory stays held after a
peak. mallopt applies to the whole process, not only to interop's arrays.

It is on by default, applied when the ``cpu`` backend is first made, and says so once, at
INFO level on the ``"interop"`` logger. Off: ``INTEROP_MALLOC=default`` in the environment
(before the ``cpu`` backend is first used), or :func:`set_malloc_tuning` ``(False)`` at any
time. :func:`get_malloc_tuning` says whether it is in effect. glibc only: elsewhere nothing
is changed.

State (module attributes, for tests and bug reports): ``applied`` (the tuning is in effect
in this process), ``mallopt_calls`` (how many times interop has called mallopt here).
"""

import ctypes
import logging
import os

__all__ = ["tune_malloc", "set_malloc_tuning", "get_malloc_tuning"]

log = logging.getLogger("interop")

# glibc's mallopt parameters (malloc.h) and the values set
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 256 << 20
# glibc's initial value of both (mallopt(3)); what set_malloc_tuning(False) restores
GLIBC_DEFAULT_THRESHOLD = 128 << 10

ENV_VAR = "INTEROP_MALLOC"       # "default": leave malloc alone

applied = False
mallopt_calls = 0
_choice = None                   # set_malloc_tuning's; None: the environment decides
_noticed = False

NOTICE = ("the cpu backend tuned glibc malloc for this whole process (mmap threshold "
          "32 MB, trim threshold 256 MB: freed array memory is kept for reuse); turn it off "
          "with INTEROP_MALLOC=default or interop.backends.set_malloc_tuning(False)")


def _mallopt():
    """glibc's mallopt, or None where the C library is not glibc."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return None
        fn = ctypes.CDLL(None).mallopt
    except (ValueError, OSError, AttributeError):     # not glibc, or no confstr name
        return None
    fn.argtypes = (ctypes.c_int, ctypes.c_int)
    fn.restype = ctypes.c_int
    return fn


def _set_thresholds(mmap, trim):
    """Both thresholds set through mallopt; whether glibc took them (False: not glibc)."""
    global mallopt_calls
    mallopt = _mallopt()
    if mallopt is None:
        return False
    mallopt_calls += 2
    return bool(mallopt(_M_MMAP_THRESHOLD, mmap) and mallopt(_M_TRIM_THRESHOLD, trim))


def _apply():
    global applied, _noticed
    if not applied:
        applied = _set_thresholds(MMAP_THRESHOLD, TRIM_THRESHOLD)
        if applied and not _noticed:
            _noticed = True
            log.info(NOTICE)
    return applied


def tune_malloc(environ=os.environ):
    """Tune glibc's malloc for this process (see the module's docstring) unless it was turned
    off: by :func:`set_malloc_tuning` ``(False)``, or (where that was not called) by
    ``INTEROP_MALLOC=default`` in ``environ``. Returns whether the tuning is in effect after
    the call (False off glibc). The ``cpu`` backend calls this when it is first made."""
    if _choice is False:
        return False
    if _choice is None and environ.get(ENV_VAR, "").lower() == "default":
        return False
    return _apply()


def set_malloc_tuning(enabled):
    """Turn interop's glibc malloc tuning on or off for this process; returns whether it is
    in effect afterwards (False off glibc).

    ``False`` before the ``cpu`` backend is first used keeps malloc untouched (as
    ``INTEROP_MALLOC=default`` does); after, it sets glibc's thresholds back to their
    initial 128 KB and gives the free memory kept so far back to the system
    (``malloc_trim``); glibc's own raising of the mmap threshold with use stays off once a
    threshold has been set, as after any mallopt call. ``True`` applies the tuning now,
    whatever the environment says. The choice overrides ``INTEROP_MALLOC``."""
    global _choice, applied
    if enabled.__class__ is not bool:
        raise TypeError(f"set_malloc_tuning: expected True or False, got "
                        f"{type(enabled).__name__} {enabled!r}")
    _choice = enabled
    if enabled:
        return _apply()
    if applied:
        _set_thresholds(GLIBC_DEFAULT_THRESHOLD, GLIBC_DEFAULT_THRESHOLD)
        ctypes.CDLL(None).malloc_trim(0)
        applied = False
    return False


def get_malloc_tuning():
    """Whether interop's glibc malloc tuning is in effect in this process."""
    return applied
