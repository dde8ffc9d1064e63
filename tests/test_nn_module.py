"""The Module system against PyTorch's: registration, traversal order and names, state_dict
keys and load errors, train/eval, zero_grad, moves and casts, hooks (forward and full
backward, compared with PyTorch's on the same model), containers and repr."""

import copy

import numpy as np
import pytest

import interop as it
from interop import nn
from helpers import to_np
from torch_compare import assert_same, check_module, load_twin

torch = pytest.importorskip("torch")


def _affine(lib, n_in, n_out, seed):
    """A small layer written the same way against either library."""
    lnn = lib.nn

    class Affine(lnn.Module):
        def __init__(self):
            super().__init__()
            g = np.random.default_rng(seed)
            self.weight = lnn.Parameter(lib.asarray(g.standard_normal((n_out, n_in)).astype(
                np.float32)))
            self.bias = lnn.Parameter(lib.asarray(np.zeros(n_out, np.float32)))
            self.register_buffer("calls", lib.zeros(()))
            self.register_buffer("scratch", lib.zeros(2), persistent=False)

        def forward(self, x):
            return x @ self.weight.T + self.bias

        def extra_repr(self):
            return f"in={n_in}, out={n_out}"
    return Affine()


def _model(lib, seed=0):
    lnn = lib.nn

    class Net(lnn.Module):
        def __init__(self):
            super().__init__()
            self.first = _affine(lib, 3, 4, seed)
            self.blocks = lnn.ModuleList([_affine(lib, 4, 4, seed + 1 + i) for i in range(2)])
            self.heads = lnn.ModuleDict({"a": _affine(lib, 4, 2, seed + 5)})
            self.scale = lnn.Parameter(lib.ones(()))
            self.extra = lnn.ParameterList([lnn.Parameter(lib.ones(2))])

        def forward(self, x):
            x = self.first(x).tanh()
            for b in self.blocks:
                x = b(x).tanh()
            return self.heads["a"](x) * self.scale + self.extra[0]
    return Net()


def test_names_and_order_match_pytorch(be):
    ours, theirs = _model(it), _model(torch)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert all(isinstance(p, nn.Parameter) and isinstance(p, it.Tensor)
               for p in ours.parameters())
    assert ours.get_parameter("blocks.1.weight") is ours.blocks[1].weight
    assert ours.get_submodule("heads.a") is ours.heads["a"]
    assert ours.get_buffer("first.calls") is ours.first.calls


