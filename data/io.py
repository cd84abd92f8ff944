"""Reading and writing tables: the only module of data/ that touches the disk."""
import bz2
import csv
import gzip
import logging
import lzma
from pathlib import Path

import pandas as pd

from data.errors import DataError
from data.schema import ID_NAMES

log = logging.getLogger("forecast")

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


def _no_nul_bytes(path: Path) -> None:
    """A NUL byte has no place in a text table: pandas would read it into a value without a word."""
    opener = _OPENERS.get(path.suffix.lower(), open)
    offset = 0
    with opener(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            if (at := chunk.find(b"\0")) >= 0:
                raise DataError(f"{path}: has a NUL byte at byte {offset + at}: not a clean text file "
                                "(a binary export or a broken encoding, such as UTF-16?)")
            offset += len(chunk)


def _drop_empty_unnamed(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Columns without a name and without a value (a trailing delimiter on every line) are dropped, said."""
    empty = [c for c in frame.columns if (not c or c.startswith("Unnamed: ")) and frame[c].isna().all()]
    if empty:
        log.warning(f"{path}: dropped {len(empty)} empty column(s) without a name (a delimiter at the end of "
                    "every line?)")
    return frame.drop(columns=empty)


def read_table(path: str | Path, text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a long-format table from CSV (optionally compressed; comma, semicolon, tab or pipe separated;
    quoted numbers may use thousands separators) or Parquet, chosen by extension. Column names are stripped of
    surrounding spaces; series ids (the conventional id names and `text_columns`) are read as text, so that
    "007" and "7" stay two series."""
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
            _no_nul_bytes(path)
            text = {n: str for n in names if n.strip().lower() in ID_NAMES or n.strip() in text_columns}
            # with commas as delimiters, a comma inside a number can only be a quoted thousands separator
            frame = pd.read_csv(path, sep=delimiter, encoding="utf-8-sig", thousands="," if delimiter == "," else None,
                                dtype=text)
    except DataError:
        raise
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataError(f"{path}: cannot be read as {_kind(path).upper()}: {first}") from None
    names = [n.strip() for n in names]
    duplicated = sorted({n for n in names if names.count(n) > 1 and n})
    if duplicated:
        raise DataError(f"{path}: duplicated column name(s): {', '.join(duplicated)}")
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = _drop_empty_unnamed(frame, path)
    if frame.empty:
        raise DataError(f"{path}: has no data rows")
    return frame


def read_validated(path: str | Path, validate, text_columns: tuple[str, ...] = ()):
    """`validate(read_table(path, text_columns))`, with every data error prefixed by the file it is about."""
    try:
        return validate(read_table(path, text_columns))
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
