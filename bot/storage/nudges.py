"""Nudges' state: each member's switch and last nudge, each challenge's switch, and the ranks
the nudges last saw (`nudge_members`, `challenge_nudges`, `nudge_ranks`).

A member without a row has nudges off; a challenge without one has them on. The last nudge
is claimed with one conditional UPDATE, so two syncs at once never both send one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from bot.storage.accounts import to_db_time
from bot.storage.db import Database


class NudgesRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- members -----------------------------------------------------------------------

    async def set_member(self, discord_id: int, *, enabled: bool, now: dt.datetime) -> None:
        await self._db.execute(
            "INSERT INTO nudge_members (discord_id, enabled, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (discord_id) DO UPDATE SET enabled = excluded.enabled, "
            "updated_at = excluded.updated_at",
            (discord_id, int(enabled), to_db_time(now)),
        )

    async def member_enabled(self, discord_id: int) -> bool:
        value = await self._db.fetch_value(
            "SELECT enabled FROM nudge_members WHERE discord_id = ?", (discord_id,)
        )
        return bool(value)

    async def enabled_players(self, challenge_id: int) -> set[int]:
        """The challenge's players who turned nudges on."""
        rows = await self._db.fetch_all(
            "SELECT n.discord_id FROM nudge_members n JOIN participants p "
            "ON p.discord_id = n.discord_id AND p.challenge_id = ? WHERE n.enabled = 1",
            (challenge_id,),
        )
        return {int(row["discord_id"]) for row in rows}

    async def claim(self, discord_id: int, now: dt.datetime, *, last_before: dt.datetime) -> bool:
        """Record a nudge to the member at `now`, unless nudges are off for them or their
        last one is later than `last_before`; True when recorded (the nudge may go out)."""
        changed = await self._db.execute_rowcount(
            "UPDATE nudge_members SET last_nudged_at = ? WHERE discord_id = ? AND enabled = 1 "
            "AND (last_nudged_at IS NULL OR last_nudged_at <= ?)",
            (to_db_time(now), discord_id, to_db_time(last_before)),
        )
        return changed == 1

    # -- challenges --------------------------------------------------------------------

    async def set_challenge(self, challenge_id: int, *, enabled: bool, now: dt.datetime) -> None:
        await self._db.execute(
            "INSERT INTO challenge_nudges (challenge_id, enabled, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (challenge_id) DO UPDATE SET enabled = excluded.enabled, "
            "updated_at = excluded.updated_at",
            (challenge_id, int(enabled), to_db_time(now)),
        )

    async def challenge_enabled(self, challenge_id: int) -> bool:
        value = await self._db.fetch_value(
            "SELECT enabled FROM challenge_nudges WHERE challenge_id = ?", (challenge_id,)
        )
        return value is None or bool(value)

    # -- ranks -------------------------------------------------------------------------

    async def swap_ranks(self, challenge_id: int, ranks: Mapping[int, int]) -> dict[int, int]:
        """Replace the challenge's last seen ranks with `ranks`; returns the ones replaced
        (empty the first time). One transaction, so concurrent swaps each see the one
        before."""
        async with self._db.transaction():
            rows = await self._db.fetch_all(
                "SELECT discord_id, rank FROM nudge_ranks WHERE challenge_id = ?", (challenge_id,)
            )
            await self._db.execute(
                "DELETE FROM nudge_ranks WHERE challenge_id = ?", (challenge_id,)
            )
            await self._db.execute_many(
                "INSERT INTO nudge_ranks (challenge_id, discord_id, rank) VALUES (?, ?, ?)",
                [(challenge_id, player, rank) for player, rank in ranks.items()],
            )
        return {int(row["discord_id"]): int(row["rank"]) for row in rows}

    async def forget_ranks(self, challenge_id: int) -> None:
        await self._db.execute("DELETE FROM nudge_ranks WHERE challenge_id = ?", (challenge_id,))

    async def forget_ranks_of_challenges_of(self, discord_id: int) -> None:
        """Forget the last seen ranks in every challenge the member plays in."""
        await self._db.execute(
            "DELETE FROM nudge_ranks WHERE challenge_id IN "
            "(SELECT challenge_id FROM participants WHERE discord_id = ?)",
            (discord_id,),
        )
