"""The forecast of a series too short for the network (fewer rows than the model's context): a combination of
statistical members (models/members.py: Theta, ETS, drift, seasonal naive, naive), weighted as validation chose
in training. The bundle keeps it as `fallback.json` (the class `Fallback`): the name it was saved under first.

Short series are where the statistical methods are strongest, and which of them is best differs from panel to
panel (docs/benchmarks.md, "The figures behind the members' rules"). So the weights are chosen, not fixed
(`choose`): Caruana's greedy ensemble selection (models/ensemble.py: `greedy_weights`, weights in twentieths) on
validation cases made like the fallback's own (each series' last horizon held out, its history cut to fewer rows
than the model's context), one combination per range of history lengths (`length_edges`: a season of history,
two seasons). Seasonal naive and naive are members, so the choice is never worse than them on validation, and a
series gets one of them alone only where it validated best (no gate: a fitted method that validated better always
forecasts). The old rule, seasonal
naive (naive without a season), stays only where a range has no validation case, and for a bundle saved before
this existed.

Intervals: the validation errors of the combination, in each series' scale (its mean absolute one-step change),
give per horizon step the quantiles of the error around its median; a forecast adds them to its point forecast,
so every fallback row has its quantiles and the median is the point forecast. With fewer than `MIN_SPREAD_CASES`
validation cases, the intervals come from the history's own in-sample errors instead (`naive_intervals`).
"""
from dataclasses import dataclass, field

import numpy as np

from forecast.models import members
from forecast.models.ensemble import greedy_weights
from forecast.models.naive import seasonal_scale

MIN_SPREAD_CASES = 10   # validation cases the intervals' error quantiles need
OLD_RULE = {"seasonal_naive": 1.0}   # seasonal naive (naive without a season of history)


def scale_of(history: np.ndarray, season: int = 1) -> float:
    """A series' scale for errors and intervals, never 0 or NaN: MASE's (models/naive.py: `seasonal_scale`), else its
    mean absolute value, else 1."""
    history = np.asarray(history, dtype=np.float64)
    for value in (seasonal_scale(history, season), np.mean(np.abs(history)) if len(history) else 0.0):
        if np.isfinite(value) and value > 0:
            return float(value)
    return 1.0


@dataclass(frozen=True)
class Bucket:
    """The combination for histories of at least `min_length` points: member weights by name (summing to 1) and,
    per quantile level, the scaled error quantiles around the median per horizon step (empty: no intervals)."""
    min_length: int = 1
    weights: dict[str, float] = field(default_factory=lambda: dict(OLD_RULE))
    levels: tuple[float, ...] = ()
    spread: tuple[tuple[float, ...], ...] = field(default=())   # (Q, H)

    @property
    def used(self) -> tuple[str, ...]:
        """The members with a weight, heaviest first."""
        return tuple(name for name, w in sorted(self.weights.items(), key=lambda item: -item[1]) if w > 0)


def length_edges(season: int, context: int) -> tuple[int, ...]:
    """Where the members change what they do, so where the best combination may change: from one point; from a
    season (seasonal naive repeats it); from two seasons (Theta deseasonalises). Those below `context`."""
    return tuple(sorted({1, *(e for e in (season, 2 * season) if season > 1 and 1 < e < context)}))


