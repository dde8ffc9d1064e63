"""The pieces every section shares: a check, its outcome, the context it runs in, the
comparison that measures how far a result is from its reference, and the runner.

A **check** is one named, independently runnable unit: ``section::name`` (``name`` may
carry a parameter in brackets, ``gradients::exp[float64]``). It is a function of a
:class:`Context` that returns nothing when the backend conforms, raises
:class:`Mismatch` (a wrong value: expected, got, distance), :class:`Skip` (not
applicable here, with the reason) or any other exception (the backend crashed: an error).

Every check draws its random inputs from a seed derived from the run's seed and its own id,
so ``--only ID --seed S`` alone reproduces exactly what the full run did.

**Root causes.** When the backend under test is a namespace the suite registered itself
(``--namespace``), every call into it is recorded per check. A check that fails after
calling a namespace function whose own contract check failed (a wrong ``exp``, a missing
``matmul``) is reported as *blocked* by that function, not as a failure of its own: the
report names the root causes, and the checks they took down beside them.
"""

import math
import re
import time
import traceback
import types
import warnings
import zlib
from dataclasses import dataclass, field

import interop as it

__all__ = ["Check", "Result", "Context", "Mismatch", "Skip", "TrackedNamespace", "SECTIONS",
           "check_seed", "run_checks", "select"]

# Section ids in run order, with the title the report uses.
SECTIONS = {
    "contract": "Backend contract",
    "semantics": "Namespace semantics",
    "gradients": "Gradients",
    "layers": "Layers and losses",
    "training": "Training parity",
    "dlpack": "DLPack exchange",
    "speed": "Speed vs the raw namespace",
}


class Mismatch(AssertionError):
    """A result differs from its reference."""

    def __init__(self, message, *, expected=None, got=None, distance=None):
        super().__init__(message)
        self.expected = expected
        self.got = got
        self.distance = distance


class Skip(Exception):
    """The check does not apply to this backend (the reason says why)."""


@dataclass
class Check:
    section: str
    name: str
    fn: object              # fn(ctx) -> None, or a dict of measurements (reported, not judged)
    quick: bool = True      # part of the --quick sample
    doc: str = ""

    @property
    def id(self):
        return f"{self.section}::{self.name}"


@dataclass
class Result:
    id: str
    section: str
    status: str             # pass | fail | error | blocked | skip
    seconds: float = 0.0
    message: str = ""
    inputs: dict = field(default_factory=dict)
    expected: object = None
    got: object = None
    distance: object = None
    causes: list = field(default_factory=list)   # for blocked: the failed functions it used
    measurements: dict = field(default_factory=dict)
    repro: str = ""
    traceback: str = ""

    def as_dict(self):
        d = dict(self.__dict__)
        for k in ("expected", "got", "distance"):
            d[k] = _jsonable(d[k])
        d["measurements"] = {k: _jsonable(v) for k, v in self.measurements.items()}
        return d


def _jsonable(v):
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else repr(v)
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return repr(v)


def check_seed(seed, check_id):
    """The seed of one check: the run's seed mixed with the check's id."""
    return (zlib.crc32(check_id.encode()) ^ (seed * 0x9E3779B1)) & 0x7FFFFFFF


# --------------------------------------------------------------------- call tracking

_calls = None        # the set the current check's namespace calls go to (None: not recording)


def _record(name):
    if _calls is not None:
        _calls.add(name)


class TrackedNamespace:
    """An Array API namespace that records, per check, which of its functions were called
    (and which missing ones were asked for). Attributes that are not functions (dtypes,
    constants) pass through untouched."""

    def __init__(self, module, prefix=""):
        object.__setattr__(self, "_mod", module)
        object.__setattr__(self, "_prefix", prefix)
        object.__setattr__(self, "_cache", {})
        self.__name__ = getattr(module, "__name__", repr(module))

    def __getattr__(self, name):
        cache = self._cache
        if name in cache:
            return cache[name]
        full = self._prefix + name
        try:
            value = getattr(self._mod, name)
        except AttributeError:
            if not name.startswith("__"):
                _record(full)
            raise
        if isinstance(value, types.ModuleType) and name in ("linalg", "fft"):
            value = TrackedNamespace(value, prefix=f"{full}.")
        elif callable(value) and not isinstance(value, type) and not name.startswith("__") \
                and not _is_dtype(value):
            value = _tracked(value, full)
        cache[name] = value
        return value

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)

    def __dir__(self):
        return [n for n in dir(self._mod) if not n.startswith("__")] + ["__name__"]

    def __repr__(self):
        return f"<tracked {self._mod!r}>"


