"""Claims (`bot.storage.claims`): one holder at a time across processes, leases that end,
work that is done staying done for a while, and a holder that lost its claim noticing."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from bot.domain import DailyValue, Metric
from bot.storage import Database
from bot.storage.accounts import UsersRepo
from bot.storage.claims import ClaimsRepo, claimed_fetch_values
from bot.storage.values import FetchedValue, ValuesRepo
from tests.engines import Databases

NOW = dt.datetime(2026, 6, 2, 9, 5, tzinfo=dt.UTC)
LEASE = dt.timedelta(minutes=10)


@pytest.fixture
async def target(databases: Databases) -> Path | str:
    return await databases.target()


@pytest.fixture
async def db(databases: Databases, target: Path | str) -> Database:
    return await databases.open(target)


@pytest.fixture
async def second(databases: Databases, target: Path | str) -> Database:
    """Another process's connection to the same database."""
    return await databases.open(target)


async def test_one_of_two_processes_gets_a_claim(db: Database, second: Database) -> None:
    a, b = ClaimsRepo(db, "a"), ClaimsRepo(second, "b")
    won = await asyncio.gather(a.acquire("post:1", NOW, LEASE), b.acquire("post:1", NOW, LEASE))
    assert sorted(won) == [False, True]


async def test_a_held_claim_is_taken_over_only_after_its_lease(
    db: Database, second: Database
) -> None:
    a, b = ClaimsRepo(db, "a"), ClaimsRepo(second, "b")
    assert await a.acquire("post:1", NOW, LEASE)
    assert not await b.acquire("post:1", NOW + LEASE - dt.timedelta(seconds=1), LEASE)
    assert await b.acquire("post:1", NOW + LEASE, LEASE)
    # The first holder wakes up: its renewal and its completion fail, the claim stays b's.
    assert not await a.renew("post:1", NOW + LEASE, LEASE)
    assert not await a.complete("post:1", NOW + LEASE)
    assert (await b.get_many(["post:1"]))["post:1"].owner == "b"


async def test_a_renewed_claim_outlasts_its_first_lease(db: Database, second: Database) -> None:
    a, b = ClaimsRepo(db, "a"), ClaimsRepo(second, "b")
    assert await a.acquire("outbox:file", NOW, LEASE)
    assert await a.renew("outbox:file", NOW + dt.timedelta(minutes=9), LEASE)
    assert not await b.acquire("outbox:file", NOW + LEASE, LEASE)


async def test_done_work_stays_done_for_reuse_after_then_is_claimed_again(
    db: Database, second: Database
) -> None:
    a, b = ClaimsRepo(db, "a"), ClaimsRepo(second, "b")
    reuse = dt.timedelta(minutes=5)
    assert await a.acquire("fetch:7", NOW, LEASE, reuse_after=reuse, detail="steps")
    assert await a.complete("fetch:7", NOW, detail="steps, ok")
    assert not await b.acquire("fetch:7", NOW + dt.timedelta(minutes=4), LEASE, reuse_after=reuse)
    claim = (await b.get_many(["fetch:7"]))["fetch:7"]
    assert claim.done_at == NOW and claim.detail == "steps, ok"
    assert await b.acquire("fetch:7", NOW + reuse, LEASE, reuse_after=reuse)


async def test_a_process_takes_its_own_claims_back_at_once(db: Database) -> None:
    """A restarted process (the same name) does not wait for the leases it left behind."""
    assert await ClaimsRepo(db, "bot-0").acquire("post:1", NOW, LEASE)
    assert await ClaimsRepo(db, "bot-0").acquire("post:1", NOW + dt.timedelta(seconds=1), LEASE)


async def test_many_claims_at_once_split_between_processes(db: Database, second: Database) -> None:
    keys = {f"fetch:{n}": "" for n in range(1200)}  # more than one statement's chunk
    a, b = ClaimsRepo(db, "a"), ClaimsRepo(second, "b")
    first = await a.acquire_many(dict(list(keys.items())[:700]), NOW, LEASE)
    rest = await b.acquire_many(keys, NOW, LEASE)
    assert len(first) == 700 and rest == set(keys) - first
    assert len(await a.get_many(keys)) == 1200


async def test_claimed_fetch_values_reads_what_the_holder_stored(db: Database) -> None:
    await UsersRepo(db).ensure(5, NOW, "Ana")
    day = dt.date(2026, 6, 1)
    stored = [
        FetchedValue(5, "fake", DailyValue(Metric.STEPS, day, 1234.0)),
        FetchedValue(5, "fake", DailyValue(Metric.STEPS, day, 1300.0, includes_manual=True)),
        FetchedValue(5, "fake", DailyValue(Metric.DISTANCE, day, 1.5)),
        FetchedValue(5, "other", DailyValue(Metric.STEPS, day, 99.0)),
    ]
    await ValuesRepo(db).store_fetched(stored, [], NOW)
    values = await claimed_fetch_values(db, 5, "fake", {Metric.STEPS}, day, day)
    assert values == [
        DailyValue(Metric.STEPS, day, 1234.0),
        DailyValue(Metric.STEPS, day, 1300.0, includes_manual=True),
    ]
