"""A store on a read-only disk (a read-only bind mount, as root; skipped where mounting is not allowed): predict
reads from it; the commands that record a run refuse it in one line."""
import subprocess

import pandas as pd
import pytest
from click.testing import CliRunner

from forecast.app.cli import main

pytestmark = pytest.mark.slow   # mounts a folder


@pytest.fixture
def read_only(tmp_path):
    """`tmp_path/store` mounted read-only onto itself while the test runs (after the fixture's user fills it)."""
    folder = tmp_path / "store"
    folder.mkdir()
    mounted = []

    def make_read_only():
        for command in (["mount", "--bind", str(folder), str(folder)],
                        ["mount", "-o", "remount,ro,bind", str(folder)]):
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode:
                pytest.skip(f"cannot mount read-only here: {done.stderr.strip()}")
            mounted.append(folder)

    yield folder, make_read_only
    if mounted:
        subprocess.run(["umount", str(folder)], check=True)


def test_predict_reads_a_read_only_store_and_train_and_backtest_refuse_it(read_only, make_frame, tiny_model,
                                                                          monkeypatch):
    """Before: predict and serve failed writing MLflow's registered_model_meta into the model's folder (an
    OSError traceback); train died on sqlite's 'attempt to write a readonly database' when its run started."""
    folder, make_read_only = read_only
    monkeypatch.chdir(folder)   # the store's artifacts go to ./mlruns: inside the folder made read-only
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    make_frame(n_series=1, length=150).to_csv(folder / "d.csv", index=False)
    trained = CliRunner().invoke(main, ["train", "--data", "d.csv", "--tracking-uri", uri, "--model-name", "ro",
                                        "--max-epochs", "1", "--seq-len", "12", "--horizon", "6", *tiny_model])
    assert trained.exit_code == 0, trained.output
    make_read_only()
    out = folder.parent / "f.csv"
    predicted = CliRunner().invoke(main, ["predict", "--model", "models:/ro/1", "--data", "d.csv", "--output",
                                          str(out), "--tracking-uri", uri])
    assert predicted.exit_code == 0, predicted.output
    assert len(pd.read_csv(out)) == 6
    for args in (["train", "--data", "d.csv", "--max-epochs", "1"],
                 ["backtest", "--model", "models:/ro/1", "--data", "d.csv"]):
        refused = CliRunner().invoke(main, [*args, "--tracking-uri", uri])
        assert refused.exit_code == 1 and refused.output == (
            f"Error: tracking store {uri} is read-only ({folder / 'mlflow.db'} cannot be written): this command "
            "records a run in it; give a writable store with --tracking-uri (predict and serve read from a "
            "read-only one)\n"), refused.output
