"""Claims: work that must happen once across several Stride processes on one database.

A claim is one row per piece of work (`claim_key`, e.g. `post:12`, `fetch:40`, `outbox:file`)
with its owner (the process's name, `Settings.process_name`), a lease and, once the work is
done, when (`claimed_fetch_values` reads back what another process's claimed fetch stored).
`ClaimsRepo.acquire_many` takes claims with one atomic statement per chunk,
`INSERT … ON CONFLICT (claim_key) DO UPDATE … WHERE … RETURNING claim_key`, which SQLite and
PostgreSQL both run as one atomic step: the row is taken when it is new, already ours (one
process re-running its own work), in flight under a lease that ended (its holder died), or
done longer ago than `reuse_after` (a new run of the same work). Whoever gets the key back
holds it; nobody holds a transaction open while doing the work (a fetch, a Discord post).
`FOR UPDATE SKIP LOCKED` would need exactly that open transaction, and SQLite has no such
clause: the one-statement claim is the portable form and needs no engine branch.

With a `guard` (`bot.instance.InstanceName`), a repo takes, renews and completes claims only
while its process holds its name: two live processes never use one name.

Times come from the injected clock, stored as ISO-8601 UTC text and compared as text.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bot.domain import DailyValue, Metric
from bot.storage.accounts import from_db_time, to_db_time
from bot.storage.db import Database

# Rows per statement: 5 parameters each, far below either engine's parameter limit.
CHUNK = 500

_ACQUIRE = (
    "INSERT INTO claims (claim_key, owner, claimed_at, lease_until, done_at, detail) "
    "VALUES {rows} "
    "ON CONFLICT (claim_key) DO UPDATE SET owner = excluded.owner, "
    "claimed_at = excluded.claimed_at, lease_until = excluded.lease_until, done_at = NULL, "
    "detail = excluded.detail "
    "WHERE claims.owner = excluded.owner "
    "OR (claims.done_at IS NULL AND claims.lease_until <= excluded.claimed_at) "
    "OR (claims.done_at IS NOT NULL AND claims.done_at <= ?) "
    "RETURNING claim_key"
)


def default_owner() -> str:
    """The owner name of a process started without one (`Settings.process_name` gives the
    real one): the host name. The same after a restart on purpose: a process that comes back
    takes over its own claims at once instead of waiting for their leases."""
    return socket.gethostname()


@dataclass(frozen=True, slots=True)
class Claim:
    key: str
    owner: str
    claimed_at: dt.datetime
    lease_until: dt.datetime
    done_at: dt.datetime | None
    detail: str

    def expired(self, now: dt.datetime) -> bool:
        """In flight, and its lease is over: its holder is presumed dead."""
        return self.done_at is None and self.lease_until <= now


class NameGuard(Protocol):
    """This process's hold on its name (`bot.instance.InstanceName`)."""

    async def confirm(self) -> bool:
        """Whether this process still holds the name its claims are owned by."""
        ...


