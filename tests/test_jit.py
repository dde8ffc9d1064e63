"""The optional compiled path of the cpu backend (interop/backends/_jit.py): off without
numba, never imported by importing interop, switchable at run time."""

import os
import subprocess
import sys

import pytest

from interop.backends import _jit


def test_importing_interop_does_not_import_numba():
    code = "import sys, interop; interop.ones(3).sum(); print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_interop_jit_0_turns_the_compiled_path_off():
    code = "from interop.backends import _jit; print(_jit.enabled())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "INTEROP_JIT": "0"})
    assert out.stdout.strip() == "False"


def test_set_enabled_checks_its_argument_and_returns_the_previous_setting():
    with pytest.raises(TypeError, match="expected a bool, got int"):
        _jit.set_enabled(1)
    prev = _jit.set_enabled(False)
    try:
        assert _jit.enabled() is False
        assert _jit.set_enabled(False) is False
    finally:
        _jit.set_enabled(prev)


@pytest.mark.skipif(not _jit.available(), reason="numba is not installed")
def test_njit_compiles_on_first_call_and_keeps_the_python_function():
    def twice(a):
        return a * 2
    f = _jit.njit(twice)
    assert f.py_func is twice and f.__name__ == "twice"
    assert f(21) == 42


def _plus_one(a):          # (module level: numba registers the function object itself)
    return a + 1


def _total(a):
    s = 0.0
    for v in a:
        s += v
    return s


_jit.jitable(_plus_one)
_jit.jitable(_total, inline="never", fastmath={"reassoc"})


@pytest.mark.skipif(not _jit.available(), reason="numba is not installed")
def test_jitable_helpers_stay_plain_functions_and_are_callable_from_compiled_kernels():
    import numpy as np
    assert _plus_one(41) == 42 and _total([1.0, 2.0]) == 3.0      # plain Python still

    def kernel(a):
        return _plus_one(_total(a))
    f = _jit.njit(kernel)
    assert f(np.arange(4.0)) == 7.0
