"""APScheduler wiring: named async jobs whose runs are tracked so shutdown can be clean.

Jobs decide what to do from the injected clock and the database (run records), not from
when they happen to fire. So a job fired late, twice, or by hand (`run_now`, as the e2e
harness and the demo do after moving a fake clock) does the right thing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]

_INTERVAL_ANCHOR = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


class JobScheduler:
    def __init__(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone=dt.UTC)
        self._jobs: dict[str, Job] = {}
        self._running: set[asyncio.Task[None]] = set()

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

    def _add(self, job_id: str, job: Job, trigger: CronTrigger | IntervalTrigger) -> None:
        self._jobs[job_id] = job
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
        for job_id in self._jobs:
            job = self._scheduler.get_job(job_id)
            if job is None:
                continue
            first = job.trigger.get_next_fire_time(None, since + dt.timedelta(microseconds=1))
            if first is not None and first <= until:
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

    async def _tracked(self, job_id: str) -> None:
        job = self._jobs.get(job_id)
        if job is None:
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
        if not self._scheduler.running:
            self._scheduler.start()

    async def shutdown(self, grace_seconds: float = 30.0) -> None:
        """Stop firing new runs, let in-flight ones finish for `grace_seconds`, then cancel them."""
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
