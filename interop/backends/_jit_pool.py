"""The cpu backend's compiled max pooling (numba, through :mod:`._jit`; used only where
:func:`._jit.enabled` is true): the kernels ``window_argmax`` and ``window_argmax_add``, one
pass each way, for float32/float64 windows of 1 to 3 dims.

The reference (``_fallbacks.window_argmax``) makes a maximum per kernel offset, then per
offset a comparison and two ands, and a product for the offsets; its backward a mask per
offset and ``windows_add``. Here the forward reads each window once, keeping the running
maximum and its offset (PyTorch's rule: a later element takes over where it is greater or
NaN, so the first maximum wins and, in a window with NaNs, the last NaN), and writes both;
the backward adds each gradient at the element its offset names. Every window is clipped
to the real input (padding is never read), so no padded copy is made. 1-d and 2-d windows
run as 3-d ones with unit leading dims; the lead dims (batch, channels) are one flat dim
of planes, walked in memory order.

What made it fast (2026-12-07, one thread, forward of max_pool2d 2x2 on (64, 32, 26, 26)):
the kernel offsets' loops of a general window run 1-3 times each, and loops whose counts
are not constants neither unroll nor vectorize across windows, so each window is a serial
chain of compare-and-selects (1.8-2.0 ms; with branches instead of selects 3.4 ms; NumPy's
four maxima, without the offsets, 0.55 ms). The 2x2 windows of stride 2 (LeNet's, most
CNNs') have their own loop with the four comparisons written out, which LLVM vectorizes
across windows (0.30 ms with the offsets); other whole windows run four at a time (four
independent chains: 3x3, stride 2, padding 1 on (32, 64, 56, 56), 30 -> 18 ms), their
elements' steps in the flat plane from a table; windows that reach into the padding loop
over their real offsets. The backward's offsets name their steps through tables too (an
integer division per window cost 2.4 ms against 0.75 ms).

Threads: float32 planes, where there are SPLIT elements or more per thread, are shared by as
many threads as the BLAS pool has (the team of ``_jit_team.py``), in parts of whole planes:
the same bits on any number of threads.
"""

import numpy as np

from . import _jit_team, _threads
from ._jit import jitable, njit

