"""Linear maps and lookups: ``linear``, ``bilinear``, ``embedding``, ``embedding_bag`` and
``one_hot``.

``linear`` and the embedding lookup are primitives of their own (one node each): the
weight gradient comes out in the weight's own row-major layout (a composite ``x @ w.T``
leaves it transposed, and every optimizer step on such a gradient then runs strided), and
the lookup's backward is one ``index_add`` that also applies ``padding_idx`` and
``scale_grad_by_freq``. Both backwards are written once against a namespace: on the
backend's raw arrays in an ordinary backward, on interop tensors (so differentiable again)
under ``create_graph``.
"""

import math

import interop as it
from . import _checks as check

__all__ = ["linear", "bilinear", "embedding", "embedding_bag", "one_hot"]


class _LinearBackward(it.autograd.Node):
    """The gradients of ``x @ weight.T + bias`` over the last dim of ``x`` (a 2-d weight):
    ``g @ weight`` for the input, ``g.T @ x`` (the weight's own row-major layout) for the
    weight, ``g`` summed to the bias's shape. ``s.x`` (held only where the weight needs a
    gradient) and ``s.weight`` (only where the input does) are the inputs themselves, so
    under ``create_graph`` the gradients are differentiable again. ``in_shape``: the
    input's shape; ``bias_shape``: the bias's, or None."""
    __slots__ = ("in_shape", "bias_shape")
    saves = ("x", "weight")

    def backward(self, xp, g, s):
        shape = self.in_shape
        flat = len(shape) != 2
        g2 = xp.reshape(g, (-1, g.shape[-1])) if flat else g
        gx = gw = gb = None
        if self.next[0] is not None:
            gx = xp.matmul(g2, s.weight)
            if flat:
                gx = xp.reshape(gx, shape)
        if self.next[1] is not None:
            x = s.x
            gw = xp.matmul(g2.T, xp.reshape(x, (-1, shape[-1])) if flat else x)
        if self.next[2] is not None:
            bs = self.bias_shape
            gb = (xp.sum(g2, axis=0) if len(bs) == 1 and bs[0] == g2.shape[1]
                  else xp.sum_to(g, bs))
        return gx, gw, gb


