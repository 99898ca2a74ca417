"""Users and their linked provider accounts. Tokens are encrypted here, on the way in.

Besides the tokens, an account row carries the lease on its token refresh (one Stride process
refreshes at a time: `take_refresh_lease`, `release_refresh_lease`) and whether its provider
refuses the member's data because their membership lapsed (`mark_membership_lapsed`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from bot.crypto import TokenCipher
from bot.domain import AccountStatus
from bot.providers.base import TokenSet
from bot.storage.db import Database, Row


def to_db_time(instant: dt.datetime) -> str:
    if instant.tzinfo is None:
        raise ValueError("naive datetime")
    return instant.astimezone(dt.UTC).isoformat()


def from_db_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC)


def _lease_time(instant: dt.datetime) -> str:
    """A lease's end as fixed-width ISO-8601 UTC text, so comparing the text compares the
    instants (in SQL, on both engines)."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime")
    return instant.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _optional_time(value: str | None) -> dt.datetime | None:
    return from_db_time(value) if value else None


@dataclass(frozen=True, slots=True)
class LinkedAccount:
    id: int
    discord_id: int
    provider: str
    provider_user_id: str
    status: AccountStatus
    expires_at: dt.datetime
    scopes: tuple[str, ...]
    last_sync_at: dt.datetime | None
    relink_notified_at: dt.datetime | None
    created_at: dt.datetime
    # When the provider first refused the data because the member's membership lapsed
    # (Oura's 403); None while data flows.
    membership_lapsed_at: dt.datetime | None = None


async def count_by_status(db: Database) -> dict[AccountStatus, int]:
    """How many linked accounts are in each status (every status present, zeros included)."""
    rows = await db.fetch_all("SELECT status, COUNT(*) FROM linked_accounts GROUP BY status")
    counts = dict.fromkeys(AccountStatus, 0)
    counts.update({AccountStatus(row[0]): int(row[1]) for row in rows})
    return counts


class UsersRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure(
        self, discord_id: int, now: dt.datetime, display_name: str | None = None
    ) -> None:
        await self._db.execute(
            "INSERT INTO users (discord_id, display_name, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (discord_id) DO UPDATE SET "
            "display_name = COALESCE(excluded.display_name, users.display_name)",
            (discord_id, display_name, to_db_time(now)),
        )

    async def time_zone(self, discord_id: int) -> str | None:
        value = await self._db.fetch_value(
            "SELECT time_zone FROM users WHERE discord_id = ?", (discord_id,)
        )
        return None if value is None else str(value)

    async def set_time_zone(self, discord_id: int, time_zone: str) -> None:
        await self._db.execute(
            "UPDATE users SET time_zone = ? WHERE discord_id = ?", (time_zone, discord_id)
        )

    async def publish_opt_out(self, discord_id: int) -> bool:
        """True when the user asked to be left out of published aggregates (`/privacy`)."""
        value = await self._db.fetch_value(
            "SELECT publish_opt_out FROM users WHERE discord_id = ?", (discord_id,)
        )
        return bool(value)

    async def set_publish_opt_out(self, discord_id: int, *, opt_out: bool) -> None:
        await self._db.execute(
            "UPDATE users SET publish_opt_out = ? WHERE discord_id = ?",
            (int(opt_out), discord_id),
        )


