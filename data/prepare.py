"""From a raw table to model inputs: the one path that training and prediction share.

    raw table --detect/canonical--> canonical frame --regularise--> regular frame
              --scale + calendar--> Panel (one contiguous array) --window_starts--> train/val/test windows

`DataSpec` records every decision (columns, frequency, horizon, scalers, feature order) so prediction
turns new rows into inputs exactly as training did; it is saved with the model as JSON.
"""
import logging
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from forecast.data.calendar import calendar_features, calendar_names
from forecast.data.config import DataConfig
from forecast.data.errors import DataError, some
from forecast.data.frequency import Frequency, check_one_frequency, infer_frequency, regularise
from forecast.data.holidays import NAMES as HOLIDAY_NAMES
from forecast.data.holidays import check as check_holidays
from forecast.data.holidays import holiday_features
from forecast.data.scaling import SeriesScaler
from forecast.data.schema import ID, TARGET, TIME, Schema, canonical, detect, history_rows, run_starts, split_ids
from forecast.data.season import detect_season
from forecast.data.windows import Panel, WindowDataset, first_origin, hold_out_series, split_points, window_starts

log = logging.getLogger("forecast")


@dataclass(frozen=True)
class DataSpec:
    schema: Schema
    freq: Frequency
    seq_len: int
    horizon: int
    fill: str
    scaler: SeriesScaler
    lag: int = 0   # the seasonal lag channel: the target this many rows earlier (0 = none)
    nonnegative: bool = False  # the target was never negative in training: forecasts are kept >= 0 too
    trained_until: str | None = None  # the last time in the training file (None: a model from before it was kept)
    # the last time its weights and combination saw: the training file less its held-out test part (the latest of
    # the series that have one); None: a model from before it was kept
    seen_until: str | None = None
    holidays: str | None = None   # the holiday calendar whose flags are known-future inputs (data/holidays.py)

    def bound(self, forecasts: np.ndarray) -> np.ndarray:
        """Forecasts in the target's units, kept within what training saw (never below 0 for a count, a load)."""
        return np.maximum(forecasts, 0.0) if self.nonnegative else forecasts

    @property
    def scaled_columns(self) -> list[str]:
        return [TARGET, *self.schema.covariates, *self.schema.known_covariates]

    @property
    def feature_names(self) -> list[str]:
        """Panel columns in order: target, past covariates, then the known ones (known covariates, the
        seasonal lag, calendar features)."""
        s = self.schema
        return [s.target, *s.covariates, *s.known_covariates, *([self.lag_name] if self.lag else []),
                *calendar_names(self.freq.calendar), *(HOLIDAY_NAMES if self.holidays else ())]

    @property
    def text_columns(self) -> tuple[str, ...]:
        """Columns a request is read with as text: the series id ("007" is not 7)."""
        return self.schema.id_columns

    @property
    def lag_name(self) -> str:
        return f"{self.schema.target}_lag{self.lag}"

    @property
    def lag_feature(self) -> int:
        """Column of the seasonal lag channel in the panel, or -1."""
        return 1 + len(self.schema.covariates) + len(self.schema.known_covariates) if self.lag else -1

    @property
    def context(self) -> int:
        """History rows a forecast needs: the input window and, with the lag channel, at least one season."""
        return first_origin(self.seq_len, self.lag)

    def dataset(self, panel: Panel, starts: np.ndarray) -> WindowDataset:
        """The windows starting at `starts`, the seasonal lag channel repeating the last season over the horizon."""
        return WindowDataset(panel.values, starts, self.seq_len, self.horizon, panel.n_known, self.lag_feature,
                             self.lag)

    @property
    def n_known(self) -> int:
        return (len(self.schema.known_covariates) + (1 if self.lag else 0) + 2 * len(self.freq.calendar)
                + (len(HOLIDAY_NAMES) if self.holidays else 0))

    def to_dict(self) -> dict:
        return {"schema": asdict(self.schema), "freq": asdict(self.freq), "seq_len": self.seq_len,
                "horizon": self.horizon, "fill": self.fill, "scaler": self.scaler.to_dict(), "lag": self.lag,
                "nonnegative": self.nonnegative, "trained_until": self.trained_until,
                "seen_until": self.seen_until, "holidays": self.holidays}

    @classmethod
    def from_dict(cls, d: dict) -> "DataSpec":
        schema = {k: tuple(v) if isinstance(v, list) else v for k, v in d["schema"].items()}
        freq = {k: tuple(v) if isinstance(v, list) else v for k, v in d["freq"].items()}
        return cls(Schema(**schema), Frequency(**freq), d["seq_len"], d["horizon"], d["fill"],
                   SeriesScaler.from_dict(d["scaler"]), d.get("lag", 0), d.get("nonnegative", False),
                   d.get("trained_until"), d.get("seen_until"), d.get("holidays"))


