"""The `tie_break` option of `/challenge create` and `/challenge edit`, and the rule card it
shows on: every rule that decides a standing, within Discord's embed limits."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bot.challenges.describe import rule_sentences
from bot.challenges.model import Challenge, ChallengeStatus, Participant
from bot.domain import Metric, ScoringMode, TeamMode, Units
from bot.errors import UserError
from bot.render.text import DESCRIPTION_LIMIT, FIELD_VALUE_LIMIT, TOTAL_LIMIT
from bot.scoring import TieBreak
from bot.services import Services
from bot.storage import Database
from cogs.challenges._admin_cog import ChallengeAdminCog
from cogs.challenges._embeds import info_embed
from tests.challenges.fakes import ADMIN, CHANNEL, GUILD, START, D
from tests.cogs.challenges.world import Discord, choice, create, embed_text, stored_challenges
from tests.doubles.interaction import only_reply


@pytest.mark.parametrize("command", ["create", "edit"])
def test_tie_break_is_the_last_option_with_clear_choices(
    cog: ChallengeAdminCog, command: str
) -> None:
    options = getattr(cog, command).parameters
    assert options[-2].name == "late_join"  # the options before it keep their order
    tie_break = options[-1]
    assert tie_break.name == "tie_break" and not tie_break.required
    assert "tied on score" in tie_break.description
    assert [(c.name, c.value) for c in tie_break.choices] == [
        ("None: tied players share the place", "none"),
        ("More goal days ranks ahead", "goal_days"),
        ("First to reach their final score ranks ahead", "first_to_score"),
    ]


async def test_create_with_a_tie_break_stores_it_and_the_card_says_so(
    cog: ChallengeAdminCog, world: Discord, services: Services
) -> None:
    double = await create(
        cog, world, scoring=choice("total"), start_date=dt.date(2024, 5, 6),
        end_date=dt.date(2024, 5, 10), daily_goal=10_000.0, tie_break=choice("goal_days"),
    )  # fmt: skip
    [stored] = await services.challenges.active_challenges()
    assert stored.tie_break is TieBreak.GOAL_DAYS
    card = embed_text(only_reply(double)[1]["embed"])
    assert "Players with the same score are told apart by more days with the goal met" in card


async def test_create_without_a_tie_break_shares_places(
    cog: ChallengeAdminCog, world: Discord, services: Services
) -> None:
    double = await create(cog, world, preset=choice("daily_showdown"))
    [stored] = await services.challenges.active_challenges()
    assert stored.tie_break is TieBreak.NONE
    card = embed_text(only_reply(double)[1]["embed"])
    assert "Players with the same score share the place" in card


async def test_goal_days_tie_break_without_a_goal_creates_nothing(
    cog: ChallengeAdminCog, world: Discord, db: Database
) -> None:
    with pytest.raises(UserError, match="Breaking ties by goal days needs a daily goal"):
        await create(
            cog, world, scoring=choice("total"), start_date=dt.date(2024, 5, 6),
            end_date=dt.date(2024, 5, 10), tie_break=choice("goal_days"),
        )  # fmt: skip
    assert await stored_challenges(db) == 0


async def test_edit_changes_the_tie_break_and_nothing_else(
    cog: ChallengeAdminCog, world: Discord, services: Services
) -> None:
    await create(cog, world, preset=choice("streak"))
    double = world.interaction()
    await cog.edit.callback(
        cog, double, challenge="Spring Steps", tie_break=choice("first_to_score")
    )
    [stored] = await services.challenges.active_challenges()
    assert (stored.tie_break, stored.preset) == (TieBreak.FIRST_TO_SCORE, "streak")
    card = embed_text(only_reply(double)[1]["embed"])
    assert "told apart by who got to it on an earlier day" in card


def _longest(mode: ScoringMode, **changes: object) -> Challenge:
    challenge = Challenge(
        id=1, guild_id=GUILD, channel_id=CHANNEL, name="N" * 50, metric=Metric.DISTANCE,
        mode=mode, start=D(2024, 5, 6), end=D(2025, 5, 6),
        time_zone="America/Argentina/ComodRivadavia",
        post_time=dt.time(9), daily_goal=299.9, daily_cap=300.0, allow_manual=True,
        grace_hours=72, team_mode=TeamMode.MEAN, points_table=None, tiers=None, max_players=500,
        late_join_backfill=True, preset=None, status=ChallengeStatus.ACTIVE, ended_at=None,
        created_by=ADMIN, created_at=START, tie_break=TieBreak.FIRST_TO_SCORE,
    )  # fmt: skip
    return dataclasses.replace(challenge, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "challenge",
    [
        _longest(ScoringMode.DAILY_RANK, points_table=tuple(99_999.5 - n for n in range(25))),
        _longest(ScoringMode.TIERS, tiers=tuple((1.5 + n * 29.9, 99_999.5) for n in range(10))),
        _longest(ScoringMode.IMPROVEMENT),
    ],
)
def test_the_longest_rule_cards_fit_discord(challenge: Challenge) -> None:
    players = [
        Participant(challenge.id, 10**18 + n, "T" * 32, D(2024, 6, 1), START, None)
        for n in range(500)
    ]
    embed = info_embed(challenge, players, D(2024, 6, 2), units=Units.IMPERIAL)
    description = embed.description or ""
    rules = rule_sentences(challenge, has_teams=True, units=Units.IMPERIAL)
    assert description == "\n".join(rules)  # none cut
    assert len(description) <= DESCRIPTION_LIMIT
    assert all(len(field.value or "") <= FIELD_VALUE_LIMIT for field in embed.fields)
    assert len(embed) <= TOTAL_LIMIT
