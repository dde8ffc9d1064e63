"""Section 4, layers and losses: forward and backward of the nn catalogue on the backend
under test, against a float64 reference on the CPU and, where PyTorch is installed,
against ``torch.nn`` with the same weights.

Each check (``layers::CLASS[options]``) builds the module once (seeded), copies its
weights to the backend under test (float64, or float32 where the backend has none), runs
forward on random input and backward with a random upstream gradient, and compares the
output, the input gradients, every parameter gradient and every floating buffer (running
statistics) with the reference. PyTorch gets the same weights through ``state_dict``
(interop uses PyTorch's key names) and is compared with the reference in float64.
"""

import interop as it
from interop import nn

from ._core import Check, Mismatch
from ._gradients import A, Int, _make


class L:
    def __init__(self, cls, args=(), kwargs=None, inputs=(), *, name=None, eval=False,
                 quick=False, tol=1.0, torch=True):
        self.cls, self.args, self.kwargs, self.inputs = cls, args, kwargs or {}, inputs
        self.name = name or cls
        self.eval, self.quick, self.tol, self.torch = eval, quick, tol, torch


T = [
    L("Linear", (4, 3), inputs=(A(2, 4),), quick=True),
    L("Bilinear", (3, 2, 4), inputs=(A(2, 3), A(2, 2))),
    L("Conv1d", (2, 3, 3), {"padding": 1}, (A(2, 2, 6),)),
    L("Conv2d", (2, 3, 3), {"stride": 2, "padding": 1}, (A(2, 2, 5, 5),), quick=True),
    L("Conv3d", (1, 2, 2), inputs=(A(1, 1, 3, 3, 3),)),
    L("ConvTranspose1d", (2, 3, 3), {"stride": 2}, (A(1, 2, 4),)),
    L("ConvTranspose2d", (2, 2, 3), {"stride": 2, "output_padding": 1}, (A(1, 2, 3, 3),)),
    L("ConvTranspose3d", (1, 2, 2), inputs=(A(1, 1, 2, 2, 2),)),
    L("MaxPool1d", (2,), inputs=(A(1, 2, 6),)),
    L("MaxPool2d", (2,), inputs=(A(1, 2, 4, 4),), quick=True),
    L("MaxPool3d", (2,), inputs=(A(1, 1, 4, 4, 4),)),
    L("AvgPool1d", (2,), inputs=(A(1, 2, 6),)),
    L("AvgPool2d", (3,), {"stride": 2, "padding": 1}, (A(1, 2, 5, 5),)),
    L("AvgPool3d", (2,), inputs=(A(1, 1, 4, 4, 4),)),
    L("LPPool2d", (2, 2), inputs=(A(1, 2, 4, 4, dom="pos"),)),
    L("AdaptiveAvgPool2d", ((2, 3),), inputs=(A(1, 2, 5, 5),)),
    L("AdaptiveMaxPool2d", (2,), inputs=(A(1, 2, 5, 5),)),
    L("BatchNorm1d", (3,), inputs=(A(4, 3),), quick=True),
    L("BatchNorm2d", (3,), inputs=(A(2, 3, 2, 2),)),
    L("BatchNorm2d", (3,), inputs=(A(2, 3, 2, 2),), name="BatchNorm2d[eval]", eval=True),
    L("BatchNorm3d", (2,), inputs=(A(2, 2, 2, 2, 2),)),
    L("LayerNorm", (4,), inputs=(A(2, 3, 4),), quick=True),
    L("GroupNorm", (2, 4), inputs=(A(2, 4, 3),)),
    L("InstanceNorm2d", (3,), {"affine": True}, (A(2, 3, 3, 3),)),
    L("LocalResponseNorm", (3,), inputs=(A(1, 4, 3, 3),)),
    L("RMSNorm", (4,), inputs=(A(2, 3, 4),)),
    L("Embedding", (6, 3), inputs=(Int([[1, 5], [1, 0]]),)),
    L("EmbeddingBag", (6, 3), {"mode": "mean"}, (Int([[1, 5, 2], [1, 0, 0]]),)),
    L("RNN", (3, 4), {"num_layers": 2}, (A(5, 2, 3),)),
    L("LSTM", (3, 4), {"batch_first": True}, (A(2, 5, 3),), quick=True, tol=3),
    L("LSTM", (3, 4), {"bidirectional": True, "proj_size": 2}, (A(4, 2, 3),),
      name="LSTM[bidirectional,proj]", tol=3),
    L("GRU", (3, 4), {"num_layers": 2}, (A(5, 2, 3),), tol=3),
    L("RNNCell", (3, 4), inputs=(A(2, 3),)),
    L("LSTMCell", (3, 4), inputs=(A(2, 3),)),
    L("GRUCell", (3, 4), inputs=(A(2, 3),)),
    L("MultiheadAttention", (8, 2), {"batch_first": True}, (A(2, 3, 8), A(2, 4, 8), A(2, 4, 8)),
      quick=True, tol=3),
    L("TransformerEncoderLayer", (8, 2, 16), {"dropout": 0.0, "batch_first": True},
      (A(2, 4, 8),), quick=True, tol=3),
    L("TransformerDecoderLayer", (8, 2, 16), {"dropout": 0.0, "norm_first": True},
      (A(4, 2, 8), A(3, 2, 8)), tol=3),
    L("Flatten", (), inputs=(A(2, 3, 4),)),
    L("Unflatten", (1, (2, 2)), inputs=(A(3, 4),)),
    L("Dropout", (0.5,), inputs=(A(3, 4),), eval=True, name="Dropout[eval]"),
    L("PixelShuffle", (2,), inputs=(A(1, 4, 2, 2),)),
    L("Upsample", (), {"scale_factor": 2, "mode": "bilinear"}, (A(1, 1, 2, 3),)),
    L("ZeroPad2d", ((1, 2, 0, 1),), inputs=(A(1, 1, 2, 3),)),
    L("ReflectionPad1d", (2,), inputs=(A(1, 2, 4),)),
    L("ReplicationPad2d", (1,), inputs=(A(1, 1, 3, 3),)),
    L("CircularPad1d", (1,), inputs=(A(1, 2, 4),)),
    L("Fold", ((3, 3), 2), inputs=(A(1, 4, 4),)),
    L("Unfold", (2,), inputs=(A(1, 1, 3, 3),)),
    L("CosineSimilarity", (), inputs=(A(3, 4), A(3, 4))),
    L("PairwiseDistance", (), inputs=(A(3, 4), A(3, 4))),
    L("PReLU", (3,), inputs=(A(2, 3, 4, dom="nonzero"),)),
    L("Softmax2d", (), inputs=(A(1, 3, 2, 2),)),
    L("AdaptiveAvgPool1d", (3,), inputs=(A(1, 2, 7),)),
    L("AdaptiveAvgPool3d", (2,), inputs=(A(1, 1, 3, 3, 3),)),
    L("AdaptiveMaxPool1d", (3,), inputs=(A(1, 2, 7),)),
    L("AdaptiveMaxPool3d", (2,), inputs=(A(1, 1, 3, 3, 3),)),
    L("LPPool1d", (2, 2), inputs=(A(1, 2, 6, dom="pos"),)),
    L("LPPool3d", (2, 2), inputs=(A(1, 1, 2, 4, 4, dom="pos"),)),
    L("InstanceNorm1d", (3,), {"affine": True, "track_running_stats": True}, (A(2, 3, 5),)),
    L("InstanceNorm3d", (2,), inputs=(A(1, 2, 2, 3, 3),)),
    L("CrossMapLRN2d", (3,), inputs=(A(1, 4, 2, 2),), torch=False),
    L("AlphaDropout", (0.5,), inputs=(A(3, 4),), eval=True, name="AlphaDropout[eval]"),
    L("FeatureAlphaDropout", (0.5,), inputs=(A(2, 3, 4),), eval=True,
      name="FeatureAlphaDropout[eval]"),
    L("Dropout1d", (0.5,), inputs=(A(2, 3, 4),), eval=True, name="Dropout1d[eval]"),
    L("Dropout2d", (0.5,), inputs=(A(1, 2, 3, 4),), eval=True, name="Dropout2d[eval]"),
    L("Dropout3d", (0.5,), inputs=(A(1, 2, 2, 2, 2),), eval=True, name="Dropout3d[eval]"),
    L("ConstantPad1d", (2, 0.5), inputs=(A(1, 2, 3),)),
    L("ConstantPad2d", ((1, 0, 2, 1), -1.0), inputs=(A(1, 1, 2, 3),)),
    L("ConstantPad3d", (1, 0.0), inputs=(A(1, 1, 2, 2, 2),)),
    L("CircularPad2d", (1,), inputs=(A(1, 1, 3, 3),)),
    L("CircularPad3d", (1,), inputs=(A(1, 1, 2, 3, 3),)),
    L("ReflectionPad2d", (1,), inputs=(A(1, 1, 3, 3),)),
    L("ReflectionPad3d", (1,), inputs=(A(1, 1, 2, 3, 3),)),
    L("ReplicationPad1d", (2,), inputs=(A(1, 2, 3),)),
    L("ReplicationPad3d", (1,), inputs=(A(1, 1, 2, 2, 2),)),
    L("ZeroPad1d", ((1, 2),), inputs=(A(1, 2, 3),)),
    L("ZeroPad3d", (1,), inputs=(A(1, 1, 2, 2, 2),)),
    L("PixelUnshuffle", (2,), inputs=(A(1, 1, 4, 2),)),
    L("ChannelShuffle", (2,), inputs=(A(1, 4, 2, 2),)),
    L("UpsamplingBilinear2d", (), {"scale_factor": 2}, (A(1, 1, 2, 3),)),
    L("UpsamplingNearest2d", (), {"size": (3, 4)}, (A(1, 1, 2, 3),)),
    L("MaxUnpool1d", (2,), inputs=(A(1, 1, 2), Int([[[1, 2]]]))),
    L("MaxUnpool2d", (2,), inputs=(A(1, 1, 2, 2), Int([[[[0, 3], [9, 14]]]]))),
    L("MaxUnpool3d", (2,), inputs=(A(1, 1, 1, 1, 2), Int([[[[[0, 3]]]]]))),
    L("TransformerEncoder", (), {"num_layers": 2, "enable_nested_tensor": False},
      (A(2, 3, 8),), tol=3, torch=False),
    L("TransformerDecoder", (), {"num_layers": 2}, (A(3, 2, 8), A(4, 2, 8)), tol=3, torch=False),
    L("Transformer", (8, 2, 1, 1, 16, 0.0), {"batch_first": True}, (A(2, 3, 8), A(2, 4, 8)),
      tol=3),
    L("AdaptiveLogSoftmaxWithLoss", (6, 8, [3, 5]), inputs=(A(4, 6), Int([0, 4, 7, 2]))),
]

