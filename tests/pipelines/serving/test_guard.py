"""The guard in front of the scoring server (pipelines/serving/guard.py), driven as an ASGI app with scripted
clients."""
import asyncio
import io
import json

import pandas as pd

from forecast.pipelines.serving.guard import RequestGuard, csv_as_json, json_depth, one_line, strict_json


def _run(guard, messages, headers=(), method="POST", path="/"):
    """One request through `guard`: the client sends `messages` (then waits forever); the answer's status and
    JSON body."""
    sent, incoming = [], list(messages)

    async def receive():
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": [(k.encode(), v.encode()) for k, v in headers]}
    asyncio.run(guard(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body), dict(start["headers"])


async def _echo(scope, receive, send):
    """An inner app that reads the whole body and answers its length; or MLflow's kind of error answer."""
    body, message = b"", {"more_body": True}
    while message.get("more_body"):
        message = await receive()
        body += message.get("body", b"")
    if body.startswith(b"fail"):
        echo = "Failed to predict data '   series_id  value\n0  a  1.0\n[600 rows x 4 columns]'. \nError: "
        error = {"error_code": "BAD_REQUEST", "message": echo + "the real reason",
                 "stack_trace": "Traceback (most recent call last): ..."}
        status, answer = 400, json.dumps(error).encode()
    else:
        status, answer = 200, json.dumps({"length": len(body)}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())]})
    await send({"type": "http.response.body", "body": answer})


def _chunks(body: bytes, size: int):
    parts = [body[i:i + size] for i in range(0, len(body), size)]
    return [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)]


def test_a_chunked_body_over_the_limit_gets_413_and_one_under_it_passes_whole():
    guard = RequestGuard(_echo, limit=1000, timeout=5)
    status, answer, _ = _run(guard, _chunks(b"x" * 1500, 100))          # no Content-Length: chunked
    assert status == 413 and "exceeds the limit of 1000 bytes" in answer["message"]
    status, answer, _ = _run(guard, [], headers=[("content-length", "5000")])
    assert status == 413 and "request body of 5000 bytes" in answer["message"]
    assert _run(guard, _chunks(b"x" * 900, 100))[:2] == (200, {"length": 900})


def test_a_client_that_stops_sending_its_body_times_out():
    status, answer, _ = _run(RequestGuard(_echo, limit=1000, timeout=0.2), _chunks(b"x" * 300, 100)[:2])
    assert status == 408 and "stopped arriving for 0.2 s" in answer["message"]


def test_deeply_nested_json_is_refused_in_one_line():
    deep = b"[" * 10_000 + b"]" * 10_000
    assert json_depth(deep) == 10_000 and json_depth(b'{"dataframe_split": {"data": [[1, 2]]}}') == 4
    status, answer, _ = _run(RequestGuard(_echo, limit=10**6, timeout=5), _chunks(deep, 4096),
                             headers=[("content-type", "application/json")])
    assert status == 400 and answer["message"].startswith("JSON nested 10000 deep")


def test_error_answers_lose_the_stack_trace_and_the_echoed_frame():
    status, answer, headers = _run(RequestGuard(_echo, limit=1000, timeout=5), _chunks(b"fail", 100))
    assert status == 400 and answer == {"error_code": "BAD_REQUEST", "message": "the real reason"}
    assert int(headers[b"content-length"]) == len(json.dumps(answer))
    invalid = json.dumps({"message": "Ensure that input is a valid JSON formatted string. Error: 'x'\nInput: \n{not "
                                     "json\n"})
    message = json.loads(one_line(invalid.encode()))["message"]
    assert message == "Ensure that input is a valid JSON formatted string. Error: 'x'"


def test_brackets_inside_json_strings_do_not_nest():
    ids = b'{"dataframe_split": {"columns": ["series_id"], "data": [' + b", ".join([b'["zone [A"]'] * 100) + b"]}}"
    assert json_depth(ids) == 4
    assert json_depth(b'["a \\"[[[[" ' + b"[" * 70 + b"]" * 70 + b"]") == 71   # an escaped quote ends no string


