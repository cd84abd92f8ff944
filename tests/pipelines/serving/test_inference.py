"""The prediction path with a real (untrained, tiny) model and the spec of a real preparation."""
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from forecast.data.config import DataConfig
from forecast.data.errors import DataError
from forecast.data.prepare import prepare_training
from forecast.models.combination import Combination
from forecast.models.config import ModelConfig
from forecast.models.forecaster import Forecaster
from forecast.models.members import drift
from forecast.models.theta import theta
from forecast.pipelines.evaluation.evaluate import evaluate
from forecast.pipelines.serving.bundle import BEFORE_OPTION, load_bundle, save_bundle
from forecast.pipelines.serving.inference import Predictor


def _predictor(frame, horizon=6, **data):
    prepared = prepare_training(frame, DataConfig(seq_len=10, horizon=horizon, **data))
    spec = prepared.spec
    config = ModelConfig(d_model=16, n_heads=2, layers=1, seq_len=10, horizon=horizon, quantiles=(0.1, 0.5, 0.9),
                         n_features=prepared.panel.values.shape[1], n_known=spec.n_known, lag_feature=spec.lag_feature)
    model = Forecaster(config)
    model.head.net[-1].reset_parameters()  # as after training: the forecast reads every input, not just its anchor
    return Predictor(model, spec)


