"""The linking flow as the tests drive it: fixtures and steps over the real web routes.

`provider` is a strict in-memory OAuth provider, `env` the linking services wired over it
(`build_linking`), `client` a test client of the real OAuth routes. The steps play a user:
`open_link` runs /link and opens the link, `link_account` goes on through consent and the
callback. `tests/linking/conftest.py` and `tests/privacy/conftest.py` make the fixtures
available.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.clock import FakeClock
from bot.metrics import Metrics
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, LinkedAccount
from bot.web.app import create_app
from bot.web.oauth import oauth_routes
from tests.doubles.provider import FakeProvider
from tests.linking.wiring import START, Linking, build_linking, fake_fit, path_and_query

ClientFactory = Callable[[web.Application], Awaitable[TestClient]]

ALICE = 111_111_111_111_111_111
BOB = 222_222_222_222_222_222


@pytest.fixture
def provider() -> FakeProvider:
    return fake_fit(FakeClock(START))


@pytest.fixture
def env(db: Database, provider: FakeProvider) -> Linking:
    built = build_linking(db, {provider.info.name: provider}, clock=provider.clock)
    return built


@pytest.fixture
async def client(env: Linking, aiohttp_client: ClientFactory) -> TestClient:
    app = create_app(db=env.db, metrics=Metrics(), installers=[oauth_routes(env.linking)])
    return await aiohttp_client(app)


async def open_link(client: TestClient, env: Linking, user: int) -> str:
    """Run /link for `user` and open the link: the provider's consent URL."""
    offer = await env.linking.start_link(user, "fakefit")
    response = await client.get(path_and_query(offer.url), allow_redirects=False)
    assert response.status == 302
    return response.headers["Location"]


async def link_account(
    client: TestClient, env: Linking, provider: FakeProvider, user: int, account: str
) -> aiohttp.ClientResponse:
    """`user` links the provider's `account` all the way: the callback's response."""
    callback = provider.consent(await open_link(client, env, user), user_id=account)
    return await client.get(path_and_query(callback))


async def account_of(env: Linking, user: int) -> LinkedAccount:
    """The stored fakefit account of `user` (which must exist)."""
    account = await AccountsRepo(env.db, env.cipher).get(user, "fakefit")
    assert account is not None
    return account


async def link_alice(client: TestClient, env: Linking, provider: FakeProvider) -> LinkedAccount:
    """Alice links the provider account "u-1"; her stored account."""
    assert (await link_account(client, env, provider, ALICE, "u-1")).status == 200
    return await account_of(env, ALICE)
