"""The stand-in's in-memory Discord: users, guilds, channels and messages, and ways to wait on them.

The REST handlers, the gateway and the test-facing API all read and change this one object, so
what a test sees through ``standin.messages_in(...)`` is exactly what the bot wrote.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from tests.standins.discord.entities import (
    DEFAULT_EVERYONE_PERMISSIONS,
    Channel,
    ChannelType,
    Guild,
    Json,
    Member,
    Overwrite,
    OverwriteType,
    Role,
    StoredAttachment,
    StoredMessage,
    User,
    as_id,
    channel_permissions,
)
from tests.standins.discord.openapi import new_snowflake

MessagePredicate = Callable[[StoredMessage], bool]
T = TypeVar("T")


class UnknownEntityError(LookupError):
    """A test named a user, guild or channel the stand-in does not have."""


class World:
    """Users, guilds, channels, messages and registered commands."""

    def __init__(self, *, bot_user: User, owner: User, application_id: int) -> None:
        self.bot_user = bot_user
        self.owner = owner
        self.application_id = application_id
        self.users: dict[int, User] = {bot_user.id: bot_user, owner.id: owner}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, StoredMessage] = {}
        self.attachments: dict[int, StoredAttachment] = {}
        self._channel_messages: dict[int, list[StoredMessage]] = {}
        self._dm_channel_of_user: dict[int, int] = {}
        self.global_commands: list[Json] = []
        self.guild_commands: dict[int, list[Json]] = {}
        self._changed = asyncio.Condition()

    # --- building -----------------------------------------------------------------------

    def add_user(self, name: str, *, bot: bool = False, user_id: int | None = None) -> User:
        user = User(id=user_id or new_snowflake(), name=name, bot=bot, global_name=name)
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str,
        *,
        owner: User | None = None,
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
        bot_permissions: int = 0,
        guild_id: int | None = None,
    ) -> Guild:
        """A guild with an ``@everyone`` role, the bot as a member (with its managed role);
        `guild_id` picks its id (and so its shard), else a fresh snowflake."""
        guild_owner = owner or self.owner
        guild = Guild(id=guild_id or new_snowflake(), name=name, owner_id=guild_owner.id)
        guild.roles[guild.id] = Role(
            id=guild.id, guild_id=guild.id, name="@everyone", permissions=everyone_permissions
        )
        self.guilds[guild.id] = guild
        bot_role = self.add_role(guild, self.bot_user.name, bot_permissions, managed=True)
        bot_role.bot_id = self.bot_user.id
        self.add_member(guild, self.bot_user, roles=[bot_role])
        self.add_member(guild, guild_owner)
        return guild

    def add_role(
        self, guild: Guild | int, name: str, permissions: int, *, managed: bool = False
    ) -> Role:
        target = self.guild(guild)
        role = Role(
            id=new_snowflake(),
            guild_id=target.id,
            name=name,
            permissions=permissions,
            position=len(target.roles),
            managed=managed,
        )
        target.roles[role.id] = role
        return role

    def add_member(
        self,
        guild: Guild | int,
        user: User | int,
        *,
        roles: Iterable[Role | int] = (),
        nick: str | None = None,
    ) -> Member:
        target = self.guild(guild)
        person = self.user(user)
        member = Member(
            guild_id=target.id, user=person, role_ids=[as_id(role) for role in roles], nick=nick
        )
        target.members[person.id] = member
        return member

    def add_text_channel(
        self,
        guild: Guild | int,
        name: str,
        *,
        topic: str | None = None,
        overwrites: Iterable[Overwrite] = (),
    ) -> Channel:
        target = self.guild(guild)
        channel = Channel(
            id=new_snowflake(),
            type=ChannelType.GUILD_TEXT,
            name=name,
            guild_id=target.id,
            position=len(target.channel_ids),
            topic=topic,
            overwrites=list(overwrites),
        )
        self.channels[channel.id] = channel
        target.channel_ids.append(channel.id)
        return channel

    def set_overwrite(
        self, channel: Channel | int, target: Role | Member | User | int, *, allow: int, deny: int
    ) -> Overwrite:
        chan = self.channel(channel)
        kind = OverwriteType.ROLE if isinstance(target, Role) else OverwriteType.MEMBER
        if isinstance(target, int) and chan.guild_id is not None:
            guild = self.guild(chan.guild_id)
            kind = OverwriteType.ROLE if target in guild.roles else OverwriteType.MEMBER
        target_id = target.user.id if isinstance(target, Member) else as_id(target)
        chan.overwrites = [o for o in chan.overwrites if o.target_id != target_id]
        overwrite = Overwrite(target_id=target_id, type=kind, allow=allow, deny=deny)
        chan.overwrites.append(overwrite)
        return overwrite

    def dm_channel_for(self, user: User | int) -> Channel:
        """The user's DM channel with the bot, created on first use (its id never changes)."""
        person = self.user(user)
        channel_id = self._dm_channel_of_user.get(person.id)
        if channel_id is not None:
            return self.channels[channel_id]
        channel = Channel(id=new_snowflake(), type=ChannelType.DM, recipient_id=person.id)
        self.channels[channel.id] = channel
        self._dm_channel_of_user[person.id] = channel.id
        return channel

    def existing_dm_channel(self, user: User | int) -> Channel | None:
        channel_id = self._dm_channel_of_user.get(as_id(user))
        return None if channel_id is None else self.channels[channel_id]

    # --- looking up ---------------------------------------------------------------------

    def user(self, user: User | int | Any) -> User:
        user_id = as_id(user)
        try:
            return self.users[user_id]
        except KeyError:
            raise UnknownEntityError(f"no user {user_id} in the stand-in") from None

    def guild(self, guild: Guild | int | Any) -> Guild:
        guild_id = as_id(guild)
        try:
            return self.guilds[guild_id]
        except KeyError:
            raise UnknownEntityError(f"no guild {guild_id} in the stand-in") from None

    def channel(self, channel: Channel | int | Any) -> Channel:
        channel_id = as_id(channel)
        try:
            return self.channels[channel_id]
        except KeyError:
            raise UnknownEntityError(f"no channel {channel_id} in the stand-in") from None

    def member(self, guild: Guild | int, user: User | int) -> Member | None:
        return self.guild(guild).members.get(as_id(user))

    def guild_channels(self, guild: Guild | int) -> list[Channel]:
        return [self.channels[channel_id] for channel_id in self.guild(guild).channel_ids]

    def shares_a_guild_with_bot(self, user: User | int) -> bool:
        user_id = as_id(user)
        return any(
            user_id in guild.members and self.bot_user.id in guild.members
            for guild in self.guilds.values()
        )

    def permissions_in(self, channel: Channel, user: User | int) -> int:
        """The user's permissions in a guild channel (0 if not a member)."""
        if channel.guild_id is None:
            return 0
        guild = self.guild(channel.guild_id)
        member = guild.members.get(as_id(user))
        return 0 if member is None else channel_permissions(guild, member, channel)

    # --- messages -----------------------------------------------------------------------

    def store_attachment(self, attachment: StoredAttachment) -> StoredAttachment:
        self.attachments[attachment.id] = attachment
        return attachment

    def store_message(self, message: StoredMessage) -> StoredMessage:
        """Keep a message; waiters wake on :meth:`notify_changed`."""
        self.messages[message.id] = message
        for attachment in message.attachments:
            self.store_attachment(attachment)
        self._channel_messages.setdefault(message.channel_id, []).append(message)
        channel = self.channels.get(message.channel_id)
        if channel is not None:
            channel.last_message_id = message.id
        return message

    async def notify_changed(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def messages_in(
        self, channel: Channel | int, *, include_deleted: bool = False
    ) -> list[StoredMessage]:
        stored = self._channel_messages.get(as_id(channel), [])
        return [m for m in stored if include_deleted or not m.deleted]

    def history_of(self, channel: Channel | int) -> list[StoredMessage]:
        """What the channel's message history holds, oldest first: ephemeral answers (seen
        only by their user) and deleted messages are not part of it."""
        return [m for m in self.messages_in(channel) if not m.ephemeral]

    def message_with_nonce(
        self, author: User, nonce: str | int, *, since: datetime
    ) -> StoredMessage | None:
        """The message `author` created with `nonce` at `since` or later, if any."""
        for message in self.messages.values():
            if (
                message.author.id == author.id
                and message.nonce == nonce
                and message.created_at >= since
            ):
                return message
        return None

    def dms_to(self, user: User | int) -> list[StoredMessage]:
        channel = self.existing_dm_channel(user)
        return [] if channel is None else self.messages_in(channel)

    async def wait_for_message(
        self,
        channel: Channel | int,
        predicate: MessagePredicate | None,
        timeout: float,  # noqa: ASYNC109
    ) -> StoredMessage:
        """The first message in the channel (present or future) that matches ``predicate``."""
        channel_id = as_id(channel)

        def find() -> StoredMessage | None:
            return next(
                (m for m in self.messages_in(channel_id) if predicate is None or predicate(m)),
                None,
            )

        return await self.wait_until(find, timeout, f"a matching message in channel {channel_id}")

    async def wait_until(self, find: Callable[[], T | None], timeout: float, what: str) -> T:  # noqa: ASYNC109
        """Wait for ``find`` to return something, re-checking whenever the world changes."""
        async with self._changed:
            try:
                async with asyncio.timeout(timeout):
                    await self._changed.wait_for(lambda: find() is not None)
            except TimeoutError:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}") from None
        found = find()
        assert found is not None
        return found

    # --- commands -----------------------------------------------------------------------

    def commands_for(self, guild: Guild | int | None) -> list[Json]:
        if guild is None:
            return self.global_commands
        return self.guild_commands.get(as_id(guild), [])

    def find_command(self, name: str, guild_id: int | None, command_type: int = 1) -> Json | None:
        """A registered command by top-level name: the guild's own first, then global."""
        scopes = ([self.guild_commands.get(guild_id, [])] if guild_id else []) + [
            self.global_commands
        ]
        for commands in scopes:
            for command in commands:
                if command["name"] == name and int(command.get("type", 1)) == command_type:
                    return command
        return None
