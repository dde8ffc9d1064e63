"""A differential test against PyTorch: hypothesis draws random programs (views, in-place
ops, broadcasting, reductions, mixed float dtypes), each runs step by step in interop and
in torch, and the two must agree at every step:

* a step that raises in one must raise in the other (the program goes on without it);
* every live value, its dtype, and whether it requires grad match;
* the first-order gradients of a random loss, and the gradients of a function of those
  gradients (second order), match -- or both raise (an in-place op on a saved value).

interop computes some masks at forward time where PyTorch saves the input and computes
them in backward (clamp, relu...), so after an in-place op on such an input PyTorch
raises and interop gives the gradient of the values the forward saw. Those programs are
checked against a third run, PyTorch with every saved tensor cloned when it is saved
(``saved_tensors_hooks``): the same forward-time semantics.

CI runs a bounded number of programs (the ``ci`` hypothesis profile); the ``soak``
profile (``HYPOTHESIS_PROFILE=soak``) runs hundreds per backend.
"""

import numpy as np
import pytest
from hypothesis import given, settings, HealthCheck, strategies as st

import interop as it

from helpers import to_np

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (4,), (2, 3, 4), (1, 4), (3, 1), ()]

UNARY = {
    "exp": lambda lib, x: (x / (1 + x.abs())).exp(),     # bounded: chains stay finite
    "tanh": lambda lib, x: x.tanh(),
    "sigmoid": lambda lib, x: x.sigmoid(),
    "sin": lambda lib, x: x.sin(),
    "abs": lambda lib, x: x.abs(),
    "relu": lambda lib, x: x.relu(),
    "neg": lambda lib, x: -x,
    "square": lambda lib, x: x * x,
    "sqrt1": lambda lib, x: (x * x + 1).sqrt(),
    "clone": lambda lib, x: x.clone(),
    "clamp": lambda lib, x: x.clamp(-0.5, 0.75),
    "float": lambda lib, x: x.float(),
    "double": lambda lib, x: x.double(),
}
def _standard(f, prepare_b=None):
    """A binary op as the Array API standard promotes: a 0-d tensor takes part in float
    promotion like any other (PyTorch would keep the dimensioned operand's float dtype;
    interop follows the standard there). ``prepare_b`` runs on ``b`` first, in b's dtype."""
    def g(lib, a, b):
        if prepare_b is not None:
            b = prepare_b(b)
        if lib is torch and a.dtype != b.dtype:
            common = torch.promote_types(a.dtype, b.dtype)
            a, b = a.to(common), b.to(common)
        return f(lib, a, b)
    return g


BINARY = {
    "add": _standard(lambda lib, a, b: a + b),
    "sub": _standard(lambda lib, a, b: a - b),
    "mul": _standard(lambda lib, a, b: a * b),
    "div": _standard(lambda lib, a, b: a / b, prepare_b=lambda b: b * b + 1),
    "maximum": _standard(lambda lib, a, b: lib.maximum(a, b)),
    "where": _standard(lambda lib, a, b: lib.where(a > b, a, b)),
}
SCALAR = {
    "add_s": lambda lib, a, c: a + c,
    "rsub_s": lambda lib, a, c: c - a,
    "mul_s": lambda lib, a, c: a * c,
    "pow2": lambda lib, a, c: a ** 2,
}
INPLACE_SCALAR = {
    "mul_": lambda lib, a, c: a.mul_(c),
    "add_": lambda lib, a, c: a.add_(c),
    "clamp_": lambda lib, a, c: a.clamp_(min=-abs(c)),
    "fill_": lambda lib, a, c: a.fill_(c),
    "tanh_": lambda lib, a, c: a.tanh_(),
    "sigmoid_": lambda lib, a, c: a.sigmoid_(),
    "iadd": lambda lib, a, c: a.__iadd__(c),
}
INPLACE_TENSOR = {
    "add_t": lambda lib, a, b: a.add_(b),
    "mul_t": lambda lib, a, b: a.mul_(b),
    "copy_": lambda lib, a, b: a.copy_(b),
    "isub": lambda lib, a, b: a.__isub__(b),
}


