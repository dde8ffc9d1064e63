"""Padding, resampling and rearranging: ``pad``, ``interpolate`` (and PyTorch's deprecated
``upsample*`` aliases), ``pixel_shuffle``/``pixel_unshuffle``, ``channel_shuffle``,
``affine_grid`` and ``grid_sample``.

Most are compositions of differentiable interop ops. Two are autograd Functions, because
the composite's gradient would scatter-add (slow on NumPy, and a full-size gradient per
slice) where a read of the gradient does the same job:

* ``pad`` with reflect / replicate / circular: forward is one ``concat`` of slices per
  padded dim (reversed slices for reflect, expanded edges for replicate); backward folds
  the gradient back with slices (``_EdgePad``).
* ``interpolate``: separable, one gather (``take``) of all the taps per resized dim, then
  their weighted sum; backward is the same kind of gather with the transposed taps (for
  each input sample, the outputs that read it), so NaN and inf stay where they belong
  (``_Resample``). The indices and weights follow PyTorch's CPU kernels arithmetic for
  arithmetic (float32 index math for the nearest modes, the input's precision for the
  others): values match to rounding and nearest-neighbour picks match exactly. They are
  computed once per size and cached.

Both backwards are written with interop ops, so gradients of gradients work too.
"""

import functools
import math
import numbers
import struct
import warnings

import interop as it

__all__ = ["pad", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
           "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle",
           "affine_grid", "grid_sample"]


