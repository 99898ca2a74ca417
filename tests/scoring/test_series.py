"""The chart's cumulative series."""

from __future__ import annotations

import pytest

from bot.domain import ScoringMode
from bot.scoring import compute_standings, cumulative_series
from tests.scoring.builders import ALICE, BOB, day, rules, steps


def test_cumulative_series_is_the_running_score_per_day() -> None:
    values = {ALICE: [steps(0, 1000), steps(2, 3000)], BOB: []}
    standings = compute_standings(rules(), values, through=day(2))
    series = cumulative_series(standings)
    assert series[ALICE] == [(day(0), 1000), (day(1), 1000), (day(2), 4000)]
    assert series[BOB] == [(day(0), 0), (day(1), 0), (day(2), 0)]


def test_cumulative_series_for_average_is_the_running_average() -> None:
    values = {ALICE: [steps(0, 1000), steps(2, 5000)]}
    standings = compute_standings(rules(ScoringMode.AVERAGE), values, through=day(2))
    series = cumulative_series(standings)[ALICE]
    assert [value for _, value in series] == pytest.approx([1000, 500, 2000])
    assert series[-1][1] == pytest.approx(standings.player(ALICE).score)


def test_cumulative_series_for_improvement_counts_a_missing_final_day_as_zero() -> None:
    values = {ALICE: [steps(0, 15_000), steps(2, 6000)], BOB: []}
    standings = compute_standings(
        rules(ScoringMode.IMPROVEMENT),
        values,
        through=day(2),
        provisional_days=frozenset({day(2)}),
        baselines={ALICE: 10_000, BOB: 10_000},
    )
    series = cumulative_series(standings)
    # Running averages 15,000, 7,500 (day 1 final and empty), 7,000 (day 2 has data).
    assert [value for _, value in series[ALICE]] == pytest.approx([50.0, -25.0, -30.0])
    assert series[ALICE][-1][1] == pytest.approx(standings.player(ALICE).score)
    # Bob: -100% once a day has elapsed without data; day 2 is provisional, not elapsed.
    assert [value for _, value in series[BOB]] == pytest.approx([-100.0, -100.0, -100.0])
