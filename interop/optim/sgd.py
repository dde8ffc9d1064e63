"""Stochastic gradient descent: ``SGD`` (momentum, dampening, Nesterov) and ``ASGD``
(averaged SGD). Both are linear in the gradient, so complex parameters are updated as
PyTorch updates them (as pairs of reals)."""

import interop as it
from .optimizer import (Optimizer, check_lr, check_nonnegative, grad_of,
                        scalar)

__all__ = ["SGD", "ASGD"]


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
    maximize=False, foreach=None, differentiable=False, fused=None)``.

    With momentum the state holds ``"momentum_buffer"`` per parameter, started from the
    first gradient, as in PyTorch.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, momentum, dampening = scalar(group["lr"]), group["momentum"], group["dampening"]
            weight_decay, nesterov = scalar(group["weight_decay"]), group["nesterov"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = grad_of(p, group["maximize"])
                if weight_decay != 0:
                    g = g + weight_decay * p
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = g.clone()
                    else:
                        buf.mul_(momentum)
                        buf.add_(g if dampening == 0 else g * (1 - dampening))
                    g = g + momentum * buf if nesterov else buf
                p.sub_(g * lr)
        return loss


class ASGD(Optimizer):
    """``ASGD(params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
    maximize=False, differentiable=False, capturable=False)``: SGD with a decaying step size
    ``eta`` and, from step ``t0`` on, a running average of the parameters in the state's
    ``"ax"``. ``eta`` and ``mu`` are float32 0-d tensors, as PyTorch keeps them."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        check_nonnegative("weight_decay", weight_decay)
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0 = scalar(group["lr"]), group["lambd"], group["alpha"], group["t0"]
            weight_decay = group["weight_decay"]
            def init(state, p):
                state["eta"] = it.full((), lr, dtype=it.float32, device="cpu")
                state["mu"] = it.ones((), dtype=it.float32, device="cpu")
                state["ax"] = it.zeros_like(p)
            for p, state, g in self._with_grads(group, init):
                if weight_decay != 0:
                    g = g + weight_decay * p
                eta = float(state["eta"])
                p.mul_(1 - lambd * eta)
                p.sub_(g * eta)
                mu = float(state["mu"])
                ax = state["ax"]
                if mu != 1:
                    ax.add_((p - ax).mul_(mu))
                else:
                    ax.copy_(p)
                step = float(state["step"])
                state["eta"].fill_(lr / ((1 + lambd * lr * step) ** alpha))
                state["mu"].fill_(1 / max(1, step - t0))
        return loss
