"""Data steps of migrations that SQL cannot do alike on both engines.

A step runs inside its migration's transaction, right after the migration's statements, keyed
by the migration's name.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.storage.names import name_key

if TYPE_CHECKING:
    from bot.storage.engine.base import Database

log = logging.getLogger(__name__)


async def challenge_name_keys(db: Database) -> None:
    """Fill `challenges.name_key` (migration 0010). Two names of one guild that only a full
    case fold tells apart (SQLite's NOCASE folds ASCII only) keep the older one's key; the
    newer gets its id appended, so it stays unique, and is logged for an admin to rename."""
    rows = await db.fetch_all("SELECT id, guild_id, name FROM challenges ORDER BY id")
    taken: set[tuple[int, str]] = set()
    for row in rows:
        key = name_key(row["name"])
        if (row["guild_id"], key) in taken:
            log.warning(
                "challenge %d of guild %d has the name of an older one up to case: rename it",
                row["id"],
                row["guild_id"],
            )
            key = f"{key}#{row['id']}"
        taken.add((row["guild_id"], key))
        await db.execute("UPDATE challenges SET name_key = ? WHERE id = ?", (key, row["id"]))


BACKFILLS: dict[str, Callable[[Database], Awaitable[None]]] = {
    "0010_engine_portable": challenge_name_keys,
}
