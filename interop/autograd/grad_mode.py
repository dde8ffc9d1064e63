"""Grad modes: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

The flag is thread-local, as in PyTorch. Each mode works as a context manager
and as a decorator (``@no_grad`` or ``@no_grad()``).
"""

import functools
import inspect
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "is_inference_mode_enabled"]


class _State(threading.local):
    enabled = True
    inference = False


state = _State()


def is_grad_enabled():
    return state.enabled


def is_inference_mode_enabled():
    return state.inference


class _Mode:
    """Base: sets (enabled, inference) on enter, restores on exit; also a decorator."""

    _target = (True, False)

    def __new__(cls, *args, **kwargs):
        # ``@no_grad`` without parentheses: the class is called with the function.
        if cls is not set_grad_enabled and len(args) == 1 and callable(args[0]) and not kwargs \
                and not isinstance(args[0], bool):
            return cls()(args[0])
        return super().__new__(cls)

    def __enter__(self):
        self._prev = (state.enabled, state.inference)
        state.enabled, state.inference = self._target
        return None

    def __exit__(self, *exc):
        state.enabled, state.inference = self._prev
        return False

    def clone(self):
        return self.__class__()

    def __call__(self, func):
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def gen_wrapper(*args, **kwargs):
                gen = func(*args, **kwargs)
                try:
                    with self.clone():
                        response = gen.send(None)
                except StopIteration as e:
                    return e.value
                while True:
                    request = yield response      # the caller runs in its own mode
                    try:
                        with self.clone():
                            response = gen.send(request)
                    except StopIteration as e:
                        return e.value
            return gen_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper


class no_grad(_Mode):
    """Operations inside record no graph; results do not require grad."""
    _target = (False, False)

    def __enter__(self):
        self._prev = (state.enabled, state.inference)
        state.enabled = False
        return None


class enable_grad(_Mode):
    """Re-enables recording inside a ``no_grad`` block (not inside ``inference_mode``)."""

    def __enter__(self):
        self._prev = (state.enabled, state.inference)
        state.enabled = True
        return None


class set_grad_enabled(_Mode):
    """``set_grad_enabled(False)`` turns recording off now; as a context manager it
    restores the previous mode on exit."""

    def __init__(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled expected a bool, got {type(mode).__name__} {mode!r}")
        self.mode = mode
        self._prev = (state.enabled, state.inference)
        state.enabled = mode

    def __enter__(self):
        return None

    def __call__(self, func):
        # Used as a decorator: undo the switch made by __init__ (as PyTorch does).
        state.enabled, state.inference = self._prev
        return super().__call__(func)

    def clone(self):
        return set_grad_enabled(self.mode)


class inference_mode(_Mode):
    """Like ``no_grad``, for code that will never need gradients (``mode=False`` is a no-op)."""

    def __init__(self, mode=True):
        if not isinstance(mode, bool):
            raise TypeError(f"inference_mode expected a bool, got {type(mode).__name__} {mode!r}")
        self.mode = mode

    def __enter__(self):
        self._prev = (state.enabled, state.inference)
        if self.mode:
            state.enabled, state.inference = False, True
        return None

    def clone(self):
        return inference_mode(self.mode)
