"""Which column is what, and whether the table is usable: detection, validation, canonical form.

The canonical frame has `series_id` (str), `timestamp` (datetime64 or int64), `target` (float64) and the
covariates under their own names (float64), sorted by series then time.
"""
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.data.config import DataConfig
from forecast.data.errors import DataError, cut

ID, TIME, TARGET = "series_id", "timestamp", "target"
ID_NAMES = ("series_id", "unique_id", "id", "item_id")
TIME_NAMES = ("timestamp", "ds", "date", "time", "month", "quarter", "week")  # the last: fpp3/tsibble exports
TARGET_NAMES = ("value", "y", "target")
SINGLE_SERIES = "series_0"  # the id given to a file without an id column
ID_SEPARATOR = "|"          # joins the values of several id columns (--id-col Animal,State) into one id
LARGEST = 1e150  # larger magnitudes overflow once squared (a variance, an RMSE): 1.7e308 is float64's end


@dataclass(frozen=True)
class Schema:
    """The resolved roles of a table's columns (original names) and the kind of its time axis."""
    id_col: str | None
    time_col: str
    target: str
    covariates: tuple[str, ...]        # past-observed
    known_covariates: tuple[str, ...]  # known for the future too
    time_kind: str                     # "datetime" | "int"
    ignored: tuple[str, ...] = ()      # non-numeric columns nobody asked for
    dayfirst: bool | None = None       # how day/month/year dates read: day first, month first; None = no such dates
    time_unit: str | None = None       # numbers in the time column are epoch s|ms|us|ns (read as dates)
    id_parts: tuple[str, ...] = ()     # a series keyed by several columns (--id-col A,B); then id_col is None

    @property
    def id_columns(self) -> tuple[str, ...]:
        """The column(s) that name a series: their values, joined by ID_SEPARATOR, are its id."""
        return self.id_parts or ((self.id_col,) if self.id_col else ())


def _rows(mask: pd.Series | np.ndarray, limit: int = 5) -> str:
    """First offending data rows, 1-based (row 1 = first row under the header)."""
    idx = np.flatnonzero(np.asarray(mask))[:limit] + 1
    return ", ".join(str(i) for i in idx)


def _refuse(mask: np.ndarray, what: str, ids: pd.Series, values=None, then: str = ""):
    """Raise the one-line refusal: `what`, e.g. the first offending value (of `values`, where given), its series
    and the first offending data rows, then `then`."""
    first = np.flatnonzero(np.asarray(mask))[0]
    value = None if values is None else values[first] if isinstance(values, np.ndarray) else values.iloc[first]
    example = "" if values is None else f", e.g. {_plain(value)!r}"
    raise DataError(f"{what}{example} in series {_plain(ids.iloc[first])!r} at data row(s) {_rows(mask)}{then}")


def _find(columns: list[str], wanted: str | None, names: tuple[str, ...], role: str, flag: str) -> str | None:
    if wanted is not None:
        if wanted not in columns:
            raise DataError(f"{flag} {wanted!r}: no such column (columns: {', '.join(columns)})")
        return wanted
    lower = {c.lower(): c for c in columns}
    return next((lower[n] for n in names if n in lower), None)


