"""The object graph: every shared resource and service, built in one place (`build_services`).

`Services` is an immutable record: the cogs reach it through `bot.services`, and nothing is
assigned to it after `build_services` returns. The `Messenger` in it exists before any
Discord client; the client attaches itself to it when it connects (`bot.discord_bot`).
Production (`bot.app.StrideApp`), `stride demo`, the benchmark and the tests all build the
graph with `build_services`, so none of them runs a graph that production never has.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from bot import reminders as reminder_jobs
from bot.challenges.service import ChallengeService
from bot.clock import Clock
from bot.crypto import TokenCipher, cipher_from_settings
from bot.daily import DailyRunner, StandingsReader
from bot.daily.adjust import AdjustmentService
from bot.daily.recap import RecapService
from bot.events import EventBus
from bot.instance import InstanceName
from bot.linking import LinkService, TokenManager
from bot.metrics import Metrics
from bot.notify import Messenger
from bot.nudges import NudgePolicy, NudgeService
from bot.privacy import PrivacyService
from bot.providers import apple_health, oura_webhooks, withings_subscriptions
from bot.providers.apple_health import AppleHealthUploads
from bot.providers.base import Provider
from bot.providers.oura_webhooks import OuraWebhooks
from bot.providers.push import oura_webhook_url, push_configured, withings_webhook_url
from bot.providers.registry import AppRateLimits, app_rate_limits, build_providers
from bot.providers.withings_notify import WithingsNotifyClient, callback_secret
from bot.providers.withings_subscriptions import WithingsSubscriptions
from bot.publish.service import (
    DELIVERY_INTERVAL_SECONDS,
    DELIVERY_JOB_ID,
    PublishService,
    create_publish_service,
)
from bot.reminders import ReminderService
from bot.scheduling import JobScheduler
from bot.settings import Settings
from bot.storage import Database
from bot.storage.accounts import AccountsRepo
from bot.storage.claims import ClaimsRepo
from bot.storage.push import PushStateRepo
from bot.sync.member import MemberSync
from bot.sync.poll import POLL_JOB_ID, SLICE_SECONDS, Poller
from bot.sync.queue import SyncQueue
from bot.web.share import ShareLinks


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
    # This process's share of each per-application rate limit, for every client of the app.
    rate_limits: AppRateLimits
    events: EventBus
    messenger: Messenger
    tokens: TokenManager
    linking: LinkService
    privacy: PrivacyService
    challenges: ChallengeService
    standings: StandingsReader
    daily_run: DailyRunner
    publish: PublishService
    sync: SyncQueue  # the `SyncRequests` the webhook routes feed
    poller: Poller
    member_sync: MemberSync
    shares: ShareLinks
    nudges: NudgeService
    reminders: ReminderService  # opt-in reminder DMs (`/remind`)
    recaps: RecapService  # weekly recaps and the "weekly only" mode
    adjustments: AdjustmentService  # corrections by admins (`/challenge adjust`)
    # The provider subscriptions Stride keeps itself; None when that push is not configured.
    withings_push: WithingsSubscriptions | None
    oura_webhooks: OuraWebhooks | None
    # Apple Health uploads from members' iPhones; None when Apple Health is not enabled.
    apple_health: AppleHealthUploads | None
    # This process's hold on its name (`bot.instance`), taken before the services are built;
    # None for a graph that never shares its database (tests, the demo, the benchmark).
    instance: InstanceName | None = None


def build_services(
    settings: Settings,
    db: Database,
    http: aiohttp.ClientSession,
    clock: Clock,
    *,
    providers: Mapping[str, Provider] | None = None,
    cipher: TokenCipher | None = None,
    instance: InstanceName | None = None,
) -> Services:
    """Build the whole graph and wire its event handlers and background jobs. `providers`
    and `cipher` default to what the settings configure; the demo and tests pass their own.
    `instance`: the name this process holds (its work claims are taken only while it does)."""
    cipher = cipher if cipher is not None else _configured_cipher(settings)
    rate_limits = app_rate_limits(settings)
    if providers is None:
        providers = build_providers(settings, http, clock, limits=rate_limits)
    scheduler, metrics, events, messenger = JobScheduler(), Metrics(), EventBus(), Messenger()
    claims = ClaimsRepo(db, settings.process_name, guard=instance)  # while it holds its name
    tokens, linking, privacy = _account_services(
        settings, db, cipher, providers, clock, messenger, events
    )
    challenges = ChallengeService(db, clock, events, AccountsRepo(db, cipher))
    standings = StandingsReader(db=db, clock=clock, challenges=challenges)
    reminders, recaps, adjustments = _engagement(db, clock, challenges, standings, messenger)
    daily_run = _daily_run(
        settings, db, clock, challenges, standings, tokens, providers, events, messenger,
        scheduler, metrics, recaps, claims,
    )  # fmt: skip
    sync, poller, member_sync = _sync_services(
        settings, db, clock, challenges, providers, tokens, events, metrics
    )
    services = Services(
        settings=settings, db=db, http=http, clock=clock, scheduler=scheduler, cipher=cipher,
        metrics=metrics, providers=providers, rate_limits=rate_limits,
        events=events,
        messenger=messenger,
        tokens=tokens,
        linking=linking,
        privacy=privacy,
        challenges=challenges,
        standings=standings,
        daily_run=daily_run,
        publish=create_publish_service(settings, db, http, clock, messenger, claims),
        sync=sync,
        poller=poller,
        member_sync=member_sync,
        shares=ShareLinks(db=db, clock=clock, public_base_url=settings.public_base_url),
        nudges=_nudges(settings, db, clock, challenges, standings, messenger),
        reminders=reminders, recaps=recaps, adjustments=adjustments,
        withings_push=_withings_push(settings, db, http, clock, cipher, tokens, rate_limits),
        oura_webhooks=_oura_webhooks(settings, http, clock),
        apple_health=_apple_health(
            settings, db, cipher, clock, providers, messenger, challenges, events
        ),
        instance=instance,
    )  # fmt: skip
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
        events=events,
    )
    privacy = PrivacyService(
        db=db, cipher=cipher, providers=providers, clock=clock, events=events, tokens=tokens
    )
    return tokens, linking, privacy


def _sync_services(
    settings: Settings,
    db: Database,
    clock: Clock,
    challenges: ChallengeService,
    providers: Mapping[str, Provider],
    tokens: TokenManager,
    events: EventBus,
    metrics: Metrics,
) -> tuple[SyncQueue, Poller, MemberSync]:
    """The live sync: the queue and its workers, the intraday poller, and /sync."""
    sync = SyncQueue(
        db=db,
        clock=clock,
        challenges=challenges,
        providers=providers,
        call_with_token=tokens.call_with_token,
        concurrency=settings.fetch_concurrency,
        owner=settings.process_name,  # its leases under this process's name, as its claims
        events=events,
        metrics=metrics,
    )
    poller = Poller(
        db=db,
        clock=clock,
        challenges=challenges,
        providers=providers,
        queue=sync,
        interval_minutes=settings.poll_minutes,
    )
    member_sync = MemberSync(
        db=db,
        clock=clock,
        queue=sync,
        providers=providers,
        cooldown=dt.timedelta(minutes=settings.sync_cooldown_minutes),
    )
    return sync, poller, member_sync


def _daily_run(
    settings: Settings,
    db: Database,
    clock: Clock,
    challenges: ChallengeService,
    standings: StandingsReader,
    tokens: TokenManager,
    providers: Mapping[str, Provider],
    events: EventBus,
    messenger: Messenger,
    scheduler: JobScheduler,
    metrics: Metrics,
    recaps: RecapService,
    claims: ClaimsRepo,
) -> DailyRunner:
    return DailyRunner(
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
        recaps=recaps,
        # Several processes on one database: this one's shards, its claims under its name.
        shards=settings.shards,
        claims=claims,
    )


def _engagement(
    db: Database,
    clock: Clock,
    challenges: ChallengeService,
    standings: StandingsReader,
    messenger: Messenger,
) -> tuple[ReminderService, RecapService, AdjustmentService]:
    """What keeps a group playing: reminders, weekly recaps, corrections by admins."""
    return (
        ReminderService(db=db, clock=clock, standings=standings, messenger=messenger),
        RecapService(
            db=db, clock=clock, challenges=challenges, standings=standings, messenger=messenger
        ),
        AdjustmentService(
            db=db, clock=clock, challenges=challenges, standings=standings, messenger=messenger
        ),
    )


def _nudges(
    settings: Settings,
    db: Database,
    clock: Clock,
    challenges: ChallengeService,
    standings: StandingsReader,
    messenger: Messenger,
) -> NudgeService:
    return NudgeService(
        db=db,
        clock=clock,
        challenges=challenges,
        standings=standings,
        messenger=messenger,
        policy=NudgePolicy.from_settings(settings),
    )


def _withings_push(
    settings: Settings,
    db: Database,
    http: aiohttp.ClientSession,
    clock: Clock,
    cipher: TokenCipher,
    tokens: TokenManager,
    rate_limits: AppRateLimits,
) -> WithingsSubscriptions | None:
    """Withings notifications: each linked account subscribed to our secret callback URL."""
    if not push_configured(settings, "withings"):
        return None
    secret = callback_secret(settings.withings, settings.database_path).get_secret_value()
    client = WithingsNotifyClient(
        settings.withings,
        http,
        clock,
        callback_url=withings_webhook_url(settings.public_base_url, secret),
        limiter=rate_limits.withings,  # the provider's: one application, one limit
    )
    return WithingsSubscriptions(
        client=client,
        tokens=tokens,
        accounts=AccountsRepo(db, cipher),
        state=PushStateRepo(db, "withings"),
    )


def _apple_health(
    settings: Settings,
    db: Database,
    cipher: TokenCipher,
    clock: Clock,
    providers: Mapping[str, Provider],
    messenger: Messenger,
    challenges: ChallengeService,
    events: EventBus,
) -> AppleHealthUploads | None:
    """Apple Health's links and uploads, when the provider is enabled."""
    if apple_health.NAME not in providers:
        return None
    return AppleHealthUploads(
        db=db,
        cipher=cipher,
        clock=clock,
        public_base_url=settings.public_base_url,
        messenger=messenger,
        challenges=challenges,
        events=events,
    )


