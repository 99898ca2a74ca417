"""Where published messages go: a Streamr node's HTTP plugin, an MQTT broker, a webhook, a file.

Every sink takes the message text exactly as stored in the outbox and either confirms it
(returns) or raises `SinkError` with a message safe to log, store and show to admins: it never
holds an API key, a password, a secret, or a URL (a webhook URL may carry a token).

A sink is used through `connect()`: an async context that yields a `send` function, so the
MQTT sink keeps one connection for a batch while the HTTP sinks simply reuse the shared
`aiohttp` session.

Every message carries its `idempotency_key` (`challenge_key:date:sink`) in the JSON body; the
HTTP sinks also send it as the `Idempotency-Key` header. What each sink guarantees once the
outbox has handed it a message (the outbox repeats a message only when the process stopped
between "the sink confirmed" and "the database recorded it", or the sink never confirmed):

- file: exactly once. The sink knows the keys the file already holds and does not append one
  again; each line is fsync'd before it counts, and a torn last line is cut off first.
- MQTT: QoS 2, exactly once between this client and the broker over one connection; but a
  message the outbox sends again is a new message to the broker (paho keeps a handshake's
  state in the client object, in memory). The outbox sends one again when the connection
  broke mid-handshake: a broker that forwards a QoS 2 message only on PUBREL (amqtt does)
  then forwards it once, unless the break came after it had the PUBREL (it forwarded, and
  its PUBCOMP was lost); a broker that forwards on PUBLISH may forward it twice. And as for
  any sink, when Stride stopped after PUBCOMP, before recording it: then twice. Subscribers
  dedupe on the key. `MqttSink` says why the session is clean.
- Streamr and webhook: at least once. A repeat carries the same key, header and body, so a
  receiver that records the keys it has seen can drop it.

Receiving the webhook: each POST carries `X-Stride-Timestamp` (Unix seconds, when it was sent)
and `X-Stride-Signature` (hex HMAC-SHA256, keyed with `PUBLISH__WEBHOOK__SECRET`, over
`timestamp + "." + raw body`). A receiver recomputes the HMAC over the raw bytes it received,
compares with `hmac.compare_digest`, and rejects a timestamp more than a few minutes from its
own clock, which stops replays of an old request; `verify_webhook_signature` does exactly
that. The timestamp is transport: the payload itself holds no time finer than the day.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlsplit

import aiohttp
import aiomqtt

from bot.clock import Clock
from bot.errors import ConfigError

log = logging.getLogger(__name__)

STREAMR = "streamr"
MQTT = "mqtt"
WEBHOOK = "webhook"
FILE = "file"
SINK_NAMES = (STREAMR, MQTT, WEBHOOK, FILE)

SIGNATURE_HEADER = "X-Stride-Signature"
TIMESTAMP_HEADER = "X-Stride-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"

_HTTP_TIMEOUT = aiohttp.ClientTimeout(total=20, connect=10)


class SinkError(Exception):
    """A sink did not confirm a message. The text is safe to log, store and show."""


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    idempotency_key: str
    payload: str  # the JSON text, sent byte for byte
    guild_key: str
    metric: str


Send = Callable[[OutgoingMessage], Awaitable[None]]


class Sink(Protocol):
    name: str

    def describe(self) -> str:
        """Where messages go, for admins (no secret, no URL path or query)."""
        ...

    def connect(self) -> contextlib.AbstractAsyncContextManager[Send]:
        """Open the sink for a batch; raises `SinkError` when it cannot be reached."""
        ...


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


class StreamrHttpSink:
    """`POST {node}/streams/{url-encoded stream id}` with a Bearer API key; 200 = accepted.

    The node publishes the body to the stream; the `Idempotency-Key` header stops at the node
    (or a proxy in front of it), so the stream's subscribers dedupe on the body's key.
    """

    name = STREAMR

    def __init__(
        self, http: aiohttp.ClientSession, *, node_url: str, api_key: str, stream_id: str
    ) -> None:
        self._http = http
        self._url = f"{node_url.rstrip('/')}/streams/{quote(stream_id, safe='')}"
        self._api_key = api_key
        self._node = _origin(node_url)
        self._stream_id = stream_id

    def describe(self) -> str:
        return f"Streamr node {self._node}, stream {self._stream_id}"

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[Send]:
        yield self._send

    async def _send(self, message: OutgoingMessage) -> None:
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: message.idempotency_key,
        }
        try:
            async with self._http.post(
                self._url,
                data=message.payload.encode("utf-8"),
                headers=headers,
                timeout=_HTTP_TIMEOUT,
            ) as response:
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SinkError(f"cannot reach the Streamr node ({type(exc).__name__})") from None
        if status in (401, 403):
            raise SinkError(
                f"the Streamr node rejected the API key (HTTP {status}): "
                "check PUBLISH__STREAMR__API_KEY"
            )
        if status != 200:
            raise SinkError(f"the Streamr node answered HTTP {status}")


class WebhookSink:
    """POST of the JSON, signed with HMAC-SHA256 over `timestamp + "." + body`; 2xx = accepted."""

    name = WEBHOOK

    def __init__(self, http: aiohttp.ClientSession, *, url: str, secret: str, clock: Clock) -> None:
        self._http = http
        self._url = url
        self._secret = secret.encode("utf-8")
        self._clock = clock

    def describe(self) -> str:
        return f"webhook at {_origin(self._url)}"

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[Send]:
        yield self._send

    async def _send(self, message: OutgoingMessage) -> None:
        body = message.payload.encode("utf-8")
        timestamp = str(int(self._clock.now().timestamp()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: webhook_signature(self._secret, timestamp, body),
            IDEMPOTENCY_HEADER: message.idempotency_key,
        }
        try:
            async with self._http.post(
                self._url,
                data=body,
                headers=headers,
                timeout=_HTTP_TIMEOUT,
                allow_redirects=False,
            ) as response:
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SinkError(f"cannot reach the webhook ({type(exc).__name__})") from None
        if not 200 <= status < 300:
            raise SinkError(f"the webhook answered HTTP {status}")


def webhook_signature(secret: bytes, timestamp: str, body: bytes) -> str:
    return hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def verify_webhook_signature(
    secret: bytes,
    *,
    timestamp: str,
    body: bytes,
    signature: str,
    now: float,
    tolerance_seconds: float = 300,
) -> bool:
    """What a receiver does: a fresh timestamp and a matching HMAC over the raw body."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > tolerance_seconds:
        return False
    expected = webhook_signature(secret, timestamp, body)
    return hmac.compare_digest(expected, signature)


