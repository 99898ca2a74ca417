"""A challenge's rules in plain words."""

from __future__ import annotations

import datetime as dt
import itertools

from bot.challenges.describe import rule_sentences
from bot.challenges.model import Challenge, ChallengeStatus
from bot.domain import Metric, ScoringMode, TeamMode
from tests.challenges.fakes import ADMIN, CHANNEL, GUILD, START, D


def test_rules_in_words_cover_every_mode() -> None:
    base = dict(
        id=1, guild_id=GUILD, channel_id=CHANNEL, name="X", metric=Metric.STEPS,
        start=D(2024, 5, 6), end=D(2024, 5, 12), time_zone="UTC", post_time=dt.time(9),
        daily_goal=10_000.0, daily_cap=None, allow_manual=False, grace_hours=24,
        team_mode=TeamMode.MEAN, points_table=None, tiers=None, max_players=None,
        late_join_backfill=True, preset=None, status=ChallengeStatus.ACTIVE, ended_at=None,
        created_by=ADMIN, created_at=START,
    )  # fmt: skip
    firsts = {
        mode: rule_sentences(Challenge(mode=mode, **base), has_teams=True)  # type: ignore[arg-type]
        for mode in ScoringMode
    }
    assert firsts[ScoringMode.TOTAL][0] == "Most steps in total wins."
    assert firsts[ScoringMode.DAILY_RANK][0].startswith(
        "Every day the top players by steps score 3, 2, 1"
    )
    assert "5,000 steps = 1" in firsts[ScoringMode.TIERS][0]
    assert "Teams score the average of their members' scores." in firsts[ScoringMode.TOTAL]
    assert "Players who join late count from the start." in firsts[ScoringMode.TOTAL]
    assert all(lines for lines in firsts.values())
    assert len(set(itertools.chain(*(lines[:1] for lines in firsts.values())))) == len(ScoringMode)
