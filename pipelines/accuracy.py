"""Accuracy from a forecast table (one row per series, origin and step, with `actual`, `prediction`,
quantile columns, `naive` and `seasonal_naive`): overall, per horizon step and per series.

Each row counts as a one-step window, so MASE averages |error| / the series' seasonal scale over rows: with
every window complete this equals the mean over windows of their MASE.
"""
import numpy as np
import pandas as pd

from data.schema import ID
from pipelines.metrics import coverage, pinball, point_metrics

METHODS = {"model": "prediction", "naive": "naive", "snaive": "seasonal_naive"}


def _metrics(rows: pd.DataFrame, scale: np.ndarray, quantiles) -> dict:
    y = rows["actual"].to_numpy()[:, None]
    out = {name: point_metrics(y, rows[column].to_numpy()[:, None], scale) for name, column in METHODS.items()}
    q = rows[[f"q{tau}" for tau in quantiles]].to_numpy()[:, None, :]
    out["model"]["pinball"] = pinball(y, q, quantiles)
    out["model"]["coverage"] = coverage(y, q[..., 0], q[..., -1])
    return out


def accuracy(table: pd.DataFrame, scales: dict[str, float], quantiles) -> dict:
    """{"overall": {method: metrics}, "by_step": {step: {method: metrics}}, "by_series": DataFrame}."""
    scale = table[ID].map(scales).to_numpy(dtype=np.float64)
    by_step = {int(step): _metrics(rows, scale[rows.index], quantiles)
               for step, rows in table.reset_index(drop=True).groupby("step")}
    series = []
    for sid, rows in table.reset_index(drop=True).groupby(ID, sort=False):
        m = _metrics(rows, scale[rows.index], quantiles)
        series.append({ID: sid, "windows": int(rows["origin"].nunique()),
                       **{f"{method}_{k}": v for method, values in m.items() for k, v in values.items()}})
    return {"overall": _metrics(table.reset_index(drop=True), scale, quantiles), "by_step": by_step,
            "by_series": pd.DataFrame(series)}


def flat_metrics(overall: dict, prefix: str, quantiles) -> dict[str, float]:
    """MLflow metric names: `<prefix>_mae` ... for the model, `naive_*`, `snaive_*` for the baselines."""
    out = {}
    for method, values in overall.items():
        for k, v in values.items():
            if k == "coverage":
                k = f"coverage_q{quantiles[0]}_q{quantiles[-1]}"
            out[f"{prefix if method == 'model' else method}_{k}"] = v
    return out
