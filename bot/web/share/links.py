"""`ShareLinks`: a challenge's read-only live link, made, found and revoked.

A link is `{PUBLIC_BASE_URL}/live/{token}` with `secrets.token_urlsafe(32)` as the token
(256 random bits). Only the token's SHA-256 digest is stored, with the challenge and the admin
who shared it, so the link is shown once, when it is made. The rule, one link per challenge:

* sharing a challenge that has no link makes one and returns it;
* sharing a challenge that has one returns that it is shared (by whom, since when) but no URL,
  which Stride cannot rebuild; unsharing then sharing again makes a new link;
* unsharing deletes the link, and the old URL answers 404 from then on.

A token is looked up by its digest, never compared character by character, so how long an
answer takes says nothing about how close a guess was; the stored digest is then compared
with `hmac.compare_digest`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass

from bot.challenges.model import Challenge
from bot.clock import Clock
from bot.storage.db import Database
from bot.storage.shares import ShareLink, SharesRepo

log = logging.getLogger(__name__)

LIVE_PATH = "/live"
TOKEN_BYTES = 32
# What `secrets.token_urlsafe(TOKEN_BYTES)` makes: 43 characters of the URL-safe alphabet.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii")).digest()


@dataclass(frozen=True, slots=True)
class Shared:
    """What sharing did: `url` is the new link, or None when the challenge already had one
    (`link` says since when and by whom)."""

    link: ShareLink
    url: str | None


class ShareLinks:
    def __init__(self, *, db: Database, clock: Clock, public_base_url: str) -> None:
        self._repo = SharesRepo(db)
        self._clock = clock
        self._base_url = public_base_url.rstrip("/")

    def url(self, token: str) -> str:
        return f"{self._base_url}{LIVE_PATH}/{token}"

    async def share(self, challenge: Challenge, *, by: int) -> Shared:
        """A new link for the challenge, or, when it has one, that one without its URL."""
        now = self._clock.now()
        token = secrets.token_urlsafe(TOKEN_BYTES)
        created = await self._repo.create(challenge.id, token_digest(token), by, now)
        link = await self._repo.get(challenge.id)
        if link is None:  # unshared (or the challenge deleted) between the two statements
            raise RuntimeError("the live link vanished as it was made")
        if created:
            log.info("challenge %d: live link made", challenge.id)
        return Shared(link, self.url(token) if created else None)

    async def unshare(self, challenge: Challenge) -> bool:
        """Revoke the challenge's link; False when it had none."""
        removed = await self._repo.delete(challenge.id)
        if removed:
            log.info("challenge %d: live link revoked", challenge.id)
        return removed

    async def link_of(self, challenge: Challenge) -> ShareLink | None:
        return await self._repo.get(challenge.id)

    async def challenge_id_for(self, token: str) -> int | None:
        """The challenge a token opens, or None for one unknown or revoked."""
        if not _TOKEN_SHAPE.fullmatch(token):
            return None
        digest = token_digest(token)
        stored = await self._repo.find(digest)
        if stored is None or not hmac.compare_digest(stored.token_hash, digest):
            return None
        return stored.challenge_id
