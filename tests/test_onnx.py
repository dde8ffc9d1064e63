"""interop.onnx.export: every covered layer is written as ONNX's own operator(s), the graph
passes onnx.checker, and onnxruntime's outputs equal interop's on a batch size other than
the one exported (dynamic axes)."""

import io
import sys

import numpy as np
import pytest

import interop as it

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

nn = it.nn
F = nn.functional


def _flat(obj):
    if isinstance(obj, it.Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for o in obj for t in _flat(o)]
    return []


def _np(t):
    return np.asarray(t.detach().cpu().numpy())


def _export(model, inputs, dynamic, opset=None, output_names=None):
    """Export ``model`` on the example ``inputs`` ({name: tensor}) with ``dynamic`` ({name:
    axes}); returns the ModelProto and an onnxruntime session."""
    buf = io.BytesIO()
    proto = it.onnx.export(model, tuple(inputs.values()), buf, input_names=list(inputs),
                           output_names=output_names, dynamic_axes=dynamic,
                           opset_version=opset)
    onnx.checker.check_model(onnx.load_from_string(buf.getvalue()), full_check=True)
    return proto, ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])


def _check(model, inputs, big, dynamic, tol, opset=None):
    """Export on ``inputs``, run onnxruntime on ``big`` (other sizes on the dynamic axes),
    compare with interop's forward on ``big``; returns the graph's op types."""
    proto, sess = _export(model, inputs, dynamic, opset)
    got = sess.run(None, {k: _np(v) for k, v in big.items()})
    with it.no_grad():
        want = _flat(model(*big.values()))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == tuple(w.shape)
        np.testing.assert_allclose(g, _np(w), rtol=tol, atol=tol)
    return [n.op_type for n in proto.graph.node]


def _batch(shape, n, axis=0):
    s = list(shape)
    s[axis] = n
    return tuple(s)


# ------------------------------------------------------------------ the acceptance models