@dataclass(frozen=True)
class DataReport:
    """What the data path found and did: printed after training, logged as `data_report.json`."""
    series: int
    series_skipped: list            # ids too short for a training window (still forecast)
    rows: int                       # rows read
    rows_regular: int               # rows on the regular grid, gaps filled
    frequency: str
    season_length: int
    season_source: str              # frequency | autocorrelation | given
    series_without_test: int
    series_without_validation: int
    validation: str                 # by time | by series (N held out) | none
    seq_len: int
    seasonal_lag: int
    horizon: int
    horizon_source: str             # frequency | given
    target: str
    id_col: str | None
    time_col: str
    covariates: list[str]
    known_covariates: list[str]
    calendar_features: list[str]
    ignored_columns: list[str]
    inserted_timestamps: int
    filled_values: int
    fill: str
    windows: dict[str, int]         # train | val | test -> windows
    warnings: list[str]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Prepared:
    spec: DataSpec
    panel: Panel
    starts: dict[str, np.ndarray]  # "train" | "val" | "test" -> window start rows
    split_val_start: np.ndarray    # (S,) relative row where each series' validation part starts
    example: pd.DataFrame          # the last spec.context raw rows of one series: a valid prediction request
    report: DataReport
    histories: list = field(default_factory=list)  # every series' training-part target, short series included


def build_panel(regular: pd.DataFrame, spec: DataSpec, scaler: SeriesScaler) -> Panel:
    """Regular canonical frame (sorted by series, time; gaps filled) -> Panel of scaled features."""
    ids, first_rows = np.unique(regular[ID].to_numpy(), return_index=True)
    order = np.argsort(first_rows)
    ids, first_rows = ids[order], first_rows[order]
    offsets = np.append(first_rows, len(regular)).astype(np.int64)
    rows = np.repeat(scaler.rows_for(ids), np.diff(offsets))   # looked up once a series, not once a row
    columns = np.column_stack([regular[c].to_numpy(np.float64) for c in spec.scaled_columns])  # (n, C)
    scaled = scaler.transform(columns, rows)
    parts = [scaled]
    if spec.lag:
        parts.append(seasonal_lag(scaled[:, 0], offsets, spec.lag)[:, None])
    if spec.freq.calendar:
        parts.append(calendar_features(regular[TIME], spec.freq.calendar))
    if spec.holidays:
        parts.append(holiday_features(regular[TIME], spec.holidays))
    values = np.nan_to_num(np.concatenate(parts, axis=1).astype(np.float32))
    return Panel(ids, offsets, regular[TIME].to_numpy(), values, regular[TARGET].to_numpy(np.float64), spec.n_known)


def seasonal_lag(target: np.ndarray, offsets: np.ndarray, lag: int) -> np.ndarray:
    """The target `lag` rows earlier within each series; a series' first `lag` rows, which have no season
    before them, get their own value (a seasonal change of zero). Only input rows can be among those: no window
    forecasts a row before `first_origin`."""
    out = target.astype(np.float64, copy=True)
    position = np.arange(len(target)) - np.repeat(offsets[:-1], np.diff(offsets))
    rows = np.flatnonzero(position >= lag)
    out[rows] = target[rows - lag]
    return out


