"""Convolution: ``conv1d/2d/3d``, ``conv_transpose1d/2d/3d`` and the im2col pair
``unfold``/``fold``.

Convolution is im2col and one matmul. ``it.windows`` (the backends' sliding-window kernel)
gives the padded input's windows as (N, C, *kernel, *out) -- a view where the backend can
make one -- and one reshape lays them out as the im2col matrix: the only copy. One matmul,
batched over the groups, applies the weight: one (C * K, N * L) matrix where the matmul's
arithmetic dominates -- its columns ordered (L, N), the batch innermost, where the windows'
rows are narrow (``INNER_BELOW``) -- per sample (N, C * K, L) where the matrix is short (few
input channels; see ``_convolve``). The whole is one primitive whose backward runs on raw arrays
(``_ConvBackward``): two matmuls and ``windows_add``, the adjoint of the windows (one
strided add per kernel offset, not a scatter), each only where a gradient is needed. A
transposed convolution is the same pair the other way round: one matmul, then
``windows_add``.

Where the time goes (conv2d 32->64 3x3 on (64, 32, 13, 13), one thread, CPU time,
2026-12-07): the three matmuls 4.3-5.0 ms (the cpu backend's compiled float32 GEMM) of
6.2-7.6 ms; the rest 1.9-2.4 ms (it was 3.9-4.3 with the columns ordered (N, L)): the input
moved batch-innermost and the im2col copy ~0.6 ms, the col2im ~0.65 ms, the output's move
with the bias ~0.25 ms, the gradient's copy and sum ~0.3 ms, all bound by memory (the im2col
matrix and the input gradient's product are 8.9 MB each). Where the columns run the batch
innermost (one group), the input gradient is the kernel ``windows_add_product``: the cpu
backend adds its product's blocks straight into the image (for batches of 32s), so the
product's matrix is never stored (the whole conv2d 32->64: 1.26-1.39x -> 1.15-1.29x
PyTorch's time). With 2-d windows and one group the forward's and the weight gradient's
products read the windows in place too (``windows_product``, ``product_windows``; see
``IMPLICIT``): no im2col matrix at all. Any other matrix larger than the cache runs in blocks
of samples (see ``BLOCK_BYTES``).
"""

import math
import operator

import interop as it
from . import _checks as check
from . import _padding

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "unfold", "fold"]


# ---------------------------------------------------------------------------- convolution

def _counts(size, kernel, stride, dilation):
    """Windows along each dim (PyTorch's output size of an unpadded convolution)."""
    return tuple((n - d * (k - 1) - 1) // s + 1
                 for n, k, s, d in zip(size, kernel, stride, dilation))


