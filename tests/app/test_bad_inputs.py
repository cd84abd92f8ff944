"""The bad-input corpus: each malformed input either works or gets one line naming what is wrong and
where, exit status 1, no traceback, no MLflow run and no registered model.

A refused case goes through the CLI (the contract is about what the user sees and what the store keeps; it ends
before any training). An accepted case is read, prepared and forecast below the CLI, by the real reader, data
preparation and Predictor (with an untrained network: the numbers only need to be finite); three of them also
go end to end: train, register, predict."""
import gzip

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner
from mlflow.tracking import MlflowClient

from forecast.app.cli import main
from forecast.data.config import DataConfig
from forecast.data.io import read_table, read_validated
from forecast.data.prepare import prepare_training
from forecast.models.config import ModelConfig
from forecast.models.forecaster import Forecaster
from forecast.pipelines.serving.inference import Predictor

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
    ("extreme magnitudes", _write(HEADER + _rows(value=lambda i: f"{1e30 * (1 + np.sin(i)):.6e}") + _rows(sid="b")),
     [], None),
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
    # real exports that once looked like success, hung or crashed (issue 15)
    ("spaces around the header names", _write(" series_id,timestamp , value ,temp\n" + GOOD.split("\n", 1)[1]), [],
     None),
    ("a trailing comma on every line", _write(GOOD.replace("\n", ",\n")), [], None),
    ("a NUL byte inside a value", _write(GOOD.replace("10.0", "10\x000", 1)), [],
     "a NUL byte (\\x00) in data row 1, column 'value'"),
    ("a NUL byte inside an id", _write(GOOD.replace("\nb,", "\nb\x00,", 3)), [],
     "a NUL byte (\\x00) in data row 81, column 'series_id'"),
    ("a boolean target", _write(HEADER + "".join(f"a,2024-01-{1 + i // 24:02d}T{i % 24:02d}:00:00,{i % 3 == 0},1\n"
                                                 for i in range(80))), [], "target column 'value' is boolean"),
    ("epoch seconds as fractional floats", _write(HEADER + "".join(f"a,{1.7e9 + 3600.5 * i},{i % 5},1\n"
                                                                  for i in range(80))), [],
     "time column 'timestamp' holds fractional numbers"),
    ("epoch seconds as whole floats", _write(HEADER + "".join(f"a,{1.7e9 + 3600.0 * i},{np.sin(i / 4)},1\n"
                                                             for i in range(80))), [], None),
    ("dates beyond 2262", _write(GOOD.replace("2024-", "9999-")), [],
     "time column 'timestamp' has dates outside 1677-09-21 .. 2262-04-11"),
    ("a value at the end of float64", _write(GOOD.replace(",10.0,", ",1.7e308,", 1)), [],
     "column 'value' has values too large to compute with"),
    ("day-first dates", _write(HEADER + "".join(f"a,{t:%d/%m/%Y},{np.sin(i / 3)},1\n" for i, t in
                                               enumerate(pd.date_range("2021-01-01", periods=60, freq="D")))), [],
     None),
    ("day-first dates that read both ways", _write(HEADER + "".join(
        f"a,{t:%d/%m/%Y},{i},1\n" for i, t in enumerate(pd.date_range("2021-01-01", periods=12, freq="D")))), [],
     "read day first and month first alike: pass --dayfirst"),
    ("half ISO, half day-first dates", _write(HEADER + "".join(
        f"a,{t.strftime('%Y-%m-%d' if i % 2 else '%d/%m/%Y')},{np.sin(i / 3)},1\n"
        for i, t in enumerate(pd.date_range("2021-01-01", periods=60, freq="D")))), [], None),
    ("--lr nan", _write(GOOD), ["--lr", "nan"], "--lr must be a positive number, got nan"),
    ("--max-steps 0", _write(GOOD), ["--max-steps", "0"], "--max-steps must be a positive integer"),
    ("--max-epochs 0", _write(GOOD), ["--max-epochs", "0"], "--max-epochs must be a positive integer"),
    # issue 24: what corrupted data silently, or crashed
    ("quoted numbers that read as thousands or decimals", _write(HEADER + _rows(value=lambda i: f'"1{i % 9},038"')), [],
     "column 'value': numbers such as '10,038' read as thousands (10038) or with a decimal comma (10.038)"),
    ("an hourly and a daily series in one file", _write(HEADER + _rows() + "".join(
        f"d,{t:%Y-%m-%dT%H:%M:%S},{i},1\n" for i, t in enumerate(pd.date_range("2024-01-01", periods=40, freq="D")))),
     [], "the series step at different frequencies: most every 'h', but 'd' every 1 day(s)"),
    ("a truncated .csv.gz", _bytes(gzip.compress(GOOD.encode())[:300], "cut.csv.gz"), [],
     "cut.csv.gz: cannot be read as CSV: Compressed file ended before the end-of-stream marker"),
    # short panels at the default seq_len and horizon (issue 24, case 5): no test part, validation by series or none
    ("two series of 80 hourly points", _write(GOOD), ["--seq-len", "20", "--horizon", "24"], None),
    ("two series of 48 hourly points", _write(HEADER + _rows(n=48) + _rows(n=48, sid="b")),
     ["--seq-len", "20", "--horizon", "24"], None),
    ("one series of 50 hourly points", _write(HEADER + _rows(n=50)), ["--seq-len", "20", "--horizon", "24"], None),
]
TINY = ["--layers", "1", "--d-model", "8", "--n-heads", "2", "--max-epochs", "1", "--seq-len", "8", "--horizon", "4",
        "--no-progress", "--health-every", "0"]
