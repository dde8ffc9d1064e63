"""``python -m interop``: the environment report, as text and as JSON."""

import importlib.metadata
import json
import os
import re
import subprocess
import sys

import numpy as np
import array_api_compat

import interop as it
from interop import __main__ as main_mod
from interop.backends import _env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(*args, **env):
    return subprocess.run([sys.executable, "-m", "interop", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=120, env={**os.environ, **env})


def test_json_report_has_what_a_bug_report_needs():
    p = _run("--json", INTEROP_BACKEND="strict")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["interop"]["version"] == it.__version__
    assert r["interop"]["path"] == os.path.join(ROOT, "interop")     # this checkout's interop
    assert r["interop"]["array_api_version"] == it.__array_api_version__
    assert r["interop"]["default_backend"] == "strict"
    assert r["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert r["libraries"]["numpy"] == np.__version__
    assert r["libraries"]["array-api-compat"] == array_api_compat.__version__
    cpu = r["backends"]["cpu"]
    assert cpu["available"] and cpu["library"] == "numpy" and cpu["device"] == "cpu"
    assert cpu["dlpack_export"] == "1.0" and cpu["array_api_version"]
    assert r["backends"]["strict"]["available"]
    cuda = r["backends"]["cuda:0"]
    if not cuda["available"]:                      # no CuPy or no GPU here: the report says why
        assert "cuda:0" in cuda["reason"] and ("CuPy" in cuda["reason"] or "GPU" in cuda["reason"])
    assert r["peers"]["torch"]["version"] == importlib.metadata.version("torch")
    assert set(r["peers"]) >= {"torch", "jax", "cupy", "cudf", "onnx", "tensorboard", "mpi4py"}
    assert r["environment"]["INTEROP_BACKEND"] == "strict"


def test_text_report_fits_one_screen_and_names_every_backend():
    p = _run()
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith(f"interop {it.__version__}")
    assert len(lines) <= 50 and max(map(len, lines)) < 400
    assert any(line.startswith("  cpu        available  numpy on cpu") for line in lines)
    assert any(line.startswith("  cuda:0     ") for line in lines)
    assert "Array API 2025.12" in p.stdout and "DLPack" in p.stdout
    assert any(line.startswith("  mpi4py ") for line in lines)


def test_report_sees_registered_backends_and_missing_packages(monkeypatch):
    import array_api_compat.torch as compat_torch
    if "report-torch" not in it.backends.list_backends():
        it.backends.register_backend("report-torch", compat_torch)
    r = main_mod.report()
    b = r["backends"]["report-torch"]
    assert b["available"] and b["library"] == "array_api_compat.torch"
    assert re.fullmatch(r"1\.\d+|0\.x \(unversioned\)", b["dlpack_export"])   # torch: 1.x
    monkeypatch.setitem(_env.PEERS, "surely_not_installed_pkg", "nothing")
    assert _env.peers()["surely_not_installed_pkg"]["version"] is None
    text = main_mod.format_report(main_mod.report())
    assert "surely_not_installed_pkg -" in text.replace("  ", " ")


def test_optional_packages_are_found_without_importing_them():
    code = ("import sys, interop.__main__ as m; m.report(); "
            "print(sorted(n for n in ('torch', 'jax', 'onnx', 'tensorboard', 'mpi4py', "
            "'sklearn', 'matplotlib') if n in sys.modules))")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, text=True, capture_output=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"
