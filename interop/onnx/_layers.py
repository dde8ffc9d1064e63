"""Native converters: the layers that ONNX has as operators, written as those operators.

A converter is ``fn(g, m, a, outs) -> [(name, dyn), ...]``: ``g`` the :class:`Graph`,
``m`` the module, ``a`` its forward's arguments by name (defaults filled in; tensors
hold :class:`Traced` arrays), ``outs`` the tensors the forward returned, flattened. It
appends the layer's nodes and returns each output's graph name and dynamic flags.

``CONVERTERS`` maps a layer class to its converter; a subclass that keeps the class's
``forward`` uses it too. Layers not listed are traced through their forward, op by op.
"""

import math

import interop as it
from interop import nn
from interop.nn import functional as F

from ._graph import reshape_target


def _x(t):
    return t._data


def _name(m):
    return getattr(m, "layer_name", None) or type(m).__name__


def _tuple(v, n):
    if isinstance(v, int):
        return (v,) * n
    v = tuple(v)
    return v * n if len(v) == 1 else v



def _lead(x, ndim):
    """Dynamic flags of a result that keeps the input's first dim (the batch)."""
    return (x.dyn[0],) + (False,) * (ndim - 1) if x.ndim and ndim else (False,) * ndim


def _raw(p):
    return p._data.v


def _tname(g, p):
    return g.value(p._data)


def _dt(g, x):
    return g.dtype_name(x.v)


# ---------------------------------------------------------------------- linear
def linear(g, x, weight, bias, hint="linear"):
    """``x @ W.T + b`` as Gemm (2-d input) or MatMul against the transposed weight + Add."""
    xn = g.value(x)
    if x.ndim == 2:
        ins = [xn, _tname(g, weight)] + ([_tname(g, bias)] if bias is not None else [])
        return g.node("Gemm", ins, hint=hint, transB=1), _lead(x, 2)
    if weight._data.name in g.weights:      # a weight: transposed once, at export
        wt = g.array(g.xp.permute_dims(_raw(weight), (1, 0)), "weight_T")
    else:                                   # (F.linear on a computed matrix)
        wt = g.node("Transpose", [_tname(g, weight)], perm=[1, 0])
    y = g.node("MatMul", [xn, wt], hint=hint)
    if bias is not None:
        y = g.node("Add", [y, _tname(g, bias)])
    return y, x.dyn[:-1] + (False,)


def _linear(g, m, a, outs):
    return [linear(g, _x(a["input"]), m.weight, m.bias)]


def _identity(g, m, a, outs):
    x = _x(next(iter(a.values())))
    return [(g.value(x), x.dyn)]


def _flatten(g, m, a, outs):
    x = _x(a["input"])
    s, e = m.start_dim % x.ndim, m.end_dim % x.ndim
    if s == 1 and e == x.ndim - 1:
        return [(g.node("Flatten", [g.value(x)], axis=1), _lead(x, 2))]
    target, dyn = reshape_target(g, x, outs[0].shape)
    return [(g.node("Reshape", [g.value(x), g.ints(target)]), dyn)]


def _unflatten(g, m, a, outs):
    x = _x(a["input"])
    target, dyn = reshape_target(g, x, outs[0].shape)
    return [(g.node("Reshape", [g.value(x), g.ints(target)]), dyn)]


# ---------------------------------------------------------------------- activations
def _act(op, **attrs):
    def conv(g, m, a, outs):
        x = _x(a["input"])
        kw = {k: (v(m) if callable(v) else v) for k, v in attrs.items()}
        return [(g.node(op, [g.value(x)], **kw), x.dyn)]
    return conv


def gelu(g, xn, dtype, approximate):
    if g.opset >= 20:
        return g.node("Gelu", [xn], approximate=approximate)
    if approximate == "tanh":
        c = g.scalar(math.sqrt(2 / math.pi), dtype)
        x3 = g.node("Mul", [g.node("Mul", [xn, xn]), xn])
        inner = g.node("Add", [xn, g.node("Mul", [x3, g.scalar(0.044715, dtype)])])
        t = g.node("Tanh", [g.node("Mul", [inner, c])])
        half = g.node("Mul", [xn, g.scalar(0.5, dtype)])
        return g.node("Mul", [half, g.node("Add", [t, g.scalar(1.0, dtype)])])
    e = g.node("Erf", [g.node("Mul", [xn, g.scalar(1 / math.sqrt(2), dtype)])])
    half = g.node("Mul", [xn, g.scalar(0.5, dtype)])
    return g.node("Mul", [half, g.node("Add", [e, g.scalar(1.0, dtype)])])


def _gelu(g, m, a, outs):
    x = _x(a["input"])
    return [(gelu(g, g.value(x), _dt(g, x), m.approximate), x.dyn)]


def _clip(lo, hi):
    def conv(g, m, a, outs):
        x = _x(a["input"])
        d = _dt(g, x)
        return [(g.node("Clip", [g.value(x), g.scalar(lo(m), d), g.scalar(hi(m), d)]), x.dyn)]
    return conv


def _silu(g, m, a, outs):
    x = _x(a["input"])
    xn = g.value(x)
    return [(g.node("Mul", [xn, g.node("Sigmoid", [xn])]), x.dyn)]


def _softplus(g, m, a, outs):
    x = _x(a["input"])
    d = _dt(g, x)
    if m.beta == 1:
        y = g.node("Softplus", [g.value(x)])
    else:
        b = g.scalar(m.beta, d)
        y = g.node("Div", [g.node("Softplus", [g.node("Mul", [g.value(x), b])]), b])
    # PyTorch returns x itself where beta * x > threshold
    big = g.node("Greater", [g.node("Mul", [g.value(x), g.scalar(m.beta, d)]),
                             g.scalar(m.threshold, d)])
    return [(g.node("Where", [big, g.value(x), y]), x.dyn)]


