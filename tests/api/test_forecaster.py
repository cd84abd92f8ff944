"""`from forecast import Forecaster`: fit, predict, cross_validation and load from Python, in Nixtla's column
names, on the CLI's code paths (a real MLflow store)."""
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from mlflow.tracking import MlflowClient

from forecast import Forecaster
from forecast.app.cli import main
from forecast.pipelines.config import ConfigError, TrainConfig

SMALL = {"max_steps": 10, "layers": 1, "d_model": 8, "n_heads": 2}   # the check


@pytest.fixture(scope="module")
def nixtla(make_frame):
    """Two hourly series in Nixtla's long format: unique_id, ds, y."""
    return make_frame(n_series=2, length=150, covariates=0).rename(
        columns={"series_id": "unique_id", "timestamp": "ds", "value": "y"})


def test_fit_predict_and_cross_validate_in_the_users_column_names(nixtla, tracking_uri, tmp_path):
    model = Forecaster(horizon=6, tracking_uri=tracking_uri, model_name="api", experiment="api", **SMALL).fit(nixtla)
    assert model.model_uri == "models:/api/1"
    run = MlflowClient(tracking_uri).get_run(MlflowClient(tracking_uri).get_model_version("api", "1").run_id)
    assert run.data.params["data.target"] == "y" and run.data.metrics["steps"] == 10   # a run like the CLI's

    forecasts = model.predict()
    assert list(forecasts.columns[:3]) == ["unique_id", "ds", "step"] and len(forecasts) == 2 * 6
    assert forecasts.groupby("unique_id")["ds"].min().tolist() == [nixtla["ds"].max() + pd.Timedelta(hours=1)] * 2
    fewer = model.predict(nixtla, horizon=3, quantiles=(0.25, 0.5))
    assert len(fewer) == 2 * 3 and [c for c in fewer.columns if c.startswith("q")] == ["q0.25", "q0.5"]

    cv = model.cross_validation(nixtla, n_windows=2, step_size=6)
    assert {"unique_id", "ds", "cutoff", "y", "prediction"} <= set(cv.columns) and len(cv) == 2 * 2 * 6
    last = nixtla.groupby("unique_id").tail(6).set_index(["unique_id", "ds"])["y"]
    final = cv[cv["cutoff"] == cv["cutoff"].max()].set_index(["unique_id", "ds"])["y"]
    np.testing.assert_array_equal(final.sort_index().to_numpy(), last.sort_index().to_numpy())   # actuals beside
    first = cv.groupby(["unique_id", "cutoff"])["ds"].min().reset_index()
    assert (first["ds"] - first["cutoff"] == pd.Timedelta(hours=1)).all()          # cutoff: the last time seen

    # the same windows through `forecast backtest`: the same forecasts, so the same MASE
    nixtla.to_csv(tmp_path / "history.csv", index=False)
    result = CliRunner().invoke(main, ["backtest", "--model", "models:/api/1", "--data", str(tmp_path / "history.csv"),
                                       "--windows", "2", "--experiment", "api", "--tracking-uri", tracking_uri])
    assert result.exit_code == 0, result.output
    client = MlflowClient(tracking_uri)
    (bt,) = client.search_runs([client.get_experiment_by_name("api").experiment_id],
                               "tags.`forecast.kind` = 'backtest'")
    scored = pd.read_csv(client.download_artifacts(bt.info.run_id, "backtest/forecasts.csv", str(tmp_path)))
    np.testing.assert_allclose(scored.sort_values(["series_id", "timestamp"])["prediction"].to_numpy(),
                               cv.sort_values(["unique_id", "ds"])["prediction"].to_numpy())

    with pytest.raises(ValueError, match=r"step_size must be the horizon \(6\): the windows are one horizon apart"):
        model.cross_validation(nixtla, n_windows=2, step_size=3)
    loaded = Forecaster.load("models:/api@champion", tracking_uri=tracking_uri)
    pd.testing.assert_frame_equal(loaded.predict(nixtla), forecasts)

    # a warm start from Python resolves its settings as the CLI does: the source's architecture, not the defaults
    warm = Forecaster(init_from="models:/api@champion", tracking_uri=tracking_uri, model_name="api", experiment="api",
                      max_steps=2).fit(nixtla)
    run = client.get_run(client.get_model_version("api", "2").run_id)
    assert warm.model_uri == "models:/api/2" and run.data.params["model.d_model"] == "8"
    assert run.data.tags["forecast.init_from"].startswith("models:/api@champion (version 1 of api")


def test_unknown_options_and_a_dataframe_as_a_path_are_refused_in_one_line(nixtla):
    with pytest.raises(TypeError, match=r"unknown option\(s\) hidden_size; it takes forecast train's options"):
        Forecaster(horizon=6, hidden_size=8)
    with pytest.raises(ConfigError, match="data_path must be a file's path, got a DataFrame; from Python, train on "
                                          r"a DataFrame with forecast.Forecaster\(...\).fit\(df\)"):
        TrainConfig(nixtla)