ACTIVATIONS = ["CELU", "ELU", "GELU", "GLU", "Hardshrink", "Hardsigmoid", "Hardswish",
               "Hardtanh", "LeakyReLU", "LogSigmoid", "Mish", "ReLU", "ReLU6", "SELU", "SiLU",
               "Sigmoid", "Softplus", "Softshrink", "Softsign", "Tanh", "Tanhshrink",
               "Identity"]
for _a in ACTIVATIONS:
    T.append(L(_a, inputs=(A(3, 4, dom="nonzero"),), quick=_a in ("ReLU", "GELU")))
T += [L("Softmax", (1,), inputs=(A(3, 4),)), L("LogSoftmax", (1,), inputs=(A(3, 4),)),
      L("Softmin", (1,), inputs=(A(3, 4),)), L("Threshold", (0.1, 2.0), inputs=(A(3, 4),)),
      L("RReLU", inputs=(A(3, 4, dom="nonzero"),), eval=True, name="RReLU[eval]")]

_TGT = Int([1, 0, 3])
LOSSES = [
    L("CrossEntropyLoss", (), {"label_smoothing": 0.1}, (A(3, 4), _TGT), quick=True),
    L("NLLLoss", (), {}, (A(3, 4), _TGT)),
    L("MSELoss", (), {}, (A(3, 4), A(3, 4)), quick=True),
    L("L1Loss", (), {}, (A(3, 4), A(3, 4))),
    L("SmoothL1Loss", (), {"beta": 0.5}, (A(3, 4), A(3, 4))),
    L("HuberLoss", (), {"delta": 0.5}, (A(3, 4), A(3, 4))),
    L("BCELoss", (), {}, (A(3, 4, dom="prob"), A(3, 4, dom="prob", grad=False))),
    L("BCEWithLogitsLoss", (), {}, (A(3, 4), A(3, 4, dom="prob", grad=False))),
    L("KLDivLoss", (), {"reduction": "batchmean", "log_target": True}, (A(3, 4), A(3, 4))),
    L("PoissonNLLLoss", (), {}, (A(3, 4), A(3, 4, dom="pos", grad=False))),
    L("GaussianNLLLoss", (), {}, (A(3, 4), A(3, 4), A(3, 4, dom="pos"))),
    L("HingeEmbeddingLoss", (), {}, (A(3, 4), Int([[1, -1, 1, -1]] * 3))),
    L("MarginRankingLoss", (), {"margin": 0.1}, (A(3), A(3), Int([1, -1, 1]))),
    L("SoftMarginLoss", (), {}, (A(3, 4), Int([[1, -1, 1, -1]] * 3))),
    L("MultiLabelSoftMarginLoss", (), {}, (A(3, 4), Int([[1, 0, 1, 0]] * 3))),
    L("MultiLabelMarginLoss", (), {}, (A(3, 4), Int([[3, 0, -1, 1]] * 3))),
    L("MultiMarginLoss", (), {}, (A(3, 4), _TGT)),
    L("CosineEmbeddingLoss", (), {}, (A(3, 4), A(3, 4), Int([1, -1, 1]))),
    L("TripletMarginLoss", (), {"margin": 3.0}, (A(3, 4), A(3, 4), A(3, 4))),
    L("TripletMarginWithDistanceLoss", (), {"margin": 3.0}, (A(3, 4), A(3, 4), A(3, 4))),
    L("NLLLoss2d", (), {}, (A(2, 3, 2, 2), Int([[[0, 2], [1, 1]], [[2, 2], [0, 1]]])),
      torch=False),
    L("CTCLoss", (), {}, (A(5, 1, 3), Int([[1, 2]]), Int([5]), Int([2])), torch=False),
]
T += LOSSES