def mqtt_topic(template: str, *, guild_key: str, metric: str) -> str:
    return template.format_map({"guild_key": guild_key, "metric": metric})


def check_topic_template(template: str) -> None:
    try:
        topic = mqtt_topic(template, guild_key="g", metric="m")
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            [
                "PUBLISH__MQTT__TOPIC_TEMPLATE may use only {guild_key} and {metric} "
                f"as placeholders ({type(exc).__name__})"
            ]
        ) from None
    if not topic or "+" in topic or "#" in topic:
        raise ConfigError(["PUBLISH__MQTT__TOPIC_TEMPLATE must not be empty or hold + or #"])


MQTT_QOS = 2  # exactly once per connection: PUBLISH, PUBREC, PUBREL, PUBCOMP


def default_mqtt_client_id(database_path: Path) -> str:
    """The client id when `PUBLISH__MQTT__CLIENT_ID` is unset: one per installation.

    Derived from the host name and the database's path, so it stays the same across restarts
    and differs between installations sharing a broker (the same path on two hosts, such as
    `/data` in every container, gives two ids). Hashed, so the broker learns neither. 23
    characters of [0-9a-z]: the length and alphabet every MQTT 3.1.1 broker must accept.
    """
    installation = f"{socket.gethostname()}\0{database_path.resolve()}".encode()
    return "stride" + hashlib.sha256(installation).hexdigest()[:17]


