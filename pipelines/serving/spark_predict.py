"""`forecast predict --spark`: batch forecasts of history that outgrows one machine, on Spark.

A forecaster turns each series' history rows into `horizon` rows, so it runs per series group
(`groupBy(id).applyInPandas`), not as `mlflow.pyfunc.spark_udf` (row-aligned: one output value per input row).
Each group goes through the logged pyfunc, the same code as `forecast predict` and serving. The model is
downloaded once on the driver and shipped to the executors with `SparkContext.addFile`, so they need neither the
tracking store nor this project installed (the scorer is a closure: cloudpickle ships it by value), only the
model's own requirements.

CSV is read with every column as text, so ids keep their zeros ("007") and the model parses numbers and
times exactly as it does for `forecast predict`; Parquet keeps its types. The output is a Spark dataset (a
folder of part files): Parquet where the path ends in .parquet, else CSV with a header. On failure the output
is removed, so a folder that exists is a complete result.
"""
import os
import shutil
import sys
import tempfile
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

from forecast.pipelines.config import PredictConfig
from forecast.pipelines.errors import ForecastError
from forecast.pipelines.serving.predict import forecast_with, params_for
from forecast.pipelines.tracking import download_model, load_pyfunc, model_columns, use_store

FAILED = "forecast-spark-error: "   # marks our one-line errors inside Spark's worker tracebacks
ALL = "__forecast_all__"            # the group column of a single-series model (no id column)


@dataclass
class SparkForecast:
    output: str
    rows: int
    series: int
    fallback: int      # series forecast by a fallback method (too short for the model)
    master: str


def _session(master: str | None):
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ForecastError("--spark needs pyspark: pip install pyspark (4.x)") from None
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")  # tested here on 3.0
    local = master is None or master.startswith("local")
    if local:   # workers run this interpreter (its packages); a cluster sets PYSPARK_PYTHON itself
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (SparkSession.builder.appName("forecast predict").config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.showConsoleProgress", "false"))    # our own summary line says what was done
    if master:
        builder = builder.master(master)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _scorer(model_name: str, params: dict):
    """What each Spark task runs on one series' rows (`params`: the pyfunc's, as for `forecast predict`); the
    model is loaded once per Python worker."""
    state = {}

    def forecast(group):
        import mlflow
        from pyspark import SparkFiles

        if "model" not in state:
            state["model"] = mlflow.pyfunc.load_model(SparkFiles.get(model_name))
        try:
            return state["model"].predict(group.drop(columns=[ALL], errors="ignore"),
                                          params=params)
        except mlflow.exceptions.MlflowException as err:    # bad input: the model's one line
            lines = [line for line in err.message.strip().splitlines() if line.strip()]
            raise ValueError(FAILED + (lines[-1] if lines else "the model rejected the input")) from None

    return forecast


def _read(spark, path: str):
    if path.lower().endswith((".parquet", ".pq")) or (os.path.isdir(path) and not path.lower().endswith(".csv")):
        return spark.read.parquet(path)
    return spark.read.csv(path, header=True, inferSchema=False, multiLine=False)


def _write(frame, path: str) -> None:
    writer = frame.write.mode("overwrite")
    if path.lower().endswith((".parquet", ".pq")):
        writer.parquet(path)
    else:
        writer.option("header", True).option("timestampFormat", "yyyy-MM-dd HH:mm:ss").csv(path)


def _remove(spark, path: str) -> None:
    """Delete `path` on whatever file system it lives (local, HDFS, S3...), through Hadoop's API."""
    jvm = spark.sparkContext._jvm
    target = jvm.org.apache.hadoop.fs.Path(path)
    target.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).delete(target, True)


def _one_line(err: Exception) -> str | None:
    text = str(err)
    return text[text.index(FAILED) + len(FAILED):].splitlines()[0] if FAILED in text else None


def spark_predict(config: PredictConfig) -> SparkForecast:
    """Forecast every series of `config.data_path` (CSV or Parquet, any Spark path) on Spark; write them to
    `config.output`."""
    use_store(config.tracking_uri, reads=config.model_uri)
    with tempfile.TemporaryDirectory(prefix="forecast-spark-") as tmp:
        name = f"forecast-model-{uuid.uuid4().hex[:8]}"        # a name no other job of this session has added
        local_model = shutil.copytree(download_model(config.model_uri), Path(tmp) / name)
        model = load_pyfunc(str(local_model))
        params = {**params_for(model, config), "progress": False}
        spark = _session(config.spark_master)
        try:
            from pyspark.errors import PySparkException

            spark.sparkContext.addFile(str(local_model), recursive=True)
            return _run(spark, model, name, config.data_path, config.output, params)
        except PySparkException as err:   # a path Spark cannot read or write, a cluster it cannot reach...
            raise ForecastError(f"spark: {str(err).strip().splitlines()[0]}") from None
        finally:
            spark.stop()


def _run(spark, model, name: str, data_path: str, output: str, params: dict) -> SparkForecast:
    from pyspark.sql import functions as F

    keys = list(model_columns(model)["id_columns"]) or [ALL]
    history = _read(spark, data_path)
    if keys == [ALL]:
        history = history.withColumn(ALL, F.lit(0))
    for key in keys:
        if key not in history.columns:
            raise ForecastError(f"{data_path}: has no column {key!r} (the model's series id)")
    first = history.select(*keys).first()
    if first is None:
        raise ForecastError(f"{data_path}: has no data rows")
    one = F.lit(True)
    for key in keys:
        one = one & (F.col(key) == first[key])
    sample = history.filter(one).toPandas()                        # one series on the driver: the output schema
    schema = spark.createDataFrame(_forecast_on_driver(model, sample, params, data_path)).schema
    try:
        _write(history.groupBy(*keys).applyInPandas(_scorer(name, params), schema), output)
    except Exception as err:
        _remove(spark, output)
        message = _one_line(err)
        if message is None:
            raise
        raise ForecastError(f"{data_path}: {message}") from None
    counts = _read(spark, output).agg(
        F.count(F.lit(1)).alias("rows"), F.countDistinct("series_id").alias("series"),
        F.countDistinct(F.when(F.col("method") != "model", F.col("series_id"))).alias("fallback")).first()
    return SparkForecast(output, counts["rows"], counts["series"], counts["fallback"], spark.sparkContext.master)


def _forecast_on_driver(model, sample, params: dict, data_path: str):
    """The first series forecast on the driver: its columns and types are the job's output schema, and a
    model that cannot forecast this input says so here, before any Spark job starts."""
    try:
        return forecast_with(model, sample.drop(columns=[ALL], errors="ignore"), params)
    except ForecastError as err:
        raise ForecastError(f"{data_path}: {err}") from None
