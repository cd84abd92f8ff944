import logging

import numpy as np
import pytest

from forecast.data.config import DataConfig
from forecast.data.errors import DataError
from forecast.data.prepare import prepare_training
from forecast.data.schema import ID


def test_prepare_shapes_features_and_report(make_frame):
    prepared = prepare_training(make_frame(n_series=2, length=100), DataConfig(seq_len=10))
    spec, report = prepared.spec, prepared.report
    assert spec.horizon == 24 and report.horizon_source == "frequency"
    assert spec.feature_names == ["value", "cov0", "value_lag24", "cal_hour_sin", "cal_hour_cos", "cal_dayofweek_sin",
                                  "cal_dayofweek_cos"]
    assert prepared.panel.values.shape == (200, 7) and spec.n_known == 5
    assert report.windows["test"] == 2 and report.windows["train"] > 0
    assert report.season_length == 24 and report.season_source == "frequency"
    assert len(prepared.example) == 24   # a forecast needs a season of history (the lag of every step)


def test_every_series_with_a_training_window_trains_and_the_rest_are_named(make_frame, caplog):
    """seq_len 10, season 24, horizon 6: a series trains from 24 + 6 = 30 points; validation and test come
    from the series long enough to hold them (a test part of 6 needs 30 + validation 6 + 6 = 42 points at this
    length)."""
    frame = make_frame(n_series=4, length=100)
    keep = {"s0": 100, "s1": 40, "s2": 31, "s3": 29}
    frame = frame[frame.groupby(ID).cumcount() < frame[ID].map(keep)]
    with caplog.at_level(logging.WARNING, logger="forecast"):
        prepared = prepare_training(frame, DataConfig(seq_len=10, horizon=6))
    p, starts = prepared.panel, prepared.starts
    assert p.ids.tolist() == ["s0", "s1", "s2"]
    trained = {p.ids[i]: int(n) for i, n in zip(*np.unique(p.series_of(starts["train"]), return_counts=True))}
    assert trained == {"s0": 100 - 6 - 10 - 6 - 24 + 1, "s1": 40 - 6 - 6 - 24 + 1, "s2": 31 - 6 - 24 + 1}
    assert set(p.ids[p.series_of(starts["val"])]) == {"s0", "s1"}     # s2 is too short to spare a validation part
    assert set(p.ids[p.series_of(starts["test"])]) == {"s0"}
    assert prepared.report.series_without_test == 2 and prepared.report.series_without_validation == 1
    assert "1 series shorter than 30 points" in caplog.text
    assert "'s3'" in caplog.text
    assert "still forecast" in caplog.text


def test_no_series_long_enough_is_an_error(make_frame):
    with pytest.raises(DataError, match="no series is long enough: each needs at least 104 .* the longest has 100"):
        prepare_training(make_frame(length=100), DataConfig(seq_len=10, horizon=80))


def test_dead_covariates_are_warned_before_training(make_frame, caplog):
    frame = make_frame(covariates=3)
    frame["cov1"] = 0.0
    frame["cov2"] = frame[ID].map({"s0": 1.0, "s1": 2.0, "s2": 3.0})
    with caplog.at_level(logging.WARNING, logger="forecast"):
        prepared = prepare_training(frame, DataConfig(seq_len=10, horizon=6))
    warnings = prepared.report.warnings
    assert any("'cov1' is all zero" in w for w in warnings)
    assert any("'cov2' is constant within every series" in w for w in warnings)
    assert not any("'cov0'" in w for w in warnings)
    column = prepared.spec.feature_names.index("cov2")
    assert np.all(prepared.panel.values[:, column] == 0.0)  # what the warning promises


def test_seasonal_lag_channel_is_the_target_one_season_earlier(make_frame):
    prepared = prepare_training(make_frame(n_series=2, length=300), DataConfig(seq_len=10, horizon=24))
    spec, panel = prepared.spec, prepared.panel
    assert spec.lag == 24 and spec.context == 24 and prepared.report.seasonal_lag == 24
    assert spec.feature_names[:3] == ["value", "cov0", "value_lag24"] and spec.lag_feature == 2
    assert spec.n_known == 5  # the lag and four calendar features are known over the horizon
    for s in range(2):
        rows = np.arange(panel.offsets[s] + 24, panel.offsets[s + 1])
        assert np.array_equal(panel.values[rows, 2], panel.values[rows - 24, 0])
        first = np.arange(panel.offsets[s], panel.offsets[s] + 24)  # no season before them: their own value
        assert np.array_equal(panel.values[first, 2], panel.values[first, 0])
    # every window forecasts from a full season of history on: its horizon's lags are all observed
    for starts in prepared.starts.values():
        assert (starts + spec.seq_len - panel.offsets[panel.series_of(starts)] >= 24).all()
    assert len(prepared.example) == 24


