"""`FakeProvider`: a `bot.providers.base.Provider` in memory, strict as the documentation says
a provider is, with scripted daily values and faults to inject.

The OAuth side: codes are single-use and bound to the redirect URI and the PKCE challenge;
refresh tokens rotate and are single-use (as at Oura), so refreshing twice with the same refresh
token fails with `GrantRevoked`; an access token stops working once it is replaced or revoked.
Only tokens it issued work (`consent` and `exchange_code`, or `grant` to seed a database), and
everything it issued is kept in `issued`, so tests can look for secrets in files and logs.

The data side: device totals and manual extras per provider user and day (`set`,
`set_manual`), answered as the protocol says: with `include_manual=False` device totals flagged
`includes_manual=False`, with True the totals including manual entries, flagged True. Users in
`revoked`, `unavailable` or `garbage` fail as a provider would; every call is logged (`calls`),
and `hold_until` makes calls wait until that many are in flight at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain import DailyValue, Metric
from bot.providers.base import (
    AccessTokenRejected,
    GrantRevoked,
    ProviderInfo,
    ProviderResponseError,
    ProviderUnavailable,
    TokenSet,
)
from bot.providers.oauth import code_challenge_s256
from tests.providers.helpers import query_of


@dataclass(frozen=True)
class Call:
    """One `fetch_daily` call, as the provider saw it."""

    user: str
    metrics: tuple[Metric, ...]
    start: dt.date
    end: dt.date
    include_manual: bool
    user_tz: ZoneInfo


@dataclass(frozen=True)
class _Code:
    user_id: str
    redirect_uri: str
    challenge: str | None


class FakeProvider:
    """A strict OAuth provider with scripted daily values; see the module for what it does."""

    AUTHORIZE = "https://fake-provider.example/authorize"

    def __init__(
        self,
        clock: Clock,
        *,
        name: str = "fake",
        display_name: str = "Fake Watch",
        metrics: frozenset[Metric] = frozenset(Metric),
        pkce: bool = False,
        revoke: bool = False,
        lifetime: dt.timedelta = dt.timedelta(hours=1),
    ) -> None:
        self.info = ProviderInfo(
            name=name,
            display_name=display_name,
            metrics=metrics,
            supports_pkce=pkce,
            supports_revoke=revoke,
        )
        self.clock = clock
        self._lifetime = lifetime
        self._init_oauth()
        self._init_data()

    def _init_oauth(self) -> None:
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, str] = {}  # valid access token -> provider user id
        self._refresh: dict[str, str] = {}  # valid refresh token -> provider user id
        self.issued: list[str] = []  # every code, token and verifier seen: secrets
        self.exchanges: list[dict[str, Any]] = []
        self.refresh_calls = 0
        self.revocations: list[TokenSet] = []  # every `revoke` call's tokens
        self.exchange_error: Exception | None = None
        self.refresh_error: Exception | None = None
        self.refresh_gate: asyncio.Event | None = None
        self.refresh_started = asyncio.Event()
        # Held after the rotation: the provider has issued the new pair, its answer is late.
        self.answer_gate: asyncio.Event | None = None

    def _init_data(self) -> None:
        self.device: dict[str, dict[tuple[Metric, dt.date], float]] = defaultdict(dict)
        self.manual: dict[str, dict[tuple[Metric, dt.date], float]] = defaultdict(dict)
        self.calls: list[Call] = []
        self.revoked: set[str] = set()  # users whose grant is gone: GrantRevoked
        self.unavailable: set[str] = set()  # users answered with HTTP 503
        self.garbage: set[str] = set()  # users answered with something odd
        # Answered as they are, asked for or not: what a misbehaving API might send.
        self.unasked: dict[str, list[DailyValue]] = defaultdict(list)
        self.in_flight = 0
        self.max_in_flight = 0
        self.max_tasks = 0
        # When set, calls wait until this many are in flight at once (proves they overlap).
        self.hold_until: int | None = None
        self._gate = asyncio.Event()
        # When set, awaited with the user before each daily answer (what others see meanwhile).
        self.before_answer: Callable[[str], Awaitable[None]] | None = None

    # -- the consent page, as a browser would go through it ------------------------------

    def authorization_url(
        self, *, state: str, redirect_uri: str, code_challenge: str | None
    ) -> str:
        params = {"state": state, "redirect_uri": redirect_uri, "response_type": "code"}
        if code_challenge is not None:
            params |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
        return f"{self.AUTHORIZE}?{urlencode(params)}"

    def consent(self, authorize_url: str, *, user_id: str = "fake-user-0001") -> str:
        """Allow: the callback URL the provider redirects the browser to."""
        query = query_of(authorize_url)
        code = secrets.token_urlsafe(24)
        self.issued.append(code)
        self._codes[code] = _Code(user_id, query["redirect_uri"], query.get("code_challenge"))
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    def deny(self, authorize_url: str) -> str:
        query = query_of(authorize_url)
        params = {"error": "access_denied", "state": query["state"]}
        return f"{query['redirect_uri']}?{urlencode(params)}"

    def grant(self, user_id: str, *, expires_at: dt.datetime | None = None) -> TokenSet:
        """Tokens for `user_id` as consent and the code exchange would give them (to seed a
        database without the flow); they expire at `expires_at`, or after the lifetime."""
        return self._tokens(user_id, expires_at)

    # -- Provider: OAuth -----------------------------------------------------------------

    def _tokens(self, user_id: str, expires_at: dt.datetime | None = None) -> TokenSet:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.issued += [access, refresh]
        self._access[access] = user_id
        self._refresh[refresh] = user_id
        return TokenSet(
            access_token=access,
            refresh_token=refresh,
            expires_at=expires_at or self.clock.now() + self._lifetime,
            scopes=("steps",),
        )

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> TokenSet:
        self.exchanges.append({"code": code, "verifier": code_verifier})
        if code_verifier is not None:
            self.issued.append(code_verifier)
        if self.exchange_error is not None:
            raise self.exchange_error
        issued = self._codes.pop(code, None)
        if issued is None or issued.redirect_uri != redirect_uri:
            raise GrantRevoked("fake: invalid_grant")
        if issued.challenge is not None and (
            code_verifier is None or code_challenge_s256(code_verifier) != issued.challenge
        ):
            raise GrantRevoked("fake: invalid_grant (PKCE)")
        return self._tokens(issued.user_id)

    async def refresh(self, refresh_token: str) -> TokenSet:
        self.refresh_calls += 1
        self.refresh_started.set()
        if self.refresh_gate is not None:
            await self.refresh_gate.wait()
        if self.refresh_error is not None:
            raise self.refresh_error
        user_id = self._refresh.pop(refresh_token, None)  # single-use
        if user_id is None:
            raise GrantRevoked("fake: invalid_grant")
        for access, owner in list(self._access.items()):
            if owner == user_id:
                del self._access[access]  # the old access token dies with the rotation
        tokens = self._tokens(user_id)
        if self.answer_gate is not None:
            await self.answer_gate.wait()
        return tokens

    async def revoke(self, tokens: TokenSet) -> None:
        self.revocations.append(tokens)
        self._access.pop(tokens.access_token, None)
        if tokens.refresh_token:
            self._refresh.pop(tokens.refresh_token, None)

    async def fetch_user_id(self, tokens: TokenSet) -> str:
        return await self.whoami(tokens.access_token)

    async def whoami(self, access_token: str) -> str:
        """The provider user an access token belongs to; `AccessTokenRejected` (a 401) when
        it is not a valid one."""
        user_id = self._access.get(access_token)
        if user_id is None:
            raise AccessTokenRejected("fake: 401")
        return user_id

    def invalidate_access_tokens(self) -> None:
        """Access tokens stop working early (the provider rotated its keys, say)."""
        self._access.clear()

    def valid_refresh_tokens(self) -> set[str]:
        return set(self._refresh)

    def revoke_all_grants(self) -> None:
        """The user removed the app at the provider."""
        self._access.clear()
        self._refresh.clear()

    # -- Provider: data ------------------------------------------------------------------

    def set(self, user: str, when: dt.date, value: float, *, metric: Metric = Metric.STEPS) -> None:
        self.device[user][(metric, when)] = value

    def set_manual(
        self, user: str, when: dt.date, extra: float, *, metric: Metric = Metric.STEPS
    ) -> None:
        self.manual[user][(metric, when)] = extra

    def calls_for(self, user: str) -> list[Call]:
        return [call for call in self.calls if call.user == user]

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
        user = await self.whoami(access_token)
        self.calls.append(Call(user, tuple(metrics), start, end, include_manual, user_tz))
        await self._in_flight()
        if self.before_answer is not None:
            await self.before_answer(user)
        if user in self.revoked:
            raise GrantRevoked("fake: invalid_grant")
        if user in self.unavailable:
            raise ProviderUnavailable("fake: HTTP 503")
        if user in self.garbage:
            raise ProviderResponseError("fake: answered something odd")
        values = []
        for (metric, when), value in self.device[user].items():
            if metric in metrics and start <= when <= end:
                extra = self.manual[user].get((metric, when), 0.0) if include_manual else 0.0
                values.append(DailyValue(metric, when, value + extra, include_manual))
        return values + self.unasked[user]

    async def _in_flight(self) -> None:
        """Count the call as in flight while it waits, as a network request would."""
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.max_tasks = max(self.max_tasks, len(asyncio.all_tasks()))
        try:
            if self.hold_until is not None:
                if self.in_flight >= self.hold_until:
                    self._gate.set()
                async with asyncio.timeout(10):  # a guard against a hang, never reached
                    await self._gate.wait()
            for _ in range(3):  # let other workers run, as a network wait would
                await asyncio.sleep(0)
        finally:
            self.in_flight -= 1
