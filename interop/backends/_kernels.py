"""The kernel contract: the table of named kernels every :class:`Backend` offers, the shape
rules their results follow, and the checks a registered implementation's results get.

A kernel is a function of raw backend arrays that the standard lacks (or spells too
slowly). Every backend has all of them: a standard-only implementation of each
(``_fallbacks.py``; array-api-strict runs exactly these), a backend module may override one
with a native fast path (NumPy's ``np.add.at``, ``cupyx.scatter_add``), and a namespace
registered with ``register_backend(..., kernels={...})`` may bring its own.

Backward formulas call ``xp.<kernel>(...)`` where ``xp`` is either ``be.ns`` (raw arrays)
or the ``interop`` namespace (tensors, under ``create_graph``), so each kernel has a
differentiable twin of the same signature in ``interop`` (see ``Kernel.twin``); the backward
kernels of the activations and of cross entropy have none: their nodes call them on raw
arrays only and record ordinary ops under ``create_graph``.

Each entry also says what its result must be (``Kernel.result``: the shape and dtype of the
new array it returns, from its arguments); :func:`checked_result` holds a registered
implementation to that, so that a wrong one is an error at the call, not a wrong gradient
later.

Side effects: none. A kernel returns a new array and leaves every input unchanged (the
one exception is ``sum_to``, which returns ``x`` itself when there is nothing to sum).
"""

from collections import namedtuple
import inspect
import math

__all__ = ["Kernel", "KERNELS", "check_kernels", "checked_result", "sum_to_axes",
           "window_counts", "windows_shape"]


# signature: the call, with the parameter names; semantics: what it computes and promises;
# twin: the differentiable function of the same signature in ``interop``, or None for a kernel
# called only on raw arrays (by a backward's raw-array path beside a create_graph formula of its
# own, as the activations' backward kernels, or by a primitive's forward through
# ``interop.autograd.run_kernel``), never through the interop namespace; result: a function
# of the kernel's arguments (as its implementations receive them) giving ``(shape, dtype)``
# of the new array the kernel returns (a list of them for a kernel that returns a tuple of
# arrays, None in it where the arguments make that entry None; a dtype of None where the
# implementation chooses it; it raises where the arguments allow no result), or None where
# the result is not checked.
Kernel = namedtuple("Kernel", "signature semantics twin result", defaults=(None,))


# ---------------------------------------------------------------- shape rules

def window_counts(size, kernel, stride, dilation):
    """How many windows fit along each dim: ``out`` of the ``windows`` kernel for the last
    ``len(kernel)`` dims of sizes ``size`` (0 where the dilated kernel does not fit)."""
    return tuple(max(0, (n - d * (k - 1) - 1) // s + 1)
                 for n, k, s, d in zip(size, kernel, stride, dilation))


def windows_shape(shape, kernel, stride, dilation):
    """The shape ``windows`` gives for an array of ``shape``: lead dims, kernel, counts."""
    n = len(kernel)
    return (tuple(shape[:len(shape) - n]) + tuple(kernel)
            + window_counts(shape[len(shape) - n:], kernel, stride, dilation))


def sum_to_axes(xshape, shape):
    """(number of leading axes to drop, axes to sum with keepdims) to reduce ``xshape`` to
    ``shape``; a ValueError when ``shape`` does not broadcast to ``xshape``."""
    lead = len(xshape) - len(shape)
    if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, xshape[lead:])):
        raise ValueError(f"sum_to: cannot sum an array of shape {xshape} to shape {shape}: the "
                         f"target must broadcast to the array's shape")
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape)
                                      if n == 1 and xshape[i + lead] != 1)
    return lead, axes


# ------------------------------------------------------- what each kernel returns

def _like_x(x, *args):
    """An array of x's shape and dtype (the accumulating kernels)."""
    return tuple(x.shape), x.dtype


def _sum_to_result(x, shape):
    sum_to_axes(tuple(x.shape), shape)        # (raises for a shape x cannot be summed to)
    return tuple(shape), x.dtype


def _windows_result(x, kernel, stride, dilation):
    return windows_shape(tuple(x.shape), kernel, stride, dilation), x.dtype


def _windows_add_result(shape, cols, kernel, stride, dilation):
    return tuple(shape), cols.dtype


# What every accumulating kernel promises about values (shared text).
_ACCUMULATE = (
    "Each position receives x plus the sum of the values added there; a value touches only "
    "the positions it is added to (an inf or nan added at one position never reaches "
    "another), and positions nothing is added to keep x bit for bit. The order of the sum "
    "within one position is unspecified, so float results may differ between backends in "
    "the last bits. On a bool x adding is logical or (as NumPy's add on bools).")

