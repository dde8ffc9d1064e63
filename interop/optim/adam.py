"""The Adam family: ``Adam``, ``AdamW``, ``Adamax``, ``NAdam``, ``RAdam`` and ``SparseAdam``.

Each keeps PyTorch's state per parameter (``"step"`` a float32 0-d tensor, moment
estimates of the parameter's shape) and runs PyTorch's single-tensor update with in-place
ops, so results agree with PyTorch's to a few ulps per step. Adam's update of a parameter
makes three temporaries (``g * g``, the denominator, the update); Adam and AdamW update
small parameters together, as one flat vector per chunk (:class:`FlatGroup`, the foreach
path), and each other float32/float64 parameter of a mutable backend with one call of
``interop._adam_update_`` (the same arithmetic on the raw arrays, maximize and weight decay
included: on the cpu backend one compiled pass where numba runs, else the passes in blocks
of rows; the tensor form below where that does not apply). Complex parameters are
refused: PyTorch updates them as pairs of reals, which the moment estimates of one complex
value are not.
"""

import interop as it
from .optimizer import (Optimizer, check_betas, check_lr, check_nonnegative,
                        ema_, flat_partition, grad_of, new_step, scalar, zero_buffers)

__all__ = ["Adam", "AdamW", "Adamax", "NAdam", "RAdam", "SparseAdam"]

