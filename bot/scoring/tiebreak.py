"""Ranks with the challenge's tie-break (`TieBreak`).

Players are ranked by score ("1224", `ranking.competition_ranks`); players tied on score are
then told apart by the tie-break, and those it cannot tell apart still share the place:

* `none`: tied players share the place.
* `goal_days`: more days with the daily goal met ranks ahead.
* `first_to_score`: the player whose running score (the chart's line) reached their final score
  on an earlier day ranks ahead: the first scored day on which it was at least the final score.

`compute_standings` ranks with `player_ranks`, and a Streak challenge (ranked by best streak)
with `streak_ranks`, so the posts, `/leaderboard`, `/me` and the results all agree.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence

from bot.scoring.ranking import competition_ranks
from bot.scoring.results import PlayerStanding, Standings
from bot.scoring.rules import ChallengeRules, PlayerId, TieBreak
from bot.scoring.series import running_scores
from bot.scoring.streaks import best_streak_series

REACHED_TOLERANCE = 1e-9
"""How close (relative) a running score must come to the final one to have reached it: the
running sums and the score are added up in different orders, which can differ in the last bit."""


def goal_day_count(standing: PlayerStanding) -> int:
    """How many scored days the player met the daily goal on."""
    return sum(1 for met in standing.goal_met.values() if met)


def score_reached_on(series: Sequence[tuple[dt.date, float]], final: float) -> dt.date | None:
    """The first day of `series` (day, running score) on which the running score was at least
    `final`; None when it never was (or there are no days)."""
    for day, value in series:
        if value >= final or math.isclose(value, final, rel_tol=REACHED_TOLERANCE):
            return day
    return None


def tie_broken_ranks(
    tie_break: TieBreak,
    scores: Mapping[PlayerId, float],
    goal_days: Mapping[PlayerId, int],
    reached_on: Mapping[PlayerId, dt.date | None],
) -> dict[PlayerId, int]:
    """Competition ranks by score, players tied on score ordered by the tie-break; those still
    tied share the place. `goal_days` is read only for `goal_days`, `reached_on` only for
    `first_to_score` (a player who never reached their score ranks behind those who did)."""

    def key(player: PlayerId) -> float:
        match tie_break:
            case TieBreak.GOAL_DAYS:
                return float(goal_days[player])
            case TieBreak.FIRST_TO_SCORE:
                day = reached_on.get(player)
                return -math.inf if day is None else -float(day.toordinal())
            case _:
                return 0.0

    return competition_ranks({player: (score, key(player)) for player, score in scores.items()})


def player_ranks(
    rules: ChallengeRules,
    days: Sequence[dt.date],
    provisional: frozenset[dt.date],
    players: Sequence[PlayerStanding],
) -> dict[PlayerId, int]:
    """The players' ranks by score with the rules' tie-break (their `rank` fields are ignored)."""
    reached: dict[PlayerId, dt.date | None] = {}
    if rules.tie_break is TieBreak.FIRST_TO_SCORE:
        reached = {
            p.player_id: score_reached_on(running_scores(rules.mode, days, provisional, p), p.score)
            for p in players
        }
    return tie_broken_ranks(
        rules.tie_break,
        {p.player_id: p.score for p in players},
        {p.player_id: goal_day_count(p) for p in players},
        reached,
    )


def streak_ranks(standings: Standings) -> dict[PlayerId, int]:
    """A Streak challenge's ranks: by best streak, with the rules' tie-break (`first_to_score`:
    who first reached their best streak on an earlier day)."""
    streaks = {p.player_id: float(p.best_streak) for p in standings.players}
    reached = {
        p.player_id: score_reached_on(
            best_streak_series(standings.days, p.goal_met, standings.provisional_days),
            streaks[p.player_id],
        )
        for p in standings.players
    }
    return tie_broken_ranks(
        standings.rules.tie_break,
        streaks,
        {p.player_id: goal_day_count(p) for p in standings.players},
        reached,
    )
