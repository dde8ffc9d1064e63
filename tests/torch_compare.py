"""Running one call on interop and on PyTorch, and comparing what comes out: shapes,
dtypes, values (NaN positions, infinities and, where asked, the sign of zeros), gradients,
and the kind of error raised. Shared by test_semantics.py and test_kinks.py.

A call is written once as ``fn(L, *inputs)``, where ``L`` is the library (``interop`` or
``torch``); inputs are given as :class:`In` (data, dtype, requires_grad) and built on
both sides.
"""

import math

import numpy as np
import pytest

import interop as it
from helpers import to_np

torch = pytest.importorskip("torch")

_BACKEND_WORDS = ("numpy", "array_api_strict", "array-api-strict", "ufunc", "axiserror", "jax")


class In:
    """An input: Python data with an optional dtype name; floats require grad by default."""

    def __init__(self, data, dtype=None, grad=None):
        self.data = data
        self.dtype = dtype
        self.grad = grad

    def build(self, lib):
        dt = getattr(lib, self.dtype) if self.dtype else None
        t = lib.tensor(self.data, dtype=dt)
        wants = self.grad if self.grad is not None else t.dtype.is_floating_point
        if wants:
            t.requires_grad_(True)
        return t

    def __repr__(self):
        return f"In({self.data!r}, {self.dtype!r})"


def build(inputs, lib):
    return [x.build(lib) if isinstance(x, In) else x for x in inputs]


def np_of(t):
    """A NumPy copy of an interop or torch tensor."""
    if isinstance(t, it.Tensor):
        return to_np(t)
    return t.detach().cpu().numpy()


def dtype_name(t):
    return str(t.dtype).split(".")[-1]


def assert_same(got, want, what="", zero_sign=False):
    """Same shape, dtype and values (NaN where torch has NaN, the same infinities)."""
    assert tuple(got.shape) == tuple(want.shape), \
        f"{what}: shape {tuple(got.shape)}, torch gives {tuple(want.shape)}"
    assert dtype_name(got) == dtype_name(want), \
        f"{what}: dtype {dtype_name(got)}, torch gives {dtype_name(want)}"
    g, w = np_of(got), np_of(want)
    if g.dtype.kind in "fc":
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w), err_msg=f"{what}: NaN positions")
        np.testing.assert_array_equal(np.isinf(g), np.isinf(w), err_msg=f"{what}: infinities")
        tol = 1e-12 if g.dtype == np.float64 else 2e-6
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol, equal_nan=True, err_msg=what)
        if zero_sign:
            zero = (g == 0) & (w == 0)
            np.testing.assert_array_equal(np.signbit(g[zero]), np.signbit(w[zero]),
                                          err_msg=f"{what}: sign of zero")
    else:
        np.testing.assert_array_equal(g, w, err_msg=what)


def outputs(out):
    if isinstance(out, tuple):          # named tuples (max(dim)) and splits
        return tuple(out)
    return (out,)


def compare(be, fn, *inputs, grad=True, zero_sign=False, upstream=None):
    """Run ``fn`` on both libraries; compare the outputs and (``grad``) the gradients of
    ``sum(out * upstream)`` (``upstream`` default: ones) with respect to every float input."""
    xi, xt = build(inputs, it), build(inputs, torch)
    oi, ot = outputs(fn(it, *xi)), outputs(fn(torch, *xt))
    assert len(oi) == len(ot)
    for k, (a, b) in enumerate(zip(oi, ot)):
        assert_same(a, b, f"output {k}", zero_sign)
    if not grad:
        return oi, ot
    diff = [(a, b) for a, b in zip(oi, ot) if b.requires_grad]
    assert diff, "nothing to differentiate"
    for lib, outs in ((it, [a for a, _ in diff]), (torch, [b for _, b in diff])):
        ups = [lib.ones_like(o) if upstream is None else lib.tensor(upstream, dtype=o.dtype)
               for o in outs]
        lib.autograd.backward(outs, ups)
    for j, (a, b) in enumerate(zip(xi, xt)):
        if isinstance(b, torch.Tensor) and b.requires_grad:
            want = b.grad if b.grad is not None else torch.zeros_like(b)
            got = a.grad if a.grad is not None else it.zeros_like(a)
            assert_same(got, want, f"gradient of input {j}")
    return oi, ot


def assert_same_error(be, fn, *inputs, also=None):
    """PyTorch raises; interop raises an exception of the same class (and of ``also``, the
    class the Array API standard names), with none of the backend's words in it."""
    xt = build(inputs, torch)
    with pytest.raises(Exception) as te:
        fn(torch, *xt)
    xi = build(inputs, it)
    with pytest.raises(Exception) as ie:
        fn(it, *xi)
    want = te.type
    if issubclass(want, NotImplementedError):      # PyTorch's "not implemented for 'Bool'"
        want = RuntimeError
    assert isinstance(ie.value, want), \
        f"interop raised {ie.type.__name__}({ie.value}), torch {te.type.__name__}"
    if also is not None:
        assert isinstance(ie.value, also), f"interop raised {ie.type.__name__}, expected a {also}"
    no_backend_words(ie.value)
    return ie.value


def no_backend_words(e):
    text = f"{type(e).__module__}.{type(e).__name__}: {e}".lower()
    for w in _BACKEND_WORDS:
        if w in text:
            raise AssertionError(f"the backend's words reach the user: {text}")


NAN = math.nan
INF = math.inf
