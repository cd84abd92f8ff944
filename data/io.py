"""Reading and writing tables: the only module of data/ that touches the disk."""
import bz2
import csv
import gzip
import io
import logging
import lzma
import re
import zlib
from pathlib import Path

import pandas as pd
from pandas.io.parsers.readers import STR_NA_VALUES

from forecast.data.errors import DataError, cut
from forecast.data.schema import ID_NAMES

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
    return _delimiter_and_names(first)


def _delimiter_and_names(first: str) -> tuple[str, list[str]]:
    """The delimiter sniffed from a header line (comma, semicolon, tab or pipe; comma where none is clear) and
    the column names it splits into."""
    try:
        delimiter = csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    return delimiter, next(csv.reader([first], delimiter=delimiter))


def read_csv_text(text: str, text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """A CSV held in memory (a scoring-server request body) read by the rules of a file: the delimiter sniffed
    from the header line, ids as text, numbers with commas by `comma_numbers`."""
    delimiter, names = _delimiter_and_names(text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r"))
    if (at := text.find("\0")) >= 0:
        start, end = text.rfind("\n", 0, at) + 1, text.find("\n", at)
        line = text[start:end if end >= 0 else len(text)]
        raise DataError(f"{nul_refusal(line, text.count(chr(10), 0, at) + 1, delimiter, names)}; remove them")
    return read_csv(io.StringIO(text), delimiter, names, text_columns)


def _no_nul_bytes(path: Path, delimiter: str, names: list[str]) -> None:
    """A NUL byte has no place in a text table: pandas would read it into a value without a word (a dropped
    character, a cut field). Scanned in chunks; the line that holds the first one is read again to name it."""
    opener = _OPENERS.get(path.suffix.lower(), open)
    lines = 0
    with opener(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            if (at := chunk.find(b"\0")) >= 0:
                lines += chunk.count(b"\n", 0, at)
                break
            lines += chunk.count(b"\n")
        else:
            return
    with opener(path, "rb") as handle:
        for _ in range(lines):
            handle.readline()
        line = handle.readline().decode("utf-8", errors="replace")
    clean = f"tr -d '\\000' < {path} > clean.csv" if opener is open else "tr -d '\\000' on the decompressed text"
    raise DataError(f"{path}: {nul_refusal(line, lines + 1, delimiter, names)}; remove them, e.g. {clean}")


def nul_refusal(line: str, number: int, delimiter: str, names: list[str]) -> str:
    """Where the first NUL byte of `line` (line `number` of a CSV text, 1 = the header) is: the data row (1-based
    under the header, as every refusal counts rows) and the column, by the fields before it."""
    before = line.lstrip("\ufeff")[:line.lstrip("\ufeff").index("\0")]
    try:
        index = len(next(csv.reader([before], delimiter=delimiter), [""])) - 1 if before else 0
    except csv.Error:
        index = -1
    column = repr(cut(names[index])) if 0 <= index < len(names) else f"#{index + 1}" if index >= 0 else "?"
    where = "the header line" if number == 1 else f"data row {number - 1}"
    return f"a NUL byte (\\x00) in {where}, column {column}: not clean text (a truncated copy or a binary export?)"


def _drop_empty_unnamed(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Columns without a name and without a value (a trailing delimiter on every line) are dropped, said."""
    empty = [c for c in frame.columns if (not c or c.startswith("Unnamed: ")) and frame[c].isna().all()]
    if empty:
        log.warning(f"{path}: dropped {len(empty)} empty column(s) without a name (a delimiter at the end of "
                    "every line?)")
    return frame.drop(columns=empty)


# a number written with commas: thousands groups ("1,234", "-1,234,567.5"), or one decimal comma ("8,3", "10,038")
THOUSANDS = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d*)?")
DECIMAL_COMMA = re.compile(r"[-+]?\d*,\d+")
PLAIN = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
NUMBER = f"{PLAIN.pattern}|{THOUSANDS.pattern}|{DECIMAL_COMMA.pattern}"


def read_csv(source, delimiter: str, names: list[str], text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """A CSV (a path or a buffer) with series ids read as text, every spelling kept ("007", and "NA", "None",
    "null": names of series, not missing values), and numbers written with commas read by `comma_numbers`."""
    text = {n: str for n in names if n.strip().lower() in ID_NAMES or n.strip() in text_columns}
    missing = {n: [""] if n in text else sorted(STR_NA_VALUES) for n in names}
    frame = pd.read_csv(source, sep=delimiter, encoding="utf-8-sig", dtype=text, keep_default_na=False,
                        na_values=missing)
    return comma_numbers(frame, exclude=tuple(text))


def comma_numbers(frame: pd.DataFrame, exclude: tuple[str, ...] = ()) -> pd.DataFrame:
    """Text columns whose every value is a number, some written with commas, read as numbers by one rule for the
    whole column: thousands separators where every comma groups thousands and some value can only be read so
    ("1,234.5", "1,234,567"); decimal commas where every comma is one and some value can only be read so ("8,3");
    refused, naming the column and a value, where the column reads both ways ("10,038" alone) or mixes them."""
    for name in frame.columns:
        column = frame[name]
        if name in exclude or not (column.dtype == object or isinstance(column.dtype, pd.StringDtype)):
            continue
        values = column.dropna().astype(str).str.strip()
        has_comma = values.str.contains(",", regex=False)
        if not has_comma.any() or not values.str.fullmatch(NUMBER).all():
            continue
        commas, plain = values[has_comma], values[~has_comma]
        as_thousands = commas.str.fullmatch(THOUSANDS.pattern)
        thousands = as_thousands.all()
        decimal = commas.str.fullmatch(DECIMAL_COMMA.pattern).all() and not plain.str.contains(".", regex=False).any()
        example = commas.iloc[0]
        if thousands and decimal:
            raise DataError(f"column {name!r}: numbers such as {example!r} read as thousands "
                            f"({example.replace(',', '')}) or with a decimal comma ({example.replace(',', '.')}), "
                            "and no value tells which; write decimals with a point, or numbers without thousands "
                            "separators")
        if not (thousands or decimal):
            other = [*commas[as_thousands], *plain[plain.str.contains(".", regex=False)]][0]
            raise DataError(f"column {name!r} mixes decimal commas ({commas[~as_thousands].iloc[0]!r}) with "
                            f"thousands separators or decimal points ({other!r}); write every number of a column "
                            "one way")
        text = column.astype("string").str.strip()
        frame[name] = pd.to_numeric(text.str.replace(",", "" if thousands else ".", regex=False)).astype("float64")
        log.info(f"column {name!r}: numbers read with {'thousands separators' if thousands else 'decimal commas'} "
                 f"(e.g. {example!r} = {frame[name][commas.index[0]]:g})")
    return frame


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
            _no_nul_bytes(path, delimiter, names)
            frame = read_csv(path, delimiter, names, text_columns)
    except DataError:
        raise
    except (ValueError, OSError, EOFError, lzma.LZMAError, zlib.error, UnicodeDecodeError,
            pd.errors.ParserError) as err:
        # EOFError: a truncated .gz/.bz2/.xz (click would print only "Aborted!" for it)
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


WRITTEN = (".csv", ".txt", *_PARQUET)   # and .csv.gz, .csv.bz2, .csv.xz: compressed as the extension says


def check_writable(path: str | Path) -> Path:
    """Refuse, before any work is done, an output that cannot be written: a folder, a path under a file, or a
    format this tool does not write (forecasts.xlsx would be CSV text under an Excel name)."""
    path = Path(path)
    suffixes = [s.lower() for s in path.suffixes]
    base = suffixes[-2] if len(suffixes) > 1 and suffixes[-1] in _OPENERS else suffixes[-1] if suffixes else ""
    if path.is_dir():
        raise DataError(f"{path}: is a directory; give a file name, e.g. {path / 'forecasts.csv'}")
    blocked = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocked is not None:
        raise DataError(f"{path}: cannot be created, {blocked} is a file, not a folder")
    if base not in WRITTEN:
        raise DataError(f"{path}: forecasts are written as CSV (.csv, optionally .gz, .bz2 or .xz) or Parquet "
                        f"(.parquet); choose one of those extensions")
    return path


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as CSV or Parquet, chosen by extension; parent folders are created."""
    path = check_writable(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if _kind(path) == "parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
    except OSError as err:
        raise DataError(f"{path}: cannot be written: {err.strerror or err}") from None
    return path
