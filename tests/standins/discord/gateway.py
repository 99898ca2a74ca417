"""The stand-in's Discord gateway: a WebSocket endpoint speaking gateway v10 as discord.py uses it.

HELLO on connect; IDENTIFY (token and intents checked, privileged intents refused with 4014
unless enabled) answered by the stand-in's READY and GUILD_CREATEs; HEARTBEAT answered with
HEARTBEAT_ACK; RESUME replays every dispatch after the client's sequence number, then RESUMED;
REQUEST_GUILD_MEMBERS answered with GUILD_MEMBERS_CHUNK.

Shards: IDENTIFY's ``shard`` is ``[shard_id, num_shards]`` (refused with 4010 unless
``0 <= shard_id < num_shards``; an IDENTIFY without one is refused with 4011 when the
stand-in asks for more than one shard, as Discord does when sharding is required). Every
guild's events go to the session of its shard, ``(guild_id >> 22) % num_shards``
(`shard_of`); DMs go to shard 0. `Gateway.session_for` picks that session.

Frames are compressed the way the client asks in its query string: ``compress=zlib-stream``
(one zlib stream per connection, each message ending in a Z_SYNC_FLUSH) or
``compress=zstd-stream`` (one zstd stream, each message a flushed block), which is what
discord.py's ``utils._ActiveDecompressionContext`` negotiates.

Dispatches are logged per session with their sequence numbers, so a dropped connection loses
nothing: events dispatched while the bot is away are delivered when it resumes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import WSCloseCode, WSMsgType, web

from tests.standins.discord.entities import Json, utcnow
from tests.standins.discord.openapi import new_snowflake

log = logging.getLogger(__name__)

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_VOICE_STATE_UPDATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

CLOSE_UNKNOWN_ERROR = 4000
CLOSE_UNKNOWN_OPCODE = 4001
CLOSE_DECODE_ERROR = 4002
CLOSE_NOT_AUTHENTICATED = 4003
CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_ALREADY_AUTHENTICATED = 4005
CLOSE_INVALID_SHARD = 4010
CLOSE_SHARDING_REQUIRED = 4011
CLOSE_DISALLOWED_INTENTS = 4014

INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT


def shard_of(guild_id: int, num_shards: int) -> int:
    """The shard Discord sends a guild's events to."""
    return (guild_id >> 22) % num_shards


def valid_shard(value: object) -> bool:
    """An IDENTIFY ``shard`` field: two integers, ``0 <= shard_id < num_shards``."""
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(part, int) and not isinstance(part, bool) for part in value)
        and 0 <= value[0] < value[1]
    )


class FrameEncoder(Protocol):
    def encode(self, text: str) -> str | bytes: ...


class PlainEncoder:
    def encode(self, text: str) -> str:
        return text


class ZlibStreamEncoder:
    """One zlib stream for the connection; every message is flushed with Z_SYNC_FLUSH."""

    def __init__(self) -> None:
        self._compressor = zlib.compressobj()

    def encode(self, text: str) -> bytes:
        data = self._compressor.compress(text.encode("utf-8"))
        return data + self._compressor.flush(zlib.Z_SYNC_FLUSH)


class ZstdStreamEncoder:
    """One zstd stream for the connection; every message is a flushed block."""

    def __init__(self) -> None:
        self._encode: Callable[[bytes], bytes] = _zstd_block_encoder()

    def encode(self, text: str) -> bytes:
        return self._encode(text.encode("utf-8"))


def _zstd_block_encoder() -> Callable[[bytes], bytes]:
    try:
        import zstandard  # type: ignore[import-not-found]
    except ImportError:
        from compression import zstd  # type: ignore[import-not-found]

        stdlib_compressor = zstd.ZstdCompressor()
        return lambda data: bytes(
            stdlib_compressor.compress(data, mode=zstd.ZstdCompressor.FLUSH_BLOCK)
        )
    stream = zstandard.ZstdCompressor().compressobj()
    return lambda data: bytes(
        stream.compress(data) + stream.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
    )


