"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their one-step cells, with PyTorch's
parameter names, layout (gates stacked i, f, g, o for LSTM and r, z, n for GRU), default
initialization, repr, and inputs (padded, unbatched or :class:`PackedSequence`).

Speed: each layer and direction projects the inputs of all time steps in one matmul; the
time loop is one differentiable primitive per layer and direction (``_lstm``, ``_gru``,
``_rnn``, recorded with ``interop.autograd.primitive``) that does only ``h @ W_hh^T`` and the
gate math per step and, in backward, sums the weight gradients of all steps in one matmul.
So autograd records a handful of nodes per layer instead of a dozen per time step, and the
backward (``_LSTMScanBackward``...) walks the steps on the backend's raw arrays. The LSTM's
forward walks them on raw arrays too: its loop is a pair of backend kernels (``lstm_scan``,
``lstm_scan_backward``, reached through ``interop.autograd.run_kernel`` and the backward's
namespace), which the cpu backend runs as one compiled pass per step into buffers for all
steps (float32, where numba is installed). Under
``create_graph=True`` it differentiates a recorded recomputation of the same loop, so
higher-order gradients are right too. The per-step values kept for backward (joined over
the steps) are released by it. The initial state's gradient (one more ``dh @ W_hh`` after
the walk) is formed only where the initial state wants one: not for the zeros of
``hx=None``.

