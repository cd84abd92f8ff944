"""`forecast predict --model pretrained`: the shipped network with no training, Theta and ETS beside it."""
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from forecast.app.cli import main
from forecast.data.config import DataConfig
from forecast.pipelines.errors import ForecastError
from forecast.pipelines.serving.zero_shot import WEIGHTS, zero_shot_predictor

COLUMNS = DataConfig(target="sales", id_col="store", time_col="month")


def _monthly(n_series: int = 3, length: int = 60, short: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n_series + short):
        n = length if i < n_series else 10
        t = np.arange(n)
        y = 100 + 2 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n)
        rows.append(pd.DataFrame({"store": f"s{i}", "month": pd.date_range("2015-01-01", periods=n, freq="MS"),
                                  "sales": y, "promo": rng.random(n)}))
    return pd.concat(rows, ignore_index=True)


def test_a_zero_shot_forecast_needs_no_training_and_forecasts_every_series():
    frame = _monthly(short=1)
    predictor = zero_shot_predictor(frame, horizon=6, columns=COLUMNS)
    assert predictor.combination.weights == WEIGHTS and predictor.spec.lag == 12
    assert predictor.spec.schema.covariates == ()                     # the pretrained network reads the target only
    out = predictor.predict(frame)
    assert out.groupby("series_id").size().to_dict() == {"s0": 6, "s1": 6, "s2": 6, "s3": 6}
    assert set(out.loc[out["series_id"] == "s3", "method"]) == {"theta+ets"}   # too short for the network
    q = out[[c for c in out.columns if c.startswith("q")]].to_numpy()
    assert np.isfinite(q).all() and (np.diff(q, axis=1) >= 0).all()
    # the trend and the season carry on: within 10 % of the series' own continuation
    t = np.arange(60, 66)
    expected = 100 + 2 * t + 10 * np.sin(2 * np.pi * t / 12)
    got = out.loc[out["series_id"] == "s0", "prediction"].to_numpy()
    assert np.abs(got / expected - 1).max() < 0.1


def test_a_horizon_beyond_the_pretrained_one_is_refused_in_one_line():
    with pytest.raises(ForecastError, match="at most 48 steps"):
        zero_shot_predictor(_monthly(), horizon=60, columns=COLUMNS)


def test_the_cli_writes_zero_shot_forecasts_without_a_store(tmp_path):
    path, output = tmp_path / "sales.csv", tmp_path / "forecasts.csv"
    _monthly().to_csv(path, index=False)
    result = CliRunner().invoke(main, ["predict", "--model", "pretrained", "--data", str(path), "--output",
                                       str(output), "--horizon", "4", "--quantiles", "0.1,0.5,0.9", "--target",
                                       "sales", "--id-col", "store", "--time-col", "month"])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(output)
    assert len(written) == 12 and {"q0.1", "q0.5", "q0.9"} <= set(written.columns)
    assert not list(tmp_path.glob("mlflow.db")) and not (tmp_path / "mlruns").exists()


def test_column_options_are_refused_for_a_trained_model(tmp_path):
    result = CliRunner().invoke(main, ["predict", "--model", "models:/forecaster/1", "--data", "x.csv", "--output",
                                       str(tmp_path / "f.csv"), "--target", "sales"])
    assert result.exit_code != 0 and "--target: for --model pretrained only" in result.output


def test_an_installation_without_the_checkpoint_is_said_in_one_line(monkeypatch, tmp_path):
    import forecast.pipelines.serving.zero_shot as zero_shot

    monkeypatch.setattr(zero_shot, "checkpoint_path", lambda layout: tmp_path / f"{layout}.pt")
    with pytest.raises(ForecastError, match="no pretrained checkpoint in this installation"):
        zero_shot_predictor(_monthly(), horizon=6, columns=COLUMNS)