KERNELS = {
    "getitem": Kernel(
        "getitem(x, key)",
        "x[key] with NumPy's semantics: key is a tuple of ints, slices, None, ..., integer "
        "arrays (negative entries count from the end, all arrays broadcast together) and at "
        "most one boolean mask; the indexed dims go where NumPy puts them. An integer out of "
        "range raises IndexError. For a key without arrays the result may be a view of x: "
        "never write into it. x is unchanged.",
        "interop.getitem",
        # not checked: the key decides the shape, by NumPy's indexing rules
        result=None),
    "add_at": Kernel(
        "add_at(x, key, values)",
        "x with values added at x[key], repeated positions accumulating (np.add.at, out of "
        "place). key as for getitem; values is an array of x's dtype that broadcasts to "
        "x[key].shape, or a Python scalar of a kind x's dtype holds. Returns a new array of "
        "x's shape and dtype; x and values are unchanged. " + _ACCUMULATE,
        "interop.add_at", result=_like_x),
    "index_add": Kernel(
        "index_add(x, dim, index, source)",
        "x with source[..., i, ...] added at x[..., index[i], ...] along dim, repeated "
        "entries accumulating (torch.index_add, out of place). dim may be negative; index is "
        "a 1-D integer array with entries in [-n, n), n = x.shape[dim], negative ones "
        "counting from the end; source has x's dtype and x's shape except len(index) along "
        "dim. Returns a new array of x's shape and dtype; inputs are unchanged. "
        + _ACCUMULATE,
        "interop.index_add", result=_like_x),
    "scatter_add": Kernel(
        "scatter_add(x, dim, index, src)",
        "torch.scatter_add out of place: for every position p of index, src[p] is added at "
        "x[p with p[dim] replaced by index[p]]. x, index and src have the same number of "
        "dims; index.shape[d] <= src.shape[d] for every d and <= x.shape[d] for d != dim "
        "(only src's leading index.shape block is used); index entries lie in [-n, n), "
        "n = x.shape[dim]; src has x's dtype. Returns a new array of x's shape and dtype; "
        "inputs are unchanged. " + _ACCUMULATE,
        "interop.scatter_add", result=_like_x),
    "sum_to": Kernel(
        "sum_to(x, shape)",
        "x summed over the axes that broadcasting shape to x.shape added or stretched (the "
        "inverse of broadcast_to); shape must broadcast to x.shape, else ValueError. Returns "
        "x itself when x.shape == shape, else a new array of that shape and x's dtype. x is "
        "unchanged.",
        "interop.sum_to", result=_sum_to_result),
    "windows": Kernel(
        "windows(x, kernel, stride, dilation)",
        "The sliding windows of x over its last n = len(kernel) dims (im2col before the copy): "
        "an array of shape x.shape[:-n] + kernel + out with result[..., k_1..k_n, o_1..o_n] = "
        "x[..., o_1 * stride[0] + k_1 * dilation[0], ..., o_n * stride[n-1] + k_n * "
        "dilation[n-1]], where out[i] = (x.shape[-n + i] - dilation[i] * (kernel[i] - 1) - 1) "
        "// stride[i] + 1, or 0 where the dilated kernel is longer than the dim (then the "
        "result is empty). kernel, stride and dilation are tuples of n positive ints, "
        "1 <= n <= x.ndim. The result may be a view of x whose windows overlap in memory: "
        "never write into it. x is unchanged.",
        "interop.windows", result=_windows_result),
    "windows_add": Kernel(
        "windows_add(shape, cols, kernel, stride, dilation)",
        "The adjoint of windows (col2im): a new array of shape `shape` and cols' dtype, zero "
        "except that every entry of cols is added at the position of an array of that shape "
        "that windows would read it from, entries of overlapping windows accumulating. cols "
        "has the shape windows gives for an array of `shape` (shape[:-n] + kernel + out); "
        "kernel, stride and dilation as for windows. Each position receives the sum of the "
        "entries added there and is zero where nothing is added; an inf or nan touches only "
        "its own position. The order of the sum within one position is unspecified, so float "
        "results may differ between backends in the last bits; on bool cols adding is logical "
        "or. cols is unchanged.",
        "interop.windows_add", result=_windows_add_result),
}

# ---- softmax and log_softmax as one pass per row (issue 29): the forward and the raw-array
# backward of interop's softmax primitives (the cpu backend compiles them where numba is).
_SOFTMAX_DIM = (
    "dim is a tuple of distinct axes in [0, x.ndim) (empty for a 0-d x), x a real floating "
    "array. ")
