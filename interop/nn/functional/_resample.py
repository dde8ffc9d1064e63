"""Resampling: ``interpolate`` (and PyTorch's deprecated ``upsample*`` aliases), and
sampling at grid positions: ``affine_grid`` and ``grid_sample``.

``interpolate`` is separable: per resized dim, one gather (``take``) of all the taps, then
their weighted sum, in one primitive (``_resample``). Its backward is the same kind of
gather with the transposed taps (for each input sample, the outputs that read it), on the
backend's raw arrays, so it reads instead of scatter-adding (the composite's gradient would
scatter-add: slow on NumPy) and NaN and inf stay where they belong; under create_graph it
is the primitive again with the taps swapped, so gradients of gradients work too. The
indices and weights follow PyTorch's CPU kernels arithmetic for arithmetic (float32 index math for the nearest modes, the input's precision
for the others): values match to rounding and nearest-neighbour picks match exactly. They
are computed once per size and cached.

``affine_grid`` and ``grid_sample`` are compositions of differentiable interop ops (a
matmul; gathers at the corners, weighted), differentiable in the input and in the grid.
"""

import functools
import math
import numbers
import struct
import warnings

import interop as it
from . import _checks as check

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "affine_grid",
           "grid_sample"]


# ---------------------------------------------------------------------------- interpolate

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
    check.tensor("interpolate", "input", input)
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
            sizes = check.int_list("interpolate", "size", size)
        else:
            sizes = check.int_list("interpolate", "size", (size,)) * dim
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
            out = _resample(out, ax, *plans)
            changed = True
    return out if changed else it.clone(x)


class _ResampleBackward(it.autograd.Node):
    """The gradient of one dim resampled by :class:`_Taps` (:func:`_resample`): the same kind
    of gather with the transposed taps (for each input sample: the outputs that read it, and
    their weights), so backward reads instead of scatter-adding, costs about what forward
    does, and keeps NaN and inf where they belong. On raw arrays it reads the transposed taps'
    arrays from its saved slots (``_Taps.slots``: the index, then per tap its weight and its
    mask, or None, then a zero); under ``create_graph`` it is :func:`_resample` with the two
    plans swapped, so it is differentiable again the same way."""
    saves = None            # (the transposed taps' arrays, by position)

    def backward(self, xp, g, s):
        if xp is not self.be.ns:
            return _resample(g, self.ax, self.transposed, self.plan),
        return self.transposed.gather(g, self.ax, xp, s),


def _resample(x, ax, plan, transposed):
    """``x`` resampled along dim ``ax`` by ``plan``, recorded as one primitive."""
    with it.no_grad():
        out = plan.gather(x, ax)
    saved = transposed.slots(x.ndim - ax - 1, x.dtype, x.backend)
    return it.autograd.primitive(_ResampleBackward, (x,), out, saved=saved, ax=ax, plan=plan,
                                 transposed=transposed)


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

    def slots(self, trailing, dtype, be):
        """What :meth:`gather` reads, as saved slots: the index, per tap the weight and the
        mask (or None), and the zero."""
        taps, zero = self.shaped(trailing, dtype, be)
        return ((self.idx,) + tuple(w for w, _ in taps) + tuple(m for _, m in taps)
                + (zero,))

    def gather(self, x, ax, xp=it.array_api, arrays=None):
        """The resampled ``x`` along dim ``ax``: one gather, then the taps weighted and added
        one by one (slices of the gathered array, which NumPy adds several times faster
        than it sums a middle axis), in namespace ``xp``: interop's standard one on tensors,
        or, with ``arrays`` (the :meth:`slots` as raw arrays), a backend's in backward."""
        if arrays is None:
            taps, zero = self.shaped(x.ndim - ax - 1, x.dtype, x.backend)
            idx = self.idx
        else:
            k = self.k
            idx, zero = arrays[0], arrays[-1]
            taps = tuple(zip(arrays[1:1 + k], arrays[1 + k:1 + 2 * k]))
        g = xp.take(x, idx, axis=ax)      # (one gather along ax)
        if self.k == 1 and self.w is None and self.valid is None:
            return g
        o = self.o
        out = None
        for r, (w, m) in enumerate(taps):
            t = g[(slice(None),) * ax + (slice(r * o, (r + 1) * o), Ellipsis)] if self.k > 1 else g
            if w is not None:
                t = t * w
            if m is not None:
                t = xp.where(m, t, zero)
            if out is None:
                out = t if w is not None or m is not None else xp.astype(t, t.dtype, copy=True)
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


def _f32(v):
    """The float32 nearest to Python float ``v`` (as C's ``static_cast<float>``)."""
    return struct.unpack("f", struct.pack("f", v))[0]


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


# --------------------------------------------------------------------- deprecated aliases

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


# ------------------------------------------------------------------------- sampling grids

def affine_grid(theta, size, align_corners=None):
    """The sampling grid of a batch of affine maps ``theta`` (``(N, 2, 3)`` for a 2-D
    ``size`` ``(N, C, H, W)``, ``(N, 3, 4)`` for 3-D ``(N, C, D, H, W)``): output
    ``(N, H, W, 2)`` / ``(N, D, H, W, 3)`` of normalized (x, y[, z]) source coordinates
    in [-1, 1], for :func:`grid_sample`."""
    check.tensor("affine_grid", "theta", theta)
    size = check.int_list("affine_grid", "size", size)
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
    check.tensor("grid_sample", "input", input)
    check.tensor("grid_sample", "grid", grid)
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
