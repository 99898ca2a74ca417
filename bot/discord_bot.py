"""The Discord client: the bot class, its start-up order, and the app-command error handler.

`stride_bot` builds the client: `StrideBot` in one process, or `ShardedStrideBot`
(discord.py's `AutoShardedBot`) connecting only the shards in `SHARD_IDS` of `SHARD_COUNT`
(`bot.shards`); Discord then sends each process the events and interactions of its shards'
guilds only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import io
import json
import logging
import pkgutil
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_start import Sleep, login_with_retries
from bot.errors import UserError
from bot.notify import Attachment, ChannelUnavailable, LinkButton
from bot.services import Services
from bot.storage.state import BotStateRepo

if TYPE_CHECKING:
    from bot.render.leaderboard import EmbedContent

log = logging.getLogger(__name__)

COGS_PACKAGE = "cogs"
# How many messages after a post's start `find_post` reads (oldest first): the post, if it
# went out, is among the first few; this bounds the search in a busy channel.
HISTORY_SCAN_LIMIT = 200

# Plain words for the errors discord.py raises before a command body runs.
_CHECK_MESSAGES: dict[type[app_commands.AppCommandError], str] = {
    app_commands.NoPrivateMessage: "This command works only in a server.",
    app_commands.MissingPermissions: "You need the Manage Server permission for this command.",
    app_commands.BotMissingPermissions: (
        "I am missing a permission for this: ask an admin to check my role."
    ),
    app_commands.CommandOnCooldown: "Slow down a little: try again in a few seconds.",
}


def intents() -> discord.Intents:
    """Only what Stride needs: guilds (channels, roles). No privileged intents."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


def user_message_for(error: app_commands.AppCommandError) -> tuple[str, str | None]:
    """The message to show for an app-command error, and an error code if it was unexpected."""
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if isinstance(original, UserError):
        return str(original), None
    if isinstance(original, app_commands.TransformerError):
        return f"I could not understand the value “{original.value}”. Please check it.", None
    for error_type, message in _CHECK_MESSAGES.items():
        if isinstance(original, error_type):
            return message, None
    if isinstance(original, app_commands.CheckFailure):
        return str(original) or "You cannot use this command here.", None
    code = secrets.token_hex(2).upper()
    return f"Something went wrong (code {code}). The admins can find it in the log.", code


class StrideTree(app_commands.CommandTree["StrideBot"]):
    """Turns every app-command error into an ephemeral message the user can act on."""

    async def on_error(
        self, interaction: discord.Interaction[StrideBot], error: app_commands.AppCommandError
    ) -> None:
        message, code = user_message_for(error)
        command = interaction.command.qualified_name if interaction.command else "unknown"
        if code is not None:
            log.error("command /%s failed (code %s)", command, code, exc_info=error)
        interaction.client.services.metrics.interactions.labels(
            command, "unexpected_error" if code else "user_error"
        ).inc()
        await send_ephemeral(interaction, message)


