"""RNN, LSTM, GRU, their cells and nn.utils.rnn against PyTorch: outputs, final states,
input and parameter gradients (twins loading PyTorch's weights) over layers, directions,
batch_first, initial states, unbatched and packed input, projections; second-order
gradients, default-init statistics, parameter names, reprs and the errors for bad input."""

import math

import numpy as np
import pytest

import interop as it
from interop import nn
from interop.nn.modules import rnn as impl
from interop.nn.utils import rnn as R
from helpers import to_np, jax_backend
from torch_compare import assert_same, check_function, check_module, load_twin, pair

torch = pytest.importorskip("torch")
TR = torch.nn.utils.rnn

# PyTorch's note that its oneDNN path has no LSTM projections
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")

I, H = 3, 4


def _rand(shape, dtype="float64", seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _twins(mode, dtype="float64", **kw):
    """(ours, theirs) of ``mode`` ('RNN', 'RNN_relu', 'LSTM', 'GRU'), input I, hidden H."""
    name = "RNN" if mode.startswith("RNN") else mode
    if mode == "RNN_relu":
        kw["nonlinearity"] = "relu"
    ours = getattr(nn, name)(I, H, dtype=getattr(it, dtype), **kw)
    theirs = getattr(torch.nn, name)(I, H, dtype=getattr(torch, dtype), **kw)
    return ours, theirs


def _initial(mode, kw, batch, dtype="float64", seed=5):
    """Random initial states of the right shape (a pair for LSTM)."""
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    h0 = _rand((layers, batch, kw.get("proj_size") or H), dtype, seed)
    if mode != "LSTM":
        return h0
    return h0, _rand((layers, batch, H), dtype, seed + 1)


MODES = ["RNN", "RNN_relu", "LSTM", "GRU"]
CONFIGS = [{}, {"num_layers": 2, "bidirectional": True}, {"batch_first": True},
           {"bias": False, "num_layers": 2}, {"bidirectional": True, "proj_size": 2}]


def _cases(modes, configs):
    """(mode, options) pairs; projections only for LSTM."""
    return [pytest.param(m, kw, id=f"{m}-{kw}") for m in modes for kw in configs
            if m == "LSTM" or "proj_size" not in kw]


# ------------------------------------------------------------------ padded and unbatched input

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode, kw", _cases(MODES, CONFIGS))
def test_recurrent_layer_matches_pytorch(be, mode, kw, dtype):
    ours, theirs = _twins(mode, dtype, **kw)
    x = _rand((5, 3, I), dtype)                 # (T, B, I), or (B, T, I) with batch_first
    batch = 5 if kw.get("batch_first") else 3
    check_module(ours, theirs, x)
    check_module(ours, theirs, x, _initial(mode, kw, batch, dtype))
    h0 = _initial(mode, kw, 1, dtype)               # unbatched: (T, I) and (L * D, H) states
    h0 = tuple(h[:, 0] for h in h0) if mode == "LSTM" else h0[:, 0]
    check_module(ours, theirs, x[:, 0], h0)
    check_module(ours, theirs, x[0])


@pytest.mark.parametrize("mode", MODES)
def test_empty_batch_and_single_step(be, mode):
    ours, theirs = _twins(mode, bidirectional=True)
    check_module(ours, theirs, _rand((4, 0, I)))
    check_module(ours, theirs, _rand((1, 2, I)))


@pytest.mark.parametrize("mode", MODES)
def test_dropout_between_layers(be, mode):
    """p=1 zeroes the second layer's input in training only (deterministic, so twin-checked);
    0 < p < 1 changes a training output and not an eval one."""
    ours, theirs = _twins(mode, num_layers=2, dropout=1.0)
    x = _rand((4, 2, I))
    check_module(ours, theirs, x, train=True)
    check_module(ours, theirs, x, train=False)
    ours, _ = _twins(mode, num_layers=3, dropout=0.5)
    xt = it.asarray(x)
    ours.eval()
    a, b = to_np(ours(xt)[0]), to_np(ours(xt)[0])
    np.testing.assert_array_equal(a, b)
    ours.train()
    assert not np.allclose(to_np(ours(xt)[0]), a)


def test_relu_rnn_kink_at_zero(be):
    """Pre-activations exactly 0: relu's gradient there is 0, as PyTorch's."""
    ours, theirs = _twins("RNN_relu", bias=False)
    with torch.no_grad():
        theirs.weight_hh_l0.zero_()
        theirs.weight_ih_l0.zero_()
        theirs.weight_ih_l0[:2] = 1.0
    x = _rand((3, 2, I))
    x[:, :, :] = 0.0
    x[1, 0, 0] = 1.0
    check_module(ours, theirs, x)


@pytest.mark.parametrize("mode", MODES)
def test_second_order_gradients_match_pytorch(be, mode):
    ours, theirs = _twins(mode, bidirectional=True)
    load_twin(ours, theirs)
    x = _rand((4, 2, I))
    grads = []
    for lib, m in ((it, ours), (torch, theirs)):
        xt = lib.asarray(x.copy()).requires_grad_()
        y = m(xt)[0]
        g, = lib.autograd.grad((y * y).sum(), xt, create_graph=True)
        (g * g).sum().backward()
        grads.append([xt.grad] + [p.grad for p in m.parameters()])
    for i, (o, t) in enumerate(zip(*grads)):
        assert_same(o, t, f"second-order gradient {i}")


@pytest.mark.parametrize("mode", MODES)
def test_retained_graph_backward_twice(be, mode):
    """The second backward through a retained graph gives the same gradients; a third,
    without retain_graph, is refused."""
    ours, _ = _twins(mode, bidirectional=True)
    x = it.asarray(_rand((4, 2, I))).requires_grad_()
    y = ours(x)[0].sum()
    y.backward(retain_graph=True)
    first = to_np(x.grad)
    x.grad = None
    y.backward()
    np.testing.assert_array_equal(to_np(x.grad), first)
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


# ------------------------------------------------------------------ the time-loop primitives
# Each layer and direction is one primitive (impl._lstm, _gru, _rnn) whose backward walks the
# steps on raw arrays (under create_graph: a recorded rerun). Every input and output, packed
# steps of falling sizes, both directions, against finite differences (float64), and to
# second order.

def _scan_inputs(mode, sizes, proj=0, bias=True, hidden=2):
    rows, batch = sum(sizes), sizes[0]
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1) * hidden
    shapes = [(rows, gates), (batch, proj or hidden)]
    if mode == "LSTM":
        shapes += [(batch, hidden), (gates, proj or hidden)] + ([(proj, hidden)] if proj else [])
    elif mode == "GRU":
        shapes += [(gates, hidden)] + ([(gates,)] if bias else [])
    else:
        shapes += [(gates, hidden)]
    return tuple(it.asarray(_rand(s, seed=k)).requires_grad_() for k, s in enumerate(shapes))


