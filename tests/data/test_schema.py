import numpy as np
import pandas as pd
import pytest

from forecast.data.config import DataConfig
from forecast.data.errors import DataError
from forecast.data.schema import ID, SINGLE_SERIES, TARGET, TIME, canonical, detect


def _canonical(raw, **config):
    schema = detect(raw, DataConfig(**config))
    return schema, canonical(raw, schema)


@pytest.mark.parametrize("names", [("series_id", "timestamp", "value"), ("unique_id", "ds", "y"),
                                   ("item_id", "date", "target"), ("ID", "Time", "Value")])
def test_conventional_names_are_detected(names):
    raw = pd.DataFrame({names[0]: ["a", "a"], names[1]: ["2024-01-01", "2024-01-02"], names[2]: [1.0, 2.0],
                        "price": [3.0, 4.0], "note": ["x", "y"]})
    schema, frame = _canonical(raw)
    assert (schema.id_col, schema.time_col, schema.target) == names
    assert schema.covariates == ("price",) and schema.ignored == ("note",)
    assert list(frame.columns) == [ID, TIME, TARGET, "price"]
    assert pd.api.types.is_datetime64_any_dtype(frame[TIME])


def test_single_series_with_integer_time_and_only_numeric_column():
    raw = pd.DataFrame({"t": [3, 1, 2], "load": [1.0, 2.0, 3.0]})
    schema, frame = _canonical(raw, time_col="t")
    assert schema.id_col is None and schema.target == "load" and schema.time_kind == "int"
    assert frame[ID].unique().tolist() == [SINGLE_SERIES]
    assert frame[TIME].tolist() == [1, 2, 3]  # sorted by time


def test_named_covariates_and_known_covariates():
    raw = pd.DataFrame({"ds": ["2024-01-01"], "y": [1.0], "a": [1.0], "b": [2.0], "promo": [0.0]})
    schema, _ = _canonical(raw, covariates=("a",), known_covariates=("promo",))
    assert schema.covariates == ("a",) and schema.known_covariates == ("promo",) and schema.ignored == ("b",)


@pytest.mark.parametrize("config, message", [
    ({"target": "sales"}, "--target 'sales': no such column"),
    ({"id_col": "store"}, "--id-col 'store': no such column"),
    ({"covariates": ("nope",)}, "--covariates 'nope': no such covariate column"),
    ({"known_covariates": ("nope",)}, "--known-covariates 'nope'"),
])
def test_unknown_column_names_the_option_and_column(config, message):
    raw = pd.DataFrame({"series_id": ["a"], "timestamp": ["2024-01-01"], "value": [1.0]})
    with pytest.raises(DataError, match=message):
        _canonical(raw, **config)


def test_duplicated_pairs_name_the_series_and_rows():
    raw = pd.DataFrame({"series_id": ["a", "b", "b"], "timestamp": ["2024-01-01", "2024-01-01", "2024-01-01"],
                        "value": [1.0, 2.0, 3.0]})
    with pytest.raises(DataError, match=r"duplicated .* series 'b' at 2024-01-01 .*\(data rows 2, 3\)"):
        _canonical(raw)


def test_non_numeric_target_names_column_series_and_row():
    raw = pd.DataFrame({"series_id": ["a", "a", "b"], "timestamp": ["2024-01-01", "2024-01-02", "2024-01-01"],
                        "value": ["1.0", "2.0", "n/a?"]})
    with pytest.raises(DataError, match=r"column 'value' has non-numeric values, e.g. 'n/a\?' in series 'b' "
                                        r"at data row\(s\) 3"):
        _canonical(raw)


def test_all_missing_target_names_the_series():
    raw = pd.DataFrame({"series_id": ["a", "b"], "timestamp": ["2024-01-01", "2024-01-01"], "value": [1.0, np.nan]})
    with pytest.raises(DataError, match="all missing in series 'b'"):
        _canonical(raw)


def test_no_time_column_and_ambiguous_target_are_explained():
    with pytest.raises(DataError, match="no time column found"):
        _canonical(pd.DataFrame({"a": [1.0], "b": [2.0]}))
    with pytest.raises(DataError, match="no target column found.*numeric columns: a, b"):
        _canonical(pd.DataFrame({"ds": ["2024-01-01"], "a": [1.0], "b": [2.0]}))


