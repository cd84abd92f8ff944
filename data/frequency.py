"""The time axis: infer a series table's frequency, its season length and default horizon, and
regularise every series onto that grid (insert missing timestamps, fill gaps)."""
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from forecast.data.errors import DataError
from forecast.data.schema import ID, TIME

DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class Frequency:
    """`alias` is a pandas offset alias ("h", "30min", "D", "MS", ...) or, for integer time, the step as text."""
    alias: str
    kind: str              # "datetime" | "int"
    season_length: int     # 1 = no seasonality known (seasonal naive degrades to naive)
    default_horizon: int
    calendar: tuple[str, ...]  # calendar periods this frequency warrants, see data/calendar.py

    @property
    def step(self):
        return int(self.alias) if self.kind == "int" else to_offset(self.alias)

    def grid(self, start, periods: int):
        """`periods` grid points from `start`."""
        if self.kind == "int":
            return start + self.step * np.arange(periods)
        return pd.date_range(start, periods=periods, freq=self.step)

    def following(self, last: np.ndarray, periods: int) -> np.ndarray:
        """(S,) last timestamps -> (S, periods): the next grid points after each."""
        k = np.arange(1, periods + 1)
        if self.kind == "int":
            return np.asarray(last, dtype=np.int64)[:, None] + self.step * k
        step = fixed_step(self.step)
        if step is not None:  # fixed length: vectorised
            return np.asarray(last, dtype="datetime64[ns]")[:, None] + k * step.to_timedelta64()
        return np.stack([pd.date_range(t, periods=periods + 1, freq=self.step)[1:].to_numpy() for t in last])


def fixed_step(offset) -> pd.Timedelta | None:
    """The constant length of a tick or day offset (pandas 3 no longer counts days as ticks); None otherwise."""
    if isinstance(offset, pd.offsets.Tick):
        return pd.Timedelta(offset)
    if isinstance(offset, pd.offsets.Day):
        return pd.Timedelta(days=offset.n)
    return None


def _anchored(times: pd.Series, days: float) -> str | None:
    """Calendar-anchored aliases (month/quarter/year start or end), decided from the timestamps themselves."""
    t = pd.DatetimeIndex(times)
    start, end = bool((t.day == 1).all()), bool(t.is_month_end.all())
    unit = "M" if 27 <= days <= 32 else "Q" if 88 <= days <= 93 else "Y" if 364 <= days <= 367 else None
    if unit is None or not (start or end):
        return None
    return f"{unit}S" if start else f"{unit}E"


def _season_and_horizon(alias: str, kind: str) -> tuple[int, int, tuple[str, ...]]:
    if kind == "int":
        return 1, 10, ()
    offset = to_offset(alias)
    name = offset.name
    if name in ("MS", "ME"):
        return 12, 12, ("month",)
    if name.startswith(("QS", "QE")):
        return 4, 8, ("month",)
    if name.startswith(("YS", "YE")):
        return 1, 6, ()
    step = fixed_step(offset)
    if step is None:
        return 1, 10, ()
    if step >= pd.Timedelta(days=7):
        return 52, 13, ("dayofyear",)
    if step >= DAY:
        return 7, 7, ("dayofweek", "dayofyear")
    per_day = DAY / step
    season = int(per_day) if float(per_day).is_integer() else 1
    return season, max(1, min(season, 96)), ("hour", "dayofweek")


def infer_frequency(frame: pd.DataFrame, kind: str) -> Frequency:
    """The most common positive step between consecutive timestamps of a series (robust to gaps)."""
    steps = frame.groupby(ID, sort=False)[TIME].diff().dropna()
    if steps.empty:
        raise DataError("cannot infer a frequency: every series has a single timestamp")
    mode = steps.mode().iloc[0]
    if kind == "int":
        alias = str(int(mode))
    else:
        days = mode / DAY
        alias = _anchored(frame[TIME], days) or (f"{int(days)}D" if float(days).is_integer()
                                                 else to_offset(pd.Timedelta(mode)).freqstr)
    season, horizon, calendar = _season_and_horizon(alias, kind)
    return Frequency(alias, kind, season, horizon, calendar)


ANCHORED_DAYS = {"M": (27, 32), "Q": (88, 93), "Y": (364, 367)}   # the lengths of a month, quarter, year


def check_one_frequency(frame: pd.DataFrame, freq: Frequency) -> None:
    """Refuse a table whose series step at different frequencies (one hourly, one daily): regularised onto one
    grid, the slower series would be interpolated in between its rows and forecast at the wrong step. Each series'
    most common step must be the table's (for monthly, quarterly or yearly data: a month's, quarter's, year's)."""
    steps = frame.groupby(ID, sort=False)[TIME].diff()
    pairs = pd.DataFrame({ID: frame[ID].to_numpy(), "step": steps.to_numpy()}).dropna()
    if pairs.empty:
        return
    modes = pairs.value_counts([ID, "step"], sort=True).reset_index().drop_duplicates(ID)   # each series' mode
    unit = ANCHORED_DAYS.get(freq.alias[0]) if freq.kind == "datetime" and freq.alias[-1] in "SE" else None
    if unit is not None:
        days = modes["step"] / DAY
        wrong = (days < unit[0]) | (days > unit[1])
    else:
        step = freq.step if freq.kind == "int" else fixed_step(freq.step)
        wrong = modes["step"] != (step if freq.kind == "int" else pd.Timedelta(step))
    if wrong.any():
        bad = modes[wrong.to_numpy()]
        shown = ", ".join(f"{sid!r} every {_step_text(st)}" for sid, st in zip(bad[ID][:3], bad["step"][:3]))
        raise DataError(f"the series step at different frequencies: most every {_step_text(freq)}, but "
                        f"{shown}{' ...' if len(bad) > 3 else ''} ({len(bad)} series, by its most common step): "
                        "give one frequency per file, or resample those series")