# nn classes with no check of their own, and why (the test suite checks every class of
# interop.nn is in the table or here).
NOT_CHECKED = {
    "Module": "the base class", "Sequential": "a container (used by the training section)",
    "ModuleList": "a container", "ModuleDict": "a container", "ParameterList": "a container",
    "ParameterDict": "a container", "Parameter": "not a layer", "Buffer": "not a layer",
    "UninitializedParameter": "not a layer", "UninitializedBuffer": "not a layer",
    "RNNBase": "the base of RNN/LSTM/GRU (checked)", "RNNCellBase": "the base of the cells",
    "FractionalMaxPool2d": "random pooling regions", "FractionalMaxPool3d":
    "random pooling regions", "RReLU": "random in training (checked in eval mode)",
    "Dropout": "random in training (checked in eval mode)",
    "AlphaDropout": "random in training (checked in eval mode)",
    "FeatureAlphaDropout": "random in training (checked in eval mode)",
    "Dropout1d": "random in training (checked in eval mode)",
    "Dropout2d": "random in training (checked in eval mode)",
    "Dropout3d": "random in training (checked in eval mode)",
}
for _lazy in ("LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
              "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d",
              "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d",
              "LazyInstanceNorm3d"):
    NOT_CHECKED[_lazy] = f"becomes {_lazy[4:]} on its first call (checked)"


