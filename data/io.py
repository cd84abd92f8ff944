"""Reading and writing tables: the only module of data/ that touches the disk."""
from pathlib import Path

import pandas as pd

from data.errors import DataError

_PARQUET = (".parquet", ".pq")


def _kind(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _PARQUET:
        return "parquet"
    return "csv"  # .csv, .csv.gz, .txt ...: pandas infers compression from the extension


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a long-format table from CSV (optionally compressed) or Parquet, chosen by extension."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a CSV or Parquet file")
    try:
        if _kind(path) == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, encoding="utf-8-sig")  # utf-8-sig drops a BOM
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataError(f"{path}: cannot be read as {_kind(path).upper()}: {first}") from None
    if frame.empty:
        raise DataError(f"{path}: has no data rows")
    return frame


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as CSV or Parquet, chosen by extension; parent folders are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if _kind(path) == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path
