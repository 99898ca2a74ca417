"""What each Discord REST route the stand-in serves does (the semantics behind ``rest.py``).

Covers what a discord.py 2.x bot uses: login (``/users/@me``, ``/oauth2/applications/@me``),
``/gateway/bot``, application command bulk overwrite and listing, interaction callbacks (types
4-9), follow-up webhooks and ``@original``, DMs, channel messages (JSON or multipart with files),
channels, guilds, members and users. Discord's rules that a bot can trip over are enforced with
Discord's own error codes: a DM to a user with closed DMs or no mutual guild (50007), missing
channel permissions (50001, 50013), an empty message (50006), a second callback (40060), a
callback after the deadline (10062), a follow-up before the callback (10015).

Messages as Discord documents them: a create with ``nonce`` and ``enforce_nonce`` that repeats
a nonce the same author used in the past few minutes returns that message and creates none;
the nonce is echoed in the create response but is not part of history. ``GET
/channels/{id}/messages`` pages with ``around``/``before``/``after`` (one at a time) and
``limit`` (1-100, default 50), newest first, and is empty without Read Message History.
A test can hold a message create in flight (:class:`HeldCreate`) to stop the bot inside it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tests.standins.discord.entities import (
    ATTACH_FILES,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    Channel,
    Json,
    StoredAttachment,
    StoredMessage,
    User,
    utcnow,
)
from tests.standins.discord.interactions import (
    CALLBACK_AUTOCOMPLETE_RESULT,
    CALLBACK_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_UPDATE_MESSAGE,
    CALLBACK_MODAL,
    CALLBACK_UPDATE_MESSAGE,
    INTERACTION_AUTOCOMPLETE,
    INTERACTION_MESSAGE_COMPONENT,
    InteractionEvent,
    InteractionLog,
    InteractionRecord,
)
from tests.standins.discord.openapi import new_snowflake
from tests.standins.discord.payloads import PayloadBuilder
from tests.standins.discord.rest import ApiError, ApiRequest, ApiResponse, Findings, Route
from tests.standins.discord.world import World

_VALID_CALLBACKS: dict[int, set[int]] = {
    INTERACTION_AUTOCOMPLETE: {CALLBACK_AUTOCOMPLETE_RESULT},
    INTERACTION_MESSAGE_COMPONENT: {
        CALLBACK_CHANNEL_MESSAGE,
        CALLBACK_DEFERRED_CHANNEL_MESSAGE,
        CALLBACK_DEFERRED_UPDATE_MESSAGE,
        CALLBACK_UPDATE_MESSAGE,
        CALLBACK_MODAL,
    },
}
_COMMAND_CALLBACKS = {CALLBACK_CHANNEL_MESSAGE, CALLBACK_DEFERRED_CHANNEL_MESSAGE, CALLBACK_MODAL}

MessageCreated = Callable[[StoredMessage], Awaitable[None]]

# "Checked for uniqueness in the past few minutes" (Discord's docs for enforce_nonce).
NONCE_WINDOW = timedelta(minutes=5)
HISTORY_ANCHORS = ("around", "before", "after")


@dataclass
class HeldCreate:
    """A message create the stand-in keeps in flight until the test lets it go.

    ``store_first``: the message is created (and in history) before the request is held, as
    when the bot dies after Discord created the message but before the answer reached it.
    Otherwise it is held before anything is created, as when the bot dies before its request
    reached Discord: ``drop()`` then loses it, ``release()`` lets it go through.
    """

    channel_id: int
    store_first: bool
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    message: StoredMessage | None = None  # once created
    dropped: bool = False
    _go: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_arrived(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the bot's request is being held."""
        async with asyncio.timeout(timeout):
            await self.arrived.wait()

    def release(self) -> None:
        """Let the request finish: create the message (if not yet) and answer."""
        self._go.set()

    def drop(self) -> None:
        """Lose the request: what was not created yet never is."""
        self.dropped = True
        self._go.set()

    async def hold(self) -> None:
        self.arrived.set()
        await self._go.wait()


