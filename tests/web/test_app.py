"""The web server through the real aiohttp app: health, metrics, error pages, limits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.crypto import TokenCipher
from bot.domain import AccountStatus
from bot.metrics import Metrics
from bot.providers.base import TokenSet
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, UsersRepo
from bot.web.app import MAX_REQUEST_BYTES, create_app
from bot.web.metrics_routes import metrics_routes

ClientFactory = Callable[[web.Application], Awaitable[TestClient]]


async def _boom(request: web.Request) -> web.Response:
    raise RuntimeError("internal detail: refresh_token=abc123")


async def _echo(request: web.Request) -> web.Response:
    return web.Response(text=str(len(await request.read())))


def _install_test_routes(app: web.Application) -> None:
    app.router.add_get("/boom", _boom)
    app.router.add_post("/echo", _echo)


@pytest.fixture
async def client(db: Database, aiohttp_client: ClientFactory) -> TestClient:
    app = create_app(db=db, metrics=Metrics(), installers=[_install_test_routes, metrics_routes()])
    return await aiohttp_client(app)


async def test_healthz_ok_when_database_reachable(client: TestClient) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert (await response.json())["status"] == "ok"


async def test_healthz_503_when_database_unreachable(client: TestClient, db: Database) -> None:
    await db.close()
    response = await client.get("/healthz")
    assert response.status == 503


async def test_metrics_in_prometheus_text_format(client: TestClient) -> None:
    await client.get("/healthz")
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    body = await response.text()
    assert "# TYPE stride_http_requests_total counter" in body
    assert 'stride_http_requests_total{route="/healthz",status="200"} 1.0' in body
    assert 'stride_linked_accounts{status="active"} 0.0' in body


async def test_metrics_count_linked_accounts_by_status(
    client: TestClient, db: Database, cipher: TokenCipher
) -> None:
    now = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)
    tokens = TokenSet("a", "r", now + dt.timedelta(hours=1))
    await UsersRepo(db).ensure(1, now)
    accounts = AccountsRepo(db, cipher)
    await accounts.save_link(1, "oura", "o-1", tokens, now)
    broken = await accounts.save_link(1, "withings", "w-1", tokens, now)
    await accounts.set_status(broken.id, AccountStatus.NEEDS_RELINK, now)
    body = await (await client.get("/metrics")).text()
    assert 'stride_linked_accounts{status="active"} 1.0' in body
    assert 'stride_linked_accounts{status="needs_relink"} 1.0' in body


async def test_unexpected_error_page_has_code_but_no_traceback(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.get("/boom")
    assert response.status == 500
    body = await response.text()
    assert "Something went wrong" in body
    assert "Traceback" not in body
    assert "abc123" not in body
    assert "RuntimeError" in caplog.text  # the traceback goes to the log, with the code
    code = body.split("(code ")[1][:4]
    assert f"code {code}" in caplog.text


async def test_unknown_route_is_a_plain_404_page(client: TestClient) -> None:
    response = await client.get("/nope")
    assert response.status == 404
    assert "<h1>Not Found</h1>" in await response.text()


async def test_oversized_request_body_is_refused(client: TestClient) -> None:
    small = await client.post("/echo", data=b"x" * 100)
    assert await small.text() == "100"
    response = await client.post("/echo", data=b"x" * (MAX_REQUEST_BYTES + 1))
    assert response.status == 413
