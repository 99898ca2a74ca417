"""Values are stored while the fetch goes on (`bot.daily.writer`): the database writes the
first accounts' values while later answers are still coming in, every value is stored once,
and a failing write fails the run instead of losing values quietly."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import pytest

from bot.crypto import TokenCipher
from bot.daily import writer as writer_module
from bot.daily.fetch import FetchOutcome
from bot.daily.writer import ValueWriter
from bot.storage import Database
from tests.daily.world import World, day, local


def _outcomes(count: int) -> list[FetchOutcome]:
    # Outcomes are only carried by the writer: any object stands in for one.
    return [object() for _ in range(count)]  # type: ignore[misc]


class _Store:
    """A write that takes its time, recording each batch and how many run at once."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[Sequence[FetchOutcome]] = []
        self.running = 0
        self.most_at_once = 0
        self.release = asyncio.Event()
        self.fail_on = fail_on
        self.cancelled = False

    async def write(self, batch: Sequence[FetchOutcome]) -> None:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await self.release.wait()
            if self.fail_on == len(self.batches):
                raise RuntimeError("disk full")
            self.batches.append(batch)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        finally:
            self.running -= 1


async def test_batches_are_written_one_at_a_time_while_more_come_in() -> None:
    store = _Store()
    items = _outcomes(7)
    async with ValueWriter(store.write, batch=2) as writer:
        writer.add(items[0])
        writer.add(items[1])  # a batch: its write starts now, in the background
        await asyncio.sleep(0)
        assert store.running == 1
        for item in items[2:]:  # the write is still running: these wait
            writer.add(item)
        assert store.running == 1
        store.release.set()
    assert store.most_at_once == 1
    assert [list(batch) for batch in store.batches] == [items[:2], items[2:]]


async def test_a_failed_write_is_raised_and_nothing_after_it_is_written(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = _Store(fail_on=0)
    store.release.set()
    writer = ValueWriter(store.write, batch=2)
    with pytest.raises(RuntimeError, match="disk full"):
        async with writer:
            for item in _outcomes(6):
                writer.add(item)
                await asyncio.sleep(0)
    assert store.batches == []
    assert "storing fetched values failed" not in caplog.text  # raised, not also logged


async def test_an_error_in_the_fetch_cancels_the_write_in_flight(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = _Store()
    with pytest.raises(KeyError):
        async with ValueWriter(store.write, batch=1) as writer:
            writer.add(_outcomes(1)[0])
            await asyncio.sleep(0)
            raise KeyError("the fetch broke")
    assert store.cancelled
    assert store.batches == []


async def test_a_write_that_failed_before_the_fetch_broke_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = _Store(fail_on=0)
    store.release.set()
    with pytest.raises(KeyError), caplog.at_level(logging.WARNING):
        async with ValueWriter(store.write, batch=1) as writer:
            writer.add(_outcomes(1)[0])
            await asyncio.sleep(0.01)
            raise KeyError("the fetch broke")
    assert "storing fetched values failed" in caplog.text


async def test_a_run_stores_the_first_players_values_before_the_last_answer(
    db: Database, cipher: TokenCipher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "WRITE_BATCH", 3)
    world = World(db, cipher, concurrency=1)
    challenge = await world.add_challenge()
    users = []
    for player in range(1, 11):
        user = await world.add_player(challenge, player, f"P{player}")
        world.provider.set(user, day(1), 1_000 * player)
        users.append(user)
    stored_before: dict[str, int] = {}

    async def look(user: str) -> None:
        await asyncio.sleep(0.01)  # the write started by the answers so far gets its turn
        stored_before[user] = await db.fetch_value(
            "SELECT COUNT(DISTINCT discord_id) FROM daily_values"
        )

    world.provider.before_answer = look
    await world.run_at(local(day(2), 9))

    assert stored_before[users[-1]] >= 3  # written while the fetch went on
    rows = await db.fetch_all(
        "SELECT discord_id, value FROM daily_values WHERE day = ? ORDER BY discord_id",
        (day(1).isoformat(),),
    )
    assert [(row[0], row[1]) for row in rows] == [(p, 1_000.0 * p) for p in range(1, 11)]
    [post] = world.messenger.posts
    assert "10,000 steps" in post.embed.description
