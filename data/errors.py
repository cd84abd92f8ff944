"""The one error type of the data layer: a user's input is unusable, and the message says where."""


class DataError(ValueError):
    """Bad input data. The message names the file, column, series and first offending rows as relevant."""
