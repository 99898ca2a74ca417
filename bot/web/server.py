"""The HTTP server that runs a Stride app: timeouts, a connection cap, short logs for bad input.

aiohttp's own server has a keep-alive timeout and nothing else a public address needs. Here:

- **Header timeout**: a connection must deliver a complete request head within
  `WebLimits.header_timeout` of connecting (or of the first byte of its next request); one
  that sends nothing or half a header is closed then.
- **Body timeout**: the body must have arrived `body_timeout` after its head; a reader still
  waiting gets `BodyTimeout` (408, `bot.web.errors`).
- **Keep-alive timeout**: an idle connection between requests is closed after
  `keepalive_timeout`.
- **Connection cap**: at most `max_connections` open at once (never more than half the
  process's file descriptors). A new connection over the cap closes the oldest idle one (one
  waiting for its head or between requests); when none is idle it gets a 503 and is closed.
  Idle connections can therefore never lock out a real request, and descriptors never run out.
- **Bad requests** (a malformed request line or header, an undecodable body): aiohttp logs a
  traceback quoting the request; here each is one short line (client, exception type,
  status), at most a few a minute (`RateLimitedLog`), and the 400 answer does not echo the
  request either.

`GuardedRequestHandler` is aiohttp's `RequestHandler` with those overrides; `ConnectionGuard`
is the protocol factory that counts, evicts and refuses; `WebServer` runs an app with them.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import StreamReader, web
from aiohttp.http_exceptions import HttpProcessingError

from bot.web.errors import BodyTimeout
from bot.web.ratelimit import Monotonic, RateLimitedLog

log = logging.getLogger(__name__)

RequestFactory = Callable[..., web.BaseRequest]

_REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 29\r\nRetry-After: 5\r\nConnection: close\r\n\r\n"
    b"Stride is busy, retry later.\n"
)
# Exceptions a client causes; anything else aiohttp logs is worth its traceback.
_CLIENT_FAULTS = (HttpProcessingError, web.RequestPayloadError, BodyTimeout, ConnectionError)


@dataclass(frozen=True, slots=True)
class WebLimits:
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    keepalive_timeout: float = 75.0
    max_connections: int = 512
    backlog: int = 128

    def connection_cap(self) -> int:
        """`max_connections`, but at most half the descriptors the process may open."""
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return self.max_connections
        return max(1, min(self.max_connections, soft // 2))


class GuardedRequestHandler(web.RequestHandler):
    """One connection: aiohttp's handler with a header deadline, a body deadline and short
    logs; `idle` says whether it waits for a request (and may be evicted)."""

    def __init__(self, manager: web.Server, *, guard: ConnectionGuard, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._guard = guard
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self.idle = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)
        self._guard.forget(self)

    def data_received(self, data: bytes) -> None:
        if self.idle and data and self._head_timer is None:
            self._arm_head_timer()  # the first byte of a next request
        super().data_received(data)

    def request_started(self, payload: StreamReader) -> None:
        """Called with each request's body stream once its head is parsed."""
        self.idle = False
        self._cancel_timers()
        if not payload.is_eof():
            self._body_timer = self._loop.call_later(
                self._guard.limits.body_timeout, _time_out_body, payload
            )

    async def finish_response(
        self, request: web.BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        self._cancel_timers()
        try:
            return await super().finish_response(request, resp, start_time)
        finally:
            self.idle = True
            if request.content.exception() is not None:
                # An undecodable or late body: the rest of it is no use, and aiohttp would
                # log a traceback reading it out. Close once the answer is written.
                self.force_close()

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500:
            return super().handle_error(request, status, exc, message)
        self._guard.note_bad_request(request.remote, status, exc)
        if request.writer.output_size > 0:
            raise ConnectionError("an answer was sent already")
        response = web.Response(status=status, text=f"{status} {HTTPStatus(status).phrase}\n")
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kw: Any) -> None:
        exc = kw.get("exc_info")
        if isinstance(exc, _CLIENT_FAULTS):
            self._guard.note_bad_request(_peer(self.peername), None, exc)
            return
        super().log_exception(*args, **kw)

    def _arm_head_timer(self) -> None:
        self._head_timer = self._loop.call_later(
            self._guard.limits.header_timeout, self._head_overdue
        )

    def _head_overdue(self) -> None:
        self._head_timer = None
        if self.idle:
            self.force_close()

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None