def _view(draw, shape):
    """A view-making step valid for ``shape`` (a function of (lib, x)) and its label."""
    nd = len(shape)
    kinds = ["slice", "unsqueeze", "flatten"] + (["t", "transpose", "select", "split"] if nd >= 1 else [])
    kinds += ["permute"] if nd >= 2 else []
    kinds += ["expand"] if nd >= 1 and 1 in shape else []
    kind = draw(st.sampled_from(kinds))
    if kind == "slice":
        key = []
        for n in shape:
            a = draw(st.integers(0, max(n - 1, 0)))
            b = draw(st.integers(a, n))
            key.append(slice(a, b, draw(st.sampled_from([1, 2]))))
        key = tuple(key[:draw(st.integers(0, nd))])
        return (lambda lib, x: x[key]), f"[{key}]"
    if kind == "unsqueeze":
        d = draw(st.integers(-nd - 1, nd))
        return (lambda lib, x: x.unsqueeze(d)), f".unsqueeze({d})"
    if kind == "flatten":
        return (lambda lib, x: x.reshape(-1)), ".reshape(-1)"
    if kind == "t":
        if nd > 2:
            return (lambda lib, x: x.mT), ".mT"
        return (lambda lib, x: x.t()), ".t()"
    if kind == "transpose":
        a, b = draw(st.integers(0, nd - 1)), draw(st.integers(0, nd - 1))
        return (lambda lib, x: x.transpose(a, b)), f".transpose({a}, {b})"
    if kind == "select":
        d = draw(st.integers(0, nd - 1))
        i = draw(st.integers(-shape[d], shape[d] - 1)) if shape[d] else 0
        return (lambda lib, x: x.select(d, i) if hasattr(x, "select") else x[(slice(None),) * d + (i,)]), \
            f"[{d}:{i}]"
    if kind == "split":
        d = draw(st.integers(0, nd - 1))
        k = draw(st.integers(1, max(shape[d], 1)))
        j = draw(st.integers(0, 3))
        return (lambda lib, x: x.split(k, d)[min(j, len(x.split(k, d)) - 1)]), f".split({k},{d})[{j}]"
    if kind == "permute":
        p = tuple(draw(st.permutations(range(nd))))
        return (lambda lib, x: x.permute(*p)), f".permute{p}"
    target = tuple(3 if n == 1 else n for n in shape)
    return (lambda lib, x: x.expand(*target)), f".expand{target}"


def _clone_saved():
    return torch.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t)


def _apply(fn, a, b):
    """Run ``fn`` on the three sides (interop, torch, torch cloning what it saves):
    results and exceptions, one per side."""
    out, err = [None] * 3, [None] * 3
    for i, lib in enumerate((it, torch, torch)):
        try:
            if i == 2:
                with _clone_saved():
                    out[i] = fn(lib, a[i], b[i] if b is not None else None)
            else:
                out[i] = fn(lib, a[i], b[i] if b is not None else None)
        except Exception as e:      # noqa: BLE001 - any error must be mirrored
            err[i] = e
    return out, err


def _agree(pair, where, loose=False):
    """Same shape, dtype, requires_grad and values (``loose``: float32 took part somewhere,
    so values carry float32 rounding, which NumPy and PyTorch do not round alike)."""
    x, t = pair
    assert tuple(x.shape) == tuple(t.shape), f"{where}: shape {tuple(x.shape)} vs {tuple(t.shape)}"
    assert str(x.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], \
        f"{where}: dtype {x.dtype} vs {t.dtype}"
    assert x.requires_grad == t.requires_grad, \
        f"{where}: requires_grad {x.requires_grad} vs {t.requires_grad}"
    tol = 1e-4 if loose or x.dtype is it.float32 else 1e-10
    np.testing.assert_allclose(to_np(x), t.detach().numpy(), rtol=tol, atol=tol, err_msg=where)


@st.composite
def programs(draw):
    n_leaves = draw(st.integers(1, 3))
    leaves = [(draw(st.sampled_from(SHAPES)), draw(st.sampled_from(["float64", "float64", "float32"])))
              for _ in range(n_leaves)]
    steps = []
    for _ in range(draw(st.integers(3, 14))):
        kind = draw(st.sampled_from(["unary", "binary", "scalar", "view", "view", "inplace_s",
                                     "inplace_t", "setitem", "reduce", "nograd_inplace"]))
        steps.append((kind, draw(st.integers(0, 10 ** 6)), draw(st.data())))
    return leaves, steps, draw(st.integers(0, 2 ** 32 - 1))


