"""The processes of a larger deployment: `stride web` and `stride worker` (`RoleApp`).

`stride run` (`bot.app.StrideApp`) stays the all-in-one process: the Discord client, the
web server, the scheduler and the queues. A larger deployment splits them:

- `web` serves the OAuth callbacks, the provider webhooks, the share pages, `/healthz` and
  `/metrics`, and nothing else: no Discord gateway, no scheduler, no queue workers. Every
  piece of state is in the database (a webhook's notification is a `sync_queue` row, a
  link's state a row), so any number of them can stand behind a load balancer. It DMs
  ("Linked ✓") through Discord's REST API only (`bot.discord_bot.rest_transport`).
- `worker` runs the background queues: the sync queue's workers, the intraday poller, the
  publish outbox, the push subscriptions and the daily run with its posts (over REST), for
  the guilds of its shards when `SHARD_IDS` is set. It serves no web routes. Because no
  interaction reaches it, it picks up challenges created or edited elsewhere every
  `RESCHEDULE_SECONDS`.

Several of each may run over one database: what must happen once is claimed there
(`bot.storage.claims`, `bot.sync.queue`'s leases). A worker first holds its name
(`bot.instance`: no two live workers with one name); web processes take no claims, so any
number of copies may share one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from enum import StrEnum

import discord

from bot.app import (
    PUSH_START_UP_JOB_ID,
    START_UP_JOB_ID,
    STOP_GRACE_SECONDS,
    hold_name,
    http_session,
    name_lost,
    route_installers,
    stop_on_signals,
)
from bot.clock import Clock, SystemClock
from bot.discord_bot import rest_transport
from bot.discord_start import UNREACHABLE, Sleep
from bot.instance import InstanceName
from bot.services import Services, build_services
from bot.settings import Settings
from bot.storage import open_database
from bot.web.listeners import web_listeners

log = logging.getLogger(__name__)

RESCHEDULE_JOB_ID = "daily-run-reschedule"
RESCHEDULE_SECONDS = 300


class Role(StrEnum):
    WEB = "web"
    WORKER = "worker"


class RoleApp:
    """One `stride web` or `stride worker` process: `start()` then `stop()`, or `run()`."""

    def __init__(
        self,
        settings: Settings,
        role: Role,
        *,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.role = role
        self.clock = clock or SystemClock()
        self._sleep = sleep  # between attempts to take the name or reach Discord (tests: none)
        self.services: Services | None = None
        self._stack = contextlib.AsyncExitStack()
        self.port: int | None = None  # the web role's bound port

    async def start(self) -> None:
        try:
            db = await open_database(self.settings)
            self._stack.push_async_callback(db.close)
            await db.migrate()
            instance: InstanceName | None = None
            if self.role is Role.WORKER:  # its work claims are under its name
                instance = await hold_name(self.settings, db, self.clock, self._sleep)
                self._stack.push_async_callback(instance.release)
            http = http_session(self.settings)
            self._stack.push_async_callback(http.close)
            services = build_services(self.settings, db, http, self.clock, instance=instance)
            self.services = services
            await self._connect_discord(services)
            if self.role is Role.WEB:
                await self._start_web(services)
            else:
                await self._start_worker(services)
        except BaseException:
            await self._stack.aclose()
            raise

    async def _connect_discord(self, services: Services) -> None:
        """Discord over REST only: the DMs and posts of this role, without a gateway."""
        if self.settings.discord_token is None:
            log.warning("DISCORD_TOKEN is not set: this %s process sends no messages", self.role)
            return
        token = self.settings.discord_token.get_secret_value()
        if self.role is Role.WORKER:  # its posts need Discord: wait for it, with backoff
            client, transport = await rest_transport(token, sleep=self._sleep)
        else:
            try:
                client, transport = await rest_transport(token)
            except (*UNREACHABLE, discord.HTTPException) as exc:
                # The web routes work without it; only the "Linked ✓" DMs are not sent.
                log.warning("Discord cannot be reached (%s): this web process sends no DMs", exc)
                return
        self._stack.push_async_callback(client.close)
        services.messenger.attach(transport)
        self._stack.callback(services.messenger.detach, transport)

    async def _start_web(self, services: Services) -> None:
        # Notifications are written to the sync queue (flushed at stop); workers fetch them.
        self._stack.push_async_callback(services.sync.aclose)
        web = web_listeners(
            self.settings,
            db=services.db,
            metrics=services.metrics,
            installers=route_installers(services),
        )
        self._stack.push_async_callback(web.stop)
        await web.start()
        self.port = web.port

    async def _start_worker(self, services: Services) -> None:
        scheduler = services.scheduler
        await services.sync.start()
        self._stack.push_async_callback(services.sync.aclose)
        self._stack.push_async_callback(services.daily_run.aclose)
        # First at stop: no new job, and the runs in flight finish their posts.
        self._stack.push_async_callback(scheduler.shutdown, grace_seconds=STOP_GRACE_SECONDS)
        scheduler.add_interval(
            RESCHEDULE_JOB_ID,
            functools.partial(reschedule, services),
            seconds=RESCHEDULE_SECONDS,
        )
        scheduler.start()

        async def catch_up() -> None:
            report = await services.daily_run.start()
            log.info("start-up catch-up done: %d post(s)", len(report.posts))

        await scheduler.run_once(START_UP_JOB_ID, catch_up)
        await scheduler.run_once(PUSH_START_UP_JOB_ID, functools.partial(reconcile_push, services))

    async def stop(self) -> None:
        await self._stack.aclose()

    async def run(self) -> int:
        """Run until SIGINT/SIGTERM (0) or until another process took its name over (1)."""
        stop = stop_on_signals()
        await self.start()
        log.info("stride %s running (%s)", self.role, self.settings.shards.describe())
        waiter = asyncio.create_task(stop.wait())
        lost = asyncio.create_task(name_lost(self.services))
        try:
            await asyncio.wait({waiter, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            lost.cancel()
            log.info("shutting down")
            await self.stop()
        return 1 if lost.done() and not lost.cancelled() else 0


async def reschedule(services: Services) -> None:
    """Jobs for the challenges of this process's shards, created or edited by another
    process since the last look (a job that exists is replaced by the same one)."""
    shards = services.settings.shards
    for challenge in await services.challenges.active_challenges():
        if shards.owns(challenge.guild_id):
            services.daily_run.schedule(challenge)


async def reconcile_push(services: Services) -> None:
    """Bring the providers' push subscriptions in step with the settings and the links."""
    for keeper in (services.oura_webhooks, services.withings_push):
        if keeper is not None:
            await keeper.reconcile()