def detect(frame: pd.DataFrame, config: DataConfig) -> Schema:
    """Resolve the id, time, target and covariate columns from names given or conventional names."""
    columns = [str(c) for c in frame.columns]
    if len(set(columns)) != len(columns):
        dup = sorted({c for c in columns if columns.count(c) > 1})
        raise DataError(f"duplicated column name(s): {', '.join(dup)}")
    id_parts = config.id_parts if config.id_col not in columns else ()
    for name in id_parts:
        if name not in columns:
            raise DataError(f"--id-col {name!r}: no such column (columns: {', '.join(columns)})")
    id_col = None if id_parts else _find(columns, config.id_col, ID_NAMES, "id", "--id-col")
    time_col = _find(columns, config.time_col, TIME_NAMES, "time", "--time-col")
    if time_col is None:
        raise DataError(f"no time column found: name one of {'|'.join(TIME_NAMES)} or pass --time-col "
                        f"(columns: {', '.join(columns)})")
    keys = (*id_parts, id_col, time_col)
    rest = [c for c in columns if c not in keys]
    numeric = [c for c in rest if _is_numeric(frame[c])]
    target = _find(rest, config.target, TARGET_NAMES, "target", "--target")
    if target is None:
        if len(numeric) != 1:
            raise DataError("no target column found: name it value|y|target or pass --target "
                            f"(numeric columns: {', '.join(numeric) or 'none'})")
        target = numeric[0]
    for name in config.known_covariates:
        if name not in columns or name in (*keys, target):
            raise DataError(f"--known-covariates {name!r}: no such covariate column (columns: {', '.join(columns)})")
    if config.covariates is not None:
        for name in config.covariates:
            if name not in columns or name in (*keys, target):
                raise DataError(f"--covariates {name!r}: no such covariate column (columns: {', '.join(columns)})")
        covariates = tuple(config.covariates)
    else:
        covariates = tuple(c for c in numeric if c != target and c not in config.known_covariates)
    used = {*keys, target, *covariates, *config.known_covariates}
    for name in (*covariates, *config.known_covariates):
        if name in (ID, TIME, TARGET):
            raise DataError(f"covariate column {name!r} has a reserved name; rename it")
    if pd.api.types.is_bool_dtype(frame[target]):
        raise DataError(f"target column {target!r} is boolean (True/False): a forecast target must be numeric; "
                        "convert it to 0/1 first if a share of True is what you want to forecast")
    if config.time_unit and not _is_numeric(frame[time_col]):
        raise DataError(f"--time-unit {config.time_unit}: time column {time_col!r} does not hold numbers "
                        f"(e.g. {_plain(frame[time_col].iloc[0])!r}); leave --time-unit out for dates")
    time_kind = "datetime" if config.time_unit else _time_kind(frame[time_col], time_col)
    ignored = tuple(c for c in columns if c not in used)
    dayfirst = (_date_order(frame[time_col], time_col, config.dayfirst)
                if time_kind == "datetime" and not config.time_unit else None)
    return Schema(id_col, time_col, target, covariates, tuple(config.known_covariates), time_kind, ignored, dayfirst,
                  config.time_unit, id_parts)


# a date written day/month/year or month/day/year (not year first): "13/01/2021", "01.13.2021 10:00"
NUMERIC_DATE = r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}(?!\d)"


def _date_order(col: pd.Series, name: str, given: bool | None) -> bool | None:
    """Whether the column's d/m/y-style dates are day first (True) or month first (False): read from the values
    that only one order can read (a first number above 12 is a day), else as given (--dayfirst/--no-dayfirst);
    dates that both orders read, with nothing given, are refused rather than guessed. None: no such dates."""
    if pd.api.types.is_datetime64_any_dtype(col):
        return None
    parts = col.astype(str).str.extract(NUMERIC_DATE)
    has = parts[0].notna().to_numpy()
    if not has.any():
        return None
    first, second = parts[0][has].astype(int).to_numpy(), parts[1][has].astype(int).to_numpy()
    values = col[has].astype(str).to_numpy()
    day, month = first > 12, second > 12
    if day.any() and month.any():
        raise DataError(f"time column {name!r} mixes day-first and month-first dates, e.g. "
                        f"{_plain(values[day][0])!r} and {_plain(values[month][0])!r}; write them one way (ISO 8601: "
                        "2021-01-13)")
    if given is not None:
        wrong = month if given else day
        if wrong.any():
            raise DataError(f"time column {name!r}: {values[wrong][0]!r} cannot be read "
                            f"{'day' if given else 'month'} first, as --{'' if given else 'no-'}dayfirst says")
        return given
    if day.any() or month.any():
        return bool(day.any())
    if (first == second).all():   # 01/01, 02/02, ...: the same date either way
        return None
    raise DataError(f"time column {name!r} has dates such as {values[0]!r} that read day first and month first "
                    "alike: pass --dayfirst (13/01 = 13 January) or --no-dayfirst (01/13 = 13 January)")


def _time_kind(col: pd.Series, name: str) -> str:
    """"int" for an integer index (whole numbers, also when stored as floats), else "datetime"; fractional
    numbers are refused (read as datetimes they would be nanoseconds since 1970)."""
    if pd.api.types.is_integer_dtype(col):
        return "int"
    if pd.api.types.is_float_dtype(col):
        values = col.to_numpy()
        fractional = np.isfinite(values) & (values != np.round(values))
        if fractional.any():
            first = np.flatnonzero(fractional)[0]
            raise DataError(f"time column {name!r} holds fractional numbers, e.g. {_plain(values[first])!r} at data "
                            f"row(s) {_rows(fractional)}: give dates, an integer index, or epoch numbers with "
                            "--time-unit s (or ms, us, ns)")
        return "int"
    return "datetime"


