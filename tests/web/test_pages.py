"""Every page Stride serves uses one template: the wordmark on top, no external asset; the
link success page says what to do next; a 404 is a page for browsers and JSON for APIs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.clock import FakeClock
from bot.metrics import Metrics
from bot.providers.sandbox import AUTHORIZE_PATH, SandboxProvider
from bot.settings import SandboxSettings
from bot.web.app import create_app
from bot.web.oauth import oauth_routes
from bot.web.sandbox import add_sandbox_routes
from tests.doubles.provider import FakeProvider
from tests.linking.flow import ALICE, link_account
from tests.linking.flow import env as env  # the linking fixtures, re-exported for pytest
from tests.linking.flow import provider as provider
from tests.linking.wiring import Linking
from tests.web.pagecheck import assert_stride_page

ClientFactory = Callable[[web.Application], Awaitable[TestClient]]


async def _boom(request: web.Request) -> web.Response:
    raise RuntimeError("a bug")


def _install(app: web.Application) -> None:
    clock = FakeClock(dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    sandbox = SandboxProvider(
        SandboxSettings(enabled=True), None, clock, public_base_url="http://stride.test"
    )
    add_sandbox_routes(app, sandbox)
    app.router.add_get("/boom", _boom)


@pytest.fixture
async def client(env: Linking, aiohttp_client: ClientFactory) -> TestClient:
    app = create_app(db=env.db, metrics=Metrics(), installers=[oauth_routes(env.linking), _install])
    return await aiohttp_client(app)


@pytest.mark.parametrize(
    ("method", "path", "status", "title"),
    [
        ("GET", "/no/such/page", 404, "Not Found"),
        ("GET", "/boom", 500, "Something went wrong"),
        ("GET", AUTHORIZE_PATH, 400, "This link is not valid"),
        ("POST", AUTHORIZE_PATH + "?x", 400, "This link is not valid"),
        ("GET", "/oauth/strava/start?state=x", 404, "Unknown provider"),
        ("GET", "/oauth/fakefit/callback?state=unknown&code=c", 400, "Link not valid"),
        ("PUT", "/healthz", 405, "Method Not Allowed"),
    ],
)
async def test_every_page_carries_the_wordmark(
    client: TestClient, method: str, path: str, status: int, title: str
) -> None:
    response = await client.request(method, path)
    assert response.status == status
    assert response.content_type == "text/html"
    assert_stride_page(await response.text(), title)


async def test_the_success_page_says_what_to_do_next(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    response = await link_account(client, env, provider, ALICE, "u-1")
    assert response.status == 200
    page = await response.text()
    assert_stride_page(page, "Linked ✓")
    assert "<code>/challenges</code> to see this server&#x27;s challenges" in page
    assert "<code>/join</code> to take part in one" in page


async def test_a_404_is_friendly_for_browsers(client: TestClient) -> None:
    response = await client.get("/oauth")
    page = await response.text()
    assert response.status == 404 and "<h1>Not Found</h1>" in page
    assert "run the command again in Discord for a new one" in page


@pytest.mark.parametrize("path", ["/webhooks/no-such-provider", "/upload/no-such-kind/1"])
async def test_a_404_on_the_api_routes_is_json(client: TestClient, path: str) -> None:
    response = await client.post(path, data=b"{}")
    assert response.status == 404
    assert response.content_type == "application/json"
    assert await response.json() == {"error": "not found"}


async def test_a_405_keeps_its_allow_header(client: TestClient) -> None:
    response = await client.delete(AUTHORIZE_PATH)
    assert response.status == 405
    assert set(response.headers["Allow"].split(",")) == {"GET", "HEAD", "POST"}
