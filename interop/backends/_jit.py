"""The cpu backend's optional compiled kernels: numba, where it is installed.

NumPy alone makes one pass over memory per operation; a layer such as layer_norm or gelu is
a dozen of them. Where a benchmark shows NumPy cannot reach PyTorch's pace, the cpu backend
may run a kernel compiled by numba instead (``pip install interop[jit]``). The rules:

* the standard-only implementation stays the reference: every compiled kernel has one, and
  the tests compare the two on every run (where numba is installed);
* interop installs and runs at full correctness without numba: :func:`enabled` is False and
  nothing here is compiled or imported;
* only ``interop/backends/`` imports numba (this module); compiled code is cached on disk
  (numba's ``cache=True``, in ``__pycache__`` beside the source or ``NUMBA_CACHE_DIR``), so
  the compile cost is paid once per machine, not once per process;
* ``INTEROP_JIT=0`` in the environment (read once, at first use) turns the compiled path
  off; :func:`set_enabled` does the same at run time (the tests use it to run the reference).
"""

import importlib.util
import os

__all__ = ["available", "enabled", "set_enabled", "module", "njit", "jitable", "on_import"]

_numba = None           # the module, once imported
_state = {"enabled": None}      # None: not decided yet (decided at first use)


def available():
    """Whether numba can be imported (found by its spec: this does not import it)."""
    return _numba is not None or importlib.util.find_spec("numba") is not None


def enabled():
    """Whether the compiled kernels run: numba is installed and the path is not turned off."""
    on = _state["enabled"]
    if on is None:
        on = _state["enabled"] = (os.environ.get("INTEROP_JIT", "1").strip() not in ("0", "off")
                                  and available())
    return on


def set_enabled(flag):
    """Turn the compiled path on or off for this process; returns the previous setting.
    Turning it on without numba installed is an error that says what to install."""
    if not isinstance(flag, bool):
        raise TypeError(f"set_enabled: expected a bool, got {type(flag).__name__}")
    if flag and not available():
        raise RuntimeError("interop's compiled kernels need numba: pip install 'interop[jit]'")
    prev = enabled()
    _state["enabled"] = flag
    return prev


def module():
    """numba itself, imported on the first call (after which the :func:`jitable` helpers are
    registered and the :func:`on_import` hooks have run)."""
    global _numba
    if _numba is None:
        import numba            # (optional: imported only when a compiled kernel is built)
        for fn, options in _jitables:
            numba.extending.register_jitable(**options)(fn)
        _numba = numba
        for fn in _hooks:
            fn(numba)
    return _numba


def njit(fn=None, **options):
    """``numba.njit(cache=True, nogil=True, **options)`` applied to ``fn`` lazily: the
    returned callable compiles on its first call (numba's own laziness), and importing this
    module never imports numba. Use as ``@njit`` or ``@njit(fastmath=False)``."""
    if fn is None:
        return lambda f: njit(f, **options)
    compiled = []

    def call(*args):
        if not compiled:
            compiled.append(module().njit(cache=True, nogil=True, **options)(fn))
        return compiled[0](*args)

    call.__name__ = fn.__name__
    call.__qualname__ = fn.__qualname__
    call.__doc__ = fn.__doc__
    call.py_func = fn           # the plain Python function (what numba compiles)
    return call


_jitables = []          # (function, options) marked with @jitable, registered at numba's import


def jitable(fn=None, *, inline="always", **options):
    """Mark a plain Python function as callable from compiled kernels: registered with numba
    (``numba.extending.register_jitable``) when numba is first imported (compiled code calls
    helpers only after that). ``inline="always"`` (the default) inlines it into each caller,
    so that elementwise loops still vectorize; ``"never"`` compiles it once, as a function of
    its own, with numba ``options`` of its own (``fastmath=...`` for a reduction, say, that
    its callers must not get). ``fn`` itself is returned: from Python, and without numba, it
    stays the plain function (the tests call it directly). Use as ``@jitable`` or
    ``@jitable(inline="never", fastmath={"reassoc"})``."""
    if fn is None:
        return lambda f: jitable(f, inline=inline, **options)
    _jitables.append((fn, dict(options, inline=inline)))
    if _numba is not None:
        _numba.extending.register_jitable(**_jitables[-1][1])(fn)
    return fn


_hooks = []             # functions of numba run once, right after its import (see on_import)


def on_import(fn):
    """Run ``fn(numba)`` once, right after numba's import and before any kernel compiles (at
    once where numba is already imported): how a module builds what needs numba to be
    defined at all, such as an intrinsic written in LLVM IR (:mod:`._jit_gemm`), without
    importing numba itself. Returns ``fn``; use as ``@on_import``."""
    _hooks.append(fn)
    if _numba is not None:
        fn(_numba)
    return fn
