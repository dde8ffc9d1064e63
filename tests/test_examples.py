"""The README's commands and the examples: each runs with tiny settings and shows real output."""

import importlib.util
import pathlib
import re

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_quickstart_trains_saves_and_reloads(be, capsys):
    _load("quickstart").main(["--backend", be.name, "--epochs", "3"])
    out = capsys.readouterr().out
    accs = [float(a) for a in re.findall(r"test accuracy ([\d.]+)%", out)]
    assert len(accs) == 3 and accs[-1] > 80.0, out
    assert accs[-1] == accs[-2], "the reloaded model must score as the trained one"
    assert f"backend {be.name}" in out


def test_readme_training_example_runs(tmp_path, monkeypatch):
    """The README's PyTorch-style training snippet runs as printed (in a scratch folder)."""
    readme = (EXAMPLES.parent / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    snippet = next(b for b in blocks if "DataLoader(" in b and "it.save" in b)
    monkeypatch.chdir(tmp_path)
    exec(compile(snippet, "README.md", "exec"), {})
    assert (tmp_path / "checkpoint.safetensors").exists()


# ------------------------------------------------------------------ the digits CNN demo

_DEMO_SMALL = ["--epochs", "2", "--train-size", "960", "--lr", "5e-3", "--no-progress"]


def test_digits_cnn_demo_trains_reloads_and_ends_with_the_accuracy(be, tmp_path, capsys):
    ckpt = tmp_path / "digits.safetensors"
    acc = _load("digits_cnn").main(["--backend", be.name, "--checkpoint", str(ckpt)] + _DEMO_SMALL)
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert re.fullmatch(r"test accuracy: \d{1,3}\.\d%", lines[-1]), lines[-1]
    assert lines[-1] == f"test accuracy: {acc:.1%}"
    epochs = [float(a) for a in re.findall(r"epoch +\d+/2 +loss [\d.]+ +test accuracy ([\d.]+)%",
                                           out)]
    assert len(epochs) == 2 and epochs[-1] == float(lines[-1][15:-1])   # reloaded == trained
    assert acc > 0.7, out          # two short epochs already learn (chance is 10%)
    assert f"on backend {be.name}" in out and "960 training and 360 test digits" in out
    assert ckpt.exists() and "reloaded into a fresh model" in out


def test_digits_cnn_progress_bar_shows_the_running_loss(tmp_path, capsys):
    _load("digits_cnn").main(["--epochs", "1", "--train-size", "64", "--batch-size", "32",
                              "--checkpoint", str(tmp_path / "c.safetensors")])
    err = capsys.readouterr().err
    assert "epoch  1/1" in err and re.search(r"batch/s, loss=\d\.\d{4}\]", err), err


def test_digits_cnn_plot_writes_a_png(tmp_path, capsys):
    png = tmp_path / "curves.png"
    _load("digits_cnn").main(_DEMO_SMALL + ["--plot", str(png),
                                            "--checkpoint", str(tmp_path / "c.safetensors")])
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert f"curves written to {png}" in capsys.readouterr().out


def test_digits_cnn_logdir(tmp_path, capsys):
    """--logdir writes TensorBoard scalars through interop.utils.tensorboard; where that
    module is absent (it lands with another issue) the demo stops before training and says
    what is missing."""
    logdir = tmp_path / "runs"
    args = _DEMO_SMALL + ["--logdir", str(logdir), "--checkpoint", str(tmp_path / "c.safetensors")]
    if importlib.util.find_spec("interop.utils.tensorboard") is None:
        with pytest.raises(SystemExit, match="--logdir needs interop.utils.tensorboard"):
            _load("digits_cnn").main(args)
        assert "epoch" not in capsys.readouterr().out
    else:
        _load("digits_cnn").main(args)
        assert any(p.is_file() and p.stat().st_size > 0 for p in logdir.rglob("*"))
        assert f"TensorBoard scalars written to {logdir}" in capsys.readouterr().out


# ------------------------------------------------------------------------- the examples

def test_sequence_lstm_learns_to_count(capsys):
    acc = _load("sequence_lstm").main(["--steps", "200", "--length", "6"])
    out = capsys.readouterr().out
    accs = [float(a) for a in re.findall(r"held-out accuracy ([\d.]+)%", out)]
    assert len(accs) == 2 and accs[-1] == round(100 * acc, 1)
    assert acc > 0.6, out           # chance (the most common count of 6 bits) is 31%
    rows = re.findall(r"^([01]{6})  ones: (\d)  predicted: (\d)$", out, re.M)
    assert len(rows) == 4 and all(r[0].count("1") == int(r[1]) for r in rows)


def test_char_transformer_learns_and_samples_lines(capsys):
    loss = _load("char_transformer").main(["--steps", "60", "--context", "32", "--lines", "2"])
    out = capsys.readouterr().out
    uniform = float(re.search(r"uniform guess loss ([\d.]+)", out).group(1))
    assert loss < uniform - 0.6, out          # well below guessing among ~47 characters
    sampled = out.split("sampled:\n", 1)[1].splitlines()
    assert 1 <= len(sampled) <= 2 and all(line.startswith("  ") and line.strip()
                                          for line in sampled), out


def test_vae_trains_and_plots_a_grid(tmp_path, capsys):
    png = tmp_path / "samples.png"
    loss = _load("vae").main(["--epochs", "4", "--plot", str(png)])
    out = capsys.readouterr().out
    tests = [float(v) for v in re.findall(r"test loss ([\d.]+) per digit", out)]
    assert tests and tests[-1] == round(loss, 2)
    assert loss < 40, out           # an untrained decoder scores about 64 * ln 2 = 44 nats
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_dlpack_handoff_shares_memory_both_ways(capsys):
    err = _load("dlpack_handoff").main(["--n", "512", "--steps", "100"])
    out = capsys.readouterr().out
    rows = re.findall(r"^  (.+?) +(0x[0-9a-f]+) -> (0x[0-9a-f]+)  (shared|COPIED)$", out, re.M)
    names = [r[0] for r in rows]
    for want in ("NumPy features (n, 8)", "JAX true weights (8,), read-only",
                 "PyTorch noise (n,)", "weights -> NumPy", "predictions -> PyTorch",
                 "it.randn(n) -> JAX"):
        assert want in names, out
    for name, a, b, status in rows:
        assert (a == b) == (status == "shared")
        if "JAX" not in name or name.startswith(("JAX", "it.randn")):
            assert status == "shared", (name, out)
    assert err < 0.05, out          # the true weights are recovered


def test_custom_backend_trains_the_same_model(capsys):
    diff = _load("custom_backend").main(["--steps", "30", "--name", "compat-torch-example"])
    out = capsys.readouterr().out
    assert "array_api_compat.torch as backend 'compat-torch-example'" in out
    assert "(numpy)" in out and "(array_api_compat.torch)" in out
    assert diff < 1e-4, out
    first, last = re.findall(r"^ +(?:1|30) +([\d.]+) +([\d.]+)$", out, re.M)
    assert float(last[0]) < float(first[0]) - 0.05     # it trained
