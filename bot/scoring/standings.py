"""`compute_standings`: every player's days, points, score, rank (with the rules' tie-break) and
streaks, and the teams'."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from bot.domain import DailyValue
from bot.scoring.baselines import resolve_baselines
from bot.scoring.days import elapsed_days, merge_daily_values, scored_days
from bot.scoring.modes import points_by_player, score_from_points
from bot.scoring.results import PlayerStanding, Standings
from bot.scoring.rules import ChallengeRules, PlayerId
from bot.scoring.streaks import compute_streaks, goal_met_by_day
from bot.scoring.teams import team_standings
from bot.scoring.tiebreak import player_ranks


@dataclass(frozen=True, slots=True)
class _Tally:
    """One player's days worked out, before anyone is ranked."""

    player_id: PlayerId
    first_day: dt.date
    daily_values: dict[dt.date, float]
    daily_points: dict[dt.date, float]
    elapsed_days: int
    score: float
    baseline: float | None
    baseline_is_own: bool


def compute_standings(
    rules: ChallengeRules,
    values: Mapping[PlayerId, Iterable[DailyValue]],
    *,
    through: dt.date,
    provisional_days: frozenset[dt.date] = frozenset(),
    baselines: Mapping[PlayerId, float] | None = None,
    teams: Mapping[PlayerId, str] | None = None,
    first_days: Mapping[PlayerId, dt.date] | None = None,
) -> Standings:
    """Score every player through `through` (the last day to include).

    `values` holds every participant, with an empty iterable for one who has not synced; values
    of other metrics are ignored, several providers' values for a day are merged by max.
    `baselines` (from `baseline_from_history`) are needed for `improvement` and the
    most-improved award. `teams` maps player -> team name; team members missing from `values`
    are participants without data (scored as a day without data is). `first_days` maps late
    joiners to their first day (everyone else's is the start). Players tied on score are
    ranked apart by `rules.tie_break` (`bot.scoring.tiebreak`)."""
    days = scored_days(rules, through)
    provisional = frozenset(provisional_days) & frozenset(days)
    participants = sorted(set(values) | set(teams or {}))
    tallies = _tallies(
        rules,
        values,
        participants,
        days,
        provisional,
        through=through,
        baselines=baselines or {},
        first_days=first_days or {},
    )
    unranked = [_standing(rules, days, provisional, tally) for tally in tallies]
    ranks = player_ranks(rules, days, provisional, unranked)
    players = tuple(
        sorted(
            (replace(s, rank=ranks[s.player_id]) for s in unranked),
            key=lambda s: (s.rank, s.player_id),
        )
    )
    return Standings(
        rules=rules,
        through=through,
        days=days,
        provisional_days=provisional,
        players=players,
        teams=team_standings(rules.team_mode, players, teams or {}),
    )


def _tallies(
    rules: ChallengeRules,
    values: Mapping[PlayerId, Iterable[DailyValue]],
    participants: Sequence[PlayerId],
    days: tuple[dt.date, ...],
    provisional: frozenset[dt.date],
    *,
    through: dt.date,
    baselines: Mapping[PlayerId, float],
    first_days: Mapping[PlayerId, dt.date],
) -> list[_Tally]:
    """Each participant's daily values, points and score (in `participants` order)."""
    last = min(rules.end, through)
    first = {
        player: max(rules.start, first_days.get(player, rules.start)) for player in participants
    }
    daily = {
        player: merge_daily_values(rules, values.get(player, ()), first[player], last)
        for player in participants
    }
    resolved = resolve_baselines(participants, baselines)
    points = points_by_player(rules, daily, resolved)
    tallies: list[_Tally] = []
    for player in participants:
        elapsed = elapsed_days(days, provisional, daily[player], first[player])
        baseline, is_own = resolved[player]
        tallies.append(
            _Tally(
                player_id=player,
                first_day=first[player],
                daily_values=daily[player],
                daily_points=points[player],
                elapsed_days=elapsed,
                score=score_from_points(
                    rules.mode,
                    points[player],
                    elapsed,
                    daily_values=daily[player],
                    baseline=baseline,
                ),
                baseline=baseline,
                baseline_is_own=is_own,
            )
        )
    return tallies


def _standing(
    rules: ChallengeRules,
    days: tuple[dt.date, ...],
    provisional: frozenset[dt.date],
    tally: _Tally,
) -> PlayerStanding:
    """The player's standing, not ranked yet (rank 0)."""
    goal_met = goal_met_by_day(rules, days, tally.daily_values)
    current, best = compute_streaks(days, goal_met, provisional)
    return PlayerStanding(
        player_id=tally.player_id,
        score=tally.score,
        rank=0,
        daily_values=tally.daily_values,
        daily_points=tally.daily_points,
        goal_met=goal_met,
        current_streak=current,
        best_streak=best,
        has_data=bool(tally.daily_values),
        elapsed_days=tally.elapsed_days,
        first_day=tally.first_day,
        baseline=tally.baseline,
        baseline_is_own=tally.baseline_is_own,
    )
