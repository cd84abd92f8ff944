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
