"""Scores read in each challenge's own terms."""

from __future__ import annotations

import pytest

from bot.domain import Metric, ScoringMode, Units
from bot.render.standings import format_score
from bot.scoring import ChallengeRules
from tests.render.samples import END, START


@pytest.mark.parametrize(
    ("mode", "metric", "score", "expected"),
    [
        (ScoringMode.TOTAL, Metric.STEPS, 45210, "45,210 steps"),
        (ScoringMode.TOTAL, Metric.DISTANCE, 12.345, "12.3 km"),
        (ScoringMode.AVERAGE, Metric.ACTIVE_MINUTES, 42.4, "42 min/day"),
        (ScoringMode.GOAL_DAYS, Metric.STEPS, 1, "1 day"),
        (ScoringMode.GOAL_DAYS, Metric.STEPS, 2.5, "2.5 days"),
        (ScoringMode.DAILY_RANK, Metric.STEPS, 12, "12 pts"),
        (ScoringMode.TIERS, Metric.FLOORS, 1, "1 pt"),
        (ScoringMode.IMPROVEMENT, Metric.STEPS, 12.46, "+12.5%"),
        (ScoringMode.IMPROVEMENT, Metric.STEPS, -3, "-3.0%"),
    ],
)
def test_scores_read_in_the_challenges_own_terms(
    mode: ScoringMode, metric: Metric, score: float, expected: str
) -> None:
    rules = ChallengeRules(
        metric, mode, START, END, daily_goal=1 if mode is ScoringMode.GOAL_DAYS else None
    )
    assert format_score(score, rules, Units.METRIC) == expected
