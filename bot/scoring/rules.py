"""The scoring engine's inputs: a player's id, `TieBreak` and `ChallengeRules`, with why rules
are refused.

`rule_problems` lists, in words for the person configuring the challenge, every reason a set of
rules cannot be scored; `ChallengeRules` refuses to exist when there is one.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass
from enum import StrEnum

from bot.domain import Metric, ScoringMode, TeamMode

PlayerId = int


class TieBreak(StrEnum):
    """How players tied on score are told apart (`bot.scoring.tiebreak` applies it); players
    the tie-break cannot tell apart share the place."""

    NONE = "none"  # tied players share the place
    GOAL_DAYS = "goal_days"  # more days with the daily goal met ranks ahead
    FIRST_TO_SCORE = "first_to_score"  # reaching the final score on an earlier day ranks ahead


@dataclass(frozen=True, slots=True)
class ChallengeRules:
    """Everything about a challenge that scoring needs. Invalid combinations raise ValueError
    with a message that can be shown to the person configuring the challenge."""

    metric: Metric
    mode: ScoringMode
    start: dt.date
    end: dt.date
    daily_goal: float | None = None
    daily_cap: float | None = None
    allow_manual: bool = True
    points_table: tuple[float, ...] = (3, 2, 1)
    tiers: tuple[tuple[float, float], ...] = ((5000, 1), (10000, 2), (15000, 3))
    team_mode: TeamMode = TeamMode.SUM
    tie_break: TieBreak = TieBreak.NONE

    def __post_init__(self) -> None:
        problems = rule_problems(self)
        if problems:
            raise ValueError("; ".join(problems))


def rule_problems(rules: ChallengeRules) -> list[str]:
    """Human-readable reasons why these rules cannot be scored (empty when they are fine)."""
    problems: list[str] = []
    if rules.end < rules.start:
        problems.append("the challenge must end on or after its start date")
    if rules.daily_goal is not None and not is_positive(rules.daily_goal):
        problems.append("the daily goal must be a positive number")
    if rules.daily_cap is not None and not is_positive(rules.daily_cap):
        problems.append("the daily cap must be a positive number")
    if (
        rules.daily_goal is not None
        and rules.daily_cap is not None
        and rules.daily_goal > rules.daily_cap
    ):
        problems.append("the daily goal cannot be above the daily cap, nobody could meet it")
    if rules.mode is ScoringMode.GOAL_DAYS and rules.daily_goal is None:
        problems.append("goal-days scoring needs a daily goal")
    if rules.tie_break is TieBreak.GOAL_DAYS and rules.daily_goal is None:
        problems.append(
            "breaking ties by goal days needs a daily goal: set one, or pick another tie-break"
        )
    if rules.mode is ScoringMode.DAILY_RANK and not rules.points_table:
        problems.append("daily-rank scoring needs at least one entry in the points table")
    if any(not _is_non_negative(p) for p in rules.points_table):
        problems.append("points in the points table cannot be negative")
    problems.extend(_tier_problems(rules))
    return problems


def _tier_problems(rules: ChallengeRules) -> list[str]:
    problems: list[str] = []
    if rules.mode is ScoringMode.TIERS and not rules.tiers:
        problems.append("tier scoring needs at least one tier")
    thresholds = [threshold for threshold, _ in rules.tiers]
    if any(not _is_non_negative(t) for t in thresholds) or any(
        a >= b for a, b in itertools.pairwise(thresholds)
    ):
        problems.append("tier thresholds must be non-negative and strictly increasing")
    if any(not _is_non_negative(points) for _, points in rules.tiers):
        problems.append("tier points cannot be negative")
    return problems


def is_positive(value: float) -> bool:
    """A finite number above 0 (a usable goal, cap or baseline)."""
    return math.isfinite(value) and value > 0


def _is_non_negative(value: float) -> bool:
    return math.isfinite(value) and value >= 0
