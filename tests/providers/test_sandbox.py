"""The sandbox provider: deterministic synthetic data and its consent page inside Stride."""

from __future__ import annotations

import datetime as dt
import logging
import os
import statistics
import subprocess
import sys
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import FakeClock
from bot.domain import Metric
from bot.providers.base import AccessTokenRejected, GrantRevoked
from bot.providers.oauth import code_challenge_s256, new_code_verifier
from bot.providers.sandbox import SandboxProvider, synthetic_day
from bot.settings import SandboxSettings
from bot.web.sandbox import add_sandbox_routes

from .helpers import assert_no_secrets, query_of

BASE = "https://stride.example"
CALLBACK = BASE + "/oauth/callback"
UTC = ZoneInfo("UTC")
Client = TestClient[web.Request, web.Application]


@pytest.fixture
def provider(clock: FakeClock) -> SandboxProvider:
    return SandboxProvider(SandboxSettings(enabled=True), None, clock, public_base_url=BASE)


@pytest.fixture
async def client(provider: SandboxProvider) -> AsyncIterator[Client]:
    app = web.Application()
    add_sandbox_routes(app, provider)
    # Without an access log, as Stride's own WebServer runs: request lines carry the state.
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(access_log=None)
    test_client = TestClient(server)
    await test_client.start_server()
    yield test_client
    await test_client.close()


def page_path(url: str) -> str:
    assert url.startswith(BASE + "/oauth/sandbox/authorize?")
    return url.removeprefix(BASE)


def test_synthetic_data_is_deterministic_and_plausible() -> None:
    first = dt.date(2026, 1, 5)  # a Monday
    days = [first + dt.timedelta(days=n) for n in range(7 * 26)]
    alice = [synthetic_day("sandbox-alice", day) for day in days]
    assert alice == [synthetic_day("sandbox-alice", day) for day in days]
    assert alice != [synthetic_day("sandbox-bob", day) for day in days]
    for values in alice:
        assert 300 <= values[Metric.STEPS] <= 30_000
        assert 300 <= values[Metric.SLEEP_MINUTES] <= 600
        # Distance follows that day's steps (a 0.6 to 0.9 m stride).
        assert 0.6 <= values[Metric.DISTANCE] * 1000 / values[Metric.STEPS] <= 0.9
        assert 0 <= values[Metric.FLOORS] <= 40
    by_weekday = {
        weekday: statistics.mean(
            values[Metric.STEPS]
            for day, values in zip(days, alice, strict=True)
            if day.weekday() == weekday
        )
        for weekday in range(7)
    }
    assert by_weekday[5] > max(by_weekday[w] for w in range(5))  # busy Saturdays
    assert by_weekday[6] < min(by_weekday[w] for w in range(5))  # quiet Sundays
    sleep_weekend = statistics.mean(
        v[Metric.SLEEP_MINUTES] for d, v in zip(days, alice, strict=True) if d.weekday() >= 5
    )
    sleep_week = statistics.mean(
        v[Metric.SLEEP_MINUTES] for d, v in zip(days, alice, strict=True) if d.weekday() < 5
    )
    assert sleep_weekend > sleep_week


