"""Pure scoring engine: daily metric values in, standings, streaks and awards out.

Nothing here does I/O, reads a clock or knows about Discord: the daily-run service loads values
from storage and calls `compute_standings`; the cog and the renderers read the result.

Vocabulary used throughout:

* **Scored days** are the civil dates `start..min(end, through)`, inclusive. Values on days
  outside that window (before the start, after the end, after `through`) are ignored.
* Each scored day is **final** or **provisional**; the caller says which through
  `provisional_days` (typically "today" and days whose late syncs are still expected).
* A player's **first day** is the start, or the day a late joiner's days count from: their values
  before it are ignored and the days before it are not days they missed.
* A player's **elapsed days** are the final scored days from their first day, plus the provisional
  scored days on which the player already has a value. A provisional day without data has not
  happened yet for that player: it is not averaged as 0 and it does not break a streak. A final
  day without data has happened: in `average` mode it counts as 0.
* A player's **daily value** for a day is the highest value any of their linked providers
  reported for the challenge metric (never the sum, which would double count one walk seen by two
  devices), after dropping manual entries when the challenge forbids them and clamping to the
  daily cap.

Modes (`ScoringMode`) and what one day is worth (`daily_points`):

* `total`: the daily value; the score is the sum.
* `average`: the daily value; the score is the sum divided by the player's elapsed days.
* `goal_days`: 1 when the daily goal is met, else 0; the score is the sum.
* `daily_rank`: `points_table[rank - 1]` for that day's competition rank among players with a
  value above 0 (a zero reading is no activity and earns nothing); the score is the sum.
* `tiers`: the points of the highest threshold the value reaches; the score is the sum.
* `improvement`: percent above the baseline; the score is the mean over days with data (a
  missing day contributes nothing, as in every mode except `average`). A player without data
  scores 0, "no change"; when nobody has a baseline everyone scores 0.

Scores are summed with `math.fsum`, so they do not depend on the order the values arrived in and
players with the same values tie exactly.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import statistics
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bot.domain import DailyValue, Metric, ScoringMode, TeamMode

PlayerId = int
K = TypeVar("K", bound=Hashable)

BASELINE_DAYS = 14
"""How many days before the start make up a player's baseline (the median of those days)."""

_ADDITIVE_MODES = frozenset(
    {ScoringMode.TOTAL, ScoringMode.GOAL_DAYS, ScoringMode.DAILY_RANK, ScoringMode.TIERS}
)


# --------------------------------------------------------------------------- inputs


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

    def __post_init__(self) -> None:
        problems = rule_problems(self)
        if problems:
            raise ValueError("; ".join(problems))


def rule_problems(rules: ChallengeRules) -> list[str]:
    """Human-readable reasons why these rules cannot be scored (empty when they are fine)."""
    problems: list[str] = []
    if rules.end < rules.start:
        problems.append("the challenge must end on or after its start date")
    if rules.daily_goal is not None and not _is_positive(rules.daily_goal):
        problems.append("the daily goal must be a positive number")
    if rules.daily_cap is not None and not _is_positive(rules.daily_cap):
        problems.append("the daily cap must be a positive number")
    if (
        rules.daily_goal is not None
        and rules.daily_cap is not None
        and rules.daily_goal > rules.daily_cap
    ):
        problems.append("the daily goal cannot be above the daily cap, nobody could meet it")
    if rules.mode is ScoringMode.GOAL_DAYS and rules.daily_goal is None:
        problems.append("goal-days scoring needs a daily goal")
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


def _is_positive(value: float) -> bool:
    return math.isfinite(value) and value > 0


def _is_non_negative(value: float) -> bool:
    return math.isfinite(value) and value >= 0


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True)
class PlayerStanding:
    """One player's result. Dicts are keyed by scored day; see the module docstring."""

    player_id: PlayerId
    score: float
    rank: int
    daily_values: dict[dt.date, float]  # only days with data, after manual policy and cap
    daily_points: dict[dt.date, float]  # only days with data
    goal_met: dict[dt.date, bool]  # every scored day; always False without a daily goal
    current_streak: int
    best_streak: int
    has_data: bool  # any value on a scored day
    elapsed_days: int
    first_day: dt.date  # the first day that counts for this player (see the module docstring)
    baseline: float | None = None  # the baseline used for this player, own or group
    baseline_is_own: bool = False  # False when the group median stood in (or no baseline)


@dataclass(frozen=True, slots=True)
class TeamStanding:
    team: str
    score: float
    rank: int
    member_ids: tuple[PlayerId, ...]  # sorted
    syncing_members: int  # members with data; the others counted as 0


