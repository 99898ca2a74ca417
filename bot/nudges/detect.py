"""What is worth a nudge, as pure functions over ranks and values.

* `passed_by`: the members a player just passed (behind them before, ahead of them now).
* `goal_gap`: how far a player is from today's goal.
* `Nudge`, `NudgeKind`: one DM the nudges would send, and why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.challenges.model import Challenge
from bot.domain import DailyValue
from bot.scoring import ChallengeRules, merge_daily_values


class NudgeKind(StrEnum):
    """Why a nudge goes out."""

    PASSED = "passed"  # someone just passed them
    GOAL = "goal"  # how far they are from today's goal


@dataclass(frozen=True, slots=True)
class Nudge:
    recipient: int
    challenge: Challenge
    kind: NudgeKind
    text: str


def passed_by(
    before: Mapping[int, int], after: Mapping[int, int], mover: int, members: Iterable[int]
) -> list[int]:
    """The `members` that `mover` just passed: ranked ahead of `mover` in `before` and
    behind in `after` (levelling up to someone, or from level to ahead, is not passing).
    Nothing without a rank on both sides counts."""
    if mover not in before or mover not in after:
        return []
    return sorted(
        member
        for member in members
        if member != mover
        and member in before
        and member in after
        and before[member] < before[mover]
        and after[member] > after[mover]
    )


def goal_gap(rules: ChallengeRules, values: Sequence[DailyValue], today: dt.date) -> float | None:
    """How much of today's goal is still to do, with the player's values for today counted as
    the standings count them (highest provider, manual policy, cap); None without a goal or
    once it is met."""
    goal = rules.daily_goal
    if goal is None:
        return None
    done = merge_daily_values(rules, values, today, today).get(today, 0.0)
    return goal - done if done < goal else None
