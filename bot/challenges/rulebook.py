"""A stored challenge as the scoring engine sees it, and rule checks that do not raise."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import fields
from types import SimpleNamespace
from typing import Any, cast

from bot.challenges.model import Challenge
from bot.challenges.presets import Preset
from bot.domain import Metric, ScoringMode, TeamMode
from bot.scoring import ChallengeRules, TieBreak, rule_problems


def rules_kwargs(
    metric: Metric,
    mode: ScoringMode,
    start: dt.date,
    end: dt.date,
    daily_goal: float | None,
    daily_cap: float | None,
    allow_manual: bool,
    points_table: tuple[float, ...] | None,
    tiers: tuple[tuple[float, float], ...] | None,
    team_mode: TeamMode,
    tie_break: TieBreak,
) -> dict[str, Any]:
    """Keyword arguments for `ChallengeRules`; the engine's defaults stand in for None tables."""
    values: dict[str, Any] = {
        "metric": metric,
        "mode": mode,
        "start": start,
        "end": end,
        "daily_goal": daily_goal,
        "daily_cap": daily_cap,
        "allow_manual": allow_manual,
        "team_mode": team_mode,
        "tie_break": tie_break,
    }
    if points_table is not None:
        values["points_table"] = points_table
    if tiers is not None:
        values["tiers"] = tiers
    return values


def rule_problems_of(values: Mapping[str, Any]) -> list[str]:
    """`rule_problems` for values that may not make a valid `ChallengeRules` yet (its
    constructor raises on the first invalid combination; the checks only read attributes)."""
    view = SimpleNamespace(
        **{field.name: values.get(field.name, field.default) for field in fields(ChallengeRules)}
    )
    return rule_problems(cast(ChallengeRules, view))


def rules(challenge: Challenge) -> ChallengeRules:
    """The scoring engine's view of a stored challenge (its dates, metric, mode, limits and
    tie-break)."""
    return ChallengeRules(
        **rules_kwargs(
            challenge.metric,
            challenge.mode,
            challenge.start,
            challenge.end,
            challenge.daily_goal,
            challenge.daily_cap,
            challenge.allow_manual,
            challenge.points_table,
            challenge.tiers,
            challenge.team_mode,
            challenge.tie_break,
        )
    )


def ranks_by_streak(challenge: Challenge) -> bool:
    """True for Streak challenges: rank players by their best streak, not their goal days."""
    return challenge.preset == Preset.STREAK.value