def test_unparseable_time_names_the_row():
    raw = pd.DataFrame({"ds": ["2024-01-01", "soon", "2024-01-03"], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(DataError, match=r"time column 'ds' has unparseable .* 'soon' .* data row\(s\) 2"):
        _canonical(raw)


@pytest.mark.parametrize("layout", ["day first", "half ISO, half day first", "month first"])
def test_day_month_order_is_read_from_the_dates_that_allow_one_order(layout):
    """60 daily dates written 13/01/2021-style were read month first where they could be (276 days inserted)."""
    days = pd.date_range("2021-01-01", periods=60, freq="D")
    written = {"day first": days.strftime("%d/%m/%Y"), "month first": days.strftime("%m/%d/%Y"),
               "half ISO, half day first": [t.strftime("%Y-%m-%d" if i % 2 else "%d/%m/%Y")
                                            for i, t in enumerate(days)]}
    frame = pd.DataFrame({"date": written[layout], "value": np.arange(60.0)})
    schema = detect(frame, DataConfig())
    assert schema.dayfirst is (layout != "month first")
    assert (canonical(frame, schema)["timestamp"].to_numpy() == days.to_numpy()).all()


@pytest.mark.parametrize("written, first, alias", [
    (["1939 Jan", "1939 Feb", "1939 Mar", "1939 Apr"], "1939-01-01", "MS"),
    (["2005 Q1", "2005 Q2", "2005 Q3", "2005 Q4"], "2005-01-01", "QS"),
    (["1991 W06", "1991 W07", "1991 W08", "1991 W09"], "1991-02-04", "7D"),
])
def test_periods_as_fpp3_and_spreadsheets_write_them_are_read(written, first, alias):
    from forecast.data.frequency import infer_frequency

    frame = pd.DataFrame({"Month": written, "Count": [3.0, 4.0, 5.0, 6.0]})
    schema = detect(frame, DataConfig())
    assert schema.time_col == "Month" and schema.target == "Count"
    out = canonical(frame, schema)
    assert out[TIME].iloc[0] == pd.Timestamp(first) and infer_frequency(out, "datetime").alias == alias


@pytest.mark.parametrize("unit, scale, offset", [("s", 1, 0.0), ("s", 1, 0.5), ("ms", 1000, 0.0)])
def test_epoch_numbers_read_as_dates_when_the_unit_is_given(unit, scale, offset):
    """Epoch numbers (ints, or floats with fractions of a second) with --time-unit are dates: an hourly
    series, a calendar, and the same reading at predict time (the unit is saved in the schema)."""
    from forecast.data.prepare import prepare_training

    epoch = (1.7e9 + 3600.0 * np.arange(200) + offset) * scale
    frame = pd.DataFrame({"timestamp": epoch if offset else epoch.astype(np.int64),
                          "value": np.sin(np.arange(200) / 4)})
    prepared = prepare_training(frame, DataConfig(seq_len=10, horizon=6, time_unit=unit))
    assert prepared.spec.freq.kind == "datetime" and prepared.spec.freq.alias == "h"
    assert prepared.spec.schema.time_unit == unit and "cal_hour_sin" in prepared.spec.feature_names
    rows = canonical(frame, prepared.spec.schema)
    assert rows[TIME].iloc[0] == pd.Timestamp(1.7e9 + offset, unit="s")


def test_a_time_unit_for_dates_or_an_unknown_unit_is_one_line():
    frame = pd.DataFrame({"timestamp": pd.date_range("2024-01-01", periods=50, freq="h").astype(str),
                          "value": np.arange(50.0)})
    with pytest.raises(DataError, match="--time-unit s: time column 'timestamp' does not hold numbers"):
        detect(frame, DataConfig(time_unit="s"))
    with pytest.raises(DataError, match="--time-unit must be one of s, ms, us, ns, got 'days'"):
        DataConfig(time_unit="days")
    huge = pd.DataFrame({"timestamp": [1e30, 1e30 + 1], "value": [1.0, 2.0]})
    with pytest.raises(DataError, match="time column 'timestamp' has unparseable or missing values, e.g. 1e\\+30"):
        canonical(huge, detect(huge, DataConfig(time_unit="s")))


def test_a_model_of_epoch_time_predicts_from_its_own_input_example():
    """The logged input example shows epoch numbers, as the file had them, and the model reads it back."""
    from forecast.data.prepare import prepare_training

    frame = pd.DataFrame({"timestamp": (1.7e9 + 3600 * np.arange(200)).astype(np.int64), "value": np.arange(200.0)})
    prepared = prepare_training(frame, DataConfig(seq_len=10, horizon=6, time_unit="s"))
    example = prepared.example
    assert pd.api.types.is_numeric_dtype(example["timestamp"]) and example["timestamp"].iloc[-1] == 1.7e9 + 3600 * 199
    assert canonical(example, prepared.spec.schema)[TIME].iloc[-1] == pd.Timestamp(1.7e9 + 3600 * 199, unit="s")


def test_several_id_columns_key_a_series_and_come_back_apart():
    """--id-col Animal,State: one series per combination (the id is the values joined by '|'); the columns
    themselves are neither covariates nor target, and a value holding the separator is refused."""
    from forecast.data.schema import split_ids

    t = pd.date_range("2024-01-01", periods=4, freq="MS")
    raw = pd.DataFrame({"Animal": ["Bulls"] * 8 + ["Cows"] * 4, "State": ["NSW"] * 4 + ["VIC"] * 4 + ["NSW"] * 4,
                        "Month": list(t) * 3, "Count": np.arange(12.0), "Rain": np.ones(12)})
    schema, rows = _canonical(raw, id_col="Animal, State", target="Count")
    assert schema.id_parts == ("Animal", "State") and schema.id_col is None
    assert schema.target == "Count" and schema.covariates == ("Rain",)
    assert rows[ID].unique().tolist() == ["Bulls|NSW", "Bulls|VIC", "Cows|NSW"]
    assert split_ids(rows[ID], schema).drop_duplicates().values.tolist() == [["Bulls", "NSW"], ["Bulls", "VIC"],
                                                                          ["Cows", "NSW"]]
    with pytest.raises(DataError, match="--id-col 'Region': no such column"):
        detect(raw, DataConfig(id_col="Animal,Region"))
    with pytest.raises(DataError, match=r"id column 'State' has '\|' in 'N\|SW' at data row\(s\) 1"):
        _canonical(raw.assign(State=raw["State"].replace({"NSW": "N|SW"})), id_col="Animal,State", target="Count")


@pytest.mark.parametrize("written", [
    ["2024-03-01", "2024-03-01T01:00", "2024-03-01 02:00:00", "2024-03-01T03:00:00.000"],   # ISO, several ways
    ["2024-03-01T00:00:00+00:00", "2024-03-01T02:00:00+01:00", "2024-03-01T04:00:00+02:00", "2024-03-01T03:00:00Z"],
    ["2024-03-01 00:00", "2024-03-01 01:00", "01/03/2024 02:00", "2024-03-01 03:00"],       # not all ISO
])
def test_dates_written_several_ways_in_one_column_read_as_the_same_instants(written):
    raw = pd.DataFrame({"timestamp": written, "value": [1.0, 2.0, 3.0, 4.0]})
    _, frame = _canonical(raw, dayfirst=True)
    assert frame[TIME].tolist() == list(pd.date_range("2024-03-01", periods=4, freq="h"))
    assert frame[TIME].dtype == "datetime64[ns]"


def test_rows_in_any_order_come_out_sorted_by_series_then_time_with_their_values():
    rng = np.random.default_rng(0)
    tidy = pd.DataFrame({"series_id": np.repeat(["b", "a", "c"], 5), "timestamp": np.tile(np.arange(5), 3),
                         "value": np.arange(15.0)})
    shuffled = tidy.iloc[rng.permutation(15)]
    _, frame = _canonical(shuffled, time_col="timestamp")
    assert frame[ID].tolist() == ["a"] * 5 + ["b"] * 5 + ["c"] * 5 and frame[TIME].tolist() == list(range(5)) * 3
    assert frame[TARGET].tolist() == [*range(5, 10), *range(5), *range(10, 15)]


@pytest.mark.parametrize("suffix", ["T00:00:00+01:00", " 00:00Z", "T00:00:00-05:00"])
def test_month_end_dates_with_an_offset_keep_their_date_and_their_grid(suffix):
    """Midnight with an offset is a calendar date: brought to UTC, 2015-01-31T00:00+01:00 became 2015-01-30 23:00
    and the series was refused as off a '31D' grid (issue 24, case 10)."""
    from forecast.data.config import DataConfig
    from forecast.data.prepare import prepare_training

    dates = pd.date_range("2015-01-31", periods=40, freq="ME")
    raw = pd.DataFrame({"timestamp": [f"{d:%Y-%m-%d}{suffix}" for d in dates], "value": np.arange(40.0)})
    prepared = prepare_training(raw, DataConfig(seq_len=8, horizon=4))
    assert prepared.spec.freq.alias == "ME" and (prepared.panel.timestamps == dates.to_numpy()).all()
