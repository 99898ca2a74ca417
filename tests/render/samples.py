"""Standings to render in the tests: five players over two weeks, and the checks that a post
fits Discord and reads as expected."""

from __future__ import annotations

import datetime as dt

import discord

from bot.domain import DailyValue, Metric, ScoringMode
from bot.render.leaderboard import EmbedContent
from bot.render.text import (
    DESCRIPTION_LIMIT,
    FIELD_COUNT_LIMIT,
    FIELD_NAME_LIMIT,
    FIELD_VALUE_LIMIT,
    FOOTER_LIMIT,
    TITLE_LIMIT,
    TOTAL_LIMIT,
    discord_length,
)
from bot.scoring import ChallengeRules, Standings, compute_standings

START = dt.date(2025, 6, 2)  # Monday
END = START + dt.timedelta(days=13)
ALICE, BOB, CAROL, DAN, EVE = 1, 2, 3, 4, 5
NAMES = {ALICE: "Alice", BOB: "Bob", CAROL: "Carol", DAN: "Dan", EVE: "Eve"}


def day(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


def steps(n: int, value: float) -> DailyValue:
    return DailyValue(Metric.STEPS, day(n), value)


def goal_rules(mode: ScoringMode = ScoringMode.TOTAL) -> ChallengeRules:
    return ChallengeRules(Metric.STEPS, mode, START, END, daily_goal=10_000)


def sample_standings(**kwargs: object) -> Standings:
    """Alice and Carol tie on 36,000 with 3-day streaks; Bob 32,000; Eve synced once; Dan never."""
    values = {
        ALICE: [steps(0, 12_000), steps(1, 11_000), steps(2, 13_000)],
        BOB: [steps(0, 9000), steps(1, 15_000), steps(2, 8000)],
        CAROL: [steps(0, 12_000), steps(1, 11_000), steps(2, 13_000)],
        DAN: [],
        EVE: [steps(0, 3000)],
    }
    return compute_standings(goal_rules(), values, through=day(2), **kwargs)  # type: ignore[arg-type]


def row_for(content: EmbedContent, name: str) -> str:
    rows = [line for line in content.description.splitlines() if f" {name} " in f"{line} "]
    assert len(rows) == 1, rows
    return rows[0]


def assert_fits_discord(content: EmbedContent) -> None:
    assert discord_length(content.title) <= TITLE_LIMIT
    assert discord_length(content.description) <= DESCRIPTION_LIMIT
    assert len(content.fields) <= FIELD_COUNT_LIMIT
    for field in content.fields:
        assert 0 < discord_length(field.name) <= FIELD_NAME_LIMIT
        assert 0 < discord_length(field.value) <= FIELD_VALUE_LIMIT
    assert discord_length(content.footer) <= FOOTER_LIMIT
    assert content.text_length() <= TOTAL_LIMIT
    # Cross-check with discord.py's own accounting of the embed a cog would build.
    embed = discord.Embed(
        title=content.title, description=content.description, colour=content.colour
    )
    for name, value, inline in content.fields:
        embed.add_field(name=name, value=value, inline=inline)
    embed.set_footer(text=content.footer)
    assert len(embed) <= TOTAL_LIMIT