def _step_text(step) -> str:
    """A step as a reader says it: '1 hour' style from pandas' Timedelta, the alias of a Frequency, or a number."""
    if isinstance(step, Frequency):
        return repr(step.alias)
    if isinstance(step, pd.Timedelta):
        return repr(to_offset(step).freqstr) if step % DAY else f"{step // DAY} day(s)"
    return str(int(step))


def regularise(frame: pd.DataFrame, freq: Frequency, columns: list[str], fill: str) -> tuple[pd.DataFrame, dict]:
    """Put every series on the grid from its first to its last timestamp and fill `columns` per `fill`.

    Returns the regular frame and counts for the data report: inserted timestamps and filled values.
    """
    if already_regular(frame, freq):  # the common case, decided without building the grid
        regular = frame.reset_index(drop=True)
    else:
        regular = _reindex(frame, freq)
    missing = {c: int(np.isnan(regular[c].to_numpy(np.float64)).sum()) for c in columns}
    report = {"inserted_timestamps": int(len(regular) - len(frame)),
              "filled_values": {c: n for c, n in missing.items() if n}}
    for column in report["filled_values"]:
        regular[column] = fill_gaps(regular, column, fill)
    return regular, report


def already_regular(frame: pd.DataFrame, freq: Frequency) -> bool:
    """True when every series (contiguous, sorted by time) advances by exactly one fixed step per row."""
    step = freq.step if freq.kind == "int" else fixed_step(freq.step)
    if step is None:
        return False
    ids, times = frame[ID].to_numpy(), frame[TIME].to_numpy()
    same = ids[1:] == ids[:-1]
    step = step if freq.kind == "int" else step.to_timedelta64()
    return bool(np.all(np.diff(times)[same] == step))


def _reindex(frame: pd.DataFrame, freq: Frequency) -> pd.DataFrame:
    bounds = frame.groupby(ID, sort=False)[TIME].agg(["first", "last", "size"])
    grids = [freq.grid(first, 1) if first == last else _range(first, last, freq)
             for first, last in zip(bounds["first"], bounds["last"])]
    lengths = np.array([len(g) for g in grids])
    index = pd.MultiIndex.from_arrays([np.repeat(bounds.index.to_numpy(), lengths),
                                       np.concatenate([np.asarray(g) for g in grids])], names=[ID, TIME])
    indexed = frame.set_index([ID, TIME])
    off_grid = ~indexed.index.isin(index)
    if off_grid.any():
        sid, ts = indexed.index[np.flatnonzero(off_grid)[0]]
        calendar = freq.kind == "datetime" and fixed_step(freq.step) is not None and any(
            lo <= fixed_step(freq.step) / DAY <= hi for lo, hi in ANCHORED_DAYS.values())
        hint = ("; monthly, quarterly and yearly data must be dated at period starts (2015-01-01) or ends "
                "(2015-01-31) throughout" if calendar else "; the timestamps are irregular; resample the data first")
        raise DataError(f"series {sid!r}: timestamp {ts} is off the inferred {freq.alias!r} grid "
                        f"({int(off_grid.sum())} such rows){hint}")
    return indexed.reindex(index).reset_index()


def _range(first, last, freq: Frequency):
    if freq.kind == "int":
        return np.arange(first, last + 1, freq.step)
    return pd.date_range(first, last, freq=freq.step)


def fill_gaps(frame: pd.DataFrame, column: str, fill: str) -> pd.Series:
    """Fill missing values of `column` within each series: linear interpolation by position (edges take the
    nearest value), forward fill, zeros, or an error naming the series and first missing timestamp."""
    values = frame[column]
    missing = values.isna()
    if not missing.any():
        return values
    if fill == "error":
        first = np.flatnonzero(missing.to_numpy())[0]
        raise DataError(f"column {column!r} has missing values or missing timestamps, e.g. series "
                        f"{frame[ID].iloc[first]!r} at {frame[TIME].iloc[first]} ({int(missing.sum())} in all); "
                        "choose another --fill")
    if fill == "zero":
        return values.fillna(0.0)
    groups = frame[ID]
    if fill == "ffill":
        return values.groupby(groups).ffill().fillna(values.groupby(groups).bfill())
    # interpolate: the previous and next observed positions of each gap, within the series
    pos = pd.Series(np.arange(len(values), dtype="float64"), index=values.index).where(~missing)
    prev_pos, next_pos = pos.groupby(groups).ffill(), pos.groupby(groups).bfill()
    prev_val, next_val = values.groupby(groups).ffill(), values.groupby(groups).bfill()
    share = (np.arange(len(values)) - prev_pos) / (next_pos - prev_pos)
    interpolated = prev_val + (next_val - prev_val) * share
    return values.fillna(interpolated).fillna(prev_val).fillna(next_val)
