"""A team of threads that share a compiled kernel's parts without sleeping between them (the
cpu backend's compiled kernels; numba, through :mod:`._jit`).

Why: a kernel split over threads hands its parts to threads that are, most of the time,
asleep between two kernels. On a virtual machine a sleeping thread's processor is given
back to the host, and waking it takes 0.1-0.2 ms after a pause, for tens of milliseconds,
until the host's own polling has grown again: a 2-thread MLP step took 10-11 ms for its
first five steps after a 0.25 s pause, against 6.6 ms in a steady loop and 9 ms on one
thread. PyTorch's OpenMP threads do not sleep between kernels: they spin for a while after
each one. This team does the same: its threads wait for work in compiled code (no GIL
held), reading one shared word, for ``SPIN_S`` after the last part they took, and only then
sleep on a semaphore that the next job rings.

The protocol, on an int64 control array (each slot on a cache line of its own):

* ``WORD`` holds the job's generation (high 32 bits) and the index of the next part not
  yet taken (low 32). A thread takes part ``i`` by compare-and-swap of ``i`` to ``i + 1``
  within the same generation; the caller (the thread that posted the job) takes parts too.
* Posting a job: the caller closes the word (a new generation whose next part is
  ``CLOSED``, beyond any job's parts: a thread that read the old word cannot take a part
  of it any more), writes the job's description into the job array, and opens it (the next
  generation, part 0). A part that a thread has taken is finished before the job can be
  closed (``DONE`` counts finished parts; the caller waits for all), so a description is
  never rewritten while a thread reads it.
* ``ASLEEP + 16 * k``: set by thread ``k`` when its spin ends, before it sleeps; the
  caller rings its semaphore before posting the next job (see :meth:`Team.ring`).

A job names its part function by address (job slot ``FN``): a numba ``cfunc`` made by
:func:`part` from a plain function of the kernel module that posts the job, called through
an LLVM intrinsic. So one team, and one compiled :func:`serve` loop, runs the jobs of every
module (the products of ``_jit_gemm.py``, max pooling's planes in ``_jit_pool.py``, the
convolution's output moves in ``_jit_conv.py``), and none of them imports another: a module
writes its job's description with :func:`describe` in a compiled launcher of its own, which
:func:`share` calls with the team's arrays.

A job's parts must not depend on which thread runs them or in which order: each part is
computed as it would be alone, so a split result is the same bits as a whole one.
"""

import os
import threading
import time

import numpy as np

from . import _jit
from ._jit import jitable

__all__ = ["team", "share", "part", "SPIN_S"]

SPIN_S = 0.01           # seconds a thread spins after its last part before it sleeps
MASK = (1 << 32) - 1    # the word's part index
CLOSED = 1 << 31        # a closed word's part index: beyond every job's parts
WORD, DONE, ASLEEP = 0, 16, 32    # control slots (16 int64s: a cache line apart)
LINE = 16               # thread k's slots: ASLEEP + LINE * k, and TAKEN beyond it
TAKEN = 8               # (parts thread k has finished, ever: what the tests look at)
NPARTS, HELPERS, FN = 0, 1, 2   # job slots every job has: its parts, the threads that may
                                # take them, the address of its part function (see part)
MAX_THREADS = 64
JOB = 64                # int64 slots of a job's description
ALONE = DONE + 1        # control slots a job run by its caller alone needs


