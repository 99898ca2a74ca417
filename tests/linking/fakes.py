"""Test doubles for the linking tests: a faithful OAuth provider, a recording messenger.

No tests here; `tests/linking/`, `tests/privacy/` and `tests/cogs/test_accounts.py` import these.

`FakeProvider` behaves as the providers' documentation says a strict provider does: codes are
single-use and bound to the redirect URI and the PKCE challenge; refresh tokens rotate and are
single-use (as at Oura), so refreshing twice with the same refresh token fails with
`GrantRevoked`; an access token stops working once it is replaced.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

from cryptography.fernet import Fernet

from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.domain import DailyValue, Metric
from bot.events import EventBus
from bot.linking import LinkService, TokenManager
from bot.notify import Attachment, LinkButton
from bot.privacy import PrivacyService
from bot.providers.base import AccessTokenRejected, GrantRevoked, Provider, ProviderInfo, TokenSet
from bot.providers.oauth import code_challenge_s256
from bot.render.leaderboard import EmbedContent
from bot.storage import Database
from tests.doubles.messenger import connected

BASE_URL = "https://stride.example"
START = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@dataclass
class SentDM:
    user_id: int
    content: str | None
    embed: EmbedContent | None
    buttons: Sequence[LinkButton]
    files: Sequence[Attachment]

    @property
    def text(self) -> str:
        parts = [self.content or ""]
        if self.embed is not None:
            parts += [self.embed.title, self.embed.description, self.embed.footer]
            parts += [f"{f.name} {f.value}" for f in self.embed.fields]
        return "\n".join(parts)


@dataclass
class FakeMessenger:
    dms_open: bool = True
    sent: list[SentDM] = field(default_factory=list)

    async def send_dm(
        self,
        user_id: int,
        *,
        content: str | None = None,
        embed: EmbedContent | None = None,
        buttons: Sequence[LinkButton] = (),
        files: Sequence[Attachment] = (),
    ) -> bool:
        if not self.dms_open:
            return False
        self.sent.append(SentDM(user_id, content, embed, list(buttons), list(files)))
        return True

    async def post(
        self,
        channel_id: int,
        *,
        content: str | None = None,
        embed: EmbedContent | None = None,
        files: Sequence[Attachment] = (),
    ) -> int:
        raise AssertionError("linking never posts in channels")

    def to(self, user_id: int) -> list[SentDM]:
        return [dm for dm in self.sent if dm.user_id == user_id]


@dataclass
class _Code:
    user_id: str
    redirect_uri: str
    challenge: str | None


class FakeProvider:
    """A strict OAuth provider in memory. Everything it issued is kept in `issued` so tests can
    look for it in the database file and the logs."""

    AUTHORIZE = "https://fake-provider.example/authorize"

    def __init__(
        self,
        clock: FakeClock,
        *,
        name: str = "fakefit",
        display_name: str = "Fake Fit",
        pkce: bool = True,
        revoke: bool = True,
        lifetime: dt.timedelta = dt.timedelta(hours=1),
    ) -> None:
        self.info = ProviderInfo(
            name=name,
            display_name=display_name,
            metrics=frozenset({Metric.STEPS}),
            supports_pkce=pkce,
            supports_revoke=revoke,
        )
        self._clock = clock
        self._lifetime = lifetime
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, str] = {}  # valid access token -> provider user id
        self._refresh: dict[str, str] = {}  # valid refresh token -> provider user id
        self.issued: list[str] = []  # every code, token and verifier seen: secrets
        self.exchanges: list[dict[str, Any]] = []
        self.refresh_calls = 0
        self.revoked: list[TokenSet] = []
        self.exchange_error: Exception | None = None
        self.refresh_error: Exception | None = None
        self.refresh_gate: asyncio.Event | None = None
        self.refresh_started = asyncio.Event()
        # Held after the rotation: the provider has issued the new pair, its answer is late.
        self.answer_gate: asyncio.Event | None = None

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

    # -- Provider ------------------------------------------------------------------------

    def _tokens(self, user_id: str) -> TokenSet:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.issued += [access, refresh]
        self._access[access] = user_id
        self._refresh[refresh] = user_id
        return TokenSet(
            access_token=access,
            refresh_token=refresh,
            expires_at=self._clock.now() + self._lifetime,
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
        self.revoked.append(tokens)
        self._access.pop(tokens.access_token, None)
        if tokens.refresh_token:
            self._refresh.pop(tokens.refresh_token, None)

    async def fetch_user_id(self, tokens: TokenSet) -> str:
        return await self.whoami(tokens.access_token)

    async def whoami(self, access_token: str) -> str:
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
        await self.whoami(access_token)
        return [DailyValue(Metric.STEPS, start, 1234.0)]


@dataclass
class Linking:
    """The three services wired as `Services` wires them, over fakes."""

    db: Database
    cipher: TokenCipher
    clock: FakeClock
    messenger: FakeMessenger
    providers: dict[str, Provider]
    events: EventBus
    tokens: TokenManager
    linking: LinkService
    privacy: PrivacyService


def build_linking(
    db: Database,
    providers: dict[str, Provider],
    *,
    clock: FakeClock | None = None,
    cipher: TokenCipher | None = None,
    messenger: FakeMessenger | None = None,
) -> Linking:
    clock = clock or FakeClock(START)
    cipher = cipher or TokenCipher([Fernet.generate_key()])
    messenger = messenger or FakeMessenger()
    events = EventBus()
    tokens = TokenManager(
        db=db, cipher=cipher, providers=providers, clock=clock, messenger=connected(messenger)
    )
    linking = LinkService(
        db=db,
        cipher=cipher,
        providers=providers,
        clock=clock,
        public_base_url=BASE_URL,
        messenger=connected(messenger),
        tokens=tokens,
    )
    privacy = PrivacyService(
        db=db, cipher=cipher, providers=providers, clock=clock, events=events, tokens=tokens
    )
    return Linking(db, cipher, clock, messenger, providers, events, tokens, linking, privacy)
