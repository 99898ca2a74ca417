"""Live-page links (`share_links`): one per shared challenge, found by its token's digest.

Only the SHA-256 digest of a link's token is stored (`bot.web.share.links` makes both); a
challenge has at most one link, so sharing twice at once creates one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.storage.accounts import from_db_time, to_db_time
from bot.storage.db import Database


@dataclass(frozen=True, slots=True)
class ShareLink:
    """A challenge's live link, without its token (which Stride cannot show again)."""

    challenge_id: int
    created_by: int | None  # None once the admin who shared it deleted their data
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class StoredDigest:
    """What a token's digest was found under: the challenge, and the digest as stored."""

    challenge_id: int
    token_hash: bytes


class SharesRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, challenge_id: int, token_hash: bytes, created_by: int, now: dt.datetime
    ) -> bool:
        """Store a link for the challenge; False (nothing stored) when it already has one."""
        changed = await self._db.execute_rowcount(
            "INSERT INTO share_links (challenge_id, token_hash, created_by, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (challenge_id) DO NOTHING",
            (challenge_id, token_hash, created_by, to_db_time(now)),
        )
        return changed == 1

    async def get(self, challenge_id: int) -> ShareLink | None:
        row = await self._db.fetch_one(
            "SELECT challenge_id, created_by, created_at FROM share_links WHERE challenge_id = ?",
            (challenge_id,),
        )
        if row is None:
            return None
        return ShareLink(
            challenge_id=int(row["challenge_id"]),
            created_by=None if row["created_by"] is None else int(row["created_by"]),
            created_at=from_db_time(row["created_at"]),
        )

    async def find(self, token_hash: bytes) -> StoredDigest | None:
        """The link stored under this digest, if any (an indexed lookup by the digest)."""
        row = await self._db.fetch_one(
            "SELECT challenge_id, token_hash FROM share_links WHERE token_hash = ?",
            (token_hash,),
        )
        if row is None:
            return None
        return StoredDigest(int(row["challenge_id"]), bytes(row["token_hash"]))

    async def delete(self, challenge_id: int) -> bool:
        """Remove the challenge's link; False when it had none."""
        changed = await self._db.execute_rowcount(
            "DELETE FROM share_links WHERE challenge_id = ?", (challenge_id,)
        )
        return changed > 0