class DigitsCNN(nn.Module):
    """The digits CNN (1x8x8 images), written as PyTorch's MNIST example writes its net."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 2 * 2, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(it.flatten(x, 1))


class LSTMModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True)
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        out, (h, c) = self.lstm(x)
        return self.head(out[:, -1]), h


class GRUModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(8, 12, bidirectional=True)          # (seq, batch, feature)
        self.head = nn.Linear(24, 3)

    def forward(self, x):
        out, h = self.gru(x)
        return self.head(out.mean(0))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(32, 4, 64, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(32, 5)

    def forward(self, x):
        return self.head(self.encoder(x).mean(1))


ACCEPTANCE = [
    ("mlp", lambda: nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)),
     (64,), 0, 1e-5, ["Gemm", "Relu", "Gemm"]),
    ("digits_cnn", DigitsCNN, (1, 8, 8), 0, 1e-5,
     ["Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Reshape", "Gemm"]),
    ("lstm", LSTMModel, (5, 8), 0, 1e-4, None),
    ("gru", GRUModel, (5, 8), 1, 1e-4, None),
    ("transformer_encoder", Encoder, (6, 32), 0, 1e-4, None),
]


@pytest.mark.parametrize("name,build,shape,axis,tol,ops", ACCEPTANCE,
                         ids=[r[0] for r in ACCEPTANCE])
def test_acceptance_models_match_onnxruntime_with_dynamic_batch(standard_be, name, build, shape,
                                                                 axis, tol, ops):
    model = build().eval()
    x = it.randn(*_batch((0,) + shape if axis == 0 else shape[:1] + (0,) + shape[1:], 2, axis))
    x7 = it.randn(*_batch(tuple(x.shape), 7, axis))
    got = _check(model, {"x": x}, {"x": x7}, {"x": {axis: "batch"}}, tol)
    if ops is not None:
        assert got == ops
    if name == "lstm":
        assert got.count("LSTM") == 2 and "Slice" not in got
    if name == "gru":
        assert got.count("GRU") == 1
    if name == "transformer_encoder":
        assert got.count("LayerNormalization") == 4 and got.count("Softmax") == 2
        assert "Conv" not in got and "Gather" not in got


def test_weights_are_initializers_under_their_state_dict_names():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2)).eval()
    proto = it.onnx.export(model, it.randn(2, 4), None)
    names = {t.name for t in proto.graph.initializer}
    assert {"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
            "2.weight", "2.bias"} <= names
    assert "1.num_batches_tracked" not in names          # not read by the graph
    w = next(t for t in proto.graph.initializer if t.name == "0.weight")
    np.testing.assert_array_equal(onnx.numpy_helper.to_array(w), _np(model[0].weight))
    assert [n.op_type for n in proto.graph.node] == ["Gemm", "BatchNormalization", "Gemm"]


def test_export_restores_the_model_and_runs_it_in_eval_mode():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.Linear(4, 2))
    assert model.training
    w = model[0].weight
    data, be = w._data, w._be
    _, sess = _export(model, {"x": it.randn(2, 4)}, {"x": [0]})
    assert model.training and model[1].training
    assert w._data is data and w._be is be
    x = it.randn(3, 4)
    model.eval()
    with it.no_grad():
        want = _np(model(x))
    np.testing.assert_allclose(sess.run(None, {"x": _np(x)})[0], want, rtol=1e-5, atol=1e-6)
    model(x).sum().backward()          # the model still trains after an export
    assert model[0].weight.grad is not None


# ------------------------------------------------------------------ every covered layer


LAYERS = [
    # id, layer factory, input shape (batch 2), batch axis, ops the graph must be, opset
    ("Linear", lambda: nn.Linear(5, 3), (2, 5), 0, ["Gemm"], None),
    ("Linear3d", lambda: nn.Linear(5, 3), (2, 4, 5), 0, ["MatMul", "Add"], None),
    ("Linear-nobias", lambda: nn.Linear(5, 3, bias=False), (2, 5), 0, ["Gemm"], None),
    ("Identity", nn.Identity, (2, 3), 0, ["Identity"], None),
    ("Dropout", lambda: nn.Dropout(0.3), (2, 3), 0, ["Identity"], None),
    ("Dropout2d", lambda: nn.Dropout2d(0.3), (2, 3, 4, 4), 0, ["Identity"], None),
    ("Flatten", nn.Flatten, (2, 3, 4, 4), 0, ["Flatten"], None),
    ("Flatten-2-3", lambda: nn.Flatten(2, 3), (2, 3, 4, 4), 0, ["Reshape"], None),
    ("Unflatten", lambda: nn.Unflatten(1, (3, 4)), (2, 12), 0, ["Reshape"], None),
    ("Conv1d", lambda: nn.Conv1d(2, 4, 3, stride=2, padding=1), (2, 2, 9), 0, ["Conv"], None),
    ("Conv2d", lambda: nn.Conv2d(2, 4, 3, dilation=2, groups=2), (2, 2, 9, 9), 0, ["Conv"], None),
    ("Conv2d-same-reflect", lambda: nn.Conv2d(2, 3, 3, padding="same", padding_mode="reflect"),
     (2, 2, 6, 6), 0, ["Pad", "Conv"], None),
    ("Conv2d-replicate", lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="replicate"),
     (2, 2, 6, 6), 0, ["Pad", "Conv"], None),
    ("Conv2d-circular", lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular"),
     (2, 2, 6, 6), 0, ["Pad", "Conv"], 19),
    ("Conv3d", lambda: nn.Conv3d(2, 3, 2, stride=2), (2, 2, 4, 4, 4), 0, ["Conv"], None),
    ("ConvTranspose1d", lambda: nn.ConvTranspose1d(2, 3, 3, stride=2), (2, 2, 5), 0,
     ["ConvTranspose"], None),
    ("ConvTranspose2d", lambda: nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1,
                                                   output_padding=1), (2, 2, 5, 5), 0,
     ["ConvTranspose"], None),
    ("ConvTranspose3d", lambda: nn.ConvTranspose3d(2, 2, 2, stride=2, groups=2),
     (2, 2, 3, 3, 3), 0, ["ConvTranspose"], None),
    ("MaxPool1d", lambda: nn.MaxPool1d(3, 2, padding=1), (2, 3, 9), 0, ["MaxPool"], None),
    ("MaxPool2d", lambda: nn.MaxPool2d(2), (2, 3, 6, 6), 0, ["MaxPool"], None),
    ("MaxPool2d-ceil", lambda: nn.MaxPool2d(2, ceil_mode=True), (2, 3, 7, 7), 0, ["MaxPool"],
     None),
    ("MaxPool3d", lambda: nn.MaxPool3d(2), (2, 2, 4, 4, 4), 0, ["MaxPool"], None),
    ("AvgPool1d", lambda: nn.AvgPool1d(3, 2, padding=1), (2, 3, 9), 0, ["AveragePool"], None),
    ("AvgPool2d", lambda: nn.AvgPool2d(3, 2, padding=1, count_include_pad=False),
     (2, 3, 7, 7), 0, ["AveragePool"], None),
    ("AvgPool3d", lambda: nn.AvgPool3d(2), (2, 2, 4, 4, 4), 0, ["AveragePool"], None),
    ("AdaptiveAvgPool2d-1", lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 5, 5), 0,
     ["GlobalAveragePool"], None),
    ("AdaptiveAvgPool2d-2", lambda: nn.AdaptiveAvgPool2d(2), (2, 3, 6, 6), 0, ["AveragePool"],
     None),
    ("AdaptiveMaxPool1d-1", lambda: nn.AdaptiveMaxPool1d(1), (2, 3, 5), 0, ["GlobalMaxPool"],
     None),
    ("BatchNorm1d", lambda: _trained_bn(nn.BatchNorm1d(3)), (2, 3), 0,
     ["BatchNormalization"], None),
    ("BatchNorm2d", lambda: _trained_bn(nn.BatchNorm2d(3)), (2, 3, 4, 4), 0,
     ["BatchNormalization"], None),
    ("BatchNorm3d-noaffine", lambda: _trained_bn(nn.BatchNorm3d(2, affine=False)),
     (2, 2, 3, 3, 3), 0, ["BatchNormalization"], None),
    ("InstanceNorm2d", lambda: nn.InstanceNorm2d(3, affine=True), (2, 3, 4, 4), 0,
     ["InstanceNormalization"], None),
    ("LayerNorm", lambda: nn.LayerNorm(4), (2, 3, 4), 0, ["LayerNormalization"], None),
    ("LayerNorm-2d-noaffine", lambda: nn.LayerNorm((3, 4), elementwise_affine=False),
     (2, 3, 4), 0, ["LayerNormalization"], None),
    ("GroupNorm", lambda: nn.GroupNorm(2, 4), (2, 4, 3, 3), 0,
     ["Reshape", "InstanceNormalization", "Shape", "Reshape", "Mul", "Add"], None),
    ("GroupNorm-opset21", lambda: nn.GroupNorm(2, 4), (2, 4, 3, 3), 0,
     ["GroupNormalization"], 21),
    ("LocalResponseNorm", lambda: nn.LocalResponseNorm(3), (2, 5, 4, 4), 0, ["LRN"], None),
    ("ZeroPad2d", lambda: nn.ZeroPad2d((1, 2, 0, 1)), (2, 3, 4, 4), 0, ["Pad"], None),
    ("ConstantPad1d", lambda: nn.ConstantPad1d(2, 0.5), (2, 3, 4), 0, ["Pad"], None),
    ("ReflectionPad2d", lambda: nn.ReflectionPad2d(1), (2, 3, 4, 4), 0, ["Pad"], None),
    ("ReplicationPad1d", lambda: nn.ReplicationPad1d((2, 1)), (2, 3, 4), 0, ["Pad"], None),
    ("PixelShuffle", lambda: nn.PixelShuffle(2), (2, 8, 3, 3), 0, ["DepthToSpace"], None),
    ("RNN-relu", lambda: nn.RNN(4, 5, nonlinearity="relu"), (3, 2, 4), 1, None, None),
    ("LSTM-bidirectional-2", lambda: nn.LSTM(4, 5, 2, batch_first=True, bidirectional=True),
     (2, 3, 4), 0, None, None),
    ("GRU-nobias", lambda: nn.GRU(4, 5, bias=False), (3, 2, 4), 1, None, None),
    ("TransformerEncoderLayer-gelu-normfirst",
     lambda: nn.TransformerEncoderLayer(8, 2, 16, activation="gelu", norm_first=True),
     (5, 2, 8), 1, None, None),
    ("TransformerEncoderLayer-gelu-opset20",
     lambda: nn.TransformerEncoderLayer(8, 2, 16, activation=F.gelu, batch_first=True),
     (2, 5, 8), 0, None, 20),
    ("TransformerEncoderLayer-module-activation",
     lambda: nn.TransformerEncoderLayer(8, 2, 16, activation=nn.Tanh(), batch_first=True),
     (2, 5, 8), 0, None, None),
]

ACTIVATIONS = [
    (nn.ReLU(), ["Relu"]), (nn.ReLU6(), ["Clip"]), (nn.LeakyReLU(0.1), ["LeakyRelu"]),
    (nn.PReLU(4), ["PRelu"]), (nn.PReLU(), ["PRelu"]), (nn.RReLU(), ["LeakyRelu"]),
    (nn.ELU(0.7), ["Elu"]), (nn.CELU(0.5), ["Celu"]), (nn.SELU(), ["Selu"]),
    (nn.GELU(), ["Mul", "Erf", "Mul", "Add", "Mul"]), (nn.GELU("tanh"), None),
    (nn.Sigmoid(), ["Sigmoid"]), (nn.Tanh(), ["Tanh"]), (nn.SiLU(), ["Sigmoid", "Mul"]),
    (nn.Mish(), ["Mish"]), (nn.Softplus(), None), (nn.Softplus(2.0, 3.0), None),
    (nn.Softsign(), ["Softsign"]), (nn.Hardsigmoid(), ["HardSigmoid"]),
    (nn.Hardswish(), ["HardSwish"]), (nn.Hardtanh(-0.5, 0.5), ["Clip"]),
    (nn.Softmax(1), ["Softmax"]), (nn.LogSoftmax(-1), ["LogSoftmax"]),
    (nn.Softmin(1), ["Neg", "Softmax"]), (nn.Softmax2d(), ["Softmax"]),
    (nn.LogSigmoid(), ["Neg", "Softplus", "Neg"]), (nn.Tanhshrink(), ["Tanh", "Sub"]),
    (nn.Softshrink(0.3), ["Shrink"]), (nn.Hardshrink(0.3), ["Shrink"]),
    (nn.Threshold(0.1, 2.0), ["Greater", "Where"]), (nn.GLU(1), ["Split", "Sigmoid", "Mul"]),
]
LAYERS += [(type(a).__name__ + (f"-{i}" if i else ""), (lambda a=a: a), (2, 4, 3, 3), 0, ops,
            None) for i, (a, ops) in enumerate(ACTIVATIONS)]


def _trained_bn(bn):
    """A batch norm whose running statistics are not the initial ones."""
    with it.no_grad():
        bn.running_mean.copy_(it.randn(*bn.running_mean.shape))
        bn.running_var.copy_(it.rand(*bn.running_var.shape) + 0.5)
    return bn


@pytest.mark.parametrize("name,build,shape,axis,ops,opset", LAYERS, ids=[r[0] for r in LAYERS])
def test_layer_matches_onnxruntime(name, build, shape, axis, ops, opset):
    layer = build().eval()
    x = it.randn(*shape)
    x7 = it.randn(*_batch(shape, 7, axis))
    tol = 1e-4 if any(k in name for k in ("RNN", "LSTM", "GRU", "Transformer")) else 1e-5
    got = _check(layer, {"x": x}, {"x": x7}, {"x": [axis]}, tol, opset)
    if ops is not None:
        assert got == ops
    for rec in ("RNN", "LSTM", "GRU"):
        if name.startswith(rec):
            assert rec in got and "Slice" not in got
    if "opset20" in name:
        assert "Gelu" in got


def test_gelu_is_one_node_from_opset_20():
    for approximate in ("none", "tanh"):
        x = it.randn(2, 4)
        got = _check(nn.GELU(approximate), {"x": x}, {"x": it.randn(5, 4)}, {"x": [0]}, 1e-5,
                     opset=20)
        assert got == ["Gelu"]


def test_embedding_is_gather():
    emb = nn.Embedding(10, 4, padding_idx=0)
    idx = it.asarray(np.array([[1, 2, 0], [9, 3, 3]]))
    big = it.asarray(np.random.default_rng(0).integers(0, 10, size=(7, 3)))
    assert _check(emb, {"idx": idx}, {"idx": big}, {"idx": [0]}, 0) == ["Gather"]


def test_recurrent_layers_with_initial_state():
    lstm = nn.LSTM(4, 5, 2, batch_first=True).eval()
    x, h, c = it.randn(2, 3, 4), it.randn(2, 2, 5), it.randn(2, 2, 5)
    big = {"x": it.randn(7, 3, 4), "h0": it.randn(2, 7, 5), "c0": it.randn(2, 7, 5)}

    class WithState(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = lstm

        def forward(self, x, h0, c0):
            return self.lstm(x, (h0, c0))
    got = _check(WithState().eval(), {"x": x, "h0": h, "c0": c}, big,
                 {"x": [0], "h0": [1], "c0": [1]}, 1e-4)
    assert got.count("LSTM") == 2
    gru = nn.GRU(4, 5, bidirectional=True).eval()

    class GRUState(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = gru

        def forward(self, x, h0):
            return self.gru(x, h0)
    _check(GRUState().eval(), {"x": it.randn(3, 2, 4), "h0": it.randn(2, 2, 5)},
           {"x": it.randn(3, 7, 4), "h0": it.randn(2, 7, 5)}, {"x": [1], "h0": [1]}, 1e-4)


def test_nested_tuple_argument_is_fed_as_graph_inputs():
    """word_language_model exports ``model(input, (h0, c0))``: the tensors inside the tuple
    are graph inputs too, and the traced run must see them (it passed the untraced ones)."""
    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc, self.rnn, self.dec = nn.Embedding(9, 4), nn.LSTM(4, 5, 2), nn.Linear(5, 9)

        def forward(self, x, hidden):
            out, (h, c) = self.rnn(self.enc(x), hidden)
            return F.log_softmax(self.dec(out), dim=-1), (h, c)
    lm = LM().eval()
    x = it.asarray(np.array([[1, 2], [3, 4], [5, 8]]))
    hidden = (it.randn(2, 2, 5), it.randn(2, 2, 5))
    buf = io.BytesIO()
    it.onnx.export(lm, (x, hidden), buf, input_names=["x", "h0", "c0"])
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"x": _np(x), "h0": _np(hidden[0]), "c0": _np(hidden[1])})
    with it.no_grad():
        want = _flat(lm(x, hidden))
    assert len(got) == 3
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, _np(w), rtol=1e-5, atol=1e-5)


class Attention(nn.Module):
    def __init__(self, batch_first=True, kdim=None, need_weights=False):
        super().__init__()
        self.mha = nn.MultiheadAttention(8, 2, batch_first=batch_first, kdim=kdim, vdim=kdim)
        self.need_weights = need_weights

    def forward(self, q, kv, mask, pad):
        out, w = self.mha(q, kv, kv, attn_mask=mask, key_padding_mask=pad,
                          need_weights=self.need_weights)
        return (out, w) if self.need_weights else out


@pytest.mark.parametrize("batch_first,kdim,need_weights", [(True, None, False), (False, 6, True)])
def test_multihead_attention_with_masks(batch_first, kdim, need_weights):
    model = Attention(batch_first, kdim, need_weights).eval()
    e = kdim or 8

    def inputs(b):
        q = it.randn(b, 4, 8) if batch_first else it.randn(4, b, 8)
        kv = it.randn(b, 5, e) if batch_first else it.randn(5, b, e)
        pad = it.asarray(np.random.default_rng(b).random((b, 5)) < 0.3)
        pad[:, 0] = False                   # every query sees one key at least
        return {"q": q, "kv": kv, "mask": it.asarray(np.triu(np.ones((4, 5), bool), 2)),
                "pad": pad}
    b_axis = 0 if batch_first else 1
    got = _check(model, inputs(2), inputs(7),
                 {"q": [b_axis], "kv": [b_axis], "pad": [0]}, 1e-4)
    assert got.count("Softmax") == 1 and "Where" in got


def test_transformer_decoder_layer_with_causal_mask():
    dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, batch_first=True), 2)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.dec = dec

        def forward(self, tgt, memory):
            mask = nn.Transformer.generate_square_subsequent_mask(tgt.shape[1])
            return self.dec(tgt, memory, tgt_mask=mask)
    got = _check(Model().eval(), {"tgt": it.randn(2, 4, 8), "memory": it.randn(2, 6, 8)},
                 {"tgt": it.randn(7, 4, 8), "memory": it.randn(7, 6, 8)},
                 {"tgt": [0], "memory": [0]}, 1e-4)
    assert got.count("Softmax") == 4 and got.count("LayerNormalization") == 6


# ------------------------------------------------------------------ what lies between layers

class Glue(nn.Module):
    """Reshape, concat, indexing, transposes, reductions and arithmetic between layers."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(6, 4)

    def forward(self, x):
        y = x.reshape(x.shape[0], 2, 6)
        z = it.cat([y, y * 2.0, -y], dim=1)                      # (B, 6, 6)
        z = F.relu(z) + z[:, :1] - 1.5
        w = self.lin(z)                                          # (B, 6, 4)
        v = it.stack([w[:, 0], w[:, -1], w[:, 2, ...]], dim=1)   # (B, 3, 4)
        u = v.transpose(1, 2).flatten(1)                         # (B, 12)
        s = F.softmax(u, dim=-1)[:, 1:9:2]
        idx = it.asarray(np.array([2, 0, 1]))
        return s, u.mean(1, keepdim=True), v[:, idx].sum(-1), it.sigmoid(v).unsqueeze(0)


