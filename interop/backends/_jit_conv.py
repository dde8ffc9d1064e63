"""The cpu backend's compiled convolution passes (numba, through :mod:`._jit`; used only
where :func:`._jit.enabled` is true): the col2im of the ``windows_add`` kernel,
``batch_to_front``, the move of a convolution's output out of its matmul's layout, and
``summed_products``, the weight gradient of a convolution whose products run per sample.

NumPy's ``windows_add`` (``NumpyBackend._windows_add``, the reference) makes one strided add
per kernel offset, and NumPy runs each along rows only as long as the output is wide: 11 to
24 elements in LeNet's and the MNIST example's convolutions, so the adds cost their loop
overhead more than their arithmetic. Here one loop nest makes them all, in one of three
layouts of ``cols``: row-major and channel-major (per lead index, kernel offset and output
row, a run of the window row added into the output row: vectorized where the step is 1, but
rows shorter than a vector run scalar), and batch-innermost (``_col2im_lead_inner``: a
convolution whose im2col matrix runs the batch innermost, (C * K, L * N), gives its input
gradient this way; per channel the sums are made in a buffer laid out (H, W, N), along runs
of N that vectorize however narrow the windows, then copied out). The sums are the
reference's, bit for bit, in every layout: each position receives its terms in the same
order (kernel offsets in row-major order, starting from zero); only where windows do not
overlap does a -0.0 differ in sign (the reference assigns it; here it is added to +0.0, as
into PyTorch's zero-filled gradients).

Measured (CPU time, one thread, 2026-12-07): the first compiled col2im against NumPy's loop,
conv2d 32->64 on (64, 32, 13, 13) forward + backward 11.4 -> 11.0 ms, the MNIST example's
second convolution 52.8 -> 51.3 ms, max_pool2d 2x2 forward + backward ~10%; the
batch-innermost layout's col2im on that conv2d 1.1-1.4 ms -> 0.32 ms in the cache, 2.0-2.5
-> 0.65 ms inside the whole step (cProfile).
"""

import numpy as np

from . import _jit_team, _threads
from ._jit import jitable, njit