def _linear(input, weight, bias):
    """``input @ weight.T + bias`` for a 2-d weight, as one primitive."""
    shape = tuple(input.shape)
    with it.no_grad():
        x = input if len(shape) == 2 else it.reshape(input, (-1, shape[-1]))
        out = it.matmul(x, weight.T)
        if bias is not None:
            out += bias         # a fresh result, outside the graph: no copy (before the
                                # reshape: a view, which immutable arrays cannot write through)
        if len(shape) != 2:
            out = it.reshape(out, shape[:-1] + (weight.shape[0],))
    return it.autograd.primitive(
        _LinearBackward, (input, weight, bias), out,
        saved=(input if weight.requires_grad else None,
               weight if input.requires_grad else None),
        in_shape=shape, bias_shape=None if bias is None else tuple(bias.shape))


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: ``input`` (..., in_features), ``weight`` (out_features,
    in_features), ``bias`` (out_features) or anything that broadcasts to the output."""
    check.tensor("linear()", "input", input)
    check.tensor("linear()", "weight", weight)
    if bias is not None:
        check.tensor("linear()", "bias", bias)
    if input.ndim == 0 or weight.ndim == 0:
        raise it.ShapeError(f"linear(): input and weight must be at least 1-d, got shapes "
                            f"{tuple(input.shape)} and {tuple(weight.shape)}")
    if weight.ndim > 2:
        raise it.ShapeError(f"linear(): weight must be 1-d or 2-d (out_features, in_features), "
                            f"got shape {tuple(weight.shape)}")
    if input.shape[-1] != weight.shape[-1]:
        raise it.ShapeError(f"linear(): input has {input.shape[-1]} features in its last dim "
                            f"(shape {tuple(input.shape)}), but weight of shape "
                            f"{tuple(weight.shape)} expects {weight.shape[-1]}")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != input.dtype):
        check.same_dtype("linear()", input=input, weight=weight, bias=bias)
    if weight.ndim == 1:            # a vector weight: the last dim is contracted away
        if bias is not None:
            raise it.ShapeError(f"linear(): a 1-d weight (shape {tuple(weight.shape)}) takes no "
                                f"bias, got one of shape {tuple(bias.shape)}")
        return it.matmul(input, weight)
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        out_shape = tuple(input.shape[:-1]) + (weight.shape[0],)
        try:
            fits = it.broadcast_shapes(tuple(bias.shape), out_shape) == out_shape
        except ValueError:
            fits = False
        if not fits:
            raise it.ShapeError(f"linear(): bias of shape {tuple(bias.shape)} does not broadcast "
                                f"to the output shape {out_shape} (expected shape "
                                f"({weight.shape[0]},))")
    return _linear(input, weight, bias)


def bilinear(input1, input2, weight, bias=None):
    """``y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o]``."""
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        check.tensor("bilinear()", name, t)
    s1, s2, sw = tuple(input1.shape), tuple(input2.shape), tuple(weight.shape)
    if len(sw) != 3:
        raise it.ShapeError(f"bilinear(): weight must be 3-d (out_features, in1_features, "
                            f"in2_features), got shape {sw}")
    if len(s1) != len(s2) or len(s1) == 0:
        raise it.ShapeError(f"bilinear(): inputs must have the same number of dims (at least 1), "
                            f"got shapes {s1} and {s2}")
    if s1[:-1] != s2[:-1]:
        raise it.ShapeError(f"bilinear(): input batch dims do not match: got shapes {s1} and {s2}")
    if s1[-1] != sw[1]:
        raise it.ShapeError(f"bilinear(): input1 has {s1[-1]} features but weight of shape {sw} "
                            f"expects {sw[1]}")
    if s2[-1] != sw[2]:
        raise it.ShapeError(f"bilinear(): input2 has {s2[-1]} features but weight of shape {sw} "
                            f"expects {sw[2]}")
    if bias is not None:
        check.tensor("bilinear()", "bias", bias)
        if tuple(bias.shape) != (sw[0],):
            raise it.ShapeError(f"bilinear(): bias must have shape ({sw[0]},) to match weight of "
                                f"shape {sw}, got {tuple(bias.shape)}")
    check.same_dtype("bilinear()", input1=input1, input2=input2, weight=weight, bias=bias)
    out_f, in1, in2 = sw
    x1 = it.reshape(input1, (-1, in1))
    x2 = it.reshape(input2, (-1, in2))
    # (N, out*in1): sum_j x2[n, j] w[o, i, j]; then weighted by x1[n, i] and summed over i
    t = linear(x2, it.reshape(weight, (out_f * in1, in2)))
    y = it.sum(it.reshape(t, (-1, out_f, in1)) * x1[:, None, :], axis=-1)
    if bias is not None:
        y = y + bias
    return it.reshape(y, s1[:-1] + (out_f,))


# ------------------------------------------------------------------ embeddings

def _check_indices(input, op, name="indices"):
    check.tensor(f"{op}()", name, input)
    if input.dtype not in (it.int64, it.int32):
        raise it.DTypeError(f"{op}(): expected {name} of dtype int64 or int32, got {input.dtype}")


def _check_weight(weight, op):
    check.tensor(f"{op}()", "weight", weight)
    if weight.ndim != 2:
        raise it.ShapeError(f"{op}(): weight must be 2-d (num_embeddings, embedding_dim), got "
                            f"shape {tuple(weight.shape)}")


def _padding_index(padding_idx, num, op):
    """``padding_idx`` as a row number in [0, num), or None."""
    if padding_idx is None:
        return None
    if not -num <= padding_idx < num:
        raise it.ArgumentError(f"{op}(): padding_idx must be within the number of embeddings, "
                               f"{-num} through {num - 1}, got {padding_idx}")
    return padding_idx + num if padding_idx < 0 else padding_idx


def _rows(weight, idx, op):
    """``weight[idx]`` for 1-d indices, with an error naming the embedding table."""
    try:
        return it.index_select(weight, 0, idx)
    except IndexError:
        lo, hi = int(it.min(idx)), int(it.max(idx))
        bad = lo if lo < 0 else hi
        raise IndexError(f"{op}(): index {bad} is out of range for {weight.shape[0]} embeddings "
                         f"(expected 0 <= index < {weight.shape[0]})") from None


class _LookupBackward(it.autograd.Node):
    """The gradient of the rows of ``weight`` at 1-d ``s.idx``: ``g`` added into zeros of
    the table's shape at ``idx`` (one ``index_add``), with ``padding_idx``'s row left at
    zero and, with ``scale``, each row's gradient divided by its count in ``idx``.
    ``num``: the table's number of rows."""
    __slots__ = ("num", "padding_idx", "scale")
    saves = ("idx",)

    def backward(self, xp, g, s):
        idx = s.idx
        if self.padding_idx is not None:
            g = xp.where(xp.expand_dims(idx == self.padding_idx, axis=1), 0.0, g)
        if self.scale:
            counts = xp.index_add(_zeros(xp, g, (self.num,)), 0, idx,
                                  xp.ones_like(idx, dtype=g.dtype))
            g = g / xp.expand_dims(xp.take(counts, idx, axis=0), axis=1)
        return xp.index_add(_zeros(xp, g, (self.num, g.shape[1])), 0, idx, g),