def encoder_for(compress: str | None) -> FrameEncoder:
    if compress == "zlib-stream":
        return ZlibStreamEncoder()
    if compress == "zstd-stream":
        return ZstdStreamEncoder()
    return PlainEncoder()


@dataclass(eq=False)
class GatewayConnection:
    """One WebSocket connection from the bot."""

    ws: web.WebSocketResponse
    path: str
    query: dict[str, str]
    encoder: FrameEncoder
    opened_at: Any = field(default_factory=utcnow)
    session: GatewaySession | None = None
    began_with: str | None = None  # "identify" or "resume"
    close_code: int | None = None  # the code of whichever side closed first
    heartbeats: int = 0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, frame: Json) -> bool:
        """Send one frame; ``False`` if the socket is gone (the frame stays in the session log)."""
        async with self._lock:
            if self.ws.closed:
                return False
            data = self.encoder.encode(json.dumps(frame, separators=(",", ":")))
            try:
                if isinstance(data, bytes):
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(data)
            except (ConnectionError, RuntimeError):
                return False
            return True


@dataclass(eq=False)
class GatewaySession:
    """An identified gateway session, with every dispatch it was sent."""

    session_id: str
    identify: Json
    resume_url: str
    log: list[Json] = field(default_factory=list)
    connection: GatewayConnection | None = None
    resumes: int = 0
    replayed: list[str] = field(default_factory=list)  # event names re-sent on resumes
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def intents(self) -> int:
        return int(self.identify.get("intents", 0))

    @property
    def sequence(self) -> int:
        return len(self.log)

    def wants(self, intent_bits: int) -> bool:
        return bool(self.intents & intent_bits)

    @property
    def shard(self) -> tuple[int, int]:
        """``(shard_id, num_shards)`` from IDENTIFY; ``(0, 1)`` for an unsharded client."""
        value = self.identify.get("shard")
        return (int(value[0]), int(value[1])) if valid_shard(value) else (0, 1)

    def serves(self, guild_id: int | None) -> bool:
        """Whether this session gets the events of the guild (None: DMs, shard 0's)."""
        shard_id, num_shards = self.shard
        return shard_id == (0 if guild_id is None else shard_of(guild_id, num_shards))

    async def dispatch(self, event: str, data: Any) -> int:
        """Log the event with the next sequence number and send it if the bot is connected."""
        async with self._lock:
            frame: Json = {"op": OP_DISPATCH, "t": event, "s": self.sequence + 1, "d": data}
            self.log.append(frame)
            if self.connection is not None:
                await self.connection.send(frame)
            return int(frame["s"])

    async def resume_on(self, connection: GatewayConnection, after: int) -> int:
        """Attach a new connection, replay what it missed, then send RESUMED."""
        async with self._lock:
            self.connection = connection
            missed = [frame for frame in self.log if int(frame["s"]) > after]
            for frame in missed:
                await connection.send(frame)
                self.replayed.append(str(frame["t"]))
            self.resumes += 1
            resumed: Json = {"op": OP_DISPATCH, "t": "RESUMED", "s": self.sequence + 1, "d": {}}
            self.log.append(resumed)
            await connection.send(resumed)
            return len(missed)


IdentifiedHandler = Callable[[GatewaySession], Awaitable[None]]
MembersHandler = Callable[[GatewaySession, Json], Awaitable[None]]


