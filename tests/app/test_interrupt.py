"""Ctrl-C during training: the run is marked KILLED, the best checkpoint so far is kept, nothing registered."""
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

pytestmark = pytest.mark.slow   # process-level: real servers, processes or Spark (CI runs it)


def test_ctrl_c_marks_the_run_killed_and_keeps_the_checkpoint(tmp_path, make_frame, training_run):
    make_frame(n_series=2, length=300).to_csv(tmp_path / "d.csv", index=False)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    forecast = Path(sys.executable).parent / "forecast"
    proc = subprocess.Popen([str(forecast), "train", "--data", str(tmp_path / "d.csv"), "--tracking-uri", uri,
                             "--model-name", "interrupted", "--max-epochs", "500", "--patience", "500", "--layers", "1",
                             "--d-model", "16", "--n-heads", "2", "--batch-size", "16", "--no-progress"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    client = MlflowClient(uri)
    try:  # once the first validation epoch is logged
        training_run(proc, client, lambda run_id: client.get_metric_history(run_id, "val_loss"))
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    last = [line for line in stderr.splitlines() if line.strip()][-1]
    assert last.startswith("Error: training interrupted; run ") and "is marked KILLED" in last, stderr[-2000:]
    (run,) = client.search_runs([client.get_experiment_by_name("forecast").experiment_id])
    assert run.info.status == "KILLED"
    assert any(a.path.endswith(".ckpt") for a in client.list_artifacts(run.info.run_id, "checkpoints"))
    assert client.search_model_versions("name='interrupted'") == []