def _zeros(xp, like, shape):
    """Zeros to ``index_add`` into: a broadcast 0-d zero (index_add copies its input, and
    a broadcast one copies as a fill)."""
    return xp.broadcast_to(xp.zeros((), dtype=like.dtype, device=like.device), shape)


def _lookup(weight, idx, padding_idx, scale, op):
    if padding_idx is None and not scale:
        return _rows(weight, idx, op)
    with it.no_grad():
        rows = _rows(weight, idx, op)
    return it.autograd.primitive(_LookupBackward, (weight,), rows, saved=(idx,),
                                 num=weight.shape[0], padding_idx=padding_idx, scale=scale)


def _renorm_(weight, idx, max_norm, norm_type, op):
    """Scale the rows of ``weight`` looked up by ``idx`` whose ``norm_type``-norm exceeds
    ``max_norm`` down to norm ``max_norm`` (in place, outside the graph, as PyTorch)."""
    with it.no_grad():
        idx = it.unique_values(idx)     # (a repeated index would be written twice)
        rows = _rows(weight, idx, op)
        norms = it.linalg.vector_norm(rows, axis=1, keepdims=True, ord=norm_type)
        scale = it.where(norms > max_norm, max_norm / (norms + 1e-7), it.ones_like(norms))
        weight[idx] = rows * scale


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """The rows of ``weight`` at the integer indices ``input``: shape ``input.shape +
    (embedding_dim,)``. ``padding_idx``'s row gets no gradient; ``max_norm`` first renormalizes
    the looked-up rows of ``weight`` in place; ``scale_grad_by_freq`` divides each row's
    gradient by the number of times it was looked up."""
    _check_indices(input, "embedding", "input")
    _check_weight(weight, "embedding")
    if sparse:
        raise NotImplementedError("embedding(): sparse gradients (sparse=True) are not supported "
                                  "by interop; use sparse=False (dense gradients)")
    padding_idx = _padding_index(padding_idx, weight.shape[0], "embedding")
    idx = it.reshape(input, (-1,))
    if max_norm is not None:
        _renorm_(weight, idx, max_norm, norm_type, "embedding")
    rows = _lookup(weight, idx, padding_idx, scale_grad_by_freq, "embedding")
    return it.reshape(rows, tuple(input.shape) + (weight.shape[1],))


