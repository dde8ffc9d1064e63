"""Attention and transformers against PyTorch: F.scaled_dot_product_attention (every mask
kind, causal, fully masked rows, GQA, scale, dropout), MultiheadAttention (masks, key
padding, kdim/vdim, bias_k/bias_v, zero attention, batch_first, unbatched, weights),
encoder and decoder layers and stacks, Transformer; outputs, input and parameter gradients
(twins loading PyTorch's weights), default-init statistics, reprs and errors."""

import math

import numpy as np
import pytest

import interop as it
from interop import nn
import interop.nn.functional as F
from helpers import to_np
from torch_compare import Const, assert_same, check_function, check_module, load_twin

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# PyTorch's own notes on its inputs (mixed bool/float masks, nested-tensor fast path)
pytestmark = [pytest.mark.filterwarnings("ignore:Support for mismatched:UserWarning"),
              pytest.mark.filterwarnings("ignore:enable_nested_tensor:UserWarning")]

E, NH, L, S, N = 8, 2, 3, 4, 2


def _rand(shape, dtype="float64", seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _bool(shape, p=0.5, seed=3):
    return np.random.default_rng(seed).random(shape) < p


# ------------------------------------------------------------------ scaled_dot_product_attention

def _sdpa_masks():
    keep = _bool((L, S), 0.7)
    keep[:, 0] = True
    dead = keep.copy()
    dead[1] = False                       # a query that may attend nothing: zeros, as PyTorch
    add = _rand((N, 1, L, S), seed=4)
    add_dead = add.copy()
    add_dead[0, 0, 2] = -np.inf
    return {"none": {}, "bool": {"attn_mask": Const(keep)},
            "bool_full_row_masked": {"attn_mask": Const(dead)},
            "float": {"attn_mask": Const(add)},
            "float_full_row_masked": {"attn_mask": Const(add_dead)},
            "causal": {"is_causal": True}}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mask", list(_sdpa_masks()))
def test_sdpa_matches_pytorch(be, mask, dtype):
    kw = _sdpa_masks()[mask]
    if "attn_mask" in kw and kw["attn_mask"].array.dtype != bool:
        kw = {"attn_mask": Const(kw["attn_mask"].array.astype(dtype))}
    q, k, v = _rand((N, NH, L, 5), dtype), _rand((N, NH, S, 5), dtype, 1), \
        _rand((N, NH, S, 6), dtype, 2)
    check_function(F.scaled_dot_product_attention, TF.scaled_dot_product_attention, q, k, v,
                   **kw)


@pytest.mark.parametrize("shapes", [((L, 5), (S, 5), (S, 3)), ((N, L, 5), (N, S, 5), (N, S, 5)),
                                    ((N, NH, L, 5), (1, NH, S, 5), (N, 1, S, 2)),
                                    ((N, NH, 5, 4), (N, NH, 2, 4), (N, NH, 2, 4))])
@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_shapes_broadcasting_and_causal(be, shapes, causal):
    args = [_rand(s, seed=i) for i, s in enumerate(shapes)]
    check_function(F.scaled_dot_product_attention, TF.scaled_dot_product_attention, *args,
                   is_causal=causal)


def test_sdpa_scale_and_gqa(be):
    q, k, v = _rand((N, 4, L, 5)), _rand((N, 2, S, 5), seed=1), _rand((N, 1, S, 3), seed=2)
    check_function(F.scaled_dot_product_attention, TF.scaled_dot_product_attention, q, k, v,
                   scale=0.3, enable_gqa=True)
    check_function(F.scaled_dot_product_attention, TF.scaled_dot_product_attention, q, q, q,
                   scale=0.0)


def test_sdpa_empty_keys_and_queries(be):
    check_function(F.scaled_dot_product_attention, TF.scaled_dot_product_attention,
                   _rand((N, L, 5)), _rand((N, 0, 5)), _rand((N, 0, 3)))
    check_function(F.scaled_dot_product_attention, TF.scaled_dot_product_attention,
                   _rand((N, 0, 5)), _rand((N, S, 5)), _rand((N, S, 3)))


def test_sdpa_second_order_gradients(be):
    args = [_rand((N, L, 5)), _rand((N, S, 5), seed=1), _rand((N, S, 3), seed=2)]
    mask = _bool((L, S), 0.7)
    mask[:, 0] = True
    grads = []
    for lib, fn in ((it, F.scaled_dot_product_attention), (torch, TF.scaled_dot_product_attention)):
        ts = [lib.asarray(a.copy()).requires_grad_() for a in args]
        y = fn(*ts, attn_mask=lib.asarray(mask))
        g = lib.autograd.grad((y * y).sum(), ts, create_graph=True)
        sum((gi * gi).sum() for gi in g).backward()
        grads.append([t.grad for t in ts])
    for i, (o, t) in enumerate(zip(*grads)):
        assert_same(o, t, f"second-order gradient {i}")


def test_sdpa_dropout(be):
    """Each weight is dropped (0) or scaled by 1/(1-p); p=1 drops everything."""
    q, k = it.asarray(_rand((64, L, 5))), it.asarray(_rand((64, S, 5), seed=1))
    eye = it.asarray(np.broadcast_to(np.eye(S), (64, S, S)).copy())   # output = the weights
    w = to_np(F.scaled_dot_product_attention(q, k, eye))
    d = to_np(F.scaled_dot_product_attention(q, k, eye, dropout_p=0.25))
    kept = d != 0
    np.testing.assert_allclose(d[kept], w[kept] / 0.75, rtol=1e-6)
    assert abs(kept.mean() - 0.75) < 5 * (0.75 * 0.25 / kept.size) ** 0.5      # 5 sigma
    assert not to_np(F.scaled_dot_product_attention(q, k, eye, dropout_p=1.0)).any()


@pytest.mark.parametrize("call, err, match", [
    (lambda q: F.scaled_dot_product_attention(q, q, q, attn_mask=q[0, :, :3] > 0,
                                              is_causal=True), ValueError, "is_causal"),
    (lambda q: F.scaled_dot_product_attention(q, q.double(), q), it.DTypeError, "one floating"),
    (lambda q: F.scaled_dot_product_attention(q, q[..., :2], q), it.ShapeError, "last dim"),
    (lambda q: F.scaled_dot_product_attention(q, q, q[:, :2]), it.ShapeError,
     "sequence length"),
    (lambda q: F.scaled_dot_product_attention(q[0, 0], q, q), it.ShapeError, "at least 2-D"),
    (lambda q: F.scaled_dot_product_attention(q, q, q, attn_mask=it.ones((3, 3),
                                                                         dtype=it.int64)),
     it.DTypeError, "bool or floating"),
    (lambda q: F.scaled_dot_product_attention(q, q, q, attn_mask=it.ones((2, 3))),
     it.ShapeError, "broadcastable"),
    (lambda q: F.scaled_dot_product_attention(q, q, q, dropout_p=1.5), ValueError,
     "between 0 and 1"),
    (lambda q: F.scaled_dot_product_attention(q, q[:2], q[:2]), it.ShapeError, "batch"),
])
def test_sdpa_errors(be, call, err, match):
    with pytest.raises(err, match=match):
        call(it.asarray(_rand((3, 3, 3), "float32")))


def test_sdpa_gqa_heads_must_divide(be):
    q, k = it.asarray(_rand((1, 3, 2, 4))), it.asarray(_rand((1, 2, 2, 4)))
    with pytest.raises(it.ShapeError, match="divide"):
        F.scaled_dot_product_attention(q, k, k, enable_gqa=True)


# ------------------------------------------------------------------ MultiheadAttention

MHA_CONFIGS = [{}, {"bias": False}, {"add_bias_kv": True}, {"add_zero_attn": True},
               {"kdim": 5, "vdim": 6}, {"batch_first": True},
               {"add_bias_kv": True, "add_zero_attn": True, "kdim": 5, "vdim": 3}]


def _mha_inputs(kw, dtype="float64", batch=N):
    def shape(length, width):
        return (batch, length, width) if kw.get("batch_first") else (length, batch, width)
    return (_rand(shape(L, E), dtype), _rand(shape(S, kw.get("kdim", E)), dtype, 1),
            _rand(shape(S, kw.get("vdim", E)), dtype, 2))


def _mha_masks(kind):
    kpm = _bool((N, S), 0.3)
    kpm[:, 0] = False
    if kind == "none":
        return {}
    if kind == "float_attn_bool_padding":
        return {"attn_mask": Const(_rand((L, S), seed=5)), "key_padding_mask": Const(kpm)}
    if kind == "bool_attn_3d":
        m = _bool((N * NH, L, S), 0.4)
        m[..., 0] = False
        return {"attn_mask": Const(m)}
    if kind == "float_padding":
        return {"key_padding_mask": Const(np.where(kpm, -np.inf, 0.0))}
    raise ValueError(kind)


@pytest.mark.parametrize("weights", [(True, True), (True, False), (False, True)],
                         ids=["avg", "per_head", "none"])
@pytest.mark.parametrize("masks", ["none", "float_attn_bool_padding", "bool_attn_3d",
                                   "float_padding"])
@pytest.mark.parametrize("kw", MHA_CONFIGS, ids=str)
def test_mha_matches_pytorch(be, kw, masks, weights):
    ours, theirs = nn.MultiheadAttention(E, NH, **kw).double(), \
        torch.nn.MultiheadAttention(E, NH, **kw).double()
    need, avg = weights
    check_module(ours, theirs, *_mha_inputs(kw), need_weights=need, average_attn_weights=avg,
                 **_mha_masks(masks))


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_unbatched_and_float32(be, need_weights):
    ours, theirs = nn.MultiheadAttention(E, NH), torch.nn.MultiheadAttention(E, NH)
    q, k, v = (a[:, 0] for a in _mha_inputs({}, "float32"))
    kpm = np.array([False, True, False, False])
    check_module(ours, theirs, q, k, v, key_padding_mask=Const(kpm),
                 need_weights=need_weights)
    m = _bool((NH, L, S))
    m[..., 0] = False
    check_module(ours, theirs, q, k, v, attn_mask=Const(m), need_weights=need_weights)


def _self_attention(lib, mha):
    """A module calling ``mha`` with one tensor as query, key and value (the packed
    in-projection path)."""
    class SelfAttention(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = mha

        def forward(self, x, **kw):
            return self.attn(x, x, x, **kw)
    return SelfAttention()


@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_self_attention_and_causal_hint(be, batch_first):
    ours = _self_attention(it, nn.MultiheadAttention(E, NH, batch_first=batch_first).double())
    theirs = _self_attention(torch, torch.nn.MultiheadAttention(
        E, NH, batch_first=batch_first).double())
    x = _rand((N, L, E) if batch_first else (L, N, E))
    causal = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=torch.float64).numpy()
    check_module(ours, theirs, x)
    check_module(ours, theirs, x, attn_mask=Const(causal), is_causal=True, need_weights=False)
    check_module(ours, theirs, x, attn_mask=Const(causal), is_causal=True)


def test_mha_key_is_value(be):
    ours = nn.MultiheadAttention(E, NH).double()
    theirs = torch.nn.MultiheadAttention(E, NH).double()
    load_twin(ours, theirs)
    check_function(lambda q, kv: ours(q, kv, kv), lambda q, kv: theirs(q, kv, kv),
                   _rand((L, N, E)), _rand((S, N, E), seed=1))


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("need_weights", [False, True])
def test_mha_fully_padded_sequence(be, need_weights):
    """A batch element whose every key is padding: zeros from the attention without weights
    (PyTorch's SDPA path), NaN with them (its softmax path), gradients likewise."""
    ours = nn.MultiheadAttention(E, NH).double()
    theirs = torch.nn.MultiheadAttention(E, NH).double()
    kpm = np.zeros((N, S), bool)
    kpm[1] = True
    check_module(ours, theirs, *_mha_inputs({}), key_padding_mask=Const(kpm),
                 need_weights=need_weights)


@pytest.mark.parametrize("need_weights", [False, True])
def test_functional_mha_with_static_kv(be, need_weights):
    """F.multi_head_attention_forward with precomputed per-head keys and values."""
    q = _rand((L, N, E))
    w_in, b_in = _rand((3 * E, E), seed=1), _rand((3 * E,), seed=2)
    w_out, b_out = _rand((E, E), seed=3), _rand((E,), seed=4)
    sk, sv = _rand((N * NH, S, E // NH), seed=5), _rand((N * NH, S, E // NH), seed=6)

    def run(f):
        def call(q, w_in, b_in, w_out, b_out, sk, sv):
            return f(q, q, q, E, NH, w_in, b_in, None, None, False, 0.0, w_out, b_out,
                     need_weights=need_weights, static_k=sk, static_v=sv)
        return call
    check_function(run(F.multi_head_attention_forward), run(TF.multi_head_attention_forward),
                   q, w_in, b_in, w_out, b_out, sk, sv)


def test_mha_dropout_train_and_eval(be):
    """p=1 drops every weight in training (output = out_proj's bias); eval ignores dropout."""
    ours = nn.MultiheadAttention(E, NH, dropout=1.0).double()
    theirs = torch.nn.MultiheadAttention(E, NH, dropout=1.0).double()
    with torch.no_grad():
        theirs.out_proj.bias.uniform_()
    for train in (True, False):
        check_module(ours, theirs, *_mha_inputs({}), train=train)


def test_mha_parameters_init_and_repr(be):
    for kw in MHA_CONFIGS:
        ours, theirs = nn.MultiheadAttention(E, NH, **kw), torch.nn.MultiheadAttention(E, NH, **kw)
        assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
            [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()], kw
        assert repr(ours) == repr(theirs)
    ours = nn.MultiheadAttention(256, 4, add_bias_kv=True)
    theirs = torch.nn.MultiheadAttention(256, 4, add_bias_kv=True)
    xavier = math.sqrt(6 / (256 + 3 * 256))
    w = to_np(ours.in_proj_weight)
    assert np.abs(w).max() <= xavier and abs(w.std() - xavier / math.sqrt(3)) < 0.02 * xavier
    assert not to_np(ours.in_proj_bias).any() and not to_np(ours.out_proj.bias).any()
    o = to_np(ours.out_proj.weight)
    assert np.abs(o).max() <= 1 / 16 and abs(o.std() - theirs.out_proj.weight.std().item()) < 1e-3
    bk = to_np(ours.bias_k)
    assert abs(bk.std() - 1 / 16) < 0.2 / 16 and bk.shape == (1, 1, 256)
    sep = nn.MultiheadAttention(256, 4, kdim=128, vdim=64)
    k = to_np(sep.k_proj_weight)
    assert np.abs(k).max() <= math.sqrt(6 / (256 + 128)) < np.abs(k).max() * 1.01


@pytest.mark.parametrize("call, err, match", [
    (lambda m, x: m(x[0, 0], x, x), it.ShapeError, "2-D"),
    (lambda m, x: m(x, x[:, :, :2], x), it.ShapeError, "key"),
    (lambda m, x: m(x, x[0], x[0]), it.ShapeError, "3-D key and value"),
    (lambda m, x: m(x, x, x, key_padding_mask=it.zeros((3, 3), dtype=it.bool)),
     it.ShapeError, "key_padding_mask of shape"),
    (lambda m, x: m(x, x, x, attn_mask=it.zeros((3, 2), dtype=it.bool)), it.ShapeError,
     "attn_mask of shape"),
    (lambda m, x: m(x, x, x, attn_mask=it.zeros((3, 3), dtype=it.int32)), it.DTypeError,
     "bool and floating"),
    (lambda m, x: m(x, x, x, is_causal=True), ValueError, "is_causal"),
    (lambda m, x: m(x[..., :4], x[..., :4], x[..., :4]), it.ShapeError, "embedding dimension"),
])
def test_mha_errors(be, call, err, match):
    with pytest.raises(err, match=match):
        call(nn.MultiheadAttention(E, NH), it.asarray(_rand((3, 2, E), "float32")))


def test_mha_constructor_errors(be):
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError, match="positive"):
        nn.MultiheadAttention(0, 1)


# ------------------------------------------------------------------ transformer layers

FF = 16


def _layer_kw(norm_first, activation, batch_first=False, bias=True):
    return dict(dim_feedforward=FF, dropout=0.0, activation=activation, norm_first=norm_first,
                batch_first=batch_first, bias=bias)


LAYER_CASES = [(False, "relu", False, True), (True, "relu", False, True),
               (False, "gelu", True, True), (True, "gelu", True, False)]


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("case", LAYER_CASES, ids=str)
def test_encoder_layer_matches_pytorch(be, case, train):
    kw = _layer_kw(*case)
    ours = nn.TransformerEncoderLayer(E, NH, **kw).double()
    theirs = torch.nn.TransformerEncoderLayer(E, NH, **kw).double()
    x = _rand((N, L, E) if kw["batch_first"] else (L, N, E))
    kpm = _bool((N, L), 0.3)
    kpm[:, 0] = False
    causal = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=torch.float64).numpy()
    check_module(ours, theirs, x, train=train)
    check_module(ours, theirs, x, src_mask=Const(causal), src_key_padding_mask=Const(kpm),
                 train=train)
    check_module(ours, theirs, x, src_mask=Const(causal), is_causal=True, train=train)
    check_module(ours, theirs, x[0], train=train)


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("case", LAYER_CASES, ids=str)
def test_decoder_layer_matches_pytorch(be, case, train):
    kw = _layer_kw(*case)
    ours = nn.TransformerDecoderLayer(E, NH, **kw).double()
    theirs = torch.nn.TransformerDecoderLayer(E, NH, **kw).double()
    bf = kw["batch_first"]
    x, mem = _rand((N, L, E) if bf else (L, N, E)), _rand((N, S, E) if bf else (S, N, E), seed=1)
    kpm, mkpm = _bool((N, L), 0.3), _bool((N, S), 0.3, seed=4)
    kpm[:, 0] = mkpm[:, 0] = False
    causal = np.triu(np.ones((L, L), bool), 1)        # True: may not attend
    check_module(ours, theirs, x, mem, train=train)
    check_module(ours, theirs, x, mem, tgt_mask=Const(causal), tgt_key_padding_mask=Const(kpm),
                 memory_key_padding_mask=Const(mkpm), memory_mask=Const(_rand((L, S), seed=7)),
                 train=train)


def test_layer_with_callable_activation_and_float32(be):
    ours = nn.TransformerEncoderLayer(E, NH, FF, dropout=0.0, activation=F.gelu)
    theirs = torch.nn.TransformerEncoderLayer(E, NH, FF, dropout=0.0, activation=TF.gelu)
    check_module(ours, theirs, _rand((L, N, E), "float32"))
    ours = nn.TransformerEncoderLayer(E, NH, FF, dropout=0.0, activation=lambda t: t.tanh())
    theirs = torch.nn.TransformerEncoderLayer(E, NH, FF, dropout=0.0,
                                              activation=lambda t: t.tanh())
    check_module(ours, theirs, _rand((L, N, E), "float32"))


def test_layer_dropout_is_random_in_training_only(be):
    layer = nn.TransformerEncoderLayer(E, NH, FF, dropout=0.5)
    x = it.asarray(_rand((L, N, E), "float32"))
    layer.eval()
    a = to_np(layer(x))
    np.testing.assert_array_equal(a, to_np(layer(x)))
    layer.train()
    assert not np.allclose(to_np(layer(x)), a)


@pytest.mark.parametrize("norm", [False, True])
def test_encoder_and_decoder_stacks_match_pytorch(be, norm):
    kw = _layer_kw(False, "relu")
    enc_o = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, NH, **kw), 2,
                                  norm=nn.LayerNorm(E) if norm else None,
                                  enable_nested_tensor=False).double()
    enc_t = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(E, NH, **kw), 2,
                                        norm=torch.nn.LayerNorm(E) if norm else None,
                                        enable_nested_tensor=False).double()
    x = _rand((L, N, E))
    kpm = _bool((N, L), 0.3)
    kpm[:, 0] = False
    check_module(enc_o, enc_t, x, src_key_padding_mask=Const(kpm))
    dec_o = nn.TransformerDecoder(nn.TransformerDecoderLayer(E, NH, **kw), 2,
                                  norm=nn.LayerNorm(E) if norm else None).double()
    dec_t = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(E, NH, **kw), 2,
                                        norm=torch.nn.LayerNorm(E) if norm else None).double()
    causal = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=torch.float64).numpy()
    check_module(dec_o, dec_t, x, _rand((S, N, E), seed=1), tgt_mask=Const(causal),
                 tgt_is_causal=True)
    assert list(enc_o.state_dict()) == list(enc_t.state_dict())
    # the copies are independent
    assert enc_o.layers[0].linear1.weight is not enc_o.layers[1].linear1.weight


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_pytorch(be, batch_first):
    kw = dict(d_model=E, nhead=NH, num_encoder_layers=1, num_decoder_layers=2,
              dim_feedforward=FF, dropout=0.0, batch_first=batch_first)
    ours, theirs = nn.Transformer(**kw).double(), torch.nn.Transformer(**kw).double()
    src = _rand((N, S, E) if batch_first else (S, N, E))
    tgt = _rand((N, L, E) if batch_first else (L, N, E), seed=1)
    mask = nn.Transformer.generate_square_subsequent_mask(L, dtype=it.float64)
    assert_same(mask, torch.nn.Transformer.generate_square_subsequent_mask(
        L, dtype=torch.float64), "causal mask")
    check_module(ours, theirs, src, tgt, tgt_mask=Const(to_np(mask)))
    assert repr(ours) == repr(theirs)


def test_transformer_init_and_errors(be):
    ours = nn.Transformer(d_model=64, nhead=4, num_encoder_layers=1, num_decoder_layers=1,
                          dim_feedforward=128)
    w = to_np(ours.encoder.layers[0].linear1.weight)
    bound = math.sqrt(6 / (64 + 128))
    assert np.abs(w).max() <= bound and abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert not to_np(ours.encoder.layers[0].self_attn.in_proj_bias).any()
    src, tgt = it.zeros((5, 2, 64)), it.zeros((3, 3, 64))
    with pytest.raises(it.ShapeError, match="batch number"):
        ours(src, tgt)
    with pytest.raises(it.ShapeError, match="feature number"):
        ours(src, it.zeros((3, 2, 32)))
    with pytest.raises(ValueError, match="activation"):
        nn.TransformerEncoderLayer(8, 2, activation="swish")
