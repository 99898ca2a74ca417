"""OAuth links in flight: one row per `/link`, keyed by the SHA-256 of its `state`.

The state itself is never stored, only its hash; the PKCE verifier is stored encrypted. A row is
marked used (and its verifier wiped) by the first callback that presents its state, so a second
callback is told "already used" rather than "unknown". Rows are kept for a day after they
expire, so a late click still gets "this link expired", then purged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from enum import StrEnum

from bot.crypto import TokenCipher
from bot.storage.accounts import from_db_time, to_db_time
from bot.storage.db import Database, Row

# How long an expired or used row is kept so a late click is told what happened.
KEEP_AFTER_EXPIRY = dt.timedelta(days=1)


def hash_state(state: str) -> str:
    """The stored form of a state: hex SHA-256. A stolen database gives no usable state."""
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


class StateProblem(StrEnum):
    UNKNOWN = "unknown"  # never issued, for another provider, or purged
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True, repr=False)
class PendingLink:
    discord_id: int
    provider: str
    code_verifier: str | None  # decrypted; never log it
    expires_at: dt.datetime

    def __repr__(self) -> str:
        return (
            f"PendingLink(discord_id={self.discord_id}, provider={self.provider!r}, "
            f"expires_at={self.expires_at.isoformat()})"
        )


@dataclass(frozen=True, slots=True)
class StateLookup:
    """Either a usable pending link or the reason there is none."""

    link: PendingLink | None
    problem: StateProblem | None


class OAuthStatesRepo:
    def __init__(self, db: Database, cipher: TokenCipher) -> None:
        self._db = db
        self._cipher = cipher

    async def create(
        self,
        *,
        state: str,
        discord_id: int,
        provider: str,
        code_verifier: str | None,
        expires_at: dt.datetime,
        now: dt.datetime,
    ) -> None:
        verifier = self._cipher.encrypt(code_verifier) if code_verifier is not None else None
        async with self._db.transaction():
            await self._db.execute(
                "DELETE FROM oauth_states WHERE expires_at < ?",
                (to_db_time(now - KEEP_AFTER_EXPIRY),),
            )
            await self._db.execute(
                "INSERT INTO oauth_states "
                "(state_hash, discord_id, provider, code_verifier, expires_at, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    hash_state(state),
                    discord_id,
                    provider,
                    verifier,
                    to_db_time(expires_at),
                    to_db_time(now),
                ),
            )

    def _pending(self, row: Row) -> PendingLink:
        verifier = row["code_verifier"]
        return PendingLink(
            discord_id=int(row["discord_id"]),
            provider=str(row["provider"]),
            code_verifier=self._cipher.decrypt(verifier) if verifier is not None else None,
            expires_at=from_db_time(row["expires_at"]),
        )

    async def _row(self, state_hash: str, provider: str) -> Row | None:
        return await self._db.fetch_one(
            "SELECT discord_id, provider, code_verifier, expires_at, used_at "
            "FROM oauth_states WHERE state_hash = ? AND provider = ?",
            (state_hash, provider),
        )

    def _lookup(self, row: Row | None, now: dt.datetime) -> StateLookup:
        if row is None:
            return StateLookup(None, StateProblem.UNKNOWN)
        if row["used_at"] is not None:
            return StateLookup(None, StateProblem.USED)
        if from_db_time(row["expires_at"]) <= now:
            return StateLookup(None, StateProblem.EXPIRED)
        return StateLookup(self._pending(row), None)

    async def peek(self, state: str, provider: str, now: dt.datetime) -> StateLookup:
        """The pending link for this state without using it up (the /start redirect)."""
        return self._lookup(await self._row(hash_state(state), provider), now)

    async def consume(self, state: str, provider: str, now: dt.datetime) -> StateLookup:
        """Use the state up, atomically: of two concurrent callbacks exactly one gets the link.

        The verifier is wiped as the row is marked used; only the fact of use is kept.
        """
        state_hash = hash_state(state)
        async with self._db.transaction():
            lookup = self._lookup(await self._row(state_hash, provider), now)
            if lookup.link is not None:
                # Inside BEGIN IMMEDIATE: no other callback can use it between read and write.
                await self._db.execute(
                    "UPDATE oauth_states SET used_at = ?, code_verifier = NULL "
                    "WHERE state_hash = ?",
                    (to_db_time(now), state_hash),
                )
            return lookup