_KEYS = {False: ("exp_avg", "exp_avg_sq"), True: ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")}


def _decay(p, g, group, lr):
    """Weight decay: decoupled (the parameter shrinks, AdamW) or as an L2 term in the
    gradient; returns the gradient to use."""
    wd = group["weight_decay"]
    if wd == 0:
        return g
    if group.get("decoupled_weight_decay"):
        p.mul_(1 - lr * wd)
        return g
    return g + wd * p


# A parameter larger than 2 * BLOCK_NUMEL elements is updated block by block (its rows, split
# into blocks of about BLOCK_NUMEL elements, and the same rows of its gradient and state), so
# that the update's dozen passes over memory run on blocks that stay in the cache instead of
# streaming tensors of several MB through it a dozen times. The arithmetic on each element
# is the same: the results are bit for bit those of one block. Measured with
# benchmarks/optim.py (an MLP's 1024x784 and 1024x1024 weights): with the fused update
# (interop._adam_update_, on raw arrays) 128K elements beat 64K, 96K, 192K, 256K and 384K by
# 1-4% (2026-12-07; with tensor calls per block, 256K was best). The cpu backend's compiled
# update (one pass, where numba runs) does not need blocks and ignores it.
BLOCK_NUMEL = 1 << 17


def _blocks(tensors):
    """``[tensors]`` as one block or, for a parameter of more than 2 * BLOCK_NUMEL elements,
    one tuple per block of rows: splits along dim 0, views of each tensor whatever its layout
    (so the updates written into them land in the parameter and its state)."""
    p = tensors[0]
    n = p.numel()
    if n <= 2 * BLOCK_NUMEL or p.ndim == 0:
        return [tensors]
    rows = p.shape[0]
    step = -(-rows // -(-n // BLOCK_NUMEL))      # rows per block: the blocks about even
    if step >= rows:
        return [tensors]
    return zip(*(t.split(step) for t in tensors))


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
    foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
    decoupled_weight_decay=False)``: state ``step``, ``exp_avg``, ``exp_avg_sq`` (and
    ``max_exp_avg_sq`` with amsgrad) per parameter."""

    _supports_complex = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        if isinstance(lr, it.Tensor):
            if foreach and not capturable:
                raise ValueError("lr as a Tensor is not supported for capturable=False and "
                                 "foreach=True")
        check_lr(lr)
        check_nonnegative("epsilon", eps)
        check_betas(betas)
        check_nonnegative("weight_decay", weight_decay)
        if not (all(isinstance(b, float) for b in betas[:2])
                or all(isinstance(b, it.Tensor) for b in betas[:2])):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, b in enumerate(betas[:2]):
            if isinstance(b, it.Tensor) and b.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _init_state(self, p, amsgrad):
        state = self.state[p]
        state["step"] = new_step()
        state["exp_avg"] = it.zeros_like(p)
        state["exp_avg_sq"] = it.zeros_like(p)
        if amsgrad:
            state["max_exp_avg_sq"] = it.zeros_like(p)
        return state

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            amsgrad = group["amsgrad"]
            params = [p for p in group["params"] if p.grad is not None]
            chunks, loose = flat_partition(self, group, params, _KEYS[amsgrad],
                                           lambda p: self._init_state(p, amsgrad))
            for flat in chunks:
                self._step_flat(group, flat)
            for p in loose:
                state = self.state[p] or self._init_state(p, amsgrad)
                state["step"] += 1
                lr = scalar(group["lr"])
                consts = _constants(group, state["step"].item())
                buffers = [state[k] for k in _KEYS[amsgrad]] + [None] * (not amsgrad)
                if _fusable(p, p.grad, buffers):
                    it._adam_update_(p, p.grad, *buffers, *consts, block=BLOCK_NUMEL,
                                     **_fused_decay(group, lr))
                    continue
                g = grad_of(p, group["maximize"])
                for p_, g_, *bufs in _blocks([p, g] + buffers[:len(_KEYS[amsgrad])]):
                    g_ = _decay(p_, g_, group, lr)
                    p_.sub_(_update(g_, *bufs, *([None] * (not amsgrad)), *consts))
        return loss

    def _step_flat(self, group, flat):
        """The step of a whole group as one flat vector (see :class:`FlatGroup`): the same
        arithmetic, element by element, as the per-parameter path."""
        flat.steps.add_(1)
        g = flat.gradients(group["maximize"])
        wd, lr = group["weight_decay"], scalar(group["lr"])
        decoupled = wd != 0 and group["decoupled_weight_decay"]
        if wd != 0 and not decoupled:
            g.add_(flat.parameters().mul_(wd))
        buffers = flat.buffers
        update = _update(g, buffers["exp_avg"], buffers["exp_avg_sq"],
                         buffers.get("max_exp_avg_sq"),
                         *_constants(group, flat.step_views[0].item()))
        flat.update.copy_(update)
        flat.apply(1 - lr * wd if decoupled else None)


def _fusable(p, g, buffers):
    """Whether ``interop._adam_update_`` can update ``p``: the same arithmetic on the raw
    arrays, in place, without a dozen tensor calls (about 10% of the MLP's Adam step,
    benchmarks/optim.py). It writes into arrays, so it takes float32 and float64 tensors of
    one dtype, shape and backend, on a backend whose arrays are mutable."""
    dtype, shape, be = p.dtype, p.shape, p.backend
    return be.mutable and dtype in _FUSED_DTYPES and all(
        t is None or (t.dtype is dtype and t.shape == shape and t.backend is be)
        for t in [g] + buffers)


_FUSED_DTYPES = (it.float32, it.float64)


def _fused_decay(group, lr):
    """``maximize`` and the weight decay of ``group`` as ``interop._adam_update_`` takes them:
    inside the update's one call, the arithmetic of :func:`grad_of` and :func:`_decay` (a
    negated gradient, ``g + wd * p``, or ``p * (1 - lr * wd)``) without their passes and
    temporaries."""
    wd = group["weight_decay"]
    decoupled = wd != 0 and bool(group.get("decoupled_weight_decay"))
    return {"maximize": bool(group["maximize"]), "weight_decay": 0 if decoupled else wd,
            "shrink": 1 - lr * wd if decoupled else None}


def _constants(group, step):
    """The scalars of Adam's update at ``step`` (see :func:`_update`)."""
    lr, eps = scalar(group["lr"]), group["eps"]
    beta1, beta2 = (scalar(b) for b in group["betas"])
    step_size = lr / (1 - beta1 ** step)
    bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
    return (1 - beta1, 1 - beta2, eps * bias_correction2_sqrt,
            step_size * bias_correction2_sqrt)


def _update(g, exp_avg, exp_avg_sq, max_exp_avg_sq, weight1, weight2, eps, scale):
    """Moves the moment estimates and returns the amount to subtract from the parameter (a
    new tensor): ``step_size * m / (sqrt(v) / bc2 + eps)``, computed as ``scale * m /
    (sqrt(v) + eps * bc2)`` (``scale = step_size * bc2``, from :func:`_constants`): with bc2
    moved to the numerator, one pass over the parameter fewer than PyTorch's order of
    operations."""
    ema_(exp_avg, g, weight1)
    ema_(exp_avg_sq, g * g, weight2)
    if max_exp_avg_sq is not None:
        max_exp_avg_sq.copy_(it.maximum(max_exp_avg_sq, exp_avg_sq))
        denom = max_exp_avg_sq.sqrt()
    else:
        denom = exp_avg_sq.sqrt()
    denom.add_(eps)
    return (exp_avg / denom).mul_(scale)


