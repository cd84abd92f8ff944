"""The season of integer-time panels: found from the panel's median autocorrelation of the differences, with
the share of series that pass on their own reported."""
import numpy as np
import pandas as pd

from forecast.data.schema import ID, TARGET
from forecast.data.season import detect_season

rng = np.random.default_rng(0)


def _panel(series: list[np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame({ID: np.repeat(np.arange(len(series)), [len(s) for s in series]),
                         TARGET: np.concatenate(series)})


def test_a_quarterly_panel_with_trends_is_found_quarterly_and_most_series_pass():
    t = np.arange(60)
    series = [5 * t + 20 * np.tile([1, -1, 0.5, -0.5], 15) + rng.normal(0, 3, 60) for _ in range(30)]
    found = detect_season(_panel(series))
    assert found.season == 4 and found.series == 30 and found.passing[4] > 0.9
    assert found.passing[5] < 0.2


def test_random_walks_have_no_season_and_about_five_percent_pass_by_chance():
    series = [np.cumsum(rng.normal(size=80)) for _ in range(200)]
    found = detect_season(_panel(series))
    assert found.season == 1 and all(share < 0.12 for share in found.passing.values())