Sequences are walked in PyTorch's packed layout: rows ``start:start + n`` of the projected
inputs hold step ``t`` of the ``n`` sequences still running (a padded batch is the case
where every ``n`` is the batch size). A sequence that ends leaves its final state behind; in
the reverse direction a sequence joins with its initial state at its last step.
"""

import math
import warnings

import interop as it
from .module import Module
from .. import init
from ..functional import _linear, _norm
from ..parameter import Parameter
from ..utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


# ----------------------------------------------------------------------------- the time loop
def _blocks(x, sizes, reverse):
    """The rows of each time step (``sizes[t]`` rows for step ``t``), in visiting order."""
    same = sizes[0] > 0 and all(n == sizes[0] for n in sizes)
    blocks = it.split(x, sizes[0] if same else sizes, dim=0)
    return blocks[::-1] if reverse else blocks


def _spans(sizes, reverse):
    """``(start, stop)`` of the rows of each time step, in visiting order (what
    :func:`_blocks` cuts, as row ranges into a raw array)."""
    spans, start = [], 0
    for n in sizes:
        spans.append((start, start + n))
        start += n
    return spans[::-1] if reverse else spans


def _fit(xp, state, n, source, dropped):
    """``state`` cut or grown to ``n`` rows: rows past ``n`` go to ``dropped``; missing rows
    come from ``source`` (the initial state, or the final state's gradient). ``xp``: ``it``
    on tensors, the backend namespace on raw arrays."""
    m = state.shape[0]
    if n < m:
        dropped.append(state[n:, :])
        return state[:n, :]
    if n > m:
        return xp.concat([state, source[m:n, :]], axis=0)
    return state


def _whole(xp, state, dropped):
    """All rows again: ``state`` on top of what ``_fit`` dropped, in row order."""
    return xp.concat([state, *dropped[::-1]], axis=0) if dropped else state


def _rows(xp, pieces, reverse):
    """Per-step pieces (in visiting order) joined in packed (time) order."""
    if len(pieces) == 1:
        return pieces[0]
    return xp.concat(pieces[::-1] if reverse else pieces, axis=0)


def _first(state, n):
    return state if n == state.shape[0] else state[:n, :]


def _row_major(w):
    """``w`` transposed, laid out row-major: BLAS multiplies small blocks by it much faster
    than by a transposed view."""
    return it.contiguous(w.mT)


def _recording(*tensors):
    """Whether a primitive over ``tensors`` will be recorded (what it saves is made only then)."""
    return it.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


def _cotangents(xp, g, s, with_c):
    """The gradients of ``(out, h_n[, c_n])``, zeros where none reached the node."""
    out_shape = (s.xw.shape[0], s.h0.shape[1])
    g_out = g[0] if g[0] is not None else xp.zeros(out_shape, dtype=s.xw.dtype,
                                                   device=s.xw.device)
    g_hn = g[1] if g[1] is not None else xp.zeros_like(s.h0)
    if not with_c:
        return g_out, g_hn
    return g_out, g_hn, (g[2] if g[2] is not None else xp.zeros_like(s.c0))


def _regrad(forward, tensors, extra, grads):
    """Gradients of a recorded rerun of ``forward`` (backward under ``create_graph=True``:
    the result is differentiable again)."""
    outs = forward(*tensors, *extra)[:len(grads)]
    wrt = [t for t in tensors if t is not None and t.requires_grad]
    got = iter(it.autograd.grad(outs, wrt, grads, create_graph=True, allow_unused=True))
    return tuple(next(got) if t is not None and t.requires_grad else None for t in tensors)


def _lstm_scan(xw, h0, c0, w_hh, w_hr, sizes, reverse):
    """LSTM over time in recorded tensor ops: ``(out, h_n, c_n)``; ``xw`` holds
    ``x W_ih^T + b_ih + b_hh``. What the backward of ``_lstm`` differentiates under
    ``create_graph=True`` (the ordinary forward is the backend's ``lstm_scan`` kernel, with
    the same formulas)."""
    H = c0.shape[1]
    w_hh_t = _row_major(w_hh)
    w_hr_t = None if w_hr is None else _row_major(w_hr)
    blocks = _blocks(xw, sizes, reverse)
    h = _first(h0, blocks[0].shape[0])
    c = _first(c0, blocks[0].shape[0])
    h_done, c_done, outs = [], [], []
    for x in blocks:
        n = x.shape[0]
        h = _fit(it, h, n, h0, h_done)
        c = _fit(it, c, n, c0, c_done)
        gates = x + h @ w_hh_t
        i, f, _, o = it.split(it.sigmoid(gates), H, dim=1)
        g = it.tanh(gates[:, 2 * H:3 * H])
        c = f * c + i * g
        m = o * it.tanh(c)
        h = m if w_hr_t is None else m @ w_hr_t
        outs.append(h)
    return _rows(it, outs, reverse), _whole(it, h, h_done), _whole(it, c, c_done)


class _LSTMScanBackward(it.autograd.Node):
    """One LSTM layer and direction over time (see the module docstring); its backward is
    the backend's ``lstm_scan_backward`` kernel on raw arrays, then the recurrent weights'
    gradients, one matmul each over all steps."""

    saves = ("xw", "h0", "c0", "w_hh", "w_hr", "acts", "c", "tc", "prev_h", "m")

    def backward(self, xp, g, s):
        sizes, reverse = self.sizes, self.reverse
        g_out, g_hn, g_cn = _cotangents(xp, g, s, True)
        if xp is not self.be.ns:
            return _regrad(_lstm_scan, s[:5], (sizes, reverse), (g_out, g_hn, g_cn))
        need_h0, need_c0 = self.next[1] is not None, self.next[2] is not None
        d_xw, dh0, dc0, d_h = xp.lstm_scan_backward(g_out, g_hn, g_cn, s.acts, s.c, s.tc, s.m,
                                                    s.w_hh, s.w_hr, sizes, reverse, need_h0,
                                                    need_c0)
        d_whh = d_whr = None
        if self.next[3] is not None:
            d_whh = xp.matmul(xp.matrix_transpose(d_xw), s.prev_h)
        if s.w_hr is not None and self.next[4] is not None:
            d_whr = xp.matmul(xp.matrix_transpose(d_h), s.m)
        return d_xw, dh0, dc0, d_whh, d_whr


def _lstm(xw, h0, c0, w_hh, w_hr, sizes, reverse):
    """One LSTM layer and direction, recorded as one primitive: ``(out, h_n, c_n)``. The
    forward is the backend's ``lstm_scan`` kernel on raw arrays (the cpu backend runs each
    step's gate math in one compiled pass, into buffers for all steps)."""
    keep = _recording(xw, h0, c0, w_hh, w_hr)
    with it.no_grad():
        res = it.autograd.run_kernel("lstm_scan", xw, h0, c0, w_hh, w_hr, sizes, reverse, keep)
    if not keep:
        return res
    return it.autograd.primitive(_LSTMScanBackward, (xw, h0, c0, w_hh, w_hr), res[:3],
                                 saved=(xw, h0, c0, w_hh, w_hr) + res[3:], sizes=tuple(sizes),
                                 reverse=reverse)


def _gru_scan(xw, h0, w_hh, b_hh, sizes, reverse, keep=False):
    """GRU over time: ``(out, h_n, saved)``; ``xw`` holds ``x W_ih^T + b_ih``. ``saved``
    (with ``keep``, else None): the reset and update gates, ``h W_hn^T + b_hn``, the new
    gate and the hidden state before each step, each joined over all steps in packed order."""
    H = h0.shape[1]
    w_hh_t = _row_major(w_hh)
    blocks = _blocks(xw, sizes, reverse)
    h = _first(h0, blocks[0].shape[0])
    done, outs, prev_h, acts = [], [], [], []
    for x in blocks:
        h = _fit(it, h, x.shape[0], h0, done)
        prev_h.append(h)
        hh = h @ w_hh_t
        if b_hh is not None:
            hh = hh + b_hh
        rz = it.sigmoid(x[:, :2 * H] + hh[:, :2 * H])
        r, z = it.split(rz, H, dim=1)
        hn = hh[:, 2 * H:]
        new = it.tanh(x[:, 2 * H:] + r * hn)
        h = new + z * (h - new)
        outs.append(h)
        acts.append((rz, hn, new))
    saved = None
    if keep:
        saved = tuple(_rows(it, [step[j] for step in acts], reverse) for j in range(3)) + (
            _rows(it, prev_h, reverse),)
    return _rows(it, outs, reverse), _whole(it, h, done), saved


class _GRUScanBackward(it.autograd.Node):
    """One GRU layer and direction over time (see the module docstring); its backward
    walks the steps on the backend's raw arrays."""

    saves = ("xw", "h0", "w_hh", "b_hh", "rz", "hn", "new", "prev_h")

    def backward(self, xp, g, s):
        sizes, reverse = self.sizes, self.reverse
        g_out, g_hn = _cotangents(xp, g, s, False)
        if xp is not self.be.ns:
            return _regrad(_gru_scan, s[:4], (sizes, reverse), (g_out, g_hn))
        w_hh = s.w_hh
        H = s.hn.shape[1]
        spans = _spans(sizes, reverse)
        dh = _first(g_hn, spans[-1][1] - spans[-1][0])
        dh0, d_x, d_hh = [], [], []
        need_h0 = self.next[1] is not None
        for k in range(len(spans) - 1, -1, -1):
            r0, r1 = spans[k]
            rz, hn, new = s.rz[r0:r1, :], s.hn[r0:r1, :], s.new[r0:r1, :]
            r, z = rz[:, :H], rz[:, H:]
            dh = _fit(xp, dh, r1 - r0, g_hn, dh0)
            dh = dh + g_out[r0:r1, :]
            d_new = (dh - dh * z) * (1 - new * new)
            d_rz = xp.concat([d_new * hn, dh * (s.prev_h[r0:r1, :] - new)], axis=1) * (rz - rz * rz)
            d_x.append(xp.concat([d_rz, d_new], axis=1))
            d = xp.concat([d_rz, d_new * r], axis=1)
            d_hh.append(d)
            if k or need_h0:    # (the initial state's gradient only where it is wanted)
                dh = dh * z + d @ w_hh
        d_xw = _rows(xp, d_x[::-1], reverse)
        need_w, need_b = self.next[2] is not None, self.next[3] is not None
        d_whh = d_bhh = None
        if need_w or need_b:
            d_hh = _rows(xp, d_hh[::-1], reverse)
            d_whh = xp.matrix_transpose(d_hh) @ s.prev_h if need_w else None
            d_bhh = xp.sum(d_hh, axis=0) if need_b else None
        return d_xw, _whole(xp, dh, dh0) if need_h0 else None, d_whh, d_bhh


def _gru(xw, h0, w_hh, b_hh, sizes, reverse):
    """One GRU layer and direction, recorded as one primitive: ``(out, h_n)``."""
    keep = _recording(xw, h0, w_hh, b_hh)
    with it.no_grad():
        out, h_n, saved = _gru_scan(xw, h0, w_hh, b_hh, sizes, reverse, keep)
    if not keep:
        return out, h_n
    return it.autograd.primitive(_GRUScanBackward, (xw, h0, w_hh, b_hh), (out, h_n),
                                 saved=(xw, h0, w_hh, b_hh) + saved, sizes=sizes,
                                 reverse=reverse)


def _rnn_scan(xw, h0, w_hh, sizes, reverse, relu, keep=False):
    """Elman RNN over time: ``(out, h_n, saved)``; ``xw`` holds ``x W_ih^T + b_ih + b_hh``.
    ``saved`` (with ``keep``, else None): the activation's derivative factor over all
    steps in packed order (tanh: ``1 - h^2``; relu: where ``h <= 0``, which gets no
    gradient) and the hidden state before each step."""
    w_hh_t = _row_major(w_hh)
    blocks = _blocks(xw, sizes, reverse)
    h = _first(h0, blocks[0].shape[0])
    done, outs, prev_h = [], [], []
    for x in blocks:
        h = _fit(it, h, x.shape[0], h0, done)
        prev_h.append(h)
        pre = x + h @ w_hh_t
        h = it.relu(pre) if relu else it.tanh(pre)
        outs.append(h)
    out = _rows(it, outs, reverse)
    saved = None
    if keep:    # (new arrays, not the output: writing into it leaves backward right)
        saved = ((out <= 0) if relu else 1 - out * out), _rows(it, prev_h, reverse)
    return out, _whole(it, h, done), saved


class _RNNScanBackward(it.autograd.Node):
    """One Elman RNN layer and direction over time (see the module docstring); its backward
    walks the steps on the backend's raw arrays."""

    saves = ("xw", "h0", "w_hh", "act", "prev_h")

    def backward(self, xp, g, s):
        sizes, reverse, relu = self.sizes, self.reverse, self.relu
        g_out, g_hn = _cotangents(xp, g, s, False)
        if xp is not self.be.ns:
            return _regrad(_rnn_scan, s[:3], (sizes, reverse, relu), (g_out, g_hn))
        w_hh = s.w_hh
        spans = _spans(sizes, reverse)
        dh = _first(g_hn, spans[-1][1] - spans[-1][0])
        dh0, d_pre = [], []
        need_h0 = self.next[1] is not None
        for k in range(len(spans) - 1, -1, -1):
            r0, r1 = spans[k]
            dh = _fit(xp, dh, r1 - r0, g_hn, dh0)
            dh = dh + g_out[r0:r1, :]
            act = s.act[r0:r1, :]
            # relu passes the gradient where its output is not <= 0 (NaN included), as PyTorch
            d = xp.where(act, xp.zeros_like(dh), dh) if relu else dh * act
            d_pre.append(d)
            if k or need_h0:    # (the initial state's gradient only where it is wanted)
                dh = d @ w_hh
        d_xw = _rows(xp, d_pre[::-1], reverse)
        d_whh = xp.matrix_transpose(d_xw) @ s.prev_h if self.next[2] is not None else None
        return d_xw, _whole(xp, dh, dh0) if need_h0 else None, d_whh


def _rnn(xw, h0, w_hh, sizes, reverse, relu):
    """One Elman RNN layer and direction, recorded as one primitive: ``(out, h_n)``."""
    keep = _recording(xw, h0, w_hh)
    with it.no_grad():
        out, h_n, saved = _rnn_scan(xw, h0, w_hh, sizes, reverse, relu, keep)
    if not keep:
        return out, h_n
    return it.autograd.primitive(_RNNScanBackward, (xw, h0, w_hh), (out, h_n),
                                 saved=(xw, h0, w_hh) + saved, sizes=sizes, reverse=reverse,
                                 relu=relu)


# ----------------------------------------------------------------------------- the modules
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _positive_int(value, name, cls):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{cls}: {name} should be of type int, got: {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{cls}: {name} must be greater than zero, got {value}")
    return value


def _shape(t):
    return tuple(t.shape)


class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: parameters per layer and direction
    (``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``, LSTM's
    ``weight_hr_l{k}``; ``_reverse`` for the backward direction), all U(-1/sqrt(hidden_size),
    1/sqrt(hidden_size)), and the walk over layers and directions."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        cls = type(self).__name__
        if mode not in _GATES:
            raise ValueError(f"{cls}: unrecognized RNN mode {mode!r}; expected one of "
                             f"{sorted(_GATES)}")
        if isinstance(input_size, bool) or not isinstance(input_size, int) or input_size < 0:
            raise ValueError(f"{cls}: input_size must be a non-negative int, got {input_size!r}")
        _positive_int(hidden_size, "hidden_size", cls)
        _positive_int(num_layers, "num_layers", cls)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or \
                not 0 <= dropout <= 1:
            raise ValueError(f"{cls}: dropout should be a number in range [0, 1] representing "
                             f"the probability of an element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        if isinstance(proj_size, bool) or not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError(f"{cls}: proj_size should be a positive integer or zero to disable "
                             f"projections, got {proj_size!r}")
        if proj_size >= hidden_size:
            raise ValueError(f"{cls}: proj_size has to be smaller than hidden_size, got "
                             f"proj_size={proj_size} and hidden_size={hidden_size}")
        if proj_size and mode != "LSTM":
            raise ValueError(f"{cls}: proj_size is supported by LSTM only")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gates = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        out_size = proj_size or hidden_size
        names = []
        for layer in range(num_layers):
            for d in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if d else "")
                in_size = input_size if layer == 0 else out_size * directions
                shapes = [("weight_ih", (gates, in_size)), ("weight_hh", (gates, out_size))]
                if bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                group = []
                for name, shape in shapes:
                    setattr(self, name + suffix,
                            Parameter(it.empty(shape, device=device, dtype=dtype)))
                    group.append(name + suffix)
                names.append(group)
        self._all_weights = names
        self.reset_parameters()

    @property
    def _flat_weights_names(self):
        return [n for group in self._all_weights for n in group]

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters, one list per layer and direction."""
        return [[getattr(self, n) for n in group] for group in self._all_weights]

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def flatten_parameters(self):
        """A no-op: there is no fused weight buffer to compact (kept for PyTorch code)."""

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ------------------------------------------------------------------ forward
    def _prepare(self, input):
        """Validates the input. Returns ``(x, sizes, batch, packed, batched)``: ``x`` the
        inputs as packed rows ``(N, input_size)``, ``sizes`` the rows per time step."""
        cls = type(self).__name__
        packed = isinstance(input, PackedSequence)
        if packed:
            x, sizes = input.data, input.batch_sizes.tolist()
            if x.ndim != 2:
                raise it.ShapeError(f"{cls}: expected packed data of shape (N, input_size), got "
                                    f"{_shape(x)}")
            batched = True
            batch = sizes[0]
        else:
            if not isinstance(input, it.Tensor):
                raise TypeError(f"{cls}: expected a Tensor or PackedSequence as input, got "
                                f"{type(input).__name__}")
            if input.ndim not in (2, 3):
                raise it.ShapeError(f"{cls}: expected input to be 2-D or 3-D, got "
                                    f"{input.ndim}-D input of shape {_shape(input)}")
            batched = input.ndim == 3
            x = input if batched else input[:, None]
            if batched and self.batch_first:
                x = x.transpose(0, 1)
            steps, batch = x.shape[0], x.shape[1]
            if steps == 0:
                raise it.ShapeError(f"{cls}: expected sequence length to be larger than 0, got "
                                    f"input of shape {_shape(input)}")
            sizes = [batch] * steps
            x = x.reshape(steps * batch, x.shape[2])
        w = self.weight_ih_l0
        if x.shape[-1] != self.input_size:
            raise it.ShapeError(f"{cls}: input.size(-1) must be equal to input_size. Expected "
                                f"{self.input_size}, got {x.shape[-1]}")
        if x.dtype != w.dtype:
            raise it.DTypeError(f"{cls}: input must have the type {w.dtype}, got type {x.dtype}")
        return x, sizes, batch, packed, batched

    def _check_hidden(self, h, shape, batched, what):
        cls = type(self).__name__
        if not isinstance(h, it.Tensor):
            raise TypeError(f"{cls}: expected {what} to be a Tensor, got {type(h).__name__}")
        want = shape if batched else (shape[0], shape[2])
        if h.ndim != len(want):
            kind = "batched 3-D" if batched else "unbatched 2-D"
            raise it.ShapeError(f"{cls}: for {kind} input, {what} should also be "
                                f"{len(want)}-D, but got a {h.ndim}-D tensor of shape "
                                f"{_shape(h)}")
        if _shape(h) != want:
            raise it.ShapeError(f"{cls}: expected {what} of size {want}, got {_shape(h)}")
        if h.dtype != self.weight_ih_l0.dtype:
            raise it.DTypeError(f"{cls}: expected {what} of dtype {self.weight_ih_l0.dtype}, got "
                                f"{h.dtype}")
        return h if batched else h[:, None]

    def _states(self, hx, batch, batched, sorted_indices):
        """The initial states as a list ``[h0]`` (``[h0, c0]`` for LSTM) of ``(L * D, B, *)``
        tensors in the packed (sorted) batch order."""
        directions = 2 if self.bidirectional else 1
        layers = self.num_layers * directions
        out_size = self.proj_size or self.hidden_size
        shapes = [(layers, batch, out_size)]
        whats = ["hx"]
        if self.mode == "LSTM":
            shapes.append((layers, batch, self.hidden_size))
            whats = ["hx[0]", "hx[1]"]
        w = self.weight_ih_l0
        if hx is None:
            return [w.new_zeros(shape) for shape in shapes]
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{type(self).__name__}: expected hx as a tuple (h_0, c_0), got "
                                f"{type(hx).__name__}")
            states = list(hx)
        else:
            states = [hx]
        states = [self._check_hidden(h, shape, batched, what)
                  for h, shape, what in zip(states, shapes, whats)]
        if sorted_indices is not None:
            states = [it.index_select(h, 1, sorted_indices) for h in states]
        return states

    def _layer(self, x, states, k, sizes):
        """One layer-direction ``k`` over the packed rows ``x``: ``(out, [h_n, (c_n)])``."""
        names = self._all_weights[k]
        params = [getattr(self, n) for n in names]
        w_ih, w_hh = params[0], params[1]
        b_ih = b_hh = w_hr = None
        if self.bias:
            b_ih, b_hh = params[2], params[3]
        if self.proj_size:
            w_hr = params[-1]
        reverse = bool(k % 2) and self.bidirectional
        if self.mode == "GRU":
            out, h_n = _gru(_linear.linear(x, w_ih, b_ih), states[0], w_hh, b_hh, sizes,
                            reverse)
            return out, [h_n]
        xw = _linear.linear(x, w_ih, None if b_ih is None else b_ih + b_hh)
        if self.mode == "LSTM":
            out, h_n, c_n = _lstm(xw, states[0], states[1], w_hh, w_hr, sizes, reverse)
            return out, [h_n, c_n]
        out, h_n = _rnn(xw, states[0], w_hh, sizes, reverse, self.mode == "RNN_RELU")
        return out, [h_n]

    def forward(self, input, hx=None):
        x, sizes, batch, packed, batched = self._prepare(input)
        sorted_indices = input.sorted_indices if packed else None
        states = self._states(hx, batch, batched, sorted_indices)
        directions = 2 if self.bidirectional else 1
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            outs = []
            for d in range(directions):
                k = layer * directions + d
                out, last = self._layer(x, [s[k] for s in states], k, sizes)
                outs.append(out)
                for f, h in zip(finals, last):
                    f.append(h)
            x = outs[0] if directions == 1 else it.concat(outs, axis=1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = _norm.dropout(x, self.dropout)
        finals = [it.stack(f, axis=0) for f in finals]
        if packed:
            if input.unsorted_indices is not None:
                finals = [it.index_select(h, 1, input.unsorted_indices) for h in finals]
            output = PackedSequence(x, input.batch_sizes, input.sorted_indices,
                                    input.unsorted_indices)
        else:
            output = x.reshape(len(sizes), batch, x.shape[-1])
            if not batched:
                output = output[:, 0]
                finals = [h[:, 0] for h in finals]
            elif self.batch_first:
                output = output.transpose(0, 1)
        if self.mode == "LSTM":
            return output, (finals[0], finals[1])
        return output, finals[0]


class RNN(RNNBase):
    """Elman RNN: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``, act ``tanh`` or
    ``relu``. ``forward(input, hx=None) -> (output, h_n)``."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        modes = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}
        if nonlinearity not in modes:
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; select from 'tanh' or "
                             f"'relu'")
        self.nonlinearity = nonlinearity
        super().__init__(modes[nonlinearity], input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, device=device, dtype=dtype)


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o (stacked in that order in the weights);
    ``c_t = f * c_{t-1} + i * g``, ``h_t = o * tanh(c_t)``, projected by ``weight_hr`` when
    ``proj_size > 0``. ``forward(input, (h_0, c_0)=None) -> (output, (h_n, c_n))``."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit: gates r, z, n (stacked in that order);
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.
    ``forward(input, hx=None) -> (output, h_n)``."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)


