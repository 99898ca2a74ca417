"""The built-in sandbox provider: try Stride without a wearable.

Its "OAuth" runs inside Stride. `authorization_url` registers the pending consent (state,
redirect URI, PKCE challenge) and points at a consent page Stride serves itself
(`bot.web.sandbox`); Allow issues a single-use code that expires, which `exchange_code` trades
for tokens. Because the page only honours a state that `authorization_url` registered, for the
redirect URI registered with it, and that URI must lie under `PUBLIC_BASE_URL`, the page
cannot be used as an open redirect.

Tokens carry the sandbox user id inside them (they only unlock synthetic data), so links keep
working across restarts; pending consents and codes live in memory and are lost on restart,
which only means running /link again.

The data is deterministic and plausible: every value is drawn from a generator seeded by a
SHA-256 of (user id, date, metric), never Python's per-process `hash()`, around a per-user
profile, with busier Saturdays, quieter Sundays, an occasional lazy or big day, and more sleep
at weekends. Distance follows that day's steps; active minutes and calories follow both.
Future days have no data, and today's cumulative values grow with the hour.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import logging
import random
import secrets
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import aiohttp

from bot.clock import Clock
from bot.domain import DailyValue, Metric
from bot.providers.base import AccessTokenRejected, GrantRevoked, ProviderInfo, TokenSet
from bot.providers.oauth import code_challenge_s256, with_query
from bot.settings import SandboxSettings

log = logging.getLogger(__name__)

AUTHORIZE_PATH = "/oauth/sandbox/authorize"
ACCESS_TOKEN_LIFETIME = dt.timedelta(hours=1)
MAX_PENDING = 10_000  # bounds memory should something call authorization_url in a loop
_ACCESS_PREFIX = "sbx1a"
_REFRESH_PREFIX = "sbx1r"


@dataclass(frozen=True, slots=True)
class PendingConsent:
    redirect_uri: str
    code_challenge: str | None
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class _IssuedCode:
    user_id: str
    redirect_uri: str
    code_challenge: str | None
    expires_at: dt.datetime


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def _unb64(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


def _seeded(*parts: str) -> random.Random:
    """A generator seeded by a stable digest of `parts` (the same in every process)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    # Synthetic data, not security: a seeded PRNG is exactly what is wanted.
    return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311


@dataclass(frozen=True, slots=True)
class _Profile:
    activity: float  # multiplies steps
    stride_m: float
    sleep_minutes: float


def _profile(user_id: str) -> _Profile:
    rng = _seeded(user_id, "profile")
    return _Profile(
        activity=rng.uniform(0.75, 1.35),
        stride_m=rng.uniform(0.68, 0.82),
        sleep_minutes=rng.uniform(400, 480),
    )


# Typical steps by weekday (Monday first): commuting weekdays, a long Saturday walk, a lazy
# Sunday.
_WEEKDAY_STEPS = (8200, 8400, 8000, 8300, 8800, 10400, 6600)
_WEEKDAY_FLOORS = (8, 8, 8, 8, 9, 12, 5)


def synthetic_day(user_id: str, day: dt.date) -> dict[Metric, float]:
    """Every metric's full-day value for one sandbox user and day. Pure and deterministic."""
    profile = _profile(user_id)
    key = day.isoformat()
    weekday = day.weekday()
    day_rng = _seeded(user_id, key, "day")
    roll = day_rng.random()
    mood = 0.45 if roll < 0.08 else 1.6 if roll > 0.95 else day_rng.uniform(0.8, 1.2)

    steps_rng = _seeded(user_id, key, Metric.STEPS.value)
    steps = _WEEKDAY_STEPS[weekday] * profile.activity * mood * steps_rng.gauss(1.0, 0.08)
    steps = max(300.0, round(steps))

    distance_rng = _seeded(user_id, key, Metric.DISTANCE.value)
    distance = steps * profile.stride_m * distance_rng.uniform(0.97, 1.03) / 1000

    minutes_rng = _seeded(user_id, key, Metric.ACTIVE_MINUTES.value)
    workout = 35 if weekday >= 5 and minutes_rng.random() < 0.5 else 0
    active_minutes = max(0.0, round(steps / 330 * minutes_rng.uniform(0.8, 1.2) + workout - 5))

    calories_rng = _seeded(user_id, key, Metric.ACTIVE_CALORIES.value)
    active_calories = round(
        (steps * 0.04 + active_minutes * 3.5) * calories_rng.uniform(0.92, 1.08)
    )

    floors_rng = _seeded(user_id, key, Metric.FLOORS.value)
    floors = max(
        0.0, round(_WEEKDAY_FLOORS[weekday] * profile.activity * floors_rng.uniform(0.5, 1.5))
    )

    sleep_rng = _seeded(user_id, key, Metric.SLEEP_MINUTES.value)
    weekend_lie_in = 40 if weekday >= 5 else 0
    sleep = round(
        min(600.0, max(300.0, sleep_rng.gauss(profile.sleep_minutes + weekend_lie_in, 30)))
    )

    return {
        Metric.STEPS: float(steps),
        Metric.DISTANCE: round(distance, 2),
        Metric.ACTIVE_MINUTES: float(active_minutes),
        Metric.ACTIVE_CALORIES: float(active_calories),
        Metric.FLOORS: float(floors),
        Metric.SLEEP_MINUTES: float(sleep),
    }


