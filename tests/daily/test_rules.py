"""The rules that decide a standing, driven through the daily run with a moving clock: what the
daily posts, the results post and `/leaderboard` show (issue 11).

* Improvement compares the average over the elapsed days with the player's usual day: a final
  day without data counts as 0, a provisional one has not happened yet.
* A score of 0 never wins: no medal, no award; a Goal Day's winners are exactly those who
  reached the goal.
* The tie-break (more goal days, first to their score) orders players tied on score, in every
  post and in the results alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from bot.challenges.model import Challenge
from bot.domain import ScoringMode
from bot.render.leaderboard import EmbedContent
from bot.scoring import TieBreak
from tests.daily.world import JUNE_1, World, day, local


def rows(embed: EmbedContent) -> list[str]:
    return embed.description.splitlines()


def row_of(embed: EmbedContent, name: str) -> str:
    [row] = [line for line in rows(embed) if f" {name} " in f"{line} " or f"**{name}**" in line]
    return row


def awards_of(embed: EmbedContent) -> str:
    return dict((name, value) for name, value, _ in embed.fields).get("Awards", "")


async def with_settings(world: World, challenge: Challenge, **changes: object) -> Challenge:
    """Store `challenge` with `changes` (a preset, a tie-break), as an edit would."""
    changed = replace(challenge, **changes)  # type: ignore[arg-type]
    await world.repo.update(changed)
    return changed


async def run_days(world: World, last: int) -> None:
    """Every daily post from day 2's morning to day `last`'s, one run per morning."""
    for n in range(2, last + 1):
        await world.run_at(local(day(n), 9))


# --------------------------------------------------------------------------- improvement


async def test_improvement_counts_a_final_day_without_data_as_zero(world: World) -> None:
    challenge = await world.add_challenge(days=3, mode=ScoringMode.IMPROVEMENT)
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    for n in range(1, 15):  # both usually walk 10,000 steps a day
        before = JUNE_1 - dt.timedelta(days=n)
        world.provider.set(alice, before, 10_000)
        world.provider.set(bob, before, 10_000)
    world.provider.set(alice, day(1), 15_000)  # then Alice never syncs her weaker days
    for n in (1, 2, 3):
        world.provider.set(bob, day(n), 11_000)

    await run_days(world, 5)
    day_1, day_2, day_3, results = world.messenger.posts

    # Day 2 is provisional in its own post: not a missed day yet, Alice's average is day 1's.
    assert row_of(day_2.embed, "Alice").startswith("`1.` Alice")
    assert "**+50.0%**" in row_of(day_2.embed, "Alice")
    # A day later day 2 is final and empty: it counts as 0, (15,000 + 0) / 2 is -25%.
    assert row_of(day_3.embed, "Bob").startswith("`1.` Bob")
    assert "**-25.0%**" in row_of(day_3.embed, "Alice")
    # The results: 15,000 over three days is half her usual.
    assert rows(results.embed)[0] == "🥇 **Bob** — +10.0%"
    assert row_of(results.embed, "Alice") == "`2.` Alice · **-50.0%**"
    assert "📈 Most improved: **Bob** — +10% over their usual" in awards_of(results.embed)
    assert day_1.embed.title.endswith("⏳")


# --------------------------------------------------------------------------- medals and awards


async def test_a_goal_days_winners_are_those_who_reached_the_goal(world: World) -> None:
    challenge = await world.add_challenge(days=1, mode=ScoringMode.GOAL_DAYS, goal=10_000)
    await with_settings(world, challenge, preset="goal_day")
    values = {"Alice": 12_000, "Bob": 10_500, "Carol": 4000}
    for player, (name, value) in enumerate(values.items(), start=1):
        world.provider.set(await world.add_player(challenge, player, name), day(1), value)
    await world.add_player(challenge, 4, "Dan")  # never syncs

    await run_days(world, 3)
    results = world.messenger.posts[-1].embed
    assert "final results" in results.title
    assert rows(results)[:2] == ["🥇 **Alice** — 1 day", "🥇 **Bob** — 1 day"]
    assert "🥈" not in results.description and "🥉" not in results.description
    assert row_of(results, "Carol") == "`3.` Carol · **0 days**"
    assert row_of(results, "Dan") == "`3.` Dan · no data yet"


async def test_a_goal_day_nobody_reached_has_no_winner(world: World) -> None:
    challenge = await world.add_challenge(days=1, mode=ScoringMode.GOAL_DAYS, goal=10_000)
    await with_settings(world, challenge, preset="goal_day")
    world.provider.set(await world.add_player(challenge, 1, "Alice"), day(1), 9000)
    world.provider.set(await world.add_player(challenge, 2, "Bob"), day(1), 3000)

    await run_days(world, 3)
    results = world.messenger.posts[-1].embed
    assert rows(results)[0] == "No medals: nobody reached the goal."
    assert "🥇" not in results.description
    assert row_of(results, "Alice") == "`1.` Alice · **0 days**"
    assert awards_of(results) == "⭐ Best single day: **Alice** — 9,000 steps on Mon 1 Jun"


async def test_a_day_of_zero_steps_wins_nothing(world: World) -> None:
    challenge = await world.add_challenge(days=1)
    world.provider.set(await world.add_player(challenge, 1, "Alice"), day(1), 0)
    world.provider.set(await world.add_player(challenge, 2, "Bob"), day(1), 0)

    await run_days(world, 3)
    results = world.messenger.posts[-1].embed
    assert rows(results)[0] == "No medals: nobody scored."
    assert row_of(results, "Alice") == "`1.` Alice · **0 steps**"
    assert awards_of(results) == ""  # no best single day of 0 steps


# --------------------------------------------------------------------------- tie-breaks


async def test_more_goal_days_breaks_a_tie_in_every_post(world: World) -> None:
    challenge = await world.add_challenge(days=2, goal=10_000)
    challenge = await with_settings(world, challenge, tie_break=TieBreak.GOAL_DAYS)
    days = {"Alice": (10_000, 10_000), "Bob": (15_000, 5000), "Carol": (5000, 5000)}
    for player, (name, values) in enumerate(days.items(), start=1):
        user = await world.add_player(challenge, player, name)
        for n, value in enumerate(values, start=1):
            world.provider.set(user, day(n), value)

    await run_days(world, 4)
    _day_1, day_2, results = world.messenger.posts
    # Alice and Bob both have 20,000 steps; Alice met the goal on both days, Bob on one.
    assert row_of(day_2.embed, "Alice").startswith("`1.` Alice")
    assert row_of(day_2.embed, "Bob").startswith("`2.` Bob")
    assert "ties: more goal days" in rows(day_2.embed)[0]
    assert rows(results.embed)[:3] == [
        "🥇 **Alice** — 20,000 steps",
        "🥈 **Bob** — 20,000 steps",
        "🥉 **Carol** — 10,000 steps",
    ]
    board = await world.standings.current(challenge)  # what /leaderboard and /me read
    assert {p.player_id: p.rank for p in board.standings.players} == {1: 1, 2: 2, 3: 3}


async def test_first_to_score_ranks_who_got_there_earlier_ahead(world: World) -> None:
    challenge = await world.add_challenge(days=3)
    challenge = await with_settings(world, challenge, tie_break=TieBreak.FIRST_TO_SCORE)
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    carol = await world.add_player(challenge, 3, "Carol")
    dan = await world.add_player(challenge, 4, "Dan")
    world.provider.set(alice, day(1), 5000)
    world.provider.set(alice, day(3), 15_000)  # 20,000 on day 3
    world.provider.set(bob, day(1), 12_000)
    world.provider.set(bob, day(2), 8000)  # 20,000 on day 2
    for user in (carol, dan):  # level on everything
        world.provider.set(user, day(2), 3000)

    await run_days(world, 5)
    results = world.messenger.posts[-1].embed
    assert rows(results)[:4] == [
        "🥇 **Bob** — 20,000 steps",
        "🥈 **Alice** — 20,000 steps",
        "🥉 **Carol** — 3,000 steps",
        "🥉 **Dan** — 3,000 steps",
    ]
    assert "ties: first to their score" in results.footer


async def test_a_streak_challenges_tie_break_orders_equal_best_streaks(world: World) -> None:
    challenge = await world.add_challenge(days=4, mode=ScoringMode.GOAL_DAYS, goal=5000)
    await with_settings(world, challenge, preset="streak", tie_break=TieBreak.GOAL_DAYS)
    met, missed = 6000, 1000
    days = {"Patchy": (met, met, missed, met), "Pair": (missed, missed, met, met)}
    for player, (name, values) in enumerate(days.items(), start=1):
        user = await world.add_player(challenge, player, name)
        for n, value in enumerate(values, start=1):
            world.provider.set(user, day(n), value)

    await world.run_at(local(day(5), 9))
    post = world.messenger.posts[-1].embed
    # Both have a best streak of 2; Patchy met the goal on 3 days, Pair on 2.
    assert row_of(post, "Patchy").startswith("`1.` Patchy · **2 days**")
    assert row_of(post, "Pair").startswith("`2.` Pair · **2 days**")
