"""Who may run which command: Manage Server, the configured admin role, and what the tree
hides by default."""

from __future__ import annotations

from typing import Any

import discord
import pytest
from discord import app_commands

from bot.discord_bot import StrideBot, user_message_for
from bot.services import Services
from cogs._checks import admin_check
from cogs.challenges._admin_cog import ChallengeAdminCog
from cogs.challenges._player_cog import PlayerCog
from cogs.settings import SettingsCog
from tests.challenges.fakes import ADMIN, ALICE, GUILD
from tests.cogs.challenges.world import ADMIN_ROLE, OTHER_ROLE, Discord, run_checks

ADMIN_COMMANDS = (
    "create", "edit", "end", "delete", "kick", "review", "share", "unshare", "nudges",
    "adjust", "recap",
)  # fmt: skip


def admin_commands(cog: ChallengeAdminCog) -> list[Any]:
    group = cog.challenge
    team = group.get_command("team")
    assert isinstance(team, app_commands.Group)
    return [group.get_command(name) for name in ADMIN_COMMANDS] + list(team.commands)


async def test_a_member_without_manage_server_or_the_role_is_refused(
    cog: ChallengeAdminCog, settings_cog: SettingsCog, world: Discord, services: Services
) -> None:
    await services.challenges.update_guild_settings(GUILD, admin_role_id=ADMIN_ROLE)
    double = world.interaction(ALICE, manage_guild=False, roles=(OTHER_ROLE,))
    for command in [*admin_commands(cog), settings_cog.settings]:
        with pytest.raises(app_commands.CheckFailure) as caught:
            await run_checks(command, double)
        assert str(caught.value) == (
            f"Only members with the Manage Server permission or the <@&{ADMIN_ROLE}> role can "
            "use this command."
        )
    assert user_message_for(caught.value) == (str(caught.value), None)  # shown as written


async def test_the_configured_admin_role_is_accepted(
    cog: ChallengeAdminCog, world: Discord, services: Services
) -> None:
    await services.challenges.update_guild_settings(GUILD, admin_role_id=ADMIN_ROLE)
    double = world.interaction(ALICE, manage_guild=False, roles=(OTHER_ROLE, ADMIN_ROLE))
    for command in admin_commands(cog):
        assert await run_checks(command, double)


async def test_without_an_admin_role_only_manage_server_passes(world: Discord) -> None:
    with pytest.raises(
        app_commands.CheckFailure,
        match=r"^Only members with the Manage Server permission can use this command\.$",
    ):
        await admin_check(world.interaction(ALICE, manage_guild=False))
    assert await admin_check(world.interaction(ADMIN, manage_guild=True))


async def test_commands_are_guild_only_and_admin_ones_hidden_by_default(services: Services) -> None:
    from cogs import challenges, settings

    bot = StrideBot(services)
    try:
        await challenges.setup(bot)
        await settings.setup(bot)
        payloads = {c.name: c.to_dict(bot.tree) for c in bot.tree.get_commands()}
    finally:
        await bot.close()
    assert set(payloads) == {"challenge", "challenges", "join", "leave", "settings"}
    for name, payload in payloads.items():
        assert payload["contexts"] == [0], name  # guild only
    manage_guild = discord.Permissions(manage_guild=True).value
    assert payloads["challenge"]["default_member_permissions"] == manage_guild
    assert payloads["settings"]["default_member_permissions"] == manage_guild
    assert payloads["join"]["default_member_permissions"] is None
    assert payloads["challenges"]["default_member_permissions"] is None
    subcommands = {option["name"] for option in payloads["challenge"]["options"]}
    assert subcommands == {
        "create", "edit", "end", "delete", "list", "info", "kick", "team", "review",
        "share", "unshare", "nudges", "adjust", "recap",
    }  # fmt: skip


def test_player_commands_and_read_only_ones_have_no_admin_check(
    cog: ChallengeAdminCog, players: PlayerCog
) -> None:
    for command in admin_commands(cog):
        assert admin_check in command.checks, command.name
    for name in ("list", "info"):
        command = cog.challenge.get_command(name)
        assert command is not None and admin_check not in command.checks  # type: ignore[union-attr]
    assert players.join.checks == [] and players.leave.checks == []
