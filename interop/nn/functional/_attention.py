"""Attention: ``scaled_dot_product_attention`` and ``multi_head_attention_forward``, as
PyTorch's, composed from interop ops (two matmuls around a softmax), so their gradients,
higher-order ones included, come from autograd on every backend.

Masks follow PyTorch's two conventions: in ``scaled_dot_product_attention`` a boolean mask
is True where a query may attend; in ``multi_head_attention_forward`` (``attn_mask`` and
``key_padding_mask`` of ``nn.MultiheadAttention``) it is True where it may not. A float mask
is added to the scores in both. A query row whose every key is masked gets zeros (and zero
gradients) from ``scaled_dot_product_attention``, as PyTorch gives; the
``need_weights=True`` path of ``multi_head_attention_forward`` gives NaN there, as PyTorch's.
"""

import math

import interop as it
from ._linear import linear
from ._norm import dropout

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

_NEG_INF = float("-inf")


def _check_dropout(p, who):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{who}: dropout probability has to be between 0 and 1, but got {p}")


def _shape(t):
    return tuple(t.shape)


def _attend(q, k, v, mask, dropout_p, scale, safe):
    """``softmax(q @ k^T * scale + mask) @ v`` (with dropout on the weights), and the weights.

    ``mask`` is None, a float tensor added to the scores, or a boolean tensor True where a
    query may attend. With ``safe``, rows where every key is masked give zero weights (and no
    NaN in any gradient); without it they give NaN, as a plain softmax does. Selections
    (``where``) run on the mask, never on the scores: the scores only take one addition.
    """
    scores = (q * scale) @ k.mT
    if mask is None:
        return _weighted(it.softmax(scores, axis=-1), v, dropout_p)
    dead = None
    if mask.dtype == it.bool:
        if safe:
            dead = it.logical_not(it.any(mask, axis=-1, keepdims=True))
            mask = it.logical_or(mask, dead)
        mask = it.astype(it.where(mask, 0.0, _NEG_INF), scores.dtype, copy=False)
    elif safe:
        dead = it.all(mask == _NEG_INF, axis=-1, keepdims=True)
        mask = it.where(dead, 0.0, mask)
    w = it.softmax(scores + mask, axis=-1)
    if dead is not None:
        w = w * it.astype(it.logical_not(dead), w.dtype)
    return _weighted(w, v, dropout_p)


