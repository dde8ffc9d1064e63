"""The nn catalogue as a whole: every layer, activation and loss the issue lists exists under
PyTorch's name, each class ran in a twin comparison against PyTorch somewhere in tests/, and
every layer with parameters initialises them with PyTorch's default distributions (same
shapes, names, bounds, mean and spread)."""

import ast
import math
import pathlib

import numpy as np
import pytest

import interop as it
from interop import nn
from torch_compare import TWIN_TESTED, np_of
from helpers import to_np

torch = pytest.importorskip("torch")

REQUIRED = """
Identity Linear Bilinear LazyLinear Flatten Unflatten Conv1d Conv2d Conv3d ConvTranspose1d
ConvTranspose2d MaxPool1d MaxPool2d AvgPool1d AvgPool2d AdaptiveAvgPool1d AdaptiveAvgPool2d
AdaptiveMaxPool1d AdaptiveMaxPool2d Upsample PixelShuffle ZeroPad2d ConstantPad1d ReflectionPad2d
ReplicationPad2d CircularPad2d BatchNorm1d BatchNorm2d BatchNorm3d LayerNorm GroupNorm
InstanceNorm1d InstanceNorm2d RMSNorm LocalResponseNorm Dropout Dropout1d Dropout2d AlphaDropout
Embedding EmbeddingBag RNN LSTM GRU RNNCell LSTMCell GRUCell MultiheadAttention
TransformerEncoderLayer TransformerDecoderLayer TransformerEncoder TransformerDecoder Transformer
ReLU ReLU6 LeakyReLU PReLU RReLU ELU SELU CELU GELU SiLU Mish Sigmoid Tanh Hardtanh Hardsigmoid
Hardswish LogSigmoid Softplus Softsign Softshrink Hardshrink Tanhshrink Threshold GLU Softmax
LogSoftmax Softmin Softmax2d L1Loss MSELoss CrossEntropyLoss NLLLoss BCELoss BCEWithLogitsLoss
KLDivLoss HuberLoss SmoothL1Loss SoftMarginLoss MultiLabelSoftMarginLoss MultiLabelMarginLoss
MultiMarginLoss MarginRankingLoss HingeEmbeddingLoss CosineEmbeddingLoss TripletMarginLoss
TripletMarginWithDistanceLoss PoissonNLLLoss GaussianNLLLoss CTCLoss PairwiseDistance
CosineSimilarity Sequential ModuleList ModuleDict ParameterList ParameterDict
""".split()

TESTS = pathlib.Path(__file__).parent


def _our_modules():
    return sorted(n for n in dir(nn) if isinstance(getattr(nn, n), type)
                  and issubclass(getattr(nn, n), nn.Module))


def test_every_required_layer_exists_under_pytorchs_name():
    missing = [n for n in REQUIRED if not hasattr(nn, n)]
    assert not missing, f"missing from interop.nn: {missing}"
    for n in REQUIRED:
        assert hasattr(torch.nn, n), n


# Classes no twin test runs, each with the reason.
NOT_TWIN_TESTED = {
    "Module": "the base class: every twin runs its machinery (hooks, state_dict, train/eval)",
    "RNNBase": "a base class PyTorch gives no forward (torch.nn.RNNBase cannot be called): "
               "its parameters and layer walk are twin-tested through RNN, LSTM and GRU",
    "RNNCellBase": "a base class with no forward (in PyTorch too): its parameters are "
                   "twin-tested through RNNCell, LSTMCell and GRUCell",
}

_TWIN_ENTRY_POINTS = {"check_module", "check_function", "compare"}


def _twin_test_files():
    """The test files that run twin comparisons (they import one of the harness's entry
    points), read from their source."""
    files = []
    for path in sorted(TESTS.glob("test_*.py")):
        text = path.read_text()
        if "torch_compare" not in text:
            continue
        for node in ast.walk(ast.parse(text)):
            if (isinstance(node, ast.ImportFrom) and node.module == "torch_compare"
                    and _TWIN_ENTRY_POINTS & {a.name for a in node.names}):
                files.append(path)
                break
    return files


