import logging

import numpy as np
import pytest

from data.config import DataConfig
from data.errors import DataError
from data.prepare import prepare_training
from data.schema import ID


def test_prepare_shapes_features_and_report(make_frame):
    prepared = prepare_training(make_frame(n_series=2, length=100), DataConfig(seq_len=10))
    spec, report = prepared.spec, prepared.report
    assert spec.horizon == 24 and report["horizon_source"] == "frequency"
    assert spec.feature_names == ["value", "cov0", "cal_hour_sin", "cal_hour_cos", "cal_dayofweek_sin",
                                  "cal_dayofweek_cos"]
    assert prepared.panel.values.shape == (200, 6) and spec.n_known == 4
    assert report["windows"]["test"] == 2 and report["windows"]["train"] > 0
    assert len(prepared.example) == 10


def test_short_series_are_skipped_with_a_warning_naming_them(make_frame, caplog):
    frame = make_frame(n_series=3, length=100)
    frame = frame[~((frame[ID] == "s1") & (frame.index % 100 >= 30))]
    with caplog.at_level(logging.WARNING, logger="forecast"):
        prepared = prepare_training(frame, DataConfig(seq_len=10))
    assert prepared.panel.ids.tolist() == ["s0", "s2"]
    assert "skipped 1 series shorter than" in caplog.text and "'s1'" in caplog.text


def test_no_series_long_enough_is_an_error(make_frame):
    with pytest.raises(DataError, match="no series is long enough: each needs at least .* the longest has 100"):
        prepare_training(make_frame(length=100), DataConfig(seq_len=10, horizon=60))


def test_dead_covariates_are_warned_before_training(make_frame, caplog):
    frame = make_frame(covariates=3)
    frame["cov1"] = 0.0
    frame["cov2"] = frame[ID].map({"s0": 1.0, "s1": 2.0, "s2": 3.0})
    with caplog.at_level(logging.WARNING, logger="forecast"):
        prepared = prepare_training(frame, DataConfig(seq_len=10, horizon=6))
    warnings = prepared.report["warnings"]
    assert any("'cov1' is all zero" in w for w in warnings)
    assert any("'cov2' is constant within every series" in w for w in warnings)
    assert not any("'cov0'" in w for w in warnings)
    column = prepared.spec.feature_names.index("cov2")
    assert np.all(prepared.panel.values[:, column] == 0.0)  # what the warning promises


def test_seasonal_lag_channel_is_the_target_one_season_earlier(make_frame):
    prepared = prepare_training(make_frame(n_series=2, length=300), DataConfig(seq_len=10, horizon=24))
    spec, panel = prepared.spec, prepared.panel
    assert spec.lag == 24 and spec.context == 34 and prepared.report["seasonal_lag"] == 24
    assert spec.feature_names[:3] == ["value", "cov0", "value_lag24"] and spec.lag_feature == 2
    assert spec.n_known == 5  # the lag and four calendar features are known over the horizon
    for s in range(2):
        rows = np.arange(panel.offsets[s] + 24, panel.offsets[s + 1])
        assert np.array_equal(panel.values[rows, 2], panel.values[rows - 24, 0])
    # every window's input rows have an observed lag: none starts within the first season of its series
    for starts in prepared.starts.values():
        assert (starts - panel.offsets[panel.series_of(starts)] >= 24).all()
    assert len(prepared.example) == 34


def test_seasonal_lag_never_reads_a_target_at_or_after_the_origin(make_frame):
    from data.windows import WindowDataset

    prepared = prepare_training(make_frame(n_series=2, length=300), DataConfig(seq_len=10, horizon=24))
    p, spec = prepared.panel, prepared.spec
    starts = np.concatenate(list(prepared.starts.values()))
    dataset = WindowDataset(p.values, starts, spec.seq_len, spec.horizon, p.n_known)
    x, y, future = dataset.__getitems__(list(range(len(starts))))
    lag_in_future = future[:, :, spec.lag_feature - (p.values.shape[1] - p.n_known)].numpy()
    origins = starts + spec.seq_len
    expected = p.values[origins[:, None] + np.arange(24) - 24, 0]          # rows before each origin only
    assert np.array_equal(lag_in_future, expected)


@pytest.mark.parametrize("config, length, why", [
    (DataConfig(seq_len=10, horizon=24, seasonal_lag=False), 300, "turned off"),
    (DataConfig(seq_len=10, horizon=30), 300, "horizon longer than the season"),
    (DataConfig(seq_len=10, horizon=24), 100, "series too short for seq_len + a season"),
])
def test_seasonal_lag_is_off_where_it_cannot_or_should_not_be_used(config, length, why, make_frame):
    prepared = prepare_training(make_frame(n_series=2, length=length), config)
    assert prepared.spec.lag == 0 and prepared.spec.lag_feature == -1, why
    assert len(prepared.panel.ids) == 2 and not any("_lag" in f for f in prepared.spec.feature_names)


def _shape(kind, make_frame):
    frame = make_frame(n_series=2, length=200, freq={"30min": "30min", "monthly": "MS"}.get(kind, "h"))
    if kind == "single-no-id-int-time":
        return frame[frame[ID] == "s0"].drop(columns=[ID, "cov0"]).assign(timestamp=range(200)).rename(
            columns={"timestamp": "time", "value": "load"})
    if kind == "ds-y-names":
        return frame.rename(columns={ID: "unique_id", "timestamp": "ds", "value": "y"})
    return frame


@pytest.mark.parametrize("kind, alias, n_series, n_features", [
    ("30min", "30min", 2, 7), ("monthly", "MS", 2, 5), ("single-no-id-int-time", "1", 1, 1), ("ds-y-names", "h", 2, 7)])
def test_every_conventional_shape_prepares_without_flags(kind, alias, n_series, n_features, make_frame):
    prepared = prepare_training(_shape(kind, make_frame), DataConfig(seq_len=10, horizon=5))
    assert prepared.spec.freq.alias == alias
    assert len(prepared.panel.ids) == n_series and prepared.panel.values.shape[1] == n_features
    assert all(len(v) for v in prepared.starts.values())


def test_parquet_and_gzip_csv_are_read(tmp_path, make_frame):
    from data.io import read_table

    frame = make_frame(n_series=1, length=30)
    frame.to_parquet(tmp_path / "f.parquet", index=False)
    frame.to_csv(tmp_path / "f.csv.gz", index=False)
    assert len(read_table(tmp_path / "f.parquet")) == 30 and len(read_table(tmp_path / "f.csv.gz")) == 30
    with pytest.raises(DataError, match="is a directory"):
        read_table(tmp_path)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty.csv: is empty"):
        read_table(tmp_path / "empty.csv")
