"""Weighting forecasts by their validation errors: Caruana's greedy ensemble selection, and the paired test of a
weighting's gain. The network's combination (models/combination.py) and the short series' forecast
(models/short_series.py) both choose with these; each keeps its own rule of what to choose among."""
import numpy as np

ROUNDS = 20   # greedy steps: weights in twentieths


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


def paired_t(errors: np.ndarray, baseline: np.ndarray, groups: np.ndarray) -> float:
    """The mean gain of `errors` over `baseline` (N,) over its standard error, where the cases are first averaged
    within their group (`groups` (N,) as indices 0..G-1: cases that share targets are not independent).
    Negative: `errors` is lower."""
    gain = np.bincount(groups, errors - baseline) / np.bincount(groups)             # (G,) mean per group
    return float(gain.mean() / max(gain.std(ddof=1) / np.sqrt(len(gain)), 1e-12))
