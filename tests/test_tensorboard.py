"""interop.utils.tensorboard.SummaryWriter: what it writes is read back with TensorBoard's own
event reader and compared with what torch.utils.tensorboard writes for the same call."""

import io
import os
import re
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import (
    EventAccumulator, STORE_EVERYTHING_SIZE_GUIDANCE)
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import interop as it
from interop.utils.tensorboard import SummaryWriter
from interop.utils.tensorboard._summary import default_bins

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WALL = 1_700_000_000.0


def _read(path):
    acc = EventAccumulator(str(path), size_guidance=STORE_EVERYTHING_SIZE_GUIDANCE)
    acc.Reload()
    return acc


def _both(tmp_path, calls):
    """Run ``calls(writer, convert)`` with interop's writer and with torch's (``convert``
    turns a NumPy array into the writer's tensor type); the two log dirs."""
    ours, theirs = tmp_path / "interop", tmp_path / "torch"
    with SummaryWriter(ours) as w:
        calls(w, it.asarray)
    with TorchWriter(str(theirs)) as w:
        calls(w, lambda a: torch.from_numpy(np.asarray(a)) if isinstance(a, np.ndarray) else a)
    return ours, theirs


def _pixels(event):
    return np.asarray(Image.open(io.BytesIO(event.encoded_image_string)))


# ---------------------------------------------------------------------------------- scalars

def test_scalars_read_back_as_torch_writes_them(be, tmp_path):
    values = [0.25, 3, True, np.float32(1.5), np.array([[2.5]]), np.int64(-7)]

    def calls(w, conv):
        for step, v in enumerate(values):
            w.add_scalar("loss", conv(v) if isinstance(v, np.ndarray) else v, step,
                         walltime=WALL + step)
        w.add_scalar("new", 0.1, 3, walltime=WALL, new_style=True)
        w.add_scalar("new64", 0.1, 4, walltime=WALL, new_style=True, double_precision=True)
    ours, theirs = _both(tmp_path, calls)
    a, b = _read(ours), _read(theirs)
    assert a.Scalars("loss") == b.Scalars("loss")
    assert [e.value for e in a.Scalars("loss")] == [0.25, 3.0, 1.0, 1.5, 2.5, -7.0]
    assert [(e.step, e.wall_time) for e in a.Scalars("loss")] == \
        [(s, WALL + s) for s in range(len(values))]
    for tag in ("new", "new64"):
        assert a.Tensors(tag) == b.Tensors(tag)
        assert a.SummaryMetadata(tag).plugin_data.plugin_name == "scalars"
    assert a.Tensors("new64")[0].tensor_proto.double_val == [0.1]


def test_scalar_from_every_backend_and_from_a_graph(be, tmp_path):
    x = it.tensor([1.5, -2.0], requires_grad=True)
    loss = (x * x).sum()                       # 6.25, part of a graph
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("loss", loss, 0)
        w.add_scalar("loss", it.tensor(7, dtype=it.int32), it.tensor(1))
    assert [(e.step, e.value) for e in _read(tmp_path).Scalars("loss")] == [(0, 6.25), (1, 7.0)]
    loss.backward()                            # the writer left the graph alone
    assert x.grad.tolist() == [3.0, -4.0]


def test_add_scalars_writes_torchs_sub_runs(tmp_path):
    def calls(w, conv):
        for step in range(3):
            w.add_scalars("loss/run", {"train": 1.0 / (step + 1), "val": conv(np.array(step))},
                          step, walltime=WALL)
    ours, theirs = _both(tmp_path, calls)
    subs = sorted(d for d in os.listdir(ours) if os.path.isdir(ours / d))
    assert subs == sorted(d for d in os.listdir(theirs) if os.path.isdir(theirs / d))
    assert subs == ["loss_run_train", "loss_run_val"]
    for sub in subs:
        a, b = _read(ours / sub), _read(theirs / sub)
        assert a.Tags()["scalars"] == ["loss/run"]
        assert a.Scalars("loss/run") == b.Scalars("loss/run")
    assert [e.value for e in _read(ours / "loss_run_val").Scalars("loss/run")] == [0, 1, 2]
    assert _read(ours).Tags()["scalars"] == []


