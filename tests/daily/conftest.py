"""The fixtures of the daily-run tests: the `world` (`tests.daily.world.World`), and `step`,
which moves its clock forward firing the scheduler's jobs on the way.

Every post the daily run makes is an embed: the `world` fixture checks that at the end of
each test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterator

import pytest

from bot.crypto import TokenCipher
from bot.storage import Database
from tests.daily.world import World
from tests.engines import ENGINES

Step = Callable[[dt.datetime], Awaitable[list[str]]]


@pytest.fixture(params=ENGINES)
def db_engine(request: pytest.FixtureRequest) -> str:
    """The daily-run tests run on SQLite and on PostgreSQL (`tests.engines`)."""
    return str(request.param)


@pytest.fixture
def world(db: Database, cipher: TokenCipher) -> Iterator[World]:
    world = World(db, cipher)
    yield world
    assert all(post.embed is not None for post in world.messenger.posts), "a post without embed"


@pytest.fixture
def step(world: World) -> Step:
    """`await step(instant)`: the clock moves forward to `instant`, and every job the
    scheduler would have fired on the way fires (each once, in order, as APScheduler
    coalesces); returns their ids. Step to an instant itself to fire a job there."""

    async def to(instant: dt.datetime) -> list[str]:
        since = world.clock.now()
        assert instant >= since, "the clock only moves forward"
        world.clock.set(instant)
        return await world.scheduler.fire_due(since, instant)

    return to
