"""The server for `sinergi gateway`: the runner, its HTTP protocol, and `serve` (its resources come from
`sinergi.bootstrap.gateway_resources`)."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiohttp import hdrs, web
from aiohttp.streams import EMPTY_PAYLOAD, StreamReader
from aiohttp.web_protocol import RequestHandler, _ErrInfo
from aiohttp.web_request import BaseRequest

from sinergi import bootstrap
from sinergi.cases import Cases
from sinergi.gateway.app import SERVER_NAME, create_app
from sinergi.gateway.errors import error_response, protocol_error
from sinergi.gateway.resources import SETTINGS
from sinergi.platform.config import Settings

log = structlog.get_logger("sinergi.gateway")

# Longer than any agency keeps an idle connection; shorter than letting idle sockets pile up.
KEEPALIVE_SECONDS = 75.0


class HeadersTimedOut(Exception):
    """The request line and headers of a request did not arrive within the header timeout."""


class GatewayProtocol(RequestHandler):
    """aiohttp's per-connection HTTP protocol, answering what aiohttp answers on its own as the gateway does.

    aiohttp refuses a malformed request (bad request line, a header over 8190 bytes) in its parser,
    before any middleware, as text that quotes the request's bytes; it has no hook for that answer
    (aio-libs/aiohttp#3287), so `handle_error` is overridden here: the gateway's JSON `ErrorBody`, a
    fixed message, the neutral `Server` header, and a log line naming only the kind of error.

    aiohttp has no header timeout either: a client sending its headers a byte at a time held a
    connection until the keep-alive timeout (75 s). Here the request line and headers must arrive within
    `header_timeout` seconds of their first byte, or the client gets 408 and the connection closes.
    This, like `handle_error`, leans on RequestHandler's internals (aiohttp 3.11-3.14);
    tests/security/test_gateway_hardening.py fails if a new aiohttp changes them.
    """

    __slots__ = ("_header_timeout", "_header_timer", "_last_body")

    def __init__(self, manager: web.Server, *, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._header_timeout = header_timeout
        self._header_timer: asyncio.TimerHandle | None = None
        self._last_body: StreamReader | None = None  # the body of the latest request parsed

    def data_received(self, data: bytes) -> None:
        body_open = self._last_body is not None and not self._last_body.is_eof()
        parsed = self._request_count
        super().data_received(data)
        if self._request_count > parsed:  # a request's headers are complete: no longer waiting for them
            self._last_body = self._messages[-1][1] if self._messages else None
            self._stop_header_timer()
        elif data and not body_open and self._header_timer is None and not (self._close or self._force_close):
            # Bytes with no request body open and no request parsed: a request line or headers, in part.
            # The clock starts at their first byte and is not reset by more: one byte a second is slow.
            self._header_timer = self._loop.call_later(self._header_timeout, self._headers_late)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self._close or self._force_close or self.transport is None:
            return
        if self._request_in_progress or self._messages:
            self.close()  # an earlier request is being answered: finish it, then hang up on the slow one
            return
        log.info("gateway_headers_timeout", timeout_s=self._header_timeout)
        # Answered like a parser error (a 408 through `handle_error`), then the connection closes.
        self._messages.append((_ErrInfo(status=408, exc=HeadersTimedOut(), message=""), EMPTY_PAYLOAD))
        self._close = True  # read nothing more from this client
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def handle_error(self, request: BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        # The kind of error only: aiohttp's message, and its traceback, quote the request's bytes.
        if status >= 500:  # a handler failed outside the middleware: a bug, but its words stay here too
            log.error("gateway_bug", status=status, exc_type=type(exc).__name__ if exc else None)
        elif status != 408:
            log.info("gateway_bad_http", status=status, error=type(exc).__name__ if exc else None)
        if request.writer.output_size > 0:  # a response is under way: nothing else can be said on it
            raise ConnectionError("response already started; connection closed")
        response = error_response(protocol_error(status, exc))
        response.headers[hdrs.SERVER] = SERVER_NAME
        response.force_close()
        return response


class _GatewayServer(web.Server):
    """aiohttp's low-level server, making a `GatewayProtocol` for each connection."""

    def __call__(self) -> RequestHandler:
        return GatewayProtocol(self, loop=self._loop, **self._kwargs)


class GatewayRunner(web.AppRunner):
    """`web.AppRunner`, serving through `GatewayProtocol` (aiohttp has no option for the protocol class)."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()  # starts the app; aiohttp's server, rebuilt with our protocol
        return _GatewayServer(server.request_handler, request_factory=server.request_factory,
                              handler_cancellation=server.handler_cancellation, **server._kwargs)


def gateway_runner(app: web.Application) -> web.AppRunner:
    """The runner `serve` uses; tests use it too, so they meet the server agencies meet."""
    # Our own structured line per event replaces aiohttp's access log. Handlers are not cancelled when a
    # client hangs up (aiohttp's default): an event being applied finishes, and is logged, either way.
    return GatewayRunner(app, access_log=None, keepalive_timeout=KEEPALIVE_SECONDS,
                         header_timeout=app[SETTINGS].header_timeout_seconds)


async def serve(settings: Settings, stop: asyncio.Event, cases: Cases | None = None) -> None:
    """Serve the gateway on `gateway.host:port` until `stop` is set; `cases` reuses a connected client."""
    runner = gateway_runner(create_app(settings.gateway, lambda: bootstrap.gateway_resources(settings, cases)))
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.gateway.host, settings.gateway.port)
        await site.start()
        log.info("gateway_listening", url=settings.gateway.base_url)
        await stop.wait()
    finally:
        await runner.cleanup()