def _build(row, seed):
    """The module, built on the reference backend (seeded), in float32."""
    it.manual_seed(seed)
    with it.use_backend("cpu"):
        if row.cls in ("TransformerEncoder", "TransformerDecoder"):
            layer = getattr(nn, row.cls + "Layer")(8, 2, 16, dropout=0.0)
            m = getattr(nn, row.cls)(layer, **row.kwargs)
        else:
            m = getattr(nn, row.cls)(*row.args, **row.kwargs)
    return m.eval() if row.eval else m


def _first(out):
    while isinstance(out, (tuple, list)):
        out = out[0]
    return out


def _run(ctx, row):
    ref = _build(row, ctx.check_seed).to(it.float64)
    state = {k: v.detach().clone() for k, v in ref.state_dict().items()}
    refs = [_make(ctx, s, k) for k, s in enumerate(row.inputs)]
    if row.cls == "CTCLoss":          # log-probabilities, as CTC expects
        refs[0] = it.nn.functional.log_softmax(refs[0], dim=2)
    if row.cls in ("KLDivLoss",):
        refs = [it.nn.functional.log_softmax(r, dim=1) for r in refs]
    diff = [isinstance(s, A) and s.grad for s in row.inputs]
    ctx.note(module=f"nn.{row.cls}{tuple(row.args)}{row.kwargs or ''}",
             inputs=[f"{list(r.shape)} {r.dtype.name}" for r in refs])

    ref_in = [r.detach().requires_grad_(d) for r, d in zip(refs, diff)]
    ref_out = _first(ref(*ref_in))
    w = ctx.randn(*ref_out.shape, offset=77)
    (ref_out * w).sum().backward()

    test = _build(row, ctx.check_seed).to(ctx.float)
    test.load_state_dict({k: (v.to(ctx.float) if v.is_floating_point() else v)
                          for k, v in state.items()})
    test = test.to(ctx.be)
    test_in = [ctx.on_test(r, requires_grad=d) for r, d in zip(refs, diff)]
    out = _first(test(*test_in))
    rtol, atol = ctx.tol(1e-8, 1e-9, 3e-4 * row.tol, 3e-5 * row.tol)
    ctx.assert_close(out, ref_out, rtol=rtol, atol=atol, what=f"{row.name} output")
    (out * ctx.on_test(w)).sum().backward()
    for k, (t, r) in enumerate(zip(test_in, ref_in)):
        if r.grad is not None:
            ctx.assert_close(t.grad, r.grad, rtol=rtol * 10, atol=atol * 10,
                             what=f"{row.name} gradient of input {k}")
    ref_params = dict(ref.named_parameters())
    for name, p in test.named_parameters():
        rp = ref_params[name]
        if rp.grad is None and p.grad is None:
            continue
        if p.grad is None or rp.grad is None:
            raise Mismatch(f"{row.name}: parameter {name} has "
                           f"{'no' if p.grad is None else 'a'} gradient, the reference "
                           f"{'none' if rp.grad is None else 'one'}")
        ctx.assert_close(p.grad, rp.grad, rtol=rtol * 10, atol=atol * 10,
                         what=f"{row.name} gradient of {name}")
    ref_bufs = dict(ref.named_buffers())
    for name, b in test.named_buffers():
        if b.is_floating_point():
            ctx.assert_close(b, ref_bufs[name], rtol=rtol, atol=atol,
                             what=f"{row.name} buffer {name} after forward")
    if row.torch:
        _against_torch(ctx, row, state, refs, diff, ref_out, ref_in, w)


