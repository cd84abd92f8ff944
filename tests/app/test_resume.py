"""Crash safety: a training process killed with SIGKILL resumes in the same MLflow run and registers once."""
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from mlflow.tracking import MlflowClient

from forecast.app.cli import main

pytestmark = pytest.mark.slow   # process-level: real servers, processes or Spark (CI runs it)

ARGS = ["--model-name", "resumed", "--max-epochs", "12", "--patience", "100", "--layers", "1", "--d-model", "16",
        "--n-heads", "2", "--batch-size", "8", "--seq-len", "12", "--horizon", "6", "--no-progress"]


def _forecast(tmp_path, *args, **kwargs):
    return subprocess.run([str(Path(sys.executable).parent / "forecast"), *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600, **kwargs)


def test_sigkill_then_resume_finishes_the_same_run(tmp_path, make_frame, training_run):
    make_frame(n_series=2, length=300).to_csv(tmp_path / "d.csv", index=False)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    train = [str(Path(sys.executable).parent / "forecast"), "train", "--data", str(tmp_path / "d.csv"),
             "--tracking-uri", uri, *ARGS]
    proc = subprocess.Popen(train, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    client = MlflowClient(uri)
    run_id = None
    try:  # kill once two epochs are saved in the run
        run_id = training_run(proc, client, lambda run: len(client.get_metric_history(run, "val_loss")) >= 2
                              and client.list_artifacts(run, "checkpoints/resume"))
        # while it trains, a resume of its run is refused (two processes trained into one run), leaving it be
        racing = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "d.csv"), "--tracking-uri", uri, *ARGS,
                                           "--resume", run_id])
        assert racing.exit_code == 1 and f"--resume {run_id}: another process on this machine is training that " \
            "run" in racing.output, racing.output
        assert proc.poll() is None and client.get_run(run_id).info.status == "RUNNING"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert run_id and client.get_run(run_id).info.status == "RUNNING"  # nothing could mark it

    # refusals happen before any training: in this process (the resume itself runs in a fresh one below)
    refused = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "d.csv"), "--tracking-uri", uri, *ARGS,
                                        "--dropout", "0.3", "--resume", run_id])
    assert refused.exit_code == 1 and "settings differ from the run's: model.dropout '0.1' -> '0.3'" in refused.output
    other = tmp_path / "other.csv"
    make_frame(n_series=2, length=300, seed=5).to_csv(other, index=False)
    refused = CliRunner().invoke(main, ["train", "--data", str(other), "--tracking-uri", uri, *ARGS, "--resume",
                                        run_id])
    assert refused.exit_code == 1 and "is not the data that run trained on" in refused.output

    resumed = _forecast(tmp_path, "train", "--data", str(tmp_path / "d.csv"), "--tracking-uri", uri, *ARGS,
                        "--resume", run_id)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"Run {run_id}; registered models:/resumed/1" in resumed.stdout
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.metrics["epochs"] == 12
    assert len(client.search_runs([client.get_experiment_by_name("forecast").experiment_id])) == 1
    assert [str(v.version) for v in client.search_model_versions("name='resumed'")] == ["1"]
    epochs = [m.step for m in client.get_metric_history(run_id, "epoch")]
    assert max(epochs) > 0 and "accuracy/test_mase" in run.data.metrics