KERNELS.update({
    "softmax": Kernel(
        "softmax(x, dim)",
        "exp(x - max) / sum(exp(x - max)) over the axes dim, the max and sum taken over them "
        "(PyTorch's softmax). " + _SOFTMAX_DIM + "A slice holding NaN or +inf, or only -inf, "
        "is NaN throughout (x - max is NaN there, as in PyTorch); -inf entries of an otherwise "
        "finite slice give exactly 0; a slice with no entries gives an empty result. Results "
        "agree with the standard-only implementation to a few float ulps (the order of the "
        "sum and the exp's rounding may differ). Returns a new array of x's shape and dtype; x "
        "is unchanged.",
        "interop.softmax", result=_like_x),
    "log_softmax": Kernel(
        "log_softmax(x, dim)",
        "(x - max) - log(sum(exp(x - max))) over the axes dim (PyTorch's log_softmax). "
        + _SOFTMAX_DIM + "NaN and inf slices as for softmax; -inf entries of an otherwise "
        "finite slice give -inf. Results agree with the standard-only implementation to a few "
        "float ulps. Returns a new array of x's shape and dtype; x is unchanged.",
        "interop.log_softmax", result=_like_x),
    "softmax_backward": Kernel(
        "softmax_backward(grad, output, dim)",
        "softmax's gradient, output * (grad - sum(grad * output)), the sum over the axes dim: "
        "output is softmax's result, grad the gradient reaching it (both of one real floating "
        "dtype and shape). " + _SOFTMAX_DIM.replace("x", "output") + "Returns a new array of "
        "grad's shape and dtype; grad and output are unchanged.",
        None, result=_like_x),
    "log_softmax_backward": Kernel(
        "log_softmax_backward(grad, output, dim)",
        "log_softmax's gradient, grad - exp(output) * sum(grad), the sum over the axes dim: "
        "output is log_softmax's result, grad the gradient reaching it (both of one real "
        "floating dtype and shape). " + _SOFTMAX_DIM.replace("x", "output") + "Returns a new "
        "array of grad's shape and dtype; grad and output are unchanged.",
        None, result=_like_x),
})

# ---- the normalization of rows (issue 29): layer and group norm's forward and raw-array
# backward (interop.nn.functional's _NormalizeBackward), compiled on the cpu backend.

def _normalize_rows_result(x, weight, bias, eps):
    return [(tuple(x.shape), x.dtype), ((x.shape[0],), x.dtype), ((x.shape[0],), x.dtype)]


def _normalize_rows_backward_result(grad, x, weight, mean, rstd, wshape):
    return [(tuple(x.shape), x.dtype), (tuple(wshape), x.dtype), (tuple(wshape), x.dtype)]


_ROWS = (
    "x is a real floating (R, P, Q) array, R, P, Q >= 1; each of its R rows is normalized over "
    "its P * Q entries with their mean and biased variance; weight and bias are None or "
    "arrays of x's dtype of one shape (G, P, Qw), G dividing R and Qw either Q (a weight per "
    "entry: layer norm, as (1, 1, n)) or 1 (one per channel: group norm, as (G, C / G, 1)), "
    "row r taking entry r % G. ")
KERNELS.update({
    "normalize_rows": Kernel(
        "normalize_rows(x, weight, bias, eps)",
        "(y, mean, rstd): y = (x - mean) * rstd * weight + bias with rstd = 1 / sqrt(var + "
        "eps) per row (weight 1 and bias 0 where None); mean and rstd of shape (R,). " + _ROWS
        + "eps is a float >= 0. A row holding NaN or inf gives NaN throughout (y, mean and rstd). Results agree "
        "with the standard-only implementation to a few float ulps (the statistics may be "
        "accumulated in a wider dtype). Returns a tuple of three new arrays of x's dtype; the "
        "inputs are unchanged.",
        None, result=_normalize_rows_result),
    "normalize_rows_backward": Kernel(
        "normalize_rows_backward(grad, x, weight, mean, rstd, wshape)",
        "(gx, gw, gb): the gradients of normalize_rows's y with respect to x, weight and bias, "
        "given grad (the gradient reaching y, x's shape and dtype) and the mean and rstd that "
        "normalize_rows returned for x. With xh = (x - mean - e) * rstd (e the mean of x - mean "
        "per row: the given mean's rounding error) and h = grad * weight: "
        "gx = rstd * (h - mean(h) - xh * mean(h * xh)), the means per row; gw and gb, of "
        "shape wshape = (G, P, Qw), are the sums of grad * xh and of grad over the rows and "
        "entries each weight entry touches (weight may be None: then h = grad, and gw is "
        "still the gradient a weight of ones would get). " + _ROWS + "Returns a tuple of three "
        "new arrays of x's dtype; the inputs are unchanged.",
        None, result=_normalize_rows_backward_result),
})

# ---- the normalization of channels (issue 29): batch and instance norm's forward and
# raw-array backward, compiled on the cpu backend.

def _normalize_channels_result(x, weight, bias, eps):
    k = (x.shape[1],)
    return [(tuple(x.shape), x.dtype), (k, x.dtype), (k, x.dtype), (k, x.dtype)]


def _normalize_channels_backward_result(grad, x, weight, mean, rstd):
    k = (x.shape[1],)
    return [(tuple(x.shape), x.dtype), (k, x.dtype), (k, x.dtype)]