@dataclass(frozen=True, slots=True)
class Standings:
    """The result of `compute_standings`.

    `players` and `teams` are in rank order; players sharing a rank are ordered by id here
    (renderers re-order ties by display name)."""

    rules: ChallengeRules
    through: dt.date
    days: tuple[dt.date, ...]  # the scored days, in order
    provisional_days: frozenset[dt.date]  # the provisional ones among `days`
    players: tuple[PlayerStanding, ...]
    teams: tuple[TeamStanding, ...] = ()

    def player(self, player_id: PlayerId) -> PlayerStanding:
        """The standing of one player; KeyError if they are not in the challenge."""
        for standing in self.players:
            if standing.player_id == player_id:
                return standing
        raise KeyError(player_id)

    @property
    def has_provisional_days(self) -> bool:
        return bool(self.provisional_days)


# --------------------------------------------------------------------------- days and values


def scored_days(rules: ChallengeRules, through: dt.date) -> tuple[dt.date, ...]:
    """The challenge days from the start up to `through` (inclusive, never past the end)."""
    last = min(rules.end, through)
    count = (last - rules.start).days + 1
    return tuple(rules.start + dt.timedelta(days=i) for i in range(max(count, 0)))


def merge_daily_values(
    rules: ChallengeRules,
    values: Iterable[DailyValue],
    first: dt.date,
    last: dt.date,
) -> dict[dt.date, float]:
    """One value per day in `first..last` for the challenge metric: the highest reading across
    providers, manual entries dropped if the rules forbid them, clamped to the daily cap."""
    merged: dict[dt.date, float] = {}
    for item in values:
        if not _counts(rules, item, first, last):
            continue
        value = max(item.value, 0.0)
        merged[item.day] = max(merged.get(item.day, value), value)
    return {day: cap_value(rules, merged[day]) for day in sorted(merged)}


def _counts(rules: ChallengeRules, item: DailyValue, first: dt.date, last: dt.date) -> bool:
    # A NaN would poison max() and every sum after it; a provider glitch must not score.
    return (
        item.metric == rules.metric
        and first <= item.day <= last
        and math.isfinite(item.value)
        and (rules.allow_manual or not item.includes_manual)
    )


def cap_value(rules: ChallengeRules, value: float) -> float:
    """The value as it counts for the challenge: never above the daily cap."""
    return value if rules.daily_cap is None else min(value, rules.daily_cap)


def elapsed_days(
    days: Sequence[dt.date],
    provisional: frozenset[dt.date],
    daily_values: Mapping[dt.date, float],
    first_day: dt.date,
) -> int:
    """Final days from `first_day`, plus provisional days on which the player already has a
    value."""
    return sum(
        1 for day in days if day >= first_day and (day not in provisional or day in daily_values)
    )


# --------------------------------------------------------------------------- goals and streaks


def goal_met_by_day(
    rules: ChallengeRules, days: Sequence[dt.date], daily_values: Mapping[dt.date, float]
) -> dict[dt.date, bool]:
    """For every scored day, whether the (capped) value reached the daily goal."""
    goal = rules.daily_goal
    return {
        day: goal is not None and day in daily_values and daily_values[day] >= goal for day in days
    }


def compute_streaks(
    days: Sequence[dt.date], goal_met: Mapping[dt.date, bool], provisional: frozenset[dt.date]
) -> tuple[int, int]:
    """(current, best) runs of consecutive days with the goal met.

    A provisional day that is not (yet) met is skipped: late data may still complete it, so it
    must not reset a streak. A met provisional day extends the run like any other."""
    run = best = 0
    for day in days:
        if goal_met.get(day, False):
            run += 1
            best = max(best, run)
        elif day not in provisional:
            run = 0
    return run, best


# --------------------------------------------------------------------------- points per mode


def tier_points(rules: ChallengeRules, value: float) -> float:
    """Points of the highest tier whose threshold the value reaches (0 below the first)."""
    points = 0.0
    for threshold, tier_value in rules.tiers:
        if value >= threshold:
            points = float(tier_value)
    return points


def daily_rank_points(
    rules: ChallengeRules, values_by_player: Mapping[PlayerId, Mapping[dt.date, float]]
) -> dict[PlayerId, dict[dt.date, float]]:
    """Each day, `points_table[rank - 1]` by that day's competition rank (tied players share
    the better rank's points); players ranked beyond the table or at 0 get 0 for the day."""
    points: dict[PlayerId, dict[dt.date, float]] = {
        player: dict.fromkeys(values, 0.0) for player, values in values_by_player.items()
    }
    all_days = sorted({day for values in values_by_player.values() for day in values})
    for day in all_days:
        active = {
            player: values[day]
            for player, values in values_by_player.items()
            if values.get(day, 0.0) > 0
        }
        for player, rank in competition_ranks(active).items():
            if rank <= len(rules.points_table):
                points[player][day] = float(rules.points_table[rank - 1])
    return points


