"""Host arrays in memory shared between processes (``Tensor.share_memory_``, passing tensors
to other processes with ``interop.multiprocessing``, DataLoader batches).

A shared array is a NumPy array over a POSIX shared-memory block
(``multiprocessing.shared_memory``): its pages are mapped ``MAP_SHARED``, so a process
forked afterwards writes into the same memory, and any other process (a spawned one) maps
the same block by name from a :func:`handle`. Each mapping stays valid until that
process's arrays over it are gone; only the block's *name* is removed (unlinked), by its
owner when the owner's array is garbage-collected or at its exit:

* the owner is the process that made the block, unless it made it in a child process and
  sent it away (a worker returning a result): then the main process takes ownership when
  it maps the block, since the child may exit before anyone has mapped it;
* a block nobody owns (sent between two children) is removed by Python's resource
  tracker when the program ends, as it removes the blocks of a process that died.

Registry invariant: ``_ROOTS`` maps ``id(root)`` to ``(weakref(root), block name,
creator pid)`` for every live root array made here; a shared array is a root or a view
whose ``.base`` chain reaches one.
"""

import multiprocessing
import os
import weakref
from multiprocessing import resource_tracker, shared_memory
from multiprocessing import util as mp_util

import numpy as np

__all__ = ["open_block", "share_array", "is_shared", "handle", "attach", "rebase"]

_ROOTS = {}
_SENT = set()       # names of blocks this process made and gave a handle to


def open_block(name=None, size=0, track=False):
    """A shared-memory block: a new one of ``size`` bytes (``name=None``) or block ``name``.
    ``track=False`` keeps Python's resource tracker from freeing a block this process made
    when it exits (the DataLoader's workers make blocks the main process frees)."""
    if track:
        return shared_memory.SharedMemory(name=name, create=name is None, size=size)
    try:
        return shared_memory.SharedMemory(name=name, create=name is None, size=size,
                                          track=False)
    except TypeError:
        pass
    # Python < 3.13 has no track=: it registers the block on every open and unregisters on
    # unlink; the main process's open + unlink balance, the worker's creation is undone here
    shm = shared_memory.SharedMemory(name=name, create=name is None, size=size)
    if name is None:
        resource_tracker.unregister(shm._name, "shared_memory")
    return shm


def _in_child():
    """True in a process multiprocessing started (also while a spawned one is still
    unpickling its arguments, before ``parent_process()`` is set)."""
    return multiprocessing.parent_process() is not None or \
        getattr(multiprocessing.current_process(), "_inheriting", False)


def _forget(key, shm, owner):
    _ROOTS.pop(key, None)
    if os.getpid() != owner:            # a forked child must not unlink its parent's block
        return
    if shm.name in _SENT and _in_child():
        return                          # a child's block sent away: the main process owns it
    try:
        shm.unlink()
    except FileNotFoundError:
        pass


def _register(root, shm, owner):
    key = id(root)
    _ROOTS[key] = (weakref.ref(root), shm.name, owner)
    # the finalizer holds the block (so its mapping outlives every view of the array); a
    # multiprocessing Finalize with an exit priority runs at the exit of forked children too
    mp_util.Finalize(root, _forget, args=(key, shm, owner), exitpriority=0)


def _root(a):
    """The registered root array ``a`` views, or None."""
    while isinstance(a, np.ndarray):
        entry = _ROOTS.get(id(a))
        if entry is not None and entry[0]() is a:
            return a
        a = a.base
    return None


def share_array(a):
    """A C-contiguous copy of NumPy array ``a`` in a new shared-memory block."""
    a = np.asarray(a)
    shm = open_block(size=max(a.nbytes, 1), track=True)
    root = np.ndarray(a.shape, a.dtype, buffer=shm.buf)
    root[...] = a
    _register(root, shm, os.getpid())
    return root


def is_shared(a):
    return _root(a) is not None


def handle(a):
    """What another process needs to map shared array ``a``: (block name, byte offset,
    shape, byte strides, dtype string)."""
    root = _root(a)
    if root is None:
        raise ValueError("handle: the array is not in shared memory")
    offset = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    name = _ROOTS[id(root)][1]
    _SENT.add(name)
    return (name, offset, tuple(a.shape), tuple(a.strides), a.dtype.str)


def attach(h):
    """The shared array described by handle ``h``, mapped into this process (the same
    memory: writes are seen by every process that maps it)."""
    name, offset, shape, strides, dtype = h
    if name is not None:
        for ref, block, _ in _ROOTS.values():
            root = ref()
            if block == name and root is not None:         # mapped here already
                return np.ndarray(shape, dtype, buffer=root, offset=offset, strides=strides)
    shm = open_block(name=name, track=True)
    root = np.ndarray((shm.size,), np.uint8, buffer=shm.buf)
    _register(root, shm, None if _in_child() else os.getpid())
    return np.ndarray(shape, dtype, buffer=root, offset=offset, strides=strides)


def rebase(view, old, new):
    """``view`` (an array over the memory of C-contiguous ``old``) moved onto ``new``, a
    copy of ``old`` elsewhere: the same elements at the same places; None when ``view``
    does not lie within ``old``."""
    if not old.flags.c_contiguous or old.shape != new.shape or old.dtype != new.dtype:
        return None
    start = old.__array_interface__["data"][0]
    ptr = view.__array_interface__["data"][0]
    lo = ptr + sum(min(0, (n - 1) * s) for n, s in zip(view.shape, view.strides))
    hi = ptr + sum(max(0, (n - 1) * s) for n, s in zip(view.shape, view.strides)) + \
        view.itemsize
    if view.size and not (start <= lo and hi <= start + old.nbytes):
        return None
    return np.ndarray(view.shape, view.dtype, buffer=new, offset=ptr - start if view.size else 0,
                      strides=view.strides)
