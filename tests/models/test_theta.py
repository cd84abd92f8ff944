"""The combination with Theta: the weight is chosen on validation windows and stays 0 unless its gain is
significant."""
import numpy as np
import pytest

from forecast.models.theta import WEIGHTS, _grid_sse, choose_weight, theta, with_theta

rng = np.random.default_rng(0)
Y = rng.normal(size=(200, 6))
Q = np.stack([Y - 1, Y, Y + 1], axis=-1)          # quantiles around the truth
EACH = np.arange(200)                              # every window its own group


def test_blend_moves_the_centre_and_keeps_the_interval():
    target = np.zeros((200, 6))
    out = with_theta(Q, 1, target, 0.25)
    np.testing.assert_allclose(out[:, :, 1], 0.75 * Y)
    np.testing.assert_allclose(out[:, :, 2] - out[:, :, 0], 2.0)
    assert with_theta(Q, 1, target, 0.0) is Q


def test_a_worse_theta_gets_no_weight_and_a_complementary_one_gets_some():
    weight, errors = choose_weight(Q, 1, Y + rng.normal(size=Y.shape), Y, EACH)   # the network is exact: no Theta
    assert weight == 0.0 and set(errors) == set(WEIGHTS)
    off = rng.normal(size=Y.shape)
    network = np.stack([Y + off - 1, Y + off, Y + off + 1], axis=-1)             # two independent errors: the
    weight, errors = choose_weight(network, 1, Y - off, Y, EACH)                 # average of both is exact
    assert weight == 0.5 and errors[0.5] < errors[0.25] < errors[0.0]


def test_a_gain_within_the_noise_keeps_the_network_alone():
    """Theta helps 52 % of the windows as much as it hurts the other 48 %: a gain, but not a significant one."""
    sign = np.where(np.arange(200) < 104, 1.0, -1.0)[:, None]
    network = Q + 1.0                                                            # off by +1 everywhere
    weight, errors = choose_weight(network, 1, Y + 1.0 - 0.9 * sign, Y, EACH)
    assert weight == 0.0 and errors[0.5] < errors[0.0]
    # the same gain, 25 times over (a larger sample): now significant
    weight, _ = choose_weight(np.repeat(network, 25, axis=0), 1, np.repeat(Y + 1.0 - 0.9 * sign, 25, axis=0),
                              np.repeat(Y, 25, axis=0), np.arange(5000))
    assert weight == 0.5


def test_windows_of_one_group_count_once():
    """The complementary case again, but all windows in one group (one series, overlapping windows): no test."""
    off = rng.normal(size=Y.shape)
    network = np.stack([Y + off - 1, Y + off, Y + off + 1], axis=-1)
    assert choose_weight(network, 1, Y - off, Y, np.zeros(200))[0] == 0.0


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
        reference = np.asarray(ThetaModel(y, period=season if seasonal else 1, deseasonalize=seasonal).fit().forecast(12))
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
