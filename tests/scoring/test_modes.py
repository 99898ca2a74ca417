"""What a day is worth in each scoring mode: average, goal days, tiers, daily rank, improvement."""

from __future__ import annotations

import pytest

from bot.domain import ScoringMode
from bot.scoring import compute_standings, cumulative_series
from tests.scoring.builders import ALICE, BOB, CAROL, DAN, day, ranks, rules, scores, steps


def test_average_counts_a_missing_final_day_as_zero() -> None:
    values = {ALICE: [steps(0, 9000), steps(1, 6000)]}  # nothing on day 2, which is final
    standings = compute_standings(rules(ScoringMode.AVERAGE), values, through=day(2))
    assert standings.player(ALICE).score == 5000
    assert standings.player(ALICE).elapsed_days == 3


def test_average_waits_for_a_provisional_day_without_data() -> None:
    values = {ALICE: [steps(0, 9000), steps(1, 6000)], BOB: [steps(2, 300)]}
    standings = compute_standings(
        rules(ScoringMode.AVERAGE),
        values,
        through=day(2),
        provisional_days=frozenset({day(2)}),
    )
    # Alice: day 2 has not happened yet for her, so her average is over 2 days, not 3.
    assert standings.player(ALICE).score == 7500
    assert standings.player(ALICE).elapsed_days == 2
    # Bob already has a (partial) value on the provisional day: it counts, his final days are 0.
    assert standings.player(BOB).score == 100
    assert standings.player(BOB).elapsed_days == 3


def test_a_late_joiners_average_counts_from_their_first_day() -> None:
    values = {
        ALICE: [steps(0, 6000), steps(1, 6000), steps(2, 6000)],
        BOB: [steps(0, 90_000), steps(1, 6000), steps(2, 6000)],  # joined on day 1
    }
    standings = compute_standings(
        rules(ScoringMode.AVERAGE), values, through=day(2), first_days={BOB: day(1)}
    )
    bob = standings.player(BOB)
    assert bob.daily_values == {day(1): 6000, day(2): 6000}  # day 0 was before he joined
    assert (bob.elapsed_days, bob.score, bob.rank) == (2, 6000, 1)  # not 12,000 over 3 days
    assert cumulative_series(standings)[BOB] == [(day(0), 0), (day(1), 6000), (day(2), 6000)]


def test_goal_days_scores_one_point_per_day_the_goal_is_met() -> None:
    values = {ALICE: [steps(0, 10_000), steps(1, 9_999), steps(2, 15_000)], BOB: []}
    standings = compute_standings(
        rules(ScoringMode.GOAL_DAYS, daily_goal=10_000), values, through=day(3)
    )
    alice = standings.player(ALICE)
    assert alice.score == 2
    assert alice.goal_met == {day(0): True, day(1): False, day(2): True, day(3): False}
    assert alice.daily_points == {day(0): 1, day(1): 0, day(2): 1}


def test_tiers_score_the_highest_threshold_reached_each_day() -> None:
    values = {ALICE: [steps(0, 4999), steps(1, 5000), steps(2, 12_000), steps(3, 40_000)]}
    standings = compute_standings(rules(ScoringMode.TIERS), values, through=day(3))
    alice = standings.player(ALICE)
    assert alice.daily_points == {day(0): 0, day(1): 1, day(2): 2, day(3): 3}
    assert alice.score == 6


def test_custom_tiers() -> None:
    custom = rules(ScoringMode.TIERS, tiers=((1000, 5), (2000, 10)))
    standings = compute_standings(custom, {ALICE: [steps(0, 1500)]}, through=day(0))
    assert standings.player(ALICE).score == 5


def test_daily_rank_awards_3_2_1_each_day_and_sums() -> None:
    values = {
        ALICE: [steps(0, 9000), steps(1, 1000)],
        BOB: [steps(0, 8000), steps(1, 7000)],
        CAROL: [steps(0, 7000), steps(1, 9000)],
        DAN: [steps(0, 100), steps(1, 100)],
    }
    standings = compute_standings(rules(ScoringMode.DAILY_RANK), values, through=day(1))
    assert standings.player(ALICE).daily_points == {day(0): 3, day(1): 1}
    assert standings.player(DAN).daily_points == {day(0): 0, day(1): 0}
    assert scores(standings) == {ALICE: 4, BOB: 4, CAROL: 4, DAN: 0}
    assert ranks(standings) == {ALICE: 1, BOB: 1, CAROL: 1, DAN: 4}


def test_daily_rank_ties_on_a_day_share_the_better_points() -> None:
    values = {ALICE: [steps(0, 8000)], BOB: [steps(0, 8000)], CAROL: [steps(0, 5000)]}
    standings = compute_standings(rules(ScoringMode.DAILY_RANK), values, through=day(0))
    # Alice and Bob share 1st (3 points each); Carol is 3rd by competition ranking: 1 point.
    assert scores(standings) == {ALICE: 3, BOB: 3, CAROL: 1}


