"""Accuracy from a forecast table (one row per series, origin and step, with `actual`, `prediction`,
quantile columns, `naive` and `seasonal_naive`): overall, per horizon step and per series.

Each row counts as a one-step window, so MASE averages |error| / the series' seasonal scale over rows: with
every window complete this equals the mean over windows of their MASE.
"""
import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from forecast.data.schema import ID
from forecast.pipelines.evaluation.metrics import coverage, pinball, point_metrics

METHODS = {"model": "prediction", "naive": "naive", "snaive": "seasonal_naive"}
SECTION = "accuracy"   # MLflow's run page charts a section per key prefix, alphabetically, prefix-less keys last:
                       # the score opens it, before the gradient-health sections (agg/, attn/, grad/, ...);
BASELINES = "accuracy/baselines"   # and the baselines' scores right after it, not before it (charts go by name)


@dataclass(frozen=True)
class Scores:
    """One method's accuracy over a set of rows; pinball and coverage for the model's quantiles only."""
    mae: float
    rmse: float
    smape: float
    mase: float
    pinball: float | None = None
    coverage: float | None = None

    def items(self) -> list[tuple[str, float]]:
        """(name, value) of every score the method has, in a fixed order."""
        return [(k, v) for k, v in asdict(self).items() if v is not None]


@dataclass
class Accuracy:
    """The accuracy table of a forecast table: overall, per horizon step and per series."""
    overall: dict[str, Scores]              # model | naive | snaive -> scores
    by_step: dict[int, dict[str, Scores]]   # step (1..H) -> method -> scores
    by_series: pd.DataFrame                 # one row per series: windows, <method>_<score>

    def to_dict(self) -> dict:
        """overall and by_step as JSON-ready dicts (accuracy.json)."""
        plain = lambda methods: {m: dict(s.items()) for m, s in methods.items()}  # noqa: E731
        return {"overall": plain(self.overall), "by_step": {k: plain(v) for k, v in self.by_step.items()}}


def _metrics(rows: pd.DataFrame, scale: np.ndarray, quantiles) -> dict[str, Scores]:
    y = rows["actual"].to_numpy()[:, None]
    out = {name: point_metrics(y, rows[column].to_numpy()[:, None], scale) for name, column in METHODS.items()}
    q = rows[[f"q{tau}" for tau in quantiles]].to_numpy()[:, None, :]
    out["model"]["pinball"] = pinball(y, q, quantiles)
    out["model"]["coverage"] = coverage(y, q[..., 0], q[..., -1])
    return {name: Scores(**values) for name, values in out.items()}


def accuracy(table: pd.DataFrame, scales: dict[str, float], quantiles) -> Accuracy:
    scale = table[ID].map(scales).to_numpy(dtype=np.float64)
    by_step = {int(step): _metrics(rows, scale[rows.index], quantiles)
               for step, rows in table.reset_index(drop=True).groupby("step")}
    series = []
    for sid, rows in table.reset_index(drop=True).groupby(ID, sort=False):
        m = _metrics(rows, scale[rows.index], quantiles)
        series.append({ID: sid, "windows": int(rows["origin"].nunique()),
                       **{f"{method}_{k}": v for method, values in m.items() for k, v in values.items()}})
    return Accuracy(_metrics(table.reset_index(drop=True), scale, quantiles), by_step, pd.DataFrame(series))


def logged(metrics: dict[str, float]) -> dict[str, float]:
    """Accuracy metrics as MLflow keys, `accuracy/<where>_<measure>` (`accuracy/test_mase`, `accuracy/backtest_mase`,
    `accuracy/champion_mase`: one scheme for every run kind) and the baselines'
    `accuracy/baselines/<baseline>_<measure>` (`accuracy/baselines/snaive_mase`); undefined ones (NaN) left out."""
    baseline = tuple(f"{m}_" for m in METHODS if m != "model")
    return {f"{BASELINES if k.startswith(baseline) else SECTION}/{k}": v for k, v in metrics.items()
            if not math.isnan(v)}


def flat_metrics(overall: dict[str, Scores], prefix: str, quantiles) -> dict[str, float]:
    """Metric names: `<prefix>_mae` ... for the model, `naive_*`, `snaive_*` for the baselines (logged to MLflow
    under `logged`'s section)."""
    out = {}
    for method, values in overall.items():
        for k, v in values.items():
            if k == "coverage":
                k = f"coverage_q{quantiles[0]}_q{quantiles[-1]}"
            out[f"{prefix if method == 'model' else method}_{k}"] = v
    return out
