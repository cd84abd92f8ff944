import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.data.calendar import calendar_features

PANDAS = {  # the positions as pandas' DatetimeIndex fields give them: the definition the arithmetic must match
    "hour": lambda t: t.hour + t.minute / 60.0,
    "dayofweek": lambda t: t.dayofweek + t.hour / 24.0,
    "dayofyear": lambda t: t.dayofyear - 1.0,
    "month": lambda t: t.month - 1.0,
}
LENGTH = {"hour": 24.0, "dayofweek": 7.0, "dayofyear": 365.25, "month": 12.0}


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(min_value=pd.Timestamp.min.value, max_value=pd.Timestamp.max.value), min_size=1,
                max_size=40))
def test_calendar_positions_are_pandas_fields_before_and_after_1970(nanoseconds):
    t = pd.DatetimeIndex(np.array(nanoseconds, dtype="datetime64[ns]"))
    periods = tuple(PANDAS)
    ours = calendar_features(t.to_numpy(), periods)
    for i, name in enumerate(periods):
        angle = 2.0 * np.pi * np.asarray(PANDAS[name](t), dtype=np.float64) / LENGTH[name]
        np.testing.assert_allclose(ours[:, 2 * i], np.sin(angle).astype(np.float32), atol=1e-6)
        np.testing.assert_allclose(ours[:, 2 * i + 1], np.cos(angle).astype(np.float32), atol=1e-6)


def test_a_series_an_index_and_an_array_give_the_same_features():
    t = pd.date_range("2023-12-31 22:30", periods=5, freq="h")
    expected = calendar_features(t.to_numpy(), ("hour", "dayofweek", "dayofyear", "month"))
    for given_as in (pd.Series(t), t):
        np.testing.assert_array_equal(calendar_features(given_as, ("hour", "dayofweek", "dayofyear", "month")),
                                      expected)
