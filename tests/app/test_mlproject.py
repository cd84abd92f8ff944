"""The MLproject entry points through `mlflow run`, which starts the run itself (MLFLOW_RUN_ID)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

import forecast.app

pytestmark = pytest.mark.slow   # process-level: real servers, processes or Spark (CI runs it)

REPO = Path(forecast.app.__file__).resolve().parents[1]


def test_train_and_backtest_entry_points_log_into_the_run_mlflow_started(tmp_path, make_frame):
    make_frame(n_series=2, length=150).to_csv(tmp_path / "d.csv", index=False)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    # a fresh environment for MLflow: earlier in-process tests leave MLFLOW_EXPERIMENT_ID of another store behind
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(MLFLOW_TRACKING_URI=uri, PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]))
    mlflow = [sys.executable, "-m", "mlflow", "run", str(REPO), "--env-manager", "local"]
    done = subprocess.run([*mlflow, "-e", "train", "-P", f"data={tmp_path / 'd.csv'}", "-P", "max_epochs=1",
                           "-P", "model_name=projected"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    done = subprocess.run([*mlflow, "-e", "backtest", "-P", f"data={tmp_path / 'd.csv'}", "-P", "windows=2",
                           "-P", "model=models:/projected/1"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("Default").experiment_id])
    assert len(runs) == 2 and all(r.info.status == "FINISHED" for r in runs)
    (trained,) = [r for r in runs if "accuracy/test_mase" in r.data.metrics]
    assert trained.data.params["max_epochs"] == "1"
    assert str(client.search_model_versions("name='projected'")[0].version) == "1"
    (tested,) = [r for r in runs if r.data.tags.get("forecast.kind") == "backtest"]
    assert "accuracy/backtest_mase" in tested.data.metrics
