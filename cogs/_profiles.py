"""The replies of `/privacy nickname` and `/privacy hide` (how a member is shown in a server).

The commands live in the `/privacy` group of `cogs.accounts`; what they say lives here.
"""

from __future__ import annotations

import discord

from bot.errors import UserError
from bot.profiles import MemberProfile
from bot.render.text import escape_markdown


def guild_of(interaction: discord.Interaction[discord.Client], command: str) -> int:
    """The server a profile command is about; a UserError in a DM (profiles are per server)."""
    if interaction.guild_id is None:
        raise UserError(
            f"How you are shown is set per server: run /privacy {command} in the server."
        )
    return interaction.guild_id


def nickname_reply(profile: MemberProfile) -> str:
    if profile.nickname is None:
        text = "Public posts and pages in this server show your display name again."
    else:
        text = (
            f"Public posts and pages in this server show you as "
            f"**{escape_markdown(profile.nickname)}** from now on."
        )
    if profile.hidden:
        text += " You are hidden from them for now (/privacy hide state:off shows you again)."
    return text


def hide_reply(profile: MemberProfile) -> str:
    if profile.hidden:
        return (
            "You are hidden from this server's public posts, charts, /leaderboard, live pages "
            "and other members' nudges. You still play: you are scored and ranked, count for "
            "your team, and /me shows your own rank. Everyone else keeps their true place."
        )
    return "You are shown again in this server's posts, charts and pages."
