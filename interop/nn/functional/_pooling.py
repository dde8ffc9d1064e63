"""Pooling: max, average, power-average, adaptive and fractional max pooling, and max
unpooling (``max_pool1d/2d/3d``, ``avg_pool*``, ``lp_pool*``, ``adaptive_avg_pool*``,
``adaptive_max_pool*``, ``fractional_max_pool2d/3d``, ``max_unpool*``).

Two primitives do the work. ``_window_max`` is the backend kernel ``window_argmax``: each
window's maximum and the kernel offset of the element that gets its gradient (PyTorch's
rule: the first maximum in row-major kernel order, or the last NaN; never the padding, which
the kernel does not read), one pass where the backend compiles it; only those small integer
offsets are saved, and the backward is the kernel ``window_argmax_add`` (the gradient added
at those elements). ``_window_sum`` reduces over the kernel offsets, one strided slice of
the padded input at a time, and hands the gradient back with ``windows_add`` (the adjoint
of the windows, one strided add per kernel offset). Composites would be wrong or slow here:
``maximum``'s even split at ties is not PyTorch's gradient, and reducing the kernel axes of
a window view takes NumPy ~15x the time of these few elementwise ops. Adaptive max pooling gathers
each window to a common width and reuses ``_window_max``; fractional max pooling gathers
each plane's pseudo-random windows into a regular grid of blocks and reuses it too; max
unpooling is a ``scatter`` into zero planes, whose gradient is the gather at the indices.
"""

import itertools
import math
import operator

import interop as it
from . import _checks as check
from . import _padding

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
           "max_pool2d_with_indices", "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d",
           "avg_pool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
           "adaptive_max_pool2d", "adaptive_max_pool3d", "adaptive_max_pool1d_with_indices",
           "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices", "max_unpool1d",
           "max_unpool2d", "max_unpool3d", "fractional_max_pool2d", "fractional_max_pool3d",
           "fractional_max_pool2d_with_indices", "fractional_max_pool3d_with_indices"]


# ------------------------------------------------------------------------ window geometry

def _offset_keys(lead, kernel, stride, dilation, out):
    """For each kernel offset in row-major order, the strided slice of the (padded) input it
    reads: the windows as slices, which the pooling loops reduce one at a time."""
    return [(slice(None),) * lead + tuple(slice(k * d, k * d + (o - 1) * s + 1, s)
                                          for k, o, s, d in zip(off, out, stride, dilation))
            for off in itertools.product(*map(range, kernel))]


def _pool_input(input, n, op):
    """``input`` as a batched tensor, and whether it was batched; a floating dtype and
    non-empty dims (the batch may be empty) are required."""
    check.tensor(f"{op}()", "input", input)
    shape = tuple(input.shape)
    if input.ndim not in (n + 1, n + 2) or 0 in shape[-(n + 1):]:
        raise it.ShapeError(f"{op}(): expected a {n + 1}-D (unbatched) or {n + 2}-D (batched) "
                            f"input with non-zero sizes except the batch, but got input of size: "
                            f"{list(shape)}")
    if not input.dtype.is_floating_point:
        raise it.DTypeError(f"{op}(): expected a floating-point input, got dtype {input.dtype}")
    batched = input.ndim == n + 2
    return (input if batched else it.unsqueeze(input, 0)), batched


