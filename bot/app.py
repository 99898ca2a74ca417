"""Assembles Stride: database, HTTP session, providers, sync workers, web server, scheduler and
Discord client.

`StrideApp` is what production (`stride run`) and the end-to-end harness both start, so the
harness exercises exactly the production wiring.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import Iterable

import aiohttp
import discord

from bot.clock import Clock, SystemClock
from bot.discord_bot import StrideBot, stride_bot
from bot.discord_start import Sleep, start_discord
from bot.instance import InstanceName
from bot.providers.sandbox import SandboxProvider
from bot.services import Services, build_services
from bot.settings import Settings
from bot.storage import Database, open_database
from bot.web.app import RouteInstaller
from bot.web.listeners import WebListeners, web_listeners
from bot.web.oauth import oauth_routes
from bot.web.sandbox import add_sandbox_routes
from bot.web.share import share_routes
from bot.web.uploads import UploadRateLimit, upload_routes
from bot.web.webhooks import webhook_routes

log = logging.getLogger(__name__)

# How long `stop()` lets work in flight (a daily run in the middle of a post) finish before it
# cancels it; a cancelled post is reconciled at the next start (`bot.daily`).
STOP_GRACE_SECONDS = 30.0
START_UP_JOB_ID = "daily-run-start-up"
PUSH_START_UP_JOB_ID = "push-subscriptions-start-up"


def stop_on_signals() -> asyncio.Event:
    """An event SIGINT or SIGTERM sets: what `run()` waits for to stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


def http_session(settings: Settings) -> aiohttp.ClientSession:
    # The daily run fetches many users at once; the connector must allow that concurrency.
    connector = aiohttp.TCPConnector(limit=settings.fetch_concurrency, ttl_dns_cache=300)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=60, connect=10),
        headers={"User-Agent": "Stride (+https://github.com/stride-bot)"},
        raise_for_status=False,
    )


def route_installers(services: Services) -> Iterable[RouteInstaller]:
    """The public web routes beyond /healthz (OAuth callbacks, webhooks, share pages)."""
    installers: list[RouteInstaller] = [
        oauth_routes(services.linking),
        # Provider notifications go into the sync queue (the routes of configured pushes).
        webhook_routes(services.settings, services.sync, clock=services.clock),
        # The read-only live leaderboard pages admins share (`/challenge share`).
        share_routes(
            links=services.shares,
            challenges=services.challenges,
            standings=services.standings,
            clock=services.clock,
        ),
    ]
    sandbox = services.providers.get("sandbox")
    if isinstance(sandbox, SandboxProvider):
        installers.append(functools.partial(add_sandbox_routes, provider=sandbox))
    if services.apple_health is not None:
        # Members' iPhones post their Health data here (`/link apple_health`).
        config = services.settings.apple_health
        limit = UploadRateLimit(
            services.clock, per_hour=config.uploads_per_hour, burst=config.upload_burst
        )
        installers.append(
            upload_routes(services.apple_health, limit, max_bytes=config.max_upload_bytes)
        )
    return installers


