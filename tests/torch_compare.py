"""The one harness that runs the same computation in interop and in PyTorch and compares what
comes out: shapes, dtypes, values (NaN positions, infinities and, where asked, the sign of
zeros), gradients, module parameters and buffers, and the kind of error raised.

Two ways to write a comparison, one :func:`assert_same` under both:

* Twins, for ``interop.nn`` (tests/test_nn_*.py): ``check_function(ours, theirs, *args,
  **kwargs)`` and ``check_module(ours, theirs, *args)`` take NumPy arrays among ``args`` (and
  ``kwargs`` values): each becomes an interop tensor on the current backend and a torch
  tensor; floating ones require grad unless ``grad=False`` (or the array is wrapped as
  ``Const(array)``). Anything else is passed through unchanged. Outputs may be tensors, None,
  or (nested) tuples/lists of them. ``check_module`` first loads PyTorch's ``state_dict``
  into ours, and compares parameter gradients and buffers too. Every interop Module class
  whose ``forward`` ran inside a twin comparison that passed is recorded in
  :data:`TWIN_TESTED` (tests/test_nn_catalogue.py asserts that every class of ``interop.nn``
  is there).
* Calls written once as ``fn(L, *inputs)``, where ``L`` is the library (``interop`` or
  ``torch``), inputs given as :class:`In` (data, dtype, requires_grad) and built on both
  sides: :func:`compare` and :func:`assert_same_error` (test_semantics.py, test_kinks.py).

Tolerances (:func:`assert_same`): a composite computation (a layer, a loss: the default)
must agree to ``tol`` of each tensor's scale, its largest finite magnitude (at least 1):
float32 1e-5, float64 1e-10 (:data:`COMPOSITE_TOL`); pass ``tol=`` to widen it where the
algorithms legitimately differ (say why in the test). One op computing the same formula on
both sides (``single_op=True``, what :func:`compare` uses) must agree element by element,
relatively and absolutely, to 1e-12 in float64 and complex128, 2e-6 in every other dtype
(:data:`SINGLE_OP_TOL`).
"""

import contextlib
import math

import numpy as np
import pytest

import interop as it
from interop.nn.modules.module import (register_module_forward_hook,
                                       register_module_forward_pre_hook)
from helpers import to_np

torch = pytest.importorskip("torch")

COMPOSITE_TOL = {"float16": 1e-3, "bfloat16": 1e-2, "float32": 1e-5, "float64": 1e-10,
                 "complex64": 1e-5, "complex128": 1e-10}
SINGLE_OP_TOL = {"float64": 1e-12, "complex128": 1e-12}
_SINGLE_OP_DEFAULT = 2e-6

_BACKEND_WORDS = ("numpy", "array_api_strict", "array-api-strict", "ufunc", "axiserror", "jax")

# Every interop.nn Module class whose forward ran inside a twin comparison that passed
# (check_function, check_module, compare), for the whole session.
TWIN_TESTED = set()


# ------------------------------------------------------------------------------ comparison

def np_of(t):
    """A NumPy copy of an interop or torch tensor."""
    if isinstance(t, it.Tensor):
        return to_np(t)
    return t.detach().cpu().resolve_conj().numpy()


def dtype_name(t):
    return str(t.dtype).split(".")[-1]


