"""Balanced teams from players' recent averages (pure)."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

TEAM_NAMES = ("Red", "Blue", "Green", "Gold", "Purple", "Orange", "Teal", "Pink", "Silver", "Navy")


def balance_teams(strengths: Mapping[int, float | None], names: Sequence[str]) -> dict[int, str]:
    """Split players into teams of equal size (±1) with totals as even as possible.

    Greedy by rounds: players are taken strongest first, `len(names)` at a time, and in each
    round the strongest goes to the team with the lowest total so far, the next to the next
    lowest, and so on (ties: fewer members, then the order of `names`). A player without a
    recent average (None) counts as the median of the others: someone whose data is unknown is
    assumed typical rather than idle."""
    if not names:
        raise ValueError("at least one team name is needed")
    known = [s for s in strengths.values() if s is not None]
    fill = float(statistics.median(known)) if known else 0.0
    strength = {p: (fill if s is None else s) for p, s in strengths.items()}
    order = sorted(strength, key=lambda p: (-strength[p], p))
    totals = [0.0] * len(names)
    sizes = [0] * len(names)
    assignment: dict[int, str] = {}
    for round_start in range(0, len(order), len(names)):
        round_players = order[round_start : round_start + len(names)]
        teams = sorted(range(len(names)), key=lambda i: (totals[i], sizes[i], i))
        for player, team in zip(round_players, teams, strict=False):
            assignment[player] = names[team]
            totals[team] += strength[player]
            sizes[team] += 1
    return assignment
