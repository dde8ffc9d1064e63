"""interop.save / interop.load: safetensors both ways with PyTorch, nested checkpoints,
atomic writes, and every kind of damaged or hostile file refused with a clear error."""

import json
import os
import pickle
import struct
import sys

import numpy as np
import pytest

import interop as it
from helpers import to_np

torch = pytest.importorskip("torch")
st = pytest.importorskip("safetensors.torch")

DTYPES = ["float32", "float64", "int64", "int32", "int16", "int8", "uint8", "bool",
          "complex64", "float16"]


def _sample(dtype, shape=(2, 3)):
    g = np.random.default_rng(0)
    a = g.standard_normal(shape) * 10
    if dtype == "complex64":
        a = a + 1j * g.standard_normal(shape)
    return a.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_state_dict_round_trips_through_pytorch(be, tmp_path, dtype):
    if dtype == "float16" and be.name == "strict":
        pytest.skip("array-api-strict has no float16")
    a = _sample(dtype)
    sd = {"layer.weight": it.asarray(a), "layer.t": it.asarray(a).T, "empty": it.zeros(0, 4),
          "scalar": it.asarray(a[0, 0])}
    path = tmp_path / "w.safetensors"
    it.save(sd, path)
    theirs = st.load_file(str(path))           # PyTorch opens our file
    assert sorted(theirs) == sorted(sd)
    for k, v in sd.items():
        np.testing.assert_array_equal(theirs[k].numpy(), to_np(v))
    path2 = tmp_path / "w2.safetensors"
    st.save_file({k: v.contiguous() for k, v in theirs.items()}, str(path2))
    back = it.load(path2)                      # and we open PyTorch's
    assert sorted(back) == sorted(sd)
    for k, v in sd.items():
        assert back[k].dtype == v.dtype and back[k].backend is be
        np.testing.assert_array_equal(to_np(back[k]), to_np(v))


def test_nested_checkpoint_round_trips(be, tmp_path):
    w = it.randn(3, 2)
    ckpt = {"model": {"w": w, "b": it.zeros(2)},
            "optim": {"state": {0: {"step": it.tensor(4.0), "exp_avg": it.ones(3, 2)}},
                      "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "amsgrad": False,
                                        "weight_decay": 0, "params": [0, 1], "name": None}]},
            "epoch": 7, "history": [1.5, float("inf")], "dtype": it.float64, "alias": w}
    path = tmp_path / "ckpt.safetensors"
    it.save(ckpt, path, metadata={"note": "hello"})
    back, meta = it.load(path, metadata=True)
    assert meta == {"note": "hello"}
    assert back["epoch"] == 7 and back["history"] == [1.5, float("inf")]
    assert back["dtype"] is it.float64
    assert back["optim"]["param_groups"] == ckpt["optim"]["param_groups"]
    assert isinstance(back["optim"]["param_groups"][0]["betas"], tuple)
    assert list(back["optim"]["state"]) == [0]
    np.testing.assert_array_equal(to_np(back["model"]["w"]), to_np(w))
    assert back["alias"] is back["model"]["w"]        # shared tensors stay shared
    # PyTorch's reader sees the tensors (the structure is metadata it ignores)
    assert sorted(st.load_file(str(path))) == ["model.b", "model.w", "optim.state.0.exp_avg",
                                               "optim.state.0.step"]


def test_model_checkpoint_between_interop_and_pytorch(be, tmp_path):
    nn = it.nn
    ours = nn.Module()
    ours.weight = nn.Parameter(it.randn(4, 3))
    ours.register_buffer("count", it.tensor(3, dtype=it.int64))
    it.save(ours.state_dict(), tmp_path / "a.safetensors")
    theirs = st.load_file(str(tmp_path / "a.safetensors"))
    theirs["weight"] = theirs["weight"] * 2
    st.save_file(theirs, str(tmp_path / "b.safetensors"))
    fresh = nn.Module()
    fresh.weight = nn.Parameter(it.zeros(4, 3))
    fresh.register_buffer("count", it.tensor(0, dtype=it.int64))
    fresh.load_state_dict(it.load(tmp_path / "b.safetensors"))
    np.testing.assert_allclose(to_np(fresh.weight), 2 * to_np(ours.weight))
    assert int(fresh.count) == 3


def test_file_objects_and_bytes(be, tmp_path):
    import io as pyio
    buf = pyio.BytesIO()
    it.save({"x": it.arange(3)}, buf)
    assert to_np(it.load(buf.getvalue())["x"]).tolist() == [0, 1, 2]
    buf.seek(0)
    assert to_np(it.load(buf)["x"]).tolist() == [0, 1, 2]
    assert st.load(buf.getvalue())["x"].tolist() == [0, 1, 2]