@pytest.mark.parametrize("horizon", [24, 30, 60])
def test_seasonal_lag_over_the_horizon_is_the_seasonal_naive_forecast_and_never_a_target(make_frame, horizon):
    """Over a horizon longer than the season (30 or 60 hours, season 24) the channel repeats the last observed
    season, as seasonal naive does: step h reads the row h mod 24 of the season before the origin."""
    prepared = prepare_training(make_frame(n_series=2, length=400), DataConfig(seq_len=10, horizon=horizon))
    p, spec = prepared.panel, prepared.spec
    assert spec.lag == 24
    starts = np.concatenate(list(prepared.starts.values()))
    x, y, future = spec.dataset(p, starts).__getitems__(list(range(len(starts))))
    lag_in_future = future[:, :, spec.lag_feature - (p.values.shape[1] - p.n_known)].numpy()
    origins = starts + spec.seq_len
    expected = p.values[origins[:, None] - 24 + np.arange(horizon) % 24, 0]   # rows before each origin only
    assert np.array_equal(lag_in_future, expected)


@pytest.mark.parametrize("config, frame, why", [
    (DataConfig(seq_len=10, horizon=24, seasonal_lag=False), "hourly", "turned off"),
    (DataConfig(seq_len=10, horizon=6), "random walk, integer time", "no season in the data"),
    (DataConfig(seq_len=10, horizon=6, season_length=1), "hourly, integer time", "season 1 given"),
])
def test_seasonal_lag_is_off_where_it_cannot_or_should_not_be_used(config, frame, why, make_frame):
    data = make_frame(n_series=2, length=300)
    if "integer" in frame:
        data["timestamp"] = data.groupby(ID).cumcount()
    if "random" in frame:
        data["value"] = np.random.default_rng(0).normal(size=len(data)).cumsum()
    prepared = prepare_training(data, config)
    assert prepared.spec.lag == 0 and prepared.spec.lag_feature == -1, why
    assert len(prepared.panel.ids) == 2 and not any("_lag" in f for f in prepared.spec.feature_names)


def test_integer_time_takes_the_season_given_or_finds_it(make_frame, caplog):
    """Integer time says nothing about seasons: --season-length sets one; without it the autocorrelation finds
    the daily cycle of this hourly data (24), and it drives the lag channel and the seasonal-naive MASE."""
    frame = make_frame(n_series=3, length=200)
    frame["timestamp"] = frame.groupby(ID).cumcount()
    with caplog.at_level(logging.INFO, logger="forecast"):
        found = prepare_training(frame, DataConfig(seq_len=10, horizon=6))
    assert found.spec.freq.season_length == 24 and found.spec.lag == 24
    assert found.report.season_source == "autocorrelation" and "season 24 found" in caplog.text
    given = prepare_training(frame, DataConfig(seq_len=10, horizon=6, season_length=12))
    assert given.spec.freq.season_length == 12 and given.spec.lag == 12 and given.report.season_source == "given"
    assert given.spec.feature_names[2] == "value_lag12"


def _shape(kind, make_frame):
    frame = make_frame(n_series=2, length=200, freq={"30min": "30min", "monthly": "MS"}.get(kind, "h"))
    if kind == "single-no-id-int-time":
        return frame[frame[ID] == "s0"].drop(columns=[ID, "cov0"]).assign(timestamp=range(200)).rename(
            columns={"timestamp": "time", "value": "load"})
    if kind == "ds-y-names":
        return frame.rename(columns={ID: "unique_id", "timestamp": "ds", "value": "y"})
    return frame


@pytest.mark.parametrize("kind, alias, n_series, n_features", [
    ("30min", "30min", 2, 7), ("monthly", "MS", 2, 5), ("single-no-id-int-time", "1", 1, 2), ("ds-y-names", "h", 2, 7)])
def test_every_conventional_shape_prepares_without_flags(kind, alias, n_series, n_features, make_frame):
    prepared = prepare_training(_shape(kind, make_frame), DataConfig(seq_len=10, horizon=5))
    assert prepared.spec.freq.alias == alias
    assert len(prepared.panel.ids) == n_series and prepared.panel.values.shape[1] == n_features
    assert all(len(v) for v in prepared.starts.values())


