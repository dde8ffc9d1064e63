"""Reverse-mode automatic differentiation.

This layer sits below the tensor class and knows only :class:`Variable`, the part of a
tensor the engine differentiates: the graph (nodes, creation order, version stamps), the
backward walk, grad modes, ``grad``/``backward``, ``primitive`` (how a layer above the
tensor class records a primitive whose backward runs on raw arrays), custom ``Function``
(PyTorch's user-facing form, on tensors), ``gradcheck`` and anomaly detection.
"""

from . import graph
from .graph import Node, AccumulateGrad
from .variable import Variable
from .engine import backward, grad
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,
                        is_inference_mode_enabled)
from .function import Function, FunctionCtx, once_differentiable, primitive, run_kernel
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from .anomaly import detect_anomaly, set_detect_anomaly
from .hooks import RemovableHandle

__all__ = ["backward", "grad", "Node", "AccumulateGrad", "Variable", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode", "is_grad_enabled", "is_inference_mode_enabled",
           "Function", "FunctionCtx", "once_differentiable", "primitive", "run_kernel", "gradcheck",
           "gradgradcheck",
           "GradcheckError", "detect_anomaly", "set_detect_anomaly", "RemovableHandle"]
