"""The options of `/challenge create` and `/challenge edit`: their choices and their ranges.

Ranges are the limits the service enforces (a metric's own range is checked there). The date
and time options are `cogs._transformers.DateArg` and `TimeArg`.
"""

from __future__ import annotations

from discord import app_commands

from bot.challenges.inputs import (
    MAX_GRACE_HOURS,
    MAX_NAME_LENGTH,
    MAX_PLAYERS_LIMIT,
    MAX_TEAM_NAME_LENGTH,
)
from bot.challenges.presets import Preset
from bot.challenges.teams import TEAM_NAMES
from bot.domain import Metric, ScoringMode, TeamMode
from bot.scoring import TieBreak

# The scoring modes as the `scoring` option offers them; a card shows the part before " (".
SCORING_LABELS = {
    ScoringMode.TOTAL: "Total (most wins)",
    ScoringMode.AVERAGE: "Daily average",
    ScoringMode.GOAL_DAYS: "Goal days (days reaching the goal)",
    ScoringMode.DAILY_RANK: "Daily rank (points table)",
    ScoringMode.TIERS: "Tiers (points per level reached)",
    ScoringMode.IMPROVEMENT: "Improvement over usual",
}

METRIC_CHOICES = [app_commands.Choice(name=m.label, value=m.value) for m in Metric]
SCORING_CHOICES = [
    app_commands.Choice(name=label, value=m.value) for m, label in SCORING_LABELS.items()
]
PRESET_CHOICES = [app_commands.Choice(name=p.label, value=p.value) for p in Preset]
TEAM_MODE_CHOICES = [
    app_commands.Choice(name="Sum of members' scores", value=TeamMode.SUM.value),
    app_commands.Choice(name="Average of members' scores", value=TeamMode.MEAN.value),
]
MANUAL_CHOICES = [
    app_commands.Choice(name="Manual entries count", value="allow"),
    app_commands.Choice(name="Manual entries do not count", value="forbid"),
]
LATE_JOIN_CHOICES = [
    app_commands.Choice(name="Count from the day they join", value="join_day"),
    app_commands.Choice(name="Count from the start (backfill)", value="backfill"),
]
TIE_BREAK_CHOICES = [
    app_commands.Choice(name="None: tied players share the place", value=TieBreak.NONE.value),
    app_commands.Choice(name="More goal days ranks ahead", value=TieBreak.GOAL_DAYS.value),
    app_commands.Choice(
        name="First to reach their final score ranks ahead", value=TieBreak.FIRST_TO_SCORE.value
    ),
]
# The choices of the settings /challenge create and /challenge edit share.
SETTING_CHOICES = {
    "metric": METRIC_CHOICES,
    "scoring": SCORING_CHOICES,
    "manual_entries": MANUAL_CHOICES,
    "team_mode": TEAM_MODE_CHOICES,
    "late_join": LATE_JOIN_CHOICES,
    "tie_break": TIE_BREAK_CHOICES,
}

NameArg = app_commands.Range[str, 1, MAX_NAME_LENGTH]
# A goal or cap as typed ("10000", "8 km", "5 mi"): read by `bot.challenges.amounts`, which
# knows the metric and the server's units.
AmountArg = app_commands.Range[str, 1, 24]
GraceArg = app_commands.Range[int, 0, MAX_GRACE_HOURS]
TeamNameArg = app_commands.Range[str, 1, MAX_TEAM_NAME_LENGTH]
TeamCountArg = app_commands.Range[int, 2, len(TEAM_NAMES)]
MaxPlayersArg = app_commands.Range[int, 2, MAX_PLAYERS_LIMIT]
MaxPlayersEditArg = app_commands.Range[int, 0, MAX_PLAYERS_LIMIT]  # 0 removes the limit


def choice_value(choice: app_commands.Choice[str] | None) -> str | None:
    return None if choice is None else choice.value
