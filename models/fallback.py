"""The forecast of a series too short for the network (fewer rows than the model's context): a combination of
statistical members, Theta, ETS, drift (naive plus the history's mean step), seasonal naive and naive, weighted as
validation chose in training.

Short series are where the statistical methods are strongest: on a yearly competition panel whose short series got
the bare naive forecast, statsforecast's AutoTheta in their place moved the panel's MASE from 3.09 to 2.63; on the
suite's tourism_yearly the drift forecast beat AutoTheta on the short series (2.56 against 2.58), while on
m1_quarterly Theta beat drift (1.05 against 1.11). So the weights are chosen, not fixed (`choose`): Caruana's greedy
ensemble selection (with replacement, `ROUNDS` steps: weights in twentieths) on validation cases made like the
fallback's own (each series' last horizon held out, its history cut to fewer rows than the model's context), one
combination per range of history lengths (`length_edges`: a season of history, two seasons). Seasonal naive and
naive are members, so the choice is never worse than them on validation, and a series gets one of them alone only
where it validated best (no gate: a fitted method that validated better always forecasts). The old rule, seasonal
naive (naive without a season), stays only where a range has no validation case, and for a bundle saved before
this existed.

ETS is a member in its fast form (models/ets.py: `fast_ets`, about a millisecond a series): statsmodels' own fit
took 44.5 s to choose on the 150 validation series of m1_quarterly.

Intervals: the validation errors of the combination, in each series' scale (its mean absolute one-step change),
give per horizon step the quantiles of the error around its median; a forecast adds them to its point forecast,
so every fallback row has its quantiles and the median is the point forecast. With fewer than `MIN_SPREAD_CASES`
validation cases, the intervals come from the history's own in-sample errors instead (`naive_intervals`).
"""
from dataclasses import dataclass, field

import numpy as np

from forecast.models.ets import fast_ets
from forecast.models.theta import theta

MEMBERS = ("theta", "ets", "drift", "seasonal_naive", "naive")
ROUNDS = 20
MIN_SPREAD_CASES = 10   # validation cases the intervals' error quantiles need
MIN_HISTORY = 3      # points a fitted member needs; with fewer, every member is the naive forecast


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


FUNCTIONS = {"theta": theta, "ets": fast_ets, "drift": drift, "seasonal_naive": seasonal_naive, "naive": naive}


def member_forecasts(history: np.ndarray, horizon: int, season: int, members=MEMBERS) -> np.ndarray:
    """(len(members), H) forecasts of one series; a fitted member on fewer than MIN_HISTORY points is naive."""
    history = np.asarray(history, dtype=np.float64)
    short = len(history) < MIN_HISTORY
    return np.stack([naive(history, horizon, season) if short and name in ("theta", "ets")
                     else FUNCTIONS[name](history, horizon, season) for name in members])


def scale_of(history: np.ndarray, season: int = 1) -> float:
    """A series' scale for errors and intervals: its mean absolute change over a season (MASE's denominator; over
    one step where the history is not longer than a season), else its mean absolute value, else 1."""
    history = np.asarray(history, dtype=np.float64)
    lag = season if season > 1 and len(history) > season else 1
    change = np.mean(np.abs(history[lag:] - history[:-lag])) if len(history) > lag else 0.0
    for value in (change, np.mean(np.abs(history))):
        if np.isfinite(value) and value > 0:
            return float(value)
    return 1.0


OLD_RULE = tuple(float(m == "seasonal_naive") for m in MEMBERS)   # seasonal naive (naive without a season of history)