def assert_same(ours, theirs, what="", tol=None, *, single_op=False, zero_sign=False):
    """Interop's ``ours`` is what torch's ``theirs`` is: None for None; for a tensor, an
    interop tensor of the same shape, dtype and values (NaN where torch has NaN, the same
    infinities, the sign of zeros with ``zero_sign``; integers and bools exactly; floats to
    the tolerance of the module docstring); for anything else, an equal non-tensor (NaN
    equal to NaN)."""
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
    dt = dtype_name(theirs)
    assert dtype_name(ours) == dt, f"{what}: dtype {dtype_name(ours)}, torch {dt}"
    a, b = np_of(ours), np_of(theirs)
    if a.dtype.kind not in "fc":
        np.testing.assert_array_equal(a, b, err_msg=what)
        return
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"{what}: NaN positions")
    np.testing.assert_array_equal(np.isinf(a), np.isinf(b), err_msg=f"{what}: infinities")
    if single_op:
        rtol = atol = tol if tol is not None else SINGLE_OP_TOL.get(dt, _SINGLE_OP_DEFAULT)
    else:
        rtol = tol if tol is not None else COMPOSITE_TOL.get(dt, 1e-5)
        finite = np.isfinite(b)
        scale = max(1.0, float(np.max(np.abs(b[finite]))) if finite.any() else 1.0)
        atol = rtol * scale
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
    if zero_sign:
        zero = (a == 0) & (b == 0)
        np.testing.assert_array_equal(np.signbit(a[zero]), np.signbit(b[zero]),
                                      err_msg=f"{what}: sign of zero")


def assert_same_distribution(ours, theirs, bound=None):
    """Mean, std and range of two large samples (an interop and a torch tensor, say a layer's
    default init) agree to sampling error; ``bound``: both lie within it and reach it."""
    a = np_of(ours).astype(np.float64)
    mo, so, lo_o, hi_o = a.mean(), a.std(), a.min(), a.max()
    mt, st, lo_t, hi_t = (float(f(theirs.detach().double())) for f in
                          (torch.mean, torch.std, torch.min, torch.max))
    n = ours.numel()
    assert abs(mo - mt) < 8 * st / math.sqrt(n), (mo, mt)
    assert abs(so - st) < 8 * st / math.sqrt(2 * n), (so, st)
    if bound is not None:
        assert -bound <= lo_o and hi_o <= bound and -bound <= lo_t and hi_t <= bound
        assert abs(hi_o - hi_t) < 0.02 * bound and abs(lo_o - lo_t) < 0.02 * bound


def _flatten(out):
    """The tensors of an output: a tensor, None, or (nested, named) tuples/lists of them."""
    if out is None:
        return [None]
    if isinstance(out, (tuple, list)):
        return [x for o in out for x in _flatten(o)]
    return [out]


@contextlib.contextmanager
def _recording(tree=None):
    """Records into TWIN_TESTED, if the block finishes without error (the comparisons that
    follow the forward are inside the block), the interop Module classes called inside it:
    the class when the call starts (a lazy module, which becomes its eager class on its
    first call) and when it ends; and, for the module ``tree`` of a twin, its containers
    without a forward (ModuleList, ParameterDict...): their parameters were loaded and
    compared by name."""
    seen = set()
    handles = [register_module_forward_pre_hook(lambda m, args: seen.add(type(m))),
               register_module_forward_hook(lambda m, args, out: seen.add(type(m)))]
    try:
        yield
    finally:
        for h in handles:
            h.remove()
    if tree is not None:
        seen.update(type(m) for m in tree.modules() if type(m).forward is it.nn.Module.forward)
    TWIN_TESTED.update(seen)


# ----------------------------------------------------------------- twins (interop.nn)

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


def _backward(outs_o, outs_t, seed):
    """One backward on both sides with the same random cotangent per float output."""
    rng = np.random.default_rng(seed)
    ro, rt, go, gt = [], [], [], []
    for o, t in zip(outs_o, outs_t):
        if isinstance(t, torch.Tensor) and t.requires_grad and t.dtype.is_floating_point:
            assert o.requires_grad, "torch's output requires grad, ours does not"
            c = rng.standard_normal(tuple(t.shape)).astype(dtype_name(t))
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
    with _recording():
        out_o, out_t, _ = _run_both(ours, theirs, args, kwargs, tol, grad, seed)
    return out_o, out_t


def check_second_order(fn_ours, fn_theirs, x):
    """The gradients of ``sum(grad(sum(f(x)**2 * c))**2)`` (a second derivative; ``c`` a
    fixed random cotangent) for NumPy array ``x`` agree on both sides."""
    def run(lib, fn):
        xt = lib.asarray(x.copy()).requires_grad_()
        y = fn(xt)
        c = np.random.default_rng(7).standard_normal(tuple(y.shape)).astype(str(x.dtype))
        g, = lib.autograd.grad((y * y * lib.asarray(c)).sum(), (xt,), create_graph=True)
        (g ** 2).sum().backward()
        return xt.grad
    assert_same(run(it, fn_ours), run(torch, fn_theirs), "second-order gradient")


