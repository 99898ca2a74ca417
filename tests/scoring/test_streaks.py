"""Goal days and streaks, final and provisional days."""

from __future__ import annotations

import pytest

from bot.domain import ScoringMode
from bot.scoring import compute_standings
from tests.scoring.builders import ALICE, day, goal_rules, rules, steps


def test_streak_counts_consecutive_goal_days_and_a_missed_final_day_breaks_it() -> None:
    values = {ALICE: [steps(0, 10_000), steps(1, 11_000), steps(2, 500), steps(3, 12_000)]}
    alice = compute_standings(goal_rules(), values, through=day(3)).player(ALICE)
    assert (alice.current_streak, alice.best_streak) == (1, 2)


def test_missing_final_day_breaks_a_streak() -> None:
    values = {ALICE: [steps(0, 10_000), steps(2, 10_000)]}
    alice = compute_standings(goal_rules(), values, through=day(2)).player(ALICE)
    assert (alice.current_streak, alice.best_streak) == (1, 1)


def test_provisional_day_not_yet_met_does_not_break_the_streak() -> None:
    values = {ALICE: [steps(0, 10_000), steps(1, 10_000), steps(2, 3000)]}  # day 2 half synced
    alice = compute_standings(
        goal_rules(), values, through=day(2), provisional_days=frozenset({day(2)})
    ).player(ALICE)
    assert (alice.current_streak, alice.best_streak) == (2, 2)


def test_provisional_day_that_is_met_extends_the_streak() -> None:
    values = {ALICE: [steps(0, 10_000), steps(1, 10_000)]}
    alice = compute_standings(
        goal_rules(), values, through=day(1), provisional_days=frozenset({day(1)})
    ).player(ALICE)
    assert (alice.current_streak, alice.best_streak) == (2, 2)


def test_cap_below_goal_is_rejected_and_capped_values_can_meet_the_goal() -> None:
    with pytest.raises(ValueError, match="goal cannot be above the daily cap"):
        rules(daily_goal=20_000, daily_cap=15_000)
    capped = rules(ScoringMode.GOAL_DAYS, daily_goal=15_000, daily_cap=15_000)
    standings = compute_standings(capped, {ALICE: [steps(0, 30_000)]}, through=day(0))
    assert standings.player(ALICE).goal_met[day(0)]


def test_without_a_daily_goal_nobody_has_a_streak() -> None:
    standings = compute_standings(rules(), {ALICE: [steps(0, 99_999)]}, through=day(0))
    assert standings.player(ALICE).best_streak == 0
