"""The results post's podium and awards: a score of 0 never wins."""

from __future__ import annotations

import pytest

from bot.domain import Metric, ScoringMode
from bot.scoring import Awards, ChallengeRules, compute_awards, compute_standings, podium
from tests.scoring.builders import ALICE, BOB, CAROL, DAN, day, goal_rules, rules, steps

EVE = 505


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


def test_most_improved_follows_the_improvement_rule_a_missing_final_day_counts_as_zero() -> None:
    # Alice doubled her usual on day 0 and never synced again: over 4 final days her average
    # is 5,000, half her usual. Bob beat his usual every day by 20%: he is the most improved.
    values = {
        ALICE: [steps(0, 20_000)],
        BOB: [steps(n, 6000) for n in range(4)],
    }
    standings = compute_standings(
        goal_rules(), values, through=day(3), baselines={ALICE: 10_000, BOB: 5000}
    )
    improved = compute_awards(standings).most_improved
    assert improved is not None
    assert improved.player_id == BOB
    assert improved.percent == pytest.approx(20.0)


def test_most_improved_is_the_improvement_score_in_improvement_mode() -> None:
    values = {ALICE: [steps(0, 14_000), steps(2, 9000)], BOB: [steps(n, 5100) for n in range(3)]}
    standings = compute_standings(
        rules(ScoringMode.IMPROVEMENT),
        values,
        through=day(2),
        baselines={ALICE: 5000, BOB: 5000},
    )
    improved = compute_awards(standings).most_improved
    assert improved is not None and improved.player_id == ALICE
    assert improved.percent == standings.player(ALICE).score  # the same rule, exactly


def test_no_award_and_no_medal_goes_to_a_zero() -> None:
    values = {ALICE: [steps(0, 0)], BOB: [steps(0, 0), steps(1, 0)], CAROL: []}
    standings = compute_standings(goal_rules(), values, through=day(1))
    awards = compute_awards(standings)
    assert awards == Awards(best_day=None, longest_streak=None, most_improved=None)
    assert podium(standings) == ()  # everyone shares 1st with 0 steps: nobody scored


def test_the_podium_is_places_one_to_three_with_a_score_above_zero() -> None:
    values = {
        ALICE: [steps(0, 9000)],
        BOB: [steps(0, 9000)],
        CAROL: [steps(0, 4000)],
        DAN: [steps(0, 0)],
        EVE: [steps(0, 1000)],
    }
    standings = compute_standings(goal_rules(), values, through=day(0))
    # 1, 1, 3: two golds and a bronze; 4th place Eve has no medal, nor Dan's 0 at 5th.
    assert [(p.player_id, p.rank) for p in podium(standings)] == [(ALICE, 1), (BOB, 1), (CAROL, 3)]
    one_day = compute_standings(
        goal_rules(), {ALICE: [steps(0, 5)], BOB: [steps(0, 0)]}, through=day(0)
    )
    assert [p.player_id for p in podium(one_day)] == [ALICE]  # Bob's synced 0 is 2nd: no silver


def test_a_goal_day_podium_is_everyone_who_reached_the_goal_and_nobody_else() -> None:
    goal_day = ChallengeRules(
        Metric.STEPS, ScoringMode.GOAL_DAYS, day(0), day(0), daily_goal=10_000
    )
    values = {ALICE: [steps(0, 12_000)], BOB: [steps(0, 10_000)], CAROL: [steps(0, 9999)]}
    standings = compute_standings(goal_day, values, through=day(0))
    assert [(p.player_id, p.rank) for p in podium(standings)] == [(ALICE, 1), (BOB, 1)]
    nobody = compute_standings(goal_day, {ALICE: [steps(0, 50)], BOB: []}, through=day(0))
    assert podium(nobody) == ()  # nobody reached it: no gold for everyone
