"""`GET` and `POST /webhooks/oura`: Oura's verification challenge and signed notifications.

- GET: when a subscription is created Oura calls the callback with `verification_token` and
  `challenge`; the token must be ours (constant-time; missing 401, wrong 403) and the answer
  is `{"challenge": …}`.
- POST: `x-oura-signature` must be the uppercase hex HMAC-SHA256 of `x-oura-timestamp` and
  the body with the app's client secret (missing or wrong: 401). Replays are refused (403):
  a timestamp further than `OURA__WEBHOOK_REPLAY_WINDOW_SECONDS` from now, or a signature
  already accepted within that window (`RecentSignatures`, in memory: after a restart the
  window alone bounds a replay). The body is JSON with `user_id` and `data_type`; a sync is
  queued for the data types Stride subscribes to (`OURA_DATA_TYPES`).

The timestamp is read as Unix seconds (milliseconds are recognised by their size).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import OrderedDict

from aiohttp import web

from bot.clock import Clock
from bot.providers.push import OURA_DATA_TYPES
from bot.web.webhooks.common import (
    SyncDispatch,
    accepted,
    json_document,
    read_capped,
    refuse,
    same_secret,
    too_large,
)
from bot.web.webhooks.signatures import oura_signature

PROVIDER = "oura"
MAX_CHALLENGE_CHARS = 512
MAX_REMEMBERED = 100_000
_TIMESTAMP = re.compile(r"^[0-9]{1,16}$")
_USER_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_MILLISECONDS_FROM = 10**11  # a seconds timestamp this large lies in the year 5138


def parse_timestamp(text: str) -> dt.datetime | None:
    if not _TIMESTAMP.match(text):
        return None
    value = int(text)
    seconds = value / 1000 if value >= _MILLISECONDS_FROM else float(value)
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


class RecentSignatures:
    """Signatures accepted within the replay window, oldest first, bounded in number."""

    def __init__(self, window: dt.timedelta) -> None:
        self._window = window
        self._seen: OrderedDict[str, dt.datetime] = OrderedDict()

    def first_time(self, signature: str, now: dt.datetime) -> bool:
        """Remember `signature`; False when it was already seen within the window."""
        while self._seen:
            oldest, seen_at = next(iter(self._seen.items()))
            if now - seen_at <= self._window and len(self._seen) < MAX_REMEMBERED:
                break
            del self._seen[oldest]
        if signature in self._seen:
            return False
        self._seen[signature] = now
        return True


class OuraWebhook:
    """Answers the verification challenge and queues a sync for each signed notification."""

    def __init__(
        self,
        *,
        verification_token: str,
        client_secret: str,
        replay_window: dt.timedelta,
        clock: Clock,
        dispatch: SyncDispatch,
    ) -> None:
        self._token = verification_token  # never logged
        self._client_secret = client_secret  # never logged
        self._window = replay_window
        self._clock = clock
        self._recent = RecentSignatures(replay_window)
        self._dispatch = dispatch

    async def verify(self, request: web.Request) -> web.Response:
        token = request.query.get("verification_token")
        if token is None:
            return refuse(PROVIDER, 401, "verification token required")
        if not same_secret(token, self._token):
            return refuse(PROVIDER, 403, "verification token not accepted")
        challenge = request.query.get("challenge", "")
        if not challenge or len(challenge) > MAX_CHALLENGE_CHARS:
            return refuse(PROVIDER, 400, "challenge missing or too long")
        return web.json_response({"challenge": challenge}, headers={"Cache-Control": "no-store"})

    async def notify(self, request: web.Request) -> web.Response:
        signature = request.headers.get("x-oura-signature")
        timestamp = request.headers.get("x-oura-timestamp")
        if not signature or not timestamp:
            return refuse(PROVIDER, 401, "signature and timestamp required")
        body = await read_capped(request)
        if body is None:
            return too_large(PROVIDER)
        expected = oura_signature(self._client_secret, timestamp, body)
        if not same_secret(signature.strip().upper(), expected):
            return refuse(PROVIDER, 401, "signature not valid")
        now = self._clock.now()
        sent_at = parse_timestamp(timestamp)
        if sent_at is None or abs(now - sent_at) > self._window:
            return refuse(PROVIDER, 403, "timestamp outside the replay window")
        if not self._recent.first_time(expected, now):
            return refuse(PROVIDER, 403, "notification already received")
        document = json_document(body)
        if not isinstance(document, dict):
            return refuse(PROVIDER, 400, "body is not a JSON object")
        user_id, data_type = document.get("user_id"), document.get("data_type")
        if not isinstance(user_id, str) or not _USER_ID.match(user_id):
            return refuse(PROVIDER, 400, "user_id missing or not valid")
        if data_type in OURA_DATA_TYPES:
            await self._dispatch.request(PROVIDER, user_id, reason=f"oura push ({data_type})")
        return accepted()