def test_forward_backward_match_pytorch_after_loading_its_state_dict(be):
    ours, theirs = _model(it, seed=1), _model(torch, seed=2)
    load_twin(ours, theirs)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    out_o, out_t = ours(it.asarray(x)), theirs(torch.from_numpy(x))
    assert_same(out_o, out_t, "output")
    out_o.sum().backward()
    out_t.sum().backward()
    for (n, p), (m, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert n == m
        assert_same(p.grad, q.grad, n)


def test_state_dict_shares_memory_and_detaches(be):
    m = _model(it)
    sd = m.state_dict()
    assert not sd["first.weight"].requires_grad
    with it.no_grad():
        sd["first.weight"][0, 0] = 7.0
    assert float(m.first.weight[0, 0]) == 7.0
    assert m.state_dict(keep_vars=True)["first.weight"] is m.first.weight
    assert "first.scratch" not in sd


def test_load_state_dict_errors_name_keys_and_shapes(be):
    m = _model(it)
    sd = dict(m.state_dict())
    del sd["first.bias"]
    sd["bogus.weight"] = it.zeros(1)
    sd["blocks.0.weight"] = it.zeros(5, 4)
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(sd)
    msg = str(e.value)
    assert 'Missing key(s) in state_dict: "first.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "bogus.weight"' in msg
    assert "size mismatch for blocks.0.weight" in msg and "[5, 4]" in msg and "[4, 4]" in msg
    # non-strict: mismatched keys are reported, shape mismatches still raise
    del sd["blocks.0.weight"]
    res = m.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["first.bias", "blocks.0.weight"]
    assert res.unexpected_keys == ["bogus.weight"]
    assert repr(m.load_state_dict(m.state_dict())) == "<All keys matched successfully>"
    with pytest.raises(TypeError, match="dict-like"):
        m.load_state_dict([1, 2])


def test_load_state_dict_copies_in_place_and_assign_replaces(be):
    m = _model(it)
    w = m.first.weight
    m.load_state_dict({k: v.clone() * 0 for k, v in m.state_dict().items()})
    assert m.first.weight is w and float(w.abs().sum()) == 0.0
    new = {k: v.clone() + 1 for k, v in m.state_dict().items()}
    m.load_state_dict(new, assign=True)
    assert m.first.weight is not w and isinstance(m.first.weight, nn.Parameter)
    assert m.first.weight.requires_grad


def test_registration_rules(be):
    m = nn.Module()
    m.p = nn.Parameter(it.ones(2))
    assert "p" in m._parameters
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'p'"):
        m.p = it.ones(2)
    m.p = None
    assert m.p is None and list(m.parameters()) == []
    m.register_buffer("b", it.zeros(2))
    m.b = it.ones(2)
    assert float(m.b.sum()) == 2.0
    with pytest.raises(TypeError, match="buffer 'b'"):
        m.b = 3
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("training", it.zeros(1))
    with pytest.raises(KeyError, match='contain "."'):
        m.register_parameter("a.b", nn.Parameter(it.ones(1)))
    m.sub = nn.Module()
    with pytest.raises(TypeError, match="child module 'sub'"):
        m.sub = 3
    m.buf = nn.Buffer(it.ones(3), persistent=False)
    assert "buf" in m._buffers and "buf" not in m.state_dict()
    del m.sub
    assert "sub" not in m._modules
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'nothing'"):
        m.nothing

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(it.ones(1))
    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_train_eval_requires_grad_zero_grad(be):
    m = _model(it)
    assert m.training and m.blocks[0].training
    m.eval()
    assert not m.training and not m.blocks[1].training and not m.heads["a"].training
    m.train()
    assert all(sub.training for sub in m.modules())
    with pytest.raises(ValueError, match="boolean"):
        m.train("no")
    m(it.ones(2, 3)).sum().backward()
    assert m.first.weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert float(m.first.weight.grad.abs().sum()) == 0.0
    m.zero_grad()
    assert m.first.weight.grad is None
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen[-1] == "Net" and seen[0] == "Affine"


def test_to_casts_floating_tensors_and_keeps_parameter_identity(be):
    m = _model(it)
    m.register_buffer("count", it.zeros((), dtype=it.int64))
    w = m.first.weight
    m.double()
    assert m.first.weight is w and w.dtype == it.float64
    assert m.first.calls.dtype == it.float64 and m.count.dtype == it.int64
    out = m(it.ones(1, 3, dtype=it.float64))
    assert out.dtype == it.float64
    m.to(it.float32)
    assert w.dtype == it.float32
    m.to(be.device)
    with pytest.raises(TypeError, match="floating point or complex"):
        m.to(it.int32)


def test_deepcopy_copies_parameters(be):
    m = _model(it)
    m2 = copy.deepcopy(m)
    assert m2.first.weight is not m.first.weight
    np.testing.assert_array_equal(to_np(m2.first.weight), to_np(m.first.weight))
    with it.no_grad():
        m2.first.weight.fill_(0.0)
    assert float(m.first.weight.abs().sum()) > 0
    assert isinstance(m2.first.weight, nn.Parameter) and m2.first.weight.requires_grad


def _hook_log(lib, model):
    log = []
    handles = []
    for name, mod in model.named_modules():
        if not name:
            continue
        handles.append(mod.register_forward_pre_hook(
            lambda m, a, name=name: log.append(("pre", name, tuple(a[0].shape)))))
        handles.append(mod.register_forward_hook(
            lambda m, a, o, name=name: log.append(("fwd", name, tuple(o.shape)))))
        handles.append(mod.register_full_backward_pre_hook(
            lambda m, go, name=name: log.append(("bwpre", name, [to_np_any(g) for g in go]))))
        handles.append(mod.register_full_backward_hook(
            lambda m, gi, go, name=name: log.append(
                ("bw", name, [to_np_any(g) for g in gi], [to_np_any(g) for g in go]))))
    return log, handles


def to_np_any(g):
    if g is None:
        return None
    if isinstance(g, torch.Tensor):
        return g.detach().numpy().copy()
    return to_np(g)


def test_hooks_fire_like_pytorchs(be):
    ours, theirs = _model(it), _model(torch)
    load_twin(ours, theirs)
    log_o, handles = _hook_log(it, ours)
    log_t, _ = _hook_log(torch, theirs)
    x = np.random.default_rng(1).standard_normal((2, 3)).astype(np.float32)
    xo = it.asarray(x).requires_grad_()
    xt = torch.from_numpy(x).requires_grad_()
    ours(xo).sum().backward()
    theirs(xt).sum().backward()
    assert [e[:2] for e in log_o] == [e[:2] for e in log_t]
    for a, b in zip(log_o, log_t):
        if a[0] in ("pre", "fwd"):
            assert a[2] == b[2]
            continue
        for ga, gb in zip(a[2:], b[2:]):
            assert len(ga) == len(gb)
            for u, v in zip(ga, gb):
                assert (u is None) == (v is None), a[:2]
                if u is not None:
                    np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)
    for h in handles:
        h.remove()
    log_o.clear()
    ours(xo)
    assert log_o == []


