"""Team standings: each team's score from its members' (sum or mean, a member without data
counting as 0), ranked like players."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from bot.domain import TeamMode
from bot.scoring.ranking import competition_ranks
from bot.scoring.results import PlayerStanding, TeamStanding
from bot.scoring.rules import PlayerId


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
