"""``gradcheck`` and ``gradgradcheck``: analytical gradients against central finite
differences (use float64 inputs)."""

from . import graph as _graph
from .grad_mode import state as _gm

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
    import interop
    Tensor = _graph.Tensor
    jac = []
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            jac.append(None)
            continue
        n = x.numel()
        cols = []
        flat = interop.reshape(x.detach(), (-1,))
        for j in range(n):
            orig = float(flat[j].item())
            with interop.no_grad():
                flat[j] = orig + eps
            plus = [_flat_values(o) for o in _as_tuple(fn(*inputs))]
            with interop.no_grad():
                flat[j] = orig - eps
            minus = [_flat_values(o) for o in _as_tuple(fn(*inputs))]
            with interop.no_grad():
                flat[j] = orig
            cols.append([[(p - m) / (2 * eps) for p, m in zip(po, mo)] for po, mo in zip(plus, minus)])
        jac.append(cols)   # cols[j][k][r]
    return jac


def _analytical_jacobian(outputs, inputs):
    import interop
    Tensor = _graph.Tensor
    diff_inputs = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    result = {id(x): [] for x in diff_inputs}    # per input: per output k: per r: grad vector
    for k, o in enumerate(outputs):
        if not isinstance(o, Tensor) or not o.requires_grad:
            for x in diff_inputs:
                result[id(x)].append(None)
            continue
        m = o.numel()
        rows = {id(x): [] for x in diff_inputs}
        for r in range(m):
            go = interop.zeros_like(o)
            flat = interop.reshape(go, (-1,))
            with interop.no_grad():
                flat[r] = 1.0
            grads = _graph.grad(o, diff_inputs, grad_outputs=go, retain_graph=True, allow_unused=True)
            for x, gx in zip(diff_inputs, grads):
                rows[id(x)].append([0.0] * x.numel() if gx is None else _flat_values(gx))
        for x in diff_inputs:
            result[id(x)].append(rows[id(x)])
    return result


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compare ``func``'s gradients with central finite differences, for every input that
    requires grad and every output. Inputs should be float64."""
    import interop
    Tensor = _graph.Tensor
    inputs = _as_tuple(inputs)
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype not in (interop.float64,
                                                                          interop.complex128):
            import warnings
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
                    if abs(a - nval) > atol + rtol * abs(nval):
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
    import interop
    Tensor = _graph.Tensor
    inputs = _as_tuple(inputs)
    outputs = _as_tuple(func(*inputs))
    if grad_outputs is None:
        g = interop.Generator().manual_seed(1234)
        grad_outputs = tuple(interop.randn(*o.shape, generator=g, dtype=o.dtype, device=o._be)
                             .requires_grad_(True) for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_grad(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs = _as_tuple(func(*ins))
        diff = [ins[i] for i in diff_idx]
        used = [(o, go) for o, go in zip(outs, gos) if isinstance(o, Tensor) and o.requires_grad]
        gs = _graph.grad([o for o, _ in used], diff, grad_outputs=[go for _, go in used],
                         create_graph=True, allow_unused=True)
        return tuple(gx if gx is not None else interop.zeros_like(d) for gx, d in zip(gs, diff))

    return gradcheck(first_grad, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
