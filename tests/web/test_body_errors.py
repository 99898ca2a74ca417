"""Bodies that cannot be read are the client's fault: 400 (408 when too slow), one log line.

Sent over raw sockets to the production `WebServer`, on `POST /oauth/sandbox/authorize` (the
route the issue found answering 500 with a traceback) and on routes reading JSON and raw
bodies, since the error middleware covers every route.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import zlib
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.clock import FakeClock
from bot.metrics import Metrics
from bot.providers.sandbox import AUTHORIZE_PATH, SandboxProvider
from bot.settings import SandboxSettings
from bot.storage import Database
from bot.web.app import create_app
from bot.web.sandbox import add_sandbox_routes
from bot.web.server import WebLimits, WebServer

from .rawhttp import WAIT_SECONDS, exchange, recording_logs, request, status_of

FORM = "application/x-www-form-urlencoded"


async def _json(request: web.Request) -> web.Response:
    return web.json_response({"keys": sorted(await request.json())})


async def _raw(request: web.Request) -> web.Response:
    return web.Response(text=str(len(await request.content.read())))


def _install(app: web.Application) -> None:
    clock = FakeClock(dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    sandbox = SandboxProvider(
        SandboxSettings(enabled=True), None, clock, public_base_url="http://stride.test"
    )
    add_sandbox_routes(app, sandbox)
    app.router.add_post("/json", _json)
    app.router.add_post("/raw", _raw)


@pytest.fixture
async def port(db: Database) -> AsyncIterator[int]:
    app = create_app(db=db, metrics=Metrics(), installers=[_install])
    server = WebServer(app, "127.0.0.1", 0, limits=WebLimits(body_timeout=0.5))
    await server.start()
    assert server.port is not None
    yield server.port
    await server.stop()


def _multipart(part_headers: str, value: str = "allow") -> tuple[bytes, dict[str, str]]:
    body = (
        f'--b0undary\r\nContent-Disposition: form-data; name="decision"\r\n{part_headers}'
        f"\r\n{value}\r\n--b0undary--\r\n"
    ).encode()
    return body, {"Content-Type": "multipart/form-data; boundary=b0undary"}


_BROKEN = {
    "gzip that does not decode": (
        b"state=abc&decision=allow",
        {"Content-Type": FORM, "Content-Encoding": "gzip"},
    ),
    "deflate that does not decode": (
        zlib.compress(b"state=abc")[:-6] + b"garbage!",
        {"Content-Type": FORM, "Content-Encoding": "deflate"},
    ),
    "a part header over 8,190 bytes": _multipart("X-Padding: " + "p" * 9000 + "\r\n"),
    "an unknown Content-Transfer-Encoding": _multipart("Content-Transfer-Encoding: rot13\r\n"),
    "a charset that does not exist": (
        b"state=abc",
        {"Content-Type": FORM + "; charset=no-such-charset"},
    ),
}


@pytest.mark.parametrize("case", list(_BROKEN))
async def test_an_undecodable_consent_form_is_a_400_with_one_log_line(port: int, case: str) -> None:
    body, headers = _BROKEN[case]
    with recording_logs() as logs:
        answer = await exchange(port, request("POST", AUTHORIZE_PATH, body, headers=headers))
    assert status_of(answer) == 400
    assert b"Traceback" not in answer and b"abc" not in answer  # nothing sent is echoed
    # One short line, whichever layer noticed: aiohttp's parser (a body that arrived with
    # its head), the error middleware, or the consent page's own form check.
    [line] = logs.lines
    assert " INFO " in line and len(line) < 200 and "abc" not in line


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        ("/json", b'{"not": json', {"Content-Type": "application/json"}),
        ("/json", b"\xff\xfe{}", {"Content-Type": "application/json"}),
        ("/raw", b"x" * 40, {"Content-Encoding": "gzip"}),
        ("/raw", b"zz\r\n", {"Transfer-Encoding": "chunked"}),
    ],
)
async def test_every_route_answers_an_unreadable_body_with_400(
    port: int, path: str, body: bytes, headers: dict[str, str]
) -> None:
    raw = request("POST", path, body, headers=headers)
    if "Transfer-Encoding" in headers:
        raw = raw.replace(f"Content-Length: {len(body)}\r\n".encode(), b"")
    with recording_logs() as logs:
        answer = await exchange(port, raw)
    assert status_of(answer) == 400
    assert len(logs.lines) == 1 and "Traceback" not in logs.text


async def test_a_client_hanging_up_mid_body_leaves_one_line(port: int) -> None:
    head = request("POST", AUTHORIZE_PATH, b"", headers={"Content-Type": FORM})
    head = head.replace(b"Content-Length: 0", b"Content-Length: 1000")
    with recording_logs() as logs:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head + b"state=abc&deci")
        await writer.drain()
        writer.close()  # gone before the rest of the body
        await writer.wait_closed()
        await asyncio.wait_for(logs.arrived.wait(), WAIT_SECONDS)
    [line] = logs.lines
    assert "POST /oauth/sandbox/authorize: the client hung up before its body arrived" in line


async def test_a_body_that_stops_arriving_gets_408(port: int) -> None:
    head = request("POST", "/raw", b"").replace(b"Content-Length: 0", b"Content-Length: 100")
    with recording_logs() as logs:
        answer = await exchange(port, head + b"only ten b")
    assert status_of(answer) == 408
    [line] = logs.lines
    assert "POST /raw: unreadable request body (BodyTimeout), answered 408" in line