async def send_ephemeral(interaction: discord.Interaction[Any], message: str) -> None:
    """Answer or follow up, whichever the interaction still allows."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error message for an interaction")


def command_tree_hash(
    tree: app_commands.CommandTree[Any], guild: discord.abc.Snowflake | None
) -> str:
    payload = sorted(
        (command.to_dict(tree) for command in tree.get_commands(guild=guild)),
        key=lambda item: (item.get("type", 1), item["name"]),
    )
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def cog_extensions() -> list[str]:
    """The extensions' module names, found without importing `cogs` (`bot/` never imports
    it: discord.py loads each extension by name)."""
    spec = importlib.util.find_spec(COGS_PACKAGE)
    if spec is None or spec.submodule_search_locations is None:
        raise RuntimeError(f"the {COGS_PACKAGE} package is not installed")
    return sorted(
        f"{COGS_PACKAGE}.{module.name}"
        for module in pkgutil.iter_modules(spec.submodule_search_locations)
        if not module.name.startswith("_")
    )


class StrideBot(commands.Bot):
    def __init__(self, services: Services, **options: Any) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            tree_cls=StrideTree,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.services = services
        self._transport = DiscordTransport(self)

    async def setup_hook(self) -> None:
        # Fixed order: schema first, then the cogs (which may read it), then the command tree.
        version = await self.services.db.migrate()
        log.info("database schema version %d", version)
        for extension in cog_extensions():
            await self.load_extension(extension)
        await self.sync_commands_if_changed()
        # Logged in: from now on the services' messages go through this client.
        self.services.messenger.attach(self._transport)
        self.services.scheduler.start()

    async def close(self) -> None:
        self.services.messenger.detach(self._transport)
        await super().close()

    async def sync_commands_if_changed(self) -> bool:
        """Sync the tree only when it differs from the last synced one (hash in the database)."""
        dev_guild_id = self.services.settings.dev_guild_id
        guild = discord.Object(id=dev_guild_id) if dev_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        digest = command_tree_hash(self.tree, guild)
        # Per application too: a database moved to another bot token must sync that bot.
        key = f"command_tree_hash:{self.application_id}:{dev_guild_id or 'global'}"
        state = BotStateRepo(self.services.db)
        stored = await state.get(key)
        if stored == digest:
            log.info("command tree unchanged since the last sync; not syncing")
            return False
        synced = await self.tree.sync(guild=guild)
        await state.set(key, digest)
        log.info(
            "synced %d commands to %s",
            len(synced),
            f"guild {dev_guild_id}" if guild else "all guilds",
        )
        return True


class ShardedStrideBot(StrideBot, commands.AutoShardedBot):
    """The same bot over the shards this process connects (`SHARD_IDS` of `SHARD_COUNT`)."""

    def __init__(self, services: Services) -> None:
        shards = services.settings.shards
        super().__init__(services, shard_count=shards.count, shard_ids=list(shards.ids or ()))


def stride_bot(services: Services) -> StrideBot:
    """The client for this process: sharded when the settings name shards."""
    if services.settings.shards.sharded:
        log.info("connecting %s", services.settings.shards.describe())
        return ShardedStrideBot(services)
    return StrideBot(services)


async def rest_transport(
    token: str, *, sleep: Sleep | None = None
) -> tuple[discord.Client, DiscordTransport]:
    """A client logged in over REST only (no gateway, no cache), and a transport over it:
    how `stride web` DMs and `stride worker` posts (`bot.roles`). Close the client after.

    With `sleep`, a login that cannot reach Discord is retried with backoff
    (`bot.discord_start.login_with_retries`); without it, one attempt. A failed login closes
    the client's session before raising."""
    client = discord.Client(intents=intents(), allowed_mentions=discord.AllowedMentions.none())
    try:
        if sleep is None:
            await client.login(token)
        else:
            await login_with_retries(client, token, sleep=sleep)
    except BaseException:
        await client.close()
        raise
    return client, DiscordTransport(client)


def to_discord_embed(content: EmbedContent) -> discord.Embed:
    embed = discord.Embed(
        title=content.title or None,
        description=content.description or None,
        colour=content.colour,
    )
    for name, value, inline in content.fields:
        embed.add_field(name=name, value=value, inline=inline)
    if content.footer:
        embed.set_footer(text=content.footer)
    return embed


def link_view(buttons: Sequence[LinkButton]) -> discord.ui.View | None:
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in buttons:
        view.add_item(discord.ui.Button(label=button.label, url=button.url))
    return view


