"""What the Discord stand-in knows: users, guilds, roles, members, channels, messages.

Plain dataclasses with integer ids (as discord.py exposes them) and the permission arithmetic
Discord documents ("Permission Overwrites" in the developer docs): base permissions from the
``@everyone`` role and the member's roles, then channel overwrites for ``@everyone``, for the
member's roles together, and for the member, in that order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

ALL_PERMISSIONS = (1 << 53) - 1
ADMINISTRATOR = 1 << 3
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_APPLICATION_COMMANDS = 1 << 31
SEND_MESSAGES_IN_THREADS = 1 << 38

CREATE_INSTANT_INVITE = 1 << 0
ADD_REACTIONS = 1 << 6
CHANGE_NICKNAME = 1 << 26
USE_EXTERNAL_EMOJIS = 1 << 18
CONNECT = 1 << 20
SPEAK = 1 << 21
CREATE_PUBLIC_THREADS = 1 << 35

# Roughly what a new guild's @everyone role gets on Discord: chat, but manage nothing.
DEFAULT_EVERYONE_PERMISSIONS = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | CONNECT
    | SPEAK
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)

# What Discord reports as the app's permissions in a DM with the bot.
DM_APP_PERMISSIONS = (
    ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
)

Json = dict[str, Any]


class ChannelType(IntEnum):
    GUILD_TEXT = 0
    DM = 1
    GUILD_CATEGORY = 4


class OverwriteType(IntEnum):
    ROLE = 0
    MEMBER = 1


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_permission_bits(value: Any) -> int:
    """Accept an ``int`` or anything with an integer ``.value`` (``discord.Permissions``)."""
    if isinstance(value, int):
        return value
    bits = getattr(value, "value", None)
    if isinstance(bits, int):
        return bits
    raise TypeError(f"expected permission bits or discord.Permissions, got {value!r}")


def as_id(value: Any) -> int:
    """Accept an ``int`` id or any object with an integer ``.id`` (entities, discord.py models)."""
    if isinstance(value, int):
        return value
    ident = getattr(value, "id", None)
    if isinstance(ident, int):
        return ident
    raise TypeError(f"expected an id or an object with .id, got {value!r}")


@dataclass
class User:
    id: int
    name: str
    bot: bool = False
    global_name: str | None = None
    dms_open: bool = True


@dataclass
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False
    bot_id: int | None = None


@dataclass
class Member:
    guild_id: int
    user: User
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: datetime = field(default_factory=utcnow)

    @property
    def id(self) -> int:
        return self.user.id


@dataclass
class Overwrite:
    target_id: int
    type: OverwriteType
    allow: int = 0
    deny: int = 0


@dataclass
class Channel:
    id: int
    type: ChannelType
    name: str | None = None
    guild_id: int | None = None
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    recipient_id: int | None = None
    last_message_id: int | None = None

    @property
    def is_dm(self) -> bool:
        return self.type is ChannelType.DM


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    channel_ids: list[int] = field(default_factory=list)
    joined_at: datetime = field(default_factory=utcnow)

    @property
    def everyone_role(self) -> Role:
        return self.roles[self.id]


@dataclass
class StoredAttachment:
    """A file the bot uploaded, with its bytes."""

    id: int
    filename: str
    data: bytes
    content_type: str | None = None
    description: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class StoredMessage:
    """A message as the stand-in holds it (the latest version, after edits)."""

    id: int
    channel_id: int
    author: User
    content: str = ""
    embeds: list[Json] = field(default_factory=list)
    components: list[Json] = field(default_factory=list)
    attachments: list[StoredAttachment] = field(default_factory=list)
    flags: int = 0
    guild_id: int | None = None
    created_at: datetime = field(default_factory=utcnow)
    edited_at: datetime | None = None
    deleted: bool = False
    interaction_id: int | None = None
    webhook_id: int | None = None
    history: list[Json] = field(default_factory=list)
    # The create request's nonce: echoed in its response and MESSAGE_CREATE, never in history.
    nonce: str | int | None = None

    EPHEMERAL = 1 << 6
    LOADING = 1 << 7

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & self.EPHEMERAL)

    @property
    def loading(self) -> bool:
        """A deferred "is thinking..." message not yet edited into its answer."""
        return bool(self.flags & self.LOADING)

    def custom_ids(self) -> list[str]:
        """The ``custom_id`` of every component on the message, depth first."""
        return list(_custom_ids(self.components))

    def component(self, custom_id: str) -> Json | None:
        return _find_component(self.components, custom_id)

    @property
    def text(self) -> str:
        """Content, embed titles, descriptions and fields in one string, for loose assertions."""
        parts = [self.content]
        for embed in self.embeds:
            parts.extend(str(embed.get(key) or "") for key in ("title", "description"))
            for embed_field in embed.get("fields") or []:
                parts.extend((str(embed_field.get("name", "")), str(embed_field.get("value", ""))))
            footer = embed.get("footer") or {}
            parts.append(str(footer.get("text", "")))
        return "\n".join(part for part in parts if part)


def _custom_ids(components: Iterable[Json]) -> Iterable[str]:
    for component in components:
        if component.get("custom_id"):
            yield str(component["custom_id"])
        yield from _custom_ids(component.get("components") or [])
        accessory = component.get("accessory")
        if isinstance(accessory, dict):
            yield from _custom_ids([accessory])


def _find_component(components: Iterable[Json], custom_id: str) -> Json | None:
    for component in components:
        if component.get("custom_id") == custom_id:
            return component
        accessory = component.get("accessory")
        children = [*(component.get("components") or []), *([accessory] if accessory else [])]
        nested = _find_component(children, custom_id)
        if nested is not None:
            return nested
    return None


def base_permissions(guild: Guild, member: Member) -> int:
    """The member's guild-wide permissions (before channel overwrites)."""
    if member.user.id == guild.owner_id:
        return ALL_PERMISSIONS
    bits = guild.everyone_role.permissions
    for role_id in member.role_ids:
        role = guild.roles.get(role_id)
        if role is not None:
            bits |= role.permissions
    return ALL_PERMISSIONS if bits & ADMINISTRATOR else bits


def channel_permissions(guild: Guild, member: Member, channel: Channel) -> int:
    """The member's permissions in ``channel``, overwrites applied."""
    bits = base_permissions(guild, member)
    if bits & ADMINISTRATOR:
        return ALL_PERMISSIONS
    by_target = {overwrite.target_id: overwrite for overwrite in channel.overwrites}
    everyone = by_target.get(guild.id)
    if everyone is not None:
        bits = (bits & ~everyone.deny) | everyone.allow
    role_allow = role_deny = 0
    for role_id in member.role_ids:
        overwrite = by_target.get(role_id)
        if overwrite is not None and overwrite.type is OverwriteType.ROLE:
            role_allow |= overwrite.allow
            role_deny |= overwrite.deny
    bits = (bits & ~role_deny) | role_allow
    own = by_target.get(member.user.id)
    if own is not None and own.type is OverwriteType.MEMBER:
        bits = (bits & ~own.deny) | own.allow
    if not bits & VIEW_CHANNEL:
        return 0
    return bits
