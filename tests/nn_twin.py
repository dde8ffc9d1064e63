"""Twin tests for ``interop.nn``: the same function or layer run in interop and in PyTorch
on the same data (and, for layers, the same weights: PyTorch's ``state_dict`` is loaded into
ours), then outputs, input gradients and parameter gradients compared.

``check_function(ours, theirs, *args, **kwargs)`` and ``check_module(ours, theirs, *args)``
take NumPy arrays among ``args`` (and ``kwargs`` values): each becomes an interop tensor on
the current backend and a torch tensor; floating ones require grad unless ``grad=False``
(or the array is wrapped as ``Const(array)``). Anything else is passed through unchanged.
Outputs may be tensors, None, or (nested) tuples/lists of them. Float32 results must agree
to 1e-5 of each tensor's scale (its largest magnitude, at least 1), float64 to 1e-10; pass
``tol=`` to widen it where the algorithms legitimately differ (say why in the test).
"""

import numpy as np
import pytest

import interop as it
from helpers import to_np

torch = pytest.importorskip("torch")

_TOL = {"float32": 1e-5, "float64": 1e-10, "float16": 1e-3, "bfloat16": 1e-2}


class Const:
    """An array argument that never requires grad (an index, a mask, a target)."""

    def __init__(self, array):
        self.array = np.asarray(array)


def pair(a, grad=True):
    """(interop tensor on the current backend, torch tensor) holding NumPy array ``a``."""
    a = np.asarray(a)
    ours = it.asarray(a.copy())
    theirs = torch.from_numpy(a.copy())
    if grad and a.dtype.kind in "fc":
        ours.requires_grad_(True)
        theirs.requires_grad_(True)
    return ours, theirs


def _build(args, grad):
    ours, theirs, leaves = [], [], []
    for a in args:
        if isinstance(a, Const):
            o, t = pair(a.array, grad=False)
        elif isinstance(a, np.ndarray):
            o, t = pair(a, grad=grad)
            if o.requires_grad:
                leaves.append((o, t))
        elif isinstance(a, (list, tuple)) and a and all(isinstance(x, np.ndarray) for x in a):
            o, t, sub = _build(a, grad)
            o, t = type(a)(o), type(a)(t)
            leaves.extend(sub)
        else:
            o = t = a
        ours.append(o)
        theirs.append(t)
    return ours, theirs, leaves


def _flatten(out):
    if out is None:
        return [None]
    if isinstance(out, (tuple, list)):
        return [x for o in out for x in _flatten(o)]
    return [out]


def torch_to_numpy(t):
    return t.detach().cpu().resolve_conj().numpy()


def assert_same(ours, theirs, what, tol=None):
    """Shape, dtype and values of interop tensor ``ours`` equal torch tensor ``theirs``."""
    if theirs is None or ours is None:
        assert ours is None and theirs is None, f"{what}: ours {ours!r}, torch {theirs!r}"
        return
    if not isinstance(theirs, torch.Tensor):
        assert not isinstance(ours, it.Tensor), f"{what}: ours is a tensor, torch's {theirs!r}"
        assert ours == theirs or (ours != ours and theirs != theirs), \
            f"{what}: ours {ours!r}, torch {theirs!r}"
        return
    assert isinstance(ours, it.Tensor), f"{what}: expected a tensor, got {type(ours).__name__}"
    assert tuple(ours.shape) == tuple(theirs.shape), \
        f"{what}: shape {tuple(ours.shape)}, torch {tuple(theirs.shape)}"
    dt = str(theirs.dtype).split(".")[-1]
    assert str(ours.dtype).split(".")[-1] == dt, f"{what}: dtype {ours.dtype}, torch {dt}"
    a, b = to_np(ours), torch_to_numpy(theirs)
    if a.dtype.kind in "fc":
        rel = tol if tol is not None else _TOL.get(dt, 1e-5)
        finite = np.isfinite(b)
        scale = max(1.0, float(np.max(np.abs(b[finite]))) if finite.any() else 1.0)
        np.testing.assert_allclose(a, b, rtol=rel, atol=rel * scale, equal_nan=True,
                                   err_msg=what)
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)


