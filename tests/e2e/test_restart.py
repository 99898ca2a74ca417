"""Scenario 4: Stride stops mid-week and misses a day; no post goes missing or comes twice."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from bot.domain import Metric
from bot.storage.runs import RunKind
from tests.e2e.conftest import Stride
from tests.e2e.posts import EN_DASH, Kind, expected_rows, ranks_of, read_post

pytestmark = pytest.mark.e2e

MONDAY = dt.date(2026, 11, 23)
WEEK = tuple(MONDAY + dt.timedelta(days=offset) for offset in range(5))
MON, TUE, WED, THU, FRI = WEEK
NAME = "Hustle"

# Withings and Oura rotate refresh tokens: a restart must carry on with the latest ones.
PROVIDERS = {"Alice": "google_health", "Bob": "withings", "Cleo": "oura"}
STEPS = {
    "Alice": (12_000, 8_000, 15_000, 11_000, 13_000),
    "Bob": (9_000, 14_000, 10_000, 16_000, 9_500),
    "Cleo": (11_000, 11_500, 12_500, 9_000, 20_000),
}
VALUES = {name: dict(zip(WEEK, steps, strict=True)) for name, steps in STEPS.items()}


def post_time(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(9, 5), tzinfo=dt.UTC)


async def test_downtime_gives_one_catch_up_post_and_no_day_twice(stride: Stride) -> None:
    await stride.create_challenge(NAME, preset="workweek_hustle")
    for name, provider in PROVIDERS.items():
        member = await stride.member(name)
        standin = stride.providers.by_name[provider]
        provider_user = standin.add_user()
        for day, value in VALUES[name].items():
            standin.set_daily(provider_user, day, Metric.STEPS, value)
        await stride.link(member, provider, provider_user)
        await stride.join(member, NAME)

    for day in (MON, TUE):
        report = await stride.run_at(post_time(day))
        assert list(report.post_kinds.values()) == [RunKind.DAILY]
    tuesday = read_post(stride.channel_posts()[-1], challenge=NAME, year=2026)
    assert tuesday.days == (TUE,)

    # Restarted right after Wednesday's 09:05 post, the one about Tuesday (a deploy): the
    # start-up run has nothing left to do, so Tuesday is not posted again.
    await stride.restart()
    assert len(stride.channel_posts()) == 2

    # Down again from Wednesday morning to Friday 09:05, so the posts about Wednesday (due
    # Thursday 09:00) and Thursday (due Friday 09:00) were never made: one catch-up post at
    # start-up covers both.
    await stride.restart(at=post_time(THU))
    catch_up = read_post(stride.channel_posts()[-1], challenge=NAME, year=2026)
    assert catch_up.kind is Kind.CATCH_UP
    assert catch_up.days == (WED, THU)
    assert catch_up.has_png_chart
    assert catch_up.rows == expected_rows(
        VALUES, start=MON, through=THU, previous=ranks_of(tuesday.rows), with_day=False
    )
    assert [(r.name, r.change) for r in catch_up.rows] == [
        ("Bob", EN_DASH),
        ("Alice", "▲1"),
        ("Cleo", "▼1"),
    ]
    assert catch_up.field_lines("Wed 25 Nov") == [
        "🥇 Alice 15,000 steps",
        "🥈 Cleo 12,500 steps",
        "🥉 Bob 10,000 steps",
    ]
    assert catch_up.field_lines("Thu 26 Nov")[0] == "🥇 Bob 16,000 steps"

    # The scheduler's own 09:00 job, fired late after the start: nothing more to post.
    again = await stride.rerun_daily_jobs()
    assert again.posts == {} and again.days_scored == {}

    friday = await stride.run_at(post_time(FRI))
    assert list(friday.post_kinds.values()) == [RunKind.DAILY]
    last = read_post(stride.channel_posts()[-1], challenge=NAME, year=2026)
    assert last.days == (FRI,)
    assert last.rows == expected_rows(
        VALUES, start=MON, through=FRI, previous=ranks_of(catch_up.rows)
    )
    results = await stride.run_at(dt.datetime(2026, 11, 29, 9, 5, tzinfo=dt.UTC))
    assert list(results.post_kinds.values()) == [RunKind.RESULTS]
    final = read_post(stride.channel_posts()[-1], challenge=NAME, year=2026)
    assert final.podium[0] == ("🥇", "Cleo", 64_000)

    every = [read_post(m, challenge=NAME, year=2026) for m in stride.channel_posts()]
    assert Counter(post.kind for post in every) == {
        Kind.DAILY: 3,
        Kind.CATCH_UP: 1,
        Kind.RESULTS: 1,
    }
    covered = [day for post in every for day in post.days]
    assert covered == list(WEEK), "every challenge day is reported exactly once, in order"
