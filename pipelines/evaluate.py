"""Test-window evaluation: the model against naive and seasonal-naive forecasts on the same windows."""
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from data.prepare import Prepared
from data.schema import ID, TIME
from data.windows import WindowDataset
from models.forecaster import Forecaster
from pipelines.metrics import coverage, pinball, point_metrics, seasonal_scale


@dataclass
class Evaluation:
    metrics: dict[str, float]  # test_*, naive_*, snaive_*
    table: pd.DataFrame        # one row per (series, origin, step)


@torch.no_grad()
def predict_scaled(model: Forecaster, dataset: WindowDataset, batch_size: int) -> np.ndarray:
    """Quantile forecasts (N, H, Q) of every window, in the scaled space, quantiles sorted (no crossing)."""
    model.eval()
    out = [model(x, future) for x, _, future in dataset.loader(batch_size, shuffle=False)]
    if not out:
        return np.zeros((0, dataset.horizon, len(model.config.quantiles)), dtype=np.float32)
    return np.sort(torch.cat(out).numpy(), axis=-1)


def naive_forecasts(raw: np.ndarray, origins: np.ndarray, first_rows: np.ndarray, horizon: int,
                    season: int) -> tuple[np.ndarray, np.ndarray]:
    """Naive (last value) and seasonal-naive (value one season before each step) forecasts, (N, H) each.

    `origins` are global rows of the first target, `first_rows` the first row of each window's series.
    Seasonal naive falls back to naive where the history is shorter than a season.
    """
    steps = np.arange(horizon)
    naive = np.repeat(raw[origins - 1][:, None], horizon, axis=1)
    lag = season * (steps // season + 1)                       # (H,) seasons back, within observed history
    rows = origins[:, None] + steps - lag                      # (N, H)
    seasonal = np.where(rows >= first_rows[:, None], raw[np.maximum(rows, 0)], naive)
    return naive, seasonal


def evaluate(model: Forecaster, prepared: Prepared, batch_size: int) -> Evaluation:
    spec, panel, starts = prepared.spec, prepared.panel, prepared.starts["test"]
    T, H, quantiles = spec.seq_len, spec.horizon, model.config.quantiles
    dataset = WindowDataset(panel.values, starts, T, H, panel.n_known)
    series = panel.series_of(starts)
    rows = spec.scaler.rows_for(panel.ids[series])
    q = spec.scaler.inverse(predict_scaled(model, dataset, batch_size).astype(np.float64), rows)  # (N, H, Q)
    p = q[:, :, model.config.median_index]
    origins = starts + T
    y = panel.raw_target[origins[:, None] + np.arange(H)]                                       # (N, H)
    naive, seasonal = naive_forecasts(panel.raw_target, origins, panel.offsets[series], H, spec.freq.season_length)
    train_end = panel.offsets[:-1] + prepared.split_val_start
    scale = np.array([seasonal_scale(panel.raw_target[a:b], spec.freq.season_length)
                      for a, b in zip(panel.offsets[:-1], train_end)])[series]

    metrics = {f"test_{k}": v for k, v in point_metrics(y, p, scale).items()}
    metrics["test_pinball"] = pinball(y, q, quantiles)
    metrics[f"test_coverage_q{quantiles[0]}_q{quantiles[-1]}"] = coverage(y, q[..., 0], q[..., -1])
    metrics.update({f"naive_{k}": v for k, v in point_metrics(y, naive, scale).items()})
    metrics.update({f"snaive_{k}": v for k, v in point_metrics(y, seasonal, scale).items()})

    n = len(starts)
    table = pd.DataFrame({ID: np.repeat(panel.ids[series], H),
                          TIME: panel.timestamps[(origins[:, None] + np.arange(H)).ravel()],
                          "origin": np.repeat(panel.timestamps[origins], H),
                          "step": np.tile(np.arange(1, H + 1), n), "actual": y.ravel(), "prediction": p.ravel()})
    for k, tau in enumerate(quantiles):
        table[f"q{tau}"] = q[:, :, k].ravel()
    table["naive"], table["seasonal_naive"] = naive.ravel(), seasonal.ravel()
    return Evaluation(metrics, table)