_CHANNELS = (
    "x is a real floating (A, K, L) array, A, K, L >= 1 (batch norm: (N, C, H * W); "
    "instance norm: (1, N * C, H * W)); each channel k is normalized over its A * L entries "
    "with their mean and biased variance; weight and bias are None or (K,) arrays of x's "
    "dtype. ")
KERNELS.update({
    "normalize_channels": Kernel(
        "normalize_channels(x, weight, bias, eps)",
        "(y, mean, rstd, ssd): y = (x - mean) * rstd * weight + bias per channel with "
        "rstd = 1 / sqrt(ssd / (A * L) + eps), ssd the sum of squared deviations (weight 1 and "
        "bias 0 where None); mean, rstd and ssd of shape (K,). " + _CHANNELS + "eps is a "
        "float >= 0. A channel holding NaN or inf gives NaN throughout (y, mean, rstd, ssd). "
        "Results agree with the standard-only implementation to a few float ulps (the "
        "statistics may be accumulated in a wider dtype). Returns a tuple of four new arrays "
        "of x's dtype; the inputs are unchanged.",
        None, result=_normalize_channels_result),
    "normalize_channels_backward": Kernel(
        "normalize_channels_backward(grad, x, weight, mean, rstd)",
        "(gx, gw, gb): the gradients of normalize_channels's y with respect to x, weight and "
        "bias, given grad (x's shape and dtype) and the mean and rstd that normalize_channels "
        "returned. With xh = (x - mean - e) * rstd per channel (e the mean of x - mean: the "
        "given mean's rounding error): gx = rstd * weight * (grad - mean(grad) - xh * "
        "mean(grad * xh)), the means per channel; gw and gb, of shape (K,), are the sums of "
        "grad * xh and of grad per channel (also where weight is None). " + _CHANNELS
        + "Returns a tuple of three new arrays of x's dtype; the inputs are unchanged.",
        None, result=_normalize_channels_backward_result),
})

# ---- the batch dim of a convolution's matrix layout (issue 29): where its one-matrix im2col
# runs the batch innermost ((C * K, L * N)), this moves the output to (N, O, L) with the bias
# added, in one pass; and its inverse, which lays out the input and the output's gradient.

def _batch_to_front_result(x, bias):
    return (x.shape[2], x.shape[0], x.shape[1]), x.dtype


def _batch_to_back_result(x):
    return (x.shape[1], x.shape[2], x.shape[0]), x.dtype



KERNELS.update({
    "batch_to_front": Kernel(
        "batch_to_front(x, bias)",
        "x (A, M, N) with its last axis moved to the front: the new (N, A, M) array out with "
        "out[n, a, m] = x[a, m, n] + bias[a], or x[a, m, n] itself where bias is None (a "
        "convolution's output from its matmul, the bias added). x is a numeric array of 3 "
        "dims; bias None or an (A,) array of x's dtype. The sums round as x + bias does. "
        "Returns a new array of x's dtype; x and bias are unchanged.",
        None, result=_batch_to_front_result),
    "batch_to_back": Kernel(
        "batch_to_back(x)",
        "x (N, A, M) with its first axis moved to the back: the new (A, M, N) array out with "
        "out[a, m, n] = x[n, a, m] (a convolution's input, or its output's gradient, laid "
        "out for its matmuls where their columns run the batch innermost). x is a numeric "
        "array of 3 dims. Returns a new C-contiguous array of x's dtype; x is unchanged.",
        None, result=_batch_to_back_result),
})


# ---- a convolution's input gradient where its im2col columns run the batch innermost
# (issue 29): the matmul and the col2im in one, so that a backend can add the product's
# blocks straight into the image instead of storing the (C * K, L * N) matrix.

def _windows_add_product_result(shape, a, b, kernel, stride, dilation):
    return tuple(shape), a.dtype


KERNELS.update({
    "windows_add_product": Kernel(
        "windows_add_product(shape, a, b, kernel, stride, dilation)",
        "windows_add(shape, cols, kernel, stride, dilation) of the product p = a @ b laid out "
        "batch-innermost: shape is (N, C, *size), a is (C * K, P) and b is (P, L * N) (K "
        "the number of kernel offsets, L of output positions, as windows gives them for "
        "size), and cols[n, c, *i, *o] = p[c * K + i, o * N + n] with i and o the kernel "
        "offset's and output position's row-major indices: the input gradient of a "
        "convolution whose im2col columns run the batch innermost. a and b are floating "
        "arrays of one dtype. The sums round as the product's and windows_add's do, in an "
        "unspecified order. Returns a new array of shape `shape` and a's dtype; a and b "
        "are unchanged.",
        None, result=_windows_add_product_result),
})