class StrideApp:
    """Owns every long-lived resource; `start()` then `stop()`, or `run()` until a signal."""

    def __init__(
        self, settings: Settings, *, clock: Clock | None = None, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self._sleep = sleep  # between attempts to reach Discord at start (tests: no waiting)
        self._stack = contextlib.AsyncExitStack()
        self.services: Services | None = None
        self.bot: StrideBot | None = None
        self.web: WebListeners | None = None
        self._bot_task: asyncio.Task[None] | None = None
        # Schedules every active challenge and catches up on missed days once Discord is
        # ready; the e2e harness may await it.
        self.start_up_task: asyncio.Task[None] | None = None
        # Creates or renews the providers' push subscriptions once the web server answers.
        self.push_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.settings.discord_token is None:
            raise RuntimeError("DISCORD_TOKEN is not set")
        try:
            db = await open_database(self.settings)
            self._stack.push_async_callback(db.close)
            # Migrate before serving /healthz; setup_hook's migrate is then a no-op.
            await db.migrate()
            # One live process per name (`bot.instance`): taken before any work, given back
            # last at a clean stop.
            instance = await hold_name(self.settings, db, self.clock, self._sleep)
            self._stack.push_async_callback(instance.release)
            http = http_session(self.settings)
            self._stack.push_async_callback(http.close)
            services = build_services(self.settings, db, http, self.clock, instance=instance)
            self.services = services
            self._stack.push_async_callback(services.scheduler.shutdown)
            self._stack.push_async_callback(services.daily_run.aclose)
            # The sync workers need no Discord client: they start now, and stop after the web
            # server (no more notifications) and before the HTTP session and the database.
            await services.sync.start()
            self._stack.push_async_callback(services.sync.aclose)
            self.web = web_listeners(
                self.settings,
                db=db,
                metrics=services.metrics,
                installers=route_installers(services),
            )
            self._stack.push_async_callback(self.web.stop)  # also after a failed start
            await self.web.start()
            self.bot = stride_bot(services)  # sharded when SHARD_COUNT is set
            self._stack.push_async_callback(self.bot.close)
            token = self.settings.discord_token.get_secret_value()
            self._bot_task = asyncio.create_task(
                start_discord(self.bot, token, sleep=self._sleep), name="discord-client"
            )
            self.start_up_task = asyncio.create_task(
                self._start_daily_run(self.bot, services), name="daily-run-start-up"
            )
            # Oura verifies the callback while its create request is open: the web server
            # answers by now. A tracked run, so stop() waits for it.
            self.push_task = asyncio.create_task(
                services.scheduler.run_once(
                    PUSH_START_UP_JOB_ID, functools.partial(_reconcile_push, services)
                ),
                name="push-subscriptions",
            )
        except BaseException:
            await self._stack.aclose()
            raise

    @staticmethod
    async def _start_daily_run(bot: StrideBot, services: Services) -> None:
        await bot.wait_until_ready()  # the catch-up posts need a connected client

        async def catch_up() -> None:
            report = await services.daily_run.start()
            log.info("start-up catch-up done: %d post(s)", len(report.posts))

        # A tracked run: `stop()` lets it finish its post instead of cutting it short; its
        # failure is logged with a code.
        await services.scheduler.run_once(START_UP_JOB_ID, catch_up)

    async def wait_until_ready(self) -> None:
        if self.bot is None or self._bot_task is None:
            raise RuntimeError("start() first")
        ready = asyncio.create_task(self.bot.wait_until_ready())
        done, _ = await asyncio.wait({ready, self._bot_task}, return_when=asyncio.FIRST_COMPLETED)
        if self._bot_task in done:
            ready.cancel()
            self._bot_task.result()  # re-raise why the client stopped
            raise RuntimeError("the Discord client stopped before it was ready")

    async def stop(self) -> None:
        """Stop in order: no new jobs; the work in flight finishes (within a grace period),
        so a post being sent is also recorded; then Discord, web, HTTP and the database."""
        await self._finish_work(STOP_GRACE_SECONDS)
        if self._bot_task is not None and self.bot is not None and self.bot.user is None:
            self._bot_task.cancel()  # still trying to log in (maybe waiting to retry)
        if self.bot is not None and not self.bot.is_closed():
            await self.bot.close()
        if self._bot_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(self._bot_task, return_exceptions=True)
        await self._stack.aclose()

    async def _finish_work(self, grace_seconds: float) -> None:
        """Start no new job, and wait for the daily runs and results posts in flight."""
        if self.services is not None:
            # Also waits for the start-up catch-up once it has begun (a tracked run).
            await self.services.scheduler.shutdown(grace_seconds=grace_seconds)
        for task in (self.start_up_task, self.push_task):
            if task is not None and not task.done():
                # Not started as a tracked run yet (waiting for Discord): nothing was sent.
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self.services is not None:
            # Results posts of challenges ended early run in tasks of their own.
            background = asyncio.create_task(self.services.daily_run.wait_background())
            _done, pending = await asyncio.wait({background}, timeout=grace_seconds)
            for task in pending:
                task.cancel()  # `daily_run.aclose` (in the stack) cancels what is left
            await asyncio.gather(background, return_exceptions=True)

    async def run(self) -> int:
        """Run until SIGINT/SIGTERM or until the Discord client stops; 0 on a clean stop."""
        stop = stop_on_signals()
        await self.start()
        if self._bot_task is None:  # pragma: no cover - start() sets it or raises
            raise RuntimeError("the Discord client did not start")
        waiter = asyncio.create_task(stop.wait())
        lost = asyncio.create_task(name_lost(self.services))
        try:
            await asyncio.wait({waiter, lost, self._bot_task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            lost.cancel()
            crashed = (
                self._bot_task.done()
                and not self._bot_task.cancelled()
                and (self._bot_task.exception() is not None)
            )
            refused = crashed and isinstance(self._bot_task.exception(), discord.LoginFailure)
            if crashed and not refused:
                log.error("the Discord client stopped", exc_info=self._bot_task.exception())
            log.info("shutting down")
            await self.stop()
        if refused:  # the caller says it in one line: a traceback would add nothing
            raise discord.LoginFailure("Discord refused DISCORD_TOKEN")
        return 1 if crashed or (lost.done() and not lost.cancelled()) else 0


async def hold_name(settings: Settings, db: Database, clock: Clock, sleep: Sleep) -> InstanceName:
    """This process's name, held (`bot.instance.NameInUse` when another process has it)."""
    instance = InstanceName(db, settings.process_name, clock, sleep=sleep)
    await instance.take()
    return instance


async def name_lost(services: Services | None) -> None:
    """Returns when another process took this process's name over (never without one)."""
    if services is None or services.instance is None:
        await asyncio.Event().wait()
        return
    await services.instance.lost.wait()


async def _reconcile_push(services: Services) -> None:
    """Bring the providers' push subscriptions in step with the settings and the links."""
    for keeper in (services.oura_webhooks, services.withings_push):
        if keeper is not None:
            await keeper.reconcile()