def _scan(mode, sizes, reverse):
    """The primitive of ``mode`` over packed steps of ``sizes``, as a function of tensors."""
    if mode == "LSTM":
        return lambda xw, h0, c0, w_hh, w_hr=None: impl._lstm(xw, h0, c0, w_hh, w_hr, sizes,
                                                                reverse)
    if mode == "GRU":
        return lambda xw, h0, w_hh, b_hh=None: impl._gru(xw, h0, w_hh, b_hh, sizes, reverse)
    return lambda xw, h0, w_hh: impl._rnn(xw, h0, w_hh, sizes, reverse, mode == "RNN_relu")


_SCANS = [("LSTM", {}), ("LSTM", {"proj": 1}), ("GRU", {}), ("GRU", {"bias": False}),
          ("RNN", {}), ("RNN_relu", {})]


@pytest.mark.parametrize("mode, opts", _SCANS)
@pytest.mark.parametrize("sizes", [[2, 2], [3, 2, 1]], ids=["padded", "packed"])
@pytest.mark.parametrize("reverse", [False, True])
def test_scan_primitive_gradcheck(be, mode, opts, sizes, reverse):
    assert it.autograd.gradcheck(_scan(mode, sizes, reverse), _scan_inputs(mode, sizes, **opts))


@pytest.mark.parametrize("mode, opts", _SCANS)
def test_scan_primitive_gradgradcheck(be, mode, opts):
    sizes = [2, 1]
    assert it.autograd.gradgradcheck(_scan(mode, sizes, True), _scan_inputs(mode, sizes, **opts))


