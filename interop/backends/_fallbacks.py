"""The standard-only kernels: every kernel of the table (``_kernels.KERNELS``) written with
the Array API standard's functions and nothing else, as plain functions taking the namespace
``xp`` first (array-api-compat's style).

array-api-strict and namespaces registered without kernels of their own run exactly these;
a backend's native fast path falls back to one where the library lacks something (CuPy has
no atomic add for int64); the conformance suite holds every native kernel against them.

Each kernel takes ``xp`` and then the arguments of its signature in the table, as
:class:`~interop.backends.Backend` has already checked them (see
``_kernels.IMPLEMENTATION_ARGUMENTS``), and, keyword-only, what the standard cannot tell
from the arrays:

* ``device``: the native device new arrays are created on (None: the namespace's default);
* ``index_dtype``: the namespace's default integer dtype (``xp.int64``, or ``xp.int32``
  where it has no int64), for the positions the kernels compute;
* ``mutable``: whether the namespace's arrays take item assignment (JAX's do not).

Side effects: none. Each returns a new array and leaves its inputs unchanged (``sum_to``
returns ``x`` itself when there is nothing to sum). Outside the table, ``adam_update_`` (the
reference of ``Backend.adam_update_``) writes into its arguments, as it says.
"""

import itertools
import math

from ._kernels import sum_to_axes, windows_shape

__all__ = ["sum_to", "getitem", "add_at", "index_add", "scatter_add", "windows", "windows_add",
           "segment_add", "key_in_bounds", "getitem_native_first", "getitem_by_arrays",
           "scatter_positions", "scatter_coords", "window_key", "is_basic_index",
           "kept_sum", "softmax", "softmax_backward", "log_softmax_backward",
           "normalize_rows", "normalize_rows_backward", "normalize_channels",
           "normalize_channels_backward", "adam_update_", "lstm_spans", "lstm_cell",
           "lstm_cell_backward", "lstm_scan", "lstm_scan_backward", "batch_to_front",
           "batch_to_back", "relu", "relu_backward",
           "windows_add_product", "window_matrix", "windows_product", "product_windows",
           "window_argmax", "window_argmax_add", "offset_dtype"]


def _dkw(device):
    """Keyword arguments of a creation function for ``device`` (None: the default)."""
    return {} if device is None else {"device": device}


def _is_mask(xp, k):
    """Whether index entry ``k`` is a boolean array of namespace ``xp``."""
    return hasattr(k, "dtype") and k.dtype == getattr(xp, "bool", None)


def is_basic_index(k):
    """Whether index entry ``k`` is basic (None, ..., an int or a slice): no array."""
    return k is None or k is Ellipsis or k.__class__ in (int, slice)


# ----------------------------------------------------------------------------- sum_to

def sum_to(xp, x, shape):
    """``x`` summed over the axes that broadcasting ``shape`` to ``x.shape`` added or
    stretched (``shape`` differs from ``x.shape``; a ValueError where it cannot be reached)."""
    lead, axes = sum_to_axes(tuple(x.shape), shape)
    if axes:
        x = xp.sum(x, axis=axes, keepdims=True)
    return xp.reshape(x, shape) if lead else x


# ---------------------------------------------------------------------------- getitem

def getitem(xp, x, key, *, index_dtype, device=None):
    """``x[key]`` with NumPy's semantics (``key`` a tuple). The standard leaves out-of-range
    integer entries unspecified (JAX clamps them, CuPy wraps them around); the table says
    IndexError, so array keys are checked first."""
    if not all(is_basic_index(k) for k in key):
        key_in_bounds(xp, x, key, "getitem")
    return getitem_native_first(xp, x, key, index_dtype=index_dtype, device=device)


def getitem_native_first(xp, x, key, *, index_dtype, device=None):
    """``x[key]`` by the library's own indexing where it takes the key, else rewritten into
    the standard's integer-array form (for a library that checks bounds itself)."""
    try:
        return x[key]
    except IndexError:
        if all(is_basic_index(k) for k in key):
            raise
    return getitem_by_arrays(xp, x, key, index_dtype=index_dtype, device=device)


