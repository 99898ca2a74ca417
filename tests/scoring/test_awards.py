"""The results post's awards."""

from __future__ import annotations

import pytest

from bot.scoring import compute_awards, compute_standings
from tests.scoring.builders import ALICE, BOB, CAROL, day, goal_rules, steps


def test_awards_best_day_longest_streak_and_most_improved() -> None:
    values = {
        ALICE: [steps(0, 10_000), steps(1, 10_000), steps(2, 25_000)],
        BOB: [steps(0, 10_000), steps(1, 10_000), steps(2, 10_000)],
        CAROL: [steps(0, 14_000), steps(1, 2000)],
    }
    standings = compute_standings(
        goal_rules(), values, through=day(2), baselines={ALICE: 10_000, BOB: 5000}
    )
    awards = compute_awards(standings)
    assert awards.best_day is not None
    assert (awards.best_day.player_id, awards.best_day.day, awards.best_day.value) == (
        ALICE,
        day(2),
        25_000,
    )
    assert awards.longest_streak is not None
    assert (awards.longest_streak.player_ids, awards.longest_streak.days) == ((ALICE, BOB), 3)
    # Bob doubled his usual 5000; Alice's mean 15,000 is +50%; Carol has no own baseline.
    assert awards.most_improved is not None
    assert awards.most_improved.player_id == BOB
    assert awards.most_improved.percent == pytest.approx(100.0)


def test_most_improved_is_skipped_without_baselines_and_awards_without_data_are_none() -> None:
    standings = compute_standings(goal_rules(), {ALICE: [steps(0, 100)]}, through=day(0))
    awards = compute_awards(standings)
    assert awards.most_improved is None
    assert awards.longest_streak is None  # nobody met the goal
    empty = compute_awards(compute_standings(goal_rules(), {ALICE: []}, through=day(0)))
    assert empty.best_day is None
