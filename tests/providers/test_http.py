"""The shared request helper: Retry-After, retries, idempotency, error mapping, no leaks."""

from __future__ import annotations

import datetime as dt
import email.utils
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.clock import FakeClock
from bot.providers.base import (
    GrantRevoked,
    ProviderResponseError,
    ProviderUnavailable,
)
from bot.providers.http import HttpResponse, ProviderHttp, RetryPolicy, parse_retry_after

from .conftest import FakeSleep

SECRET = "tok-SUPER-SECRET-123"


def test_parse_retry_after() -> None:
    now = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
    assert parse_retry_after("5", now) == 5
    assert parse_retry_after(" 2.5 ", now) == 2.5
    later = email.utils.format_datetime(now + dt.timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(later, now) == 90
    earlier = email.utils.format_datetime(now - dt.timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(earlier, now) == 0
    assert parse_retry_after("-3", now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,  # nesting deeper than the parser's recursion limit
        b'{"total_sleep_duration": Infinity}',  # Python's json extensions, not JSON
        b'{"total_sleep_duration": NaN}',
        b'{"steps": 1e400}',  # overflows to inf
    ],
    ids=["deep", "Infinity", "NaN", "1e400"],
)
def test_garbage_json_is_a_provider_response_error(body: bytes) -> None:
    """Only JSON that RFC 8259 allows, with finite numbers, gets past `json()`: anything else
    used to escape as RecursionError, or as an inf/NaN that `round()` later choked on."""
    resp = HttpResponse(status=200, headers={}, body=body, provider="Test", endpoint="data")
    with pytest.raises(ProviderResponseError, match="not JSON"):
        resp.json()
    assert resp.json_or_none() is None


CALLS = web.AppKey("calls", dict[str, int])


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    """A tiny app whose answers echo secrets back, as a careless provider might."""
    calls: dict[str, int] = {}

    async def echo_grant(request: web.Request) -> web.Response:
        calls["grant"] = calls.get("grant", 0) + 1
        return web.json_response(
            {"error": "invalid_grant", "error_description": f"bad token {SECRET}"}, status=400
        )

    async def echo_client(request: web.Request) -> web.Response:
        return web.json_response(
            {"error": f"invalid client {SECRET}", "error_description": SECRET}, status=401
        )

    async def flaky(request: web.Request) -> web.Response:
        calls["flaky"] = calls.get("flaky", 0) + 1
        return web.json_response({"error": SECRET}, status=503)

    async def redirect(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "https://elsewhere.example/"})

    async def google_error(request: web.Request) -> web.Response:
        body = {"error": {"code": 403, "message": SECRET, "status": "PERMISSION_DENIED"}}
        return web.json_response(body, status=403)

    app = web.Application()
    app[CALLS] = calls
    app.router.add_post("/grant", echo_grant)
    app.router.add_post("/client", echo_client)
    app.router.add_post("/flaky", flaky)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/forbidden", google_error)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server(access_log=None)
    yield test_server
    await test_server.close()


@pytest.fixture
def http(session: aiohttp.ClientSession, clock: FakeClock, fake_sleep: FakeSleep) -> ProviderHttp:
    return ProviderHttp(session, provider="Test", clock=clock, sleep=fake_sleep)


async def test_oauth_errors_never_quote_the_answer_text(
    server: TestServer, http: ProviderHttp
) -> None:
    with pytest.raises(GrantRevoked) as revoked:
        await http.oauth_json(
            str(server.make_url("/grant")), endpoint="token", form={"t": SECRET}, idempotent=True
        )
    assert SECRET not in str(revoked.value)
    with pytest.raises(ProviderResponseError) as refused:
        await http.oauth_json(
            str(server.make_url("/client")), endpoint="token", form={}, idempotent=True
        )
    assert SECRET not in str(refused.value)
    assert "HTTP 401" in str(refused.value)
    with pytest.raises(ProviderResponseError, match="PERMISSION_DENIED") as forbidden:
        await http.api_json(
            "GET", str(server.make_url("/forbidden")), endpoint="data", access_token=SECRET
        )
    assert SECRET not in str(forbidden.value)


async def test_non_idempotent_requests_are_not_repeated_after_a_5xx(
    server: TestServer, http: ProviderHttp, fake_sleep: FakeSleep
) -> None:
    url = str(server.make_url("/flaky"))
    with pytest.raises(ProviderUnavailable) as caught:
        await http.oauth_json(url, endpoint="token", form={}, idempotent=False)
    assert server.app[CALLS]["flaky"] == 1
    assert SECRET not in str(caught.value)
    await_calls = len(fake_sleep.calls)
    with pytest.raises(ProviderUnavailable):
        await http.oauth_json(url, endpoint="token", form={}, idempotent=True)
    assert server.app[CALLS]["flaky"] == 1 + 4
    assert len(fake_sleep.calls) == await_calls + 3


async def test_redirects_are_not_followed(server: TestServer, http: ProviderHttp) -> None:
    with pytest.raises(ProviderResponseError, match="HTTP 302"):
        await http.api_json(
            "GET", str(server.make_url("/redirect")), endpoint="data", access_token=SECRET
        )


async def test_connection_refused_is_retried_then_unavailable(
    session: aiohttp.ClientSession, clock: FakeClock, fake_sleep: FakeSleep
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    http = ProviderHttp(
        session, provider="Test", clock=clock, sleep=fake_sleep, policy=RetryPolicy(max_attempts=3)
    )
    with pytest.raises(ProviderUnavailable, match="ClientConnectorError") as caught:
        # Even a non-idempotent request: a connection that never opened sent nothing.
        await http.oauth_json(
            f"http://127.0.0.1:{port}/token?code={SECRET}",
            endpoint="token",
            form={},
            idempotent=False,
        )
    assert len(fake_sleep.calls) == 2
    assert SECRET not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