def test_daily_rank_gives_nothing_for_a_zero_reading_or_a_missing_day() -> None:
    values = {ALICE: [steps(0, 0)], BOB: [], CAROL: [steps(0, 10)]}
    standings = compute_standings(rules(ScoringMode.DAILY_RANK), values, through=day(0))
    assert scores(standings) == {ALICE: 0, BOB: 0, CAROL: 3}


def test_daily_rank_uses_the_configured_points_table() -> None:
    values = {ALICE: [steps(0, 3)], BOB: [steps(0, 2)], CAROL: [steps(0, 1)]}
    custom = rules(ScoringMode.DAILY_RANK, points_table=(10, 5))
    standings = compute_standings(custom, values, through=day(0))
    assert scores(standings) == {ALICE: 10, BOB: 5, CAROL: 0}


def test_improvement_is_percent_above_own_baseline() -> None:
    values = {ALICE: [steps(0, 12_000), steps(1, 6000)], BOB: [steps(0, 5000), steps(1, 5000)]}
    standings = compute_standings(
        rules(ScoringMode.IMPROVEMENT),
        values,
        through=day(1),
        baselines={ALICE: 6000, BOB: 10_000},
    )
    assert standings.player(ALICE).score == pytest.approx(50.0)  # mean 9000 vs 6000
    assert standings.player(BOB).score == pytest.approx(-50.0)
    assert ranks(standings) == {ALICE: 1, BOB: 2}


def test_improvement_without_own_baseline_uses_the_group_median() -> None:
    values = {
        ALICE: [steps(0, 8000)],
        BOB: [steps(0, 8000)],
        CAROL: [steps(0, 8000)],
        DAN: [steps(0, 8000)],  # no history before the challenge
    }
    standings = compute_standings(
        rules(ScoringMode.IMPROVEMENT),
        values,
        through=day(0),
        baselines={ALICE: 2000, BOB: 4000, CAROL: 10_000},
    )
    dan = standings.player(DAN)
    assert (dan.baseline, dan.baseline_is_own) == (4000, False)
    assert dan.score == pytest.approx(100.0)


def test_improvement_with_no_baselines_at_all_scores_zero() -> None:
    values = {ALICE: [steps(0, 8000)], BOB: [steps(0, 100)]}
    standings = compute_standings(rules(ScoringMode.IMPROVEMENT), values, through=day(0))
    assert scores(standings) == {ALICE: 0, BOB: 0}


def test_improvement_counts_a_missing_final_day_as_zero() -> None:
    # Issue 11: leaving a weak day unsynced must not raise the score. Alice's day 1 is final
    # and empty: her average over 2 elapsed days is 7,500, 25% below her usual 10,000 (not
    # +50% from the one day she synced). Bob synced both days, a little above his usual.
    values = {ALICE: [steps(0, 15_000)], BOB: [steps(0, 11_000), steps(1, 11_000)]}
    standings = compute_standings(
        rules(ScoringMode.IMPROVEMENT),
        values,
        through=day(1),
        baselines={ALICE: 10_000, BOB: 10_000},
    )
    assert standings.player(ALICE).score == pytest.approx(-25.0)
    assert standings.player(ALICE).elapsed_days == 2
    assert standings.player(BOB).score == pytest.approx(10.0)
    assert ranks(standings) == {BOB: 1, ALICE: 2}


def test_improvement_waits_for_a_provisional_day_without_data() -> None:
    values = {ALICE: [steps(0, 15_000)]}
    standings = compute_standings(
        rules(ScoringMode.IMPROVEMENT),
        values,
        through=day(1),
        provisional_days=frozenset({day(1)}),
        baselines={ALICE: 10_000},
    )
    # Day 1 has not happened yet for Alice: her average is over day 0 alone.
    assert standings.player(ALICE).score == pytest.approx(50.0)
    assert standings.player(ALICE).elapsed_days == 1


def test_improvement_never_ranks_a_player_without_data_above_one_who_synced() -> None:
    # Not syncing at all is the limit of not syncing weak days: it averages 0, -100%.
    values = {ALICE: [steps(0, 8000)], BOB: []}
    standings = compute_standings(
        rules(ScoringMode.IMPROVEMENT),
        values,
        through=day(0),
        baselines={ALICE: 10_000, BOB: 10_000},
    )
    assert scores(standings) == {ALICE: pytest.approx(-20.0), BOB: pytest.approx(-100.0)}
    assert ranks(standings) == {ALICE: 1, BOB: 2}
    # Before any day has elapsed for him (day 0 still provisional), nothing has changed yet.
    early = compute_standings(
        rules(ScoringMode.IMPROVEMENT),
        values,
        through=day(0),
        provisional_days=frozenset({day(0)}),
        baselines={ALICE: 10_000, BOB: 10_000},
    )
    assert early.player(BOB).score == 0
