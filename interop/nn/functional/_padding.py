"""Padding: ``pad`` (constant, reflect, replicate and circular).

Constant padding writes the kept input into a filled tensor (differentiable as written).
The other modes are one primitive, ``_edge_pad``, because the composite's gradient
would scatter-add (slow on NumPy, and a full-size gradient per slice) where a read of the
gradient does the same job: forward is one ``concat`` of slices per padded dim (reversed
slices for reflect, expanded edges for replicate) or, for large inputs, one write of the
kept input whose edges are then copied from it; backward folds the gradient back with
slices. The backward is written with interop ops, so gradients of gradients work too.
"""

import interop as it
from . import _checks as check

__all__ = ["pad"]


# ------------------------------------------------------------------------------------ pad

_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input, pad, mode="constant", value=None):
    """Pad (or, with negative amounts, crop) the last ``len(pad) // 2`` dims of ``input``.

    ``pad`` lists (before, after) pairs starting from the last dim, as PyTorch's
    ``(left, right, top, bottom, front, back)``. ``mode``: ``'constant'`` (fill with
    ``value``, default 0; any number of dims), ``'reflect'`` (mirror without repeating the
    edge), ``'replicate'`` (repeat the edge) or ``'circular'`` (wrap around); the last
    three pad the last 1, 2 or 3 dims of an input with one or two more dims than that.
    """
    check.tensor("pad", "input", input)
    pads = check.int_list("pad", "pad", pad)
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
    return _edge_pad(input, plan)


def pad_pairs(x, pads, value=0.0):
    """``x`` with ``pads[i] = (before, after)`` added to its last ``len(pads)`` dims (negative:
    cropped); ``x`` itself when there is nothing to do. (The convolutions and poolings pad
    through this.)"""
    if all(lo == 0 and hi == 0 for lo, hi in pads):
        return x
    return pad(x, [v for lo, hi in reversed(pads) for v in (lo, hi)], value=value)


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


# ----------------------------------------------------------- reflect, replicate, circular

# From this many input elements on, padding writes the output once (fewer copies) rather
# than concatenating per dim (fewer ops: cheaper for small tensors).
_FILL_MIN = 1 << 15


class _EdgePadBackward(it.autograd.Node):
    """The gradient of :func:`_edge_pad`, folded back dim by dim (:func:`_fold`): the part
    over the kept input is copied once and the padded parts are added onto the input
    positions they came from (flipped or summed)."""
    saves = ()

    def backward(self, xp, g, s):
        for (ax, runs), n in zip(reversed(self.plan), reversed(self.sizes)):
            g = _fold(xp, g, ax, runs, n, self.be.mutable)
        return g,


def _edge_pad(x, plan):
    """Reflect / replicate / circular padding as one node. Forward writes the kept input
    into the output and copies the edges from it (or, for small tensors, concatenates
    runs of the input one dim at a time). Composed of slices, the padding would send a
    full-size gradient back per slice, several times the work."""
    with it.no_grad():
        if x.numel() >= _FILL_MIN and all(_edges_read_mid(runs) for _, runs in plan):
            out = _fill_edges(x, plan)
        else:
            out = x
            for ax, runs in plan:
                out = _assemble(out, ax, runs)
            if all(len(runs) == 1 and runs[0][2] != "flip" for _, runs in plan):
                out = it.clone(out)         # crops alone: a new tensor, not a view of x
    return it.autograd.primitive(_EdgePadBackward, (x,), out, plan=plan,
                                 sizes=tuple(x.shape[ax] for ax, _ in plan))


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


def _along(axis, sl):
    """An indexing key that applies ``sl`` to dim ``axis`` only (the trailing ``...``: the
    standard wants every dim named, and raw arrays are indexed with it in backward)."""
    return (slice(None),) * axis + (sl, Ellipsis)


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


def _fold(xp, g, ax, runs, n, mutable):
    """The adjoint of :func:`_assemble`: ``g`` (the gradient of the assembled dim) summed
    back onto the ``n`` input positions of dim ``ax``, in namespace ``xp`` (raw arrays, or
    tensors under create_graph); ``mutable``: the arrays take writes."""
    parts, off = [], 0
    for start, stop, how in runs:
        m = how[1] if how.__class__ is tuple else stop - start
        parts.append(g[_along(ax, slice(off, off + m))])
        off += m
    full = next((i for i, (start, stop, how) in enumerate(runs)
                 if how == "mid" and start == 0 and stop == n), None)
    if full is not None:
        out = xp.astype(parts[full], parts[full].dtype, copy=True)     # (a recorded copy under create_graph)
    else:
        shape = list(g.shape)
        shape[ax] = n
        out = xp.zeros(tuple(shape), dtype=g.dtype, device=g.device)
    for i, ((start, stop, how), p) in enumerate(zip(runs, parts)):
        if i == full or stop == start:
            continue
        if how == "flip":
            p = xp.flip(p, axis=ax)
        elif how.__class__ is tuple:
            p = xp.sum(p, axis=ax, keepdims=True)
        key = _along(ax, slice(start, stop))
        if mutable:
            out[key] += p
        else:       # (immutable arrays (JAX): no item assignment)
            out = xp.concat([out[_along(ax, slice(0, start))], out[key] + p,
                             out[_along(ax, slice(stop, n))]], axis=ax)
    return out
