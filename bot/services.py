"""The object graph: every shared resource and service, built in one place (`build_services`).

`Services` is an immutable record: the cogs reach it through `bot.services`, and nothing is
assigned to it after `build_services` returns. The `Messenger` in it exists before any
Discord client; the client attaches itself to it when it connects (`bot.discord_bot`).
Production (`bot.app.StrideApp`), `stride demo`, the benchmark and the tests all build the
graph with `build_services`, so none of them runs a graph that production never has.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from bot.challenges.service import ChallengeService
from bot.clock import Clock
from bot.crypto import TokenCipher, cipher_from_settings
from bot.daily import DailyRunner, StandingsReader
from bot.events import EventBus
from bot.linking import LinkService, TokenManager
from bot.metrics import Metrics
from bot.notify import Messenger
from bot.privacy import PrivacyService
from bot.providers.base import Provider
from bot.providers.registry import build_providers
from bot.publish.service import (
    DELIVERY_INTERVAL_SECONDS,
    DELIVERY_JOB_ID,
    PublishService,
    create_publish_service,
)
from bot.scheduling import JobScheduler
from bot.settings import Settings
from bot.storage import Database
from bot.storage.accounts import AccountsRepo


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    settings: Settings
    db: Database
    http: aiohttp.ClientSession
    clock: Clock
    scheduler: JobScheduler
    cipher: TokenCipher
    metrics: Metrics
    providers: Mapping[str, Provider]
    events: EventBus
    messenger: Messenger
    tokens: TokenManager
    linking: LinkService
    privacy: PrivacyService
    challenges: ChallengeService
    standings: StandingsReader
    daily_run: DailyRunner
    publish: PublishService


def build_services(
    settings: Settings,
    db: Database,
    http: aiohttp.ClientSession,
    clock: Clock,
    *,
    providers: Mapping[str, Provider] | None = None,
    cipher: TokenCipher | None = None,
) -> Services:
    """Build the whole graph and wire its event handlers and background jobs.

    `providers` and `cipher` default to what the settings configure; the demo and tests
    pass their own (the sandbox, a fake provider, a throwaway key)."""
    cipher = cipher if cipher is not None else _configured_cipher(settings)
    if providers is None:
        providers = build_providers(settings, http, clock)
    scheduler, metrics, events, messenger = JobScheduler(), Metrics(), EventBus(), Messenger()
    tokens, linking, privacy = _account_services(
        settings, db, cipher, providers, clock, messenger, events
    )
    challenges = ChallengeService(db, clock, events, AccountsRepo(db, cipher))
    standings = StandingsReader(db=db, clock=clock, challenges=challenges)
    services = Services(
        settings=settings,
        db=db,
        http=http,
        clock=clock,
        scheduler=scheduler,
        cipher=cipher,
        metrics=metrics,
        providers=providers,
        events=events,
        messenger=messenger,
        tokens=tokens,
        linking=linking,
        privacy=privacy,
        challenges=challenges,
        standings=standings,
        daily_run=DailyRunner(
            db=db,
            clock=clock,
            challenges=challenges,
            standings=standings,
            call_with_token=tokens.call_with_token,
            providers=providers,
            events=events,
            messenger=messenger,
            concurrency=settings.fetch_concurrency,
            scheduler=scheduler,
            metrics=metrics,
        ),
        publish=create_publish_service(settings, db, http, clock, messenger=messenger),
    )
    _wire(services)
    return services


def _account_services(
    settings: Settings,
    db: Database,
    cipher: TokenCipher,
    providers: Mapping[str, Provider],
    clock: Clock,
    messenger: Messenger,
    events: EventBus,
) -> tuple[TokenManager, LinkService, PrivacyService]:
    """The services around linked accounts: their tokens, linking, and privacy."""
    tokens = TokenManager(
        db=db, cipher=cipher, providers=providers, clock=clock, messenger=messenger
    )
    linking = LinkService(
        db=db,
        cipher=cipher,
        providers=providers,
        clock=clock,
        public_base_url=settings.public_base_url,
        messenger=messenger,
        tokens=tokens,
    )
    privacy = PrivacyService(
        db=db, cipher=cipher, providers=providers, clock=clock, events=events, tokens=tokens
    )
    return tokens, linking, privacy


def _configured_cipher(settings: Settings) -> TokenCipher:
    keys = settings.token_encryption_keys
    return cipher_from_settings(keys.get_secret_value() if keys else None, settings.database_path)


def _wire(services: Services) -> None:
    """The handlers and jobs that connect the services to each other."""
    # Jobs follow challenges as they are created, edited and ended (results on an early end).
    services.daily_run.subscribe(services.events)
    # The publish outbox rows are written in the transaction that finalises a day.
    services.events.on("day_finalised", services.publish.on_day_finalised)
    services.scheduler.add_interval(
        DELIVERY_JOB_ID, services.publish.run_delivery, seconds=DELIVERY_INTERVAL_SECONDS
    )
