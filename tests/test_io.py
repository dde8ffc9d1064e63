"""interop.save / interop.load: safetensors both ways with PyTorch, nested checkpoints,
atomic writes, and every kind of damaged or hostile file refused with a clear error."""

import json
import os
import pickle
import struct

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
