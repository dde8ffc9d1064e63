"""Every test that takes the ``be`` fixture runs once per selected backend.

``--backend cpu,strict,torch`` is the default: NumPy, array-api-strict (the proof that only
the standard is used) and PyTorch's namespace registered through array-api-compat as any
user namespace is (the proof that a third-party namespace carries interop). ``--backend
all`` adds cuda where a GPU is usable; a single name runs one. Hypothesis uses the bounded
"ci" profile when HYPOTHESIS_PROFILE=ci (CI sets it), "dev" otherwise, "soak" for long runs.
"""

import os

# scikit-learn's array-API dispatch needs SciPy's array-API mode, which SciPy reads once, when
# it is first imported (tests/test_consumers.py)
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import platform
import resource
import sys
import time

import hypothesis
import pytest
from hypothesis import settings, HealthCheck
from hypothesis.database import InMemoryExampleDatabase

import interop as it

# Every profile starts from hypothesis's "default" profile, never from whatever it loaded by
# itself: when $CI is set it loads its own "ci" profile (derandomize=True, database=None), and
# with no database its pytest plugin fails this suite. The plugin chains one settings object
# per parametrized case of a test function (about a thousand for test_matches_torch), and with
# no database every lookup of `settings.database` walks that chain recursively: a
# RecursionError, then every later test failing inside hypothesis (a CI run died that way).
# CI keeps its examples in memory; a failure prints its seed and blob to reproduce it.
_BASE = settings.get_profile("default")
settings.register_profile("ci", parent=_BASE, max_examples=12, deadline=None,
                          database=InMemoryExampleDatabase(), print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", parent=_BASE, max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("soak", parent=_BASE, max_examples=500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


try:   # the tests' tensors are tiny: one intra-op thread avoids oversubscribing small CI machines
    import torch
    torch.set_num_threads(1)
except ImportError:
    pass

_START = (time.perf_counter(), sys.getrecursionlimit())


def pytest_terminal_summary(terminalreporter):
    """One line of environment facts at the end of every run, so a CI log that shows only
    its tail still says where and how the suite ran."""
    try:
        cpus = f"{len(os.sched_getaffinity(0))}/{os.cpu_count()}"
    except AttributeError:
        cpus = str(os.cpu_count())
    torch_mod = sys.modules.get("torch")
    threads = torch_mod.get_num_threads() if torch_mod is not None else "-"
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    terminalreporter.write_line(
        f"env: python {platform.python_version()} ({sys.executable}), {platform.machine()}, "
        f"cpus {cpus}, torch threads {threads}, hypothesis {hypothesis.__version__} profile "
        f"{os.environ.get('HYPOTHESIS_PROFILE', 'dev')}, "
        f"recursion limit {_START[1]} -> {sys.getrecursionlimit()}, peak RSS {peak_mb:.0f} MB, "
        f"{time.perf_counter() - _START[0]:.0f} s since conftest import")


def pytest_addoption(parser):
    parser.addoption("--backend", default="cpu,strict,torch",
                     help="comma-separated backends to run on (cpu, strict, torch, cuda, all)")


def _cuda_available():
    try:
        it.get_backend("cuda:0")
        return True
    except Exception:
        return False


def pytest_generate_tests(metafunc):
    opt = metafunc.config.getoption("--backend")
    names = ["cpu", "strict", "torch", "cuda:0"] if opt == "all" else \
        [n.strip() for n in opt.split(",")]
    if "be" in metafunc.fixturenames:
        metafunc.parametrize("be", names, indirect=True)
    if "standard_be" in metafunc.fixturenames:
        metafunc.parametrize("standard_be", [n for n in ("cpu", "strict") if n in names],
                             indirect=True)


def _register_torch():
    """``--backend torch``: PyTorch's namespace through array-api-compat, registered as any
    user namespace is (the proof that a third-party namespace carries interop)."""
    if "torch" not in it.backends.list_backends():
        compat_torch = pytest.importorskip("array_api_compat.torch")
        it.backends.register_backend("torch", compat_torch)


@pytest.fixture
def be(request):
    """The backend under test, made current for the test's duration."""
    name = request.param
    if name.startswith("cuda") and not _cuda_available():
        pytest.skip("no CUDA GPU with CuPy here")
    if name == "torch":
        _register_torch()
    with it.use_backend(name) as backend:
        request.config.stash[_SELECTION].backends_run.add(name)
        yield backend


@pytest.fixture
def standard_be(request):
    """The standard's own backends (cpu: NumPy, strict) among those selected, made current:
    for tests that compare interop with the backend namespace itself (the torch backend is
    compared with PyTorch in tests/test_ops.py)."""
    with it.use_backend(request.param) as backend:
        yield backend


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state (interop's and PyTorch's), so a test that
    draws random numbers gives the same result run after run (hypothesis draws its own)."""
    it.manual_seed(0)
    try:
        torch.manual_seed(0)
    except NameError:
        pass


@pytest.fixture(autouse=True)
def _reset_grad_mode():
    yield
    it.autograd.grad_mode.state.enabled = True
    it.autograd.grad_mode.state.inference = False


# ---------------------------------------------------- tests that check what the others did

_SELECTION = pytest.StashKey()


class Selection:
    """What this session runs: the files of its selected tests, whether collected tests were
    deselected (-k, -m, --deselect, --lf...) and whether tests were named by node id
    (file::test), so a test that checks what the others did can tell whether they all ran;
    and, as they run, the backends the ``be`` fixture could make current."""

    def __init__(self):
        self.files = set()
        self.deselected = 0
        self.by_node_id = False
        self.backends_run = set()

    def complete(self, files):
        """True when each of ``files`` (paths) is selected whole."""
        return (not self.deselected and not self.by_node_id
                and all(str(f) in self.files for f in files))


def pytest_configure(config):
    config.addinivalue_line("markers", "run_last: runs after every other selected test (it "
                                       "checks what they did; see the selection fixture)")
    config.stash[_SELECTION] = Selection()


def pytest_deselected(items):
    if items:
        items[0].config.stash[_SELECTION].deselected += len(items)


@pytest.hookimpl(trylast=True)      # after -k, -m and --deselect have removed their items
def pytest_collection_modifyitems(config, items):
    last = [i for i in items if i.get_closest_marker("run_last")]
    if last:
        items[:] = [i for i in items if not i.get_closest_marker("run_last")] + last
    selection = config.stash[_SELECTION]
    selection.files = {str(i.path) for i in items}
    selection.by_node_id = any("::" in str(a) for a in config.args)


@pytest.fixture
def selection(request):
    """This session's :class:`Selection`."""
    return request.config.stash[_SELECTION]
