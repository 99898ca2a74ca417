"""Challenges, their participants, value reviews (fair play) and the history queries they need."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from bot.challenges.model import (
    Challenge,
    ChallengeStatus,
    Participant,
    format_post_time,
    parse_post_time,
)
from bot.domain import Metric, ScoringMode, TeamMode
from bot.fair_play import Flag, ReviewStatus
from bot.scoring import TieBreak
from bot.storage.accounts import from_db_time, to_db_time
from bot.storage.db import Database, Row, UniqueViolation
from bot.storage.names import name_key

_COLUMNS = (
    "guild_id, channel_id, name, metric, scoring_mode, start_date, end_date, time_zone, "
    "post_time, daily_goal, daily_cap, allow_manual, grace_hours, team_mode, points_table, "
    "tiers, max_players, late_join_backfill, preset, status, ended_at, created_by, created_at, "
    "tie_break, name_key"
)


def _challenge(row: Row) -> Challenge:
    points = json.loads(row["points_table"]) if row["points_table"] else None
    tiers = json.loads(row["tiers"]) if row["tiers"] else None
    return Challenge(
        id=row["id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        name=row["name"],
        metric=Metric(row["metric"]),
        mode=ScoringMode(row["scoring_mode"]),
        start=dt.date.fromisoformat(row["start_date"]),
        end=dt.date.fromisoformat(row["end_date"]),
        time_zone=row["time_zone"],
        post_time=parse_post_time(row["post_time"]),
        daily_goal=row["daily_goal"],
        daily_cap=row["daily_cap"],
        allow_manual=bool(row["allow_manual"]),
        grace_hours=row["grace_hours"],
        team_mode=TeamMode(row["team_mode"]),
        points_table=None if points is None else tuple(float(p) for p in points),
        tiers=None if tiers is None else tuple((float(t), float(p)) for t, p in tiers),
        max_players=row["max_players"],
        late_join_backfill=bool(row["late_join_backfill"]),
        preset=row["preset"],
        status=ChallengeStatus(row["status"]),
        ended_at=from_db_time(row["ended_at"]) if row["ended_at"] else None,
        created_by=row["created_by"],
        created_at=from_db_time(row["created_at"]),
        tie_break=TieBreak(row["tie_break"]),
    )


def _values(challenge: Challenge) -> tuple[Any, ...]:
    return (
        challenge.guild_id,
        challenge.channel_id,
        challenge.name,
        challenge.metric.value,
        challenge.mode.value,
        challenge.start.isoformat(),
        challenge.end.isoformat(),
        challenge.time_zone,
        format_post_time(challenge.post_time),
        challenge.daily_goal,
        challenge.daily_cap,
        int(challenge.allow_manual),
        challenge.grace_hours,
        challenge.team_mode.value,
        None if challenge.points_table is None else json.dumps(list(challenge.points_table)),
        None if challenge.tiers is None else json.dumps([list(t) for t in challenge.tiers]),
        challenge.max_players,
        int(challenge.late_join_backfill),
        challenge.preset,
        challenge.status.value,
        None if challenge.ended_at is None else to_db_time(challenge.ended_at),
        challenge.created_by,
        to_db_time(challenge.created_at),
        challenge.tie_break.value,
        name_key(challenge.name),
    )


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class DuplicateChallengeName(Exception):
    """The guild already has a challenge of that name (names are unique per guild,
    case-insensitively)."""


class ChallengesRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(self, challenge: Challenge) -> int:
        """Store a new challenge (its `id` is ignored); returns the new id.

        Raises `DuplicateChallengeName` when the guild already has a challenge of that name."""
        try:
            return int(
                await self._db.fetch_value(
                    f"INSERT INTO challenges ({_COLUMNS}) "  # noqa: S608 (a constant column list)
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                    "?, ?, ?) RETURNING id",
                    _values(challenge),
                )
            )
        except UniqueViolation:
            raise DuplicateChallengeName(challenge.name) from None

    async def update(self, challenge: Challenge) -> None:
        """Write every column of an existing challenge; raises `DuplicateChallengeName` when
        a rename collides with another challenge of the guild."""
        try:
            await self._db.execute(
                "UPDATE challenges SET guild_id = ?, channel_id = ?, name = ?, metric = ?, "
                "scoring_mode = ?, start_date = ?, end_date = ?, time_zone = ?, post_time = ?, "
                "daily_goal = ?, daily_cap = ?, allow_manual = ?, grace_hours = ?, team_mode = ?, "
                "points_table = ?, tiers = ?, max_players = ?, late_join_backfill = ?, "
                "preset = ?, status = ?, ended_at = ?, created_by = ?, created_at = ?, "
                "tie_break = ?, name_key = ? WHERE id = ?",
                (*_values(challenge), challenge.id),
            )
        except UniqueViolation:
            raise DuplicateChallengeName(challenge.name) from None

    async def get(self, challenge_id: int) -> Challenge | None:
        row = await self._db.fetch_one("SELECT * FROM challenges WHERE id = ?", (challenge_id,))
        return None if row is None else _challenge(row)

    async def get_by_name(self, guild_id: int, name: str) -> Challenge | None:
        """Case-insensitive, in every script (by `name_key`)."""
        row = await self._db.fetch_one(
            "SELECT * FROM challenges WHERE guild_id = ? AND name_key = ?",
            (guild_id, name_key(name)),
        )
        return None if row is None else _challenge(row)

    async def for_guild(self, guild_id: int) -> list[Challenge]:
        rows = await self._db.fetch_all(
            "SELECT * FROM challenges WHERE guild_id = ? ORDER BY start_date, name_key",
            (guild_id,),
        )
        return [_challenge(row) for row in rows]

    async def with_status(self, status: ChallengeStatus) -> list[Challenge]:
        rows = await self._db.fetch_all(
            "SELECT * FROM challenges WHERE status = ? ORDER BY start_date, id", (status.value,)
        )
        return [_challenge(row) for row in rows]

    async def count_active(self, guild_id: int) -> int:
        return int(
            await self._db.fetch_value(
                "SELECT COUNT(*) FROM challenges WHERE guild_id = ? AND status = 'active'",
                (guild_id,),
            )
        )

    async def names(self, guild_id: int, text: str, *, active_only: bool, limit: int) -> list[str]:
        """Names containing `text` (case-insensitive): names starting with it first, then
        active challenges, then the most recent start."""
        rows = await self._db.fetch_all(
            "SELECT name FROM challenges WHERE guild_id = ? AND name_key LIKE ? ESCAPE '\\' "
            "AND (? = 0 OR status = 'active') "
            "ORDER BY (CASE WHEN name_key LIKE ? ESCAPE '\\' THEN 0 ELSE 1 END), "
            "(CASE WHEN status = 'active' THEN 0 ELSE 1 END), start_date DESC, name_key LIMIT ?",
            (
                guild_id,
                _like_pattern(name_key(text)),
                int(active_only),
                _like_pattern(name_key(text))[1:],
                limit,
            ),
        )
        return [row["name"] for row in rows]

    async def delete(self, challenge_id: int) -> bool:
        """Delete a challenge and (by cascade) everything that belongs to it."""
        return (
            await self._db.execute_rowcount("DELETE FROM challenges WHERE id = ?", (challenge_id,))
            == 1
        )


def _participant(row: Row) -> Participant:
    return Participant(
        challenge_id=row["challenge_id"],
        discord_id=row["discord_id"],
        team=row["team"],
        joined_on=dt.date.fromisoformat(row["joined_on"]),
        joined_at=from_db_time(row["joined_at"]),
        display_name=row["display_name"],
    )


_PARTICIPANT_SELECT = (
    "SELECT p.challenge_id, p.discord_id, p.team, p.joined_on, p.joined_at, u.display_name "
    "FROM participants p LEFT JOIN users u ON u.discord_id = p.discord_id "
)


class ParticipantsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, challenge_id: int, discord_id: int, joined_on: dt.date, now: dt.datetime
    ) -> None:
        await self._db.execute(
            "INSERT INTO participants (challenge_id, discord_id, joined_on, joined_at) "
            "VALUES (?, ?, ?, ?)",
            (challenge_id, discord_id, joined_on.isoformat(), to_db_time(now)),
        )

    async def remove(self, challenge_id: int, discord_id: int) -> bool:
        """Take a player out, with their scores and streak in this challenge (their daily
        values are theirs and stay). False when they were not in it."""
        async with self._db.transaction():
            removed = await self._db.execute_rowcount(
                "DELETE FROM participants WHERE challenge_id = ? AND discord_id = ?",
                (challenge_id, discord_id),
            )
            await self._db.execute(
                "DELETE FROM daily_scores WHERE challenge_id = ? AND discord_id = ?",
                (challenge_id, discord_id),
            )
            await self._db.execute(
                "DELETE FROM streaks WHERE challenge_id = ? AND discord_id = ?",
                (challenge_id, discord_id),
            )
        return removed == 1

    async def get(self, challenge_id: int, discord_id: int) -> Participant | None:
        row = await self._db.fetch_one(
            _PARTICIPANT_SELECT + "WHERE p.challenge_id = ? AND p.discord_id = ?",
            (challenge_id, discord_id),
        )
        return None if row is None else _participant(row)

    async def for_challenge(self, challenge_id: int) -> list[Participant]:
        rows = await self._db.fetch_all(
            _PARTICIPANT_SELECT + "WHERE p.challenge_id = ? ORDER BY p.joined_at, p.discord_id",
            (challenge_id,),
        )
        return [_participant(row) for row in rows]

    async def counts_for_guild(self, guild_id: int) -> dict[int, int]:
        """Players per challenge of the guild (challenges without players are left out)."""
        rows = await self._db.fetch_all(
            "SELECT p.challenge_id, COUNT(*) AS players FROM participants p "
            "JOIN challenges c ON c.id = p.challenge_id WHERE c.guild_id = ? "
            "GROUP BY p.challenge_id",
            (guild_id,),
        )
        return {row["challenge_id"]: row["players"] for row in rows}

    async def count(self, challenge_id: int) -> int:
        return int(
            await self._db.fetch_value(
                "SELECT COUNT(*) FROM participants WHERE challenge_id = ?", (challenge_id,)
            )
        )

    async def team_names_like(
        self, guild_id: int, challenge_name: str, text: str, *, limit: int
    ) -> list[str]:
        """Teams containing `text` (case-insensitive, by `name_key`) of the guild's challenge
        with that name, in one query (autocomplete)."""
        rows = await self._db.fetch_all(
            "SELECT DISTINCT p.team FROM participants p "
            "JOIN challenges c ON c.id = p.challenge_id "
            "WHERE c.guild_id = ? AND c.name_key = ? AND p.team IS NOT NULL",
            (guild_id, name_key(challenge_name)),
        )
        wanted = name_key(text)
        teams = sorted(
            (name_key(row["team"]), row["team"]) for row in rows if wanted in name_key(row["team"])
        )
        return [team for _, team in teams[:limit]]

    async def set_team(self, challenge_id: int, discord_id: int, team: str | None) -> bool:
        return (
            await self._db.execute_rowcount(
                "UPDATE participants SET team = ? WHERE challenge_id = ? AND discord_id = ?",
                (team, challenge_id, discord_id),
            )
            == 1
        )

    async def rename_team(self, challenge_id: int, old: str, new: str) -> int:
        """Rename a team (case-insensitive match on the old name, by `name_key`); returns
        members renamed."""
        async with self._db.transaction():
            rows = await self._db.fetch_all(
                "SELECT DISTINCT team FROM participants WHERE challenge_id = ? "
                "AND team IS NOT NULL",
                (challenge_id,),
            )
            matching, param = self._db.text_set(
                row["team"] for row in rows if name_key(row["team"]) == name_key(old)
            )
            return await self._db.execute_rowcount(
                "UPDATE participants SET team = ? WHERE challenge_id = ? AND team IN "  # noqa: S608 (the seam's set)
                + matching,
                (new, challenge_id, param),
            )

    async def set_teams(self, challenge_id: int, teams: dict[int, str]) -> None:
        await self._db.execute_many(
            "UPDATE participants SET team = ? WHERE challenge_id = ? AND discord_id = ?",
            [(team, challenge_id, player) for player, team in teams.items()],
        )


class DailyHistoryRepo:
    """Read-only history of participants' daily values, for team balancing and fair play."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def participants_daily_max(
        self,
        challenge_id: int,
        metric: Metric,
        first: dt.date,
        last: dt.date,
        *,
        include_manual: bool,
        players: Collection[int] | None = None,
    ) -> dict[int, dict[dt.date, float]]:
        """Each participant's highest reading per day in `first..last` (providers are merged
        by max, as scoring does), manual entries only when `include_manual`; only those of
        `players` when given (a large challenge's history is read a part at a time)."""
        only, param = self._db.int_set(players or ())
        rows = await self._db.fetch_all(
            "SELECT v.discord_id, v.day, MAX(v.value) AS value FROM daily_values v "  # noqa: S608 (the seam's value set)
            "JOIN participants p ON p.discord_id = v.discord_id AND p.challenge_id = ? "
            "WHERE v.metric = ? AND v.day BETWEEN ? AND ? AND (? = 1 OR v.includes_manual = 0) "
            + ("" if players is None else "AND v.discord_id IN " + only + " ")
            + "GROUP BY v.discord_id, v.day",
            (challenge_id, metric.value, first.isoformat(), last.isoformat(), int(include_manual))
            + (() if players is None else (param,)),
        )
        history: defaultdict[int, dict[dt.date, float]] = defaultdict(dict)
        for row in rows:
            history[row["discord_id"]][dt.date.fromisoformat(row["day"])] = float(row["value"])
        return dict(history)