@pytest.mark.run_last
def test_every_module_class_is_twin_tested(selection):
    """Each class of interop.nn ran in a twin comparison against PyTorch that passed: the
    harness records every interop Module class called inside check_module, check_function
    and compare (torch_compare.TWIN_TESTED). This test runs after all others, and only when
    every test of every twin-test file is selected: under -k, -m, --deselect, --lf or a
    node id the twin tests that would have recorded a class may not have run, so it skips
    rather than fail; likewise when no selected backend is usable here (``--backend cuda``
    without a GPU). Under -x a failure stops the session before it."""
    files = _twin_test_files()
    assert len(files) >= 10, f"found only these twin-test files: {files}"
    if not selection.complete(files):
        pytest.skip("runs only when every twin test runs: "
                    + ("tests were deselected" if selection.deselected else
                       "tests were selected by node id" if selection.by_node_id else
                       "not selected: " + ", ".join(f.name for f in files
                                                    if str(f) not in selection.files)))
    if not selection.backends_run:
        pytest.skip("no backend selected by --backend is usable here: the twin tests skipped")
    for name, reason in NOT_TWIN_TESTED.items():
        assert hasattr(nn, name) and reason, name
    untested = [name for name in _our_modules()
                if getattr(nn, name) not in TWIN_TESTED and name not in NOT_TWIN_TESTED]
    assert not untested, (f"no twin comparison (check_module, check_function or compare in "
                          f"tests/) called these interop.nn classes, or the ones that did "
                          f"failed: {untested}")


def test_every_functional_matches_a_pytorch_name():
    ours = [n for n in dir(nn.functional) if not n.startswith("_")
            and callable(getattr(nn.functional, n))]
    foreign = [n for n in ours if not hasattr(torch.nn.functional, n)]
    assert not foreign, f"interop.nn.functional names PyTorch does not have: {foreign}"


# Layers with parameters, built the same way on both sides, large enough for statistics.
INIT = {
    "Linear": (256, 128),
    "Bilinear": (64, 32, 16),
    "Conv1d": (16, 32, 5),
    "Conv2d": (16, 32, 3),
    "Conv3d": (8, 16, 3),
    "ConvTranspose1d": (16, 32, 5),
    "ConvTranspose2d": (16, 32, 3),
    "Embedding": (300, 64),
    "EmbeddingBag": (300, 64),
    "BatchNorm2d": (64,),
    "LayerNorm": (64,),
    "GroupNorm": (4, 64),
    "RMSNorm": (64,),
    "PReLU": (64,),
    "RNN": (32, 64),
    "LSTM": (32, 64),
    "GRU": (32, 64),
    "RNNCell": (32, 64),
    "LSTMCell": (32, 64),
    "GRUCell": (32, 64),
    "MultiheadAttention": (64, 4),
    "TransformerEncoderLayer": (64, 4, 128),
}


def _stats(a):
    a = np.asarray(a, dtype=np.float64).ravel()
    return a.min(), a.max(), a.mean(), a.std()


@pytest.mark.parametrize("name", sorted(INIT))
def test_default_init_matches_pytorch(be, name):
    args = INIT[name]
    samples_o, samples_t = {}, {}
    for seed in range(3):
        it.manual_seed(seed)
        torch.manual_seed(seed)
        ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
        p_o = dict(ours.named_parameters())
        p_t = dict(theirs.named_parameters())
        assert list(p_o) == list(p_t), name
        for k, t in p_t.items():
            assert tuple(p_o[k].shape) == tuple(t.shape), k
            samples_o.setdefault(k, []).append(to_np(p_o[k]))
            samples_t.setdefault(k, []).append(np_of(t))
    for k in samples_t:
        lo_o, hi_o, mean_o, std_o = _stats(samples_o[k])
        lo_t, hi_t, mean_t, std_t = _stats(samples_t[k])
        n = sum(a.size for a in samples_t[k])
        if std_t == 0:                       # constant init (ones, zeros)
            assert (lo_o, hi_o) == (lo_t, hi_t), (name, k)
            continue
        assert abs(std_o - std_t) <= 0.1 * std_t, (name, k, std_o, std_t)
        assert abs(mean_o - mean_t) <= 5 * std_t / math.sqrt(n) + 1e-12, (name, k, mean_o,
                                                                          mean_t)
        if n >= 2000 and abs(hi_t + lo_t) < 0.05 * (hi_t - lo_t) and abs(hi_t) < 4 * std_t:
            # a bounded symmetric (uniform) init, sampled densely enough: the same bound
            assert abs(hi_o - hi_t) <= 0.05 * hi_t and abs(lo_o - lo_t) <= 0.05 * abs(lo_t), \
                (name, k, (lo_o, hi_o), (lo_t, hi_t))
