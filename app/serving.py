"""The ASGI app `forecast serve` runs: MLflow's own scoring-server app, with a request-size limit in front.

MLflow's scoring server reads any body whole; this rejects one over `FORECAST_MAX_REQUEST_BYTES` with HTTP 413
before it is parsed (by Content-Length, or while a chunked body streams in).
"""
import json
import os

from mlflow.pyfunc.scoring_server.app import app as scoring_app  # loads the model MLflow's way

LIMIT = int(os.environ.get("FORECAST_MAX_REQUEST_BYTES", 16 * 2**20))


class RequestSizeLimit:
    def __init__(self, inner, limit: int):
        self.inner, self.limit = inner, limit

    async def _reject(self, send, size: int | None):
        said = f"{size} bytes" if size is not None else "more"
        body = json.dumps({"error_code": "REQUEST_TOO_LARGE", "message": f"request body of {said} exceeds the limit "
                           f"of {self.limit} bytes (forecast serve --max-request-mb); split the series over requests"})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body.encode()})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.inner(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await self._reject(send, int(length))
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            return await self.inner(scope, counted, send)
        except _TooLarge:
            return await self._reject(send, None)


class _TooLarge(Exception):
    pass


app = RequestSizeLimit(scoring_app, LIMIT)
