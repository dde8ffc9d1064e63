"""``python -m interop [--json]``: the environment in one screen, for bug reports.

interop's version and where it is installed; Python and the machine; NumPy, array-api-compat,
array-api-strict and CuPy versions; every backend, available or not (and why), with its
device, the Array API version its namespace declares and the DLPack version it exports; the
Array API version interop implements and the DLPack version it asks for; the optional
packages interop works with (torch, jax, cupy, cudf, onnx, tensorboard, mpi4py, ...), found
or not. ``--json`` prints the same as one JSON object. The array libraries are probed by
``interop.backends`` (the only layer that touches them); optional packages are found
without being imported.
"""

import argparse
import json
import os
import platform
import sys

import interop as it
from .backends import _env

_ENV_VARS = ("INTEROP_BACKEND", "INTEROP_MALLOC", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS",
             "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def report():
    """The environment as a JSON-ready dict (what ``--json`` prints)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count()
    return {
        "interop": {"version": it.__version__, "path": os.path.dirname(it.__file__),
                    "array_api_version": it.__array_api_version__,
                    "dlpack_requested": "%d.%d" % _env.DLPACK_REQUESTED,
                    "default_backend": os.environ.get("INTEROP_BACKEND") or "cpu"},
        "python": {"version": platform.python_version(),
                   "implementation": platform.python_implementation(),
                   "executable": sys.executable},
        "platform": {"system": platform.platform(), "machine": platform.machine(),
                     "cpus": cpus},
        "libraries": _env.library_versions(),
        "backends": _env.backend_status(),
        "peers": _env.peers(),
        "environment": {k: os.environ[k] for k in _ENV_VARS if k in os.environ},
    }


def format_report(r):
    """The report as text: one screen."""
    i, py, pl = r["interop"], r["python"], r["platform"]
    lines = [f"interop {i['version']}  ({i['path']})",
             f"Python {py['version']} ({py['implementation']}, {py['executable']})",
             f"platform {pl['system']}, {pl['machine']}, {pl['cpus']} CPUs",
             f"Array API {i['array_api_version']}; DLPack: interop asks producers for "
             f"{i['dlpack_requested']} and accepts unversioned capsules",
             "", "libraries:"]
    for name, v in r["libraries"].items():
        lines.append(f"  {name:<18} {v or 'not installed'}")
    lines += ["", f"backends (default: {i['default_backend']}):"]
    for name, b in r["backends"].items():
        if b["available"]:
            lines.append(f"  {name:<10} available  {b['library']} on {b['device']}"
                         + (f" ({b['native_device']})" if b["native_device"] else "")
                         + f"; Array API {b['array_api_version'] or '?'}; "
                         f"exports DLPack {b['dlpack_export']}"
                         + ("; glibc malloc tuned" if b.get("malloc_tuned") else ""))
        else:
            lines.append(f"  {name:<10} unavailable: {b['reason']}")
    lines += ["", "optional packages:"]
    for name, p in r["peers"].items():
        lines.append(f"  {name:<12} {p['version'] or '-':<16} {p['use']}")
    if r["environment"]:
        lines += ["", "environment: " + ", ".join(f"{k}={v}" for k, v in
                                                  r["environment"].items())]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m interop", description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    args = p.parse_args(argv)
    r = report()
    print(json.dumps(r, indent=2) if args.json else format_report(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