@_jit.on_import
def _bind(numba):
    """Build the atomic operations (LLVM's, on addresses: numba has none of its own) and
    the processor's spin hint and cycle counter as numba intrinsics."""
    from llvmlite import ir
    global _load, _store, _cas, _pause, _ticks, _add, _f32_at, _i64_at, _i8_at, _carray, _call
    types, cgutils = numba.types, numba.core.cgutils
    intrinsic = numba.extending.intrinsic
    i64 = ir.IntType(64)

    def ptr(builder, addr):
        return builder.inttoptr(addr, i64.as_pointer())

    def load(typingctx, addr):
        def codegen(context, builder, sig, args):
            return builder.load_atomic(ptr(builder, args[0]), "seq_cst", 8)
        return types.int64(types.intp), codegen

    def store(typingctx, addr, value):
        def codegen(context, builder, sig, args):
            builder.store_atomic(args[1], ptr(builder, args[0]), "seq_cst", 8)
            return context.get_dummy_value()
        return types.void(types.intp, types.int64), codegen

    def cas(typingctx, addr, old, new):
        def codegen(context, builder, sig, args):
            res = builder.cmpxchg(ptr(builder, args[0]), args[1], args[2], "seq_cst", "seq_cst")
            return builder.zext(builder.extract_value(res, 1), i64)
        return types.int64(types.intp, types.int64, types.int64), codegen

    def add(typingctx, addr, value):
        def codegen(context, builder, sig, args):
            return builder.atomic_rmw("add", ptr(builder, args[0]), args[1], "seq_cst")
        return types.int64(types.intp, types.int64), codegen

    def pause(typingctx):
        def codegen(context, builder, sig, args):
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), []),
                                                "llvm.x86.sse2.pause")
            builder.call(fn, [])
            return context.get_dummy_value()
        return types.void(), codegen

    def ticks(typingctx):
        def codegen(context, builder, sig, args):
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(i64, []),
                                                "llvm.readcyclecounter")
            return builder.call(fn, [])
        return types.int64(), codegen

    def pointer_to(element):
        def at(typingctx, addr):
            def codegen(context, builder, sig, args):
                return builder.inttoptr(args[0], context.get_value_type(element).as_pointer())
            return types.CPointer(element)(types.intp), codegen
        return intrinsic(at)

    def call(typingctx, fn, job, i):
        def codegen(context, builder, sig, args):
            fnty = ir.FunctionType(ir.VoidType(), [i64, i64])
            builder.call(builder.inttoptr(args[0], fnty.as_pointer()), [args[1], args[2]])
            return context.get_dummy_value()
        return types.void(types.intp, types.intp, types.int64), codegen

    _load, _store, _cas, _add = (intrinsic(load), intrinsic(store), intrinsic(cas),
                                 intrinsic(add))
    _call = intrinsic(call)
    _pause, _ticks = intrinsic(pause), intrinsic(ticks)
    _f32_at, _i64_at = pointer_to(types.float32), pointer_to(types.int64)
    _i8_at = pointer_to(types.int8)
    _carray = numba.carray


_load = _store = _cas = _add = _pause = _ticks = _f32_at = _i64_at = _i8_at = _carray = None
_call = None
# (all built by _bind)


@jitable
def post(ctrl, job):
    """Close the word (no part of the last job can be taken from here on) and return the
    generation to :func:`open_` once ``job`` is written. The caller's thread only."""
    p = ctrl.ctypes.data
    gen = (_load(p) >> 32) + 1
    _store(p, (gen << 32) | CLOSED)
    _store(p + 8 * DONE, 0)
    return gen + 1


@jitable
def open_(ctrl, gen):
    _store(ctrl.ctypes.data, gen << 32)


@jitable
def take(ctrl, job, k):
    """The index of a part of the open job for thread ``k`` (0: the caller), or -1 where
    none is left (or ``k`` is not among the job's helpers)."""
    p = ctrl.ctypes.data
    while True:
        w = _load(p)
        i = w & MASK
        if i >= job[NPARTS] or k >= job[HELPERS]:
            return -1
        if _cas(p, w, w + 1):
            return i


@jitable
def finish(ctrl, k):
    """Part done by thread ``k``."""
    p = ctrl.ctypes.data
    if k:
        _add(p + 8 * (ASLEEP + LINE * k + TAKEN), 1)
    _add(p + 8 * DONE, 1)


@jitable
def wait(ctrl, job):
    """Spin until every part of the job is finished (the caller's thread)."""
    p = ctrl.ctypes.data + 8 * DONE
    while _load(p) < job[NPARTS]:
        _pause()


