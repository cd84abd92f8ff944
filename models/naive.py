"""The naive forecasts every model is scored against and falls back to: naive (the last value) and seasonal
naive (the value one season before each step), and MASE's scale (the seasonal naive's in-sample error). One
implementation for evaluation, backtest, predict and the members' choices in training."""
import numpy as np


def seasonal_scale(history: np.ndarray, season: int) -> float:
    """MASE's denominator: mean |y_t - y_{t-m}| over a series' history, m the season (1 without one, or where the
    history is not longer than a season); NaN where the history has no such pair."""
    history = np.asarray(history, dtype=np.float64)
    m = season if season > 1 and len(history) > season else 1
    if len(history) <= m:
        return float("nan")
    return float(np.mean(np.abs(history[m:] - history[:-m])))


def naive_forecasts(raw: np.ndarray, origins: np.ndarray, first_rows: np.ndarray, horizon: int,
                    season: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Naive and seasonal-naive forecasts (N, H) of the windows whose first target is row `origins` of `raw`
    (one array of stacked series; `first_rows` is each window's series' first row), and whether each window's
    seasonal forecast is seasonal (N,): a series with less than one whole season of history before its origin
    (or no season) gets the naive forecast there too. Over a horizon longer than a season, the last season
    repeats."""
    naive = np.repeat(raw[origins - 1][:, None], horizon, axis=1)
    seasonal = (origins - first_rows >= season) & (season > 1)                    # (N,)
    # (N, H): the last season, or the last value
    rows = np.where(seasonal[:, None], origins[:, None] - season + np.arange(horizon) % max(season, 1),
                    origins[:, None] - 1)
    return naive, raw[rows], seasonal