def _time_out_body(payload: StreamReader) -> None:
    if not payload.is_eof():
        payload.set_exception(BodyTimeout())


def _peer(peername: object) -> str | None:
    if isinstance(peername, tuple) and peername:
        return str(peername[0])
    return None if peername is None else str(peername)


class _Refusal(asyncio.Protocol):
    """A connection over the cap with nothing idle to make room: a 503, then closed."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if isinstance(transport, asyncio.WriteTransport):
            transport.write(_REFUSAL)
        transport.close()


class ConnectionGuard:
    """The protocol factory: a `GuardedRequestHandler` per connection, up to the cap."""

    def __init__(
        self,
        server: web.Server,
        limits: WebLimits,
        *,
        loop: asyncio.AbstractEventLoop,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self.limits = limits
        self._server = server
        self._loop = loop
        self._cap = limits.connection_cap()
        self._open: dict[GuardedRequestHandler, None] = {}  # oldest first
        self._bad_requests = RateLimitedLog(log, monotonic=monotonic)
        self._refusals = RateLimitedLog(log, level=logging.WARNING, monotonic=monotonic)
        self._evictions = RateLimitedLog(log, monotonic=monotonic)
        server.request_factory = self._noting_starts(server.request_factory)

    @property
    def open_connections(self) -> int:
        return len(self._open)

    def __call__(self) -> asyncio.Protocol:
        if len(self._open) >= self._cap and not self._evict_oldest_idle():
            self._refusals.log("%d connections open, none idle: refused one with 503", self._cap)
            return _Refusal()
        handler = GuardedRequestHandler(
            self._server,
            guard=self,
            loop=self._loop,
            keepalive_timeout=self.limits.keepalive_timeout,
            access_log=None,  # request lines carry OAuth states and codes
        )
        self._open[handler] = None
        return handler

    def forget(self, handler: GuardedRequestHandler) -> None:
        self._open.pop(handler, None)

    def note_bad_request(
        self, peer: str | None, status: int | None, exc: BaseException | None
    ) -> None:
        """One short line (rate-limited): who, the exception's type, the answer's status;
        never the exception's text, which quotes the request (states, codes)."""
        kind = "unknown" if exc is None else type(exc).__name__
        if status is None:
            self._bad_requests.log("bad request from %s (%s)", peer, kind)
        else:
            self._bad_requests.log("bad request from %s (%s), answered %d", peer, kind, status)

    def _evict_oldest_idle(self) -> bool:
        for handler in self._open:
            if handler.idle:
                self.forget(handler)
                handler.force_close()
                self._evictions.log("connection cap %d reached: closed the oldest idle", self._cap)
                return True
        return False

    @staticmethod
    def _noting_starts(make_request: RequestFactory) -> RequestFactory:
        def noting(
            message: Any, payload: StreamReader, protocol: Any, *args: Any
        ) -> web.BaseRequest:
            request = make_request(message, payload, protocol, *args)
            if isinstance(protocol, GuardedRequestHandler):
                protocol.request_started(payload)
            return request

        return noting


class WebServer:
    """Runs an app on host:port inside the current event loop; `port` is the bound port."""

    def __init__(
        self,
        app: web.Application,
        host: str,
        port: int,
        *,
        limits: WebLimits | None = None,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self._runner = web.AppRunner(app, access_log=None)
        self._host = host
        self._port = port
        self._limits = limits or WebLimits()
        self._monotonic = monotonic
        self._listener: asyncio.Server | None = None
        self.guard: ConnectionGuard | None = None
        self.port: int | None = None

    async def start(self) -> None:
        await self._runner.setup()
        server = self._runner.server
        if server is None:  # pragma: no cover - setup() sets it
            raise RuntimeError("the app runner did not set up a server")
        loop = asyncio.get_running_loop()
        self.guard = ConnectionGuard(server, self._limits, loop=loop, monotonic=self._monotonic)
        self._listener = await loop.create_server(
            self.guard, self._host, self._port, backlog=self._limits.backlog
        )
        self.port = self._listener.sockets[0].getsockname()[1]
        log.info("web server listening on %s:%s", self._host, self.port)

    @property
    def address(self) -> str:
        return f"{self._host}:{self.port if self.port is not None else self._port}"

    async def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()  # no new connections; the runner closes the open ones
        await self._runner.cleanup()
        if listener is not None:
            await listener.wait_closed()