__all__ = ["windows_add", "batch_to_front", "summed_products"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


@jitable
def _add_window(plane, win, i, j, sh, sw, dh, dw):
    """``plane[h * sh + i * dh, w * sw + j * dw] += win[h, w]``: one kernel offset (i, j) of
    one (sample, channel) plane (inlined into the loops below)."""
    oh, ow = win.shape
    start = j * dw
    for h in range(oh):
        row = plane[h * sh + i * dh]
        src = win[h]
        if sw == 1:     # unit steps: the loop vectorizes
            for w in range(ow):
                row[start + w] += src[w]
        else:
            for w in range(ow):
                row[start + w * sw] += src[w]


@njit
def _col2im(cols, out, sh, sw, dh, dw):
    """``out[a, b, h * sh + i * dh, w * sw + j * dw] += cols[a, b, i, j, h, w]``, offsets
    (i, j) in row-major order for every position (``out`` zeros on entry; ``cols``
    row-major, so that the runs along w vectorize)."""
    na, nb, kh, kw, oh, ow = cols.shape
    for a in range(na):
        for b in range(nb):
            for i in range(kh):
                for j in range(kw):
                    _add_window(out[a, b], cols[a, b, i, j], i, j, sh, sw, dh, dw)


@njit
def _col2im_channel_major(cols, out, sh, sw, dh, dw):
    """:func:`_col2im` of ``cols`` laid out (b, i, j, a, h, w), row-major: a convolution's
    input gradient as its matmul gives it, (C, *kernel, N, *out)."""
    nb, kh, kw, na, oh, ow = cols.shape
    for a in range(na):
        for b in range(nb):
            for i in range(kh):
                for j in range(kw):
                    _add_window(out[a, b], cols[b, i, j, a], i, j, sh, sw, dh, dw)


@njit
def _col2im_lead_inner(cols, out, buf, sh, sw, dh, dw):
    """:func:`_col2im` of ``cols`` laid out (b, i, j, h, w, a), row-major: a convolution's
    input gradient as its matmul gives it where the columns run batch-innermost,
    (C, *kernel, *out, N). Per ``b``, the sums are made in ``buf`` (H, W, a; zeroed here)
    along runs of ``a``, which vectorize however narrow the windows, each position's terms
    in :func:`_col2im`'s order; then copied into ``out[:, b]``."""
    nb, kh, kw, oh, ow, na = cols.shape
    hh, ww = out.shape[2], out.shape[3]
    for b in range(nb):
        buf[...] = 0
        for i in range(kh):
            for j in range(kw):
                for h in range(oh):
                    row = buf[h * sh + i * dh]
                    src = cols[b, i, j, h]
                    for w in range(ow):
                        _add_run(row[w * sw + j * dw], src[w])
        for a in range(na):
            plane = out[a, b]
            for y in range(hh):
                for x in range(ww):
                    plane[y, x] = buf[y, x, a]


@jitable
def _add_run(dst, src):
    """``dst += src`` along one run (inlined)."""
    for t in range(src.shape[0]):
        dst[t] += src[t]


def windows_add(shape, cols, kernel, stride, dilation):
    """The ``windows_add`` kernel, compiled, for 1-d and 2-d windows of float32/float64
    arrays; ``None`` where it does not apply (the caller runs the reference instead).
    Arguments as the kernel's (checked by ``Backend.windows_add``)."""
    n = len(kernel)
    if n > 2 or cols.dtype not in _FLOATS or cols.size == 0:
        return None
    lead = len(shape) - n
    result = tuple(shape)
    if n == 1:          # one row of windows: kernel (1, k), out (1, L)
        cols = np.expand_dims(cols, (lead, lead + 2))
        shape, kernel = tuple(shape[:lead]) + (1, shape[lead]), (1, kernel[0])
        stride, dilation = (1, stride[0]), (1, dilation[0])
    if lead > 2:        # the lead dims as two (a copy where that is not a view)
        cols = np.reshape(cols, (-1,) + cols.shape[lead - 1:])
    elif lead < 2:
        cols = np.reshape(cols, (1,) * (2 - lead) + cols.shape)
    inner = cols.transpose(1, 2, 3, 4, 5, 0)
    if inner.flags.c_contiguous and not cols.flags.c_contiguous:
        out = np.empty(cols.shape[:2] + tuple(shape[-2:]), cols.dtype)
        buf = np.empty(tuple(shape[-2:]) + cols.shape[:1], cols.dtype)
        _col2im_lead_inner(inner, out, buf, stride[0], stride[1], dilation[0], dilation[1])
        return out.reshape(result)
    out = np.zeros(cols.shape[:2] + tuple(shape[-2:]), cols.dtype)
    major = cols.transpose(1, 2, 3, 0, 4, 5)
    if major.flags.c_contiguous and not cols.flags.c_contiguous:
        _col2im_channel_major(major, out, stride[0], stride[1], dilation[0], dilation[1])
    else:               # (a copy where cols is laid out otherwise: strided loops do not vectorize)
        _col2im(np.ascontiguousarray(cols), out, stride[0], stride[1], dilation[0], dilation[1])
    return out.reshape(result)


# ---- the batch dim of a convolution's one-matrix layout (the kernel ``batch_to_front``):
# where its columns run the batch innermost, its matmul gives the output (O, L, N); NumPy's
# copy into (N, O, L) reads across the runs of N for every element (0.36-0.39 ms for conv2d
# 32->64 on (64, 32, 13, 13) in the cache, 0.5 ms out of it, the bias's add another
# 0.04 ms). Here each (L, N) slab of one channel, in the L1 cache, is written out along runs
# of L, the bias added on the way (0.09-0.10 ms in the cache, 0.24 ms out of it).

@jitable(inline="never")
def _batch_to_front(x, bias, add, out):
    """``out[n, a, m] = x[a, m, n] (+ bias[a])``, ``x`` and ``out`` row-major: per ``a``,
    the slab ``x[a]`` read down its columns (it stays in the cache: 31 KB on conv2d 32->64)
    while ``out`` is written along its rows. (Reading the slab in chunks of rows, one pass
    over ``n`` per chunk, cost 0.3-0.4 ms more per forward + backward there.)"""
    na, nm, nn = x.shape
    for a in range(na):
        src = x[a]
        if add:
            b = bias[a]
            for n in range(nn):
                dst = out[n, a]
                for m in range(nm):
                    dst[m] = src[m, n] + b
        else:
            for n in range(nn):
                dst = out[n, a]
                for m in range(nm):
                    dst[m] = src[m, n]


@njit
def _batch_to_front_alone(x, bias, add, out):
    _batch_to_front(x, bias, add, out)


# float32 moves of many rows are shared by threads (the team of _jit_team.py): parts of rows
# ``a`` of x (each writes its own (N, a, M) entries)
STEP, ADD = 3, 4                                # job slots (0 to 2: _jit_team's)
X_AT, B_AT, O_AT = 8, 16, 24
SPLIT = 1 << 16                                 # elements per thread where threads share
_PARTS = 4                                      # parts per thread


def _part_of(at, i):
    job = _jit_team.job_at(at)
    step = job[STEP]
    x, out = _jit_team.dense3(job, X_AT), _jit_team.dense3(job, O_AT)
    bias = _jit_team.dense3(job, B_AT)[0, 0]
    lo = i * step
    hi = min(lo + step, x.shape[0])
    _batch_to_front(x[lo:hi], bias[lo:hi] if job[ADD] else bias, job[ADD] != 0,
                    out[:, lo:hi])


_part = _jit_team.part(_part_of)


@njit
def _launch(ctrl, job, helpers, fn, x, bias, add, out, step, nparts):
    """Post a job of three 3-d float32 arrays (at X_AT, B_AT, O_AT), ``step`` and a flag
    (``add``) to the team, and take parts of it here too (``batch_to_front``'s and
    ``summed_products``' jobs)."""
    gen = _jit_team.post(ctrl, job)
    job[0], job[1], job[2] = nparts, helpers, fn
    job[STEP], job[ADD] = step, add
    _jit_team.describe(job, X_AT, x)
    _jit_team.describe(job, B_AT, bias)
    _jit_team.describe(job, O_AT, out)
    _jit_team.open_(ctrl, gen)
    _jit_team.work(ctrl, job)


def batch_to_front(x, bias):
    """The ``batch_to_front`` kernel compiled, for float32/float64 ``x``; None where it does
    not apply (arguments as the kernel's, checked). float32 of more than SPLIT elements per
    thread: rows shared by as many threads as the BLAS pool has."""
    if x.dtype not in _FLOATS or x.size == 0:
        return None
    x = np.ascontiguousarray(x)
    out = np.empty((x.shape[2], x.shape[0], x.shape[1]), x.dtype)
    add = bias is not None
    bias = np.ascontiguousarray(bias) if add else np.zeros(1, x.dtype)
    threads = (min(_threads.blas_threads(), max(1, x.size // SPLIT), x.shape[0])
               if x.dtype == np.float32 else 1)
    if threads <= 1:
        _batch_to_front_alone(x, bias, add, out)
        return out
    step = -(-x.shape[0] // (_PARTS * threads))
    _jit_team.share(_launch, threads, _part(), x, bias[None, None], int(add), out, step,
                    -(-x.shape[0] // step))
    return out


# ---- the weight gradient of a convolution whose products run per sample (a first layer's few
# input channels, ``tensordot(g, cols, axes=([0, 2], [0, 2]))``): sum_n g[n] @ cols[n]^T, an
# (O, C * K) result from N products whose shared dim is the output's L positions. A blocked
# product packs panels for a long dim of many columns; here the columns are few (C * K + 1:
# 10 for a 3x3 kernel on one channel) and the shared dim long, so each entry is a dot product
# of two rows, read where they lie: four rows of g against two of cols at a time, eight sums
# in registers along the rows (the loop vectorizes: eight vector sums), each row of g read
# from memory once and the sample's cols from the cache. conv2d 1->32 3x3 on (64, 1, 28, 28),
# one thread (2026-12-07): 0.50 ms with NumPy's batched products and sum, 0.22 ms here.

@jitable
def _dots_4x2(a0, a1, a2, a3, b0, b1):
    """The eight dot products of rows ``a0..a3`` with rows ``b0``, ``b1`` (inlined into
    callers compiled with ``_REASSOC``, so that the loop vectorizes)."""
    s00 = s01 = s10 = s11 = s20 = s21 = s30 = s31 = a0.dtype.type(0)
    for q in range(b0.shape[0]):
        u, v = b0[q], b1[q]
        x0, x1, x2, x3 = a0[q], a1[q], a2[q], a3[q]
        s00 += x0 * u
        s01 += x0 * v
        s10 += x1 * u
        s11 += x1 * v
        s20 += x2 * u
        s21 += x2 * v
        s30 += x3 * u
        s31 += x3 * v
    return s00, s01, s10, s11, s20, s21, s30, s31


@jitable
def _summed(a, b, out):
    """``out = sum_n a[n] @ b[n]^T`` (``out`` (M, K) overwritten), ``a`` (N, M, P) and ``b``
    (N, K, P) row-major: samples in order, each entry's terms added to it per sample. (An
    odd last column or last rows short of four repeat a row in the block of 4 x 2, their
    sums not kept: a second kernel inlined in these loops would not compile cleanly.)"""
    m, k = a.shape[1], b.shape[1]
    out[...] = 0
    for n in range(a.shape[0]):
        an, bn = a[n], b[n]
        for i in range(0, m, 4):
            rows = min(4, m - i)
            for j in range(0, k, 2):
                s = _dots_4x2(an[i], an[min(i + 1, m - 1)], an[min(i + 2, m - 1)],
                              an[min(i + 3, m - 1)], bn[j], bn[min(j + 1, k - 1)])
                for r in range(rows):
                    out[i + r, j] += s[2 * r]
                    if j + 1 < k:
                        out[i + r, j + 1] += s[2 * r + 1]


_REASSOC = {"reassoc", "contract"}     # (sums in any order, in vectors; FMA; no nnan, ninf)


@njit(fastmath=_REASSOC)
def _summed_alone(a, b, out):
    _summed(a, b, out)


# parts of samples, one sum each, added up in order: the same parts however many threads
# take them, so that the result's bits do not depend on the threads
SUM_PARTS = 8          # (a job of _launch: a at X_AT, b at B_AT, the parts' sums at O_AT)


def _summed_part_of(at, i):
    job = _jit_team.job_at(at)
    step = job[STEP]
    a, b = _jit_team.dense3(job, X_AT), _jit_team.dense3(job, B_AT)
    lo = i * step
    _summed(a[lo:lo + step], b[lo:lo + step], _jit_team.dense3(job, O_AT)[i])


_summed_part = _jit_team.part(_summed_part_of, fastmath=_REASSOC)


def summed_products(a, b):
    """``sum_n a[n] @ b[n]^T`` of float32/float64 3-d ``a`` (N, M, P) and ``b`` (N, K, P)
    (``tensordot(a, b, axes=([0, 2], [0, 2]))``), compiled; None where it does not apply
    (other dtypes, rows that are not contiguous, fewer than ``SUM_PARTS`` samples, more
    than 64 columns: a blocked product's pace there). float32: the samples in
    ``SUM_PARTS`` parts, shared by as many threads as the BLAS pool has, their sums added
    in order."""
    if (a.dtype != b.dtype or a.dtype not in _FLOATS or a.ndim != 3 or b.ndim != 3
            or a.shape[0] != b.shape[0] or a.shape[2] != b.shape[2]):
        return None
    n, m, k = a.shape[0], a.shape[1], b.shape[1]
    if k > 64 or m * k == 0:
        return None
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    if a.dtype != np.float32 or n < SUM_PARTS:
        out = np.empty((m, k), a.dtype)
        _summed_alone(a, b, out)
        return out
    step = -(-n // SUM_PARTS)
    nparts = -(-n // step)
    sums = np.empty((nparts, m, k), a.dtype)
    threads = min(_threads.blas_threads(), nparts, max(1, a.size // SPLIT))
    _jit_team.share(_launch, threads, _summed_part(), a, b, 0, sums, step, nparts)
    if nparts == 1:
        return sums[0]
    with np.errstate(invalid="ignore", over="ignore"):     # (inf - inf: NaN, as NumPy's own)
        return sums.sum(axis=0)