def test_glue_between_layers():
    got = _check(Glue().eval(), {"x": it.randn(2, 12)}, {"x": it.randn(7, 12)}, {"x": [0]},
                 1e-5)
    assert "Concat" in got and "Gather" in got and "Slice" in got and "Softmax" in got
    assert "Relu" in got and "Sigmoid" in got and "Tanh" not in got and "Where" not in got


def test_functional_layers_are_native_operators():
    w, lw, lb = it.randn(4, 3, 3, 3), it.randn(5, 4), it.randn(5)

    class Functional(nn.Module):
        def forward(self, x):
            y = F.conv2d(x, w, padding=1)
            y = F.avg_pool2d(F.leaky_relu(y, 0.2), 2)
            y = F.layer_norm(y, (3,))
            y = F.adaptive_avg_pool2d(F.gelu(y), 1).flatten(1)
            return F.log_softmax(F.linear(y, lw, lb), dim=1), F.linear(y.unsqueeze(1), y.T @ y)
    got = _check(Functional(), {"x": it.randn(2, 3, 6, 6)}, {"x": it.randn(7, 3, 6, 6)},
                 {"x": [0]}, 1e-5)
    assert got == ["Conv", "LeakyRelu", "AveragePool", "LayerNormalization",
                   "Mul", "Erf", "Mul", "Add", "Mul",            # gelu below opset 20
                   "GlobalAveragePool", "Reshape", "Gemm", "LogSoftmax",
                   "Reshape", "Transpose", "MatMul", "Transpose", "MatMul"]


