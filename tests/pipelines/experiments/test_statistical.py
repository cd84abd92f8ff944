"""The statistical peers: each test window is forecast from its own series' history up to the origin only."""
import numpy as np
import pytest

from forecast.data.config import DataConfig
from forecast.data.prepare import prepare_training
from forecast.models.ets import ets, fast_ets
from forecast.models.members import HISTORY
from forecast.models.theta import theta
from forecast.pipelines.evaluation.evaluate import score
from forecast.pipelines.experiments.statistical import METHODS, run_statistical

QUANTILES = (0.1, 0.5, 0.9)


@pytest.mark.parametrize("method", [ets, theta, fast_ets])
def test_a_clean_season_is_forecast_almost_exactly(method):
    t = np.arange(96)
    season = 50 + 10 * np.sin(2 * np.pi * t / 12)
    forecast = method(season[:84], 12, 12)
    assert np.abs(forecast - season[84:]).max() < 0.5   # seasonal naive's error here is 0, naive's up to 17


@pytest.mark.parametrize("name", ["ets", "theta", "ets_fast", "drift"])
def test_each_window_sees_its_own_history_and_nothing_after_its_origin(make_frame, name):
    frame = make_frame(n_series=2, length=150)
    prepared = prepare_training(frame, DataConfig(seq_len=12, horizon=6, test_windows=2))
    result = run_statistical(name, prepared, QUANTILES)
    spec, panel, starts = prepared.spec, prepared.panel, prepared.starts["test"]
    assert result.quantiles.shape == (len(starts), 6, 3) and len(starts) == 4
    rows = spec.scaler.rows_for(panel.ids[panel.series_of(starts)])
    forecasts = spec.scaler.inverse(result.quantiles[:, :, 1], rows)
    method = METHODS[name]
    for k, start in enumerate(starts):
        series = panel.series_of(np.array([start]))[0]
        history = panel.raw_target[max(panel.offsets[series], start + 12 - HISTORY):start + 12]
        assert np.allclose(forecasts[k], method(history, 6, spec.freq.season_length))
    # values from the first origin on (rows 138..149) change no forecast from that origin, and do change the
    # forecasts from the next origin (144), whose history holds rows 138..143
    changed = frame.copy()
    changed.loc[changed.groupby("series_id").cumcount() >= 138, "value"] += 50.0
    again = run_statistical(name, prepare_training(changed, DataConfig(seq_len=12, horizon=6, test_windows=2)),
                            QUANTILES)
    first = starts + 12 - panel.offsets[panel.series_of(starts)] == 138
    assert first.sum() == 2
    moved = spec.scaler.inverse(again.quantiles[:, :, 1], rows)
    assert np.allclose(moved[first], forecasts[first]) and not np.allclose(moved[~first], forecasts[~first])
    # scored by the same code as ours: on a daily cycle the seasonal ones beat the naive forecast (drift is a
    # trend on the last value: it cannot)
    metrics = score(prepared, result.quantiles, QUANTILES).metrics
    assert metrics["test_mase"] < metrics["naive_mase"] or name == "drift"
