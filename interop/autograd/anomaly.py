"""``detect_anomaly``: find the forward op whose backward produced NaN."""

import threading

__all__ = ["detect_anomaly", "set_detect_anomaly", "anomaly_enabled"]


class _State(threading.local):
    enabled = False


_state = _State()


def anomaly_enabled():
    return _state.enabled


class detect_anomaly:
    """Context manager (and decorator): during backward, every gradient a node
    returns is checked for NaN; the error names the forward op (``LogBackward``
    is the backward of ``log``) and which of its inputs got the NaN."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = self.check_nan
        return self

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False

    def __call__(self, func):
        import functools

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

    def __enter__(self):
        return self


def check_grads(node, grads):
    from . import graph
    for i, g in enumerate(grads):
        if g is None:
            continue
        data = g._data if isinstance(g, graph.Tensor) else g
        xp = node.be.xp
        if not (xp.isdtype(data.dtype, "real floating") or xp.isdtype(data.dtype, "complex floating")):
            continue
        if bool(xp.any(xp.isnan(data))):
            op = node.name()
            fwd = op[:-len("Backward")] if op.endswith("Backward") else op
            raise RuntimeError(f"Function '{op}' (the backward of the forward op '{fwd}') returned "
                               f"nan values in its {i}th output (the gradient for input {i}, "
                               f"shape {tuple(data.shape)})")
