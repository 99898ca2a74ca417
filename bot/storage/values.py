"""Fetched daily values, the daily scores, streaks and baselines derived from them, for the
daily run.

`daily_values` holds what providers reported, per user, provider, metric, civil day and
manual-entry flag; it is shared by every challenge a user takes part in. `daily_scores` and
`streaks` are per challenge. A score row marked final is never written again: the upsert
below leaves final rows alone, so a late sync can only change provisional days. A player's
baseline in a challenge (`participant_baselines`) is written once, from the fetch of their
own fortnight before the start, and never again: what other challenges fetch later cannot
move it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from bot.domain import DailyValue, Metric
from bot.storage.accounts import AccountsRepo, LinkedAccount, to_db_time
from bot.storage.db import Database, Row

STORE_BATCH = 10_000  # fetched values per statement in `store_fetched`
# Completes `INSERT … SELECT … FROM {rows}` (`Database.execute_rows`) whose rows have
# challenge_id and discord_id columns: only players still in the challenge get rows.
STILL_PLAYING = (
    "WHERE EXISTS (SELECT 1 FROM participants AS p "
    "WHERE p.challenge_id = r.challenge_id AND p.discord_id = r.discord_id)"
)
_FETCHED_COLUMNS = (
    ("discord_id", "INTEGER"),
    ("provider", "TEXT"),
    ("metric", "TEXT"),
    ("day", "TEXT"),
    ("includes_manual", "INTEGER"),
    ("value", "REAL"),
    ("fetched_at", "TEXT"),
)


# Only for users who still exist: one who ran /privacy delete while their values were being
# fetched is gone, and the values with them.
UPSERT_VALUES = (
    "INSERT INTO daily_values "
    "(discord_id, provider, metric, day, includes_manual, value, fetched_at) "
    "SELECT r.discord_id, r.provider, r.metric, r.day, r.includes_manual, r.value, "
    "r.fetched_at FROM {rows} "
    "WHERE EXISTS (SELECT 1 FROM users AS u WHERE u.discord_id = r.discord_id) "
    "ON CONFLICT (discord_id, metric, day, provider, includes_manual) "
    "DO UPDATE SET value = excluded.value, fetched_at = excluded.fetched_at"
)


def _value_rows(batch: Iterable[FetchedValue], fetched_at: str) -> list[tuple[object, ...]]:
    """The rows of `UPSERT_VALUES`, one per key (of values given twice, the last)."""
    latest = {
        (
            item.discord_id,
            item.provider,
            item.value.metric.value,
            item.value.day.isoformat(),
            int(item.value.includes_manual),
        ): item.value.value
        for item in batch
    }
    return [(*key, value, fetched_at) for key, value in latest.items()]


def _batches(items: Iterable[FetchedValue], size: int) -> Iterator[list[FetchedValue]]:
    """`items` in lists of at most `size` (Python 3.12's `itertools.batched`)."""
    rest = iter(items)
    while batch := list(itertools.islice(rest, size)):
        yield batch


@dataclass(frozen=True, slots=True)
class FetchedValue:
    """One value as a provider reported it for one user."""

    discord_id: int
    provider: str
    value: DailyValue


@dataclass(frozen=True, slots=True)
class PlayerAccount:
    """A player's linked account, with the time zone their provider reports days in."""

    account: LinkedAccount
    time_zone: str


@dataclass(frozen=True, slots=True)
class ScoreRow:
    discord_id: int
    day: dt.date
    value: float | None  # None: no data that day
    points: float
    goal_met: bool
    final: bool


@dataclass(frozen=True, slots=True)
class BaselineRow:
    """A player's baseline in a challenge, as their own fetch gave it."""

    challenge_id: int
    discord_id: int
    value: float | None  # None: no usable data in the fortnight

    @property
    def key(self) -> tuple[int, int]:
        return self.challenge_id, self.discord_id


@dataclass(frozen=True, slots=True)
class StreakRow:
    discord_id: int
    current: int
    best: int
    through_day: dt.date


def _values_by_player(rows: Iterable[Row], metric: Metric) -> dict[int, list[DailyValue]]:
    """Rows of (discord_id, day, includes_manual, value) as each player's values."""
    result: defaultdict[int, list[DailyValue]] = defaultdict(list)
    for row in rows:
        result[int(row["discord_id"])].append(
            DailyValue(
                metric=metric,
                day=dt.date.fromisoformat(row["day"]),
                value=float(row["value"]),
                includes_manual=bool(row["includes_manual"]),
            )
        )
    return dict(result)


class ValuesRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def store_fetched(
        self,
        values: Iterable[FetchedValue],
        synced_account_ids: Iterable[int],
        now: dt.datetime,
        baselines: Sequence[BaselineRow] = (),
    ) -> None:
        """Upsert fetched values, mark the accounts they came from synced and keep the
        baselines given (`store_baselines`), in one transaction: one statement for each
        `STORE_BATCH` values (so memory does not grow with them), one for the accounts and
        one for the baselines, however many users there are. Of values given twice for one
        key, the last counts."""
        fetched_at = to_db_time(now)
        synced, synced_param = self._db.int_set(synced_account_ids)
        async with self._db.transaction():
            await self._upsert_values(values, fetched_at)
            await self._db.execute(
                f"UPDATE linked_accounts SET last_sync_at = ? WHERE id IN {synced}",  # noqa: S608 (the engine's set)
                (fetched_at, synced_param),
            )
            await self.store_baselines(baselines, now)

    async def store_baselines(self, baselines: Sequence[BaselineRow], now: dt.datetime) -> None:
        """Keep these baselines, each player's first only (one statement)."""
        fetched_at = to_db_time(now)
        await self._db.execute_rows(
            "INSERT INTO participant_baselines (challenge_id, discord_id, value, fetched_at) "  # noqa: S608 (constants only)
            "SELECT r.challenge_id, r.discord_id, r.value, r.fetched_at FROM {rows} "
            + STILL_PLAYING
            + " ON CONFLICT (challenge_id, discord_id) DO NOTHING",
            (
                ("challenge_id", "INTEGER"),
                ("discord_id", "INTEGER"),
                ("value", "REAL"),
                ("fetched_at", "TEXT"),
            ),
            [(*b.key, b.value, fetched_at) for b in baselines],
        )

    async def _upsert_values(self, values: Iterable[FetchedValue], fetched_at: str) -> None:
        for batch in _batches(values, STORE_BATCH):
            rows = _value_rows(batch, fetched_at)
            await self._db.execute_rows(UPSERT_VALUES, _FETCHED_COLUMNS, rows)

    async def challenge_values(
        self, challenge_id: int, metric: Metric, first: dt.date, last: dt.date
    ) -> dict[int, list[DailyValue]]:
        """Every stored value of `metric` in `first..last` of the challenge's players (all
        providers, both manual-entry flags; the scoring engine merges them)."""
        rows = await self._db.fetch_all(
            "SELECT v.discord_id, v.day, v.includes_manual, v.value FROM daily_values v "
            "JOIN participants p ON p.discord_id = v.discord_id AND p.challenge_id = ? "
            "WHERE v.metric = ? AND v.day BETWEEN ? AND ?",
            (challenge_id, metric.value, first.isoformat(), last.isoformat()),
        )
        return _values_by_player(rows, metric)

    async def provider_values(
        self, players: Iterable[int], provider: str, metric: Metric, first: dt.date, last: dt.date
    ) -> dict[int, list[DailyValue]]:
        """The stored values of `metric` in `first..last` that one provider gave these
        players (what a member's phone sent, for a baseline no fetch can give)."""
        wanted, param = self._db.int_set(players)
        rows = await self._db.fetch_all(
            "SELECT discord_id, day, includes_manual, value FROM daily_values "  # noqa: S608 (the seam's value set)
            "WHERE provider = ? AND metric = ? AND day BETWEEN ? AND ? "
            "AND discord_id IN " + wanted,
            (provider, metric.value, first.isoformat(), last.isoformat(), param),
        )
        return _values_by_player(rows, metric)

    # -- baselines ---------------------------------------------------------------------

    async def players_without_baseline(self, challenge_id: int) -> set[int]:
        """The challenge's players whose baseline has not been fetched yet."""
        rows = await self._db.fetch_all(
            "SELECT p.discord_id FROM participants p WHERE p.challenge_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM participant_baselines b "
            "WHERE b.challenge_id = p.challenge_id AND b.discord_id = p.discord_id)",
            (challenge_id,),
        )
        return {int(row["discord_id"]) for row in rows}

    async def baselines(self, challenge_id: int) -> dict[int, float]:
        """Each player's own baseline, where their fetch gave a usable one."""
        rows = await self._db.fetch_all(
            "SELECT discord_id, value FROM participant_baselines "
            "WHERE challenge_id = ? AND value IS NOT NULL",
            (challenge_id,),
        )
        return {int(row["discord_id"]): float(row["value"]) for row in rows}

    # -- scores ------------------------------------------------------------------------

    async def final_scores(self, challenge_id: int) -> dict[int, dict[dt.date, float | None]]:
        """The frozen value of each player on each final day (None: no data that day)."""
        rows = await self._db.fetch_all(
            "SELECT discord_id, day, value FROM daily_scores WHERE challenge_id = ? AND final = 1",
            (challenge_id,),
        )
        result: defaultdict[int, dict[dt.date, float | None]] = defaultdict(dict)
        for row in rows:
            value = None if row["value"] is None else float(row["value"])
            result[int(row["discord_id"])][dt.date.fromisoformat(row["day"])] = value
        return dict(result)

    async def final_days(self, challenge_id: int) -> set[dt.date]:
        rows = await self._db.fetch_all(
            "SELECT DISTINCT day FROM daily_scores WHERE challenge_id = ? AND final = 1",
            (challenge_id,),
        )
        return {dt.date.fromisoformat(row["day"]) for row in rows}

    async def last_final_days(self) -> dict[int, dt.date]:
        """The latest frozen day of every challenge that has one (one query)."""
        rows = await self._db.fetch_all(
            "SELECT challenge_id, MAX(day) AS day FROM daily_scores WHERE final = 1 "
            "GROUP BY challenge_id"
        )
        return {int(row["challenge_id"]): dt.date.fromisoformat(row["day"]) for row in rows}

    async def first_day_to_backfill(self, challenge_id: int) -> dt.date | None:
        """The earliest first counting day (`joined_on`) of a player who has no frozen score
        on some final day since then, or None. That player joined after those days were
        finalised and counts from before: a late joiner of a challenge that backfills."""
        value = await self._db.fetch_value(
            "WITH final_days AS MATERIALIZED (SELECT DISTINCT day FROM daily_scores "
            "WHERE challenge_id = ? AND final = 1) "
            "SELECT MIN(p.joined_on) FROM participants p WHERE p.challenge_id = ? "
            "AND (SELECT COUNT(*) FROM daily_scores s WHERE s.challenge_id = ? "
            "AND s.discord_id = p.discord_id AND s.final = 1 AND s.day >= p.joined_on) "
            "< (SELECT COUNT(*) FROM final_days f WHERE f.day >= p.joined_on)",
            (challenge_id, challenge_id, challenge_id),
        )
        return None if value is None else dt.date.fromisoformat(value)

    async def save_scores(self, challenge_id: int, rows: Sequence[ScoreRow]) -> None:
        """Upsert score rows of the challenge's current players (one who left or deleted
        their data while the run was going gets none back); rows already final stay exactly
        as they are."""
        latest = {(row.discord_id, row.day): row for row in rows}  # one row per key
        await self._db.execute_rows(
            "INSERT INTO daily_scores "  # noqa: S608 (constants only)
            "(challenge_id, discord_id, day, value, points, goal_met, final) "
            "SELECT r.challenge_id, r.discord_id, r.day, r.value, r.points, r.goal_met, "
            "r.final FROM {rows} " + STILL_PLAYING + " "
            "ON CONFLICT (challenge_id, discord_id, day) DO UPDATE SET "
            "value = excluded.value, points = excluded.points, goal_met = excluded.goal_met, "
            "final = excluded.final WHERE daily_scores.final = 0",
            (
                ("challenge_id", "INTEGER"),
                ("discord_id", "INTEGER"),
                ("day", "TEXT"),
                ("value", "REAL"),
                ("points", "REAL"),
                ("goal_met", "INTEGER"),
                ("final", "INTEGER"),
            ),
            [
                (
                    challenge_id,
                    row.discord_id,
                    row.day.isoformat(),
                    row.value,
                    row.points,
                    int(row.goal_met),
                    int(row.final),
                )
                for row in latest.values()
            ],
        )

    async def save_streaks(self, challenge_id: int, rows: Sequence[StreakRow]) -> None:
        """Upsert the streaks of the challenge's current players."""
        latest = {row.discord_id: row for row in rows}  # one row per player
        await self._db.execute_rows(
            "INSERT INTO streaks (challenge_id, discord_id, current, best, through_day) "
            "SELECT r.challenge_id, r.discord_id, r.current, r.best, r.through_day "
            "FROM {rows} " + STILL_PLAYING + " "
            "ON CONFLICT (challenge_id, discord_id) DO UPDATE SET current = excluded.current, "
            "best = excluded.best, through_day = excluded.through_day",
            (
                ("challenge_id", "INTEGER"),
                ("discord_id", "INTEGER"),
                ("current", "INTEGER"),
                ("best", "INTEGER"),
                ("through_day", "TEXT"),
            ),
            [
                (
                    challenge_id,
                    row.discord_id,
                    row.current,
                    row.best,
                    row.through_day.isoformat(),
                )
                for row in latest.values()
            ],
        )

    async def player_challenge_ids(self, discord_id: int) -> list[int]:
        """The challenges a user plays in (any status)."""
        rows = await self._db.fetch_all(
            "SELECT challenge_id FROM participants WHERE discord_id = ? ORDER BY challenge_id",
            (discord_id,),
        )
        return [int(row["challenge_id"]) for row in rows]

    async def challenge_accounts(
        self, challenge_ids: Iterable[int]
    ) -> dict[int, list[PlayerAccount]]:
        """The linked accounts (any status) of every player of these challenges, with the
        time zone each player's provider reports days in; one query however many players."""
        ids = set(challenge_ids)
        if not ids:
            return {}
        wanted, param = self._db.int_set(ids)
        rows = await self._db.fetch_all(
            "SELECT la.*, u.time_zone AS user_time_zone FROM linked_accounts la "  # noqa: S608 (the seam's value set)
            "JOIN users u ON u.discord_id = la.discord_id "
            "WHERE la.discord_id IN (SELECT discord_id FROM participants "
            "WHERE challenge_id IN " + wanted + ") "
            "ORDER BY la.discord_id, la.provider",
            (param,),
        )
        result: defaultdict[int, list[PlayerAccount]] = defaultdict(list)
        for row in rows:
            # The accounts repository's own row mapping, so the two never disagree.
            account = AccountsRepo._account(row)
            result[account.discord_id].append(PlayerAccount(account, row["user_time_zone"]))
        return dict(result)

    async def queued_accounts(self, account_ids: Iterable[int]) -> set[int]:
        """Which of these accounts have a row in the sync queue, waiting or in flight."""
        wanted, param = self._db.int_set(account_ids)
        rows = await self._db.fetch_all(
            "SELECT account_id FROM sync_queue WHERE account_id IN " + wanted,  # noqa: S608
            (param,),  # `wanted` is the seam's placeholder for the value set
        )
        return {int(row["account_id"]) for row in rows}
