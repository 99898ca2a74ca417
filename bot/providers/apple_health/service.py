"""`AppleHealthUploads`: linking Apple Health, and taking what a member's iPhone uploads.

`link` stores the member's Apple Health account (no tokens: `provider.placeholder_tokens`)
and a fresh upload address, `{PUBLIC_BASE_URL}/upload/apple-health/{upload id}`, with a new
secret whose SHA-256 alone is kept; linking again replaces both, `/unlink` deletes them with
the account. `authenticate` checks an upload's secret in constant time before anything reads
its body. `accept` reads the body (`formats`), adds samples up to daily totals (`days`),
leaves out the values of days that are final (`closed_values`: the live sync's own rule,
`bot.sync.worker.closed_days`), stores the rest as the live sync stores a fetch (values in
`daily_values`, provenance `phone`, the account synced now), so `/leaderboard` and `/me` show
them at once; then, as after a live fetch, the new values go to each active challenge's
fair-play review and `member_synced` is emitted (nudges). The same upload twice stores
nothing new and emits nothing.

Values are stored per member and day, not per challenge, so a day's value is left out when
every challenge of the member that counts its metric on that day has that day final (frozen,
or past its grace end by the clock, or the challenge has ended); a day no challenge of theirs
counts (before a start: a baseline's fortnight) is stored.

The secret and the upload id never appear in a log line: lines name the account id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.challenges.model import Challenge
from bot.clock import Clock
from bot.crypto import TokenCipher
from bot.daily.source import ChallengeSource
from bot.domain import DailyValue
from bot.events import EventBus
from bot.notify import Messenger
from bot.providers.apple_health.days import daily_totals
from bot.providers.apple_health.formats import parse_upload
from bot.providers.apple_health.provider import NAME, placeholder_tokens
from bot.providers.apple_health.setup import SECRET_PREFIX, UploadLink, setup_embed
from bot.storage.accounts import AccountsRepo, UsersRepo
from bot.storage.db import Database
from bot.storage.sync import SyncRepo
from bot.storage.uploads import UploadEndpoint, UploadsRepo
from bot.storage.values import ValuesRepo
from bot.sync.worker import closed_days

log = logging.getLogger(__name__)

UPLOAD_PATH = "/upload/apple-health/{upload_id}"
# Compared with when the upload id is unknown, so both refusals take the same time.
_NO_SECRET_HASH = hashlib.sha256(b"no such upload address").digest()


def upload_address(public_base_url: str, upload_id: str) -> str:
    """A member's upload address: what `/link apple_health` DMs and `stride check` shows."""
    return public_base_url.rstrip("/") + UPLOAD_PATH.format(upload_id=upload_id)


def secret_hash(secret: str) -> bytes:
    # From a header: bytes that are not UTF-8 arrive as lone surrogates (never a match).
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).digest()


def closed_values(
    values: Sequence[DailyValue], closed: Sequence[tuple[Challenge, set[dt.date]]]
) -> tuple[list[DailyValue], list[DailyValue]]:
    """`values` split into those an upload stores and those it leaves out: a value is left
    out when its day is closed (`closed_days`) in every one of the member's challenges that
    counts its metric on that day, and there is at least one."""
    kept, final = [], []
    for value in values:
        counting = [
            days
            for challenge, days in closed
            if challenge.metric is value.metric and challenge.start <= value.day <= challenge.end
        ]
        if counting and all(value.day in days for days in counting):
            final.append(value)
        else:
            kept.append(value)
    return kept, final


@dataclass(frozen=True, slots=True)
class UploadResult:
    """What an accepted upload did: days it carried, how many changed, names ignored, and
    the values left out because their day is final."""

    days: int
    changed: int
    ignored: tuple[str, ...]
    final: tuple[DailyValue, ...] = ()


