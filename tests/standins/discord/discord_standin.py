"""A local Discord (REST API v10 + gateway) for end-to-end tests of an unmodified discord.py bot.

:class:`DiscordStandIn` is the test-facing object: it runs an aiohttp server on 127.0.0.1,
holds the world (users, guilds, channels, messages, registered commands), lets a test act as
Discord users (slash commands, autocomplete, button presses) and records what the bot did
(requests, messages, DMs, interaction answers with their timing). :func:`patch_discord` points
discord.py at it. What goes wrong on the bot's side is collected and reported by
:meth:`DiscordStandIn.failures`, which the ``discord_standin`` fixture checks at teardown:
request bodies that break Discord's OpenAPI schema, interactions answered late or never,
Discord protocol misuse, and requests to routes the stand-in does not know.

The pieces: ``openapi`` (spec, validation, response shapes), ``entities``/``world`` (the data),
``payloads`` (JSON builders), ``rest``/``rest_routes`` (REST), ``gateway`` (WebSocket),
``interactions`` (interaction payloads and records).
"""

from __future__ import annotations

import socket
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self

import yarl
from aiohttp import web

from tests.standins.discord.entities import (
    DEFAULT_EVERYONE_PERMISSIONS,
    Channel,
    Guild,
    Json,
    Member,
    Overwrite,
    Role,
    StoredAttachment,
    StoredMessage,
    User,
    as_id,
    as_permission_bits,
)
from tests.standins.discord.gateway import (
    CLOSE_UNKNOWN_ERROR,
    Gateway,
    GatewaySession,
)
from tests.standins.discord.interactions import (
    INTERACTION_APPLICATION_COMMAND,
    INTERACTION_AUTOCOMPLETE,
    INTERACTION_MESSAGE_COMPONENT,
    InteractionFactory,
    InteractionLog,
    InteractionRecord,
    Invocation,
)
from tests.standins.discord.openapi import DiscordSpec, SchemaViolation, new_snowflake
from tests.standins.discord.payloads import PayloadBuilder
from tests.standins.discord.rest import API_PREFIX, Findings, RecordedRequest, RestServer
from tests.standins.discord.rest_routes import DiscordRoutes, HeldCreate
from tests.standins.discord.world import MessagePredicate, World

with warnings.catch_warnings():
    # discord.py imports the deprecated stdlib `audioop` (for voice) on Python 3.11-3.12.
    warnings.filterwarnings(
        "ignore", message="'audioop' is deprecated", category=DeprecationWarning
    )
    import discord.http
    from discord.gateway import DiscordWebSocket

DEFAULT_TOKEN = "stand-in.bot-token.0123456789"
GATEWAY_PATH = "/gateway"
RESUME_GATEWAY_PATH = "/gateway/resume"
APPLICATION_FLAG_COMMAND_BADGE = 1 << 23
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12

__all__ = [
    "DiscordStandIn",
    "HeldCreate",
    "InteractionRecord",
    "StoredAttachment",
    "StoredMessage",
    "patch_discord",
]