# ---- a convolution's forward and weight gradient with its im2col matrix never stored (issue
# 29): the products of a matrix and the matrix of an image's windows, batch innermost, so that
# a backend can read the windows in place instead of copying them into a (C * K, L * N) matrix.

_WINDOW_MATRIX = ("W is the matrix of the windows of x (N, C, *size), batch innermost: "
                  "W[c * K + i, o * N + n] = windows(x)[n, c, *i, *o] with i and o the "
                  "kernel offset's and output position's row-major indices (K kernel "
                  "offsets, L output positions). ")


def _window_counts(x, kernel, stride, dilation):
    """(rows, columns) of the windows' matrix of x (N, C, *size): (C * K, L * N)."""
    size = x.shape[x.ndim - len(kernel):]
    return (x.shape[1] * math.prod(kernel),
            math.prod(window_counts(size, kernel, stride, dilation)) * x.shape[0])


def _windows_product_result(a, x, kernel, stride, dilation):
    return (a.shape[0], _window_counts(x, kernel, stride, dilation)[1]), a.dtype


def _product_windows_result(a, x, kernel, stride, dilation):
    return (a.shape[0], _window_counts(x, kernel, stride, dilation)[0]), a.dtype


KERNELS.update({
    "windows_product": Kernel(
        "windows_product(a, x, kernel, stride, dilation)",
        "a @ W, where " + _WINDOW_MATRIX + "a is (M, C * K): a convolution's output before "
        "its batch moves to the front, with no im2col matrix stored. a and x are floating "
        "arrays of one dtype. The sums round as the product's do, in an unspecified order. "
        "Returns a new (M, L * N) array of a's dtype; a and x are unchanged.",
        None, result=_windows_product_result),
    "product_windows": Kernel(
        "product_windows(a, x, kernel, stride, dilation)",
        "a @ W^T, where " + _WINDOW_MATRIX + "a is (M, L * N): a convolution's weight "
        "gradient, with no im2col matrix stored. a and x are floating arrays of one dtype. "
        "The sums round as the product's do, in an unspecified order. Returns a new "
        "(M, C * K) array of a's dtype; a and x are unchanged.",
        None, result=_product_windows_result),
})

# ---- max pooling as one pass each way (issue 29): the maximum of every window with where it
# lies, and the gradient added back at those elements (interop.nn.functional's max pooling,
# adaptive and fractional max pooling; the cpu backend compiles both).

def _window_argmax_result(x, kernel, stride, dilation, padding, out):
    shape = tuple(x.shape[:x.ndim - len(kernel)]) + tuple(out)
    return [(shape, x.dtype), (shape, None)]        # (offsets: an integer dtype, unchecked)


def _window_argmax_add_result(shape, g, offsets, kernel, stride, dilation, padding):
    return tuple(shape), g.dtype


_POOL_WINDOWS = (
    "Window o (o = (o_1..o_n), a position of the output) reads the positions o_i * stride[i] "
    "- padding[i] + k_i * dilation[i] of x's last n = len(kernel) dims, k = (k_1..k_n) its "
    "kernel offset, numbered in row-major order from 0 to prod(kernel) - 1; a position "
    "outside the dim is padding and takes no part (PyTorch's -inf padding of max pooling). "
    "kernel, stride and dilation are tuples of n positive ints, 1 <= n <= x.ndim, padding a "
    "tuple of n ints >= 0. ")
KERNELS.update({
    "window_argmax": Kernel(
        "window_argmax(x, kernel, stride, dilation, padding, out)",
        "(m, offsets): m[..., o] the maximum of the real elements of window o (NaN where the "
        "window holds a NaN, -inf where it holds no real element) and offsets[..., o] the "
        "kernel offset of the element that gets its gradient: the first maximum in row-major "
        "order, or the last NaN of a window that holds NaNs (PyTorch's rule), never padding "
        "(0 where the window holds no real element). " + _POOL_WINDOWS + "out is a tuple of "
        "n ints >= 0, the number of windows along each dim (windows past the end of x read "
        "padding there: ceil_mode's last windows). x is a real floating array. m and "
        "offsets have shape x.shape[:-n] + out; m has x's dtype, offsets an integer dtype "
        "that holds prod(kernel) - 1 (its width is the implementation's: int8 will do for "
        "small kernels). Returns a tuple of two new arrays; x is unchanged.",
        None, result=_window_argmax_result),
    "window_argmax_add": Kernel(
        "window_argmax_add(shape, g, offsets, kernel, stride, dilation, padding)",
        "The gradient of window_argmax's maximum: a new array of shape `shape` and g's dtype, "
        "zero except that every g[..., o] is added at the element of window o (of an array "
        "of `shape`) that offsets[..., o] names, entries naming padding adding nothing, and "
        "the entries of overlapping windows that land on one position accumulating, in an "
        "unspecified order (an inf or nan touches only its own position). " + _POOL_WINDOWS
        .replace("x's", "`shape`'s").replace("x.ndim", "len(shape)") + "g is a real "
        "floating array of shape shape[:-n] + out (out: the number of windows), offsets an "
        "integer array of g's shape with entries in [0, prod(kernel)) (what window_argmax "
        "returned). Returns a new array; g and offsets are unchanged.",
        None, result=_window_argmax_add_result),
})

