"""Builders shared by the example-based scoring tests: a one-week steps challenge and its
players' values (no tests here)."""

from __future__ import annotations

import datetime as dt

from bot.domain import DailyValue, Metric, ScoringMode
from bot.scoring import ChallengeRules, Standings

START = dt.date(2025, 6, 2)  # a Monday; the challenge runs one week
END = START + dt.timedelta(days=6)
ALICE, BOB, CAROL, DAN = 101, 202, 303, 404


def day(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


def steps(n: int, value: float, *, manual: bool = False) -> DailyValue:
    return DailyValue(Metric.STEPS, day(n), value, includes_manual=manual)


def rules(mode: ScoringMode = ScoringMode.TOTAL, **overrides: object) -> ChallengeRules:
    settings: dict[str, object] = {"mode": mode, **overrides}
    return ChallengeRules(metric=Metric.STEPS, start=START, end=END, **settings)  # type: ignore[arg-type]


def scores(standings: Standings) -> dict[int, float]:
    return {p.player_id: p.score for p in standings.players}


def ranks(standings: Standings) -> dict[int, int]:
    return {p.player_id: p.rank for p in standings.players}


def goal_rules() -> ChallengeRules:
    return rules(ScoringMode.TOTAL, daily_goal=10_000)
