"""Scenario 3: a Workweek Hustle played on five different wearables, posted day by day."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from bot.domain import Metric
from bot.providers.sandbox import synthetic_day
from bot.storage.runs import RunKind
from tests.e2e.conftest import Stride
from tests.e2e.posts import EN_DASH, Kind, Post, expected_rows, ranks_of, read_post
from tests.standins.discord.entities import User

pytestmark = pytest.mark.e2e

MONDAY = dt.date(2026, 11, 23)  # the harness clock starts on it, at 08:00 UTC
WEEK = tuple(MONDAY + dt.timedelta(days=offset) for offset in range(5))
GOAL = 10_000
NAME = "Hustle"

PROVIDERS = {
    "Alice": "google_health",
    "Bob": "withings",
    "Cleo": "oura",
    "Dev": "google_fit",
    "Eve": "sandbox",
}
# Steps, Monday to Friday. Every running total stays above what the sandbox can make (under
# 27,000 a day), so Eve (sandbox) is always behind these four and their moves are as designed:
STEPS = {
    "Alice": (30_000, 60_000, 45_000, 46_000, 47_000),  # 4th on Monday, leads from Tuesday
    "Bob": (52_000, 31_000, 33_000, 34_000, 35_000),  # leads Monday, then slips to 4th
    "Cleo": (42_000, 45_000, 9_000, 54_000, 37_000),  # misses the goal on Wednesday
    "Dev": (37_000, 39_000, 40_000, 42_000, 30_000),  # level with Bob after Wednesday
}
# Finn joins on Wednesday: what his watch counted before that must not count.
FINN_STEPS = (90_000, 90_000, 1_000, 1_200, 1_400)


def post_time(day: dt.date) -> dt.datetime:
    """Five past the post time (09:00 UTC) on the day after `day`: when its post is due."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(9, 5), tzinfo=dt.UTC)


async def linked_member(stride: Stride, name: str, provider: str, steps: tuple[int, ...]) -> User:
    member = await stride.member(name)
    provider_user = None
    if provider != "sandbox":
        standin = stride.providers.by_name[provider]
        provider_user = standin.add_user()
        for day, value in zip(WEEK, steps, strict=True):
            standin.set_daily(provider_user, day, Metric.STEPS, value)
    await stride.link(member, provider, provider_user)
    return member


