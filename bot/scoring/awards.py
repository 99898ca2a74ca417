"""The results post's podium and awards: best single day, longest streak and most improved.

A score of 0 never wins anything: the podium is the players ranked 1 to 3 with a score above 0
(tied players share a medal; in a Goal Day everyone who reached the goal shares gold and nobody
else has a medal), and each award needs a value, a streak or an improvement above 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.scoring.modes import improvement_percent
from bot.scoring.results import PlayerStanding, Standings
from bot.scoring.rules import PlayerId

PODIUM_PLACES = 3


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
    percent: float  # average over the elapsed days vs. the player's own baseline


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


def podium(standings: Standings) -> tuple[PlayerStanding, ...]:
    """The players who win a medal, in rank order: ranked 1 to `PODIUM_PLACES` and with a
    score above 0 (ties share a medal, so there can be more than three)."""
    return tuple(p for p in standings.players if p.rank <= PODIUM_PLACES and p.score > 0)


def best_single_day(standings: Standings) -> BestDay | None:
    """Highest capped daily value above 0; ties go to whoever did it first, then the lower id."""
    candidates = [
        (-value, day, s.player_id)
        for s in standings.players
        for day, value in s.daily_values.items()
        if value > 0
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
    """Biggest positive percent over their own baseline, by the `improvement` rule: the average
    over the player's elapsed days (a final day without data counting as 0) against the
    baseline. Players compared with the group median are left out: the award is about beating
    yourself. None if nobody improved."""
    candidates = [
        (improvement_percent(s.daily_values, s.elapsed_days, s.baseline), s.player_id)
        for s in standings.players
        if s.baseline_is_own
    ]
    improved = [(percent, player) for percent, player in candidates if percent > 0]
    if not improved:
        return None
    percent, player = max(improved, key=lambda item: (item[0], -item[1]))
    return MostImproved(player_id=player, percent=percent)