def _step(kind, pick, data, vals, log):
    """Draw the details of one step against the live values and run it on both sides."""
    ia, ib = pick % len(vals), (pick // 7) % len(vals)
    a, b = vals[ia], vals[ib]
    shape = tuple(a[1].shape)
    if kind == "unary":
        name = data.draw(st.sampled_from(sorted(UNARY)))
        f = UNARY[name]
        log.append(f"{name}(v{ia})")
        return _apply(lambda lib, x, _: f(lib, x), a, None)
    if kind == "binary":
        name = data.draw(st.sampled_from(sorted(BINARY)))
        f = BINARY[name]
        log.append(f"{name}(v{ia}, v{ib})")
        return _apply(f, a, b)
    if kind == "scalar":
        name = data.draw(st.sampled_from(sorted(SCALAR)))
        c = data.draw(st.sampled_from([0.5, -2.0, 3, 0.0]))
        f = SCALAR[name]
        log.append(f"{name}(v{ia}, {c})")
        return _apply(lambda lib, x, _: f(lib, x, c), a, None)
    if kind == "view":
        f, label = _view(data.draw, shape)
        log.append(f"v{ia}{label}")
        return _apply(lambda lib, x, _: f(lib, x), a, None)
    if kind in ("inplace_s", "nograd_inplace"):
        name = data.draw(st.sampled_from(sorted(INPLACE_SCALAR)))
        c = data.draw(st.sampled_from([0.5, -1.5, 2.0]))
        f = INPLACE_SCALAR[name]
        nograd = kind == "nograd_inplace"
        log.append(f"{'no_grad: ' if nograd else ''}v{ia}.{name}({c})")

        def run(lib, x, _):
            if nograd:
                with lib.no_grad():
                    return f(lib, x, c)
            return f(lib, x, c)
        return _apply(run, a, None)
    if kind == "inplace_t":
        name = data.draw(st.sampled_from(sorted(INPLACE_TENSOR)))
        f = INPLACE_TENSOR[name]
        log.append(f"v{ia}.{name}(v{ib})" + (_OVERLAP if _partial_overlap(a[1], b[1]) else ""))
        return _apply(f, a, b)
    if kind == "setitem":
        key = tuple(data.draw(st.integers(-n, n - 1)) if data.draw(st.booleans()) and n
                    else slice(0, max(n - 1, 1)) for n in shape)
        use_tensor = data.draw(st.booleans())
        log.append(f"v{ia}[{key}] = {'v' + str(ib) + '.sum()' if use_tensor else 1.5}")

        def run(lib, x, y):
            x[key] = y.sum() if use_tensor else 1.5
            return x
        return _apply(run, a, b)
    # reduce
    nd = len(shape)
    how = data.draw(st.sampled_from(["sum", "mean", "amax", "sum_dim"] if nd else ["sum", "mean"]))
    d = data.draw(st.integers(-nd, nd - 1)) if nd else None
    keep = data.draw(st.booleans())
    log.append(f"v{ia}.{how}({d}, keepdim={keep})")

    def run(lib, x, _):
        if how == "sum":
            return x.sum()
        if how == "mean":
            return x.mean()
        if how == "amax":
            return x.amax(d, keepdim=keep)
        return x.sum(d, keepdim=keep)
    return _apply(run, a, None)


_OVERLAP = "  (operand overlaps the written memory)"


def _partial_overlap(t, o):
    """``t op= o`` where ``o`` shares memory with ``t`` without being ``t``: PyTorch reads
    ``o`` as the kernel goes (the result depends on the traversal order, undefined in its
    docs; it raises only when it notices), interop reads ``o`` first, as NumPy does."""
    return t is not o and t.untyped_storage().data_ptr() == o.untyped_storage().data_ptr()


def _deliberate_difference(torch_error):
    """Errors PyTorch raises where interop computes the right value on purpose: in-place ops
    whose operand overlaps the written memory (interop reads the operand first, as NumPy),
    the backward of a constant written through a broadcast view (interop gives the
    aliased memory's gradient), and in-place ops around the outputs of multi-output view
    functions (split, unbind), which PyTorch cannot regenerate and interop can."""
    text = str(torch_error)
    return ("to a single memory location" in text
            or "function that returns multiple views" in text)


def _run_program(prog):
    leaf_specs, steps, seed = prog
    rng = np.random.default_rng(seed)
    vals, leaves, log = [], [], []
    for shape, dt in leaf_specs:
        data = rng.uniform(-2, 2, shape).round(2)    # exact in float32: no rounding ties apart
        x = it.tensor(data.tolist() if shape else float(data), dtype=getattr(it, dt),
                      requires_grad=True)
        t = torch.tensor(data, dtype=getattr(torch, dt), requires_grad=True)
        u = torch.tensor(data, dtype=getattr(torch, dt), requires_grad=True)
        vals.append((x, t, u))
        leaves.append((x, t, u))
        log.append(f"v{len(vals) - 1} = leaf{shape} {dt}")
    for kind, pick, data in steps:
        (x, t, u), (ex, et, _) = _step(kind, pick, data, vals, log)
        where = " ; ".join(log)
        if (et is not None and _deliberate_difference(et)) or log[-1].endswith(_OVERLAP):
            return None
        assert (ex is None) == (et is None), \
            f"{where}\n  interop {'raised ' + repr(ex) if ex else 'ran'}, torch " \
            f"{'raised ' + repr(et) if et else 'ran'}"
        if ex is not None:
            log[-1] += "  (both raised)"
            continue
        if x is None or not hasattr(x, "shape") or x.dtype not in (it.float32, it.float64):
            continue
        loose = any(v[0].dtype is it.float32 for v in vals) or x.dtype is it.float32
        _agree((x, t), where, loose)
        vals.append((x, t, u))
        log[-1] = f"v{len(vals) - 1} = " + log[-1]
    where = " ; ".join(log)
    loose = any(v[0].dtype is it.float32 for v in vals)
    for i, (x, t, _) in enumerate(vals):     # in-place steps changed earlier values: all agree
        _agree((x, t), f"{where}\n  final v{i}", loose)
    return vals, leaves, where, rng


def _losses(vals, rng):
    """The same random weighted sum of every live value that requires grad, per side; None
    where there is none (or torch refuses to read one of them, a deliberate difference)."""
    terms = ([], [], [])
    for x, t, u in vals:
        if not t.requires_grad:
            continue
        try:
            t.sum()
        except RuntimeError as e:        # torch refuses to read such a view at all
            if _deliberate_difference(e):
                return None
            raise
        w = rng.uniform(-1, 1, tuple(t.shape))
        terms[0].append((x * it.tensor(w, dtype=x.dtype)).sum())
        terms[1].append((t * torch.tensor(w, dtype=t.dtype)).sum())
        with _clone_saved():
            terms[2].append((u * torch.tensor(w, dtype=u.dtype)).sum())
    if not terms[0]:
        return None
    return [sum(ts[1:], ts[0]) for ts in terms]


def _compare_grads(gx, gt, where, tol):
    for i, (a, b) in enumerate(zip(gx, gt)):
        assert (a is None) == (b is None), f"{where}\n  gradient {i}: {a} vs {b}"
        if a is not None:
            assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], \
                f"{where}\n  gradient {i} dtype {a.dtype} vs {b.dtype}"
            np.testing.assert_allclose(to_np(a), b.detach().numpy(force=True), rtol=tol, atol=tol,
                                       err_msg=f"{where}\n  gradient {i}")