# The activations (issue 29): one pass over memory each where the backend compiles them (the
# cpu backend's float32 kernels, _jit_act.py). PyTorch's aten names; a backward kernel takes
# the incoming gradient first.
_REAL_FLOATING = ("x is an array of a real floating dtype. Returns a new array of x's shape "
                  "and dtype; x is unchanged.")
_IN_FLOAT32 = "Half precision is computed in float32 and rounded once, as PyTorch. "
_GRADIENT = ("g is the gradient of the result, of x's shape and dtype. Returns a new array of "
             "that shape and dtype; g and x are unchanged.")
KERNELS.update({
    "relu": Kernel(
        "relu(x)",
        "0 where x < 0, else x itself: NaN stays NaN and -0.0 stays -0.0 (PyTorch's). x is "
        "an array of a real numeric dtype, not bool. Returns a new array of x's shape and "
        "dtype; x is unchanged.",
        "interop.relu", result=_like_x),
    "relu_backward": Kernel(
        "relu_backward(g, y)",
        "0 where y <= 0, else g: the gradient of relu from its output y (PyTorch's "
        "threshold_backward: it passes at a NaN output and is 0 at 0). " + _GRADIENT.replace(
            "x's", "y's").replace("and x are", "and y are"),
        None, result=_like_x),
    "sigmoid": Kernel(
        "sigmoid(x)",
        "1 / (1 + exp(-x)): 0 at -inf, 1 at inf, NaN at NaN. x is an array of a floating or "
        "complex dtype (computed in that dtype). Returns a new array of x's shape and dtype; x "
        "is unchanged.",
        "interop.sigmoid", result=_like_x),
    "sigmoid_backward": Kernel(
        "sigmoid_backward(g, y)",
        "g * y * (1 - y): the gradient of sigmoid from its output y. " + _GRADIENT.replace(
            "x's", "y's").replace("and x are", "and y are"),
        None, result=_like_x),
    "silu": Kernel(
        "silu(x)",
        "x * sigmoid(x) (NaN at -inf, as PyTorch's x / (1 + exp(-x))). " + _IN_FLOAT32
        + _REAL_FLOATING,
        "interop.silu", result=_like_x),
    "silu_backward": Kernel(
        "silu_backward(g, x)",
        "g * s * (1 + x * (1 - s)), s = sigmoid(x) (PyTorch's formula: NaN at x = -inf). "
        + _IN_FLOAT32 + _GRADIENT, None, result=_like_x),
    "gelu": Kernel(
        "gelu(x, approximate)",
        "approximate 'none': x * Phi(x), Phi the standard normal CDF (its tail Phi(-|x|) "
        "keeps its relative precision); 'tanh': 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + "
        "0.044715 * x**3))). NaN at -inf and NaN. " + _IN_FLOAT32 + _REAL_FLOATING,
        "interop.gelu", result=_like_x),
    "gelu_backward": Kernel(
        "gelu_backward(g, x, approximate)",
        "g times the derivative of gelu(x, approximate): Phi(x) + x * phi(x) for 'none', "
        "PyTorch's derivative of the tanh form for 'tanh' (NaN at x = +-inf, as PyTorch's). "
        + _IN_FLOAT32 + _GRADIENT, None, result=_like_x),
})

# Cross entropy on class indices (issue 29): PyTorch's loss for (N, C) logits in one kernel
# call each way, where its composite costs a dozen array calls (the per-call overhead of small
# batches) and several passes (the exp of large ones).
def _class_ce_result(x, target, ignore_index, reduction):
    return ((x.shape[0],) if reduction == "none" else ()), x.dtype


def _like_x_second(g, x, *args):
    return tuple(x.shape), x.dtype


_CLASS_TARGETS = ("x is an (N, C) array of a real floating dtype, target an (N,) integer array "
                  "whose entries lie in [0, C) or equal ignore_index (a Python int; rows with "
                  "that target count for nothing), reduction 'none', 'sum' or 'mean'. ")