def _weighted(w, v, dropout_p):
    """``(dropout(w) @ v, dropout(w))``."""
    if dropout_p > 0.0:
        w = dropout(w, dropout_p)
    return w @ v, w


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """``softmax(query @ key^T * scale + mask) @ value`` over the last two dims, as PyTorch's.

    query ``(..., L, E)``, key ``(..., S, E)``, value ``(..., S, Ev)`` give ``(..., L, Ev)``;
    leading dims broadcast. ``attn_mask``: boolean (True = may attend) or float (added),
    broadcastable to ``(..., L, S)``. ``is_causal``: query ``i`` attends keys ``0..i`` (top-left
    aligned). ``scale`` defaults to ``1 / sqrt(E)``. ``dropout_p`` drops attention weights
    whenever it is non-zero (pass 0 in eval mode). ``enable_gqa``: key and value may have
    fewer heads (dim -3) than query, a divisor of its count; each serves a group of queries.
    """
    who = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, it.Tensor):
            raise TypeError(f"{who}: expected {name} to be a Tensor, got {type(t).__name__}")
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise it.ShapeError(f"{who}: expected query, key and value to be at least 2-D, got "
                            f"shapes {_shape(query)}, {_shape(key)} and {_shape(value)}")
    if not (query.dtype == key.dtype == value.dtype) or not query.dtype.is_floating_point:
        raise it.DTypeError(f"{who}: expected query, key and value of one floating dtype, got "
                            f"{query.dtype}, {key.dtype} and {value.dtype}")
    if key.shape[-1] != query.shape[-1]:
        raise it.ShapeError(f"{who}: expected key's last dim to equal query's, got query "
                            f"{_shape(query)} and key {_shape(key)}")
    if key.shape[-2] != value.shape[-2]:
        raise it.ShapeError(f"{who}: expected key and value of one sequence length (dim -2), "
                            f"got key {_shape(key)} and value {_shape(value)}")
    _check_dropout(dropout_p, who)
    if enable_gqa and min(query.ndim, key.ndim, value.ndim) >= 3:
        hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
        if hq % hk or hq % hv:
            raise it.ShapeError(f"{who}: with enable_gqa the number of heads (dim -3) of key and "
                                f"value must divide query's, got query {_shape(query)}, key "
                                f"{_shape(key)} and value {_shape(value)}")
        if hk != hq:
            key = it.repeat_interleave(key, hq // hk, dim=-3)
        if hv != hq:
            value = it.repeat_interleave(value, hq // hv, dim=-3)
    try:
        batch = it.broadcast_shapes(_shape(query)[:-2], _shape(key)[:-2], _shape(value)[:-2])
    except ValueError:
        raise it.ShapeError(f"{who}: the leading (batch) dims of query {_shape(query)}, key "
                            f"{_shape(key)} and value {_shape(value)} do not broadcast") from None
    L, S = query.shape[-2], key.shape[-2]
    safe = True
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{who}: an explicit attn_mask should not be set when is_causal=True")
        attn_mask = it.tril(query.new_ones((L, S), dtype=it.bool))
        safe = False        # every row keeps key 0: no row is fully masked
    elif attn_mask is not None:
        if not isinstance(attn_mask, it.Tensor):
            raise TypeError(f"{who}: expected attn_mask to be a Tensor, got "
                            f"{type(attn_mask).__name__}")
        if attn_mask.dtype != it.bool:
            if not attn_mask.dtype.is_floating_point:
                raise it.DTypeError(f"{who}: expected a bool or floating attn_mask, got "
                                    f"{attn_mask.dtype}")
            attn_mask = it.astype(attn_mask, query.dtype, copy=False)
        scores_shape = (*batch, L, S)
        try:
            ok = it.broadcast_shapes(_shape(attn_mask), scores_shape) == scores_shape
        except ValueError:
            ok = False
        if not ok:
            raise it.ShapeError(f"{who}: expected attn_mask broadcastable to the attention "
                                f"weights' shape {scores_shape}, got {_shape(attn_mask)}")
    s = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    return _attend(query, key, value, attn_mask, dropout_p, s, safe)[0]


def _additive_mask(mask, dtype, name, who):
    """A boolean mask (True = masked) as a float mask of ``dtype`` (-inf where masked)."""
    if mask is None:
        return None
    if not isinstance(mask, it.Tensor):
        raise TypeError(f"{who}: expected {name} to be a Tensor, got {type(mask).__name__}")
    if mask.dtype == it.bool:
        return it.astype(it.where(mask, _NEG_INF, 0.0), dtype, copy=False)
    if not mask.dtype.is_floating_point:
        raise it.DTypeError(f"{who}: only bool and floating types of {name} are supported, got "
                            f"{mask.dtype}")
    return it.astype(mask, dtype, copy=False)


def _check_mha_shapes(query, key, value, key_padding_mask, attn_mask, num_heads, who):
    """True for batched (3-D) input, False for unbatched (2-D); raises on anything else."""
    q, k, v = query.ndim, key.ndim, value.ndim
    if q not in (2, 3):
        raise it.ShapeError(f"{who}: expected query to be unbatched 2-D (L, E) or batched 3-D, got "
                            f"shape {_shape(query)}")
    if k != q or v != q:
        raise it.ShapeError(f"{who}: for {q}-D query, expected {q}-D key and value, got key "
                            f"{_shape(key)} and value {_shape(value)}")
    if key_padding_mask is not None and key_padding_mask.ndim != q - 1:
        raise it.ShapeError(f"{who}: for {q}-D query, expected a {q - 1}-D key_padding_mask, got "
                            f"shape {_shape(key_padding_mask)}")
    if attn_mask is not None:
        if attn_mask.ndim not in (2, 3):
            raise it.ShapeError(f"{who}: expected a 2-D or 3-D attn_mask, got shape "
                                f"{_shape(attn_mask)}")
        if q == 2 and attn_mask.ndim == 3:
            want = (num_heads, query.shape[0], key.shape[0])
            if _shape(attn_mask) != want:
                raise it.ShapeError(f"{who}: expected a 3-D attn_mask of shape {want} for "
                                    f"unbatched input, got {_shape(attn_mask)}")
    return q == 3


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """The computation of ``nn.MultiheadAttention``, as PyTorch's function of that name.

    Sequence-first: query ``(L, N, E)``, key ``(S, N, kdim)``, value ``(S, N, vdim)``, or
    unbatched ``(L, E)``... Returns ``(output, weights)``: output ``(L, N, E)``; weights
    ``(N, L, S)`` averaged over heads (``(N, num_heads, L, S)`` without averaging), or None
    when ``need_weights`` is False. Masks are True (or -inf) where attention is not allowed:
    ``attn_mask`` ``(L, S)`` or ``(N * num_heads, L, S)``, ``key_padding_mask`` ``(N, S)``.
    ``is_causal`` is a hint that ``attn_mask`` (then required) is the causal mask.
    """
    who = "multi_head_attention_forward"
    batched = _check_mha_shapes(query, key, value, key_padding_mask, attn_mask, num_heads, who)
    if not batched:
        query, key, value = query[:, None], key[:, None], value[:, None]
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask[None]
    L, N, E = query.shape
    if E != embed_dim_to_check:
        raise it.ShapeError(f"{who}: expected embedding dimension {embed_dim_to_check}, got query "
                            f"of shape {_shape(query)}")
    if E % num_heads:
        raise ValueError(f"{who}: embed_dim ({E}) must be divisible by num_heads ({num_heads})")
    hd = E // num_heads
    same = key.shape[:2] == value.shape[:2] if use_separate_proj_weight else \
        key.shape == value.shape
    if not same or key.shape[1] != N:
        raise it.ShapeError(f"{who}: key {_shape(key)} and value {_shape(value)} do not match "
                            f"each other or query {_shape(query)} (sequence and batch dims)")
    dtype = query.dtype
    key_padding_mask = _additive_mask(key_padding_mask, dtype, "key_padding_mask", who)
    if is_causal and attn_mask is None:
        raise ValueError(f"{who}: is_causal=True is a hint that attn_mask is the causal mask, and "
                         f"needs that attn_mask (Transformer.generate_square_subsequent_mask "
                         f"makes one)")
    causal = is_causal and key_padding_mask is None and not need_weights
    if causal:
        attn_mask = None
    else:
        attn_mask = _additive_mask(attn_mask, dtype, "attn_mask", who)
    S = key.shape[0]
    if attn_mask is not None:
        want = (L, S) if attn_mask.ndim == 2 else (N * num_heads, L, S)
        if _shape(attn_mask) != want:
            raise it.ShapeError(f"{who}: expected a {attn_mask.ndim}-D attn_mask of shape {want}, "
                                f"got {_shape(attn_mask)}")
    if key_padding_mask is not None and _shape(key_padding_mask) != (N, S):
        raise it.ShapeError(f"{who}: expected key_padding_mask of shape {(N, S)}, got "
                            f"{_shape(key_padding_mask)}")

    # in-projection
    if use_separate_proj_weight:
        bq = bk = bv = None
        if in_proj_bias is not None:
            bq, bk, bv = in_proj_bias[:E], in_proj_bias[E:2 * E], in_proj_bias[2 * E:]
        for name, w, x in (("q_proj_weight", q_proj_weight, query),
                           ("k_proj_weight", k_proj_weight, key),
                           ("v_proj_weight", v_proj_weight, value)):
            if _shape(w) != (E, x.shape[-1]):
                raise it.ShapeError(f"{who}: expected {name} of shape {(E, x.shape[-1])}, got "
                                    f"{_shape(w)}")
        q = linear(query, q_proj_weight, bq)
        k = linear(key, k_proj_weight, bk)
        v = linear(value, v_proj_weight, bv)
    else:
        w, b = in_proj_weight, in_proj_bias
        if query is key and key is value:
            q, k, v = it.split(linear(query, w, b), E, dim=-1)
        elif key is value:
            q = linear(query, w[:E], None if b is None else b[:E])
            k, v = it.split(linear(key, w[E:], None if b is None else b[E:]), E, dim=-1)
        else:
            bq = bk = bv = None
            if b is not None:
                bq, bk, bv = b[:E], b[E:2 * E], b[2 * E:]
            q = linear(query, w[:E], bq)
            k = linear(key, w[E:2 * E], bk)
            v = linear(value, w[2 * E:], bv)

    pad_masks = 0
    if bias_k is not None or bias_v is not None:
        if bias_k is None or bias_v is None or static_k is not None or static_v is not None:
            raise ValueError(f"{who}: bias_k and bias_v come together, and without static_k "
                             f"and static_v")
        k = it.concat([k, bias_k.reshape(1, 1, E).expand(1, N, E)], axis=0)
        v = it.concat([v, bias_v.reshape(1, 1, E).expand(1, N, E)], axis=0)
        pad_masks += 1

    # heads: (seq, N, E) -> (N, heads, seq, head_dim)
    q = q.reshape(L, N, num_heads, hd).permute(1, 2, 0, 3)
    k = _heads(k, static_k, N, num_heads, hd, "static_k", who)
    v = _heads(v, static_v, N, num_heads, hd, "static_v", who)
    if add_zero_attn:
        k = it.concat([k, k.new_zeros((N, num_heads, 1, hd))], axis=2)
        v = it.concat([v, v.new_zeros((N, num_heads, 1, hd))], axis=2)
        pad_masks += 1
    S = k.shape[2]

    if pad_masks:
        if attn_mask is not None:
            attn_mask = it.concat([attn_mask, attn_mask.new_zeros((*attn_mask.shape[:-1],
                                                                    pad_masks))], axis=-1)
        if key_padding_mask is not None:
            key_padding_mask = it.concat([key_padding_mask,
                                          key_padding_mask.new_zeros((N, pad_masks))], axis=-1)
    mask = None
    if causal:
        mask = it.tril(q.new_ones((L, S), dtype=it.bool))
    elif attn_mask is not None:
        mask = attn_mask if attn_mask.ndim == 2 else attn_mask.reshape(N, num_heads, L, S)
    if key_padding_mask is not None:
        kpm = key_padding_mask.reshape(N, 1, 1, S)
        mask = kpm if mask is None else mask + kpm

    _check_dropout(dropout_p, who)
    out, weights = _attend(q, k, v, mask, dropout_p if training else 0.0, 1.0 / math.sqrt(hd),
                           safe=not need_weights and not causal)
    out = linear(out.permute(2, 0, 1, 3).reshape(L, N, E), out_proj_weight, out_proj_bias)
    if not need_weights:
        weights = None
    elif average_attn_weights:
        weights = it.mean(weights, axis=1)
    if not batched:
        out = out[:, 0]
        if weights is not None:
            weights = weights[0]
    return out, weights


def _heads(x, static, N, num_heads, hd, name, who):
    """``(S, N, E)`` -> ``(N, num_heads, S, head_dim)``, or ``static`` (``(N * num_heads, S,
    head_dim)``) in its place."""
    if static is None:
        return x.reshape(x.shape[0], N, num_heads, hd).permute(1, 2, 0, 3)
    if static.ndim != 3 or static.shape[0] != N * num_heads or static.shape[2] != hd:
        raise it.ShapeError(f"{who}: expected {name} of shape (N * num_heads, S, head_dim) = "
                            f"({N * num_heads}, S, {hd}), got {_shape(static)}")
    return static.reshape(N, num_heads, static.shape[1], hd)