async def test_workweek_hustle_posts_each_day_once_and_names_the_winner(stride: Stride) -> None:
    card = await stride.create_challenge(NAME, preset="workweek_hustle", daily_goal=str(GOAL))
    assert "Mon 23 Nov 2026 to Fri 27 Nov 2026" in card.text  # Monday, before the post time

    players: dict[str, User] = {}
    for name, provider in PROVIDERS.items():
        players[name] = await linked_member(stride, name, provider, STEPS.get(name, ()))
        answer = await stride.join(players[name], NAME)
        assert "count from the start" in answer.text
    finn = await linked_member(stride, "Finn", "google_health", FINN_STEPS)

    sandbox_user = await stride.provider_user_id(players["Eve"], "sandbox")
    values: dict[str, dict[dt.date, float]] = {
        name: dict(zip(WEEK, steps, strict=True)) for name, steps in STEPS.items()
    }
    values["Eve"] = {day: synthetic_day(sandbox_user, day)[Metric.STEPS] for day in WEEK}
    joined = {"Finn": WEEK[2]}

    posts: list[Post] = []
    previous: dict[str, int] | None = None
    for day in WEEK:
        report = await stride.run_at(post_time(day))
        assert list(report.post_kinds.values()) == [RunKind.DAILY], report
        assert list(report.days_scored.values()) == [[day]]
        assert not report.fetch_failures and not report.failed_posts
        post = read_post(stride.channel_posts()[-1], challenge=NAME, year=2026)
        assert post.kind is Kind.DAILY and post.days == (day,)
        assert post.has_png_chart, f"the post of {day} has no PNG chart"
        playing = {name: v for name, v in values.items() if name in players}
        expected = expected_rows(
            playing,
            start=MONDAY,
            through=day,
            goal=GOAL,
            provisional={day},  # final 24 h after it ends, so still provisional when posted
            joined=joined,
            previous=previous,
        )
        assert post.rows == expected, f"standings of {day}"
        posts.append(post)
        previous = ranks_of(post.rows)

        # Later that day nothing is due; the job firing again (late, or by hand) posts
        # nothing more.
        later = await stride.run_at(post_time(day) + dt.timedelta(hours=6))
        assert later.posts == {}
        again = await stride.rerun_daily_jobs()
        assert again.posts == {} and again.days_scored == {}

        if day == WEEK[1]:
            # Finn joins on Wednesday, after Tuesday's post: he counts from Wednesday.
            answer = await stride.join(finn, NAME)
            assert "joined late" in answer.text
            players["Finn"] = finn
            values["Finn"] = dict(zip(WEEK, FINN_STEPS, strict=True))

    monday, tuesday, wednesday, thursday, friday = posts
    # What the design above makes happen, spelled out:
    assert monday.names[:4] == ["Bob", "Cleo", "Dev", "Alice"]
    assert all(row.change is None for row in monday.rows)  # nothing to compare with yet
    assert tuesday.row("Alice").change == "▲3" and tuesday.row("Bob").change == "▼2"
    assert tuesday.row("Alice").streak == 2 and tuesday.row("Alice").goal_met
    assert [(r.rank, r.name) for r in wednesday.rows[:3]] == [(1, "Alice"), (2, "Bob"), (2, "Dev")]
    assert wednesday.row("Finn").change == "new"
    assert wednesday.row("Finn").total == 1_000  # his 90,000-step days before joining do not count
    # Cleo's 9,000-step Wednesday is provisional in its own post, so it does not end her
    # streak there (her watch may still sync more); final by Thursday's post, it has: 1 day
    # (no 🔥 for a single day), then 🔥2 on Friday.
    cleo = [post.row("Cleo") for post in posts]
    assert [(r.goal_met, r.streak) for r in cleo] == [
        (True, 0),
        (True, 2),
        (False, 2),
        (True, 0),
        (True, 2),
    ]
    assert thursday.row("Cleo").change == "▲1" and friday.row("Dev").change == EN_DASH
    assert all(post.names[-2:] == ["Eve", "Finn"] for post in (wednesday, thursday, friday))

    # Friday becomes final 24 h after it ends (Sunday 00:00): no results before that.
    early = await stride.run_at(dt.datetime(2026, 11, 28, 23, 0, tzinfo=dt.UTC))
    assert early.posts == {}
    report = await stride.run_at(dt.datetime(2026, 11, 29, 9, 5, tzinfo=dt.UTC))
    assert list(report.post_kinds.values()) == [RunKind.RESULTS]
    results = read_post(stride.channel_posts()[-1], challenge=NAME, year=2026)
    assert results.kind is Kind.RESULTS and results.has_png_chart
    assert results.podium == (
        ("🥇", "Alice", 228_000),
        ("🥈", "Dev", 188_000),
        ("🥉", "Cleo", 187_000),
    )
    final = expected_rows(
        values, start=MONDAY, through=WEEK[-1], goal=GOAL, joined=joined, with_day=False
    )
    assert results.rows == tuple(row for row in final if row.rank > 3)
    assert [line for line in results.message.text.splitlines() if "🥇" in line] == [
        "🥇 **Alice** — 228,000 steps"
    ]

    # Nothing more once the results are out, and the channel holds one post per day plus the
    # results: no day missing, none twice.
    later = await stride.run_at(dt.datetime(2026, 12, 1, 9, 5, tzinfo=dt.UTC))
    assert later.posts == {}
    every = [read_post(m, challenge=NAME, year=2026) for m in stride.channel_posts()]
    assert Counter(post.kind for post in every) == {Kind.DAILY: 5, Kind.RESULTS: 1}
    assert [day for post in every for day in post.days] == list(WEEK)