def _is_numeric(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def _numeric(frame: pd.DataFrame, column: str, ids: pd.Series) -> np.ndarray:
    """The column as float64; non-numeric text, infinities and magnitudes past LARGEST refused, naming rows."""
    col = frame[column]
    booleans = _booleans(col)
    if booleans.any():   # a request's true/false: training refuses a boolean target, and so does forecasting
        _refuse(booleans, f"column {column!r} holds booleans (True/False)", ids, col,
                ": send numbers (0/1 if a share of True is meant)")
    if _is_numeric(col):   # already numbers (the common case, and every request's): nothing to coerce
        values = col.to_numpy(np.float64, na_value=np.nan)
    else:
        values = pd.to_numeric(col, errors="coerce").to_numpy(np.float64, na_value=np.nan)
        bad = np.isnan(values) & col.notna().to_numpy()
        if bad.any():
            _refuse(bad, f"column {column!r} has non-numeric values", ids, col)
    infinite = np.isinf(values)
    if infinite.any():
        _refuse(infinite, f"column {column!r} has infinite values", ids)
    huge = np.abs(values) > LARGEST
    if huge.any():
        _refuse(huge, f"column {column!r} has values too large to compute with (above {LARGEST:.0e} in size)",
                ids, values)
    return values


def _booleans(col: pd.Series) -> np.ndarray:
    """Which values are True/False: a boolean column, or booleans among other values (a JSON request's)."""
    if pd.api.types.is_bool_dtype(col):
        return np.ones(len(col), dtype=bool)
    if col.dtype == object:
        return col.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(bool)
    return np.zeros(len(col), dtype=bool)


def _plain(value):
    """A value as a message shows it: a numpy scalar as the Python number it holds (1e+30, not np.float64(1e+30)),
    a long text cut to 100 characters (a 1 MB cell was printed whole)."""
    value = value.item() if isinstance(value, np.generic) else value
    return cut(value) if isinstance(value, str) else value


def _parse_time(col: pd.Series, kind: str, name: str, ids: pd.Series, dayfirst: bool | None = None,
                unit: str | None = None) -> np.ndarray:
    """The time column as int64 (integer time) or datetime64[ns] (naive UTC where offsets were given, except on
    dates at local midnight, which keep their calendar date: `_midnight_dates`)."""
    if kind == "int":
        missing = col.isna().to_numpy()
        if missing.any():
            _refuse(missing, f"time column {name!r} has missing values", ids)
        return col.to_numpy(np.int64)
    if pd.api.types.is_datetime64_any_dtype(col):
        parsed = col
    elif not unit and _is_numeric(col):   # a request's epoch numbers (pandas' to_json writes milliseconds)
        raise DataError(f"time column {name!r} holds numbers (e.g. {_plain(col.iloc[0])!r}), but the model reads "
                        "dates: "
                        "send dates as text (ISO 8601: pandas' to_json(date_format='iso')), or train with --time-unit "
                        "to forecast from epoch numbers")
    elif unit:   # epoch numbers; beyond the representable dates they come back missing: said below
        parsed = pd.to_datetime(pd.to_numeric(col, errors="coerce").where(lambda v: v.abs() < 2 ** 62),
                                unit=unit, errors="coerce")
    elif dayfirst is None:
        parsed = _to_datetime(col)
    else:  # d/m/y dates in their order, the others (ISO, ...) as they are: one order for all would misread ISO
        numeric = col.astype(str).str.extract(NUMERIC_DATE)[0].notna().to_numpy()
        parsed = pd.Series(pd.NaT, index=col.index, dtype="datetime64[ns]")
        for mask, order in ((numeric, dayfirst), (~numeric, False)):
            if mask.any():
                part = _to_datetime(col[mask], order)
                if isinstance(part.dtype, pd.DatetimeTZDtype):
                    part = part.dt.tz_convert("UTC").dt.tz_localize(None)
                parsed[mask] = part.astype("datetime64[ns]")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        dates = _midnight_dates(col)
        parsed = dates if dates is not None else parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    values = parsed.to_numpy()
    bad = np.isnat(values)
    if bad.any():
        _refuse(bad, f"time column {name!r} has unparseable or missing values", ids, col)
    outside = _outside_ns(values)
    if outside.any():
        _refuse(outside, f"time column {name!r} has dates outside {pd.Timestamp.min:%Y-%m-%d} .. "
                f"{pd.Timestamp.max:%Y-%m-%d}, the range this tool can compute with", ids, col)
    return values.astype("datetime64[ns]")


# a date at local midnight with a UTC offset: "2015-01-31T00:00:00+01:00", "2015-01-31 00:00Z"
MIDNIGHT_OFFSET = r"\s*(\d{4}-\d{2}-\d{2})[T ]00:00(?::00(?:\.0+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)\s*"


def _midnight_dates(col: pd.Series) -> pd.Series | None:
    """Dates written as local midnight with an offset are calendar dates (a month end, a day), not instants: kept
    as written, where brought to UTC they would move to the day before (2015-01-30 23:00) and leave the month grid.
    None where any value has another time of day (instants: brought to UTC)."""
    if pd.api.types.is_datetime64_any_dtype(col):
        return None
    dates = col.astype(str).str.fullmatch(MIDNIGHT_OFFSET)
    if not dates.all():
        return None
    return pd.to_datetime(col.astype(str).str.extract(MIDNIGHT_OFFSET)[0], format="%Y-%m-%d")


def _outside_ns(values: np.ndarray) -> np.ndarray:
    """Which datetimes (any unit; pandas parses to seconds or microseconds) nanoseconds cannot hold: compared as
    integers in their own unit, since numpy would compare them in nanoseconds, where they overflow."""
    unit, count = np.datetime_data(values.dtype)
    per = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}.get(unit)
    if per is None:   # days, months, ...: through pandas, which knows every unit
        return ((pd.Series(values) < pd.Timestamp.min) | (pd.Series(values) > pd.Timestamp.max)).to_numpy()
    ticks, per = values.view(np.int64), per * count
    return (ticks < -(-pd.Timestamp.min.value // per)) | (ticks > pd.Timestamp.max.value // per)


# periods as fpp3/tsibble and spreadsheets write them: "1939 Jan", "2005 Q1", "1991 W06" (ISO week), each the
# start of its period
PERIODS = (
    (r"^\d{4} [A-Z][a-z]{2}$", lambda c: pd.to_datetime(c, format="%Y %b", errors="coerce")),
    (r"^\d{4} ?Q[1-4]$",
     lambda c: pd.PeriodIndex(c.str.replace(" ", ""), freq="Q").to_timestamp().to_series(index=c.index)),
    (r"^\d{4} W\d{2}$", lambda c: pd.to_datetime(c + " 1", format="%G W%V %u", errors="coerce")),
)


def _periods(col: pd.Series) -> pd.Series | None:
    """The start of each period where every value is written as one kind of period, else None."""
    first = str(col.iloc[0]).strip() if len(col) else ""
    candidates = [(p, parse) for p, parse in PERIODS if re.fullmatch(p, first)]   # cheap: most columns are dates
    if not candidates:
        return None
    text = col.astype(str).str.strip()
    for pattern, parse in candidates:
        if text.str.fullmatch(pattern).all():
            return parse(text)
    return None


ISO_DATE = r"\d{4}-\d{2}-\d{2}"   # 2024-03-01, 2024-03-01T00:00:00, 2024-03-01 00:00+01:00, ...


def _to_datetime(col: pd.Series, dayfirst: bool = False) -> pd.Series:
    """A period notation (`PERIODS`); else ISO 8601 where the first value is written so (no format to infer:
    a third of a one-series request's parsing); else one inferred format; else mixed UTC offsets (e.g. across a
    DST change) brought to UTC; else any format per value, unparseable values becoming NaT (reported by the
    caller with their rows)."""
    text = col.dtype == object or isinstance(col.dtype, pd.StringDtype)
    if text:
        periods = _periods(col)
        if periods is not None:
            return periods
    iso = text and len(col) and re.match(ISO_DATE, str(col.iloc[0]))   # the format to try first: no inferring
    for options in ({"format": "ISO8601"}, {}, {"utc": True}) if iso else ({}, {"utc": True}):
        try:
            with warnings.catch_warnings():  # "could not infer format": per-value parsing is the intent here
                warnings.simplefilter("ignore", UserWarning)
                return pd.to_datetime(col, dayfirst=dayfirst, **options)
        except (ValueError, TypeError, OverflowError):
            pass
    try:
        return pd.to_datetime(col, errors="coerce", format="mixed", utc=True, dayfirst=dayfirst)
    except (ValueError, TypeError, OverflowError):
        return pd.to_datetime(pd.Series(pd.NaT, index=col.index))


def _ids(frame: pd.DataFrame, schema: Schema) -> pd.Series:
    """Each row's series id: the id column's text, the id columns' values joined by ID_SEPARATOR, or the one
    series' name."""
    if not schema.id_columns:
        return pd.Series(SINGLE_SERIES, index=frame.index)
    parts = []
    for name in schema.id_columns:
        missing = frame[name].isna()
        if missing.any():
            raise DataError(f"id column {name!r} has missing values at data row(s) {_rows(missing)}")
        text = frame[name].astype(str)
        joined = text.str.contains(ID_SEPARATOR, regex=False) if schema.id_parts else np.zeros(len(text), bool)
        if joined.any():
            first = np.flatnonzero(joined.to_numpy())[0]
            raise DataError(f"id column {name!r} has {ID_SEPARATOR!r} in {text.iloc[first]!r} at data row(s) "
                            f"{_rows(joined)}: it joins the id columns, so no value may hold it")
        parts.append(text)
    return parts[0].str.cat(parts[1:], sep=ID_SEPARATOR) if len(parts) > 1 else parts[0]


def split_ids(ids: pd.Series, schema: Schema) -> pd.DataFrame:
    """The id columns of a multi-column key back from the joined ids (empty without one)."""
    if not schema.id_parts:
        return pd.DataFrame(index=ids.index)
    parts = ids.str.split(ID_SEPARATOR, expand=True, regex=False)
    parts.columns = list(schema.id_parts)
    return parts


def run_starts(keys: np.ndarray) -> np.ndarray:
    """Index of the first row of each run of equal keys (each series' first row, in a frame sorted by series)."""
    return np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])


