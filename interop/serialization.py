"""``interop.serialization``: which classes and functions ``interop.load`` may rebuild from
a file (PyTorch's ``weights_only`` allowlist: ``safe_globals``, ``add_safe_globals``...).

A file saved from a whole module names each module's class (and any function stored as an
attribute, such as an activation) by import path. ``load`` rebuilds interop's own classes
and functions, plus those listed here; anything else is refused, naming it. Nothing named
in a file is imported or called to rebuild it: a module is restored by creating the bare
object and filling in its stored attributes, never by running its constructor. Allowlisted
objects are matched by their ``__module__`` and ``__qualname__`` (or the name given in a
``(obj, "module.Name")`` pair), so the file cannot reach anything through them either.
"""

import contextlib
import threading

import interop as it

__all__ = ["add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals",
           "global_path", "save", "load"]

_lock = threading.Lock()
_SAFE = {}      # "module.qualname" -> object


def global_path(obj):
    """``(module, qualname)`` of a class or function (what a file stores to name it)."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        raise TypeError(f"{obj!r} has no __module__/__qualname__ to be named by")
    return module, qualname


def _entries(objs, who):
    if not isinstance(objs, (list, tuple, set, frozenset)):
        raise TypeError(f"{who}: expected a list of classes or functions (or (obj, name) "
                        f"pairs), got {type(objs).__name__}")
    out = {}
    for obj in objs:
        if isinstance(obj, tuple):
            if len(obj) != 2 or not isinstance(obj[1], str):
                raise TypeError(f"{who}: a pair must be (obj, 'module.Name'), got {obj!r}")
            out[obj[1]] = obj[0]
            continue
        if not callable(obj):
            raise TypeError(f"{who}: expected classes or functions, got "
                            f"{type(obj).__name__} {obj!r}")
        module, qualname = global_path(obj)
        out[f"{module}.{qualname}"] = obj
    return out


def add_safe_globals(safe_globals):
    """Allow ``load`` to rebuild these classes and functions from any file, from now on."""
    entries = _entries(safe_globals, "add_safe_globals")
    with _lock:
        _SAFE.update(entries)


def get_safe_globals():
    """The objects allowed by :func:`add_safe_globals` (and active ``safe_globals`` blocks)."""
    with _lock:
        return list(_SAFE.values())


def clear_safe_globals():
    with _lock:
        _SAFE.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """Within the ``with`` block, ``load`` may also rebuild these classes and functions."""
    entries = _entries(safe_globals, "safe_globals")
    with _lock:
        before = dict(_SAFE)
        _SAFE.update(entries)
    try:
        yield
    finally:
        with _lock:
            _SAFE.clear()
            _SAFE.update(before)


def allowed(module, qualname):
    """The allowlisted object named ``module.qualname``, or None."""
    with _lock:
        return _SAFE.get(f"{module}.{qualname}")


def save(obj, f, **kwargs):
    """``interop.save`` (``torch.serialization.save``'s spelling)."""
    return it.save(obj, f, **kwargs)


def load(f, **kwargs):
    """``interop.load`` (``torch.serialization.load``'s spelling)."""
    return it.load(f, **kwargs)
