"""APScheduler wiring: named async jobs whose runs are tracked so shutdown can be clean.

Jobs decide what to do from the injected clock and the database (run records), not from
when they happen to fire. So a job fired late, twice, or by hand (`run_now`, as the e2e
harness and the demo do after moving a fake clock) does the right thing.

`shutdown` first stops every new run (fired by APScheduler, by hand or `run_once`), then lets
the runs in flight finish, within a grace period: a daily run stopped in the middle of a post
would leave the post sent but not recorded.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]

_INTERVAL_ANCHOR = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


class JobScheduler:
    def __init__(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone=dt.UTC)
        self._jobs: dict[str, Job] = {}
        # Kept here too: APScheduler drops a one-shot job once it fired, and `due_between`
        # still answers for it on a clock moved by hand.
        self._triggers: dict[str, BaseTrigger] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._stopping = False

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def add_daily(self, job_id: str, job: Job, *, at: dt.time, tz: ZoneInfo) -> None:
        """Run `job` every day at `at` in `tz` (DST-aware); replaces a job of the same id."""
        trigger = CronTrigger(hour=at.hour, minute=at.minute, timezone=tz)
        self._add(job_id, job, trigger)

    def add_interval(self, job_id: str, job: Job, *, seconds: float) -> None:
        # Anchored to a fixed instant, not to "now": the fire times are the same whenever the
        # job is added (every hour on the hour, say), so `due_between` also works on a clock
        # that tests and the demo move by hand.
        trigger = IntervalTrigger(seconds=seconds, start_date=_INTERVAL_ANCHOR, timezone=dt.UTC)
        self._add(job_id, job, trigger)

    def add_at(self, job_id: str, job: Job, *, at: dt.datetime) -> None:
        """Run `job` once, at the aware instant `at` (at once if it has passed); replaces a
        job of the same id. Adding it again for the same instant changes nothing: a job that
        re-arms itself after it ran is not run twice for one instant."""
        if at.tzinfo is None:
            raise ValueError("add_at needs an aware datetime")
        current = self._triggers.get(job_id)
        if isinstance(current, DateTrigger) and current.run_date == at:
            return
        self._add(job_id, job, DateTrigger(run_date=at, timezone=dt.UTC))

    def _add(self, job_id: str, job: Job, trigger: BaseTrigger) -> None:
        self._jobs[job_id] = job
        self._triggers[job_id] = trigger
        if self._scheduler.get_job(job_id) is not None:
            # Before the scheduler starts, `replace_existing` only queues a second job of the
            # same id (and the first one queued is the one that stays): drop the old one.
            self._scheduler.remove_job(job_id)
        self._scheduler.add_job(
            self._tracked,
            trigger=trigger,
            args=[job_id],
            id=job_id,
            replace_existing=True,
            coalesce=True,  # after downtime, fire once; the job itself catches up on missed days
            max_instances=1,
            misfire_grace_time=None,
        )

    def remove(self, job_id: str) -> None:
        self._jobs.pop(job_id, None)
        self._triggers.pop(job_id, None)
        if self._scheduler.get_job(job_id) is not None:
            self._scheduler.remove_job(job_id)

    def job_ids(self) -> list[str]:
        return sorted(self._jobs)

    def next_run_time(self, job_id: str) -> dt.datetime | None:
        job = self._scheduler.get_job(job_id)
        return None if job is None else job.next_run_time

    def due_between(self, since: dt.datetime, until: dt.datetime) -> list[str]:
        """Jobs whose trigger would have fired in (since, until], first-due first.

        With `coalesce=True` each fires once however many times it was due: this is what the
        e2e harness and the demo run after moving a fake clock.
        """
        due: list[tuple[dt.datetime, str]] = []
        for job_id, trigger in self._triggers.items():
            first = trigger.get_next_fire_time(None, since + dt.timedelta(microseconds=1))
            # A one-shot job answers its instant whatever the time: only one inside counts.
            if first is not None and since < first <= until:
                due.append((first, job_id))
        return [job_id for _first, job_id in sorted(due)]

    async def fire_due(self, since: dt.datetime, until: dt.datetime) -> list[str]:
        """Run, in order, every job that would have fired in (since, until]; returns their ids."""
        fired = self.due_between(since, until)
        for job_id in fired:
            await self._tracked(job_id)
        return fired

    async def run_now(self, job_id: str) -> None:
        """Run a registered job at once and wait for it (the harness and the demo use this)."""
        await self._tracked(job_id)

    async def run_once(self, job_id: str, job: Job) -> None:
        """Run `job` now, once, as a tracked run that `shutdown` waits for (the start-up
        catch-up); it is not registered, and nothing runs once shutdown has begun."""
        await self._run(job_id, job)

    async def _tracked(self, job_id: str) -> None:
        job = self._jobs.get(job_id)
        if job is not None:
            await self._run(job_id, job)

    async def _run(self, job_id: str, job: Job) -> None:
        if self._stopping:
            log.info("job %s not started: shutting down", job_id)
            return
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await job()
        except asyncio.CancelledError:
            log.warning("job %s was cancelled", job_id)
            raise
        except Exception:
            code = secrets.token_hex(2).upper()
            log.exception("job %s failed (code %s)", job_id, code)
        finally:
            if task is not None:
                self._running.discard(task)

    def start(self) -> None:
        """Start firing jobs; a scheduler that was shut down stays shut down."""
        if not self._stopping and not self._scheduler.running:
            self._scheduler.start()

    async def shutdown(self, grace_seconds: float = 30.0) -> None:
        """Start no new runs, let in-flight ones finish for `grace_seconds`, then cancel them."""
        self._stopping = True
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        running = [task for task in self._running if task is not asyncio.current_task()]
        if not running:
            return
        log.info("waiting for %d running job(s) to finish", len(running))
        _done, pending = await asyncio.wait(running, timeout=grace_seconds)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
