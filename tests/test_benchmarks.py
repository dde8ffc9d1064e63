"""``python -m benchmarks``: the one-table suite (benchmarks/suite.py) on its quickest part,
and its table, JSON and plot. The whole ``python -m benchmarks --quick`` takes minutes, so
CI runs it as a command of its own, not here."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytest.importorskip("torch")


def test_suite_runs_a_part_and_writes_table_json_and_plot(tmp_path):
    out_json, out_png = tmp_path / "bench.json", tmp_path / "bench.png"
    p = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--only", "dlpack",
                        "--json", str(out_json), "--plot", str(out_png)],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "running dlpack ..." in p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith("interop ") and "against PyTorch" in lines[0]
    assert "[dlpack]" in lines
    table = [ln for ln in lines if ln.startswith("numpy -> interop vs numpy -> torch, 1 KB")]
    assert len(table) == 1 and table[0].split()[-2].endswith("x")
    r = json.loads(out_json.read_text())
    assert r["failed"] == [] and r["quick"] is True
    rows = {row["workload"]: row for row in r["rows"]}
    row = rows["numpy -> interop vs numpy -> torch, 256 MB"]
    assert row["group"] == "dlpack" and row["unit"] == "µs"
    assert row["interop"] < 1000 and row["torch"] < 1000         # zero-copy: O(1) at 256 MB
    assert abs(row["ratio"] - row["interop"] / row["torch"]) < 1e-12
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_suite_reports_a_failing_part_and_keeps_the_others(monkeypatch, capsys):
    from benchmarks import suite

    def broken(quick, backend, path):
        raise RuntimeError("boom")

    def fine(quick, backend, path):
        with open(path, "w") as f:
            json.dump({"rows": [{"pair": "interop -> numpy", "size": "1 KB", "us": 2.0},
                                {"pair": "torch -> numpy", "size": "1 KB", "us": 4.0}]}, f)
        return 0

    monkeypatch.setattr(suite, "SUITE", [("broken", broken, suite._dlpack),
                                         ("fine", fine, suite._dlpack)])
    assert suite.main(quick=True) == 1
    captured = capsys.readouterr()
    assert "interop -> numpy vs torch -> numpy, 1 KB" in captured.out
    assert "0.50x" in captured.out
    assert "broken failed" in captured.err and "RuntimeError: boom" in captured.err


def test_existing_subcommands_still_parse():
    from benchmarks.__main__ import main
    with pytest.raises(SystemExit) as e:
        main(["layers", "--help"])
    assert e.value.code == 0


def test_training_benchmark_gives_both_processes_the_same_allocator(monkeypatch):
    """benchmarks/train.py starts PyTorch's and interop's processes with the same glibc
    malloc settings (interop's own tuning, as GLIBC_TUNABLES), keeping a caller's value, and
    leaves the environment as it found it."""
    from benchmarks import train
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    with train.same_allocator() as settings:
        assert os.environ["GLIBC_TUNABLES"] == settings == train.SAME_ALLOCATOR
        out = subprocess.run([sys.executable, "-c", "import os; print(os.environ['GLIBC_TUNABLES'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
        assert out == train.SAME_ALLOCATOR
    assert "GLIBC_TUNABLES" not in os.environ
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=1")
    with train.same_allocator() as settings:
        assert settings == "glibc.malloc.arena_max=1"
    assert os.environ["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=1"
    # the settings are interop's own tuning (interop/backends/_numpy.py), in glibc's names
    assert "mmap_threshold=33554432" in train.SAME_ALLOCATOR
    assert "trim_threshold=268435456" in train.SAME_ALLOCATOR


def test_training_subcommands_take_threads(capsys):
    from benchmarks.__main__ import main
    for name in ("mlp", "cnn", "mnist", "memory"):
        with pytest.raises(SystemExit) as e:
            main([name, "--help"])
        assert e.value.code == 0
        assert "--threads N" in capsys.readouterr().out


def test_mnist_workload_is_pytorchs_example_network_and_losses_agree():
    """benchmarks/train.py's ``mnist`` model is PyTorch's MNIST example network (9216
    features into the first linear layer, log-probabilities out), and from the same weights
    one step with dropout off gives the same loss in both libraries (what the benchmark
    checks); in training mode dropout is on."""
    import interop as it
    from benchmarks import train
    torch = pytest.importorskip("torch")
    x, y = train.data("mnist")
    torch.manual_seed(0)
    theirs = train.Trainer(torch, "mnist", x, y)
    state = {k: it.asarray(v.detach().numpy().copy()) for k, v in theirs.net.state_dict().items()}
    ours = train.Trainer(it, "mnist", x, y, state)
    assert [type(m).__name__ for m in ours.net] == [type(m).__name__ for m in theirs.net]
    assert ours.net[7].in_features == 9216
    assert abs(ours.eval_step() - theirs.eval_step()) <= 1e-4
    assert ours.net.training and theirs.net.training
    with it.no_grad():
        logp = ours.net.eval()(ours.x[:4])
    assert abs(float(it.exp(logp).sum()) - 4.0) < 1e-4