def test_hooks_replace_inputs_outputs_and_gradients(be):
    m = _affine(it, 2, 2, 0)
    m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    m.register_forward_hook(lambda mod, args, out: out + 1)
    m.register_full_backward_hook(lambda mod, gi, go: tuple(g * 10 for g in gi))
    x = it.ones(1, 2, requires_grad=True)
    y = m(x)
    expected = to_np(it.ones(1, 2) * 2 @ m.weight.T + m.bias + 1)
    np.testing.assert_allclose(to_np(y), expected, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), 20 * to_np(m.weight.sum(0, keepdim=True)),
                               rtol=1e-5)

    m2 = _affine(it, 2, 2, 0)
    m2.register_forward_pre_hook(lambda mod, args, kwargs: ((args[0] + 1,), kwargs),
                                 with_kwargs=True)
    np.testing.assert_allclose(to_np(m2(it.zeros(1, 2))), to_np(m2.forward(it.ones(1, 2))))

    seen = []
    m3 = _affine(it, 2, 2, 0)
    m3.register_forward_hook(lambda mod, a, o: seen.append(o), always_call=True)
    with pytest.raises(Exception):
        m3(it.ones(1, 3))
    assert seen == [None]


def test_global_hooks(be):
    seen = []
    h = nn.modules.module.register_module_forward_hook(lambda m, a, o: seen.append(type(m)))
    try:
        _affine(it, 2, 2, 0)(it.ones(1, 2))
    finally:
        h.remove()
    _affine(it, 2, 2, 0)(it.ones(1, 2))
    assert len(seen) == 1


def test_repr_layout_matches_pytorch(be):
    ours, theirs = _model(it), _model(torch)
    r_o, r_t = repr(ours), repr(theirs)
    # the same tree and indentation; only the tensor type names in ParameterList differ
    lines_o, lines_t = r_o.splitlines(), r_t.splitlines()
    assert len(lines_o) == len(lines_t)
    for a, b in zip(lines_o, lines_t):
        if "Parameter containing" in b:
            continue
        assert a == b


def test_containers_behave_like_pytorchs(be):
    def seq(lib):
        return lib.nn.Sequential(*[_affine(lib, 2, 2, i) for i in range(4)])
    s_o, s_t = seq(it), seq(torch)
    assert len(s_o) == 4 and list(s_o[1:3].state_dict()) == list(s_t[1:3].state_dict())
    del s_o[1]
    del s_t[1]
    assert list(s_o.state_dict()) == list(s_t.state_dict())
    s_o.append(_affine(it, 2, 2, 9))
    s_t.append(_affine(torch, 2, 2, 9))
    s_o.insert(0, _affine(it, 2, 2, 8))
    s_t.insert(0, _affine(torch, 2, 2, 8))
    assert list(s_o.state_dict()) == list(s_t.state_dict())
    load_twin(s_o, s_t)
    x = np.ones((1, 2), np.float32)
    assert_same(s_o(it.asarray(x)), s_t(torch.from_numpy(x)), "Sequential output")
    with pytest.raises(IndexError, match="out of range"):
        s_o[10]
    with pytest.raises(ValueError, match="Sequential"):
        s_o + nn.ModuleList()
    ml = nn.ModuleList([_affine(it, 2, 2, 0)])
    ml += [_affine(it, 2, 2, 1)]
    ml.extend([_affine(it, 2, 2, 2)])
    assert len(ml) == 3 and [n for n, _ in ml.named_children()] == ["0", "1", "2"]
    assert ml.pop(0) is not None and [n for n, _ in ml.named_children()] == ["0", "1"]
    md = nn.ModuleDict({"x": _affine(it, 2, 2, 0)})
    md.update([("y", _affine(it, 2, 2, 1))])
    assert list(md.keys()) == ["x", "y"] and "y" in md and md.pop("x") is not None
    pd = nn.ParameterDict({"a": it.ones(2)})
    pd["b"] = nn.Parameter(it.zeros(1))
    assert sorted(n for n, _ in pd.named_parameters()) == ["a", "b"]
    assert isinstance(pd["a"], nn.Parameter)
    pl = nn.ParameterList([it.ones(1)])
    pl.append(it.zeros(2))
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"] and len(pl) == 2


