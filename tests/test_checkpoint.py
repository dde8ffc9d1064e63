"""Whole training checkpoints through interop.save / interop.load: a run saved after 10 steps
(model, optimizer and scheduler state, epoch counter) and resumed in fresh objects ends
bit-identical to 20 uninterrupted steps; a checkpoint moves interop -> PyTorch -> interop."""

import json
import struct

import numpy as np
import pytest

import interop as it
from helpers import to_np
from torch_compare import np_of

torch = pytest.importorskip("torch")
st = pytest.importorskip("safetensors.torch")


def _net(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.BatchNorm1d(16), nn.Linear(16, 3))


def _data():
    g = np.random.default_rng(0)
    return g.standard_normal((20, 8, 6)).astype(np.float32), g.integers(0, 3, (20, 8))


def _setup(state=None):
    net = _net(it)
    if state is not None:
        net.load_state_dict(state)
    opt = it.optim.AdamW(net.parameters(), lr=1e-2, weight_decay=0.1, amsgrad=True)
    sched = it.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=20)
    return net, opt, sched


def _steps(net, opt, sched, xs, ys, start, stop):
    loss_fn = it.nn.CrossEntropyLoss()
    for i in range(start, stop):
        opt.zero_grad()
        loss = loss_fn(net(it.asarray(xs[i])), it.asarray(ys[i]))
        loss.backward()
        opt.step()
        sched.step()


@pytest.mark.parametrize("optimizer", ["AdamW", "SGD"])
def test_resume_from_a_checkpoint_is_bit_identical(be, tmp_path, optimizer):
    xs, ys = _data()
    it.manual_seed(0)
    init = {k: v.clone() for k, v in _net(it).state_dict().items()}

    def setup():
        net, opt, sched = _setup(init)
        if optimizer == "SGD":
            opt = it.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True)
            sched = it.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        return net, opt, sched

    straight = setup()
    _steps(*straight, xs, ys, 0, 20)

    first = setup()
    _steps(*first, xs, ys, 0, 10)
    net, opt, sched = first
    it.save({"model": net.state_dict(), "optim": opt.state_dict(),
             "sched": sched.state_dict(), "epoch": 10}, tmp_path / "ckpt.safetensors")
    del first, net, opt, sched

    ckpt = it.load(tmp_path / "ckpt.safetensors")
    net, opt, sched = setup()
    net.load_state_dict(ckpt["model"])
    opt.load_state_dict(ckpt["optim"])
    sched.load_state_dict(ckpt["sched"])
    assert ckpt["epoch"] == 10
    _steps(net, opt, sched, xs, ys, 10, 20)
    for (name, a), (_, b) in zip(net.state_dict().items(), straight[0].state_dict().items()):
        np.testing.assert_array_equal(to_np(a), to_np(b), err_msg=name)
    assert sched.get_last_lr() == straight[2].get_last_lr()


def test_checkpoint_round_trips_interop_pytorch_interop(be, tmp_path):
    ours = _net(it)
    it.save(ours.state_dict(), tmp_path / "ours.safetensors")
    theirs = _net(torch)
    theirs.load_state_dict(st.load_file(str(tmp_path / "ours.safetensors")))
    x = np.random.default_rng(1).standard_normal((4, 6)).astype(np.float32)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(to_np(ours(it.asarray(x))),
                               theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    with torch.no_grad():
        theirs[0].weight.mul_(2)
    st.save_file(theirs.state_dict(), str(tmp_path / "theirs.safetensors"))
    back = _net(it)
    back.load_state_dict(it.load(tmp_path / "theirs.safetensors"))
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(to_np(back.state_dict()[k]), np_of(v), err_msg=k)


def test_resume_from_a_whole_model_checkpoint_is_bit_identical(be, tmp_path):
    """``torch.save({"model": model, ...})`` of the module object itself (not its state_dict):
    the module comes back whole (interop's own classes need no allowlist) and resumes
    bit-identically."""
    xs, ys = _data()
    it.manual_seed(0)
    init = {k: v.clone() for k, v in _net(it).state_dict().items()}
    straight = _setup(init)
    _steps(*straight, xs, ys, 0, 20)
    net, opt, sched = _setup(init)
    _steps(net, opt, sched, xs, ys, 0, 10)
    it.save({"model": net, "optim": opt.state_dict(), "sched": sched.state_dict(),
             "epoch": 10}, tmp_path / "ckpt.pt")
    ckpt = it.load(tmp_path / "ckpt.pt", weights_only=True)
    net = ckpt["model"]
    assert isinstance(net, it.nn.Sequential) and net is not straight[0]
    opt = it.optim.AdamW(net.parameters(), lr=1e-2, weight_decay=0.1, amsgrad=True)
    sched = it.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=20)
    opt.load_state_dict(ckpt["optim"])
    sched.load_state_dict(ckpt["sched"])
    _steps(net, opt, sched, xs, ys, 10, 20)
    for (name, a), (_, b) in zip(net.state_dict().items(), straight[0].state_dict().items()):
        np.testing.assert_array_equal(to_np(a), to_np(b), err_msg=name)


def test_hostile_checkpoint_cannot_smuggle_a_callable_into_a_model(be, tmp_path):
    """A file that swaps a saved model's activation for ``os.system`` (the attack pickle
    allows) is refused on load; the stored structure names nothing it can run."""
    net = _net(it)
    it.save(net, tmp_path / "ok.pt")
    data = (tmp_path / "ok.pt").read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    structure = header["__metadata__"]["interop"]
    assert "interop.nn.modules.activation" in structure
    evil = structure.replace('["interop.nn.modules.activation", "Tanh"]', '["os", "system"]')
    assert evil != structure
    header["__metadata__"]["interop"] = evil
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    (tmp_path / "evil.pt").write_bytes(struct.pack("<Q", len(text)) + text + data[8 + n:])
    with pytest.raises(it.io.CheckpointError, match="os.system"):
        it.load(tmp_path / "evil.pt")
