"""The short-series forecast: the choice on validation, intervals, the saved form."""
import numpy as np

from forecast.models.members import names
from forecast.models.short_series import Bucket, Fallback, choose, length_edges, naive_intervals, scale_of

MEMBERS = names()


def by_name(**weights) -> dict[str, float]:
    return {m: weights[m] for m in MEMBERS if weights.get(m)}


def test_a_series_scale_is_its_mean_absolute_change():
    assert scale_of(np.array([1.0, 3.0, 2.0])) == 1.5
    assert scale_of(np.array([4.0])) == 4.0
    assert scale_of(np.zeros(3)) == 1


def _cases(n, better_by, seed=0):
    """Validation cases where Theta beats the old rule (seasonal naive) by `better_by`; every other member is poor."""
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(n, 4))
    noise = {"theta": 1.0, "seasonal_naive": 1.0 + better_by}
    forecasts = np.stack([y + rng.normal(0, noise.get(name, 3.0), (n, 4)) for name in MEMBERS], axis=1)
    return forecasts, y


def test_the_member_or_mix_that_validated_best_forecasts_and_seasonal_naive_only_where_it_was_best():
    forecasts, y = _cases(300, better_by=1.0)
    chosen, errors = choose(forecasts, MEMBERS, y, np.ones(len(y)), (0.1, 0.5, 0.9))
    assert chosen.weights.get("theta", 0) > 0.5 and Fallback((chosen,)).method(10, True).startswith("theta")
    assert errors["combination"] < errors["old_rule"] and set(errors) >= set(MEMBERS)
    forecasts, y = _cases(300, better_by=0.0)
    old = MEMBERS.index("seasonal_naive")
    forecasts[:, [i for i in range(len(MEMBERS)) if i != old]] = forecasts[:, old:old + 1] + 2.0   # all worse
    same, _ = choose(forecasts, MEMBERS, y, np.ones(300), (0.1, 0.5, 0.9))
    assert same.weights == by_name(seasonal_naive=1.0) and Fallback((same,)).method(10, True) == "seasonal_naive"
    assert Fallback((same,)).method(10, False) == "naive"
    # a Theta that validated better on a few series forecasts them (no gate), its intervals from the history's own
    # in-sample errors: a handful of validation cases cannot give error quantiles
    forecasts, y = _cases(3, better_by=3.0)
    few, errors = choose(forecasts, MEMBERS, y, np.ones(3), (0.1, 0.5, 0.9))
    assert few.weights.get("theta", 0) > 0 and errors["combination"] <= errors["old_rule"] and not few.levels
    history = np.array([10.0, 12.0, 11.0, 14.0, 12.0, 15.0, 13.0, 17.0, 14.0])
    point, q = Fallback((few,)).forecast(history, 4, 1, (0.1, 0.5, 0.9))
    np.testing.assert_allclose(q, naive_intervals(history, point, 1, (0.1, 0.5, 0.9)))
    assert (q[:, 0] < point).all() and (q[:, 2] > point).all()


def test_the_intervals_come_from_validation_errors_and_centre_on_the_point():
    forecasts, y = _cases(400, better_by=1.0)
    chosen, _ = choose(forecasts, MEMBERS, y, np.ones(len(y)), (0.1, 0.5, 0.9))
    history = np.array([10.0, 12.0, 11.0, 13.0, 12.0, 14.0])
    point, q = Fallback((chosen,)).forecast(history, 4, 1, (0.1, 0.5, 0.9))
    assert np.allclose(q[:, 1], point) and (q[:, 0] < point).all() and (q[:, 2] > point).all()
    residual = (y - np.einsum("m,nmh->nh", np.array([chosen.weights.get(m, 0.0) for m in MEMBERS]), forecasts))
    expected = np.quantile(residual, 0.9, axis=0) - np.quantile(residual, 0.5, axis=0)
    assert np.allclose(q[:, 2] - point, scale_of(history) * expected)
    again = Fallback.from_dict(Fallback((chosen,)).to_dict())
    assert again == Fallback((chosen,)) and Fallback.from_dict(Fallback().to_dict()).is_default


def test_the_old_rule_takes_its_intervals_from_the_history_s_in_sample_errors():
    history = np.r_[np.arange(10.0), 3.0, 14.0]
    point, q = Fallback().forecast(history, 3, 4, (0.1, 0.5, 0.9))
    assert np.allclose(point, [8, 9, 3])
    np.testing.assert_allclose(q, naive_intervals(history, point, 4, (0.1, 0.5, 0.9)))
    assert (q[:, 2] > q[:, 0]).all()


def test_each_range_of_history_lengths_has_its_own_combination():
    """Members change what they do at a season (seasonal naive repeats it) and at two (Theta deseasonalises)."""
    assert length_edges(12, 20) == (1, 12) and length_edges(4, 20) == (1, 4, 8) and length_edges(1, 20) == (1,)
    assert length_edges(24, 24) == (1,)
    fallback = Fallback((Bucket(1), Bucket(4, by_name(drift=1.0)), Bucket(8, by_name(theta=1.0))))
    history = np.arange(1.0, 11.0)
    assert fallback.method(3, True) == "seasonal_naive" and fallback.method(5, True) == "drift"
    assert fallback.method(10, True) == "theta"
    assert np.allclose(fallback.forecast(history[:5], 2, 4, (0.5,))[0], [6, 7])     # drift from 1..5
    assert np.allclose(fallback.forecast(history[:3], 2, 4, (0.5,))[0], [3, 3])     # under a season: naive
