"""Every statistical member (models/members.py) keeps one contract, checked on each registered member, and a new
member needs nothing but its line in the registry: the contract tests and the combination's choice pick it up."""
import numpy as np
import pytest

from forecast.models import members
from forecast.models.combination import choose
from forecast.models.ets import fast_ets
from forecast.models.members import HISTORY, MEMBERS, forecasts, names, window_forecasts
from forecast.models.theta import theta


def check_contract(name: str) -> None:
    """Length, finite output, a constant series forecast as that constant, short histories (down to one point),
    season 1 and 12."""
    rng = np.random.default_rng(0)
    t = np.arange(60.0)
    seasonal = 50 + 0.2 * t + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.5, 60)
    for season in (1, 12):
        for history in (seasonal, seasonal[:13], seasonal[:5], seasonal[:2], seasonal[:1]):
            f = forecasts(history, 7, season, (name,))
            assert f.shape == (1, 7) and np.isfinite(f).all(), (name, season, len(history))
        np.testing.assert_allclose(forecasts(np.full(30, 4.0), 5, season, (name,))[0], 4.0, err_msg=name)


@pytest.mark.parametrize("name", names())
def test_every_member_keeps_the_contract(name):
    check_contract(name)


def test_members_forecast_a_series_as_each_method_does():
    history = np.arange(1.0, 13.0)                     # 1..12, season 4
    f = dict(zip(names(), forecasts(history, 6, 4)))
    assert np.allclose(f["naive"], 12.0) and np.allclose(f["seasonal_naive"], [9, 10, 11, 12, 9, 10])
    assert np.allclose(f["theta"], theta(history, 6, 4)) and np.allclose(f["ets"], fast_ets(history, 6, 4))
    assert np.allclose(f["drift"], np.arange(13.0, 19.0))
    two = dict(zip(names(), forecasts(np.array([5.0, 6.0]), 3, 4)))   # a fitted member needs 3 points: naive
    assert np.allclose(two["theta"], 6.0) and np.allclose(two["drift"], [7, 8, 9])


def test_every_member_sees_the_last_history_points_only_and_windows_see_their_own_series():
    long = np.r_[np.full(5000, 1000.0), np.arange(HISTORY, dtype=float)]        # the far past: another level
    assert np.allclose(forecasts(long, 3, 1, ("drift",)), forecasts(long[-HISTORY:], 3, 1, ("drift",)))
    raw = np.r_[np.arange(10.0), 100 + np.arange(20.0)]                         # two series: rows 0-9, 10-29
    out = window_forecasts(raw, np.array([8, 25]), np.array([0, 10]), 2, 1, ("naive", "drift"))
    assert out.shape == (2, 2, 2)
    assert np.allclose(out[0], [[7, 7], [8, 9]]) and np.allclose(out[1], [[114, 114], [115, 116]])


def test_a_member_added_to_the_registry_is_checked_and_chosen_with_no_other_edit(monkeypatch):
    """A constant forecast (the history's mean), registered in one line: the contract holds for it, and where it is
    the truth, the network's combination weighs it."""
    monkeypatch.setitem(members.MEMBERS, "mean", lambda history, horizon, season: np.full(horizon, np.mean(history)))
    assert names()[-1] == "mean"
    check_contract("mean")
    rng = np.random.default_rng(0)
    histories = rng.normal(0, 1, (200, 40))
    y = np.repeat(histories.mean(axis=1, keepdims=True), 4, axis=1)             # the truth: each history's mean
    f = np.stack([forecasts(h, 4, 1) for h in histories])                       # every member, the new one too
    assert f.shape == (200, len(MEMBERS), 4)
    chosen, errors = choose(y + rng.normal(0, 1, y.shape), f, names(), y, np.arange(200))
    assert chosen.weights.get("mean", 0) > 0.5 and set(errors) >= {"network", "mean"}