def test_parquet_and_gzip_csv_are_read(tmp_path, make_frame):
    from forecast.data.io import read_table

    frame = make_frame(n_series=1, length=30)
    frame.to_parquet(tmp_path / "f.parquet", index=False)
    frame.to_csv(tmp_path / "f.csv.gz", index=False)
    assert len(read_table(tmp_path / "f.parquet")) == 30 and len(read_table(tmp_path / "f.csv.gz")) == 30
    with pytest.raises(DataError, match="is a directory"):
        read_table(tmp_path)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty.csv: is empty"):
        read_table(tmp_path / "empty.csv")


def test_a_panel_too_short_for_validation_by_time_validates_on_held_out_series(make_frame, caplog):
    """Case 5 of the bad-input issue: 10 series of 48 hourly points at seq_len 20, horizon 24 have one window each,
    so none can spare a validation part after its training window: a tenth of the series (here one) is held out and
    validates; the rest train; no series holds a test part, and the run says so."""
    with caplog.at_level(logging.WARNING, logger="forecast"):
        prepared = prepare_training(make_frame(n_series=10, length=48), DataConfig(seq_len=20, horizon=24))
    p, starts, report = prepared.panel, prepared.starts, prepared.report
    held = set(p.ids[p.series_of(starts["val"])])
    assert len(held) == 1 and not held & set(p.ids[p.series_of(starts["train"])])
    assert len(starts["train"]) == 9 and len(starts["test"]) == 0
    assert report.validation == "by series (1 held out)" and report.windows == {"train": 9, "val": 1, "test": 0}
    assert "1 of 10 series are held out of training and validate" in caplog.text
    assert "the run has no test score" in caplog.text


def test_a_single_short_series_trains_without_validation(make_frame):
    prepared = prepare_training(make_frame(n_series=1, length=50), DataConfig(seq_len=20, horizon=24))
    assert prepared.report.validation == "none" and len(prepared.starts["val"]) == 0
    assert len(prepared.starts["train"]) == 50 - 24 - 24 + 1


def test_validation_by_time_where_any_series_can_hold_it(make_frame):
    """One long series validates by time; the short ones train on all their windows, none is held out."""
    frame = make_frame(n_series=3, length=200)
    frame = frame[frame.groupby(ID).cumcount() < frame[ID].map({"s0": 200, "s1": 48, "s2": 48})]
    prepared = prepare_training(frame, DataConfig(seq_len=20, horizon=24))
    assert prepared.report.validation == "by time"
    assert set(prepared.panel.ids[prepared.panel.series_of(prepared.starts["val"])]) == {"s0"}


def test_empty_targets_at_the_end_are_future_rows_not_test_data(make_frame, caplog):
    """The last 30 targets of each series left empty were filled with the last value and scored as the test part:
    naive's error 0 (issue 24, case 2). They are future rows, as predict reads them."""
    frame = make_frame(n_series=2, length=150)
    tail = frame.groupby(ID).cumcount() >= 120
    frame.loc[tail, "value"] = np.nan
    with caplog.at_level(logging.WARNING, logger="forecast"):
        prepared = prepare_training(frame, DataConfig(seq_len=10, horizon=6))
    assert (prepared.panel.lengths == 120).all() and not np.isnan(prepared.panel.raw_target).any()
    assert "60 row(s) after the last observed target of 2 series (e.g. series 's0' from 2024-01-06 00:00:00) have " \
           "no target: read as future rows" in caplog.text


def test_a_covariate_holding_the_next_target_is_warned_as_leakage(make_frame, caplog):
    frame = make_frame(n_series=2, length=120)
    frame["tomorrow"] = frame.groupby(ID)["value"].shift(-1).fillna(0.0)   # the export shifted the wrong way
    frame["today"] = frame["value"] * 2.0                                 # a copy of the target: not the future
    with caplog.at_level(logging.WARNING, logger="forecast"):
        prepared = prepare_training(frame, DataConfig(seq_len=10, horizon=6))
    leaks = [w for w in prepared.report.warnings if "leaked" in w]
    assert len(leaks) == 1 and leaks[0].startswith("covariate 'tomorrow' follows the target's next value")


def test_a_covariate_named_like_a_generated_input_is_refused(make_frame):
    frame = make_frame(n_series=2, length=120).rename(columns={"cov0": "value_lag24"})
    with pytest.raises(DataError, match="column\\(s\\) 'value_lag24' have the name of an input the model adds itself"):
        prepare_training(frame, DataConfig(seq_len=10, horizon=6))
    frame = frame.rename(columns={"value_lag24": "cal_hour_sin"})
    with pytest.raises(DataError, match="'cal_hour_sin' have the name"):
        prepare_training(frame, DataConfig(seq_len=10, horizon=6))
