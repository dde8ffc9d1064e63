"""Random sampling: ``rand``, ``randn``, ``randint``, ``randperm``, ``normal``, ``bernoulli``,
``multinomial`` and the ``*_like`` forms, drawn from a :class:`~interop.Generator` (``interop._generator``)."""

import math

from . import dtypes as _dt
from ._args import size_arg
from ._dtype_rules import interop_dtype
from ._creation import finish
from ._generator import (Generator, manual_seed, seed, initial_seed, default_generator,
                         get_rng_state, set_rng_state)
from ._ops.sampling import multinomial
from ._tensor import Tensor
from .backends import backend_for

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "default_generator", "rand", "randn",
           "randint", "randperm", "rand_like", "randn_like", "randint_like", "normal", "get_rng_state",
           "set_rng_state", "bernoulli", "multinomial"]


def _float_dtype(be, dtype, op):
    dt = interop_dtype(be, dtype) or be.default_float
    if not dt.is_floating_point:
        raise TypeError(f"{op}: expected a floating point dtype, got {dt}")
    be.native_dtype(dt)
    return dt


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples on [0, 1)."""
    be = backend_for(device)
    dt = _float_dtype(be, dtype, "rand")
    data = (generator or default_generator).source(be).random(size_arg(size, "rand"), dt)
    return finish(data, be, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples; for a complex dtype, real and imaginary parts each of
    variance 1/2 (so ``E|z|^2 = 1``, as PyTorch)."""
    be = backend_for(device)
    dt = interop_dtype(be, dtype)
    src = (generator or default_generator).source(be)
    shape = size_arg(size, "randn")
    if dt is not None and dt.is_complex:
        real = _dt.float32 if dt is _dt.complex64 else _dt.float64
        xp = be.xp
        cdt = be.native_dtype(dt)
        re = xp.astype(src.normal(shape, real, 0.0, math.sqrt(0.5)), cdt)
        im = xp.astype(src.normal(shape, real, 0.0, math.sqrt(0.5)), cdt)
        return finish(re + im * 1j, be, requires_grad)
    dt = _float_dtype(be, dtype, "randn")
    return finish(src.normal(shape, dt), be, requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Integers uniform on [low, high): ``randint(10, (3,))`` or ``randint(2, 10, (3,))``."""
    if size is None:
        if isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint: size is required, e.g. randint(0, 10, (3,))")
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    be = backend_for(device)
    dt = interop_dtype(be, dtype) or be.default_int   # int64, or int32 where the backend lacks it
    data = (generator or default_generator).source(be).integers(low, high, size_arg((size,), "randint"), dt)
    return finish(data, be, requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of ``0 .. n-1``."""
    be = backend_for(device)
    dt = interop_dtype(be, dtype) or be.default_int   # int64, or int32 where the backend lacks it
    data = (generator or default_generator).source(be).permutation(int(n), dt)
    return finish(data, be, requires_grad)


def rand_like(x, *, generator=None, dtype=None):
    return rand(*x.shape, generator=generator, dtype=dtype or x.dtype, device=x._be)


def randn_like(x, *, generator=None, dtype=None):
    return randn(*x.shape, generator=generator, dtype=dtype or x.dtype, device=x._be)


def randint_like(x, low=0, high=None, *, generator=None, dtype=None):
    return randint(low, high, tuple(x.shape), generator=generator, dtype=dtype or x.dtype, device=x._be)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None):
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        return randn(*ref.shape, generator=generator, dtype=ref.dtype, device=ref._be) * std + mean
    if size is None:
        raise TypeError("normal: size is required when mean and std are numbers")
    return randn(*size, generator=generator, dtype=dtype, device=device) * std + mean


def bernoulli(p, *, generator=None):
    """0/1 samples with probabilities ``p`` (a tensor)."""
    u = rand(*p.shape, generator=generator, dtype=p.dtype, device=p._be)
    return Tensor._make(p._be.xp.astype(u._data < p._data, p._data.dtype), p._be, None)
