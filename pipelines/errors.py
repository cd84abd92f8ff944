"""Errors the CLI turns into one line and a non-zero exit. Anything else is a bug and keeps its traceback."""
from forecast.data.errors import DataError
from forecast.models.config import ConfigError


class ForecastError(RuntimeError):
    """A pipeline cannot do what was asked (unknown model URI, nothing to forecast, ...)."""


USER_ERRORS = (DataError, ConfigError, ForecastError)