def percent_above(value: float, baseline: float) -> float:
    """How far `value` is above `baseline`, in percent (negative when below)."""
    return 100.0 * (value - baseline) / baseline


def _points_for_day(rules: ChallengeRules, value: float, baseline: float | None) -> float | None:
    """One day's points in every mode except `daily_rank` (which needs the whole group)."""
    match rules.mode:
        case ScoringMode.TOTAL | ScoringMode.AVERAGE:
            return value
        case ScoringMode.GOAL_DAYS:
            return 1.0 if rules.daily_goal is not None and value >= rules.daily_goal else 0.0
        case ScoringMode.TIERS:
            return tier_points(rules, value)
        case ScoringMode.IMPROVEMENT:
            return None if baseline is None else percent_above(value, baseline)
        case _:
            raise ValueError(f"{rules.mode} is scored across players, not per day")


def score_from_points(
    mode: ScoringMode, daily_points: Mapping[dt.date, float], elapsed: int
) -> float:
    """A player's score from their daily points (see the module docstring for each mode)."""
    total = math.fsum(daily_points[day] for day in sorted(daily_points))
    if mode is ScoringMode.AVERAGE:
        return total / elapsed if elapsed else 0.0
    if mode is ScoringMode.IMPROVEMENT:
        return total / len(daily_points) if daily_points else 0.0
    return total


# --------------------------------------------------------------------------- baselines


def baseline_from_history(
    rules: ChallengeRules, values_before_start: Iterable[DailyValue]
) -> float | None:
    """The median daily value of the `BASELINE_DAYS` days before the start (same metric,
    manual policy, provider merge and cap as the challenge), or None without usable data.

    Days without data are left out rather than counted as 0: an unworn watch says nothing
    about how active someone usually is. A median of 0 is no baseline (no percent of 0)."""
    first = rules.start - dt.timedelta(days=BASELINE_DAYS)
    last = rules.start - dt.timedelta(days=1)
    daily = merge_daily_values(rules, values_before_start, first, last)
    if not daily:
        return None
    median = float(statistics.median(daily.values()))
    return median if median > 0 else None


def resolve_baselines(
    players: Iterable[PlayerId], baselines: Mapping[PlayerId, float]
) -> dict[PlayerId, tuple[float | None, bool]]:
    """(baseline, is_own) per player: their own when usable, else the median of the group's
    usable baselines, else (None, False) when nobody has one."""
    own = {
        player: baselines[player]
        for player in players
        if player in baselines and _is_positive(baselines[player])
    }
    group = float(statistics.median(own.values())) if own else None
    return {player: (own[player], True) if player in own else (group, False) for player in players}


# --------------------------------------------------------------------------- ranking


def competition_ranks(scores: Mapping[K, float]) -> dict[K, int]:
    """Competition ranking ("1224"): rank = 1 + how many have a strictly higher score."""
    ordered = sorted(scores.values(), reverse=True)
    first_position: dict[float, int] = {}
    for position, score in enumerate(ordered, start=1):
        first_position.setdefault(score, position)
    return {key: first_position[score] for key, score in scores.items()}


def ranks_of(standings: Standings) -> dict[PlayerId, int]:
    """Player -> rank, the mapping to store with a post and pass back as `previous`."""
    return {p.player_id: p.rank for p in standings.players}


def rank_changes(
    previous: Mapping[PlayerId, int], current: Standings
) -> dict[PlayerId, int | None]:
    """Places gained since `previous` ranks (positive = moved up, 0 = same, None = new)."""
    return {
        p.player_id: previous[p.player_id] - p.rank if p.player_id in previous else None
        for p in current.players
    }