def _oura_webhooks(
    settings: Settings, http: aiohttp.ClientSession, clock: Clock
) -> OuraWebhooks | None:
    """Oura's app subscriptions: built whenever Oura is enabled, so that turning its push off
    deletes the subscriptions made before."""
    if not settings.oura.enabled:
        return None
    return OuraWebhooks(
        settings.oura, http, clock, callback_url=oura_webhook_url(settings.public_base_url)
    )


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
    # Every minute, the accounts whose polling turn it is go into the sync queue.
    services.scheduler.add_interval(POLL_JOB_ID, services.poller.run, seconds=SLICE_SECONDS)
    # Every minute, the reminders whose local time has come ("3,200 steps to go").
    services.scheduler.add_interval(
        reminder_jobs.JOB_ID, services.reminders.run, seconds=reminder_jobs.JOB_SECONDS
    )
    # A member's newly stored values may make a nudge due ("Ana just passed you").
    services.events.on("member_synced", services.nudges.after_sync)
    # The provider subscriptions are kept in step with the links and the settings.
    if services.withings_push is not None:
        services.withings_push.subscribe(services.events)
        services.scheduler.add_interval(
            withings_subscriptions.JOB_ID,
            services.withings_push.reconcile,
            seconds=withings_subscriptions.JOB_INTERVAL_SECONDS,
        )
    if services.oura_webhooks is not None:
        services.scheduler.add_interval(
            oura_webhooks.JOB_ID,
            services.oura_webhooks.reconcile,
            seconds=oura_webhooks.JOB_INTERVAL_SECONDS,
        )