def test_a_plain_function_exports():
    def f(a, b):
        return it.tanh(a @ b) * 2 + a.sum(-1, keepdim=True)
    a, b = it.randn(2, 3), it.randn(3, 3)
    buf = io.BytesIO()
    it.onnx.export(f, (a, b), buf, input_names=["a", "b"], dynamic_axes={"a": [0]})
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    a7 = it.randn(7, 3)
    np.testing.assert_allclose(sess.run(None, {"a": _np(a7), "b": _np(b)})[0], _np(f(a7, b)),
                               rtol=1e-5, atol=1e-5)


def test_output_names_and_symbolic_dims():
    model = nn.Sequential(nn.Linear(4, 3), nn.Softmax(-1))
    proto = it.onnx.export(model, it.randn(2, 4), None, input_names=["features"],
                           output_names=["probs"],
                           dynamic_axes={"features": {0: "batch"}, "probs": {0: "batch"}})
    (i,), (o,) = proto.graph.input, proto.graph.output
    assert i.name == "features" and o.name == "probs"
    assert [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] == ["batch", 4]
    assert [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim] == ["batch", 3]
    assert proto.graph.node[-1].output[0] == "probs"


# ------------------------------------------------------------------ errors

class Sorts(nn.Module):
    def forward(self, x):
        return it.sort(x, dim=-1).values


