"""The bad-input corpus: each malformed input either works or gets one line naming what is wrong and
where, exit status 1, no traceback, no MLflow run and no registered model."""
import gzip

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from mlflow.tracking import MlflowClient

from app.cli import main

HEADER = "series_id,timestamp,value,temp\n"


def _rows(n=80, sid="a", start="2024-01-01", value=lambda i: 10 + np.sin(i / 3)):
    t = pd.date_range(start, periods=n, freq="h")
    return "".join(f"{sid},{ts:%Y-%m-%dT%H:%M:%S},{value(i)},{i % 7}\n" for i, ts in enumerate(t))


def _bytes(data: bytes, name: str):
    def make(tmp):
        (tmp / name).write_bytes(data)
        return tmp / name
    return make


def _write(text, name="data.csv"):
    return _bytes(text.encode(), name)


def _frame(frame, name="data.parquet"):
    def make(tmp):
        frame.to_parquet(tmp / name, index=False)
        return tmp / name
    return make


GOOD = HEADER + _rows() + _rows(sid="b")
# (case, file maker, extra CLI arguments, None = works, else a fragment of the one-line error)
CASES = [
    ("empty file", _write(""), [], "data.csv: is empty"),
    ("header only", _write(HEADER), [], "data.csv: has no data rows"),
    ("semicolon delimiter", _write(GOOD.replace(",", ";")), [], None),
    ("tab delimiter", _write(GOOD.replace(",", "\t"), "data.tsv"), [], None),
    ("byte order mark", _bytes(b"\xef\xbb\xbf" + GOOD.encode(), "bom.csv"), [], None),
    ("quoted numbers with thousands separators",
     _write(HEADER + _rows(value=lambda i: f'"1,{100 + i}.5"') + _rows(sid="b")), [], None),
    ("missing target column", _write(GOOD.replace("value", "amount")), [], "no target column found"),
    ("target with text", _write(GOOD.replace(",10.0,", ",ten,", 1)), [],
     "column 'value' has non-numeric values, e.g. 'ten' in series 'a' at data row(s) 1"),
    ("all-missing series", _write(HEADER + _rows() + _rows(sid="b", value=lambda i: "")), [],
     "target column 'value' is all missing in series 'b'"),
    ("duplicated timestamps", _write(GOOD + _rows(n=1, sid="b")), [],
     "duplicated (series, time) pairs: series 'b' at 2024-01-01 00:00:00"),
    ("unparseable date", _write(GOOD.replace("2024-01-01T05:00:00", "tomorrow", 1)), [],
     "time column 'timestamp' has unparseable or missing values, e.g. 'tomorrow' in series 'a' at data row(s) 6"),
    ("mixed date formats", _write(GOOD.replace("2024-01-01T05:00:00", "01/01/2024 05:00", 1)), [], None),
    ("mixed time zones (a DST change)", _write(HEADER + "".join(
        f"a,2024-03-30T{h:02d}:00:00+01:00,{h},1\n" for h in range(24)) + "".join(
        f"a,2024-03-31T{h:02d}:00:00+02:00,{h},1\n" for h in range(2, 24)) + "".join(
        f"a,2024-04-{d:02d}T{h:02d}:00:00+02:00,{h},1\n" for d in range(1, 4) for h in range(24))), [], None),
    ("irregular timestamps", _write(HEADER + "".join(
        f"a,2024-01-01T{h:02d}:{m:02d}:00,1,1\n" for h, m in [(0, 0), (0, 7), (1, 0), (2, 13), (3, 0), (4, 0)])), [],
     "timestamps are irregular"),
    ("a series shorter than seq_len (others fine)", _write(GOOD + _rows(n=10, sid="c")), [], None),
    ("only series shorter than seq_len", _write(HEADER + _rows(n=10)), [], "no series is long enough"),
    ("single row", _write(HEADER + _rows(n=1)), [], "cannot infer a frequency: every series has a single timestamp"),
    ("inf and -inf", _write(GOOD.replace(",10.0,", ",inf,", 1)), [],
     "column 'value' has infinite values in series 'a' at data row(s) 1"),
    ("extreme magnitudes", _write(HEADER + _rows(value=lambda i: f"{1e30 * (1 + np.sin(i)):.6e}") + _rows(sid="b")), [], None),
    ("constant series", _write(HEADER + _rows(value=lambda i: 5.0) + _rows(sid="b")), [], None),
    ("series of zeros", _write(HEADER + _rows(value=lambda i: 0.0) + _rows(sid="b")), [], None),
    ("covariate with text, auto-detected", _write(GOOD.replace(",3\n", ",three\n", 1)), [], None),
    ("covariate with text, named", _write(GOOD.replace(",3\n", ",three\n", 1)), ["--covariates", "temp"],
     "column 'temp' has non-numeric values, e.g. 'three'"),
    ("duplicated column names", _write(GOOD.replace("temp", "value")), [], "duplicated column name(s): value"),
    ("unicode column names", _write(GOOD.replace("temp", "température °C")), [], None),
    ("non-existent file", lambda tmp: tmp / "nope.csv", [], "nope.csv: no such file"),
    ("a directory", lambda tmp: tmp, [], "is a directory, expected a CSV or Parquet file"),
    ("binary file", _bytes(bytes(range(256)) * 8, "blob.csv"), [], "is not a UTF-8 text CSV file"),
    ("gzip CSV", _bytes(gzip.compress(GOOD.encode()), "d.csv.gz"), [], None),
    ("parquet with the wrong schema", _frame(pd.DataFrame({"when": ["x"], "what": ["y"]})), [], "no time column found"),
    ("unknown --target", _write(GOOD), ["--target", "sales"], "--target 'sales': no such column"),
    ("unknown --id-col", _write(GOOD), ["--id-col", "store"], "--id-col 'store': no such column"),
    ("--horizon larger than any series", _write(GOOD), ["--horizon", "500"], "no series is long enough"),
    ("zero --seq-len", _write(GOOD), ["--seq-len", "0"], "--seq-len must be a positive integer, got 0"),
    ("negative --seq-len", _write(GOOD), ["--seq-len", "-3"], "--seq-len must be a positive integer, got -3"),
]
TINY = ["--layers", "1", "--d-model", "8", "--n-heads", "2", "--max-epochs", "1", "--seq-len", "8", "--horizon", "4",
        "--no-progress", "--health-every", "0"]


@pytest.mark.parametrize("case, make, extra, error", CASES, ids=[c[0] for c in CASES])
def test_bad_input(case, make, extra, error, tmp_path, tracking_uri):
    name = "bad" + str(abs(hash(case)) % 10**8)
    args = ["train", "--data", str(make(tmp_path)), "--tracking-uri", tracking_uri, "--experiment", name,
            "--model-name", name, *TINY, *extra]
    # later options win in click, so a case's own --seq-len/--horizon override the tiny defaults
    result = CliRunner().invoke(main, args)
    client = MlflowClient(tracking_uri)
    if error is None:
        assert result.exit_code == 0, result.output
        assert len(client.search_model_versions(f"name='{name}'")) == 1
        return
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert error in lines[0] and "Traceback" not in result.output
    if "--" not in error:  # data errors name the file first
        assert lines[0].startswith(f"Error: {args[2]}"), lines[0]
    experiment = client.get_experiment_by_name(name)
    assert experiment is None or client.search_runs([experiment.experiment_id]) == []
    assert client.search_model_versions(f"name='{name}'") == []


def test_the_corpus_has_at_least_thirty_cases():
    assert len(CASES) >= 30 and len({c[0] for c in CASES}) == len(CASES)
