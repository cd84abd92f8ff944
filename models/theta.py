"""The Theta method (statsmodels' `ThetaModel`): a member of the forecast's combinations (models/members.py, which
decides how much history it sees). Its
exponential smoothing weight is fitted here (`ses_alpha`, hand-written because statsmodels' state-space fit costs
30-60 ms a series, at every forecast of a combined model); the rest is statsmodels' `ThetaModel`, and a test holds
the forecasts to its own within 1e-3.
"""
import warnings

import numpy as np

GRID_LOOP_MAX = 200   # points; see _grid_sse


def ses_alpha(y: np.ndarray) -> tuple[float, float]:
    """Simple exponential smoothing started at the first value: the smoothing weight minimising the squared
    one-step errors (what statsmodels' state-space fit maximises, the likelihood with the first value as the
    known initial level), and the level after the last value. Each candidate is one `lfilter` pass (C), so a
    fit takes about a millisecond where the state-space optimiser takes 30-60 ms: the cost of Theta at every
    forecast of a combined model."""
    from scipy.optimize import minimize_scalar
    from scipy.signal import lfilter

    def levels(alpha: float) -> np.ndarray:     # l[t] = (1 - alpha) l[t-1] + alpha y[t-1], l[0] = y[0]
        return lfilter([alpha], [1.0, alpha - 1.0], y, zi=[(1.0 - alpha) * y[0]])[0]

    def sse(alpha: float) -> float:
        return float(np.sum((y[1:] - levels(alpha)[:-1]) ** 2))

    grid = np.linspace(0.01, 0.99, 50)
    start = grid[int(np.argmin(_grid_sse(y, grid) if len(y) <= GRID_LOOP_MAX else [sse(a) for a in grid]))]
    best = minimize_scalar(sse, bounds=(max(1e-4, start - 0.02), min(1.0 - 1e-4, start + 0.02)), method="bounded",
                           options={"xatol": 1e-6})
    alpha = float(best.x)
    return alpha, float(levels(alpha)[-1])


def _grid_sse(y: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """`sse` of every weight at once: `levels`' recursion with lfilter's own arithmetic (the same floats, a test
    holds them equal), one Python step per point for all weights. Faster than a C pass per weight up to about
    GRID_LOOP_MAX points (measured: 0.35 -> 0.05 ms at 30, even at 200, 2.5x slower at 1,000)."""
    out = np.empty((len(alphas), len(y)))
    z, keep = (1.0 - alphas) * y[0], -(alphas - 1.0)
    for t in range(len(y)):
        out[:, t] = z + alphas * y[t]
        z = keep * out[:, t]
    return np.sum((y[1:] - out[:, :-1]) ** 2, axis=1)


def _tested(history: np.ndarray, season: int):
    """statsmodels' `ThetaModel` of one series after its seasonality test (a 10 % chi-squared test of the
    autocorrelation at the season's lag): the series is adjusted where `deseasonalize` (two seasons of history) and
    `_has_seasonality` (the test passed)."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    seasonal = season > 1 and len(history) >= 2 * season
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # statsmodels' frequency warnings
        model = ThetaModel(history, period=season if seasonal else 1, deseasonalize=seasonal)
        if model.deseasonalize and model.use_test:
            model._test_seasonality()
    return model


def adjusted(history: np.ndarray, season: int) -> bool:
    """Whether Theta and ETS take this series' season out (`seasonal_adjustment`): its own test, not the panel's."""
    model = _tested(np.asarray(history, dtype=np.float64), season)
    return bool(model.deseasonalize and model._has_seasonality)


def seasonal_adjustment(history: np.ndarray, season: int):
    """statsmodels' `ThetaModel` decomposition of one series: its seasonality test (90 %) and classical
    decomposition where two seasons exist, else none. Returns the adjusted series and `put_back(forecast)`, which
    puts the season back on a forecast that starts right after the history. It calls two of ThetaModel's private
    steps (`_test_seasonality`, `_deseasonalize_data`): statsmodels is pinned (0.15.0), and
    `tests/models/test_theta.py` compares Theta's result with `ThetaModel.fit()` itself."""
    model = _tested(history, season)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y, seasonal_part = model._deseasonalize_data()
    seasonal_part, n = np.asarray(seasonal_part, dtype=np.float64), len(history)

    def put_back(forecast: np.ndarray) -> np.ndarray:
        if not (model.deseasonalize and len(seasonal_part)):
            return forecast
        season_ahead = seasonal_part[(n + np.arange(len(forecast))) % model.period]
        return forecast * season_ahead if model.method.startswith("mul") else forecast + season_ahead

    return np.asarray(y, dtype=np.float64), put_back


def theta(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Theta forecast (horizon,) from one series' history (statsmodels' `ThetaModel`: its seasonality test and
    decomposition where two seasons exist (`seasonal_adjustment`), the drift from an OLS trend, its forecast
    formula; the smoothing weight from `ses_alpha`, the forecast formula in `_forecast`); the last value where the
    fit fails or is not finite."""
    history = np.asarray(history, dtype=np.float64)
    try:
        y, put_back = seasonal_adjustment(history, season)
        trend = np.column_stack([np.ones(len(y)), np.arange(len(y))])
        b0 = np.linalg.lstsq(trend, y, rcond=None)[0][1]
        alpha, one_step = ses_alpha(y)
        forecast = put_back(_forecast(len(history), b0, alpha, one_step, horizon))
    except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
        forecast = np.full(horizon, np.nan)
    return np.where(np.isfinite(forecast), forecast, history[-1])


def _forecast(n: int, b0: float, alpha: float, one_step: float, horizon: int) -> np.ndarray:
    """statsmodels' `ThetaModelResults.forecast(horizon)` (theta = 2) for a history of n points, its formula without
    the pandas index it builds around it (about 1 ms a series, at every forecast): half the OLS drift carried over
    the smoothed level (the season is put back by the caller)."""
    h = np.arange(horizon, dtype=np.float64)
    if alpha > 0:
        h += 1.0 / alpha - (1.0 - alpha) ** n / alpha
    return 0.5 * b0 * h + one_step
