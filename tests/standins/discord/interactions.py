"""Interactions for the stand-in: the INTERACTION_CREATE payloads users cause, and their records.

:class:`InteractionFactory` builds the payload Discord dispatches when a user runs a slash command,
types into an autocomplete option or presses a button. Slash commands are looked up among the
commands the bot registered (bulk overwrite), so a test cannot invoke what the bot never synced;
option values are checked against the registered option (type, choices, ranges) and user, channel,
role and attachment options come with their ``resolved`` objects.

:class:`InteractionRecord` is what a test holds afterwards: the dispatch time and every answer
(initial callback, follow-ups, edits of ``@original``), each timed from the dispatch, with
``wait_*`` coroutines that wake up on the answers instead of sleeping.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.standins.discord.entities import (
    ADMINISTRATOR,
    DM_APP_PERMISSIONS,
    Channel,
    ChannelType,
    Guild,
    Json,
    StoredAttachment,
    StoredMessage,
    User,
    as_id,
    as_permission_bits,
    base_permissions,
)
from tests.standins.discord.openapi import new_snowflake
from tests.standins.discord.payloads import ATTACHMENT_SIZE_LIMIT, PayloadBuilder
from tests.standins.discord.world import World

INTERACTION_APPLICATION_COMMAND = 2
INTERACTION_MESSAGE_COMPONENT = 3
INTERACTION_AUTOCOMPLETE = 4

CALLBACK_CHANNEL_MESSAGE = 4
CALLBACK_DEFERRED_CHANNEL_MESSAGE = 5
CALLBACK_DEFERRED_UPDATE_MESSAGE = 6
CALLBACK_UPDATE_MESSAGE = 7
CALLBACK_AUTOCOMPLETE_RESULT = 8
CALLBACK_MODAL = 9

OPTION_SUB_COMMAND = 1
OPTION_SUB_COMMAND_GROUP = 2
OPTION_STRING = 3
OPTION_INTEGER = 4
OPTION_BOOLEAN = 5
OPTION_USER = 6
OPTION_CHANNEL = 7
OPTION_ROLE = 8
OPTION_MENTIONABLE = 9
OPTION_NUMBER = 10
OPTION_ATTACHMENT = 11

CONTEXT_GUILD = 0
CONTEXT_BOT_DM = 1


class CommandNotRegisteredError(AssertionError):
    """The test invoked a command (or sub-command, or option) the bot never registered."""


class CommandUnavailableError(AssertionError):
    """Discord would not offer this command to this user here (permissions or context)."""


class InvalidOptionValueError(AssertionError):
    """A value a real Discord client would not let the user submit."""


class InteractionNotAnsweredError(AssertionError):
    """The bot did not answer an interaction in time."""


@dataclass
class InteractionEvent:
    """One answer the bot gave to an interaction."""

    kind: (
        str  # callback | followup | edit_original | delete_original | edit_message | delete_message
    )
    elapsed: float  # seconds since the interaction was dispatched
    body: Json | None
    callback_type: int | None = None
    message: StoredMessage | None = None
    files: list[StoredAttachment] = field(default_factory=list)

    @property
    def data(self) -> Json:
        if self.body is None:
            return {}
        inner = self.body.get("data") if self.kind == "callback" else self.body
        return inner if isinstance(inner, dict) else {}

    @property
    def content(self) -> str:
        return str(self.data.get("content") or "")

    @property
    def embeds(self) -> list[Json]:
        return list(self.data.get("embeds") or [])

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.data.get("flags") or 0) & StoredMessage.EPHEMERAL)

    @property
    def choices(self) -> list[Json]:
        return list(self.data.get("choices") or [])


class InteractionRecord:
    """An interaction the stand-in dispatched, and everything the bot answered."""

    def __init__(
        self,
        *,
        interaction_id: int,
        token: str,
        interaction_type: int,
        payload: Json,
        label: str,
        deadline: float,
        component_message: StoredMessage | None = None,
    ) -> None:
        self.id = interaction_id
        self.token = token
        self.type = interaction_type
        self.payload = payload
        self.label = label
        self.deadline = deadline
        self.dispatched_at = asyncio.get_running_loop().time()
        self.events: list[InteractionEvent] = []
        self.original: StoredMessage | None = component_message
        self.component_message = component_message
        self.waited_in_vain = False
        self.exempt_from_deadline = False
        self._changed = asyncio.Condition()

    def __repr__(self) -> str:
        return f"<InteractionRecord {self.label} id={self.id} events={len(self.events)}>"

    # --- what happened ------------------------------------------------------------------

    def elapsed(self) -> float:
        return asyncio.get_running_loop().time() - self.dispatched_at

    @property
    def callback(self) -> InteractionEvent | None:
        return next((e for e in self.events if e.kind == "callback"), None)

    @property
    def answered_after(self) -> float | None:
        callback = self.callback
        return None if callback is None else callback.elapsed

    @property
    def followups(self) -> list[InteractionEvent]:
        return [e for e in self.events if e.kind == "followup"]

    @property
    def edits(self) -> list[InteractionEvent]:
        return [e for e in self.events if e.kind == "edit_original"]

    @property
    def choices(self) -> list[Json]:
        """The autocomplete choices the bot returned."""
        callback = self.callback
        return [] if callback is None else callback.choices

    @property
    def original_message(self) -> StoredMessage | None:
        """The response message (``@original``) as it stands now, after edits."""
        return self.original

    def deadline_problem(self) -> str | None:
        """Why this interaction breaks Discord's answer deadline, or ``None``."""
        if self.exempt_from_deadline:
            return None
        answered = self.answered_after
        if answered is None:
            if self.waited_in_vain or self.elapsed() > self.deadline:
                return f"interaction {self.label} was never answered (deadline {self.deadline}s)"
            return None
        if answered > self.deadline:
            return (
                f"interaction {self.label} was answered after {answered:.2f}s "
                f"(deadline {self.deadline}s)"
            )
        return None

    # --- recording (called by the REST handlers) ----------------------------------------

    def record_event(self, event: InteractionEvent) -> None:
        """Note an answer; waiters wake on :meth:`notify` (after the HTTP response is sent)."""
        self.events.append(event)

    async def notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- waiting ------------------------------------------------------------------------

    async def wait_for(
        self,
        predicate: Callable[[InteractionEvent], bool],
        timeout: float,  # noqa: ASYNC109
        what: str,
    ) -> InteractionEvent:
        def find() -> InteractionEvent | None:
            return next((e for e in self.events if predicate(e)), None)

        async with self._changed:
            try:
                async with asyncio.timeout(timeout):
                    await self._changed.wait_for(lambda: find() is not None)
            except TimeoutError:
                raise InteractionNotAnsweredError(
                    f"{self.label}: no {what} within {timeout}s; got {self._summary()}"
                ) from None
        found = find()
        assert found is not None
        return found

    async def wait_response(self, timeout: float | None = None) -> InteractionEvent:  # noqa: ASYNC109
        """The initial callback (types 4-9); fails and is reported if none came in time."""
        try:
            return await self.wait_for(
                lambda e: e.kind == "callback",
                self.deadline if timeout is None else timeout,
                "callback",
            )
        except InteractionNotAnsweredError:
            self.waited_in_vain = True
            raise

    async def wait_followup(self, timeout: float = 5.0, *, number: int = 1) -> InteractionEvent:  # noqa: ASYNC109
        """The ``number``-th follow-up message (1-based)."""
        return await self.wait_for(
            lambda e: e.kind == "followup" and self.followups.index(e) == number - 1,
            timeout,
            f"follow-up #{number}",
        )

    async def wait_original_edit(self, timeout: float = 5.0) -> InteractionEvent:  # noqa: ASYNC109
        """The first edit of ``@original`` (how a deferred answer is delivered)."""
        return await self.wait_for(
            lambda e: e.kind == "edit_original", timeout, "edit of @original"
        )

    async def wait_message(self, timeout: float = 5.0) -> StoredMessage:  # noqa: ASYNC109
        """The response message, once it carries the bot's answer.

        That is at once for a type 4 callback, and after the edit of ``@original`` or the first
        follow-up for a deferred (type 5) one.
        """

        def answered(event: InteractionEvent) -> bool:
            original = self.original
            return original is not None and not original.loading and event.message is original

        await self.wait_for(answered, timeout, "an answered response message")
        assert self.original is not None
        return self.original

    def _summary(self) -> str:
        if not self.events:
            return "nothing"
        return ", ".join(f"{e.kind}@{e.elapsed:.2f}s" for e in self.events)