def test_synthetic_data_does_not_depend_on_the_hash_seed() -> None:
    script = (
        "import datetime as dt; from bot.providers.sandbox import synthetic_day; "
        "print(sorted(synthetic_day('sandbox-x', dt.date(2026, 11, 20)).items()))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1


async def test_consent_allow_exchange_fetch(
    provider: SandboxProvider,
    client: Client,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    verifier = new_code_verifier()
    url = provider.authorization_url(
        state="sbx-state", redirect_uri=CALLBACK, code_challenge=code_challenge_s256(verifier)
    )
    page = await client.get(page_path(url))
    assert page.status == 200
    text = await page.text()
    assert "Allow" in text and "Deny" in text
    assert "<script" not in text and "src=" not in text and "href=" not in text
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"

    answer = await client.post(
        "/oauth/sandbox/authorize",
        data={"state": "sbx-state", "redirect_uri": CALLBACK, "decision": "allow"},
        allow_redirects=False,
    )
    assert answer.status == 303
    location = answer.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    callback = query_of(location)
    assert callback["state"] == "sbx-state"

    tokens = await provider.exchange_code(
        code=callback["code"], redirect_uri=CALLBACK, code_verifier=verifier
    )
    with pytest.raises(GrantRevoked):  # single-use
        await provider.exchange_code(
            code=callback["code"], redirect_uri=CALLBACK, code_verifier=verifier
        )
    user_id = await provider.fetch_user_id(tokens)
    assert user_id.startswith("sandbox-")
    assert tokens.refresh_token is not None
    refreshed = await provider.refresh(tokens.refresh_token)
    assert await provider.fetch_user_id(refreshed) == user_id

    # The clock is at 12:00 UTC: today is half done, tomorrow has no data yet.
    today = clock.now().date()
    start = today - dt.timedelta(days=6)
    values = await provider.fetch_daily(
        refreshed.access_token,
        list(Metric),
        start,
        today + dt.timedelta(days=1),
        include_manual=False,
        user_tz=UTC,
    )
    assert {v.day for v in values} == {start + dt.timedelta(days=n) for n in range(7)}
    got = {(v.metric, v.day): v.value for v in values}
    assert got[Metric.STEPS, start] == synthetic_day(user_id, start)[Metric.STEPS]
    assert got[Metric.STEPS, today] == pytest.approx(
        synthetic_day(user_id, today)[Metric.STEPS] / 2
    )
    assert got[Metric.SLEEP_MINUTES, today] == synthetic_day(user_id, today)[Metric.SLEEP_MINUTES]

    # The page cannot be replayed once decided.
    again = await client.get(page_path(url))
    assert again.status == 400
    with pytest.raises(AccessTokenRejected):
        await provider.fetch_daily(
            "forged", [Metric.STEPS], start, today, include_manual=False, user_tz=UTC
        )
    assert_no_secrets(
        caplog, verifier, callback["code"], "sbx-state", tokens.access_token, tokens.refresh_token
    )


async def test_consent_deny(provider: SandboxProvider, client: Client) -> None:
    url = provider.authorization_url(state="s-deny", redirect_uri=CALLBACK, code_challenge=None)
    assert (await client.get(page_path(url))).status == 200
    answer = await client.post(
        "/oauth/sandbox/authorize",
        data={"state": "s-deny", "redirect_uri": CALLBACK, "decision": "deny"},
        allow_redirects=False,
    )
    assert answer.status == 303
    assert query_of(answer.headers["Location"]) == {"error": "access_denied", "state": "s-deny"}


async def test_foreign_redirect_uri_is_refused(provider: SandboxProvider, client: Client) -> None:
    with pytest.raises(ValueError, match="own callback"):
        provider.authorization_url(
            state="s", redirect_uri="https://evil.example/cb", code_challenge=None
        )
    with pytest.raises(ValueError):
        provider.authorization_url(
            state="s",
            redirect_uri="https://stride.example.evil.example/oauth/callback",
            code_challenge=None,
        )
    provider.authorization_url(state="s-ok", redirect_uri=CALLBACK, code_challenge=None)
    for redirect in ("https://evil.example/cb", CALLBACK + "/../../x", ""):
        page = await client.get(
            "/oauth/sandbox/authorize", params={"state": "s-ok", "redirect_uri": redirect}
        )
        assert page.status == 400
        answer = await client.post(
            "/oauth/sandbox/authorize",
            data={"state": "s-ok", "redirect_uri": redirect, "decision": "allow"},
            allow_redirects=False,
        )
        assert answer.status == 400
        assert "Location" not in answer.headers
    # Odd input for a known state (non-ASCII, which hmac.compare_digest cannot take as
    # str) is refused with the same page, not a 500.
    for redirect in (CALLBACK + "é", "ü"):
        page = await client.get(
            "/oauth/sandbox/authorize", params={"state": "s-ok", "redirect_uri": redirect}
        )
        assert page.status == 400
        answer = await client.post(
            "/oauth/sandbox/authorize",
            data={"state": "s-ok", "redirect_uri": redirect, "decision": "allow"},
            allow_redirects=False,
        )
        assert answer.status == 400
    assert provider.pending_consent("s-ok", CALLBACK) is not None  # still usable
    # An unknown state is refused even with Stride's own callback.
    page = await client.get(
        "/oauth/sandbox/authorize", params={"state": "never-issued", "redirect_uri": CALLBACK}
    )
    assert page.status == 400


async def test_consent_and_code_expire(
    provider: SandboxProvider, client: Client, clock: FakeClock
) -> None:
    provider.authorization_url(state="old", redirect_uri=CALLBACK, code_challenge=None)
    clock.advance(dt.timedelta(minutes=31))
    page = await client.get(
        "/oauth/sandbox/authorize", params={"state": "old", "redirect_uri": CALLBACK}
    )
    assert page.status == 400

    provider.authorization_url(state="new", redirect_uri=CALLBACK, code_challenge=None)
    target = provider.approve("new", CALLBACK)
    assert target is not None
    clock.advance(dt.timedelta(minutes=6))
    with pytest.raises(GrantRevoked):
        await provider.exchange_code(
            code=query_of(target)["code"], redirect_uri=CALLBACK, code_verifier=None
        )


async def test_pkce_is_enforced(provider: SandboxProvider) -> None:
    provider.authorization_url(
        state="p", redirect_uri=CALLBACK, code_challenge=code_challenge_s256("a" * 50)
    )
    target = provider.approve("p", CALLBACK)
    assert target is not None
    with pytest.raises(GrantRevoked):
        await provider.exchange_code(
            code=query_of(target)["code"], redirect_uri=CALLBACK, code_verifier="b" * 50
        )


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"state=\xff&redirect_uri=x&decision=allow", "application/x-www-form-urlencoded"),
        (b"state=s-ok&decision=allow", "application/x-www-form-urlencoded; charset=nonsense"),
        (b"garbage", "multipart/form-data"),  # no boundary
    ],
    ids=["not utf-8", "unknown charset", "multipart without boundary"],
)
async def test_a_form_that_cannot_be_read_is_a_400_not_a_500(
    provider: SandboxProvider, client: Client, body: bytes, content_type: str
) -> None:
    provider.authorization_url(state="s-ok", redirect_uri=CALLBACK, code_challenge=None)
    answer = await client.post(
        "/oauth/sandbox/authorize",
        data=body,
        headers={"Content-Type": content_type},
        allow_redirects=False,
    )
    assert answer.status == 400
    assert "Location" not in answer.headers
    assert provider.pending_consent("s-ok", CALLBACK) is not None
