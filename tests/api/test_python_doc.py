"""docs/python.md's example runs as written (in a folder of its own, on the bundled example, a fresh store)."""
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_python_example_in_the_docs_runs(tmp_path, monkeypatch, capsys):
    (code,) = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "python.md").read_text(), re.DOTALL)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    exec(compile(code, "docs/python.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "unique_id" in printed and "q0.1" in printed