KERNELS.update({
    "class_cross_entropy": Kernel(
        "class_cross_entropy(x, target, ignore_index, reduction)",
        "PyTorch's cross_entropy(x, target, ignore_index=ignore_index, reduction=reduction): "
        "logsumexp(x[n]) - x[n, target[n]] for each row n (0 on ignored rows), kept per row "
        "('none': shape (N,)), summed ('sum': shape ()) or averaged over the kept rows "
        "('mean': shape (); NaN where none is kept). A NaN or +inf logit makes its row's "
        "loss NaN, as in PyTorch. " + _CLASS_TARGETS + "Returns a new array of x's dtype; x "
        "and target are unchanged.",
        "interop.class_cross_entropy", result=_class_ce_result),
    "class_cross_entropy_backward": Kernel(
        "class_cross_entropy_backward(g, x, target, ignore_index, reduction)",
        "The gradient of class_cross_entropy for x: w[n] * (softmax(x[n]) - onehot(target[n])) "
        "with w[n] = g[n] ('none'; g of shape (N,)), g ('sum'; g of shape ()) or g over the "
        "number of kept rows ('mean'), and 0 on ignored rows (NaN logits stay NaN there, as "
        "in PyTorch). " + _CLASS_TARGETS + "g has x's dtype. Returns a new array of x's shape "
        "and dtype; g, x and target are unchanged.",
        None, result=_like_x_second),
})

# The LSTM's time loop (issue 29): one layer and direction over all its steps, forward and
# backward, on raw arrays (interop.nn's LSTM primitive; the cpu backend runs each step's gate
# math as one compiled pass, _jit_rnn.py).

def _lstm_scan_result(xw, h0, c0, w_hh, w_hr, sizes, reverse, keep):
    rows, gates = tuple(xw.shape)
    (batch, out), hidden = tuple(h0.shape), c0.shape[1]
    t = xw.dtype
    res = [((rows, out), t), ((batch, out), t), ((batch, hidden), t)]
    if keep:
        res += [((rows, gates), t), ((rows, hidden), t), ((rows, hidden), t), ((rows, out), t),
                None if w_hr is None else ((rows, hidden), t)]
    return res


def _lstm_scan_backward_result(g_out, g_hn, g_cn, acts, c_prev, tc, m, w_hh, w_hr, sizes,
                               reverse, need_h0, need_c0):
    t = acts.dtype
    return [(tuple(acts.shape), t), ((tuple(g_hn.shape), t) if need_h0 else None),
            ((tuple(g_cn.shape), t) if need_c0 else None),
            (None if w_hr is None else (tuple(g_out.shape), t))]


_LSTM_STEPS = (
    "The rows are in packed order: sizes (a tuple of ints, none increasing, the first equal "
    "to the batch B = h0.shape[0], summing to the N rows) gives the rows of each time step "
    "in time order, rows start:start + n of an (N, *) array holding step t's n sequences "
    "still running; reverse walks the steps from the last to the first. Each step works on "
    "the first n rows of the state: a sequence that ends keeps its last state (forward) and "
    "one that starts late (reverse) starts from h0 and c0. The gates are stacked i, f, g, o "
    "(H columns each, H = c0.shape[1]); w_hh is (4H, P), P = h0.shape[1] (P = H, or the "
    "projection's size), w_hr None or (P, H); all arrays one real floating dtype. ")
KERNELS.update({
    "lstm_scan": Kernel(
        "lstm_scan(xw, h0, c0, w_hh, w_hr, sizes, reverse, keep)",
        "An LSTM layer and direction over time: xw (N, 4H) holds x W_ih^T + b_ih + b_hh of "
        "every step; each step takes gates = xw rows + h W_hh^T, i, f, o = sigmoid and g = "
        "tanh of their blocks, c = f * c + i * g, m = o * tanh(c), h = m (or m W_hr^T with "
        "a projection). Returns (out, h_n, c_n): out (N, P) the h of every step in packed "
        "order, h_n (B, P) and c_n (B, H) each sequence's last state; where keep, also what "
        "lstm_scan_backward reads, in packed order: acts (N, 4H) the activated gates (i, f, "
        "g, o: the sigmoids and tanh(g)), c_prev (N, H) the cell state before each step, tc "
        "(N, H) tanh of the one after, prev_h (N, P) the h before each step, and m (N, H) "
        "(None without a projection). " + _LSTM_STEPS + "NaN and inf propagate as in the "
        "formulas (sigmoid(-inf) = 0, tanh(+-inf) = +-1). Results agree with the "
        "standard-only implementation to a few float ulps. Returns new arrays; the inputs "
        "are unchanged.",
        None, result=_lstm_scan_result),
    "lstm_scan_backward": Kernel(
        "lstm_scan_backward(g_out, g_hn, g_cn, acts, c_prev, tc, m, w_hh, w_hr, sizes, "
        "reverse, need_h0, need_c0)",
        "The gradients of lstm_scan, walking the steps back: g_out (N, P), g_hn (B, P) and "
        "g_cn (B, H) the gradients of out, h_n and c_n; acts, c_prev, tc and m what lstm_scan "
        "returned with keep (m None without a projection), w_hh and w_hr its weights. Returns "
        "(d_xw, dh0, dc0, d_h): d_xw (N, 4H) the "
        "gradient of the gates' pre-activations (that of xw; d_xw^T prev_h is W_hh's), dh0 "
        "(B, P) and dc0 (B, H) those of the initial state (None unless need_h0, need_c0), and "
        "d_h (N, P) the gradient reaching each step's projected output (d_h^T m is W_hr's; "
        "None without a projection). " + _LSTM_STEPS + "Results agree with the standard-only "
        "implementation to a few float ulps. Returns new arrays; the inputs are unchanged.",
        None, result=_lstm_scan_backward_result),
})