def _backward(outs_o, outs_t, seed):
    """One backward on both sides with the same random cotangent per float output."""
    rng = np.random.default_rng(seed)
    ro, rt, go, gt = [], [], [], []
    for o, t in zip(outs_o, outs_t):
        if isinstance(t, torch.Tensor) and t.requires_grad and t.dtype.is_floating_point:
            assert o.requires_grad, "torch's output requires grad, ours does not"
            c = rng.standard_normal(tuple(t.shape)).astype(str(t.dtype).split(".")[-1])
            ro.append(o)
            rt.append(t)
            go.append(it.asarray(c))
            gt.append(torch.from_numpy(c))
    if ro:
        it.autograd.backward(ro, go)
        torch.autograd.backward(rt, gt)
    return bool(ro)


def _compare_outputs(out_o, out_t, tol, what="output"):
    flat_o, flat_t = _flatten(out_o), _flatten(out_t)
    assert len(flat_o) == len(flat_t), f"{len(flat_o)} outputs, torch {len(flat_t)}"
    for i, (o, t) in enumerate(zip(flat_o, flat_t)):
        assert_same(o, t, f"{what} {i}", tol)
    return flat_o, flat_t


def _run_both(ours, theirs, args, kwargs, tol, grad, seed):
    """Calls both sides on the same inputs, compares the outputs and, after one backward
    with a shared cotangent, the inputs' gradients; True when that backward ran."""
    a_o, a_t, leaves = _build(args, grad)
    names = list(kwargs)
    k_o, k_t, kleaves = _build([kwargs[k] for k in names], grad)
    leaves += kleaves
    out_o = ours(*a_o, **dict(zip(names, k_o)))
    out_t = theirs(*a_t, **dict(zip(names, k_t)))
    flat_o, flat_t = _compare_outputs(out_o, out_t, tol)
    backed = grad and _backward(flat_o, flat_t, seed)
    if backed:
        for i, (o, t) in enumerate(leaves):
            assert_same(o.grad, t.grad, f"gradient of input {i}", tol)
    return out_o, out_t, backed


def check_function(ours, theirs, *args, tol=None, grad=True, seed=0, **kwargs):
    """Runs ``ours(*args, **kwargs)`` and ``theirs(...)`` on the same data and compares
    outputs and (with ``grad``) the gradients of every floating input."""
    out_o, out_t, _ = _run_both(ours, theirs, args, kwargs, tol, grad, seed)
    return out_o, out_t


def load_twin(ours, theirs):
    """Loads torch module ``theirs``'s state_dict into interop module ``ours`` (strict: the
    parameter names and shapes must be PyTorch's)."""
    state = {k: it.asarray(torch_to_numpy(v)) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)


def check_module(ours, theirs, *args, train=True, tol=None, grad=True, seed=0, load=True,
                 **kwargs):
    """Copies ``theirs``'s weights into ``ours``, sets both to train/eval mode, calls both on
    the same inputs and compares outputs, input gradients, parameter gradients (by name)
    and, afterwards, buffers (running statistics)."""
    if load:
        load_twin(ours, theirs)
    ours.train(train)
    theirs.train(train)
    out_o, out_t, backed = _run_both(ours, theirs, args, kwargs, tol, grad, seed)
    if backed:
        params_t = dict(theirs.named_parameters())
        params_o = dict(ours.named_parameters())
        assert sorted(params_o) == sorted(params_t), \
            f"parameters {sorted(params_o)}, torch {sorted(params_t)}"
        for name, p in params_t.items():
            assert_same(params_o[name].grad, p.grad, f"gradient of {name}", tol)
    buffers_t = dict(theirs.named_buffers())
    buffers_o = dict(ours.named_buffers())
    assert sorted(buffers_o) == sorted(buffers_t), \
        f"buffers {sorted(buffers_o)}, torch {sorted(buffers_t)}"
    for name, b in buffers_t.items():
        assert_same(buffers_o[name], b, f"buffer {name}", tol)
    return out_o, out_t
