"""The LSTM's time-loop kernels (``lstm_scan``, ``lstm_scan_backward``): the cpu backend's
compiled float32 steps (interop/backends/_jit_rnn.py) against the standard-only reference on
every run, over padded and packed steps, both directions, projections and what the caller
asks for; the compiled sigmoid and tanh against float64 at the edges (NaN, +-inf, -0.0,
tiny and huge magnitudes); the layer on the compiled path against PyTorch in float32 (packed,
bidirectional, projected, NaN, inf and saturating inputs) and against the differentiated
tensor-op scan; the kernels' argument checks. The float64 gradchecks and gradgradchecks of the
primitive (which runs the reference in float64) are in test_nn_rnn.py."""

import numpy as np
import pytest

import interop as it
from interop import nn
from interop.backends import _jit, _jit_rnn
from interop.nn.modules import rnn as impl
from interop.nn.utils import rnn as R

from helpers import compiled_and_reference, to_np
from torch_compare import assert_same, check_function, check_module, load_twin

torch = pytest.importorskip("torch")

pytestmark = [pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning"),
              pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")]
needs_numba = pytest.mark.skipif(not _jit.available(), reason="numba is not installed "
                                 "(pip install 'interop[jit]'): no compiled path to compare")
F32 = np.float32
INF, NAN = float("inf"), float("nan")
# NaN, the infinities, signed zeros, tiny magnitudes, tanh's switch from its polynomial
# (0.375), exp's overflow and underflow thresholds (+-87.3, 88.4) and far beyond
EDGES = [NAN, INF, -INF, 0.0, -0.0, 1e-30, -1e-30, 1e-7, -1e-7, 1e-3, -1e-3, 0.1, -0.1,
         0.3749, -0.3749, 0.375, -0.375, 0.38, -0.38, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0, 9.0,
         -9.0, 20.0, -20.0, 43.0, -43.0, 44.5, -44.5, 87.0, -87.0, 87.5, -87.5, 88.5, -88.5,
         89.0, -89.0, 1e4, -1e4, 3e38, -3e38]


def _rand(shape, seed=0, scale=1.0, low=None, high=None):
    g = np.random.default_rng(seed)
    if low is not None:
        return g.uniform(low, high, shape).astype(F32)
    return (g.standard_normal(shape) * scale).astype(F32)


def _ns():
    return it.get_backend("cpu").ns


def _spy(monkeypatch):
    """Count the calls of the compiled scans (so a test knows the compiled path ran)."""
    calls = []
    for name in ("lstm_scan", "lstm_scan_grad"):
        fn = getattr(_jit_rnn, name)

        def spy(*args, fn=fn, name=name):
            calls.append(name)
            return fn(*args)
        monkeypatch.setattr(_jit_rnn, name, spy)
    return calls


def _assert_close(got, ref, what, rtol=2e-5, atol=2e-6):
    """float32 results of the two paths: the same NaN and infinities, values to a few ulps of
    each result's scale."""
    for i, (a, b) in enumerate(zip(got, ref)):
        if b is None:
            assert a is None, f"{what}, result {i}: expected None"
            continue
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype == F32, (what, i, a.shape, b.shape)
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"{what}, result {i}")
        np.testing.assert_array_equal(np.isinf(a) & (a > 0), np.isinf(b) & (b > 0))
        np.testing.assert_array_equal(np.isinf(a) & (a < 0), np.isinf(b) & (b < 0))
        fin = np.isfinite(b)
        scale = max(1.0, float(np.abs(b[fin]).max())) if fin.any() else 1.0
        np.testing.assert_allclose(a[fin], b[fin], rtol=rtol, atol=atol * scale,
                                   err_msg=f"{what}, result {i}")


def _scan_args(sizes, proj, hidden=5, seed=0, xw=None):
    """lstm_scan's arguments for packed steps of ``sizes`` (the batch is sizes[0])."""
    rows, batch = sum(sizes), sizes[0]
    out = proj or hidden
    xw = _rand((rows, 4 * hidden), seed, 2.0) if xw is None else xw
    return (xw, _rand((batch, out), seed + 1), _rand((batch, hidden), seed + 2),
            _rand((4 * hidden, out), seed + 3, 0.5),
            _rand((proj, hidden), seed + 4, 0.5) if proj else None)


