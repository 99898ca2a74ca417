"""The results post's awards: best single day, longest streak and most improved."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

from bot.scoring.modes import percent_above
from bot.scoring.results import Standings
from bot.scoring.rules import PlayerId


@dataclass(frozen=True, slots=True)
class BestDay:
    player_id: PlayerId
    day: dt.date
    value: float  # after the cap


@dataclass(frozen=True, slots=True)
class LongestStreak:
    player_ids: tuple[PlayerId, ...]  # everyone sharing the longest streak, sorted
    days: int


@dataclass(frozen=True, slots=True)
class MostImproved:
    player_id: PlayerId
    percent: float  # mean daily value over days with data vs. the player's own baseline


@dataclass(frozen=True, slots=True)
class Awards:
    best_day: BestDay | None
    longest_streak: LongestStreak | None
    most_improved: MostImproved | None


def compute_awards(standings: Standings) -> Awards:
    """The results post's awards; each is None when nobody qualifies."""
    return Awards(
        best_day=best_single_day(standings),
        longest_streak=longest_streak(standings),
        most_improved=most_improved(standings),
    )


def best_single_day(standings: Standings) -> BestDay | None:
    """Highest capped daily value; ties go to whoever did it first, then the lower id."""
    candidates = [
        (-value, day, s.player_id)
        for s in standings.players
        for day, value in s.daily_values.items()
    ]
    if not candidates:
        return None
    negative_value, day, player = min(candidates)
    return BestDay(player_id=player, day=day, value=-negative_value)


def longest_streak(standings: Standings) -> LongestStreak | None:
    """Longest run of goal days (best streak) and everyone who reached it; None if 0."""
    best = max((s.best_streak for s in standings.players), default=0)
    if best == 0:
        return None
    holders = tuple(sorted(s.player_id for s in standings.players if s.best_streak == best))
    return LongestStreak(player_ids=holders, days=best)


def most_improved(standings: Standings) -> MostImproved | None:
    """Biggest positive percent over their own baseline. Players compared with the group
    median are left out: the award is about beating yourself. None if nobody improved."""
    candidates = [
        (percent_above(_mean(s.daily_values.values()), s.baseline), s.player_id)
        for s in standings.players
        if s.has_data and s.baseline_is_own and s.baseline is not None
    ]
    improved = [(percent, player) for percent, player in candidates if percent > 0]
    if not improved:
        return None
    percent, player = max(improved, key=lambda item: (item[0], -item[1]))
    return MostImproved(player_id=player, percent=percent)


def _mean(values: Iterable[float]) -> float:
    items = sorted(values)
    return math.fsum(items) / len(items)
