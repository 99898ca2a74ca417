"""The buttons of `/challenge delete` (confirm or cancel) and `/challenge review` (exclude or
accept each flagged value). Only the admin who asked can press them, for `VIEW_TIMEOUT`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord

from bot.challenges.model import Challenge
from bot.challenges.service import ChallengeService
from bot.domain import Units
from bot.errors import UserError
from bot.fair_play import Flag
from cogs.challenges._embeds import escaped_name, flag_text

VIEW_TIMEOUT = 300  # seconds the Delete / review buttons stay usable


class ConfirmDeleteChallenge(discord.ui.View):
    """Delete / Cancel for `/challenge delete`, usable only by the admin who asked."""

    def __init__(self, service: ChallengeService, challenge: Challenge, user_id: int) -> None:
        super().__init__(timeout=VIEW_TIMEOUT)
        self._service = service
        self._challenge = challenge
        self._user_id = user_id

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self._user_id:
            await interaction.response.send_message(
                "Only the admin who asked can press this.", ephemeral=True
            )
            return False
        return True

    @discord.ui.button(label="Delete", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        try:
            await self._service.delete(self._challenge.guild_id, self._challenge.id)
        except UserError as exc:
            await interaction.response.edit_message(content=str(exc), view=None)
            return
        await interaction.response.edit_message(
            content=f"Deleted “{escaped_name(self._challenge)}” with its players and scores.",
            view=None,
        )

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(content="Nothing was deleted.", view=None)


class ReviewView(discord.ui.View):
    """Walks an admin through a challenge's pending flags, one at a time."""

    def __init__(
        self,
        service: ChallengeService,
        guild_id: int,
        flags: Sequence[Flag],
        user_id: int,
        units: Units = Units.METRIC,
    ) -> None:
        super().__init__(timeout=VIEW_TIMEOUT)
        self._service = service
        self._guild_id = guild_id
        self._units = units
        self._flags = list(flags)
        self._index = 0
        self._user_id = user_id

    @property
    def current(self) -> Flag | None:
        return self._flags[self._index] if self._index < len(self._flags) else None

    def text(self) -> str:
        flag = self.current
        if flag is None:
            return "All flags are reviewed."
        return flag_text(flag, self._index + 1, len(self._flags), self._units)

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self._user_id:
            await interaction.response.send_message(
                "Only the admin who opened this review can press these.", ephemeral=True
            )
            return False
        return True

    async def _decide(self, interaction: discord.Interaction[Any], *, exclude: bool) -> None:
        flag = self.current
        if flag is None:
            await interaction.response.edit_message(content=self.text(), view=None)
            return
        try:
            await self._service.decide_review(
                self._guild_id, flag.review_id, exclude=exclude, reviewed_by=interaction.user.id
            )
        except UserError as exc:  # e.g. the challenge was deleted meanwhile
            self.stop()
            await interaction.response.edit_message(content=str(exc), view=None)
            return
        self._index += 1
        if self.current is None:
            self.stop()
            await interaction.response.edit_message(content=self.text(), view=None)
        else:
            await interaction.response.edit_message(content=self.text(), view=self)

    @discord.ui.button(label="Exclude", style=discord.ButtonStyle.danger)
    async def exclude(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        await self._decide(interaction, exclude=True)

    @discord.ui.button(label="Accept", style=discord.ButtonStyle.success)
    async def accept(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        await self._decide(interaction, exclude=False)