__all__ = ["window_argmax", "window_argmax_add"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_OFFSETS = 1 << 7           # kernels of more offsets run the reference (int8 offsets here)


@jitable
def _spans(n, s, p, d, k, m):
    """Per window ``o < n`` along one dim, the kernel offsets ``[lo[o], hi[o])`` whose
    positions ``o * s - p + t * d`` lie in ``[0, m)`` (inlined; the floor divisions are
    made once per window along the dim, not once per window)."""
    lo = np.empty(n, np.int64)
    hi = np.empty(n, np.int64)
    for o in range(n):
        start = o * s - p
        a = max(0, (d - 1 - start) // d)          # (floor division: ceil(-start / d))
        lo[o] = a
        hi[o] = max(a, min(k, (m - 1 - start) // d + 1))
    return lo, hi


@njit
def _argmax(x, m, idx, kernel, stride, dilation, padding, low):
    """``m[q, a, b, c]``, ``idx[q, a, b, c]``: the maximum of window (a, b, c) of plane
    ``x[q]`` (D, H, W) and its row-major kernel offset (see the module docstring); ``low``
    holds -inf in x's dtype (what a window without real elements gives). A window inside
    the plane reads its elements in one loop over the kernel offsets (their steps in the
    flat plane from a table); one that reaches into the padding loops over the offsets
    whose elements are real."""
    nq, dd_, hh, ww = x.shape
    od, oh, ow = m.shape[1], m.shape[2], m.shape[3]
    kd, kh, kw = kernel
    sd, sh, sw = stride
    ld, lh, lw = dilation
    pd, ph, pw = padding
    u_lo, u_hi = _spans(od, sd, pd, ld, kd, dd_)
    v_lo, v_hi = _spans(oh, sh, ph, lh, kh, hh)
    t_lo, t_hi = _spans(ow, sw, pw, lw, kw, ww)
    count = kd * kh * kw
    steps = np.empty(count, np.int64)
    for u in range(kd):
        for v in range(kh):
            for t in range(kw):
                steps[(u * kh + v) * kw + t] = (u * ld * hh + v * lh) * ww + t * lw
    xf = x.reshape(-1)
    plane_size = dd_ * hh * ww
    for q in range(nq):
        plane = x[q]
        for a in range(od):
            u0, u1 = u_lo[a], u_hi[a]
            for b in range(oh):
                v0, v1 = v_lo[b], v_hi[b]
                whole = u0 == 0 and u1 == kd and v0 == 0 and v1 == kh
                origin = q * plane_size + ((a * sd - pd) * hh + b * sh - ph) * ww - pw
                mrow = m[q, a, b]
                irow = idx[q, a, b]
                c = 0
                while c < ow:
                    # four whole windows at a time: four independent chains
                    if whole and c + 4 <= ow and t_lo[c] == 0 and t_hi[c + 3] == kw:
                        s0 = origin + c * sw
                        s1 = s0 + sw
                        s2 = s1 + sw
                        s3 = s2 + sw
                        b0 = b1 = b2 = b3 = low[0]
                        a0 = a1 = a2 = a3 = 0
                        for i in range(count):
                            e = steps[i]
                            v0_ = xf[s0 + e]
                            v1_ = xf[s1 + e]
                            v2_ = xf[s2 + e]
                            v3_ = xf[s3 + e]
                            k0 = (v0_ > b0) | (v0_ != v0_)
                            k1 = (v1_ > b1) | (v1_ != v1_)
                            k2 = (v2_ > b2) | (v2_ != v2_)
                            k3 = (v3_ > b3) | (v3_ != v3_)
                            b0 = v0_ if k0 else b0
                            b1 = v1_ if k1 else b1
                            b2 = v2_ if k2 else b2
                            b3 = v3_ if k3 else b3
                            a0 = i if k0 else a0
                            a1 = i if k1 else a1
                            a2 = i if k2 else a2
                            a3 = i if k3 else a3
                        mrow[c] = b0
                        mrow[c + 1] = b1
                        mrow[c + 2] = b2
                        mrow[c + 3] = b3
                        irow[c] = a0
                        irow[c + 1] = a1
                        irow[c + 2] = a2
                        irow[c + 3] = a3
                        c += 4
                        continue
                    t0, t1 = t_lo[c], t_hi[c]
                    # from -inf at the first real element's offset, a later element takes
                    # over where it is greater or NaN (selects, not branches: the data
                    # decide them)
                    best = low[0]
                    at = 0
                    if whole and t0 == 0 and t1 == kw:
                        start = origin + c * sw
                        for i in range(count):
                            val = xf[start + steps[i]]
                            take = (val > best) | (val != val)
                            best = val if take else best
                            at = i if take else at
                    elif u0 < u1 and v0 < v1 and t0 < t1:
                        at = (u0 * kh + v0) * kw + t0
                        w0 = c * sw - pw
                        for u in range(u0, u1):
                            z = a * sd - pd + u * ld
                            for v in range(v0, v1):
                                row = plane[z, b * sh - ph + v * lh]
                                base = (u * kh + v) * kw
                                for t in range(t0, t1):
                                    val = row[w0 + t * lw]
                                    take = (val > best) | (val != val)
                                    best = val if take else best
                                    at = base + t if take else at
                    mrow[c] = best
                    irow[c] = at
                    c += 1


@jitable(inline="never")
def _argmax_2x2(x, m, idx):
    """:func:`_argmax` for 2x2 windows of stride 2, no padding or dilation (LeNet's pools):
    the four comparisons written out, a window's two rows read once."""
    nq = x.shape[0]
    oh, ow = m.shape[2], m.shape[3]
    for q in range(nq):
        plane = x[q, 0]
        mo = m[q, 0]
        io = idx[q, 0]
        for b in range(oh):
            r0 = plane[2 * b]
            r1 = plane[2 * b + 1]
            mrow = mo[b]
            irow = io[b]
            for c in range(ow):
                best = r0[2 * c]
                at = 0
                val = r0[2 * c + 1]
                if val > best or val != val:
                    best = val
                    at = 1
                val = r1[2 * c]
                if val > best or val != val:
                    best = val
                    at = 2
                val = r1[2 * c + 1]
                if val > best or val != val:
                    best = val
                    at = 3
                mrow[c] = best
                irow[c] = at


@jitable(inline="never")
def _argmax_add(g, idx, out, kernel, stride, dilation, padding):
    """``out[q, z, y, w] += g[q, a, b, c]`` at the element of window (a, b, c) that
    ``idx[q, a, b, c]`` names, where it lies in the plane (``out`` zeros on entry). Each
    offset's steps along the three dims come from tables (no division per window)."""
    nq, od, oh, ow = g.shape
    dd_, hh, ww = out.shape[1], out.shape[2], out.shape[3]
    kd, kh, kw = kernel
    sd, sh, sw = stride
    ld, lh, lw = dilation
    pd, ph, pw = padding
    count = kd * kh * kw
    step_z = np.empty(count, np.int64)
    step_y = np.empty(count, np.int64)
    step_w = np.empty(count, np.int64)
    for u in range(kd):
        for v in range(kh):
            for t in range(kw):
                i = (u * kh + v) * kw + t
                step_z[i] = u * ld
                step_y[i] = v * lh
                step_w[i] = t * lw
    for q in range(nq):
        plane = out[q]
        for a in range(od):
            z0 = a * sd - pd
            for b in range(oh):
                y0 = b * sh - ph
                grow = g[q, a, b]
                irow = idx[q, a, b]
                for c in range(ow):
                    i = irow[c]
                    if 0 <= i < count:
                        z = z0 + step_z[i]
                        y = y0 + step_y[i]
                        w = c * sw - pw + step_w[i]
                        if 0 <= z < dd_ and 0 <= y < hh and 0 <= w < ww:
                            plane[z, y, w] += grow[c]


# float32 pooling over many planes is shared by threads (the team of _jit_team.py): parts of
# whole planes, each computed as alone (the same bits on any number of threads)
ARGMAX_2X2, ARGMAX_ADD = 1, 2                   # kinds
KIND, STEP, GEOMETRY = 3, 4, 5                  # job slots (0 to 2: _jit_team's; GEOMETRY:
X_AT, M_AT, I_AT = 20, 30, 40                   # kernel, stride, dilation, padding, 12 ints)
SPLIT = 1 << 16                                 # elements per thread where threads share


def _part_of(at, i):
    job = _jit_team.job_at(at)
    step = job[STEP]
    x, m, idx = _jit_team.dense4(job, X_AT), _jit_team.dense4(job, M_AT), \
        _jit_team.dense_bytes4(job, I_AT)
    lo = i * step
    hi = min(lo + step, x.shape[0])
    if job[KIND] == ARGMAX_2X2:
        _argmax_2x2(x[lo:hi], m[lo:hi], idx[lo:hi])
    else:                       # (x: the gradient g; m: out)
        geo = job[GEOMETRY:GEOMETRY + 12]
        _argmax_add(x[lo:hi], idx[lo:hi], m[lo:hi], (geo[0], geo[1], geo[2]),
                    (geo[3], geo[4], geo[5]), (geo[6], geo[7], geo[8]),
                    (geo[9], geo[10], geo[11]))


_part = _jit_team.part(_part_of)


@njit
def _launch(ctrl, job, helpers, fn, kind, x, m, idx, geometry, step, nparts):
    gen = _jit_team.post(ctrl, job)
    job[0], job[1], job[2] = nparts, helpers, fn
    job[KIND], job[STEP] = kind, step
    for j in range(12):
        job[GEOMETRY + j] = geometry[j]
    _jit_team.describe(job, X_AT, x)
    _jit_team.describe(job, M_AT, m)
    _jit_team.describe(job, I_AT, idx)
    _jit_team.open_(ctrl, gen)
    _jit_team.work(ctrl, job)


def _planes(kind, x, m, idx, geometry):
    """``kind`` over the planes of C-contiguous float32 4-d ``x``, ``m`` and int8 ``idx`` (see
    :func:`_part_of`), shared by as many threads as the BLAS pool has where there is work
    for them; one thread otherwise (compiled entry points of their own)."""
    threads = min(_threads.blas_threads(), max(1, x.size // SPLIT), x.shape[0])
    if threads <= 1:
        if kind == ARGMAX_2X2:
            _argmax_2x2_alone(x, m, idx)
        else:
            _argmax_add_alone(x, idx, m, geometry[0:3], geometry[3:6], geometry[6:9],
                              geometry[9:12])
        return
    step = -(-x.shape[0] // (_PARTS * threads))
    _jit_team.share(_launch, threads, _part(), kind, x, m, idx,
                    np.asarray(geometry, np.int64), step, -(-x.shape[0] // step))


_PARTS = 4              # parts per thread


@njit
def _argmax_2x2_alone(x, m, idx):
    _argmax_2x2(x, m, idx)


@njit
def _argmax_add_alone(g, idx, out, kernel, stride, dilation, padding):
    _argmax_add(g, idx, out, kernel, stride, dilation, padding)


def _as3(t, fill):
    """A tuple of 1 to 3 entries as 3, ``fill`` in front."""
    return (fill,) * (3 - len(t)) + tuple(t)


def window_argmax(x, kernel, stride, dilation, padding, out):
    """The ``window_argmax`` kernel compiled, for float32/float64 ``x`` and windows of 1 to
    3 dims of at most 128 offsets; None where it does not apply (the caller runs the
    reference). Arguments as the kernel's (checked by ``Backend.window_argmax``)."""
    n = len(kernel)
    if n > 3 or x.dtype not in _FLOATS or int(np.prod(kernel)) > _OFFSETS:
        return None
    lead = tuple(x.shape[:x.ndim - n])
    shape = lead + tuple(out)
    m = np.empty(shape, x.dtype)
    idx = np.empty(shape, np.int8)
    if m.size == 0:
        return m, idx
    planes = int(np.prod(lead))
    xs = np.ascontiguousarray(x).reshape((planes,) + _as3(x.shape[x.ndim - n:], 1))
    m3 = m.reshape((planes,) + _as3(out, 1))
    i3 = idx.reshape(m3.shape)
    k3, s3, d3, p3 = _as3(kernel, 1), _as3(stride, 1), _as3(dilation, 1), _as3(padding, 0)
    if (k3 == (1, 2, 2) and s3 == (1, 2, 2) and d3 == (1, 1, 1) and p3 == (0, 0, 0)
            and 2 * out[-1] <= xs.shape[3] and 2 * m3.shape[2] <= xs.shape[2]):
        if x.dtype == np.float32:
            _planes(ARGMAX_2X2, xs, m3, i3, (0,) * 12)
        else:
            _argmax_2x2_alone(xs, m3, i3)
    else:
        _argmax(xs, m3, i3, k3, s3, d3, p3, np.full(1, -np.inf, x.dtype))
    return m, idx


def window_argmax_add(shape, g, offsets, kernel, stride, dilation, padding):
    """The ``window_argmax_add`` kernel compiled, for float32/float64 ``g`` and windows of 1
    to 3 dims; None where it does not apply. Arguments as the kernel's (checked)."""
    n = len(kernel)
    if n > 3 or g.dtype not in _FLOATS or offsets.dtype != np.int8:
        return None
    res = np.zeros(shape, g.dtype)
    if res.size == 0 or g.size == 0:
        return res
    lead = tuple(shape[:len(shape) - n])
    planes = int(np.prod(lead))
    g3 = np.ascontiguousarray(g).reshape((planes,) + _as3(g.shape[g.ndim - n:], 1))
    i3 = np.ascontiguousarray(offsets).reshape(g3.shape)
    out3 = res.reshape((planes,) + _as3(shape[len(shape) - n:], 1))
    geometry = (_as3(kernel, 1), _as3(stride, 1), _as3(dilation, 1), _as3(padding, 0))
    if g.dtype == np.float32:
        _planes(ARGMAX_ADD, g3, out3, i3, sum(geometry, ()))
    else:
        _argmax_add_alone(g3, i3, out3, *geometry)
    return res
