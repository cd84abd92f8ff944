"""Choosing, in training, how the statistical members (models/members.py) forecast beside the network, and logging
the choice: the network's combination on validation windows (models/combination.py), and the forecast of series
too short for the network on validation cases made like its own (models/short_series.py), one choice per range of
history lengths. `choose_members` does both, for `train`."""
import logging

import mlflow
import numpy as np

from forecast.data.prepare import Prepared
from forecast.data.windows import evenly_spaced
from forecast.models import combination as network_combination
from forecast.models import members, short_series
from forecast.models.combination import Combination
from forecast.models.forecaster import Forecaster
from forecast.models.short_series import Bucket, Fallback, length_edges, scale_of
from forecast.models.theta import adjusted
from forecast.pipelines.evaluation.evaluate import predict_scaled, statistical_scaled

log = logging.getLogger("forecast")
VALIDATION_SAMPLE = 400   # validation windows the combination is chosen on (a Theta fit per window)
CASES = 300   # short-series cases per range of history lengths (a Theta fit: about 1 ms)
ORIGINS = 2
MIN_OWN = 30  # short series of a range that make its case lengths theirs


def choose_members(model: Forecaster, prepared: Prepared, batch_size: int, combine: bool = True) -> tuple[
        Combination, Fallback]:
    """The network's combination (the network alone without `combine`) and the short series' forecast, each chosen
    on validation and logged to the active run and the console."""
    log_adjusted(prepared)
    combination = Combination()
    if combine:
        combination, errors = choose_combination(model, prepared, batch_size)
        _log_combination(combination, errors)
    fallback, errors = choose_fallback(prepared, model.config.quantiles)
    seasonal = prepared.spec.freq.season_length > 1
    mlflow.log_params({f"fallback_from_{b.min_length}": fallback.method(b.min_length, seasonal) + " (" + ", ".join(
        f"{m} {w:g}" for m, w in b.weights.items() if w) + ")" for b in fallback.buckets})
    mlflow.log_metrics({f"val_fallback_error_{k}": v for k, v in errors.items()})
    return combination, fallback


def log_adjusted(prepared: Prepared) -> int | None:
    """How many series Theta and ETS adjust for the panel's season (each series by its own test,
    models/theta.py: `adjusted`), said and logged (`members_adjusted_series`); None without a season."""
    m = prepared.spec.freq.season_length
    if m <= 1 or not prepared.histories:
        return None
    count = sum(adjusted(h[-members.HISTORY:], m) for h in prepared.histories)
    log.info(f"season {m}: Theta and ETS take it out of {count} of {len(prepared.histories)} series (each series' own "
             "90 % autocorrelation test, with two seasons of history); the others they forecast without one")
    mlflow.log_metric("members_adjusted_series", count)
    return count


def _log_combination(combination: Combination, errors: dict) -> None:
    weights = {m: combination.weights.get(m, 0.0) for m in (network_combination.NETWORK, *members.names())}
    mlflow.log_params({f"combination.{m}": w for m, w in weights.items()})
    mlflow.log_metrics({("val_combination_t" if k == "t" else f"val_mae_{k}"): e for k, e in errors.items()})
    if not errors:
        return
    used = " + ".join(f"{m} {w:g}" for m, w in weights.items() if w)
    tested = ""
    if "t" in errors:
        whose = "the greedy combination's" if combination.is_network else "its"
        tested = (f"; {whose} out-of-fold error less the network alone's: {errors['t']:+.2f} standard errors "
                  "(chosen below 0)")
    log.info(f"combination: {used} (validation error of the median, in MASE's units: "
             + ", ".join(f"{k}: {e:.4f}" for k, e in errors.items() if k != "t") + tested + ")")


def choose_combination(model: Forecaster, prepared: Prepared, batch_size: int,
                       limit: int = VALIDATION_SAMPLE) -> tuple[Combination, dict]:
    """The combination, chosen on up to `limit` validation windows spread over every series; the network alone
    where there are none. Returns it and the validation error of each member and of the combination."""
    starts = prepared.starts["val"]
    starts = starts[evenly_spaced(len(starts), limit)]
    if not len(starts):
        return Combination(), {}
    dataset = prepared.spec.dataset(prepared.panel, starts)
    _, y, _ = dataset.__getitems__(np.arange(len(starts)))
    q = predict_scaled(model, dataset, batch_size)
    series = prepared.panel.series_of(starts)
    # windows whose origins lie within one horizon of each other share targets: one group, for the test
    block = (starts - prepared.panel.offsets[series]) // prepared.spec.horizon
    groups = series.astype(np.int64) * (int(block.max()) + 1) + block
    names = members.names()
    mase = mase_units(prepared)[series][:, None]
    return network_combination.choose(q[:, :, model.config.median_index] * mase,
                                      statistical_scaled(prepared, starts, names) * mase[:, :, None],
                                      names, y.numpy() * mase, groups)


def mase_units(prepared: Prepared) -> np.ndarray:
    """(S,) per panel series: the factor that takes an error in its scaled units (its training part's standard
    deviation) to MASE's (its training part's mean absolute change over a season, `scale_of`), so that the
    combination is chosen by the measure its accuracy is reported in, as the short series' forecast is."""
    panel, m = prepared.panel, prepared.spec.freq.season_length
    std = prepared.spec.scaler.scale[prepared.spec.scaler.rows_for(panel.ids), 0]
    change = np.array([scale_of(panel.raw_target[a:a + n], m)
                       for a, n in zip(panel.offsets[:-1], prepared.split_val_start)])
    return std / change


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
    """The short series' forecast chosen on validation cases, one bucket per range of history lengths
    (`length_edges`; the old rule where a range has no cases), and each candidate's error per range. Errors are
    scaled as MASE scales them (by each series' mean absolute seasonal change), so that the choice is the one the
    accuracy measure prefers (a one-step scale on cut histories once ranked Theta above seasonal naive on a monthly
    panel where MASE ranks them the other way)."""
    spec, m = prepared.spec, prepared.spec.freq.season_length
    edges = length_edges(m, spec.context)
    short = sorted((len(h) for h in prepared.histories if len(h) < spec.context), reverse=True)
    buckets, errors, names = [], {}, members.names()
    for lo, hi in zip(edges, (*edges[1:], spec.context)):
        histories, actual, whole = validation_cases(prepared.histories, spec.horizon, _lengths(short, lo, hi))
        if len(histories) == 0:
            buckets.append(Bucket(lo))
            continue
        forecasts = np.stack([members.forecasts(h, spec.horizon, m, names) for h in histories])
        bucket, found = short_series.choose(forecasts, names, actual, np.array([scale_of(h, m) for h in whole]),
                                            quantiles, np.array([scale_of(h, m) for h in histories]), lo)
        buckets.append(bucket)
        errors.update({f"{lo}_{k}": v for k, v in found.items()})
        log.info(f"series under the model's context, of {lo}-{hi - 1} points: {Fallback((bucket,)).method(lo, m > 1)} ("
                 + ", ".join(f"{name} {w:g}" for name, w in bucket.weights.items() if w)
                 + f"; validation error on {len(histories)} series, scaled: "
                 + ", ".join(f"{k} {v:.3f}" for k, v in found.items()) + ")")
    return Fallback(tuple(buckets)), errors