def _held(lib):
    """Weights held in a ParameterList and a ParameterDict and used by forward, written the
    same way against either library."""
    lnn = lib.nn
    g = np.random.default_rng(3)

    class Held(lnn.Module):
        def __init__(self):
            super().__init__()
            self.steps = lnn.ParameterList(
                [lnn.Parameter(lib.asarray(g.standard_normal((3, 3)).astype(np.float32)))
                 for _ in range(2)])
            self.affine = lnn.ParameterDict({
                "scale": lnn.Parameter(lib.asarray(g.standard_normal(3).astype(np.float32))),
                "shift": lnn.Parameter(lib.asarray(g.standard_normal(3).astype(np.float32)))})

        def forward(self, x):
            for w in self.steps:
                x = (x @ w).tanh()
            return x * self.affine["scale"] + self.affine["shift"]
    return Held()


def test_parameter_containers_in_a_twin_match_pytorch(be):
    """Parameters held in a ParameterList and a ParameterDict load from PyTorch's state_dict
    under PyTorch's names and get PyTorch's gradients."""
    ours, theirs = _held(it), _held(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    check_module(ours, theirs, np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))


def test_shared_parameters_counted_once(be):
    a = _affine(it, 2, 2, 0)
    s = nn.Sequential(a, a)
    assert len(list(s.parameters())) == 2
    assert list(s.state_dict()) == ["0.weight", "0.bias", "0.calls", "1.weight", "1.bias",
                                    "1.calls"]


def test_parameter_is_a_tensor_subclass(be):
    p = nn.Parameter(it.ones(2, 3))
    assert isinstance(p, it.Tensor) and p.requires_grad and p.is_leaf
    assert type(p * 2) is it.Tensor
    assert repr(p).startswith("Parameter containing:\n")
    assert not nn.Parameter(it.ones(2), requires_grad=False).requires_grad
    with pytest.raises(TypeError, match="expected a Tensor"):
        nn.Parameter([1.0, 2.0])
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(it.ones(2, dtype=it.int64))
    t = it.zeros(3)
    p = nn.Parameter(t)
    with it.no_grad():
        p.fill_(2.0)
    assert float(t.sum()) == 6.0       # shares memory, as PyTorch's


def test_forward_not_implemented():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


def test_failing_load_changes_nothing(be):
    m = _model(it)
    before = {k: to_np(v).copy() for k, v in m.state_dict().items()}
    sd = {k: v.clone() + 1 for k, v in m.state_dict().items()}
    sd["heads.a.weight"] = it.zeros(3, 3)       # one bad entry, after good ones
    with pytest.raises(RuntimeError, match="Nothing was loaded"):
        m.load_state_dict(sd)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(to_np(v), before[k])
    del sd["heads.a.weight"]
    with pytest.raises(RuntimeError, match="Missing key"):
        m.load_state_dict(sd)
    np.testing.assert_array_equal(to_np(m.first.weight), before["first.weight"])
    m.load_state_dict(sd, strict=False)
    np.testing.assert_array_equal(to_np(m.first.weight), before["first.weight"] + 1)


def test_load_state_dict_casts_and_moves_like_pytorch(be):
    m = _model(it)
    sd = {k: v.to(dtype=it.float64) if v.dtype.is_floating_point else v
          for k, v in m.state_dict().items()}
    with it.use_backend("cpu"):
        sd = {k: it.asarray(to_np(v)) for k, v in sd.items()}      # from another backend
    m.load_state_dict(sd)
    assert m.first.weight.dtype == it.float32 and m.first.weight.backend is be
