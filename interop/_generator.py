"""Random-number generators: ``Generator``, ``manual_seed`` and the default generator.

The standard has no RNG, so each backend supplies a seeded source (NumPy's PCG64 on the
host, CuPy's on the GPU). A :class:`Generator` keeps one source per backend, all
seeded from its seed: the same seed gives the same numbers on a backend, run after run.
Sampling functions are in ``interop.random``; in-place fills in ``interop._mutation``.
"""

import os

from .backends import get_backend

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "default_generator",
           "get_rng_state", "set_rng_state"]

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
        s = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def source(self, be):
        """This generator's random source on backend ``be`` (made on first use)."""
        src = self._sources.get(be.name)
        if src is None:
            src = self._sources[be.name] = be.make_rng(self._seed)
        return src

    def get_state(self):
        return {name: src.get_state() for name, src in self._sources.items()} | {"seed": self._seed}

    def set_state(self, state):
        state = dict(state)
        self.manual_seed(state.pop("seed"))
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