@pytest.mark.parametrize("mode", MODES)
def test_scan_backward_runs_on_raw_arrays(be, mode, monkeypatch):
    """One node per layer and direction, whose ordinary backward gets the backend's
    namespace and arrays; a gradient that reaches only some outputs is zeros for the rest."""
    node_cls = {"LSTM": impl._LSTMScanBackward, "GRU": impl._GRUScanBackward}.get(
        mode, impl._RNNScanBackward)
    seen = []
    orig = node_cls.backward

    def spy(self, xp, g, s):
        seen.append((xp is be.ns, any(isinstance(t, it.Tensor) for t in list(g) + list(s))))
        return orig(self, xp, g, s)

    monkeypatch.setattr(node_cls, "backward", spy)
    ours, theirs = _twins(mode)
    load_twin(ours, theirs)
    x = _rand((3, 2, I))
    grads = []
    for lib, m in ((it, ours), (torch, theirs)):
        xt = lib.asarray(x.copy()).requires_grad_()
        out = m(xt)
        (out[1][0] if mode == "LSTM" else out[1]).sum().backward()      # h_n only
        grads.append(xt.grad)
    assert seen == [(True, False)]
    assert_same(*grads, "input gradient through h_n only")


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_scan_backward_on_an_immutable_backend(mode):
    """The raw-array backward writes the gates' derivative in place where it can; on JAX's
    immutable arrays it joins them instead, with the same gradients as PyTorch."""
    ours, theirs = _twins(mode, dtype="float32", bidirectional=True,
                          **({"proj_size": 2} if mode == "LSTM" else {}))
    x_np = _rand((4, 2, I), "float32")
    tx = torch.from_numpy(x_np.copy()).requires_grad_()
    (theirs(tx)[0] ** 2).sum().backward()
    with jax_backend():
        m = getattr(nn, mode)(I, H, bidirectional=True,
                              **({"proj_size": 2} if mode == "LSTM" else {}))
        with it.no_grad():
            for name, p in m.named_parameters():
                p.copy_(it.tensor(getattr(theirs, name).detach().numpy().tolist()))
        x = it.tensor(x_np.tolist()).requires_grad_()
        (m(x)[0] ** 2).sum().backward()
        np.testing.assert_allclose(to_np(x.grad), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
        for name, p in m.named_parameters():
            np.testing.assert_allclose(to_np(p.grad), getattr(theirs, name).grad.numpy(),
                                       rtol=1e-4, atol=1e-5, err_msg=name)


# ------------------------------------------------------------------ whole layers, float64 gradcheck
# The module as a function of its input, initial states and every parameter (swapped in for
# the call), against finite differences: both directions, layers, batch_first, the initial
# states given (so their gradients come out) or left to zeros (so the first step skips them).

_GRADCHECK_CASES = [({}, False), ({"bidirectional": True}, False),
                    ({"num_layers": 2, "bidirectional": True, "dropout": 0.0}, False),
                    ({"num_layers": 2, "bidirectional": True, "dropout": 0.0}, True),
                    ({"batch_first": True, "num_layers": 2}, True)]


def _as_function(m, with_state):
    names = [n for n, _ in m.named_parameters()]
    lstm = isinstance(m, nn.LSTM)

    def f(x, *rest):
        states, params = (rest[:2], rest[2:]) if lstm else (rest[:1], rest[1:])
        if not with_state:
            states, params = (), rest
        saved = dict(m._parameters)
        try:
            m._parameters.update(zip(names, params))
            out, h = m(x, (tuple(states) if lstm else states[0]) if with_state else None)
        finally:
            m._parameters.update(saved)
        return (out,) + (tuple(h) if lstm else (h,))
    return f, [p.detach().clone().requires_grad_() for p in m.parameters()]


@pytest.mark.parametrize("kw, with_state", [
    pytest.param(kw, st, id=f"{kw}-{'given' if st else 'zero'}-state") for kw, st in _GRADCHECK_CASES])
@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_layer_gradcheck_float64(be, mode, kw, with_state):
    m = getattr(nn, mode)(2, 2, dtype=it.float64, **kw)
    f, params = _as_function(m, with_state)
    x = it.asarray(_rand((3, 2, 2), seed=1)).requires_grad_()     # (T, B, I) or (B, T, I)
    states = ()
    if with_state:
        layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
        batch = 3 if kw.get("batch_first") else 2
        states = tuple(it.asarray(_rand((layers, batch, 2), seed=s)).requires_grad_()
                       for s in ((2, 3) if mode == "LSTM" else (2,)))
    assert it.autograd.gradcheck(f, (x, *states, *params))


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_benchmark_shape_matches_pytorch_float32(be, mode):
    """The issue's workload (2 layers, hidden 200, (35, 32, 200)) in float32: output, final
    states and every gradient within PyTorch's float32 tolerance of PyTorch's."""
    ours = getattr(nn, mode)(200, 200, 2)
    theirs = getattr(torch.nn, mode)(200, 200, 2)
    check_module(ours, theirs, _rand((35, 32, 200), "float32", seed=3))


# ------------------------------------------------------------------ packed sequences

def _packed_run(m, pack, lengths, batch_first, enforce_sorted):
    def run(x, *h):
        p = pack.pack_padded_sequence(x, lengths, batch_first=batch_first,
                                      enforce_sorted=enforce_sorted)
        out, state = m(p, *h)
        padded, lens = pack.pad_packed_sequence(out, batch_first=batch_first)
        return padded, lens, state
    return run


@pytest.mark.parametrize("mode, kw", _cases(MODES, [
    {"num_layers": 2, "bidirectional": True}, {"batch_first": True},
    {"bidirectional": True, "proj_size": 2}]))
@pytest.mark.parametrize("lengths", [[5, 3, 3, 1], [2, 5, 1, 3]], ids=["sorted", "unsorted"])
def test_packed_sequence_matches_pytorch(be, mode, kw, lengths):
    ours, theirs = _twins(mode, **kw)
    load_twin(ours, theirs)
    bf = kw.get("batch_first", False)
    x = _rand((4, 5, I) if bf else (5, 4, I))
    sorted_ = lengths == sorted(lengths, reverse=True)
    args = (lengths, bf, sorted_)
    check_function(_packed_run(ours, R, *args), _packed_run(theirs, TR, *args), x)
    check_function(_packed_run(ours, R, *args), _packed_run(theirs, TR, *args), x,
                   _initial(mode, kw, 4))
    # parameter gradients of the packed run
    ours.zero_grad()
    theirs.zero_grad()
    for m, lib, pack in ((ours, it, R), (theirs, torch, TR)):
        out = _packed_run(m, pack, *args)(lib.asarray(x.copy()))[0]
        (out * lib.asarray(_rand(tuple(out.shape), seed=9))).sum().backward()
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert_same(p.grad, q.grad, f"gradient of {name}")


def test_packed_output_keeps_indices(be):
    ours = nn.GRU(I, H)
    p = R.pack_sequence([it.asarray(_rand((n, I), "float32", n)) for n in (2, 4, 1)],
                       enforce_sorted=False)
    out, h = ours(p)
    assert isinstance(out, R.PackedSequence)
    assert out.batch_sizes is p.batch_sizes and out.sorted_indices is p.sorted_indices
    assert out.data.shape == (7, H) and h.shape == (1, 3, H)


# ------------------------------------------------------------------ cells

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("cell", ["RNNCell", "RNNCell_relu", "LSTMCell", "GRUCell"])
def test_cell_matches_pytorch(be, cell, bias, dtype):
    name, _, act = cell.partition("_")
    kw = {"nonlinearity": act} if act else {}
    ours = getattr(nn, name)(I, H, bias=bias, dtype=getattr(it, dtype), **kw)
    theirs = getattr(torch.nn, name)(I, H, bias=bias, dtype=getattr(torch, dtype), **kw)
    x = _rand((3, I), dtype)
    h = _rand((3, H), dtype, 1)
    hx = (h, _rand((3, H), dtype, 2)) if name == "LSTMCell" else h
    check_module(ours, theirs, x)
    check_module(ours, theirs, x, hx)
    check_module(ours, theirs, x[0], tuple(s[0] for s in hx) if name == "LSTMCell" else h[0])
    check_module(ours, theirs, _rand((0, I), dtype))


# ------------------------------------------------------------------ parameters, init, repr

@pytest.mark.parametrize("mode, kw", _cases(["RNN", "LSTM", "GRU"],
                                            CONFIGS + [{"num_layers": 3, "dropout": 0.5}]))
def test_parameter_names_shapes_and_repr(be, mode, kw):
    ours, theirs = _twins(mode, **kw)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert repr(ours) == repr(theirs)
    assert ours._flat_weights_names == theirs._flat_weights_names
    assert [[tuple(p.shape) for p in g] for g in ours.all_weights] == \
        [[tuple(p.shape) for p in g] for g in theirs.all_weights]
    ours.flatten_parameters()


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.RNNCell(3, 4, nonlinearity="relu"), lambda lib: lib.nn.LSTMCell(3, 4),
    lambda lib: lib.nn.GRUCell(3, 4, bias=False), lambda lib: lib.nn.RNNCell(3, 4)])
