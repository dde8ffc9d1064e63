"""Every test that takes the ``be`` fixture runs once per selected backend.

``--backend cpu,strict,torch`` is the default: NumPy, array-api-strict (the proof that only
the standard is used) and PyTorch's namespace registered through array-api-compat as any
user namespace is (the proof that a third-party namespace carries interop). ``--backend
all`` adds cuda where a GPU is usable; a single name runs one. Hypothesis uses the bounded
"ci" profile when HYPOTHESIS_PROFILE=ci (CI sets it), "dev" otherwise, "soak" for long runs.
"""

import os

import pytest
from hypothesis import settings, HealthCheck

import interop as it

settings.register_profile("ci", max_examples=12, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("soak", max_examples=500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


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
    if "be" in metafunc.fixturenames:
        opt = metafunc.config.getoption("--backend")
        names = ["cpu", "strict", "torch", "cuda:0"] if opt == "all" else \
            [n.strip() for n in opt.split(",")]
        metafunc.parametrize("be", names, indirect=True)


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
        yield backend


@pytest.fixture(autouse=True)
def _reset_grad_mode():
    yield
    it.autograd.grad_mode.state.enabled = True
    it.autograd.grad_mode.state.inference = False
