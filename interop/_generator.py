"""Random-number generators: ``Generator``, ``manual_seed`` and the default generator.

The standard has no RNG, so each backend supplies a seeded source (NumPy's PCG64 on the
host, CuPy's on the GPU). A :class:`Generator` keeps one source per backend, all
seeded from its seed: the same seed gives the same numbers on a backend, run after run.
Sampling functions are in ``interop.random``; in-place fills in ``interop._ops.mutation``.
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
        self._backend_seeds = {}     # backend name -> its own seed (interop.cuda.manual_seed)

    def manual_seed(self, seed):
        self._seed = _checked_seed(seed, "manual_seed")
        self._sources.clear()
        self._backend_seeds.clear()
        return self

    def seed_backend(self, name, seed):
        """Seed this generator's source on backend ``name`` alone (made on its next use);
        the other backends' sources go on as they were (``interop.cuda.manual_seed``)."""
        self._backend_seeds[name] = _checked_seed(seed, "manual_seed")
        self._sources.pop(name, None)

    def backend_seed(self, name):
        """The seed that backend ``name``'s source starts from."""
        return self._backend_seeds.get(name, self._seed)

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
            src = self._sources[be.name] = be.make_rng(self._backend_seeds.get(be.name, self._seed))
        return src

    def get_state(self):
        return {name: src.get_state() for name, src in self._sources.items()} | {"seed": self._seed}

    def set_state(self, state):
        state = dict(state)
        self.manual_seed(state.pop("seed"))
        for name, st in state.items():
            self.source(get_backend(name)).set_state(st)


def _checked_seed(seed, op):
    if not isinstance(seed, int):
        raise TypeError(f"{op} expected an int, got {type(seed).__name__} {seed!r}")
    return seed & 0xFFFF_FFFF_FFFF_FFFF


# As PyTorch's: a new Generator() starts from a fixed seed, the default generator from one
# drawn from the operating system, so that unseeded runs differ (initial_seed() reports it).
default_generator = Generator()
default_generator.seed()


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
