"""The linking services wired as `Services` wires them, over the doubles; and URL helpers.

No tests here; `tests/linking/`, `tests/privacy/`, `tests/cogs/test_accounts.py` and the
provider tests import these. The provider is a `tests.doubles.provider.FakeProvider` made by
`fake_fit` (strict OAuth with PKCE and revocation), Discord a
`tests.doubles.messenger.RecordingTransport` made by `dm_only_discord`: linking only sends DMs,
so a channel post fails the test.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.domain import Metric
from bot.events import EventBus
from bot.linking import LinkService, TokenManager
from bot.privacy import PrivacyService
from bot.providers.base import Provider
from bot.storage import Database
from tests.doubles.messenger import RecordingTransport, connected
from tests.doubles.provider import FakeProvider

BASE_URL = "https://stride.example"
START = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def fake_fit(
    clock: FakeClock,
    *,
    name: str = "fakefit",
    display_name: str = "Fake Fit",
    pkce: bool = True,
    revoke: bool = True,
) -> FakeProvider:
    """The provider the linking tests link: steps only, with PKCE and revocation unless told
    otherwise."""
    return FakeProvider(
        clock,
        name=name,
        display_name=display_name,
        metrics=frozenset({Metric.STEPS}),
        pkce=pkce,
        revoke=revoke,
    )


def dm_only_discord() -> RecordingTransport:
    """A recording Discord where a channel post fails the test: linking never posts."""
    return RecordingTransport(fail_with=AssertionError("linking never posts in channels"))


@dataclass
class Linking:
    """The three services wired as `Services` wires them, over the doubles."""

    db: Database
    cipher: TokenCipher
    clock: FakeClock
    messenger: RecordingTransport
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
    messenger: RecordingTransport | None = None,
) -> Linking:
    clock = clock or FakeClock(START)
    cipher = cipher or TokenCipher([Fernet.generate_key()])
    messenger = messenger or dm_only_discord()
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
