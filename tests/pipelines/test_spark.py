"""Scoring a Spark DataFrame of history rows with the logged model, on a local pyspark session.

A forecaster turns many history rows into horizon rows per series, so it runs per series group
(`groupBy(...).applyInPandas`), not as `mlflow.pyfunc.spark_udf` (one output value per input row)."""
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

from app.cli import main

pyspark = pytest.importorskip("pyspark", reason="pyspark is in requirements-test.txt")


def scorer(model_uri: str, tracking_uri: str):
    """The function each Spark task runs on one series' rows: the model is loaded once per task.

    Built as a closure, so cloudpickle ships it by value (the workers cannot import this test module)."""
    loaded = {}

    def forecast(group: pd.DataFrame) -> pd.DataFrame:
        if not loaded:
            import mlflow

            mlflow.set_tracking_uri(tracking_uri)
            loaded["model"] = mlflow.pyfunc.load_model(model_uri)
        return loaded["model"].predict(group)

    return forecast


def test_spark_scores_history_rows_per_series(tmp_path, make_frame, tracking_uri, tiny_model, monkeypatch):
    from pyspark.sql import SparkSession

    frame = make_frame(n_series=3, length=120)
    frame.to_csv(tmp_path / "train.csv", index=False)
    result = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "train.csv"), "--tracking-uri", tracking_uri,
                                       "--model-name", "spark", "--max-epochs", "1", "--seq-len", "12", "--horizon", "6",
                                       *tiny_model])
    assert result.exit_code == 0, result.output
    history = frame.assign(timestamp=frame["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S"))
    expected = scorer("models:/spark/1", tracking_uri)(history)

    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    monkeypatch.setenv("PYSPARK_DRIVER_PYTHON", sys.executable)
    spark = (SparkSession.builder.master("local[2]").appName("forecast-test")
             .config("spark.sql.shuffle.partitions", "2").config("spark.ui.enabled", "false")
             .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    try:
        schema = ("series_id string, timestamp timestamp, step long, prediction double, `q0.1` double, "
                  "`q0.5` double, `q0.9` double, method string")
        forecast = scorer("models:/spark/1", tracking_uri)
        scored = (spark.createDataFrame(history).groupBy("series_id").applyInPandas(forecast, schema)
                  .toPandas().sort_values(["series_id", "step"]).reset_index(drop=True))
    finally:
        spark.stop()
    assert len(scored) == 3 * 6 and list(scored.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(scored.drop(columns=["timestamp"]), expected.drop(columns=["timestamp"]),
                                  check_dtype=False)
    assert (pd.to_datetime(scored["timestamp"]) == pd.to_datetime(expected["timestamp"])).all()