def _season(config: DataConfig, freq: Frequency, regular: pd.DataFrame) -> tuple[Frequency, str]:
    """The season: given, else the frequency's, else (integer time) the autocorrelation's; and where it came from."""
    if config.season_length is not None:
        return replace(freq, season_length=config.season_length), "given"
    if freq.kind != "int":
        return freq, "frequency"
    found = detect_season(regular)
    tests = ", ".join(f"{m}: {found.passing[m]:.0%} pass, p {found.p_values[m]:.1g}" for m in found.scores)
    if found.season == 1:
        log.warning("integer time and no season found (lag: share of series whose autocorrelation passes the 5 % "
                    f"white-noise bound, the panel test's p-value: {tests}): forecasting without one; give "
                    "--season-length N if the data has one (12 monthly, 4 quarterly, 7 daily, 24 hourly)")
        return freq, "none"
    m = found.season
    log.info(f"integer time: season {m} found by a test on the autocorrelation of the differences: "
             f"{found.passing[m]:.0%} of {found.series} series pass the 5 % white-noise bound on their own, "
             f"against 2.5 % by chance (p {found.p_values[m]:.1g}; lag {2 * m} confirms it where the series are "
             "long enough); --season-length N sets another (1 = none)")
    return replace(freq, season_length=found.season), "autocorrelation"


def _lag(config: DataConfig, freq: Frequency) -> int:
    """The seasonal lag channel: one season, unless it is off or there is no season. Over a horizon longer than
    the season it repeats the last observed season, as the seasonal-naive forecast does."""
    m = freq.season_length
    return m if config.seasonal_lag and m > 1 else 0


def _leaks(train: pd.DataFrame, column: str, following: np.ndarray) -> float | None:
    """The correlation of a covariate with the target's next value (`following`), where that is near 1 and above
    its correlation with the target itself: a column holding the future (the next value, shifted by an export)."""
    x, now = train[column].to_numpy(np.float64), train[TARGET].to_numpy(np.float64)
    ok = np.isfinite(x) & np.isfinite(following) & np.isfinite(now)
    if ok.sum() < 3 or np.std(x[ok]) == 0 or np.std(following[ok]) == 0 or np.std(now[ok]) == 0:
        return None
    ahead, same = np.corrcoef(x[ok], following[ok])[0, 1], np.corrcoef(x[ok], now[ok])[0, 1]
    return float(ahead) if ahead > 0.99 and ahead > same + 0.005 else None


def _covariate_warnings(train: pd.DataFrame, raw: pd.DataFrame, columns: list[str]) -> list[str]:
    """Covariates that will give a dead gradient column (docs/gradient_health.md), carry little information, or hold
    the target's next value (leakage: the test score would be far better than any real forecast)."""
    warnings = []
    following = train.groupby(ID, sort=False)[TARGET].shift(-1).to_numpy(np.float64) if columns else None
    for c in columns:
        if (ahead := _leaks(train, c, following)) is not None:
            warnings.append(f"covariate {c!r} follows the target's next value (correlation {ahead:.4f} with the "
                            "value one step later, more than with the value of its own row): the future has leaked "
                            "into it; drop it, or shift it so that each row holds only what was known at its time")
        missing = raw[c].isna().mean() if len(raw) else 0.0
        values = train[c]
        if (values.fillna(0.0) == 0.0).all():
            warnings.append(f"covariate {c!r} is all zero in the training part: its projection weights never "
                            "learn (a dead gradient column); drop it or check the export")
        elif (values.groupby(train[ID]).nunique(dropna=True) <= 1).all():
            warnings.append(f"covariate {c!r} is constant within every series in the training part: scaled per "
                            "series it becomes all zero, a dead gradient column; drop it")
        if missing > 0.5:
            warnings.append(f"covariate {c!r} is {missing:.0%} missing in the training part (filled); "
                            "it carries little information")
    return warnings


