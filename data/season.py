"""The season of integer-indexed data: given by the user, or found in the series' autocorrelation.

Dated data takes its season from the frequency (data/frequency.py). An integer index (the M-competition and
tourism format) says nothing, so a season is looked for among the usual ones: the autocorrelation of each
series' first differences (the trend removed) at each candidate lag, its median over the series, the
strongest candidate if clearly positive. A multiple of a season scores high too (quarterly data at lag 12);
the season itself is kept where it scores nearly as well. The share of series whose own autocorrelation at a lag
passes the 5 % white-noise bound (1.96 / sqrt(n)) is reported next to the median (`passing`).
"""
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecast.data.schema import ID, TARGET

CANDIDATES = (4, 5, 6, 7, 12, 24, 52)
THRESHOLD = 0.2    # median autocorrelation a season needs (white noise: about 0)
DIVISOR_SHARE = 0.8


@dataclass(frozen=True)
class SeasonEvidence:
    season: int                # 1 = none found
    scores: dict[int, float]   # candidate lag -> median autocorrelation of the first differences
    series: int                # series long enough to score the winner (three seasons)
    passing: dict[int, float] = field(default_factory=dict)   # lag -> share of those series that pass on their own


def autocorrelation(x: np.ndarray, lag: int) -> float:
    x = x - x.mean()
    denominator = float(x @ x)
    return float(x[lag:] @ x[:-lag]) / denominator if denominator > 0 and len(x) > lag else np.nan


def detect_season(regular: pd.DataFrame, candidates: tuple[int, ...] = CANDIDATES) -> SeasonEvidence:
    """The season of a regular canonical frame (module docstring)."""
    diffs = [np.diff(g) for g in regular.groupby(ID, sort=False)[TARGET].apply(np.asarray)]
    scores, counts, passing = {}, {}, {}
    for m in candidates:
        pairs = [(autocorrelation(d, m), len(d)) for d in diffs if len(d) >= 3 * m]
        pairs = np.array([p for p in pairs if np.isfinite(p[0])]).reshape(-1, 2)
        if len(pairs):
            values, bound = pairs[:, 0], 1.96 / np.sqrt(pairs[:, 1])
            scores[m], counts[m], passing[m] = float(np.median(values)), len(values), float(np.mean(values > bound))
    if not scores:
        return SeasonEvidence(1, scores, 0)
    best = max(scores, key=scores.get)
    divisors = [d for d in scores if best % d == 0 and d < best and scores[d] >= DIVISOR_SHARE * scores[best]]
    best = min(divisors, default=best)
    return SeasonEvidence(1 if scores[best] < THRESHOLD else best, scores, counts[best], passing)