def _is_dtype(v):
    return type(v).__name__.lower().endswith("dtype")


def _tracked(fn, name):
    def call(*args, **kwargs):
        if _calls is not None:
            _calls.add(name)
        return fn(*args, **kwargs)
    call.__name__ = getattr(fn, "__name__", name)
    call.__wrapped__ = fn
    return call


# --------------------------------------------------------------------------- context

class Context:
    """What a check sees: the backend under test (``be``, also a ``device=`` argument),
    the reference backend (``ref``: NumPy on the CPU, float64), the run's options, and
    helpers to make inputs and compare results."""

    def __init__(self, backend, *, seed=0, quick=False, label=None, repro_target=None):
        self.be = backend
        self.ref = it.get_backend("cpu")
        self.seed = seed
        self.quick = quick
        self.label = label or backend.name
        self.repro_target = repro_target or f"--backend {backend.name}"
        self.check_seed = seed
        self.inputs = {}
        self.f64 = it.float64 in backend.to_native
        self.float = it.float64 if self.f64 else it.float32
        self.tracked = isinstance(backend.xp, TrackedNamespace)
        self.bad_functions = {}      # namespace function -> why its contract check failed
        self.extra_peers = {}

    # -- inputs ---------------------------------------------------------------------------
    def generator(self, offset=0):
        """An interop Generator on the reference backend, seeded for this check."""
        return it.Generator(device="cpu").manual_seed(self.check_seed + offset)

    def randn(self, *shape, dtype=None, low=None, high=None, offset=0):
        """Random values made on the reference backend (so every backend sees the same
        numbers), in float64; ``low``/``high`` give a uniform draw instead."""
        g = self.generator(offset)
        if low is None:
            return it.randn(*shape, generator=g, dtype=it.float64, device=self.ref)
        u = it.rand(*shape, generator=g, dtype=it.float64, device=self.ref)
        return u * (high - low) + low

    def on_test(self, t, dtype=None, requires_grad=False):
        """A copy of reference tensor ``t`` on the backend under test (``dtype``: default the
        test float for float input)."""
        if dtype is None and t.dtype in (it.float32, it.float64):
            dtype = self.float
        elif dtype is None and t.dtype == it.complex128:
            dtype = it.complex128 if self.f64 else it.complex64
        elif (dtype or t.dtype) == it.int64 and it.int64 not in self.be.to_native:
            dtype = self.be.default_int        # (JAX without x64 indexes with int32)
        out = t.detach().to(self.be)
        if dtype is not None and out.dtype != dtype:
            out = out.to(dtype)
        return out.requires_grad_(True) if requires_grad else out

    def to_ref(self, t):
        """Tensor ``t`` (any backend) as a float64 (or its own dtype) tensor on the reference."""
        r = t.detach().to(self.ref)
        if r.dtype in (it.float16, it.float32):
            r = r.to(it.float64)
        elif r.dtype == it.complex64:
            r = r.to(it.complex128)
        return r

    def note(self, **inputs):
        """Record what the check ran on (shapes, dtypes, parameters): the report shows it."""
        self.inputs.update(inputs)

    # -- comparison -----------------------------------------------------------------------
    def tol(self, rtol64=1e-9, atol64=1e-10, rtol32=2e-4, atol32=1e-5):
        return (rtol64, atol64) if self.float == it.float64 else (rtol32, atol32)

    def assert_close(self, got, expected, *, rtol=None, atol=None, what="value"):
        """``got`` (any backend) against ``expected`` (reference backend): same shape, NaN
        where NaN, and |got - expected| <= atol + rtol |expected| elsewhere. The distance
        reported is the largest |got - expected| / (atol + rtol |expected|) (<= 1 passes)."""
        if rtol is None or atol is None:
            r, a = self.tol()
            rtol = r if rtol is None else rtol
            atol = a if atol is None else atol
        g = self.to_ref(got)
        e = self.to_ref(expected)
        if tuple(g.shape) != tuple(e.shape):
            raise Mismatch(f"{what}: shape {tuple(g.shape)}, expected {tuple(e.shape)}",
                           expected=list(e.shape), got=list(g.shape))
        if g.dtype == it.bool or e.dtype == it.bool or not (g.is_floating_point() or
                                                            g.is_complex()):
            diff = it.sum(g != e).item()
            if diff:
                raise Mismatch(f"{what}: {diff} of {g.numel()} elements differ",
                               expected=_preview(e), got=_preview(g), distance=float(diff))
            return 0.0
        nan_g, nan_e = it.isnan(g), it.isnan(e)
        nan_diff = it.sum(nan_g != nan_e).item()
        if nan_diff:
            raise Mismatch(f"{what}: NaN at {nan_diff} position(s) where the reference has a "
                           f"number (or the other way round)", expected=_preview(e),
                           got=_preview(g), distance=math.inf)
        if g.numel() == 0:
            return 0.0
        ok = ~nan_e
        err = it.where(ok, it.abs(g - e), 0.0)
        inf_e = it.isinf(e)
        if it.any(inf_e).item():
            same_inf = inf_e & (g == e)
            err = it.where(same_inf, 0.0, err)
        scale = atol + rtol * it.where(ok & ~inf_e, it.abs(e), 0.0)
        # (zero error is distance 0 even at zero tolerance; any error there is infinitely far)
        ratio = it.max(it.where(err == 0, 0.0, err / it.where(scale == 0, 1.0, scale))).item()
        if atol == 0 and rtol == 0 and ratio > 0:
            ratio = math.inf
        if not ratio <= 1.0:
            raise Mismatch(f"{what}: max |got - expected| = {it.max(err).item():.3g} "
                           f"({ratio:.3g}x the tolerance atol={atol:g} + rtol={rtol:g}|expected|)",
                           expected=_preview(e), got=_preview(g), distance=ratio)
        return ratio

    def repro(self, check_id):
        return f"python -m conformance {self.repro_target} --seed {self.seed} --only '{check_id}'"


