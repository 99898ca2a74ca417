"""What every webhook route shares: a capped body, constant-time comparison, short answers,
and `SyncDispatch`, which hands a notification to the sync queue without ever failing it.

Answers never repeat what was sent (no header, secret or body is echoed) and refusals are
logged by reason only. The routes authenticate before they parse: the secret or signature is
checked first, then the body is read (at most `MAX_WEBHOOK_BODY_BYTES`, else 413), and only
then parsed (malformed: 400).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

from aiohttp import web

from bot.sync.requests import SyncRequests

log = logging.getLogger(__name__)

MAX_WEBHOOK_BODY_BYTES = 32 * 1024  # a notification is a few hundred bytes
QUEUE_BUDGET_SECONDS = 0.8  # providers expect an answer within a second or so
_CHUNK = 8 * 1024


def same_secret(given: str | None, expected: str) -> bool:
    """Whether `given` equals `expected`, compared in constant time. `given` comes from a
    request, where aiohttp keeps bytes that are not UTF-8 as lone surrogates: encoded back
    with `surrogateescape`, they never match (and never raise)."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8"))


async def read_capped(request: web.Request, limit: int = MAX_WEBHOOK_BODY_BYTES) -> bytes | None:
    """The whole body, or None when it is longer than `limit` (nothing more is read)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def json_document(body: bytes) -> Any:
    """The parsed JSON, or None for a body that is not JSON (or is absurdly nested)."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def refuse(provider: str, status: int, reason: str) -> web.Response:
    """A short refusal; `reason` is ours, never something the request carried."""
    log.info("%s webhook refused with HTTP %d: %s", provider, status, reason)
    return web.json_response(
        {"error": reason}, status=status, headers={"Cache-Control": "no-store"}
    )


def accepted(status: int = 200) -> web.Response:
    return web.json_response({"status": "ok"}, status=status, headers={"Cache-Control": "no-store"})


def too_large(provider: str) -> web.Response:
    return refuse(provider, 413, f"body larger than {MAX_WEBHOOK_BODY_BYTES} bytes")


class SyncDispatch:
    """Queues a sync for a notification, waiting at most `budget` seconds.

    A slow queue keeps working in the background (its task is kept until it ends, and
    `aclose` waits for the stragglers); a failing one is logged by exception type only. The
    request is answered either way: a notification is a hint, and the scheduled fetch still
    runs.
    """

    def __init__(self, sync: SyncRequests, *, budget: float = QUEUE_BUDGET_SECONDS) -> None:
        self._sync = sync
        self._budget = budget
        self._tasks: set[asyncio.Task[None]] = set()

    async def request(self, provider: str, provider_user_id: str, *, reason: str) -> None:
        task = asyncio.create_task(self._request(provider, provider_user_id, reason))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        done, _pending = await asyncio.wait({task}, timeout=self._budget)
        if not done:
            log.warning(
                "%s webhook: queueing took longer than %.1fs; answered without waiting",
                provider,
                self._budget,
            )

    async def _request(self, provider: str, provider_user_id: str, reason: str) -> None:
        try:
            await self._sync.request(provider, provider_user_id, reason=reason)
        except Exception as exc:  # the answer must not depend on the queue's health
            log.warning("%s webhook: could not queue a sync (%s)", provider, type(exc).__name__)

    async def aclose(self) -> None:
        """Wait for queueing still in flight (the web app's cleanup)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
