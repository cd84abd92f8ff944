"""Choosing, in training, how series too short for the network are forecast (models/fallback.py): validation
cases made like the fallback's own, every member forecast on them, one choice per range of history lengths, logged."""
import logging

import numpy as np

from forecast.data.prepare import Prepared
from forecast.data.windows import evenly_spaced
from forecast.models.fallback import MEMBERS, Bucket, Fallback, choose, length_edges, member_forecasts, scale_of

log = logging.getLogger("forecast")
CASES = 300   # series per range of history lengths (a Theta fit: about 1 ms)
ORIGINS = 2
MIN_OWN = 30  # short series of a range that make its case lengths theirs


def validation_cases(histories: list, horizon: int, lengths: list[int], limit: int = CASES, origins: int = ORIGINS):
    """Up to `limit` series (evenly over the panel), each at up to `origins` origins one horizon apart at the end of
    its training part: the `horizon` points after the origin held out, the history before it cut to a length of
    `lengths` (the k-th case to the k-th length, cycling), as the fallback sees a series of that length at forecast
    time. Two origins, not one: the last horizon alone once chose a mix that the next period did not bear out.
    Returns the cut histories, the held-out points and the whole histories before them (the MASE scale's)."""
    ends = [(h, len(h) - k * horizon) for k in range(origins) for h in histories]
    usable = [(h, end) for h, end in ends if end - horizon >= min(lengths)]
    picked = [usable[i] for i in evenly_spaced(len(usable), limit * origins)] if usable else []
    cut = [h[:end - horizon][-lengths[k % len(lengths)]:] for k, (h, end) in enumerate(picked)]
    return cut, np.array([h[end - horizon:end] for h, end in picked]), [h[:end - horizon] for h, end in picked]


def _lengths(short: list[int], lo: int, hi: int) -> list[int]:
    """The history lengths the cases of a range are cut to: those of the panel's own short series where it has
    enough of them in the range (the fallback's work on this panel), else every length of the range."""
    own = [n for n in short if lo <= n < hi]
    return own if len(own) >= MIN_OWN else list(range(hi - 1, lo - 1, -1))


def choose_fallback(prepared: Prepared, quantiles: tuple[float, ...]) -> tuple[Fallback, dict]:
    """The fallback chosen on validation cases, one bucket per range of history lengths (`length_edges`; the old
    rule where a range has no cases), and each candidate's error per range. Errors are scaled as MASE scales them
    (by each series' mean absolute seasonal change), so that the choice is the one the accuracy measure prefers (a
    one-step scale on cut histories once ranked Theta above seasonal naive on a monthly panel where MASE ranks
    them the other way)."""
    spec, m = prepared.spec, prepared.spec.freq.season_length
    edges = length_edges(m, spec.context)
    short = sorted((len(h) for h in prepared.histories if len(h) < spec.context), reverse=True)
    buckets, errors = [], {}
    for lo, hi in zip(edges, (*edges[1:], spec.context)):
        histories, actual, whole = validation_cases(prepared.histories, spec.horizon, _lengths(short, lo, hi))
        if len(histories) == 0:
            buckets.append(Bucket(lo))
            continue
        forecasts = np.stack([member_forecasts(h, spec.horizon, m) for h in histories])
        bucket, found = choose(forecasts, actual, np.array([scale_of(h, m) for h in whole]), quantiles,
                               np.array([scale_of(h, m) for h in histories]), lo)
        buckets.append(bucket)
        errors.update({f"{lo}_{k}": v for k, v in found.items()})
        log.info(f"series under the model's context, of {lo}-{hi - 1} points: {Fallback((bucket,)).method(lo, m > 1)} ("
                 + ", ".join(f"{name} {w:g}" for name, w in zip(MEMBERS, bucket.weights) if w)
                 + f"; validation error on {len(histories)} series, scaled: "
                 + ", ".join(f"{k} {v:.3f}" for k, v in found.items()) + ")")
    return Fallback(tuple(buckets)), errors
