"""Per-coordinate adaptive step sizes: ``Adagrad``, ``Adadelta``, ``RMSprop`` and ``Rprop``.

PyTorch's single-tensor updates with in-place ops, PyTorch's state per parameter
(``"step"`` a float32 0-d tensor). Complex parameters are refused (PyTorch updates them
as pairs of reals).
"""

import interop as it
from .optimizer import (Optimizer, check_lr, check_nonnegative, ema_,
                        new_step, scalar, zero_buffers)

__all__ = ["Adagrad", "Adadelta", "RMSprop", "Rprop"]


class Adagrad(Optimizer):
    """``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None)``: the
    state (``step``, ``sum``) is made for every parameter at construction, as in PyTorch."""

    _supports_complex = False

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_lr(lr)
        check_nonnegative("lr_decay", lr_decay)
        check_nonnegative("weight_decay", weight_decay)
        check_nonnegative("initial_accumulator_value", initial_accumulator_value)
        check_nonnegative("epsilon", eps)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:      # PyTorch makes Adagrad's state up front
            for p in group["params"]:
                self.state[p]["step"] = new_step()
                self._init_sum(self.state[p], p)

    def _init_sum(self, state, p):
        state["sum"] = it.full_like(p, self.defaults["initial_accumulator_value"])

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, lr_decay, eps = scalar(group["lr"]), group["lr_decay"], group["eps"]
            weight_decay = group["weight_decay"]
            for p, state, g in self._with_grads(group, self._init_sum):   # (later groups)
                step = float(state["step"])
                if weight_decay != 0:
                    g = g + weight_decay * p
                clr = lr / (1 + (step - 1) * lr_decay)
                state["sum"].add_(g * g)
                p.sub_((g / state["sum"].sqrt().add_(eps)).mul_(clr))
        return loss


class Adadelta(Optimizer):
    """``Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
    capturable=False, maximize=False, differentiable=False)``: state ``step``,
    ``square_avg``, ``acc_delta``."""

    _supports_complex = False

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_nonnegative("epsilon", eps)
        check_nonnegative("weight_decay", weight_decay)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, rho, eps = scalar(group["lr"]), group["rho"], group["eps"]
            weight_decay = group["weight_decay"]
            for p, state, g in self._with_grads(group, zero_buffers("square_avg", "acc_delta")):
                if weight_decay != 0:
                    g = g + weight_decay * p
                square_avg, acc_delta = state["square_avg"], state["acc_delta"]
                ema_(square_avg, g * g, 1 - rho)
                std = (square_avg + eps).sqrt()
                delta = (acc_delta + eps).sqrt().div_(std).mul_(g)
                ema_(acc_delta, delta * delta, 1 - rho)
                p.sub_(delta.mul_(lr))
        return loss


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, capturable=False, foreach=None, maximize=False, differentiable=False)``:
    state ``step``, ``square_avg`` (and ``momentum_buffer`` with momentum, ``grad_avg``
    when centered)."""

    _supports_complex = False

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_lr(lr)
        check_nonnegative("epsilon", eps)
        check_nonnegative("momentum", momentum)
        check_nonnegative("weight_decay", weight_decay)
        check_nonnegative("alpha", alpha)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay, "capturable": capturable,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, alpha, eps = scalar(group["lr"]), group["alpha"], group["eps"]
            weight_decay, momentum, centered = group["weight_decay"], group["momentum"], \
                group["centered"]
            buffers = ("square_avg",) + ("momentum_buffer",) * (momentum > 0) + \
                ("grad_avg",) * bool(centered)
            for p, state, g in self._with_grads(group, zero_buffers(*buffers)):
                if weight_decay != 0:
                    g = g + weight_decay * p
                square_avg = state["square_avg"]
                ema_(square_avg, g * g, 1 - alpha)
                if centered:
                    grad_avg = state["grad_avg"]
                    ema_(grad_avg, g, 1 - alpha)
                    avg = (square_avg - grad_avg * grad_avg).sqrt()
                else:
                    avg = square_avg.sqrt()
                avg.add_(eps)
                if momentum > 0:
                    buf = state["momentum_buffer"]
                    buf.mul_(momentum).add_(g / avg)
                    p.sub_(buf * lr)
                else:
                    p.sub_((g / avg).mul_(lr))
        return loss


class Rprop(Optimizer):
    """``Rprop(params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False,
    foreach=None, maximize=False, differentiable=False)``: resilient backpropagation, one
    step size per coordinate (state ``step``, ``prev``, ``step_size``)."""

    _supports_complex = False

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            (etaminus, etaplus), (step_size_min, step_size_max) = group["etas"], \
                group["step_sizes"]
            lr = scalar(group["lr"])

            def init(state, p):
                state["prev"] = it.zeros_like(p)
                state["step_size"] = it.full_like(p, lr)
            for p, state, g in self._with_grads(group, init):
                prev, step_size = state["prev"], state["step_size"]
                sign = (g * prev).sign()
                flipped = sign < 0
                # the factor per coordinate: grow where the gradient kept its sign, shrink
                # where it flipped (and skip that coordinate's update), else keep
                factor = it.where(sign > 0, etaplus,
                                  it.where(flipped, etaminus, it.where(sign == 0, 1.0, sign)))
                step_size.mul_(factor).clamp_(step_size_min, step_size_max)
                g = it.where(flipped, 0.0, g)
                p.sub_(g.sign().mul_(step_size))
                prev.copy_(g)
        return loss
