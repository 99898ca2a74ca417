"""The scheduler wrapper: daily jobs in a time zone, clean shutdown, firing what was due."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.scheduling import JobScheduler

AUCKLAND = ZoneInfo("Pacific/Auckland")


async def test_due_between_follows_local_post_time_and_dst() -> None:
    scheduler = JobScheduler()
    ran: list[str] = []

    async def job() -> None:
        ran.append("post")

    scheduler.add_daily("post", job, at=dt.time(9, 0), tz=AUCKLAND)
    # 09:00 in Auckland on 2026-11-23 (NZDT, UTC+13) is 2026-11-22 20:00 UTC.
    before = dt.datetime(2026, 11, 22, 19, 59, tzinfo=dt.UTC)
    after = dt.datetime(2026, 11, 22, 20, 0, tzinfo=dt.UTC)
    assert scheduler.due_between(before - dt.timedelta(hours=1), before) == []
    assert scheduler.due_between(before, after) == ["post"]
    # Three days of downtime still fire the job once (coalesced).
    assert await scheduler.fire_due(before, after + dt.timedelta(days=3)) == ["post"]
    assert ran == ["post"]
    # Daylight saving starts on Sunday 27 September 2026 (UTC+12 to UTC+13): 09:00 local moves
    # from 21:00 to 20:00 UTC, and each day fires exactly once.
    saturday = dt.datetime(2026, 9, 25, 21, 0, tzinfo=dt.UTC)  # 09:00 NZST
    sunday = dt.datetime(2026, 9, 26, 20, 0, tzinfo=dt.UTC)  # 09:00 NZDT
    for fire in (saturday, sunday):
        assert scheduler.due_between(fire - dt.timedelta(minutes=1), fire) == ["post"]
        assert scheduler.due_between(fire, fire + dt.timedelta(hours=22)) == []


async def test_jobs_fire_in_the_order_they_fell_due() -> None:
    scheduler = JobScheduler()
    order: list[str] = []

    def recorder(name: str):  # type: ignore[no-untyped-def]
        async def job() -> None:
            order.append(name)

        return job

    scheduler.add_daily("late", recorder("late"), at=dt.time(18, 0), tz=ZoneInfo("UTC"))
    scheduler.add_daily("early", recorder("early"), at=dt.time(6, 0), tz=ZoneInfo("UTC"))
    since = dt.datetime(2026, 11, 23, 0, 0, tzinfo=dt.UTC)
    await scheduler.fire_due(since, since + dt.timedelta(hours=20))
    assert order == ["early", "late"]


async def test_shutdown_lets_a_running_job_finish() -> None:
    scheduler = JobScheduler()
    started, release, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def job() -> None:
        started.set()
        await release.wait()
        finished.set()

    scheduler.add_interval("work", job, seconds=3600)
    running = asyncio.create_task(scheduler.run_now("work"))
    await started.wait()
    stopping = asyncio.create_task(scheduler.shutdown(grace_seconds=5))
    release.set()
    await stopping
    assert finished.is_set()
    await running


async def test_shutdown_cancels_a_job_that_outlives_the_grace_period() -> None:
    scheduler = JobScheduler()
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def job() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    scheduler.add_interval("stuck", job, seconds=3600)
    running = asyncio.create_task(scheduler.run_now("stuck"))
    await started.wait()
    await scheduler.shutdown(grace_seconds=0.01)
    assert cancelled.is_set()
    assert running.cancelled() or running.done()


async def test_interval_jobs_fire_on_a_clock_moved_by_hand() -> None:
    scheduler = JobScheduler()
    ran: list[str] = []

    async def job() -> None:
        ran.append("sweep")

    scheduler.add_interval("sweep", job, seconds=3600)
    # Far from the real "now": fire times are anchored, so this still finds the job due.
    since = dt.datetime(2031, 3, 4, 10, 30, tzinfo=dt.UTC)
    assert scheduler.due_between(since, since + dt.timedelta(minutes=29)) == []
    assert await scheduler.fire_due(since, since + dt.timedelta(minutes=31)) == ["sweep"]
    assert ran == ["sweep"]


async def test_nothing_starts_once_shutdown_has_begun() -> None:
    scheduler = JobScheduler()
    ran: list[str] = []

    async def job() -> None:
        ran.append("job")

    scheduler.add_interval("sweep", job, seconds=3600)
    await scheduler.shutdown(grace_seconds=1)
    await scheduler.run_now("sweep")
    await scheduler.run_once("catch-up", job)
    since = dt.datetime(2031, 3, 4, 10, 30, tzinfo=dt.UTC)
    assert await scheduler.fire_due(since, since + dt.timedelta(hours=2)) == ["sweep"]
    scheduler.start()  # a late `setup_hook` does not bring it back
    assert ran == []
    assert not scheduler.running


async def test_shutdown_waits_for_a_run_once_in_flight() -> None:
    scheduler = JobScheduler()
    started, release = asyncio.Event(), asyncio.Event()
    steps: list[str] = []

    async def catch_up() -> None:
        started.set()
        await release.wait()
        steps.append("posted")

    running = asyncio.create_task(scheduler.run_once("catch-up", catch_up))
    await started.wait()
    stopping = asyncio.create_task(scheduler.shutdown(grace_seconds=5))
    release.set()
    await stopping
    steps.append("stopped")
    assert steps == ["posted", "stopped"]  # shutdown returned only once the post was done
    await running


async def test_a_one_shot_job_fires_once_at_its_instant_on_a_clock_moved_by_hand() -> None:
    scheduler = JobScheduler()
    ran: list[dt.datetime] = []
    at = dt.datetime(2031, 3, 5, 18, 30, tzinfo=dt.UTC)

    async def job() -> None:
        ran.append(at)

    scheduler.add_at("final", job, at=at)
    assert scheduler.due_between(at - dt.timedelta(hours=1), at - dt.timedelta(seconds=1)) == []
    assert await scheduler.fire_due(at - dt.timedelta(minutes=1), at) == ["final"]
    # Its instant is behind: later windows never fire it again.
    assert scheduler.due_between(at, at + dt.timedelta(days=3)) == []
    assert ran == [at]


async def test_a_one_shot_job_re_armed_replaces_the_old_instant() -> None:
    scheduler = JobScheduler()
    ran: list[str] = []

    async def job() -> None:
        ran.append("final")

    first = dt.datetime(2031, 3, 5, 18, 30, tzinfo=dt.UTC)
    second = first + dt.timedelta(days=1)
    scheduler.add_at("final", job, at=first)
    scheduler.add_at("final", job, at=second)  # before the scheduler starts, too
    assert scheduler.due_between(first - dt.timedelta(minutes=1), first) == []
    assert scheduler.due_between(second - dt.timedelta(minutes=1), second) == ["final"]
    scheduler.add_at("final", job, at=second)  # the same instant again: nothing changes
    scheduler.remove("final")
    assert scheduler.due_between(first, second + dt.timedelta(days=1)) == []
    assert scheduler.job_ids() == []


def test_a_one_shot_job_needs_an_aware_instant() -> None:
    scheduler = JobScheduler()

    async def job() -> None:
        return None

    with pytest.raises(ValueError, match="aware"):
        scheduler.add_at("final", job, at=dt.datetime(2031, 3, 5, 18, 30))  # noqa: DTZ001