def _column_warnings(frame: pd.DataFrame, train_part: pd.DataFrame, schema, config: DataConfig) -> list[str]:
    """Covariates that will not learn (`_covariate_warnings`, on the raw training rows) and columns not used."""
    raw_train = frame[frame[ID].isin(train_part[ID].unique())]
    raw_train = raw_train[raw_train[TIME] <= raw_train[ID].map(train_part.groupby(ID)[TIME].max())]
    warnings = _covariate_warnings(train_part, raw_train, [*schema.covariates, *schema.known_covariates])
    if schema.ignored:
        warnings.append(f"column(s) {', '.join(map(repr, schema.ignored))} not used: not numeric (name one in "
                        "--covariates to use it; the error then shows its first non-numeric value)"
                        if config.covariates is None else f"column(s) {', '.join(map(repr, schema.ignored))} not used")
    return warnings


@dataclass(frozen=True)
class _Grid:
    """A file read onto its grid: what training and a zero-shot forecast (`describe`) both start from."""
    schema: Schema
    frame: pd.DataFrame          # canonical history rows
    warnings: list[str]
    freq: Frequency              # with its season
    season_source: str
    value_columns: list[str]
    regular: pd.DataFrame        # on the grid, gaps filled
    gaps: dict
    lag: int


def _grid(raw: pd.DataFrame, config: DataConfig) -> _Grid:
    """Columns, history rows, frequency, the regular grid, the season and the seasonal lag channel."""
    schema = detect(raw, config)
    frame, warnings = _without_future_rows(canonical(raw, schema))
    freq = infer_frequency(frame, schema.time_kind)
    check_one_frequency(frame, freq)
    value_columns = [TARGET, *schema.covariates, *schema.known_covariates]
    regular, gaps = regularise(frame, freq, value_columns, config.fill)
    freq, season_source = _season(config, freq, regular)
    lag = _lag(config, freq)
    _no_generated_names(schema, lag, freq, config.holidays)
    return _Grid(schema, frame, warnings, freq, season_source, value_columns, regular, gaps, lag)


def prepare_training(raw: pd.DataFrame, config: DataConfig) -> Prepared:
    """Validate, regularise, split by time, fit scalers on the training part and cut windows."""
    g = _grid(raw, config)
    schema, frame, warnings, freq, season_source = g.schema, g.frame, g.warnings, g.freq, g.season_source
    value_columns, regular, gaps, lag = g.value_columns, g.regular, g.gaps, g.lag
    horizon = config.horizon or freq.default_horizon
    first = first_origin(config.seq_len, lag)
    every_series = regular
    regular, short, short_warnings = _drop_short(regular, first + horizon, config.seq_len, lag, horizon)
    warnings += short_warnings

    lengths = regular.groupby(ID, sort=False).size().to_numpy()
    split, validation, split_warnings = _split(lengths, config, horizon, lag)
    warnings += split_warnings
    position = regular.groupby(ID, sort=False).cumcount().to_numpy()
    in_train = position < np.repeat(split.val_start, lengths)
    train_part = regular[in_train]
    scaler = SeriesScaler.fit(train_part, ID, value_columns)
    spec = DataSpec(schema, freq, config.seq_len, horizon, config.fill, scaler, lag,
                    nonnegative=bool((train_part[TARGET] >= 0).all()), trained_until=str(frame[TIME].max()),
                    seen_until=_seen_until(regular, lengths, split), holidays=_holidays(config, freq))

    warnings += _column_warnings(frame, train_part, schema, config)
    for w in warnings:
        log.warning(w)

    panel = build_panel(regular, spec, scaler)
    starts = window_starts(panel, split, config.seq_len, horizon, lag)
    report = DataReport(
        series=int(len(panel.ids)), series_skipped=short, rows=int(len(raw)), rows_regular=int(len(regular)),
        frequency=freq.alias, season_length=freq.season_length, season_source=season_source,
        series_without_test=int((split.test_start == lengths).sum()),
        series_without_validation=int((split.val_start == lengths).sum()), validation=validation,
        seq_len=config.seq_len, seasonal_lag=lag, horizon=horizon,
        horizon_source="given" if config.horizon else "frequency", target=schema.target,
        id_col=",".join(schema.id_columns) or None, time_col=schema.time_col, covariates=list(schema.covariates),
        known_covariates=list(schema.known_covariates), calendar_features=calendar_names(freq.calendar),
        ignored_columns=list(schema.ignored), inserted_timestamps=gaps["inserted_timestamps"],
        filled_values=gaps["filled_values"], fill=config.fill, windows={k: int(len(v)) for k, v in starts.items()},
        warnings=warnings)
    example = _example(schema, frame[frame[ID] == panel.ids[0]], spec.context, horizon)
    histories = _training_histories(every_series, dict(zip(panel.ids, split.val_start)))
    return Prepared(spec, panel, starts, split.val_start, example, report, histories)