class DiscordTransport:
    """`bot.notify.MessageTransport` over a discord.py client."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def send_dm(
        self,
        user_id: int,
        *,
        content: str | None = None,
        embed: EmbedContent | None = None,
        buttons: Sequence[LinkButton] = (),
        files: Sequence[Attachment] = (),
    ) -> bool:
        try:
            user = self._client.get_user(user_id) or await self._client.fetch_user(user_id)
            kwargs: dict[str, Any] = {"content": content}
            if embed is not None:
                kwargs["embed"] = to_discord_embed(embed)
            view = link_view(buttons)
            if view is not None:
                kwargs["view"] = view
            if files:
                kwargs["files"] = [_file(item) for item in files]
            await user.send(**kwargs)
        except discord.Forbidden:
            log.info("DMs closed for a user; not delivered")
            return False
        except (discord.NotFound, discord.HTTPException):
            log.warning("could not DM a user", exc_info=True)
            return False
        return True

    async def post(
        self,
        channel_id: int,
        *,
        content: str | None = None,
        embed: EmbedContent | None = None,
        files: Sequence[Attachment] = (),
        nonce: str | None = None,
    ) -> int:
        channel, me = await self._channel(channel_id)
        missing = missing_post_permissions(channel, needs_files=bool(files), me=me)
        if missing:
            raise ChannelUnavailable(f"I need {', '.join(missing)} in <#{channel_id}>")
        kwargs: dict[str, Any] = {"content": content}
        if embed is not None:
            kwargs["embed"] = to_discord_embed(embed)
        if files:
            kwargs["files"] = [_file(item) for item in files]
        if nonce is not None:
            kwargs["nonce"] = nonce  # discord.py sends it with enforce_nonce: true
        try:
            message = await channel.send(**kwargs)
        except discord.Forbidden as exc:
            raise ChannelUnavailable(f"I am not allowed to post in <#{channel_id}>") from exc
        return message.id

    async def find_post(
        self, channel_id: int, *, attachment_name: str, after: dt.datetime
    ) -> int | None:
        channel, member = await self._channel(channel_id)
        if missing_history_permissions(channel, me=member):
            # Without it Discord answers with an empty history: "not found" would be a guess.
            raise ChannelUnavailable(f"I need Read Message History in <#{channel_id}>")
        me = self._client.user
        try:
            async for message in channel.history(
                limit=HISTORY_SCAN_LIMIT, after=after, oldest_first=True
            ):
                if message.author == me and has_attachment(message, attachment_name):
                    return message.id
        except discord.Forbidden as exc:
            raise ChannelUnavailable(f"I cannot read the history of <#{channel_id}>") from exc
        return None

    async def _channel(
        self, channel_id: int
    ) -> tuple[discord.abc.Messageable, discord.Member | None]:
        """The channel to post in (from the cache, else fetched) and the bot's member in its
        guild (None: the cache's); raises `ChannelUnavailable`."""
        channel = self._client.get_channel(channel_id)
        me: discord.Member | None = None
        try:
            if channel is None:
                channel = await self._client.fetch_channel(channel_id)
            if isinstance(channel, discord.abc.GuildChannel) and channel.guild.me is None:
                channel, me = await self._over_rest(channel)
        except (discord.NotFound, discord.Forbidden) as exc:
            raise ChannelUnavailable(f"I cannot see the channel <#{channel_id}>") from exc
        if not isinstance(channel, discord.abc.Messageable):
            raise ChannelUnavailable(f"<#{channel_id}> is not a channel I can post in")
        return channel, me

    async def _over_rest(
        self, channel: discord.abc.GuildChannel
    ) -> tuple[discord.abc.GuildChannel | discord.Thread, discord.Member]:
        """A client without a gateway (`stride worker`, `stride web`) has no cache: the
        guild with its roles, the channel in it and the bot's member, over REST."""
        if self._client.user is None:  # pragma: no cover - a logged-in client has one
            raise ChannelUnavailable("not logged in")
        guild = await self._client.fetch_guild(channel.guild.id)
        in_guild = await guild.fetch_channel(channel.id)
        return in_guild, await guild.fetch_member(self._client.user.id)


def has_attachment(message: discord.Message, filename: str) -> bool:
    return any(attachment.filename == filename for attachment in message.attachments)


def missing_post_permissions(
    channel: object, *, needs_files: bool, me: discord.Member | None = None
) -> list[str]:
    """Names of the permissions the bot lacks to post (and attach files) in a guild channel
    (`me`: the bot's member when the client has no cache)."""
    if not isinstance(channel, discord.abc.GuildChannel):
        return []
    perms = channel.permissions_for(me or channel.guild.me)
    wanted = [
        ("View Channel", perms.view_channel),
        ("Send Messages", perms.send_messages),
        ("Embed Links", perms.embed_links),
    ]
    if needs_files:
        wanted.append(("Attach Files", perms.attach_files))
    return [name for name, granted in wanted if not granted]


def missing_history_permissions(channel: object, *, me: discord.Member | None = None) -> bool:
    """Whether the bot lacks View Channel or Read Message History in a guild channel."""
    if not isinstance(channel, discord.abc.GuildChannel):
        return False
    perms = channel.permissions_for(me or channel.guild.me)
    return not (perms.view_channel and perms.read_message_history)


def _file(attachment: Attachment) -> discord.File:
    return discord.File(io.BytesIO(attachment.data), filename=attachment.filename)