def test_unsupported_op_names_it_and_the_module_path():
    model = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.ReLU(), Sorts()))
    with pytest.raises(it.onnx.UnsupportedOperatorError,
                       match=r"'argsort'.*module '1\.1' \(Sorts\)"):
        it.onnx.export(model, it.randn(2, 4), None)
    assert model[0].weight._be is it.get_backend()       # restored after the failure


def test_unsupported_layer_options_name_the_layer_and_path():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2, return_indices=True))
    with pytest.raises(it.onnx.UnsupportedOperatorError,
                       match=r"MaxPool2d with return_indices=True.*module '1' \(MaxPool2d\)"):
        it.onnx.export(model, it.randn(2, 1, 6, 6), None)
    lstm = nn.Sequential(nn.LSTM(3, 4, proj_size=2))
    with pytest.raises(it.onnx.UnsupportedOperatorError, match=r"LSTM with proj_size.*'0'"):
        it.onnx.export(lstm, it.randn(5, 2, 3), None)


def test_data_dependent_shapes_are_refused():
    class Masked(nn.Module):
        def forward(self, x):
            return x[x > 0]
    # (interop's indexing reraises it as an IndexError, its message kept)
    with pytest.raises((it.onnx.UnsupportedOperatorError, IndexError),
                       match=r"boolean-mask indexing.*top-level module \(Masked\)"):
        it.onnx.export(Masked(), it.randn(2, 4), None)


