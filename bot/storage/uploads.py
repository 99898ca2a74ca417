"""Apple Health upload addresses and the values members' phones upload (`UploadsRepo`).

An upload address belongs to one linked account (`apple_health_uploads`, deleted with the
account): its upload id, and the SHA-256 of its secret, never the secret. Uploaded values go
into `daily_values` like any provider's, under the provider's name, and each is marked in
`value_provenance` (same key, same transaction) as coming from the member's `phone`. An upload
replaces the days it carries: a day already stored with the same value is not written again,
so the same upload twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain import DailyValue, Metric
from bot.storage.accounts import to_db_time
from bot.storage.db import Database

PHONE_PROVENANCE = "phone"


@dataclass(frozen=True, slots=True)
class UploadEndpoint:
    """Whose upload address this is, and the fingerprint its secret must match."""

    account_id: int
    discord_id: int
    secret_hash: bytes


class UploadsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def save_endpoint(
        self,
        account_id: int,
        discord_id: int,
        upload_id: str,
        secret_hash: bytes,
        now: dt.datetime,
    ) -> None:
        """The account's upload address, replacing the one it had (a new id and secret)."""
        await self._db.execute(
            "INSERT INTO apple_health_uploads "
            "(account_id, discord_id, upload_id, secret_hash, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (account_id) DO UPDATE SET upload_id = excluded.upload_id, "
            "secret_hash = excluded.secret_hash, created_at = excluded.created_at, "
            "last_upload_at = NULL",
            (account_id, discord_id, upload_id, secret_hash, to_db_time(now)),
        )

    async def endpoint(self, upload_id: str) -> UploadEndpoint | None:
        """The address of that upload id, if it exists and its account is active."""
        row = await self._db.fetch_one(
            "SELECT u.account_id, u.discord_id, u.secret_hash FROM apple_health_uploads u "
            "JOIN linked_accounts la ON la.id = u.account_id "
            "WHERE u.upload_id = ? AND la.status = 'active'",
            (upload_id,),
        )
        if row is None:
            return None
        return UploadEndpoint(
            account_id=int(row["account_id"]),
            discord_id=int(row["discord_id"]),
            secret_hash=bytes(row["secret_hash"]),
        )

    async def store_upload(
        self,
        endpoint: UploadEndpoint,
        provider: str,
        values: Sequence[DailyValue],
        now: dt.datetime,
    ) -> list[DailyValue]:
        """Store an upload's days, replacing what this source had for them; the values that
        changed (none for a repeated upload). The account counts as synced now."""
        if not values:
            return []
        at = to_db_time(now)
        async with self._db.transaction():
            stored = await self._stored(endpoint.discord_id, provider, values)
            changed = [v for v in values if stored.get((v.metric, v.day)) != v.value]
            keys = [
                (endpoint.discord_id, provider, v.metric.value, v.day.isoformat()) for v in changed
            ]
            await self._db.execute_many(
                "INSERT INTO daily_values (discord_id, provider, metric, day, includes_manual, "
                "value, fetched_at) VALUES (?, ?, ?, ?, 0, ?, ?) "
                "ON CONFLICT (discord_id, metric, day, provider, includes_manual) DO UPDATE SET "
                "value = excluded.value, fetched_at = excluded.fetched_at",
                [(*key, v.value, at) for key, v in zip(keys, changed, strict=True)],
            )
            await self._db.execute_many(
                "INSERT INTO value_provenance "
                "(discord_id, provider, metric, day, provenance, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (discord_id, metric, day, provider) DO UPDATE SET "
                "provenance = excluded.provenance, recorded_at = excluded.recorded_at",
                [(*key, PHONE_PROVENANCE, at) for key in keys],
            )
            await self._db.execute(
                "UPDATE linked_accounts SET last_sync_at = ? WHERE id = ?",
                (at, endpoint.account_id),
            )
            await self._db.execute(
                "UPDATE apple_health_uploads SET last_upload_at = ? WHERE account_id = ?",
                (at, endpoint.account_id),
            )
        return changed

    async def _stored(
        self, discord_id: int, provider: str, values: Sequence[DailyValue]
    ) -> dict[tuple[Metric, dt.date], float]:
        """What this source already has for the days of `values`."""
        first = min(v.day for v in values).isoformat()
        last = max(v.day for v in values).isoformat()
        rows = await self._db.fetch_all(
            "SELECT metric, day, value FROM daily_values "
            "WHERE discord_id = ? AND provider = ? AND includes_manual = 0 "
            "AND day BETWEEN ? AND ?",
            (discord_id, provider, first, last),
        )
        return {
            (Metric(row["metric"]), dt.date.fromisoformat(row["day"])): float(row["value"])
            for row in rows
        }

    async def provenance(self, discord_id: int, metric: Metric, day: dt.date) -> dict[str, str]:
        """Where each stored value of a member's day came from, by provider: 'phone', or
        'device' for a provider's API."""
        rows = await self._db.fetch_all(
            "SELECT v.provider, p.provenance FROM daily_values v "
            "LEFT JOIN value_provenance p ON p.discord_id = v.discord_id "
            "AND p.provider = v.provider AND p.metric = v.metric AND p.day = v.day "
            "WHERE v.discord_id = ? AND v.metric = ? AND v.day = ?",
            (discord_id, metric.value, day.isoformat()),
        )
        return {str(row["provider"]): str(row["provenance"] or "device") for row in rows}