class InteractionLog:
    """Every interaction dispatched, by id and by token."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.records: list[InteractionRecord] = []

    def add(self, record: InteractionRecord) -> None:
        self.records.append(record)

    def remove(self, record: InteractionRecord) -> None:
        self.records.remove(record)

    def by_id_and_token(self, interaction_id: int, token: str) -> InteractionRecord | None:
        return next((r for r in self.records if r.id == interaction_id and r.token == token), None)

    def by_token(self, token: str) -> InteractionRecord | None:
        return next((r for r in self.records if r.token == token), None)

    async def notify_all(self) -> None:
        for record in self.records:
            await record.notify()

    def problems(self) -> list[str]:
        return [p for p in (r.deadline_problem() for r in self.records) if p is not None]


@dataclass
class Invocation:
    """Where and by whom an interaction happens, resolved from the test's arguments."""

    user: User
    guild: Guild | None
    channel: Channel
    permissions: int
    app_permissions: int
    locale: str


class InteractionFactory:
    """Builds INTERACTION_CREATE payloads from the stand-in's world."""

    def __init__(self, world: World, payloads: PayloadBuilder) -> None:
        self._world = world
        self._payloads = payloads

    # --- who, where ---------------------------------------------------------------------

    def invocation(
        self,
        *,
        user: User | int,
        guild: Guild | int | None,
        channel: Channel | int | None,
        permissions: Any | None,
        app_permissions: Any | None,
        locale: str,
    ) -> Invocation:
        person = self._world.user(user)
        place = self._world.channel(channel) if channel is not None else None
        if guild is None and place is not None and place.guild_id is not None:
            guild = place.guild_id
        server = self._world.guild(guild) if guild is not None else None
        if server is None:
            place = place or self._world.dm_channel_for(person)
        elif place is None:
            place = self._first_text_channel(server)
        if server is not None and person.id not in server.members:
            raise CommandUnavailableError(
                f"user {person.name} is not a member of guild {server.name}: add_member() first"
            )
        member_bits = self._member_permissions(person, server, place)
        app_bits = (
            self._world.permissions_in(place, self._world.bot_user)
            if server
            else DM_APP_PERMISSIONS
        )
        return Invocation(
            user=person,
            guild=server,
            channel=place,
            permissions=member_bits if permissions is None else as_permission_bits(permissions),
            app_permissions=app_bits
            if app_permissions is None
            else as_permission_bits(app_permissions),
            locale=locale,
        )

    def _first_text_channel(self, guild: Guild) -> Channel:
        for channel in self._world.guild_channels(guild):
            if channel.type is ChannelType.GUILD_TEXT:
                return channel
        raise CommandUnavailableError(f"guild {guild.name} has no text channel: add one first")

    def _member_permissions(self, user: User, guild: Guild | None, channel: Channel) -> int:
        if guild is None:
            return 0
        return self._world.permissions_in(channel, user)

    # --- payloads -----------------------------------------------------------------------

    def base_payload(self, invocation: Invocation, interaction_type: int, data: Json) -> Json:
        payload: Json = {
            "id": str(new_snowflake()),
            "application_id": str(self._world.application_id),
            "type": interaction_type,
            "data": data,
            "token": "interaction-" + secrets.token_urlsafe(24),
            "version": 1,
            "locale": invocation.locale,
            "app_permissions": str(invocation.app_permissions),
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "channel_id": str(invocation.channel.id),
        }
        if invocation.guild is None:
            return payload | self._dm_fields(invocation)
        return payload | self._guild_fields(invocation, invocation.guild)

    def _dm_fields(self, invocation: Invocation) -> Json:
        return {
            "user": self._payloads.user(invocation.user),
            "channel": self._payloads.channel(invocation.channel, [invocation.user]),
            "context": CONTEXT_BOT_DM,
            "authorizing_integration_owners": {"0": "0"},
        }

    def _guild_fields(self, invocation: Invocation, guild: Guild) -> Json:
        member = guild.members[invocation.user.id]
        channel = self._payloads.channel(invocation.channel) | {
            "permissions": str(invocation.permissions)
        }
        return {
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
            "guild_locale": "en-US",
            "member": self._payloads.member(member, permissions=invocation.permissions),
            "channel": channel,
            "context": CONTEXT_GUILD,
            "authorizing_integration_owners": {"0": str(guild.id)},
        }

    def command_data(
        self,
        invocation: Invocation,
        *,
        name: str,
        options: Mapping[str, Any],
        focused: str | None,
        enforce_discord_checks: bool,
    ) -> Json:
        """The ``data`` of an APPLICATION_COMMAND (AUTOCOMPLETE with ``focused``) interaction."""
        parts = name.split()
        if not parts:
            raise CommandNotRegisteredError("empty command name")
        guild_id = invocation.guild.id if invocation.guild else None
        command = self._world.find_command(parts[0], guild_id)
        if command is None:
            raise CommandNotRegisteredError(self._not_registered_message(parts[0], guild_id))
        if enforce_discord_checks:
            self._check_available(command, invocation)
        data: Json = {"id": command["id"], "name": command["name"], "type": command.get("type", 1)}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        builder = _OptionBuilder(self._world, self._payloads, invocation, autocomplete=focused)
        data["options"] = builder.build(command, parts, options)
        if builder.resolved and focused is None:
            data["resolved"] = builder.resolved
        return data

    def _not_registered_message(self, name: str, guild_id: int | None) -> str:
        known = sorted({c["name"] for c in self._world.commands_for(None)})
        if guild_id is not None:
            known += sorted({c["name"] for c in self._world.commands_for(guild_id)})
        return (
            f"/{name} was never registered with Discord (registered: {known or 'nothing'}); "
            "did the bot sync its command tree?"
        )

    def _check_available(self, command: Json, invocation: Invocation) -> None:
        contexts = command.get("contexts")
        in_guild = invocation.guild is not None
        if not in_guild and command.get("guild_id"):
            raise CommandUnavailableError(f"/{command['name']} is a guild command, not in DMs")
        if contexts is not None:
            wanted = CONTEXT_GUILD if in_guild else CONTEXT_BOT_DM
            if wanted not in contexts:
                where = "in guilds" if in_guild else "in DMs"
                raise CommandUnavailableError(f"/{command['name']} is not offered {where}")
        elif not in_guild and command.get("dm_permission") is False:
            raise CommandUnavailableError(f"/{command['name']} is not offered in DMs")
        required = command.get("default_member_permissions")
        if in_guild and required is not None:
            self._check_member_permissions(command, invocation, int(required))

    def _check_member_permissions(
        self, command: Json, invocation: Invocation, required: int
    ) -> None:
        assert invocation.guild is not None
        member = invocation.guild.members[invocation.user.id]
        guild_bits = base_permissions(invocation.guild, member) | invocation.permissions
        if guild_bits & ADMINISTRATOR or invocation.user.id == invocation.guild.owner_id:
            return
        if required == 0 or guild_bits & required != required:
            raise CommandUnavailableError(
                f"Discord hides /{command['name']} from {invocation.user.name}: it needs "
                f"permissions {required} (pass enforce_discord_checks=False to deliver it anyway)"
            )

    def component_data(
        self, message: StoredMessage, custom_id: str, values: list[str] | None
    ) -> Json:
        component = message.component(custom_id)
        if component is None:
            raise CommandNotRegisteredError(
                f"message {message.id} has no component with custom_id {custom_id!r} "
                f"(it has {message.custom_ids()})"
            )
        if component.get("disabled"):
            raise CommandUnavailableError(f"component {custom_id!r} is disabled")
        data: Json = {"custom_id": custom_id, "component_type": component["type"]}
        if values is not None:
            data["values"] = values
        elif component["type"] != 2:
            data["values"] = []
        return data