# --------------------------------------------------------------------------- standings


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
    are participants without data (they count as 0). `first_days` maps late joiners to their
    first day (everyone else's is the start)."""
    days = scored_days(rules, through)
    provisional = frozenset(provisional_days) & frozenset(days)
    participants = sorted(set(values) | set(teams or {}))
    last = min(rules.end, through)
    first = {
        player: max(rules.start, (first_days or {}).get(player, rules.start))
        for player in participants
    }
    daily = {
        player: merge_daily_values(rules, values.get(player, ()), first[player], last)
        for player in participants
    }
    resolved = resolve_baselines(participants, baselines or {})
    points = _points_by_player(rules, daily, resolved)
    scores = {
        player: score_from_points(
            rules.mode,
            points[player],
            elapsed_days(days, provisional, daily[player], first[player]),
        )
        for player in participants
    }
    ranks = competition_ranks(scores)
    players = tuple(
        sorted(
            (
                _player_standing(
                    rules,
                    days,
                    provisional,
                    player,
                    first[player],
                    daily,
                    points,
                    scores,
                    ranks,
                    resolved,
                )
                for player in participants
            ),
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


def _points_by_player(
    rules: ChallengeRules,
    daily: Mapping[PlayerId, Mapping[dt.date, float]],
    baselines: Mapping[PlayerId, tuple[float | None, bool]],
) -> dict[PlayerId, dict[dt.date, float]]:
    if rules.mode is ScoringMode.DAILY_RANK:
        return daily_rank_points(rules, daily)
    result: dict[PlayerId, dict[dt.date, float]] = {}
    for player, values in daily.items():
        baseline = baselines[player][0]
        per_day = {day: _points_for_day(rules, value, baseline) for day, value in values.items()}
        result[player] = {day: p for day, p in per_day.items() if p is not None}
    return result


def _player_standing(
    rules: ChallengeRules,
    days: tuple[dt.date, ...],
    provisional: frozenset[dt.date],
    player: PlayerId,
    first_day: dt.date,
    daily: Mapping[PlayerId, dict[dt.date, float]],
    points: Mapping[PlayerId, dict[dt.date, float]],
    scores: Mapping[PlayerId, float],
    ranks: Mapping[PlayerId, int],
    baselines: Mapping[PlayerId, tuple[float | None, bool]],
) -> PlayerStanding:
    goal_met = goal_met_by_day(rules, days, daily[player])
    current, best = compute_streaks(days, goal_met, provisional)
    baseline, is_own = baselines[player]
    return PlayerStanding(
        player_id=player,
        score=scores[player],
        rank=ranks[player],
        daily_values=daily[player],
        daily_points=points[player],
        goal_met=goal_met,
        current_streak=current,
        best_streak=best,
        has_data=bool(daily[player]),
        elapsed_days=elapsed_days(days, provisional, daily[player], first_day),
        first_day=first_day,
        baseline=baseline,
        baseline_is_own=is_own,
    )


def team_standings(
    mode: TeamMode, players: Sequence[PlayerStanding], teams: Mapping[PlayerId, str]
) -> tuple[TeamStanding, ...]:
    """Team scores (sum or mean of members' scores, members without data counting as 0),
    ranked like players; ties ordered by team name."""
    members: dict[str, list[PlayerStanding]] = {}
    for standing in players:
        if standing.player_id in teams:
            members.setdefault(teams[standing.player_id], []).append(standing)
    scores = {team: _team_score(mode, group) for team, group in members.items()}
    ranks = competition_ranks(scores)
    result = (
        TeamStanding(
            team=team,
            score=scores[team],
            rank=ranks[team],
            member_ids=tuple(sorted(s.player_id for s in group)),
            syncing_members=sum(1 for s in group if s.has_data),
        )
        for team, group in members.items()
    )
    return tuple(sorted(result, key=lambda t: (t.rank, t.team)))


def _team_score(mode: TeamMode, members: Sequence[PlayerStanding]) -> float:
    # A member who never synced has no score of their own; counting them as 0 keeps a team
    # from raising its mean by leaving its least active member unlinked.
    scores = [m.score if m.has_data else 0.0 for m in members]
    total = math.fsum(sorted(scores))
    return total / len(scores) if mode is TeamMode.MEAN else total


# --------------------------------------------------------------------------- chart series


def cumulative_series(standings: Standings) -> dict[PlayerId, list[tuple[dt.date, float]]]:
    """For each player, their score as it stood at the end of each scored day.

    For the additive modes this is the running sum of daily points; for `average` and
    `improvement` it is the running average, so the last point equals the score (up to float
    rounding)."""
    return {standing.player_id: _series_for(standing, standings) for standing in standings.players}


def _series_for(standing: PlayerStanding, standings: Standings) -> list[tuple[dt.date, float]]:
    mode = standings.rules.mode
    running = 0.0
    elapsed = with_points = 0
    series: list[tuple[dt.date, float]] = []
    for day in standings.days:
        if day >= standing.first_day and (
            day not in standings.provisional_days or day in standing.daily_values
        ):
            elapsed += 1
        if day in standing.daily_points:
            running += standing.daily_points[day]
            with_points += 1
        if mode is ScoringMode.AVERAGE:
            value = running / elapsed if elapsed else 0.0
        elif mode is ScoringMode.IMPROVEMENT:
            value = running / with_points if with_points else 0.0
        else:
            value = running
        series.append((day, value))
    return series


# --------------------------------------------------------------------------- awards


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
