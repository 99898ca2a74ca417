"""What scoring hands back: `Standings`, with one `PlayerStanding` per player and the teams'
`TeamStanding`s (the words used in the fields are defined in the `bot.scoring` docstring)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.scoring.rules import ChallengeRules, PlayerId


@dataclass(frozen=True, slots=True)
class PlayerStanding:
    """One player's result. Dicts are keyed by scored day; see the `bot.scoring` docstring."""

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
    first_day: dt.date  # the first day that counts for this player (see `bot.scoring`)
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
