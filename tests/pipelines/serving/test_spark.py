"""`forecast predict --spark` (pipelines/serving/spark_predict.py) on a real local Spark session: the same rows as
`forecast predict` on the same file, and a bad file is one line with no output left behind."""
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from forecast.app.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]   # one Spark session and model per worker

pytest.importorskip("pyspark", reason="pyspark is in requirements-test.txt")


@pytest.fixture(scope="module")
def store_module(tmp_path_factory):
    """A store of this module's own, in its own folder (a sqlite store keeps artifacts in ./mlruns)."""
    folder = tmp_path_factory.mktemp("spark-store")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        yield f"sqlite:///{folder / 'mlflow.db'}"


@pytest.fixture(scope="module")
def panel_model(tmp_path_factory, store_module):
    """A tiny model trained on 1,000 short daily series with zero-padded ids ("0007" must stay "0007")."""
    tmp = tmp_path_factory.mktemp("spark")
    rng = np.random.default_rng(0)
    t = np.arange(40)
    frame = pd.DataFrame({"series_id": np.repeat([f"{i:04d}" for i in range(1000)], 40),
                          "timestamp": np.tile(pd.date_range("2024-01-01", periods=40, freq="D").strftime("%Y-%m-%d"),
                                               1000),
                          "value": (np.tile(10 + 3 * np.sin(2 * np.pi * t / 7), 1000) + rng.normal(0, 0.3, 40_000)
                                    + np.repeat(np.arange(1000) % 7, 40))})
    frame.to_csv(tmp / "train.csv", index=False)
    result = CliRunner().invoke(main, ["train", "--data", str(tmp / "train.csv"), "--tracking-uri", store_module,
                                       "--model-name", "spark", "--max-steps", "3", "--seq-len", "14", "--horizon", "7",
                                       "--layers", "1", "--d-model", "16", "--n-heads", "2", "--no-progress"])
    assert result.exit_code == 0, result.output
    return tmp, frame


def test_spark_gives_the_rows_of_forecast_predict(panel_model, store_module):
    from forecast.pipelines.config import PredictConfig
    from forecast.pipelines.serving.spark_predict import spark_predict

    tmp, frame = panel_model
    history = frame.groupby("series_id").head(35)             # a few series too short for the model: fallbacks
    history = history[~(history["series_id"].isin(["0003", "0500"]) & (history.groupby("series_id").cumcount() < 25))]
    history.to_csv(tmp / "history.csv", index=False)
    asked = ["--horizon", "5", "--quantiles", "0.1,0.25"]      # the same request options on both paths
    local = CliRunner().invoke(main, ["predict", "--model", "models:/spark/1", "--data", str(tmp / "history.csv"),
                                      "--output", str(tmp / "local.csv"), "--tracking-uri", store_module, *asked])
    assert local.exit_code == 0, local.output
    result = spark_predict(PredictConfig(str(tmp / "history.csv"), str(tmp / "spark.parquet"), "models:/spark/1",
                                         horizon=5, quantiles=(0.1, 0.25), tracking_uri=store_module, spark=True,
                                         spark_master="local[2]"))
    expected = pd.read_csv(tmp / "local.csv", dtype={"series_id": str})
    scored = pd.read_parquet(tmp / "spark.parquet")
    assert (result.rows, result.series, result.fallback) == (5000, 1000, 2)
    assert list(expected.columns[-3:]) == ["q0.1", "q0.25", "method"]
    assert scored["series_id"].str.len().eq(4).all()           # ids stayed text
    scored = scored.sort_values(["series_id", "step"]).reset_index(drop=True)
    assert list(scored.columns) == list(expected.columns)
    scored["timestamp"] = scored["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
    expected["timestamp"] = pd.to_datetime(expected["timestamp"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    pd.testing.assert_frame_equal(scored, expected, check_dtype=False, rtol=1e-6)
    assert set(scored.loc[scored["method"] != "model", "series_id"]) == {"0003", "0500"}


def test_a_bad_value_on_spark_is_one_line_and_leaves_no_output(panel_model, store_module):
    tmp, frame = panel_model
    bad = frame[frame["series_id"] >= "0950"].astype({"value": object})   # 50 series are enough to fail in one
    bad.loc[bad.index[-3], "value"] = "n/a?"                   # in the last series, far from the driver's sample
    bad.to_csv(tmp / "bad.csv", index=False)
    result = CliRunner().invoke(main, ["predict", "--spark", "--spark-master", "local[2]", "--model", "models:/spark/1",
                                       "--data", str(tmp / "bad.csv"), "--output", str(tmp / "out.csv"),
                                       "--tracking-uri", store_module])
    assert result.exit_code == 1
    assert "column 'value' has non-numeric values, e.g. 'n/a?' in series '0999'" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp / "out.csv").exists()
