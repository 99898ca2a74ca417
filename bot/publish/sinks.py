"""Where published messages go: a Streamr node's HTTP plugin, an MQTT broker, a webhook, a file.

Every sink takes the message text exactly as stored in the outbox and either confirms it
(returns) or raises `SinkError` with a message safe to log, store and show to admins: it never
holds an API key, a password, a secret, or a URL (a webhook URL may carry a token).

A sink is used through `connect()`: an async context that yields a `send` function, so the
MQTT sink keeps one connection for a batch while the HTTP sinks simply reuse the shared
`aiohttp` session.

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
import os
import secrets
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
    """`POST {node}/streams/{url-encoded stream id}` with a Bearer API key; 200 = accepted."""

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


class MqttSink:
    """Publish with QoS 1 to any MQTT broker, including a Streamr node's MQTT plugin.

    For a Streamr node: the stream id as the topic template and the node's API key as the
    password. `publish` returns once the broker acknowledged (PUBACK).
    """

    name = MQTT

    def __init__(
        self,
        *,
        host: str,
        port: int,
        topic_template: str,
        username: str | None = None,
        password: str | None = None,
        tls_context: ssl.SSLContext | None = None,
        timeout: float = 15.0,
    ) -> None:
        check_topic_template(topic_template)
        self._host = host
        self._port = port
        self._template = topic_template
        self._username = username
        self._password = password
        self._tls_context = tls_context
        self._timeout = timeout

    def describe(self) -> str:
        tls = ", TLS" if self._tls_context is not None else ""
        return f"MQTT broker {self._host}:{self._port}{tls}"

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
            identifier=f"stride-{secrets.token_hex(4)}",
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
        await client.publish(topic, message.payload.encode("utf-8"), qos=1)


class FileSink:
    """JSON Lines appended to a file, fsync'd before the message counts as delivered."""

    name = FILE

    def __init__(self, path: Path, *, is_default: bool = False) -> None:
        self._path = path
        self.is_default = is_default

    def describe(self) -> str:
        suffix = " (the default while no other sink is configured)" if self.is_default else ""
        return f"file {self._path.name}{suffix}"

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[Send]:
        yield self._send

    async def _send(self, message: OutgoingMessage) -> None:
        line = (message.payload + "\n").encode("utf-8")
        try:
            await asyncio.to_thread(self._append, line)
        except OSError as exc:
            raise SinkError(f"cannot append to the file ({exc.strerror or 'I/O error'})") from None

    def _append(self, data: bytes) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
