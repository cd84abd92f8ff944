"""Public holidays as known-future inputs (`--holidays AU-VIC`): for every timestamp, a flag for a public
holiday of that country or region, and flags for the day before and the day after one (a long weekend, the
eve of Christmas). Computed from the date alone, so predict and serve need no holiday column from the user.

The calendars are the `holidays` package's (country codes, and regions as COUNTRY-REGION: AU-VIC, US-CA,
GB-ENG). It is imported only where a model uses it: a logged model without holidays loads without the package.
"""
import functools

import numpy as np

from forecast.data.errors import DataError

NAMES = ("holiday", "holiday_before", "holiday_after")


def _calendar(code: str, years):
    import holidays  # only for a model that uses it (the module docstring)

    country, _, region = code.upper().partition("-")
    try:
        return holidays.country_holidays(country, subdiv=region or None, years=years)
    except NotImplementedError as err:
        raise DataError(f"--holidays {code!r}: {err}; give a country or region code of the `holidays` package "
                        "(AU, AU-VIC, US, US-CA, GB-ENG, ...)") from None


def check(code: str) -> str:
    """The code, refused in one line where the `holidays` package does not know it."""
    _calendar(code, [2000])
    return code


@functools.lru_cache(maxsize=64)
def _dates(code: str, first: int, last: int) -> np.ndarray:
    """The holidays of years first..last (inclusive), once per process: building a calendar takes about a
    millisecond, and every prediction request asks for the same few years."""
    return np.array(sorted(_calendar(code, range(first, last + 1))), dtype="datetime64[D]")


def holiday_features(timestamps, code: str) -> np.ndarray:
    """(n,) timestamps -> (n, 3) float32: on a holiday, on the day before one, on the day after one."""
    days = np.asarray(timestamps, dtype="datetime64[ns]").astype("datetime64[D]")
    if not len(days):
        return np.zeros((0, len(NAMES)), dtype=np.float32)
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    dates = _dates(code, int(years.min()) - 1, int(years.max()) + 1)
    one = np.timedelta64(1, "D")
    return np.column_stack([np.isin(days, dates), np.isin(days + one, dates),
                            np.isin(days - one, dates)]).astype(np.float32)
