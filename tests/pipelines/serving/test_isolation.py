"""A logged model runs its own code and nothing of the machine it is served from (issue 32): loaded and served in
processes that cannot import the installed project (its editable finder and the repository out of sight, the
working folder elsewhere), a model whose combination and short-series forecast weight every member forecasts. A
function-level `import forecast...` inside the model's code (fast_ets once had one) fails there, and
tests/test_layout.py refuses it on the source."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import torch

from forecast.data.config import DataConfig
from forecast.data.prepare import prepare_training
from forecast.models.combination import NETWORK, Combination
from forecast.models.config import ModelConfig
from forecast.models.forecaster import Forecaster
from forecast.models.members import names
from forecast.models.short_series import Bucket, Fallback
from forecast.pipelines.serving.logged_model import log_forecaster

# imported first in every Python process started with this folder on PYTHONPATH (site's sitecustomize): the
# editable install's finder and path hook go, and so does any path that holds the repository
HIDE_PROJECT = '''
import os, sys
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
sys.path_hooks[:] = [h for h in sys.path_hooks if "__editable__" not in getattr(h, "__module__", "")]
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != %r]
sys.path_importer_cache.clear()
'''
REPO = os.path.realpath(Path(__file__).parents[3])


@pytest.fixture(scope="module")
def every_member_model(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """An untrained network logged with every member weighted in its combination and its short-series forecast,
    downloaded to a folder; and a request with long series (the combination) and a short one (the fallback)."""
    tmp = tmp_path_factory.mktemp("isolated")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"series_id": np.repeat(["a", "b"], 96), "timestamp": np.tile(np.arange(96), 2),
                          "value": np.tile(10 + 3 * np.sin(np.arange(96) * 2 * np.pi / 12), 2)
                          + rng.normal(0, 0.3, 192)})
    prepared = prepare_training(frame, DataConfig(seq_len=16, horizon=4, season_length=12))
    torch.manual_seed(0)
    spec = prepared.spec
    model = Forecaster(ModelConfig(d_model=8, n_heads=2, layers=1, seq_len=spec.seq_len, horizon=spec.horizon,
                                   n_features=prepared.panel.values.shape[1], n_known=spec.n_known,
                                   lag_feature=spec.lag_feature)).eval()
    combination = Combination({m: 1.0 / (len(names()) + 1) for m in (NETWORK, *names())})
    fallback = Fallback((Bucket(1, {m: 1.0 / len(names()) for m in names()}),))
    mlflow.set_tracking_uri(f"sqlite:///{tmp / 'mlflow.db'}")
    experiment = mlflow.create_experiment("isolated", artifact_location=(tmp / "artifacts").as_uri())
    with mlflow.start_run(experiment_id=experiment) as run:
        log_forecaster(model, spec, prepared, None, tmp, combination, fallback)
    local = Path(mlflow.artifacts.download_artifacts(f"runs:/{run.info.run_id}/model", dst_path=str(tmp / "dl")))
    short = pd.DataFrame({"series_id": "short", "timestamp": np.arange(10), "value": 5 + rng.normal(0, 1, 10)})
    return local, pd.concat([frame[frame["timestamp"] >= 40], short], ignore_index=True)


def _hidden(tmp: Path) -> dict:
    (tmp / "hide").mkdir(exist_ok=True)
    (tmp / "hide" / "sitecustomize.py").write_text(HIDE_PROJECT % REPO)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    return {**env, "PYTHONPATH": str(tmp / "hide"), "OMP_NUM_THREADS": "1",
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])}


def _check(forecasts: pd.DataFrame) -> None:
    methods = forecasts.groupby("series_id")["method"].first().to_dict()
    assert methods["a"] == methods["b"] == "model"
    assert set(methods["short"].split("+")) == set(names()), methods
    assert len(forecasts) == 12 and np.isfinite(forecasts["prediction"]).all()


def test_a_model_weighting_every_member_predicts_where_the_project_cannot_be_imported(every_member_model, tmp_path):
    local, request = every_member_model
    request.to_csv(tmp_path / "request.csv", index=False)
    script = ("import importlib.util, mlflow, pandas as pd\n"
              "assert importlib.util.find_spec('forecast') is None, 'the project is importable here'\n"
              f"model = mlflow.pyfunc.load_model({str(local)!r})\n"
              f"model.predict(pd.read_csv('request.csv', dtype={{'series_id': str}})).to_csv('out.csv', index=False)\n"
              "import sys; assert not [m for m in sys.modules if m.split('.')[0] == 'forecast'], 'forecast left "
              "loaded'\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=_hidden(tmp_path), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    _check(pd.read_csv(tmp_path / "out.csv", dtype={"series_id": str}))


@pytest.mark.slow
def test_mlflow_models_serve_runs_the_model_where_the_project_cannot_be_imported(every_member_model, tmp_path):
    local, request = every_member_model
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "mlflow", "models", "serve", "-m", str(local), "--env-manager",
                               "local", "-h", "127.0.0.1", "-p", str(port)], cwd=tmp_path, env=_hidden(tmp_path),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert server.poll() is None, server.communicate()[1][-3000:]
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        body = json.dumps({"dataframe_split": json.loads(request.to_json(orient="split", index=False))}).encode()
        call = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", body,
                                      {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(call, timeout=120) as answer:
                _check(pd.DataFrame(json.loads(answer.read())["predictions"]))
        except urllib.error.HTTPError as err:
            raise AssertionError(f"HTTP {err.code}: {err.read()[:3000]!r}") from None
    finally:
        server.terminate()
        server.wait(timeout=30)