class _OptionBuilder:
    """Walks a registered command's option tree and turns test values into option payloads."""

    def __init__(
        self,
        world: World,
        payloads: PayloadBuilder,
        invocation: Invocation,
        *,
        autocomplete: str | None,
    ) -> None:
        self._world = world
        self._payloads = payloads
        self._invocation = invocation
        self._focused = autocomplete
        self.resolved: Json = {}

    def build(self, command: Json, parts: list[str], values: Mapping[str, Any]) -> list[Json]:
        top: list[Json] = []
        target = top
        definitions: list[Json] = list(command.get("options") or [])
        qualified = command["name"]
        for part in parts[1:]:
            definition = self._find(
                definitions, part, qualified, (OPTION_SUB_COMMAND, OPTION_SUB_COMMAND_GROUP)
            )
            node: Json = {"type": definition["type"], "name": part, "options": []}
            target.append(node)
            target = node["options"]
            definitions = list(definition.get("options") or [])
            qualified = f"{qualified} {part}"
        nested = [
            d["name"]
            for d in definitions
            if d["type"] in (OPTION_SUB_COMMAND, OPTION_SUB_COMMAND_GROUP)
        ]
        if nested:
            raise CommandNotRegisteredError(f"/{qualified} needs a sub-command: one of {nested}")
        for name, value in values.items():
            definition = self._find(definitions, name, qualified, None)
            target.append(self._option(definition, value, qualified))
        self._check_required(definitions, values, qualified)
        return top

    def _find(
        self, definitions: list[Json], name: str, qualified: str, kinds: tuple[int, ...] | None
    ) -> Json:
        for definition in definitions:
            if definition["name"] == name and (kinds is None or definition["type"] in kinds):
                return definition
        known = [d["name"] for d in definitions if kinds is None or d["type"] in kinds]
        raise CommandNotRegisteredError(f"/{qualified} has no {name!r} (it has {known})")

    def _check_required(
        self, definitions: list[Json], values: Mapping[str, Any], qualified: str
    ) -> None:
        if self._focused is not None:
            return
        missing = [d["name"] for d in definitions if d.get("required") and d["name"] not in values]
        if missing:
            raise InvalidOptionValueError(f"/{qualified} requires {missing}")

    def _option(self, definition: Json, value: Any, qualified: str) -> Json:
        name = definition["name"]
        kind = int(definition["type"])
        if name == self._focused:
            if not definition.get("autocomplete"):
                raise CommandNotRegisteredError(f"/{qualified} option {name!r} has no autocomplete")
            return {"type": kind, "name": name, "value": str(value), "focused": True}
        return {
            "type": kind,
            "name": name,
            "value": self._value(definition, kind, value, qualified),
        }

    def _value(self, definition: Json, kind: int, value: Any, qualified: str) -> Any:
        where = f"/{qualified} option {definition['name']!r}"
        if kind == OPTION_STRING:
            return self._checked_scalar(definition, _expect(value, str, where), where)
        if kind == OPTION_INTEGER:
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidOptionValueError(f"{where} takes an integer, not {value!r}")
            return self._checked_scalar(definition, value, where)
        if kind == OPTION_NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidOptionValueError(f"{where} takes a number, not {value!r}")
            return self._checked_scalar(definition, value, where)
        if kind == OPTION_BOOLEAN:
            return _expect(value, bool, where)
        return self._entity_value(definition, kind, value, where)

    def _checked_scalar(self, definition: Json, value: Any, where: str) -> Any:
        choices = definition.get("choices")
        if choices and value not in [choice["value"] for choice in choices]:
            offered = [choice["value"] for choice in choices]
            raise InvalidOptionValueError(f"{where}: {value!r} is not one of the choices {offered}")
        if isinstance(value, str):
            if len(value) < int(definition.get("min_length", 0)):
                raise InvalidOptionValueError(f"{where}: {value!r} is shorter than min_length")
            if len(value) > int(definition.get("max_length", 6000)):
                raise InvalidOptionValueError(f"{where}: {value!r} is longer than max_length")
            return value
        low, high = definition.get("min_value"), definition.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            raise InvalidOptionValueError(f"{where}: {value!r} is outside [{low}, {high}]")
        return value

    def _entity_value(self, definition: Json, kind: int, value: Any, where: str) -> str:
        if kind == OPTION_ATTACHMENT:
            return self._resolve_attachment(value, where)
        entity_id = as_id(value)
        guild = self._invocation.guild
        if kind == OPTION_ROLE or (
            kind == OPTION_MENTIONABLE and guild and entity_id in guild.roles
        ):
            self._resolve_role(entity_id, where)
        elif kind in (OPTION_USER, OPTION_MENTIONABLE):
            self._resolve_user(entity_id)
        elif kind == OPTION_CHANNEL:
            self._resolve_channel(definition, entity_id, where)
        return str(entity_id)

    def _resolve_user(self, user_id: int) -> None:
        user = self._world.user(user_id)
        self.resolved.setdefault("users", {})[str(user_id)] = self._payloads.user(user)
        guild = self._invocation.guild
        member = guild.members.get(user_id) if guild else None
        if guild is not None and member is not None:
            member_payload = self._payloads.member(
                member, permissions=self._world.permissions_in(self._invocation.channel, user)
            )
            member_payload.pop("user", None)
            self.resolved.setdefault("members", {})[str(user_id)] = member_payload

    def _resolve_role(self, role_id: int, where: str) -> None:
        guild = self._invocation.guild
        if guild is None or role_id not in guild.roles:
            raise InvalidOptionValueError(f"{where}: role {role_id} is not in this guild")
        self.resolved.setdefault("roles", {})[str(role_id)] = self._payloads.role(
            guild.roles[role_id]
        )

    def _resolve_channel(self, definition: Json, channel_id: int, where: str) -> None:
        channel = self._world.channel(channel_id)
        allowed = definition.get("channel_types")
        if allowed and int(channel.type) not in allowed:
            raise InvalidOptionValueError(f"{where}: channel type {channel.type} not in {allowed}")
        bits = self._world.permissions_in(channel, self._invocation.user)
        self.resolved.setdefault("channels", {})[str(channel_id)] = {
            "id": str(channel.id),
            "name": channel.name,
            "type": int(channel.type),
            "permissions": str(bits),
            "parent_id": None if channel.parent_id is None else str(channel.parent_id),
            "flags": 0,
        }

    def _resolve_attachment(self, value: Any, where: str) -> str:
        if not isinstance(value, StoredAttachment):
            raise InvalidOptionValueError(f"{where} takes a StoredAttachment, not {value!r}")
        self._world.store_attachment(value)
        self.resolved.setdefault("attachments", {})[str(value.id)] = self._payloads.attachment(
            self._invocation.channel.id, value
        )
        return str(value.id)


def _expect(value: Any, kind: type, where: str) -> Any:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise InvalidOptionValueError(f"{where} takes a {kind.__name__}, not {value!r}")
    return value
