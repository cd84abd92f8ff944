import numpy as np
import pandas as pd
import pytest

from forecast.data.errors import DataError
from forecast.data.frequency import fill_gaps, infer_frequency, regularise
from forecast.data.schema import ID, TARGET, TIME


def _frame(times, values=None, sid="a"):
    values = np.arange(len(times), dtype=float) if values is None else values
    return pd.DataFrame({ID: sid, TIME: times, TARGET: values})


@pytest.mark.parametrize("freq, alias, season, horizon", [
    ("h", "h", 24, 24), ("30min", "30min", 48, 48), ("D", "1D", 7, 7), ("MS", "MS", 12, 12), ("ME", "ME", 12, 12),
    ("W-SUN", "7D", 52, 13), ("QS", "QS", 4, 8)])
def test_frequency_season_and_horizon(freq, alias, season, horizon):
    f = infer_frequency(_frame(pd.date_range("2020-01-31", periods=30, freq=freq)), "datetime")
    assert (f.alias, f.season_length, f.default_horizon) == (alias, season, horizon)


def test_frequency_survives_gaps_and_integer_time():
    times = pd.date_range("2024-01-01", periods=50, freq="h").delete([3, 4, 20])
    assert infer_frequency(_frame(times), "datetime").alias == "h"
    f = infer_frequency(_frame(np.array([0, 5, 10, 20, 25])), "int")
    assert (f.alias, f.season_length, f.calendar) == ("5", 1, ())


def test_regularise_inserts_missing_timestamps_and_interpolates():
    times = pd.date_range("2024-01-01", periods=6, freq="h").delete([2, 3])
    frame = pd.concat([_frame(times, [0.0, 1.0, 4.0, 5.0]), _frame(times[:2], [7.0, 8.0], sid="b")], ignore_index=True)
    freq = infer_frequency(frame, "datetime")
    regular, report = regularise(frame, freq, [TARGET], "interpolate")
    assert regular[regular[ID] == "a"][TARGET].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert regular[regular[ID] == "b"][TARGET].tolist() == [7.0, 8.0]
    assert report["inserted_timestamps"] == 2


@pytest.mark.parametrize("fill, expected", [("ffill", [np.nan, 1.0, 1.0, 1.0, 4.0]),
                                            ("zero", [0.0, 1.0, 0.0, 0.0, 4.0])])
def test_fill_rules_stay_within_a_series(fill, expected):
    frame = pd.DataFrame({ID: ["x"] * 2 + ["y"] * 5, TIME: list(range(2)) + list(range(5)),
                          TARGET: [9.0, 9.0, np.nan, 1.0, np.nan, np.nan, 4.0]})
    out = fill_gaps(frame, TARGET, fill).tolist()[2:]
    if fill == "ffill":
        expected[0] = 1.0  # a leading gap takes the next value, never the previous series' value
    assert out == expected


def test_fill_error_names_series_and_time():
    frame = pd.DataFrame({ID: ["x", "x", "x"], TIME: [0, 1, 2], TARGET: [1.0, np.nan, 3.0]})
    with pytest.raises(DataError, match="series 'x' at 1"):
        fill_gaps(frame, TARGET, "error")


def test_off_grid_timestamps_are_an_error():
    times = pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 02:00", "2024-01-01 02:30",
                              "2024-01-01 03:00", "2024-01-01 04:00"])
    frame = _frame(times)
    with pytest.raises(DataError, match="series 'a': timestamp 2024-01-01 02:30:00 is off the inferred 'h' grid"):
        regularise(frame, infer_frequency(frame, "datetime"), [TARGET], "interpolate")


def test_following_continues_the_grid():
    f = infer_frequency(_frame(pd.date_range("2024-01-01", periods=5, freq="MS")), "datetime")
    nxt = f.following(np.array([np.datetime64("2024-05-01")]), 2)
    assert pd.DatetimeIndex(nxt[0]).strftime("%Y-%m-%d").tolist() == ["2024-06-01", "2024-07-01"]


def test_series_of_different_frequencies_in_one_table_are_refused():
    from forecast.data.frequency import check_one_frequency

    hourly = _frame(pd.date_range("2024-01-01", periods=300, freq="h"))
    daily = _frame(pd.date_range("2024-01-01", periods=100, freq="D"), sid="b")
    frame = pd.concat([hourly, daily], ignore_index=True)
    with pytest.raises(DataError, match=r"most every 'h', but 'b' every 1 day\(s\) \(1 series"):
        check_one_frequency(frame, infer_frequency(frame, "datetime"))
    monthly = pd.concat([_frame(pd.date_range("2015-01-31", periods=40, freq="ME")),
                         _frame(pd.date_range("2015-01-31", periods=3, freq="ME"), sid="b")], ignore_index=True)
    check_one_frequency(monthly, infer_frequency(monthly, "datetime"))   # months of 28-31 days are one step
    gappy = _frame(pd.date_range("2024-01-01", periods=50, freq="h").delete([3, 4, 20]))
    check_one_frequency(gappy, infer_frequency(gappy, "datetime"))       # gaps are not another frequency
