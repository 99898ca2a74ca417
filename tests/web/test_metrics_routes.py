"""`/metrics` off the public port by default, and behind a bearer token when one is set."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest

from bot.metrics import Metrics
from bot.settings import Settings
from bot.storage import Database
from bot.web.listeners import WebListeners, web_listeners
from bot.web.metrics_routes import bearer_matches

from .rawhttp import exchange, recording_logs, request, status_of

MakeSettings = Callable[..., Settings]
Start = Callable[[WebListeners], Awaitable[WebListeners]]
TOKEN = "scrape-token-0123456789abcdef"


@pytest.fixture
async def started() -> AsyncIterator[Start]:
    running: list[WebListeners] = []

    async def start(listeners: WebListeners) -> WebListeners:
        running.append(listeners)
        await listeners.start()
        return listeners

    yield start
    for listeners in running:
        await listeners.stop()


async def _get(port: int | None, path: str, **headers: str) -> tuple[int, str, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}", headers=headers) as response,
    ):
        return response.status, await response.text(), dict(response.headers)


def test_by_default_metrics_listen_on_loopback_on_a_port_of_their_own(
    make_settings: MakeSettings,
) -> None:
    settings = make_settings()
    assert (settings.metrics_host, settings.metrics_port) == ("127.0.0.1", 9108)
    assert settings.metrics_token is None


def test_an_empty_metrics_port_means_the_public_port(
    make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("METRICS_PORT", "")
    monkeypatch.setenv("METRICS_TOKEN", "")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.metrics_port is None and settings.metrics_token is None


async def test_the_public_port_does_not_serve_metrics_by_default(
    make_settings: MakeSettings, db: Database, started: Start
) -> None:
    settings = make_settings(web_port=0, metrics_port=0)
    listeners = web_listeners(settings, db=db, metrics=Metrics(), installers=[])
    await started(listeners)
    assert listeners.metrics is not None
    status, _body, _headers = await _get(listeners.port, "/metrics")
    assert status == 404
    assert (await _get(listeners.port, "/healthz"))[0] == 200  # health stays public
    status, body, _headers = await _get(listeners.metrics.port, "/metrics")
    assert status == 200 and 'stride_http_requests_total{route="/healthz",status="200"}' in body


async def test_a_token_guards_metrics_on_the_public_port(
    make_settings: MakeSettings, db: Database, started: Start
) -> None:
    settings = make_settings(web_port=0, metrics_port=None, metrics_token=TOKEN)
    listeners = web_listeners(settings, db=db, metrics=Metrics(), installers=[])
    await started(listeners)
    assert listeners.metrics is None
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        status, body, answer_headers = await _get(listeners.port, "/metrics", **headers)
        assert status == 401 and "stride_" not in body
        assert answer_headers["WWW-Authenticate"].startswith("Bearer")
    status, body, _ = await _get(listeners.port, "/metrics", Authorization=f"Bearer {TOKEN}")
    assert status == 200 and "stride_linked_accounts" in body


async def test_an_authorization_header_that_is_not_utf8_is_401_not_a_500(
    make_settings: MakeSettings, db: Database, started: Start
) -> None:
    settings = make_settings(web_port=0, metrics_port=None, metrics_token=TOKEN)
    listeners = await started(web_listeners(settings, db=db, metrics=Metrics(), installers=[]))
    assert listeners.port is not None

    with recording_logs() as logs:  # latin-1 on the wire: "\xe9" is no UTF-8
        answer = await exchange(
            listeners.port, request("GET", "/metrics", headers={"Authorization": "Bearer é"})
        )

    assert status_of(answer) == 401 and b"stride_" not in answer
    assert not [line for line in logs.lines if "ERROR" in line or "Traceback" in line]


async def test_a_taken_metrics_port_leaves_the_public_server_running(
    make_settings: MakeSettings, db: Database, started: Start
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = make_settings(web_port=0, metrics_port=port)
        listeners = web_listeners(settings, db=db, metrics=Metrics(), installers=[])
        with recording_logs() as logs:
            await started(listeners)
        assert (await _get(listeners.port, "/healthz"))[0] == 200
    [warning] = [line for line in logs.lines if "WARNING" in line]
    assert f"/metrics is not served: cannot listen on 127.0.0.1:{port}" in warning


def test_the_bearer_check_wants_the_scheme_and_the_exact_token() -> None:
    assert bearer_matches(f"Bearer {TOKEN}", TOKEN)
    assert bearer_matches(f"bearer {TOKEN}", TOKEN)
    assert not bearer_matches(None, TOKEN)
    assert not bearer_matches(TOKEN, TOKEN)
    assert not bearer_matches(f"Bearer {TOKEN}x", TOKEN)
    assert not bearer_matches(f"Token {TOKEN}", TOKEN)