def _logsigmoid(g, m, a, outs):
    x = _x(a["input"])
    sp = g.node("Softplus", [g.node("Neg", [g.value(x)])])
    return [(g.node("Neg", [sp]), x.dyn)]


def _tanhshrink(g, m, a, outs):
    x = _x(a["input"])
    return [(g.node("Sub", [g.value(x), g.node("Tanh", [g.value(x)])]), x.dyn)]


def _threshold(g, m, a, outs):
    x = _x(a["input"])
    d = _dt(g, x)
    gt = g.node("Greater", [g.value(x), g.scalar(m.threshold, d)])
    return [(g.node("Where", [gt, g.value(x), g.scalar(m.value, d)]), x.dyn)]


def _prelu(g, m, a, outs):
    x = _x(a["input"])
    w = _raw(m.weight)
    if x.ndim >= 2 and w.shape[0] > 1:
        w = g.xp.reshape(w, (w.shape[0],) + (1,) * (x.ndim - 2))
    return [(g.node("PRelu", [g.value(x), g.array(w, "prelu_slope")]), x.dyn)]


def _softmax_like(op, neg=False, axis_of=lambda m, x: m.dim):
    def conv(g, m, a, outs):
        x = _x(a["input"])
        ax = axis_of(m, x)
        if ax is None:
            ax = 0 if x.ndim in (0, 1, 3) else 1     # PyTorch's implicit dim
        n = g.value(x)
        if neg:
            n = g.node("Neg", [n])
        return [(g.node(op, [n], axis=ax % x.ndim), x.dyn)]
    return conv


def _glu(g, m, a, outs):
    x = _x(a["input"])
    ax = m.dim % x.ndim
    h1, h2 = g.node("Split", [g.value(x)], nout=2, axis=ax, num_outputs=2) \
        if g.opset >= 18 else g.node("Split", [g.value(x)], nout=2, axis=ax)
    return [(g.node("Mul", [h1, g.node("Sigmoid", [h2])]), x.dyn)]


def _shrink(soft):
    def conv(g, m, a, outs):
        x = _x(a["input"])
        return [(g.node("Shrink", [g.value(x)], lambd=float(m.lambd),
                        bias=float(m.lambd) if soft else 0.0), x.dyn)]
    return conv


def activation_fn(g, fn, xn, x):
    """An activation given as a function (the Transformer layers' ``activation``)."""
    if fn in (F.relu, F.relu.__wrapped__):
        return g.node("Relu", [xn])
    if fn in (F.gelu, F.gelu.__wrapped__):
        return gelu(g, xn, _dt(g, x), "none")
    if isinstance(fn, nn.Module) and type(fn) in CONVERTERS:
        raise TypeError   # handled by the caller through the module's converter
    raise g.unsupported(f"the activation {getattr(fn, '__name__', fn)!r}")


