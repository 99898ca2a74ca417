"""Team standings: each team's score from its members' (sum or mean, a member without data
counting with the score of a player whose every day was empty), ranked like players (ties share
the place: the players' tie-break does not apply to teams)."""

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
    """Team scores (sum or mean of members' scores, members without data included), ranked
    like players; ties share the place and are ordered by team name."""
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
    # A member who never synced counts with the score a day without data earns (0, and in
    # `improvement` -100% once their days have elapsed): leaving the least active member
    # unlinked never raises a team's score.
    scores = [m.score for m in members]
    total = math.fsum(sorted(scores))
    return total / len(scores) if mode is TeamMode.MEAN else total
