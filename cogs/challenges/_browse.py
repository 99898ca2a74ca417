"""Browsing challenges, for `/challenge list|info` and the players' `/challenges` alike:
both answer ephemerally with the same embeds."""

from __future__ import annotations

from cogs._checks import Interaction, guild_id_of
from cogs.challenges._corrections import corrections_field
from cogs.challenges._embeds import info_embed, listing_embed
from cogs.challenges._recaps import recap_field


async def send_listing(interaction: Interaction) -> None:
    """The guild's running, upcoming and past challenges."""
    listing = await interaction.client.services.challenges.listing(guild_id_of(interaction))
    await interaction.response.send_message(embed=listing_embed(listing), ephemeral=True)


async def send_info(interaction: Interaction, challenge: str) -> None:
    """One challenge's card, where it stands today, who plays in it, when its weekly recap
    comes and the corrections admins made (`/challenge adjust`)."""
    services = interaction.client.services
    found = await services.challenges.find(guild_id_of(interaction), challenge)
    participants = await services.challenges.participants(found.id)
    today = found.today(services.clock.now())
    units = (await services.challenges.guild_settings(found.guild_id)).units
    hidden = await services.privacy.hidden_in(found.guild_id)
    embed = info_embed(found, participants, today, units=units, hidden=hidden)
    recap_field(embed, found, await services.recaps.settings(found.id))
    corrections_field(embed, await services.adjustments.of_challenge(found.id), found, units)
    await interaction.response.send_message(embed=embed, ephemeral=True)
