"""The guard in front of MLflow's scoring-server app (pipelines/serving/asgi.py): an ASGI middleware that

- answers 413 to a body over the limit, by Content-Length or while a chunked body streams in,
  before anything parses it (MLflow's server reads any body whole), and to a Parquet body that would decode to
  more cells than a text body of the limit can hold (compressed, 153 kB held 10 M rows: 3 GB and a minute);
- answers 415 to a request without a content type the server reads (MLflow's answer was a 500);
- answers 404 on the interactive API docs (/docs, /redoc, /openapi.json) unless they were asked for;
- answers 408 to a client that stops sending its body for the body timeout;
- answers 400 to JSON nested deeper than any request needs (Python's parser would hit its recursion limit: a 500);
- reads a CSV body by the rules of a CSV file (ids as text, the delimiter sniffed) and hands it on as JSON;
- keeps error answers to one line: MLflow's `stack_trace` field is dropped, and so is the echo of the input
  frame or body that some of its messages carry;
- writes missing values in a JSON answer as null (Python writes NaN, which strict JSON parsers reject).

The body is read here, checked, and handed to MLflow's app whole.
"""
import asyncio
import io
import json
import re

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.parquet

from forecast.data.errors import DataError, cut
from forecast.data.io import read_csv_text

MAX_DEPTH = 64   # a request (dataframe_split, dataframe_records, inputs, params) nests 4 deep
JSON, CSV, PARQUET = b"application/json", b"text/csv", b"application/vnd.apache.parquet"   # what MLflow reads
API_DOCS = ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")   # FastAPI's, on by default


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class _Gone(Exception):
    """The client disconnected while sending its body: nobody to answer."""


JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)   # a JSON string, escaped quotes included


def _bracket_depth(body: bytes) -> int:
    b = np.frombuffer(body, dtype=np.uint8)
    step = np.isin(b, (91, 123)).astype(np.int32) - np.isin(b, (93, 125)).astype(np.int32)  # [{ and ]}
    return int(step.cumsum().max(initial=0))


def json_depth(body: bytes, limit: int = MAX_DEPTH) -> int:
    """The deepest bracket nesting of a JSON text. Counted first over every byte (fast; an upper bound); only
    where that passes `limit` again without the strings, whose brackets (an id such as "zone [A") do not nest."""
    depth = _bracket_depth(body)
    return depth if depth <= limit else _bracket_depth(JSON_STRING.sub(b'""', body))


