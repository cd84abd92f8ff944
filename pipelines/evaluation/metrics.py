"""Forecast accuracy metrics over arrays in original units. y, p: (N, H); q: (N, H, Q).

Formulas follow pytorch-forecasting's metrics (tests/pipelines/evaluation/test_metrics.py checks them against it);
these work on NumPy arrays of finished forecasts, with MASE scaled per series.
"""
import numpy as np

from forecast.models.naive import seasonal_scale


def mae(y, p) -> float:
    """mean |y - p|"""
    return float(np.mean(np.abs(y - p)))


def rmse(y, p) -> float:
    """sqrt(mean (y - p)^2)"""
    return float(np.sqrt(np.mean((y - p) ** 2)))


def smape(y, p) -> float:
    """100 * mean 2|y - p| / (|y| + |p|), in percent (0..200); a 0/0 term counts as 0."""
    denom = np.abs(y) + np.abs(p)
    return float(100.0 * np.mean(np.where(denom > 0, 2.0 * np.abs(y - p) / np.where(denom > 0, denom, 1.0), 0.0)))


def mase(y, p, scale) -> float:
    """mean over windows of mean_h |y - p| / scale, scale (N,) = the series' in-sample mean absolute
    seasonal difference. Windows of series with zero scale (constant history) are left out."""
    scale = np.asarray(scale, dtype=np.float64)
    ok = scale > 0
    if not ok.any():
        return float("nan")
    return float(np.mean(np.mean(np.abs(y - p), axis=1)[ok] / scale[ok]))


def pinball(y, q, quantiles) -> float:
    """mean over n, h, k of max(tau_k e, (tau_k - 1) e), e = y - q[..., k]"""
    e = y[..., None] - q
    tau = np.asarray(quantiles)
    return float(np.mean(np.maximum(tau * e, (tau - 1.0) * e)))


def coverage(y, lower, upper) -> float:
    """share of targets inside [lower, upper]"""
    return float(np.mean((y >= lower) & (y <= upper)))


def seasonal_scales(ids, raw: np.ndarray, starts, ends, season: int) -> dict:
    """`seasonal_scale` of each series' history raw[start:end], by series id."""
    return {sid: seasonal_scale(raw[a:b], season) for sid, a, b in zip(ids, starts, ends)}


def point_metrics(y, p, scale) -> dict[str, float]:
    return {"mae": mae(y, p), "rmse": rmse(y, p), "smape": smape(y, p), "mase": mase(y, p, scale)}