def _pool_geometry(op, n, x, kernel_size, stride, padding, dilation, ceil_mode):
    """(kernel, stride, dilation, padding, output size, extra right padding that ceil_mode's
    last windows need), checked as PyTorch checks them."""
    kernel = check.ints(f"{op}()", "kernel_size", kernel_size, n)
    if any(k <= 0 for k in kernel):
        raise it.ArgumentError(f"{op}(): kernel_size must be greater than zero, but got "
                               f"kernel_size={list(kernel)}")
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel
    stride = check.ints(f"{op}()", "stride", stride, n)
    if any(s <= 0 for s in stride):
        raise it.ArgumentError(f"{op}(): stride must be greater than zero, but got stride="
                               f"{list(stride)}")
    dilation = check.positive(f"{op}()", "dilation", check.ints(f"{op}()", "dilation", dilation, n))
    pad = check.ints(f"{op}()", "padding", padding, n)
    for p, k in zip(pad, kernel):
        if p < 0 or 2 * p > k:
            raise it.ArgumentError(f"{op}(): pad should be non-negative and at most half of "
                                   f"kernel size, but got pad={list(pad)} and kernel_size="
                                   f"{list(kernel)}")
    size = tuple(x.shape[2:])
    out, extra = [], []
    for m, k, s, p, d in zip(size, kernel, stride, pad, dilation):
        span = m + 2 * p - d * (k - 1) - 1
        o = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= m + p:      # the last window must start in the input
            o -= 1
        out.append(o)
        extra.append(max(0, (o - 1) * s + d * (k - 1) + 1 - (m + 2 * p)))
    if any(o <= 0 for o in out):
        raise it.ShapeError(f"{op}(): given input size: ({check.dims((x.shape[1],) + size)}). "
                            f"Calculated output size: "
                            f"({check.dims((x.shape[1],) + tuple(max(o, 0) for o in out))}). "
                            f"Output size is too small")
    return kernel, stride, dilation, pad, tuple(out), tuple(extra)


# ---------------------------------------------------------------------------- max pooling

class _WindowMaxBackward(it.autograd.Node):
    """The gradient of :func:`_window_max`: each window's gradient to the one element whose
    kernel offset the forward saved (the kernel ``window_argmax_add``: one pass); under
    ``create_graph``, the same as differentiable ops (:func:`_argmax_add_graph`)."""
    saves = ("offsets",)

    def backward(self, xp, g, s):
        if xp is self.be.ns:
            return xp.window_argmax_add(self.args[0], g, s.offsets, *self.args[1:]),
        return _argmax_add_graph(g, s.offsets, *self.args),


def _argmax_add_graph(g, offsets, shape, kernel, stride, dilation, padding):
    """``window_argmax_add`` written with interop's differentiable ops, for ``create_graph``:
    per kernel offset the gradient where that offset holds the window's element (a where, so
    that an inf gradient stays in its window), added back with ``windows_add`` into the
    padded span the windows cover, whose real part is cut out (zeros after it where the
    windows end first). Its own gradient is the gather of the incoming gradient at those
    elements."""
    n = len(kernel)
    lead = tuple(g.shape[:g.ndim - n])
    out = tuple(g.shape[g.ndim - n:])
    if 0 in tuple(g.shape):
        return it.zeros(shape, dtype=g.dtype, device=g.device)
    reach = tuple((o - 1) * s + d * (k - 1) + 1
                  for k, s, d, o in zip(kernel, stride, dilation, out))
    zero = it.zeros_like(g)
    cols = it.stack([it.where(offsets == i, g, zero) for i in range(math.prod(kernel))],
                    axis=len(lead))
    cols = it.reshape(cols, lead + kernel + out)
    acc = it.windows_add(lead + reach, cols, kernel, stride, dilation)
    return _padding.pad_pairs(acc, [(-p, p + m - r) for p, m, r in
                                    zip(padding, shape[len(lead):], reach)])


def _window_max(x, kernel, stride, dilation, padding, out, index):
    """The maximum of every window of ``x``'s last ``len(kernel)`` dims (the kernel
    ``window_argmax``: NaN where the window has one; ``padding`` entries before each dim,
    and as many after as the ``out`` windows need, take no part), and, with ``index``,
    which kernel offset holds it (row-major, the backend's default int). The gradient goes
    to that one element: the first maximum in the window, the last NaN of a window that has
    NaNs (PyTorch's rule), never to the padding."""
    if not index and not (it.is_grad_enabled() and x.requires_grad):
        return _window_values(x, kernel, stride, dilation, padding, out)
    with it.no_grad():
        m, k = it.autograd.run_kernel("window_argmax", x, kernel, stride, dilation, padding,
                                      out)
    m = it.autograd.primitive(_WindowMaxBackward, (x,), m, saved=(k,),
                              args=(tuple(x.shape), kernel, stride, dilation, padding))
    return (m, it.astype(k, x.backend.default_int)) if index else m


