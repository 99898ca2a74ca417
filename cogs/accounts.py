"""`/link`, `/unlink`, `/accounts` and `/privacy`: linking wearables and the user's data rights.

Discord only: each command reads its arguments, calls `services.linking` or `services.privacy`
(`bot.linking`, `bot.privacy`) and renders the answer. Every answer is ephemeral, and every
command also works in a DM with the bot.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import secrets
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_bot import StrideBot, link_view, to_discord_embed
from bot.domain import AccountStatus
from bot.errors import UserError
from bot.linking import AccountView, LinkService, UnlinkResult
from bot.privacy import DeletionReport, PrivacyService
from bot.providers.apple_health import NAME as APPLE_HEALTH
from bot.providers.apple_health.setup import install_secret_redaction
from bot.redaction import install_log_redaction
from cogs._profiles import guild_of, hide_reply, nickname_reply

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT = 120.0  # seconds the delete button stays usable
MAX_CHOICES = 25  # Discord shows at most 25 autocomplete choices

STATUS_LABELS: dict[AccountStatus, str] = {
    AccountStatus.ACTIVE: "active ✓",
    AccountStatus.NEEDS_RELINK: "needs re-link ⚠️ (use /link)",
    AccountStatus.REVOKED: "revoked",
}


def _when(instant: dt.datetime | None) -> str:
    # Discord renders <t:…> in each reader's own time zone and language.
    return f"<t:{int(instant.timestamp())}:R>" if instant is not None else "never"


def accounts_embed(accounts: list[AccountView]) -> discord.Embed:
    embed = discord.Embed(title="Your linked accounts", colour=0x0969DA)
    if not accounts:
        embed.description = "You have no linked accounts yet. Use /link to link one."
        return embed
    for account in accounts:
        lines = [
            f"Status: {STATUS_LABELS[account.status]}",
            f"Account: {account.masked_user_id}",
            f"Last sync: {_when(account.last_sync_at)}",
        ]
        if account.membership_lapsed_at is not None:
            lines.append(
                f"⚠️ Membership lapsed (since {_when(account.membership_lapsed_at)}): "
                f"{account.display_name} shares no data until it is renewed; the link is kept."
            )
        if account.missing_access is not None:
            lines.append(f"⚠️ {account.missing_access}")
        embed.add_field(name=account.display_name, value="\n".join(lines), inline=False)
    embed.set_footer(text="/unlink removes a link · /privacy export shows everything stored")
    return embed


def deletion_message(report: DeletionReport) -> str:
    lines = [
        "All your Stride data is deleted: links, daily values, scores, streaks and "
        "challenge memberships."
    ]
    if report.revoked:
        lines.append(f"Access was revoked at {', '.join(report.revoked)}.")
    if report.revoke_not_offered:
        lines.append(
            f"{', '.join(report.revoke_not_offered)} offer no way for Stride to revoke access: "
            "remove Stride in that account's settings if you like."
        )
    if report.revoke_failed:
        lines.append(
            f"{', '.join(report.revoke_failed)} did not answer, so access may still be "
            "granted there: remove Stride in that account's settings to be sure."
        )
    return "\n".join(lines)


class ConfirmDeleteView(discord.ui.View):
    """The Delete / Cancel buttons of `/privacy delete`, usable only by whoever asked."""

    def __init__(self, privacy: PrivacyService, user_id: int) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT)
        self._privacy = privacy
        self._user_id = user_id
        self.outcome: Literal["deleted", "cancelled"] | None = None

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self._user_id:
            await interaction.response.send_message(
                "Only the person who asked can press this.", ephemeral=True
            )
            return False
        return True

    async def on_error(
        self,
        interaction: discord.Interaction,
        error: Exception,
        item: discord.ui.Item[Any],
        /,
    ) -> None:
        code = secrets.token_hex(2).upper()
        log.error("/privacy delete failed (code %s)", code, exc_info=error)
        message = (
            f"Something went wrong (code {code}) and your data may not be fully deleted. "
            "Please try /privacy delete again; the admins can find the code in the log."
        )
        try:
            if interaction.response.is_done():
                await interaction.edit_original_response(content=message, view=None)
            else:
                await interaction.response.send_message(message, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not report a /privacy delete failure to the user")

    @discord.ui.button(label="Delete everything", style=discord.ButtonStyle.danger)
    async def confirm(
        self,
        interaction: discord.Interaction,
        button: discord.ui.Button[ConfirmDeleteView],
    ) -> None:
        self.stop()
        # Revoking grants calls every linked provider: acknowledge within 3 s first.
        await interaction.response.edit_message(
            content="Deleting your data…", view=None, embed=None
        )
        report = await self._privacy.delete_everything(self._user_id)
        self.outcome = "deleted"
        await interaction.edit_original_response(content=deletion_message(report))

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self,
        interaction: discord.Interaction,
        button: discord.ui.Button[ConfirmDeleteView],
    ) -> None:
        self.stop()
        self.outcome = "cancelled"
        await interaction.response.edit_message(content="Nothing was deleted.", view=None)


# Every command here also works in a DM with the bot (linking is personal, not per server).
in_guilds_and_dms = app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)


class AccountsCog(commands.Cog):
    privacy = app_commands.Group(
        name="privacy",
        description="Your data in Stride: export, delete, publishing, nickname, hiding",
        allowed_contexts=app_commands.AppCommandContext(
            guild=True, dm_channel=True, private_channel=False
        ),
    )

    def __init__(self, bot: StrideBot) -> None:
        self.bot = bot

    @property
    def _linking(self) -> LinkService:
        return self.bot.services.linking

    @property
    def _privacy(self) -> PrivacyService:
        return self.bot.services.privacy

    # -- provider choices ----------------------------------------------------------------

    async def _enabled_choices(
        self,
        interaction: discord.Interaction[StrideBot],
        current: str,
    ) -> list[app_commands.Choice[str]]:
        needle = current.casefold()
        return [
            app_commands.Choice(name=info.display_name, value=info.name)
            for info in self._linking.enabled()
            if needle in info.display_name.casefold() or needle in info.name
        ][:MAX_CHOICES]

    async def _linked_choices(
        self,
        interaction: discord.Interaction[StrideBot],
        current: str,
    ) -> list[app_commands.Choice[str]]:
        needle = current.casefold()
        choices = []
        for provider in await self._linking.linked_providers(interaction.user.id):
            name = self._linking.display_name(provider)
            if needle in name.casefold() or needle in provider:
                choices.append(app_commands.Choice(name=name, value=provider))
        return choices[:MAX_CHOICES]

    # -- /link ---------------------------------------------------------------------------

    # Guild-only, like every command but /accounts, /privacy and /me: the link goes by DM.
    @app_commands.guild_only()
    @app_commands.command(
        name="link", description="Link your wearable so Stride can count your activity"
    )
    @app_commands.describe(provider="Where your activity data lives")
    async def link(self, interaction: discord.Interaction[StrideBot], provider: str) -> None:
        info = self._linking.info(provider)  # UserError for free text that is no provider
        # Storing the link and sending a DM are two round trips: defer to answer within 3 s.
        await interaction.response.defer(ephemeral=True, thinking=True)
        if info.name == APPLE_HEALTH:
            await self._link_apple_health(interaction)
            return
        offer = await self._linking.start_link(interaction.user.id, info.name)
        embed = to_discord_embed(offer.embed())
        view = link_view([offer.button()]) or discord.utils.MISSING
        if await self._linking.send_link_dm(interaction.user.id, offer):
            text = f"I sent you a DM with your link to {info.display_name}."
            if info.retiring:
                text += " Note: Google is retiring Google Fit."
            await interaction.followup.send(text, ephemeral=True)
            return
        await interaction.followup.send(
            "I could not DM you (your DMs are closed for this server), so here is your link. "
            "Only you can see this message.",
            embed=embed,
            view=view,
            ephemeral=True,
        )

    async def _link_apple_health(self, interaction: discord.Interaction[StrideBot]) -> None:
        """An upload address and secret for the member's iPhone, shown once, by DM."""
        uploads = self.bot.services.apple_health
        if uploads is None:  # pragma: no cover - listed only when enabled
            raise UserError("Apple Health is not enabled on this Stride.")
        link = await uploads.link(interaction.user.id)
        if await uploads.send_setup_dm(interaction.user.id, link):
            await interaction.followup.send(
                "I sent you a DM with your Apple Health upload address, its secret and how to "
                "set up your iPhone. The secret is shown only there; /link apple_health again "
                "replaces it.",
                ephemeral=True,
            )
            return
        await interaction.followup.send(
            "I could not DM you (your DMs are closed for this server), so here are your upload "
            "address and secret. Only you can see this message, and the secret is not shown "
            "again.",
            embed=to_discord_embed(link.embed()),
            ephemeral=True,
        )

    @link.autocomplete("provider")
    async def _link_provider(
        self, interaction: discord.Interaction[StrideBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._enabled_choices(interaction, current)

    # -- /unlink -------------------------------------------------------------------------

    @app_commands.guild_only()
    @app_commands.command(name="unlink", description="Unlink a wearable and delete its tokens")
    @app_commands.describe(provider="The linked account to remove")
    async def unlink(self, interaction: discord.Interaction[StrideBot], provider: str) -> None:
        # Revoking at the provider is a network call that can take seconds.
        await interaction.response.defer(ephemeral=True, thinking=True)
        name = self._linking.display_name(provider)
        result = await self._linking.unlink(interaction.user.id, provider)
        if provider == APPLE_HEALTH:
            await interaction.followup.send(
                f"Unlinked {name}: your upload address and secret stop working now, and "
                "uploads to them are refused. Remove the automation or shortcut on your "
                "iPhone. Values already collected stay; /privacy delete removes everything.",
                ephemeral=True,
            )
            return
        text = f"Unlinked {name}: Stride deleted its tokens"
        if result is UnlinkResult.REVOKED:
            text += f" and revoked its access at {name}."
        elif result is UnlinkResult.REVOKE_FAILED:
            text += (
                f", but {name} did not confirm the revocation: remove Stride in your {name} "
                "account settings to be sure."
            )
        else:
            text += f". {name} offers no revocation: remove Stride in your {name} account "
            text += "settings if you like."
        text += " Values already collected stay; /privacy delete removes everything."
        await interaction.followup.send(text, ephemeral=True)

    @unlink.autocomplete("provider")
    async def _unlink_provider(
        self, interaction: discord.Interaction[StrideBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._linked_choices(interaction, current)

    # -- /accounts -----------------------------------------------------------------------

    @in_guilds_and_dms
    @app_commands.command(name="accounts", description="Your linked wearables and their status")
    async def accounts(self, interaction: discord.Interaction[StrideBot]) -> None:
        views = await self._linking.accounts(interaction.user.id)  # one quick query
        await interaction.response.send_message(embed=accounts_embed(views), ephemeral=True)

    # -- /privacy ------------------------------------------------------------------------

    @privacy.command(
        name="export", description="Get a file with everything Stride stores about you"
    )
    async def privacy_export(self, interaction: discord.Interaction[StrideBot]) -> None:
        # Reading every table and sending a file can take longer than 3 s.
        await interaction.response.defer(ephemeral=True, thinking=True)
        attachment = await self._privacy.export(interaction.user.id)
        messenger = self.bot.services.messenger
        delivered = interaction.guild_id is not None and (
            await messenger.send_dm(
                interaction.user.id,
                content="Here is everything Stride stores about you (tokens are not included).",
                files=[attachment],
            )
        )
        if delivered:
            await interaction.followup.send("I sent you a DM with your data.", ephemeral=True)
            return
        await interaction.followup.send(
            "Here is everything Stride stores about you (tokens are not included). "
            "Only you can see this message.",
            file=discord.File(io.BytesIO(attachment.data), filename=attachment.filename),
            ephemeral=True,
        )

    @privacy.command(name="delete", description="Delete everything Stride stores about you")
    async def privacy_delete(self, interaction: discord.Interaction[StrideBot]) -> None:
        view = ConfirmDeleteView(self._privacy, interaction.user.id)
        await interaction.response.send_message(
            "This deletes **everything** Stride stores about you: your linked accounts (access "
            "is revoked where the provider allows), daily values, scores, streaks and your "
            "challenge memberships. It cannot be undone.",
            view=view,
            ephemeral=True,
        )

    @privacy.command(
        name="publish",
        description="Include your values in anonymised published aggregates, or not",
    )
    @app_commands.describe(state="on: include my values (anonymised); off: leave them out")
    async def privacy_publish(
        self, interaction: discord.Interaction[StrideBot], state: Literal["on", "off"]
    ) -> None:
        publish = state == "on"
        await self._privacy.set_publish(interaction.user.id, publish=publish)
        text = (
            "Your values may be included in anonymised aggregates where a server publishes them."
            if publish
            else "Your values are left out of every published aggregate from now on."
        )
        await interaction.response.send_message(text, ephemeral=True)

    @privacy.command(
        name="nickname", description="A nickname for this server's public posts and pages"
    )
    @app_commands.describe(name="Up to 32 characters; leave it out to use your display name")
    async def privacy_nickname(
        self, interaction: discord.Interaction[StrideBot], name: str | None = None
    ) -> None:
        guild_id = guild_of(interaction, "nickname")
        profile = await self._privacy.set_nickname(guild_id, interaction.user.id, name)
        await interaction.response.send_message(nickname_reply(profile), ephemeral=True)

    @privacy.command(name="hide", description="Play without being shown in this server's posts")
    @app_commands.describe(state="on: leave me out of posts, charts and pages; off: show me")
    async def privacy_hide(
        self, interaction: discord.Interaction[StrideBot], state: Literal["on", "off"]
    ) -> None:
        guild_id = guild_of(interaction, "hide")
        hidden = state == "on"
        profile = await self._privacy.set_hidden(guild_id, interaction.user.id, hidden=hidden)
        await interaction.response.send_message(hide_reply(profile), ephemeral=True)


async def setup(bot: StrideBot) -> None:
    # The links this cog sends carry an OAuth state; discord.py logs request bodies at DEBUG.
    install_log_redaction()
    install_secret_redaction()  # the /link apple_health DM carries an upload secret
    await bot.add_cog(AccountsCog(bot))
