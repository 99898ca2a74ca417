"""`/publish enable|disable|status|preview`: a server's anonymised data stream, for its admins.

Discord only: each command calls `services.publish` (`bot.publish.service`) and renders the
answer, always ephemerally. The group is guild-only and hidden from members without Manage
Server by default (server admins can change that under Integrations), and every command runs
`admin_check` like the other admin commands: Manage Server or the configured admin role.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot import StrideBot
from bot.errors import UserError
from bot.publish.service import DisableResult, Preview, PublishService, PublishStatus, SinkStatus
from bot.render.text import MESSAGE_LIMIT, truncate
from cogs._checks import admin_check


def _when(instant: dt.datetime | None) -> str:
    # Discord renders <t:…> in each reader's own time zone and language.
    return f"<t:{int(instant.timestamp())}:R>" if instant is not None else "never"


def _privacy_line(status: PublishStatus) -> str:
    noise = (
        f"Laplace noise, ε = {status.epsilon:g} per value"
        if status.epsilon is not None
        else "no noise"
    )
    return f"k = {status.k} (days with fewer players are not published) · {noise}"


def sink_line(sink: SinkStatus) -> str:
    if not sink.configured:
        line = f"**{sink.name}**: not configured ({sink.disabled_reason})"
        if sink.backlog:
            line += f" · {sink.backlog} message(s) waiting for it"
        return line
    parts = [
        f"**{sink.name}**: {sink.target}",
        f"last success {_when(sink.last_success_at)}",
        f"backlog {sink.backlog}",
    ]
    if sink.failing_since is not None:
        parts.append(f"⚠️ failing since {_when(sink.failing_since)}: {sink.last_error}")
    elif sink.last_error is not None:
        parts.append(f"last error {_when(sink.last_error_at)}: {sink.last_error}")
    return " · ".join(parts)


def status_message(status: PublishStatus) -> str:
    state = "on" if status.enabled else "off"
    lines = [f"Publishing is **{state}** for this server.", _privacy_line(status), ""]
    if status.problem is not None:
        lines.insert(1, f"⚠️ Publishing cannot run: {status.problem}.")
    lines += [sink_line(sink) for sink in status.sinks]
    return _one_message("\n".join(lines))


def enable_message(changed: bool, sinks: list[SinkStatus]) -> str:
    if not changed:
        return "Publishing was already on for this server. `/publish status` shows delivery."
    targets = ", ".join(sink.target or sink.name for sink in sinks if sink.configured)
    return _one_message(
        "Publishing is **on**. From the next day that becomes final, each challenge's "
        "anonymised daily aggregate (count, sum, mean, median, 90th percentile, goal share; "
        "no names, no ids) goes to: "
        f"{targets}. Players can leave it with `/privacy publish off`. "
        "`/publish preview` shows a message, `/publish status` shows delivery."
    )


def disable_message(result: DisableResult) -> str:
    text = (
        "Publishing is **off** for this server."
        if result.was_enabled
        else "Publishing was already off for this server."
    )
    if result.discarded:
        text += f" {result.discarded} undelivered message(s) were discarded."
    return text


def preview_message(preview: Preview) -> str:
    if preview.payload is None:
        return preview.note
    head = preview.note + "\n"
    body = f"```json\n{preview.payload}\n```"
    if len(head) + len(body) > MESSAGE_LIMIT:
        return _one_message(head + body)
    return head + body


def _one_message(text: str) -> str:
    """`text` cut to what one message holds, counted in characters."""
    return truncate(text, MESSAGE_LIMIT, measure=len, strip=False)


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class PublishCog(
    commands.GroupCog,
    group_name="publish",
    group_description="Stream this server's anonymised challenge statistics (admins)",
):
    def __init__(self, bot: StrideBot) -> None:
        self.bot = bot
        super().__init__()

    @property
    def _publish(self) -> PublishService:
        service = self.bot.services.publish
        if service is None:
            raise UserError("Publishing is not available on this Stride instance.")
        return service

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        # Hiding the group is only a default a server can change: enforce it on every command.
        return await admin_check(interaction)

    @staticmethod
    def _guild_id(interaction: discord.Interaction[StrideBot]) -> int:
        if interaction.guild_id is None:
            raise UserError("This command works only in a server.")
        return interaction.guild_id

    @app_commands.command(
        name="enable", description="Start publishing this server's anonymised daily aggregates"
    )
    async def enable(self, interaction: discord.Interaction[StrideBot]) -> None:
        guild_id = self._guild_id(interaction)
        changed = await self._publish.enable(guild_id)
        status = await self._publish.status(guild_id)
        await interaction.response.send_message(
            enable_message(changed, status.sinks), ephemeral=True
        )

    @app_commands.command(
        name="disable", description="Stop publishing and discard messages not yet delivered"
    )
    async def disable(self, interaction: discord.Interaction[StrideBot]) -> None:
        result = await self._publish.disable(self._guild_id(interaction))
        await interaction.response.send_message(disable_message(result), ephemeral=True)

    @app_commands.command(
        name="status", description="Each sink's last success, backlog and last error"
    )
    async def status(self, interaction: discord.Interaction[StrideBot]) -> None:
        status = await self._publish.status(self._guild_id(interaction))
        await interaction.response.send_message(status_message(status), ephemeral=True)

    @app_commands.command(
        name="preview", description="See exactly what would be published, before enabling"
    )
    async def preview(self, interaction: discord.Interaction[StrideBot]) -> None:
        preview = await self._publish.preview(self._guild_id(interaction))
        await interaction.response.send_message(preview_message(preview), ephemeral=True)


async def setup(bot: StrideBot) -> None:
    await bot.add_cog(PublishCog(bot))
