"""Fixtures for the webhook route tests: a recording sync queue and an app factory."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import FakeClock
from bot.metrics import Metrics
from bot.settings import Settings
from bot.storage import Database
from bot.web.app import create_app
from bot.web.webhooks import webhook_routes
from tests.doubles.sync import RecordingSync

START = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
GOOGLE_SECRET = "Bearer gh-webhook-3f6c1e0d9b8a7c6d5e4f"
WITHINGS_SECRET = "wN0t1fy-s3cret-0123456789abcdefghijkl"
OURA_TOKEN = "oura-verify-7e2d4c1b0a9f8e7d"
CLIENT_SECRET = "oura-client-secret-5a4b3c2d1e"

WebhookClient = Callable[..., Awaitable[TestClient]]


def webhook_settings(make_settings: Callable[..., Settings], **overrides: Any) -> Settings:
    """Every provider enabled with its push configured; `overrides` replace whole groups."""
    values: dict[str, Any] = {
        "public_base_url": "https://stride.example",
        "google_health": {
            "client_id": "gh-client",
            "client_secret": "gh-client-secret-1234",
            "webhook_secret": GOOGLE_SECRET,
        },
        "withings": {
            "client_id": "w-client",
            "client_secret": "w-client-secret-1234",
            "notify_enabled": True,
            "notify_secret": WITHINGS_SECRET,
        },
        "oura": {
            "client_id": "oura-client",
            "client_secret": CLIENT_SECRET,
            "webhook_verification_token": OURA_TOKEN,
        },
    }
    values.update(overrides)
    return make_settings(**values)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def sync() -> RecordingSync:
    return RecordingSync()


@pytest.fixture
async def webhook_client(
    db: Database,
    make_settings: Callable[..., Settings],
    sync: RecordingSync,
    clock: FakeClock,
) -> AsyncIterator[WebhookClient]:
    """`await webhook_client(**setting_overrides)`: a client of an app with the webhooks,
    served without an access log, as production serves it (request lines carry secrets)."""
    clients: list[TestClient] = []

    async def make(**overrides: Any) -> TestClient:
        settings = webhook_settings(make_settings, **overrides)
        installer = webhook_routes(settings, sync, clock=clock)
        app = create_app(db=db, metrics=Metrics(), installers=[installer])
        server = TestServer(app, host="127.0.0.1")
        await server.start_server(access_log=None)
        client = TestClient(server)
        clients.append(client)
        await client.start_server()
        return client

    yield make
    for client in clients:
        await client.close()
