"""Random numbers: ``manual_seed``, ``Generator``, ``rand``, ``randn``, ``randint``, ``randperm``
and the in-place ``normal_``/``uniform_``.

The standard has no RNG, so each backend supplies a seeded source (NumPy's PCG64 on the
host, CuPy's on the GPU). A :class:`Generator` keeps one source per backend, all
seeded from its seed: the same seed gives the same numbers on a backend, run after run.
"""

from . import dtypes as _dt
from ._tensor import Tensor
from ._common import make, interop_dtype
from ._creation import resolve_backend, _size_args, _finish

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "default_generator", "rand", "randn",
           "randint", "randperm", "rand_like", "randn_like", "randint_like", "normal", "get_rng_state",
           "set_rng_state"]

_DEFAULT_SEED = 67280421310721


class Generator:
    """A random-number generator: ``Generator().manual_seed(0)``."""

    def __init__(self, device=None):
        self.device = device
        self._seed = _DEFAULT_SEED
        self._sources = {}

    def manual_seed(self, seed):
        if not isinstance(seed, int):
            raise TypeError(f"manual_seed expected an int, got {type(seed).__name__} {seed!r}")
        self._seed = seed & 0xFFFF_FFFF_FFFF_FFFF
        self._sources.clear()
        return self

    def seed(self):
        import os
        s = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def source(self, be):
        src = self._sources.get(be.name)
        if src is None:
            src = self._sources[be.name] = be.make_rng(self._seed)
        return src

    def get_state(self):
        return {name: src.get_state() for name, src in self._sources.items()} | {"seed": self._seed}

    def set_state(self, state):
        state = dict(state)
        self.manual_seed(state.pop("seed"))
        from .backends import get_backend
        for name, st in state.items():
            self.source(get_backend(name)).set_state(st)


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator (every backend's source)."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def _float_dtype(be, dtype, op):
    dt = interop_dtype(be, dtype) or be.default_float
    if not dt.is_floating_point:
        raise TypeError(f"{op}: expected a floating point dtype, got {dt}")
    be.native_dtype(dt)
    return dt


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples on [0, 1)."""
    be = resolve_backend(device)
    dt = _float_dtype(be, dtype, "rand")
    data = (generator or default_generator).source(be).random(_size_args(size, "rand"), dt)
    return _finish(data, be, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    be = resolve_backend(device)
    dt = _float_dtype(be, dtype, "randn")
    data = (generator or default_generator).source(be).normal(_size_args(size, "randn"), dt)
    return _finish(data, be, requires_grad)


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
    be = resolve_backend(device)
    dt = interop_dtype(be, dtype) or _dt.int64
    data = (generator or default_generator).source(be).integers(low, high, _size_args((size,), "randint"), dt)
    return _finish(data, be, requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of ``0 .. n-1``."""
    be = resolve_backend(device)
    dt = interop_dtype(be, dtype) or _dt.int64
    data = (generator or default_generator).source(be).permutation(int(n), dt)
    return _finish(data, be, requires_grad)


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


def _fill_(x, data, op):
    from ._elementwise import overwrite_
    return overwrite_(x, data, op)


def normal_(x, mean=0.0, std=1.0, *, generator=None):
    """Fill ``x`` in place with normal samples."""
    src = (generator or default_generator).source(x._be)
    return _fill_(x, src.normal(tuple(x._data.shape), x.dtype, mean, std), "normal_")


def uniform_(x, a=0.0, b=1.0, *, generator=None):
    """Fill ``x`` in place with samples uniform on [a, b)."""
    src = (generator or default_generator).source(x._be)
    u = src.random(tuple(x._data.shape), x.dtype)
    return _fill_(x, u * (b - a) + a, "uniform_")


def bernoulli(p, *, generator=None):
    """0/1 samples with probabilities ``p`` (a tensor)."""
    u = rand(*p.shape, generator=generator, dtype=p.dtype, device=p._be)
    return make(p._be.xp.astype(u._data < p._data, p._data.dtype), p._be, None)