REFUSED = [c for c in CASES if c[3] is not None]
ACCEPTED = [c for c in CASES if c[3] is None]
END_TO_END = ("semicolon delimiter", "gzip CSV",
              "one series of 50 hourly points")   # one per reader path, and no test part


def _data_config(extra: list[str]) -> DataConfig:
    """The tiny run's data settings, with a case's own --seq-len/--horizon (the only options accepted cases give)."""
    given = dict(zip(extra[::2], extra[1::2]))
    assert set(given) <= {"--seq-len", "--horizon"}, given
    return DataConfig(seq_len=int(given.get("--seq-len", 8)), horizon=int(given.get("--horizon", 4)))


@pytest.mark.parametrize("case, make, extra, error", REFUSED, ids=[c[0] for c in REFUSED])
def test_a_bad_input_is_refused_in_one_line_leaving_nothing(case, make, extra, error, tmp_path, tracking_uri):
    name = "bad" + str(abs(hash(case)) % 10**8)
    args = ["train", "--data", str(make(tmp_path)), "--tracking-uri", tracking_uri, "--experiment", name,
            "--model-name", name, *TINY, *extra]
    # later options win in click, so a case's own --seq-len/--horizon override the tiny defaults
    result = CliRunner().invoke(main, args)
    client = MlflowClient(tracking_uri)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert error in lines[0] and "Traceback" not in result.output
    if "--" not in error:  # data errors name the file first
        assert lines[0].startswith(f"Error: {args[2]}"), lines[0]
    experiment = client.get_experiment_by_name(name)
    assert experiment is None or client.search_runs([experiment.experiment_id]) == []
    assert client.search_model_versions(f"name='{name}'") == []


