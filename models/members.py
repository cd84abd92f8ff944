"""The statistical members of the forecast's combinations: one registry, one way to run them.

Each member is a function `(history, horizon, season) -> forecast (horizon,)`, named in `MEMBERS`; adding one is
one line there. The network's combination (models/combination.py) and the short series' forecast
(models/short_series.py) weight them by name, and both run them through `forecasts` (one history) or
`window_forecasts` (many windows of a panel), which decide in one place what a member sees:
- at most the last `HISTORY` points (they smooth the recent level and trend; a fit on 17,000 hourly points is
  slow and no better);
- a fitted member (`FITTED`) on fewer than `MIN_HISTORY` points gives the naive forecast.
`STATSMODELS` names the members that fit with statsmodels: a logged model that weights one of them requires it.
"""
import numpy as np

from forecast.models.ets import fast_ets
from forecast.models.theta import theta

HISTORY = 1000
MIN_HISTORY = 3      # points a fitted member needs; with fewer, it is the naive forecast


def naive(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    return np.full(horizon, float(history[-1]))


def drift(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The last value plus the history's mean step per step ahead (the random walk with drift)."""
    if len(history) < 2:
        return naive(history, horizon, season)
    step = (history[-1] - history[0]) / (len(history) - 1)
    return float(history[-1]) + step * np.arange(1, horizon + 1)


def seasonal_naive(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The last season repeated, where a whole season of history exists; else the last value."""
    if season <= 1 or len(history) < season:
        return naive(history, horizon, season)
    return np.asarray(history[len(history) - season + np.arange(horizon) % season], dtype=np.float64)


MEMBERS = {"theta": theta, "ets": fast_ets, "drift": drift, "seasonal_naive": seasonal_naive, "naive": naive}
FITTED = frozenset({"theta", "ets"})
STATSMODELS = frozenset({"theta", "ets"})   # their seasonal adjustment (models/theta.py: seasonal_adjustment)


def names() -> tuple[str, ...]:
    """Every member, in the registry's order (the order of weights, forecasts and logs)."""
    return tuple(MEMBERS)


def forecasts(history: np.ndarray, horizon: int, season: int, members: tuple[str, ...] | None = None,
              registry: dict | None = None) -> np.ndarray:
    """(len(members), H) forecasts of one series by the `members` of `registry` (default: every member of
    `MEMBERS`), each from the last HISTORY points; a fitted member on fewer than MIN_HISTORY points is naive."""
    registry = MEMBERS if registry is None else registry
    history = np.asarray(history[-HISTORY:], dtype=np.float64)
    short = len(history) < MIN_HISTORY
    return np.stack([naive(history, horizon, season) if short and name in FITTED
                     else registry[name](history, horizon, season)
                     for name in (tuple(registry) if members is None else members)])


def window_forecasts(raw: np.ndarray, origins: np.ndarray, first_rows: np.ndarray, horizon: int, season: int,
                     members: tuple[str, ...] | None = None, registry: dict | None = None) -> np.ndarray:
    """(N, M, H) forecasts of N windows of a panel: window i forecasts from raw[first_rows[i]:origins[i]] (global
    rows of the panel's raw target), as `forecasts` does."""
    registry = MEMBERS if registry is None else registry
    members = tuple(registry) if members is None else members
    out = np.empty((len(origins), len(members), horizon))
    for i, (origin, first) in enumerate(zip(origins, first_rows)):
        out[i] = forecasts(raw[max(first, origin - HISTORY):origin], horizon, season, members, registry)
    return out
