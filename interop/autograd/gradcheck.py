"""``gradcheck`` and ``gradgradcheck``: analytical gradients against central finite
differences (use float64 inputs)."""

import random
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


def _one_hot_like(x, j, value):
    """A tensor of x's shape, dtype and device: ``value`` at flat position ``j``, 0 elsewhere."""
    xp = x.__array_namespace__()
    pos = xp.arange(x.numel(), device=x.device) == j
    hot = xp.where(pos, xp.asarray(value, dtype=x.dtype, device=x.device),
                   xp.zeros((), dtype=x.dtype, device=x.device))
    return xp.reshape(hot, tuple(x.shape))


def _with(inputs, i, value):
    return inputs[:i] + (value,) + inputs[i + 1:]


def _numerical_jacobian(fn, inputs, eps):
    """J[i][j][k][r] = d outputs[k].ravel()[r] / d inputs[i].ravel()[j] by central differences
    along the real axis, and for a complex input also along the imaginary one:
    ``(along real, along imaginary or None)``."""
    jac = []
    for i, x in enumerate(inputs):
        if not (isinstance(x, Variable) and x.requires_grad):
            jac.append(None)
            continue
        steps = (eps, 1j * eps) if x.dtype.is_complex else (eps,)
        cols = []
        base = x.detach()
        for j in range(x.numel()):
            per_step = []
            for h in steps:
                # (perturbed copies, not writes into x: immutable backends such as JAX's
                # have no memory to write into)
                # (leaves that require grad as x does: fn may differentiate, as gradgradcheck's)
                with no_grad():
                    step = _one_hot_like(base, j, h)
                    up, down = (base + step).requires_grad_(), (base - step).requires_grad_()
                plus = [_flat_values(o) for o in _as_tuple(fn(*_with(inputs, i, up)))]
                minus = [_flat_values(o) for o in _as_tuple(fn(*_with(inputs, i, down)))]
                per_step.append([[(p - m) / (2 * eps) for p, m in zip(po, mo)]
                                 for po, mo in zip(plus, minus)])
            cols.append(per_step if len(per_step) == 2 else per_step + [None])
        jac.append(cols)   # cols[j] = (real step, imaginary step)[k][r]
    return jac


def _analytical_jacobian(outputs, inputs):
    """Per input, per output k, per output element r: the gradients that backward gives for
    grad_output 1 there and, for a complex output, for 1j: ``(for 1, for 1j or None)``.

    PyTorch's convention, which interop follows: for grad_output ``g`` at ``w = u + iv`` the
    gradient of input ``z = x + iy`` is ``dL/dx + i dL/dy`` with ``L = Re(conj(g) w)``: ``g = 1``
    gives ``du/dx + i du/dy``, ``g = 1j`` gives ``dv/dx + i dv/dy``."""
    diff_inputs = [x for x in inputs if isinstance(x, Variable) and x.requires_grad]
    result = {id(x): [] for x in diff_inputs}
    for k, o in enumerate(outputs):
        if not isinstance(o, Variable) or not o.requires_grad:
            for x in diff_inputs:
                result[id(x)].append(None)
            continue
        rows = {id(x): [] for x in diff_inputs}
        seeds = (1.0, 1j) if o.dtype.is_complex else (1.0,)
        for r in range(o.numel()):
            per_seed = {id(x): [] for x in diff_inputs}
            for seed in seeds:
                with no_grad():
                    go = _one_hot_like(o.detach(), r, seed)
                grads = _grad(o, diff_inputs, grad_outputs=go, retain_graph=True, allow_unused=True)
                for x, gx in zip(diff_inputs, grads):
                    per_seed[id(x)].append([0.0] * x.numel() if gx is None else _flat_values(gx))
            for x in diff_inputs:
                got = per_seed[id(x)]
                rows[id(x)].append((got[0], got[1] if len(got) == 2 else None))
        for x in diff_inputs:
            result[id(x)].append(rows[id(x)])
    return result


def _pairs(an_r, num_j, k, r, j):
    """(what, analytical, numerical) for each real partial derivative of output element r
    with respect to input element j (see _analytical_jacobian for the convention)."""
    g1, gi = an_r[0][j], (an_r[1][j] if an_r[1] is not None else None)
    along_x = num_j[0][k][r]
    along_y = num_j[1][k][r] if num_j[1] is not None else None
    yield "d Re(out)/d Re(in)", complex(g1).real, complex(along_x).real
    if along_y is not None:
        yield "d Re(out)/d Im(in)", complex(g1).imag, complex(along_y).real
    if gi is not None:
        yield "d Im(out)/d Re(in)", complex(gi).real, complex(along_x).imag
        if along_y is not None:
            yield "d Im(out)/d Im(in)", complex(gi).imag, complex(along_y).imag


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
                    for what, a, nval in _pairs(an[r], numerical[i][j], k, r, j):
                        # (written so that a NaN on one side only is a mismatch)
                        same_nan = a != a and nval != nval
                        if not same_nan and not abs(a - nval) <= atol + rtol * abs(nval):
                            msg = (f"Jacobian mismatch for output {k} with respect to input {i}: "
                                   f"{what} at out[{r}], in[{j}]: numerical {nval!r} analytical "
                                   f"{a!r} (input shape {tuple(x.shape)}, output shape "
                                   f"{tuple(o.shape)}, atol={atol}, rtol={rtol})")
                            if raise_exception:
                                raise GradcheckError(msg)
                            return False
    return True


def _normal_like(xp, rng, o):
    """Standard normal values of ``o``'s shape, dtype and device (complex: both parts)."""
    n = o.numel()
    if o.dtype.is_complex:
        vals = [complex(rng.gauss(0.0, 0.5 ** 0.5), rng.gauss(0.0, 0.5 ** 0.5)) for _ in range(n)]
    else:
        vals = [rng.gauss(0.0, 1.0) for _ in range(n)]
    return xp.reshape(xp.asarray(vals, dtype=o.dtype, device=o.device), tuple(o.shape))


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True):
    """Check second derivatives: gradcheck of ``(inputs, grad_outputs) -> grad(func)``."""
    inputs = _as_tuple(inputs)
    outputs = _as_tuple(func(*inputs))
    xp = next(x for x in inputs if isinstance(x, Variable)).__array_namespace__()
    if grad_outputs is None:
        rng = random.Random(1234)      # (the standard namespace has no random numbers)
        grad_outputs = tuple(_normal_like(xp, rng, o).requires_grad_(True) for o in outputs)
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
