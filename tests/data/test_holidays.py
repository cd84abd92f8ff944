"""--holidays: public-holiday flags as known-future inputs, from the dates alone."""
import numpy as np
import pandas as pd
import pytest

from forecast.data.config import DataConfig
from forecast.data.errors import DataError
from forecast.data.holidays import NAMES, holiday_features
from forecast.data.prepare import prepare_training
from forecast.models.config import ModelConfig
from forecast.models.forecaster import Forecaster
from forecast.pipelines.serving.inference import Predictor


def test_a_holiday_the_day_before_and_the_day_after_by_region():
    days = pd.to_datetime(["2024-11-04 12:00", "2024-11-05 08:00", "2024-11-06 00:00", "2024-12-24 00:00",
                           "2024-12-25 23:00", "2024-12-27 00:00", "2024-07-01 00:00"])
    vic = holiday_features(days, "AU-VIC")
    # Melbourne Cup (5 November) is a holiday in Victoria only; Christmas (25th) and Boxing Day (26th) everywhere
    np.testing.assert_array_equal(vic, [[0, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1], [0, 0, 0]])
    assert holiday_features(days[:3], "AU-NSW").sum() == 0
    with pytest.raises(DataError, match="--holidays 'XX': Country XX not available; give a country or region code"):
        holiday_features(days, "XX")


def test_the_flags_reach_the_network_at_predict_time_from_a_file_without_them(make_frame):
    """Trained with --holidays AU-VIC, the model reads the flags of Christmas Day in a forecast's horizon from
    the timestamps alone: the request has no holiday column."""
    frame = make_frame(n_series=1, length=24 * 30, covariates=0, start="2024-12-01")
    cut = frame[frame["timestamp"] < "2024-12-24 12:00"]
    prepared = prepare_training(cut, DataConfig(seq_len=12, horizon=24, holidays="AU-VIC"))
    spec = prepared.spec
    assert spec.feature_names[-3:] == list(NAMES) and spec.holidays == "AU-VIC"
    config = ModelConfig(d_model=8, n_heads=2, layers=1, seq_len=12, horizon=24, n_features=len(spec.feature_names),
                         n_known=spec.n_known, lag_feature=spec.lag_feature)
    seen = []

    class Spy(Forecaster):
        def forward(self, x, future):
            seen.append(future.detach().clone())
            return super().forward(x, future)

    Predictor(Spy(config).eval(), spec).predict(cut)
    holiday = seen[-1][0, :, -3].numpy()                     # the horizon: 2024-12-24 12:00 to 12-25 11:00
    np.testing.assert_array_equal(holiday, [0.0] * 12 + [1.0] * 12)


def test_holidays_need_dates_and_a_known_code(make_frame):
    frame = make_frame(n_series=1, length=200, covariates=0)
    with pytest.raises(DataError, match="--holidays 'AU' needs dates: the time column holds an integer index"):
        prepare_training(frame.assign(timestamp=range(200)), DataConfig(holidays="AU"))
    with pytest.raises(DataError, match="--holidays 'AU-XX': Entity `AU` does not have subdivision XX"):
        prepare_training(frame, DataConfig(holidays="AU-XX"))
    named = frame.assign(holiday=0.0)   # a user's own column named like a flag: fine without --holidays
    assert "holiday" in prepare_training(named, DataConfig()).spec.feature_names
    with pytest.raises(DataError, match="'holiday' have the name of an input the model adds itself"):
        prepare_training(named, DataConfig(holidays="AU"))