def test_cell_repr_and_names(be, make):
    ours, theirs = make(it), make(torch)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("make", [lambda lib: lib.nn.LSTM(64, 256, proj_size=32),
                                  lambda lib: lib.nn.GRUCell(64, 256)])
def test_default_init_statistics(be, make):
    """Every parameter U(-1/sqrt(hidden), 1/sqrt(hidden)), as PyTorch's."""
    ours, theirs = make(it), make(torch)
    bound = 1 / math.sqrt(256)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        a, b = to_np(p), q.detach().numpy()
        assert a.dtype == np.float32 and a.shape == b.shape, name
        assert -bound <= a.min() and a.max() <= bound, name
        if a.size > 10000:
            assert abs(a.mean()) < 0.02 * bound, name
            assert abs(a.std() - b.std()) < 0.02 * b.std(), name


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("make, match", [
    (lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), "nonlinearity"),
    (lambda: nn.LSTM(3, 4, dropout=1.5), "dropout"),
    (lambda: nn.GRU(3, 0), "hidden_size"),
    (lambda: nn.GRU(3, 4.0), "hidden_size"),
    (lambda: nn.LSTM(3, 4, num_layers=0), "num_layers"),
    (lambda: nn.LSTM(3, 4, proj_size=4), "proj_size"),
    (lambda: nn.LSTM(3, 4, proj_size=-1), "proj_size"),
    (lambda: nn.RNNCell(3, 4, nonlinearity="gelu"), "nonlinearity"),
])
def test_constructor_errors(be, make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_dropout_with_one_layer_warns(be):
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.2)