def _raw(frame):
    out = frame.copy()
    out["timestamp"] = out["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    return out


def test_forecast_rows_schema_and_timestamps(make_frame):
    frame = make_frame(n_series=2, length=80)
    out = _predictor(frame).predict(_raw(frame))
    assert list(out.columns) == ["series_id", "timestamp", "step", "prediction", "q0.1", "q0.5", "q0.9", "method"]
    assert len(out) == 2 * 6 and set(out["method"]) == {"model"}
    s0 = out[out["series_id"] == "s0"]
    assert s0["step"].tolist() == list(range(1, 7))
    expected = pd.date_range(frame["timestamp"].max(), periods=7, freq="h")[1:]
    assert pd.DatetimeIndex(s0["timestamp"]).equals(expected)
    assert (out["q0.1"] <= out["q0.5"]).all() and (out["q0.5"] <= out["q0.9"]).all()
    np.testing.assert_array_equal(out["prediction"], out["q0.5"])


def test_short_and_unseen_series_still_get_forecasts(make_frame, caplog):
    frame = make_frame(n_series=2, length=80)
    predictor = _predictor(frame)
    short = make_frame(n_series=1, length=30, seed=3).assign(series_id="short").tail(30)
    tiny = make_frame(n_series=1, length=3).assign(series_id="tiny")
    new = make_frame(n_series=1, length=40, seed=5).assign(series_id="new")
    request = pd.concat([frame, short.tail(8), tiny, new], ignore_index=True)
    out = predictor.predict(_raw(request))
    methods = out.groupby("series_id")["method"].first().to_dict()
    assert methods == {"s0": "model", "s1": "model", "new": "model", "short": "naive", "tiny": "naive"}
    assert "series shorter than 24 rows (seq_len 10, a season 24)" in caplog.text and "'short'" in caplog.text
    # naive repeats the last value; the interval is left empty rather than invented
    assert (out[out["series_id"] == "tiny"]["prediction"] == tiny["value"].iloc[-1]).all()
    assert out[out["series_id"] == "tiny"]["q0.1"].isna().all()


@pytest.mark.parametrize("seasonal_lag, horizon", [(True, 6), (False, 6), (True, 30)])
def test_serving_builds_the_inputs_training_built(make_frame, seasonal_lag, horizon):
    """The Predictor on the rows before a test origin forecasts what the model forecasts on that test window of
    the training panel (seasonal lag channel, over a horizon longer than the season too, and calendar included):
    no train/serve skew."""
    frame = make_frame(n_series=2, length=120)
    predictor = _predictor(frame, horizon=horizon, seasonal_lag=seasonal_lag)
    prepared = prepare_training(frame, DataConfig(seq_len=10, horizon=horizon, seasonal_lag=seasonal_lag))
    spec, p, starts = prepared.spec, prepared.panel, prepared.starts["test"]
    assert spec.lag == (24 if seasonal_lag else 0) and len(starts) == 2
    x, _, future = spec.dataset(p, starts).__getitems__([0, 1])
    predictor.model.eval()
    with torch.no_grad():
        median = predictor.model.config.median_index
        scaled = predictor.model(x, future).sort(dim=-1).values[:, :, median].numpy().astype(np.float64)
    expected = spec.scaler.inverse(scaled[:, :, None], spec.scaler.rows_for(p.ids))[:, :, 0]
    history = frame.groupby("series_id").head(120 - horizon)                           # rows before each origin
    out = predictor.predict(_raw(history))
    assert set(out["method"]) == {"model"}
    np.testing.assert_allclose(out["prediction"].to_numpy().reshape(2, horizon), expected, rtol=1e-5, atol=1e-5)


def test_seasonal_naive_fallback_when_a_season_is_there(make_frame):
    frame = make_frame(n_series=1, length=80)
    predictor = _predictor(frame)
    predictor.spec = replace(predictor.spec, seq_len=50)   # 30 points < seq_len, but >= one season (24)
    history = frame.tail(30)
    out = predictor.predict(_raw(history))
    assert set(out["method"]) == {"seasonal_naive"}
    np.testing.assert_allclose(out["prediction"], history["value"].to_numpy()[30 - 24: 30 - 24 + 6])


def test_known_covariates_come_from_future_rows(make_frame):
    frame = make_frame(n_series=1, length=80, covariates=2).rename(columns={"cov1": "promo"})
    predictor = _predictor(frame, known_covariates=("promo",))
    future = make_frame(n_series=1, length=86, covariates=2).rename(columns={"cov1": "promo"}).tail(6)
    future["value"] = np.nan
    with pytest.raises(DataError, match=r"series 's0': known covariate 'promo' is missing for 2024-01-04 08:00"):
        predictor.predict(_raw(frame))
    out = predictor.predict(_raw(pd.concat([frame, future])))
    changed = future.assign(promo=future["promo"] + 5.0)
    out2 = predictor.predict(_raw(pd.concat([frame, changed])))
    assert len(out) == 6 and not np.allclose(out["prediction"], out2["prediction"])


def test_missing_columns_and_empty_input_are_named(make_frame):
    frame = make_frame(n_series=1, length=80)
    predictor = _predictor(frame)
    with pytest.raises(DataError, match=r"missing column\(s\) 'cov0'"):
        predictor.predict(_raw(frame.drop(columns=["cov0"])))
    with pytest.raises(DataError, match="no input rows"):
        predictor.predict(frame.head(0))


def test_bundle_round_trip_gives_identical_forecasts(make_frame, tmp_path):
    frame = make_frame(n_series=2, length=80)
    predictor = _predictor(frame)
    save_bundle(tmp_path / "bundle", predictor.model, predictor.spec)
    again = Predictor(*load_bundle(tmp_path / "bundle"))
    pd.testing.assert_frame_equal(again.predict(_raw(frame)), predictor.predict(_raw(frame)))


@pytest.mark.parametrize("option, before", BEFORE_OPTION.items())
def test_a_bundle_saved_before_an_option_loads_without_it(make_frame, tmp_path, option, before):
    """Models logged before an option existed were trained with what the code did then: they must stay so."""
    frame = make_frame(n_series=1, length=80)
    predictor = _predictor(frame)
    save_bundle(tmp_path / "bundle", predictor.model, predictor.spec)
    saved = torch.load(tmp_path / "bundle" / "model.pt", weights_only=True)
    del saved["config"][option]
    old = Forecaster(ModelConfig(**{**saved["config"], option: before})).state_dict()  # what the old code saved
    saved["state_dict"] = {k: v for k, v in saved["state_dict"].items() if k in old}
    torch.save(saved, tmp_path / "bundle" / "model.pt")
    model, _, _, _ = load_bundle(tmp_path / "bundle")
    assert getattr(predictor.model.config, option) != before and getattr(model.config, option) == before


def test_history_at_another_frequency_is_refused_not_filled_in(make_frame):
    """Daily rows for an hourly model were interpolated onto the hourly grid and forecast without a word."""
    predictor = _predictor(make_frame(n_series=1, length=80))
    daily = make_frame(n_series=1, length=40, freq="D")
    with pytest.raises(DataError, match="the history's step is '1D' .* the model forecasts at 'h'"):
        predictor.predict(_raw(daily))


def test_a_target_never_negative_in_training_is_never_forecast_negative(make_frame, tmp_path):
    frame = make_frame(n_series=1, length=80)
    predictor = _predictor(frame)
    assert predictor.spec.nonnegative                        # 10 + 3 sin(...) + noise: always positive
    with torch.no_grad():
        predictor.model.head.net[-1].bias.fill_(-1e3)        # a forecast far below zero
    assert (predictor.predict(_raw(frame))[["prediction", "q0.1", "q0.9"]] == 0.0).all().all()
    save_bundle(tmp_path / "bundle", predictor.model, predictor.spec)
    assert load_bundle(tmp_path / "bundle")[1].nonnegative   # saved with the model
    signed = _predictor(frame.assign(value=frame["value"] - 12.0))
    assert not signed.spec.nonnegative


def test_the_fallback_of_integer_time_is_seasonal_once_the_season_is_known(make_frame):
    """Integer time read as season 1 gave every short series a naive forecast; with the season (given here, or
    found in the autocorrelation) a short series with a season of history gets seasonal naive."""
    frame = make_frame(n_series=2, length=80).assign(timestamp=lambda f: f.groupby("series_id").cumcount())
    predictor = _predictor(frame, season_length=12)
    predictor.spec = replace(predictor.spec, seq_len=50)   # 30 points < the context, but >= one season (12)
    history = frame[frame["series_id"] == "s0"].tail(30)
    out = predictor.predict(history)
    assert set(out["method"]) == {"seasonal_naive"}
    np.testing.assert_allclose(out["prediction"], history["value"].to_numpy()[30 - 12: 30 - 12 + 6])


def test_the_combination_is_the_same_in_evaluation_and_predict(make_frame, tmp_path):
    """With the network at 0.5, Theta at 0.3 and drift at 0.2, the test part's evaluation (what the run logs) and
    predict (what users get) give the same forecast: that weighted sum of the members' forecasts from the same
    history, the interval moved with it; a saved bundle keeps the weights."""
    frame = make_frame(n_series=2, length=120)
    predictor = _predictor(frame)
    prepared = prepare_training(frame, DataConfig(seq_len=10, horizon=6))
    history = frame.groupby("series_id").head(114)                     # the rows before each test origin
    alone = predictor.predict(_raw(history))
    combination = Combination({"network": 0.5, "theta": 0.3, "drift": 0.2})
    evaluated = evaluate(predictor.model, prepared, 64, combination).table
    save_bundle(tmp_path / "bundle", predictor.model, predictor.spec, combination)
    combined = Predictor(*load_bundle(tmp_path / "bundle")).predict(_raw(history))
    np.testing.assert_allclose(combined["prediction"], evaluated["prediction"], rtol=1e-5, atol=1e-4)
    for i, (sid, rows) in enumerate(combined.groupby("series_id")):
        values = history.loc[history["series_id"] == sid, "value"].to_numpy()
        own = alone.loc[alone["series_id"] == sid, "prediction"].to_numpy()
        np.testing.assert_allclose(rows["prediction"], 0.5 * own + 0.3 * theta(values, 6, 24)
                                   + 0.2 * drift(values, 6, 24), rtol=1e-6)
        width = (rows["q0.9"] - rows["q0.1"]).to_numpy()
        np.testing.assert_allclose(width, (alone.loc[alone["series_id"] == sid, "q0.9"]
                                           - alone.loc[alone["series_id"] == sid, "q0.1"]).to_numpy(), rtol=1e-6)
    assert not np.allclose(combined["prediction"], alone["prediction"])


def test_a_request_mixing_frequencies_is_refused_naming_the_series(make_frame):
    """One hourly and one daily series: the panel's most common step is hourly, so the daily one would be
    interpolated onto the hourly grid (issue 24, case 3)."""
    predictor = _predictor(make_frame(n_series=1, length=80))
    daily = make_frame(n_series=1, length=10, freq="D").assign(series_id="d")
    mixed = pd.concat([make_frame(n_series=1, length=80), daily])
    with pytest.raises(DataError,
                       match="the series step at different frequencies: most every 'h', but 'd' every 1 day"):
        predictor.predict(_raw(mixed))


def test_series_too_short_for_the_network_get_the_fallback_chosen_in_training_with_intervals(make_frame, tmp_path):
    """The fallback saved with the model forecasts the short series: its members' weighted forecast as the
    prediction and median, and quantiles around it from the validation errors; the bundle keeps it."""
    from forecast.models.short_series import Bucket, Fallback

    frame = make_frame(n_series=2, length=80)
    predictor = _predictor(frame)
    theta_only = {"theta": 1.0}
    fallback = Fallback((Bucket(1, theta_only, (0.1, 0.5, 0.9), ((-1.0,) * 6, (0.0,) * 6, (2.0,) * 6)),))
    save_bundle(tmp_path / "bundle", predictor.model, predictor.spec, fallback=fallback)
    loaded = Predictor(*load_bundle(tmp_path / "bundle"))
    short = make_frame(n_series=1, length=12, seed=3).assign(series_id="short")
    out = loaded.predict(_raw(pd.concat([frame, short], ignore_index=True)))
    rows = out[out["series_id"] == "short"]
    assert (rows["method"] == "theta").all() and (out[out["series_id"] != "short"]["method"] == "model").all()
    history = short["value"].to_numpy()
    assert np.allclose(rows["prediction"], theta(history, 6, 24)) and np.allclose(rows["q0.5"], rows["prediction"])
    spread = np.mean(np.abs(np.diff(history)))
    assert np.allclose(rows["q0.1"], rows["prediction"] - spread)
    assert np.allclose(rows["q0.9"], rows["prediction"] + 2 * spread)


def test_the_horizon_and_the_quantiles_are_chosen_at_predict_time(make_frame):
    frame = make_frame(n_series=2, length=80)
    predictor = _predictor(frame)                      # trained horizon 6, quantiles 0.1, 0.5, 0.9
    full = predictor.predict(_raw(frame))
    out = predictor.predict(_raw(frame), horizon=3, quantiles=(0.1, 0.25, 0.9))
    assert list(out.columns) == ["series_id", "timestamp", "step", "prediction", "q0.1", "q0.25", "q0.9", "method"]
    first = full[full["step"] <= 3].reset_index(drop=True)
    assert len(out) == 6
    assert np.allclose(out["q0.1"], first["q0.1"])
    assert np.allclose(out["prediction"], first["prediction"])
    assert np.allclose(out["q0.25"], first["q0.1"] + 0.375 * (first["q0.5"] - first["q0.1"]))   # linear in the level
    for horizon, quantiles, message in ((7, None, "horizon must be a whole number from 1 to 6"),
                                        (0, None, "from 1 to 6"),
                                        (None, (0.05,), "quantile 0.05 is outside the trained levels 0.1..0.9"),
                                        (None, (0.5, 0.2, 0.5), "quantiles: 0.5 given twice; give each level once")):
        with pytest.raises(DataError, match=message.replace("(", r"\(")):
            predictor.predict(_raw(frame), horizon=horizon, quantiles=quantiles)


def test_a_series_on_the_old_rule_gets_intervals_from_its_in_sample_errors(make_frame):
    frame = make_frame(n_series=2, length=80)
    predictor = _predictor(frame)
    short = make_frame(n_series=1, length=12, seed=3).assign(series_id="short")
    rows = predictor.predict(_raw(pd.concat([frame, short], ignore_index=True))).query("series_id == 'short'")
    assert (rows["method"] == "naive").all() and rows[["q0.1", "q0.5", "q0.9"]].notna().all().all()
    assert (rows["q0.1"] <= rows["prediction"]).all() and (rows["prediction"] <= rows["q0.9"]).all()
    width = (rows["q0.9"] - rows["q0.1"]).to_numpy()
    assert np.allclose(width / width[0], np.sqrt(np.arange(1, 7)))   # a random walk's growth, step by step