@jitable
def idle(ctrl, job, k, deadline):
    """Whether thread ``k``, with no part left for it, goes on spinning: until
    ``deadline`` (in ticks of :func:`now`); then it sets its ASLEEP flag (after which
    :meth:`Team.ring` wakes it) unless a part was posted meanwhile."""
    p = ctrl.ctypes.data
    if _ticks() < deadline:
        _pause()
        return True
    asleep = p + 8 * (ASLEEP + LINE * k)
    _store(asleep, 1)
    if (_load(p) & MASK) < job[NPARTS] and k < job[HELPERS]:     # (posted meanwhile)
        _store(asleep, 0)
        return True
    return False


@jitable
def describe(job, at, x):
    """Write array ``x``'s address, shape and strides (bytes) into ``job[at:]``."""
    job[at] = x.ctypes.data
    for d in range(x.ndim):
        job[at + 1 + d] = x.shape[d]
        job[at + 1 + x.ndim + d] = x.strides[d]


@jitable
def floats3(job, at):
    """The 3-d float32 array :func:`describe` wrote at ``job[at:]`` (a view: no copy)."""
    return np.lib.stride_tricks.as_strided(
        _carray(_f32_at(job[at]), 1), (job[at + 1], job[at + 2], job[at + 3]),
        (job[at + 4], job[at + 5], job[at + 6]))


@jitable
def dense3(job, at):
    """:func:`floats3` of a C-contiguous array, typed as one (its rows then vectorize as
    contiguous runs; an ``as_strided`` view's do not)."""
    return _carray(_f32_at(job[at]), (job[at + 1], job[at + 2], job[at + 3]))


@jitable
def dense4(job, at):
    """The C-contiguous 4-d float32 array :func:`describe` wrote at ``job[at:]``, typed as
    one (see :func:`dense3`)."""
    return _carray(_f32_at(job[at]), (job[at + 1], job[at + 2], job[at + 3], job[at + 4]))


@jitable
def dense_bytes4(job, at):
    """The C-contiguous 4-d int8 array :func:`describe` wrote at ``job[at:]``, typed as one
    (see :func:`dense3`)."""
    return _carray(_i8_at(job[at]), (job[at + 1], job[at + 2], job[at + 3], job[at + 4]))


@jitable
def floats_row(job, at):
    """The memory of the array :func:`describe` wrote at ``job[at:]`` as one C-contiguous
    (1, size) float32 row (the array must be contiguous; size = the product of its shape)."""
    return _carray(_f32_at(job[at]), (1, job[at + 1] * job[at + 2] * job[at + 3]))


@jitable
def ints1(job, at):
    """The 1-d int64 array :func:`describe` wrote at ``job[at:]``."""
    return np.lib.stride_tricks.as_strided(_carray(_i64_at(job[at]), 1), (job[at + 1],),
                                           (job[at + 2],))


@jitable
def work(ctrl, job):
    """The caller's share of the open job: take parts and run them until none is left, then
    wait for the parts other threads took."""
    fn, at = job[FN], job.ctypes.data
    while True:
        i = take(ctrl, job, 0)
        if i < 0:
            break
        _call(fn, at, i)
        finish(ctrl, 0)
    wait(ctrl, job)


def serve(ctrl, job, k, spin):
    """Team thread ``k``'s loop (compiled, holding no GIL): take parts of the open job while
    there are, run each through its job's part function, spin ``spin`` ticks after the last
    one, then return (to sleep)."""
    deadline = _ticks() + spin
    while True:
        i = take(ctrl, job, k)
        if i >= 0:
            _call(job[FN], job.ctypes.data, i)
            finish(ctrl, k)
            deadline = _ticks() + spin
        elif not idle(ctrl, job, k, deadline):
            return


@jitable
def job_at(at):
    """The job description at address ``at`` (what a part function is given)."""
    return _carray(_i64_at(at), JOB)


def part(fn, **options):
    """A job's part function: ``fn(at, i)``, a plain function of the module that defines it
    (``at`` the address of the int64 job description, which :func:`job_at` reads; ``i`` the
    part), compiled as a C callback that the team's threads call by its address (job slot
    FN), so that one team serves the jobs of every kernel module; numba ``options`` of its
    own (``fastmath=...``). Returns a function that compiles it at its first call (numba's
    cache keeps it) and gives the address."""
    made = []

    def address():
        if not made:
            numba = _jit.module()
            types = numba.types
            made.append(numba.cfunc(types.void(types.intp, types.int64), cache=True,
                                    nogil=True, **options)(fn).address)
        return made[0]
    return address