_STEPS = [pytest.param((4, 4, 4), id="padded"), pytest.param((4, 3, 3, 1), id="packed"),
          pytest.param((3,), id="one-step"), pytest.param((0, 0), id="empty-batch")]


# ------------------------------------------------------------ compiled vs the reference

@needs_numba
@pytest.mark.parametrize("sizes", _STEPS)
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("proj", [0, 2], ids=["plain", "projected"])
def test_scan_compiled_matches_reference(monkeypatch, sizes, reverse, proj):
    ns = _ns()
    calls = _spy(monkeypatch)
    args = _scan_args(sizes, proj)
    for keep in (False, True):
        got, ref = compiled_and_reference(lambda: ns.lstm_scan(*args, sizes, reverse, keep))
        assert len(got) == (8 if keep else 3)
        _assert_close(got, ref, f"lstm_scan keep={keep}")
    assert calls == ["lstm_scan", "lstm_scan"]
    _, _, _, acts, c_prev, tc, _, m = ref
    rows, batch = sum(sizes), sizes[0]
    g = (_rand((rows, proj or 5), 7), _rand((batch, proj or 5), 8), _rand((batch, 5), 9))
    for need_h0, need_c0 in ((True, True), (False, False), (True, False)):
        got, ref = compiled_and_reference(lambda: ns.lstm_scan_backward(
            *g, acts, c_prev, tc, m, args[3], args[4], sizes, reverse, need_h0, need_c0))
        _assert_close(got, ref, f"lstm_scan_backward need_h0={need_h0} need_c0={need_c0}")
    assert calls.count("lstm_scan_grad") == 3


@needs_numba
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_scan_compiled_matches_reference_at_the_edges(reverse):
    """Every edge value as a gate pre-activation of every gate (the recurrent weights are 0,
    so each value reaches its gate as given); the state's NaN and infinities spread alike."""
    ns = _ns()
    e = np.array(EDGES, F32)
    hidden, sizes = len(EDGES), (2, 2, 1)
    xw = np.stack([np.roll(np.tile(e, 4), k) for k in range(5)])     # (5, 4H): shifted rows
    xw[1] *= -1
    xw[3] = _rand(4 * hidden, 3, 3.0)          # (one finite step between)
    _, h0, c0, _, _ = _scan_args(sizes, 0, hidden, xw=xw)
    w = np.zeros((4 * hidden, hidden), F32)
    got, ref = compiled_and_reference(lambda: ns.lstm_scan(xw, h0, c0, w, None, sizes, reverse,
                                                           True))
    _assert_close(got, ref, "lstm_scan at the edges")
    _, _, _, acts, c_prev, tc, _, _ = ref
    g = (_rand((5, hidden), 7), _rand((2, hidden), 8), _rand((2, hidden), 9))
    got, ref = compiled_and_reference(lambda: ns.lstm_scan_backward(
        *g, acts, c_prev, tc, None, w, None, sizes, reverse, True, True))
    _assert_close(got, ref, "lstm_scan_backward at the edges")
    # large finite magnitudes everywhere, through real recurrent weights
    args = _scan_args((3, 3, 3), 0, seed=4)
    xw, w = args[0] * F32(1e3), args[3] * F32(50.0)
    got, ref = compiled_and_reference(lambda: ns.lstm_scan(xw, *args[1:3], w, None, (3, 3, 3),
                                                           reverse, True))
    _assert_close(got, ref, "lstm_scan, saturated gates")


def _ulps(got, want):
    """|got - want| in float32 ulps of want (want in float64; subnormal results count in
    units of the smallest normal)."""
    want32 = want.astype(F32)
    unit = np.maximum(np.spacing(np.abs(want32)), np.finfo(F32).tiny)
    return np.abs(got.astype(np.float64) - want) / unit


