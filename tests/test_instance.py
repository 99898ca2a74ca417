"""A process's hold on its name (`bot.instance.InstanceName`): one live holder at a time; a
predecessor that crashed on this host is taken over at once; a renewal by the holder is what
keeps a second process out."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys

import pytest

from bot.clock import FakeClock
from bot.instance import NAME_LEASE, InstanceName, NameInUse, holder_detail, name_claim_key
from bot.storage import Database
from bot.storage.claims import ClaimsRepo
from tests.engines import ENGINES

NOW = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)


@pytest.fixture(params=ENGINES)
def db_engine(request: pytest.FixtureRequest) -> str:
    """On SQLite and on PostgreSQL (`tests.engines`)."""
    return str(request.param)


async def no_wait(seconds: float) -> None:
    raise AssertionError("this start needs no wait")


def a_pid_that_is_gone() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


async def test_a_predecessor_gone_from_this_host_is_taken_over_at_once(db: Database) -> None:
    clock = FakeClock(NOW)
    key = name_claim_key("bot/unsharded")
    crashed = ClaimsRepo(db, "bot/unsharded#old")  # its process died holding the name
    dead = f"{holder_detail().rpartition(' ')[0]} {a_pid_that_is_gone()}"
    assert await crashed.acquire(key, clock.now(), NAME_LEASE, detail=dead)

    restarted = InstanceName(db, "bot/unsharded", clock, sleep=no_wait)
    await restarted.take()
    try:
        assert restarted.held and await restarted.renew()
        assert not await crashed.renew(key, clock.now(), NAME_LEASE)  # not its any more
    finally:
        await restarted.release()


async def test_a_holder_that_lives_here_is_not_taken_over(db: Database) -> None:
    """Our own process id in the detail is no proof of death (a container's is 1 each time)."""
    clock = FakeClock(NOW)
    holder = InstanceName(db, "bot/unsharded", clock)
    await holder.take()

    async def time_passes(seconds: float) -> None:
        clock.advance(dt.timedelta(seconds=seconds))
        await holder.renew()

    try:
        with pytest.raises(NameInUse, match="another Stride process named bot/unsharded"):
            await InstanceName(db, "bot/unsharded", clock, sleep=time_passes).take()
        assert holder.held and not holder.lost.is_set()
    finally:
        await holder.release()


async def test_a_holder_whose_name_was_taken_over_knows_it(db: Database) -> None:
    clock = FakeClock(NOW)
    stalled = InstanceName(db, "bot/unsharded", clock)
    await stalled.take()

    async def time_passes(seconds: float) -> None:  # the stalled one does not renew
        clock.advance(dt.timedelta(seconds=seconds))

    taker = InstanceName(db, "bot/unsharded", clock, sleep=time_passes)
    await taker.take()
    try:
        assert not await stalled.confirm()
        assert stalled.lost.is_set() and not stalled.held
        guarded = ClaimsRepo(db, "bot/unsharded", guard=stalled)
        assert not await guarded.acquire("post:1", clock.now(), NAME_LEASE)
        assert await ClaimsRepo(db, "bot/unsharded", guard=taker).acquire(
            "post:1", clock.now(), NAME_LEASE
        )
    finally:
        await asyncio.gather(stalled.release(), taker.release())
