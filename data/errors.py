"""The one error type of the data layer: a user's input is unusable, and the message says where."""


class DataError(ValueError):
    """Bad input data. The message names the file, column, series and first offending rows as relevant."""


def cut(value, limit: int = 100) -> str:
    """A value as echoed in a message: at most `limit` characters (a 1 MB cell is not printed whole)."""
    text = str(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def some(values, limit: int = 10) -> str:
    """The first `limit` of many values (series ids) as a message lists them: each quoted and cut, then ' ...'."""
    values = list(values)
    return ", ".join(repr(cut(v)) for v in values[:limit]) + (" ..." if len(values) > limit else "")