@jitable
def now():
    """The processor's cycle counter (see :func:`_tick_rate`)."""
    return _ticks()


class Team:
    """Threads 1, 2, ... (0 is the caller) that each run :func:`serve`, a compiled loop that
    holds no GIL: it takes parts with :func:`take`, runs them, marks each with
    :func:`finish`, and between them spins through :func:`idle` (``spin`` ticks), then
    returns; the thread then sleeps on a semaphore of its own until :meth:`ring`."""

    def __init__(self):
        self.serve = _serve
        self.ctrl = np.zeros(ASLEEP + LINE * (MAX_THREADS + 1), np.int64)
        self.job = np.zeros(JOB, np.int64)
        self.bells = [None]
        self.threads = [None]
        self.lock = threading.Lock()        # one job at a time (a second caller runs alone)
        self.spin = int(SPIN_S * _tick_rate())

    def grow(self, n):
        """At least ``n`` threads besides the caller (at most MAX_THREADS)."""
        while len(self.threads) <= min(n, MAX_THREADS):
            k = len(self.threads)
            self.bells.append(threading.Semaphore(0))
            self.ctrl[ASLEEP + LINE * k] = 1
            t = threading.Thread(target=self._run, args=(k,), name=f"interop-{k}", daemon=True)
            self.threads.append(t)
            t.start()

    def ring(self, helpers):
        """Wake the sleeping threads among the first ``helpers - 1`` (before posting a job:
        one that goes to sleep between the two misses this job, not the next)."""
        ctrl = self.ctrl
        for k in range(1, min(helpers, len(self.threads))):
            if ctrl[ASLEEP + LINE * k]:
                ctrl[ASLEEP + LINE * k] = 0
                self.bells[k].release()

    def taken(self, k):
        """Parts thread ``k`` has finished since it started."""
        return int(self.ctrl[ASLEEP + LINE * k + TAKEN])

    def asleep(self, k):
        return bool(self.ctrl[ASLEEP + LINE * k])

    def _run(self, k):
        bell = self.bells[k]
        while True:
            bell.acquire()
            self.serve(self.ctrl, self.job, k, self.spin)


_rate = []


def _tick_rate():
    """The processor's cycle counter's ticks per second (measured once, over ~2 ms)."""
    if not _rate:
        _now()                  # (compiled, or loaded from the cache, first)
        t0, c0 = time.perf_counter(), _now()
        while time.perf_counter() - t0 < 0.002:
            pass
        t1, c1 = time.perf_counter(), _now()
        _rate.append(max(1.0, (c1 - c0) / (t1 - t0)))
    return _rate[0]


_now = _jit.njit(now)
_serve = _jit.njit(serve)
_work = _jit.njit(work)
_teams = {}


def team(helpers):
    """The process's team, grown to at least ``helpers`` threads besides the caller; one
    job at a time (its ``lock``)."""
    t = _teams.get("team")
    if t is None:
        t = _teams["team"] = Team()
    t.grow(helpers)
    return t


def share(launch, threads, *args):
    """Run a job on ``threads`` threads (this one and ``threads - 1`` of the team):
    ``launch(ctrl, job, helpers, *args)``, a compiled function, posts it (:func:`post`, its
    description and part function written into ``job``, :func:`open_`) and takes its share
    (:func:`work`). Where another thread of the process has the team now, or ``threads`` is
    1, this thread takes every part itself."""
    t = team(threads - 1) if threads > 1 else None
    if t is None or not t.lock.acquire(blocking=False):
        launch(np.zeros(ALONE, np.int64), np.zeros(JOB, np.int64), 1, *args)
        return
    try:
        t.ring(threads)
        launch(t.ctrl, t.job, threads, *args)
    finally:
        t.lock.release()


def _forget():
    """In a forked child: the parent's threads do not exist there; the child makes its own."""
    _teams.clear()


os.register_at_fork(after_in_child=_forget)