class AdamW(Adam):
    """``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
    amsgrad=False, *, maximize=False, foreach=None, capturable=False, differentiable=False,
    fused=None)``: Adam with decoupled weight decay (the parameter shrinks by
    ``lr * weight_decay`` each step; the decay never enters the moment estimates)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True


class Adamax(Optimizer):
    """``Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
    maximize=False, differentiable=False, capturable=False)``: Adam with the infinity norm
    (state ``exp_avg`` and ``exp_inf``)."""

    _supports_complex = False

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        check_nonnegative("epsilon", eps)
        check_betas(betas)
        check_nonnegative("weight_decay", weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, eps, (beta1, beta2) = scalar(group["lr"]), group["eps"], group["betas"]
            for p, state, g in self._with_grads(group, zero_buffers("exp_avg", "exp_inf")):
                g = _decay(p, g, group, lr)
                exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
                ema_(exp_avg, g, 1 - beta1)
                exp_inf.mul_(beta2)
                exp_inf.copy_(it.maximum(exp_inf, g.abs().add_(eps)))
                clr = lr / (1 - beta1 ** float(state["step"]))
                p.sub_((exp_avg / exp_inf).mul_(clr))
        return loss


def _nadam_state(state, p):
    state["mu_product"] = it.ones((), dtype=it.float32, device="cpu")
    zero_buffers("exp_avg", "exp_avg_sq")(state, p)


class NAdam(Optimizer):
    """``NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None, maximize=False,
    capturable=False, differentiable=False)``: Adam with Nesterov momentum (state adds
    ``mu_product``, a float32 0-d tensor as in PyTorch)."""

    _supports_complex = False

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check_lr(lr)
        check_nonnegative("epsilon", eps)
        check_betas(betas)
        check_nonnegative("weight_decay", weight_decay)
        check_nonnegative("momentum_decay", momentum_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable, "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, eps, (beta1, beta2) = scalar(group["lr"]), group["eps"], group["betas"]
            momentum_decay = group["momentum_decay"]
            for p, state, g in self._with_grads(group, _nadam_state):
                step = float(state["step"])
                bias_correction2 = 1 - beta2 ** step
                g = _decay(p, g, group, lr)
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                state["mu_product"].mul_(mu)
                mu_product = float(state["mu_product"])
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                ema_(exp_avg, g, 1 - beta1)
                ema_(exp_avg_sq, g * g, 1 - beta2)
                denom = (exp_avg_sq / bias_correction2).sqrt().add_(eps)
                p.add_((g / denom).mul_(-lr * (1.0 - mu) / (1.0 - mu_product)))
                p.add_((exp_avg / denom).mul_((-lr * mu_next) / (1.0 - mu_product * mu_next)))
        return loss


class RAdam(Optimizer):
    """``RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
    differentiable=False)``: Adam whose adaptive step is switched on (and rectified) once
    the variance estimate is tractable."""

    _supports_complex = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        check_lr(lr)
        check_nonnegative("epsilon", eps)
        check_betas(betas)
        check_nonnegative("weight_decay", weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, eps, (beta1, beta2) = scalar(group["lr"]), group["eps"], group["betas"]
            rho_inf = 2 / (1 - beta2) - 1
            for p, state, g in self._with_grads(group, zero_buffers("exp_avg", "exp_avg_sq")):
                step = float(state["step"])
                g = _decay(p, g, group, lr)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                ema_(exp_avg, g, 1 - beta1)
                ema_(exp_avg_sq, g * g, 1 - beta2)
                bias_correction2 = 1 - beta2 ** step
                update = (exp_avg / (1 - beta1 ** step)).mul_(lr)
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    update.mul_(bias_correction2 ** 0.5 / exp_avg_sq.sqrt().add_(eps))
                    update.mul_(rect)
                p.sub_(update)
        return loss


class SparseAdam(Optimizer):
    """``SparseAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False)``: Adam
    for sparse gradients. interop has no sparse tensors, so every gradient it meets is
    dense and ``step`` refuses it as PyTorch does (use :class:`Adam`)."""

    _supports_complex = False
    _tensor_step = False        # PyTorch counts SparseAdam's steps in a Python int

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if isinstance(lr, it.Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        check_betas(betas)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            if any(p.grad is not None for p in group["params"]):
                raise RuntimeError("SparseAdam does not support dense gradients, please consider "
                                   "Adam instead")
        return loss
