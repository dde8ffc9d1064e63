"""interop's conformance suite: what of interop works on a given array backend.

Run it as ``python -m conformance --backend cpu`` (or ``--namespace jax.numpy``); see
``python -m conformance --help``. Seven sections, each a list of independently runnable
checks (``section::name``): the backend contract, namespace semantics, gradients, layers
and losses, training parity, DLPack exchange, and speed against the raw namespace.

From Python (a backend author's own test suite)::

    import conformance
    test_interop = conformance.pytest_tests(namespace="my_array_lib", quick=True)

or ``results = conformance.run(backend="cpu", quick=True)`` for the :class:`Result` list.
"""

import datetime
import importlib
import sys

import interop as it
from interop.backends import Backend, BackendUnavailable, register_backend

from . import (_contract, _semantics, _gradients, _layers, _training, _dlpack, _speed)
from ._core import (Check, Context, Mismatch, Result, Skip, SECTIONS, TrackedNamespace,
                    run_checks, select)
from ._report import (console_failures, json_report, markdown_report, summarize,
                      summary_table)

__all__ = ["Check", "Context", "Mismatch", "Result", "Skip", "SECTIONS", "UsageError",
           "all_checks", "make_context", "run", "pytest_tests", "summary_table",
           "markdown_report", "json_report"]

_MODULES = (_contract, _semantics, _gradients, _layers, _training, _dlpack, _speed)


class UsageError(ValueError):
    """A bad request: unknown backend, a namespace that cannot be imported, a bad option."""


def all_checks():
    """Every check of every section, in run order."""
    out = []
    for m in _MODULES:
        out.extend(m.checks())
    return out


def _namespace_backend(namespace):
    """A backend for an Array API namespace (a module name or the namespace object),
    registered under its name, with its calls tracked (see ``_core``)."""
    if isinstance(namespace, str):
        try:
            module = importlib.import_module(namespace)
        except ImportError as e:
            raise UsageError(f"--namespace {namespace!r}: cannot import it ({e}); expected an "
                             f"importable Array API namespace such as jax.numpy, "
                             f"array_api_compat.torch or array_api_strict") from None
        name = namespace
    else:
        module = namespace
        name = getattr(namespace, "__name__", None) or "custom"
    if not hasattr(module, "asarray"):
        raise UsageError(f"--namespace {name!r} is not an Array API namespace (it has no "
                         f"asarray); expected a module such as jax.numpy or "
                         f"array_api_compat.torch")
    tracked = TrackedNamespace(module)
    device = "cpu"
    try:
        dev = str(module.__array_namespace_info__().default_device()).lower()
        if "cuda" in dev or "gpu" in dev:
            digits = "".join(ch for ch in dev if ch.isdigit())
            device = f"cuda:{digits or 0}"
    except Exception:
        pass
    be = Backend(name, tracked, library=getattr(module, "__name__", name), device=device)
    register_backend(name, be)
    return be


def make_context(backend=None, namespace=None, *, seed=0, quick=False):
    """The :class:`Context` for a run on ``backend`` (a registered name or a Backend) or on
    ``namespace`` (a module name or object, registered here with call tracking)."""
    if (backend is None) == (namespace is None):
        raise UsageError("give exactly one of backend= (a registered backend name such as "
                         "'cpu', 'strict', 'cuda') and namespace= (an Array API module)")
    if namespace is not None:
        be = _namespace_backend(namespace)
        target = f"--namespace {be.name}"
    else:
        try:
            be = it.get_backend(backend)
        except BackendUnavailable as e:
            raise UsageError(f"backend {backend!r} is not available here ({e}): not run") \
                from None
        except (ValueError, TypeError) as e:
            raise UsageError(f"--backend {backend!r}: {e}") from None
        target = f"--backend {be.name}"
    return Context(be, seed=seed, quick=quick, repro_target=target)


def run(backend=None, namespace=None, *, quick=False, only=None, seed=0, progress=None):
    """Run the suite; return ``(meta, results)``. ``only``: a list of ``SECTION`` /
    ``SECTION::CHECK`` patterns. ``progress(total)``, if given, is called once with the
    number of checks and returns a function called with each :class:`Result`."""
    ctx = make_context(backend, namespace, seed=seed, quick=quick)
    checks = select(all_checks(), only, quick)
    if only and not checks:
        raise UsageError(f"--only {' '.join(only)}: no check matches; sections are "
                         f"{', '.join(SECTIONS)} (python -m conformance --list shows every check)")
    results = run_checks(ctx, checks, progress(len(checks)) if progress else None)
    return _meta(ctx, quick), results


def _meta(ctx, quick):
    be = ctx.be
    return {"backend": be.name, "library": be.library, "device": str(be.device),
            "float dtype": ctx.float.name, "interop": getattr(it, "__version__", "0.1.0"),
            "python": sys.version.split()[0], "mode": "quick" if quick else "full",
            "seed": ctx.seed, "date": datetime.date.today().isoformat(),
            "command": f"python -m conformance {ctx.repro_target} --seed {ctx.seed}"
                       + (" --quick" if quick else "")}


def pytest_tests(backend=None, namespace=None, *, quick=True, seed=0, only=None):
    """A pytest test function parametrized over the checks, for a library's own CI::

        test_interop = conformance.pytest_tests(namespace="my_array_lib")

    Each check is one test (its id is the check's id); a failure shows the report of that
    check, with its reproduction command."""
    import pytest

    checks = select(all_checks(), only, quick)
    state = {}

    def context():
        if "ctx" not in state:
            state["ctx"] = make_context(backend, namespace, seed=seed, quick=quick)
        return state["ctx"]

    @pytest.mark.parametrize("check", checks, ids=[c.id for c in checks])
    def test_interop_conformance(check):
        res = run_checks(context(), [check])[0]
        if res.status == "skip":
            pytest.skip(res.message)
        if res.status != "pass":
            pytest.fail(markdown_report({"backend": context().be.name}, [res]), pytrace=False)

    return test_interop_conformance