@pytest.mark.parametrize("call, err, match", [
    (lambda m: m(it.zeros((2, 2, 2, 3))), it.ShapeError, "2-D or 3-D"),
    (lambda m: m(it.zeros((0, 2, 3))), it.ShapeError, "sequence length"),
    (lambda m: m(it.zeros((2, 2, 5))), it.ShapeError, "input_size. Expected 3, got 5"),
    (lambda m: m(it.zeros((2, 2, 3), dtype=it.float64)), it.DTypeError, "float64"),
    (lambda m: m(it.zeros((2, 2, 3)), it.zeros((1, 2, 4))), TypeError, r"\(h_0, c_0\)"),
    (lambda m: m(it.zeros((2, 2, 3)), (it.zeros((1, 3, 4)), it.zeros((1, 2, 4)))),
     it.ShapeError, r"hx\[0\] of size \(1, 2, 4\), got \(1, 3, 4\)"),
    (lambda m: m(it.zeros((2, 2, 3)), (it.zeros((1, 2, 4)), it.zeros((1, 2, 5)))),
     it.ShapeError, r"hx\[1\]"),
    (lambda m: m(it.zeros((2, 3)), (it.zeros((1, 2, 4)), it.zeros((1, 2, 4)))),
     it.ShapeError, "unbatched 2-D input"),
    (lambda m: m(it.zeros((2, 2, 3)), (it.zeros((2, 4)), it.zeros((2, 4)))),
     it.ShapeError, "batched 3-D input"),
])
def test_forward_errors(be, call, err, match):
    with pytest.raises(err, match=match):
        call(nn.LSTM(3, 4))


@pytest.mark.parametrize("call, err, match", [
    (lambda m: m(it.zeros((2, 2, 3))), it.ShapeError, "1-D or 2-D"),
    (lambda m: m(it.zeros((2, 5))), it.ShapeError, "input_size: got 5, expected 3"),
    (lambda m: m(it.zeros((2, 3)), it.zeros((3, 4))), it.ShapeError, r"\(2, 4\)"),
    (lambda m: m(it.zeros((2, 3)), it.zeros((2, 5))), it.ShapeError, "hx"),
    (lambda m: m(it.zeros((2, 3), dtype=it.float64)), it.DTypeError, "float64"),
])
def test_cell_forward_errors(be, call, err, match):
    with pytest.raises(err, match=match):
        call(nn.GRUCell(3, 4))