@dataclass(frozen=True)
class Bucket:
    """The combination for histories of at least `min_length` points: member weights (MEMBERS order, summing to 1)
    and, per quantile level, the scaled error quantiles around the median per horizon step (empty: no intervals)."""
    min_length: int = 1
    weights: tuple[float, ...] = OLD_RULE
    levels: tuple[float, ...] = ()
    spread: tuple[tuple[float, ...], ...] = field(default=())   # (Q, H)

    @property
    def used(self) -> tuple[str, ...]:
        """The members with a weight, heaviest first."""
        order = np.argsort(-np.asarray(self.weights), kind="stable")
        return tuple(MEMBERS[i] for i in order if self.weights[i] > 0)


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
        forecasts = member_forecasts(history, horizon, season, used)
        point = np.array([bucket.weights[MEMBERS.index(name)] for name in used]) @ forecasts
        if not bucket.levels:                 # too few validation cases: the history's own in-sample errors
            return point, naive_intervals(history, point, season if 1 < season < len(history) else 1, levels)
        q = np.full((horizon, len(levels)), np.nan)
        for k, tau in enumerate(levels):      # the levels the intervals were measured at (the model's quantiles)
            if tau in bucket.levels:
                q[:, k] = point + scale_of(history, season) * np.asarray(bucket.spread[bucket.levels.index(tau)])[:horizon]
        return point, q

    def to_dict(self) -> dict:
        return {"buckets": [{"min_length": b.min_length, "weights": dict(zip(MEMBERS, b.weights)),
                             "levels": list(b.levels), "spread": [list(x) for x in b.spread]} for b in self.buckets]}

    @classmethod
    def from_dict(cls, d: dict) -> "Fallback":
        return cls(tuple(Bucket(b["min_length"], tuple(float(b["weights"].get(m, 0.0)) for m in MEMBERS),
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


def greedy_weights(forecasts: np.ndarray, y: np.ndarray, scale: np.ndarray, rounds: int = ROUNDS) -> np.ndarray:
    """Caruana's ensemble selection: `rounds` times add (with replacement) the member whose addition most lowers
    the mean scaled absolute error of the average; the weights are the counts over `rounds`.
    forecasts (N, M, H), y (N, H), scale (N,)."""
    counts = np.zeros(forecasts.shape[1])
    total = np.zeros_like(y)
    for k in range(1, rounds + 1):
        trial = (total[:, None] + forecasts) / k                                      # (N, M, H)
        errors = (np.abs(trial - y[:, None]).mean(axis=2) / scale[:, None]).mean(axis=0)
        best = int(np.argmin(errors))
        counts[best] += 1
        total += forecasts[:, best]
    return counts / rounds


def choose(forecasts: np.ndarray, y: np.ndarray, scale: np.ndarray, levels,
           spread_scale: np.ndarray | None = None, min_length: int = 1) -> tuple[Bucket, dict]:
    """The fallback for validation cases: forecasts (N, M, H) of every member, actuals y (N, H), each case's
    series' scale (N,) as MASE has it (its whole training history's), and the scale of the history the case was
    forecast from (`scale_of`, what a forecast can compute; default `scale`) for the intervals. The greedy
    combination, with intervals where there are `MIN_SPREAD_CASES` cases. Returns it (as the bucket of histories
    from `min_length` points) and the validation error (mean scaled MAE) of every member, the old rule and the
    choice."""
    spread_scale = scale if spread_scale is None else spread_scale
    error = lambda p: np.abs(p - y).mean(axis=1) / scale                              # noqa: E731  (N,)
    weights = greedy_weights(forecasts, y, scale)
    combined, baseline = np.einsum("m,nmh->nh", weights, forecasts), forecasts[:, MEMBERS.index("seasonal_naive")]
    errors = {**{name: float(error(forecasts[:, i]).mean()) for i, name in enumerate(MEMBERS)},
              "old_rule": float(error(baseline).mean()), "combination": float(error(combined).mean())}
    if len(y) < MIN_SPREAD_CASES:
        return Bucket(min_length, tuple(float(w) for w in weights)), errors
    residual = (y - combined) / spread_scale[:, None]                                 # (N, H)
    centre = np.quantile(residual, 0.5, axis=0)
    spread = tuple(tuple(np.quantile(residual, tau, axis=0) - centre) for tau in levels)
    return Bucket(min_length, tuple(float(w) for w in weights), tuple(levels), spread), errors