class RNNCellBase(Module):
    """What the one-step cells share: ``weight_ih`` (gates * hidden_size, input_size),
    ``weight_hh`` (gates * hidden_size, hidden_size), ``bias_ih``, ``bias_hh``, all
    U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        cls = type(self).__name__
        if isinstance(input_size, bool) or not isinstance(input_size, int) or input_size < 0:
            raise ValueError(f"{cls}: input_size must be a non-negative int, got {input_size!r}")
        _positive_int(hidden_size, "hidden_size", cls)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gates = num_chunks * hidden_size
        self.weight_ih = Parameter(it.empty((gates, input_size), device=device, dtype=dtype))
        self.weight_hh = Parameter(it.empty((gates, hidden_size), device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(it.empty(gates, device=device, dtype=dtype))
            self.bias_hh = Parameter(it.empty(gates, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input, hx, n_states):
        """Validates the call; returns ``(x, states, batched)`` with 2-D ``x`` and states (zeros
        where ``hx`` is None)."""
        cls = type(self).__name__
        if not isinstance(input, it.Tensor):
            raise TypeError(f"{cls}: expected a Tensor as input, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise it.ShapeError(f"{cls}: expected input to be 1-D or 2-D, got {input.ndim}-D "
                                f"input of shape {_shape(input)}")
        batched = input.ndim == 2
        x = input if batched else input[None]
        if x.shape[1] != self.input_size:
            raise it.ShapeError(f"{cls}: input has inconsistent input_size: got {x.shape[1]}, "
                                f"expected {self.input_size}")
        if x.dtype != self.weight_ih.dtype:
            raise it.DTypeError(f"{cls}: input must have the type {self.weight_ih.dtype}, got "
                                f"type {x.dtype}")
        shape = (x.shape[0], self.hidden_size)
        if hx is None:
            return x, [self.weight_ih.new_zeros(shape) for _ in range(n_states)], batched
        states = list(hx) if n_states == 2 else [hx]
        for i, h in enumerate(states):
            what = "hx" if n_states == 1 else f"hx[{i}]"
            if not isinstance(h, it.Tensor):
                raise TypeError(f"{cls}: expected {what} to be a Tensor, got {type(h).__name__}")
            if h.ndim != input.ndim:
                raise it.ShapeError(f"{cls}: expected {what} to be {input.ndim}-D like the input, "
                                    f"got shape {_shape(h)}")
            h = h if batched else h[None]
            if _shape(h) != shape:
                raise it.ShapeError(f"{cls}: expected {what} of shape {shape} for input of shape "
                                    f"{_shape(x)} (batch, input_size), got {_shape(h)}")
            if h.dtype != x.dtype:
                raise it.DTypeError(f"{cls}: expected {what} of dtype {x.dtype}, got {h.dtype}")
            states[i] = h
        return x, states, batched

    def _projected(self, x, fold_bias):
        b = self.bias_ih
        if b is not None and fold_bias:
            b = b + self.bias_hh
        return _linear.linear(x, self.weight_ih, b)


class RNNCell(RNNCellBase):
    """One Elman RNN step: ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; select from "
                             f"'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx, 1)
        _, h = _rnn(self._projected(x, True), h, self.weight_hh, [x.shape[0]], False,
                    self.nonlinearity == "relu")
        return h if batched else h[0]


class LSTMCell(RNNCellBase):
    """One LSTM step: ``forward(input, (h, c)=None) -> (h', c')``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        x, (h, c), batched = self._prepare(input, hx, 2)
        _, h, c = _lstm(self._projected(x, True), h, c, self.weight_hh, None, [x.shape[0]],
                        False)
        return (h, c) if batched else (h[0], c[0])


class GRUCell(RNNCellBase):
    """One GRU step: ``forward(input, hx=None) -> h'``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx, 1)
        _, h = _gru(self._projected(x, False), h, self.weight_hh, self.bias_hh, [x.shape[0]],
                    False)
        return h if batched else h[0]
