"""The Theta method: finite on awkward histories, statsmodels' own forecasts with a fast smoothing fit."""
import numpy as np
import pytest

from forecast.models.theta import _grid_sse, theta

rng = np.random.default_rng(0)


@pytest.mark.parametrize("history", [np.full(30, 7.0), np.arange(5.0), np.r_[np.zeros(20), -np.ones(10)]])
def test_theta_on_a_flat_short_or_signed_history_is_finite(history):
    forecast = theta(history, 6, 4)
    assert forecast.shape == (6,) and np.isfinite(forecast).all()


@pytest.mark.parametrize("n, season, level", [(40, 4, 100), (150, 12, 100), (600, 24, 100), (90, 1, 100),
                                             (120, 12, -100)])   # a negative level: additive seasonality
def test_theta_is_statsmodels_theta_model_with_a_fast_smoothing_fit(n, season, level):
    """Only the smoothing weight's fit and the forecast formula's arithmetic are ours (ses_alpha, _forecast): the
    forecasts are statsmodels' own to 1e-3."""
    import warnings

    from statsmodels.tsa.forecasting.theta import ThetaModel

    local = np.random.default_rng(n)
    y = level + np.cumsum(local.normal(size=n)) + 5 * np.sin(np.arange(n) * 2 * np.pi / season)
    seasonal = season > 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = np.asarray(ThetaModel(y, period=season if seasonal else 1,
                                          deseasonalize=seasonal).fit().forecast(12))
    np.testing.assert_allclose(theta(y, 12, season), reference, rtol=1e-3)


@pytest.mark.parametrize("n", [2, 3, 30, 200])
def test_the_grid_of_smoothing_weights_at_once_is_lfilter_to_the_last_bit(n):
    """_grid_sse replaces one lfilter pass per weight on short series: it must pick the same start, so the same
    floats, not close ones (series of every scale and sign)."""
    from scipy.signal import lfilter

    local, grid = np.random.default_rng(n), np.linspace(0.01, 0.99, 50)
    for _ in range(40):
        y = local.normal(size=n).cumsum() * 10 ** local.uniform(-3, 6) + local.normal() * 100
        one_pass_each = [np.sum((y[1:] - lfilter([a], [1.0, a - 1.0], y, zi=[(1.0 - a) * y[0]])[0][:-1]) ** 2)
                         for a in grid]
        assert _grid_sse(y, grid).tolist() == one_pass_each
