"""Browsing challenges, for `/challenge list|info` and the players' `/challenges` alike:
both answer ephemerally with the same embeds."""

from __future__ import annotations

from cogs._checks import Interaction, guild_id_of
from cogs.challenges._embeds import info_embed, listing_embed


async def send_listing(interaction: Interaction) -> None:
    """The guild's running, upcoming and past challenges."""
    listing = await interaction.client.services.challenges.listing(guild_id_of(interaction))
    await interaction.response.send_message(embed=listing_embed(listing), ephemeral=True)


async def send_info(interaction: Interaction, challenge: str) -> None:
    """One challenge's card, where it stands today and who plays in it."""
    services = interaction.client.services
    found = await services.challenges.find(guild_id_of(interaction), challenge)
    participants = await services.challenges.participants(found.id)
    today = found.today(services.clock.now())
    await interaction.response.send_message(
        embed=info_embed(found, participants, today), ephemeral=True
    )