@needs_numba
def test_compiled_sigmoid_and_tanh_against_float64():
    """The compiled gate activations and tanh of the cell state within 4 ulps of float64's
    (NaN for NaN, the limits at +-inf, tanh(-0.0) = -0.0)."""
    sweep = np.concatenate([np.geomspace(1e-9, 100, 3001), np.linspace(0, 1, 1001)])
    v = np.concatenate([sweep, -sweep, np.array(EDGES)]).astype(F32)
    n, hidden = 1, v.size
    xw = np.tile(v, 4)[None, :]             # every value into i, f, g and o
    c = v[None, :].copy()
    acts, c_prev, tc, m = (np.empty((n, 4 * hidden), F32), np.empty((n, hidden), F32),
                           np.empty((n, hidden), F32), np.empty((n, hidden), F32))
    prev = _jit.set_enabled(True)
    try:
        _jit_rnn.lstm_cell(xw, np.full_like(xw, -0.0), c, acts, c_prev, tc, m)   # (x + -0 is x)
        # tanh of given cell states: f = 1 and i = 0 exactly keep c as it was
        c2, gates = v[None, :].copy(), np.zeros((n, 4 * hidden), F32)
        gates[:, :hidden], gates[:, hidden:2 * hidden] = -200.0, 200.0
        tc2 = np.empty((n, hidden), F32)
        _jit_rnn.lstm_cell(gates, np.zeros_like(gates), c2, np.empty_like(acts), c_prev, tc2, m)
    finally:
        _jit.set_enabled(prev)
    np.testing.assert_array_equal(c2, v[None, :])
    x = v.astype(np.float64)
    with np.errstate(over="ignore"):
        sig, th = 1 / (1 + np.exp(-x)), np.tanh(x)
    for name, got, want in (("sigmoid (i)", acts[0, :hidden], sig),
                            ("sigmoid (o)", acts[0, 3 * hidden:], sig),
                            ("tanh (g)", acts[0, 2 * hidden:3 * hidden], th),
                            ("tanh (c)", tc2[0], th)):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=name)
        ok = ~np.isnan(want)
        err = _ulps(got[ok], want[ok])
        assert err.max() <= 4, (name, float(err.max()), v[ok][err.argmax()])
    neg_zero = (v == 0) & np.signbit(v)
    assert neg_zero.any() and np.signbit(acts[0, 2 * hidden:3 * hidden][neg_zero]).all()


# ------------------------------------------------------------ the layer on the compiled path

@pytest.mark.parametrize("kw", [{}, {"num_layers": 2, "bidirectional": True},
                                {"bidirectional": True, "proj_size": 3}],
                         ids=["one-layer", "two-layers-bidirectional", "projected"])
@pytest.mark.parametrize("lengths", [[6, 4, 4, 1], [2, 6, 1, 4]], ids=["sorted", "unsorted"])
def test_packed_float32_matches_pytorch(be, kw, lengths):
    """Packed float32 sequences, initial states given: outputs, final states and every
    gradient (input, states, parameters) within PyTorch's float32 tolerance (on the cpu
    backend, the compiled path)."""
    ours, theirs = nn.LSTM(3, 5, **kw), torch.nn.LSTM(3, 5, **kw)
    load_twin(ours, theirs)
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    sorted_ = lengths == sorted(lengths, reverse=True)

    def run(m, pack):
        def f(x, h0, c0):
            p = pack.pack_padded_sequence(x, lengths, enforce_sorted=sorted_)
            out, (h, c) = m(p, (h0, c0))
            return pack.pad_packed_sequence(out)[0], h, c
        return f
    x = _rand((6, 4, 3), 1)
    states = (_rand((layers, 4, kw.get("proj_size") or 5), 2), _rand((layers, 4, 5), 3))
    check_function(run(ours, R), run(theirs, torch.nn.utils.rnn), x, *states)
    ours.zero_grad()
    theirs.zero_grad()
    for m, lib, pack in ((ours, it, R), (theirs, torch, torch.nn.utils.rnn)):
        out = run(m, pack)(lib.asarray(x.copy()), *(lib.asarray(s.copy()) for s in states))[0]
        (out * lib.asarray(_rand(tuple(out.shape), 9))).sum().backward()
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert_same(p.grad, q.grad, f"gradient of {name}")