# What a native or registered implementation is handed: the table's arguments after the
# checks of Backend (the public kernel methods), so that it can skip them.
IMPLEMENTATION_ARGUMENTS = (
    "dim in [0, x.ndim) (0 for a 0-d x); index entries in [0, n); values, source and src "
    "arrays of x's dtype (never Python scalars); src cut to index's shape; key a tuple; "
    "sum_to only when x.shape differs from shape; kernel, stride and dilation tuples of one "
    "length n of positive Python ints, n at most x.ndim (len(shape) for windows_add), and cols "
    "of the shape windows gives for `shape`; softmax's dim a tuple of distinct non-negative "
    "axes, and the backward kernels' grad and output of one shape and dtype; padding and out "
    "of window_argmax tuples of n non-negative Python ints, and window_argmax_add's offsets "
    "an integer array of g's shape.")


def check_kernels(kernels, who):
    """``kernels`` (a mapping name -> callable, or None) checked against the table: unknown
    names, non-callables and callables that cannot take the table's arguments are errors
    that name them. Returns a plain dict."""
    if kernels is None:
        return {}
    if not hasattr(kernels, "items"):
        raise TypeError(f"{who}: kernels must be a dict of kernel name -> callable, got "
                        f"{type(kernels).__name__} {kernels!r}")
    unknown = [k for k in kernels if k not in KERNELS]
    if unknown:
        raise ValueError(f"{who}: unknown kernel name(s) {', '.join(map(repr, unknown))}; "
                         f"the kernel table has {', '.join(KERNELS)}")
    bad = [f"{k!r} ({type(f).__name__})" for k, f in kernels.items() if not callable(f)]
    if bad:
        raise TypeError(f"{who}: kernel(s) {', '.join(bad)} must be callable")
    for k, f in kernels.items():
        params = KERNELS[k].signature[len(k) + 1:-1].split(", ")
        try:
            sig = inspect.signature(f)
        except (TypeError, ValueError):       # builtins without a signature: trust them
            continue
        try:
            sig.bind(*params)
        except TypeError as e:
            raise TypeError(f"{who}: kernel {k!r} must accept {KERNELS[k].signature}; "
                            f"{getattr(f, '__name__', f)!r}{sig} does not ({e})") from None
    return dict(kernels)



def checked_result(name, fn, backend):
    """Implementation ``fn`` of kernel ``name`` (registered for backend ``backend``, a name),
    with its result held to the table's ``result`` rule: a new array (not its first
    argument) of the shape and dtype the rule gives, else a RuntimeError naming what came
    back. ``fn`` itself where the kernel's result is not checked."""
    kernel = KERNELS[name]
    rule = kernel.result
    if rule is None:
        return fn

    def run(*args):
        want = rule(*args)      # (before the call: it may refuse the arguments)
        out = fn(*args)
        if isinstance(want, list):              # a kernel returning a tuple of arrays
            if not isinstance(out, tuple) or len(out) != len(want):
                raise RuntimeError(f"kernel {name!r} registered for backend {backend!r} "
                                   f"returned {type(out).__name__}; expected a tuple of "
                                   f"{len(want)} new arrays ({kernel.signature})")
            for o, w in zip(out, want):
                if w is None:           # (an entry the arguments leave out: None)
                    if o is not None:
                        raise RuntimeError(f"kernel {name!r} registered for backend "
                                           f"{backend!r} returned {type(o).__name__} where its "
                                           f"arguments ask for None ({kernel.signature})")
                    continue
                _check_one(name, backend, kernel, args, o, *w)
        else:
            _check_one(name, backend, kernel, args, out, *want)
        return out
    return run


def _check_one(name, backend, kernel, args, out, shape, dtype):
    if (out is args[0] or tuple(getattr(out, "shape", ())) != shape
            or (dtype is not None and getattr(out, "dtype", None) != dtype)):
        got = ("the input x itself" if out is args[0] else f"{type(out).__name__} of shape "
               f"{getattr(out, 'shape', None)} and dtype {getattr(out, 'dtype', None)}")
        raise RuntimeError(f"kernel {name!r} registered for backend {backend!r} returned "
                           f"{got}; expected a new array of shape {shape} and dtype "
                           f"{'of its choosing' if dtype is None else dtype} "
                           f"({kernel.signature})")
