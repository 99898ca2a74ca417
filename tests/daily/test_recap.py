"""Weekly recaps through the daily run: posted once a week on the admins' day, after that
day's post, with the week's climbers, streak milestones, standings, teams and chart; exactly
once across a stop in the middle; and the "weekly only" mode, where the days are scored but
not posted.

The world (`tests.daily.world`): a 14-day challenge from Monday 1 June in UTC, posting at
09:00, goal 10,000 steps. Alice walks 10,000 every day; Bob 2,000 on day 1 then 15,000 a day;
Cy 5,000 a day. After day 1: Alice 1st, Cy 2nd, Bob 3rd; after day 7: Bob, Alice, Cy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from bot.challenges.model import Challenge
from bot.daily import DailyRunner
from bot.daily.adjust import AdjustmentService
from bot.daily.recap import RecapService, recap_day_due
from bot.render.chart import ChartInput
from bot.render.text import EN_DASH
from bot.storage.recaps import DailyPosts, RecapSettings, RecapsRepo
from tests.daily.world import World, day, local
from tests.doubles.messenger import Kill, Killed, Post, RecordingTransport

PNG = b"\x89PNG recap"
SUNDAY = 6


def is_recap(post: Post) -> bool:
    return any("-recap-" in f.filename for f in post.files)


def recaps_in(discord: RecordingTransport) -> list[Post]:
    return [post for post in discord.posts if is_recap(post)]


class Charts:
    """A chart renderer that keeps what it was asked to draw."""

    def __init__(self) -> None:
        self.drawn: list[ChartInput] = []

    def __call__(self, chart: ChartInput) -> bytes:
        self.drawn.append(chart)
        return PNG


def recap_service(world: World, render_chart: Callable[[ChartInput], bytes]) -> RecapService:
    return RecapService(
        db=world.db,
        clock=world.clock,
        challenges=world.challenges,
        standings=world.standings,
        messenger=world.hub,
        render_chart=render_chart,
    )


def runner_with(world: World, recaps: RecapService) -> DailyRunner:
    """A daily run over the world (a process of its own) that posts these recaps."""
    return DailyRunner(
        db=world.db,
        clock=world.clock,
        challenges=world.challenges,
        standings=world.standings,
        call_with_token=world.tokens.call_with_token,
        providers={"fake": world.provider},
        events=world.events,
        messenger=world.hub,
        concurrency=4,
        recaps=recaps,
    )


@pytest.fixture
def charts() -> Charts:
    return Charts()


@pytest.fixture
def recaps(world: World, charts: Charts) -> Callable[[], RecapService]:
    """A new recap service over the world each time (what a restart makes)."""

    def make() -> RecapService:
        return recap_service(world, charts)

    return make


@pytest.fixture
def runner(world: World, recaps: Callable[[], RecapService]) -> DailyRunner:
    """The world's daily run, with weekly recaps."""
    return runner_with(world, recaps())


async def _fortnight(world: World, *, teams: bool = False) -> Challenge:
    challenge = await world.add_challenge(days=14, goal=10_000)
    for discord_id, name, first, rest in (
        (1, "Alice", 10_000, 10_000),
        (2, "Bob", 2_000, 15_000),
        (3, "Cy", 5_000, 5_000),
    ):
        user = await world.add_player(challenge, discord_id, name)
        for n in range(1, 15):
            world.provider.set(user, day(n), first if n == 1 else rest)
    if teams:
        await world.challenges.assign_team(1, challenge.name, 1, "Red")
        await world.challenges.assign_team(1, challenge.name, 2, "Red")
        await world.challenges.assign_team(1, challenge.name, 3, "Blue")
    return challenge


async def _run_days(runner: DailyRunner, world: World, last: int, *, first: int = 2) -> None:
    """The daily run at every post time from day `first` to day `last`."""
    for n in range(first, last + 1):
        world.clock.set(local(day(n), 9))
        await runner.run_due()


async def test_the_recap_comes_once_a_week_after_that_days_post(
    world: World, runner: DailyRunner, charts: Charts
) -> None:
    await _fortnight(world)

    await _run_days(runner, world, 16)

    recaps = recaps_in(world.messenger)
    assert [post.files[0].filename for post in recaps] == [
        "stride-1-recap-2026-06-08.png",
        "stride-1-recap-2026-06-15.png",
    ]
    # Each comes right after the daily post of the Sunday before it.
    for recap in recaps:
        before = world.messenger.posts[world.messenger.posts.index(recap) - 1]
        assert before.files[0].filename == f"stride-1-{(recap.at.date() - dt.timedelta(1))}.png"
        assert recap.at == before.at
    first = recaps[0].embed
    assert first is not None
    assert first.title == f"📅 June Steps — week of Mon 1 Jun {EN_DASH} Sun 7 Jun"
    fields = {field.name: field.value for field in first.fields}
    assert fields["Biggest climbers"] == "▲2 **Bob** (3 → 1)"
    assert fields["Streak milestones"] == "🔥 **Alice**: a 7-day goal streak"
    assert first.description.splitlines() == [
        "**Standings**",
        "`1.` Bob · **92,000 steps**",
        "`2.` Alice · **70,000 steps**",
        "`3.` Cy · **35,000 steps**",
    ]
    second = recaps[1].embed
    assert second is not None
    fields = {field.name: field.value for field in second.fields}
    assert fields["Streak milestones"].splitlines() == [
        "🔥 **Alice**: a 14-day goal streak",
        "🔥 **Bob**: a 7-day goal streak",  # from day 2 to day 8
    ]
    assert fields["Biggest climbers"] == "Nobody changed places."
    # The chart is the week's: from its Monday on.
    week_charts = [chart for chart in charts.drawn if chart.title.endswith("this week")]
    assert [min(d for points in c.series.values() for d, _ in points) for c in week_charts] == [
        day(1),
        day(8),
    ]


