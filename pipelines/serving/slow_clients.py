"""uvicorn's HTTP protocol (httptools, what `--http auto` picks) with a deadline on the request head.

uvicorn closes only idle keep-alive connections (after a response; 5 s): a client that opens a connection and
sends nothing, or dribbles its request line and headers a byte at a time (each byte cancels that timer), holds
the connection for ever. Here the head of every request (a new connection's first, and each next one on a
kept-alive connection) must be complete within `FORECAST_HEADER_TIMEOUT_S` seconds (default 10), else the
server answers 408 and closes. The body has its own deadline (pipelines/serving/guard.py). Passed to uvicorn as
`--http forecast.pipelines.serving.slow_clients:HeadDeadlineProtocol` by pipelines/serving/serve.py.
"""
import os

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEAD_TIMEOUT = float(os.environ.get("FORECAST_HEADER_TIMEOUT_S", "10"))
_MESSAGE = b"the request head (request line and headers) did not arrive in time\n"
TIMEOUT_RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(_MESSAGE), _MESSAGE))


class HeadDeadlineProtocol(HttpToolsProtocol):
    _deadline = None

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(HEAD_TIMEOUT, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.write(TIMEOUT_RESPONSE)
            self.transport.close()

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()                     # the next request's head on this kept-alive connection

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)
