"""The members chosen in training (pipelines/training/members.py): the short-series forecast on panels where the
right answer is known."""
import mlflow
import numpy as np
import pandas as pd

from forecast.data.config import DataConfig
from forecast.data.prepare import prepare_training
from forecast.pipelines.training.members import choose_fallback, log_adjusted, mase_units, validation_cases


def _panel(values_of, n_series=60, length=30):
    rng = np.random.default_rng(0)
    return pd.concat([pd.DataFrame({"series_id": f"s{i:02d}", "timestamp": np.arange(length),
                                    "value": values_of(np.arange(length), rng)}) for i in range(n_series)])


def test_validation_cases_hold_out_the_last_horizons_and_cut_the_history_before():
    history = np.arange(30.0)
    cut, actual, whole = validation_cases([history], horizon=4, lengths=[5, 3], limit=10, origins=2)
    assert [len(c) for c in cut] == [5, 3] and np.allclose(cut[0], [21, 22, 23, 24, 25])
    assert np.allclose(actual[0], [26, 27, 28, 29]) and np.allclose(actual[1], [22, 23, 24, 25])
    assert np.allclose(cut[1], [19, 20, 21]) and len(whole[0]) == 26 and len(whole[1]) == 22


def test_steady_trends_get_the_drift_and_pure_seasons_keep_seasonal_naive():
    trend = _panel(lambda t, rng: 100 + 5.0 * t + rng.normal(0, 0.5, len(t)))
    fallback, errors = choose_fallback(prepare_training(trend, DataConfig(seq_len=20, horizon=4, season_length=1)),
                                       (0.1, 0.5, 0.9))
    (bucket,) = fallback.buckets
    assert bucket.weights.get("drift", 0) >= 0.5 and errors["1_combination"] < errors["1_old_rule"]
    seasons = _panel(lambda t, rng: 50 + 10.0 * np.sin(2 * np.pi * t / 4) + rng.normal(0, 0.1, len(t)))
    fallback, _ = choose_fallback(prepare_training(seasons, DataConfig(seq_len=20, horizon=4, season_length=4)),
                                  (0.1, 0.5, 0.9))
    assert [b.min_length for b in fallback.buckets] == [1, 4, 8]
    assert all(b.weights.get("seasonal_naive", 0) >= 0.5 for b in fallback.buckets[1:])


def test_theta_and_ets_take_the_season_out_only_of_the_series_that_pass_their_own_test(tracking_uri):
    """20 seasonal series and 20 of noise: the panel has season 4, and only the seasonal ones are adjusted."""
    rng = np.random.default_rng(0)
    t = np.arange(48)
    panel = pd.concat([pd.DataFrame({"series_id": f"s{i:02d}", "timestamp": t, "value": 50 + rng.normal(0, 1.0, 48)
                                     + (10.0 * np.sin(2 * np.pi * t / 4) if i < 20 else 0)}) for i in range(40)])
    mlflow.set_tracking_uri(tracking_uri)
    with mlflow.start_run() as run:
        count = log_adjusted(prepare_training(panel, DataConfig(seq_len=12, horizon=4, season_length=4)))
    assert 20 <= count <= 23   # the seasonal 20, and the noise a 10 % test lets through by chance (about 2 of 20)
    assert mlflow.get_run(run.info.run_id).data.metrics["members_adjusted_series"] == count
    assert log_adjusted(prepare_training(panel, DataConfig(seq_len=12, horizon=4, season_length=1))) is None


def test_the_combination_weighs_each_series_errors_as_mase_does():
    """Scaled units divide by a series' standard deviation, MASE by its mean absolute change over a season: a steady
    trend's deviation is many of its steps, noise's about one. The factor between them is each series' own, from its
    training part only."""
    rng = np.random.default_rng(0)
    t = np.arange(60)
    values = {"trend": 100 + 5.0 * t + rng.normal(0, 1, 60), "noise": 100 + rng.normal(0, 5, 60)}
    panel = pd.concat([pd.DataFrame({"series_id": k, "timestamp": t, "value": v}) for k, v in values.items()])
    prepared = prepare_training(panel, DataConfig(seq_len=12, horizon=4, season_length=1))
    factor = dict(zip(prepared.panel.ids, mase_units(prepared)))
    for name, n in zip(prepared.panel.ids, prepared.split_val_start):
        train = panel[panel.series_id == name].value.to_numpy()[:n]
        assert np.isclose(factor[name], train.std() / np.mean(np.abs(np.diff(train))))
    assert factor["trend"] > 5 and 0.7 < factor["noise"] < 1.1