class MqttSink:
    """Publish with QoS 2 to any MQTT broker (MQTT 3.1.1), including a Streamr node's plugin.

    For a Streamr node: the stream id as the topic template and the node's API key as the
    password. `publish` returns once the broker completed the QoS 2 handshake (PUBCOMP). The
    idempotency key travels in the payload (MQTT 3.1.1 has no user properties).

    The client id is stable (`client_id`), so a restarted Stride takes over a connection its
    killed predecessor left half-open, and a broker's ACLs can name it. The session is clean,
    on purpose: paho keeps a session's in-flight state (which packet id carries which
    message) in the client object, and aiomqtt opens a new one for every connection, so a
    resumed session could never be continued by this side. Worse, its leftover packet ids
    would collide with the new client's, which start again at 1: a broker must treat a
    PUBLISH whose id still awaits PUBREL as a repeat of the old message (MQTT 3.1.1 §4.3.3,
    [MQTT-4.3.3-10] in 5.0) and may drop it while this side counts it delivered. A message
    cut off mid-handshake is sent again by the outbox instead (the module docstring says
    what that guarantees).
    """

    name = MQTT

    def __init__(
        self,
        *,
        host: str,
        port: int,
        topic_template: str,
        client_id: str,
        username: str | None = None,
        password: str | None = None,
        tls_context: ssl.SSLContext | None = None,
        timeout: float = 15.0,
    ) -> None:
        check_topic_template(topic_template)
        self._host = host
        self._port = port
        self._template = topic_template
        self._client_id = client_id
        self._username = username
        self._password = password
        self._tls_context = tls_context
        self._timeout = timeout

    def describe(self) -> str:
        tls = ", TLS" if self._tls_context is not None else ""
        return f"MQTT broker {self._host}:{self._port}{tls}, client id {self._client_id}"

    def _safe(self, text: str) -> str:
        if self._password:
            text = text.replace(self._password, "***")
        return text[:200]

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[Send]:
        client = aiomqtt.Client(
            self._host,
            self._port,
            username=self._username,
            password=self._password,
            identifier=self._client_id,
            clean_session=True,
            tls_context=self._tls_context,
            timeout=self._timeout,
        )
        try:
            async with client:
                yield lambda message: self._publish(client, message)
        except aiomqtt.MqttError as exc:
            raise SinkError(f"MQTT broker: {self._safe(str(exc))}") from None

    async def _publish(self, client: aiomqtt.Client, message: OutgoingMessage) -> None:
        topic = mqtt_topic(self._template, guild_key=message.guild_key, metric=message.metric)
        await client.publish(topic, message.payload.encode("utf-8"), qos=MQTT_QOS)


class FileSink:
    """JSON Lines appended to a file, exactly once per idempotency key.

    On its first write (and again whenever the file is no longer the one it last wrote: moved,
    replaced, truncated or appended to by someone else) the sink reads the keys the file holds.
    A message whose key is there is confirmed without writing: that is the outbox repeating a
    message whose line was written just before the process stopped. A last line without its
    newline is a write that a kill interrupted; it was never confirmed, so it is cut off, and
    its message (still pending in the outbox) is written whole. A line counts as delivered
    only after `fsync`.
    """

    name = FILE

    def __init__(self, path: Path, *, is_default: bool = False) -> None:
        self._path = path
        self.is_default = is_default
        self._keys: set[str] | None = None  # the keys in the file, once read
        self._identity: tuple[int, int, int] | None = None  # (device, inode, size) after a write

    def describe(self) -> str:
        suffix = " (the default while no other sink is configured)" if self.is_default else ""
        return f"file {self._path.name}{suffix}"

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[Send]:
        yield self._send

    async def _send(self, message: OutgoingMessage) -> None:
        line = (message.payload + "\n").encode("utf-8")
        try:
            written = await asyncio.to_thread(self._append_once, message.idempotency_key, line)
        except OSError as exc:
            raise SinkError(f"cannot append to the file ({exc.strerror or 'I/O error'})") from None
        if not written:
            log.info("the publish file already holds this message; not appending it again")

    def _append_once(self, key: str, line: bytes) -> bool:
        """Append `line` unless the file holds `key`; whether it appended."""
        created = not self._path.exists()
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            keys = self._keys
            if keys is None or _identity(fd) != self._identity:
                keys = self._keys = _repair_and_read_keys(fd, self._path)
            if key in keys:
                return False
            _write_all(fd, line)
            os.fsync(fd)
            keys.add(key)
            self._identity = _identity(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_directory(self._path.parent)  # so the new file's name survives a crash too
        return True


def _identity(fd: int) -> tuple[int, int, int]:
    status = os.fstat(fd)
    return (status.st_dev, status.st_ino, status.st_size)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _repair_and_read_keys(fd: int, path: Path) -> set[str]:
    """The idempotency keys of the file's complete lines; a torn last line is cut off."""
    keys: set[str] = set()
    complete = 0  # bytes up to the end of the last complete line
    with os.fdopen(os.dup(fd), "rb") as lines:  # the file `fd` writes, whatever `path` is now
        lines.seek(0)
        for raw in lines:
            if not raw.endswith(b"\n"):
                break
            complete += len(raw)
            key = _key_of(raw)
            if key is not None:
                keys.add(key)
    torn = os.fstat(fd).st_size - complete
    if torn > 0:
        log.warning(
            "the publish file %s ended in an incomplete line (%d bytes) left by an interrupted "
            "write; removed it, and its message is written again",
            path.name,
            torn,
        )
        os.ftruncate(fd, complete)
        os.fsync(fd)
    return keys


def _key_of(line: bytes) -> str | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    key = data.get("idempotency_key") if isinstance(data, dict) else None
    return key if isinstance(key, str) else None


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
