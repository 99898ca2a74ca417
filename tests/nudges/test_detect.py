"""What counts as passing someone, and what is left of today's goal (pure functions)."""

from __future__ import annotations

import datetime as dt

from bot.domain import DailyValue, Metric, ScoringMode, Units
from bot.nudges.detect import goal_gap, passed_by
from bot.nudges.messages import score_gap
from bot.scoring import ChallengeRules

TODAY = dt.date(2026, 6, 3)


def _rules(**overrides: object) -> ChallengeRules:
    values: dict[str, object] = {
        "metric": Metric.STEPS,
        "mode": ScoringMode.TOTAL,
        "start": dt.date(2026, 6, 1),
        "end": dt.date(2026, 6, 7),
        "daily_goal": 10_000.0,
        "allow_manual": False,
    }
    values.update(overrides)
    return ChallengeRules(**values)  # type: ignore[arg-type]


def test_passing_is_from_behind_to_ahead() -> None:
    before = {1: 3, 2: 1, 3: 2, 4: 3}
    after = {1: 1, 2: 2, 3: 3, 4: 4}
    # 1 was behind 2 and 3 and is now ahead of both; 4 was level with 1: not passed.
    assert passed_by(before, after, 1, [2, 3, 4]) == [2, 3]


def test_levelling_up_is_not_passing() -> None:
    assert passed_by({1: 2, 2: 1}, {1: 1, 2: 1}, 1, [2]) == []


def test_nothing_counts_without_a_rank_on_both_sides() -> None:
    assert passed_by({}, {1: 1, 2: 2}, 1, [2]) == []  # the first look
    assert passed_by({1: 2, 2: 1}, {1: 1, 2: 2, 3: 3}, 1, [2, 3]) == [2]  # 3 just joined
    assert passed_by({1: 2, 2: 1}, {1: 1, 2: 2}, 1, [1]) == []  # never oneself


def test_goal_gap_takes_the_highest_provider_and_the_cap() -> None:
    values = [
        DailyValue(Metric.STEPS, TODAY, 6_000, False),
        DailyValue(Metric.STEPS, TODAY, 7_500, False),
        DailyValue(Metric.STEPS, TODAY - dt.timedelta(days=1), 20_000, False),
        DailyValue(Metric.DISTANCE, TODAY, 9_999, False),
    ]
    assert goal_gap(_rules(), values, TODAY) == 2_500
    assert goal_gap(_rules(daily_cap=7_000.0, daily_goal=7_000.0), values, TODAY) is None
    assert goal_gap(_rules(), [], TODAY) == 10_000
    assert goal_gap(_rules(daily_goal=None), values, TODAY) is None


def test_manual_entries_count_only_where_the_challenge_allows_them() -> None:
    values = [DailyValue(Metric.STEPS, TODAY, 9_000, True)]
    assert goal_gap(_rules(), values, TODAY) == 10_000
    assert goal_gap(_rules(allow_manual=True), values, TODAY) == 1_000


def test_a_score_gap_reads_in_the_challenges_terms() -> None:
    assert score_gap(1_110, _rules(), Units.METRIC) == "1,110 steps"
    assert score_gap(2, _rules(mode=ScoringMode.GOAL_DAYS), Units.METRIC) == "2 days"
    improvement = _rules(mode=ScoringMode.IMPROVEMENT, daily_goal=None)
    assert score_gap(4.25, improvement, Units.METRIC) == "4.2 percentage points"
