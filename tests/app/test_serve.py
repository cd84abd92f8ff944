"""`forecast serve` in a fresh process: MLflow's scoring server on 127.0.0.1, real HTTP requests."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from click.testing import CliRunner

from forecast.app.cli import main

pytestmark = pytest.mark.slow   # process-level: real servers, processes or Spark (CI runs it)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(port, path, body=None, content_type="application/json"):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body,
                                     headers={"Content-Type": content_type} if body is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def _announce(port, path, length):
    """POST headers announcing a `length`-byte body, and the answer read before any of the body is sent: the
    limit answers from the Content-Length header alone. (Sending the body too races the server, which answers
    413 and closes while the client is still writing: a broken pipe instead of a status under load.)"""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(length))
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def _strict(text):
    """JSON as a strict parser reads it (JavaScript's JSON.parse, Go, Java): NaN and Infinity are not JSON."""
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def _split(frame):
    return json.dumps({"dataframe_split": json.loads(frame.to_json(orient="split", index=False))}).encode()


def _stop(server) -> None:
    """SIGTERM to the server's process group; every process of it must be gone within 30 s."""
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(server.pid, 0)  # anything of the group still alive?
            time.sleep(0.2)
        except ProcessLookupError:
            return
    os.killpg(server.pid, signal.SIGKILL)
    raise AssertionError("server processes left behind after SIGTERM")


@pytest.fixture(scope="module")
def served(store_dir, tmp_path_factory, make_frame, tiny_model):
    """A tiny model trained on two series ("007" and "7") and served by `forecast serve` (2 workers, a 1 MB body
    limit, a 2-second head deadline) in a fresh process, shared by the tests below (one module: one worker): its
    port, and 40 history rows a series (seq_len 12 + the 24-hour seasonal lag channel: 36 rows make a model
    forecast)."""
    folder = tmp_path_factory.mktemp("served")
    tracking_uri = f"sqlite:///{store_dir / 'mlflow.db'}"
    frame = make_frame(n_series=2, length=150).replace({"series_id": {"s0": "007", "s1": "7"}})
    frame.to_csv(folder / "train.csv", index=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(store_dir)
        result = CliRunner().invoke(main, ["train", "--data", str(folder / "train.csv"), "--tracking-uri",
                                           tracking_uri, "--model-name", "served", "--max-epochs", "1", "--seq-len",
                                           "12", "--horizon", "6", *tiny_model])
    assert result.exit_code == 0, result.output
    history = frame.groupby("series_id").tail(40)
    history = history.assign(timestamp=history["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S"))

    port = _free_port()
    forecast = Path(sys.executable).parent / "forecast"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "MLFLOW_TRACKING_URI")}
    env["PATH"] = "/usr/bin:/bin"  # the console script must work without the venv on PATH
    env["FORECAST_HEADER_TIMEOUT_S"] = "2"
    server = subprocess.Popen([str(forecast), "serve", "--model", "models:/served/1", "--port", str(port),
                               "--workers", "2", "--max-request-mb", "1", "--tracking-uri", tracking_uri],
                              env=env, cwd=folder, start_new_session=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if _request(port, "/ping")[0] == 200:
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()[-3000:]
            time.sleep(0.5)
        yield SimpleNamespace(port=port, history=history)
    finally:
        _stop(server)


def test_serve_answers_every_format_alike(served):
    port, history = served.port, served.history
    assert _request(port, "/health")[0] == 200 and _request(port, "/version")[0] == 200
    records = json.dumps({"dataframe_records": json.loads(history.to_json(orient="records"))}).encode()
    answers = []
    for body, content_type in ((_split(history), "application/json"), (records, "application/json"),
                               (history.to_csv(index=False).encode(), "text/csv"),
                               (history.to_csv(index=False, sep=";").encode(), "text/csv; charset=utf-8")):
        status, text = _request(port, "/invocations", body, content_type)
        assert status == 200, text
        rows = pd.DataFrame(_strict(text)["predictions"])
        assert list(rows.columns) == ["series_id", "timestamp", "step", "prediction",
                                      *(f"q0.{k}" for k in range(1, 10)), "method"]   # the nine deciles
        assert len(rows) == 12 and set(rows["method"]) == {"model"}
        assert rows["timestamp"].iloc[0] == "2024-01-07T06:00:00"
        answers.append(rows)
    # CSV bodies keep "007" and "7" apart (MLflow's CSV parsing read both as 7), semicolons included
    assert answers[0]["series_id"].tolist() == ["007"] * 6 + ["7"] * 6
    for rows in answers[1:]:
        pd.testing.assert_frame_equal(rows, answers[0])
    # a series of 2 rows gets a forecast without an interval: null, not NaN (strict parsers refused the answer)
    short = pd.concat([history, history.head(2).assign(series_id="two rows")])
    status, text = _request(port, "/invocations", _split(short))
    rows = pd.DataFrame(_strict(text)["predictions"])
    assert status == 200 and len(rows[rows["series_id"] == "two rows"]) == 6, text[:300]
    assert '"q0.1": null' in text
        # brackets inside ids do not nest: 80 of them were once counted as "JSON nested 84 deep"
    bracketed = history.replace({"series_id": {"7": "zone [[A"}})
    status, text = _request(port, "/invocations", _split(bracketed))
    assert status == 200 and "zone [[A" in set(pd.DataFrame(_strict(text)["predictions"])["series_id"]), text


def test_serve_refuses_bad_requests_in_one_line_without_a_traceback(served):
    port, history = served.port, served.history
    split = json.loads(_split(history))
    bad = {
        "missing column": (_split(history.drop(columns=["value"])), "value"),
        "text target": (_split(history.assign(value="abc")), "value"),
        "unknown format": (json.dumps({"frame": []}).encode(), "dataframe_split"),
        "not json": (b"{not json", "JSON"),
        "duplicated rows": (_split(pd.concat([history, history.head(1)])), "duplicated (series, time) pairs"),
        "JSON nested 10,000 deep": (b"[" * 10_000 + b"]" * 10_000, "JSON nested 10000 deep"),
        "batch_size 0": (json.dumps({**split, "params": {"batch_size": 0}}).encode(),
                         "params.batch_size must be a positive integer, got 0"),
        "batch_size -1": (json.dumps({**split, "params": {"batch_size": -1}}).encode(), "got -1"),
        "malformed CSV": (b'series_id,timestamp,value\n"a,1\nb,2,3,4,5\n', "the CSV request body cannot be read"),
        "CSV with NUL bytes": (history.to_csv(index=False).replace("\n7,", "\n7\x00,", 1).encode(),
                               "the CSV request body cannot be read: a NUL byte (\\x00) in data row 41, column "
                               "'series_id'"),
        "boolean target": (_split(history.assign(value=True)), "column 'value' holds booleans"),
        "renamed columns": (_split(history.rename(columns={"value": "sales"})), "value"),
        "integer-named columns": (_split(history.set_axis([0, 1, 2, 3], axis=1)), "series_id"),
        "empty records": (json.dumps({"dataframe_records": []}).encode(), "Model is missing inputs"),
        "epoch-millisecond timestamps": (_split(history.assign(timestamp=pd.to_datetime(history["timestamp"]))),
                                         "time column 'timestamp' holds numbers (e.g. 17"),
    }
    for name, (body, expected) in bad.items():
        status, text = _request(port, "/invocations", body, "text/csv" if "CSV" in name else "application/json")
        message = _strict(text)["message"]
        assert 400 <= status < 500 and expected in message, (name, status, text[:500])
        assert "Traceback" not in text and "stack_trace" not in _strict(text) and "\n" not in message, name
        assert len(message) < 400 and "2024-01-07" not in message, (name, message)   # no echo of the frame
    huge = _split(pd.concat([history] * 300, ignore_index=True))   # ~1.4 MB
    assert len(huge) > 2**20
    status, text = _announce(port, "/invocations", len(huge))
    assert status == 413 and "exceeds the limit of 1048576 bytes" in _strict(text)["message"]
    assert _request(port, "/ping")[0] == 200  # still up


def test_serve_takes_the_horizon_and_quantiles_from_the_requests_params(served):
    """Declared in the signature, checked against what the model was trained for."""
    split = json.loads(_split(served.history))
    asked = json.dumps({**split, "params": {"horizon": 3, "quantiles": [0.25, 0.5]}}).encode()
    status, text = _request(served.port, "/invocations", asked)
    rows = pd.DataFrame(_strict(text)["predictions"])
    assert status == 200 and len(rows) == 6 and [c for c in rows.columns if c.startswith("q")] == ["q0.25", "q0.5"]
    status, text = _request(served.port, "/invocations", json.dumps({**split, "params": {"horizon": 9}}).encode())
    assert status == 400 and "horizon must be a whole number from 1 to 6" in _strict(text)["message"], text


def test_serve_answers_50_concurrent_clients_half_of_them_bad(served):
    port, history = served.port, served.history
    good, bad = _split(history), _split(history.assign(value="abc"))
    results = []

    def client(i):
        for k in range(4):
            body = good if (i + k) % 2 else bad
            try:
                results.append((body is good, *_request(port, "/invocations", body)))
            except OSError as err:  # a reset or a timeout: recorded, so the assertion says which
                results.append((body is good, None, f"{type(err).__name__}: {err}"))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert len(results) == 200
    for is_good, status, text in results:
        if is_good:
            assert status == 200 and len(_strict(text)["predictions"]) == 12, text[:300]
        else:
            assert status == 400 and "value" in _strict(text)["message"], text[:300]
    assert _request(port, "/ping")[0] == 200  # alive afterwards


def test_serve_closes_slow_clients_at_the_head_deadline(served):
    """A connection that sends nothing, and one that dribbles its headers, get 408 and are closed once the
    2-second head deadline passes; the server keeps answering meanwhile."""
    port = served.port
    silent, dribbling = socket.create_connection(("127.0.0.1", port)), socket.create_connection(("127.0.0.1", port))
    started = time.monotonic()
    dribbling.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\n")
    for sock in (silent, dribbling):
        sock.settimeout(30)
    for byte in b"X-Slow: " * 2:
        dribbling.sendall(bytes([byte]))
        time.sleep(0.1)
    assert _request(port, "/ping")[0] == 200
    for sock in (silent, dribbling):
        answer = b""
        while chunk := sock.recv(4096):            # until the server closes
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 408") and b"did not arrive in time" in answer, answer
        sock.close()
    assert time.monotonic() - started < 30


def _raw(port, method, path, body=None, headers=()):
    """A request exactly as given (urllib adds a Content-Type of its own): status, headers, body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.putrequest(method, path)
        for name, value in headers:
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body or b"")))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def test_serve_names_its_version_refuses_untyped_and_exploding_bodies_and_hides_the_api_docs(served):
    port, history = served.port, served.history
    # no Content-Type: a 500 and a traceback in the server log before
    status, headers, text = _raw(port, "POST", "/invocations", _split(history))
    assert status == 415 and _strict(text)["message"].startswith("Content-Type none: send the rows as")
    # the version an alias named at the start answers every request, and says so
    status, headers, text = _raw(port, "POST", "/invocations", _split(history), [("Content-Type", "application/json")])
    assert status == 200 and headers["x-forecast-model"].startswith("models:/served/1 (version 1 of served, run ")
    # Parquet: read whole, and refused from its footer where it decodes to more cells than 1 MB of text holds
    good, exploding = BytesIO(), BytesIO()
    history.to_parquet(good, index=False)
    pd.DataFrame({"series_id": "7", "timestamp": "2024-01-07T05:00:00", "value": [1.0] * 1_000_000}).to_parquet(
        exploding, index=False)
    parquet = [("Content-Type", "application/vnd.apache.parquet")]
    status, _, text = _raw(port, "POST", "/invocations", good.getvalue(), parquet)
    assert status == 200 and len(_strict(text)["predictions"]) == 12, text[:300]
    started = time.monotonic()
    status, _, text = _raw(port, "POST", "/invocations", exploding.getvalue(), parquet)
    assert status == 413 and "decodes to 1,000,000 rows x 3 columns" in _strict(text)["message"]
    assert time.monotonic() - started < 5
    for path in ("/docs", "/redoc", "/openapi.json"):
        status, _, text = _raw(port, "GET", path)
        assert status == 404 and "--api-docs" in _strict(text)["message"]
