"""The pretraining corpus: reproducible, finite, within its bounds, and its seasons real."""
import numpy as np
import pytest

from forecast.data.synthetic import FAMILIES, PERIODS, corpus, series


def test_the_same_seed_gives_the_same_corpus_and_another_seed_another():
    a, b, c = corpus(40, seed=3), corpus(40, seed=3), corpus(40, seed=4)
    assert a.equals(b)
    assert not a["value"].equals(c["value"])


def test_series_lengths_periods_and_families_stay_within_their_bounds():
    frame = corpus(200, seed=0, min_length=10, max_length=300)
    per_series = frame.groupby("series_id").agg(n=("value", "size"), period=("period", "first"),
                                                family=("family", "first"))
    assert per_series["n"].between(10, 300).all()
    assert set(per_series["period"]) <= set(PERIODS) and set(per_series["family"]) <= set(FAMILIES)
    assert len(set(per_series["family"])) == len(FAMILIES)   # 200 draws meet every family
    assert np.isfinite(frame["value"]).all()
    assert (frame.groupby("series_id")["time"].diff().dropna() == 1).all()


@pytest.mark.parametrize("family", ["kernel", "ets", "arima"])
def test_a_seasonal_family_repeats_at_its_period(family):
    """Over 40 series of period 12, the lag-12 autocorrelation of the differenced series exceeds the lag-6 one in
    most: the season is in the data, not only in the label."""
    rng = np.random.default_rng(0)
    wins = 0
    for _ in range(40):
        y = np.diff(series(rng, family, 12, 240))
        y = y - y.mean()
        acf = lambda k: (y[k:] * y[:-k]).sum() / (y * y).sum()  # noqa: E731
        wins += acf(12) > acf(6)
    assert wins >= 24


def test_intermittent_demand_is_mostly_zero_and_never_negative():
    y = series(np.random.default_rng(1), "intermittent", 1, 500)
    assert (y >= 0).all() and 0.2 < (y == 0).mean() < 0.99


def test_a_corpus_with_impossible_bounds_is_refused():
    with pytest.raises(ValueError, match="min_length"):
        corpus(5, seed=0, min_length=50, max_length=20)
