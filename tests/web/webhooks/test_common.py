"""The pieces every webhook route shares: the capped body and `SyncDispatch`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.web.webhooks.common import MAX_WEBHOOK_BODY_BYTES, SyncDispatch, read_capped
from tests.doubles.sync import RecordingSync

ClientFactory = Callable[[web.Application], Awaitable[TestClient]]


async def _length(request: web.Request) -> web.Response:
    body = await read_capped(request)
    return web.json_response({"length": None if body is None else len(body)})


@pytest.fixture
async def client(aiohttp_client: ClientFactory) -> TestClient:
    app = web.Application()
    app.router.add_post("/body", _length)
    return await aiohttp_client(app)


async def _chunks(total: int) -> AsyncIterator[bytes]:
    for _ in range(total // 1024):
        yield b"x" * 1024


async def test_a_chunked_body_without_a_length_is_capped_too(client: TestClient) -> None:
    small = await client.post("/body", data=_chunks(4 * 1024))
    large = await client.post("/body", data=_chunks(MAX_WEBHOOK_BODY_BYTES + 1024))

    assert await small.json() == {"length": 4 * 1024}
    assert await large.json() == {"length": None}


async def test_a_body_at_the_limit_is_read_whole(client: TestClient) -> None:
    response = await client.post("/body", data=b"x" * MAX_WEBHOOK_BODY_BYTES)

    assert await response.json() == {"length": MAX_WEBHOOK_BODY_BYTES}


async def test_a_slow_queue_is_not_waited_for_beyond_the_budget(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sync = RecordingSync(gate=asyncio.Event())
    dispatch = SyncDispatch(sync, budget=0.01)

    await dispatch.request("oura", "u-1", reason="test")  # returns with the queue still held

    assert sync.queued == set()
    assert "answered without waiting" in caplog.text
    assert sync.gate is not None
    sync.gate.set()
    await dispatch.aclose()  # the queueing in flight finishes
    assert sync.queued == {("oura", "u-1")}


async def test_a_failing_queue_is_logged_by_type_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sync = RecordingSync(error=ValueError("token=abc123"))

    await SyncDispatch(sync).request("withings", "100", reason="test")

    assert "could not queue a sync (ValueError)" in caplog.text
    assert "abc123" not in caplog.text
    assert all(record.exc_info is None for record in caplog.records)
