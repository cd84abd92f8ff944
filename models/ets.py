"""Exponential smoothing (ETS, additive errors): the AICc-best of simple smoothing and a damped additive trend, on
the series adjusted for its season where two seasons exist and a season passes the test, as statsforecast's
AutoETS selects (no trend or a damped additive trend).

Two fits of the same family:
- `ets`: statsmodels' `ETSModel` (maximum likelihood, an additive season as its own state), the peer that
  `forecast benchmark` runs;
- `fast_ets`: the member `ets` of the forecast's combinations (models/members.py), fitted at every forecast of a
  combined model. statsmodels fits one model in 20-200 ms a series (choosing with it took 44.5 s on
  m1_quarterly's 150 validation cases), so this one is hand-written: the smoothing parameters on a grid
  (`ALPHAS` x `TRENDS` x `PHIS`), every grid point run in one recursion over the history (a numpy step per
  point), the initial level and trend from a line through the first points (Hyndman et al. 2008, 2.6.1), the
  season taken out and put back as Theta does (models/theta.py: `seasonal_adjustment`, classical decomposition
  after statsmodels' 90 % seasonality test). About 0.8 ms a series of 100 points, 4 ms of 1,000
  (benchmarks/members.py).
"""
import warnings

import numpy as np

from forecast.models.theta import seasonal_adjustment

ALPHAS = np.array([0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99])
TRENDS = np.array([0.01, 0.05, 0.1, 0.2, 0.4])     # the trend's smoothing as a share of the level's (beta / alpha)
PHIS = np.array([0.8, 0.9, 0.95, 0.98])            # the trend's damping
INITIAL = 10                                       # points the initial level and trend are read from


def ets(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The AICc-best of up to four additive-error ETS models (statsmodels); the last value where no fit succeeds."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    history = np.asarray(history, dtype=np.float64)
    seasons = (None, "add") if season > 1 and len(history) >= 2 * season else (None,)
    best = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # statsmodels' convergence warnings, per fit
        for seasonal in seasons:
            for trend in (None, "add"):
                try:
                    fit = ETSModel(history, error="add", trend=trend, damped_trend=trend is not None,
                                   seasonal=seasonal, seasonal_periods=season if seasonal else None).fit(disp=False)
                except (ValueError, np.linalg.LinAlgError):
                    continue
                if np.isfinite(fit.aicc) and (best is None or fit.aicc < best.aicc):
                    best = fit
    forecast = np.full(horizon, np.nan) if best is None else np.asarray(best.forecast(horizon), dtype=np.float64)
    return np.where(np.isfinite(forecast), forecast, history[-1])


def _grid() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every grid point: alpha, beta, phi, and the number of fitted values (AICc's k) of its model."""
    simple = (ALPHAS, np.zeros_like(ALPHAS), np.ones_like(ALPHAS), np.full(len(ALPHAS), 2))
    a, r, p = (x.ravel() for x in np.meshgrid(ALPHAS, TRENDS, PHIS, indexing="ij"))
    damped = (a, a * r, p, np.full(len(a), 5))
    return tuple(np.concatenate(pair) for pair in zip(simple, damped))


GRID = _grid()


def fast_ets(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The AICc-best grid point of simple and damped-trend smoothing (module docstring), forecast (horizon,) with
    the season put back; the last value where the history is too short or the fit is not finite."""
    history = np.asarray(history, dtype=np.float64)
    if len(history) < 3:
        return np.full(horizon, history[-1] if len(history) else np.nan)
    try:
        y, put_back = seasonal_adjustment(history, season)
    except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
        y, put_back = history, (lambda f: f)
    alpha, beta, phi, k = GRID
    first = y[:INITIAL]
    slope, intercept = np.polyfit(np.arange(len(first)), first, 1) if len(first) > 1 else (0.0, first[0])
    level = np.where(beta > 0, intercept, y[0])
    trend = np.where(beta > 0, slope, 0.0)
    sse, fitted, error, damped, part = (np.zeros(len(alpha)) for _ in range(5))
    for value in y:     # one step for every grid point at once, in place (numpy's call overhead is the cost)
        np.multiply(phi, trend, out=damped)
        np.add(level, damped, out=fitted)                 # level + phi * trend
        np.subtract(value, fitted, out=error)
        np.multiply(error, error, out=part)
        sse += part
        np.multiply(alpha, error, out=part)
        np.add(fitted, part, out=level)                   # level = fitted + alpha * error
        np.multiply(beta, error, out=part)
        np.add(damped, part, out=trend)                   # trend = phi * trend + beta * error
    n = len(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        small_sample = np.where(n - k - 1 > 0, 2 * k * (k + 1) / (n - k - 1), np.inf)   # no AICc with too few points
        aicc = n * np.log(np.maximum(sse, 1e-300) / n) + 2 * k + small_sample
    best = int(np.nanargmin(np.where(np.isfinite(aicc), aicc, np.nan))) if np.isfinite(aicc).any() else 0
    damping = np.cumsum(phi[best] ** np.arange(1, horizon + 1))
    forecast = put_back(level[best] + damping * trend[best])
    return np.where(np.isfinite(forecast), forecast, history[-1])