class ClaimsRepo:
    """Takes, renews and completes this process's claims (`owner`); with a `guard`, only
    while the process holds its name (another process with the name may hold it)."""

    def __init__(self, db: Database, owner: str, *, guard: NameGuard | None = None) -> None:
        self._db = db
        self.owner = owner
        self._guard = guard

    async def _ours(self) -> bool:
        return self._guard is None or await self._guard.confirm()

    async def acquire(
        self,
        key: str,
        now: dt.datetime,
        lease: dt.timedelta,
        *,
        reuse_after: dt.timedelta = dt.timedelta(0),
        detail: str = "",
    ) -> bool:
        """Take one claim; True when this process holds it now."""
        won = await self.acquire_many({key: detail}, now, lease, reuse_after=reuse_after)
        return key in won

    async def acquire_many(
        self,
        details: Mapping[str, str],
        now: dt.datetime,
        lease: dt.timedelta,
        *,
        reuse_after: dt.timedelta = dt.timedelta(0),
    ) -> set[str]:
        """Take the claims named by `details` (key → what the holder does); returns the keys
        this process holds now. A claim another process holds under a live lease, or finished
        less than `reuse_after` ago, stays theirs."""
        if not await self._ours():
            return set()
        claimed_at, lease_until = to_db_time(now), to_db_time(now + lease)
        stale_before = to_db_time(now - reuse_after)
        items = sorted(details.items())  # the same order everywhere: no lock-order inversions
        won: set[str] = set()
        for start in range(0, len(items), CHUNK):
            chunk = items[start : start + CHUNK]
            params: list[Any] = []
            for key, detail in chunk:
                params += [key, self.owner, claimed_at, lease_until, detail]
            params.append(stale_before)
            rows = ", ".join(["(?, ?, ?, ?, NULL, ?)"] * len(chunk))
            # The statement's text holds only placeholders; every value is a parameter.
            answer = await self._db.fetch_all(_ACQUIRE.format(rows=rows), params)
            won.update(str(row["claim_key"]) for row in answer)
        return won

    async def renew(self, key: str, now: dt.datetime, lease: dt.timedelta) -> bool:
        """Extend a claim in flight that this process holds; False when it lost it (its lease
        ended and another process took it over)."""
        if not await self._ours():
            return False
        changed = await self._db.execute_rowcount(
            "UPDATE claims SET lease_until = ? "
            "WHERE claim_key = ? AND owner = ? AND done_at IS NULL",
            (to_db_time(now + lease), key, self.owner),
        )
        return changed == 1

    async def take_over(
        self, claim: Claim, now: dt.datetime, lease: dt.timedelta, detail: str
    ) -> bool:
        """Take a claim from a holder known to be dead, unless it changed since it was read
        (renewed, given back or taken by another): compare and set."""
        if not await self._ours():
            return False
        changed = await self._db.execute_rowcount(
            "UPDATE claims SET owner = ?, claimed_at = ?, lease_until = ?, done_at = NULL, "
            "detail = ? WHERE claim_key = ? AND owner = ? AND lease_until = ? "
            "AND done_at IS NULL",
            (
                self.owner,
                to_db_time(now),
                to_db_time(now + lease),
                detail,
                claim.key,
                claim.owner,
                to_db_time(claim.lease_until),
            ),
        )
        return changed == 1

    async def complete(self, key: str, now: dt.datetime, detail: str | None = None) -> bool:
        """Mark this process's claim done (replacing its detail when given); False when it
        was not ours any more."""
        if not await self._ours():
            return False
        changed = await self._db.execute_rowcount(
            "UPDATE claims SET done_at = ?, detail = COALESCE(CAST(? AS TEXT), detail) "
            "WHERE claim_key = ? AND owner = ?",
            (to_db_time(now), detail, key, self.owner),
        )
        return changed == 1

    async def complete_many(self, details: Mapping[str, str], now: dt.datetime) -> None:
        """Mark these claims of this process done, each with its new detail."""
        if not await self._ours():
            return
        done_at = to_db_time(now)
        await self._db.execute_rows(
            "UPDATE claims SET done_at = r.done_at, detail = r.detail FROM {rows} "
            "WHERE claims.claim_key = r.claim_key AND claims.owner = r.owner",
            (("done_at", "TEXT"), ("detail", "TEXT"), ("claim_key", "TEXT"), ("owner", "TEXT")),
            [(done_at, detail, key, self.owner) for key, detail in sorted(details.items())],
        )

    async def get_many(self, keys: Iterable[str]) -> dict[str, Claim]:
        """The claims with these keys that exist, by key."""
        wanted, param = self._db.text_set(keys)  # one statement text however many keys
        rows = await self._db.fetch_all(
            f"SELECT * FROM claims WHERE claim_key IN {wanted}",  # noqa: S608 (the engine's set)
            (param,),
        )
        return {claim.key: claim for claim in map(_claim, rows)}


async def claimed_fetch_values(
    db: Database,
    discord_id: int,
    provider: str,
    metrics: Iterable[Metric],
    first: dt.date,
    last: dt.date,
) -> list[DailyValue]:
    """What a fetch another process claimed stored for one account: its values of `metrics`
    in `first..last`, both manual-entry variants, as the fetch handed them over."""
    wanted, param = db.text_set(metric.value for metric in metrics)
    rows = await db.fetch_all(
        "SELECT metric, day, value, includes_manual FROM daily_values "  # noqa: S608 (the engine's set)
        f"WHERE discord_id = ? AND provider = ? AND day >= ? AND day <= ? AND metric IN {wanted} "
        "ORDER BY metric, day, includes_manual",
        (discord_id, provider, first.isoformat(), last.isoformat(), param),
    )
    return [
        DailyValue(
            Metric(row["metric"]),
            dt.date.fromisoformat(row["day"]),
            float(row["value"]),
            bool(row["includes_manual"]),
        )
        for row in rows
    ]


def _claim(record: Any) -> Claim:
    return Claim(
        key=str(record["claim_key"]),
        owner=str(record["owner"]),
        claimed_at=from_db_time(record["claimed_at"]),
        lease_until=from_db_time(record["lease_until"]),
        done_at=from_db_time(record["done_at"]) if record["done_at"] else None,
        detail=str(record["detail"]),
    )