@dataclass(frozen=True)
class Fallback:
    """A combination per range of history lengths (`Bucket`s by `min_length`, ascending); one old-rule bucket
    by default, which is also what a bundle from before this existed loads as."""
    buckets: tuple[Bucket, ...] = (Bucket(),)

    @property
    def is_default(self) -> bool:
        return all(b.weights == OLD_RULE and not b.spread for b in self.buckets)

    def bucket(self, length: int) -> Bucket:
        return [b for b in self.buckets if b.min_length <= length][-1] if length >= self.buckets[0].min_length \
            else self.buckets[0]

    def method(self, length: int, seasonal: bool) -> str:
        """The name in the `method` column: the member, or the members joined by '+', heaviest first."""
        bucket = self.bucket(length)
        if bucket.weights == OLD_RULE:
            return "seasonal_naive" if seasonal else "naive"
        return "+".join(bucket.used)

    def forecast(self, history: np.ndarray, horizon: int, season: int, levels) -> tuple[np.ndarray, np.ndarray]:
        """The point forecast (H,) and quantiles (H, len(levels)) of one series (NaN quantiles without intervals)."""
        bucket = self.bucket(len(history))
        used = bucket.used
        point = np.array([bucket.weights[name] for name in used]) @ members.forecasts(history, horizon, season, used)
        if not bucket.levels:                 # too few validation cases: the history's own in-sample errors
            return point, naive_intervals(history, point, season if 1 < season < len(history) else 1, levels)
        q = np.full((horizon, len(levels)), np.nan)
        scale = scale_of(history, season)
        for k, tau in enumerate(levels):      # the levels the intervals were measured at (the model's quantiles)
            if tau in bucket.levels:
                q[:, k] = point + scale * np.asarray(bucket.spread[bucket.levels.index(tau)])[:horizon]
        return point, q

    def to_dict(self) -> dict:
        return {"buckets": [{"min_length": b.min_length, "weights": dict(b.weights), "levels": list(b.levels),
                             "spread": [list(x) for x in b.spread]} for b in self.buckets]}

    @classmethod
    def from_dict(cls, d: dict) -> "Fallback":
        return cls(tuple(Bucket(b["min_length"], {name: float(w) for name, w in b["weights"].items() if w},
                                tuple(b["levels"]), tuple(tuple(x) for x in b["spread"])) for b in d["buckets"]))


MIN_RESIDUALS = 4   # in-sample errors an interval of the old rule needs


def naive_intervals(history: np.ndarray, point: np.ndarray, lag: int, levels) -> np.ndarray:
    """(H, len(levels)) quantiles around a (seasonal) naive forecast: its in-sample errors (the value against the
    one `lag` rows before), their quantiles around their median, widened by the square root of the number of
    lags each step is ahead (the random walk's growth). NaN with fewer than MIN_RESIDUALS errors."""
    history = np.asarray(history, dtype=np.float64)
    q = np.full((len(point), len(levels)), np.nan)
    errors = history[lag:] - history[:-lag] if len(history) > lag else np.zeros(0)
    if len(errors) < MIN_RESIDUALS:
        return q
    spread = np.quantile(errors, levels) - np.quantile(errors, 0.5)                    # (Q,)
    ahead = np.sqrt(np.ceil(np.arange(1, len(point) + 1) / lag))                      # (H,)
    return point[:, None] + ahead[:, None] * spread[None, :]


def choose(forecasts: np.ndarray, names: tuple[str, ...], y: np.ndarray, scale: np.ndarray, levels,
           spread_scale: np.ndarray | None = None, min_length: int = 1) -> tuple[Bucket, dict]:
    """The short series' combination for validation cases: forecasts (N, M, H) of the members `names`, actuals
    y (N, H), each case's series' scale (N,) as MASE has it (its whole training history's), and the scale of the
    history the case was forecast from (`scale_of`, what a forecast can compute; default `scale`) for the
    intervals. The greedy combination, with intervals where there are `MIN_SPREAD_CASES` cases. Returns it (as the
    bucket of histories from `min_length` points) and the validation error (mean scaled MAE) of every member, the
    old rule and the choice."""
    spread_scale = scale if spread_scale is None else spread_scale
    error = lambda p: np.abs(p - y).mean(axis=1) / scale                              # noqa: E731  (N,)
    weights = greedy_weights(forecasts, y, scale)
    chosen = {name: float(w) for name, w in zip(names, weights) if w > 0}
    combined, baseline = np.einsum("m,nmh->nh", weights, forecasts), forecasts[:, names.index("seasonal_naive")]
    errors = {**{name: float(error(forecasts[:, i]).mean()) for i, name in enumerate(names)},
              "old_rule": float(error(baseline).mean()), "combination": float(error(combined).mean())}
    if len(y) < MIN_SPREAD_CASES:
        return Bucket(min_length, chosen), errors
    residual = (y - combined) / spread_scale[:, None]                                 # (N, H)
    centre = np.quantile(residual, 0.5, axis=0)
    spread = tuple(tuple(np.quantile(residual, tau, axis=0) - centre) for tau in levels)
    return Bucket(min_length, chosen, tuple(levels), spread), errors
