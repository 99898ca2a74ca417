"""Rules that cannot be scored are refused with a readable reason."""

from __future__ import annotations

from typing import Any

import pytest

from bot.domain import Metric, ScoringMode
from bot.scoring import ChallengeRules
from tests.scoring.builders import END, START, rules


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"mode": ScoringMode.GOAL_DAYS}, "needs a daily goal"),
        ({"daily_cap": 0}, "daily cap must be a positive number"),
        ({"daily_goal": float("nan")}, "daily goal must be a positive number"),
        ({"mode": ScoringMode.TIERS, "tiers": ()}, "needs at least one tier"),
        ({"tiers": ((10_000, 2), (5000, 1))}, "strictly increasing"),
        ({"mode": ScoringMode.DAILY_RANK, "points_table": ()}, "at least one entry"),
        ({"points_table": (3, -1)}, "cannot be negative"),
    ],
)
def test_invalid_rules_are_rejected_with_a_readable_reason(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        rules(**overrides)


def test_end_before_start_is_rejected() -> None:
    with pytest.raises(ValueError, match="end on or after its start"):
        ChallengeRules(Metric.STEPS, ScoringMode.TOTAL, start=END, end=START)