def test_bad_arguments():
    model = nn.Linear(3, 2)
    x = it.randn(2, 3)
    with pytest.raises(ValueError, match="opset_version must be an int from 18"):
        it.onnx.export(model, x, None, opset_version=11)
    with pytest.raises(ValueError, match="2 input_names for 1 input"):
        it.onnx.export(model, x, None, input_names=["a", "b"])
    with pytest.raises(ValueError, match=r"dynamic_axes\['x'\] names axis 5"):
        it.onnx.export(model, x, None, input_names=["x"], dynamic_axes={"x": {5: "b"}})
    with pytest.raises(ValueError, match=r"dynamic_axes names \['X'\], which are neither"):
        it.onnx.export(model, x, None, input_names=["x"], dynamic_axes={"X": [0]})
    with pytest.raises(TypeError, match="args must be a Tensor or a tuple"):
        it.onnx.export(model, [x], None)
    with pytest.raises(ValueError, match="only eval-mode export"):
        it.onnx.export(model, x, None, training=True)
    with pytest.raises(TypeError, match="f must be a path or a binary file object"):
        it.onnx.export(model, x, 3)


def test_writes_a_file(tmp_path):
    path = tmp_path / "m.onnx"
    it.onnx.export(nn.Linear(3, 2), it.randn(1, 3), str(path))
    assert onnx.load(str(path)).graph.node[0].op_type == "Gemm"