def test_save_is_atomic(be, tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    it.save({"x": it.ones(3)}, path)

    def crash(*a, **k):
        raise KeyboardInterrupt("power cut")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        it.save({"x": it.zeros(3)}, path)
    monkeypatch.undo()
    assert to_np(it.load(path)["x"]).tolist() == [1.0, 1.0, 1.0]
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]      # no temporary file left


def test_save_refuses_what_it_cannot_store(be, tmp_path):
    with pytest.raises(TypeError, match="cannot store a function"):
        it.save({"f": lambda: 1}, tmp_path / "x")
    with pytest.raises(TypeError, match="dict keys"):
        it.save({(1, 2): it.ones(1)}, tmp_path / "x")
    with pytest.raises(TypeError, match="metadata"):
        it.save({"x": it.ones(1)}, tmp_path / "x", metadata={"a": 1})
    assert not os.path.exists(tmp_path / "x")


def _valid_bytes():
    return st.save({"a": torch.arange(4, dtype=torch.float32), "b": torch.ones(2, 2)})


def _with_header(header, data=b""):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


HOSTILE = {
    "truncated": (lambda: _valid_bytes()[:-5], "runs past the end"),
    "tiny": (lambda: b"\x01\x02", "truncated"),
    "header longer than file": (lambda: struct.pack("<Q", 10_000) + b"{}", "runs past the end"),
    "huge header length": (lambda: struct.pack("<Q", 2 ** 62) + b"{}", "larger than"),
    "header not json": (lambda: struct.pack("<Q", 4) + b"{{{{", "not JSON"),
    "header not an object": (lambda: _with_header([1, 2]), "not an object"),
    "unknown dtype": (lambda: _with_header({"a": {"dtype": "F8_E4M3", "shape": [1],
                                                  "data_offsets": [0, 1]}}, b"\x00"),
                      "unknown dtype 'F8_E4M3'"),
    "overlap": (lambda: _with_header({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                      "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}},
                                     b"\x00" * 8), "overlaps"),
    "past the end": (lambda: _with_header({"a": {"dtype": "F32", "shape": [4],
                                                 "data_offsets": [0, 16]}}, b"\x00" * 8),
                     "runs past the end"),
    "size mismatch": (lambda: _with_header({"a": {"dtype": "F32", "shape": [3],
                                                  "data_offsets": [0, 8]}}, b"\x00" * 8),
                      "8 bytes of data"),
    "negative shape": (lambda: _with_header({"a": {"dtype": "F32", "shape": [-1],
                                                   "data_offsets": [0, 0]}}), "invalid shape"),
    "gap": (lambda: _with_header({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}},
                                 b"\x00" * 8), "gap"),
    "bad structure": (lambda: _with_header({"__metadata__": {"interop": "{not json"}}),
                      "structure is not JSON"),
    "dangling structure": (lambda: _with_header(
        {"__metadata__": {"interop": json.dumps({"__tensor__": "nope"})}}), "'nope'"),
    "pickle": (lambda: pickle.dumps({"a": 1}), "pickle file"),
    "deeply nested": (lambda: _with_header({"__metadata__": {"interop": "[" * 100_000 +
                                                             "]" * 100_000}}), "nested too deeply"),
    "deeply nested modules": (lambda: _with_header({"__metadata__": {"interop": "".join(
        '{"__module__": {"class": ["interop.nn.modules.container", "Sequential"], '
        f'"id": {i}, "attrs": [["a", {{"__list__": [' for i in range(200)) + "1" +
        "]}]]}}" * 200}}), "nested too deeply"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_raise_naming_file_and_problem(be, tmp_path, case):
    make, message = HOSTILE[case]
    path = tmp_path / f"{case.replace(' ', '_')}.safetensors"
    path.write_bytes(make())
    with pytest.raises(it.io.CheckpointError) as e:
        it.load(path)
    assert str(path) in str(e.value) and message in str(e.value)


def test_pytorch_pt_file_is_refused_with_a_conversion_hint(be, tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, str(path))
    with pytest.raises(it.io.CheckpointError, match="never unpickles") as e:
        it.load(path)
    assert "save_file" in str(e.value)


def test_missing_file(be, tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        it.load(tmp_path / "nope.safetensors")


# ------------------------------------------------------- whole modules and NumPy arrays

class _Net(it.nn.Module):
    """A module tree with what a real model holds: children, tied weights, buffers (one not
    persistent), a stored activation function, plain attributes of every JSON kind."""

    inits = 0

    def __init__(self):
        super().__init__()
        type(self).inits += 1
        nn = it.nn
        self.enc = nn.Embedding(7, 4)
        self.rnn = nn.LSTM(4, 4, 1)
        self.dec = nn.Linear(4, 7)
        self.dec.weight = self.enc.weight                   # tied, as word_language_model
        self.blocks = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.25))
        self.register_buffer("pe", it.arange(4.0))
        self.register_buffer("scratch", it.zeros(2), persistent=False)
        self.act = it.nn.functional.relu
        self.config = {"n": 3, "name": "net", "sizes": (4, 4), "ratio": 0.5, "flags": [True,
                                                                                       None]}
        self.dtype = it.float64
        self.frozen = nn.Parameter(it.ones(2), requires_grad=False)
        self.cache = {"enc.weight": it.full((3,), 7.0)}    # a path a parameter has too

    def forward(self, x):
        h, _ = self.rnn(self.enc(x))
        return self.dec(self.act(self.blocks(h) + self.pe))


def test_whole_module_round_trips_without_running_its_constructor(be, tmp_path):
    model = _Net().eval()
    path = tmp_path / "model.pt"
    with open(path, "wb") as f:
        it.save(model, f)
    made = _Net.inits
    with it.serialization.safe_globals([_Net]):
        back = it.load(path)
    assert _Net.inits == made                               # no constructor ran
    assert type(back) is _Net and not back.training and not back.blocks[1].training
    assert back.dec.weight is back.enc.weight               # still tied
    assert isinstance(back.enc.weight, it.nn.Parameter) and back.enc.weight.requires_grad
    assert not back.frozen.requires_grad
    assert back.act is it.nn.functional.relu
    assert back.config == model.config and isinstance(back.config["sizes"], tuple)
    assert back.dtype is it.float64 and back.blocks[1].p == 0.25
    assert to_np(back.cache["enc.weight"]).tolist() == [7.0] * 3
    assert list(back.state_dict()) == list(model.state_dict())
    assert "scratch" in dict(back.named_buffers()) and "scratch" not in back.state_dict()
    x = it.tensor([[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(to_np(back(x)), to_np(model(x)))
    assert repr(back) == repr(model)
    # the loaded model trains: its parameters are leaves an optimizer can step
    back.train()
    opt = it.optim.SGD(back.parameters(), lr=0.1)
    back(x).sum().backward()
    opt.step()
    assert not np.array_equal(to_np(back.dec.bias), to_np(model.dec.bias))
    # PyTorch's safetensors reader sees the weights under state_dict names
    assert "enc.weight" in st.load_file(str(path)) and "rnn.weight_ih_l0" in st.load_file(str(path))


def _user_activation(x):
    return x * 2


def test_module_load_is_pytorch_weights_only_contract(be, tmp_path):
    path = tmp_path / "m.pt"
    m = it.nn.Linear(2, 2)
    m.act = _user_activation              # a function is stored by its import path
    it.save(m, path)
    with pytest.raises(it.io.CheckpointError, match="class test_io._user_activation"):
        it.load(path)
    with it.serialization.safe_globals([_user_activation]):
        assert it.load(path).act is _user_activation
    it.save(_Net(), path)
    with pytest.raises(it.io.CheckpointError, match=r"class test_io\._Net, which is neither "
                                                    r"interop's own nor allowlisted"):
        it.load(path)
    with pytest.raises(it.io.CheckpointError, match="_Net"):
        it.load(path, weights_only=True)
    with it.serialization.safe_globals([_Net]):
        assert _Net in it.serialization.get_safe_globals()
        assert type(it.load(path)) is _Net
    assert _Net not in it.serialization.get_safe_globals()        # the block restored it
    with pytest.raises(it.io.CheckpointError):
        it.load(path)
    assert type(it.load(path, weights_only=False)) is _Net        # trusted: already imported
    it.serialization.add_safe_globals([_Net])
    try:
        assert type(it.load(path)) is _Net
    finally:
        it.serialization.clear_safe_globals()
    # interop's own classes need no allowlist; a pure interop model loads as is
    seq = it.nn.Sequential(it.nn.Linear(2, 3), it.nn.Tanh())
    it.save(seq, path)
    assert repr(it.load(path)) == repr(seq)
    with pytest.raises(TypeError, match="pickle_module"):
        it.load(path, pickle_module=pickle)
    with pytest.raises(TypeError, match="expected classes or functions"):
        it.serialization.safe_globals([3]).__enter__()


def test_save_names_the_attribute_json_cannot_hold(be, tmp_path):
    m = it.nn.Linear(2, 2)
    m.fn = lambda x: x
    with pytest.raises(TypeError, match=r"cannot store a function .* at 'fn'"):
        it.save(m, tmp_path / "a")
    outer = it.nn.Sequential(it.nn.Linear(1, 1))
    with open(tmp_path / "log.txt", "w") as fh:
        outer[0].log = fh
        with pytest.raises(TypeError, match=r"cannot store a TextIOWrapper \(at '0.log'\)"):
            it.save(outer, tmp_path / "b")
    assert not os.path.exists(tmp_path / "a") and not os.path.exists(tmp_path / "b")


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "uint8", "bool", "complex64",
                                   "float16", ">f8"])
def test_numpy_arrays_come_back_as_numpy_arrays(be, tmp_path, dtype):
    a = _sample(dtype if dtype != ">f8" else "float64", (2, 3)).astype(dtype)
    path = tmp_path / "traindata.pt"
    it.save(a, open(path, "wb"))         # time_sequence_prediction's own line
    back = it.load(str(path))
    assert isinstance(back, np.ndarray) and back.shape == a.shape
    assert back.dtype == a.dtype.newbyteorder("=") and back.flags.writeable
    np.testing.assert_array_equal(back, a)
    mixed = {"arr": a[:, :0], "zero_d": np.array(1.5), "scalar": np.int32(7),
             "f64": np.float64(0.1),
             "t": it.ones(2), "same": a}
    mixed["same2"] = mixed["same"]
    it.save(mixed, path)
    got = it.load(path)
    assert got["arr"].shape == (2, 0) and got["zero_d"].shape == ()
    assert type(got["scalar"]) is np.int32 and got["scalar"] == 7
    assert type(got["f64"]) is np.float64 and got["f64"] == 0.1
    assert isinstance(got["t"], it.Tensor) and got["same2"] is got["same"]
    with pytest.raises(TypeError, match="'bad' has dtype object"):
        it.save({"bad": np.array([object()])}, path)


def test_header_of_128_bytes_is_not_taken_for_a_pickle(be, tmp_path):
    # the 8-byte header length of such a file starts with 0x80, as a pickle does
    for n in range(1, 200):
        data = it.io._serialize({"k" * n: it.ones(1)}, None)
        if data[0] == 0x80:
            break
    else:
        pytest.fail("no key length gave a 128-byte header")
    (tmp_path / "x").write_bytes(data)
    assert list(it.load(tmp_path / "x")) == ["k" * n]


def _module_file(cls_ref, attrs=(), global_ref=None):
    node = {"__module__": {"class": cls_ref, "id": 0, "attrs": list(attrs)}}
    if global_ref is not None:
        node = {"__global__": global_ref}
    return _with_header({"__metadata__": {"interop": json.dumps(node)}})


RAN = []


class _Trap(it.nn.Module):
    def __new__(cls, *a, **k):
        RAN.append("new")
        return super().__new__(cls)

    def __init__(self):
        RAN.append("init")
        super().__init__()


HOSTILE_CLASSES = {
    "os.system as a function": (lambda: _module_file(None, global_ref=["os", "system"]), "os.system"),
    "posix.system": (lambda: _module_file(None, global_ref=["posix", "system"]), "posix.system"),
    "builtins.eval": (lambda: _module_file(None, global_ref=["builtins", "eval"]), "builtins.eval"),
    "os reached through interop": (lambda: _module_file(None, global_ref=["interop.io", "os.system"]),
                                   "interop.io.os.system"),
    "subprocess.Popen as a module": (lambda: _module_file(["subprocess", "Popen"]), "subprocess.Popen"),
    "a class not a module": (lambda: _module_file(["interop.io", "CheckpointError"]),
                             "is not a Module class"),
    "unimported module": (lambda: _module_file(["antigravity", "x"]), "antigravity.x"),
    "dunder path": (lambda: _module_file(["interop", "__builtins__.eval"]), "__builtins__"),
    "bad path": (lambda: _module_file(["os;rm -rf", "x"]), "invalid class reference"),
    "untrusted test class": (lambda: _module_file(["test_io", "_Trap"]), "test_io._Trap"),
    "bad method": (lambda: _module_file(["interop.nn.modules.linear", "Linear"],
                                        [["f", {"__method__": [{"__ref__": 0}, "__class__"]}]]),
                   "invalid method entry"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_CLASSES))
def test_hostile_class_references_are_refused_and_nothing_runs(be, tmp_path, case):
    make, message = HOSTILE_CLASSES[case]
    path = tmp_path / "evil.pt"
    path.write_bytes(make())
    RAN.clear()
    with pytest.raises(it.io.CheckpointError) as e:
        it.load(path)
    assert message in str(e.value) and str(path) in str(e.value)
    if case in ("unimported module", "dunder path", "bad path", "a class not a module",
                "os reached through interop", "bad method"):
        with pytest.raises(it.io.CheckpointError, match=message):   # even when trusted
            it.load(path, weights_only=False)
    assert RAN == [] and "antigravity" not in sys.modules
    # allowlisted, the trap class is rebuilt without its __new__ or __init__ running
    with it.serialization.safe_globals([_Trap]):
        trap = it.load(_write(tmp_path, _module_file(["test_io", "_Trap"])))
    assert type(trap) is _Trap and RAN == []


def _write(tmp_path, data):
    p = tmp_path / "f.pt"
    p.write_bytes(data)
    return p


def _word_language_model_save_load(torch_like, model, path, safe_globals):
    # word_language_model/main.py's lines, with `torch` as a parameter
    with open(path, 'wb') as f:
        torch_like.save(model, f)
    with open(path, 'rb') as f:
        with torch_like.serialization.safe_globals(safe_globals):
            model = torch_like.load(f)
    return model


class _RNNModel(it.nn.Module):
    def __init__(self, nn, ntoken=11, ninp=6, nhid=6):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(0.2)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, 2, dropout=0.2)
        self.decoder = nn.Linear(nhid, ntoken)
        self.decoder.weight = self.encoder.weight
        self.rnn_type, self.nhid, self.nlayers = "LSTM", nhid, 2


def test_word_language_model_pattern_runs_unchanged(be, tmp_path):
    nn = it.nn
    model = _RNNModel(nn)
    safe = [_RNNModel, it.nn.modules.dropout.Dropout, it.nn.modules.linear.Linear,
            it.nn.modules.rnn.GRU, it.nn.modules.rnn.LSTM, it.nn.modules.rnn.RNN,
            it.nn.modules.sparse.Embedding]
    back = _word_language_model_save_load(it, model, tmp_path / "model.pt", safe)
    assert back.decoder.weight is back.encoder.weight
    back.rnn.flatten_parameters()
    for (k, v), (k2, v2) in zip(model.state_dict().items(), back.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(to_np(v), to_np(v2))
    # the same lines work in PyTorch on its own model (the pattern is PyTorch's)
    tmodel = torch.nn.Sequential(torch.nn.Embedding(11, 6), torch.nn.LSTM(6, 6))
    tback = _word_language_model_save_load(
        torch, tmodel, tmp_path / "t.pt", [torch.nn.Sequential, torch.nn.modules.rnn.LSTM,
                                           torch.nn.modules.sparse.Embedding])
    assert repr(tback) == repr(tmodel)


# the module paths PyTorch's word_language_model lists for torch.serialization.safe_globals
# before reloading a whole Transformer language model
_WLM_SAFE_GLOBALS = ["nn.functional.relu", "nn.modules.activation.MultiheadAttention",
                     "nn.modules.container.ModuleList", "nn.modules.dropout.Dropout",
                     "nn.modules.linear.Linear", "nn.modules.linear.NonDynamicallyQuantizableLinear",
                     "nn.modules.normalization.LayerNorm", "nn.modules.sparse.Embedding",
                     "nn.modules.transformer.TransformerEncoder",
                     "nn.modules.transformer.TransformerEncoderLayer"]


def _at(root, path):
    for name in path.split("."):
        root = getattr(root, name)
    return root


def test_pytorch_module_paths_of_a_transformer_reload_list(be, tmp_path):
    """Every name word_language_model passes to safe_globals is at PyTorch's path, and
    attention's out_proj is the class at nn.modules.linear (its saved import path)."""
    torch = pytest.importorskip("torch")
    found = [_at(it, p) for p in _WLM_SAFE_GLOBALS]
    assert [f.__name__ for f in found] == [_at(torch, p).__name__ for p in _WLM_SAFE_GLOBALS]
    mha = it.nn.MultiheadAttention(4, 2)
    assert type(mha.out_proj) is _at(it, "nn.modules.linear.NonDynamicallyQuantizableLinear")
    assert (type(mha.out_proj).__module__.replace("interop", "torch")
            == type(torch.nn.MultiheadAttention(4, 2).out_proj).__module__)
    enc = it.nn.TransformerEncoder(it.nn.TransformerEncoderLayer(4, 2, 8), 2).eval()
    path = tmp_path / "enc.pt"
    it.save(enc, path)
    with it.serialization.safe_globals(found):
        back = it.load(path)
    assert type(back.layers[0].self_attn.out_proj) is type(mha.out_proj)
    x = it.randn(3, 2, 4)
    np.testing.assert_array_equal(to_np(back(x)), to_np(enc(x)))