def _conv_padding(padding, n, kernel, stride, dilation, op):
    """(before, after) padding per spatial dim from an int, a tuple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise it.ArgumentError(f"{op}(): padding='same' is not supported for strided "
                                       f"convolutions (got stride={list(stride)})")
            total = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in total)
        raise it.ArgumentError(f"{op}(): invalid padding string {padding!r}; expected 'same', "
                               f"'valid', an int or a tuple of {n} ints")
    p = check.ints(f"{op}()", "padding", padding, n)
    if any(v < 0 for v in p):
        raise it.ArgumentError(f"{op}(): negative padding is not supported, got padding={list(p)}")
    return tuple((v, v) for v in p)


def _check_conv(op, n, input, weight, bias, stride, dilation, groups, transposed):
    """Checks shared by convolutions and transposed convolutions; returns (input as a batched
    tensor, whether it was batched, stride, dilation, groups)."""
    check.tensor(f"{op}()", "input", input)
    check.tensor(f"{op}()", "weight", weight)
    stride = check.ints(f"{op}()", "stride", stride, n)
    dilation = check.ints(f"{op}()", "dilation", dilation, n)
    try:
        groups = operator.index(groups)
    except TypeError:
        raise TypeError(f"{op}(): groups must be an int, got {groups!r}") from None
    if any(s <= 0 for s in stride):
        raise it.ArgumentError(f"{op}(): non-positive stride is not supported, got stride="
                               f"{list(stride)}")
    check.positive(f"{op}()", "dilation", dilation)
    if groups <= 0:
        raise it.ArgumentError(f"{op}(): non-positive groups is not supported, got groups={groups}")
    if input.ndim not in (n + 1, n + 2):
        raise it.ShapeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to {op}, "
                            f"but got input of size: {list(input.shape)}")
    w = list(weight.shape)
    if weight.ndim != n + 2:
        layout = ("in_channels, out_channels / groups" if transposed
                  else "out_channels, in_channels / groups")
        raise it.ShapeError(f"{op}(): expected a {n + 2}-D weight ({layout}, *kernel_size), got "
                            f"weight of size {w}")
    batched = input.ndim == n + 2
    x = input if batched else it.unsqueeze(input, 0)
    if w[0] == 0 or w[0] % groups:
        what = f"divisible by {groups}" if w[0] else "at least 1"
        raise it.ShapeError(f"{op}(): given groups={groups}, expected weight to be {what} at "
                            f"dimension 0, but got weight of size {w} instead")
    want = w[0] if transposed else w[1] * groups
    if x.shape[1] != want:
        raise it.ShapeError(f"{op}(): given {'transposed=1' if transposed else f'groups={groups}'}"
                            f", weight of size {w}, expected input{list(x.shape)} to have {want} "
                            f"channels, but got {x.shape[1]} channels instead")
    if input.dtype != weight.dtype:
        raise it.DTypeError(f"{op}(): expected input and weight to have the same dtype, got input "
                            f"{input.dtype} and weight {weight.dtype}")
    if bias is not None:
        check.tensor(f"{op}()", "bias", bias)
        out_ch = w[1] * groups if transposed else w[0]
        if tuple(bias.shape) != (out_ch,):
            raise it.ShapeError(f"{op}(): given weight of size {w}, expected bias to be "
                                f"1-dimensional with {out_ch} elements, but got bias of size "
                                f"{list(bias.shape)} instead")
        check.input_dtype(f"{op}()", "bias", bias, input)
    return x, batched, stride, dilation, groups


def _add_bias(y, bias, n):
    return y if bias is None else y + it.reshape(bias, (bias.shape[0],) + (1,) * n)


class _ConvBackward(it.autograd.Node):
    """The gradient of :func:`_convolve`, in the layout the forward chose (``per_sample``):
    ``gy @ cols^T`` for the weight (summed over the samples where the matmul ran per
    sample: one ``tensordot`` over samples and positions, which the cpu backend computes as
    dot products of rows, see ``_jit_conv.summed_products``), the row sums of ``gy`` for
    the bias and ``windows_add(W^T @ gy)`` for the input (``windows_add_product``, the two
    in one, where the columns run the batch innermost and there is one group), each only
    where it is needed. An ordinary backward
    reuses the im2col matrix ``cols`` that the forward made (or, where it runs in blocks of
    samples, ``step``, makes each block's again; where the windows are read in place,
    ``implicit``, ``cols`` is ``x`` laid out batch-innermost and the weight's gradient is
    ``product_windows``); under ``create_graph`` it is made again from ``x`` with
    ``windows``, so that second derivatives reach ``x`` through it. Where the forward folded
    the bias into the matmul (``folded``: ``cols`` has a last row of ones), the weight's
    matmul gives the bias's gradient as its last column."""
    saves = ("x", "weight", "cols")

    def backward(self, xp, g, s):
        kernel, stride, dilation, groups, out, per_sample, folded, inner, step, implicit = \
            self.args
        x, weight = s.x, s.weight
        if step is not None and xp is self.be.ns:
            return _backward_blocks(xp, g, x, weight, kernel, stride, dilation, groups, out,
                                    step, inner, self.next)
        nb, c = x.shape[0], x.shape[1]
        o = weight.shape[0]
        ck = c // groups * math.prod(kernel)
        nl = math.prod(out)
        need_x, need_w = self.next[0] is not None, self.next[1] is not None
        need_b = len(self.next) > 2 and self.next[2] is not None
        raw = xp is self.be.ns
        gx = gw = gb = None
        if per_sample:          # (N, G, O / G, L): the gradient as it comes
            gy = xp.reshape(g, (nb, groups, o // groups, nl))
        else:                   # (G, O / G, N * L) or (G, O / G, L * N)
            gy = _gy_matrix(xp, g, inner, groups, o)
        if need_w and implicit and raw:     # (s.cols: x laid out batch-innermost)
            gw = xp.product_windows(gy[0, ...], s.cols, kernel, stride, dilation)
            gw = xp.reshape(gw, tuple(weight.shape))
        elif need_w:
            cols = s.cols if raw else _im2col(xp, x, kernel, stride, dilation, groups, ck,
                                              per_sample, inner)
            if per_sample and groups == 1:      # (summed over the samples in one call)
                gw = xp.tensordot(gy[:, 0, ...], cols[:, 0, ...], axes=([0, 2], [0, 2]))
                gw = xp.reshape(gw, (1,) + tuple(gw.shape))
            else:
                gw = xp.matmul(gy, xp.matrix_transpose(cols))
                if per_sample:
                    gw = xp.sum(gw, axis=0)
            if raw and folded:                      # (1, O, C * K + 1)
                gb = gw[0, :, ck] if need_b else None
                gw = gw[:, :, :ck]
            gw = xp.reshape(gw, tuple(weight.shape))
        if need_b and gb is None:
            gb = xp.reshape(xp.sum(gy, axis=(0, -1) if per_sample else -1), (o,))
        if need_x:
            wt = xp.matrix_transpose(xp.reshape(weight, (groups, o // groups, ck)))
            if raw and inner and groups == 1:   # (the product and col2im in one kernel)
                gx = xp.windows_add_product(tuple(x.shape), wt[0, ...], gy[0, ...], kernel,
                                            stride, dilation)
            else:
                if per_sample:  # (N, G, C / G * K, L) -> (N, C, *kernel, *out): a view
                    prod = (xp.matmul(wt[0, ...], gy[:, 0, ...]) if groups == 1
                            else xp.matmul(wt, gy))
                    gcols = xp.reshape(prod, (nb, c) + kernel + out)
                else:
                    gcols = _gcols(xp, xp.matmul(wt, gy), c, kernel, out, nb, inner)
                gx = xp.windows_add(tuple(x.shape), gcols, kernel, stride, dilation)
        return (gx, gw) if len(self.next) == 2 else (gx, gw, gb)


# Where the matmuls' arithmetic dominates (the one-matrix layout of :func:`_convolve`) and the
# im2col matrix would be larger than the cache (BLOCKS_FROM bytes), the convolution runs in
# blocks of samples whose columns take about BLOCK_BYTES: each block's columns are made into
# a fresh array the size of the cache and read from it by the matmul, in forward, and made
# again in backward for the weight's gradient (nothing the size of the whole matrix is kept:
# 42 MB on the MNIST example's second convolution, whose allocation alone page-faulted for
# ~1.4 ms), where the col2im ``windows_add`` also reads the input gradient's matmul product
# from the cache. That convolution (64 x 24 x 24 windows of 288): 58.6 -> 51.3-52.0 ms
# forward + backward in one run, 59.3 -> 56.9 ms in another (PyTorch: 23.8 ms; its three
# sgemms alone take ~37 ms on this machine). A matrix that fits the cache (LeNet's 32->64
# conv: 8.9 MB) gained nothing measurable, so it runs whole.
BLOCK_BYTES = 1 << 22
BLOCKS_FROM = 1 << 24

# The one-matrix layout orders its columns (L, N), the batch innermost, where the windows'
# rows (the output's last dim) are narrower than INNER_BELOW: the im2col copy then moves runs
# of ow * N elements instead of rows of ow, and the compiled col2im adds runs of N (both
# 3-4x faster at ow = 11), for the price of the input's move to batch-innermost and of a real
# transpose of the output (``batch_to_front``, the bias added there) and of its gradient.
# Forward + backward, one thread, both orders interleaved (2026-12-07): ow = 11 (LeNet's
# 32->64 conv) 8.94 -> 7.43 ms, ow = 16 3.47 -> 2.84, ow = 24 (the MNIST example's second,
# in blocks) 34.3 / 34.8, ow = 32 9.07 -> 8.59, ow = 64 12.49 -> 12.93, conv1d over 96
# 4.20 / 4.21.
INNER_BELOW = 48

# Where that layout has 2-d windows and one group, the im2col matrix is not made at all: the
# input is laid out batch-innermost once, and the forward's product (``windows_product``) and
# the weight gradient's (``product_windows``) take the matrix of its windows as an operand
# that a backend may read in place (the cpu backend's compiled product reads each row of a
# block of 32 columns -- 32 samples of one window -- straight from the image); the input
# gradient is ``windows_add_product``. Nothing the size of the matrix is stored (8.9 MB on
# LeNet's 32->64 conv, 42 MB on the MNIST example's second, which ran in blocks of 6
# samples). Steps at one thread, both ways interleaved in one process (2026-12-07): LeNet
# 16.5 -> 15.7 ms, the MNIST example 55.0 -> 53.7 ms; at two threads 12.3 -> 11.8 and 44.0
# -> 41.0 ms. Other backends run the kernels' references (the matrix made, then the
# product), the backward making it again.
IMPLICIT = True


def _block(nb, sample_bytes):
    """Samples per block: as many as fit BLOCK_BYTES of im2col columns (at least one)."""
    return max(1, min(nb, BLOCK_BYTES // max(1, sample_bytes)))


def _backward_blocks(xp, g, x, weight, kernel, stride, dilation, groups, out, step, inner,
                     edges):
    """:class:`_ConvBackward` of the one-matrix layout on raw arrays, in blocks of ``step``
    samples (:data:`BLOCK_BYTES`): per block, the gradient copied into (G, O / G, m * L)
    once, and from it the weight's gradient (accumulated, from the block's im2col columns
    made again while they are in the cache), the bias's and the input's (its matmul and,
    while the product is in the cache, the col2im ``windows_add`` of it), each only where
    needed."""
    nb, c = x.shape[0], x.shape[1]
    o = weight.shape[0]
    og = o // groups
    ck = c // groups * math.prod(kernel)
    size = tuple(x.shape[2:])
    need_x, need_w = edges[0] is not None, edges[1] is not None
    need_b = len(edges) > 2 and edges[2] is not None
    wt = xp.matrix_transpose(xp.reshape(weight, (groups, og, ck))) if need_x else None
    gx = xp.empty(tuple(x.shape), dtype=g.dtype, device=g.device) if need_x else None
    gw = gb = None
    for n0 in range(0, nb, step):
        n1 = min(nb, n0 + step)
        m = n1 - n0
        gy = _gy_matrix(xp, g[n0:n1, ...], inner, groups, o)
        if need_w:     # the block's im2col columns, made again (the forward kept none)
            cols = _im2col(xp, x[n0:n1, ...], kernel, stride, dilation, groups, ck, False, inner)
            part = xp.matmul(gy, xp.matrix_transpose(cols))
            gw = part if gw is None else gw + part
        if need_b:
            part = xp.sum(gy, axis=-1)
            gb = part if gb is None else gb + part
        if need_x and inner and groups == 1:    # (the product and col2im in one kernel)
            gx[n0:n1, ...] = xp.windows_add_product((m, c) + size, wt[0, ...], gy[0, ...],
                                                    kernel, stride, dilation)
        elif need_x:
            gcols = _gcols(xp, xp.matmul(wt, gy), c, kernel, out, m, inner)
            gx[n0:n1, ...] = xp.windows_add((m, c) + size, gcols, kernel, stride, dilation)
    grads = (gx, None if gw is None else xp.reshape(gw, tuple(weight.shape)),
             None if gb is None else xp.reshape(gb, (o,)))
    return grads[:len(edges)]


def _forward_blocks(x, weight, bias, kernel, stride, dilation, groups, out, step, inner):
    """The one-matrix layout's forward in blocks of ``step`` samples: each block's im2col
    columns (G, C / G * K, m * L), a fresh array the size of the cache that the matmul reads
    from it, and the product copied into the output (N, O, *out), the bias added there.
    The columns are not kept: backward makes them again, block by block."""
    n = len(kernel)
    nb = x.shape[0]
    o = weight.shape[0]
    ck = x.shape[1] // groups * math.prod(kernel)
    wg = it.reshape(weight, (groups, o // groups, ck))
    y = it.empty((nb, o) + out, dtype=x.dtype, device=x.device)
    nl = math.prod(out)
    b = None if bias is None else it.reshape(bias, (o,) + (1,) * n)
    for n0 in range(0, nb, step):
        n1 = min(nb, n0 + step)
        cols = _im2col(it, x[n0:n1], kernel, stride, dilation, groups, ck, False, inner)
        prod = it.matmul(wg, cols)
        if inner:       # (O, L, m) -> (m, O, *out), the bias added: one pass, then copied
            y[n0:n1] = it.reshape(it.autograd.run_kernel(
                "batch_to_front", it.reshape(prod, (o, nl, n1 - n0)), bias), (n1 - n0, o) + out)
        else:           # (O, m, *out) -> (m, O, *out): copied, then the bias added
            block = y[n0:n1]
            block[...] = it.permute_dims(it.reshape(prod, (o, n1 - n0) + out),
                                         (1, 0, *range(2, n + 2)))
            if b is not None:
                block += b
    return y


def _im2col(xp, x, kernel, stride, dilation, groups, ck, per_sample, inner=False):
    """The im2col matrix of ``x`` (N, C, *size), one copy of its windows (N, C, *kernel,
    *out): per sample (N, G, C / G * K, L), or else one matrix (G, C / G * K, N * L), or
    (G, C / G * K, L * N) where ``inner`` (the batch innermost)."""
    n = len(kernel)
    nb = x.shape[0]
    if per_sample:
        win = xp.windows(x, kernel, stride, dilation)
        return xp.reshape(win, (nb, groups, ck, math.prod(win.shape[n + 2:])))
    if not inner:
        win = xp.windows(x, kernel, stride, dilation)
        cols = xp.permute_dims(win, (*range(1, n + 2), 0, *range(n + 2, 2 * n + 2)))
        return xp.reshape(cols, (groups, ck, nb * math.prod(win.shape[n + 2:])))
    win = xp.windows(_batch_inner(xp, x), kernel, stride, dilation)
    cols = xp.permute_dims(win, (*range(1, 2 * n + 2), 0))
    return xp.reshape(cols, (groups, ck, math.prod(win.shape[n + 2:]) * nb))


def _gy_matrix(xp, g, inner, groups, o):
    """The gradient ``g`` (N, O, *out) as the matmuls' (G, O / G, N * L), or (G, O / G,
    L * N) where ``inner``: one copy. (A compiled pass that also summed the bias's gradient
    measured no faster than NumPy's copy and sum.)"""
    nb = g.shape[0]
    nl = math.prod(g.shape[2:])
    if inner:
        return xp.reshape(_to_back(xp, g), (groups, o // groups, nl * nb))
    gy = xp.permute_dims(g, (1, 0, *range(2, g.ndim)))
    return xp.reshape(gy, (groups, o // groups, nb * nl))


def _gcols(xp, prod, c, kernel, out, nb, inner):
    """The input gradient's matmul product (G, C / G * K, columns) as (N, C, *kernel, *out),
    a view that ``windows_add`` runs along in its memory order."""
    n = len(kernel)
    if inner:           # (C, *kernel, *out, N) -> (N, C, *kernel, *out)
        return xp.permute_dims(xp.reshape(prod, (c,) + kernel + out + (nb,)),
                               (2 * n + 1, *range(2 * n + 1)))
    # (C, *kernel, N, *out) -> (N, C, *kernel, *out)
    return xp.permute_dims(xp.reshape(prod, (c,) + kernel + (nb,) + out),
                           (n + 1, *range(n + 1), *range(n + 2, 2 * n + 2)))


def _batch_inner(xp, x):
    """``x`` (N, C, *size) copied so that its batch dim runs innermost in memory ((C, *size,
    N) row-major), as a view of the same shape: the windows of each kernel offset and output
    row are then one run of memory (``ow * N`` elements at unit stride) that the im2col copy
    moves whole, however narrow the windows."""
    m = x.ndim
    return xp.permute_dims(_to_back(xp, x), (m - 1, *range(m - 1)))


def _to_back(xp, x):
    """``x`` (N, A, *rest) copied into a new (A, *rest, N) array: the ``batch_to_back``
    kernel on raw arrays (``xp`` a backend's namespace) and on tensors outside the graph;
    where the copy is recorded (``create_graph``), the permutation and its copy."""
    shape = tuple(x.shape[1:]) + (x.shape[0],)
    kernel = getattr(xp, "batch_to_back", None)
    if kernel is None and (xp is not it or it.is_grad_enabled()):
        return xp.reshape(xp.permute_dims(x, (*range(1, x.ndim), 0)), shape, copy=True)
    flat = xp.reshape(x, (x.shape[0], x.shape[1], math.prod(x.shape[2:])))
    moved = it.autograd.run_kernel("batch_to_back", flat) if kernel is None else kernel(flat)
    return xp.reshape(moved, shape)


def _convolve(x, weight, bias, kernel, stride, dilation, groups, out):
    """The convolution of the padded batched ``x`` with ``weight`` (and ``bias``): one
    im2col copy and one matmul, batched over the groups. Recorded as one primitive
    (:class:`_ConvBackward`).

    Two layouts, by which pass costs most. Where the im2col matrix is taller than the
    output has channels (C / G * K >= O: the matmuls' arithmetic dominates) it is one
    (C * K, N * L) matrix, so that one large matmul runs at the BLAS's best pace, and the
    output (O, N * L) is copied once into (N, O, *out); where the windows' rows are narrow
    (:data:`INNER_BELOW`) its columns run the batch innermost, (C * K, L * N), and the
    output (O, L * N) is moved into (N, O, *out) by the ``batch_to_front`` kernel, the bias
    added on the way (``inner``). Where it is shorter (a first layer's
    few input channels: the matmuls are bound by memory, and the layout copies of the
    output and its gradient would cost as much as they do), the matmul runs per sample on
    (N, C * K, L), which gives (N, O, *out) as it is, with no copy; and the bias is folded
    into it: a row of ones under the matrix, the bias beside the weight, so that neither
    the bias's add nor (in backward) its sum is a pass over the output of its own (the
    windows are copied straight into the rows above the ones, through a view, on backends
    whose arrays are written in place). A one-matrix layout larger than the cache runs in
    blocks of samples (:data:`BLOCK_BYTES`, :func:`_forward_blocks`, :func:`_backward_blocks`)."""
    n = len(kernel)
    nb, c = x.shape[0], x.shape[1]
    o = weight.shape[0]
    ck = c // groups * math.prod(kernel)
    nl = math.prod(out)
    per_sample = ck < o
    folded = (per_sample and bias is not None and groups == 1 and nb * nl > 0
              and x.backend.mutable)
    # the batch innermost in the matrix's columns where the windows' rows are narrow
    inner = not per_sample and out[-1] < INNER_BELOW
    # the windows read in place by the products (no im2col matrix: see IMPLICIT)
    implicit = inner and groups == 1 and n == 2 and IMPLICIT
    # samples per block, where the convolution runs in blocks (one matrix larger than the
    # cache, arrays that take writes)
    sample_bytes = c * math.prod(kernel) * nl * x.dtype.itemsize
    step = (_block(nb, sample_bytes) if not per_sample and not implicit and x.backend.mutable
            and nb * sample_bytes > BLOCKS_FROM else None)
    with it.no_grad():
        if implicit:            # (O, L * N) -> (N, O, *out), the bias added: one pass
            cols = _batch_inner(it, x)          # (what backward reads the windows from)
            y = it.autograd.run_kernel("windows_product", it.reshape(weight, (o, ck)), cols,
                                       kernel, stride, dilation)
            y = it.reshape(it.autograd.run_kernel("batch_to_front", it.reshape(y, (o, nl, nb)),
                                                  bias), (nb, o) + out)
        elif step is not None:
            y = _forward_blocks(x, weight, bias, kernel, stride, dilation, groups, out, step,
                                inner)
            cols = None
        else:
            wg = it.reshape(weight, (groups, o // groups, ck))
            if folded:
                cols = it.empty((nb, 1, ck + 1, nl), dtype=x.dtype, device=x.device)
                cols[:, :, ck:, :] = 1
                rows = it.reshape(cols[:, 0, :ck, :], (nb, c) + kernel + out, copy=False)
                rows[...] = it.windows(x, kernel, stride, dilation)
                wg = it.concat([wg, it.reshape(bias, (1, o, 1))], axis=2)
            else:
                cols = _im2col(it, x, kernel, stride, dilation, groups, ck, per_sample, inner)
            if per_sample and groups == 1:      # (N, O, L): one batch dim, one batched call
                y = it.matmul(wg[0, ...], cols[:, 0, ...])
            else:                               # (N, G, O / G, L) or (G, O / G, L * N)
                y = it.matmul(wg, cols)
            if per_sample:
                if bias is not None and not folded:
                    y = y + it.reshape(bias, (groups, o // groups, 1))
                y = it.reshape(y, (nb, o) + out)
            elif inner:         # (O, L, N) -> (N, O, *out), the bias added: one pass
                y = it.reshape(it.autograd.run_kernel("batch_to_front",
                                                      it.reshape(y, (o, nl, nb)), bias),
                               (nb, o) + out)
            else:               # (O, N, *out) -> (N, O, *out): the bias added, then copied
                if bias is not None:
                    y = y + it.reshape(bias, (groups, o // groups, 1))
                y = it.contiguous(it.permute_dims(it.reshape(y, (o, nb) + out),
                                                  (1, 0, *range(2, n + 2))))
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return it.autograd.primitive(_ConvBackward, inputs, y, saved=(x, weight, cols),
                                 args=(kernel, stride, dilation, groups, out, per_sample, folded,
                                       inner, step, implicit))


def _conv(op, n, input, weight, bias, stride, padding, dilation, groups):
    x, batched, stride, dilation, groups = _check_conv(op, n, input, weight, bias, stride,
                                                       dilation, groups, False)
    kernel = tuple(weight.shape[2:])
    x = _padding.pad_pairs(x, _conv_padding(padding, n, kernel, stride, dilation, op))
    size = tuple(x.shape[2:])
    if any(m < d * (k - 1) + 1 for m, k, d in zip(size, kernel, dilation)):
        raise it.ShapeError(f"{op}(): calculated padded input size per channel: "
                            f"({check.dims(size)}). Kernel size: ({check.dims(kernel)}) with "
                            f"dilation {list(dilation)}. "
                            f"Kernel size can't be greater than actual input size")
    y = _convolve(x, weight, bias, kernel, stride, dilation, groups,
                  _counts(size, kernel, stride, dilation))
    return y if batched else y[0]


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution (cross-correlation) of ``input`` (N, C_in, L) or (C_in, L) with
    ``weight`` (C_out, C_in / groups, k); ``padding``: an int, a tuple, 'valid' or 'same'."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution of ``input`` (N, C_in, H, W) or (C_in, H, W) with ``weight``
    (C_out, C_in / groups, kH, kW); ``padding``: an int, a pair, 'valid' or 'same'."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d convolution of ``input`` (N, C_in, D, H, W) or (C_in, D, H, W) with ``weight``
    (C_out, C_in / groups, kD, kH, kW); ``padding``: an int, a triple, 'valid' or 'same'."""
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(op, n, input, weight, bias, stride, padding, output_padding, groups,
                    dilation):
    x, batched, stride, dilation, groups = _check_conv(op, n, input, weight, bias, stride,
                                                       dilation, groups, True)
    if isinstance(padding, str):
        raise TypeError(f"{op}(): padding must be an int or a tuple of {n} ints, got {padding!r}")
    pad = check.ints(f"{op}()", "padding", padding, n)
    extra = check.ints(f"{op}()", "output_padding", output_padding, n)
    if any(v < 0 for v in pad + extra):
        raise it.ArgumentError(f"{op}(): negative padding is not supported, got padding="
                               f"{list(pad)}, output_padding={list(extra)}")
    if any(e >= s and e >= d for e, s, d in zip(extra, stride, dilation)):
        raise it.ArgumentError(f"{op}(): output padding must be smaller than either stride or "
                               f"dilation, but got output_padding={list(extra)}, stride="
                               f"{list(stride)}, dilation={list(dilation)}")
    kernel = tuple(weight.shape[2:])
    size = tuple(x.shape[2:])
    full = tuple((m - 1) * s + d * (k - 1) + 1
                 for m, k, s, d in zip(size, kernel, stride, dilation))
    final = tuple(f + e - 2 * p for f, e, p in zip(full, extra, pad))
    if any(m <= 0 for m in size + final):
        raise it.ShapeError(f"{op}(): given input size per channel: ({check.dims(size)}). "
                            f"Calculated output size per channel: ({check.dims(final)}). Output "
                            f"size is too small")
    nb, c = x.shape[0], x.shape[1]
    cog = weight.shape[1]
    k = math.prod(kernel)
    # one matmul gives every window's contribution (N, G, C_out / G * K, L) ...
    w = it.matrix_transpose(it.reshape(weight, (groups, c // groups, cog * k)))
    cols = it.matmul(w, it.reshape(x, (nb, groups, c // groups, math.prod(size))))
    cols = it.reshape(cols, (nb, cog * groups) + kernel + size)
    # ... and the adjoint of the windows adds them up; then crop the padding, add output_padding
    y = it.windows_add((nb, cog * groups) + full, cols, kernel, stride, dilation)
    y = _padding.pad_pairs(y, [(-p, e - p) for p, e in zip(pad, extra)])
    y = _add_bias(y, bias, n)
    return y if batched else y[0]


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-d transposed convolution of ``input`` (N, C_in, L) or (C_in, L) with ``weight``
    (C_in, C_out / groups, k): the gradient of ``conv1d`` with respect to its input."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-d transposed convolution of ``input`` (N, C_in, H, W) or (C_in, H, W) with ``weight``
    (C_in, C_out / groups, kH, kW)."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """3-d transposed convolution of ``input`` (N, C_in, D, H, W) or (C_in, D, H, W) with
    ``weight`` (C_in, C_out / groups, kD, kH, kW)."""
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


# -------------------------------------------------------------------------- unfold / fold

def _fold_params(op, kernel_size, dilation, padding, stride):
    kernel = check.positive(f"{op}()", "kernel_size",
                            check.ints(f"{op}()", "kernel_size", kernel_size, 2))
    dilation = check.positive(f"{op}()", "dilation", check.ints(f"{op}()", "dilation", dilation, 2))
    stride = check.positive(f"{op}()", "stride", check.ints(f"{op}()", "stride", stride, 2))
    padding = check.ints(f"{op}()", "padding", padding, 2)
    if any(p < 0 for p in padding):
        raise it.ArgumentError(f"{op}(): padding should be non-negative, but got padding="
                               f"{list(padding)}")
    return kernel, dilation, padding, stride


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: the sliding blocks of ``input`` (N, C, H, W) or (C, H, W) as columns,
    (N, C * kH * kW, L) with L the number of blocks (PyTorch's layout)."""
    op = "unfold"
    check.tensor(f"{op}()", "input", input)
    kernel, dilation, padding, stride = _fold_params(op, kernel_size, dilation, padding, stride)
    if input.ndim not in (3, 4) or 0 in tuple(input.shape[-3:]):
        raise it.ShapeError(f"{op}(): expected a 3-D or 4-D (batch mode) input with possibly 0 "
                            f"batch size and other non-zero dimensions, but got: "
                            f"{list(input.shape)}")
    batched = input.ndim == 4
    x = _padding.pad_pairs(input if batched else it.unsqueeze(input, 0), [(p, p) for p in padding])
    blocks = _counts(tuple(x.shape[2:]), kernel, stride, dilation)
    if any(b < 1 for b in blocks):
        raise it.ShapeError(f"{op}(): given input with spatial size {tuple(input.shape[-2:])}, "
                            f"kernel_size={kernel}, dilation={dilation}, padding={padding}, "
                            f"calculated shape of the array of sliding blocks as "
                            f"{tuple(max(b, 0) for b in blocks)}, but its components must be at "
                            f"least one")
    nb, c = x.shape[0], x.shape[1]
    cols = it.reshape(it.windows(x, kernel, stride, dilation),
                      (nb, c * math.prod(kernel), math.prod(blocks)))
    return cols if batched else cols[0]


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im, the adjoint of ``unfold``: columns (N, C * kH * kW, L) or (C * kH * kW, L)
    summed back into an (N, C, *output_size) image, overlapping blocks adding up."""
    op = "fold"
    check.tensor(f"{op}()", "input", input)
    if isinstance(output_size, (tuple, list)) and len(output_size) != 2:
        raise it.ArgumentError(f"{op}(): it is expected output_size equals to 2, but got size "
                               f"{len(output_size)}")
    size = check.positive(f"{op}()", "output_size",
                          check.ints(f"{op}()", "output_size", output_size, 2))
    kernel, dilation, padding, stride = _fold_params(op, kernel_size, dilation, padding, stride)
    if input.ndim not in (2, 3) or 0 in tuple(input.shape[-2:]):
        raise it.ShapeError(f"{op}(): expected a 2-D or 3-D (batch mode) input with possibly 0 "
                            f"batch size and non-zero dimensions, but got: {list(input.shape)}")
    batched = input.ndim == 3
    x = input if batched else it.unsqueeze(input, 0)
    k = math.prod(kernel)
    if x.shape[1] % k:
        raise it.ShapeError(f"{op}(): expected size of input's dimension 1 to be divisible by the "
                            f"product of kernel_size, but got input.size(1)={x.shape[1]} and "
                            f"kernel_size={kernel}")
    padded = tuple(m + 2 * p for m, p in zip(size, padding))
    blocks = _counts(padded, kernel, stride, dilation)
    if any(b < 1 for b in blocks) or x.shape[2] != math.prod(blocks):
        raise it.ShapeError(f"{op}(): given output_size={size}, kernel_size={kernel}, dilation="
                            f"{dilation}, padding={padding}, stride={stride}, expected size of "
                            f"input's dimension 2 to match the calculated number of sliding "
                            f"blocks {' * '.join(str(max(b, 0)) for b in blocks)} = "
                            f"{math.prod(max(b, 0) for b in blocks)}, but got input.size(2)="
                            f"{x.shape[2]}")
    nb, c = x.shape[0], x.shape[1] // k
    y = it.windows_add((nb, c) + padded, it.reshape(x, (nb, c) + kernel + blocks), kernel,
                       stride, dilation)
    y = _padding.pad_pairs(y, [(-p, -p) for p in padding])
    return y if batched else y[0]
