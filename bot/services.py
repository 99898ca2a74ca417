"""The container of shared resources and services that cogs reach through `bot.services`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp

from bot.challenges import ChallengeService
from bot.clock import Clock
from bot.crypto import TokenCipher
from bot.daily import DailyRunner
from bot.events import EventBus
from bot.linking import LinkService, PrivacyService, TokenManager
from bot.metrics import Metrics
from bot.scheduling import JobScheduler
from bot.settings import Settings
from bot.storage import Database
from bot.storage.accounts import AccountsRepo

if TYPE_CHECKING:
    from bot.notify import Messenger
    from bot.providers.base import Provider
    from bot.publish.service import PublishService


@dataclass
class Services:
    settings: Settings
    db: Database
    http: aiohttp.ClientSession
    clock: Clock
    scheduler: JobScheduler
    cipher: TokenCipher
    metrics: Metrics
    providers: dict[str, Provider] = field(default_factory=dict)
    events: EventBus = field(default_factory=EventBus)
    # Set by the Discord client when it is built (`bot.discord_bot.StrideBot`).
    messenger: Messenger | None = None
    # The optional publish cog's service (`bot.publish`); set by `bot.app.build_services`.
    publish: PublishService | None = None
    # Built from the fields above (see `bot.linking`); they read `messenger` when they DM.
    tokens: TokenManager = field(init=False, repr=False)
    linking: LinkService = field(init=False, repr=False)
    privacy: PrivacyService = field(init=False, repr=False)
    challenges: ChallengeService = field(init=False, repr=False)
    daily_run: DailyRunner = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.tokens = TokenManager(
            db=self.db,
            cipher=self.cipher,
            providers=self.providers,
            clock=self.clock,
            messenger=lambda: self.messenger,
        )
        self.linking = LinkService(
            db=self.db,
            cipher=self.cipher,
            providers=self.providers,
            clock=self.clock,
            public_base_url=self.settings.public_base_url,
            messenger=lambda: self.messenger,
            tokens=self.tokens,
        )
        self.privacy = PrivacyService(
            db=self.db,
            cipher=self.cipher,
            providers=self.providers,
            clock=self.clock,
            events=self.events,
            tokens=self.tokens,
        )
        self.challenges = ChallengeService(
            self.db, self.clock, self.events, AccountsRepo(self.db, self.cipher)
        )
        self.daily_run = DailyRunner(
            db=self.db,
            clock=self.clock,
            challenges=self.challenges,
            call_with_token=self.tokens.call_with_token,
            providers=self.providers,
            events=self.events,
            messenger=lambda: self.messenger,
            concurrency=self.settings.fetch_concurrency,
            scheduler=self.scheduler,
            metrics=self.metrics,
        )
