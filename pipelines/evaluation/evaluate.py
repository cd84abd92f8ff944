"""Test-window evaluation: the model against naive and seasonal-naive forecasts on the same windows."""
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.data.prepare import Prepared
from forecast.data.schema import ID, TIME
from forecast.data.windows import WindowDataset
from forecast.models.combination import Combination
from forecast.models.forecaster import Forecaster, predict_quantiles
from forecast.models.members import window_forecasts
from forecast.models.naive import naive_forecasts
from forecast.pipelines.evaluation.accuracy import Accuracy, accuracy, flat_metrics
from forecast.pipelines.evaluation.metrics import seasonal_scales
from forecast.pipelines.evaluation.plots import error_by_step_figure, forecast_figure, log_figure


@dataclass
class Evaluation:
    metrics: dict[str, float]  # test_*, naive_*, snaive_*
    table: pd.DataFrame        # one row per (series, origin, step)
    accuracy: Accuracy         # overall, by_step, by_series
    predict_seconds: float = 0.0  # the forward passes over the test windows


def predict_scaled(model: Forecaster, dataset: WindowDataset, batch_size: int) -> np.ndarray:
    """Quantile forecasts (N, H, Q) of every window, in the scaled space, quantiles sorted (no crossing)."""
    return predict_quantiles(model, ((x, future) for x, _, future in dataset.loader(batch_size, shuffle=False)))


def statistical_scaled(prepared: Prepared, starts: np.ndarray, names: tuple[str, ...],
                       registry: dict | None = None) -> np.ndarray:
    """(N, M, H) forecasts by the members `names` (of `registry`, default models/members.py's) of the windows at
    `starts`, each from its series' history up to its origin, in the scaled space."""
    spec, panel = prepared.spec, prepared.panel
    series = panel.series_of(starts)
    raw = window_forecasts(panel.raw_target, starts + spec.seq_len, panel.offsets[series], spec.horizon,
                           spec.freq.season_length, names, registry)
    return spec.scaler.forward(raw, spec.scaler.rows_for(panel.ids[series]))


def evaluate(model: Forecaster, prepared: Prepared, batch_size: int,
             combination: Combination = Combination()) -> Evaluation:
    """The test windows forecast as predict forecasts them (with the `combination`) and scored."""
    starts = prepared.starts["test"]
    dataset = prepared.spec.dataset(prepared.panel, starts)
    started = time.perf_counter()
    scaled = predict_scaled(model, dataset, batch_size)
    scaled = combination.apply(scaled, model.config.median_index,
                               lambda names: statistical_scaled(prepared, starts, names))
    evaluation = score(prepared, scaled, model.config.quantiles)
    evaluation.predict_seconds = time.perf_counter() - started
    return evaluation


def score(prepared: Prepared, scaled: np.ndarray, quantiles: tuple[float, ...]) -> Evaluation:
    """Score quantile forecasts (N, H, Q) of the test windows, in the scaled space and the order of
    `prepared.starts["test"]`, against the actual values and the naive baselines; any model's, ours or a peer's,
    kept >= 0 alike where the target was never negative in training (`DataSpec.bound`, as predict does)."""
    spec, panel, starts = prepared.spec, prepared.panel, prepared.starts["test"]
    T, H = spec.seq_len, spec.horizon
    series = panel.series_of(starts)
    rows = spec.scaler.rows_for(panel.ids[series])
    q = spec.bound(spec.scaler.inverse(scaled.astype(np.float64), rows))                       # (N, H, Q)
    p = q[:, :, list(quantiles).index(0.5)]                                  # the median (ModelConfig requires it)
    origins = starts + T
    y = panel.raw_target[origins[:, None] + np.arange(H)]                                       # (N, H)
    naive, seasonal, _ = naive_forecasts(panel.raw_target, origins, panel.offsets[series], H, spec.freq.season_length)
    train_end = panel.offsets[:-1] + prepared.split_val_start
    n = len(starts)
    table = pd.DataFrame({ID: np.repeat(panel.ids[series], H),
                          TIME: panel.timestamps[(origins[:, None] + np.arange(H)).ravel()],
                          "origin": np.repeat(panel.timestamps[origins], H),
                          "step": np.tile(np.arange(1, H + 1), n), "actual": y.ravel(), "prediction": p.ravel()})
    for k, tau in enumerate(quantiles):
        table[f"q{tau}"] = q[:, :, k].ravel()
    table["naive"], table["seasonal_naive"] = naive.ravel(), seasonal.ravel()
    scales = seasonal_scales(panel.ids, panel.raw_target, panel.offsets[:-1], train_end, spec.freq.season_length)
    result = accuracy(table, scales, quantiles)
    return Evaluation(flat_metrics(result.overall, "test", quantiles), table, result)


def _clean(value):
    """JSON-safe: NaN (an undefined MASE on a constant history) becomes null."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    return None if isinstance(value, float) and math.isnan(value) else value


def log_accuracy(table: pd.DataFrame, result: Accuracy, panel, quantiles, folder: str, name: str) -> None:
    """Log a forecast table and its accuracy to the active run: `<folder>/forecasts.csv`, `accuracy.json`
    (overall and per horizon step), `per_series.csv`, and the plots `<name>_forecasts.png`,
    `<name>_error_by_step.png`."""
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        table.to_csv(Path(tmp) / "forecasts.csv", index=False)
        result.by_series.to_csv(Path(tmp) / "per_series.csv", index=False)
        mlflow.log_artifacts(tmp, folder)
    mlflow.log_dict(_clean(result.to_dict()), f"{folder}/accuracy.json")
    log_figure(forecast_figure(panel, table, quantiles), f"plots/{name}_forecasts.png")
    log_figure(error_by_step_figure(result.by_step), f"plots/{name}_error_by_step.png")
