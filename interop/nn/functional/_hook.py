"""One hook around the functional layers that ONNX has as operators.

``interop.onnx.export`` sets it (``set_hook``) for the duration of an export, so that a
forward calling ``F.conv2d``, ``F.max_pool2d``, ``F.relu``... directly, not through a
layer, is still written as that one ONNX operator. The hook is called as
``hook(name, fn, args, kwargs)`` and returns the call's result; with no hook set (always,
outside an export) the function runs as written, at the cost of one list lookup.
"""

import functools
import inspect

# The functions of ``interop.nn.functional`` that call the hook (see __init__.py).
HOOKED = (
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
    "relu", "relu6", "hardtanh", "leaky_relu", "elu", "gelu", "silu", "mish", "hardsigmoid",
    "hardswish", "softplus", "softmax", "log_softmax", "layer_norm", "batch_norm", "linear",
)

_current = [None]


def set_hook(hook):
    """Make ``hook`` (or ``None``) the functional hook; returns the previous one."""
    previous = _current[0]
    _current[0] = hook
    return previous


def hooked(fn):
    """``fn``, calling the hook where one is set."""
    name = fn.__name__
    params = list(inspect.signature(fn).parameters)
    if "_stacklevel" in params:
        return _public(_hooked_with_stacklevel(fn, name, params.index("_stacklevel")))

    @functools.wraps(fn)
    def call(*args, **kwargs):
        hook = _current[0]
        if hook is None:
            return fn(*args, **kwargs)
        return hook(name, fn, args, kwargs)
    return _public(call)


def _public(call):
    """The wrapper is what ``interop.nn.functional`` holds, so that is its import path
    (``interop.save`` stores functions such as a layer's activation by import path)."""
    call.__module__ = "interop.nn.functional"
    return call


def _hooked_with_stacklevel(fn, name, at):
    """As :func:`hooked`, for a function whose warnings point ``_stacklevel`` frames up:
    one more, for this wrapper's frame."""
    default = inspect.signature(fn).parameters["_stacklevel"].default

    @functools.wraps(fn)
    def call(*args, **kwargs):
        if len(args) > at:
            args = args[:at] + (args[at] + 1,) + args[at + 1:]
        else:
            kwargs["_stacklevel"] = kwargs.get("_stacklevel", default) + 1
        hook = _current[0]
        if hook is None:
            return fn(*args, **kwargs)
        return hook(name, fn, args, kwargs)
    return call