@pytest.mark.parametrize("case", ["nan", "inf", "large"])
def test_float32_non_finite_and_saturating_input_matches_pytorch(be, case):
    """A NaN or an infinity in one sequence's input, or inputs large enough to saturate
    every gate: PyTorch's outputs, states and gradients (NaN where it has NaN)."""
    x = _rand((5, 3, 4), 4)
    if case == "large":
        x *= F32(1e4)
    else:
        x[2, 1, 0] = NAN if case == "nan" else INF
    check_module(nn.LSTM(4, 6, bidirectional=True), torch.nn.LSTM(4, 6, bidirectional=True), x)


@needs_numba
@pytest.mark.parametrize("sizes, proj", [((3, 3, 3), 0), ((4, 3, 1), 2)],
                         ids=["padded", "packed-projected"])
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_compiled_backward_matches_the_differentiated_tensor_scan(sizes, reverse, proj):
    """The compiled kernels' gradients (float32) against autograd through the recorded
    tensor-op scan (what create_graph differentiates): two independent derivations."""
    with it.use_backend("cpu"):
        tensors = [it.asarray(a).requires_grad_() for a in _scan_args(sizes, proj, seed=5)
                   if a is not None]
        xw, h0, c0, w_hh = tensors[:4]
        w_hr = tensors[4] if proj else None
        cots = None
        grads = []
        for fn in (impl._lstm, impl._lstm_scan):
            prev = _jit.set_enabled(True)
            try:
                outs = fn(xw, h0, c0, w_hh, w_hr, list(sizes), reverse)[:3]
            finally:
                _jit.set_enabled(prev)
            if cots is None:
                cots = [it.asarray(_rand(tuple(o.shape), 11 + k)) for k, o in enumerate(outs)]
            grads.append(it.autograd.grad(outs, tensors, cots))
        for k, (a, b) in enumerate(zip(*grads)):
            np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-4, atol=2e-5,
                                       err_msg=f"gradient {k}")


# ------------------------------------------------------------ the kernels' argument checks

@pytest.mark.parametrize("change, err, match", [
    (lambda a: {**a, "sizes": (2, 3)}, ValueError, r"none increasing, the first equal to the "
     r"batch 3, summing to the 6 rows; got \(2, 3\)"),
    (lambda a: {**a, "sizes": (3, 2)}, ValueError, r"summing to the 6 rows; got \(3, 2\)"),
    (lambda a: {**a, "sizes": ()}, ValueError, r"at least one step"),
    (lambda a: {**a, "sizes": (3, 1.5)}, TypeError, r"sizes must be a sequence of ints"),
    (lambda a: {**a, "c0": a["c0"][:, :3]}, ValueError, r"expected h0 \(B, P\) and c0 \(B, H\), "
     r"P = H without a projection; got shapes \(3, 4\) and \(3, 3\)"),
    (lambda a: {**a, "xw": a["xw"][:, :10]}, ValueError, r"expected xw of shape \(6, 16\)"),
    (lambda a: {**a, "w_hh": a["w_hh"][:, :2]}, ValueError, r"expected w_hh of shape \(16, 4\) "
     r"and dtype float32 .* got shape \(16, 2\)"),
    (lambda a: {**a, "h0": a["h0"].astype(np.float64)}, ValueError, r"dtype"),
    (lambda a: {**a, "w_hr": np.ones((2, 4), F32)}, ValueError, r"expected w_hr of shape "
     r"\(4, 4\)"),
])
def test_scan_argument_errors_name_what_was_given(change, err, match):
    args = dict(zip(("xw", "h0", "c0", "w_hh", "w_hr"), _scan_args((3, 3), 0, hidden=4)))
    args["sizes"] = (3, 3)
    a = change(args)
    with pytest.raises(err, match=match):
        _ns().lstm_scan(a["xw"], a["h0"], a["c0"], a["w_hh"], a["w_hr"], a["sizes"], False,
                        True)


