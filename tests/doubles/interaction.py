"""Doubles of discord.py's interaction and what it carries: `interaction`, `user`, `member`,
`role`, `guild`, `text_channel`; and `only_reply`, the one message a user saw.

Every double is `create_autospec(<discord.py class>, instance=True, spec_set=True)`, so an
attribute or method the real class lacks fails the test, as it would fail against Discord.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import create_autospec

import discord

SOMEONE = 100_000_000_000_000_001  # the user of an interaction when a test does not care who
# What the bot needs to post a leaderboard in a channel.
POST_PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, embed_links=True, attach_files=True
)


def role(role_id: int, *, default: bool = False) -> Any:
    double = create_autospec(discord.Role, instance=True, spec_set=True)
    double.id = role_id
    double.is_default.return_value = default
    return double


def user(user_id: int) -> Any:
    """A user outside any server (a DM, or a command whose server does not matter)."""
    double = create_autospec(discord.User, instance=True, spec_set=True)
    double.id = user_id
    return double


def member(user_id: int, *, roles: tuple[int, ...] = (), name: str = "Player") -> Any:
    """A member of a server with the roles `roles`."""
    double = create_autospec(discord.Member, instance=True, spec_set=True)
    double.id = user_id
    double.display_name = name
    double.mention = f"<@{user_id}>"
    double.roles = [role(r) for r in roles]
    return double


def guild(guild_id: int) -> Any:
    """A server where the bot is the member "Stride" and no channel is known."""
    double = create_autospec(discord.Guild, instance=True, spec_set=True)
    double.id = guild_id
    double.me = member(1, name="Stride")
    double.get_channel.return_value = None
    return double


def text_channel(
    server: Any, channel_id: int, perms: discord.Permissions = POST_PERMISSIONS
) -> Any:
    """A text channel of `server` where the bot has the permissions `perms` (by default,
    those it needs to post there)."""
    double = create_autospec(discord.TextChannel, instance=True, spec_set=True)
    double.id = channel_id
    double.mention = f"<#{channel_id}>"
    double.guild = server
    double.permissions_for.return_value = perms
    return double


def interaction(
    user_id: int = SOMEONE,
    *,
    invoker: Any | None = None,
    guild_id: int | None = None,
    guild: Any | None = None,
    channel: Any | None = None,
    permissions: discord.Permissions | None = None,
    client: Any | None = None,
    command: Any | None = None,
    done: bool = False,
) -> Any:
    """An interaction of `user_id` (a `discord.User`), or of the `invoker` double (a
    `member(...)`), in the server `guild_id` (None: in DMs) and its `guild` and `channel`
    doubles, with the invoker's `permissions` (none by default), the `client` that received
    it and its `command`. The response is not yet sent unless `done`."""
    double = create_autospec(discord.Interaction, instance=True, spec_set=True)
    double.response = create_autospec(discord.InteractionResponse, instance=True, spec_set=True)
    double.response.is_done.return_value = done
    double.followup = create_autospec(discord.Webhook, instance=True, spec_set=True)
    double.user = invoker if invoker is not None else user(user_id)
    double.guild_id = guild_id
    double.guild = guild
    double.channel = channel
    double.channel_id = channel.id if channel is not None else None
    double.permissions = permissions if permissions is not None else discord.Permissions.none()
    double.command = command
    if client is not None:
        double.client = client
    return double


def only_reply(double: Any) -> tuple[str, dict[str, Any]]:
    """The one message the user saw: a direct response or a follow-up after a defer; its
    text and the keyword arguments it was sent with."""
    calls = [*double.response.send_message.await_args_list, *double.followup.send.await_args_list]
    assert len(calls) == 1, calls
    call = calls[0]
    text = call.args[0] if call.args else call.kwargs.get("content", "") or ""
    return text, call.kwargs