def _check_tensor(x, op, name="input"):
    if not isinstance(x, it.Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")


def _int_list(seq, op, name):
    """``seq`` (a sequence of Python ints, as PyTorch's ``int[]`` arguments) as a tuple."""
    if isinstance(seq, it.Tensor) or not isinstance(seq, (tuple, list)):
        raise TypeError(f"{op}: {name} must be a tuple of ints, got {type(seq).__name__}")
    out = []
    for i, v in enumerate(seq):
        if isinstance(v, bool) or not hasattr(v, "__index__"):
            raise TypeError(f"{op}: {name} must be a tuple of ints, but found element of type "
                            f"{type(v).__name__} at pos {i}")
        out.append(v.__index__())
    return tuple(out)


def _along(axis, sl):
    """An indexing key that applies ``sl`` to dim ``axis`` only."""
    return (slice(None),) * axis + (sl,)


def _f32(v):
    """The float32 nearest to Python float ``v`` (as C's ``static_cast<float>``)."""
    return struct.unpack("f", struct.pack("f", v))[0]


# ----------------------------------------------------------------------------------- pad

_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input, pad, mode="constant", value=None):
    """Pad (or, with negative amounts, crop) the last ``len(pad) // 2`` dims of ``input``.

    ``pad`` lists (before, after) pairs starting from the last dim, as PyTorch's
    ``(left, right, top, bottom, front, back)``. ``mode``: ``'constant'`` (fill with
    ``value``, default 0; any number of dims), ``'reflect'`` (mirror without repeating the
    edge), ``'replicate'`` (repeat the edge) or ``'circular'`` (wrap around); the last
    three pad the last 1, 2 or 3 dims of an input with one or two more dims than that.
    """
    _check_tensor(input, "pad")
    pads = _int_list(pad, "pad", "pad")
    if len(pads) % 2:
        raise it.ArgumentError(f"pad: padding length must be divisible by 2, got {len(pads)} "
                               f"entries {pads}")
    nd = input.ndim
    if len(pads) // 2 > nd:
        raise it.ArgumentError(f"pad: padding length should be at most two times the input "
                               f"dimension, but got padding length {len(pads)} and input of "
                               f"dimension {nd}")
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"pad: unrecognised padding mode {mode!r}; expected one of "
                                  f"{', '.join(map(repr, _PAD_MODES))}")
    # dims and their (before, after) amounts, last dim first as the pad list names them
    dims = [(nd - 1 - i, pads[2 * i], pads[2 * i + 1]) for i in range(len(pads) // 2)]
    if mode == "constant":
        return _pad_constant(input, dims, 0 if value is None else value)
    if value is not None:
        raise it.ArgumentError(f"pad: padding mode {mode!r} doesn't take a value argument "
                               f"(got value={value!r})")
    k = len(dims)
    if k not in (1, 2, 3) or nd not in (k + 1, k + 2):
        raise NotImplementedError(
            f"pad: padding size {len(pads)} is not supported for {nd}-D input in mode {mode!r}; "
            f"non-constant padding takes 2 entries for a 2-D or 3-D input (pads the last dim), "
            f"4 for a 3-D or 4-D input (last 2 dims), 6 for a 4-D or 5-D input (last 3 dims)")
    shape = tuple(input.shape)
    batched = nd == k + 2
    if any(n == 0 for n in shape[1 if batched else 0:]):
        raise it.ShapeError(f"pad: mode {mode!r} expects a {k + 1}-D or {k + 2}-D (batched) input "
                            f"with non-zero dimensions (the batch may be 0), got shape {shape}")
    plan = tuple((ax, _edge_runs(shape[ax], lo, hi, mode, ax, shape)) for ax, lo, hi in dims)
    return _EdgePad.apply(input, plan)


def _pad_constant(x, dims, value):
    """Constant padding: the kept part of ``x`` written into a tensor filled with ``value``."""
    shape = list(x.shape)
    src = [slice(None)] * x.ndim
    dst = [slice(None)] * x.ndim
    for ax, lo, hi in dims:
        n = shape[ax]
        start, stop = max(0, -lo), n - max(0, -hi)
        if stop < start:
            raise it.ShapeError(f"pad: the padding ({lo}, {hi}) of dim {ax} crops more than its "
                                f"{n} elements (input shape {tuple(x.shape)})")
        shape[ax] = n + lo + hi
        src[ax] = slice(start, stop)
        dst[ax] = slice(max(0, lo), max(0, lo) + stop - start)
    out = it.full(tuple(shape), value, dtype=x.dtype, device=x.backend)
    out[tuple(dst)] = x[tuple(src)]
    return out


def _edge_runs(n, lo, hi, mode, ax, shape):
    """The padded dim (size ``n``, padding ``lo``/``hi``) as runs of the input:
    ``(start, stop, how)`` with ``how`` 'mid' (the input's own run, at most one), 'keep',
    'flip' (reversed) or ('repeat', count)."""
    if mode == "circular":
        a, b = max(0, -lo), n - max(0, -hi)       # crop first, then wrap what is left
        m = b - a
        if m < 0 or lo > m or hi > m or (m == 0 and max(lo, 0) + max(hi, 0)):
            raise it.ShapeError(f"pad: circular padding ({lo}, {hi}) of dim {ax} wraps around "
                                f"more than once (the dim has {max(m, 0)} elements after "
                                f"cropping; input shape {shape})")
        lo, hi = max(lo, 0), max(hi, 0)
        return [r for r in ((b - lo, b, "keep"), (a, b, "mid"), (a, a + hi, "keep"))
                if r[1] > r[0]] or [(a, b, "keep")]
    if mode == "reflect" and (lo >= n or hi >= n):
        raise it.ShapeError(f"pad: reflect padding ({lo}, {hi}) of dim {ax} must be less than the "
                            f"size of that dim, {n} (input shape {shape})")
    a, b = -lo, n + hi            # the output is positions [a, b) of the endlessly padded dim
    if b < a:
        raise it.ShapeError(f"pad: the padding ({lo}, {hi}) of dim {ax} (size {n}) gives a "
                            f"negative size {b - a} (input shape {shape})")
    if b == a:
        return [(0, 0, "keep")]
    runs = []
    if a < 0:                     # before the start
        e = min(b, 0)
        runs.append((1 - e, 1 - a, "flip") if mode == "reflect" else (0, 1, ("repeat", e - a)))
    if max(a, 0) < min(b, n):
        runs.append((max(a, 0), min(b, n), "mid"))
    if b > n:                     # past the end
        s = max(a, n)
        runs.append((2 * n - 1 - b, 2 * n - 1 - s, "flip") if mode == "reflect"
                    else (n - 1, n, ("repeat", b - s)))
    return runs


# From this many input elements on, padding writes the output once (fewer copies) rather
# than concatenating per dim (fewer ops: cheaper for small tensors).
_FILL_MIN = 1 << 15


class _EdgePad(it.autograd.Function):
    """Reflect / replicate / circular padding as one node. Forward writes the kept input
    into the output and copies the edges from it (or, for small tensors, concatenates
    runs of the input one dim at a time); backward folds the gradient back dim by dim:
    the part over the kept input is copied once and the padded parts are added onto the
    input positions they came from (flipped or summed). Composed of slices, the padding
    would send a full-size gradient back per slice, several times the work."""

    @staticmethod
    def forward(ctx, x, plan):
        ctx.plan = plan
        ctx.sizes = tuple(x.shape[ax] for ax, _ in plan)
        if x.numel() >= _FILL_MIN and all(_edges_read_mid(runs) for _, runs in plan):
            return _fill_edges(x, plan)
        out = x
        for ax, runs in plan:
            out = _assemble(out, ax, runs)
        if all(len(runs) == 1 and runs[0][2] != "flip" for _, runs in plan):
            out = it.clone(out)         # crops alone: a new tensor, not a view of x
        return out

    @staticmethod
    def backward(ctx, g):
        for (ax, runs), n in zip(reversed(ctx.plan), reversed(ctx.sizes)):
            g = _fold(g, ax, runs, n)
        return g, None


def _edges_read_mid(runs):
    """Whether every padded run of a dim reads inside its 'mid' run (true unless negative
    padding crops what the other side mirrors or repeats)."""
    mid = [(s, e) for s, e, how in runs if how == "mid"]
    return bool(mid) and all(mid[0][0] <= s and e <= mid[0][1] for s, e, _ in runs)


def _fill_edges(x, plan):
    """The padded tensor in one allocation: the kept input is written once, then each
    dim's edges are copied from what is already in place (so corners come out right)."""
    shape = list(x.shape)
    dst, src, mids = [slice(None)] * x.ndim, [slice(None)] * x.ndim, {}
    for ax, runs in plan:
        off = 0
        for start, stop, how in runs:
            m = how[1] if how.__class__ is tuple else stop - start
            if how == "mid":
                mids[ax] = off - start          # output position of input position 0
                dst[ax], src[ax] = slice(off, off + m), slice(start, stop)
            off += m
        shape[ax] = off
    out = it.empty(tuple(shape), dtype=x.dtype, device=x.backend)
    out[tuple(dst)] = x[tuple(src)]
    for ax, runs in plan:
        at = mids[ax]
        off = 0
        for start, stop, how in runs:
            m = how[1] if how.__class__ is tuple else stop - start
            if how != "mid":
                if how == "flip":
                    sl = slice(at + stop - 1, at + start - 1 if at + start else None, -1)
                else:
                    sl = slice(at + start, at + stop)
                dst[ax] = sl
                part = out[tuple(dst)]
                if how.__class__ is tuple:
                    part = it.broadcast_to(part, tuple(m if d == ax else n
                                                       for d, n in enumerate(part.shape)))
                dst[ax] = slice(off, off + m)
                out[tuple(dst)] = part
            off += m
        dst[ax] = slice(None)
    return out


def _fold(g, ax, runs, n):
    """The adjoint of :func:`_assemble`: ``g`` (the gradient of the assembled dim) summed
    back onto the ``n`` input positions of dim ``ax``."""
    parts, off = [], 0
    for start, stop, how in runs:
        m = how[1] if how.__class__ is tuple else stop - start
        parts.append(g[_along(ax, slice(off, off + m))])
        off += m
    full = next((i for i, (start, stop, how) in enumerate(runs)
                 if how == "mid" and start == 0 and stop == n), None)
    if full is not None:
        out = it.clone(parts[full])
    else:
        shape = list(g.shape)
        shape[ax] = n
        out = it.zeros(tuple(shape), dtype=g.dtype, device=g.backend)
    for i, ((start, stop, how), p) in enumerate(zip(runs, parts)):
        if i == full or stop == start:
            continue
        if how == "flip":
            p = it.flip(p, (ax,))
        elif how.__class__ is tuple:
            p = it.sum(p, axis=ax, keepdims=True)
        key = _along(ax, slice(start, stop))
        if out.backend.mutable:
            view = out[key]
            view += p
        else:       # (immutable arrays (JAX): a view cannot be written through)
            out = it.concat([out[_along(ax, slice(0, start))], out[key] + p,
                             out[_along(ax, slice(stop, n))]], axis=ax)
    return out


def _assemble(x, ax, runs):
    """``x`` along dim ``ax`` replaced by the concatenation of ``runs`` of it."""
    parts = []
    for start, stop, how in runs:
        if how == "flip":           # a negative-step slice: one view, no copy before concat
            p = x[_along(ax, slice(stop - 1, start - 1 if start else None, -1))]
        else:
            p = x[_along(ax, slice(start, stop))]
        if how.__class__ is tuple:
            shape = list(p.shape)
            shape[ax] = how[1]
            p = it.broadcast_to(p, tuple(shape))
        parts.append(p)
    return parts[0] if len(parts) == 1 else it.concat(parts, axis=ax)


# --------------------------------------------------------------------------- interpolate

_INTERP_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_INTERP_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of an ``(N, C, d1[, d2[, d3]])`` input to ``size`` or by
    ``scale_factor``, as ``torch.nn.functional.interpolate``.

    ``mode``: 'nearest' (PyTorch's legacy pick, ``floor(i * in / out)``), 'nearest-exact'
    (the pixel-centre pick), 'linear' (3-D input), 'bilinear' / 'bicubic' (4-D),
    'trilinear' (5-D) or 'area' (adaptive average). ``align_corners`` (interpolating
    modes) maps the corner pixels' centres onto each other. A ``scale_factor`` is used for
    the coordinate mapping unless ``recompute_scale_factor=True`` (then only the output
    size it gives is kept). ``antialias=True`` is not supported.
    """
    _check_tensor(input, "interpolate")
    if mode not in _INTERP_MODES:
        if mode == "lanczos":
            raise NotImplementedError("interpolate: mode 'lanczos' (which needs antialias=True) "
                                      "is not supported")
        raise NotImplementedError(f"interpolate: unknown mode {mode!r}; expected one of "
                                  f"{', '.join(map(repr, _INTERP_MODES))}")
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError("interpolate: align_corners option can only be set with the "
                             "interpolating modes: linear | bilinear | bicubic | trilinear "
                             f"(got mode={mode!r}, align_corners={align_corners!r})")
    elif align_corners is None:
        align_corners = False
    nd = input.ndim
    dim = nd - 2
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor is not meaningful with an "
                             "explicit size.")
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(f"interpolate: input and output must have the same number of "
                                 f"spatial dimensions, but got input with spatial dimensions of "
                                 f"{spatial} and output size of {size}. Please provide input "
                                 f"tensor in (N, C, d1, d2, ...,dK) format and output size in "
                                 f"(o1, o2, ...,oK) format.")
            sizes = _int_list(size, "interpolate", "size")
        else:
            sizes = _int_list((size,), "interpolate", "size") * dim
        scales = (None,) * dim
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(f"interpolate: input and scale_factor must have the same number "
                                 f"of spatial dimensions, but got input with spatial dimensions "
                                 f"of {spatial} and scale_factor of shape {scale_factor}. Please "
                                 f"provide input tensor in (N, C, d1, d2, ...,dK) format and "
                                 f"scale_factor in (s1, s2, ...,sK) format.")
            scales = tuple(scale_factor)
        else:
            scales = (scale_factor,) * dim
        for s in scales:
            if isinstance(s, bool) or not isinstance(s, numbers.Real):
                raise TypeError(f"interpolate: scale_factor must be a float or a tuple of floats, "
                                f"got {type(s).__name__} {s!r}")
            if not math.isfinite(s):
                raise ValueError(f"interpolate: scale_factor must be finite, got {s!r}")
        scales = tuple(float(s) for s in scales)
        sizes = tuple(math.floor(n * s) for n, s in zip(spatial, scales))
        if recompute_scale_factor or mode == "area":
            scales = (None,) * dim
    else:
        raise ValueError("interpolate: either size or scale_factor should be defined")
    if antialias:
        if mode not in ("bilinear", "bicubic") or nd != 4:
            raise ValueError("interpolate: anti-alias option is restricted to bilinear, bicubic, "
                             f"and lanczos modes and requires a 4-D tensor as input (got mode "
                             f"{mode!r} and a {nd}-D input)")
        raise NotImplementedError("interpolate: antialias=True is not supported; resize with "
                                  "antialias=False (after a blur, for a strong downscale)")
    need = _INTERP_DIMS.get(mode)
    if nd not in (3, 4, 5) or need is not None and mode != "bicubic" and nd - 2 != need:
        if need is not None and nd in (3, 4, 5):
            raise NotImplementedError(f"interpolate: got {nd}-D input, but {mode} mode needs "
                                      f"{need + 2}-D input")
        raise NotImplementedError(f"interpolate: only 3-D, 4-D and 5-D input tensors (N, C, "
                                  f"spatial...) are supported, got {nd}-D input of shape "
                                  f"{tuple(input.shape)} for mode {mode!r}")
    if mode == "bicubic" and nd != 4:
        raise NotImplementedError(f"interpolate: got {nd}-D input, but bicubic mode needs 4-D "
                                  f"input")
    names = "DHW"[3 - dim:]
    if any(n <= 0 for n in spatial) or any(o <= 0 for o in sizes):
        got_in = ", ".join(f"{c}: {n}" for c, n in zip(names, spatial))
        got_out = ", ".join(f"{c}: {o}" for c, o in zip(names, sizes))
        raise it.ShapeError(f"interpolate: input and output sizes should be greater than 0, but "
                            f"got input ({got_in}) and output ({got_out})")
    if mode not in ("nearest", "nearest-exact") and not input.dtype.is_floating_point:
        raise it.DTypeError(f"interpolate: mode {mode!r} needs a floating-point input, got dtype "
                            f"{input.dtype}")
    return _resize(input, sizes, scales, mode, align_corners)


def _resize(x, sizes, scales, mode, align_corners):
    """Resample each spatial dim of ``x`` in turn (the modes are separable)."""
    be = x.backend
    op = it.float64 if x.dtype == it.float64 else it.float32     # PyTorch's opmath type
    out = x
    changed = False
    for i, (o, s) in enumerate(zip(sizes, scales)):
        ax = 2 + i
        n = x.shape[ax]
        if mode == "area" and n % o == 0 and n // o > 4:
            # long equal windows: a mean over a reshape beats many taps
            shape = tuple(out.shape)
            out = it.mean(out.reshape(shape[:ax] + (o, n // o) + shape[ax + 1:]), axis=ax + 1)
            changed = True
            continue
        if mode == "area" and n == o:
            continue
        plans = _plans(be, mode, n, o, s, align_corners, op, len(sizes) == 2)
        if plans is not None:
            out = _Resample.apply(out, ax, *plans)
            changed = True
    return out if changed else it.clone(x)


class _Resample(it.autograd.Function):
    """One dim resampled by :class:`_Taps`. The gradient is the same kind of gather with
    the transposed taps (for each input sample: the outputs that read it, and their
    weights), so backward reads instead of scatter-adding, costs about what forward does,
    and keeps NaN and inf where they belong; it is differentiable again the same way."""

    @staticmethod
    def forward(ctx, x, ax, plan, transposed):
        ctx.args = (ax, plan, transposed)
        return plan.gather(x, ax)

    @staticmethod
    def backward(ctx, g):
        ax, plan, transposed = ctx.args
        return _Resample.apply(g, ax, transposed, plan), None, None, None


class _Taps:
    """How one resampled dim reads its input: output ``i`` is ``sum_r w[r][i] *
    x[idx[r][i]]`` over the ``k`` taps ``r`` where ``valid[r][i]``.

    ``idx``: the ``k * o`` indices, tap-major (one gather reads every tap); ``w``: ``(k, o)``
    weights, or None for 1; ``valid``: per tap an ``(o,)`` mask, or None where the tap
    always reads (None if all do). The weights and masks shaped to broadcast along a given
    dim are kept, so a training step does not rebuild them."""

    __slots__ = ("idx", "w", "valid", "k", "o", "_shaped")

    def __init__(self, idx, w, valid, k, o):
        self.idx, self.w, self.valid, self.k, self.o = idx, w, valid, k, o
        self._shaped = {}

    def shaped(self, trailing, dtype, be):
        """Per tap (weight or None, mask or None), shaped ``(o, 1, ..., 1)`` with
        ``trailing`` ones, and a zero of ``dtype``."""
        key = (trailing, dtype)
        got = self._shaped.get(key)
        if got is None:
            shape = (self.o,) + (1,) * trailing
            ws = [None] * self.k if self.w is None else \
                [self.w[r].astype(dtype).reshape(shape) for r in range(self.k)]
            ms = self.valid or (None,) * self.k
            got = self._shaped[key] = (
                tuple((w, None if m is None else m.reshape(shape)) for w, m in zip(ws, ms)),
                it.zeros((), dtype=dtype, device=be))
        return got

    def gather(self, x, ax):
        """The resampled ``x`` along dim ``ax``: one gather, then the taps weighted and added
        one by one (slices of the gathered tensor, which NumPy adds several times faster
        than it sums a middle axis)."""
        g = it.array_api.take(x, self.idx, axis=ax)   # (one gather along ax)
        if self.k == 1 and self.w is None and self.valid is None:
            return g
        taps, zero = self.shaped(x.ndim - ax - 1, x.dtype, x.backend)
        o = self.o
        out = None
        for r, (w, m) in enumerate(taps):
            t = g[_along(ax, slice(r * o, (r + 1) * o))] if self.k > 1 else g
            if w is not None:
                t = t * w
            if m is not None:
                t = it.where(m, t, zero)
            if out is None:
                out = t if w is not None or m is not None else it.clone(t)
            else:
                out += t
        return out

    def transpose(self, n, be):
        """The taps of the adjoint: for each of the ``n`` input samples, the outputs (and
        weights) that read it, padded to the largest count with taps that do not read."""
        k, o = self.k, self.o
        src = it.arange(k * o, device=be)
        if self.valid is not None:                  # drop the taps that read nothing
            reads = it.concat([it.ones((o,), dtype=it.bool, device=be) if m is None else m
                               for m in self.valid])
            src = it.nonzero(reads, as_tuple=True)[0]
        target = it.take(self.idx, src)
        order = it.argsort(target, stable=True)
        target = it.take(target, order)
        src = it.take(src, order)
        samples = it.arange(n, device=be)
        first = it.searchsorted(target, samples, side="left")
        count = it.searchsorted(target, samples, side="right") - first
        kt = int(it.max(count))
        r = it.arange(kt, device=be).reshape((kt, 1))
        reads = r < count
        pos = it.where(reads, first + r, it.zeros((), dtype=first.dtype, device=be))
        entry = it.take(src, pos.reshape((-1,)))
        w = None if self.w is None else it.take(self.w.reshape((-1,)), entry).reshape((kt, n))
        return _Taps(entry % o, w, _tap_masks(list(reads)), kt, n)


@functools.lru_cache(maxsize=512)
def _plans(be, mode, n, o, s, align_corners, op, two_d):
    """The :class:`_Taps` resampling one dim from ``n`` to ``o`` samples and their
    transpose, or None where PyTorch copies the dim."""
    if mode in ("nearest", "nearest-exact"):
        idx = _nearest_index(be, n, o, s, mode == "nearest-exact", two_d)
        if idx is None:
            return None
        plan = _Taps(idx, None, None, 1, o)
    elif mode == "area":
        plan = _area_taps(be, n, o, op)
    elif mode == "bicubic":
        plan = _cubic_taps(be, n, o, s, align_corners, op)
    else:
        if n == o:            # PyTorch copies a dim that keeps its size, whatever the scale
            return None
        plan = _linear_taps(be, n, o, s, align_corners, op)
    return plan, plan.transpose(n, be)


def _nearest_index(be, n, o, s, exact, shortcuts):
    """Indices of the nearest-neighbour picks (None where the dim is copied), computed in
    float32 as PyTorch does for every dtype. PyTorch's 2-D kernel copies a dim that keeps
    its size and halves indices for a doubled one whatever the scale factor says
    (``shortcuts``); its 1-D and 3-D kernels follow the scale factor."""
    scale = _f32(1.0 / s if s is not None and s > 0 else n / o)
    if exact:
        src = ((it.arange(o, dtype=it.float64, device=be) + 0.5) * scale).astype(it.float32)
    elif shortcuts and o == n:
        return None
    elif shortcuts and o == 2 * n:
        return it.arange(o, device=be) // 2
    else:
        src = it.arange(o, dtype=it.float32, device=be) * scale
    return it.minimum(it.floor(src).astype(src.backend.default_int), n - 1)


def _source_coords(be, n, o, s, align_corners, op, cubic):
    """Fractional source positions of the ``o`` output samples, in PyTorch's arithmetic
    (``area_pixel_compute_scale`` and ``area_pixel_compute_source_index``)."""
    i = it.arange(o, dtype=op, device=be)
    if align_corners:
        return i * ((n - 1) / (o - 1) if o > 1 else 0.0)
    src = (i + 0.5) * (1.0 / s if s is not None and s > 0 else n / o) - 0.5
    return src if cubic else it.clamp(src, min=0.0)


def _floor_and_frac(src, n):
    """The integer part (at most ``n - 1``) and the fraction in [0, 1] of ``src``."""
    i0 = it.minimum(it.floor(src).astype(src.backend.default_int), n - 1)
    return i0, it.clamp(src - i0.astype(src.dtype), min=0.0, max=1.0)


def _linear_taps(be, n, o, s, align_corners, op):
    """The taps of linear interpolation from ``n`` to ``o`` samples: 2 taps, the left and
    the right neighbour."""
    i0, lam = _floor_and_frac(_source_coords(be, n, o, s, align_corners, op, False), n)
    i1 = i0 + (i0 < n - 1).astype(i0.dtype)
    return _Taps(it.concat([i0, i1]), it.stack([1.0 - lam, lam]), None, 2, o)


def _cubic_taps(be, n, o, s, align_corners, op):
    """The taps of cubic convolution (A = -0.75, PyTorch's and OpenCV's) from ``n`` to
    ``o`` samples: 4 taps, those outside the input repeating the edge."""
    i0, t = _floor_and_frac(_source_coords(be, n, o, s, align_corners, op, True), n)
    a = -0.75

    def near(x):          # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):           # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    w = it.stack([far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)])
    idx = it.concat([it.clamp(i0 + (j - 1), min=0, max=n - 1) for j in range(4)])
    return _Taps(idx, w, None, 4, o)


def _area_taps(be, n, o, op):
    """The taps of adaptive averaging from ``n`` to ``o`` samples: output ``i`` averages
    inputs ``[floor(i n / o), ceil((i + 1) n / o))``; ``k`` taps, the longest window."""
    i = it.arange(o, device=be)
    start = (i * n) // o
    stop = ((i + 1) * n + o - 1) // o
    k = int(it.max(stop - start))
    taps = [start + j for j in range(k)]
    w = it.broadcast_to(1.0 / (stop - start).astype(op), (k, o))
    idx = it.concat([it.minimum(t, n - 1) for t in taps])
    return _Taps(idx, w, _tap_masks([t < stop for t in taps]), k, o)


def _tap_masks(masks):
    """Per-tap masks with None for the taps that always read (None if all do)."""
    masks = tuple(None if bool(it.all(m)) else m for m in masks)
    return None if all(m is None for m in masks) else masks


def _deprecated(name):
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` "
                  f"instead.", stacklevel=3)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate` (PyTorch's ``F.upsample``)."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: :func:`interpolate` with ``mode='nearest'``."""
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: :func:`interpolate` with ``mode='bilinear', align_corners=True``."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ------------------------------------------------------------------------ rearrangements

def _positive_factor(v, op, name):
    if isinstance(v, bool) or not hasattr(v, "__index__"):
        raise TypeError(f"{op}: {name} must be an int, got {type(v).__name__} {v!r}")
    v = v.__index__()
    if v <= 0:
        raise it.ArgumentError(f"{op}: expects a positive {name}, but got {v}")
    return v


def pixel_shuffle(input, upscale_factor):
    """``(*, C r^2, H, W)`` -> ``(*, C, H r, W r)``: each group of ``r^2`` channels becomes
    an ``r x r`` block of pixels (sub-pixel convolution's upscale)."""
    _check_tensor(input, "pixel_shuffle")
    r = _positive_factor(upscale_factor, "pixel_shuffle", "upscale_factor")
    if input.ndim < 3:
        raise it.ShapeError(f"pixel_shuffle: expects input to have at least 3 dimensions, but "
                            f"got input with {input.ndim} dimension(s) (shape "
                            f"{tuple(input.shape)})")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise it.ShapeError(f"pixel_shuffle: expects its input's 'channel' dimension to be "
                            f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                            f"is not divisible by {r * r}")
    nl = len(lead)
    x = input.reshape((*lead, c // (r * r), r, r, h, w))
    x = x.permute(*range(nl), nl, nl + 3, nl + 1, nl + 4, nl + 2)
    return x.reshape((*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """``(*, C, H r, W r)`` -> ``(*, C r^2, H, W)``: the inverse of :func:`pixel_shuffle`."""
    _check_tensor(input, "pixel_unshuffle")
    r = _positive_factor(downscale_factor, "pixel_unshuffle", "downscale_factor")
    if input.ndim < 3:
        raise it.ShapeError(f"pixel_unshuffle: expects input to have at least 3 dimensions, but "
                            f"got input with {input.ndim} dimension(s) (shape "
                            f"{tuple(input.shape)})")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise it.ShapeError(f"pixel_unshuffle: expects height and width of input to be divisible "
                            f"by downscale_factor, but input.size(-2)={h} and input.size(-1)={w} "
                            f"are not both divisible by {r}")
    nl = len(lead)
    x = input.reshape((*lead, c, h // r, r, w // r, r))
    x = x.permute(*range(nl), nl, nl + 2, nl + 4, nl + 1, nl + 3)
    return x.reshape((*lead, c * r * r, h // r, w // r))


def channel_shuffle(input, groups):
    """``(N, C, *)``: interleave the channels of ``groups`` groups (ShuffleNet): channel
    ``g * (C / groups) + k`` moves to ``k * groups + g``."""
    _check_tensor(input, "channel_shuffle")
    g = _positive_factor(groups, "channel_shuffle", "groups")
    if input.ndim < 3:
        raise it.ShapeError(f"channel_shuffle: expects input to have at least 3 dimensions, but "
                            f"got input with {input.ndim} dimension(s) (shape "
                            f"{tuple(input.shape)})")
    n, c, *rest = input.shape
    if c % g:
        raise it.ShapeError(f"channel_shuffle: number of channels must be divisible by groups. "
                            f"Got {c} channels and {g} groups.")
    x = input.reshape((n, g, c // g, *rest)).transpose(1, 2)
    return x.reshape((n, c, *rest))


native_channel_shuffle = channel_shuffle


# ------------------------------------------------------------------ sampling grids

def affine_grid(theta, size, align_corners=None):
    """The sampling grid of a batch of affine maps ``theta`` (``(N, 2, 3)`` for a 2-D
    ``size`` ``(N, C, H, W)``, ``(N, 3, 4)`` for 3-D ``(N, C, D, H, W)``): output
    ``(N, H, W, 2)`` / ``(N, D, H, W, 3)`` of normalized (x, y[, z]) source coordinates
    in [-1, 1], for :func:`grid_sample`."""
    _check_tensor(theta, "affine_grid", "theta")
    size = _int_list(size, "affine_grid", "size")
    if align_corners is None:
        align_corners = False
    if not theta.dtype.is_floating_point:
        raise it.DTypeError(f"affine_grid: expected theta to have floating point type, but got "
                            f"{theta.dtype}")
    if len(size) == 4:
        k = 2
    elif len(size) == 5:
        k = 3
    else:
        raise NotImplementedError(f"affine_grid: only supports 4-D and 5-D sizes, for 2-D and 3-D "
                                  f"affine transforms, respectively. Got size {size}.")
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (k, k + 1) or theta.shape[0] != size[0]:
        raise it.ShapeError(f"affine_grid: expected a batch of {k}-D affine matrices of shape "
                            f"(N, {k}, {k + 1}) with N = size[0] = {size[0]} for size {size}, got "
                            f"theta of shape {tuple(theta.shape)}")
    if min(size) <= 0:
        raise it.ShapeError(f"affine_grid: expected non-zero, positive output size, got size "
                            f"{size}")
    spatial = size[2:]
    # homogeneous base coordinates (x, y[, z], 1), x varying fastest along the last dim
    axes = [_grid_line(n, align_corners, theta) for n in reversed(spatial)]
    grids = it.meshgrid(*reversed(axes), indexing="ij")        # D/H/W order
    ones = it.ones(tuple(spatial), dtype=theta.dtype, device=theta.backend)
    base = it.stack([*reversed(grids), ones], axis=-1).reshape((-1, k + 1))
    out = it.matmul(base, theta.transpose(1, 2))               # (N, prod(spatial), k)
    return out.reshape((size[0], *spatial, k))


def _grid_line(n, align_corners, like):
    """``n`` evenly spaced normalized coordinates in [-1, 1] (pixel centres unless
    ``align_corners``)."""
    line = it.linspace(-1.0, 1.0, n, dtype=like.dtype, device=like.backend)
    if not align_corners and n > 1:
        line = line * ((n - 1) / n)
    return line if n > 1 else it.zeros((1,), dtype=like.dtype, device=like.backend)


_GRID_MODES = ("bilinear", "nearest", "bicubic")
_GRID_PADDING = ("zeros", "border", "reflection")


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` ``(N, C, H, W)`` at the normalized (x, y) positions of ``grid``
    ``(N, H_out, W_out, 2)`` (``(N, C, D, H, W)`` at ``(N, D_o, H_o, W_o, 3)`` for 3-D);
    -1 and 1 are the edges (``align_corners=False``) or the corner pixels' centres.
    ``mode``: 'bilinear' (trilinear for 3-D) or 'nearest'; ``padding_mode``: 'zeros',
    'border' or 'reflection' for positions outside. Differentiable in ``input`` and in
    ``grid``."""
    _check_tensor(input, "grid_sample")
    _check_tensor(grid, "grid_sample", "grid")
    if mode not in _GRID_MODES:
        raise ValueError(f"grid_sample: nn.functional.grid_sample(): expected mode to be "
                         f"'bilinear', 'nearest' or 'bicubic', but got: {mode!r}")
    if mode == "bicubic":
        raise NotImplementedError("grid_sample: mode 'bicubic' is not supported; use 'bilinear' "
                                  "or 'nearest'")
    if padding_mode not in _GRID_PADDING:
        raise ValueError(f"grid_sample: expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: {padding_mode!r}")
    if align_corners is None:
        align_corners = False
    nd = input.ndim
    if nd not in (4, 5):
        raise it.ShapeError(f"grid_sample: expected 4-D or 5-D input, got {nd}-D input of shape "
                            f"{tuple(input.shape)}")
    k = nd - 2
    if grid.ndim != nd or grid.shape[-1] != k or grid.shape[0] != input.shape[0]:
        raise it.ShapeError(f"grid_sample: expected grid of shape (N, {'D_out, ' * (k == 3)}"
                            f"H_out, W_out, {k}) with N = {input.shape[0]} for input of shape "
                            f"{tuple(input.shape)}, got grid of shape {tuple(grid.shape)}")
    if not input.dtype.is_floating_point or grid.dtype != input.dtype:
        raise it.DTypeError(f"grid_sample: expected input and grid to have the same floating "
                            f"dtype, got input {input.dtype} and grid {grid.dtype}")
    if any(n == 0 for n in input.shape[2:]):
        raise it.ShapeError(f"grid_sample: expected input to have non-empty spatial dimensions, "
                            f"got shape {tuple(input.shape)}")
    n, c = input.shape[:2]
    spatial = tuple(input.shape[2:])             # (D,) H, W
    out_spatial = tuple(grid.shape[1:-1])
    m = math.prod(out_spatial)
    flat = input.reshape((n, c, math.prod(spatial)))
    g = grid.reshape((n, m, k))
    # pixel coordinates per axis: x (W) is grid[..., 0], so spatial axis j uses k - 1 - j
    coords = [_unnormalize(g[..., k - 1 - j], spatial[j], align_corners, padding_mode)
              for j in range(k)]
    if mode == "nearest":
        picks = [it.round(p) for p in coords]
        corners = [(picks, None)]
    else:
        lows = [it.floor(p) for p in coords]
        fracs = [p - lo for p, lo in zip(coords, lows)]
        corners = []
        for bits in range(2 ** k):
            pos, w = [], None
            for j in range(k):
                hi = (bits >> (k - 1 - j)) & 1
                pos.append(lows[j] + hi)
                wj = fracs[j] if hi else 1.0 - fracs[j]
                w = wj if w is None else w * wj
            corners.append((pos, w))
    out = None
    for pos, w in corners:
        val = _gather_points(flat, pos, spatial, c)
        if w is not None:
            val = val * w.reshape((n, 1, m))
        out = val if out is None else out + val
    if mode == "nearest" and grid.requires_grad and it.is_grad_enabled():
        # the picks do not move with the grid: its gradient is zero (PyTorch's), not missing
        out = it.where(it.ones((), dtype=it.bool, device=grid.backend), out,
                       g[..., 0].reshape((n, 1, m)))
    return out.reshape((n, c, *out_spatial))


def _unnormalize(v, size, align_corners, padding_mode):
    """Normalized coordinates -> pixel coordinates along an axis of ``size`` pixels, with
    'border' and 'reflection' applied (PyTorch's ``grid_sampler_compute_source_index``)."""
    if align_corners:
        p = (v + 1) * ((size - 1) / 2)
    else:
        p = ((v + 1) * size - 1) / 2
    if padding_mode == "border":
        p = _clip(p, size)
    elif padding_mode == "reflection":
        if align_corners:
            p = _reflect(p, 0.0, 2.0 * (size - 1))
        else:
            p = _reflect(p, -1.0, 2.0 * size - 1)
        p = _clip(p, size)
    return p


def _clip(p, size):
    """``p`` clamped to [0, size - 1], NaN to 0 (as PyTorch's CPU kernel); the edges count
    as outside, so the gradient is 0 there (PyTorch's rule for the grid's gradient)."""
    top = float(size - 1)
    return it.where((p > 0) & (p < top), p, it.where(p >= top, top, 0.0))


def _reflect(p, twice_low, twice_high):
    """``p`` reflected about the bounds ``twice_low / 2`` and ``twice_high / 2`` until it
    lies between them (the gradient flips sign in the mirrored stretches)."""
    if twice_low == twice_high:
        return it.zeros_like(p)
    lo = twice_low / 2
    span = (twice_high - twice_low) / 2
    d = it.abs(p - lo)
    flips = it.floor(d / span)
    extra = it.remainder(d, span)
    odd = it.remainder(flips, 2) != 0
    return it.where(odd, (span + lo) - extra, extra + lo)


def _gather_points(flat, pos, spatial, c):
    """``flat`` (N, C, prod(spatial)) read at integer-valued float positions ``pos`` (one
    (N, M) tensor per spatial axis); positions outside read 0."""
    n, m = pos[0].shape
    inside = None
    lin = None
    for p, size in zip(pos, spatial):
        ok = (p >= 0) & (p <= size - 1)          # (False for NaN)
        inside = ok if inside is None else inside & ok
    for p, size in zip(pos, spatial):
        q = it.where(inside, p, it.zeros((), dtype=p.dtype, device=p.backend)).astype(
            p.backend.default_int)
        lin = q if lin is None else lin * size + q
    idx = it.broadcast_to(lin.reshape((n, 1, m)), (n, c, m))
    val = it.gather(flat, 2, idx)
    return it.where(inside.reshape((n, 1, m)), val, it.zeros((), dtype=flat.dtype,
                                                              device=flat.backend))