def history_rows(frame: pd.DataFrame) -> np.ndarray:
    """In a canonical frame, the rows up to each series' last observed target; the rows after it (the target
    empty) are future rows, which carry known covariates at prediction time and are never history or test data."""
    starts = run_starts(frame[ID].to_numpy())
    position = np.arange(len(frame))
    observed = np.where(frame[TARGET].notna().to_numpy(), position, -1)
    last_observed = np.maximum.reduceat(observed, starts)                  # per series
    return position <= np.repeat(last_observed, np.diff(np.r_[starts, len(frame)]))


def canonical(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Validated canonical frame (see module docstring). Errors name the column, series and data rows.

    Missing targets are allowed (gaps are filled later; at prediction time, rows after a series' last
    observed target carry known covariates for the future), but every series needs an observed target.
    """
    frame = frame.reset_index(drop=True)
    ids = _ids(frame, schema)
    columns = {ID: ids.array, TIME: _parse_time(frame[schema.time_col], schema.time_kind, schema.time_col, ids,
                                                schema.dayfirst, schema.time_unit),
               TARGET: _numeric(frame, schema.target, ids)}
    columns.update({name: _numeric(frame, name, ids) for name in (*schema.covariates, *schema.known_covariates)})
    # sorted by (series, time) with array code, and built in one constructor: this runs on every prediction request
    codes, order = _series_time_order(columns[ID], columns[TIME])
    if order is not None:
        columns = {name: values.take(order) for name, values in columns.items()}
    times = columns[TIME]
    pairs = np.flatnonzero((codes[1:] == codes[:-1]) & (times[1:] == times[:-1]))
    if len(pairs):
        rows = np.arange(len(codes)) if order is None else order  # the data row at each sorted position
        dup = np.zeros(len(codes), dtype=bool)
        dup[rows[pairs]] = dup[rows[pairs + 1]] = True
        first = np.flatnonzero(dup)[0]
        when = times[np.flatnonzero(rows == first)[0]]
        raise DataError(f"duplicated (series, time) pairs: series {ids.iloc[first]!r} at "
                        f"{pd.Timestamp(when) if schema.time_kind == 'datetime' else when} (data rows {_rows(dup)})")
    starts = run_starts(codes)
    observed = np.logical_or.reduceat(~np.isnan(columns[TARGET]), starts) if len(codes) else np.ones(0, bool)
    if not observed.all():
        empty = columns[ID][starts[~observed]].tolist()
        raise DataError(f"target column {schema.target!r} is all missing in series {', '.join(map(repr, empty[:5]))}")
    return pd.DataFrame(columns)


def _series_time_order(ids, times: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Each row's series number (0, 1, ... in sorted id order) after sorting by series id, then time (stable),
    and the order that sorts; None where the rows already are sorted (the common case: no copy)."""
    codes, uniques = pd.factorize(ids)             # numbered in order of appearance: a hash, no string sorting
    rank = np.argsort(uniques.argsort())
    if (rank == np.arange(len(uniques))).all():    # appearance order is sorted order
        same, steps = codes[1:] == codes[:-1], np.diff(codes)
        if np.all((steps > 0) | (same & (times[1:] >= times[:-1]))):
            return codes, None
    codes = rank[codes]
    order = np.lexsort((times, codes))
    return codes[order], order
