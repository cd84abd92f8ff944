"""Left-padding short series for the network (data/padding.py) and the windows it gives in training."""
import numpy as np
import pandas as pd
import pytest

from forecast.data.config import DataConfig
from forecast.data.frequency import Frequency
from forecast.data.padding import MIN_OBSERVED, pad_left, padded_from
from forecast.data.prepare import prepare_training
from forecast.data.schema import ID, TARGET, TIME


def test_padding_applies_from_enough_observed_rows_and_never_past_a_longer_season():
    assert padded_from(20, 0) == MIN_OBSERVED and padded_from(20, 12) == 13
    assert padded_from(20, 24) == 0     # the context is a season: padding would hide the lag channel


@pytest.mark.parametrize("kind, step, first, before", [
    ("int", 1, 1990, [1987, 1988, 1989]),
    ("datetime", "h", pd.Timestamp("2024-01-01 02:00"), list(pd.date_range("2023-12-31 23:00", periods=3, freq="h"))),
    ("datetime", "MS", pd.Timestamp("2024-03-01"), list(pd.date_range("2023-12-01", periods=3, freq="MS"))),
])
def test_padding_steps_back_on_the_series_grid_with_nan_values(kind, step, first, before):
    freq = Frequency(alias=str(step), kind=kind, season_length=1, default_horizon=1, calendar=())
    times = [first + k * freq.step for k in range(2)]
    long_times = [first + k * freq.step for k in range(6)]
    regular = pd.DataFrame({ID: ["a", "a", *["b"] * 6], TIME: [*times, *long_times],
                            TARGET: [1.0, 2.0, *range(6)], "cov": 1.0})
    out = pad_left(regular, freq, 5, np.array([True, True]))
    a = out[out[ID] == "a"]
    assert list(out[ID]) == ["a"] * 5 + ["b"] * 6 and a[TARGET].isna().sum() == 3 and a["cov"].isna().sum() == 3
    assert list(a[TIME].iloc[:3]) == before and list(a[TARGET].iloc[3:]) == [1.0, 2.0]
    pd.testing.assert_frame_equal(out[out[ID] == "b"].reset_index(drop=True), regular[regular[ID] == "b"]
                                  .reset_index(drop=True))
    assert len(pad_left(regular, freq, 5, np.array([False, True]))) == len(regular)


def test_a_series_too_short_for_a_training_window_is_padded_to_one(make_frame, caplog):
    """seq_len 10, horizon 6, season 4: a series of 12 points had no training window (16 needed) and went to the
    fallback; now it trains on one window whose first rows are NaN (the mask) and whose targets are observed.
    One of 8 points (under a horizon and 5 observed rows) still has none, and is named."""
    long = make_frame(n_series=2, length=80, covariates=1)
    short = make_frame(n_series=1, length=12, covariates=1, seed=1).assign(series_id="short")
    tiny = make_frame(n_series=1, length=8, covariates=1, seed=2).assign(series_id="tiny")
    prepared = prepare_training(pd.concat([long, short, tiny], ignore_index=True),
                                DataConfig(seq_len=10, horizon=6, season_length=4))
    spec, panel = prepared.spec, prepared.panel
    assert spec.padded_from == 5 and spec.network_from == 5 and list(panel.ids) == ["s0", "s1", "short"]
    assert prepared.report.series_skipped == ["tiny"]
    assert "1 series shorter than 16 points are left-padded" in caplog.text
    row = panel.offsets[2]
    assert panel.lengths[2] == 16 and np.isnan(panel.values[row:row + 4]).all()
    assert np.isfinite(panel.values[row + 4:row + 16]).all()
    np.testing.assert_allclose(panel.raw_target[row + 4:row + 16], short["value"].to_numpy())
    starts = prepared.starts["train"]
    mine = starts[panel.series_of(starts) == 2]
    assert list(mine) == [row]
    x, y, future = spec.dataset(panel, mine).__getitems__([0])
    assert np.isnan(x[0, :4]).all() and np.isfinite(x[0, 4:]).all() and np.isfinite(y).all() \
        and np.isfinite(future).all()
    assert not np.isnan(prepared.panel.values[prepared.starts["val"][:, None] + np.arange(16)]).any()
    assert spec.scaler.mean[spec.scaler.rows_for(np.array(["short"]))[0], 0] == pytest.approx(short["value"].mean())
