"""The pieces of `bot.daily.once` on their own: what a claimed fetch covers, the shard filter
of the challenges, and an early end waiting for the process that holds its challenge."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FakeClock
from bot.daily import once
from bot.daily.fetch import FetchFailure, FetchJob
from bot.daily.once import PostClaims, ShardSource, coverage, covers, failure_in
from bot.domain import AccountStatus, Metric
from bot.shards import Shards
from bot.storage import Database
from bot.storage.accounts import LinkedAccount
from bot.storage.claims import ClaimsRepo
from tests.daily.world import World

NOW = dt.datetime(2026, 6, 2, 9, 5, tzinfo=dt.UTC)
DAY = dt.date(2026, 6, 1)


ACCOUNT = LinkedAccount(
    id=7,
    discord_id=1001,
    provider="fake",
    provider_user_id="user1001",
    status=AccountStatus.ACTIVE,
    expires_at=NOW,
    scopes=(),
    last_sync_at=None,
    relink_notified_at=None,
    created_at=NOW,
)


def job(metrics: set[Metric], first: dt.date, last: dt.date, manual: set[bool]) -> FetchJob:
    return FetchJob(
        account=ACCOUNT,
        user_tz=ZoneInfo("UTC"),
        metrics=metrics,
        first=first,
        last=last,
        manual_variants=manual,
    )


def test_a_fetch_covers_a_need_within_its_metrics_days_and_variants() -> None:
    done = coverage(job({Metric.STEPS, Metric.DISTANCE}, DAY, DAY + dt.timedelta(days=2), {False}))
    assert covers(
        done, job({Metric.STEPS}, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2), {False})
    )
    assert not covers(done, job({Metric.FLOORS}, DAY, DAY, {False}))  # another metric
    assert not covers(
        done, job({Metric.STEPS}, DAY - dt.timedelta(days=1), DAY, {False})
    )  # earlier
    assert not covers(done, job({Metric.STEPS}, DAY, DAY, {True}))  # with manual entries
    assert not covers("not json", job({Metric.STEPS}, DAY, DAY, {False}))


def test_the_outcome_of_a_claimed_fetch_travels_with_its_coverage() -> None:
    fetched = job({Metric.STEPS}, DAY, DAY, {False})
    assert failure_in(coverage(fetched)) is None
    assert failure_in(coverage(fetched, FetchFailure.REVOKED)) is FetchFailure.REVOKED


@pytest.mark.parametrize("db_engine", ["sqlite"])
async def test_a_process_sees_the_challenges_of_its_shards_only(world: World) -> None:
    mine = await world.add_challenge(name="Mine")  # guild 1: shard (1 >> 22) % 2 = 0
    source = ShardSource(world.challenges, Shards.of(2, [1]))
    assert await source.active_challenges() == []
    assert await source.get(mine.id) is None
    zero = ShardSource(world.challenges, Shards.of(2, [0]))
    assert [c.id for c in await zero.active_challenges()] == [mine.id]
    assert await zero.get(mine.id) == mine


@pytest.mark.parametrize("db_engine", ["sqlite"])
async def test_an_early_end_waits_for_the_process_holding_its_challenge(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(NOW)
    busy = ClaimsRepo(db, "busy")
    assert await busy.acquire("post:1", NOW, once.POST_LEASE)
    polls: list[float] = []

    async def sleep(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 3:  # the other process finishes its post
            await busy.complete("post:1", clock.now())

    claims = PostClaims(ClaimsRepo(db, "mine"), clock, sleep)
    assert await claims.wait_until_free(1)
    assert polls == [once.CLOSE_WAIT_POLL_SECONDS] * 3
    # Free again for the run that follows (of this process or another).
    assert await ClaimsRepo(db, "third").acquire("post:1", NOW, once.POST_LEASE)

    monkeypatch.setattr(once, "CLOSE_WAIT_MAX_SECONDS", 5 * once.CLOSE_WAIT_POLL_SECONDS)
    polls.clear()
    assert not await claims.wait_until_free(1)  # "third" never lets go
    assert len(polls) == 5