def _same_site(uri: str, base: str) -> bool:
    """True when `uri` is on the same scheme, host and port as `base`, under its path."""
    target, origin = urlsplit(uri), urlsplit(base)
    if (target.scheme, target.netloc.lower()) != (origin.scheme, origin.netloc.lower()):
        return False
    prefix = origin.path.rstrip("/") + "/"
    return target.path.startswith(prefix) and not target.fragment


class SandboxProvider:
    """The `Provider` serving synthetic data, with its consent page inside Stride."""

    def __init__(
        self,
        settings: SandboxSettings,
        session: aiohttp.ClientSession | None,
        clock: Clock,
        *,
        public_base_url: str,
        consent_ttl: dt.timedelta = dt.timedelta(minutes=30),
        code_ttl: dt.timedelta = dt.timedelta(minutes=5),
    ) -> None:
        self._clock = clock
        self.public_base_url = public_base_url.rstrip("/")
        self._consent_ttl = consent_ttl
        self._code_ttl = code_ttl
        # Insertion order is expiry order (fixed TTLs), so pruning pops from the front.
        self._pending: OrderedDict[str, PendingConsent] = OrderedDict()
        self._codes: OrderedDict[str, _IssuedCode] = OrderedDict()
        self.info = ProviderInfo(
            name="sandbox",
            display_name="Sandbox (test data)",
            metrics=frozenset(Metric),
            supports_pkce=True,
            supports_revoke=False,
        )

    # -- consent, as driven by bot.web.sandbox -------------------------------------------

    @property
    def consent_page_url(self) -> str:
        return f"{self.public_base_url}{AUTHORIZE_PATH}"

    def authorization_url(
        self, *, state: str, redirect_uri: str, code_challenge: str | None
    ) -> str:
        if not _same_site(redirect_uri, self.public_base_url):
            raise ValueError("the sandbox only redirects to Stride's own callback")
        now = self._clock.now()
        self._prune(now)
        self._pending.pop(state, None)  # re-inserted at the end, keeping expiry order
        while len(self._pending) >= MAX_PENDING:
            self._pending.popitem(last=False)
        self._pending[state] = PendingConsent(
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            expires_at=now + self._consent_ttl,
        )
        return with_query(self.consent_page_url, {"state": state, "redirect_uri": redirect_uri})

    def pending_consent(self, state: str, redirect_uri: str) -> PendingConsent | None:
        """The consent `authorization_url` registered for exactly this state and redirect URI,
        if it has not expired or been decided."""
        self._prune(self._clock.now())
        pending = self._pending.get(state)
        # A plain comparison: the redirect URI is no secret (and hmac.compare_digest refuses
        # non-ASCII str, which anyone can put in the query).
        if pending is None or pending.redirect_uri != redirect_uri:
            return None
        return pending

    def approve(self, state: str, redirect_uri: str) -> str | None:
        """Allow: a fresh sandbox account and a single-use code. The callback URL to send the
        browser to, or None when the consent is unknown."""
        pending = self.pending_consent(state, redirect_uri)
        if pending is None:
            return None
        del self._pending[state]
        code = secrets.token_urlsafe(32)
        user_id = f"sandbox-{secrets.token_hex(6)}"
        self._codes[code] = _IssuedCode(
            user_id=user_id,
            redirect_uri=pending.redirect_uri,
            code_challenge=pending.code_challenge,
            expires_at=self._clock.now() + self._code_ttl,
        )
        log.info("sandbox: consent granted")
        return with_query(pending.redirect_uri, {"code": code, "state": state})

    def deny(self, state: str, redirect_uri: str) -> str | None:
        """Deny: the callback URL with `error=access_denied`, or None when unknown."""
        pending = self.pending_consent(state, redirect_uri)
        if pending is None:
            return None
        del self._pending[state]
        log.info("sandbox: consent denied")
        return with_query(pending.redirect_uri, {"error": "access_denied", "state": state})

    def _prune(self, now: dt.datetime) -> None:
        while self._pending and next(iter(self._pending.values())).expires_at <= now:
            self._pending.popitem(last=False)
        while self._codes and next(iter(self._codes.values())).expires_at <= now:
            self._codes.popitem(last=False)

    # -- the Provider protocol -------------------------------------------------------------

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> TokenSet:
        self._prune(self._clock.now())
        issued = self._codes.pop(code, None)  # single-use, even when the checks below fail
        if issued is None or issued.redirect_uri != redirect_uri:
            raise GrantRevoked("Sandbox: the authorization code is invalid or has expired")
        if issued.code_challenge is not None and (
            code_verifier is None
            or not hmac.compare_digest(code_challenge_s256(code_verifier), issued.code_challenge)
        ):
            raise GrantRevoked("Sandbox: the PKCE code verifier does not match")
        return self._tokens(issued.user_id)

    def tokens_for(self, user_id: str) -> TokenSet:
        """Tokens for a chosen sandbox user without the consent page (the demo, seeding).
        `user_id` must start with "sandbox-"."""
        if not user_id.startswith("sandbox-"):
            raise ValueError("sandbox user ids start with 'sandbox-'")
        return self._tokens(user_id)

    def _tokens(self, user_id: str) -> TokenSet:
        encoded = _b64(user_id)
        return TokenSet(
            access_token=f"{_ACCESS_PREFIX}.{encoded}.{secrets.token_urlsafe(16)}",
            refresh_token=f"{_REFRESH_PREFIX}.{encoded}.{secrets.token_urlsafe(16)}",
            expires_at=self._clock.now() + ACCESS_TOKEN_LIFETIME,
            provider_user_id=user_id,
        )

    async def refresh(self, refresh_token: str) -> TokenSet:
        user_id = _user_in(refresh_token, _REFRESH_PREFIX)
        if user_id is None:
            raise GrantRevoked("Sandbox: the refresh token is not a sandbox token")
        return self._tokens(user_id)

    async def revoke(self, tokens: TokenSet) -> None:
        """No-op: sandbox tokens only unlock synthetic data and Stride forgets them on unlink."""
        return None

    async def fetch_user_id(self, tokens: TokenSet) -> str:
        user_id = _user_in(tokens.access_token, _ACCESS_PREFIX)
        if user_id is None:
            raise AccessTokenRejected("Sandbox: the access token is not a sandbox token")
        return user_id

    async def fetch_daily(
        self,
        access_token: str,
        metrics: Collection[Metric],
        start: dt.date,
        end: dt.date,
        *,
        include_manual: bool,
        user_tz: ZoneInfo,
    ) -> list[DailyValue]:
        user_id = _user_in(access_token, _ACCESS_PREFIX)
        if user_id is None:
            raise AccessTokenRejected("Sandbox: the access token is not a sandbox token")
        now = self._clock.now().astimezone(user_tz)
        today = now.date()
        elapsed = (now - now.replace(hour=0, minute=0, second=0, microsecond=0)) / dt.timedelta(
            days=1
        )
        wanted = sorted(set(metrics) & self.info.metrics)
        values: list[DailyValue] = []
        day = start
        while day <= min(end, today):
            full = synthetic_day(user_id, day)
            for metric in wanted:
                value = full[metric]
                if day == today and metric is not Metric.SLEEP_MINUTES:
                    # Last night's sleep is complete; the day's activity is not.
                    value = round(value * elapsed, 2)
                values.append(DailyValue(metric=metric, day=day, value=value))
            day += dt.timedelta(days=1)
        return sorted(values, key=lambda item: (item.metric, item.day))


def _user_in(token: str, prefix: str) -> str | None:
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != prefix:
        return None
    try:
        user_id = _unb64(parts[1])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return user_id if user_id.startswith("sandbox-") else None
