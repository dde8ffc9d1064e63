"""``gradcheck`` and ``gradgradcheck``: analytical gradients against central finite
differences (use float64 inputs)."""

import warnings

from .engine import grad as _grad
from .grad_mode import state as _gm, no_grad
from .variable import Variable

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,) if not isinstance(x, list) else tuple(x)


def _flat_values(t):
    return [complex(v) if isinstance(v, complex) else float(v)
            for v in _ravel(t.detach().tolist())]


def _ravel(v):
    if isinstance(v, list):
        out = []
        for e in v:
            out.extend(_ravel(e))
        return out
    return [v]


def _numerical_jacobian(fn, inputs, eps):
    """J[k][i] = d outputs[k].ravel() / d inputs[i].ravel(), as nested lists of floats."""
    jac = []
    for i, x in enumerate(inputs):
        if not (isinstance(x, Variable) and x.requires_grad):
            jac.append(None)
            continue
        n = x.numel()
        cols = []
        flat = x.__array_namespace__().reshape(x.detach(), (-1,))
        for j in range(n):
            orig = flat[j].item()
            with no_grad():
                flat[j] = orig + eps
            plus = [_flat_values(o) for o in _as_tuple(fn(*inputs))]
            with no_grad():
                flat[j] = orig - eps
            minus = [_flat_values(o) for o in _as_tuple(fn(*inputs))]
            with no_grad():
                flat[j] = orig
            cols.append([[(p - m) / (2 * eps) for p, m in zip(po, mo)] for po, mo in zip(plus, minus)])
        jac.append(cols)   # cols[j][k][r]
    return jac


def _analytical_jacobian(outputs, inputs):
    diff_inputs = [x for x in inputs if isinstance(x, Variable) and x.requires_grad]
    result = {id(x): [] for x in diff_inputs}    # per input: per output k: per r: grad vector
    for k, o in enumerate(outputs):
        if not isinstance(o, Variable) or not o.requires_grad:
            for x in diff_inputs:
                result[id(x)].append(None)
            continue
        m = o.numel()
        rows = {id(x): [] for x in diff_inputs}
        xp = o.__array_namespace__()
        for r in range(m):
            go = xp.zeros_like(o)
            flat = xp.reshape(go, (-1,))
            with no_grad():
                flat[r] = 1.0
            grads = _grad(o, diff_inputs, grad_outputs=go, retain_graph=True, allow_unused=True)
            for x, gx in zip(diff_inputs, grads):
                rows[id(x)].append([0.0] * x.numel() if gx is None else _flat_values(gx))
        for x in diff_inputs:
            result[id(x)].append(rows[id(x)])
    return result


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compare ``func``'s gradients with central finite differences, for every input that
    requires grad and every output. Inputs should be float64."""
    inputs = _as_tuple(inputs)
    for i, x in enumerate(inputs):
        if isinstance(x, Variable) and x.requires_grad and x.dtype.name not in ("float64",
                                                                                 "complex128"):
            warnings.warn(f"gradcheck: input {i} has dtype {x.dtype}; use float64 for a reliable "
                          f"check", UserWarning, stacklevel=2)
    prev = _gm.enabled
    _gm.enabled = True
    try:
        outputs = _as_tuple(func(*inputs))
        analytical = _analytical_jacobian(outputs, inputs)
        numerical = _numerical_jacobian(func, inputs, eps)
    finally:
        _gm.enabled = prev
    for i, x in enumerate(inputs):
        if numerical[i] is None:
            continue
        for k, o in enumerate(outputs):
            an = analytical[id(x)][k]
            if an is None:
                continue
            for r in range(len(an)):
                for j in range(len(numerical[i])):
                    a = an[r][j]
                    nval = numerical[i][j][k][r]
                    # (written so that a NaN on one side only is a mismatch)
                    same_nan = a != a and nval != nval
                    if not same_nan and not abs(a - nval) <= atol + rtol * abs(nval):
                        msg = (f"Jacobian mismatch for output {k} with respect to input {i}: "
                               f"d out[{r}] / d in[{j}] numerical {nval!r} analytical {a!r} "
                               f"(input shape {tuple(x.shape)}, output shape {tuple(o.shape)}, "
                               f"atol={atol}, rtol={rtol})")
                        if raise_exception:
                            raise GradcheckError(msg)
                        return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True):
    """Check second derivatives: gradcheck of ``(inputs, grad_outputs) -> grad(func)``."""
    inputs = _as_tuple(inputs)
    outputs = _as_tuple(func(*inputs))
    xp = next(x for x in inputs if isinstance(x, Variable)).__array_namespace__()
    if grad_outputs is None:
        g = xp.Generator().manual_seed(1234)
        grad_outputs = tuple(xp.randn(*o.shape, generator=g, dtype=o.dtype, device=o._be)
                             .requires_grad_(True) for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Variable) and x.requires_grad]

    def first_grad(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs = _as_tuple(func(*ins))
        diff = [ins[i] for i in diff_idx]
        used = [(o, go) for o, go in zip(outs, gos) if isinstance(o, Variable) and o.requires_grad]
        gs = _grad([o for o, _ in used], diff, grad_outputs=[go for _, go in used],
                   create_graph=True, allow_unused=True)
        return tuple(gx if gx is not None else xp.zeros_like(d) for gx, d in zip(gs, diff))

    return gradcheck(first_grad, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