def _flag(row: Row) -> Flag:
    return Flag(
        review_id=row["id"],
        challenge_id=row["challenge_id"],
        discord_id=row["discord_id"],
        metric=Metric(row["metric"]),
        day=dt.date.fromisoformat(row["day"]),
        value=float(row["value"]),
        reason=row["reason"],
        status=ReviewStatus(row["status"]),
        reviewed_by=row["reviewed_by"],
    )


class ReviewsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_pending(
        self,
        challenge_id: int,
        flags: Sequence[tuple[int, Metric, dt.date, float, str]],
        now: dt.datetime,
    ) -> list[Flag]:
        """Store (player, metric, day, value, reason) flags as pending reviews; returns the ones
        that were new. A flag already stored for that player and day is left as it is, except
        that a still-pending one takes the newer value and reason (a later sync)."""
        created: list[Flag] = []
        async with self._db.transaction():
            for player, metric, day, value, reason in flags:
                key = (challenge_id, player, metric.value, day.isoformat())
                existing = await self._db.fetch_one(
                    "SELECT id, status FROM value_reviews WHERE challenge_id = ? "
                    "AND discord_id = ? AND metric = ? AND day = ?",
                    key,
                )
                if existing is None:
                    review_id = await self._db.fetch_value(
                        "INSERT INTO value_reviews (challenge_id, discord_id, metric, day, value, "
                        "reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                        "RETURNING id",
                        (*key, value, reason, to_db_time(now), to_db_time(now)),
                    )
                    created.append(
                        Flag(review_id, challenge_id, player, metric, day, value, reason)
                    )
                elif existing["status"] == ReviewStatus.PENDING.value:
                    await self._db.execute(
                        "UPDATE value_reviews SET value = ?, reason = ?, updated_at = ? "
                        "WHERE id = ? AND status = 'pending'",  # not decided meanwhile
                        (value, reason, to_db_time(now), existing["id"]),
                    )
        return created

    async def get(self, review_id: int) -> Flag | None:
        row = await self._db.fetch_one("SELECT * FROM value_reviews WHERE id = ?", (review_id,))
        return None if row is None else _flag(row)

    async def with_status(self, challenge_id: int, status: ReviewStatus) -> list[Flag]:
        rows = await self._db.fetch_all(
            "SELECT * FROM value_reviews WHERE challenge_id = ? AND status = ? "
            "ORDER BY day, discord_id",
            (challenge_id, status.value),
        )
        return [_flag(row) for row in rows]

    async def decide(
        self, review_id: int, status: ReviewStatus, reviewed_by: int, now: dt.datetime
    ) -> bool:
        return (
            await self._db.execute_rowcount(
                "UPDATE value_reviews SET status = ?, reviewed_by = ?, reviewed_at = ?, "
                "updated_at = ? WHERE id = ?",
                (status.value, reviewed_by, to_db_time(now), to_db_time(now), review_id),
            )
            == 1
        )

    async def excluded(self, challenge_id: int) -> set[tuple[int, dt.date]]:
        rows = await self._db.fetch_all(
            "SELECT discord_id, day FROM value_reviews WHERE challenge_id = ? "
            "AND status = 'excluded'",
            (challenge_id,),
        )
        return {(row["discord_id"], dt.date.fromisoformat(row["day"])) for row in rows}