def _window_values(x, kernel, stride, dilation, padding, out):
    """The maxima alone (nothing to differentiate, no indices asked for): a ``maximum`` per
    kernel offset over strided slices of the input padded with -inf, which NumPy runs
    vectorized (3x3 windows of stride 1: 2.0 ms on (32, 32, 28, 28), where the kernel,
    which must find where each maximum is, takes 9 ms)."""
    n = len(kernel)
    size = tuple(x.shape[x.ndim - n:])
    pads = [(p, max(0, (o - 1) * s + d * (k - 1) + 1 - p - m)) for k, s, d, p, o, m in
            zip(kernel, stride, dilation, padding, out, size)]
    x = _padding.pad_pairs(x, pads, -math.inf)
    keys = _offset_keys(x.ndim - n, kernel, stride, dilation, out)
    m = x[keys[0]]
    for key in keys[1:]:
        m = it.maximum(m, x[key])
    return it.clone(m) if len(keys) == 1 else m


def _max_pool(op, n, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, batched = _pool_input(input, n, op)
    kernel, stride, dilation, pad, out, _ = _pool_geometry(op, n, x, kernel_size, stride,
                                                           padding, dilation, ceil_mode)
    size = tuple(x.shape[2:])
    res = _window_max(x, kernel, stride, dilation, pad, out, return_indices)
    if not return_indices:
        return res if batched else res[0]
    m, k = res
    # the offset's position in the (unpadded) input plane, flattened per channel
    flat = None
    step = 1
    for i in range(n - 1, -1, -1):
        ki = (k // math.prod(kernel[i + 1:])) % kernel[i]
        o = it.reshape(it.arange(out[i], device=x.device), (out[i],) + (1,) * (n - 1 - i))
        pos = (o * stride[i] - pad[i] + ki * dilation[i]) * step
        flat = pos if flat is None else flat + pos
        step *= size[i]
    return (m, flat) if batched else (m[0], flat[0])


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool1d`` that returns (values, indices) whatever ``return_indices`` says."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool2d`` that returns (values, indices) whatever ``return_indices`` says."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool3d`` that returns (values, indices) whatever ``return_indices`` says."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode,
                     True)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The maximum of each window of ``input`` (N, C, L) or (C, L); ``stride`` defaults to
    ``kernel_size``, padding is -inf. ``return_indices``: also the position of each maximum
    in its channel (what ``max_unpool1d`` takes)."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The maximum of each window of ``input`` (N, C, H, W) or (C, H, W); ``stride`` defaults
    to ``kernel_size``, padding is -inf. ``return_indices``: also the flat position
    ``h * W + w`` of each maximum in its channel plane."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The maximum of each window of ``input`` (N, C, D, H, W) or (C, D, H, W); ``stride``
    defaults to ``kernel_size``, padding is -inf."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


# ------------------------------------------------------------------------ average pooling

class _WindowSumBackward(it.autograd.Node):
    """The gradient of :func:`_window_sum`: the output gradient broadcast over each window
    and added back with ``windows_add``."""
    saves = ()

    def backward(self, xp, g, s):
        shape, kernel, stride, out = self.args
        lead = tuple(g.shape[:len(shape) - len(kernel)])
        cols = xp.broadcast_to(xp.reshape(g, lead + (1,) * len(kernel) + out), lead + kernel + out)
        return xp.windows_add(shape, cols, kernel, stride, (1,) * len(kernel)),


def _window_sum(x, kernel, stride, out):
    """The sum of every window of ``x``'s last ``len(kernel)`` dims (no dilation)."""
    with it.no_grad():
        keys = _offset_keys(x.ndim - len(kernel), kernel, stride, (1,) * len(kernel), out)
        total = x[keys[0]]
        for key in keys[1:]:
            total = total + x[key]
        if len(keys) == 1:
            total = it.clone(total)
    return it.autograd.primitive(_WindowSumBackward, (x,), total,
                                 args=(tuple(x.shape), kernel, stride, out))


def _avg_pool(op, n, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    x, batched = _pool_input(input, n, op)
    kernel, stride, _, pad, out, extra = _pool_geometry(op, n, x, kernel_size, stride, padding,
                                                        1, ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise it.ArgumentError(f"{op}(): divisor must be not zero, got divisor_override=0")
    size = tuple(x.shape[2:])
    total = _window_sum(_padding.pad_pairs(x, [(p, p + e) for p, e in zip(pad, extra)]),
                        kernel, stride, out)
    if divisor_override is not None:
        y = total / divisor_override
    else:
        # per dim, how many elements each window counts: up to the padded input's end, and
        # without the padding unless count_include_pad
        counts = []
        for m, k, s, p, o in zip(size, kernel, stride, pad, out):
            c = []
            for j in range(o):
                lo, hi = j * s - p, min(j * s - p + k, m + p)
                c.append(hi - lo if count_include_pad else min(hi, m) - max(lo, 0))
            counts.append(c)
        if all(c == counts[i][:1] * len(c) for i, c in enumerate(counts)):
            y = total / math.prod(c[0] for c in counts)
        else:
            den = None
            for i, c in enumerate(counts):
                t = it.reshape(it.asarray(c, dtype=x.dtype, device=x.device),
                               (len(c),) + (1,) * (n - 1 - i))
                den = t if den is None else den * t
            y = total / den
    return y if batched else y[0]


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """The mean of each window of ``input`` (N, C, L) or (C, L); ``stride`` defaults to
    ``kernel_size``; zero padding, counted in the mean unless ``count_include_pad=False``."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """The mean of each window of ``input`` (N, C, H, W) or (C, H, W); ``divisor_override``
    replaces the window size as the divisor."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """The mean of each window of ``input`` (N, C, D, H, W) or (C, D, H, W)."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def _lp_pool(op, n, input, norm_type, kernel_size, stride, ceil_mode):
    check.tensor(f"{op}()", "input", input)
    kernel = check.ints(f"{op}()", "kernel_size", kernel_size, n)
    avg = _avg_pool(op, n, input ** norm_type, kernel, stride, 0, ceil_mode, True, None)
    return (it.sign(avg) * it.relu(it.abs(avg)) * math.prod(kernel)) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """The power-average ``(sum x^p)^(1/p)`` of each window (p = ``norm_type``)."""
    return _lp_pool("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """The power-average ``(sum x^p)^(1/p)`` of each window (p = ``norm_type``)."""
    return _lp_pool("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """The power-average ``(sum x^p)^(1/p)`` of each window (p = ``norm_type``)."""
    return _lp_pool("lp_pool3d", 3, input, norm_type, kernel_size, stride, ceil_mode)


# ----------------------------------------------------------------------- adaptive pooling

def _adaptive_input(input, n, output_size, op, floating):
    """``input`` batched, whether it was, and the output size (None keeps an input size)."""
    check.tensor(f"{op}()", "input", input)
    if input.ndim not in (n + 1, n + 2) or 0 in tuple(input.shape[-n:]):
        raise it.ShapeError(f"{op}(): expected a {n + 1}-D (unbatched) or {n + 2}-D (batched) "
                            f"input with non-zero spatial sizes, but got input of size: "
                            f"{list(input.shape)}")
    if floating and not input.dtype.is_floating_point:
        raise it.DTypeError(f"{op}(): expected a floating-point input, got dtype {input.dtype}")
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != n:
            raise it.ArgumentError(f"{op}(): output_size must be {n} numbers, got "
                                   f"{list(output_size)}")
        size = tuple(input.shape[-n + i] if v is None else v for i, v in enumerate(output_size))
    else:
        size = output_size
    size = check.ints(f"{op}()", "output_size", size, n)
    if any(v < 0 for v in size):
        raise it.ArgumentError(f"{op}(): output_size must be non-negative, got {list(size)}")
    batched = input.ndim == n + 2
    return (input if batched else it.unsqueeze(input, 0)), batched, size


def _bins(m, o):
    """PyTorch's adaptive windows of a dim of size ``m`` into ``o`` outputs: [start, stop)."""
    return [((i * m) // o, -(-(i + 1) * m // o)) for i in range(o)]


def _adaptive_avg(op, n, input, output_size):
    x, batched, size = _adaptive_input(input, n, output_size, op, True)
    for i, o in enumerate(size):
        ax = x.ndim - n + i
        m = x.shape[ax]
        if o == m:
            continue
        if o == 1:
            x = it.mean(x, axis=ax, keepdims=True)
            continue
        # a linear map along the dim: (m, o) averaging weights, one matmul
        rows = [[1.0 / (b - a) if a <= j < b else 0.0 for a, b in _bins(m, o)] for j in range(m)]
        avg = it.asarray(rows, dtype=x.dtype, device=x.device) if o else \
            it.zeros((m, 0), dtype=x.dtype, device=x.device)
        x = it.moveaxis(it.matmul(it.moveaxis(x, ax, -1), avg), -1, ax)
    return x if batched else x[0]


def adaptive_avg_pool1d(input, output_size):
    """The mean over ``output_size`` adaptive windows of ``input`` (N, C, L) or (C, L)."""
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """The mean over adaptive windows giving an ``output_size`` (an int, or a pair whose None
    keeps that input size) output of ``input`` (N, C, H, W) or (C, H, W)."""
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """The mean over adaptive windows of ``input`` (N, C, D, H, W) or (C, D, H, W)."""
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


def _adaptive_max(op, n, input, output_size, return_indices):
    x, batched, size = _adaptive_input(input, n, output_size, op, True)
    spatial = tuple(x.shape[2:])
    pos = []                     # per dim done: the input coordinate along it of each maximum
    for i in range(n - 1, -1, -1):
        ax = 2 + i
        m, o = spatial[i], size[i]
        bins = _bins(m, o)
        width = max((b - a for a, b in bins), default=1)
        # each window gathered to `width` elements (short ones repeat their last element, which
        # changes neither the maximum nor where the gradient lands), then a plain window max
        table = it.asarray([min(a + j, b - 1) for a, b in bins for j in range(width)],
                           dtype=x.backend.default_int, device=x.device)
        trail = n - 1 - i
        gathered = it.index_select(x, ax, table)
        kernel = (width,) + (1,) * trail
        x, k = _window_max(gathered, kernel, kernel, (1,) * (trail + 1), (0,) * (trail + 1),
                           (o,) + tuple(x.shape[ax + 1:]), True)
        if return_indices:
            start = it.reshape(it.arange(o, device=x.device) * width, (o,) + (1,) * trail)
            where = it.take(table, k + start)
            # the coordinates found for the later dims follow this dim's choice of row
            pos = [where] + [it.take_along_axis(p, where, axis=ax) for p in pos]
    if not return_indices:
        return x if batched else x[0]
    flat = None
    step = 1
    for i in range(n - 1, -1, -1):
        term = pos[i] * step
        flat = term if flat is None else flat + term
        step *= spatial[i]
    return (x, flat) if batched else (x[0], flat[0])


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """The maximum over ``output_size`` adaptive windows of ``input`` (N, C, L) or (C, L)."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """The maximum over adaptive windows of ``input`` (N, C, H, W) or (C, H, W)."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """The maximum over adaptive windows of ``input`` (N, C, D, H, W) or (C, D, H, W)."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool1d`` that returns (values, indices)."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool2d`` that returns (values, indices)."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool3d`` that returns (values, indices)."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, True)


# ----------------------------------------------------------------- fractional max pooling

def _intervals(u, m, o, k):
    """PyTorch's window starts along a dim of size ``m`` pooled to ``o`` outputs by windows
    of ``k``, from one sample ``u`` in [0, 1) per plane ((N, C) -> (N, C, o) int64):
    ``trunc((i + u) * alpha) - trunc(u * alpha)`` with ``alpha = (m - k) / (o - 1)``, the
    last window ending at the dim's end. The arithmetic is done in the samples' dtype, as
    PyTorch's kernel does it, so that the same samples give the same windows."""
    lead = tuple(u.shape)
    itype = u.backend.default_int
    last = it.full(lead + (min(o, 1),), m - k, dtype=itype, device=u.device)
    if o <= 1:
        return last
    alpha = (it.asarray(m - k, dtype=u.dtype, device=u.device)
             / it.asarray(o - 1, dtype=u.dtype, device=u.device))
    u = it.unsqueeze(u, -1)
    i = it.arange(o - 1, dtype=u.dtype, device=u.device)
    starts = (it.astype(it.trunc((i + u) * alpha), itype)
              - it.astype(it.trunc(u * alpha), itype))
    return it.concat([starts, last], axis=-1)


def _fractional_size(op, n, x, output_size, output_ratio):
    """The output size: ``output_size``, or ``int(input size * output_ratio)`` per dim."""
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if output_size is not None:
        size = check.ints(f"{op}()", "output_size", output_size, n)
    else:
        ratio = tuple(output_ratio) if isinstance(output_ratio, (tuple, list)) else \
            (output_ratio,)
        if len(ratio) == 1:
            ratio *= n
        if len(ratio) != n or not all(isinstance(r, (int, float)) for r in ratio):
            raise ValueError(f"{op} requires output_ratio to be a single number or a tuple of "
                             f"{n} numbers, got {output_ratio!r}")
        size = tuple(int(m * r) for m, r in zip(x.shape[2:], ratio))
    if any(v < 0 for v in size):
        raise it.ArgumentError(f"{op}(): output_size must be non-negative, got {list(size)}")
    return size


def _fractional_samples(op, n, x, samples):
    """The (N, C, n) samples in [0, 1) that place the windows: drawn when None, else checked
    (the first N rows are used, as in PyTorch)."""
    nb, c = x.shape[0], x.shape[1]
    if samples is None:
        return it.rand(nb, c, n, dtype=x.dtype, device=x.device)
    check.tensor(f"{op}()", "_random_samples", samples)
    check.input_dtype(f"{op}()", "_random_samples", samples, x)
    got = list(samples.shape)
    if samples.ndim != 3 or got[0] < nb or got[1] != c or got[2] != n:
        raise it.ShapeError(f"{op}(): expected _random_samples of shape (N, C, {n}) with N at "
                            f"least the batch size {nb} and C={c}, got {got}")
    samples = samples[:nb]
    if nb and bool(it.any((samples < 0) | (samples >= 1))):
        raise it.ArgumentError(f"{op}(): expected _random_samples in [0, 1), got values in "
                               f"[{float(it.min(samples))}, {float(it.max(samples))}]")
    return samples


def _fractional_max_pool(op, n, input, kernel_size, output_size, output_ratio, return_indices,
                         samples):
    x, batched = _pool_input(input, n, op)
    kernel = check.positive(f"{op}()", "kernel_size",
                            check.ints(f"{op}()", "kernel_size", kernel_size, n))
    out = _fractional_size(op, n, x, output_size, output_ratio)
    spatial = tuple(x.shape[2:])
    names = ("height", "width") if n == 2 else ("time", "height", "width")
    for name, m, k, o in zip(names, spatial, kernel, out):
        # PyTorch's bound: the windows fit (2-d), and leave one element to spare (3-d)
        if o + k - 1 > m or (n == 3 and o + k - 1 == m):
            raise it.ShapeError(f"{op}(): pool {name} {k} too large relative to input {name} "
                                f"{m} for an output {name} of {o}")
    samples = _fractional_samples(op, n, x, samples)
    nb, c = x.shape[0], x.shape[1]
    if nb == 0 or 0 in out:
        y = x[(slice(None),) * 2 + tuple(slice(0, o) for o in out)]
        y = it.clone(y)
        if not return_indices:
            return y if batched else y[0]
        k = it.zeros(tuple(y.shape), dtype=x.backend.default_int, device=x.device)
        return (y, k) if batched else (y[0], k[0])
    # 2-d kernels read the width's sample first, 3-d ones the time's
    order = (1, 0) if n == 2 else (0, 1, 2)
    starts = [_intervals(samples[:, :, order[d]], spatial[d], out[d], kernel[d])
              for d in range(n)]
    # each plane's windows gathered dim by dim into a regular (o * k) grid of blocks, which
    # a plain window max with stride = kernel reduces (its gradient adds back through the
    # gathers, so overlapping windows accumulate)
    g = x
    for d in range(n):
        table = it.unsqueeze(starts[d], -1) + it.arange(kernel[d], device=x.device)
        table = it.reshape(table, (nb, c) + (1,) * d + (out[d] * kernel[d],) + (1,) * (n - 1 - d))
        g = it.take_along_axis(g, table, axis=2 + d)
    res = _window_max(g, kernel, kernel, (1,) * n, (0,) * n, out, return_indices)
    if not return_indices:
        return res if batched else res[0]
    m, k = res
    # the maximum's flat position in its input plane: window start plus kernel offset per dim
    flat = None
    step = 1
    for d in range(n - 1, -1, -1):
        off = (k // math.prod(kernel[d + 1:])) % kernel[d]
        start = it.reshape(starts[d], (nb, c) + (1,) * d + (out[d],) + (1,) * (n - 1 - d))
        term = (start + off) * step
        flat = term if flat is None else flat + term
        step *= spatial[d]
    return (m, flat) if batched else (m[0], flat[0])


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """``fractional_max_pool2d`` that returns (values, indices) whatever ``return_indices``
    says."""
    return _fractional_max_pool("fractional_max_pool2d", 2, input, kernel_size, output_size,
                                output_ratio, True, _random_samples)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Fractional max pooling (Graham, 2014) of ``input`` (N, C, H, W) or (C, H, W): the
    maximum of ``kernel_size`` windows whose starts step pseudo-randomly to give an
    ``output_size`` (or ``output_ratio`` of the input size) output. ``_random_samples``
    (N, C, 2) in [0, 1), the input's dtype, places the windows (drawn when None); the same
    samples give PyTorch's windows. ``return_indices``: also the flat position ``h * W + w``
    of each maximum in its channel plane."""
    return _fractional_max_pool("fractional_max_pool2d", 2, input, kernel_size, output_size,
                                output_ratio, return_indices, _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """``fractional_max_pool3d`` that returns (values, indices) whatever ``return_indices``
    says."""
    return _fractional_max_pool("fractional_max_pool3d", 3, input, kernel_size, output_size,
                                output_ratio, True, _random_samples)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Fractional max pooling of ``input`` (N, C, T, H, W) or (C, T, H, W); ``_random_samples``
    is (N, C, 3) (see ``fractional_max_pool2d``)."""
    return _fractional_max_pool("fractional_max_pool3d", 3, input, kernel_size, output_size,
                                output_ratio, return_indices, _random_samples)


# ----------------------------------------------------------------------------- max unpool

def _unpool_size(op, n, x, kernel, stride, pad, output_size):
    """The spatial output size of a max unpool: the size the max pool had, ``(in - 1) *
    stride + kernel - 2 * padding``, or ``output_size`` (its last ``n`` entries; each within
    a stride of that default, as PyTorch requires)."""
    default = [(m - 1) * s + k - 2 * p
               for m, k, s, p in zip(x.shape[-n:], kernel, stride, pad)]
    if output_size is None:
        size = default
    else:
        size = [operator.index(v) for v in output_size]
        if len(size) == n + 2:
            size = size[2:]
        if len(size) != n:
            raise ValueError(f"{op}(): output_size should be a sequence containing {n} or "
                             f"{n + 2} elements, but it has a length of {len(size)}")
        for d, (v, base, s) in enumerate(zip(size, default, stride)):
            if not base - s < v < base + s:
                raise ValueError(f"{op}(): invalid output_size {list(output_size)} (dim {d} "
                                 f"must be between {base - s} and {base + s}, exclusive)")
    for d, v in enumerate(size):
        if v < 0:
            raise ValueError(f"{op}(): output_size must contain non-negative spatial "
                             f"dimensions, but got output_size[{d}]={v}")
    return tuple(size)


def _max_unpool(op, n, input, indices, kernel_size, stride, padding, output_size):
    check.tensor(f"{op}()", "input", input)
    check.tensor(f"{op}()", "indices", indices)
    x, batched = _pool_input(input, n, op)
    shape = tuple(input.shape)
    if indices.dtype not in (it.int64, input.backend.default_int):
        raise it.DTypeError(f"{op}(): expected indices of dtype "
                            f"{input.backend.default_int} (as max_pool returns them on backend "
                            f"{input.backend.name!r}), got {indices.dtype}")
    if tuple(indices.shape) != shape:
        raise it.ShapeError(f"{op}(): expected indices to have the input's shape {list(shape)}, "
                            f"got indices of shape {list(indices.shape)}")
    kernel = check.ints(f"{op}()", "kernel_size", kernel_size, n)
    stride = kernel if stride is None else check.ints(f"{op}()", "stride", stride, n)
    pad = check.ints(f"{op}()", "padding", padding, n)
    if any(s <= 0 for s in stride):
        raise it.ArgumentError(f"{op}(): stride must be greater than zero, but got stride="
                               f"{list(stride)}")
    size = _unpool_size(op, n, input, kernel, stride, pad, output_size)
    idx = indices if batched else it.unsqueeze(indices, 0)
    nb, c = x.shape[0], x.shape[1]
    plane = math.prod(size)
    flat = it.reshape(idx, (nb, c, -1))
    if nb:
        bad = (flat < 0) | (flat >= plane)
        if bool(it.any(bad)):
            first = int(it.argmax(it.reshape(it.astype(bad, it.int8), (-1,))))
            raise it.ArgumentError(f"{op}(): found an invalid max index: "
                                   f"{int(it.reshape(flat, (-1,))[first])} (expected indices "
                                   f"in [0, {plane}): output planes are of size "
                                   f"{check.dims(size)})")
    # each value written at its index of its channel's plane (the last write wins where
    # indices repeat, as PyTorch on the CPU); the gradient is a gather at the indices
    out = it.scatter(it.zeros((nb, c, plane), dtype=x.dtype, device=x.device), 2, flat,
                     it.reshape(x, (nb, c, -1)))
    out = it.reshape(out, (nb, c) + size)
    return out if batched else out[0]


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool1d``: each value of ``input`` (N, C, L) or (C, L)
    put at its position ``indices`` (from ``max_pool1d(..., return_indices=True)``) in a
    zero output of length ``(L - 1) * stride + kernel_size - 2 * padding`` (or
    ``output_size``)."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool2d``: each value of ``input`` (N, C, H, W) or
    (C, H, W) put at its flat position ``h * W_out + w`` (``indices``) in its channel's
    zero output plane."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool3d``: each value of ``input`` (N, C, D, H, W) or
    (C, D, H, W) put at its flat position in its channel's zero output volume."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                       output_size)