def csv_as_json(body: bytes, text_columns: tuple[str, ...]) -> bytes:
    """A CSV request body as the `dataframe_split` JSON MLflow parses, read by the rules of a CSV file
    (data/io.py): the delimiter sniffed, series ids kept as text ("007" is not 7, "NA" is a name), numbers with
    commas by one rule per column. MLflow's own CSV parsing reads ids as numbers and knows only commas."""
    try:
        frame = read_csv_text(body.decode("utf-8-sig"), text_columns)
    except (UnicodeDecodeError, ValueError, pd.errors.ParserError, DataError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise Refused(400, "BAD_REQUEST", f"the CSV request body cannot be read: {first}") from None
    data = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()   # Python numbers: exact JSON
    return json.dumps({"dataframe_split": {"columns": [str(c) for c in frame.columns], "data": data}}).encode()


def parquet_cells(body: bytes) -> tuple[int, int]:
    """(rows, columns) a Parquet body decodes to, from its footer alone (nothing is decompressed)."""
    try:
        meta = pyarrow.parquet.read_metadata(io.BytesIO(body))
    except (pyarrow.ArrowException, OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise Refused(400, "BAD_REQUEST", f"the Parquet request body cannot be read: {first}") from None
    return meta.num_rows, meta.num_columns


def _as_json(scope: dict, length: int) -> dict:
    """The request's scope with the headers of a JSON body of `length` bytes."""
    headers = [(k, v) for k, v in scope.get("headers") or [] if k.lower() not in (b"content-type", b"content-length")]
    return {**scope, "headers": [*headers, (b"content-type", b"application/json"),
                                 (b"content-length", str(length).encode())]}


def one_line(body: bytes) -> bytes:
    """An error answer without MLflow's stack trace, and its message on one line without the echo of the input
    MLflow puts around it ("Failed to predict data '<the frame>'. Error: <why>", "... Input: <the body>", "Failed to
    enforce schema of data '<the frame>' with schema '<the schema>'. Error: <why>"), at most 300 characters."""
    try:
        error = json.loads(body)
    except ValueError:
        return body
    if not isinstance(error, dict):
        return body
    error.pop("stack_trace", None)
    message = str(error.get("message", "")).split("\nInput:")[0].rsplit("\nError: ", 1)[-1]
    if message.startswith("Failed to enforce schema of"):   # "... '<the frame>' with schema '...'. Error: <why>"
        message = "the rows do not match the model's input schema: " + message.rsplit(". Error: ", 1)[-1]
    error["message"] = cut(" ".join(line.strip() for line in message.splitlines() if line.strip()), 300)
    return json.dumps(error).encode()


class RequestGuard:
    def __init__(self, inner, limit: int, timeout: float, text_columns: tuple[str, ...] = (), api_docs: bool = False,
                 served: str = ""):
        self.inner, self.limit, self.timeout, self.text_columns = inner, limit, timeout, text_columns
        self.api_docs, self.served = api_docs, served.encode()
        self.max_cells = limit // 2   # a text body of `limit` bytes holds at most this many cells (a value, a comma)

    async def _answer(self, send, refused: Refused):
        body = json.dumps({"error_code": refused.code, "message": refused.message}).encode()
        await send({"type": "http.response.start", "status": refused.status,
                    "headers": [(b"content-type", b"application/json"), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    def _labelled(self, send):
        """`send` that names the model version answering in a header (`x-forecast-model`: promote may move the
        alias a server was started on; this server keeps answering with the version it loaded)."""
        if not self.served:
            return send

        async def wrapped(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-forecast-model", self.served)]}
            return await send(message)

        return wrapped

    def _too_large(self, size: int | None) -> Refused:
        said = f"{size} bytes" if size is not None else "more"
        return Refused(413, "REQUEST_TOO_LARGE", f"request body of {said} exceeds the limit of {self.limit} bytes "
                       "(forecast serve --max-request-mb); split the series over requests")

    async def _read_body(self, headers: dict, receive) -> bytes:
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            raise self._too_large(int(length))
        chunks, seen = [], 0
        while True:
            try:
                message = await asyncio.wait_for(receive(), self.timeout)
            except asyncio.TimeoutError:
                raise Refused(408, "REQUEST_TIMEOUT",
                              f"the request body stopped arriving for {self.timeout:g} s") from None
            if message["type"] == "http.disconnect":
                raise _Gone
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.limit:
                raise self._too_large(None)
            if not message.get("more_body", False):
                return b"".join(chunks)

    @staticmethod
    def _check_type(given: bytes, mime: bytes) -> None:
        """A body of a media type the server reads, else a 415 that names them."""
        if mime not in (JSON, CSV, PARQUET):
            shown = f"{cut(given.decode('latin-1'))!r}" if given else "none"
            raise Refused(415, "UNSUPPORTED_MEDIA_TYPE", f"Content-Type {shown}: send the rows as "
                          f"{JSON.decode()}, {CSV.decode()} or {PARQUET.decode()}")

    def _check_parquet(self, body: bytes) -> None:
        rows, columns = parquet_cells(body)
        if rows * columns > self.max_cells:
            raise Refused(413, "REQUEST_TOO_LARGE", f"the Parquet request body decodes to {rows:,} rows x {columns} "
                          f"columns, over the limit of {self.max_cells:,} cells (what a {self.limit}-byte text body "
                          "can hold: forecast serve --max-request-mb); split the series over requests")

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not self.api_docs and scope.get("path") in API_DOCS:
            return await self._answer(send, Refused(404, "NOT_FOUND", "the API docs are off (forecast serve "
                                                    "--api-docs turns them on)"))
        if scope["type"] != "http":
            return await self.inner(scope, receive, send)
        send = self._labelled(send)
        if scope.get("method") in ("GET", "HEAD"):
            return await self.inner(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        try:
            given = headers.get(b"content-type", b"")
            mime = given.split(b";")[0].strip().lower()
            if scope.get("path") == "/invocations":
                self._check_type(given, mime)
            body = await self._read_body(headers, receive)
            if mime == JSON and (depth := json_depth(body)) > MAX_DEPTH:
                raise Refused(400, "BAD_REQUEST", f"JSON nested {depth} deep: send a frame as dataframe_split, "
                              "dataframe_records or inputs")
            if mime == PARQUET:
                self._check_parquet(body)
            if mime == CSV:
                body = csv_as_json(body, self.text_columns)
                scope = _as_json(scope, len(body))
        except Refused as refused:
            return await self._answer(send, refused)
        except _Gone:
            return None
        handed = False

        async def replay():  # the body once, whole; then whatever the client does next (a disconnect)
            nonlocal handed
            if handed:
                return await receive()
            handed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.inner(scope, replay, _answers_rewritten(send))


def strict_json(body: bytes) -> bytes:
    """A JSON answer with NaN and infinities as null: Python's encoder writes them as bare NaN/Infinity, which
    strict parsers (JavaScript's JSON.parse, Go, Java) reject; a short series' forecast has no interval (NaN)."""
    if b"NaN" not in body and b"Infinity" not in body:
        return body
    try:
        return json.dumps(json.loads(body, parse_constant=lambda _: None)).encode()
    except ValueError:
        return body


def _answers_rewritten(send):
    """`send` that holds an answer until its body is complete, then sends an error through `one_line` and a JSON
    answer through `strict_json`, with its Content-Length set anew."""
    held = {}

    async def wrapped(message):
        if message["type"] == "http.response.start":
            headers = dict((k.lower(), v) for k, v in message.get("headers", []))
            if message["status"] >= 400 or b"json" in headers.get(b"content-type", b""):
                held["start"], held["body"] = message, b""
                return None
        if message["type"] == "http.response.body" and "start" in held:
            held["body"] += message.get("body", b"")
            if message.get("more_body", False):
                return None
            start, body = held.pop("start"), held.pop("body")
            body = one_line(body) if start["status"] >= 400 else strict_json(body)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            return await send({"type": "http.response.body", "body": body})
        return await send(message)

    return wrapped