def load_twin(ours, theirs):
    """Loads torch module ``theirs``'s state_dict into interop module ``ours`` (strict: the
    parameter names and shapes must be PyTorch's)."""
    state = {k: it.asarray(np_of(v)) for k, v in theirs.state_dict().items()}
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
    with _recording(ours):
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


# ------------------------------------------------------- calls written once, fn(L, ...)

class In:
    """An input: Python data with an optional dtype name; floats require grad by default."""

    def __init__(self, data, dtype=None, grad=None):
        self.data = data
        self.dtype = dtype
        self.grad = grad

    def build(self, lib):
        dt = getattr(lib, self.dtype) if self.dtype else None
        t = lib.tensor(self.data, dtype=dt)
        wants = self.grad if self.grad is not None else t.dtype.is_floating_point
        if wants:
            t.requires_grad_(True)
        return t

    def __repr__(self):
        return f"In({self.data!r}, {self.dtype!r})"


def build(inputs, lib):
    return [x.build(lib) if isinstance(x, In) else x for x in inputs]


def compare(be, fn, *inputs, grad=True, zero_sign=False, upstream=None):
    """Run ``fn`` on both libraries; compare the outputs (as one op: ``single_op``) and
    (``grad``) the gradients of ``sum(out * upstream)`` (``upstream`` default: ones) with
    respect to every float input."""
    with _recording():
        xi, xt = build(inputs, it), build(inputs, torch)
        oi, ot = _flatten(fn(it, *xi)), _flatten(fn(torch, *xt))
        assert len(oi) == len(ot), f"{len(oi)} outputs, torch {len(ot)}"
        for k, (a, b) in enumerate(zip(oi, ot)):
            assert_same(a, b, f"output {k}", single_op=True, zero_sign=zero_sign)
        if not grad:
            return oi, ot
        diff = [(a, b) for a, b in zip(oi, ot) if b.requires_grad]
        assert diff, "nothing to differentiate"
        for lib, outs in ((it, [a for a, _ in diff]), (torch, [b for _, b in diff])):
            ups = [lib.ones_like(o) if upstream is None else lib.tensor(upstream, dtype=o.dtype)
                   for o in outs]
            lib.autograd.backward(outs, ups)
        for j, (a, b) in enumerate(zip(xi, xt)):
            if isinstance(b, torch.Tensor) and b.requires_grad:
                want = b.grad if b.grad is not None else torch.zeros_like(b)
                got = a.grad if a.grad is not None else it.zeros_like(a)
                assert_same(got, want, f"gradient of input {j}", single_op=True)
    return oi, ot


def assert_same_error(be, fn, *inputs, also=None):
    """PyTorch raises; interop raises an exception of the same class (and of ``also``, the
    class the Array API standard names), with none of the backend's words in it."""
    xt = build(inputs, torch)
    with pytest.raises(Exception) as te:
        fn(torch, *xt)
    xi = build(inputs, it)
    with pytest.raises(Exception) as ie:
        fn(it, *xi)
    want = te.type
    if issubclass(want, NotImplementedError):      # PyTorch's "not implemented for 'Bool'"
        want = RuntimeError
    assert isinstance(ie.value, want), \
        f"interop raised {ie.type.__name__}({ie.value}), torch {te.type.__name__}"
    if also is not None:
        assert isinstance(ie.value, also), f"interop raised {ie.type.__name__}, expected a {also}"
    no_backend_words(ie.value)
    return ie.value


def no_backend_words(e):
    text = f"{type(e).__module__}.{type(e).__name__}: {e}".lower()
    for w in _BACKEND_WORDS:
        if w in text:
            raise AssertionError(f"the backend's words reach the user: {text}")


NAN = math.nan
INF = math.inf
