"""The conformance suite (``python -m conformance``): it fails exactly where a backend is
wrong, names the root cause, and its reproduction commands fail the same way alone.

The full quick runs on cpu and strict are CI steps of their own (``.ci/run``); here the
suite is run on a deliberately broken namespace and on small selections."""

import json
import os
import pathlib
import subprocess
import sys
import types

import pytest

import interop as it
import interop.nn.functional as F
import conformance
from conformance import _gradients

ROOT = pathlib.Path(__file__).resolve().parents[1]

BROKEN = '''
import array_api_compat.numpy as _xp
for _k in dir(_xp):
    if _k != "matmul" and (not _k.startswith("__") or _k == "__array_namespace_info__"):
        globals()[_k] = getattr(_xp, _k)

def exp(x):
    return _xp.exp(x) * 1.001      # wrong by 0.1%
'''


def _broken_namespace():
    """NumPy's standard namespace with a wrong ``exp`` and without ``matmul``."""
    ns = types.ModuleType("broken_numpy")
    exec(BROKEN, ns.__dict__)
    return ns


@pytest.fixture(scope="module")
def broken_run():
    meta, results = conformance.run(namespace=_broken_namespace(), quick=True)
    return meta, results


def test_a_broken_namespace_is_reported_by_exactly_its_two_faults(broken_run):
    meta, results = broken_run
    failed = sorted(r.id for r in results if r.status in ("fail", "error"))
    assert failed == ["contract::function[exp]", "contract::function[matmul]"], failed
    blocked = [r for r in results if r.status == "blocked"]
    assert blocked, "a wrong exp and a missing matmul must take down dependent checks"
    causes = set()
    for r in blocked:
        causes.update(r.causes)
    assert causes == {"exp", "matmul"}
    # each fault takes down the checks that use it, and no others
    by_cause = {c: {r.id for r in blocked if c in r.causes} for c in causes}
    assert "gradients::exp" in by_cause["exp"] and "gradients::matmul" in by_cause["matmul"]
    assert "gradients::sin" not in by_cause["exp"] | by_cause["matmul"]
    passed = {r.id for r in results if r.status == "pass"}
    assert {"gradients::sin", "contract::function[sin]", "layers::ReLU"} <= passed
    report = conformance.markdown_report(meta, results)
    failures = report.split("## Failures")[1].split("## Blocked")[0]
    assert "function[exp]" in failures and "function[matmul]" in failures
    assert failures.count("### ") == 2
    assert "matmul is missing from the namespace" in failures


def test_the_report_and_json_say_what_went_wrong(broken_run, tmp_path):
    meta, results = broken_run
    doc = json.loads(conformance.json_report(meta, results))
    exp = next(c for c in doc["checks"] if c["id"] == "contract::function[exp]")
    assert exp["status"] == "fail" and exp["distance"] > 1
    assert exp["expected"] and exp["got"] and exp["inputs"]["args"] == ["float64[3, 4]"]
    assert exp["repro"].startswith("python -m conformance --namespace broken_numpy")
    assert "--only 'contract::function[exp]'" in exp["repro"]
    assert doc["summary"]["contract"]["fail"] == 2


def _run_cli(*args, env_extra=None, cwd=ROOT):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "conformance", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_reproduction_command_run_alone_fails_the_same_way(tmp_path):
    (tmp_path / "broken_numpy.py").write_text(BROKEN)
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    out = tmp_path / "r.json"
    full = _run_cli("--namespace", "broken_numpy", "--only", "contract", "--only",
                    "gradients::exp", "--json", str(out), env_extra=env)
    assert full.returncode == 1, full.stderr
    doc = json.loads(out.read_text())
    exp = next(c for c in doc["checks"] if c["id"] == "contract::function[exp]")
    # the command from the report, run alone (through a shell, as a person pastes it)
    alone = subprocess.run(exp["repro"] + f" --json {tmp_path / 'alone.json'}", shell=True,
                           cwd=ROOT, env=dict(os.environ, **env), capture_output=True,
                           text=True, timeout=300)
    assert alone.returncode == 1, alone.stderr
    again = json.loads((tmp_path / "alone.json").read_text())["checks"]
    assert [c["id"] for c in again] == ["contract::function[exp]"]
    assert again[0]["status"] == "fail"
    assert again[0]["message"] == exp["message"] and again[0]["got"] == exp["got"]
    # the blocked check, alone, fails too (without the contract run it is a plain failure)
    blocked = next(c for c in doc["checks"] if c["id"] == "gradients::exp")
    assert blocked["status"] == "blocked" and blocked["causes"] == ["exp"]
    solo = _run_cli("--namespace", "broken_numpy", "--only", "gradients::exp", env_extra=env)
    assert solo.returncode == 1 and "gradients::exp" in solo.stdout


@pytest.mark.parametrize("args, words", [
    (["--backend", "nope"], ["unknown backend 'nope'", "cpu", "strict"]),
    (["--namespace", "no_such_module_xyz"], ["cannot import", "jax.numpy"]),
    (["--namespace", "json"], ["not an Array API namespace", "asarray"]),
    (["--only", "nosuchsection"], ["unknown section", "contract", "gradients"]),
    (["--only", "gradients::no_such_op"], ["no check matches"]),
    (["--seed", "x"], ["invalid int value"]),
    (["--backend", "cpu", "--namespace", "jax.numpy"], ["not allowed with"]),
])
def test_usage_errors_exit_2_and_say_what_is_accepted(args, words):
    r = _run_cli(*args)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    for w in words:
        assert w in r.stderr, (w, r.stderr)