def _against_torch(ctx, row, state, refs, diff, ref_out, ref_in, w):
    """The float64 reference against PyTorch with the same weights (where installed)."""
    try:
        import torch
    except ImportError:
        ctx.note(torch="not installed: compared with the CPU reference only")
        return
    tm = getattr(torch.nn, row.cls)(*row.args, **row.kwargs).double()
    if row.eval:
        tm.eval()
    as_torch = lambda v: torch.tensor(v.tolist(), dtype=_torch_dtype(torch, v)).reshape(
        tuple(v.shape))         # (the reshape keeps the shape of an empty tensor)
    tm.load_state_dict({k: as_torch(v) for k, v in state.items()})
    t_in = [as_torch(r).requires_grad_(d) for r, d in zip(refs, diff)]
    t_out = _first(tm(*t_in))
    (t_out * torch.tensor(w.tolist(), dtype=torch.float64)).sum().backward()
    as_it = lambda t: it.asarray(t.detach().tolist(), dtype=it.float64, device=ctx.ref)
    ctx.assert_close(ref_out, as_it(t_out), rtol=1e-7, atol=1e-9,
                     what=f"{row.name} output (interop's float64 reference) against PyTorch's")
    for k, (t, r) in enumerate(zip(t_in, ref_in)):
        if r.grad is not None and t.grad is not None:
            ctx.assert_close(r.grad, as_it(t.grad), rtol=1e-6, atol=1e-8,
                             what=f"{row.name} gradient of input {k} against PyTorch's")
    ctx.note(torch="matches torch " + torch.__version__)


def _torch_dtype(torch, t):
    return {"float64": torch.float64, "int64": torch.int64, "int32": torch.int32,
            "bool": torch.bool}.get(t.dtype.name, torch.float64)


def checks():
    return [Check("layers", row.name, (lambda ctx, row=row: _run(ctx, row))) for row in T]