class AppleHealthUploads:
    def __init__(
        self,
        *,
        db: Database,
        cipher: TokenCipher,
        clock: Clock,
        public_base_url: str,
        messenger: Messenger,
        challenges: ChallengeSource,
        events: EventBus,
    ) -> None:
        self._db = db
        self._users = UsersRepo(db)
        self._accounts = AccountsRepo(db, cipher)
        self._uploads = UploadsRepo(db)
        self._sync = SyncRepo(db)
        self._values = ValuesRepo(db)
        self._clock = clock
        self._base_url = public_base_url.rstrip("/")
        self._messenger = messenger
        self._challenges = challenges
        self._events = events

    def address(self, upload_id: str) -> str:
        return upload_address(self._base_url, upload_id)

    # -- linking -----------------------------------------------------------------------

    async def link(self, discord_id: int) -> UploadLink:
        """A new upload address and secret for the member, replacing any they had."""
        upload_id = secrets.token_urlsafe(18)
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        now = self._clock.now()
        async with self._db.transaction():
            await self._users.ensure(discord_id, now)
            account = await self._accounts.save_link(
                discord_id, NAME, upload_id, placeholder_tokens(upload_id), now
            )
            await self._uploads.save_endpoint(
                account.id, discord_id, upload_id, secret_hash(secret), now
            )
        log.info(
            "apple_health: new upload address for account %d (user %d)", account.id, discord_id
        )
        # Handlers never fail a link (they react to their own providers only).
        await self._events.emit("account_linked", account=account)
        return UploadLink(address=self.address(upload_id), secret=secret)

    async def send_setup_dm(self, discord_id: int, link: UploadLink) -> bool:
        """DM the address, secret and steps; False when the member's DMs are closed."""
        return await self._messenger.send_dm(discord_id, embed=setup_embed(link))

    # -- uploads -----------------------------------------------------------------------

    async def authenticate(self, upload_id: str, secret: str | None) -> UploadEndpoint | None:
        """The upload address, when `secret` is its secret (compared in constant time)."""
        endpoint = await self._uploads.endpoint(upload_id) if upload_id else None
        expected = endpoint.secret_hash if endpoint is not None else _NO_SECRET_HASH
        given = secret_hash(secret) if secret else b""
        if not hmac.compare_digest(given, expected) or endpoint is None:
            return None
        return endpoint

    async def accept(self, endpoint: UploadEndpoint, document: Any) -> UploadResult:
        """Store an upload's daily totals; raises `UploadRejected` (nothing stored then)."""
        parsed = parse_upload(document)
        now = self._clock.now()
        values = daily_totals(parsed.samples, now)
        kept, final = closed_values(values, await self._closed(endpoint.discord_id, now))
        changed = await self._uploads.store_upload(endpoint, NAME, kept, now)
        log.info(
            "apple_health: account %d uploaded %d day value(s), %d changed, %d final",
            endpoint.account_id,
            len(values),
            len(changed),
            len(final),
        )
        if changed:
            await self._after_store(endpoint.discord_id, changed)
        return UploadResult(
            days=len(values), changed=len(changed), ignored=parsed.ignored, final=tuple(final)
        )

    async def _closed(
        self, discord_id: int, now: dt.datetime
    ) -> list[tuple[Challenge, set[dt.date]]]:
        """Each challenge the member plays (ended ones too), with its days closed at `now`."""
        closed = []
        for challenge_id in await self._values.player_challenge_ids(discord_id):
            challenge = await self._challenges.get(challenge_id)
            if challenge is not None:
                frozen = await self._values.final_days(challenge_id)
                closed.append((challenge, closed_days(challenge, frozen, now)))
        return closed

    async def _after_store(self, discord_id: int, values: list[DailyValue]) -> None:
        """What follows a live fetch's store: fair-play reviews, then `member_synced`."""
        reviewed = [(discord_id, v.metric, v.day, v.value) for v in values]
        playing = await self._sync.active_challenges_of([discord_id])
        for challenge_id in sorted(playing):
            try:
                await self._challenges.review_new_values(challenge_id, reviewed)
            except Exception:
                # Flags are advice for the admins; the values stay stored and counted.
                log.exception("fair-play review of challenge %d failed", challenge_id)
        try:
            await self._events.emit("member_synced", discord_id=discord_id)
        except Exception:
            log.exception("a member_synced handler failed")
