"""Pure scoring engine: daily metric values in, standings, streaks and awards out.

Nothing here does I/O, reads a clock or knows about Discord: the daily-run service loads values
from storage and calls `compute_standings`; the cog and the renderers read the result. Import
from the package (`from bot.scoring import compute_standings`); its modules are:

* `rules`: the inputs, `PlayerId`, `TieBreak` and `ChallengeRules`, and `rule_problems` (why
  rules are refused, in words for whoever configures the challenge).
* `days`: the scored days, one merged and capped value per player and day, elapsed days.
* `modes`: what a day is worth in each `ScoringMode` and the score from those points (its
  docstring describes every mode).
* `baselines`: a player's baseline from the days before the start, or the group's median.
* `streaks`: goal days and the current and best streaks.
* `ranking`: competition ranks ("1224") and rank changes between posts.
* `tiebreak`: ranks with the challenge's tie-break (more goal days, or first to their score).
* `teams`: team standings from their members'.
* `results`: the output records `Standings`, `PlayerStanding`, `TeamStanding`.
* `standings`: `compute_standings`, which puts all of the above together.
* `series`: the chart's cumulative score per player and day.
* `awards`: the podium (never a score of 0), best single day, longest streak, most improved.

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
  day without data has happened: in `average` and `improvement` modes it counts as 0.
* A player's **daily value** for a day is the highest value any of their linked providers
  reported for the challenge metric (never the sum, which would double count one walk seen by two
  devices), after dropping manual entries when the challenge forbids them and clamping to the
  daily cap. The daily goal is checked against that capped value.

Scores are summed with `math.fsum`, so they do not depend on the order the values arrived in and
players with the same values tie exactly.
"""

from bot.scoring.awards import (
    Awards,
    BestDay,
    LongestStreak,
    MostImproved,
    best_single_day,
    compute_awards,
    longest_streak,
    most_improved,
    podium,
)
from bot.scoring.baselines import BASELINE_DAYS, baseline_from_history, resolve_baselines
from bot.scoring.days import cap_value, elapsed_days, merge_daily_values, scored_days
from bot.scoring.modes import (
    average_over_elapsed,
    daily_rank_points,
    improvement_percent,
    percent_above,
    points_by_player,
    score_from_points,
    tier_points,
)
from bot.scoring.ranking import competition_ranks, rank_changes, ranks_of
from bot.scoring.results import PlayerStanding, Standings, TeamStanding
from bot.scoring.rules import ChallengeRules, PlayerId, TieBreak, rule_problems
from bot.scoring.series import cumulative_series, running_scores
from bot.scoring.standings import compute_standings
from bot.scoring.streaks import best_streak_series, compute_streaks, goal_met_by_day
from bot.scoring.teams import team_standings
from bot.scoring.tiebreak import (
    goal_day_count,
    player_ranks,
    score_reached_on,
    streak_ranks,
    tie_broken_ranks,
)

__all__ = [
    "BASELINE_DAYS",
    "Awards",
    "BestDay",
    "ChallengeRules",
    "LongestStreak",
    "MostImproved",
    "PlayerId",
    "PlayerStanding",
    "Standings",
    "TeamStanding",
    "TieBreak",
    "average_over_elapsed",
    "baseline_from_history",
    "best_single_day",
    "best_streak_series",
    "cap_value",
    "competition_ranks",
    "compute_awards",
    "compute_standings",
    "compute_streaks",
    "cumulative_series",
    "daily_rank_points",
    "elapsed_days",
    "goal_day_count",
    "goal_met_by_day",
    "improvement_percent",
    "longest_streak",
    "merge_daily_values",
    "most_improved",
    "percent_above",
    "player_ranks",
    "podium",
    "points_by_player",
    "rank_changes",
    "ranks_of",
    "resolve_baselines",
    "rule_problems",
    "running_scores",
    "score_from_points",
    "score_reached_on",
    "scored_days",
    "streak_ranks",
    "team_standings",
    "tie_broken_ranks",
    "tier_points",
]
