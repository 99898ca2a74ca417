"""The live sync's tables: the queue of accounts to fetch again, and members' /sync cooldowns.

`sync_queue` holds one row per linked account waiting for a fetch (see
`migrations/0008_sync_queue.sql`). `SyncRepo` writes requests into it (coalesced: an upsert
per account), hands out leases on what is due (`claim`), and records how each leased fetch
ended (`finish`: deleted, re-armed when asked again meanwhile, or put back with a backoff). It
also answers what the sync workers, the poller, `/sync` and the standings read: the accounts
behind the rows, who plays which active challenge, each member's last successful sync.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from bot.storage.accounts import AccountsRepo, from_db_time, to_db_time
from bot.storage.db import Database
from bot.storage.values import PlayerAccount

# Waits or re-arms a row; `excluded` is the request. A row already leased is marked dirty (one
# more fetch follows the one in flight); an earlier due time wins, except over a backoff.
_UPSERT = (
    "ON CONFLICT (account_id) DO UPDATE SET "
    "dirty = CASE WHEN sync_queue.leased_at IS NOT NULL THEN 1 ELSE sync_queue.dirty END, "
    "due_at = CASE WHEN sync_queue.attempts = 0 AND excluded.due_at < sync_queue.due_at "
    "THEN excluded.due_at ELSE sync_queue.due_at END"
)


@dataclass(frozen=True, slots=True)
class SyncRequest:
    """A provider's notification: fetch the account with this provider-side user id."""

    provider: str
    provider_user_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """A row leased for one fetch."""

    account_id: int
    reason: str
    requested_at: dt.datetime
    attempts: int  # failed fetches before this one
    lease_id: str


@dataclass(frozen=True, slots=True)
class PollCandidate:
    """An active account of a player in an active challenge (one row per challenge)."""

    account_id: int
    provider: str
    challenge_id: int


@dataclass(frozen=True, slots=True)
class Retry:
    entry: QueueEntry
    due_at: dt.datetime


class SyncRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- requests ----------------------------------------------------------------------

    async def request(
        self, requests: Sequence[SyncRequest], now: dt.datetime, *, due_at: dt.datetime
    ) -> list[int]:
        """Queue the active account behind each request, due at `due_at`; per request, how
        many accounts it queued or found waiting (0 for an unknown or unusable account)."""
        pairs = {(r.provider, r.provider_user_id) for r in requests}
        user_ids, param = self._db.text_set(user_id for _, user_id in pairs)
        async with self._db.transaction():
            rows = await self._db.fetch_all(
                "SELECT la.id, la.provider, la.provider_user_id FROM linked_accounts la "  # noqa: S608 (the seam's value set)
                "WHERE la.status = 'active' AND la.provider_user_id IN " + user_ids,
                (param,),
            )
            found = {
                (row["provider"], row["provider_user_id"]): int(row["id"])
                for row in rows
                if (row["provider"], row["provider_user_id"]) in pairs
            }
            first_reason: dict[int, str] = {}
            for item in requests:
                account_id = found.get((item.provider, item.provider_user_id))
                if account_id is not None:
                    first_reason.setdefault(account_id, item.reason)
            await self._upsert(
                [(account_id, reason, due_at) for account_id, reason in first_reason.items()], now
            )
        return [int((r.provider, r.provider_user_id) in found) for r in requests]

    async def enqueue(
        self, entries: Sequence[tuple[int, dt.datetime]], *, reason: str, now: dt.datetime
    ) -> None:
        """Queue these accounts, each due at its time (the poller's slots, a member now)."""
        await self._upsert([(account_id, reason, due) for account_id, due in entries], now)

    async def _upsert(self, rows: Sequence[tuple[int, str, dt.datetime]], now: dt.datetime) -> None:
        requested_at = to_db_time(now)
        await self._db.execute_many(
            "INSERT INTO sync_queue (account_id, reason, requested_at, due_at) "
            "VALUES (?, ?, ?, ?) " + _UPSERT,
            [
                (account_id, reason, requested_at, to_db_time(due))
                for account_id, reason, due in rows
            ],
        )

    # -- leases ------------------------------------------------------------------------

    async def claim(
        self,
        owner: str,
        now: dt.datetime,
        *,
        limit: int,
        lease: dt.timedelta,
        skip: Collection[int] = (),
    ) -> list[QueueEntry]:
        """Lease up to `limit` due rows, the longest due first: those waiting, and those whose
        lease expired (its process died). One statement, so two processes never lease one
        row (the outer condition repeats the inner one: PostgreSQL re-checks it on a row
        another process leased meanwhile); `skip` leaves out rows this process is still
        fetching."""
        if limit <= 0:
            return []
        lease_id = secrets.token_hex(8)
        skipped, skip_param = self._db.int_set(skip)
        due = "due_at <= ? AND (leased_at IS NULL OR leased_at <= ?)"
        rows = await self._db.fetch_all(
            "UPDATE sync_queue SET lease_owner = ?, lease_id = ?, leased_at = ?, dirty = 0 "  # noqa: S608 (the seam's value set)
            f"WHERE {due} AND account_id IN (SELECT account_id FROM sync_queue "
            f"WHERE {due} AND account_id NOT IN " + skipped + " "
            "ORDER BY due_at, account_id LIMIT ?) "
            "RETURNING account_id, reason, requested_at, attempts",
            (
                owner,
                lease_id,
                to_db_time(now),
                *(to_db_time(now), to_db_time(now - lease)) * 2,
                skip_param,
                limit,
            ),
        )
        entries = [
            QueueEntry(
                account_id=int(row["account_id"]),
                reason=row["reason"],
                requested_at=from_db_time(row["requested_at"]),
                attempts=int(row["attempts"]),
                lease_id=lease_id,
            )
            for row in rows
        ]
        return sorted(entries, key=lambda entry: (entry.requested_at, entry.account_id))

    async def finish(
        self,
        done: Sequence[QueueEntry],
        now: dt.datetime,
        *,
        retries: Sequence[Retry] = (),
        dropped: Sequence[QueueEntry] = (),
    ) -> None:
        """Record how leased fetches ended: `done` rows go (or wait for one more fetch when
        asked again meanwhile), `retries` wait for their backoff, `dropped` go in any case.
        Only the lease holder's word counts. Call it inside the transaction that stores what
        was fetched, so a fetch is recorded together with its values."""
        async with self._db.transaction():
            await self._db.execute_many(
                "UPDATE sync_queue SET lease_owner = NULL, lease_id = NULL, leased_at = NULL, "
                "dirty = 0, attempts = 0, requested_at = ?, due_at = ? "
                "WHERE account_id = ? AND lease_id = ? AND dirty = 1",
                [(to_db_time(now), to_db_time(now), e.account_id, e.lease_id) for e in done],
            )
            # Re-armed rows no longer hold the lease: only the others go.
            await self._db.execute_many(
                "DELETE FROM sync_queue WHERE account_id = ? AND lease_id = ?",
                [(e.account_id, e.lease_id) for e in (*done, *dropped)],
            )
            await self._db.execute_many(
                "UPDATE sync_queue SET lease_owner = NULL, lease_id = NULL, leased_at = NULL, "
                "dirty = 0, attempts = attempts + 1, due_at = ? "
                "WHERE account_id = ? AND lease_id = ?",
                [(to_db_time(r.due_at), r.entry.account_id, r.entry.lease_id) for r in retries],
            )

    async def release(self, owner: str) -> int:
        """Give up every lease `owner` holds (a process taking back its leases as it starts:
        what it was fetching when it stopped is fetched again)."""
        return await self._db.execute_rowcount(
            "UPDATE sync_queue SET lease_owner = NULL, lease_id = NULL, leased_at = NULL "
            "WHERE lease_owner = ?",
            (owner,),
        )

    async def next_due(self) -> dt.datetime | None:
        """When the earliest row that is not leased falls due."""
        value = await self._db.fetch_value(
            "SELECT MIN(due_at) FROM sync_queue WHERE leased_at IS NULL"
        )
        return None if value is None else from_db_time(value)

    async def waiting(self) -> int:
        """Rows in the queue, leased or not."""
        return int(await self._db.fetch_value("SELECT COUNT(*) FROM sync_queue"))

    # -- what the workers, the poller and /sync read -----------------------------------

    async def player_accounts(self, account_ids: Iterable[int]) -> dict[int, PlayerAccount]:
        """The accounts (any status) with the time zone their owner's provider reports in."""
        wanted, param = self._db.int_set(account_ids)
        rows = await self._db.fetch_all(
            "SELECT la.*, u.time_zone AS user_time_zone FROM linked_accounts la "  # noqa: S608 (the seam's value set)
            "JOIN users u ON u.discord_id = la.discord_id WHERE la.id IN " + wanted,
            (param,),
        )
        # The accounts repository's own row mapping, so the two never disagree.
        return {
            int(row["id"]): PlayerAccount(AccountsRepo._account(row), row["user_time_zone"])
            for row in rows
        }

    async def active_challenges_of(self, discord_ids: Iterable[int]) -> dict[int, set[int]]:
        """Which of these players play in each active challenge: challenge id -> players."""
        wanted, param = self._db.int_set(discord_ids)
        rows = await self._db.fetch_all(
            "SELECT p.challenge_id, p.discord_id FROM participants p "  # noqa: S608 (the seam's value set)
            "JOIN challenges c ON c.id = p.challenge_id WHERE c.status = 'active' "
            "AND p.discord_id IN " + wanted,
            (param,),
        )
        players: defaultdict[int, set[int]] = defaultdict(set)
        for row in rows:
            players[int(row["challenge_id"])].add(int(row["discord_id"]))
        return dict(players)

    async def poll_candidates(self) -> list[PollCandidate]:
        """Every active account of a player in an active challenge, once per challenge."""
        rows = await self._db.fetch_all(
            "SELECT la.id, la.provider, p.challenge_id FROM linked_accounts la "
            "JOIN participants p ON p.discord_id = la.discord_id "
            "JOIN challenges c ON c.id = p.challenge_id "
            "WHERE c.status = 'active' AND la.status = 'active' ORDER BY la.id, p.challenge_id"
        )
        return [
            PollCandidate(int(row["id"]), row["provider"], int(row["challenge_id"])) for row in rows
        ]

    async def member_accounts(self, discord_id: int) -> list[tuple[int, str]]:
        """A member's active accounts: (account id, provider)."""
        rows = await self._db.fetch_all(
            "SELECT id, provider FROM linked_accounts WHERE discord_id = ? AND status = 'active' "
            "ORDER BY provider",
            (discord_id,),
        )
        return [(int(row["id"]), row["provider"]) for row in rows]

    async def synced_at(self, challenge_id: int) -> dict[int, dt.datetime]:
        """Each player's last successful sync (the latest over their accounts); players who
        never synced are left out."""
        rows = await self._db.fetch_all(
            "SELECT p.discord_id, MAX(la.last_sync_at) AS synced FROM participants p "
            "JOIN linked_accounts la ON la.discord_id = p.discord_id "
            "WHERE p.challenge_id = ? AND la.last_sync_at IS NOT NULL GROUP BY p.discord_id",
            (challenge_id,),
        )
        return {int(row["discord_id"]): from_db_time(row["synced"]) for row in rows}

    # -- /sync cooldowns ---------------------------------------------------------------

    async def start_member_sync(
        self, discord_id: int, now: dt.datetime, cooldown: dt.timedelta
    ) -> dt.datetime | None:
        """Record a member's /sync unless they asked within `cooldown`: None when it starts,
        else when they may ask again. One statement decides, so two at once start one."""
        changed = await self._db.execute_rowcount(
            "INSERT INTO member_syncs (discord_id, requested_at) VALUES (?, ?) "
            "ON CONFLICT (discord_id) DO UPDATE SET requested_at = excluded.requested_at "
            "WHERE member_syncs.requested_at <= ?",
            (discord_id, to_db_time(now), to_db_time(now - cooldown)),
        )
        if changed == 1:
            return None
        last = await self._db.fetch_value(
            "SELECT requested_at FROM member_syncs WHERE discord_id = ?", (discord_id,)
        )
        return from_db_time(last) + cooldown
