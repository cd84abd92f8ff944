"""The season of integer-indexed data: given by the user, or found by a test on the series' autocorrelation.

Dated data takes its season from the frequency (data/frequency.py). An integer index (the M-competition and
tourism format) says nothing, so a season is looked for among the usual ones. For each candidate lag m, each
series long enough (three seasons) is tested on its own: the autocorrelation of its first differences (the trend
removed) at lag m passes the one-sided 5 % white-noise bound (1.96 / sqrt(n)), which white noise passes 2.5 % of
the time. The panel has season m where the number of series passing is significantly above that chance
(a binomial test at `ALPHA` over the candidates, Bonferroni), and, where the series are long enough to show it,
lag 2m passes too at `CONFIRM` (a season repeats; a business cycle's autocorrelation fades: a yearly GDP panel
passes at lags 4-7 and fails at twice them). Among the seasons that pass, the one with the largest share of
passing series; a divisor of it is kept where its share is nearly as large (quarterly data passes at 12 too).
A single series is its own test (its autocorrelation over its standard error, at the same level).

No threshold on a median (the rule before: 0.2, which sat between the shares of panels it found and missed).
"""
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import binom, norm

from forecast.data.schema import ID, TARGET

CANDIDATES = (4, 5, 6, 7, 12, 24, 52)
CHANCE = 0.025       # white noise passes the one-sided 5 % bound this often
ALPHA = 0.01         # the panel test's level, over all the candidates
CONFIRM = 0.05       # lag 2m's level: a confirmation of a season already significant
DIVISOR_SHARE = 0.8


@dataclass(frozen=True)
class SeasonEvidence:
    season: int                # 1 = none found
    scores: dict[int, float]   # candidate lag -> median autocorrelation of the first differences
    series: int                # series long enough to test the season found (three seasons)
    passing: dict[int, float] = field(default_factory=dict)   # lag -> share of those series that pass on their own
    p_values: dict[int, float] = field(default_factory=dict)  # lag -> the panel test's p-value


def autocorrelation(x: np.ndarray, lag: int) -> float:
    x = x - x.mean()
    denominator = float(x @ x)
    return float(x[lag:] @ x[:-lag]) / denominator if denominator > 0 and len(x) > lag else np.nan


def _lag_test(diffs: list[np.ndarray], m: int) -> tuple[float, float, float, int] | None:
    """(median autocorrelation, share passing, p-value, series) at lag m over the series long enough for it."""
    pairs = np.array([(autocorrelation(d, m), len(d)) for d in diffs if len(d) >= 3 * m]).reshape(-1, 2)
    pairs = pairs[np.isfinite(pairs[:, 0])]
    if not len(pairs):
        return None
    values, n = pairs[:, 0], pairs[:, 1]
    passed = int((values > 1.96 / np.sqrt(n)).sum())
    p = float(norm.sf(values[0] * np.sqrt(n[0]))) if len(values) == 1 else float(binom.sf(passed - 1, len(values),
                                                                                          CHANCE))
    return float(np.median(values)), passed / len(values), p, len(values)


def detect_season(regular: pd.DataFrame, candidates: tuple[int, ...] = CANDIDATES) -> SeasonEvidence:
    """The season of a regular canonical frame (module docstring)."""
    diffs = [np.diff(g) for g in regular.groupby(ID, sort=False)[TARGET].apply(np.asarray)]
    tests = {m: t for m in candidates if (t := _lag_test(diffs, m)) is not None}
    scores = {m: t[0] for m, t in tests.items()}
    passing, p_values = {m: t[1] for m, t in tests.items()}, {m: t[2] for m, t in tests.items()}
    seasons = []
    for m, (_, share, p, _) in tests.items():
        twice = _lag_test(diffs, 2 * m)
        if p < ALPHA / len(candidates) and (twice is None or twice[2] < CONFIRM):
            seasons.append(m)
    if not seasons:
        return SeasonEvidence(1, scores, 0, passing, p_values)
    best = max(seasons, key=passing.get)
    divisors = [d for d in seasons if best % d == 0 and d < best and passing[d] >= DIVISOR_SHARE * passing[best]]
    best = min(divisors, default=best)
    return SeasonEvidence(best, scores, tests[best][3], passing, p_values)