def test_missing_onnx_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"pip install onnx"):
        it.onnx.export(nn.Linear(3, 2), it.randn(1, 3), None)


def test_in_place_ops_between_layers():
    def f(x):
        y = x * 2
        y.add_(1)
        y.relu_()
        return y.mul_(y)
    got = _check(f, {"x": it.randn(2, 4)}, {"x": it.randn(7, 4)}, {"x": [0]}, 1e-5)
    assert got == ["Mul", "Add", "Relu", "Mul"]


def test_a_constant_shaped_like_the_batch_warns():
    def f(x):
        return x + it.ones(x.shape[0], 1)
    with pytest.warns(UserWarning, match=r"shape \(2, 1\).*size 2 is also the size of a dynamic"):
        it.onnx.export(f, it.randn(2, 3), None, dynamic_axes={"input_0": [0]})


def test_namespace_relu_and_sigmoid_become_their_operators_with_the_same_edges():
    def f(x):
        return it.relu(x), it.sigmoid(x), x.relu()
    x = it.asarray(np.array([np.nan, -0.0, 0.0, -1.0, 2.0, -100.0, 100.0], dtype="float32"))
    proto, sess = _export(f, {"x": x}, None)
    assert [n.op_type for n in proto.graph.node] == ["Relu", "Sigmoid", "Relu"]
    for got, want in zip(sess.run(None, {"x": _np(x)}), f(x)):
        np.testing.assert_allclose(got, _np(want), rtol=1e-6, atol=1e-7)   # NaN stays NaN
        assert list(np.signbit(got)) == list(np.signbit(_np(want)))         # -0.0 stays