@pytest.mark.parametrize("case, make, extra, error", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_an_accepted_input_is_prepared_and_forecast_with_finite_numbers(case, make, extra, error, tmp_path):
    path = make(tmp_path)
    config = _data_config(extra)
    prepared = read_validated(path, lambda frame: prepare_training(frame, config), config.text_columns)
    spec = prepared.spec
    torch.manual_seed(0)
    model = Forecaster(ModelConfig(d_model=8, n_heads=2, layers=1, seq_len=spec.seq_len, horizon=spec.horizon,
                                   n_features=prepared.panel.values.shape[1], n_known=spec.n_known,
                                   lag_feature=spec.lag_feature)).eval()
    forecasts = Predictor(model, spec).predict(read_table(path, spec.text_columns))
    assert len(forecasts) == spec.horizon * prepared.panel.ids.size + spec.horizon * len(prepared.report.series_skipped)
    assert np.isfinite(forecasts["prediction"]).all()


@pytest.mark.parametrize("case, make, extra, error", [c for c in ACCEPTED if c[0] in END_TO_END],
                         ids=list(END_TO_END))
def test_an_accepted_input_trains_registers_and_predicts(case, make, extra, error, tmp_path, tracking_uri):
    name = "ok" + str(abs(hash(case)) % 10**8)
    args = ["train", "--data", str(make(tmp_path)), "--tracking-uri", tracking_uri, "--experiment", name,
            "--model-name", name, *TINY, *extra]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    (version,) = MlflowClient(tracking_uri).search_model_versions(f"name='{name}'")
    if case == "one series of 50 hourly points":   # no test part: said, and tagged on the version
        assert "warning: caution: no test part: this version was not scored" in result.output
        assert version.tags["caution"].startswith("no test part")
    out = tmp_path / "forecasts.csv"
    result = CliRunner().invoke(main, ["predict", "--model", f"models:/{name}/1", "--data", args[2],
                                       "--output", str(out), "--tracking-uri", tracking_uri])
    assert result.exit_code == 0, result.output
    forecasts = pd.read_csv(out)
    assert len(forecasts) and np.isfinite(forecasts["prediction"]).all()


def test_a_file_with_nul_bytes_is_refused_by_train_and_predict_naming_row_and_column(tmp_path, tracking_uri):
    """A NUL in a value cell (row 3) and one in an id cell (row 90): both commands give the first one's place and
    how to clean the file, exit 1, and leave no run (issue 37)."""
    good, bad = tmp_path / "good.csv", tmp_path / "nul.csv"
    good.write_text(GOOD)
    lines = GOOD.splitlines(keepends=True)
    lines[3] = lines[3].replace(",", ",\x00", 2).replace(",\x00", ",", 1)    # the value: "a,<time>,\x0010.9...,4"
    lines[90] = "b\x00" + lines[90][1:]
    bad.write_text("".join(lines))
    expected = (f"Error: {bad}: a NUL byte (\\x00) in data row 3, column 'value': not clean text (a truncated copy or "
                f"a binary export?); remove them, e.g. tr -d '\\000' < {bad} > clean.csv")
    client = MlflowClient(tracking_uri)
    train = ["train", "--tracking-uri", tracking_uri, "--experiment", "nul", "--model-name", "nul", *TINY]
    result = CliRunner().invoke(main, [*train, "--data", str(bad)])
    assert result.exit_code == 1 and result.output.strip() == expected, result.output
    assert client.get_experiment_by_name("nul") is None or not client.search_runs(
        [client.get_experiment_by_name("nul").experiment_id])
    assert CliRunner().invoke(main, [*train, "--data", str(good)]).exit_code == 0
    runs = len(client.search_runs([client.get_experiment_by_name("nul").experiment_id]))
    result = CliRunner().invoke(main, ["predict", "--model", "models:/nul/1", "--data", str(bad), "--output",
                                       str(tmp_path / "out.csv"), "--tracking-uri", tracking_uri])
    assert result.exit_code == 1 and result.output.strip().splitlines()[-1] == expected, result.output
    assert not (tmp_path / "out.csv").exists()
    assert len(client.search_runs([client.get_experiment_by_name("nul").experiment_id])) == runs


def test_ids_are_text_so_007_and_7_stay_two_series(tmp_path):
    from forecast.data.io import read_table

    (tmp_path / "ids.csv").write_text("series_id,timestamp,value\n007,1,1.0\n7,1,2.0\n")
    (tmp_path / "named.csv").write_text("store,timestamp,value\n007,1,1.0\n7,1,2.0\n")
    assert read_table(tmp_path / "ids.csv")["series_id"].tolist() == ["007", "7"]
    assert read_table(tmp_path / "named.csv", ("store",))["store"].tolist() == ["007", "7"]


def test_float_epoch_timestamps_no_longer_hang_the_data_path():
    """Floats in the time column were read as nanoseconds since 1970: a 1-ns grid, and a loop that never ended."""
    import signal

    from forecast.data.config import DataConfig
    from forecast.data.errors import DataError
    from forecast.data.prepare import prepare_training

    frame = pd.DataFrame({"timestamp": 1.7e9 + 3600.0 * np.arange(200), "value": np.sin(np.arange(200) / 4)})
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("the data path hung")))
    signal.alarm(60)
    try:
        prepared = prepare_training(frame, DataConfig(seq_len=10, horizon=6))
        assert prepared.spec.freq.kind == "int" and prepared.spec.freq.alias == "3600"
        with pytest.raises(DataError, match="holds fractional numbers"):
            prepare_training(frame.assign(timestamp=frame["timestamp"] + 0.25), DataConfig(seq_len=10, horizon=6))
    finally:
        signal.alarm(0)