def test_a_missing_gpu_is_not_a_pass():
    if it.backends.cuda_device_count():
        pytest.skip("a GPU is present: cuda runs")
    r = _run_cli("--backend", "cuda", "--quick")
    assert r.returncode == 2 and "not run" in r.stderr, r.stderr


def test_a_clean_selection_passes_with_report_json_and_table(tmp_path):
    r = _run_cli("--backend", "strict", "--only", "gradients::exp", "--only", "layers::Linear",
                 "--only", "training::mlp[sgd]", "--only", "semantics::promotion",
                 "--report", str(tmp_path / "r.md"), "--json", str(tmp_path / "r.json"), "-v")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "pass    gradients::exp" in r.stdout
    table = r.stdout.split("section")[1]
    for title in ("Namespace semantics", "Gradients", "Layers and losses", "Training parity",
                  "total"):
        assert title in table
    doc = json.loads((tmp_path / "r.json").read_text())
    assert [c["status"] for c in doc["checks"]] == ["pass"] * 4
    assert doc["meta"]["backend"] == "strict"
    md = (tmp_path / "r.md").read_text()
    assert md.startswith("# interop conformance: strict") and "| Gradients | 1 |" in md


def test_list_names_every_check_once():
    r = _run_cli("--list")
    ids = [line.split()[0] for line in r.stdout.splitlines()]
    assert len(ids) == len(set(ids)) == len(conformance.all_checks())
    for sec in conformance.SECTIONS:
        assert any(i.startswith(sec + "::") for i in ids)


def test_every_functional_is_gradient_checked_or_says_why():
    covered = {row.name.split("[")[0][2:] for row in _gradients.TABLE
               if row.name.startswith("F.")}
    names = {n for n in dir(F) if not n.startswith("_") and callable(getattr(F, n))}
    missing = sorted(names - covered - set(_gradients.NOT_DIFFERENTIABLE))
    assert not missing, f"nn.functional names without a gradient check or a reason: {missing}"
    stale = sorted(set(_gradients.NOT_DIFFERENTIABLE) - names)
    assert not stale, stale


def test_a_wrong_gradient_is_caught():
    """A backward formula that is wrong (the forward right) fails its check: the reference
    runs the same formula, so finite differences are what catch it."""
    ctx = conformance.make_context(backend="cpu")
    row = next(r for r in _gradients.TABLE if r.name == "sin")
    wrong = _gradients.Row("sin", lambda xp, x: _BadSin.apply(x), *row.args)
    check = conformance.Check("gradients", "sin", lambda c: _gradients._run(c, wrong))
    res, = conformance._core.run_checks(ctx, [check])
    assert res.status == "fail" and "gradcheck: Jacobian mismatch" in res.message, res.message


class _BadSin(it.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * x.cos() * 1.01         # 1% off


def test_pytest_tests_yields_one_test_per_check():
    fn = conformance.pytest_tests(backend="cpu", only=["gradients::exp", "layers::ReLU"])
    marks = [m for m in fn.pytestmark if m.name == "parametrize"]
    ids = [c.id for c in marks[0].args[1]]
    assert ids == ["gradients::exp", "layers::ReLU"]
    for check in marks[0].args[1]:
        fn(check)        # passes on cpu


def test_pytest_tests_as_a_library_would_use_it(tmp_path):
    (tmp_path / "test_lib.py").write_text(
        "import conformance\n"
        "test_interop = conformance.pytest_tests(namespace='array_api_strict',\n"
        "                                        only=['gradients::tanh', 'contract::rng'])\n")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        str(tmp_path / "test_lib.py")], cwd=tmp_path, capture_output=True,
                       text=True, timeout=300,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 0 and "2 passed" in r.stdout, r.stdout + r.stderr


def test_a_wrong_registered_kernel_fails_its_contract_check():
    """A namespace's own kernel that disagrees with the standard-only fallback is named."""
    import array_api_compat.numpy as xnp

    def index_add(x, dim, index, source):      # forgets repeated indices accumulate
        out = xnp.asarray(x, copy=True)
        out[index] = out[index] + source if dim == 0 else out
        return out

    it.backends.register_backend("conformance-bad-kernel", xnp, kernels={"index_add": index_add})
    meta, results = conformance.run(backend="conformance-bad-kernel", only=["contract::kernel"])
    status = {r.id: r.status for r in results}
    assert status.pop("contract::kernel[index_add]") == "fail"
    assert set(status.values()) == {"pass"}, status


def test_every_nn_class_is_layer_checked_or_says_why():
    from conformance import _layers
    checked = {row.cls for row in _layers.T}
    classes = {n for n in dir(it.nn) if n[:1].isupper() and isinstance(getattr(it.nn, n), type)}
    missing = sorted(classes - checked - set(_layers.NOT_CHECKED))
    assert not missing, f"nn classes without a layer check or a reason: {missing}"
