"""Loopback stand-ins for a Streamr node's HTTP plugin and for a webhook receiver.

Both are written from the documented behaviour (shared/reference/PROVIDERS.md, Streamr;
`bot.publish.sinks` for the webhook contract as a receiver would implement it), and both
record only what they accepted.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aiohttp import web


@dataclass
class StreamrNode:
    """`POST /streams/<url-encoded stream id>` with `Authorization: Bearer <key>`; 200 = ok."""

    api_key: str
    stream_id: str
    accepted: list[dict[str, Any]] = field(default_factory=list)
    raw_bodies: list[bytes] = field(default_factory=list)
    raw_paths: list[str] = field(default_factory=list)
    raw_headers: list[dict[str, str]] = field(default_factory=list)
    accept_budget: int | None = None  # accept this many more, then answer 503 (None: all)
    hold_next: bool = False  # park the next request until `release` (a sink "in flight")
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        expected_path = "/streams/" + quote(self.stream_id, safe="")
        if request.method != "POST" or request.raw_path != expected_path:
            return web.Response(status=404, text="no such stream")
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.Response(status=401, text="bad api key")
        if request.content_type != "application/json":
            return web.Response(status=415)
        if self.hold_next:
            self.hold_next = False
            self.reached.set()
            await self.release.wait()
            return web.Response(status=503, text="the publisher went away")
        if self.accept_budget is not None:
            if self.accept_budget <= 0:
                return web.Response(status=503, text="node overloaded")
            self.accept_budget -= 1
        body = await request.read()
        self.raw_bodies.append(body)
        self.raw_paths.append(request.raw_path)
        self.raw_headers.append(dict(request.headers))
        self.accepted.append(json.loads(body))
        return web.json_response({})


@dataclass
class WebhookReceiver:
    """Verifies `X-Stride-Signature` over `timestamp + "." + body` and a fresh timestamp."""

    secret: bytes
    now: Callable[[], float]
    tolerance: float = 300
    accepted: list[dict[str, Any]] = field(default_factory=list)
    raw_bodies: list[bytes] = field(default_factory=list)
    raw_headers: list[dict[str, str]] = field(default_factory=list)
    rejected: int = 0
    down: bool = False

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hooks/stride", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        if self.down:
            return web.Response(status=503)
        body = await request.read()
        timestamp = request.headers.get("X-Stride-Timestamp", "")
        signature = request.headers.get("X-Stride-Signature", "")
        expected = hmac.new(
            self.secret, timestamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        fresh = timestamp.isdigit() and abs(self.now() - int(timestamp)) <= self.tolerance
        if not fresh or not hmac.compare_digest(expected, signature):
            self.rejected += 1
            return web.Response(status=401)
        self.raw_bodies.append(body)
        self.raw_headers.append(dict(request.headers))
        self.accepted.append(json.loads(body))
        return web.Response(status=204)