def test_a_csv_body_is_read_by_the_rules_of_a_csv_file():
    """Ids as text (MLflow read "007" and "7" as one series 7), the delimiter sniffed, one line where unreadable."""
    split = json.loads(csv_as_json(b"store;timestamp;value\n007;2024-01-01;8,5\n7;2024-01-01;NA\nNA;2024-01-01;1\n",
                                   ("store",)))["dataframe_split"]
    assert split == {"columns": ["store", "timestamp", "value"],
                     "data": [["007", "2024-01-01", 8.5], ["7", "2024-01-01", None], ["NA", "2024-01-01", 1.0]]}
    guard = RequestGuard(_echo, limit=1000, timeout=5)
    status, answer, _ = _run(guard, _chunks(b'a,b\n"x,1\n', 100), headers=[("content-type", "text/csv")])
    assert status == 400 and answer["message"].startswith("the CSV request body cannot be read")
    status, answer, _ = _run(guard, _chunks(b"series_id,value\n007,1\n", 100), headers=[("content-type", "text/csv")])
    assert status == 200 and answer["length"] == len(csv_as_json(b"series_id,value\n007,1\n", ()))


def _parquet(rows: int) -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame({"series_id": ["a"] * rows, "timestamp": 0, "value": 1.0}).to_parquet(buffer)
    return buffer.getvalue()


def _invocation(guard, body: bytes, content_type: str | None):
    headers = [("content-type", content_type)] if content_type else []
    return _run(guard, _chunks(body, 4096), headers=headers, path="/invocations")


def test_a_request_without_a_content_type_the_server_reads_gets_415_naming_them():
    """MLflow's app answered a request with no Content-Type with a 500 and a traceback in the log."""
    guard = RequestGuard(_echo, limit=10**6, timeout=5)
    status, answer, _ = _invocation(guard, b"{}", None)
    assert status == 415 and answer["message"] == ("Content-Type none: send the rows as application/json, text/csv "
                                                   "or application/vnd.apache.parquet")
    status, answer, _ = _invocation(guard, b"{}", "application/x-www-form-urlencoded" + "x" * 500)
    assert status == 415 and "... (533 characters)" in answer["message"] and len(answer["message"]) < 250
    assert _invocation(guard, b"{}", "application/json; charset=utf-8")[0] == 200


def test_a_parquet_body_that_decodes_to_more_cells_than_the_limit_allows_gets_413_from_its_footer():
    """153 kB of Parquet decoded to 10 M rows (3 GB, a worker busy a minute): the footer says how many rows and
    columns before anything is decompressed; the bound is what a text body of the byte limit can hold."""
    body = _parquet(200_000)
    assert len(body) < 100_000
    guard = RequestGuard(_echo, limit=100_000, timeout=5)   # at most 50,000 cells
    status, answer, _ = _invocation(guard, body, "application/vnd.apache.parquet")
    assert status == 413 and answer["message"].startswith("the Parquet request body decodes to 200,000 rows x 3 "
                                                          "columns, over the limit of 50,000 cells")
    assert _invocation(guard, _parquet(1000), "application/vnd.apache.parquet")[0] == 200
    status, answer, _ = _invocation(guard, b"PAR1 not parquet", "application/vnd.apache.parquet")
    assert status == 400 and answer["message"].startswith("the Parquet request body cannot be read: ")


def test_the_api_docs_are_off_unless_asked_for_and_every_answer_names_the_model_served():
    served = "models:/m@champion (version 3 of m, run abc)"
    for path in ("/docs", "/redoc", "/openapi.json"):
        status, answer, _ = _run(RequestGuard(_echo, limit=1000, timeout=5), [], method="GET", path=path)
        assert status == 404 and "forecast serve --api-docs" in answer["message"]
        status, _, headers = _run(RequestGuard(_echo, 1000, 5, api_docs=True, served=served),
                                  [{"type": "http.request", "body": b""}], method="GET", path=path)
        assert status == 200 and headers[b"x-forecast-model"] == served.encode()


async def _nan_answer(scope, receive, send):
    answer = b'{"predictions": [{"series_id": "NaN", "q0.1": NaN, "q0.9": Infinity, "prediction": 1.5}]}'
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())]})
    await send({"type": "http.response.body", "body": answer})


def _strict(text: bytes):
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def test_a_json_answer_writes_missing_values_as_null_for_strict_parsers():
    status, answer, headers = _run(RequestGuard(_nan_answer, limit=1000, timeout=5), _chunks(b"{}", 100),
                                   headers=[("content-type", "application/json")], path="/invocations")
    assert status == 200 and answer == {"predictions": [{"series_id": "NaN", "q0.1": None, "q0.9": None,
                                                         "prediction": 1.5}]}
    assert int(headers[b"content-length"]) == len(json.dumps(answer))
    assert _strict(strict_json(b'{"a": NaN, "b": "NaN"}')) == {"a": None, "b": "NaN"}
