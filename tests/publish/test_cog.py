"""`/publish enable|disable|status|preview` with the `spec_set` interaction doubles of
`tests.doubles.interaction`, over a real publish service and database."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any
from unittest.mock import MagicMock

import discord
import pytest
from discord import app_commands

from bot.challenges.service import ChallengeService
from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.discord_bot import StrideBot
from bot.errors import UserError
from bot.events import EventBus
from bot.publish.keys import PublishKeys
from bot.publish.service import PublishService
from bot.render.text import MESSAGE_LIMIT
from bot.settings import PublishSettings
from bot.storage import Database
from bot.storage.accounts import AccountsRepo
from bot.storage.publish import PublishRepo
from cogs import publish as publish_cog
from cogs.publish import PublishCog
from tests.doubles.interaction import SOMEONE, interaction, member
from tests.doubles.messenger import RecordingTransport, connected
from tests.publish.conftest import DAY1, GUILD_ID, finalise_day, players, score_day, seed_challenge
from tests.publish.test_service import MemorySink, make_service


def _reply(double: Any) -> str:
    double.response.send_message.assert_awaited_once()
    call = double.response.send_message.await_args
    assert call.kwargs.get("ephemeral") is True
    text: str = call.args[0]
    assert len(text) <= MESSAGE_LIMIT
    return text


@pytest.fixture
def service(db: Database, clock: FakeClock, messenger: RecordingTransport) -> PublishService:
    return make_service(db, clock, messenger, [MemorySink("file"), MemorySink("streamr")])


@pytest.fixture
def cog(service: PublishService) -> PublishCog:
    bot = SimpleNamespace(services=SimpleNamespace(publish=service))
    return PublishCog(bot)  # type: ignore[arg-type]


async def _final_day(db: Database, service: PublishService) -> EventBus:
    roster = players(6)
    await seed_challenge(db, roster=roster)
    await score_day(db, 1, DAY1, roster)
    events = EventBus()
    events.on("day_finalised", service.on_day_finalised)
    await finalise_day(db, events, 1, DAY1)
    return events


def test_the_group_is_for_server_admins_only(cog: PublishCog) -> None:
    group = cog.app_command
    assert group.name == "publish"
    assert group.guild_only
    assert group.default_permissions is not None and group.default_permissions.manage_guild
    assert group.allowed_contexts is not None and not group.allowed_contexts.dm_channel
    assert sorted(c.name for c in group.commands) == ["disable", "enable", "preview", "status"]


async def test_the_extension_registers_the_group() -> None:
    services = MagicMock()
    bot = StrideBot(services)
    await publish_cog.setup(bot)
    assert bot.tree.get_command("publish") is not None
    await bot.close()


async def test_enable_turns_publishing_on_and_names_the_sinks(
    cog: PublishCog, service: PublishService
) -> None:
    double = interaction(guild_id=GUILD_ID)
    await cog.enable.callback(cog, double)  # type: ignore[arg-type]
    text = _reply(double)
    assert "**on**" in text and "memory sink file" in text and "memory sink streamr" in text
    assert "/privacy publish off" in text
    assert (await service.status(GUILD_ID)).enabled

    again = interaction(guild_id=GUILD_ID)
    await cog.enable.callback(cog, again)  # type: ignore[arg-type]
    assert "already on" in _reply(again)


async def test_disable_turns_it_off_and_says_what_was_discarded(
    cog: PublishCog, service: PublishService, db: Database
) -> None:
    await service.enable(GUILD_ID)
    await _final_day(db, service)  # two messages queued, none delivered
    double = interaction(guild_id=GUILD_ID)
    await cog.disable.callback(cog, double)  # type: ignore[arg-type]
    text = _reply(double)
    assert "**off**" in text and "2 undelivered message(s) were discarded" in text
    assert await PublishRepo(db).entries(1) == []


async def test_status_shows_each_sink_backlog_and_error(
    cog: PublishCog, service: PublishService, db: Database
) -> None:
    await service.enable(GUILD_ID)
    await _final_day(db, service)
    double = interaction(guild_id=GUILD_ID)
    await cog.status.callback(cog, double)  # type: ignore[arg-type]
    text = _reply(double)
    assert "Publishing is **on**" in text
    assert "k = 5" in text and "no noise" in text
    assert "**file**: memory sink file · last success never · backlog 1" in text
    assert "**mqtt**: not configured (set PUBLISH__MQTT__HOST)" in text
    assert "**webhook**: not configured" in text


async def test_status_shows_a_failing_sink(
    db: Database, clock: FakeClock, messenger: RecordingTransport
) -> None:
    down = MemorySink("webhook")
    down.down = True
    service = make_service(db, clock, messenger, [down])
    cog = PublishCog(SimpleNamespace(services=SimpleNamespace(publish=service)))  # type: ignore[arg-type]
    await service.enable(GUILD_ID)
    await _final_day(db, service)
    await service.deliver_due()
    double = interaction(guild_id=GUILD_ID)
    await cog.status.callback(cog, double)  # type: ignore[arg-type]
    text = _reply(double)
    assert "⚠️ failing since <t:" in text and "webhook is unreachable" in text
    assert "backlog 1" in text


async def test_preview_before_enabling_shows_the_exact_message(
    cog: PublishCog, service: PublishService, db: Database
) -> None:
    events = await _final_day(db, service)  # final while publishing is off
    double = interaction(guild_id=GUILD_ID)
    await cog.preview.callback(cog, double)  # type: ignore[arg-type]
    text = _reply(double)
    body = text.split("```json\n", 1)[1].rsplit("\n```", 1)[0]
    assert json.loads(body)["participants"] == 6

    await service.enable(GUILD_ID)
    await finalise_day(db, events, 1, DAY1)
    queued = [e.payload for e in await PublishRepo(db).entries(1)]
    assert body in queued  # byte for byte what the first sink is sent


async def test_preview_with_nothing_final_says_so(cog: PublishCog) -> None:
    double = interaction(guild_id=GUILD_ID)
    await cog.preview.callback(cog, double)  # type: ignore[arg-type]
    assert "final" in _reply(double)


async def test_without_the_service_the_admin_gets_a_clear_message() -> None:
    cog = PublishCog(SimpleNamespace(services=SimpleNamespace(publish=None)))  # type: ignore[arg-type]
    with pytest.raises(UserError, match="not available"):
        await cog.status.callback(cog, interaction(guild_id=GUILD_ID))  # type: ignore[arg-type]


async def test_outside_a_server_the_admin_gets_a_clear_message(cog: PublishCog) -> None:
    with pytest.raises(UserError, match="only in a server"):
        await cog.enable.callback(cog, interaction())  # type: ignore[arg-type]


async def test_status_explains_a_configuration_problem(
    db: Database, clock: FakeClock, messenger: RecordingTransport
) -> None:
    service = PublishService(
        db=db,
        settings=PublishSettings(),
        keys=PublishKeys(b"x" * 32),
        sinks={},
        clock=clock,
        messenger=connected(messenger),
        problem="PUBLISH__SECRET must be at least 16 characters long",
    )
    cog = PublishCog(SimpleNamespace(services=SimpleNamespace(publish=service)))  # type: ignore[arg-type]
    double = interaction(guild_id=GUILD_ID)
    await cog.status.callback(cog, double)  # type: ignore[arg-type]
    assert "⚠️ Publishing cannot run: PUBLISH__SECRET must be at least 16" in _reply(double)


def _member_interaction(
    challenges: ChallengeService, *, manage_guild: bool, roles: tuple[int, ...] = ()
) -> Any:
    return interaction(
        invoker=member(SOMEONE, roles=roles),
        guild_id=GUILD_ID,
        permissions=discord.Permissions(manage_guild=manage_guild),
        client=SimpleNamespace(services=SimpleNamespace(challenges=challenges)),
    )


async def test_every_command_is_refused_to_members_who_are_not_admins(
    cog: PublishCog, db: Database, clock: FakeClock, cipher: TokenCipher
) -> None:
    # A server can show the group to everyone under Integrations: the check must still hold.
    challenges = ChallengeService(db, clock, EventBus(), AccountsRepo(db, cipher))
    admin_role = 940_000_000_000_000_001
    await challenges.update_guild_settings(GUILD_ID, admin_role_id=admin_role)
    assert {c.binding for c in cog.app_command.commands} == {cog}  # discord.py runs the check

    with pytest.raises(app_commands.CheckFailure, match="Manage Server permission or the"):
        await cog.interaction_check(_member_interaction(challenges, manage_guild=False))
    assert await cog.interaction_check(
        _member_interaction(challenges, manage_guild=False, roles=(admin_role,))
    )
    assert await cog.interaction_check(_member_interaction(challenges, manage_guild=True))
