"""Reading and writing tables: the only module of data/ that touches the disk."""
import bz2
import csv
import gzip
import lzma
from pathlib import Path

import pandas as pd

from data.errors import DataError

_PARQUET = (".parquet", ".pq")
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def _kind(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _PARQUET:
        return "parquet"
    return "csv"  # .csv, .csv.gz, .txt ...: pandas infers compression from the extension


def _header(path: Path) -> tuple[str, list[str]]:
    """The delimiter (comma, semicolon, tab or pipe, sniffed from the header line) and the raw column names.

    Read here because pandas silently renames duplicated columns (`a`, `a.1`) and assumes commas."""
    opener = _OPENERS.get(path.suffix.lower(), open)
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            first = handle.readline()
    except UnicodeDecodeError:
        raise DataError(f"{path}: is not a UTF-8 text CSV file (binary data?)") from None
    except (OSError, EOFError, lzma.LZMAError) as err:
        raise DataError(f"{path}: cannot be read: {err}") from None
    if not first.strip():
        raise DataError(f"{path}: is empty (no header line)")
    try:
        delimiter = csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    return delimiter, next(csv.reader([first], delimiter=delimiter))


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a long-format table from CSV (optionally compressed; comma, semicolon, tab or pipe separated;
    quoted numbers may use thousands separators) or Parquet, chosen by extension."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a CSV or Parquet file")
    try:
        if _kind(path) == "parquet":
            frame = pd.read_parquet(path)
            names = [str(c) for c in frame.columns]
        else:
            delimiter, names = _header(path)
            # with commas as delimiters, a comma inside a number can only be a quoted thousands separator
            frame = pd.read_csv(path, sep=delimiter, encoding="utf-8-sig", thousands="," if delimiter == "," else None)
    except DataError:
        raise
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataError(f"{path}: cannot be read as {_kind(path).upper()}: {first}") from None
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise DataError(f"{path}: duplicated column name(s): {', '.join(duplicated)}")
    if frame.empty:
        raise DataError(f"{path}: has no data rows")
    return frame


def read_validated(path: str | Path, validate):
    """`validate(read_table(path))`, with every data error prefixed by the file it is about."""
    try:
        return validate(read_table(path))
    except DataError as err:
        message = str(err)
        raise DataError(message if message.startswith(str(path)) else f"{path}: {message}") from None


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as CSV or Parquet, chosen by extension; parent folders are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if _kind(path) == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path
