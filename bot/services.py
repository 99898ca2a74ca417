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
from bot.daily import DailyRunner
from bot.events import EventBus
from bot.linking import LinkService, PrivacyService, TokenManager
from bot.metrics import Metrics
from bot.notify import Messenger
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
    if cipher is None:
        keys = settings.token_encryption_keys
        cipher = cipher_from_settings(
            keys.get_secret_value() if keys else None, settings.database_path
        )
    if providers is None:
        providers = build_providers(settings, http, clock)
    scheduler = JobScheduler()
    metrics = Metrics()
    events = EventBus()
    messenger = Messenger()
    tokens = TokenManager(
        db=db, cipher=cipher, providers=providers, clock=clock, messenger=messenger
    )
    challenges = ChallengeService(db, clock, events, AccountsRepo(db, cipher))
    daily_run = DailyRunner(
        db=db,
        clock=clock,
        challenges=challenges,
        call_with_token=tokens.call_with_token,
        providers=providers,
        events=events,
        messenger=messenger,
        concurrency=settings.fetch_concurrency,
        scheduler=scheduler,
        metrics=metrics,
    )
    publish = create_publish_service(settings, db, http, clock, messenger=messenger)
    # Jobs follow challenges as they are created, edited and ended (results on an early end).
    daily_run.subscribe(events)
    # The publish outbox rows are written in the transaction that finalises a day.
    events.on("day_finalised", publish.on_day_finalised)
    scheduler.add_interval(DELIVERY_JOB_ID, publish.run_delivery, seconds=DELIVERY_INTERVAL_SECONDS)
    return Services(
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
        linking=LinkService(
            db=db,
            cipher=cipher,
            providers=providers,
            clock=clock,
            public_base_url=settings.public_base_url,
            messenger=messenger,
            tokens=tokens,
        ),
        privacy=PrivacyService(
            db=db, cipher=cipher, providers=providers, clock=clock, events=events, tokens=tokens
        ),
        challenges=challenges,
        daily_run=daily_run,
        publish=publish,
    )