class DiscordStandIn:
    """A fake Discord for one test: start it, point discord.py at it, drive it, inspect it."""

    def __init__(
        self,
        *,
        spec: DiscordSpec | None,
        token: str = DEFAULT_TOKEN,
        bot_name: str = "Stride",
        interaction_deadline: float = 3.0,
        heartbeat_interval: float = 41.25,
        privileged_intents: int = 0,
        validate_responses: bool = True,
        shard_count: int = 1,
    ) -> None:
        """
        Args:
            spec: Discord's OpenAPI spec; ``None`` disables request validation and shaping.
            token: the bot token the stand-in accepts (REST ``Authorization`` and IDENTIFY).
            interaction_deadline: seconds an interaction may wait for its first callback.
            heartbeat_interval: seconds, sent in HELLO.
            privileged_intents: intent bits the "developer portal" enabled; others close 4014.
            validate_responses: check the stand-in's own responses against the spec.
            shard_count: the shards ``GET /gateway/bot`` recommends; above 1, an IDENTIFY
                without ``shard`` is refused (4011). Each guild's events go to its shard.
        """
        self.shard_count = shard_count
        self.token = token
        self.spec = spec
        self.application_id = new_snowflake()
        self.bot_user = User(id=self.application_id, name=bot_name, bot=True, global_name=bot_name)
        owner = User(id=new_snowflake(), name="owner", global_name="Owner")
        self.world = World(bot_user=self.bot_user, owner=owner, application_id=self.application_id)
        self.findings = Findings()
        self.interactions = InteractionLog(interaction_deadline)
        self.payloads = PayloadBuilder(spec, lambda: self.base_url)
        self._factory = InteractionFactory(self.world, self.payloads)
        self.gateway = Gateway(
            token=token,
            heartbeat_interval_ms=int(heartbeat_interval * 1000),
            allowed_privileged_intents=privileged_intents,
            on_identified=self._on_identified,
            on_request_members=self._on_request_members,
            shard_count=lambda: self.shard_count,
        )
        self.routes = DiscordRoutes(
            world=self.world,
            payloads=self.payloads,
            interactions=self.interactions,
            findings=self.findings,
            gateway_url=lambda: self.gateway_url,
            shard_count=lambda: self.shard_count,
            application_flags=APPLICATION_FLAG_COMMAND_BADGE,
            on_message_created=self._dispatch_message_create,
        )
        self._rest = RestServer(
            token=token,
            spec=spec,
            findings=self.findings,
            validate_responses=validate_responses,
            after_response=self.routes.after_response,
        )
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.allow_unknown_routes = False

    # --- lifecycle ----------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(GATEWAY_PATH, self.gateway.handle)
        app.router.add_get(RESUME_GATEWAY_PATH, self.gateway.handle)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._cdn)
        self._rest.install(app, self.routes.routes())
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on ``host`` (an ephemeral port by default)."""
        runner = web.AppRunner(self._make_app(), handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound = runner.addresses[0]
        self.base_url = f"http://{bound[0]}:{bound[1]}"
        self.gateway.resume_url = self._ws_url(RESUME_GATEWAY_PATH)

    async def close(self) -> None:
        for hold in self.routes.holds:
            hold.drop()  # a request still held would keep the server from closing
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def _ws_url(self, path: str) -> str:
        return str(yarl.URL(self.base_url).with_scheme("ws").with_path(path))

    @property
    def rest_base_url(self) -> str:
        """What ``discord.http.Route.BASE`` must be set to."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """The gateway URL (also returned by ``GET /gateway/bot``)."""
        return self._ws_url(GATEWAY_PATH)

    async def _cdn(self, request: web.Request) -> web.StreamResponse:
        attachment = self.world.attachments.get(int(request.match_info["attachment_id"]))
        if attachment is None or attachment.filename != request.match_info["filename"]:
            return web.Response(status=404)
        return web.Response(
            body=attachment.data, content_type=attachment.content_type or "application/octet-stream"
        )

    # --- building the world -------------------------------------------------------------

    def add_user(self, name: str, *, bot: bool = False) -> User:
        """A Discord user (not yet in any guild)."""
        return self.world.add_user(name, bot=bot)

    async def add_guild(
        self,
        name: str = "Test Guild",
        *,
        owner: User | None = None,
        bot_permissions: Any = 0,
        everyone_permissions: Any = DEFAULT_EVERYONE_PERMISSIONS,
        text_channels: Iterable[str] = ("general",),
        guild_id: int | None = None,
    ) -> Guild:
        """A guild the bot is in, with ``@everyone``, the bot's managed role and text channels.

        If the bot is already connected, it receives GUILD_CREATE (as when it is invited).
        """
        guild = self.world.add_guild(
            name,
            owner=owner,
            everyone_permissions=as_permission_bits(everyone_permissions),
            bot_permissions=as_permission_bits(bot_permissions),
            guild_id=guild_id,
        )
        for channel_name in text_channels:
            self.world.add_text_channel(guild, channel_name)
        await self._dispatch_if(
            INTENT_GUILDS, "GUILD_CREATE", self._guild_create(guild, lazy_load=False)
        )
        return guild

    async def add_role(self, guild: Guild | int, name: str, permissions: Any = 0) -> Role:
        role = self.world.add_role(guild, name, as_permission_bits(permissions))
        data = {"guild_id": str(as_id(guild)), "role": self.payloads.role(role)}
        await self._dispatch_if(INTENT_GUILDS, "GUILD_ROLE_CREATE", data)
        return role

    async def add_member(
        self,
        guild: Guild | int,
        user: User | int | None = None,
        *,
        name: str | None = None,
        roles: Iterable[Role | int] = (),
        nick: str | None = None,
    ) -> Member:
        """Make ``user`` (or a new user called ``name``) a member of ``guild``."""
        person = user if user is not None else self.world.add_user(name or "member")
        member = self.world.add_member(guild, person, roles=roles, nick=nick)
        data = self.payloads.member(member) | {"guild_id": str(as_id(guild))}
        await self._dispatch_if(INTENT_GUILD_MEMBERS, "GUILD_MEMBER_ADD", data)
        return member

    async def add_text_channel(
        self,
        guild: Guild | int,
        name: str,
        *,
        topic: str | None = None,
        overwrites: Iterable[Overwrite] = (),
    ) -> Channel:
        channel = self.world.add_text_channel(guild, name, topic=topic, overwrites=overwrites)
        await self._dispatch_if(INTENT_GUILDS, "CHANNEL_CREATE", self.payloads.channel(channel))
        return channel

    async def set_permission_overwrite(
        self,
        channel: Channel | int,
        target: Role | Member | User | int,
        *,
        allow: Any = 0,
        deny: Any = 0,
    ) -> None:
        """Add or replace a channel overwrite for a role or member (CHANNEL_UPDATE if connected)."""
        chan = self.world.channel(channel)
        self.world.set_overwrite(
            chan, target, allow=as_permission_bits(allow), deny=as_permission_bits(deny)
        )
        await self._dispatch_if(INTENT_GUILDS, "CHANNEL_UPDATE", self.payloads.channel(chan))

    @property
    def owner(self) -> User:
        """The application's owner, also the owner of guilds added without ``owner=``."""
        return self.world.owner

    def channel_named(self, guild: Guild | int, name: str) -> Channel:
        """A guild channel by name."""
        for channel in self.world.guild_channels(guild):
            if channel.name == name:
                return channel
        raise LookupError(f"guild {as_id(guild)} has no channel named {name!r}")

    def hold_message_create(self, channel: Channel | int, *, store_first: bool) -> HeldCreate:
        """Keep the bot's next message create in ``channel`` in flight until the test calls
        ``release()`` or ``drop()`` on what this returns (``wait_arrived()`` waits for it).

        With ``store_first`` the message is created before the request is held (the bot
        dies after Discord created it); without, nothing is created until it is released.
        """
        hold = HeldCreate(channel_id=as_id(channel), store_first=store_first)
        self.routes.holds.append(hold)
        return hold

    def history(self, channel: Channel | int) -> list[StoredMessage]:
        """The channel's message history as Discord keeps it, oldest first (no ephemeral
        answers, no deleted messages)."""
        return self.world.history_of(channel)

    def close_dms(self, user: User | int) -> None:
        """The user closes their DMs: opening the DM channel works, sending to it gives 50007."""
        self.world.user(user).dms_open = False

    def open_dms(self, user: User | int) -> None:
        self.world.user(user).dms_open = True

    def dm_channel(self, user: User | int) -> Channel:
        """The user's DM channel with the bot (created if needed)."""
        return self.world.dm_channel_for(user)

    # --- acting as users ----------------------------------------------------------------

    async def slash(
        self,
        *,
        user: User | int,
        name: str,
        guild: Guild | int | None = None,
        channel: Channel | int | None = None,
        options: Mapping[str, Any] | None = None,
        permissions: Any | None = None,
        app_permissions: Any | None = None,
        locale: str = "en-US",
        enforce_discord_checks: bool = True,
    ) -> InteractionRecord:
        """Run ``/name`` (e.g. ``"challenge create"``) as ``user``; returns the record to await.

        Without ``guild`` and ``channel`` the command runs in the user's DM with the bot. Without
        ``permissions`` the member's permissions are computed from roles and overwrites.
        """
        invocation = self._invocation(user, guild, channel, permissions, app_permissions, locale)
        data = self._factory.command_data(
            invocation,
            name=name,
            options=options or {},
            focused=None,
            enforce_discord_checks=enforce_discord_checks,
        )
        return await self._dispatch_interaction(
            invocation, INTERACTION_APPLICATION_COMMAND, data, f"/{name}"
        )

    async def autocomplete(
        self,
        *,
        user: User | int,
        name: str,
        focused: str,
        options: Mapping[str, Any],
        guild: Guild | int | None = None,
        channel: Channel | int | None = None,
        permissions: Any | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Type into option ``focused`` of ``/name``; ``options[focused]`` is the text so far."""
        if focused not in options:
            raise ValueError(f"options must include the focused option {focused!r}")
        invocation = self._invocation(user, guild, channel, permissions, None, locale)
        data = self._factory.command_data(
            invocation, name=name, options=options, focused=focused, enforce_discord_checks=True
        )
        return await self._dispatch_interaction(
            invocation, INTERACTION_AUTOCOMPLETE, data, f"/{name} autocomplete {focused}"
        )

    async def press_button(
        self,
        message: StoredMessage,
        custom_id: str,
        *,
        user: User | int,
        permissions: Any | None = None,
        values: list[str] | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Press the button (or pick ``values`` of the select) ``custom_id`` on ``message``."""
        invocation = self._invocation(
            user, message.guild_id, message.channel_id, permissions, None, locale
        )
        data = self._factory.component_data(message, custom_id, values)
        return await self._dispatch_interaction(
            invocation,
            INTERACTION_MESSAGE_COMPONENT,
            data,
            f"button {custom_id!r}",
            component_message=message,
        )

    def _invocation(
        self,
        user: User | int,
        guild: Guild | int | None,
        channel: Channel | int | None,
        permissions: Any | None,
        app_permissions: Any | None,
        locale: str,
    ) -> Invocation:
        return self._factory.invocation(
            user=user,
            guild=guild,
            channel=channel,
            permissions=permissions,
            app_permissions=app_permissions,
            locale=locale,
        )

    async def _dispatch_interaction(
        self,
        invocation: Invocation,
        interaction_type: int,
        data: Json,
        label: str,
        *,
        component_message: StoredMessage | None = None,
    ) -> InteractionRecord:
        payload = self._factory.base_payload(invocation, interaction_type, data)
        # The session of the guild's shard (a DM's: shard 0) gets it.
        session = self.gateway.session_for(_guild_id(payload))
        if session is None:
            raise RuntimeError("no gateway session serves this interaction's guild")
        # Like a person, act only once the bot has caught up with what it was already sent.
        await self.gateway.catch_up(session=session)
        if component_message is not None:
            payload["message"] = self.payloads.message(component_message)
        record = InteractionRecord(
            interaction_id=int(payload["id"]),
            token=payload["token"],
            interaction_type=interaction_type,
            payload=payload,
            label=label,
            deadline=self.interactions.deadline,
            component_message=component_message,
        )
        # Recorded before dispatch: the bot may answer while the dispatch is still being sent.
        self.interactions.add(record)
        try:
            await session.dispatch("INTERACTION_CREATE", payload)
        except RuntimeError:
            self.interactions.remove(record)
            raise
        return record

    async def dispatch(self, event: str, data: Any) -> int:
        """Send any gateway dispatch to the bot; returns its sequence number."""
        return await self.gateway.dispatch(event, data)

    async def drop_connection(self, code: int = CLOSE_UNKNOWN_ERROR) -> None:
        """Close the bot's gateway connection (resumable code); it should RESUME."""
        await self.gateway.drop_connection(code)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT, as Discord does before restarting a gateway node."""
        await self.gateway.reconnect_request()

    async def wait_for_identify(self, timeout: float = 10.0) -> GatewaySession:  # noqa: ASYNC109
        return await self.gateway.wait_for_identify(timeout)

    async def wait_for_resume(self, timeout: float = 10.0, *, count: int = 1) -> GatewaySession:  # noqa: ASYNC109
        return await self.gateway.wait_for_resume(timeout, count=count)

    async def wait_for_commands(
        self,
        names: Iterable[str],
        *,
        guild: Guild | int | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[Json]:
        """Wait until commands with all ``names`` are registered (globally, or in ``guild``)."""
        wanted = set(names)

        def registered() -> list[Json] | None:
            commands = self.world.commands_for(guild)
            return commands if wanted <= {c["name"] for c in commands} else None

        return await self.world.wait_until(registered, timeout, f"commands {sorted(wanted)}")

    # --- gateway content ----------------------------------------------------------------

    async def _on_identified(self, session: GatewaySession) -> None:
        await session.dispatch("READY", self._ready(session))
        for guild in self.world.guilds.values():
            if session.serves(guild.id):
                await session.dispatch("GUILD_CREATE", self._guild_create(guild, lazy_load=True))

    def _ready(self, session: GatewaySession) -> Json:
        ready = self._ready_fields(session)
        if "shard" in session.identify:
            ready["shard"] = list(session.shard)
        return ready

    def _ready_fields(self, session: GatewaySession) -> Json:
        return {
            "v": 10,
            "user": self.payloads.current_user(self.bot_user),
            "guilds": [
                {"id": str(g), "unavailable": True} for g in self.world.guilds if session.serves(g)
            ],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": session.resume_url,
            "application": {
                "id": str(self.application_id),
                "flags": APPLICATION_FLAG_COMMAND_BADGE,
            },
            "private_channels": [],
            "presences": [],
            "relationships": [],
            "user_settings": {},
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "auth": {},
            "_trace": ["stride-discord-standin"],
        }

    def _guild_create(self, guild: Guild, *, lazy_load: bool) -> Json:
        return self.payloads.guild_create(
            guild, self.world.guild_channels(guild), lazy_load=lazy_load
        )

    async def _on_request_members(self, session: GatewaySession, data: Json) -> None:
        guild = self.world.guilds.get(int(data.get("guild_id") or 0))
        if guild is None:
            return
        chunk = {
            "guild_id": str(guild.id),
            "members": [self.payloads.member(m) for m in guild.members.values()],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await session.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    async def _dispatch_if(self, intent: int, event: str, data: Any) -> None:
        """Dispatch to the session of the event's guild's shard, if it wants the intent."""
        guild_id = data.get("id") if event == "GUILD_CREATE" else _guild_id(data)
        session = self.gateway.session_for(None if guild_id is None else int(guild_id))
        if session is not None and session.wants(intent):
            await session.dispatch(event, data)

    async def _dispatch_message_create(self, message: StoredMessage) -> None:
        intent = INTENT_DIRECT_MESSAGES if message.guild_id is None else INTENT_GUILD_MESSAGES
        data = self.payloads.message(message)
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
        await self._dispatch_if(intent, "MESSAGE_CREATE", data)

    # --- observing ----------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every REST request the bot made, in order."""
        return self.findings.requests

    def requests_to(self, method: str, route: str) -> list[RecordedRequest]:
        """Requests for one route template, e.g. ``("POST", "/channels/{channel_id}/messages")``."""
        return [r for r in self.requests if r.method == method and r.route == route]

    @property
    def unknown_routes(self) -> list[RecordedRequest]:
        return self.findings.unknown_routes

    @property
    def schema_violations(self) -> list[SchemaViolation]:
        return self.findings.schema_violations

    def registered_commands(self, guild: Guild | int | None = None) -> list[Json]:
        """The commands as last bulk-overwritten (global, or for ``guild``)."""
        return list(self.world.commands_for(guild))

    def messages_in(self, channel: Channel | int) -> list[StoredMessage]:
        """Messages in a channel, oldest first (including ephemeral interaction answers)."""
        return self.world.messages_in(channel)

    def dms_to(self, user: User | int) -> list[StoredMessage]:
        """Messages the bot delivered to the user's DMs, oldest first."""
        return self.world.dms_to(user)

    async def wait_for_message(
        self,
        channel: Channel | int,
        predicate: MessagePredicate | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> StoredMessage:
        """The first message in ``channel`` (present or future) for which ``predicate`` holds."""
        return await self.world.wait_for_message(channel, predicate, timeout)

    async def wait_for_dm(
        self,
        user: User | int,
        predicate: MessagePredicate | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> StoredMessage:
        return await self.world.wait_for_message(self.dm_channel(user), predicate, timeout)

    def failures(self) -> list[str]:
        """Everything a test using the stand-in should fail on, as readable lines."""
        problems = [f"request body breaks Discord's schema: {v}" for v in self.schema_violations]
        problems += self.interactions.problems()
        problems += [f"Discord protocol: {p}" for p in self.findings.protocol_violations]
        problems += [f"stand-in error (harness bug): {e}" for e in self.findings.internal_errors]
        if not self.allow_unknown_routes:
            problems += [f"route the stand-in does not serve: {r}" for r in self.unknown_routes]
        return problems

    def take_failures(self) -> list[str]:
        """Return the current failures and forget them, for tests that provoke them on purpose."""
        problems = self.failures()
        self.findings.schema_violations.clear()
        self.findings.protocol_violations.clear()
        self.findings.unknown_routes.clear()
        for record in self.interactions.records:
            if record.deadline_problem() is not None:
                record.exempt_from_deadline = True
        return problems

    def stand_in_bugs(self) -> list[SchemaViolation]:
        """Responses the stand-in sent that do not match Discord's response schemas."""
        return list(self.findings.response_violations)


def _guild_id(data: Any) -> int | None:
    """The guild an event or interaction payload belongs to (None: a DM)."""
    value = data.get("guild_id") if isinstance(data, dict) else None
    return None if value is None else int(value)


@contextmanager
def patch_discord(standin: DiscordStandIn) -> Iterator[None]:
    """Point discord.py at the stand-in for the duration of the block, then restore it.

    Two class attributes change: ``discord.http.Route.BASE`` (every REST call, including
    interaction callbacks and webhooks, which share ``Route``) and
    ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (discord.py 2.7's ``Client.connect``
    does not call ``GET /gateway/bot``; it connects to ``DEFAULT_GATEWAY`` and later resumes at
    READY's ``resume_gateway_url``; ``AutoShardedClient`` uses ``GET /gateway/bot``'s ``url``,
    which the stand-in also serves).
    """
    saved_base = discord.http.Route.BASE
    saved_gateway = DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = standin.rest_base_url
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(standin.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = saved_base
        DiscordWebSocket.DEFAULT_GATEWAY = saved_gateway


@contextmanager
def refused_rest() -> Iterator[None]:
    """Discord unreachable: discord.py's REST calls go to a loopback port where nothing
    listens (connection refused), until the block ends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    saved = discord.http.Route.BASE
    discord.http.Route.BASE = f"http://127.0.0.1:{port}/api/v10"
    try:
        yield
    finally:
        discord.http.Route.BASE = saved