def describe(raw: pd.DataFrame, config: DataConfig) -> DataSpec:
    """A file's spec with no training on it (a zero-shot forecast): its columns, frequency, season and lag channel
    as `prepare_training` finds them, and scalers fitted on every series' whole history."""
    g = _grid(raw, config)
    last = str(g.frame[TIME].max())
    return DataSpec(g.schema, g.freq, config.seq_len, config.horizon or g.freq.default_horizon, config.fill,
                    SeriesScaler.fit(g.regular, ID, g.value_columns), g.lag,
                    nonnegative=bool((g.regular[TARGET] >= 0).all()), trained_until=last, seen_until=last,
                    holidays=_holidays(config, g.freq))


def _training_histories(regular: pd.DataFrame, val_start: dict) -> list[np.ndarray]:
    """Each series' target up to where its validation part starts (a short series: all of it), in the order of
    the regular frame: what the short-series forecast (models/short_series.py) is validated on."""
    ids, target = regular[ID].to_numpy(), regular[TARGET].to_numpy(np.float64)
    starts = run_starts(ids)
    ends = np.r_[starts[1:], len(ids)]
    return [target[a:a + val_start.get(ids[a], b - a)] for a, b in zip(starts, ends)]


def _no_generated_names(schema: Schema, lag: int, freq: Frequency, holidays: str | None = None) -> None:
    """A covariate named like an input the model makes itself (`value_lag24`, `cal_hour_sin`) would appear twice
    among the inputs, and the gradient-health diagnoses could not tell which one they name."""
    generated = {*([f"{schema.target}_lag{lag}"] if lag else []), *calendar_names(freq.calendar),
                 *(HOLIDAY_NAMES if holidays else ())}
    clash = [c for c in (*schema.covariates, *schema.known_covariates) if c in generated]
    if clash:
        raise DataError(f"column(s) {', '.join(map(repr, clash))} have the name of an input the model adds itself "
                        "(the seasonal lag channel, a calendar or holiday feature); rename or drop them "
                        "(--no-seasonal-lag turns the lag channel off)")


