"""The live sync's test world: the daily run's world (`tests.daily.world.World`: a real
database, the scripted provider, the real token manager, a fake clock) with a sync queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from bot.crypto import TokenCipher
from bot.daily.fetch import TokenCall
from bot.domain import DailyValue
from bot.events import EventBus
from bot.storage import Database
from bot.storage.accounts import LinkedAccount
from bot.sync.queue import SyncQueue
from bot.sync.worker import Backoff
from tests.daily.world import World

OWNER = "test-host"


class Gate:
    """Holds every provider call at the gate until `open()`; `entered` is set by the first."""

    def __init__(self, call_with_token: TokenCall) -> None:
        self._call_with_token = call_with_token
        self.entered = asyncio.Event()
        self._open = asyncio.Event()

    def open(self) -> None:
        self._open.set()

    async def __call__(
        self, account: LinkedAccount, fn: Callable[[str], Awaitable[list[DailyValue]]]
    ) -> list[DailyValue]:
        self.entered.set()
        async with asyncio.timeout(10):  # a guard against a hang, never reached
            await self._open.wait()
        return await self._call_with_token(account, fn)


@pytest.fixture
def world(db: Database, cipher: TokenCipher) -> World:
    return World(db, cipher)


def make_queue(
    world: World,
    *,
    call_with_token: TokenCall | None = None,
    concurrency: int = 8,
    owner: str = OWNER,
    events: EventBus | None = None,
) -> SyncQueue:
    return SyncQueue(
        db=world.db,
        clock=world.clock,
        challenges=world.challenges,
        providers={"fake": world.provider},
        call_with_token=call_with_token or world.tokens.call_with_token,
        concurrency=concurrency,
        owner=owner,
        backoff=Backoff(),
        events=events,
    )


@pytest.fixture
async def queue(world: World) -> AsyncIterator[SyncQueue]:
    built = make_queue(world)
    yield built
    await built.aclose()
