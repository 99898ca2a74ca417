"""Scenario 6: a member without Manage Server cannot run admin commands."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import MANAGE_GUILD, Stride
from tests.standins.discord.interactions import CommandUnavailableError

pytestmark = pytest.mark.e2e


async def test_admin_command_is_hidden_and_refused_for_a_plain_member(stride: Stride) -> None:
    member = await stride.member("Mallory")
    options = {"name": "Sneaky", "preset": "workweek_hustle", "channel": stride.channel.id}

    # Discord itself hides the command from members without Manage Server …
    with pytest.raises(CommandUnavailableError):
        await stride.discord.slash(
            user=member,
            guild=stride.guild,
            channel=stride.channel,
            name="challenge create",
            options=options,
        )

    # … and where a server made it visible anyway, the bot refuses it, ephemerally.
    record = await stride.discord.slash(
        user=member,
        guild=stride.guild,
        channel=stride.channel,
        name="challenge create",
        options=options,
        enforce_discord_checks=False,
    )
    refusal = await record.wait_message()
    assert refusal.ephemeral
    assert "Manage Server" in refusal.text
    assert await stride.services.challenges.challenge_names(stride.guild.id, "") == []
    assert [m for m in stride.discord.messages_in(stride.channel) if not m.ephemeral] == []


async def test_admin_with_manage_server_can_create(stride: Stride) -> None:
    record = await stride.discord.slash(
        user=stride.admin,
        guild=stride.guild,
        channel=stride.channel,
        name="challenge create",
        options={"name": "Hustle", "preset": "workweek_hustle", "channel": stride.channel.id},
        permissions=MANAGE_GUILD,
    )
    card = await record.wait_message()
    assert "Hustle" in card.text
