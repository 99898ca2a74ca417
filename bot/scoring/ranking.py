"""Competition ranks ("1224") of anything with a score, and how players' ranks moved between
two posts."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

from bot.scoring.results import Standings
from bot.scoring.rules import PlayerId

K = TypeVar("K", bound=Hashable)
S = TypeVar("S", float, tuple[float, float])  # a score, or a score and its tie-break key


def competition_ranks(scores: Mapping[K, S]) -> dict[K, int]:
    """Competition ranking ("1224"): rank = 1 + how many have a strictly higher score (scores
    given as (score, tie-break key) compare by score first, then by key)."""
    ordered = sorted(scores.values(), reverse=True)
    first_position: dict[S, int] = {}
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
