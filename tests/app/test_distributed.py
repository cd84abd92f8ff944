"""Multi-process training: 2 CPU processes (DDP over gloo) through the real console script; one MLflow run."""
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

pytestmark = pytest.mark.slow   # process-level: real servers, processes or Spark (CI runs it)


def test_two_process_ddp_gives_one_run_and_one_registered_version(tmp_path, make_frame):
    make_frame(n_series=4, length=200, covariates=1).to_csv(tmp_path / "d.csv", index=False)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    forecast = Path(sys.executable).parent / "forecast"
    proc = subprocess.run([str(forecast), "train", "--data", str(tmp_path / "d.csv"), "--tracking-uri", uri,
                           "--model-name", "ddp", "--devices", "2", "--strategy", "ddp", "--max-epochs", "2",
                           "--seq-len", "12", "--horizon", "6", "--batch-size", "32", "--layers", "1",
                           "--d-model", "16", "--n-heads", "2", "--no-progress", "--health-every", "2"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("registered models:/ddp/") == 1  # only rank 0 reports
    client = MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("forecast").experiment_id])
    assert run.info.status == "FINISHED" and run.data.params["devices"] == "2"
    assert [str(v.version) for v in client.search_model_versions("name='ddp'")] == ["1"]
    # 4 series x 145 training windows (origins from row 24, a season in, to the validation part 20 + 6 rows
    # before the end, less a horizon) = 580 windows; each process takes half of them, 290 = 10 batches of 32,
    # so 2 epochs are 20 optimiser steps (a single process would take 38)
    assert run.data.metrics["steps"] == 20
    assert run.data.tags["health.status"] == "healthy" and "accuracy/test_mase" in run.data.metrics
