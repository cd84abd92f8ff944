"""Left-padding: a series shorter than the network's input window is forecast by the network all the same, its
missing early rows given as unobserved (NaN) rather than invented.

The padded rows sit on the series' own grid before its first row, every value NaN. `build_panel` keeps them NaN
(the observed-value mask), and the network (models/forecaster.py: `normalise`) takes each window's scale from its
observed rows alone and then reads an unobserved row as zeros, which no observed row is: the mask without an extra
input column, so the shipped checkpoints keep their shape. Training pads the series too short for a training
window (they had none before), prediction pads those shorter than the input window (they went to the statistical
fallback, models/short_series.py).

A series is padded only from `padded_from(lag)` observed rows: enough for a window's spread, and with the seasonal
lag channel more than a season, so that the lag of every horizon step and of the last input row is observed. Below
that, and where a season is longer than the input window (the context is then a season: padding would hide the lag
channel), the fallback forecasts as before.
"""
import numpy as np
import pandas as pd

from forecast.data.frequency import Frequency, fixed_step
from forecast.data.schema import ID, TIME, run_starts

MIN_OBSERVED = 4   # observed rows a padded window needs at least: a spread to scale by, a change to read


def padded_from(seq_len: int, lag: int) -> int:
    """The fewest observed rows from which a series is padded for the network; 0 (never) where the context is
    longer than the input window (a season of `lag` rows longer than `seq_len`)."""
    return 0 if lag > seq_len else max(MIN_OBSERVED, lag + 1)


def earlier(freq: Frequency, first: object, periods: int) -> np.ndarray:
    """The `periods` grid points before `first`, oldest first."""
    k = np.arange(periods, 0, -1)
    if freq.kind == "int":
        return int(first) - freq.step * k
    step = fixed_step(freq.step)
    if step is not None:
        return np.datetime64(pd.Timestamp(first), "ns") - k * step.to_timedelta64()
    return pd.date_range(end=first, periods=periods + 1, freq=freq.step)[:-1].to_numpy()


def pad_left(regular: pd.DataFrame, freq: Frequency, rows: int, pad: np.ndarray) -> pd.DataFrame:
    """The regular frame (sorted by series, then time) with each series for which `pad` (a boolean per series, in
    the frame's order) is set, and that has fewer than `rows` rows, preceded by NaN rows up to `rows`."""
    ids = regular[ID].to_numpy()
    starts = run_starts(ids)
    lengths = np.diff(np.r_[starts, len(ids)])
    todo = np.flatnonzero(pad & (lengths < rows))
    if not len(todo):
        return regular
    times = regular[TIME].to_numpy()
    blocks = [pd.DataFrame({ID: ids[starts[i]], TIME: earlier(freq, times[starts[i]], rows - lengths[i])})
              for i in todo]
    padding = pd.concat(blocks, ignore_index=True).reindex(columns=regular.columns)
    padding[TIME] = padding[TIME].astype(regular[TIME].dtype)
    out = pd.concat([padding, regular], ignore_index=True)
    series_order = pd.Index(ids[starts])
    position = series_order.get_indexer(out[ID].to_numpy())
    return out.iloc[np.lexsort((out[TIME].to_numpy(), position))].reset_index(drop=True)
