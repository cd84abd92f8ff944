"""A model logged before pipelines/ was split into concern folders still loads and predicts.

`tests/fixtures/model_before_restructure.tar.gz` is a tiny model logged by commit 976e59f (its MLmodel, its own
copy of the code with the flat `pipelines/inference.py`, its bundle), with a request and the forecasts that
code made for it. The logged model imports its own copy of the code in isolation
(pipelines/serving/pyfunc_model.py), so it must give the same forecasts in a process that has this project's
`pipelines` loaded, and in a fresh one.
"""
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

FIXTURE = Path(__file__).parents[2] / "fixtures" / "model_before_restructure.tar.gz"


@pytest.fixture(scope="module")
def old_model(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("old_model")
    with tarfile.open(FIXTURE) as archive:
        archive.extractall(directory, filter="data")
    return directory


def _assert_same(forecasts: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(forecasts.columns) == list(expected.columns)
    assert forecasts["series_id"].tolist() == expected["series_id"].tolist()
    assert (forecasts["method"] == "model").all()
    np.testing.assert_allclose(forecasts["prediction"].to_numpy(), expected["prediction"].to_numpy(), rtol=1e-6)


def test_an_old_model_predicts_as_it_did_beside_the_new_packages(old_model):
    import mlflow

    import forecast.pipelines.serving.inference  # noqa: F401  the new layout's modules are loaded in this process

    model = mlflow.pyfunc.load_model(str(old_model))
    forecasts = model.predict(pd.read_csv(old_model / "request.csv"))
    _assert_same(forecasts, pd.read_csv(old_model / "expected.csv"))
    assert "pipelines.inference" not in sys.modules     # its code stayed its own


def test_an_old_model_predicts_as_it_did_in_a_fresh_process(old_model, tmp_path):
    script = (f"import mlflow, pandas as pd; m = mlflow.pyfunc.load_model({str(old_model)!r}); "
              f"m.predict(pd.read_csv({str(old_model / 'request.csv')!r})).to_csv({str(tmp_path / 'out.csv')!r}, "
              "index=False)")
    subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp_path, capture_output=True, timeout=300)
    _assert_same(pd.read_csv(tmp_path / "out.csv"), pd.read_csv(old_model / "expected.csv"))


def test_an_old_model_asked_for_another_horizon_says_it_cannot(old_model):
    import mlflow

    from forecast.pipelines.config import PredictConfig
    from forecast.pipelines.errors import ForecastError
    from forecast.pipelines.serving.predict import forecast_with, params_for

    model = mlflow.pyfunc.load_model(str(old_model))
    request = pd.read_csv(old_model / "request.csv")
    _assert_same(forecast_with(model, request), pd.read_csv(old_model / "expected.csv"))
    with pytest.raises(ForecastError, match="this model was logged before --horizon existed"):
        params_for(model, PredictConfig("request.csv", "out.csv", horizon=2))