class _ZeroDimMask:
    """A 0-d boolean index in a key being rewritten into integer arrays (``value``: its
    truth): NumPy reads it as a new dim indexed by ``[0]`` (True) or ``[]`` (False)."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def getitem_by_arrays(xp, x, key, *, index_dtype, device=None):
    """``x[key]`` for a key with integer arrays and boolean masks, rewritten into what every
    standard namespace takes: basic indexing, then one integer array per dim, all of one
    shape (NumPy's placement of the indexed dims)."""
    kw = _dkw(device)
    itype = index_dtype
    # 1. Masks become their nonzero() coordinates (after a shape check); ... becomes slices.
    n_used = 0
    for k in key:
        if k is None or k is Ellipsis:
            continue
        n_used += k.ndim if _is_mask(xp, k) else 1
    full = []
    dim = 0
    for k in key:
        if k is Ellipsis:
            fill = x.ndim - n_used
            full.extend([slice(None)] * fill)
            dim += fill
        elif k is None:
            full.append(None)
        elif _is_mask(xp, k) and k.ndim == 0:
            full.append(_ZeroDimMask(bool(k)))    # a new dim of size 1 (True) or 0 (False)
        elif _is_mask(xp, k):
            covered = tuple(x.shape[dim:dim + k.ndim])
            if tuple(k.shape) != covered:
                raise IndexError(f"boolean index of shape {tuple(k.shape)} does not match the "
                                 f"indexed shape {covered} at dimension {dim}")
            full.extend(xp.nonzero(k))
            dim += k.ndim
        else:
            full.append(k)
            dim += 1
    full.extend([slice(None)] * (x.ndim - dim))
    # 2. Slices and None first (basic indexing keeps a dim for every int/array entry).
    y = x[tuple(slice(None) if (k.__class__ is int or hasattr(k, "dtype")) else
                None if k.__class__ is _ZeroDimMask else k for k in full)]
    adv, other = [], []       # (dim of y, index array) / dims of y kept whole
    for d, k in enumerate(full):
        if k.__class__ is _ZeroDimMask:      # NumPy: the nonzero() of a 0-d mask, [0] or []
            adv.append((d, xp.arange(int(k.value), dtype=itype, **kw)))
        elif k.__class__ is int or hasattr(k, "dtype"):
            n = y.shape[d]
            a = xp.asarray(k, dtype=itype, **kw) if k.__class__ is int else xp.astype(k, itype)
            if math.prod(a.shape) and (bool(xp.any(a >= n)) or bool(xp.any(a < -n))):
                raise IndexError(f"index out of range for dimension {d} with size {n}")
            adv.append((d, xp.where(a < 0, a + n, a)))
        else:
            other.append(d)
    # 3. NumPy's layout: the indexed dims replace the first indexed position when the
    # indexed positions are adjacent, else they come first.
    bshape = tuple(xp.broadcast_arrays(*[a for _, a in adv])[0].shape)
    pos = [d for d, _ in adv]
    adjacent = pos == list(range(pos[0], pos[0] + len(pos)))
    before = [d for d in other if d < pos[0]] if adjacent else []
    after = [d for d in other if d not in before]
    nb, nr, na = len(before), len(bshape), len(after)
    index = [None] * y.ndim
    for d, a in adv:
        index[d] = xp.reshape(xp.broadcast_to(a, bshape), (1,) * nb + bshape + (1,) * na)
    for i, d in enumerate(before + after):
        shape = [1] * (nb + nr + na)
        shape[i if i < nb else i + nr] = y.shape[d]
        index[d] = xp.reshape(xp.arange(y.shape[d], dtype=itype, **kw), tuple(shape))
    return y[tuple(index)]


def key_in_bounds(xp, x, key, op, min_max=None):
    """An IndexError for an integer or integer-array entry of ``key`` out of range for the dim
    of ``x`` it indexes (one synchronization per array on an accelerator). ``min_max(a)``:
    the smallest and largest entry of a non-empty integer array as Python ints (default:
    ``xp.min`` and ``xp.max``)."""
    key = key if isinstance(key, tuple) else (key,)
    is_mask = [_is_mask(xp, k) for k in key]
    used = sum(k.ndim if m else int(k is not None and k is not Ellipsis)
               for k, m in zip(key, is_mask))
    dim = 0
    for k, m in zip(key, is_mask):
        if k is Ellipsis:
            dim += x.ndim - used
        elif m:
            dim += k.ndim
        elif k is not None:
            n = x.shape[dim] if dim < x.ndim else None
            if n is not None and k.__class__ is int and not -n <= k < n:
                raise IndexError(f"{op}: index {k} out of range for dimension {dim} with "
                                 f"size {n}")
            if n is not None and hasattr(k, "dtype") and math.prod(k.shape):
                lo, hi = (min_max(k) if min_max is not None
                          else (int(xp.min(k)), int(xp.max(k))))
                if lo < -n or hi >= n:
                    raise IndexError(f"{op}: index out of range for dimension {dim} with "
                                     f"size {n} (entries from {lo} to {hi})")
            dim += 1


# ------------------------------------------------------------- the accumulating kernels

def add_at(xp, x, key, values, *, index_dtype, device=None):
    """``x`` with ``values`` added at ``x[key]``, repeated positions accumulating."""
    # Each element of x gets its flat position; x[key] of those positions says where each
    # value goes. Then one segment-sum over flat positions.
    shape = tuple(x.shape)
    pos = xp.reshape(xp.arange(math.prod(shape), dtype=index_dtype, **_dkw(device)), shape)
    key_in_bounds(xp, x, key, "add_at")
    lin = getitem_native_first(xp, pos, key, index_dtype=index_dtype, device=device)
    try:
        values = xp.broadcast_to(values, tuple(lin.shape))
    except (ValueError, RuntimeError):
        raise ValueError(f"add_at: values of shape {tuple(values.shape)} do not broadcast to "
                         f"the indexed shape {tuple(lin.shape)}") from None
    out = segment_add(xp, xp.reshape(x, (-1,)), xp.reshape(lin, (-1,)),
                      xp.reshape(values, (-1,)), device=device)
    return xp.reshape(out, shape)


def index_add(xp, x, dim, index, source, *, device=None):
    """``x`` with ``source`` slices added along ``dim`` at the positions in ``index``."""
    # Rows along dim: move dim first, segment-sum whole rows, move it back.
    if dim == 0:
        return segment_add(xp, x, index, source, device=device)
    perm = (dim,) + tuple(d for d in range(x.ndim) if d != dim)
    out = segment_add(xp, xp.permute_dims(x, perm), index, xp.permute_dims(source, perm),
                      device=device)
    return xp.permute_dims(out, tuple(perm.index(d) for d in range(x.ndim)))


def scatter_add(xp, x, dim, index, src, *, index_dtype, device=None):
    """torch.scatter_add out of place (``src`` already cut to ``index``'s shape)."""
    # The flat position in x of every element of index, then one segment-sum.
    lin = scatter_positions(xp, tuple(x.shape), dim, index, index_dtype=index_dtype,
                            device=device)
    out = segment_add(xp, xp.reshape(x, (-1,)), lin, xp.reshape(src, (-1,)), device=device)
    return xp.reshape(out, tuple(x.shape))


def scatter_positions(xp, shape, dim, index, *, index_dtype, device=None):
    """For each element of ``index`` (row-major order), the flat row-major position in an
    array of ``shape`` that torch.scatter's layout sends it to: ``index``'s entry along
    ``dim``, its own coordinate along every other dim. A 1-d array of ``index_dtype``."""
    strides = [math.prod(shape[d + 1:]) for d in range(len(shape))]
    lin = xp.astype(index, index_dtype) * strides[dim]
    for d, coord in enumerate(scatter_coords(xp, dim, index, index_dtype, device=device)):
        if d != dim:
            lin = lin + coord * strides[d]
    return xp.reshape(xp.broadcast_to(lin, tuple(index.shape)), (-1,))


def scatter_coords(xp, dim, index, index_dtype=None, *, device=None):
    """For each dim d != ``dim``, the coordinate along d of every element of ``index``, as an
    arange of ``index_dtype`` (default: ``index``'s) shaped to broadcast against ``index``
    (``index`` itself at ``dim``): the target coordinates of torch.scatter's layout."""
    itype = index.dtype if index_dtype is None else index_dtype
    coords = []
    for d in range(index.ndim):
        if d == dim:
            coords.append(index)
            continue
        shape = [1] * index.ndim
        shape[d] = index.shape[d]
        coords.append(xp.reshape(xp.arange(index.shape[d], dtype=itype, **_dkw(device)),
                                 tuple(shape)))
    return tuple(coords)


def segment_add(xp, x, pos, values, *, device=None):
    """``x`` (shape ``(K, *rest)``) with row ``values[i]`` (``values``: ``(N, *rest)``, x's
    dtype) added to row ``pos[i]`` (``pos``: 1-D integers in ``[0, K)``), repeated rows
    accumulating (logical or for bool). Standard functions only; a new array;
    O((N + K) log N) work.

    1. Sort the rows by target (stable argsort), so that each target's rows are one run.
    2. Segmented inclusive scan (Hillis-Steele doubling): at step s, row i adds row i - s
       when both have the same target. After ceil(log2 N) steps the last row of each run
       holds the run's total. A run never adds another run's rows (no cumsum-difference
       cancellation, no inf - inf between targets).
    3. For each target t, the run is sorted rows [searchsorted(t, left),
       searchsorted(t, right)); its total is the run's last row. Targets with an empty run
       keep x's row as it is (one ``where``), others get x's row plus the total.
    """
    n = pos.shape[0]
    k = x.shape[0]
    if n == 0 or 0 in tuple(x.shape):
        return xp.asarray(x, copy=True)
    add = xp.logical_or if x.dtype == xp.bool else xp.add
    order = xp.argsort(pos, stable=True)
    p = xp.take(pos, order)
    v = xp.take(values, order, axis=0)
    row = (1,) * (v.ndim - 1)               # shape that broadcasts a per-row flag over a row
    s = 1
    while s < n:
        same = xp.reshape(p[s:] == p[:-s], (n - s,) + row)
        head, tail, prev = v[:s, ...], v[s:, ...], v[:-s, ...]
        v = xp.concat([head, xp.where(same, add(tail, prev), tail)], axis=0)
        s *= 2
    targets = xp.arange(k, dtype=p.dtype, **_dkw(device))
    start = xp.searchsorted(p, targets, side="left")
    end = xp.searchsorted(p, targets, side="right")
    hit = end > start
    total = xp.take(v, xp.where(hit, end - 1, xp.zeros_like(end)), axis=0)
    return xp.where(xp.reshape(hit, (k,) + row), add(x, total), x)


# -------------------------------------------------------------------- sliding windows

def window_key(lead, k, out, stride, dilation):
    """The strided slice of an array that kernel offset ``k`` of its windows reads (``lead``
    dims before the windowed ones, ``out`` windows along each)."""
    return (slice(None),) * lead + tuple(
        slice(i * d, i * d + (o - 1) * s + 1, s) for i, o, s, d in zip(k, out, stride, dilation))


def windows(xp, x, kernel, stride, dilation, *, device=None):
    """The sliding windows of ``x`` over its last ``len(kernel)`` dims (im2col)."""
    # One strided slice per kernel offset, stacked: (*lead, K, *out), then split K.
    n = len(kernel)
    shape = windows_shape(tuple(x.shape), kernel, stride, dilation)
    if math.prod(shape) == 0:
        return xp.zeros(shape, dtype=x.dtype, **_dkw(device))
    lead = x.ndim - n
    out = shape[lead + n:]
    pieces = [x[window_key(lead, k, out, stride, dilation)]
              for k in itertools.product(*map(range, kernel))]
    return xp.reshape(xp.stack(pieces, axis=lead), shape)


def windows_add(xp, shape, cols, kernel, stride, dilation, *, device=None, mutable=True):
    """The adjoint of :func:`windows` (col2im): zeros of ``shape`` with every entry of ``cols``
    added where ``windows`` reads it from."""
    # The sum over kernel offsets of one strided-slice add each (no scatter); namespaces
    # whose arrays take no item assignment spread each offset's slice with zeros instead.
    n = len(kernel)
    lead = len(shape) - n
    out = tuple(cols.shape[lead + n:])
    acc = xp.zeros(shape, dtype=cols.dtype, **_dkw(device))
    if math.prod(cols.shape) == 0:
        return acc
    add = xp.logical_or if _is_mask(xp, cols) else xp.add
    for k in itertools.product(*map(range, kernel)):
        piece = cols[(slice(None),) * lead + k + (Ellipsis,)]
        if mutable:
            key = window_key(lead, k, out, stride, dilation)
            acc[key] = add(acc[key], piece)
        else:
            for i in range(n):
                piece = _spread(xp, piece, lead + i, shape[lead + i], k[i] * dilation[i],
                                stride[i], device)
            acc = add(acc, piece)
    return acc


def _spread(xp, a, axis, size, start, step, device):
    """``a`` placed along ``axis`` at ``start, start + step, ...`` in zeros of length ``size``
    there (standard functions only, no item assignment)."""
    m = a.shape[axis]
    if step > 1 and m > 1:
        a = xp.stack([a] + [xp.zeros_like(a)] * (step - 1), axis=axis + 1)
        a = xp.reshape(a, tuple(a.shape[:axis]) + (m * step,) + tuple(a.shape[axis + 2:]))
        a = a[(slice(None),) * axis + (slice(0, (m - 1) * step + 1), Ellipsis)]
    rest = size - start - a.shape[axis]
    parts = [xp.zeros(tuple(a.shape[:axis]) + (w,) + tuple(a.shape[axis + 1:]), dtype=a.dtype,
                      **_dkw(device)) for w in (start, rest)]
    return xp.concat([parts[0], a, parts[1]], axis=axis)



# ------------------------------------------------------------ softmax rows (issue 29)

def kept_sum(xp, a, axes, *, device=None):
    """``sum(a, axis=axes, keepdims=True)``; over one short last axis (up to 1024) of a real
    floating array, a vecdot with ones (no temporary; on NumPy a third of the time of the
    row sum). Longer rows keep the namespace's sum: a vecdot's blocked accumulation loses
    digits there (softmax over 200000: 3e-6 relative, PyTorch's own 8e-6, pairwise 6e-8)."""
    if axes == (a.ndim - 1,) and a.shape[-1] <= 1024 and xp.isdtype(a.dtype, "real floating"):
        ones = xp.ones((a.shape[-1],), dtype=a.dtype, **_dkw(device))
        return xp.expand_dims(xp.vecdot(a, ones, axis=-1), axis=-1)
    return xp.sum(a, axis=axes, keepdims=True)


def softmax(xp, x, dim, *, device=None, log=False):
    """softmax (``log``: log_softmax) over the axes ``dim``: shifted by the max (a slice with
    a NaN or +inf, or only -inf, gives NaN, as PyTorch's); three x-sized passes and two
    reductions, the last step in place on a fresh array."""
    if math.prod(x.shape[d] for d in dim) == 0:
        return xp.asarray(x, copy=True)        # nothing to normalize over
    shifted = x - xp.max(x, axis=dim, keepdims=True)
    e = xp.exp(shifted)
    if log:
        shifted -= xp.log(kept_sum(xp, e, dim, device=device))
        return shifted
    e /= kept_sum(xp, e, dim, device=device)
    return e


def softmax_backward(xp, grad, output, dim):
    """``output * (grad - sum(grad * output))`` over ``dim``: the row sums as a vecdot where
    softmax ran over one axis, the result in place on one fresh array."""
    if len(dim) == 1:
        a = dim[0] - output.ndim                  # (the standard's vecdot: a negative axis)
        dot = xp.expand_dims(xp.vecdot(grad, output, axis=a), axis=a)
    else:
        dot = xp.sum(grad * output, axis=dim, keepdims=True)
    gx = grad - dot                               # (a new array: grad is never written)
    gx *= output
    return gx


def log_softmax_backward(xp, grad, output, dim, *, device=None):
    """``grad - exp(output) * sum(grad)`` over ``dim``, in place on the fresh ``exp``."""
    sg = kept_sum(xp, grad, dim, device=device)
    gx = xp.exp(output)
    gx *= -sg
    gx += grad
    return gx


# --------------------------------------------------- the normalization of rows (issue 29)

def _by_group(xp, a, ng):
    """An (R, P, Q) array as (R / G, G, P, Q): entry [., g, ...] takes the weight's row g."""
    r, p, q = a.shape
    return xp.reshape(a, (r // ng, ng, p, q))


def normalize_rows(xp, x, weight, bias, eps, *, device=None):
    """(y, mean, rstd) of the normalization of each row of the (R, P, Q) array ``x`` over its
    P * Q entries, then ``* weight + bias`` ((G, P, Qw), row r taking entry r % G): the
    statistics as vecdots (no x-sized temporary), the deviations corrected by their own mean
    and scaled in place, the affine in place (6 x-sized passes)."""
    rows, np_, nq = x.shape
    n = np_ * nq
    xf = xp.reshape(x, (rows, n))
    mean = kept_sum(xp, xf, (1,), device=device) / n
    y = xf - mean
    # the corrected two-pass algorithm: the deviations' own mean is the rounding error of
    # the first (float32 at mean 1e3, std 1e-3 it would shift every output by up to 3e-2)
    dm = kept_sum(xp, y, (1,), device=device) / n
    y -= dm
    mean = mean + dm
    rstd = 1.0 / xp.sqrt(xp.vecdot(y, y, axis=-1) / n + eps)
    y *= xp.expand_dims(rstd, axis=-1)
    affine = weight if weight is not None else bias
    if affine is not None:
        y = _by_group(xp, xp.reshape(y, (rows, np_, nq)), affine.shape[0])
        # (in place on the fresh y; where arrays are immutable the operators rebind y)
        if weight is not None:
            y *= weight
        if bias is not None:
            y += bias
    return xp.reshape(y, (rows, np_, nq)), xp.reshape(mean, (rows,)), rstd


def normalize_rows_backward(xp, grad, x, weight, mean, rstd, wshape, *, device=None):
    """(gx, gw, gb) of :func:`normalize_rows`: ``gx = rstd (h - mean(h) - xh mean(h xh))``
    with ``xh = (x - mean - e) rstd`` (e: the mean of x - mean, the given mean's rounding
    error) and ``h = grad * weight``; gw, gb summed to ``wshape``. Every statistic is a
    vecdot or a matrix-vector product over the deviations ``xc`` and ``grad``; ``gx`` is
    formed in place on the fresh deviations (``grad`` is never written)."""
    rows, np_, nq = x.shape
    ng, _, qw = wshape
    n = np_ * nq
    if ng == 1 and np_ == 1 and qw == nq:
        # a weight per entry (layer norm): (R, n) rows, the weight's and bias's gradients
        # and the rows' sums of g w and g w xc as matrix-vector products
        x2, g2 = xp.reshape(x, (rows, n)), xp.reshape(grad, (rows, n))
        xc = x2 - xp.reshape(mean, (rows, 1))
        xc -= kept_sum(xp, xc, (1,), device=device) / n
        gxc = g2 * xc
        ones = xp.ones((rows,), dtype=x.dtype, **_dkw(device))
        gw = xp.reshape(xp.matmul(rstd, gxc), wshape)
        gb = xp.reshape(xp.matmul(ones, g2), wshape)
        wv = None if weight is None else xp.reshape(weight, (n,))
        if wv is None:
            ds, db = xp.sum(gxc, axis=-1), xp.sum(g2, axis=-1)
        else:
            ds, db = xp.matmul(gxc, wv), xp.matmul(g2, wv)
        del gxc
        gx = _rows_input_grad(xp, xc, g2, wv, ds, db, rstd, n, (rows, 1))
        return xp.reshape(gx, (rows, np_, nq)), gw, gb
    # by groups, x (N, G, P, Q): sums over Q as vecdots, then small (N, G, P) arrays
    x4, g4 = _by_group(xp, x, ng), _by_group(xp, grad, ng)
    nb = rows // ng
    col = (nb, ng, 1, 1)
    xc = x4 - xp.reshape(mean, col)
    xc -= xp.sum(xc, axis=(2, 3), keepdims=True) / n
    inv = xp.reshape(rstd, (nb, ng))
    ones = xp.ones((nq,), dtype=x.dtype, **_dkw(device))
    s_g = xp.vecdot(g4, ones, axis=-1)                        # (N, G, P)
    s_gx = xp.vecdot(g4, xc, axis=-1)
    if qw == 1:
        gw = xp.sum(s_gx * xp.reshape(inv, (nb, ng, 1)), axis=0)
        gb = xp.sum(s_g, axis=0)
        if weight is None:
            ds, db = xp.sum(s_gx, axis=-1), xp.sum(s_g, axis=-1)          # (N, G)
        else:
            wg = xp.reshape(weight, (ng, np_))
            ds, db = xp.vecdot(s_gx, wg, axis=-1), xp.vecdot(s_g, wg, axis=-1)
        gx = _rows_input_grad(xp, xc, g4, weight, ds, db, inv, n, col)
        return (xp.reshape(gx, (rows, np_, nq)), xp.reshape(gw, wshape),
                xp.reshape(gb, wshape))
    # a weight per entry of each group: the general form
    gw = xp.sum(g4 * xc * xp.reshape(rstd, col), axis=0)
    gb = xp.sum(g4, axis=0)
    h = g4 if weight is None else g4 * weight
    ds = xp.sum(h * xc, axis=(2, 3))
    db = xp.sum(h, axis=(2, 3))
    gx = _rows_input_grad(xp, xc, h, None, ds, db, inv, n, col)
    return xp.reshape(gx, (rows, np_, nq)), gw, gb


def _rows_input_grad(xp, xc, g, w, ds, db, inv, n, col):
    """The input's gradient ``inv (g w - db/n - xc inv^2 ds/n)`` of a normalization, in place
    on the fresh deviations ``xc`` (``g`` itself is never written); ``ds``, ``db``: the rows'
    sums of ``g w xc`` and ``g w``; ``col``: their shape broadcasting against ``xc``."""
    xc *= xp.reshape(ds * (inv * inv) / -n, col)
    if w is None:
        xc += g
        gx = xc
    else:
        gx = g * w
        gx += xc
    gx -= xp.reshape(db / n, col)
    gx *= xp.reshape(inv, col)
    return gx


# ------------------------------------------ the normalization of channels (issue 29)

def _channel_sums(xp, a):
    """The sums of an (A, K, L) array over A and L, as (K,): over L first (contiguous)."""
    return xp.sum(xp.sum(a, axis=-1), axis=0)


def normalize_channels(xp, x, weight, bias, eps, *, device=None):
    """(y, mean, rstd, ssd) of the normalization of each channel k of the (A, K, L) array
    ``x`` over A and L: sums of L then of A, the squares as vecdots, the deviations'
    own mean (the first mean's rounding error) folded into the shift, the affine in place
    on the fresh deviations (6 x-sized passes)."""
    na, nk, nl = x.shape
    n = na * nl
    col = (nk, 1)
    mean = _channel_sums(xp, x) / n
    xc = x - xp.reshape(mean, col)
    d = _channel_sums(xp, xc) / n
    mean = mean + d
    ssd = xp.sum(xp.vecdot(xc, xc, axis=-1), axis=0) - d * d * n
    ssd = xp.where(ssd < 0, xp.zeros_like(ssd), ssd)
    rstd = 1.0 / xp.sqrt(ssd / n + eps)
    scale = rstd if weight is None else rstd * weight
    shift = -d * scale if bias is None else bias - d * scale
    xc *= xp.reshape(scale, col)
    xc += xp.reshape(shift, col)
    return xc, mean, rstd, ssd


def normalize_channels_backward(xp, grad, x, weight, mean, rstd):
    """(gx, gw, gb) of :func:`normalize_channels`: the channel sums of grad and grad * xc as
    sums and vecdots, the input's gradient in place on the fresh deviations."""
    na, nk, nl = x.shape
    n = na * nl
    col = (nk, 1)
    xc = x - xp.reshape(mean, col)
    xc -= xp.reshape(_channel_sums(xp, xc) / n, col)      # (the mean's rounding error)
    sg = _channel_sums(xp, grad)
    sgx = xp.sum(xp.vecdot(grad, xc, axis=-1), axis=0)
    scale = rstd if weight is None else rstd * weight
    xc *= xp.reshape(sgx * (rstd * rstd) / -n, col)       # gx = (g - sg/n - xc k) * scale
    xc += grad
    xc -= xp.reshape(sg / n, col)
    xc *= xp.reshape(scale, col)
    return xc, sgx * rstd, sg
def batch_to_front(xp, x, bias):
    """x (A, M, N) as (N, A, M), bias (A,) added: one copy (or one add)."""
    y = xp.permute_dims(x, (2, 0, 1))
    if bias is None:
        return xp.reshape(y, tuple(y.shape), copy=True)
    return y + xp.reshape(bias, (bias.shape[0], 1))


def batch_to_back(xp, x):
    """x (N, A, M) as (A, M, N): one copy."""
    y = xp.permute_dims(x, (1, 2, 0))
    return xp.reshape(y, tuple(y.shape), copy=True)


def window_cols(xp, prod, shape, kernel, stride, dilation):
    """The product ``prod`` (C * K, L * N) of ``windows_add_product`` as the windows
    (N, C, *kernel, *out) that ``windows_add`` takes: a view (batch innermost in memory)."""
    n = len(kernel)
    nb, c = shape[0], shape[1]
    out = tuple(max(0, (m - d * (k - 1) - 1) // s + 1)
                for m, k, s, d in zip(shape[2:], kernel, stride, dilation))
    cols = xp.reshape(prod, (c,) + tuple(kernel) + out + (nb,))
    return xp.permute_dims(cols, (2 * n + 1, *range(2 * n + 1)))


def windows_add_product(xp, shape, a, b, kernel, stride, dilation, *, device=None,
                        mutable=True):
    """``windows_add`` of ``a @ b`` laid out batch-innermost (the kernel's reference: the
    product stored, then col2im)."""
    cols = window_cols(xp, xp.matmul(a, b), shape, kernel, stride, dilation)
    return windows_add(xp, shape, cols, kernel, stride, dilation, device=device,
                       mutable=mutable)


def window_matrix(xp, win, n):
    """The windows ``win`` (N, C, *kernel, *out) of ``n``-d windows as their matrix, batch
    innermost: (C * K, L * N), one copy."""
    rows = math.prod(win.shape[1:n + 2])
    cols = math.prod(win.shape[n + 2:]) * win.shape[0]
    return xp.reshape(xp.permute_dims(win, (*range(1, 2 * n + 2), 0)), (rows, cols))


def windows_product(xp, a, x, kernel, stride, dilation, *, device=None):
    """``a @ W``, ``W`` the windows' matrix of ``x`` (the kernel's reference: W stored)."""
    win = windows(xp, x, kernel, stride, dilation, device=device)
    return xp.matmul(a, window_matrix(xp, win, len(kernel)))


def product_windows(xp, a, x, kernel, stride, dilation, *, device=None):
    """``a @ W^T``, ``W`` the windows' matrix of ``x`` (the kernel's reference: W stored)."""
    win = windows(xp, x, kernel, stride, dilation, device=device)
    return xp.matmul(a, xp.matrix_transpose(window_matrix(xp, win, len(kernel))))


# ------------------------------------------------------ max pooling's windows (issue 29)
#
# The reference of window_argmax and window_argmax_add: the input padded with -inf, one
# strided slice per kernel offset (a maximum each), then per offset a mask of where it holds
# the element that gets the gradient; back, the gradient masked per offset and added with
# windows_add into the padded shape, whose padding is cut off.

def offset_dtype(xp, count):
    """The integer dtype of window_argmax's offsets for ``count`` kernel offsets: the
    narrowest of int8, int16, int32 that holds ``count - 1``."""
    return xp.int8 if count <= 1 << 7 else xp.int16 if count <= 1 << 15 else xp.int32


def _reach(size, kernel, stride, dilation, padding, out):
    """Per windowed dim, the padded length that the ``out`` windows span (0 for none)."""
    return tuple((o - 1) * s + d * (k - 1) + 1 if o else 0
                 for k, s, d, o in zip(kernel, stride, dilation, out))


def _pad_dims(xp, x, lead, before, after, value, device):
    """``x`` with ``before[i]`` and ``after[i]`` entries of ``value`` around windowed dim i
    (concatenation: no item assignment)."""
    for i, (b, a) in enumerate(zip(before, after)):
        ax = lead + i
        if b or a:
            parts = [xp.full(tuple(x.shape[:ax]) + (b,) + tuple(x.shape[ax + 1:]), value,
                             dtype=x.dtype, **_dkw(device)), x,
                     xp.full(tuple(x.shape[:ax]) + (a,) + tuple(x.shape[ax + 1:]), value,
                             dtype=x.dtype, **_dkw(device))]
            x = xp.concat(parts, axis=ax)
    return x


def _inside_masks(xp, lead, kernel, stride, dilation, padding, size, out, device):
    """Per kernel offset (row-major), a bool array broadcasting over the output: True where
    the element it reads is real input (None for every offset where nothing is padding)."""
    n = len(kernel)
    if all(p == 0 and (o - 1) * s + d * (k - 1) < m
           for k, s, d, p, m, o in zip(kernel, stride, dilation, padding, size, out)):
        return [None] * math.prod(kernel)
    per_dim = []
    for i, (k, o, s, d, p, m) in enumerate(zip(kernel, out, stride, dilation, padding, size)):
        shape = (1,) * (lead + i) + (o,) + (1,) * (n - i - 1)
        per_dim.append([xp.reshape(xp.asarray([0 <= j * s - p + off * d < m for j in range(o)],
                                              **_dkw(device)), shape) for off in range(k)])
    masks = []
    for off in itertools.product(*map(range, kernel)):
        mask = per_dim[0][off[0]]
        for i in range(1, n):
            mask = mask & per_dim[i][off[i]]
        masks.append(mask)
    return masks


def window_argmax(xp, x, kernel, stride, dilation, padding, out, *, device=None):
    """(the maximum of every window, the kernel offset of the element that gets its
    gradient): the first maximum, the last NaN of a window that has NaNs, never padding."""
    n = len(kernel)
    lead = x.ndim - n
    size = tuple(x.shape[lead:])
    count = math.prod(kernel)
    itype = offset_dtype(xp, count)
    shape = tuple(x.shape[:lead]) + tuple(out)
    if math.prod(shape) == 0:
        return (xp.zeros(shape, dtype=x.dtype, **_dkw(device)),
                xp.zeros(shape, dtype=itype, **_dkw(device)))
    reach = _reach(size, kernel, stride, dilation, padding, out)
    after = tuple(max(0, r - p - m) for r, p, m in zip(reach, padding, size))
    xpad = _pad_dims(xp, x, lead, padding, after, -math.inf, device)
    keys = [window_key(lead, k, out, stride, dilation)
            for k in itertools.product(*map(range, kernel))]
    m = xpad[keys[0]]
    for key in keys[1:]:
        m = xp.maximum(m, xpad[key])
    if count == 1:
        m = xp.asarray(m, copy=True)
    masks = _inside_masks(xp, lead, kernel, stride, dilation, padding, size, out, device)
    # where each offset holds the element that gets the gradient (one per window, none in a
    # window of padding only): its first maximum, unless the window has NaNs
    hits = []
    free = None
    for key, mask in zip(keys, masks):
        h = xpad[key] == m
        if mask is not None:
            h = h & mask
        if free is not None:
            h = h & free
        free = ~h if free is None else free & ~h
        hits.append(h)
    if bool(xp.any(xp.isnan(m))):        # a window with NaNs: its last NaN
        seen = None
        for i in range(count - 1, -1, -1):
            nan = xp.isnan(xpad[keys[i]])
            hits[i] = hits[i] | (nan if seen is None else nan & ~seen)
            seen = nan if seen is None else seen | nan
    offsets = xp.zeros(shape, dtype=itype, **_dkw(device))
    for i in range(1, count):
        offsets = offsets + xp.astype(hits[i], itype) * i
    return m, offsets


def window_argmax_add(xp, shape, g, offsets, kernel, stride, dilation, padding, *, device=None,
                      mutable=True, add=None):
    """Zeros of ``shape`` with each ``g[..., o]`` added at the element of window ``o`` that
    ``offsets[..., o]`` names (nothing where that is padding). ``add``: the backend's own
    implementation of ``windows_add``, where it has a faster one than this module's."""
    n = len(kernel)
    lead = len(shape) - n
    size = tuple(shape[lead:])
    out = tuple(g.shape[lead:])
    if math.prod(g.shape) == 0 or math.prod(shape) == 0:
        return xp.zeros(shape, dtype=g.dtype, **_dkw(device))
    reach = _reach(size, kernel, stride, dilation, padding, out)
    count = math.prod(kernel)
    # (*lead, K, *out): the gradient where offset k holds the window's element, from one
    # comparison broadcast over the offsets; a product of the mask where that is exact (a
    # finite gradient: NumPy's where is several times slower on masks like these), else a
    # where (an inf stays in its window)
    ks = xp.reshape(xp.arange(count, dtype=offsets.dtype, **_dkw(device)), (count,) + (1,) * n)
    hit = xp.expand_dims(offsets, axis=lead) == ks
    gk = xp.expand_dims(g, axis=lead)
    if bool(xp.all(xp.isfinite(g))):
        cols = xp.astype(hit, g.dtype) * gk
    else:
        cols = xp.where(hit, gk, xp.zeros((), dtype=g.dtype, **_dkw(device)))
    cols = xp.reshape(cols, tuple(shape[:lead]) + tuple(kernel) + out)
    # added into the padded span the windows cover, then the real part cut out of it (with
    # zeros after it where the windows end before the input does)
    if add is None:
        acc = windows_add(xp, tuple(shape[:lead]) + reach, cols, kernel, stride, dilation,
                          device=device, mutable=mutable)
    else:
        acc = add(tuple(shape[:lead]) + reach, cols, kernel, stride, dilation)
    acc = acc[(slice(None),) * lead + tuple(slice(min(p, r), min(p + m, r))
                                            for p, m, r in zip(padding, size, reach))]
    short = tuple(m - (min(p + m, r) - min(p, r)) for p, m, r in zip(padding, size, reach))
    return _pad_dims(xp, acc, lead, (0,) * n, short, 0, device)


# ------------------------------------------------------------------ activations
#
# gelu, silu and sigmoid and their backward formulas (PyTorch's aten names): the reference of
# the cpu backend's compiled float32 kernels (_jit_act.py), and what every other backend runs.
# Half precision (float16, bfloat16) is computed in float32 and rounded once, as PyTorch.

# Phi(-|x|) = erfc(u) / 2, u = |x| / sqrt(2), is exp(-u^2) times a smooth function of
# s = 2 / (1 + 0.3 u) - 1 in [-1, 1]: a polynomial in s, fitted (Chebyshev interpolation in
# 50-digit arithmetic, then converted to monomials, whose coefficients stay small) to 1e-15
# absolute for float64 and 1e-8 for float32 (below float32's rounding). Coefficients are
# halved, lowest degree first.
NDTR_F64 = (0.08124498046494923, 0.15037586965397237, 0.11882615870010231,
            0.07937493818781285, 0.04392007818773934, 0.01934077125428006,
            0.006189386758637814, 0.0010435905238807778, -0.00016577148094468408,
            -0.0001470866430809168, -1.8566841939473683e-05, 1.2956120923178188e-05,
            4.33662875178632e-06, -1.1478353035137535e-06, -6.946883949360879e-07,
            1.2279625500039597e-07, 1.0541678469638957e-07, -1.550286021257803e-08,
            -1.4404231767695385e-08, 1.4441206657785748e-09, 1.2585458382954767e-09)
NDTR_F32 = (0.08124496082223605, 0.15037589018170913, 0.1188271466126119,
            0.07937391005113333, 0.04391193131698001, 0.01934907001736566,
            0.00621374463000326, 0.0010198907126344671, -0.00019776869905255986,
            -0.00011877989591033342)
NDTR_K = 0.3 * math.sqrt(0.5)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# gelu(x, 'tanh') = x * sigmoid(x * (C1 + C3 x^2)): 0.5 (1 + tanh(z)) is sigmoid(2 z)
GELU_TANH_C1 = 2.0 * math.sqrt(2.0 / math.pi)
GELU_TANH_C3 = GELU_TANH_C1 * 0.044715


def _wide(xp, x):
    """``x`` in a dtype the formulas run in: float32 for half precision, else itself."""
    return x if x.dtype in (xp.float32, xp.float64) else xp.astype(x, xp.float32)


def _narrow(xp, y, dtype):
    return y if y.dtype == dtype else xp.astype(y, dtype)


def relu(xp, x):
    """0 where ``x`` < 0, else ``x`` (NaN and -0.0 kept)."""
    return xp.where(x < 0, 0, x)


def relu_backward(xp, g, y):
    """0 where the output ``y`` <= 0, else ``g``."""
    return xp.where(y <= 0, 0, g)


def sigmoid(xp, x):
    """``1 / (1 + exp(-x))`` as ``0.5 tanh(x / 2) + 0.5`` (no overflow; real or complex; in
    place on the one fresh array, where an immutable namespace rebinds instead)."""
    t = xp.tanh(x * 0.5)
    t *= 0.5
    t += 0.5
    return t


def sigmoid_backward(xp, g, y):
    """``g y (1 - y)`` from the sigmoid's output ``y``."""
    d = 1 - y
    d *= y
    d *= g
    return d


def silu(xp, x):
    """``x sigmoid(x)``."""
    x1 = _wide(xp, x)
    y = sigmoid(xp, x1)
    y *= x1
    return _narrow(xp, y, x.dtype)


def silu_backward(xp, g, x):
    """``g s (1 + x (1 - s))``, ``s = sigmoid(x)`` (PyTorch's formula: NaN at x = -inf)."""
    x1 = _wide(xp, x)
    s = sigmoid(xp, x1)
    d = 1 - s
    d *= x1
    d += 1
    d *= s
    d *= _wide(xp, g)
    return _narrow(xp, d, x.dtype)


def ndtr_gauss(xp, x):
    """``(Phi(x), exp(-x**2 / 2))`` for float32 or float64 ``x``: the standard normal CDF
    (the Array API has no erf: the tail ``Phi(-|x|)`` is ``exp(-x**2 / 2)`` times a
    polynomial, NDTR_F32/NDTR_F64) and the unnormalized density computed on the way. The
    polynomial runs in place on fresh arrays."""
    coef = NDTR_F64 if x.dtype == xp.float64 else NDTR_F32
    s = xp.abs(x)
    s *= NDTR_K
    s += 1.0
    s = 2.0 / s
    s -= 1.0
    p = s * coef[-1]
    p += coef[-2]
    for c in coef[-3::-1]:
        p *= s
        p += c
    gauss = x * x
    gauss *= -0.5
    gauss = xp.exp(gauss)
    p *= gauss                            # Phi(-|x|)
    # 1 - tail where x > 0, else tail: arithmetic on the 0/1 mask m, tail + m (1 - 2 tail)
    # (exactly tail where m is 0), a third of the cost of a select over arrays this size
    out = p * -2.0
    out += 1.0
    out *= xp.astype(x > 0, out.dtype)
    out += p
    return out, gauss


def gelu(xp, x, approximate):
    """``x Phi(x)`` (``approximate='none'``) or ``x sigmoid(x (C1 + C3 x**2))``
    (``'tanh'``: PyTorch's ``0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x**3)))``)."""
    x1 = _wide(xp, x)
    if approximate == "tanh":
        z = x1 * x1
        z *= GELU_TANH_C3
        z += GELU_TANH_C1
        z *= x1
        y = sigmoid(xp, z)
    else:
        y = ndtr_gauss(xp, x1)[0]
    y *= x1
    return _narrow(xp, y, x.dtype)


def gelu_backward(xp, g, x, approximate):
    """``g`` times gelu's derivative at ``x``: ``Phi(x) + x phi(x)``, or for ``'tanh'``
    ``s + x s (1 - s) (C1 + 3 C3 x**2)`` with ``s`` the sigmoid of the forward (NaN at
    ``x = +-inf``, as PyTorch's)."""
    x1 = _wide(xp, x)
    if approximate == "tanh":
        q = x1 * x1
        z = q * GELU_TANH_C3
        z += GELU_TANH_C1
        z *= x1
        s = sigmoid(xp, z)
        q *= 3 * GELU_TANH_C3
        q += GELU_TANH_C1                 # dz/dx
        d = 1 - s
        d *= s
        d *= x1
        d *= q
        d += s
    else:
        d, gauss = ndtr_gauss(xp, x1)
        gauss *= x1
        gauss *= INV_SQRT_2PI
        d += gauss
    d *= _wide(xp, g)
    return _narrow(xp, d, x.dtype)


# ---------------------------------------------------------- cross entropy on class indices

def _class_rows(xp, target, ignore_index):
    """(the kept rows as a bool mask, or None where no target is ``ignore_index``; the
    targets with ignored ones set to 0)."""
    valid = target != ignore_index
    if bool(xp.all(valid)):
        return None, target
    return valid, xp.where(valid, target, xp.zeros_like(target))


def _row_weights(xp, g, n, valid, reduction, dtype, device=None):
    """What each row's gradient is scaled by: ``g`` per row ('none'), ``g`` ('sum') or
    ``g`` over the number of kept rows ('mean'); 0 on ignored rows. A (n,) array."""
    if reduction == "none":
        w = g
    else:
        count = n if valid is None else xp.sum(xp.astype(valid, dtype))
        w = xp.broadcast_to(g / count if reduction == "mean" else g, (n,))
    if valid is not None:
        w = xp.where(valid, w, xp.zeros((), dtype=dtype, **_dkw(device)))
    return w


def class_cross_entropy(xp, x, target, ignore_index, reduction, *, device=None):
    """PyTorch's ``cross_entropy(x, target, ignore_index=..., reduction=...)`` for (N, C)
    logits ``x`` and (N,) class indices ``target`` (entries in [0, C) or ``ignore_index``):
    ``logsumexp(x[n]) - x[n, target[n]]`` per row, 0 on ignored rows, then summed, averaged
    over the kept rows (NaN where none is kept) or kept per row."""
    n = x.shape[0]
    valid, t = _class_rows(xp, target, ignore_index)
    m = xp.max(x, axis=1, keepdims=True)
    z = x - m
    lse = xp.log(xp.sum(xp.exp(z), axis=1))
    loss = lse - xp.take_along_axis(z, xp.reshape(t, (n, 1)), axis=1)[:, 0]
    if valid is not None:
        loss = xp.where(valid, loss, xp.zeros((), dtype=x.dtype, **_dkw(device)))
    if reduction == "none":
        return loss
    total = xp.sum(loss)
    if reduction == "sum":
        return total
    count = n if valid is None else xp.sum(xp.astype(valid, x.dtype))
    return total / count


def class_cross_entropy_backward(xp, g, x, target, ignore_index, reduction, *, device=None):
    """The gradient of :func:`class_cross_entropy` for the logits: ``w[n] (softmax(x[n]) -
    onehot(target[n]))`` with ``w`` from :func:`_row_weights`."""
    n, c = x.shape
    valid, t = _class_rows(xp, target, ignore_index)
    w = _row_weights(xp, g, n, valid, reduction, x.dtype, device)
    e = xp.exp(x - xp.max(x, axis=1, keepdims=True))
    w = xp.reshape(w, (n, 1))
    p = e * (w / xp.sum(e, axis=1, keepdims=True))
    hit = xp.reshape(t, (n, 1)) == xp.arange(c, dtype=t.dtype, **_dkw(device))
    return xp.where(hit, p - w, p)


# ------------------------------------------------------------- Adam's update (issue 29)
# Not a kernel of the table: it writes into its arguments (see Backend.adam_update_).

def _row_blocks(arrays, block):
    """``[arrays]``, or, for arrays of more than ``2 * block`` elements, one list per block of
    rows (about ``block`` elements each): views, so what is written lands in the arrays."""
    a = arrays[0]
    n = math.prod(a.shape)
    if n <= 2 * block or a.ndim == 0:
        return [arrays]
    rows = a.shape[0]
    step = -(-rows // -(-n // block))       # rows per block: the blocks about even
    if step >= rows:
        return [arrays]
    return [[None if x is None else x[i:min(i + step, rows), ...] for x in arrays]
            for i in range(0, rows, step)]


def _average(avg, x, weight):
    """``avg += weight * (x - avg)`` in place, as ``interop.optim``'s ``ema_`` computes it for
    float32 and float64: ``(avg * ((1 - weight) / weight) + x) * weight``."""
    if weight != 0:
        avg *= (1 - weight) / weight
        avg += x
        avg *= weight
    else:
        avg += (x - avg) * weight


def adam_update_(xp, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, weight1, weight2, eps,
                 scale, block, maximize, weight_decay, shrink):
    """Adam's update in place, as ``Backend.adam_update_`` states it: the passes of
    ``interop.optim.adam``'s tensor form with the standard's in-place operators, over blocks
    of rows of about ``block`` elements where the arrays have more than ``2 * block`` (so
    that the dozen passes over a block find it in the cache; each element gets the same
    arithmetic either way)."""
    for p, g, m, v, vmax in _row_blocks([param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq],
                                        block):
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * p
        if shrink is not None:
            p *= shrink
        _average(m, g, weight1)
        _average(v, g * g, weight2)
        if vmax is not None:
            vmax[...] = xp.maximum(vmax, v)
        denom = xp.sqrt(v if vmax is None else vmax)
        denom += eps
        step = m / denom
        step *= scale
        p -= step


# ----------------------------------------------------------------- the LSTM's time loop
#
# One layer and direction over its steps (the kernels lstm_scan and lstm_scan_backward).
# Step t works on the first n rows of the state (B rows); a step's new rows are joined on top
# of the rest (a sequence that has ended keeps its last state, one that starts late in the
# reverse direction its initial one). No item assignment: this runs on immutable namespaces.

def lstm_spans(sizes, reverse):
    """``(start, stop)`` of the packed rows of each time step, in visiting order."""
    spans, start = [], 0
    for n in sizes:
        spans.append((start, start + n))
        start += n
    return spans[::-1] if reverse else spans


def _on_top(xp, new, state):
    """``state`` with its first rows replaced by ``new``."""
    n = new.shape[0]
    return new if n == state.shape[0] else xp.concat([new, state[n:, :]], axis=0)


def _packed(xp, pieces, reverse):
    """Per-step pieces in visiting order, joined in packed (time) order (a new array)."""
    return xp.concat(pieces[::-1] if reverse else pieces, axis=0)


def lstm_cell(xp, gates, c):
    """One LSTM step's gate math on the pre-activations ``gates`` (n, 4H) and the cell state
    ``c`` (n, H): ``(acts, c', tanh(c'), o * tanh(c'))``, acts the activated gates (sigmoid
    of i, f, o, tanh of g), ``c' = f * c + i * g``."""
    H = c.shape[1]
    acts = xp.concat([sigmoid(xp, gates[:, :2 * H]), xp.tanh(gates[:, 2 * H:3 * H]),
                      sigmoid(xp, gates[:, 3 * H:])], axis=1)
    i, f, g, o = (acts[:, k * H:(k + 1) * H] for k in range(4))
    c = f * c + i * g
    tc = xp.tanh(c)
    return acts, c, tc, o * tc


def lstm_cell_backward(xp, dh, dc, acts, c_prev, tc):
    """The gradients of :func:`lstm_cell` from those of its m (``dh``) and c' (``dc``):
    ``(d_gates, dc_prev)``, d_gates that of the pre-activations."""
    H = c_prev.shape[1]
    i, f, g, o = (acts[:, k * H:(k + 1) * H] for k in range(4))
    dc = dc + dh * o * (1 - tc * tc)
    d_gates = xp.concat([dc * g * (i * (1 - i)), dc * c_prev * (f * (1 - f)),
                         dc * i * (1 - g * g), dh * tc * (o * (1 - o))], axis=1)
    return d_gates, dc * f


def lstm_scan(xp, xw, h0, c0, w_hh, w_hr, sizes, reverse, keep):
    """The kernel ``lstm_scan``: an LSTM layer and direction over its steps (see the table)."""
    w_hh_t = xp.matrix_transpose(w_hh)
    w_hr_t = None if w_hr is None else xp.matrix_transpose(w_hr)
    h, c = h0, c0
    outs, acts, cs, tcs, hs, ms = [], [], [], [], [], []
    for r0, r1 in lstm_spans(sizes, reverse):
        n = r1 - r0
        hp, cp = h[:n, :], c[:n, :]
        a, cn, tc, m = lstm_cell(xp, xw[r0:r1, :] + xp.matmul(hp, w_hh_t), cp)
        hn = m if w_hr_t is None else xp.matmul(m, w_hr_t)
        outs.append(hn)
        if keep:
            acts.append(a)
            cs.append(cp)
            tcs.append(tc)
            hs.append(hp)
            ms.append(m)
        h, c = _on_top(xp, hn, h), _on_top(xp, cn, c)
    res = (_packed(xp, outs, reverse), h, c)
    if keep:
        res += tuple(_packed(xp, p, reverse) for p in (acts, cs, tcs, hs)) + (
            None if w_hr is None else _packed(xp, ms, reverse),)
    return res


def lstm_scan_backward(xp, g_out, g_hn, g_cn, acts, c_prev, tc, m, w_hh, w_hr, sizes, reverse,
                       need_h0, need_c0):
    """The kernel ``lstm_scan_backward``: the gradients of :func:`lstm_scan`, the steps
    walked back (see the table)."""
    spans = lstm_spans(sizes, reverse)
    dh, dc = g_hn, g_cn
    d_gates, d_hs = [], []
    for k in range(len(spans) - 1, -1, -1):
        r0, r1 = spans[k]
        n = r1 - r0
        dm = dh[:n, :] + g_out[r0:r1, :]
        if w_hr is not None:
            d_hs.append(dm)
            dm = xp.matmul(dm, w_hr)
        d, dck = lstm_cell_backward(xp, dm, dc[:n, :], acts[r0:r1, :], c_prev[r0:r1, :],
                                    tc[r0:r1, :])
        d_gates.append(d)
        # (the first step's state gradients only where the initial state wants them)
        if k or need_c0:
            dc = _on_top(xp, dck, dc)
        if k or need_h0:
            dh = _on_top(xp, xp.matmul(d, w_hh), dh)
    return (_packed(xp, d_gates[::-1], reverse), dh if need_h0 else None,
            dc if need_c0 else None,
            None if w_hr is None else _packed(xp, d_hs[::-1], reverse))
