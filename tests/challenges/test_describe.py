"""A challenge's rules in plain words: every rule that decides a standing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

from bot.challenges.describe import rule_sentences
from bot.challenges.model import Challenge, ChallengeStatus
from bot.domain import Metric, ScoringMode, TeamMode
from bot.scoring import TieBreak
from tests.challenges.fakes import ADMIN, CHANNEL, GUILD, START, D


def test_rules_in_words_cover_every_mode() -> None:
    base = dict(
        id=1, guild_id=GUILD, channel_id=CHANNEL, name="X", metric=Metric.STEPS,
        start=D(2024, 5, 6), end=D(2024, 5, 12), time_zone="UTC", post_time=dt.time(9),
        daily_goal=10_000.0, daily_cap=None, allow_manual=False, grace_hours=24,
        team_mode=TeamMode.MEAN, points_table=None, tiers=None, max_players=None,
        late_join_backfill=True, preset=None, status=ChallengeStatus.ACTIVE, ended_at=None,
        created_by=ADMIN, created_at=START,
    )  # fmt: skip
    firsts = {
        mode: rule_sentences(Challenge(mode=mode, **base), has_teams=True)  # type: ignore[arg-type]
        for mode in ScoringMode
    }
    assert firsts[ScoringMode.TOTAL][0] == "Most steps in total wins."
    assert firsts[ScoringMode.DAILY_RANK][0].startswith(
        "Every day the top players by steps score 3, 2, 1"
    )
    assert "5,000 steps = 1" in firsts[ScoringMode.TIERS][0]
    assert "Teams score the average of their members' scores." in firsts[ScoringMode.TOTAL]
    assert "Players who join late count from the start." in firsts[ScoringMode.TOTAL]
    assert all(lines for lines in firsts.values())
    assert len(set(itertools.chain(*(lines[:1] for lines in firsts.values())))) == len(ScoringMode)


def card(**changes: object) -> list[str]:
    """The rule card of a week of steps with a goal, changed by `changes`."""
    challenge = Challenge(
        id=1, guild_id=GUILD, channel_id=CHANNEL, name="X", metric=Metric.STEPS,
        mode=ScoringMode.TOTAL, start=D(2024, 5, 6), end=D(2024, 5, 12), time_zone="UTC",
        post_time=dt.time(9), daily_goal=10_000.0, daily_cap=None, allow_manual=False,
        grace_hours=24, team_mode=TeamMode.SUM, points_table=None, tiers=None, max_players=None,
        late_join_backfill=False, preset=None, status=ChallengeStatus.ACTIVE, ended_at=None,
        created_by=ADMIN, created_at=START,
    )  # fmt: skip
    has_teams = bool(changes.pop("has_teams", False))
    return rule_sentences(dataclasses.replace(challenge, **changes), has_teams=has_teams)  # type: ignore[arg-type]


def test_every_card_states_ranking_ties_and_medals() -> None:
    for mode in ScoringMode:
        lines = card(mode=mode)
        assert (
            "Players with the same score share the place, and the places after them are "
            "skipped (1, 1, 3)."
        ) in lines
        assert (
            "Players sharing a place share its medal (1, 1, 3 is two golds and a bronze)." in lines
        )
        assert any(line.startswith("A medal needs a score above 0") for line in lines)
        assert "every award a day, streak or improvement above 0" in " ".join(lines)


def test_the_card_states_the_tie_break() -> None:
    assert (
        "Players with the same score are told apart by more days with the goal met; players "
        "still level share the place, and the places after them are skipped (1, 1, 3)."
    ) in card(tie_break=TieBreak.GOAL_DAYS)
    assert any(
        line.startswith("Players with the same score are told apart by who got to it on an earlier")
        for line in card(tie_break=TieBreak.FIRST_TO_SCORE)
    )


def test_the_card_states_how_days_count() -> None:
    lines = card(daily_cap=20_000.0, grace_hours=36)
    assert "A day counts your highest reading across your linked devices, never their sum." in lines
    assert "A day counts up to 20,000 steps at most." in lines
    assert "The goal is checked against that capped value." in lines
    assert (
        "A day stays provisional for 36 hours after it ends (real hours, even across a clock "
        "change): late syncs count until then, then it is final."
    ) in lines
    assert "A provisional day without data is not a missed day yet: it breaks no streak." in lines
    average = card(mode=ScoringMode.AVERAGE, daily_goal=None)
    assert average[0] == (
        "Highest average steps per day wins; a day without data counts as 0 once it is final."
    )
    assert (
        "A provisional day without data is not a missed day yet: it is left out of the average."
    ) in average
    assert "A day is final as soon as it ends: later syncs do not count." in card(grace_hours=0)
    assert not any("provisional" in line for line in card(grace_hours=0))


def test_the_card_states_the_default_points_table_and_tiers() -> None:
    daily_rank = card(mode=ScoringMode.DAILY_RANK)
    assert daily_rank[0] == (
        "Every day the top players by steps score 3, 2, 1 points (the default table); most "
        "points wins."
    )
    assert (
        "A zero reading earns no points, and players level on a day share the better place's "
        "points."
    ) in daily_rank
    assert (
        "(the default table)" not in card(mode=ScoringMode.DAILY_RANK, points_table=(5.0, 1.0))[0]
    )
    assert card(mode=ScoringMode.TIERS)[0] == (
        "Every day scores the points of the highest tier it reaches (5,000 steps = 1, "
        "10,000 steps = 2, 15,000 steps = 3, the default tiers); most points wins."
    )


def test_the_improvement_card_counts_a_missing_final_day_as_zero() -> None:
    lines = card(mode=ScoringMode.IMPROVEMENT, daily_goal=None)
    assert (
        "Your average over the days so far is compared with it, and a day without data counts "
        "as 0 once it is final."
    ) in lines
    assert any("the group's median usual day stands in" in line for line in lines)
    assert any(line.startswith("A medal needs a score above 0% (better than") for line in lines)
    teams = card(mode=ScoringMode.IMPROVEMENT, has_teams=True)
    assert any("A member without data counts as -100%" in line for line in teams)


def test_the_card_states_how_teams_count_members_without_data() -> None:
    lines = card(has_teams=True)
    assert "Teams score the total of their members' scores." in lines
    assert "A member without data counts as 0; teams level on score share the place." in lines


def test_a_goal_day_card_names_its_winners_and_nobody_else() -> None:
    lines = card(mode=ScoringMode.GOAL_DAYS, preset="goal_day", end=D(2024, 5, 6))
    assert lines[:2] == [
        "Everyone who reaches 10,000 steps wins.",
        "Nobody else wins: when nobody reaches it, there is no winner.",
    ]
    assert not any("no streak" in line for line in lines)  # one day: no streak to break


def test_the_card_states_each_presets_dates() -> None:
    shapes = {
        "daily_showdown": (D(2024, 5, 6), "Daily Showdown runs one day; unless a start date is "
                           "given, it starts the day it is created if that is before the post "
                           "time, else the next day."),
        "goal_day": (D(2024, 5, 6), "Goal Day runs one day;"),
        "workweek_hustle": (D(2024, 5, 10), "Workweek Hustle runs Monday to Friday; unless a "
                            "start date is given, it starts the next Monday (that day when "
                            "created on a Monday before the post time)."),
        "weekend_warrior": (D(2024, 5, 7), "Weekend Warrior runs Saturday and Sunday;"),
        "streak": (D(2024, 6, 4), "Streak runs 30 days;"),
    }  # fmt: skip
    for preset, (end, sentence) in shapes.items():
        lines = card(preset=preset, end=end)
        assert any(line.startswith(sentence) for line in lines), (preset, lines)
    # Edited to another length, the preset's shape no longer describes it.
    assert not any("Workweek Hustle runs" in line for line in card(preset="workweek_hustle"))
