"""`stride export-db` / `import-db` (`bot.storage.transfer`): every row of every table reaches
the other engine and comes back the same; a target with data is refused untouched; new rows
in the copy get fresh ids."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.domain import DailyValue, Metric
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, UsersRepo
from bot.storage.challenges import ChallengesRepo, ParticipantsRepo
from bot.storage.claims import ClaimsRepo
from bot.storage.transfer import TransferError, copy_database, creation_order
from bot.storage.values import FetchedValue, ValuesRepo
from tests.daily.processes import challenge_in
from tests.doubles.provider import FakeProvider
from tests.engines import Databases

NOW = dt.datetime(2026, 6, 2, 9, 5, tzinfo=dt.UTC)
GUILD = (3 << 22) | 1


async def seed(db: Database, cipher: TokenCipher) -> None:
    """A little of everything: users, a linked account (an encrypted BLOB), a challenge and
    its players, values (REAL), a claim."""
    provider = FakeProvider(FakeClock(NOW))
    challenge_id = await ChallengesRepo(db).insert(challenge_in(GUILD, NOW))
    for member in (1001, 345678901234561234):  # a Discord-sized id needs 64 bits
        await UsersRepo(db).ensure(member, NOW, f"Member {member}")
        await AccountsRepo(db, cipher).save_link(
            member, "fake", f"user{member}", provider.grant(f"user{member}"), NOW
        )
        await ParticipantsRepo(db).add(challenge_id, member, NOW.date(), NOW)
    values = [FetchedValue(1001, "fake", DailyValue(Metric.STEPS, NOW.date(), 12.3456789))]
    await ValuesRepo(db).store_fetched(values, [], NOW)
    await ClaimsRepo(db, "bot-0").acquire("post:1", NOW, dt.timedelta(minutes=10))


async def contents(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    tables = await db.table_columns()
    return {
        table: sorted(
            (
                tuple(row[i] for i in range(len(columns)))
                for row in await db.fetch_all(
                    f'SELECT {", ".join(c for c, _ in columns)} FROM "{table}"'
                )
            ),
            key=repr,
        )
        for table, columns in tables.items()
    }


async def test_a_copy_to_the_other_engine_and_back_has_every_row(
    databases: Databases, tmp_path: Path, cipher: TokenCipher
) -> None:
    source = await Database.open(tmp_path / "source.db")
    try:
        await source.migrate()
        await seed(source, cipher)
        target = await databases.open(migrated=False)
        copied = await copy_database(source, target)
        assert copied.rows >= 8 and copied.tables == len(await source.table_columns())
        original = await contents(source)
        assert await contents(target) == original
        [(value,)] = await target.fetch_all("SELECT value FROM daily_values")
        assert value == 12.3456789  # double precision, not single

        back = await Database.open(tmp_path / "back.db")
        try:
            await copy_database(target, back)
            assert await contents(back) == original
        finally:
            await back.close()

        # New rows in the copy get ids after the copied ones.
        again = replace(challenge_in(GUILD, NOW), name="Another week")
        assert await ChallengesRepo(target).insert(again) == 2
    finally:
        await source.close()


async def test_a_target_with_data_is_refused_and_left_as_it_was(
    databases: Databases, tmp_path: Path, cipher: TokenCipher
) -> None:
    source = await Database.open(tmp_path / "source.db")
    try:
        await source.migrate()
        await seed(source, cipher)
        target = await databases.open()
        await UsersRepo(target).ensure(7, NOW, "Already here")
        with pytest.raises(TransferError, match="not empty"):
            await copy_database(source, target)
        assert [tuple(r) for r in await target.fetch_all("SELECT discord_id FROM users")] == [(7,)]
    finally:
        await source.close()


def test_tables_are_copied_in_the_order_the_migrations_create_them() -> None:
    order = creation_order()
    assert order.index("users") < order.index("linked_accounts")
    assert order.index("challenges") < order.index("scheduled_runs") < order.index("post_intents")
    assert "claims" in order
