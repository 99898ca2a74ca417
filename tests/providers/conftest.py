"""Fixtures for the provider tests: a fake clock and sleep, one HTTP session, the stand-ins."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.clock import FakeClock
from tests.standins.providers import (
    GoogleFitStandin,
    GoogleHealthStandin,
    OuraStandin,
    WithingsStandin,
)

REDIRECT_URI = "https://stride.example/oauth/callback"
START = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


class FakeSleep:
    """Records every requested delay and returns at once (tests never really wait)."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def fake_sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def google_health(clock: FakeClock) -> AsyncIterator[GoogleHealthStandin]:
    standin = GoogleHealthStandin(clock=clock, require_pkce=True)
    await standin.start()
    yield standin
    await standin.close()


@pytest.fixture
async def google_fit(clock: FakeClock) -> AsyncIterator[GoogleFitStandin]:
    standin = GoogleFitStandin(clock=clock)
    await standin.start()
    yield standin
    await standin.close()


@pytest.fixture
async def withings(clock: FakeClock) -> AsyncIterator[WithingsStandin]:
    standin = WithingsStandin(clock=clock)
    await standin.start()
    yield standin
    await standin.close()


@pytest.fixture
async def oura(clock: FakeClock) -> AsyncIterator[OuraStandin]:
    standin = OuraStandin(clock=clock)
    await standin.start()
    yield standin
    await standin.close()


class CannedServer:
    """Answers every request with `body` as JSON: what a stand-in built from the provider's
    documentation would never send (garbage that must not crash a provider)."""

    def __init__(self, server: TestServer) -> None:
        self._server = server
        self.body: Any = {}

    @property
    def base(self) -> str:
        return str(self._server.make_url("")).rstrip("/")


@pytest.fixture
async def canned_server() -> AsyncIterator[CannedServer]:
    canned: CannedServer

    async def reply(request: web.Request) -> web.Response:
        return web.json_response(canned.body)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", reply)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(access_log=None)
    canned = CannedServer(server)
    yield canned
    await server.close()