def _both_or_neither(fx, ft):
    """(interop result, torch result); None where torch raises (then interop must raise too,
    e.g. for an in-place op on a value the backward needs)."""
    try:
        rt = ft()
    except RuntimeError:
        with pytest.raises(RuntimeError):
            fx()
        return None
    return fx(), rt


_FUZZ = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
                 max_examples=settings.default.max_examples * 5, deadline=None)


@_FUZZ
@given(prog=programs())
def test_random_programs_match_torch(be, prog):
    ran = _run_program(prog)
    if ran is None:
        return
    vals, leaves, where, rng = ran
    tol = 1e-4 if any(x.dtype is it.float32 for x, _, _ in vals) else 1e-9
    losses = _losses(vals, rng)
    if losses is None:
        return
    lx, lt, lu = losses
    xs, ts, us = ([v[i] for v in leaves] for i in range(3))
    try:
        gt = torch.autograd.grad(lt, ts, allow_unused=True, create_graph=True)
    except RuntimeError as e:
        if _deliberate_difference(e):
            return
        if "modified by an inplace operation" not in str(e):
            with pytest.raises(RuntimeError):
                it.autograd.grad(lx, xs, allow_unused=True, create_graph=True)
            return
        try:        # interop may compute it from what the forward saw: so does the third side
            gx = it.autograd.grad(lx, xs, allow_unused=True, create_graph=True)
        except RuntimeError:
            return
        with _clone_saved():
            gt = torch.autograd.grad(lu, us, allow_unused=True, create_graph=True)
        ts = us
        where += "\n  (against torch with saved tensors cloned)"
    else:
        gx = it.autograd.grad(lx, xs, allow_unused=True, create_graph=True)
    _compare_grads(gx, gt, where, tol)
    _second_order(gx, gt, xs, ts, where, tol)


def _second_order(gx, gt, xs, ts, where, tol):
    """The gradient of a function of the gradients. A gradient that does not depend on the
    inputs (relu, abs, clamp alone) is a constant in interop, where PyTorch keeps it on the
    graph with a zero derivative: values are compared, a constant counting as zero."""
    pairs = [(g, h) for g, h in zip(gx, gt) if g is not None and h.requires_grad]
    sx = [(g * g).sum() for g, _ in pairs if g.requires_grad]
    st_ = [(h * h).sum() for _, h in pairs]
    if not st_:
        assert not sx, f"{where}\n  a gradient requires grad only in interop"
        return
    try:
        tsec = torch.autograd.grad(sum(st_[1:], st_[0]), ts, allow_unused=True,
                                   materialize_grads=True)
    except RuntimeError:
        if sx:
            with pytest.raises(RuntimeError):
                it.autograd.grad(sum(sx[1:], sx[0]), xs, allow_unused=True)
        return
    if not sx:
        for h in tsec:
            np.testing.assert_array_equal(h.numpy(), 0, err_msg=f"{where}\n  (second order)")
        return
    isec = it.autograd.grad(sum(sx[1:], sx[0]), xs, allow_unused=True, materialize_grads=True)
    _compare_grads(isec, tsec, where + "\n  (second order)", tol)