def test_backward_argument_errors_and_a_registered_kernels_none_entries():
    ns = _ns()
    g, acts, c = np.ones((3, 2), F32), np.ones((3, 8), F32), np.ones((3, 2), F32)
    with pytest.raises(ValueError, match=r"m must be given exactly where w_hr is"):
        ns.lstm_scan_backward(g, g[:2], c[:2], acts, c, c, c, np.ones((8, 2), F32), None,
                              (2, 1), False, True, True)
    with pytest.raises(ValueError, match=r"expected g_hn \(B, P\) and g_cn \(B, H\), P = H "
                                         r"without a projection; got shapes \(2, 2\) and "
                                         r"\(3, 2\)"):
        ns.lstm_scan_backward(g, g[:2], c, acts, c, c, None, np.ones((8, 2), F32), None,
                              (2, 1), False, True, True)
    with pytest.raises(ValueError, match=r"expected acts of shape \(3, 8\) .* got shape "
                                         r"\(3, 6\)"):
        ns.lstm_scan_backward(g, g[:2], c[:2], acts[:, :6], c, c, None, np.ones((8, 2), F32),
                              None, (2, 1), False, True, True)
    # a registered implementation that returns an array where its arguments ask for None
    import array_api_compat.numpy as xp_np
    good = it.get_backend("cpu").lstm_scan_backward

    def wrong(*args):
        d_xw, dh0, dc0, d_h = good(*args)
        return d_xw, dh0, np.ones((2, 2), F32), d_h
    it.register_backend("wrong-lstm", xp_np, kernels={"lstm_scan_backward": wrong})
    try:
        with pytest.raises(RuntimeError, match=r"kernel 'lstm_scan_backward' registered for "
                                               r"backend 'wrong-lstm' returned ndarray where its "
                                               r"arguments ask for None"):
            it.get_backend("wrong-lstm").ns.lstm_scan_backward(
                g, g[:2], c[:2], acts, c, c, None, np.ones((8, 2), F32), None, (2, 1), False,
                True, False)
    finally:
        it.backends._FACTORIES.pop("wrong-lstm", None)
        it.backends._INSTANCES.pop("wrong-lstm", None)


@needs_numba
def test_read_only_inputs_and_broadcast_gradients():
    """Read-only arrays (a DLPack import, a saved value) and broadcast gradients (the
    gradient of a sum) go in as they are: the results match the reference's."""
    ns = _ns()
    args = _scan_args((3, 3, 2), 0, hidden=4, seed=6)
    for a in args[:4]:
        a.flags.writeable = False
    got, ref = compiled_and_reference(lambda: ns.lstm_scan(*args, (3, 3, 2), True, True))
    _assert_close(got, ref, "lstm_scan, read-only inputs")
    saved = [None if a is None else a.copy() for a in ref[3:]]
    for a in saved:
        if a is not None:
            a.flags.writeable = False
    g_out, g_state = np.broadcast_to(F32(1.0), (8, 4)), np.broadcast_to(F32(0.5), (3, 4))
    got, ref = compiled_and_reference(lambda: ns.lstm_scan_backward(
        g_out, g_state, g_state, saved[0], saved[1], saved[2], None, args[3], None,
        (3, 3, 2), True, True, True))
    _assert_close(got, ref, "lstm_scan_backward, broadcast gradients")


@pytest.mark.parametrize("wants", [(True, False, True), (False, True, False)],
                         ids=["c0-only", "h0-only"])
@pytest.mark.parametrize("proj", [0, 1], ids=["plain", "projected"])
def test_float64_gradcheck_with_one_initial_state_wanted(be, wants, proj):
    """float64 finite differences through the primitive (the reference kernels), packed
    reverse steps, where only one of the initial states (or neither) wants a gradient: the
    kernel forms exactly the gradients asked for."""
    sizes = [3, 2, 2, 1]
    arrays = [a.astype(np.float64) if a is not None else None
              for a in _scan_args(tuple(sizes), proj, hidden=2, seed=8)]
    xw, h0, c0, w_hh, w_hr = (None if a is None else it.asarray(a) for a in arrays)
    xw.requires_grad_()
    w_hh.requires_grad_(wants[2])
    if w_hr is not None:
        w_hr.requires_grad_()
    h0.requires_grad_(wants[0])
    c0.requires_grad_(wants[1])
    inputs = [t for t in (xw, h0, c0, w_hh, w_hr) if t is not None and t.requires_grad]

    def f(*ins):
        got = dict(zip([id(t) for t in inputs], ins))
        pick = [got.get(id(t), t) if t is not None else None for t in (xw, h0, c0, w_hh, w_hr)]
        return impl._lstm(*pick, sizes, True)
    assert it.autograd.gradcheck(f, tuple(inputs))
