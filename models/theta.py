"""The Theta method (statsmodels' `ThetaModel`) and the combination of the network's forecast with it.

Combining forecasts of different kinds is the steadiest accuracy gain the forecasting competitions found (M3,
M4). Measured on the accuracy suite (docs/benchmarks.md): on short, smooth panels (M1 monthly, tourism
quarterly) the network moved halfway towards Theta beats both; on long monthly panels and hourly data the
network alone is better. So the weight is not a constant: training chooses it from `WEIGHTS` on the
validation windows (`choose_weight`), and keeps 0 unless a combination's gain there is significant (on a
long monthly panel a 1 % validation gain, 0.8 standard errors, came with a 7 % test loss).

A combination moves every quantile by the same amount, `weight * (theta - median)`: the centre moves, the
interval keeps its width. Theta sees at most the last `HISTORY` points of a series (it is a smoother of the
recent level and trend; a fit on 17,000 hourly points takes half a second).
"""
import warnings

import numpy as np

HISTORY = 1000
WEIGHTS = (0.0, 0.25, 0.5)
SIGNIFICANCE = 2.0


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


def choose_weight(q: np.ndarray, median_index: int, theta_point: np.ndarray, y: np.ndarray,
                  groups: np.ndarray) -> tuple[float, dict]:
    """The weight of `WEIGHTS` with the lowest mean absolute error of the median on validation windows (q, y in
    each series' scaled units, so that every series counts alike), among the weights whose gain over 0 is
    significant: at least `SIGNIFICANCE` standard errors of the paired difference in error, computed over
    `groups` of windows (windows of one group share targets, so their differences are not independent).
    Returns the weight and the error of every candidate."""
    median = q[:, :, median_index]
    alone = np.abs(median - y).mean(axis=1)                                        # (N,) per window
    errors, chosen = {0.0: float(alone.mean())}, 0.0
    labels, index = np.unique(groups, return_inverse=True)
    for weight in WEIGHTS[1:]:
        error = np.abs(median + weight * (theta_point - median) - y).mean(axis=1)
        errors[weight] = float(error.mean())
        gain = np.bincount(index, error - alone) / np.bincount(index)              # (G,) mean per group
        if len(labels) < 2:
            continue
        t = gain.mean() / max(gain.std(ddof=1) / np.sqrt(len(gain)), 1e-12)
        if t < -SIGNIFICANCE and errors[weight] < errors[chosen]:
            chosen = weight
    return chosen, errors
