"""DataConfig: how a table is read, regularised, split and windowed. The single source of these defaults."""
from dataclasses import dataclass, field

from forecast.data.errors import DataError

FILLS = ("interpolate", "ffill", "zero", "error")
TIME_UNITS = ("s", "ms", "us", "ns")


@dataclass(frozen=True)
class DataConfig:
    id_col: str | None = field(default=None, metadata={
        "help": "Series id column, or several comma-separated (Animal,State: a series per combination, kept apart in "
                "the output) (auto: series_id|unique_id|id|item_id; none = one series)."})
    time_col: str | None = field(default=None, metadata={
        "help": "Time column (auto: timestamp|ds|date|time|month|quarter|week). Datetimes, periods such as 1939 Jan, "
                "2005 Q1, 1991 W06, or integers."})
    target: str | None = field(default=None, metadata={
        "help": "Target column (auto: value|y|target, or the only numeric column)."})
    covariates: tuple[str, ...] | None = field(default=None, metadata={
        "help": "Comma-separated past-observed covariates (default: every other numeric column)."})
    known_covariates: tuple[str, ...] = field(default=(), metadata={
        "help": "Comma-separated covariates known for the future (given in future rows at predict time)."})
    dayfirst: bool | None = field(default=None, metadata={
        "help": "Dates such as 02/01/2021 are day first (--dayfirst: 2 January) or month first (--no-dayfirst: 1 "
                "February); needed only where every date reads both ways."})
    time_unit: str | None = field(default=None, metadata={
        "help": "The time column holds epoch numbers (since 1970-01-01 UTC) in this unit: s|ms|us|ns; read as dates "
                "(default: numbers are an integer index)."})
    fill: str = field(default="interpolate", metadata={
        "help": "How to fill inserted/missing timestamps: interpolate|ffill|zero|error."})
    holidays: str | None = field(default=None, metadata={
        "help": "Public holidays of a country or region (AU, AU-VIC, US-CA: codes of the `holidays` package) as "
                "known-future inputs: a holiday flag and flags for the days before and after one, computed from "
                "the dates (dated data only)."})
    seq_len: int = field(default=20, metadata={"help": "Input window length (timesteps)."})
    horizon: int | None = field(default=None, metadata={
        "help": "Forecast horizon (default from the frequency: 24 hourly, 48 half-hourly, 7 daily, 12 monthly, ...)."})
    val_fraction: float = field(default=0.1, metadata={
        "help": "Share of each series (at least one horizon) held out for validation, before the test part."})
    test_windows: int = field(default=1, metadata={
        "help": "Test forecast origins per series, one horizon apart at the end of each series."})
    season_length: int | None = field(default=None, metadata={
        "help": "Rows per season (12 monthly, 4 quarterly, 24 hourly, ...; 1 = none), statsforecast's name: drives the "
                "seasonal lag channel, seasonal MASE and fallbacks (default: from the frequency; integer time: found "
                "in the autocorrelation)."})
    seasonal_lag: bool = field(default=True, metadata={
        "help": "Add the target one season earlier as an input channel, known over the horizon too (the seasonal-naive "
                "forecast): a window shorter than a season still sees the same hour yesterday. Over a horizon longer "
                "than the season it repeats the last season."})

    @property
    def id_parts(self) -> tuple[str, ...]:
        """The id columns of --id-col A,B; () for one id column or none."""
        if not self.id_col or "," not in self.id_col:
            return ()
        return tuple(p.strip() for p in self.id_col.split(",") if p.strip())

    @property
    def text_columns(self) -> tuple[str, ...]:
        """Columns to read as text whatever they look like: a named series id ("007" is not 7)."""
        return (self.id_col, *self.id_parts) if self.id_col else ()

    def __post_init__(self):
        if self.time_unit is not None and self.time_unit not in TIME_UNITS:
            raise DataError(f"--time-unit must be one of {', '.join(TIME_UNITS)}, got {self.time_unit!r}")
        if self.fill not in FILLS:
            raise DataError(f"--fill must be one of {', '.join(FILLS)}, got {self.fill!r}")
        if self.seq_len < 1:
            raise DataError(f"--seq-len must be a positive integer, got {self.seq_len}")
        if self.horizon is not None and self.horizon < 1:
            raise DataError(f"--horizon must be a positive integer, got {self.horizon}")
        if self.season_length is not None and self.season_length < 1:
            raise DataError(f"--season-length must be a positive integer, got {self.season_length}")
        if not 0.0 < self.val_fraction < 0.5:
            raise DataError(f"--val-fraction must be in (0, 0.5), got {self.val_fraction}")
        if self.test_windows < 1:
            raise DataError(f"--test-windows must be a positive integer, got {self.test_windows}")
        if self.covariates is not None and set(self.covariates) & set(self.known_covariates):
            both = sorted(set(self.covariates) & set(self.known_covariates))
            raise DataError(f"column(s) {', '.join(both)} given both as --covariates and --known-covariates")
