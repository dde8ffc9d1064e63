"""Reverse-mode automatic differentiation: the engine, grad modes, ``grad``,
custom ``Function``, ``gradcheck`` and anomaly detection."""

from . import graph
from .graph import Node, AccumulateGrad, grad
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,
                        is_inference_mode_enabled)
from .function import Function, FunctionCtx, once_differentiable
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from .anomaly import detect_anomaly, set_detect_anomaly
from .hooks import RemovableHandle

__all__ = ["backward", "grad", "Node", "AccumulateGrad", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode", "is_grad_enabled", "is_inference_mode_enabled",
           "Function", "FunctionCtx", "once_differentiable", "gradcheck", "gradgradcheck",
           "GradcheckError", "detect_anomaly", "set_detect_anomaly", "RemovableHandle"]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate gradients of ``tensors`` into ``.grad`` of the leaves (``inputs`` limits
    which leaves receive them)."""
    roots, grads = graph._prepare_roots(tensors, grad_tensors, create_graph, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, graph.Tensor) else list(inputs)
        res = graph.run_backward(roots, grads, retain_graph, create_graph, inputs=inputs,
                                 allow_unused=True)
        for t, g in zip(inputs, res):
            if g is not None:
                graph._accumulate(t, g if create_graph else g._data, create_graph)
        return
    graph.run_backward(roots, grads, retain_graph, create_graph)
