"""``detect_anomaly``: find the forward op whose backward produced NaN.

All of its state is per thread, as its switch is: detection on in one thread checks the
backward passes run in that thread and records the forward stack of the nodes created in
that thread (``graph.trace_creation``), and nothing in any other thread.
"""

import functools
import threading
import traceback

from . import graph as _graph
from .variable import Variable

__all__ = ["detect_anomaly", "set_detect_anomaly", "anomaly_enabled"]


class _State(threading.local):
    enabled = False     # check every gradient for NaN during backward
    depth = 0           # how many detections are active (nested ``with``)
    traces = None       # node seq -> forward stack, while depth > 0


_state = _State()


def anomaly_enabled():
    return _state.enabled


_PKG = __file__.rsplit("autograd", 1)[0]     # frames inside interop itself are left out


def _record_stack(seq):
    frames = [f for f in traceback.extract_stack(limit=24) if not f.filename.startswith(_PKG)]
    _state.traces[seq] = traceback.format_list(frames[-8:])


def _switch(on):
    """Record the forward stack of every node this thread creates while any detection is
    active in it."""
    s = _state
    s.depth += 1 if on else -1
    if s.depth > 0:
        if s.traces is None:
            s.traces = {}
            _graph.trace_creation(_record_stack)
    else:
        _graph.trace_creation(None)
        s.traces = None


class detect_anomaly:
    """Context manager (and decorator): during backward, every gradient a node
    returns is checked for NaN; the error names the forward op (``LogBackward`` is the
    backward of ``log``), which of its inputs got the NaN, and the forward call that
    created the node (its stack is recorded while detection is on)."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = self.check_nan
        _switch(True)
        return self

    def __exit__(self, *exc):
        _state.enabled = self._prev
        _switch(False)
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return func(*args, **kwargs)
        return wrapper


class set_detect_anomaly(detect_anomaly):
    """``set_detect_anomaly(True)`` turns detection on now (restored on exit if used in ``with``)."""

    def __init__(self, mode):
        super().__init__(mode)
        self._prev = _state.enabled
        _state.enabled = mode
        if mode != self._prev:
            _switch(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if _state.enabled != self._prev:
            _switch(self._prev)
        _state.enabled = self._prev
        return False


def check_grads(node, grads):
    for i, g in enumerate(grads):
        if g is None:
            continue
        data = g._data if isinstance(g, Variable) else g
        xp = node.be.xp
        if not (xp.isdtype(data.dtype, "real floating") or xp.isdtype(data.dtype, "complex floating")):
            continue
        if bool(xp.any(xp.isnan(data))):
            op = node.name()
            fwd = op[:-len("Backward")] if op.endswith("Backward") else op
            traces = _state.traces
            trace = traces.get(node.seq) if traces else None
            where = ("\nThe forward call that created it:\n" + "".join(trace)) if trace else ""
            raise RuntimeError(f"Function '{op}' (the backward of the forward op '{fwd}') returned "
                               f"nan values in its {i}th output (the gradient for input {i}, "
                               f"shape {tuple(data.shape)}){where}")
