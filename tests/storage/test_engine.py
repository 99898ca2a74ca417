"""The engine seam (`bot.storage.engine`): what the repositories rely on behaves the same on
SQLite and PostgreSQL: 64-bit Discord ids, double precision, storage's own errors, rows by
name and position, parameters beside literals, transactions that roll back, join and run one
at a time across processes, value sets, the schema's tables."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from bot.domain import DailyValue, Metric
from bot.storage import Database, DatabaseUnavailable, UniqueViolation
from bot.storage.accounts import UsersRepo
from bot.storage.db import in_transaction
from bot.storage.guilds import GuildSettingsRepo
from bot.storage.state import BotStateRepo
from bot.storage.values import FetchedValue, ValuesRepo
from tests.engines import Databases

NOW = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)
BIG_ID = 2**62 + 12_345  # Discord ids are 64-bit snowflakes; INTEGER is 32-bit on PostgreSQL


async def test_discord_ids_beyond_32_bits_come_back_exactly(db: Database) -> None:
    await UsersRepo(db).ensure(BIG_ID, NOW, "Big")
    assert await db.fetch_value("SELECT discord_id FROM users") == BIG_ID
    guilds = GuildSettingsRepo(db)
    settings = await guilds.get(BIG_ID + 1)
    await guilds.save(settings, NOW)
    assert (await guilds.get(BIG_ID + 1)).guild_id == BIG_ID + 1


async def test_values_keep_double_precision(db: Database) -> None:
    await UsersRepo(db).ensure(BIG_ID, NOW)
    value = DailyValue(Metric.DISTANCE, dt.date(2026, 11, 20), 12.3456789, False)
    await ValuesRepo(db).store_fetched([FetchedValue(BIG_ID, "fake", value)], [], NOW)
    assert await db.fetch_value("SELECT value FROM daily_values") == 12.3456789


async def test_a_duplicate_is_a_unique_violation_from_every_kind_of_statement(
    db: Database,
) -> None:
    state = BotStateRepo(db)
    await state.set("k", "v")
    with pytest.raises(UniqueViolation):
        await db.execute("INSERT INTO bot_state (key, value) VALUES (?, ?)", ("k", "w"))
    with pytest.raises(UniqueViolation):
        await db.execute_rowcount("INSERT INTO bot_state (key, value) VALUES ('k', 'w')")
    with pytest.raises(UniqueViolation):
        await db.execute_many("INSERT INTO bot_state (key, value) VALUES (?, ?)", [("k", "w")])
    with pytest.raises(UniqueViolation):
        await db.fetch_all("INSERT INTO bot_state (key, value) VALUES ('k', 'w') RETURNING key")
    assert await state.get("k") == "v"


async def test_rows_by_name_and_position_and_parameters_beside_literals(db: Database) -> None:
    row = await db.fetch_one(
        "SELECT '?' AS mark, CAST(? AS INTEGER) AS n, 'it''s :x' AS text -- a ? in a comment\n",
        (5,),
    )
    assert row is not None
    assert (row["mark"], row["n"], row["text"]) == ("?", 5, "it's :x")
    assert (row[0], row[1], len(row)) == ("?", 5, 3)
    named = await db.fetch_one(
        "SELECT CAST(:a AS INTEGER) AS a, CAST(:b AS TEXT) AS b, CAST(:a AS INTEGER) AS again",
        {"a": BIG_ID, "b": "two"},
    )
    assert named is not None and tuple(named) == (BIG_ID, "two", BIG_ID)


async def test_a_new_rows_id_comes_back_from_returning(db: Database) -> None:
    await UsersRepo(db).ensure(BIG_ID, NOW)
    ids = [
        await db.fetch_value(
            "INSERT INTO linked_accounts (discord_id, provider, provider_user_id, access_token, "
            "expires_at, created_at, updated_at) VALUES (?, ?, 'u', ?, 'then', 'now', 'now') "
            "RETURNING id",
            (BIG_ID, provider, b"ciphertext"),
        )
        for provider in ("a", "b")
    ]
    assert ids == [1, 2]
    stored = await db.fetch_all("SELECT id, access_token FROM linked_accounts ORDER BY id")
    assert [(row["id"], bytes(row["access_token"])) for row in stored] == [
        (1, b"ciphertext"),
        (2, b"ciphertext"),
    ]


async def test_a_transaction_rolls_back_joins_and_says_so(db: Database) -> None:
    users = UsersRepo(db)
    assert not in_transaction()
    with pytest.raises(RuntimeError):
        async with db.transaction():
            assert in_transaction()
            async with db.transaction():  # joins
                await users.ensure(1, NOW)
            raise RuntimeError("boom")
    assert await users.time_zone(1) is None
    async with db.transaction():
        # Tasks started inside take turns on the transaction's connection.
        await asyncio.gather(*(users.ensure(n, NOW) for n in range(2, 12)))
    assert await db.fetch_value("SELECT COUNT(*) FROM users") == 10
    assert not in_transaction()


@pytest.mark.parametrize("inside_a_plain_one", [False, True])
async def test_transactions_of_two_processes_run_one_at_a_time(
    databases: Databases, inside_a_plain_one: bool
) -> None:
    """A read, then a write that depends on it, in a transaction: twenty of them from two
    "processes" (two connections, two pools) add up, as with SQLite's BEGIN IMMEDIATE; also
    when the exclusive transaction joins a plain one (`exclusive=False`) begun before."""
    target = await databases.target()
    first, second = await databases.open(target), await databases.open(target)
    await BotStateRepo(first).set("counter", "0")

    async def increment(db: Database) -> None:
        async with db.transaction(exclusive=not inside_a_plain_one), db.transaction():
            value = int(await db.fetch_value("SELECT value FROM bot_state WHERE key = 'counter'"))
            await asyncio.sleep(0)  # let the other side try to interleave
            await db.execute(
                "UPDATE bot_state SET value = ? WHERE key = 'counter'", (str(value + 1),)
            )

    await asyncio.gather(*(increment(db) for db in (first, second) for _ in range(10)))
    assert await BotStateRepo(first).get("counter") == "20"


async def test_value_sets_of_any_size(db: Database) -> None:
    for discord_id in (1, 2, 3):
        await UsersRepo(db).ensure(discord_id, NOW)
    select = "SELECT discord_id FROM users WHERE discord_id IN {} ORDER BY discord_id"
    empty, param = db.int_set([])
    assert await db.fetch_all(select.format(empty), (param,)) == []
    many, param = db.int_set([*range(2, 5_000), BIG_ID])
    assert [row[0] for row in await db.fetch_all(select.format(many), (param,))] == [2, 3]
    names, param = db.text_set(["UTC", "Europe/Paris"])
    found = await db.fetch_value("SELECT COUNT(*) FROM users WHERE time_zone IN " + names, (param,))
    assert found == 3


UPSERT_STATE = (
    "INSERT INTO bot_state (key, value) SELECT r.key, r.value FROM {rows} WHERE true "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)


async def test_many_rows_in_one_statement_insert_update_and_filter(db: Database) -> None:
    columns = (("key", "TEXT"), ("value", "TEXT"))
    await db.execute_rows(UPSERT_STATE, columns, [(f"k{i}", "old") for i in range(25_000)])
    await db.execute_rows(UPSERT_STATE, columns, [("k1", "new"), ("fresh", "it's")])
    assert await db.fetch_value("SELECT COUNT(*) FROM bot_state") == 25_001
    assert await BotStateRepo(db).get("k1") == "new"
    assert await BotStateRepo(db).get("fresh") == "it's"
    # Typed columns and a filter on another table, inside a transaction that joins.
    await UsersRepo(db).ensure(BIG_ID, NOW)
    async with db.transaction():
        await db.execute_rows(
            "INSERT INTO daily_values "
            "(discord_id, provider, metric, day, includes_manual, value, fetched_at) "
            "SELECT r.discord_id, 'fake', 'steps', r.day, 0, r.value, 'now' FROM {rows} "
            "WHERE EXISTS (SELECT 1 FROM users AS u WHERE u.discord_id = r.discord_id)",
            (("discord_id", "INTEGER"), ("day", "TEXT"), ("value", "REAL")),
            [(BIG_ID, "2026-11-20", 12.3456789), (BIG_ID, "2026-11-21", 0.5), (7, "x", 1.0)],
        )
    rows = await db.fetch_all("SELECT discord_id, day, value FROM daily_values ORDER BY day")
    assert [tuple(row) for row in rows] == [
        (BIG_ID, "2026-11-20", 12.3456789),
        (BIG_ID, "2026-11-21", 0.5),
    ]


async def test_a_row_statement_is_checked_before_it_runs(db: Database) -> None:
    columns = (("key", "TEXT"), ("value", "TEXT"))
    await db.execute_rows(UPSERT_STATE, columns, [])  # nothing to do
    with pytest.raises(ValueError, match="rows"):
        await db.execute_rows(UPSERT_STATE.replace("{rows}", "bot_state"), columns, [("k", "v")])
    with pytest.raises(ValueError, match="column"):
        await db.execute_rows(UPSERT_STATE, (("key", "TEXT"), ("value", "VARCHAR")), [])
    with pytest.raises(ValueError, match="column"):
        await db.execute_rows(UPSERT_STATE, (("key; DROP", "TEXT"), ("value", "TEXT")), [])
    with pytest.raises(ValueError, match="one value per column"):
        await db.execute_rows(UPSERT_STATE, columns, [("k",)])
    with pytest.raises(UniqueViolation):
        await db.execute_rows(
            "INSERT INTO bot_state (key, value) SELECT r.key, r.value FROM {rows} WHERE true",
            columns,
            [("k", "v"), ("k", "w")],
        )
    assert await db.fetch_value("SELECT COUNT(*) FROM bot_state") == 0


async def test_the_schema_lists_the_applications_tables_only(db: Database) -> None:
    tables = await db.table_columns()
    assert {"users", "challenges", "daily_values", "sync_queue"} <= set(tables)
    assert not [name for name in tables if name.startswith(("sqlite_", "stride_"))]
    assert tables["users"][0][0] == "discord_id"  # in declaration order
    assert ("name_key", False) in tables["challenges"]
    assert ("created_at", True) in tables["users"]


async def test_ping(db: Database) -> None:
    assert await db.ping()


async def test_an_unreachable_server_is_one_clear_error_without_the_password() -> None:
    with pytest.raises(DatabaseUnavailable) as raised:
        await Database.open("postgresql://stride:s3cret-pw@127.0.0.1:1/stride")
    message = str(raised.value)
    assert message.startswith("cannot connect to PostgreSQL at postgresql://stride@127.0.0.1:1/")
    assert "s3cret-pw" not in message


async def test_sqlite_is_the_default_for_a_path(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "x.db") as db:
        assert (db.engine, db.target) == ("sqlite", str(tmp_path / "x.db"))