class AccountsRepo:
    def __init__(self, db: Database, cipher: TokenCipher) -> None:
        self._db = db
        self._cipher = cipher

    @staticmethod
    def _account(row: Row) -> LinkedAccount:
        return LinkedAccount(
            id=row["id"],
            discord_id=row["discord_id"],
            provider=row["provider"],
            provider_user_id=row["provider_user_id"],
            status=AccountStatus(row["status"]),
            expires_at=from_db_time(row["expires_at"]),
            scopes=tuple(s for s in row["scopes"].split(" ") if s),
            last_sync_at=from_db_time(row["last_sync_at"]) if row["last_sync_at"] else None,
            relink_notified_at=_optional_time(row["relink_notified_at"]),
            created_at=from_db_time(row["created_at"]),
            membership_lapsed_at=_optional_time(row["membership_lapsed_at"]),
        )

    async def owner_of(self, provider: str, provider_user_id: str) -> int | None:
        value = await self._db.fetch_value(
            "SELECT discord_id FROM linked_accounts WHERE provider = ? AND provider_user_id = ?",
            (provider, provider_user_id),
        )
        return None if value is None else int(value)

    async def save_link(
        self,
        discord_id: int,
        provider: str,
        provider_user_id: str,
        tokens: TokenSet,
        now: dt.datetime,
    ) -> LinkedAccount:
        """Create or replace the user's link to this provider, with fresh tokens, as active."""
        refresh = self._cipher.encrypt(tokens.refresh_token) if tokens.refresh_token else None
        await self._db.execute(
            "INSERT INTO linked_accounts (discord_id, provider, provider_user_id, access_token, "
            "refresh_token, expires_at, scopes, status, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?) "
            "ON CONFLICT (discord_id, provider) DO UPDATE SET "
            "provider_user_id = excluded.provider_user_id, access_token = excluded.access_token, "
            "refresh_token = excluded.refresh_token, expires_at = excluded.expires_at, "
            "scopes = excluded.scopes, status = 'active', relink_notified_at = NULL, "
            "membership_lapsed_at = NULL, lapsed_notified_at = NULL, "
            "updated_at = excluded.updated_at",
            (
                discord_id,
                provider,
                provider_user_id,
                self._cipher.encrypt(tokens.access_token),
                refresh,
                to_db_time(tokens.expires_at),
                " ".join(tokens.scopes),
                to_db_time(now),
                to_db_time(now),
            ),
        )
        account = await self.get(discord_id, provider)
        if account is None:  # pragma: no cover - the upsert above guarantees the row
            raise RuntimeError("linked account vanished right after it was saved")
        return account

    async def get(self, discord_id: int, provider: str) -> LinkedAccount | None:
        row = await self._db.fetch_one(
            "SELECT * FROM linked_accounts WHERE discord_id = ? AND provider = ?",
            (discord_id, provider),
        )
        return None if row is None else self._account(row)

    async def for_user(self, discord_id: int) -> list[LinkedAccount]:
        rows = await self._db.fetch_all(
            "SELECT * FROM linked_accounts WHERE discord_id = ? ORDER BY provider", (discord_id,)
        )
        return [self._account(row) for row in rows]

    async def tokens(self, account_id: int) -> TokenSet | None:
        """The decrypted tokens of an account (for the provider call only; never log them)."""
        found = await self.status_and_tokens(account_id)
        return None if found is None else found[1]

    async def status_and_tokens(self, account_id: int) -> tuple[AccountStatus, TokenSet] | None:
        """The account's status and decrypted tokens in one read."""
        row = await self._db.fetch_one(
            "SELECT status, access_token, refresh_token, expires_at, scopes, provider_user_id "
            "FROM linked_accounts WHERE id = ?",
            (account_id,),
        )
        return None if row is None else self.status_and_tokens_of(row)

    async def token_rows(self, account_ids: Collection[int]) -> dict[int, Row]:
        """The stored status and (still encrypted) tokens of many accounts in one query, by
        account id (the daily run's hot path: `status_and_tokens_of` decrypts one row)."""
        if not account_ids:
            return {}
        ids, param = self._db.int_set(account_ids)
        rows = await self._db.fetch_all(
            "SELECT id, status, access_token, refresh_token, expires_at, scopes, "  # noqa: S608 (the seam's value set)
            "provider_user_id FROM linked_accounts WHERE id IN " + ids,
            (param,),
        )
        return {int(row["id"]): row for row in rows}

    def status_and_tokens_of(self, row: Row) -> tuple[AccountStatus, TokenSet]:
        """A row of `token_rows` as the account's status and decrypted tokens."""
        return AccountStatus(row["status"]), TokenSet(
            access_token=self._cipher.decrypt(row["access_token"]),
            refresh_token=(
                self._cipher.decrypt(row["refresh_token"]) if row["refresh_token"] else None
            ),
            expires_at=from_db_time(row["expires_at"]),
            scopes=tuple(s for s in row["scopes"].split(" ") if s),
            provider_user_id=row["provider_user_id"],
        )

    async def update_tokens(self, account_id: int, tokens: TokenSet, now: dt.datetime) -> None:
        """Store a refreshed pair; keeps the old refresh token when the provider sent none."""
        refresh = self._cipher.encrypt(tokens.refresh_token) if tokens.refresh_token else None
        await self._db.execute(
            "UPDATE linked_accounts SET access_token = ?, "
            "refresh_token = COALESCE(?, refresh_token), expires_at = ?, "
            "scopes = CASE WHEN ? = '' THEN scopes ELSE ? END, updated_at = ? WHERE id = ?",
            (
                self._cipher.encrypt(tokens.access_token),
                refresh,
                to_db_time(tokens.expires_at),
                " ".join(tokens.scopes),
                " ".join(tokens.scopes),
                to_db_time(now),
                account_id,
            ),
        )

    async def set_status(self, account_id: int, status: AccountStatus, now: dt.datetime) -> None:
        await self._db.execute(
            "UPDATE linked_accounts SET status = ?, updated_at = ? WHERE id = ?",
            (status.value, to_db_time(now), account_id),
        )

    async def mark_relink_notified(self, account_id: int, now: dt.datetime) -> bool:
        """Record the re-link DM; False when one was already sent for this breakage."""
        changed = await self._db.execute_rowcount(
            "UPDATE linked_accounts SET relink_notified_at = ? "
            "WHERE id = ? AND relink_notified_at IS NULL",
            (to_db_time(now), account_id),
        )
        return changed == 1

    # -- the refresh lease (one process refreshes an account at a time) ---------------------

    async def take_refresh_lease(
        self, account_id: int, owner: str, now: dt.datetime, until: dt.datetime
    ) -> bool:
        """Take (or extend our own) lease on the account's refresh; False while another
        owner's lease runs. A crashed holder's lease simply runs out."""
        changed = await self._db.execute_rowcount(
            "UPDATE linked_accounts SET refresh_owner = ?, refresh_lease_until = ? "
            "WHERE id = ? AND (refresh_lease_until IS NULL OR refresh_lease_until < ? "
            "OR refresh_owner = ?)",
            (owner, _lease_time(until), account_id, _lease_time(now), owner),
        )
        return changed == 1

    async def release_refresh_lease(self, account_id: int, owner: str) -> None:
        """End our lease (nothing when it ran out and someone else holds one now)."""
        await self._db.execute(
            "UPDATE linked_accounts SET refresh_owner = NULL, refresh_lease_until = NULL "
            "WHERE id = ? AND refresh_owner = ?",
            (account_id, owner),
        )

    async def exists(self, account_id: int) -> bool:
        value = await self._db.fetch_value(
            "SELECT 1 FROM linked_accounts WHERE id = ?", (account_id,)
        )
        return value is not None

    async def refresh_lease_until(self, account_id: int) -> dt.datetime | None:
        """When the current refresh lease ends; None when nobody holds one."""
        value = await self._db.fetch_value(
            "SELECT refresh_lease_until FROM linked_accounts WHERE id = ?", (account_id,)
        )
        return None if value is None else from_db_time(str(value))

    # -- a lapsed membership (the provider refuses the data; the grant is fine) ------------

    async def mark_membership_lapsed(self, account_id: int, now: dt.datetime) -> None:
        """Record that the provider refused the data for a lapsed membership (first time)."""
        await self._db.execute(
            "UPDATE linked_accounts SET membership_lapsed_at = ? "
            "WHERE id = ? AND membership_lapsed_at IS NULL",
            (to_db_time(now), account_id),
        )

    async def mark_lapsed_notified(self, account_id: int, now: dt.datetime) -> bool:
        """Record the lapsed-membership DM; False when one was already sent for this lapse."""
        changed = await self._db.execute_rowcount(
            "UPDATE linked_accounts SET lapsed_notified_at = ? "
            "WHERE id = ? AND lapsed_notified_at IS NULL",
            (to_db_time(now), account_id),
        )
        return changed == 1

    async def clear_membership_lapsed(self, account_id: int) -> None:
        """Data flows again: forget the lapse (a later one is told again)."""
        await self._db.execute(
            "UPDATE linked_accounts SET membership_lapsed_at = NULL, lapsed_notified_at = NULL "
            "WHERE id = ? AND membership_lapsed_at IS NOT NULL",
            (account_id,),
        )

    async def delete(self, account_id: int) -> None:
        await self._db.execute("DELETE FROM linked_accounts WHERE id = ?", (account_id,))

    async def reencrypt_all(self) -> int:
        """Re-encrypt every stored token with the current (first) key; returns rows changed."""
        changed = 0
        async with self._db.transaction():
            # Read inside the transaction, and write only a pair that is still the one read:
            # a refresh committed meanwhile (PostgreSQL does not hold back writes outside the
            # transaction) must not be overwritten with the old pair.
            rows = await self._db.fetch_all(
                "SELECT id, access_token, refresh_token FROM linked_accounts"
            )
            for row in rows:
                changed += await self._db.execute_rowcount(
                    "UPDATE linked_accounts SET access_token = ?, refresh_token = ? "
                    "WHERE id = ? AND access_token = ?",
                    (
                        self._cipher.rotate(row["access_token"]),
                        self._cipher.rotate(row["refresh_token"]) if row["refresh_token"] else None,
                        row["id"],
                        row["access_token"],
                    ),
                )
        return changed
