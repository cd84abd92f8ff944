"""The fast ETS member: the grid's AICc-best of simple and damped-trend smoothing, with the season put back."""
import numpy as np
import pytest

from forecast.models.ets import fast_ets

rng = np.random.default_rng(0)


def _smooth(y: np.ndarray, alpha: float, beta: float, phi: float, level: float, trend: float):
    """The additive damped-trend recursion, written out, for one parameter set."""
    for value in y:
        fitted = level + phi * trend
        level, trend = fitted + alpha * (value - fitted), phi * trend + beta * (value - fitted)
    return level, trend


def test_a_flat_noisy_series_gets_a_flat_forecast_at_its_smoothed_level():
    y = 50 + rng.normal(0, 1, 80)
    forecast = fast_ets(y, 6, 1)
    assert np.ptp(forecast) < 1e-9 and abs(forecast[0] - 50) < 1.0


def test_a_trend_is_carried_damped_and_matches_the_recursion_at_the_chosen_point():
    t = np.arange(60.0)
    y = 10 + 2 * t + rng.normal(0, 0.5, 60)
    forecast = fast_ets(y, 8, 1)
    steps = np.diff(forecast)
    assert (steps > 0).all() and (np.diff(steps) <= 1e-9).all()    # rising, more slowly each step (damped)
    assert abs(forecast[0] - (10 + 2 * 60)) < 3.0
    # the same forecast as the recursion written out at one of the grid's points (the one the fit chose)
    slope, intercept = np.polyfit(np.arange(10), y[:10], 1)
    found = [(a, r, p) for a in (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99)
             for r in (0.01, 0.05, 0.1, 0.2, 0.4) for p in (0.8, 0.9, 0.95, 0.98)
             if np.allclose(forecast, (lambda lv, tr: lv + np.cumsum(p ** np.arange(1, 9)) * tr)(
                 *_smooth(y, a, a * r, p, intercept, slope)))]
    assert len(found) >= 1


def test_a_season_is_taken_out_and_put_back():
    t = np.arange(96.0)
    y = 100 + 20 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, 96)
    forecast = fast_ets(y, 12, 12)
    expected = 100 + 20 * np.sin(2 * np.pi * np.arange(96, 108) / 12)
    assert np.abs(forecast - expected).mean() < 3.0


@pytest.mark.parametrize("history", [np.array([4.0]), np.array([4.0, 5.0]), np.full(30, 7.0), np.arange(5.0),
                                     np.r_[np.zeros(20), -np.ones(10)]])
def test_short_flat_or_signed_histories_are_finite(history):
    forecast = fast_ets(history, 5, 4)
    assert forecast.shape == (5,) and np.isfinite(forecast).all()