async def test_a_run_again_or_after_a_restart_posts_no_second_recap(
    world: World, runner: DailyRunner, recaps: Callable[[], RecapService]
) -> None:
    challenge = await _fortnight(world)
    await _run_days(runner, world, 8)
    assert len(recaps_in(world.messenger)) == 1

    await runner.run_due()
    world.clock.set(local(day(9), 8))  # the next day, before its post: still due "late"
    await recaps().post_due([challenge])

    assert len(recaps_in(world.messenger)) == 1


async def test_the_admins_pick_the_recap_day(
    world: World, runner: DailyRunner, recaps: Callable[[], RecapService]
) -> None:
    challenge = await _fortnight(world)
    _found, settings = await recaps().configure(
        1, challenge.name, recap_day=SUNDAY, daily_posts=None, by=1
    )
    assert settings == RecapSettings(SUNDAY, DailyPosts.DAILY)

    await _run_days(runner, world, 15)

    assert [post.at.date() for post in recaps_in(world.messenger)] == [day(14)]


async def test_teams_are_in_the_recap(world: World, runner: DailyRunner) -> None:
    await _fortnight(world, teams=True)
    await _run_days(runner, world, 8)
    [recap] = recaps_in(world.messenger)
    assert recap.embed is not None
    teams = next(field.value for field in recap.embed.fields if field.name == "Teams")
    assert teams.splitlines()[0].startswith("`1.` Red · **162,000 steps**")


async def test_weekly_only_scores_every_day_but_posts_only_the_recaps_and_the_results(
    world: World, runner: DailyRunner, recaps: Callable[[], RecapService]
) -> None:
    challenge = await _fortnight(world)
    await recaps().configure(
        1, challenge.name, recap_day=None, daily_posts=DailyPosts.WEEKLY_ONLY, by=1
    )

    await _run_days(runner, world, 17)

    kinds = [
        "recap" if is_recap(post) else post.files[0].filename.split("-", 2)[2]
        for post in world.messenger.posts
    ]
    assert kinds == ["recap", "recap", "results.png"]
    scores = await world.scores(challenge.id)
    assert {d for (_player, d) in scores} == {day(n) for n in range(1, 15)}  # every day scored


async def test_a_recap_sent_just_before_a_stop_is_not_sent_again(
    world: World, recaps: Callable[[], RecapService]
) -> None:
    challenge = await _fortnight(world)
    for n in range(2, 9):  # the daily posts, without recaps
        await world.run_at(local(day(n), 9))

    world.messenger.kill = Kill.AFTER_SEND  # Discord stores it; the answer never comes back
    with pytest.raises(Killed):
        await recaps().post_due([challenge])
    assert len(recaps_in(world.messenger)) == 1
    pending = await RecapsRepo(world.db).pending(challenge.id)
    assert pending is not None and pending.recap_on == day(8)

    world.clock.set(local(day(8), 10))
    assert await recaps().post_due([challenge]) == {
        challenge.id: recaps_in(world.messenger)[0].message_id
    }
    assert len(recaps_in(world.messenger)) == 1
    assert await RecapsRepo(world.db).pending(challenge.id) is None


async def test_a_recap_stopped_before_it_was_sent_goes_out_once_with_the_same_nonce(
    world: World, recaps: Callable[[], RecapService]
) -> None:
    challenge = await _fortnight(world)
    for n in range(2, 9):
        await world.run_at(local(day(n), 9))

    world.messenger.kill = Kill.BEFORE_SEND
    with pytest.raises(Killed):
        await recaps().post_due([challenge])
    assert recaps_in(world.messenger) == []

    await recaps().post_due([challenge])
    [recap] = recaps_in(world.messenger)
    assert world.messenger.attempts[-2:] == [recap.nonce, recap.nonce]


async def test_when_a_recap_is_due(world: World) -> None:
    fortnight = await world.add_challenge(days=14)
    week = await world.add_challenge(name="One Week", days=7)
    monday = 0
    assert recap_day_due(fortnight, monday, local(day(8), 8, 59)) is None  # before the post
    assert recap_day_due(fortnight, monday, local(day(8), 9)) == day(8)
    assert recap_day_due(fortnight, monday, local(day(9), 23)) == day(8)  # a day late at most
    assert recap_day_due(fortnight, monday, local(day(10), 9)) is None
    assert recap_day_due(fortnight, 2, local(day(3), 9)) is None  # no full week yet
    assert recap_day_due(fortnight, monday, local(day(22), 9)) is None  # after the end
    assert recap_day_due(week, monday, local(day(8), 9)) is None  # a week or less: no recap


async def test_in_weekly_only_mode_the_recap_says_what_admins_corrected(
    world: World, runner: DailyRunner, recaps: Callable[[], RecapService]
) -> None:
    challenge = await _fortnight(world)
    await recaps().configure(
        1, challenge.name, recap_day=None, daily_posts=DailyPosts.WEEKLY_ONLY, by=1
    )
    await _run_days(runner, world, 3)
    world.clock.set(local(day(3), 12))
    await AdjustmentService(
        db=world.db,
        clock=world.clock,
        challenges=world.challenges,
        standings=world.standings,
        messenger=world.hub,
    ).adjust(1, challenge.name, 3, day(2), "12000", "watch reset", by=1)

    world.clock.set(local(day(4), 9))
    await runner.run_due()
    await _run_days(runner, world, 15, first=5)

    first, second = (post.embed for post in recaps_in(world.messenger))
    assert first is not None and second is not None
    assert first.footer.endswith(
        "† corrected by an admin: Cy, Tue 2 Jun: 5,000 steps → 12,000 steps"
    )
    assert "†" not in second.footer  # said once