@pytest.mark.parametrize("value, match", [
    (it.ones(3), r"shape \(3,\) with 3 elements"),
    (np.zeros((2, 2)), r"shape \(2, 2\)"),
    (it.zeros((0,)), r"shape \(0,\)"),
    (it.tensor([1 + 2j]), "complex"),
    (1 + 2j, "complex"),
    ("0.5", "got str '0.5'"),
    (None, "got NoneType"),
])
def test_add_scalar_refuses_what_is_not_one_real_number(tmp_path, value, match):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises((ValueError, TypeError), match=r"add_scalar\('x'\).*" + match):
            w.add_scalar("x", value, 0)


def test_steps_and_tags_are_checked(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("x", 1.0, np.int64(5))
        with pytest.raises(TypeError, match=r"global_step must be an integer, got float 1.5"):
            w.add_scalar("x", 1.0, 1.5)
        with pytest.raises(TypeError, match="global_step must be an integer, got the bool"):
            w.add_text("t", "a", True)
        with pytest.raises(TypeError, match="expected the tag as a str, got int 3"):
            w.add_scalar(3, 1.0)
        with pytest.raises(TypeError, match=r"add_scalars\('g'\): expected a dict"):
            w.add_scalars("g", [1.0, 2.0])
    assert [e.step for e in _read(tmp_path).Scalars("x")] == [5]


# ------------------------------------------------------------------------------- histograms

_DATA = {
    "normal": np.random.default_rng(0).standard_normal(1000).astype(np.float32),
    "ties_at_edges": np.array([0.0, 0.0, 1e-12, -1e-12, 1.0, 1.0, 1.1, 5.0]),
    "ints": np.random.default_rng(1).integers(-20, 20, (7, 9)),
    "one_value": np.array([3.25]),
    "bool": np.array([True, False, True]),
    "wide": np.array([-1e19, -3.0, 0.0, 2e-12, 4e18]),
}
_BINS = [("tensorflow", None), ("tensorflow", 30), (10, None), ("auto", None), ("fd", None),
         ([-2.0, -0.5, 0.0, 0.5, 1.0, 6.0], None), (64, 7)]


@pytest.mark.parametrize("bins, max_bins", _BINS, ids=[f"{b}-{m}" for b, m in _BINS])
@pytest.mark.parametrize("name", sorted(_DATA))
def test_histograms_equal_torchs_and_numpys_buckets(be, tmp_path, name, bins, max_bins):
    data = _DATA[name]
    if name == "wide" and bins == "fd":      # Freedman-Diaconis asks for ~1e19 bins here
        with SummaryWriter(tmp_path) as w, pytest.raises(
                ValueError, match=r"add_histogram\('h'\): numpy.histogram\(values, bins='fd'\) "
                                  r"failed: .*too big"):
            w.add_histogram("h", it.asarray(data), 0, bins="fd")
        return
    if isinstance(bins, list) and data.dtype != bool:
        data = np.clip(data, -2.0, 6.0)       # every value inside the explicit edges

    def calls(w, conv):
        w.add_histogram("h", conv(data), 0, bins=bins, max_bins=max_bins, walltime=WALL)
    ours, theirs = _both(tmp_path, calls)
    a = _read(ours).Histograms("h")[0].histogram_value
    b = _read(theirs).Histograms("h")[0].histogram_value
    assert (a.bucket, a.bucket_limit, a.num, a.min, a.max) == \
        (b.bucket, b.bucket_limit, b.num, b.min, b.max)
    assert a.sum == pytest.approx(b.sum, rel=1e-12, abs=1e-9)
    assert a.sum_squares == pytest.approx(b.sum_squares, rel=1e-12)
    assert sum(a.bucket) == data.size          # every value is in a bucket here
    if max_bins is None:
        # the buckets are NumPy's, trimmed: the right edges and counts of numpy.histogram
        edges = default_bins() if bins == "tensorflow" else bins
        counts, limits = np.histogram(data.astype(float), bins=edges)
        lo = int(np.searchsorted(limits, a.bucket_limit[0]))
        assert a.bucket_limit == limits[lo:lo + len(a.bucket_limit)].tolist()
        assert a.bucket[1:] == counts[lo:lo + len(a.bucket) - 1].tolist()
        assert a.bucket[0] == 0 and a.bucket[1] > 0 and a.bucket[-1] > 0   # trimmed to support


def test_default_bins_are_tensorflows():
    bins = default_bins()
    assert len(bins) == 1549 and bins[774] == 0 and bins[775] == 1e-12
    assert bins == [-b for b in reversed(bins)]
    assert bins[-1] < 1e20 <= bins[-1] * 1.1


@pytest.mark.parametrize("values, kwargs, error, match", [
    (it.zeros((2, 0)), {}, ValueError, r"empty \(shape \(2, 0\)\)"),
    (it.tensor([1.0, float("nan"), float("inf")]), {}, ValueError, "2 of the 3 values are NaN"),
    (it.tensor([1j]), {}, TypeError, "complex"),
    (it.ones(3), {"bins": "fancy"}, ValueError, "got 'fancy'"),
    (it.ones(3), {"bins": 0}, ValueError, "positive number of bins, got 0"),
    (it.ones(3), {"bins": [0.0, 2.0, 1.0]}, ValueError, "finite and increasing"),
    (it.ones(3), {"bins": [[0.0, 1.0]]}, ValueError, r"1-D .* got shape \(1, 2\)"),
    (it.ones(3), {"max_bins": 0}, ValueError, "max_bins must be None or a positive int"),
    (it.full((4,), 9.0), {"bins": [0.0, 1.0]}, ValueError, "none of the 4 values"),
])
def test_add_histogram_errors_name_what_was_given(tmp_path, values, kwargs, error, match):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(error, match=r"add_histogram\('w'\).*" + match):
            w.add_histogram("w", values, 0, **kwargs)


# ---------------------------------------------------------------------------------- images

def _expected(hwc):
    """The uint8 pixels torch's rule gives: floats scaled by 255, clipped, truncated; one
    channel repeated to three."""
    if hwc.dtype != np.uint8:
        hwc = np.clip(np.nan_to_num(hwc.astype(np.float32) * 255, nan=0.0), 0, 255) \
            .astype(np.uint8)
    return np.concatenate([hwc] * 3, axis=2) if hwc.shape[2] == 1 else hwc


_RNG = np.random.default_rng(2)
_IMAGES = {
    "CHW float": (_RNG.random((3, 5, 7)), "CHW", lambda a: a.transpose(1, 2, 0)),
    "HWC uint8": (_RNG.integers(0, 256, (4, 6, 3), dtype=np.uint8), "HWC", lambda a: a),
    "HW float32": (_RNG.random((6, 5)).astype(np.float32), "HW", lambda a: a[..., None]),
    "WH": (_RNG.random((6, 5)), "WH", lambda a: a.T[..., None]),
    "grey CHW": (_RNG.random((1, 3, 4)), "CHW", lambda a: a.transpose(1, 2, 0)),
    "RGBA HWC": (_RNG.integers(0, 256, (3, 3, 4), dtype=np.uint8), "hwc", lambda a: a),
    "out of range": (np.array([[[-0.5, 0.0, 0.5, 0.999, 1.0, 2.0]]] * 3), "CHW",
                     lambda a: a.transpose(1, 2, 0)),
    "bool": (np.eye(3, dtype=bool), "HW", lambda a: a[..., None]),
}


@pytest.mark.parametrize("name", sorted(_IMAGES))
def test_image_pixels_read_back(be, tmp_path, name):
    data, fmt, to_hwc = _IMAGES[name]

    def calls(w, conv):
        w.add_image("img", conv(data), 3, dataformats=fmt)
    ours, theirs = _both(tmp_path, calls)
    a, b = _read(ours).Images("img"), _read(theirs).Images("img")
    assert len(a) == 1 and a[0].step == 3
    want = _expected(to_hwc(data))
    assert (a[0].height, a[0].width) == want.shape[:2]
    np.testing.assert_array_equal(_pixels(a[0]), want)
    np.testing.assert_array_equal(_pixels(a[0]), _pixels(b[0]))


def test_image_nan_becomes_black(tmp_path):
    img = np.full((1, 2, 2), np.nan, dtype=np.float32)
    img[0, 0, 0] = 1.0
    with SummaryWriter(tmp_path) as w:
        w.add_image("nan", it.asarray(img), 0)
    got = _pixels(_read(tmp_path).Images("nan")[0])
    np.testing.assert_array_equal(got[..., 0], [[255, 0], [0, 0]])


@pytest.mark.parametrize("n, fmt", [(1, "NCHW"), (3, "NCHW"), (8, "NCHW"), (10, "NCHW"),
                                    (17, "NHWC"), (5, "NHWC")])
def test_add_images_grid_equals_torchs(be, tmp_path, n, fmt):
    batch = np.random.default_rng(n).random((n, 3, 4, 5)).astype(np.float32)
    if fmt == "NHWC":
        batch = batch.transpose(0, 2, 3, 1).copy()
        batch = batch[..., :1].copy() if n == 5 else batch   # grey batch

    def calls(w, conv):
        w.add_images("batch", conv(batch), 0, dataformats=fmt)
    ours, theirs = _both(tmp_path, calls)
    a, b = _read(ours).Images("batch")[0], _read(theirs).Images("batch")[0]
    cols = min(n, 8)
    rows = -(-n // cols)
    h, w_ = (4, 5) if fmt == "NCHW" else batch.shape[1:3]
    assert (a.height, a.width) == (rows * h, cols * w_)
    np.testing.assert_array_equal(_pixels(a), _pixels(b))
    # the last image sits in its cell; cells after it are black
    nchw = batch if fmt == "NCHW" else batch.transpose(0, 3, 1, 2)
    r, c = divmod(n - 1, cols)
    cell = _pixels(a)[r * h:(r + 1) * h, c * w_:(c + 1) * w_]
    np.testing.assert_array_equal(cell, _expected(nchw[-1].transpose(1, 2, 0)))
    if rows * cols > n:
        assert not _pixels(a)[-h:, -w_:].any()


def test_add_images_keeps_rgba(tmp_path):
    batch = np.random.default_rng(3).integers(0, 256, (2, 4, 3, 3), dtype=np.uint8)
    with SummaryWriter(tmp_path) as w:
        w.add_images("rgba", it.asarray(batch), 0)
    got = _pixels(_read(tmp_path).Images("rgba")[0])
    np.testing.assert_array_equal(got, np.concatenate(list(batch.transpose(0, 2, 3, 1)), axis=1))


@pytest.mark.parametrize("call, img, fmt, error, match", [
    ("add_image", it.zeros((3, 4, 5)), "HW", ValueError,
     r"shape \(3, 4, 5\) \(3 dims\), but dataformats='HW' describes 2"),
    ("add_image", it.zeros((4, 5)), "CHW", ValueError, r"shape \(4, 5\) \(2 dims\)"),
    ("add_images", it.zeros((3, 4, 5)), "NCHW", ValueError, r"shape \(3, 4, 5\)"),
    ("add_image", it.zeros((3, 4, 5)), "CHX", ValueError, "got 'CHX'"),
    ("add_image", it.zeros((3, 4, 5)), "CCH", ValueError, "got 'CCH'"),
    ("add_image", it.zeros((2, 4, 5)), "CHW", ValueError,
     r"1 \(grey\), 3 \(RGB\) or 4 \(RGBA\) channels, got 2 \(shape \(2, 4, 5\)"),
    ("add_images", it.zeros((2, 5, 4, 4)), "NCHW", ValueError, "channels, got 5"),
    ("add_image", it.zeros((3, 4, 5), dtype=it.int64), "CHW", TypeError,
     "floating image .* or a uint8 image .* got int64"),
    ("add_image", it.zeros((3, 0, 5)), "CHW", ValueError, r"empty: shape \(3, 0, 5\)"),
    ("add_images", it.zeros((0, 3, 4, 5)), "NCHW", ValueError, r"empty: shape \(0, 3, 4, 5\)"),
    ("add_image", "cat.png", "CHW", TypeError, "got str 'cat.png'"),
    ("add_image", it.zeros((3, 4, 5)), 3, TypeError, "dataformats must be a str"),
])
def test_image_errors_name_what_was_given(tmp_path, call, img, fmt, error, match):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(error, match=rf"{call}\('i'\).*" + match):
            getattr(w, call)("i", img, 0, dataformats=fmt)
    assert _read(tmp_path).Tags()["images"] == []


# ------------------------------------------------------------------------------ text, hparams

def test_text_reads_back_as_torch_writes_it(tmp_path):
    def calls(w, conv):
        w.add_text("notes", "**lr** = 0.1, ünïcode ✓", 2, walltime=WALL)
    ours, theirs = _both(tmp_path, calls)
    a, b = _read(ours), _read(theirs)
    assert a.Tags()["tensors"] == ["notes/text_summary"]
    assert a.Tensors("notes/text_summary") == b.Tensors("notes/text_summary")
    proto = a.Tensors("notes/text_summary")[0].tensor_proto
    assert proto.string_val[0].decode("utf-8") == "**lr** = 0.1, ünïcode ✓"
    assert a.SummaryMetadata("notes/text_summary") == b.SummaryMetadata("notes/text_summary")
    with SummaryWriter(tmp_path / "bad") as w:
        with pytest.raises(TypeError, match=r"add_text\('t'\): expected the text as a str, "
                                            r"got int 5"):
            w.add_text("t", 5)


def _hparams_content(acc):
    return {tag: plugin_data_pb2.HParamsPluginData.FromString(content)
            for tag, content in acc.PluginTagToContent("hparams").items()}


def test_hparams_sub_run_matches_torchs(be, tmp_path):
    hp = {"lr": 0.01, "batch": 32, "optim": "adam", "skip": None, "wd": it.tensor(0.5)}
    domains = {"optim": ["adam", "sgd"], "batch": [16, 32]}

    def calls(w, conv):
        # a one-element 1-D tensor: torch's writer indexes [0] and fails on a 0-d one
        w.add_hparams({k: (conv(np.array([0.5])) if k == "wd" else v) for k, v in hp.items()},
                      {"hp/acc": 0.75, "hp/loss": conv(np.array(0.25))},
                      hparam_domain_discrete=domains, run_name="trial", global_step=4)
    ours, theirs = _both(tmp_path, calls)
    a, b = _read(ours / "trial"), _read(theirs / "trial")
    assert _hparams_content(a) == _hparams_content(b)
    content = _hparams_content(a)
    start = content["_hparams_/session_start_info"].session_start_info
    assert dict(start.hparams)["optim"].string_value == "adam"
    assert {k: v.number_value for k, v in start.hparams.items() if k != "optim"} == \
        {"lr": 0.01, "batch": 32.0, "wd": 0.5}
    exp = content["_hparams_/experiment"].experiment
    assert [m.name.tag for m in exp.metric_infos] == ["hp/acc", "hp/loss"]
    assert [v.string_value for v in
            next(h for h in exp.hparam_infos if h.name == "optim").domain_discrete.values] == \
        ["adam", "sgd"]
    assert content["_hparams_/session_end_info"].session_end_info.status == \
        api_pb2.Status.Value("STATUS_SUCCESS")
    for tag in ("hp/acc", "hp/loss"):
        assert [(e.step, e.value) for e in a.Scalars(tag)] == \
            [(e.step, e.value) for e in b.Scalars(tag)]
    assert [e.value for e in a.Scalars("hp/loss")] == [0.25]


def test_hparams_bools_are_bools_and_run_name_defaults_to_the_time(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_hparams({"augment": True}, {"acc": 1.0}, hparam_domain_discrete={
            "augment": [True, False]})
    (run,) = [d for d in os.listdir(tmp_path) if os.path.isdir(tmp_path / d)]
    assert re.fullmatch(r"\d+\.\d+", run)
    content = _hparams_content(_read(tmp_path / run))
    assert content["_hparams_/session_start_info"].session_start_info.hparams["augment"] \
        .bool_value is True
    info = content["_hparams_/experiment"].experiment.hparam_infos[0]
    # torch's writer files a bool as a float: it tests for int before bool
    assert info.type == api_pb2.DataType.Value("DATA_TYPE_BOOL")
    assert [v.bool_value for v in info.domain_discrete.values] == [True, False]


@pytest.mark.parametrize("hp, metrics, domains, error, match", [
    ([("lr", 0.1)], {}, None, TypeError, "hparam_dict must be a dict, got list"),
    ({"lr": 0.1}, 0.9, None, TypeError, "metric_dict must be a dict, got float"),
    ({"lr": [0.1, 0.2]}, {}, None, TypeError, "hparam 'lr' must be a bool, int, float, str"),
    ({"lr": it.ones(2)}, {}, None, ValueError, r"shape \(2,\)"),
    ({"lr": 0.1}, {}, {"lr": ["a"]}, TypeError, r"hparam_domain_discrete\['lr'\]"),
    ({"lr": 0.1}, {}, {"wd": [0.1]}, KeyError, r"names \['wd'\], which are not in"),
    ({"lr": 0.1}, {"acc": it.ones(3)}, None, ValueError, r"metric 'acc'.*shape \(3,\)"),
])
def test_hparams_errors(tmp_path, hp, metrics, domains, error, match):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(error, match=match):
            w.add_hparams(hp, metrics, hparam_domain_discrete=domains, run_name="r")
    assert not (tmp_path / "r").exists()      # nothing half-written


# ------------------------------------------------------------------------------------ graph

class _Block(it.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = it.nn.Linear(4, 4)
        self.act = it.nn.Tanh()

    def forward(self, x):
        return self.act(self.fc(x)) + x


class _Net(it.nn.Module):
    def __init__(self):
        super().__init__()
        self.block = _Block()
        self.head = it.nn.Sequential(it.nn.Linear(4, 3), it.nn.ReLU())

    def forward(self, x, y):
        h = self.block(x)
        return self.head(h * y), h


def test_add_graph_groups_recorded_ops_by_module(be, tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_graph(_Net(), (it.randn(2, 4), it.randn(2, 4)))
    graph = _read(tmp_path).Graph()
    nodes = {n.name: n for n in graph.node}
    assert {n: nodes[n].op for n in nodes if nodes[n].op in ("Parameter", "IO Node")} == {
        "_Net/_Block[block]/Linear[fc]/weight": "Parameter",
        "_Net/_Block[block]/Linear[fc]/bias": "Parameter",
        "_Net/Sequential[head]/Linear[0]/weight": "Parameter",
        "_Net/Sequential[head]/Linear[0]/bias": "Parameter",
        "input/input.0": "IO Node", "input/input.1": "IO Node",
        "output/output.0": "IO Node", "output/output.1": "IO Node"}
    fc = nodes["_Net/_Block[block]/Linear[fc]/Linear"]
    assert list(fc.input) == ["input/input.0", "_Net/_Block[block]/Linear[fc]/weight",
                              "_Net/_Block[block]/Linear[fc]/bias"]
    assert list(nodes["_Net/_Block[block]/Tanh[act]/Tanh"].input) == [fc.name]
    add = nodes["_Net/_Block[block]/Add"]                 # in the block's forward itself
    assert list(add.input) == ["_Net/_Block[block]/Tanh[act]/Tanh", "input/input.0"]
    mul = nodes["_Net/Mul"]
    assert list(mul.input) == [add.name, "input/input.1"]
    assert list(nodes["_Net/Sequential[head]/ReLU[1]/Relu"].input) == \
        ["_Net/Sequential[head]/Linear[0]/Linear"]
    assert list(nodes["output/output.0"].input) == ["_Net/Sequential[head]/ReLU[1]/Relu"]
    assert list(nodes["output/output.1"].input) == [add.name]
    shape = nodes["output/output.0"].attr["_output_shapes"].list.shape[0]
    assert [d.size for d in shape.dim] == [2, 3]
    assert all(i.split(":")[0] in nodes for n in graph.node for i in n.input)


def test_add_graph_shared_module_and_errors(tmp_path):
    lin = it.nn.Linear(3, 3)
    model = it.nn.Sequential(lin, it.nn.ReLU(), lin)
    with SummaryWriter(tmp_path) as w:
        w.add_graph(model, it.randn(1, 3))
        with pytest.raises(TypeError, match="input_to_model is needed"):
            w.add_graph(model)
        with pytest.raises(TypeError, match="expected an interop nn.Module, got int"):
            w.add_graph(3, it.randn(1, 3))
    names = [n.name for n in _read(tmp_path).Graph().node]
    assert "Sequential/Linear[0]/Linear" in names and "Sequential/Linear[0]/Linear_1" in names
    assert names.count("Sequential/Linear[0]/weight") == 1
    assert not lin._forward_hooks and not lin._forward_pre_hooks     # hooks removed


# ---------------------------------------------------------------- the writer and its files

def test_default_log_dir_comment_and_suffix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with SummaryWriter(comment="_lr0.1", filename_suffix=".v2") as w:
        w.add_scalar("x", 1.0, 0)
        logdir = w.get_logdir()
    assert re.fullmatch(r"runs/[A-Z][a-z]{2}\d\d_\d\d-\d\d-\d\d_" + re.escape(socket.gethostname())
                        + r"_lr0\.1", logdir.replace(os.sep, "/"))
    (name,) = os.listdir(logdir)
    assert name.startswith("events.out.tfevents.") and name.endswith(".v2")
    with SummaryWriter(tmp_path / "given", comment="ignored") as w:
        assert w.get_logdir() == str(tmp_path / "given")


def test_purge_step_and_reuse_after_close(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for s in range(5):
            w.add_scalar("x", float(s), s)
    w = SummaryWriter(tmp_path, purge_step=2)      # a restart from the checkpoint at step 2
    for s in range(2, 4):
        w.add_scalar("x", 10.0 + s, s)
    w.close()
    w.close()                                      # twice is fine
    w.add_scalar("x", 99.0, 4)                     # after close: a new event file
    w.flush()
    w.close()
    assert len(os.listdir(tmp_path)) == 3
    assert [(e.step, e.value) for e in _read(tmp_path).Scalars("x")] == \
        [(0, 0.0), (1, 1.0), (2, 12.0), (3, 13.0), (4, 99.0)]


def test_flush_writes_pending_events(tmp_path):
    w = SummaryWriter(tmp_path, max_queue=1000, flush_secs=3600)
    w.add_scalars("g", {"a": 1.0}, 0)
    w.add_scalar("x", 1.0, 0)
    w.flush()
    assert [e.value for e in _read(tmp_path).Scalars("x")] == [1.0]
    assert [e.value for e in _read(tmp_path / "g_a").Scalars("g")] == [1.0]
    w.close()


def test_without_tensorboard_the_writer_says_what_to_install():
    code = ("import sys; sys.modules['tensorboard'] = None\n"
            "from interop.utils.tensorboard import SummaryWriter\n"
            "try:\n    SummaryWriter('unused')\n"
            "except ModuleNotFoundError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "SummaryWriter needs the 'tensorboard' package" in out.stdout
    assert 'pip install "interop[tensorboard]"' in out.stdout
    assert not os.path.exists(os.path.join(ROOT, "unused"))


def test_without_pillow_images_say_what_to_install(tmp_path):
    code = ("import sys; sys.modules['PIL'] = None\n"
            "import interop as it\n"
            "from interop.utils.tensorboard import SummaryWriter\n"
            f"w = SummaryWriter({str(tmp_path)!r})\n"
            "w.add_scalar('x', 1.0, 0)\n"
            "try:\n    w.add_image('i', it.zeros((3, 2, 2)), 0)\n"
            "except ModuleNotFoundError as e:\n    print(e)\n"
            "w.close()\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "add_image('i') needs the 'Pillow' package" in out.stdout
    assert "pip install pillow" in out.stdout
    acc = _read(tmp_path)
    assert [e.value for e in acc.Scalars("x")] == [1.0] and acc.Tags()["images"] == []


def test_a_user_script_on_the_strict_backend(tmp_path):
    """What a user writes, with nothing from this file: tensors made under
    set_backend("strict") go through every add_* call and read back."""
    code = f"""
import interop as it
from interop.utils.tensorboard import SummaryWriter
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
it.set_backend("strict")
model = it.nn.Sequential(it.nn.Linear(3, 2), it.nn.Tanh())
x = it.rand(4, 1, 5, 5)
assert type(x._data).__module__.startswith("array_api_strict")
with SummaryWriter({str(tmp_path)!r}) as w:
    w.add_scalar("loss", model(it.ones(1, 3)).sum(), 1)
    w.add_scalars("g", {{"a": it.tensor(2.0)}}, 1)
    w.add_histogram("w", model[0].weight, 1)
    w.add_image("img", x[0], 1)
    w.add_images("batch", x, 1)
    w.add_text("t", "strict", 1)
    w.add_hparams({{"lr": it.tensor(0.5)}}, {{"m": it.tensor(1.0)}}, run_name="hp")
    w.add_graph(model, it.ones(2, 3))
acc = EventAccumulator({str(tmp_path)!r}, size_guidance={{"histograms": 0}}).Reload()
h = acc.Histograms("w")[0].histogram_value
assert h.num == 6 and sum(h.bucket) == 6, h
assert [(i.width, i.height) for i in acc.Images("batch")] == [(20, 5)]
assert any(n.name == "Sequential/Linear[0]/Linear" for n in acc.Graph().node)
print("ok", acc.Scalars("loss")[0].value)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok ")


def test_reached_as_an_attribute_of_interop_utils():
    assert it.utils.tensorboard.SummaryWriter is SummaryWriter