# ------------------------------------------------------------------ nn.utils.rnn

@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence_matches_pytorch(be, batch_first, side):
    seqs = [_rand((n, 2), seed=n) for n in (2, 4, 1)]
    check_function(lambda *s: R.pad_sequence(list(s), batch_first, -1.5, side),
                   lambda *s: TR.pad_sequence(list(s), batch_first, -1.5, side), *seqs)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths", [[5, 3, 3, 1], [1, 5, 3, 3], [2, 2, 2, 2]])
def test_pack_and_pad_roundtrip_matches_pytorch(be, lengths, batch_first):
    x = _rand((4, 5, 2) if batch_first else (5, 4, 2))
    sorted_ = lengths == sorted(lengths, reverse=True)
    for enforce in ([True, False] if sorted_ else [False]):
        def run(pack):
            def f(x):
                p = pack.pack_padded_sequence(x, lengths, batch_first=batch_first,
                                              enforce_sorted=enforce)
                return (p.data, p.batch_sizes, p.sorted_indices, p.unsorted_indices,
                        pack.pad_packed_sequence(p, batch_first, 0.5, total_length=7))
            return f
        if len(set(lengths)) < len(lengths) and not enforce:
            # ties: PyTorch's sort order among equal lengths is its own; compare the padding
            check_function(lambda x: run(R)(x)[4], lambda x: run(TR)(x)[4], x)
        else:
            check_function(run(R), run(TR), x)


def test_pack_sequence_unpack_and_unpad(be):
    seqs = [_rand((n, 3), seed=n) for n in (2, 4, 1)]

    def run(pack):
        def f(*s):
            p = pack.pack_sequence(list(s), enforce_sorted=False)
            padded, lengths = pack.pad_packed_sequence(p)
            return (p.data, tuple(pack.unpack_sequence(p)),
                    tuple(pack.unpad_sequence(padded, lengths)))
        return f
    check_function(run(R), run(TR), *seqs)


def test_packed_sequence_is_a_named_tuple(be):
    data, sizes = it.asarray(_rand((3, 2))), it.asarray(np.array([2, 1]))
    p = R.PackedSequence(data, sizes)
    assert p._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    assert p.sorted_indices is None and p.unsorted_indices is None
    q = R.PackedSequence(data, sizes, it.asarray(np.array([1, 0])))
    assert to_np(q.unsorted_indices).tolist() == [1, 0]
    f = q.float()
    assert f.data.dtype == it.float32 and f.batch_sizes is sizes
    assert f.to(it.float64).data.dtype == it.float64
    data, sizes_ = R.PackedSequence((data, sizes))[:2]
    assert sizes_ is sizes


@pytest.mark.parametrize("call, err, match", [
    (lambda x: R.pack_padded_sequence(x, [2, 3, 1]), RuntimeError, "enforce_sorted"),
    (lambda x: R.pack_padded_sequence(x, [3, 2]), it.ShapeError, "batch_size"),
    (lambda x: R.pack_padded_sequence(x, [3, 2, 0]), ValueError, "greater than 0"),
    (lambda x: R.pack_padded_sequence(x, [5, 2, 1]), ValueError, "exceeds"),
    (lambda x: R.pack_padded_sequence(x, [3.0, 2, 1]), TypeError, "ints"),
    (lambda x: R.pad_packed_sequence(R.pack_padded_sequence(x, [3, 2, 1]), total_length=2),
     ValueError, "total_length"),
    (lambda x: R.pad_sequence([]), ValueError, "empty"),
    (lambda x: R.pad_sequence([x[0], x[0, :, :1]]), it.ShapeError, "position 1"),
    (lambda x: R.pad_sequence([x[0]], padding_side="up"), ValueError, "padding_side"),
])
def test_utility_errors(be, call, err, match):
    with pytest.raises(err, match=match):
        call(it.asarray(_rand((3, 3, 2))))


def test_packing_gradient_reaches_only_packed_rows(be):
    """A packed input's data gradient reaches the padded input at the right rows only."""
    xo, xt = pair(_rand((3, 2, 2)))
    po = R.pack_padded_sequence(xo, [3, 1])
    pt = TR.pack_padded_sequence(xt, [3, 1])
    (po.data * 2).sum().backward()
    (pt.data * 2).sum().backward()
    assert_same(xo.grad, xt.grad, "gradient through packing")