# ---------------------------------------------------------------------- convolution
def _pads_for(g, m, nd, x):
    """ONNX pads (begins then ends) for convolution ``m``; a non-zero padding mode
    becomes a Pad node first. Returns the (possibly padded) input name and the pads."""
    xn = g.value(x)
    if isinstance(m.padding, str):
        if m.padding == "valid":
            return xn, [0] * (2 * nd)
        k, d = _tuple(m.kernel_size, nd), _tuple(m.dilation, nd)
        total = [d[i] * (k[i] - 1) for i in range(nd)]
        begin = [t // 2 for t in total]
        pads = begin + [t - b for t, b in zip(total, begin)]
    else:
        p = _tuple(m.padding, nd)
        pads = list(p) + list(p)
    if getattr(m, "padding_mode", "zeros") != "zeros":
        mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[m.padding_mode]
        if mode == "wrap" and g.opset < 19:
            raise g.unsupported("padding_mode='circular' below opset 19")
        full = [0, 0] + pads[:nd] + [0, 0] + pads[nd:]
        xn = g.node("Pad", [xn, g.ints(full, "pads")], mode=mode)
        pads = [0] * (2 * nd)
    return xn, pads


def _conv(nd):
    def conv(g, m, a, outs):
        x = _x(a["input"])
        if x.ndim != nd + 2:
            raise g.unsupported(f"{_name(m)} on unbatched input of {x.ndim} dims")
        xn, pads = _pads_for(g, m, nd, x)
        ins = [xn, _tname(g, m.weight)] + ([_tname(g, m.bias)] if m.bias is not None else [])
        y = g.node("Conv", ins, hint="conv", kernel_shape=list(m.weight.shape[2:]),
                   strides=list(_tuple(m.stride, nd)), dilations=list(_tuple(m.dilation, nd)),
                   pads=pads, group=m.groups)
        return [(y, _lead(x, nd + 2))]
    return conv


def _conv_transpose(nd):
    def conv(g, m, a, outs):
        x = _x(a["input"])
        if a.get("output_size") is not None:
            raise g.unsupported(f"{_name(m)} with output_size")
        if x.ndim != nd + 2:
            raise g.unsupported(f"{_name(m)} on unbatched input of {x.ndim} dims")
        p = list(_tuple(m.padding, nd))
        ins = [g.value(x), _tname(g, m.weight)] + \
            ([_tname(g, m.bias)] if m.bias is not None else [])
        y = g.node("ConvTranspose", ins, hint="conv_transpose",
                   kernel_shape=list(m.weight.shape[2:]), strides=list(_tuple(m.stride, nd)),
                   dilations=list(_tuple(m.dilation, nd)), pads=p + p, group=m.groups,
                   output_padding=list(_tuple(m.output_padding, nd)))
        return [(y, _lead(x, nd + 2))]
    return conv


# ---------------------------------------------------------------------- pooling
def _spatial(g, m, x, nd):
    if x.ndim != nd + 2:
        raise g.unsupported(f"{_name(m)} on unbatched input of {x.ndim} dims")


def _maxpool(nd):
    def conv(g, m, a, outs):
        x = _x(a["input"])
        _spatial(g, m, x, nd)
        if m.return_indices:
            raise g.unsupported(f"{_name(m)} with return_indices=True")
        p = list(_tuple(m.padding, nd))
        y = g.node("MaxPool", [g.value(x)], kernel_shape=list(_tuple(m.kernel_size, nd)),
                   strides=list(_tuple(m.stride, nd)), pads=p + p,
                   dilations=list(_tuple(m.dilation, nd)), ceil_mode=int(bool(m.ceil_mode)))
        return [(y, _lead(x, nd + 2))]
    return conv


def _avgpool(nd):
    def conv(g, m, a, outs):
        x = _x(a["input"])
        _spatial(g, m, x, nd)
        if getattr(m, "divisor_override", None):
            raise g.unsupported(f"{_name(m)} with divisor_override")
        p = list(_tuple(m.padding, nd))
        k = list(_tuple(m.kernel_size, nd))
        s = list(_tuple(m.stride, nd))
        if m.ceil_mode and any(p):
            # PyTorch drops a last window that starts in the padding; ONNX keeps it
            for i in range(nd):
                size = x.shape[2 + i]
                n = -(-(size + 2 * p[i] - k[i]) // s[i]) + 1
                if (n - 1) * s[i] >= size + p[i]:
                    raise g.unsupported(f"{_name(m)} with ceil_mode whose last window "
                                        "starts in the padding")
        y = g.node("AveragePool", [g.value(x)], kernel_shape=k, strides=s, pads=p + p,
                   ceil_mode=int(bool(m.ceil_mode)),
                   count_include_pad=int(bool(m.count_include_pad)))
        return [(y, _lead(x, nd + 2))]
    return conv


def _adaptive(nd, kind):
    def conv(g, m, a, outs):
        x = _x(a["input"])
        _spatial(g, m, x, nd)
        if kind == "Max" and m.return_indices:
            raise g.unsupported(f"{_name(m)} with return_indices=True")
        size = _tuple(m.output_size, nd)
        ins = x.shape[2:]
        size = [ins[i] if size[i] is None else size[i] for i in range(nd)]
        if all(s == 1 for s in size):
            y = g.node(f"Global{kind}Pool", [g.value(x)])
        elif all(i % s == 0 for i, s in zip(ins, size)):
            k = [i // s for i, s in zip(ins, size)]
            y = g.node(f"{kind}Pool" if kind == "Max" else "AveragePool", [g.value(x)],
                       kernel_shape=k, strides=k)
        else:
            raise g.unsupported(f"{_name(m)} from {tuple(ins)} to {tuple(size)} "
                                "(not a whole number of windows)")
        return [(y, _lead(x, nd + 2))]
    return conv


# ---------------------------------------------------------------------- normalization
def _ones(g, n, like, value=1.0):
    return g.array(g.xp.full((n,), value, dtype=like.dtype), "ones" if value else "zeros")


def _batchnorm(g, m, a, outs):
    x = _x(a["input"])
    if m.running_mean is None:
        raise g.unsupported(f"{_name(m)} with track_running_stats=False "
                            "(it normalizes by the batch's statistics in eval mode)")
    c = m.num_features
    scale = _tname(g, m.weight) if m.weight is not None else _ones(g, c, x.v)
    bias = _tname(g, m.bias) if m.bias is not None else _ones(g, c, x.v, 0.0)
    y = g.node("BatchNormalization", [g.value(x), scale, bias, _tname(g, m.running_mean),
                                      _tname(g, m.running_var)], epsilon=float(m.eps))
    return [(y, x.dyn)]


def _instancenorm(g, m, a, outs):
    x = _x(a["input"])
    if m.track_running_stats:
        raise g.unsupported(f"{_name(m)} with track_running_stats=True")
    c = x.shape[1]
    scale = _tname(g, m.weight) if m.weight is not None else _ones(g, c, x.v)
    bias = _tname(g, m.bias) if m.bias is not None else _ones(g, c, x.v, 0.0)
    return [(g.node("InstanceNormalization", [g.value(x), scale, bias],
                    epsilon=float(m.eps)), x.dyn)]


def layernorm(g, m, x, xn=None):
    n = len(m.normalized_shape)
    size = 1
    for s in m.normalized_shape:
        size *= s
    if m.weight is not None:
        scale = _tname(g, m.weight)
    else:
        scale = g.array(g.xp.ones(tuple(m.normalized_shape), dtype=x.v.dtype), "ones")
    ins = [g.value(x) if xn is None else xn, scale]
    if getattr(m, "bias", None) is not None:
        ins.append(_tname(g, m.bias))
    return g.node("LayerNormalization", ins, hint="layernorm", axis=-n, epsilon=float(m.eps))


def _layernorm(g, m, a, outs):
    x = _x(a["input"])
    return [(layernorm(g, m, x), x.dyn)]


def _groupnorm(g, m, a, outs):
    x = _x(a["input"])
    c, G = m.num_channels, m.num_groups
    if g.opset >= 21:
        scale = _tname(g, m.weight) if m.weight is not None else _ones(g, c, x.v)
        bias = _tname(g, m.bias) if m.bias is not None else _ones(g, c, x.v, 0.0)
        return [(g.node("GroupNormalization", [g.value(x), scale, bias], num_groups=G,
                        epsilon=float(m.eps)), x.dyn)]
    # (N, G, rest) normalized per group by InstanceNormalization, then the affine per channel
    xn = g.value(x)
    r = g.node("Reshape", [xn, g.ints([0, G, -1])])
    y = g.node("InstanceNormalization", [r, _ones(g, G, x.v), _ones(g, G, x.v, 0.0)],
               epsilon=float(m.eps))
    y = g.node("Reshape", [y, g.node("Shape", [xn])])
    if m.weight is not None:
        shp = (c,) + (1,) * (x.ndim - 2)
        y = g.node("Mul", [y, g.array(g.xp.reshape(_raw(m.weight), shp), "gn_scale")])
        y = g.node("Add", [y, g.array(g.xp.reshape(_raw(m.bias), shp), "gn_bias")])
    return [(y, x.dyn)]


def _lrn(g, m, a, outs):
    x = _x(a["input"])
    return [(g.node("LRN", [g.value(x)], size=int(m.size), alpha=float(m.alpha),
                    beta=float(m.beta), bias=float(m.k)), x.dyn)]


def _embedding(g, m, a, outs):
    x = _x(a["input"])
    if m.max_norm is not None:
        raise g.unsupported("Embedding with max_norm (it renormalizes the table in place)")
    idx = g.value(x)
    if _dt(g, x) not in ("int64", "int32"):
        idx = g.node("Cast", [idx], to=g.onnx_dtype("int64"))
    return [(g.node("Gather", [_tname(g, m.weight), idx], hint="embedding", axis=0),
             x.dyn + (False,))]


# ---------------------------------------------------------------------- padding
def _pad(mode):
    def conv(g, m, a, outs):
        x = _x(a["input"])
        p = list(_tuple(m.padding, 2 * (len(outs[0].shape) - 2) if isinstance(m.padding, int)
                        else len(m.padding)))
        nd = len(p) // 2
        # PyTorch's order: last dim first (left, right), then the one before...
        begins = [0] * x.ndim
        ends = [0] * x.ndim
        for i in range(nd):
            begins[x.ndim - 1 - i] = p[2 * i]
            ends[x.ndim - 1 - i] = p[2 * i + 1]
        if mode == "wrap" and g.opset < 19:
            raise g.unsupported("circular padding below opset 19")
        ins = [g.value(x), g.ints(begins + ends, "pads")]
        if mode == "constant":
            ins.append(g.scalar(getattr(m, "value", 0.0), _dt(g, x)))
        return [(g.node("Pad", ins, mode=mode), _lead(x, x.ndim))]
    return conv


def _pixel_shuffle(g, m, a, outs):
    x = _x(a["input"])
    if x.ndim != 4:
        raise g.unsupported("PixelShuffle on input that is not 4-d")
    return [(g.node("DepthToSpace", [g.value(x)], blocksize=m.upscale_factor, mode="CRD"),
             _lead(x, 4))]


def _pixel_unshuffle(g, m, a, outs):
    x = _x(a["input"])
    if x.ndim != 4:
        raise g.unsupported("PixelUnshuffle on input that is not 4-d")
    # SpaceToDepth's channel order is (block, C); PyTorch's (C, block): reshape instead
    n, c, h, w = x.shape
    r = m.downscale_factor
    y = g.node("Reshape", [g.value(x), g.ints([0 if x.dyn[0] else n, c, h // r, r, w // r, r])])
    y = g.node("Transpose", [y], perm=[0, 1, 3, 5, 2, 4])
    y = g.node("Reshape", [y, g.ints([0, c * r * r, h // r, w // r])])
    return [(y, _lead(x, 4))]


# ---------------------------------------------------------------------- recurrent
_GATES = {"LSTM": (4, (0, 3, 1, 2)), "GRU": (3, (1, 0, 2)), "RNN_TANH": (1, (0,)),
          "RNN_RELU": (1, (0,))}


def _reorder(g, w, n, order):
    h = w.shape[0] // n
    return g.xp.concat([w[i * h:(i + 1) * h, ...] for i in order], axis=0)


def _rnn(g, m, a, outs):
    x = _x(a["input"])
    mode = m.mode
    if mode == "RNN":
        mode = "RNN_TANH" if m.nonlinearity == "tanh" else "RNN_RELU"
    if not isinstance(a["input"], it.Tensor):
        raise g.unsupported(f"{_name(m)} on a packed sequence")
    if getattr(m, "proj_size", 0):
        raise g.unsupported(f"{_name(m)} with proj_size")
    if x.ndim != 3:
        raise g.unsupported(f"{_name(m)} on unbatched input")
    ngates, order = _GATES[mode]
    D = 2 if m.bidirectional else 1
    H = m.hidden_size
    op = {"LSTM": "LSTM", "GRU": "GRU"}.get(mode, "RNN")
    hx = a.get("hx")
    h0 = c0 = None
    if hx is not None:
        if mode == "LSTM":
            h0, c0 = _x(hx[0]), _x(hx[1])
        else:
            h0 = _x(hx)
    seq = g.value(x)
    if m.batch_first:
        seq = g.node("Transpose", [seq], perm=[1, 0, 2])
    hs, cs = [], []
    for layer in range(m.num_layers):
        Ws, Rs, Bs = [], [], []
        for d in range(D):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            w_ih = _reorder(g, _raw(getattr(m, "weight_ih" + sfx)), ngates, order)
            w_hh = _reorder(g, _raw(getattr(m, "weight_hh" + sfx)), ngates, order)
            Ws.append(w_ih)
            Rs.append(w_hh)
            if m.bias:
                Bs.append(g.xp.concat([
                    _reorder(g, _raw(getattr(m, "bias_ih" + sfx)), ngates, order),
                    _reorder(g, _raw(getattr(m, "bias_hh" + sfx)), ngates, order)]))
        W = g.array(g.xp.stack(Ws), f"{op}_W")
        R = g.array(g.xp.stack(Rs), f"{op}_R")
        B = g.array(g.xp.stack(Bs), f"{op}_B") if Bs else ""
        ins = [seq, W, R, B, ""]

        def state(s):
            return g.node("Slice", [g.value(s), g.ints([layer * D], "starts"),
                                    g.ints([(layer + 1) * D], "ends"), g.ints([0], "axes")])
        ins.append(state(h0) if h0 is not None else "")
        if op == "LSTM":
            ins.append(state(c0) if c0 is not None else "")
        while ins[-1] == "":
            ins.pop()
        attrs = dict(hidden_size=H, direction="bidirectional" if D == 2 else "forward")
        if op == "GRU":
            attrs["linear_before_reset"] = 1
        if op == "RNN":
            attrs["activations"] = ["Tanh" if mode == "RNN_TANH" else "Relu"] * D
        nout = 3 if op == "LSTM" else 2
        res = g.node(op, ins, nout=nout, hint=op.lower(), **attrs)
        y = res[0]                                  # (seq, D, batch, H)
        if D == 1:
            seq = g.node("Squeeze", [y, g.ints([1], "axes")])
        else:
            seq = g.node("Reshape", [g.node("Transpose", [y], perm=[0, 2, 1, 3]),
                                     g.ints([0, 0, -1])])
        hs.append(res[1])
        if op == "LSTM":
            cs.append(res[2])
    out = g.node("Transpose", [seq], perm=[1, 0, 2]) if m.batch_first else seq
    out_dyn = (x.dyn[0], x.dyn[1], False)
    bd = x.dyn[0] if m.batch_first else x.dyn[1]
    hdyn = (False, bd, False)
    h = hs[0] if len(hs) == 1 else g.node("Concat", hs, axis=0)
    res = [(out, out_dyn), (h, hdyn)]
    if op == "LSTM":
        res.append((cs[0] if len(cs) == 1 else g.node("Concat", cs, axis=0), hdyn))
    return res


# ---------------------------------------------------------------------- attention
def _proj(g, xn, w, b, scale=None):
    """``x @ w.T + b`` with ``w``, ``b`` raw arrays (a constant factor folded in)."""
    if scale is not None:
        w = w * scale
        b = None if b is None else b * scale
    y = g.node("MatMul", [xn, g.array(g.xp.permute_dims(w, (1, 0)), "proj_T")])
    if b is not None:
        y = g.node("Add", [y, g.array(b, "proj_b")])
    return y


def mha(g, m, q, k, v, key_padding_mask, need_weights, attn_mask, average_attn_weights):
    """Multi-head attention as MatMul/Softmax. ``q``, ``k``, ``v``: traced arrays;
    returns ((out name, dyn), weights name or None)."""
    if m.bias_k is not None or m.add_zero_attn:
        raise g.unsupported("MultiheadAttention with add_bias_kv or add_zero_attn")
    if q.ndim != 3:
        raise g.unsupported("MultiheadAttention on unbatched input")
    E, h = m.embed_dim, m.num_heads
    d = E // h
    scale = 1.0 / math.sqrt(d)
    names = {}

    def bf(t):     # batch-first view of an input
        if id(t) not in names:
            n = g.value(t)
            names[id(t)] = n if m.batch_first else g.node("Transpose", [n], perm=[1, 0, 2])
        return names[id(t)]
    qn, kn, vn = bf(q), bf(k), bf(v)
    bias = _raw(m.in_proj_bias) if m.in_proj_bias is not None else None
    if m._qkv_same_embed_dim:
        w = _raw(m.in_proj_weight)
        wq, wk, wv = w[:E, ...], w[E:2 * E, ...], w[2 * E:, ...]
    else:
        wq, wk, wv = _raw(m.q_proj_weight), _raw(m.k_proj_weight), _raw(m.v_proj_weight)
    bq = bk = bv = None
    if bias is not None:
        bq, bk, bv = bias[:E, ...], bias[E:2 * E, ...], bias[2 * E:, ...]
    if qn == kn == vn:
        # one MatMul for the three projections, then Split
        wall = g.xp.concat([wq * scale, wk, wv], axis=0)
        ball = None if bias is None else g.xp.concat([bq * scale, bk, bv])
        qkv = _proj(g, qn, wall, ball)
        Q, K, V = g.node("Split", [qkv], nout=3, axis=2, num_outputs=3)
    else:
        Q = _proj(g, qn, wq, bq, scale)
        if kn == vn:
            kv = _proj(g, kn, g.xp.concat([wk, wv], axis=0),
                       None if bias is None else g.xp.concat([bk, bv]))
            K, V = g.node("Split", [kv], nout=2, axis=2, num_outputs=2)
        else:
            K, V = _proj(g, kn, wk, bk), _proj(g, vn, wv, bv)
    heads = g.ints([0, 0, h, d])
    Q = g.node("Transpose", [g.node("Reshape", [Q, heads])], perm=[0, 2, 1, 3])
    K = g.node("Transpose", [g.node("Reshape", [K, heads])], perm=[0, 2, 3, 1])
    V = g.node("Transpose", [g.node("Reshape", [V, heads])], perm=[0, 2, 1, 3])
    s = g.node("MatMul", [Q, K], hint="scores")              # (B, h, L, S)
    dt = g.dtype_name(q.v)
    if attn_mask is not None:
        am = _x(attn_mask)
        if am.ndim == 3:
            raise g.unsupported("MultiheadAttention with a 3-d attn_mask (batch * heads)")
        if g.dtype_name(am.v) == "bool":
            s = g.node("Where", [g.value(am), g.scalar(-math.inf, dt), s])
        else:
            s = g.node("Add", [s, g.value(am)])
    if key_padding_mask is not None:
        kp = _x(key_padding_mask)
        kpn = g.node("Unsqueeze", [g.value(kp), g.ints([1, 2], "axes")])
        if g.dtype_name(kp.v) == "bool":
            s = g.node("Where", [kpn, g.scalar(-math.inf, dt), s])
        else:
            s = g.node("Add", [s, kpn])
    p = g.node("Softmax", [s], axis=-1)
    o = g.node("MatMul", [p, V])                              # (B, h, L, d)
    o = g.node("Reshape", [g.node("Transpose", [o], perm=[0, 2, 1, 3]), g.ints([0, 0, E])])
    out = _proj(g, o, _raw(m.out_proj.weight),
                None if m.out_proj.bias is None else _raw(m.out_proj.bias))
    if not m.batch_first:
        out = g.node("Transpose", [out], perm=[1, 0, 2])
    dyn = q.dyn[:2] + (False,)
    weights = None
    if need_weights:
        weights = g.node("ReduceMean", [p, g.ints([1], "axes")], keepdims=0) \
            if average_attn_weights else p
    return (out, dyn), weights


def _mha(g, m, a, outs):
    if a.get("is_causal") and a.get("attn_mask") is None:
        raise g.unsupported("MultiheadAttention with is_causal=True and no attn_mask")
    (out, dyn), w = mha(g, m, _x(a["query"]), _x(a["key"]), _x(a["value"]),
                        a.get("key_padding_mask"), a.get("need_weights"), a.get("attn_mask"),
                        a.get("average_attn_weights", True))
    res = [(out, dyn)]
    if w is not None:
        qd = _x(a["query"]).dyn
        bd = qd[0] if m.batch_first else qd[1]
        res.append((w, (bd,) + (False,) * (len(outs[1].shape) - 1)))
    return res


def _ff(g, layer, xn, x):
    h, _ = linear(g, _with(x, xn), layer.linear1.weight, layer.linear1.bias)
    act = layer.activation
    if isinstance(act, nn.Module):
        conv = converter_for(act)
        if conv is None:
            raise g.unsupported(f"the activation module {type(act).__name__}")
        h = conv(g, act, {"input": _wrapped(x, h)}, [None])[0][0]
    else:
        h = activation_fn(g, act, h, x)
    y, _ = linear(g, _with(x, h), layer.linear2.weight, layer.linear2.bias)
    return y


class _Named:
    """A stand-in for a traced array already in the graph as ``name`` (shape of ``like``)."""

    def __init__(self, like, name):
        self.v, self.name, self.dyn, self.ndim = like.v, name, like.dyn, like.ndim
        self.shape = like.shape


class _TensorLike:
    def __init__(self, data):
        self._data = data


def _with(x, name):
    return _Named(x, name)


def _wrapped(x, name):
    return _TensorLike(_Named(x, name))


def _encoder_layer(g, m, a, outs):
    x = _x(a["src"])
    mask, kpm = a.get("src_mask"), a.get("src_key_padding_mask")
    if a.get("is_causal") and mask is None:
        raise g.unsupported("TransformerEncoderLayer with is_causal=True and no src_mask")

    def sa(xn):
        t = _with(x, xn)
        (o, _), _ = mha(g, m.self_attn, t, t, t, kpm, False, mask, True)
        return o
    xn = g.value(x)
    if m.norm_first:
        xn = g.node("Add", [xn, sa(layernorm(g, m.norm1, x, xn))])
        xn = g.node("Add", [xn, _ff(g, m, layernorm(g, m.norm2, x, xn), x)])
    else:
        xn = layernorm(g, m.norm1, x, g.node("Add", [xn, sa(xn)]))
        xn = layernorm(g, m.norm2, x, g.node("Add", [xn, _ff(g, m, xn, x)]))
    return [(xn, x.dyn)]


def _decoder_layer(g, m, a, outs):
    x = _x(a["tgt"])
    mem = _x(a["memory"])
    if (a.get("tgt_is_causal") and a.get("tgt_mask") is None) or \
            (a.get("memory_is_causal") and a.get("memory_mask") is None):
        raise g.unsupported("TransformerDecoderLayer with is_causal=True and no mask")

    def sa(xn):
        t = _with(x, xn)
        (o, _), _ = mha(g, m.self_attn, t, t, t, a.get("tgt_key_padding_mask"), False,
                        a.get("tgt_mask"), True)
        return o

    def ca(xn):
        (o, _), _ = mha(g, m.multihead_attn, _with(x, xn), mem, mem,
                        a.get("memory_key_padding_mask"), False, a.get("memory_mask"), True)
        return o
    xn = g.value(x)
    if m.norm_first:
        xn = g.node("Add", [xn, sa(layernorm(g, m.norm1, x, xn))])
        xn = g.node("Add", [xn, ca(layernorm(g, m.norm2, x, xn))])
        xn = g.node("Add", [xn, _ff(g, m, layernorm(g, m.norm3, x, xn), x)])
    else:
        xn = layernorm(g, m.norm1, x, g.node("Add", [xn, sa(xn)]))
        xn = layernorm(g, m.norm2, x, g.node("Add", [xn, ca(xn)]))
        xn = layernorm(g, m.norm3, x, g.node("Add", [xn, _ff(g, m, xn, x)]))
    return [(xn, x.dyn)]


# ---------------------------------------------------------------------- the table
CONVERTERS = {
    nn.Linear: _linear, nn.Identity: _identity,
    nn.Dropout: _identity, nn.Dropout1d: _identity, nn.Dropout2d: _identity,
    nn.Dropout3d: _identity, nn.AlphaDropout: _identity, nn.FeatureAlphaDropout: _identity,
    nn.Flatten: _flatten, nn.Unflatten: _unflatten,
    nn.ReLU: _act("Relu"), nn.Sigmoid: _act("Sigmoid"), nn.Tanh: _act("Tanh"),
    nn.GELU: _gelu, nn.SiLU: _silu, nn.Mish: _act("Mish"), nn.Softsign: _act("Softsign"),
    nn.ELU: _act("Elu", alpha=lambda m: float(m.alpha)),
    nn.CELU: _act("Celu", alpha=lambda m: float(m.alpha)),
    nn.SELU: _act("Selu", alpha=1.6732632423543772, gamma=1.0507009873554805),
    nn.LeakyReLU: _act("LeakyRelu", alpha=lambda m: float(m.negative_slope)),
    nn.RReLU: _act("LeakyRelu", alpha=lambda m: (m.lower + m.upper) / 2),
    nn.Hardsigmoid: _act("HardSigmoid", alpha=1 / 6, beta=0.5),
    nn.Hardswish: _act("HardSwish"),
    nn.Hardtanh: _clip(lambda m: m.min_val, lambda m: m.max_val),
    nn.ReLU6: _clip(lambda m: 0.0, lambda m: 6.0),
    nn.Softplus: _softplus, nn.LogSigmoid: _logsigmoid, nn.Tanhshrink: _tanhshrink,
    nn.Threshold: _threshold, nn.PReLU: _prelu, nn.GLU: _glu,
    nn.Softshrink: _shrink(True), nn.Hardshrink: _shrink(False),
    nn.Softmax: _softmax_like("Softmax"), nn.LogSoftmax: _softmax_like("LogSoftmax"),
    nn.Softmin: _softmax_like("Softmax", neg=True),
    nn.Softmax2d: _softmax_like("Softmax", axis_of=lambda m, x: -3),
    nn.Conv1d: _conv(1), nn.Conv2d: _conv(2), nn.Conv3d: _conv(3),
    nn.ConvTranspose1d: _conv_transpose(1), nn.ConvTranspose2d: _conv_transpose(2),
    nn.ConvTranspose3d: _conv_transpose(3),
    nn.MaxPool1d: _maxpool(1), nn.MaxPool2d: _maxpool(2), nn.MaxPool3d: _maxpool(3),
    nn.AvgPool1d: _avgpool(1), nn.AvgPool2d: _avgpool(2), nn.AvgPool3d: _avgpool(3),
    nn.AdaptiveAvgPool1d: _adaptive(1, "Average"), nn.AdaptiveAvgPool2d: _adaptive(2, "Average"),
    nn.AdaptiveAvgPool3d: _adaptive(3, "Average"), nn.AdaptiveMaxPool1d: _adaptive(1, "Max"),
    nn.AdaptiveMaxPool2d: _adaptive(2, "Max"), nn.AdaptiveMaxPool3d: _adaptive(3, "Max"),
    nn.BatchNorm1d: _batchnorm, nn.BatchNorm2d: _batchnorm, nn.BatchNorm3d: _batchnorm,
    nn.InstanceNorm1d: _instancenorm, nn.InstanceNorm2d: _instancenorm,
    nn.InstanceNorm3d: _instancenorm, nn.LayerNorm: _layernorm, nn.GroupNorm: _groupnorm,
    nn.LocalResponseNorm: _lrn, nn.Embedding: _embedding,
    nn.ConstantPad1d: _pad("constant"), nn.ConstantPad2d: _pad("constant"),
    nn.ConstantPad3d: _pad("constant"), nn.ZeroPad1d: _pad("constant"),
    nn.ZeroPad2d: _pad("constant"), nn.ZeroPad3d: _pad("constant"),
    nn.ReflectionPad1d: _pad("reflect"), nn.ReflectionPad2d: _pad("reflect"),
    nn.ReflectionPad3d: _pad("reflect"), nn.ReplicationPad1d: _pad("edge"),
    nn.ReplicationPad2d: _pad("edge"), nn.ReplicationPad3d: _pad("edge"),
    nn.CircularPad1d: _pad("wrap"), nn.CircularPad2d: _pad("wrap"),
    nn.CircularPad3d: _pad("wrap"),
    nn.PixelShuffle: _pixel_shuffle, nn.PixelUnshuffle: _pixel_unshuffle,
    nn.LSTM: _rnn, nn.GRU: _rnn, nn.RNN: _rnn,
    nn.MultiheadAttention: _mha,
    nn.TransformerEncoderLayer: _encoder_layer, nn.TransformerDecoderLayer: _decoder_layer,
}


def converter_for(m):
    """The native converter of module ``m``: its class's, or the nearest base class's when
    ``m``'s class keeps that base's ``forward``."""
    cls = type(m)
    for base in cls.__mro__:
        conv = CONVERTERS.get(base)
        if conv is not None:
            return conv if cls.forward is base.forward else None
    return None


# ---------------------------------------------------------------------- functional calls
class Call:
    """A functional call dressed as the layer whose converter writes it."""

    def __init__(self, layer_name, **attrs):
        self.layer_name = layer_name
        self.__dict__.update(attrs)


def _f_conv(nd):
    def spec(a):
        w = a["weight"]
        return _conv(nd), Call(f"conv{nd}d", weight=w, bias=a["bias"], stride=a["stride"],
                               padding=a["padding"], dilation=a["dilation"],
                               groups=a["groups"], kernel_size=tuple(w.shape[2:]))
    return spec


def _f_conv_transpose(nd):
    def spec(a):
        return _conv_transpose(nd), Call(
            f"conv_transpose{nd}d", weight=a["weight"], bias=a["bias"], stride=a["stride"],
            padding=a["padding"], output_padding=a["output_padding"], groups=a["groups"],
            dilation=a["dilation"])
    return spec


def _f_maxpool(nd):
    def spec(a):
        return _maxpool(nd), Call(
            f"max_pool{nd}d", kernel_size=a["kernel_size"],
            stride=a["stride"] if a["stride"] not in (None, (), []) else a["kernel_size"],
            padding=a["padding"], dilation=a["dilation"], ceil_mode=a["ceil_mode"],
            return_indices=a["return_indices"])
    return spec


def _f_avgpool(nd):
    def spec(a):
        return _avgpool(nd), Call(
            f"avg_pool{nd}d", kernel_size=a["kernel_size"],
            stride=a["stride"] if a["stride"] not in (None, (), []) else a["kernel_size"],
            padding=a["padding"], ceil_mode=a["ceil_mode"],
            count_include_pad=a["count_include_pad"],
            divisor_override=a.get("divisor_override"))
    return spec


def _f_adaptive(nd, kind):
    def spec(a):
        return _adaptive(nd, kind), Call(
            f"adaptive_{kind.lower()}_pool{nd}d", output_size=a["output_size"],
            return_indices=a.get("return_indices", False))
    return spec


def _f_module(cls, **names):
    """A functional call written by module ``cls``'s converter, its attributes taken from
    the call's arguments (``attr="argument"``) or given (``attr=("value",)``)."""
    def spec(a):
        attrs = {k: (v[0] if isinstance(v, tuple) else a[v]) for k, v in names.items()}
        if a.get("dtype") is not None:
            return None
        return CONVERTERS[cls], Call(cls.__name__, **attrs)
    return spec


def _f_batch_norm(a):
    if a["training"] or a["running_mean"] is None:
        return None
    return _batchnorm, Call("batch_norm", running_mean=a["running_mean"],
                            running_var=a["running_var"], weight=a["weight"], bias=a["bias"],
                            eps=a["eps"], num_features=a["input"].shape[1])


def _f_linear(a):
    if a["weight"].ndim != 2:
        return None
    return _linear, Call("linear", weight=a["weight"], bias=a["bias"])


def _f_layer_norm(a):
    shape = a["normalized_shape"]
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return _layernorm, Call("layer_norm", normalized_shape=shape, weight=a["weight"],
                            bias=a["bias"], eps=a["eps"])


# name in interop.nn.functional -> spec(arguments by name) -> (converter, Call) or None
# (None: this call's options have no native form; it is traced op by op)
FUNCTIONAL = {
    "conv1d": _f_conv(1), "conv2d": _f_conv(2), "conv3d": _f_conv(3),
    "conv_transpose1d": _f_conv_transpose(1), "conv_transpose2d": _f_conv_transpose(2),
    "conv_transpose3d": _f_conv_transpose(3),
    "max_pool1d": _f_maxpool(1), "max_pool2d": _f_maxpool(2), "max_pool3d": _f_maxpool(3),
    "avg_pool1d": _f_avgpool(1), "avg_pool2d": _f_avgpool(2), "avg_pool3d": _f_avgpool(3),
    "adaptive_avg_pool1d": _f_adaptive(1, "Average"),
    "adaptive_avg_pool2d": _f_adaptive(2, "Average"),
    "adaptive_avg_pool3d": _f_adaptive(3, "Average"),
    "adaptive_max_pool1d": _f_adaptive(1, "Max"), "adaptive_max_pool2d": _f_adaptive(2, "Max"),
    "adaptive_max_pool3d": _f_adaptive(3, "Max"),
    "relu": _f_module(nn.ReLU), "relu6": _f_module(nn.ReLU6),
    "hardtanh": _f_module(nn.Hardtanh, min_val="min_val", max_val="max_val"),
    "leaky_relu": _f_module(nn.LeakyReLU, negative_slope="negative_slope"),
    "elu": _f_module(nn.ELU, alpha="alpha"), "gelu": _f_module(nn.GELU,
                                                               approximate="approximate"),
    "silu": _f_module(nn.SiLU), "mish": _f_module(nn.Mish),
    "hardsigmoid": _f_module(nn.Hardsigmoid), "hardswish": _f_module(nn.Hardswish),
    "softplus": _f_module(nn.Softplus, beta="beta", threshold="threshold"),
    "softmax": _f_module(nn.Softmax, dim="dim"),
    "log_softmax": _f_module(nn.LogSoftmax, dim="dim"),
    "layer_norm": _f_layer_norm, "batch_norm": _f_batch_norm, "linear": _f_linear,
}
