"""Fixtures for the provider tests: a fake clock and sleep, one HTTP session, the stand-ins."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import aiohttp
import pytest

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