def _preview(t, n=8):
    """The first ``n`` values of a tensor as a list (for the report)."""
    flat = it.reshape(t.detach(), (-1,))
    vals = flat[:n].tolist()
    return vals if flat.shape[0] <= n else vals + [f"... ({flat.shape[0]} values)"]


# ---------------------------------------------------------------------------- running

def select(checks, only=None, quick=False):
    """The checks to run: the --quick sample, narrowed by ``only`` patterns
    (``SECTION``, ``SECTION::NAME`` matching NAME and NAME[...], or a full id)."""
    if only:
        chosen = []
        for c in checks:
            for pat in only:
                sec, _, name = pat.partition("::")
                if c.section != sec:
                    continue
                if not name or c.name == name or c.name.startswith(name + "["):
                    chosen.append(c)
                    break
        return chosen
    return [c for c in checks if c.quick or not quick]


def run_checks(ctx, checks, progress=None):
    """Run ``checks`` in order and return their results. ``progress(result)`` is called
    after each one."""
    global _calls
    results = []
    for c in checks:
        ctx.check_seed = check_seed(ctx.seed, c.id)
        ctx.inputs = {"seed": ctx.seed}
        it.manual_seed(ctx.check_seed)
        calls = set()
        _calls = calls if ctx.tracked else None
        t0 = time.perf_counter()
        res = Result(c.id, c.section, "pass")
        try:
            with it.use_backend(ctx.be), warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out = c.fn(ctx)
            if isinstance(out, dict):
                res.measurements = out
        except Skip as e:
            res.status, res.message = "skip", str(e)
        except Mismatch as e:
            res.status, res.message = "fail", str(e)
            res.expected, res.got, res.distance = e.expected, e.got, e.distance
        except Exception as e:        # the backend crashed (or refused): an error
            missing = re.search(r"has no attribute '(\w+)'", str(e))
            if isinstance(e, AttributeError) and missing:
                calls.add(missing.group(1))     # (asked of a copy of the namespace's names)
            res.status = "error"
            res.message = f"{type(e).__name__}: {e}".strip()
            res.traceback = "".join(traceback.format_exception(type(e), e, e.__traceback__,
                                                               limit=-6))
        finally:
            _calls = None
        res.seconds = time.perf_counter() - t0
        res.inputs = dict(ctx.inputs)
        if caught:      # (what the backend or interop warned about, for the report)
            res.inputs["warnings"] = sorted({f"{w.category.__name__}: {w.message}"
                                             for w in caught})[:5]
        if res.status in ("fail", "error"):
            res.repro = ctx.repro(c.id)
            causes = sorted(n for n in calls if n in ctx.bad_functions)
            # (a kernel's standard-only fallback calls the namespace's functions: one that
            # failed its own check takes the kernel down with it, a consequence, not a fault)
            if causes and (c.section != "contract" or c.name.startswith("kernel[")):
                res.status, res.causes = "blocked", causes
                res.message = (f"uses {', '.join(causes)}, which failed its contract check; "
                               f"first: {res.message}")
        if c.section == "contract" and c.name.startswith("function[") and \
                res.status in ("fail", "error"):
            ctx.bad_functions[c.name[len("function["):-1]] = res.message
        results.append(res)
        if progress is not None:
            progress(res)
    return results
