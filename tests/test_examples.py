"""The README's first command runs examples/quickstart.py: it must run and learn."""

import importlib.util
import pathlib
import re

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