def _without_future_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The rows after a series' last observed target are future rows, as predict reads the same file: not
    training, validation or test data (they would be filled with guesses and scored against them)."""
    history = history_rows(frame)
    if history.all():
        return frame, []
    future = frame[~history]
    first = future.iloc[0]
    return frame[history].reset_index(drop=True), [
        f"{len(future)} row(s) after the last observed target of {future[ID].nunique()} series (e.g. series "
        f"{first[ID]!r} from {first[TIME]}) have no target: read as future rows, as forecast predict reads them, "
        "and not used in training or the test score"]


def _holidays(config: DataConfig, freq: Frequency) -> str | None:
    """The holiday calendar asked for (--holidays), checked: dated data and a code the `holidays` package knows."""
    if not config.holidays:
        return None
    if freq.kind != "datetime":
        raise DataError(f"--holidays {config.holidays!r} needs dates: the time column holds an integer index")
    return check_holidays(config.holidays)


def _seen_until(regular: pd.DataFrame, lengths: np.ndarray, split) -> str:
    """The last time before the held-out test parts, the latest over the series that have one (the whole file
    where none has): what the weights and the combination saw. A series too short for a test part was seen whole."""
    tested = split.test_start < lengths
    if not tested.any():
        return str(regular[TIME].max())
    last_seen = (np.cumsum(lengths) - lengths + split.test_start - 1)[tested]   # rows
    return str(regular[TIME].iloc[last_seen].max())


def _split(lengths: np.ndarray, config: DataConfig, horizon: int, lag: int):
    """The split by time, by held-out series where no series can spare a validation part; its rule and warnings."""
    first = first_origin(config.seq_len, lag)
    split = split_points(lengths, horizon, config.val_fraction, config.test_windows, first)
    split, held_out = hold_out_series(split, lengths, config.val_fraction, first)
    return split, *_split_rule(split, lengths, held_out, first, horizon, config.seq_len, lag)


def _split_rule(split, lengths: np.ndarray, held_out: int, first: int, horizon: int, seq_len: int,
                lag: int) -> tuple[str, list[str]]:
    """How this panel validates and tests (README's rule), and a warning where it is not the usual split by time."""
    need = f"seq_len {seq_len}{f', a season of {lag}' if lag > seq_len else ''} + horizon {horizon}"
    warnings = []
    if held_out:
        validation = f"by series ({held_out} held out)"
        warnings.append(f"no series is long enough for a validation part after a training window ({need}, then "
                        f"validation): {held_out} of {len(lengths)} series are held out of training and validate")
    elif (split.val_start < lengths).any():
        validation = "by time"
    else:
        validation = "none"
        warnings.append(f"the only series is too short for a validation part ({need}, then validation): "
                        "training runs to its epoch/step cap without early stopping and keeps the final weights")
    if (split.test_start == lengths).all():
        warnings.append(f"no series is long enough for a test part ({need}, validation, then "
                        f"{horizon} test points): the run has no test score; score it later with forecast backtest")
    return validation, warnings


def _drop_short(regular: pd.DataFrame, need: int, seq_len: int, lag: int,
                horizon: int) -> tuple[pd.DataFrame, list, list[str]]:
    """The series long enough for a training window (`need` points); the others' ids and a warning naming them."""
    lengths = regular.groupby(ID, sort=False).size()
    short = lengths.index[lengths < need].tolist()
    warnings = []
    if short:
        warnings.append(f"{len(short)} series shorter than {need} points (seq_len {seq_len}"
                        f"{f', a season of {lag}' if lag > seq_len else ''} + horizon {horizon}) give no "
                        f"training window; they are still forecast: "
                        f"{some(short)}")
        regular = regular[~regular[ID].isin(short)].reset_index(drop=True)
    if regular.empty:
        raise DataError(f"no series is long enough: each needs at least {need} points at seq_len "
                        f"{seq_len} and horizon {horizon}; the longest has {int(lengths.max())}")
    return regular, short, warnings


def _example(schema: Schema, series: pd.DataFrame, context: int, horizon: int) -> pd.DataFrame:
    """A valid prediction request as a user would send it (original columns, ISO timestamps): `context`
    observed rows of one series, then, with known covariates, `horizon` future rows with the target empty."""
    observed = series[series[TARGET].notna()]
    if schema.known_covariates:
        rows = observed.tail(context + horizon).copy()
        rows.loc[rows.index[-horizon:], TARGET] = np.nan
    else:
        rows = observed.tail(context)
    out = pd.DataFrame(index=range(len(rows)))
    if schema.id_col:
        out[schema.id_col] = rows[ID].to_numpy()
    for name, values in split_ids(rows[ID], schema).items():
        out[name] = values.to_numpy()
    times = rows[TIME]
    if schema.time_unit:      # epoch numbers, as the file had them
        out[schema.time_col] = ((times - pd.Timestamp(0)) / pd.Timedelta(1, schema.time_unit)).to_numpy()
    elif schema.time_kind == "datetime":
        out[schema.time_col] = times.dt.strftime("%Y-%m-%dT%H:%M:%S").to_numpy()
    else:
        out[schema.time_col] = times.to_numpy()
    out[schema.target] = rows[TARGET].to_numpy()
    for c in (*schema.covariates, *schema.known_covariates):
        out[c] = rows[c].to_numpy()
    return out
