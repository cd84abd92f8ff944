"""`forecast.Forecaster`: the product from Python (a notebook), on the CLI's code paths: `fit` is `forecast train`
(an MLflow run, a registered version), `predict` is `forecast predict` (the predictor the logged pyfunc wraps),
`cross_validation` is `forecast backtest`'s table, `load` reads any logged forecaster (its bundle, once).
Options are the train command's, by their field names (`max_steps`, `layers`, `d_model`, `season_length`, ...).
Frames come in with the CLI's column rules (Nixtla's `unique_id`, `ds`, `y` included) and go out in the user's own
column names.

    from forecast import Forecaster
    model = Forecaster(horizon=6, max_steps=10).fit(df)          # df: unique_id, ds, y
    model.predict()                                              # the next 6 steps after df, per series
    model.cross_validation(df, n_windows=2)                      # 2 origins per series, with the actual values

The data is written to a temporary Parquet file for training (the command's reader and checks, as for a file).
"""
import tempfile
from pathlib import Path

import pandas as pd

from forecast.data.schema import ID, TARGET, TIME
from forecast.pipelines.config import TRAIN_OPTIONS
from forecast.pipelines.errors import ForecastError
from forecast.pipelines.evaluation.backtest import backtest_table
from forecast.pipelines.serving.loading import load_predictor
from forecast.pipelines.tracking import use_store
from forecast.pipelines.training.train import train
from forecast.pipelines.training.warm_start import train_config


class Forecaster:
    def __init__(self, horizon: int | None = None, **options):
        unknown = sorted(set(options) - TRAIN_OPTIONS)
        if unknown:
            raise TypeError(f"Forecaster() got unknown option(s) {', '.join(unknown)}; it takes forecast train's "
                            f"options by their field names: {', '.join(sorted(TRAIN_OPTIONS))}")
        self.options = {"horizon": horizon, "progress": False, **options}
        self.model_uri: str | None = None
        self.history: pd.DataFrame | None = None   # the frame `fit` trained on: what `predict()` forecasts after
        self._predictor = None

    def fit(self, df: pd.DataFrame) -> "Forecaster":
        """Train (an MLflow run; registered as `model_name`, `forecaster` by default, unless register=False)."""
        with tempfile.TemporaryDirectory(prefix="forecast-fit-") as tmp:
            path = Path(tmp) / "data.parquet"
            df.to_parquet(path, index=False)
            result = train(train_config(str(path), self.options))
        self.history = df
        return self._use(result.model_uri)

    @classmethod
    def load(cls, model_uri: str, tracking_uri: str | None = None) -> "Forecaster":
        """A logged forecaster: models:/name@alias, models:/name/N, runs:/ID/model or a folder."""
        return cls(tracking_uri=tracking_uri)._use(model_uri)

    def _use(self, model_uri: str) -> "Forecaster":
        use_store(self.options.get("tracking_uri"), reads=model_uri)
        self.model_uri, self._predictor = model_uri, load_predictor(model_uri)
        return self

    def predict(self, df: pd.DataFrame | None = None, horizon: int | None = None,
                quantiles: tuple[float, ...] | None = None) -> pd.DataFrame:
        """The next `horizon` steps (default: the trained horizon) after each series of `df` (default: the frame
        `fit` trained on), one row per series and step, the quantiles asked for (default: the trained ones)."""
        df = self._history_or(df)
        return self._named(self._predictor.predict(df, horizon=horizon, quantiles=quantiles))

    def cross_validation(self, df: pd.DataFrame | None = None, n_windows: int = 1,
                         step_size: int | None = None) -> pd.DataFrame:
        """Forecasts from `n_windows` origins per series, one horizon apart at the end of each series of `df`
        (default: the frame `fit` trained on), beside the actual values: one row per series, window (`cutoff`,
        the last time before the origin) and step. The rows `forecast backtest` scores on the same windows."""
        df = self._history_or(df)
        H = self._predictor.spec.horizon
        if step_size not in (None, H):
            raise ValueError(f"step_size must be the horizon ({H}): the windows are one horizon apart")
        table, _, _ = backtest_table(self._predictor, df, n_windows)
        table = table.drop(columns=["naive", "seasonal_naive"])
        table = table.rename(columns={"origin": "cutoff", "actual": self._predictor.spec.schema.target or TARGET})
        table["cutoff"] = table["cutoff"] - self._predictor.spec.freq.step   # the last time the model saw
        return self._named(table)

    def _history_or(self, df: pd.DataFrame | None) -> pd.DataFrame:
        if self._predictor is None:
            raise ForecastError("no model yet: fit(df) first, or Forecaster.load('models:/...')")
        if df is None and self.history is None:
            raise ForecastError("give the history rows to forecast from (this forecaster was loaded, not fitted)")
        return self.history if df is None else df

    def _named(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The output in the user's column names: their id (a single id column) and time columns."""
        schema = self._predictor.spec.schema
        names = {TIME: schema.time_col}
        if len(schema.id_columns) == 1:
            names[ID] = schema.id_columns[0]
        return frame.rename(columns={k: v for k, v in names.items() if v})