def _unknown(kind: str, code: int) -> ApiError:
    return ApiError(404, code, f"Unknown {kind}")


class DiscordRoutes:
    """The route handlers, over the stand-in's world."""

    def __init__(
        self,
        *,
        world: World,
        payloads: PayloadBuilder,
        interactions: InteractionLog,
        findings: Findings,
        gateway_url: Callable[[], str],
        application_flags: int,
        shard_count: Callable[[], int] = lambda: 1,
        on_message_created: MessageCreated,
    ) -> None:
        self._world = world
        self._payloads = payloads
        self._interactions = interactions
        self._findings = findings
        self._gateway_url = gateway_url
        self._shard_count = shard_count
        self._application_flags = application_flags
        self._on_message_created = on_message_created
        self._created: list[StoredMessage] = []
        self.command_syncs: list[tuple[int | None, list[Json]]] = []
        self.holds: list[HeldCreate] = []
        self.nonce_window = NONCE_WINDOW

    async def after_response(self) -> None:
        """Announce what the last requests changed, once their responses are on the wire.

        Waking tests (and dispatching MESSAGE_CREATE) only after the HTTP response is sent keeps
        the bot ahead of the test: discord.py, for example, stores a message's view when the
        response arrives, so a button pressed before that would find no view.
        """
        created, self._created = self._created, []
        for message in created:
            await self._on_message_created(message)
        await self._world.notify_changed()
        await self._interactions.notify_all()

    def routes(self) -> list[Route]:
        """Every route served. Literal segments (``@me``, ``@original``) come before parameters."""
        webhook = "/webhooks/{webhook_id}/{webhook_token}"
        return [
            Route("GET", "/gateway", self.get_gateway, needs_bot_token=False),
            Route("GET", "/gateway/bot", self.get_gateway_bot),
            Route("GET", "/users/@me", self.get_current_user),
            Route("POST", "/users/@me/channels", self.create_dm),
            Route("GET", "/users/{user_id}", self.get_user),
            Route("GET", "/applications/@me", self.get_application),
            Route("GET", "/oauth2/applications/@me", self.get_application),
            Route("GET", "/applications/{application_id}/commands", self.get_commands),
            Route("PUT", "/applications/{application_id}/commands", self.put_commands),
            Route(
                "GET",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self.get_commands,
            ),
            Route(
                "PUT",
                "/applications/{application_id}/guilds/{guild_id}/commands",
                self.put_commands,
            ),
            Route(
                "POST",
                "/interactions/{interaction_id}/{interaction_token}/callback",
                self.interaction_callback,
                needs_bot_token=False,
            ),
            Route("POST", webhook, self.create_followup, needs_bot_token=False),
            Route("GET", webhook + "/messages/@original", self.get_original, needs_bot_token=False),
            Route(
                "PATCH", webhook + "/messages/@original", self.edit_original, needs_bot_token=False
            ),
            Route(
                "DELETE",
                webhook + "/messages/@original",
                self.delete_original,
                needs_bot_token=False,
            ),
            Route(
                "GET", webhook + "/messages/{message_id}", self.get_followup, needs_bot_token=False
            ),
            Route(
                "PATCH",
                webhook + "/messages/{message_id}",
                self.edit_followup,
                needs_bot_token=False,
            ),
            Route(
                "DELETE",
                webhook + "/messages/{message_id}",
                self.delete_followup,
                needs_bot_token=False,
            ),
            Route("GET", "/channels/{channel_id}", self.get_channel),
            Route("POST", "/channels/{channel_id}/typing", self.trigger_typing),
            Route("GET", "/channels/{channel_id}/messages", self.list_messages),
            Route("POST", "/channels/{channel_id}/messages", self.create_message),
            Route("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message),
            Route("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_message),
            Route("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message),
            Route("GET", "/guilds/{guild_id}", self.get_guild),
            Route("GET", "/guilds/{guild_id}/channels", self.get_guild_channels),
            Route("GET", "/guilds/{guild_id}/roles", self.get_guild_roles),
            Route("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member),
        ]

    def _shaped(self, request: ApiRequest, body: Any, status: int = 200) -> ApiResponse:
        return ApiResponse(status, self._payloads.shape_route(request.method, request.route, body))

    # --- gateway, users, application ----------------------------------------------------

    async def get_gateway(self, request: ApiRequest) -> ApiResponse:
        return self._shaped(request, {"url": self._gateway_url()})

    async def get_gateway_bot(self, request: ApiRequest) -> ApiResponse:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return self._shaped(
            request,
            {
                "url": self._gateway_url(),
                "shards": self._shard_count(),
                "session_start_limit": limit,
            },
        )

    async def get_current_user(self, request: ApiRequest) -> ApiResponse:
        return self._shaped(request, self._payloads.current_user(self._world.bot_user))

    async def get_user(self, request: ApiRequest) -> ApiResponse:
        user = self._world.users.get(_int(request.params["user_id"]))
        if user is None:
            raise _unknown("User", 10013)
        return self._shaped(request, self._payloads.user(user))

    async def get_application(self, request: ApiRequest) -> ApiResponse:
        payload = self._payloads.application(
            self._world.application_id,
            self._world.bot_user,
            self._world.owner,
            self._application_flags,
        )
        return self._shaped(request, payload)

    # --- application commands -----------------------------------------------------------

    def _check_application(self, request: ApiRequest) -> None:
        if _int(request.params["application_id"]) != self._world.application_id:
            raise _unknown("Application", 10002)

    def _command_guild(self, request: ApiRequest) -> int | None:
        if "guild_id" not in request.params:
            return None
        guild_id = _int(request.params["guild_id"])
        if guild_id not in self._world.guilds:
            raise ApiError(403, 50001, "Missing Access")
        return guild_id

    async def get_commands(self, request: ApiRequest) -> ApiResponse:
        self._check_application(request)
        return self._shaped(request, self._world.commands_for(self._command_guild(request)))

    async def put_commands(self, request: ApiRequest) -> ApiResponse:
        """Bulk overwrite: commands keep their id across overwrites when name and type match."""
        self._check_application(request)
        guild_id = self._command_guild(request)
        previous = {
            (c["name"], int(c.get("type", 1))): c for c in self._world.commands_for(guild_id)
        }
        stored = [self._registered_command(body, previous, guild_id) for body in request.body or []]
        if guild_id is None:
            self._world.global_commands = stored
        else:
            self._world.guild_commands[guild_id] = stored
        self.command_syncs.append((guild_id, stored))
        return self._shaped(request, stored)

    def _registered_command(
        self, body: Json, previous: dict[tuple[str, int], Json], guild_id: int | None
    ) -> Json:
        kind = int(body.get("type") or 1)
        earlier = previous.get((body["name"], kind))
        permissions = body.get("default_member_permissions")
        command: Json = {
            "id": earlier["id"] if earlier else str(new_snowflake()),
            "application_id": str(self._world.application_id),
            "version": str(new_snowflake()),
            "type": kind,
            "name": body["name"],
            "description": body.get("description") or "",
            "default_member_permissions": None if permissions is None else str(permissions),
            "dm_permission": body.get("dm_permission", True),
            "nsfw": bool(body.get("nsfw", False)),
        }
        for key in ("options", "contexts", "integration_types", "name_localizations"):
            if body.get(key) is not None:
                command[key] = body[key]
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        return command

    # --- interactions -------------------------------------------------------------------

    async def interaction_callback(self, request: ApiRequest) -> ApiResponse:
        record = self._interactions.by_id_and_token(
            _int(request.params["interaction_id"]), request.params["interaction_token"]
        )
        if record is None:
            raise _unknown("interaction", 10062)
        if record.callback is not None:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        elapsed = record.elapsed()
        if elapsed > record.deadline:
            self._findings.protocol_violations.append(
                f"interaction {record.label}: callback after {elapsed:.2f}s was refused "
                f"(deadline {record.deadline}s)"
            )
            raise _unknown("interaction", 10062)
        body = request.json_object()
        callback_type = int(body.get("type", 0))
        self._check_callback_type(record, callback_type)
        message = self._apply_callback(record, callback_type, body, request.files)
        record.record_event(
            InteractionEvent("callback", elapsed, body, callback_type, message, request.files)
        )
        if not request.flag("with_response"):
            return ApiResponse(204)
        return self._shaped(request, self._callback_response(record, callback_type, message))

    def _check_callback_type(self, record: InteractionRecord, callback_type: int) -> None:
        allowed = _VALID_CALLBACKS.get(record.type, _COMMAND_CALLBACKS)
        if callback_type not in allowed:
            problem = (
                f"interaction {record.label}: callback type {callback_type} is not valid "
                f"for interaction type {record.type}"
            )
            self._findings.protocol_violations.append(problem)
            raise ApiError(400, 50035, "Invalid Form Body", {"type": {"_errors": [problem]}})

    def _apply_callback(
        self,
        record: InteractionRecord,
        callback_type: int,
        body: Json,
        files: list[StoredAttachment],
    ) -> StoredMessage | None:
        data = body.get("data") or {}
        if callback_type == CALLBACK_CHANNEL_MESSAGE:
            record.original = self._interaction_message(record, data, files, flags=None)
            return record.original
        if callback_type == CALLBACK_DEFERRED_CHANNEL_MESSAGE:
            flags = StoredMessage.LOADING | (int(data.get("flags") or 0) & StoredMessage.EPHEMERAL)
            record.original = self._interaction_message(record, {}, [], flags=flags)
            return record.original
        if callback_type == CALLBACK_UPDATE_MESSAGE and record.component_message is not None:
            self._edit(record.component_message, data, files)
            return record.component_message
        return (
            record.component_message if callback_type == CALLBACK_DEFERRED_UPDATE_MESSAGE else None
        )

    def _interaction_message(
        self,
        record: InteractionRecord,
        data: Json,
        files: list[StoredAttachment],
        *,
        flags: int | None,
    ) -> StoredMessage:
        channel_id = int(record.payload["channel_id"])
        guild_id = record.payload.get("guild_id")
        message = StoredMessage(
            id=new_snowflake(),
            channel_id=channel_id,
            guild_id=None if guild_id is None else int(guild_id),
            author=self._world.bot_user,
            flags=int(data.get("flags") or 0) if flags is None else flags,
            interaction_id=record.id,
            webhook_id=self._world.application_id,
        )
        _apply_body(message, data, files, creating=flags is None)
        self._world.store_message(message)
        if not message.ephemeral:
            self._created.append(message)
        return message

    def _callback_response(
        self, record: InteractionRecord, callback_type: int, message: StoredMessage | None
    ) -> Json:
        interaction: Json = {"id": str(record.id), "type": record.type}
        if message is not None:
            interaction["response_message_id"] = str(message.id)
            interaction["response_message_loading"] = message.loading
            interaction["response_message_ephemeral"] = message.ephemeral
        response: Json = {"interaction": interaction}
        if message is not None and callback_type in (
            CALLBACK_CHANNEL_MESSAGE,
            CALLBACK_UPDATE_MESSAGE,
        ):
            response["resource"] = {
                "type": callback_type,
                "message": self._payloads.message(message),
            }
        return response

    def _webhook_record(self, request: ApiRequest) -> InteractionRecord:
        """The interaction a follow-up webhook belongs to; it must have been acknowledged."""
        record = self._interactions.by_token(request.params["webhook_token"])
        if _int(request.params["webhook_id"]) != self._world.application_id or record is None:
            raise _unknown("Webhook", 10015)
        if record.callback is None:
            self._findings.protocol_violations.append(
                f"interaction {record.label}: {request.method} {request.route} before any callback"
            )
            raise _unknown("Webhook", 10015)
        return record

    async def create_followup(self, request: ApiRequest) -> ApiResponse:
        record = self._webhook_record(request)
        body = request.json_object()
        original = record.original
        if original is not None and original.loading and not record.followups:
            # Discord: the first follow-up after a deferred response edits the "thinking" message,
            # keeping its ephemeral state.
            self._edit(original, body, request.files)
            message = original
        else:
            message = self._interaction_message(record, body, request.files, flags=None)
        record.record_event(
            InteractionEvent("followup", record.elapsed(), body, None, message, request.files)
        )
        if not request.flag("wait"):
            return ApiResponse(204)
        return self._shaped(request, self._payloads.message(message))

    def _original(self, record: InteractionRecord) -> StoredMessage:
        if record.original is None or record.original.deleted:
            raise _unknown("Message", 10008)
        return record.original

    def _followup_message(self, record: InteractionRecord, request: ApiRequest) -> StoredMessage:
        message_id = _int(request.params["message_id"])
        for event in record.events:
            if event.message is not None and event.message.id == message_id:
                if event.message.deleted:
                    break
                return event.message
        raise _unknown("Message", 10008)

    async def get_original(self, request: ApiRequest) -> ApiResponse:
        message = self._original(self._webhook_record(request))
        return self._shaped(request, self._payloads.message(message))

    async def edit_original(self, request: ApiRequest) -> ApiResponse:
        record = self._webhook_record(request)
        message = self._original(record)
        self._edit(message, request.json_object(), request.files)
        record.record_event(
            InteractionEvent(
                "edit_original",
                record.elapsed(),
                request.json_object(),
                None,
                message,
                request.files,
            )
        )
        return self._shaped(request, self._payloads.message(message))

    async def delete_original(self, request: ApiRequest) -> ApiResponse:
        record = self._webhook_record(request)
        message = self._original(record)
        self._delete(message)
        record.record_event(
            InteractionEvent("delete_original", record.elapsed(), None, None, message)
        )
        return ApiResponse(204)

    async def get_followup(self, request: ApiRequest) -> ApiResponse:
        message = self._followup_message(self._webhook_record(request), request)
        return self._shaped(request, self._payloads.message(message))

    async def edit_followup(self, request: ApiRequest) -> ApiResponse:
        record = self._webhook_record(request)
        message = self._followup_message(record, request)
        self._edit(message, request.json_object(), request.files)
        kind = "edit_original" if message is record.original else "edit_message"
        record.record_event(
            InteractionEvent(
                kind, record.elapsed(), request.json_object(), None, message, request.files
            )
        )
        return self._shaped(request, self._payloads.message(message))

    async def delete_followup(self, request: ApiRequest) -> ApiResponse:
        record = self._webhook_record(request)
        message = self._followup_message(record, request)
        self._delete(message)
        record.record_event(
            InteractionEvent("delete_message", record.elapsed(), None, None, message)
        )
        return ApiResponse(204)

    # --- DMs and channels ---------------------------------------------------------------

    async def create_dm(self, request: ApiRequest) -> ApiResponse:
        recipient = self._world.users.get(_int(request.json_object().get("recipient_id")))
        if recipient is None:
            raise ApiError(400, 50033, "Invalid Recipient(s)")
        channel = self._world.dm_channel_for(recipient)
        return self._shaped(request, self._payloads.dm_channel(channel, [recipient]))

    def _channel(self, request: ApiRequest) -> Channel:
        channel = self._world.channels.get(_int(request.params["channel_id"]))
        if channel is None:
            raise _unknown("Channel", 10003)
        if (
            not channel.is_dm
            and not self._world.permissions_in(channel, self._world.bot_user) & VIEW_CHANNEL
        ):
            raise ApiError(403, 50001, "Missing Access")
        return channel

    def _recipients(self, channel: Channel) -> list[User]:
        return [self._world.user(channel.recipient_id)] if channel.recipient_id else []

    async def get_channel(self, request: ApiRequest) -> ApiResponse:
        channel = self._channel(request)
        return self._shaped(request, self._payloads.channel(channel, self._recipients(channel)))

    async def trigger_typing(self, request: ApiRequest) -> ApiResponse:
        self._channel(request)
        return ApiResponse(204)

    async def list_messages(self, request: ApiRequest) -> ApiResponse:
        channel = self._channel(request)
        anchors = {name: request.query[name] for name in HISTORY_ANCHORS if name in request.query}
        if len(anchors) > 1:
            raise _invalid_query("around", "around, before and after are mutually exclusive")
        limit = _history_limit(request.query.get("limit"))
        if not channel.is_dm and not (
            self._world.permissions_in(channel, self._world.bot_user) & READ_MESSAGE_HISTORY
        ):
            return self._shaped(request, [])  # Discord: no history without the permission
        anchor_name, anchor = next(iter(anchors.items()), ("before", None))
        page = history_page(
            self._world.history_of(channel), limit, anchor_name, _snowflake(anchor_name, anchor)
        )
        return self._shaped(request, [self._payloads.message(m) for m in page])

    async def create_message(self, request: ApiRequest) -> ApiResponse:
        channel = self._channel(request)
        self._check_can_send(channel, request.files)
        hold = self._take_hold(channel.id)
        if hold is not None and not hold.store_first:
            await hold.hold()
            if hold.dropped:
                raise ApiError(503, 0, "the stand-in lost this request (the test dropped it)")
        message = self._earlier_with_nonce(request.json_object())
        if message is None:
            message = self._new_channel_message(channel, request)
        if hold is not None and hold.store_first:
            hold.message = message
            await self._world.notify_changed()
            await hold.hold()
        payload = self._payloads.message(message)
        if message.nonce is not None:
            payload["nonce"] = message.nonce  # in the create response, never in history
        return self._shaped(request, payload)

    def _take_hold(self, channel_id: int) -> HeldCreate | None:
        for hold in self.holds:
            if hold.channel_id == channel_id and not hold.arrived.is_set():
                return hold
        return None

    def _earlier_with_nonce(self, body: Json) -> StoredMessage | None:
        """With ``enforce_nonce``, the bot's message of the past few minutes with that nonce."""
        nonce = body.get("nonce")
        if nonce is None or not body.get("enforce_nonce"):
            return None
        since = utcnow() - self.nonce_window
        return self._world.message_with_nonce(self._world.bot_user, nonce, since=since)

    def _new_channel_message(self, channel: Channel, request: ApiRequest) -> StoredMessage:
        body = request.json_object()
        message = StoredMessage(
            id=new_snowflake(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=self._world.bot_user,
            flags=int(body.get("flags") or 0),
            nonce=body.get("nonce"),
        )
        _apply_body(message, body, request.files, creating=True)
        self._world.store_message(message)
        self._created.append(message)
        return message

    def _check_can_send(self, channel: Channel, files: list[StoredAttachment]) -> None:
        if channel.is_dm:
            recipient = self._world.user(channel.recipient_id)
            if not recipient.dms_open or not self._world.shares_a_guild_with_bot(recipient):
                raise ApiError(403, 50007, "Cannot send messages to this user")
            return
        bits = self._world.permissions_in(channel, self._world.bot_user)
        if not bits & SEND_MESSAGES or (files and not bits & ATTACH_FILES):
            raise ApiError(403, 50013, "Missing Permissions")

    def _channel_message(self, request: ApiRequest) -> StoredMessage:
        channel = self._channel(request)
        message = self._world.messages.get(_int(request.params["message_id"]))
        if message is None or message.deleted or message.channel_id != channel.id:
            raise _unknown("Message", 10008)
        return message

    async def get_message(self, request: ApiRequest) -> ApiResponse:
        return self._shaped(request, self._payloads.message(self._channel_message(request)))

    async def edit_message(self, request: ApiRequest) -> ApiResponse:
        message = self._channel_message(request)
        if message.author.id != self._world.bot_user.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._edit(message, request.json_object(), request.files)
        return self._shaped(request, self._payloads.message(message))

    async def delete_message(self, request: ApiRequest) -> ApiResponse:
        self._delete(self._channel_message(request))
        return ApiResponse(204)

    def _edit(self, message: StoredMessage, body: Json, files: list[StoredAttachment]) -> None:
        message.history.append(self._payloads.message(message))
        _apply_body(message, body, files, creating=False)
        message.flags &= ~StoredMessage.LOADING
        message.edited_at = utcnow()
        for attachment in message.attachments:
            self._world.store_attachment(attachment)

    @staticmethod
    def _delete(message: StoredMessage) -> None:
        message.deleted = True

    # --- guilds -------------------------------------------------------------------------

    def _guild_id(self, request: ApiRequest) -> int:
        guild_id = _int(request.params["guild_id"])
        if guild_id not in self._world.guilds:
            raise _unknown("Guild", 10004)
        return guild_id

    async def get_guild(self, request: ApiRequest) -> ApiResponse:
        guild = self._world.guild(self._guild_id(request))
        payload = self._payloads.guild(guild)
        if request.flag("with_counts"):
            payload |= {
                "approximate_member_count": len(guild.members),
                "approximate_presence_count": 0,
            }
        return self._shaped(request, payload)

    async def get_guild_channels(self, request: ApiRequest) -> ApiResponse:
        channels = self._world.guild_channels(self._guild_id(request))
        return self._shaped(request, [self._payloads.channel(c) for c in channels])

    async def get_guild_roles(self, request: ApiRequest) -> ApiResponse:
        guild = self._world.guild(self._guild_id(request))
        return self._shaped(request, [self._payloads.role(r) for r in guild.roles.values()])

    async def get_member(self, request: ApiRequest) -> ApiResponse:
        member = self._world.member(self._guild_id(request), _int(request.params["user_id"]))
        if member is None:
            raise _unknown("Member", 10007)
        return self._shaped(request, self._payloads.member(member))


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _invalid_query(name: str, problem: str) -> ApiError:
    return ApiError(
        400,
        50035,
        "Invalid Form Body",
        {name: {"_errors": [{"code": "BASE_TYPE_INVALID", "message": problem}]}},
    )


def _history_limit(raw: str | None) -> int:
    """``limit``: 1 to 100, 50 when absent; anything else is refused, as Discord does."""
    if raw is None:
        return 50
    try:
        limit = int(raw)
    except ValueError:
        raise _invalid_query("limit", "Value is not int.") from None
    if not 1 <= limit <= 100:
        raise _invalid_query("limit", "int value should be between 1 and 100.")
    return limit


def _snowflake(name: str, raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise _invalid_query(name, "Value is not snowflake.") from None


def history_page(
    messages: list[StoredMessage], limit: int, anchor_name: str, anchor: int | None
) -> list[StoredMessage]:
    """One page of a channel's history (``messages`` oldest first), newest first as Discord
    returns it: the newest ``limit`` messages (before ``before``), the ``limit`` messages
    just after ``after``, or up to ``limit // 2`` on each side of ``around`` and the message
    itself (so an even limit can return ``limit + 1``, a quirk discord.py documents)."""
    if anchor is None:
        page = messages[-limit:]
    elif anchor_name == "before":
        page = [m for m in messages if m.id < anchor][-limit:]
    elif anchor_name == "after":
        page = [m for m in messages if m.id > anchor][:limit]
    else:
        side = limit // 2
        older = [m for m in messages if m.id < anchor][-side:] if side else []
        newer = [m for m in messages if m.id > anchor][:side]
        page = older + [m for m in messages if m.id == anchor] + newer
    return list(reversed(page))


def _apply_body(
    message: StoredMessage, body: Json, files: list[StoredAttachment], *, creating: bool
) -> None:
    """Set content, embeds, components and attachments from a create or edit body."""
    if "content" in body:
        message.content = body["content"] or ""
    if "embeds" in body:
        message.embeds = list(body["embeds"] or [])
    if "components" in body:
        message.components = list(body["components"] or [])
    if "attachments" in body and not creating:
        kept = {str(entry.get("id")) for entry in body["attachments"] or []}
        message.attachments = [a for a in message.attachments if str(a.id) in kept]
    message.attachments.extend(files)
    if creating and not (
        message.content
        or message.embeds
        or message.components
        or message.attachments
        or body.get("sticker_ids")
        or body.get("poll")
    ):
        raise ApiError(400, 50006, "Cannot send an empty message")
