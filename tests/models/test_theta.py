"""The Theta method: finite on awkward histories, statsmodels' own forecasts with a fast smoothing fit; the optimised
Theta model: the two theta lines it is defined by, statsforecast's forecasts."""
import numpy as np
import pytest

from forecast.models.theta import _grid_sse, fit_optimized_theta, optimized_theta, theta

rng = np.random.default_rng(0)


@pytest.mark.parametrize("history", [np.full(30, 7.0), np.arange(5.0), np.r_[np.zeros(20), -np.ones(10)]])
@pytest.mark.parametrize("method", [theta, optimized_theta])
def test_theta_on_a_flat_short_or_signed_history_is_finite(history, method):
    forecast = method(history, 6, 4)
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


def _theta_lines(y: np.ndarray, alpha: float, level0: float, coefficient: float, horizon: int):
    """The optimised Theta model by its definition (Fiorucci et al. 2016), step by step: the line A + B t through the
    history (t = 1..n), the theta line Z = theta y + (1 - theta) (A + B t) smoothed from theta * level0, each value
    fitted as (1 - 1/theta) (A + B t) + (1/theta) (the smoothed Z before it). Returns the one-step errors' sum of
    squares and the forecast."""
    n = len(y)
    t = np.arange(1, n + horizon + 1, dtype=np.float64)
    slope, intercept = np.polyfit(t[:n], y, 1)
    line = intercept + slope * t
    z = coefficient * y + (1 - coefficient) * line[:n]
    smoothed, sse = coefficient * level0, 0.0
    for i in range(n):
        sse += (y[i] - ((1 - 1 / coefficient) * line[i] + smoothed / coefficient)) ** 2
        smoothed = alpha * z[i] + (1 - alpha) * smoothed
    return sse, (1 - 1 / coefficient) * line[n:] + smoothed / coefficient


def test_the_optimised_theta_model_is_its_two_theta_lines_at_the_least_squares_optimum():
    """The closed form (a level and a trend term linear in the initial level and 1 - 1/theta) is the definition's
    forecast, and no nearby parameters fit the one-step errors better."""
    local = np.random.default_rng(3)                 # a series whose optimum is inside the bounds
    y = 100 + np.cumsum(local.normal(0.5, 2.0, 45)) + local.normal(0, 3.0, 45)
    alpha, level0, coefficient = fit_optimized_theta(y)
    assert 0.1 < alpha < 0.99 and 1 < coefficient < 10
    sse, forecast = _theta_lines(y, alpha, level0, coefficient, 6)
    np.testing.assert_allclose(optimized_theta(y, 6, 1), forecast, rtol=1e-9)
    for a, l0, c in [(alpha + 0.02, level0, coefficient), (alpha - 0.02, level0, coefficient),
                     (alpha, level0 + 1.0, coefficient), (alpha, level0 - 1.0, coefficient),
                     (alpha, level0, coefficient * 1.1), (alpha, level0, max(1.0, coefficient * 0.9))]:
        assert _theta_lines(y, min(max(a, 0.1), 0.99), l0, c, 6)[0] >= sse - 1e-9


def test_the_optimised_theta_model_carries_a_straight_line_on_where_the_standard_one_halves_its_slope():
    y = 10.0 + 0.5 * np.arange(30)
    np.testing.assert_allclose(optimized_theta(y, 4, 1), 10.0 + 0.5 * np.arange(30, 34), rtol=1e-6)
    assert theta(y, 4, 1)[-1] < 10.0 + 0.5 * 32


# statsforecast 2.1.1's OptimizedTheta(season_length=m).forecast(y=y, h=6)["mean"] on these series (its own fit, Nelder-
# Mead from theta 2, alpha 0.5, the level at y[0] / 2; the season by its own decomposition), computed in the harness's
# venv: statsforecast is not a dependency of this package (it requires pandas < 3).
_T = np.arange(40.0)
STATSFORECAST = [
    (100 + 2.0 * _T + 5 * np.sin(_T * 1.3), 1,
     [179.6183, 181.5989, 183.5795, 185.5601, 187.5406, 189.5212], 1e-3),
    (20 + np.cos(_T * 2.1) * 2 + np.sin(_T * 0.37) * 3, 1,
     [23.6523, 23.6434, 23.6345, 23.6255, 23.6166, 23.6077], 5e-3),
    (50 + 0.5 * _T + 10 * np.tile([1.0, -0.5, -1.2, 0.7], 10) + 3 * np.cos(_T * 0.7), 4,   # statsmodels' decomposition
     [78.7323, 62.1951, 54.3293, 76.9764, 80.9229, 63.9136], 2e-2),
]


@pytest.mark.parametrize("y, season, expected, rtol", STATSFORECAST)
def test_the_optimised_theta_model_forecasts_as_statsforecast_does(y, season, expected, rtol):
    np.testing.assert_allclose(optimized_theta(y, 6, season), expected, rtol=rtol)
