"""The Theta method (statsmodels' `ThetaModel`) and the combination of the network's forecast with it.

Combining forecasts of different kinds is the steadiest accuracy gain the forecasting competitions found (M3,
M4). Measured on the accuracy suite (docs/benchmarks.md): on short, smooth panels (M1 monthly, tourism
quarterly) the network moved halfway towards Theta beats both; on long monthly panels and hourly data the
network alone is better. So the weight is not a constant: training chooses it from `WEIGHTS` on the
validation windows (`choose_weight`), and keeps 0 unless a combination is better by `MARGIN`.

A combination moves every quantile by the same amount, `weight * (theta - median)`: the centre moves, the
interval keeps its width. Theta sees at most the last `HISTORY` points of a series (it is a smoother of the
recent level and trend; a fit on 17,000 hourly points takes half a second).
"""
import warnings

import numpy as np

HISTORY = 1000
WEIGHTS = (0.0, 0.25, 0.5)
MARGIN = 0.01


def theta(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Theta forecast (horizon,) from one series' history, deseasonalised where two seasons exist; the last
    value where the fit fails or is not finite."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    history = np.asarray(history[-HISTORY:], dtype=np.float64)
    seasonal = season > 1 and len(history) >= 2 * season
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # statsmodels' frequency and convergence warnings, per fit
        try:
            forecast = np.asarray(ThetaModel(history, period=season if seasonal else 1,
                                             deseasonalize=seasonal).fit().forecast(horizon), dtype=np.float64)
        except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
            forecast = np.full(horizon, np.nan)
    return np.where(np.isfinite(forecast), forecast, history[-1])


def theta_windows(raw: np.ndarray, origins: np.ndarray, first_rows: np.ndarray, horizon: int, season: int,
                  method=theta) -> np.ndarray:
    """(N, H) forecasts of windows by `method(history, horizon, season)` (Theta by default): window i forecasts
    from the last HISTORY points of raw[first_rows[i]:origins[i]] (global rows)."""
    out = np.empty((len(origins), horizon))
    for i, (origin, first) in enumerate(zip(origins, first_rows)):
        out[i] = method(raw[max(first, origin - HISTORY):origin], horizon, season)
    return out


def blend(q: np.ndarray, median_index: int, theta_point: np.ndarray, weight: float) -> np.ndarray:
    """(N, H, Q) quantiles moved by weight * (theta - median), on any scale both share."""
    if not weight:
        return q
    return q + weight * (theta_point - q[:, :, median_index])[:, :, None]


def choose_weight(q: np.ndarray, median_index: int, theta_point: np.ndarray, y: np.ndarray) -> tuple[float, dict]:
    """The weight of `WEIGHTS` with the lowest mean absolute error of the median on validation windows (q, y in
    each series' scaled units, so that every series counts alike); 0 unless that is `MARGIN` better than 0.
    Returns the weight and the error of every candidate."""
    errors = {w: float(np.mean(np.abs(blend(q, median_index, theta_point, w)[:, :, median_index] - y)))
              for w in WEIGHTS}
    best = min(errors, key=errors.get)
    return (best if errors[best] < (1 - MARGIN) * errors[0.0] else 0.0), errors
