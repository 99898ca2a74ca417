"""The production `WebServer` under abuse: malformed requests, idle and half-sent connections,
more connections than the cap. Raw sockets play the clients; log volume is measured."""

from __future__ import annotations

import asyncio
import resource
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from bot.metrics import Metrics
from bot.settings import Settings
from bot.storage import Database
from bot.web.app import create_app
from bot.web.listeners import web_limits
from bot.web.server import WebLimits, WebServer

from .rawhttp import WAIT_SECONDS, FakeMonotonic, exchange, recording_logs, request, status_of

StartServer = Callable[..., Awaitable[WebServer]]
Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class HeldRoute:
    """`GET /held`: a request that stays in progress until `release` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.entered: asyncio.Queue[None] = asyncio.Queue()

    async def handle(self, request: web.Request) -> web.Response:
        self.entered.put_nowait(None)
        await self.release.wait()
        return web.Response(text="done")

    def install(self, app: web.Application) -> None:
        app.router.add_get("/held", self.handle)


@pytest.fixture
def held() -> HeldRoute:
    return HeldRoute()


@pytest.fixture
async def start_server(db: Database, held: HeldRoute) -> AsyncIterator[StartServer]:
    servers: list[WebServer] = []

    async def start(**kwargs: object) -> WebServer:
        app = create_app(db=db, metrics=Metrics(), installers=[held.install])
        server = WebServer(app, "127.0.0.1", 0, **kwargs)  # type: ignore[arg-type]
        await server.start()
        servers.append(server)
        return server

    yield start
    held.release.set()
    for server in servers:
        await server.stop()


async def _healthz(server: WebServer) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{server.port}/healthz") as response,
    ):
        return response.status


async def _open(port: int, count: int) -> list[Connection]:
    """`count` connections: every other one sends nothing, the rest half a request head."""
    connections = []
    for index in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        if index % 2:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: stride.test\r\nX-Slow: ")
        connections.append((reader, writer))
    return connections


async def _closed_by_server(connection: Connection) -> bool:
    reader, _writer = connection
    return await asyncio.wait_for(reader.read(), WAIT_SECONDS) == b""


def _close_all(connections: list[Connection]) -> None:
    for _reader, writer in connections:
        writer.close()


async def test_malformed_requests_log_one_short_rate_limited_line_each(
    start_server: StartServer,
) -> None:
    clock = FakeMonotonic()
    server = await start_server(monotonic=clock)
    assert server.port is not None
    # An 8 KB request line with a control character, and a state and a code in it.
    bad = b"GET /oauth/oura/callback?state=st4te&code=c0de" + b"A" * 8100 + b"\x01 HTTP/1.1\r\n\r\n"
    with recording_logs() as logs:
        answers = [await exchange(server.port, bad) for _ in range(50)]
        assert {status_of(answer) for answer in answers} == {400}
        assert all(b"c0de" not in answer and b"st4te" not in answer for answer in answers)
        first_minute = list(logs.lines)
        clock.now += 60
        await exchange(server.port, bad)
    # Unguarded, aiohttp wrote a traceback quoting the request: about 33 KB per request.
    assert len(first_minute) == 10 and len("\n".join(first_minute)) < 2_000
    assert all("bad request from 127.0.0.1 (" in line for line in first_minute)
    assert "Traceback" not in logs.text and "c0de" not in logs.text and "st4te" not in logs.text
    assert logs.lines[-1].endswith("(40 more like it left out of the log)")


async def test_headers_over_the_size_limit_get_a_plain_400_without_an_echo(
    start_server: StartServer,
) -> None:
    server = await start_server()
    assert server.port is not None
    raw = request("GET", "/healthz", headers={"X-Big": "s3cret" + "b" * 9000})
    with recording_logs() as logs:
        answer = await exchange(server.port, raw)
    assert status_of(answer) == 400 and b"s3cret" not in answer
    [line] = logs.lines
    assert "answered 400" in line and "s3cret" not in line


async def test_hundreds_of_idle_connections_do_not_stop_healthz(
    start_server: StartServer,
) -> None:
    server = await start_server(limits=WebLimits(header_timeout=60, max_connections=64))
    assert server.port is not None and server.guard is not None
    with recording_logs() as logs:
        idle = await _open(server.port, 320)
        try:
            assert await _healthz(server) == 200
            assert server.guard.open_connections <= 64
            # The oldest idle connections made room: closed by the server, not left hanging.
            assert all([await _closed_by_server(c) for c in idle[:200]])
        finally:
            _close_all(idle)
    assert "Traceback" not in logs.text and len(logs.lines) <= 10


async def test_idle_and_half_sent_connections_are_closed_after_the_header_timeout(
    start_server: StartServer,
) -> None:
    server = await start_server(limits=WebLimits(header_timeout=0.5))
    assert server.port is not None and server.guard is not None
    loop = asyncio.get_running_loop()
    opened = loop.time()
    idle = await _open(server.port, 300)
    try:
        assert await _healthz(server) == 200  # while all 300 are open
        assert server.guard.open_connections >= 300
        assert all([await _closed_by_server(c) for c in idle])
        assert loop.time() - opened >= 0.5
        assert server.guard.open_connections == 0
    finally:
        _close_all(idle)


async def test_an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout(
    start_server: StartServer,
) -> None:
    server = await start_server(limits=WebLimits(keepalive_timeout=0.5, header_timeout=60))
    assert server.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: stride.test\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT_SECONDS)
        assert head.startswith(b"HTTP/1.1 200")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        answered = asyncio.get_running_loop().time()
        assert await asyncio.wait_for(reader.read(), WAIT_SECONDS) == b""
        assert asyncio.get_running_loop().time() - answered >= 0.4
    finally:
        writer.close()


async def test_over_the_cap_with_every_connection_busy_a_client_gets_503(
    start_server: StartServer, held: HeldRoute
) -> None:
    server = await start_server(limits=WebLimits(max_connections=2))
    assert server.port is not None
    busy: list[Connection] = []
    for _ in range(2):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /held HTTP/1.1\r\nHost: stride.test\r\n\r\n")
        busy.append((reader, writer))
        await asyncio.wait_for(held.entered.get(), WAIT_SECONDS)
    try:
        with recording_logs() as logs:
            answer = await exchange(server.port, request("GET", "/healthz"))
        assert status_of(answer) == 503
        [line] = logs.lines
        assert "2 connections open, none idle: refused one with 503" in line
        held.release.set()  # the busy ones still get their answers
        for reader, _writer in busy:
            assert (await asyncio.wait_for(reader.readuntil(b"\r\n"), WAIT_SECONDS)).startswith(
                b"HTTP/1.1 200"
            )
    finally:
        _close_all(busy)


def test_the_limits_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "WEB_HEADER_TIMEOUT_SECONDS": "4",
        "WEB_BODY_TIMEOUT_SECONDS": "20",
        "WEB_KEEPALIVE_TIMEOUT_SECONDS": "90",
        "WEB_MAX_CONNECTIONS": "200",
        "WEB_BACKLOG": "64",
    }.items():
        monkeypatch.setenv(name, value)
    limits = web_limits(Settings(_env_file=None))  # type: ignore[call-arg]
    assert limits == WebLimits(
        header_timeout=4, body_timeout=20, keepalive_timeout=90, max_connections=200, backlog=64
    )
    assert WebLimits(max_connections=10**6).connection_cap() <= max(
        1, resource.getrlimit(resource.RLIMIT_NOFILE)[0] // 2
    )
