"""JSON payloads the stand-in sends, built from its entities in Discord's shapes.

Each builder writes the fields discord.py reads; when the OpenAPI spec is loaded, the result is
then completed with every field the spec's response schema requires (``DiscordSpec.shape``), so
the bot sees objects of the same shape Discord sends. Gateway-only objects (READY, GUILD_CREATE,
interactions) are not in the REST spec; they are built here from the gateway documentation,
reusing the spec's REST component schemas for the objects they embed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.standins.discord.entities import (
    Channel,
    Guild,
    Json,
    Member,
    Role,
    StoredAttachment,
    StoredMessage,
    User,
)
from tests.standins.discord.openapi import DiscordSpec

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


def snowflake(value: int | None) -> str | None:
    return None if value is None else str(value)


class PayloadBuilder:
    """Turns entities into Discord JSON."""

    def __init__(self, spec: DiscordSpec | None, cdn_base_url: Callable[[], str]) -> None:
        self.spec = spec
        self._cdn_base_url = cdn_base_url

    def _shape(self, component: str, payload: Json) -> Json:
        if self.spec is None:
            return payload
        shaped = self.spec.shape_component(component, payload)
        assert isinstance(shaped, dict)
        return shaped

    def shape_route(self, method: str, template: str, payload: Any, status: int = 200) -> Any:
        """A REST response body completed from the route's response schema."""
        return payload if self.spec is None else self.spec.shape(method, template, payload, status)

    # --- users, roles, members ----------------------------------------------------------

    def user(self, user: User) -> Json:
        payload: Json = {
            "id": str(user.id),
            "username": user.name,
            "global_name": user.global_name,
            "discriminator": "0",
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
            "primary_guild": None,
        }
        if user.bot:
            payload["bot"] = True
        return self._shape("UserResponse", payload)

    def current_user(self, user: User) -> Json:
        payload = self.user(user) | {"verified": True, "mfa_enabled": False, "locale": "en-US"}
        return self._shape("UserPIIResponse", payload)

    def role(self, role: Role) -> Json:
        payload: Json = {
            "id": str(role.id),
            "name": role.name,
            "permissions": str(role.permissions),
            "position": role.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": role.managed,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }
        if role.bot_id is not None:
            payload["tags"] = {"bot_id": str(role.bot_id)}
        return self._shape("GuildRoleResponse", payload)

    def member(self, member: Member, *, permissions: int | None = None) -> Json:
        payload: Json = {
            "user": self.user(member.user),
            "roles": [str(role_id) for role_id in member.role_ids],
            "nick": member.nick,
            "avatar": None,
            "banner": None,
            "joined_at": member.joined_at.isoformat(),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        payload = self._shape("GuildMemberResponse", payload)
        if permissions is not None:
            payload["permissions"] = str(permissions)
        return payload

    # --- channels -----------------------------------------------------------------------

    def channel(self, channel: Channel, recipients: list[User] | None = None) -> Json:
        if channel.is_dm:
            return self.dm_channel(channel, recipients or [])
        payload: Json = {
            "id": str(channel.id),
            "type": int(channel.type),
            "guild_id": snowflake(channel.guild_id),
            "name": channel.name,
            "position": channel.position,
            "permission_overwrites": [
                {
                    "id": str(o.target_id),
                    "type": int(o.type),
                    "allow": str(o.allow),
                    "deny": str(o.deny),
                }
                for o in channel.overwrites
            ],
            "parent_id": snowflake(channel.parent_id),
            "topic": channel.topic,
            "nsfw": False,
            "last_message_id": snowflake(channel.last_message_id),
            "rate_limit_per_user": 0,
            "flags": 0,
        }
        return self._shape("GuildChannelResponse", payload)

    def dm_channel(self, channel: Channel, recipients: list[User]) -> Json:
        payload: Json = {
            "id": str(channel.id),
            "type": int(channel.type),
            "last_message_id": snowflake(channel.last_message_id),
            "flags": 0,
            "recipients": [self.user(user) for user in recipients],
        }
        return self._shape("PrivateChannelResponse", payload)

    # --- guilds -------------------------------------------------------------------------

    def guild(self, guild: Guild) -> Json:
        """The REST guild object (``GET /guilds/{id}``)."""
        payload: Json = {
            "id": str(guild.id),
            "name": guild.name,
            "owner_id": str(guild.owner_id),
            "roles": [self.role(role) for role in guild.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "system_channel_flags": 0,
            "afk_timeout": 300,
        }
        return self._shape("GuildResponse", payload)

    def guild_create(self, guild: Guild, channels: list[Channel], *, lazy_load: bool) -> Json:
        """The GUILD_CREATE dispatch: the guild plus members, channels and the gateway extras.

        After READY (``lazy_load``) Discord marks the guild ``unavailable: false`` (it was listed
        as unavailable in READY); when the bot joins a guild later the field is absent.
        """
        extras: Json = {"unavailable": False} if lazy_load else {}
        return (
            self.guild(guild)
            | extras
            | {
                "joined_at": guild.joined_at.isoformat(),
                "large": False,
                "member_count": len(guild.members),
                "members": [self.member(member) for member in guild.members.values()],
                "channels": [self.channel(channel) for channel in channels],
                "threads": [],
                "presences": [],
                "voice_states": [],
                "stage_instances": [],
                "guild_scheduled_events": [],
                "soundboard_sounds": [],
            }
        )

    # --- messages -----------------------------------------------------------------------

    def attachment_url(self, channel_id: int, attachment: StoredAttachment) -> str:
        return (
            f"{self._cdn_base_url()}/attachments/{channel_id}/{attachment.id}/{attachment.filename}"
        )

    def attachment(self, channel_id: int, attachment: StoredAttachment) -> Json:
        url = self.attachment_url(channel_id, attachment)
        payload: Json = {
            "id": str(attachment.id),
            "filename": attachment.filename,
            "size": attachment.size,
            "url": url,
            "proxy_url": url,
        }
        if attachment.content_type:
            payload["content_type"] = attachment.content_type
        if attachment.description:
            payload["description"] = attachment.description
        return payload

    def message(self, message: StoredMessage) -> Json:
        payload: Json = {
            "id": str(message.id),
            "channel_id": str(message.channel_id),
            "type": 20 if message.interaction_id is not None else 0,
            "author": self.user(message.author),
            "content": message.content,
            "embeds": [self._embed(embed) for embed in message.embeds],
            "components": message.components,
            "attachments": [self.attachment(message.channel_id, a) for a in message.attachments],
            "flags": message.flags,
            "timestamp": message.created_at.isoformat(),
            "edited_timestamp": message.edited_at.isoformat() if message.edited_at else None,
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
        }
        if message.webhook_id is not None:
            payload["webhook_id"] = str(message.webhook_id)
            payload["application_id"] = str(message.webhook_id)
        return self._shape("MessageResponse", payload)

    @staticmethod
    def _embed(embed: Json) -> Json:
        return {"type": "rich", **{k: v for k, v in embed.items() if v is not None}}

    # --- application --------------------------------------------------------------------

    def application(self, application_id: int, bot: User, owner: User, flags: int) -> Json:
        payload: Json = {
            "id": str(application_id),
            "name": bot.name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot": self.user(bot),
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self.user(owner),
            "team": None,
            "verify_key": "0" * 64,
            "flags": flags,
            "rpc_origins": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "tags": [],
        }
        return self._shape("PrivateApplicationResponse", payload)