_BAG_MODES = ("sum", "mean", "max")


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Sums, means or maxima of bags of embeddings, without materializing the lookups per bag.

    ``input`` (B, N) holds B bags of N indices; or ``input`` is 1-d and ``offsets`` (1-d)
    gives where each bag starts (with ``include_last_offset``, its last entry is where the
    last bag ends). ``per_sample_weights`` (``input``'s shape, ``mode='sum'`` only) weighs each
    looked-up row; entries equal to ``padding_idx`` are left out of their bag (and of its
    mean). An empty bag gives zeros. Returns (B, embedding_dim).
    """
    _check_indices(input, "embedding_bag", "input")
    _check_weight(weight, "embedding_bag")
    if mode not in _BAG_MODES:
        raise ValueError(f"embedding_bag(): mode has to be one of sum, mean or max, got {mode!r}")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("embedding_bag(): max mode does not support scaling the gradient by the "
                         "frequency (scale_grad_by_freq=True)")
    if sparse:
        raise NotImplementedError("embedding_bag(): sparse gradients (sparse=True) are not "
                                  "supported by interop; use sparse=False (dense gradients)")
    if per_sample_weights is not None:
        check.tensor("embedding_bag()", "per_sample_weights", per_sample_weights)
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(f"embedding_bag(): per_sample_weights (shape "
                             f"{tuple(per_sample_weights.shape)}) must have the same shape as the "
                             f"input ({tuple(input.shape)})")
        if mode != "sum":
            raise NotImplementedError(f"embedding_bag(): per_sample_weights is only supported for "
                                      f"mode='sum', got mode={mode!r}")
        check.same_dtype("embedding_bag()", weight=weight, per_sample_weights=per_sample_weights)
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(f"embedding_bag(): if input is 2-d (bags of equal length), offsets "
                             f"must be None, got {type(offsets).__name__}")
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("embedding_bag(): a 1-d input needs offsets (a 1-d Tensor), got None")
        _check_indices(offsets, "embedding_bag", "offsets")
        if offsets.ndim != 1:
            raise ValueError(f"embedding_bag(): offsets has to be a 1-d Tensor, got shape "
                             f"{tuple(offsets.shape)}")
    else:
        raise ValueError(f"embedding_bag(): input has to be a 1-d or 2-d Tensor, got shape "
                         f"{tuple(input.shape)}")
    num, dim = weight.shape
    padding_idx = _padding_index(padding_idx, num, "embedding_bag")
    idx = it.reshape(input, (-1,))
    if max_norm is not None:
        _renorm_(weight, idx, max_norm, norm_type, "embedding_bag")
    rows = _lookup(weight, idx, None, scale_grad_by_freq, "embedding_bag")
    psw = None if per_sample_weights is None else it.reshape(per_sample_weights, (-1,))
    if input.ndim == 2:
        return _dense_bags(rows, input, psw, mode, padding_idx)
    return _offset_bags(rows, input, offsets, psw, mode, padding_idx, include_last_offset)


def _dense_bags(rows, input, psw, mode, padding_idx):
    """Bags of equal length: (B, N) indices, their rows (B*N, D)."""
    b, n = input.shape
    dim = rows.shape[1]
    rows = it.reshape(rows, (b, n, dim))
    if n == 0:
        return it.sum(rows, axis=1)         # zeros, in the graph as PyTorch's are
    if psw is not None:
        rows = rows * it.reshape(psw, (b, n, 1))
    keep = None if padding_idx is None else (input != padding_idx)[..., None]
    if mode == "max":
        if keep is None:
            return it.max(rows, 1)[0]
        best = it.max(it.where(keep, rows, it.full_like(rows, -math.inf)), 1)[0]
        return it.where(it.any(keep, axis=1), best, it.zeros_like(best))
    if keep is not None:
        rows = it.where(keep, rows, it.zeros_like(rows))
    out = it.sum(rows, axis=1)
    if mode == "mean":
        count = n if keep is None else it.clamp(it.sum(keep, axis=1), min=1).astype(out.dtype)
        out = out / count
    return out


def _offset_bags(rows, input, offsets, psw, mode, padding_idx, include_last_offset):
    """Bags given by start offsets into 1-d indices: each index's bag found by a search,
    then one ``index_add`` (sum, mean) or a padded (bag, position) table (max)."""
    n, dim = rows.shape
    dev = rows.device
    itype = offsets.backend.default_int     # int64, or int32 where the backend lacks it
    offsets = offsets.astype(itype)
    nb = offsets.shape[0] - (1 if include_last_offset else 0)
    if nb < 0 or (include_last_offset and nb == 0 and n):
        raise ValueError(f"embedding_bag(): with include_last_offset=True, offsets must hold at "
                         f"least 2 entries (bag starts and the end), got {offsets.shape[0]}")
    if offsets.shape[0]:
        first, last = int(offsets[0]), int(offsets[-1])
        if first != 0:
            raise it.ArgumentError(f"embedding_bag(): offsets[0] has to be 0 (the first bag "
                                   f"starts at position 0), got {first}")
        if last > n:
            raise it.ArgumentError(f"embedding_bag(): offsets[-1] can not be greater than the "
                                   f"input's length {n}, got {last}")
        if offsets.shape[0] > 1 and bool(it.any(offsets[1:] < offsets[:-1])):
            raise it.ArgumentError(f"embedding_bag(): offsets must be non-decreasing, got "
                                   f"{offsets.tolist()}")
    if nb == 0:
        return rows[:0]
    starts = offsets[:nb]
    end = int(offsets[-1]) if include_last_offset else n
    pos = it.arange(n, dtype=itype, device=dev)
    bag = it.searchsorted(starts, pos, side="right") - 1
    keep = pos < end
    if padding_idx is not None:
        keep = keep & (input != padding_idx)
    if psw is not None:
        rows = rows * psw[:, None]
    rows = it.where(keep[:, None], rows, it.zeros_like(rows))
    if mode == "max":
        ends = it.concat([offsets[1:nb], it.asarray([end], dtype=itype, device=dev)])
        longest = int(it.max(ends - starts))
        if longest:             # (else every bag is empty: the sum below gives the zeros)
            slot = bag * longest + it.clamp(pos - it.index_select(starts, 0, bag),
                                            max=longest - 1)
            return _max_of_bags(rows, keep, slot, nb, longest)
    out = it.index_add(it.zeros((nb, dim), dtype=rows.dtype, device=dev), 0, bag, rows)
    if mode == "mean":
        count = it.index_add(it.zeros(nb, dtype=rows.dtype, device=dev), 0, bag,
                             keep.astype(rows.dtype))
        out = out / it.clamp(count, min=1)[:, None]
    return out


def _max_of_bags(rows, keep, slot, nb, longest):
    """Per-bag maxima of ``rows`` through a (bag, position) table with -inf where no kept
    row lands (``slot`` = bag * longest + position); an empty bag gives zeros."""
    dim, dev = rows.shape[1], rows.device
    table = it.index_add(it.zeros((nb * longest, dim), dtype=rows.dtype, device=dev), 0, slot,
                         rows)
    filled = it.index_add(it.zeros(nb * longest, dtype=slot.dtype, device=dev), 0, slot,
                          keep.astype(slot.dtype)) > 0
    table = it.where(filled[:, None], table, it.full_like(table, -math.inf))
    best = it.max(it.reshape(table, (nb, longest, dim)), 1)[0]
    has = it.any(it.reshape(filled, (nb, longest)), axis=1)[:, None]
    return it.where(has, best, it.zeros_like(best))


def one_hot(tensor, num_classes=-1):
    """(..., num_classes) int64 tensor with a 1 at each value of the int64 ``tensor`` (int32
    in and out where the backend lacks int64); ``num_classes=-1`` takes the largest value
    plus one."""
    check.tensor("one_hot()", "tensor", tensor)
    itype = tensor.backend.default_int        # int64, or int32 where the backend lacks it
    if tensor.dtype not in (it.int64, itype):
        raise it.DTypeError(f"one_hot(): expected an index tensor of dtype {itype} on backend "
                            f"{tensor.backend.name!r}, got {tensor.dtype}")
    n = tensor.numel()
    if n == 0 and num_classes in (-1, 0):
        raise it.ArgumentError("one_hot(): can not infer the number of classes from an empty "
                               "tensor; pass num_classes")
    if n:
        lo, hi = int(it.min(tensor)), int(it.max(tensor))
        if lo < 0:
            raise it.ArgumentError(f"one_hot(): class values must be non-negative, got {lo}")
        if num_classes == -1:
            num_classes = hi + 1
        elif hi >= num_classes:
            raise it.ArgumentError(f"one_hot(): class values must be smaller than num_classes="
                                   f"{num_classes}, got {hi}")
    if num_classes < 0:
        raise it.ArgumentError(f"one_hot(): num_classes must be -1 or non-negative, got "
                               f"{num_classes}")
    classes = it.arange(num_classes, dtype=tensor.dtype, device=tensor.device)
    return (tensor[..., None] == classes).astype(tensor.dtype)
