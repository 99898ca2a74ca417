"""`Database.reset_id_sequences` (the engine seam): after rows were inserted with their ids
given, as `stride export-db` copies them, the next new row gets an id after the largest one,
on both engines (PostgreSQL moves its identity sequence; SQLite needs nothing)."""

from __future__ import annotations

import datetime as dt

from bot.storage import Database
from bot.storage.challenges import ChallengesRepo
from tests.daily.processes import challenge_in

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


async def test_new_rows_get_ids_after_the_copied_ones(db: Database) -> None:
    challenges = ChallengesRepo(db)
    first = await challenges.insert(challenge_in(1 << 22, NOW))
    row = await db.fetch_one("SELECT * FROM challenges WHERE id = ?", (first,))
    assert row is not None
    names = [name for name in row.keys() if name != "id"]  # noqa: SIM118 (a Row, not a dict)
    copied = {name: row[name] for name in names} | {"guild_id": 3 << 22, "id": 40}
    columns = ", ".join(copied)
    marks = ", ".join("?" * len(copied))
    await db.execute(
        f"INSERT INTO challenges ({columns}) VALUES ({marks})",
        tuple(copied.values()),
    )

    await db.reset_id_sequences(["challenges", "users", "no_such_table"])

    assert await challenges.insert(challenge_in(2 << 22, NOW)) == 41