class Gateway:
    """Accepts the bot's WebSocket connections and owns its gateway sessions."""

    def __init__(
        self,
        *,
        token: str,
        heartbeat_interval_ms: int,
        allowed_privileged_intents: int,
        on_identified: IdentifiedHandler,
        on_request_members: MembersHandler,
        shard_count: Callable[[], int] = lambda: 1,
    ) -> None:
        self._shard_count = shard_count  # what GET /gateway/bot recommends
        self._token = token
        self._heartbeat_interval_ms = heartbeat_interval_ms
        self._allowed_privileged = allowed_privileged_intents
        self._on_identified = on_identified
        self._on_request_members = on_request_members
        self.resume_url = ""
        self.sessions: list[GatewaySession] = []
        self.connections: list[GatewayConnection] = []
        self.received: list[Json] = []
        self.heartbeats = 0
        self._changed = asyncio.Condition()

    # --- the WebSocket endpoint ---------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        query = dict(request.query)
        connection = GatewayConnection(
            ws=ws, path=request.path, query=query, encoder=encoder_for(query.get("compress"))
        )
        self.connections.append(connection)
        await self._notify()
        if query.get("encoding", "json") != "json":
            await self._close(connection, CLOSE_DECODE_ERROR, "only encoding=json is supported")
            return ws
        hello = {"op": OP_HELLO, "s": None, "t": None}
        await connection.send(hello | {"d": {"heartbeat_interval": self._heartbeat_interval_ms}})
        try:
            await self._read_frames(connection)
        finally:
            await self._detach(connection)
        return ws

    async def _read_frames(self, connection: GatewayConnection) -> None:
        async for message in connection.ws:
            if message.type is not WSMsgType.TEXT:
                continue
            try:
                frame = json.loads(message.data)
            except ValueError:
                await self._close(connection, CLOSE_DECODE_ERROR, "invalid JSON")
                return
            self.received.append(frame)
            await self._on_frame(connection, frame)

    async def _on_frame(self, connection: GatewayConnection, frame: Json) -> None:
        op = frame.get("op")
        data = frame.get("d")
        if op == OP_HEARTBEAT:
            self.heartbeats += 1
            connection.heartbeats += 1
            await connection.send({"op": OP_HEARTBEAT_ACK, "s": None, "t": None, "d": None})
            await self._notify()
        elif op == OP_IDENTIFY:
            await self._identify(connection, data if isinstance(data, dict) else {})
        elif op == OP_RESUME:
            await self._resume(connection, data if isinstance(data, dict) else {})
        elif connection.session is None:
            await self._close(connection, CLOSE_NOT_AUTHENTICATED, "not authenticated")
        elif op == OP_REQUEST_GUILD_MEMBERS:
            await self._on_request_members(connection.session, data or {})
        elif op not in (OP_PRESENCE_UPDATE, OP_VOICE_STATE_UPDATE):
            await self._close(connection, CLOSE_UNKNOWN_OPCODE, f"unknown opcode {op}")

    async def _identify(self, connection: GatewayConnection, data: Json) -> None:
        if connection.session is not None:
            await self._close(connection, CLOSE_ALREADY_AUTHENTICATED, "already authenticated")
            return
        if data.get("token") != self._token:
            await self._close(connection, CLOSE_AUTHENTICATION_FAILED, "authentication failed")
            return
        intents = int(data.get("intents", 0))
        if intents & PRIVILEGED_INTENTS & ~self._allowed_privileged:
            await self._close(connection, CLOSE_DISALLOWED_INTENTS, "disallowed intent(s)")
            return
        if "shard" in data and not valid_shard(data["shard"]):
            await self._close(connection, CLOSE_INVALID_SHARD, "invalid shard")
            return
        if "shard" not in data and self._shard_count() > 1:
            await self._close(connection, CLOSE_SHARDING_REQUIRED, "sharding required")
            return
        session = GatewaySession(
            session_id=f"{new_snowflake():x}", identify=data, resume_url=self.resume_url
        )
        session.connection = connection
        connection.session = session
        connection.began_with = "identify"
        self.sessions.append(session)
        await self._on_identified(session)
        await self._notify()

    async def _resume(self, connection: GatewayConnection, data: Json) -> None:
        session = self._session_by_id(str(data.get("session_id")))
        valid = (
            session is not None
            and data.get("token") == self._token
            and isinstance(data.get("seq"), int)
        )
        if not valid or session is None:
            await connection.send({"op": OP_INVALID_SESSION, "s": None, "t": None, "d": False})
            return
        connection.session = session
        connection.began_with = "resume"
        await session.resume_on(connection, after=int(data["seq"]))
        await self._notify()

    def _session_by_id(self, session_id: str) -> GatewaySession | None:
        return next((s for s in self.sessions if s.session_id == session_id), None)

    async def _detach(self, connection: GatewayConnection) -> None:
        if connection.close_code is None:  # the bot closed it, not the stand-in
            connection.close_code = connection.ws.close_code
        session = connection.session
        if session is not None and session.connection is connection:
            session.connection = None
        await self._notify()

    async def _close(self, connection: GatewayConnection, code: int, reason: str) -> None:
        log.debug("gateway stand-in closes the connection with %s (%s)", code, reason)
        connection.close_code = code
        await connection.ws.close(code=code, message=reason.encode())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- test-facing --------------------------------------------------------------------

    @property
    def session(self) -> GatewaySession | None:
        """The latest identified session."""
        return self.sessions[-1] if self.sessions else None

    def session_for(self, guild_id: int | None) -> GatewaySession | None:
        """The latest identified session of the shard that gets the guild's events (None:
        a DM's, shard 0)."""
        return next((s for s in reversed(self.sessions) if s.serves(guild_id)), None)

    @property
    def connected(self) -> bool:
        session = self.session
        return session is not None and session.connection is not None

    async def dispatch(self, event: str, data: Any) -> int:
        """Dispatch an event to the bot's session; returns its sequence number."""
        session = self.session
        if session is None:
            raise RuntimeError(f"cannot dispatch {event}: the bot never identified on the gateway")
        return await session.dispatch(event, data)

    async def catch_up(
        self,
        timeout: float = 2.0,  # noqa: ASYNC109
        *,
        session: GatewaySession | None = None,
    ) -> bool:
        """Request a heartbeat (op 1) and wait for it, so the bot has read every earlier frame
        (on `session`, by default the latest).

        discord.py answers a requested heartbeat from the task that reads the gateway, in
        order, so its answer means every earlier dispatch has been handled. Returns ``False``
        (without waiting) when the bot is not connected, or when it did not answer in time.
        """
        session = session or self.session
        connection = None if session is None else session.connection
        if connection is None:
            return False
        answered = connection.heartbeats
        if not await connection.send({"op": OP_HEARTBEAT, "s": None, "t": None, "d": None}):
            return False
        try:
            await self.wait_until(
                lambda: connection.heartbeats > answered or connection.ws.closed,
                timeout,
                "a requested heartbeat",
            )
        except AssertionError:
            return False
        return connection.heartbeats > answered

    async def drop_connection(self, code: int = CLOSE_UNKNOWN_ERROR) -> None:
        """Close the bot's current connection with a resumable close code (4000 by default)."""
        session = self.session
        if session is None or session.connection is None:
            raise RuntimeError("the bot has no open gateway connection to drop")
        connection = session.connection
        session.connection = None
        await self._close(connection, code, "dropped by the stand-in")

    async def reconnect_request(self) -> None:
        """Ask the bot to reconnect and resume (op 7 RECONNECT), as Discord does before restarts."""
        session = self.session
        if session is None or session.connection is None:
            raise RuntimeError("the bot has no open gateway connection")
        await session.connection.send({"op": OP_RECONNECT, "s": None, "t": None, "d": None})

    async def wait_until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:  # noqa: ASYNC109
        async with self._changed:
            try:
                async with asyncio.timeout(timeout):
                    await self._changed.wait_for(condition)
            except TimeoutError:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}") from None

    async def wait_for_identify(self, timeout: float) -> GatewaySession:  # noqa: ASYNC109
        await self.wait_until(lambda: bool(self.sessions), timeout, "the bot to IDENTIFY")
        session = self.session
        assert session is not None
        return session

    async def wait_for_resume(self, timeout: float, *, count: int = 1) -> GatewaySession:  # noqa: ASYNC109
        """Wait until the current session has resumed ``count`` times in total."""

        def resumed() -> bool:
            return self.session is not None and self.session.resumes >= count

        await self.wait_until(resumed, timeout, f"the bot to RESUME ({count})")
        session = self.session
        assert session is not None
        return session

    async def close(self) -> None:
        """Close every open connection (the server is going away)."""
        for connection in self.connections:
            if not connection.ws.closed:
                await connection.ws.close(code=WSCloseCode.GOING_AWAY, message=b"shutting down")
