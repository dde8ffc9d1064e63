"""interop.optim against PyTorch's optimizers: every optimizer (two or three option sets)
trains the same small model from the same weights on the same data as its PyTorch twin
and ends at the same parameters; state_dicts resume bit for bit and move between
interop and PyTorch; parameter groups, hooks, zero_grad and the error messages are
PyTorch's."""

import math
import warnings

import numpy as np
import pytest

import interop as it
from helpers import compiled_and_reference, to_np, jax_backend
from interop.backends import _jit, _jit_optim
from torch_compare import assert_same, load_twin, np_of

torch = pytest.importorskip("torch")

_X = np.random.default_rng(1).standard_normal((6, 3))
_Y = np.random.default_rng(2).standard_normal((6, 2))

# (optimizer, options): each runs 25 steps on both libraries. Float32 throughout but
# LBFGS: PyTorch keeps LBFGS's scalars (curvatures, step lengths) as float32 tensors where
# interop keeps Python floats, and over 25 steps of up to 20 iterations those roundings
# drift past 1e-5, so LBFGS is compared in float64 (where both compute in double).
CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.01, "momentum": 0.9, "nesterov": True, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"amsgrad": True, "weight_decay": 0.1, "betas": (0.8, 0.99)}),
    ("Adam", {"maximize": True, "eps": 1e-6, "lr": 0.01, "foreach": False}),
    ("Adam", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {}),
    ("AdamW", {"amsgrad": True, "weight_decay": 0.1, "foreach": False}),
    ("Adamax", {}),
    ("Adamax", {"weight_decay": 0.1, "maximize": True}),
    ("NAdam", {}),
    ("NAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True, "momentum_decay": 0.01}),
    ("NAdam", {"weight_decay": 0.1}),
    ("RAdam", {}),
    ("RAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True, "lr": 0.01}),
    ("RAdam", {"weight_decay": 0.1, "betas": (0.5, 0.9)}),
    ("Adagrad", {}),
    ("Adagrad", {"lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.1}),
    ("Adagrad", {"maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"rho": 0.8, "weight_decay": 0.1, "lr": 0.5}),
    ("RMSprop", {}),
    ("RMSprop", {"centered": True, "momentum": 0.9, "alpha": 0.9}),
    ("RMSprop", {"weight_decay": 0.1, "maximize": True, "momentum": 0.5}),
    ("Rprop", {}),
    ("Rprop", {"etas": (0.3, 1.5), "step_sizes": (1e-4, 0.1)}),
    ("Rprop", {"maximize": True}),
    ("ASGD", {}),
    ("ASGD", {"t0": 5, "lambd": 0.01, "alpha": 0.5, "weight_decay": 0.1}),
    ("LBFGS", {}),
    ("LBFGS", {"line_search_fn": "strong_wolfe"}),
    ("LBFGS", {"history_size": 3, "max_iter": 5, "lr": 0.5}),
]
# one option set per optimizer (the one with the most state), for the state_dict tests
RICH = {name: CASES[i][1] for name, i in (
    ("SGD", 1), ("Adam", 4), ("AdamW", 8), ("Adamax", 10), ("NAdam", 12), ("RAdam", 16),
    ("Adagrad", 18), ("Adadelta", 21), ("RMSprop", 23), ("Rprop", 26), ("ASGD", 29),
    ("LBFGS", 31))}


def _ids(cases):
    return [f"{name}-{i}" for i, (name, _) in enumerate(cases)]


def _mlp(lib, dtype, seed=0):
    """A 3-5-2 tanh MLP written once for either library (same parameter names)."""
    lnn = lib.nn
    g = np.random.default_rng(seed)
    init = [g.standard_normal(s) * 0.5 for s in ((5, 3), (5,), (2, 5), (2,))]

    class MLP(lnn.Module):
        def __init__(self):
            super().__init__()
            self.w1, self.b1, self.w2, self.b2 = (
                lnn.Parameter(lib.asarray(a.astype(dtype))) for a in init)

        def forward(self, x):
            return (x @ self.w1.T + self.b1).tanh() @ self.w2.T + self.b2
    return MLP()


def _dtype(name):
    return "float64" if name == "LBFGS" else "float32"


class _Run:
    """A model, its optimizer and the data, in one library; ``steps(n)`` trains."""

    def __init__(self, lib, name, kwargs, dtype, model=None, param_groups=None):
        self.lib = lib
        self.model = model if model is not None else _mlp(lib, dtype)
        self.x = lib.asarray(_X.astype(dtype))
        self.y = lib.asarray(_Y.astype(dtype))
        params = param_groups(self.model) if param_groups else self.model.parameters()
        self.opt = getattr(lib.optim, name)(params, **kwargs)

    def closure(self):
        self.opt.zero_grad()
        loss = ((self.model(self.x) - self.y) ** 2).mean()
        loss.backward()
        return loss

    def steps(self, n):
        for _ in range(n):
            if isinstance(self.opt, self.lib.optim.LBFGS):
                self.opt.step(self.closure)
            else:
                self.closure()
                self.opt.step()
        return self


def _twins(name, kwargs, **kw):
    dtype = _dtype(name)
    ours, theirs = _Run(it, name, kwargs, dtype, **kw), _Run(torch, name, kwargs, dtype, **kw)
    load_twin(ours.model, theirs.model)
    return ours, theirs


def _assert_params(ours, theirs, what=""):
    named = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        assert_same(p, named[n], f"{what}parameter {n}")


def _assert_equal_params(a, b):
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(to_np(p), to_np(q), err_msg=n)


# ----------------------------------------------------------------------------- steps
@pytest.mark.parametrize("name,kwargs", CASES, ids=_ids(CASES))
def test_steps_match_torch(be, name, kwargs):
    ours, theirs = _twins(name, kwargs)
    ours.steps(25)
    theirs.steps(25)
    _assert_params(ours.model, theirs.model)
    for p in ours.model.parameters():            # the steps recorded nothing
        assert p.is_leaf and p.requires_grad and p.grad_fn is None


def _two_groups(model):
    return [{"params": [model.w1, model.b1]},
            {"params": [model.w2, model.b2], "lr": 0.003, "weight_decay": 0.2}]


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "NAdam"])
def test_param_groups_match_torch(be, name):
    ours, theirs = _twins(name, {"lr": 0.02}, param_groups=_two_groups)
    ours.steps(10)
    theirs.steps(10)
    _assert_params(ours.model, theirs.model)
    assert [g["lr"] for g in ours.opt.param_groups] == [0.02, 0.003]
    assert [g["weight_decay"] for g in ours.opt.param_groups] == \
        [g["weight_decay"] for g in theirs.opt.param_groups]


@pytest.mark.parametrize("kwargs", [{}, {"amsgrad": True, "maximize": True, "weight_decay": 0.1},
                                    {"weight_decay": 0.1, "decoupled_weight_decay": True}])
def test_adam_foreach_path_is_the_per_parameter_path(be, kwargs):
    """The flat (foreach) path and the per-parameter path do the same arithmetic element by
    element; parameters whose gradient comes and goes move between the two."""
    runs = [_Run(it, "Adam", dict(kwargs, foreach=f), "float32") for f in (None, False)]
    for step in range(8):
        for run in runs:
            run.closure()
            if step in (3, 4):           # b1 skips two steps: the flat chunk is rebuilt
                run.model.b1.grad = None
            run.opt.step()
    _assert_equal_params(runs[0].model, runs[1].model)
    assert runs[0].opt._flat_groups and not runs[1].opt._flat_groups
    sd = [run.opt.state_dict() for run in runs]
    for i in range(4):
        assert float(sd[0]["state"][i]["step"]) == float(sd[1]["state"][i]["step"])
    assert float(sd[0]["state"][1]["step"]) == 6


@pytest.mark.parametrize("name,kwargs", [
    ("Adam", {}), ("Adam", {"amsgrad": True, "maximize": True, "weight_decay": 0.1}),
    ("Adam", {"weight_decay": 0.1, "decoupled_weight_decay": True}), ("AdamW", {})])
def test_adam_large_parameters_updated_in_blocks_are_updated_as_a_whole(be, name, kwargs,
                                                                        monkeypatch):
    """A parameter above BLOCK_NUMEL elements is updated block of rows by block of rows:
    bit for bit the whole-tensor update, and PyTorch's; strided parameters too."""
    from interop.optim import adam
    kwargs = dict(kwargs, foreach=False)          # (the per-parameter path takes blocks)
    whole = _Run(it, name, kwargs, "float32")
    monkeypatch.setattr(adam, "BLOCK_NUMEL", 4)   # w1 (5, 3): blocks of 2 rows; w2 (2, 5): 1
    ours, theirs = _twins(name, kwargs)
    load_twin(whole.model, theirs.model)
    for run in (whole, ours, theirs):
        if run is whole:
            monkeypatch.setattr(adam, "BLOCK_NUMEL", 1 << 30)
        run.steps(8)
        monkeypatch.setattr(adam, "BLOCK_NUMEL", 4)
    _assert_equal_params(ours.model, whole.model)
    _assert_params(ours.model, theirs.model)

    rng = np.random.default_rng(3)
    data, grads = rng.standard_normal((7, 5)).astype("float32"), rng.standard_normal((4, 5, 7))
    params = [it.tensor(data).T.detach().requires_grad_(True) for _ in range(2)]    # strided
    assert not params[0].is_contiguous()
    opts = [getattr(it.optim, name)([p], **kwargs) for p in params]
    for block, p, opt in zip((4, 1 << 30), params, opts):
        monkeypatch.setattr(adam, "BLOCK_NUMEL", block)
        for gr in grads:
            p.grad = it.asarray(gr.astype("float32"))
            opt.step()
    np.testing.assert_array_equal(to_np(params[0]), to_np(params[1]))
    assert not np.array_equal(to_np(params[0]), data.T)


def _adam_operands(shape, seed, dtype="float32", amsgrad=True, edges=False):
    """(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq) as NumPy arrays: a state some
    steps in (moments of both signs, squares >= 0); with ``edges``, gradients at 0, +-inf,
    NaN and 1e30 (whose square overflows float32)."""
    rng = np.random.default_rng(seed)
    p, g, m = (rng.standard_normal(shape) for _ in range(3))
    v = rng.standard_normal(shape) ** 2
    vmax = v + rng.random(shape) * (rng.random(shape) < 0.5)
    if edges and g.size >= 6:
        g.reshape(-1)[:6] = [0.0, np.inf, -np.inf, np.nan, 1e30, -1e-30]
        if g.size >= 12:            # the state's own edges: a ±0 tie in the maximum, NaN, inf
            v.reshape(-1)[[0, 6, 7]] = [0.0, np.inf, np.nan]
            vmax.reshape(-1)[[0, 8, 9, 10]] = [-0.0, np.nan, np.inf, 0.0]
            m.reshape(-1)[11] = -np.inf
            p.reshape(-1)[[1, 12, 13]] = [np.inf, np.nan, -np.inf]
    return [a.astype(dtype) for a in (p, g, m, v, vmax if amsgrad else None) if a is not None]


def _spy_adam(monkeypatch):
    """The shapes the cpu backend's compiled Adam update is called with (a test knows that
    the compiled path ran, or did not)."""
    calls = []
    kernel = _jit_optim.adam_update_

    def spy(*args):
        calls.append(tuple(args[0].shape))
        return kernel(*args)
    monkeypatch.setattr(_jit_optim, "adam_update_", spy)
    return calls


def _assert_same_bits(a, b, what):
    """The same bits (the signs of zeros too), NaN where the other has NaN (a NaN's sign and
    payload are not compared: IEEE 754 leaves them open, and the compiler may turn
    ``-g + x`` into ``x - g``, which keeps g's NaN unnegated)."""
    a, b = to_np(a), to_np(b)
    assert a.dtype == b.dtype and a.shape == b.shape, what
    nan = np.isnan(a)
    np.testing.assert_array_equal(nan, np.isnan(b), err_msg=f"{what}: NaN positions")
    np.testing.assert_array_equal(a[~nan].view(f"u{a.itemsize}"),
                                  b[~nan].view(f"u{b.itemsize}"), err_msg=what)


# interop._adam_update_'s options: maximize and weight decay (L2, or decoupled as AdamW's)
_FUSED_OPTIONS = {"plain": {}, "l2+maximize": {"maximize": True, "weight_decay": 0.1},
                  "decoupled": {"shrink": 1 - 1e-3 * 0.01}}


@pytest.mark.parametrize("shape, block", [((7, 5), 4), ((7, 5), 1 << 30), ((), 4), ((9,), 2),
                                          ((3, 2, 4), 4), ((0, 3), 4), ((37, 29), 128)])
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("options", list(_FUSED_OPTIONS))
def test_fused_adam_update_is_the_tensor_update(be, shape, block, amsgrad, dtype, options,
                                                monkeypatch):
    """interop._adam_update_ (raw arrays, in place: on the cpu backend one compiled pass where
    numba runs, else the passes in blocks of rows) gives bit for bit what the tensor form
    gives (``grad_of``, ``_decay``, ``_update``), at 0, +-inf, NaN and overflowing gradients
    and NaN, inf and ±0 ties in the state and parameter too, with maximize and weight decay,
    and bumps the versions of what it writes (not the gradient's). Both of the cpu
    backend's paths are run."""
    from interop.optim import adam
    arrays = _adam_operands(shape, 1, dtype, amsgrad, edges=True)
    consts = (0.1, 0.001, 1e-8 * 0.9995 ** 0.5, 1e-3 * 0.9995 ** 0.5)
    kw = _FUSED_OPTIONS[options]
    ref = [it.asarray(a.copy()) for a in arrays]
    with it.no_grad(), np.errstate(all="ignore"):
        g = -ref[1] if kw.get("maximize") else ref[1]
        if kw.get("weight_decay"):
            g = g + kw["weight_decay"] * ref[0]
        if "shrink" in kw:
            ref[0].mul_(kw["shrink"])
        ref[0].sub_(adam._update(g, *ref[2:], *([None] * (not amsgrad)), *consts))
    calls = _spy_adam(monkeypatch)

    def fused_update():
        fused = [it.asarray(a.copy()) for a in arrays]
        w = it.ones(shape, dtype=getattr(it, dtype), requires_grad=True)
        readers = [(w * t).sum() for t in fused]      # each saves its tensor for backward
        with it.no_grad(), np.errstate(all="ignore"):
            out = it._adam_update_(*fused, *([None] * (not amsgrad)), *consts, block=block,
                                   **kw)
        assert out is fused[0]
        readers[1].backward()                         # the gradient was only read
        for r in readers[:1] + readers[2:]:           # the others were written: versions moved
            with pytest.raises(RuntimeError, match="modified by an in-place operation"):
                r.backward()
        return fused

    names = ("param", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    on, off = compiled_and_reference(fused_update)
    for name, a, b in zip(names, on, off):
        _assert_same_bits(a, b, name)
    for fused in on, off:
        for name, a, b in zip(names, fused, ref):
            np.testing.assert_array_equal(to_np(a), to_np(b), err_msg=name)
        if math.prod(shape):
            np.testing.assert_array_equal(to_np(fused[1]), arrays[1])     # the gradient: read
            assert not np.array_equal(to_np(fused[0]), arrays[0], equal_nan=True)
    assert calls == ([shape] if be.name == "cpu" and _jit.available() else [])


@pytest.mark.parametrize("layout", ["strided", "contiguous"])
def test_fused_adam_update_strided_views_and_an_aliased_gradient(be, layout, monkeypatch):
    """Views (a transposed parameter, rows of a larger buffer) are written through; a
    gradient that is the parameter itself is read before anything is written. A strided
    view takes the passes on the cpu backend too; a contiguous one the compiled pass (where
    numba runs): the same bits either way."""
    from interop.optim import adam
    p, g, m, v = _adam_operands((6, 5), 2, amsgrad=False)
    consts = (0.1, 0.001, 1e-8, 1e-3)
    ref = [it.asarray(a.copy()) for a in (p, p, m, v)]
    with it.no_grad():
        ref[0].sub_(adam._update(ref[1], ref[2], ref[3], None, *consts))
    calls = _spy_adam(monkeypatch)

    def update():
        if layout == "strided":
            base = it.asarray(np.concatenate([p.T, p.T]))    # (10, 6): the param is rows 0-4
            param = base[:5].T                               # strided (6, 5) view
        else:
            base = it.asarray(np.concatenate([p, p]))        # (12, 5): the param is rows 0-5
            param = base[:6]
        state = [it.asarray(a.copy()) for a in (m, v)]
        reader = (it.ones((6, 5), requires_grad=True) * param).sum()
        with it.no_grad():
            it._adam_update_(param, param, *state, None, *consts, block=2)
        with pytest.raises(RuntimeError, match="modified by an in-place operation"):
            reader.backward()                                # the parameter was written
        return param, base, state

    for param, base, state in compiled_and_reference(update):
        np.testing.assert_array_equal(to_np(param), to_np(ref[0]))
        rest = to_np(base[5:]) if layout == "strided" else to_np(base[6:])
        np.testing.assert_array_equal(rest, p.T if layout == "strided" else p)   # untouched
        np.testing.assert_array_equal(to_np(state[0]), to_np(ref[2]))
    compiled = be.name == "cpu" and _jit.available() and layout == "contiguous"
    assert calls == ([(6, 5)] if compiled else [])


def test_adam_update_on_the_backend_checks_its_arrays(be):
    """Backend.adam_update_ (what interop._adam_update_ hands the arrays to) refuses arrays
    of another shape or dtype before anything is written, on every path."""
    p, g, m, v = (it.asarray(a)._data for a in _adam_operands((3, 2), 4, amsgrad=False))
    before = to_np(it.asarray(p)).copy()
    for args, error, match in [
            ((p, g, m, v[:2, ...], None), ValueError, r"exp_avg_sq of param's shape \(3, 2\)"),
            ((p, g, m, v, v[:1, ...]), ValueError, r"max_exp_avg_sq of param's shape"),
            ((p, be.ns.astype(g, be.ns.float64), m, v, None), ValueError, "grad of param's "
             "shape .* and dtype interop.float32, got shape .* and dtype interop.float64"),
            ((be.ns.astype(p, be.ns.int32), g, m, v, None), TypeError, "expected arrays of a "
             "real floating dtype, got param of dtype interop.int32")]:
        for jit in (True, False) if _jit.available() else (False,):
            prev = _jit.set_enabled(jit)
            try:
                with pytest.raises(error, match=match):
                    be.adam_update_(*args, 0.1, 0.001, 1e-8, 1e-3, 4)
                with pytest.raises(ValueError, match="block to be a positive int, got 0"):
                    be.adam_update_(p, g, m, v, None, 0.1, 0.001, 1e-8, 1e-3, 0)
                with pytest.raises(TypeError, match="maximize to be a bool, got int"):
                    be.adam_update_(p, g, m, v, None, 0.1, 0.001, 1e-8, 1e-3, 4, maximize=1)
            finally:
                _jit.set_enabled(prev)
    np.testing.assert_array_equal(to_np(it.asarray(p)), before)


# Adam's options on parameters large enough for the compiled loop's vector body and its tail,
# a 0-d and an empty one, a strided one (the passes' way) and float64.
_COMPILED_CASES = [
    ("Adam", {}, "float32"), ("Adam", {"amsgrad": True}, "float32"),
    ("Adam", {"weight_decay": 0.1, "maximize": True}, "float32"),
    ("AdamW", {"amsgrad": True}, "float32"), ("Adam", {"amsgrad": True}, "float64"),
    ("Adam", {"eps": 0.0}, "float32")]


@pytest.mark.parametrize("name, kwargs, dtype", _COMPILED_CASES)
def test_adam_compiled_steps_are_the_reference_steps_and_torchs(name, kwargs, dtype,
                                                                 monkeypatch):
    """Adam over several steps on the cpu backend with the compiled update and with the
    standard-only passes: bit for bit the same parameters and state, and PyTorch's
    parameters within tolerance. ``eps=0`` meets a zero second moment (a gradient of 0 at
    the first step): 0 / 0 is NaN, as in PyTorch, on both paths."""
    rng = np.random.default_rng(7)
    shapes = [(37, 29), (29,), (), (0, 4), (6, 5)]
    init = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(5)]
    if kwargs.get("eps") == 0.0:
        grads[0][0][0, :3] = 0.0
    calls = _spy_adam(monkeypatch)

    def run(lib):
        params = [lib.asarray(a.copy()) for a in init]
        params[-1] = lib.asarray(init[-1].T.copy()).T          # strided: (6, 5) of a (5, 6)
        params = [p.requires_grad_(True) for p in params]
        opt = getattr(lib.optim, name)(params, lr=0.01, foreach=False, **kwargs)
        for step in grads:
            for p, gr in zip(params, step):
                p.grad = lib.asarray(gr)
            opt.step()
        state = [opt.state[p][k] for p in params for k in sorted(opt.state[p])]
        return params, state

    with it.use_backend("cpu"):
        on, off = compiled_and_reference(lambda: run(it))
    for i, (a, b) in enumerate(zip(on[0] + on[1], off[0] + off[1])):
        _assert_same_bits(a, b, f"tensor {i}")
    if _jit.available():        # every contiguous parameter, every step (the strided: never)
        assert calls == [s for _ in grads for s in shapes[:-1]]
    theirs, _ = run(torch)
    for i, (a, b) in enumerate(zip(on[0], theirs)):
        assert_same(a, b.detach(), f"parameter {i}")


def test_fused_adam_update_errors(be):
    p, g, m, v = (it.asarray(a) for a in _adam_operands((3, 2), 4, amsgrad=False))
    consts = (0.1, 0.001, 1e-8, 1e-3)
    with pytest.raises(RuntimeError, match="not differentiable; call it under"):
        it._adam_update_(p, g, m, v, None, *consts, block=4)
    with it.no_grad():
        with pytest.raises(ValueError, match=r"exp_avg_sq of param's shape \(3, 2\)"):
            it._adam_update_(p, g, m, v[:2], None, *consts, block=4)
        with pytest.raises(ValueError, match="grad of param's shape .* and dtype interop.float32, "
                                             "got shape .* and dtype interop.float64"):
            it._adam_update_(p, g.astype(it.float64), m, v, None, *consts, block=4)
        with pytest.raises(TypeError, match="expected float32 or float64 tensors, got param "
                                            "of dtype interop.int32"):
            h = [t.astype(it.int32) for t in (p, g, m, v)]
            it._adam_update_(*h, None, *consts, block=4)
        with pytest.raises(TypeError, match="expected exp_avg to be a Tensor, got ndarray"):
            it._adam_update_(p, g, np.zeros((3, 2), "float32"), v, None, *consts, block=4)
        with pytest.raises(RuntimeError, match="cannot write into exp_avg_sq, an expanded"):
            it._adam_update_(p, g, m, it.zeros(2).expand(3, 2), None, *consts, block=4)


def test_fused_adam_update_refuses_immutable_arrays():
    with jax_backend():
        p, g, m, v = (it.tensor(a.tolist()) for a in _adam_operands((3, 2), 4, amsgrad=False))
        with it.no_grad(), pytest.raises(TypeError, match="immutable arrays; update with "
                                                          "tensor ops instead"):
            it._adam_update_(p, g, m, v, None, 0.1, 0.001, 1e-8, 1e-3, block=4)


def test_lbfgs_runs_the_closure_with_grad_and_returns_its_first_loss(be):
    ours, theirs = _twins("LBFGS", {"max_iter": 4})
    loss_o = ours.opt.step(ours.closure)
    loss_t = theirs.opt.step(theirs.closure)
    assert float(loss_o) == pytest.approx(loss_t.item(), rel=1e-12)
    assert loss_o.grad_fn is not None
    state_o = ours.opt.state[ours.model.w1]
    state_t = theirs.opt.state[theirs.model.w1]
    assert (state_o["func_evals"], state_o["n_iter"]) == (state_t["func_evals"],
                                                          state_t["n_iter"])


# ------------------------------------------------------------------------ state dicts
def _copy_model(model, dtype):
    fresh = _mlp(it, dtype, seed=5)
    fresh.load_state_dict(model.state_dict())
    return fresh


@pytest.mark.parametrize("name", sorted(RICH))
def test_state_dict_resumes_bit_for_bit(be, name):
    kwargs, dtype = RICH[name], _dtype(name)
    straight = _Run(it, name, kwargs, dtype).steps(20)
    first = _Run(it, name, kwargs, dtype).steps(10)
    saved = first.opt.state_dict()
    second = _Run(it, name, kwargs, dtype, model=_copy_model(first.model, dtype))
    second.opt.load_state_dict(saved)
    first.steps(3)                                  # the loaded state shares no memory
    second.steps(10)
    _assert_equal_params(second.model, straight.model)


def _to_ours(obj):
    if isinstance(obj, torch.Tensor):
        return it.asarray(np_of(obj).copy())
    if isinstance(obj, dict):
        return {k: _to_ours(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_ours(v) for v in obj)
    return obj


def _to_torch(obj):
    if isinstance(obj, it.Tensor):
        return torch.from_numpy(to_np(obj))
    if isinstance(obj, dict):
        return {k: _to_torch(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_torch(v) for v in obj)
    return obj


def _assert_same_layout(ours, theirs):
    """Same param_groups (keys and plain values) and the same state keys, shapes, dtypes."""
    assert len(ours["param_groups"]) == len(theirs["param_groups"])
    for g_o, g_t in zip(ours["param_groups"], theirs["param_groups"]):
        assert sorted(g_o) == sorted(g_t)
        assert {k: v for k, v in g_o.items() if k != "lr"} == \
            {k: v for k, v in g_t.items() if k != "lr"}
    assert sorted(ours["state"]) == sorted(theirs["state"])
    for i, s_t in theirs["state"].items():
        s_o = ours["state"][i]
        assert sorted(s_o) == sorted(s_t), f"state {i}"
        for k, v in s_t.items():
            if isinstance(v, torch.Tensor) and k not in ("ro", "al", "H_diag", "t"):
                assert isinstance(s_o[k], it.Tensor), f"state {i} {k}"
                assert tuple(s_o[k].shape) == tuple(v.shape), f"state {i} {k}"
                assert str(s_o[k].dtype).split(".")[-1] == str(v.dtype).split(".")[-1]


@pytest.mark.parametrize("name", sorted(RICH))
def test_state_dict_moves_between_torch_and_interop(be, name):
    kwargs = RICH[name]
    ours, theirs = _twins(name, kwargs)
    ours.steps(10)
    theirs.steps(10)
    _assert_same_layout(ours.opt.state_dict(), theirs.opt.state_dict())

    # PyTorch's state into a fresh interop optimizer (on PyTorch's current weights) ...
    resumed = _Run(it, name, kwargs, _dtype(name))
    load_twin(resumed.model, theirs.model)
    resumed.opt.load_state_dict(_to_ours(theirs.opt.state_dict()))
    # ... and interop's into a fresh PyTorch one
    back = _Run(torch, name, kwargs, _dtype(name))
    back.model.load_state_dict({k: _to_torch(v) for k, v in ours.model.state_dict().items()})
    back.opt.load_state_dict(_to_torch(ours.opt.state_dict()))
    for run in (resumed, theirs, ours, back):
        run.steps(10)
    _assert_params(resumed.model, theirs.model, "torch -> interop: ")
    _assert_params(ours.model, back.model, "interop -> torch: ")


def test_load_state_dict_copies_onto_the_parameters_backend_and_dtype(be):
    run = _Run(it, "Adam", {}, "float32").steps(2)
    sd = run.opt.state_dict()
    for s in sd["state"].values():
        s["exp_avg"] = s["exp_avg"].double()
    fresh = _Run(it, "Adam", {}, "float32")
    fresh.opt.load_state_dict(sd)
    state = fresh.opt.state[fresh.model.w1]
    assert state["exp_avg"].dtype == it.float32 and state["step"].dtype == it.float32
    assert state["exp_avg"].backend is fresh.model.w1.backend
    before = to_np(sd["state"][0]["exp_avg_sq"])
    fresh.steps(1)
    np.testing.assert_array_equal(to_np(sd["state"][0]["exp_avg_sq"]), before)


def test_load_state_dict_errors_match_torch():
    for lib in (it, torch):
        model = _mlp(lib, "float32")
        one = lib.optim.SGD(model.parameters(), lr=0.1)
        two = lib.optim.SGD(_two_groups(model), lr=0.1)
        with pytest.raises(ValueError, match="different number of parameter groups"):
            one.load_state_dict(two.state_dict())
        sd = two.state_dict()
        sd["param_groups"][0]["params"] = [0]
        with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
            two.load_state_dict(sd)


def test_named_parameters_give_param_names_as_torch():
    sd = {}
    for lib in (it, torch):
        model = _mlp(lib, "float32")
        opt = lib.optim.Adam(model.named_parameters())
        sd[lib] = opt.state_dict()
    assert sd[it]["param_groups"][0]["param_names"] == ["w1", "b1", "w2", "b2"]
    assert sd[it]["param_groups"] == sd[torch]["param_groups"]


def test_adagrad_state_exists_from_construction():
    model = _mlp(it, "float32")
    opt = it.optim.Adagrad(model.parameters(), initial_accumulator_value=0.5)
    assert sorted(opt.state_dict()["state"]) == [0, 1, 2, 3]
    np.testing.assert_array_equal(to_np(opt.state[model.b1]["sum"]), np.full(5, 0.5, np.float32))


# ------------------------------------------------------------------- the Optimizer base
def test_zero_grad():
    model = _mlp(it, "float32")
    opt = it.optim.SGD(model.parameters(), lr=0.1)
    run = _Run(it, "SGD", {"lr": 0.1}, "float32", model=model)
    run.closure()
    grad = model.w1.grad
    opt.zero_grad(set_to_none=False)
    assert model.w1.grad is grad and not grad.any()
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_add_param_group_takes_the_defaults():
    model = _mlp(it, "float32")
    opt = it.optim.Adam([model.w1, model.b1], lr=0.01, betas=(0.8, 0.9))
    opt.add_param_group({"params": [model.w2, model.b2], "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["betas"] == (0.8, 0.9)
    _Run(it, "SGD", {}, "float32", model=model).closure()
    opt.step()
    assert len(opt.state) == 4


def test_step_hooks():
    model = _mlp(it, "float32")
    opt = it.optim.SGD(model.parameters(), lr=0.1)
    calls = []
    opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o, args)))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", o, args)))
    handle = it.optim.register_optimizer_step_pre_hook(lambda o, a, k: calls.append(("global",)))
    try:
        opt.step()
    finally:
        handle.remove()
    assert calls == [("global",), ("pre", opt, ()), ("post", opt, ())]
    opt.register_step_pre_hook(lambda o, args, kwargs: ((), {"closure": lambda: 7.0}))
    assert opt.step() == 7.0
    opt.register_step_pre_hook(lambda o, args, kwargs: 3)
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        opt.step()


def test_state_dict_hooks():
    model = _mlp(it, "float32")
    opt = it.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    seen = []
    opt.register_state_dict_pre_hook(lambda o: seen.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: dict(sd, extra=1))
    opt.register_load_state_dict_pre_hook(lambda o, sd: seen.append("load pre"))
    opt.register_load_state_dict_post_hook(lambda o: seen.append("load post"), prepend=True)
    sd = opt.state_dict()
    assert sd["extra"] == 1
    opt.load_state_dict(sd)
    assert seen == ["pre", "load pre", "load post"]


def test_custom_optimizer_gets_hooks_no_grad_and_required():
    class Sign(it.optim.Optimizer):
        def __init__(self, params, lr=it.optim.required):
            super().__init__(params, {"lr": lr})

        def step(self, closure=None):
            loss = self._evaluate(closure)
            assert not it.is_grad_enabled()
            for group in self.param_groups:
                for p in group["params"]:
                    p.sub_(p.grad.sign() * group["lr"])
            return loss

    model = _mlp(it, "float32")
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        Sign(model.parameters())
    opt = Sign(model.parameters(), lr=0.1)
    run = _Run(it, "SGD", {}, "float32", model=model)
    loss = opt.step(run.closure)
    assert loss.grad_fn is not None and model.w1.grad is not None
    assert model.w1.is_leaf


def test_repr_matches_torch():
    for name, kwargs in (("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"amsgrad": True})):
        r = [repr(getattr(lib.optim, name)(_mlp(lib, "float32").parameters(), **kwargs))
             for lib in (it, torch)]
        assert r[0] == r[1]


def test_sgd_updates_complex_parameters_as_torch():
    values = np.array([1 + 2j, -0.5j, 3.0], np.complex64)
    grad = np.array([0.5 - 1j, 2j, -1.0], np.complex64)
    out = []
    for lib in (it, torch):
        p = lib.asarray(values.copy()).requires_grad_(True)
        opt = lib.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
        for _ in range(3):
            p.grad = lib.asarray(grad.copy())
            opt.step()
        out.append(p)
    assert_same(out[0], out[1], "complex parameter")


# ------------------------------------------------------------------------------ errors
def _error(fn):
    try:
        fn()
    except Exception as e:          # noqa: BLE001 - the test compares whatever was raised
        return type(e), str(e)
    return None


_BAD = [
    ("SGD", {"lr": -0.1}), ("SGD", {"momentum": -0.5}), ("SGD", {"weight_decay": -1.0}),
    ("SGD", {"nesterov": True}), ("SGD", {"momentum": 0.9, "dampening": 0.1, "nesterov": True}),
    ("Adam", {"lr": -1.0}), ("Adam", {"eps": -1e-8}), ("Adam", {"betas": (1.0, 0.9)}),
    ("Adam", {"betas": (0.9, -0.1)}), ("Adam", {"weight_decay": -0.1}),
    ("Adam", {"betas": (0, 0.99)}), ("Adam", {"fused": True, "foreach": True}),
    ("AdamW", {"lr": -1.0}), ("AdamW", {"betas": (0.9, 1.5)}),
    ("Adamax", {"eps": -1.0}), ("Adamax", {"betas": (-0.1, 0.9)}),
    ("NAdam", {"momentum_decay": -1.0}), ("NAdam", {"weight_decay": -1.0}),
    ("RAdam", {"lr": -1.0}), ("RAdam", {"betas": (0.9, 1.0)}),
    ("Adagrad", {"lr_decay": -1.0}), ("Adagrad", {"initial_accumulator_value": -1.0}),
    ("Adagrad", {"eps": -1.0}), ("Adagrad", {"fused": True, "foreach": True}),
    ("Adadelta", {"rho": 1.5}), ("Adadelta", {"eps": -1.0}),
    ("RMSprop", {"alpha": -1.0}), ("RMSprop", {"momentum": -1.0}), ("RMSprop", {"eps": -1.0}),
    ("Rprop", {"etas": (1.5, 2.0)}), ("Rprop", {"etas": (0.5, 0.9)}),
    ("ASGD", {"weight_decay": -1.0}), ("ASGD", {"lr": -1.0}),
    ("SparseAdam", {"lr": 0.0}), ("SparseAdam", {"eps": 0.0}), ("SparseAdam", {"betas": (1, 0)}),
    ("LBFGS", {"lr": -1.0}),
]


@pytest.mark.parametrize("name,kwargs", _BAD, ids=_ids(_BAD))
def test_invalid_options_raise_as_torch(name, kwargs):
    theirs = _error(lambda: getattr(torch.optim, name)(_mlp(torch, "float32").parameters(),
                                                       **kwargs))
    ours = _error(lambda: getattr(it.optim, name)(_mlp(it, "float32").parameters(), **kwargs))
    assert theirs is not None and ours == theirs


def test_parameter_list_errors_match_torch():
    def cases(lib):
        model = _mlp(lib, "float32")
        w = model.w1
        return [lambda: lib.optim.SGD([], lr=0.1),
                lambda: lib.optim.SGD(w, lr=0.1),
                lambda: lib.optim.SGD([{"params": {w}}], lr=0.1),
                lambda: lib.optim.SGD([w * 2], lr=0.1),
                lambda: lib.optim.SGD([w, 3], lr=0.1),
                lambda: lib.optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1),
                lambda: lib.optim.SGD([("w", w), model.b1], lr=0.1),
                lambda: lib.optim.SGD([{"params": [("w", w)]}, {"params": [model.b1]}], lr=0.1),
                lambda: lib.optim.LBFGS([{"params": [w]}, {"params": [model.b1]}]),
                lambda: lib.optim.SGD(model.parameters(), lr=0.1).add_param_group([w])]
    for i, (ours, theirs) in enumerate(zip(cases(it), cases(torch))):
        expected, got = _error(theirs), _error(ours)
        if i in (1, 4):             # the messages end with the type's name, the library's own
            expected, got = ((e[0], e[1].rsplit(" ", 1)[0]) if e else e for e in (expected, got))
        assert expected is not None and got == expected, f"case {i}"


def test_a_parameter_given_twice_is_an_error():
    model = _mlp(it, "float32")
    with pytest.raises(ValueError, match=r"duplicate parameters: params\[0\] and params\[2\]"):
        it.optim.Adam([model.w1, model.b1, model.w1])
    with warnings.catch_warnings(record=True) as caught:          # PyTorch only warns
        warnings.simplefilter("always")
        torch.optim.Adam([torch.nn.Parameter(torch.ones(2))] * 2)
    assert any("duplicate parameters" in str(w.message) for w in caught)


def test_step_errors_match_torch():
    for lib in (it, torch):
        model = _mlp(lib, "float32")
        run = _Run(lib, "SGD", {}, "float32", model=model)
        run.closure()
        with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients, "
                                               "please consider Adam instead"):
            lib.optim.SparseAdam(model.parameters()).step()
        with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
            lib.optim.LBFGS(model.parameters(), line_search_fn="wolfe").step(run.closure)
    with pytest.raises(TypeError, match="needs a closure"):
        it.optim.LBFGS(_mlp(it, "float32").parameters()).step()


def test_unsupported_modes_are_refused():
    model = _mlp(it, "float32")
    with pytest.raises(NotImplementedError, match="differentiable"):
        it.optim.Adam(model.parameters(), differentiable=True)
    z = it.zeros(2, dtype=it.complex64, requires_grad=True)
    with pytest.raises(ValueError, match="Adam does not support complex parameters"):
        it.optim.Adam([z])


def test_training_steps_on_an_immutable_backend():
    """On JAX (immutable arrays) a module's parameters are aliases of the tensors they were
    made from, and the optimizers' flat buffers have aliases too: init_, SGD's and Adam's
    in-place updates refused to rebind them. A linear layer (3-d input, bias) built there
    takes the same steps as on the cpu backend."""
    x_np = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)

    def run():
        it.manual_seed(0)
        m = it.nn.Linear(4, 2)
        out = []
        for opt in (it.optim.SGD(m.parameters(), lr=0.1, momentum=0.9),
                    it.optim.Adam(m.parameters(), lr=0.1)):
            for _ in range(2):
                opt.zero_grad()
                (m(it.tensor(x_np.tolist())) ** 2).mean().backward()
                opt.step()
            out.append(to_np(m.weight).copy())
        return out + [to_np(m.bias)]

    with it.use_backend("cpu"):
        want = run()
    with jax_backend():
        got = run()
        # cpu-backend parameters while JAX is the current backend: the step counters (made
        # on device "cpu", so on JAX) must not be views of a flat buffer there
        cpu = it.get_backend("cpu")
        with it.use_backend(cpu):
            m = it.nn.Linear(4, 2)
        opt = it.optim.Adam(m.parameters(), lr=0.1)
        (m(it.tensor(x_np.tolist(), device=cpu)) ** 2).mean().backward()
        opt.step()
        opt.step()
        assert float(opt.state[m.weight]["step"]) == 2.0
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
