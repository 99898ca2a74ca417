"""`LinkService` through the real web routes, over a strict in-memory provider.

The provider stand-ins exercise the real provider modules (`test_provider_flows.py`); here
each rule of the flow is pinned down once: single-use expiring links bound to one user, PKCE,
exchange at once, encrypted storage, what goes wrong at start and callback, unlink and
`/accounts`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib

import pytest
from aiohttp.test_utils import TestClient

from bot.clock import FakeClock
from bot.domain import AccountStatus
from bot.errors import UserError
from bot.linking import UnlinkResult
from bot.linking.links import mask_user_id
from bot.metrics import Metrics
from bot.providers.base import AccessTokenRejected, GrantRevoked, ProviderUnavailable
from bot.providers.oauth import code_challenge_s256
from bot.storage import Database
from bot.storage.accounts import AccountsRepo
from bot.storage.links import OAuthStatesRepo
from bot.storage.values import ValuesRepo
from bot.web.app import create_app
from bot.web.oauth import oauth_routes
from tests.doubles.provider import FakeProvider
from tests.linking.flow import (
    ALICE,
    BOB,
    ClientFactory,
    account_of,
    link_account,
    link_alice,
    open_link,
)
from tests.linking.wiring import BASE_URL, START, Linking, build_linking, fake_fit, path_and_query
from tests.providers.helpers import query_of

# --------------------------------------------------------------------------- the happy path


async def test_link_is_single_use_url_under_public_base_and_stores_only_a_hash(
    env: Linking,
) -> None:
    offer = await env.linking.start_link(ALICE, "fakefit")
    assert offer.url.startswith(f"{BASE_URL}/oauth/fakefit/start?state=")
    assert offer.expires_at == env.clock.now() + dt.timedelta(minutes=10)
    assert len(offer.url) < 512  # Discord's limit for a link button
    state = query_of(offer.url)["state"]
    rows = await env.db.fetch_all("SELECT * FROM oauth_states")
    assert len(rows) == 1
    assert rows[0]["state_hash"] == hashlib.sha256(state.encode()).hexdigest()
    assert rows[0]["discord_id"] == ALICE
    # The PKCE verifier is stored encrypted: the blob is not the verifier, but decrypts to it.
    lookup = await OAuthStatesRepo(env.db, env.cipher).peek(state, "fakefit", env.clock.now())
    assert lookup.link is not None and lookup.link.code_verifier is not None
    blob = rows[0]["code_verifier"]
    assert lookup.link.code_verifier.encode() not in blob
    assert env.cipher.decrypt(blob) == lookup.link.code_verifier


async def test_full_flow_links_with_pkce_stores_encrypted_tokens_and_dms(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    authorize = await open_link(client, env, ALICE)
    params = query_of(authorize)
    assert authorize.startswith(FakeProvider.AUTHORIZE)
    assert params["redirect_uri"] == f"{BASE_URL}/oauth/fakefit/callback"
    assert params["code_challenge_method"] == "S256"

    response = await client.get(path_and_query(provider.consent(authorize, user_id="u-98765432")))

    assert response.status == 200
    page = await response.text()
    assert "Linked ✓" in page and "close this tab" in page
    assert response.headers["Cache-Control"] == "no-store"
    # The verifier sent at the exchange is the one whose S256 challenge went to consent.
    verifier = provider.exchanges[0]["verifier"]
    assert code_challenge_s256(verifier) == params["code_challenge"]
    account = await account_of(env, ALICE)
    assert account.provider_user_id == "u-98765432"
    assert account.status is AccountStatus.ACTIVE
    tokens = await AccountsRepo(env.db, env.cipher).tokens(account.id)
    assert tokens is not None and await provider.whoami(tokens.access_token) == "u-98765432"
    raw = await env.db.fetch_one("SELECT access_token, refresh_token FROM linked_accounts")
    assert raw is not None and tokens.access_token.encode() not in raw["access_token"]
    [dm] = env.messenger.to(ALICE)
    assert dm.embed is not None and dm.embed.title == "Linked ✓"
    # The verifier is wiped once the state is used.
    assert await env.db.fetch_value("SELECT code_verifier FROM oauth_states") is None


async def test_provider_without_pkce_gets_no_challenge(
    db: Database, aiohttp_client: ClientFactory
) -> None:
    provider = fake_fit(FakeClock(START), pkce=False)
    env = build_linking(db, {"fakefit": provider}, clock=provider.clock)
    app = create_app(db=db, metrics=Metrics(), installers=[oauth_routes(env.linking)])
    client = await aiohttp_client(app)
    authorize = await open_link(client, env, ALICE)
    assert "code_challenge" not in query_of(authorize)
    response = await client.get(path_and_query(provider.consent(authorize)))
    assert response.status == 200
    assert provider.exchanges[0]["verifier"] is None


# --------------------------------------------------------------------------- what goes wrong


async def test_opening_the_link_twice_says_already_used(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    offer = await env.linking.start_link(ALICE, "fakefit")
    first = await client.get(path_and_query(offer.url), allow_redirects=False)
    callback = provider.consent(first.headers["Location"])
    assert (await client.get(path_and_query(callback))).status == 200

    again = await client.get(path_and_query(offer.url), allow_redirects=False)
    assert again.status == 410
    assert "already used" in await again.text()


async def test_replayed_callback_is_refused_and_changes_nothing(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    callback = provider.consent(await open_link(client, env, ALICE))
    assert (await client.get(path_and_query(callback))).status == 200
    before = await AccountsRepo(env.db, env.cipher).tokens((await account_of(env, ALICE)).id)

    replay = await client.get(path_and_query(callback))

    assert replay.status == 410
    assert "already used" in await replay.text()
    assert len(provider.exchanges) == 1  # the code was not sent again
    after = await AccountsRepo(env.db, env.cipher).tokens((await account_of(env, ALICE)).id)
    assert before is not None and after is not None
    assert after.access_token == before.access_token
    assert len(env.messenger.to(ALICE)) == 1


async def test_two_concurrent_callbacks_with_one_state_link_once(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    callback = path_and_query(provider.consent(await open_link(client, env, ALICE)))

    first, second = await asyncio.gather(client.get(callback), client.get(callback))

    assert sorted([first.status, second.status]) == [200, 410]
    assert len(provider.exchanges) == 1
    assert len(env.messenger.to(ALICE)) == 1


async def test_expired_link_is_refused_at_start_and_at_callback(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    authorize = await open_link(client, env, ALICE)  # opened in time …
    offer = await env.linking.start_link(ALICE, "fakefit")
    env.clock.advance(dt.timedelta(minutes=10, seconds=1))

    late_start = await client.get(path_and_query(offer.url), allow_redirects=False)
    late_callback = await client.get(path_and_query(provider.consent(authorize)))  # … used late

    assert late_start.status == 410 and "expired" in await late_start.text()
    assert late_callback.status == 410 and "expired" in await late_callback.text()
    assert provider.exchanges == []
    assert await env.db.fetch_value("SELECT COUNT(*) FROM linked_accounts") == 0


async def test_denied_consent_gets_its_page_and_uses_the_link_up(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    authorize = await open_link(client, env, ALICE)

    denied = await client.get(path_and_query(provider.deny(authorize)))

    assert denied.status == 400
    assert "chose not to give Stride access" in await denied.text()
    assert await env.db.fetch_value("SELECT COUNT(*) FROM linked_accounts") == 0
    assert env.messenger.dms == []
    later = await client.get(path_and_query(provider.consent(authorize)))
    assert later.status == 410


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/oauth/strava/callback?code=abc&state=xyz", 404, "does not link this provider"),
        ("/oauth/strava/start?state=xyz", 404, "does not link this provider"),
        ("/oauth/fakefit/callback?code=abc", 400, "incomplete"),
        ("/oauth/fakefit/start", 400, "incomplete"),
        ("/oauth/fakefit/callback?code=abc&state=never-issued", 400, "not valid"),
        ("/oauth/fakefit/start?state=never-issued", 400, "not valid"),
        ("/oauth/fakefit/callback?state=" + "x" * 5000 + "&code=a", 400, "not valid"),
    ],
)
async def test_malformed_requests_get_plain_pages(
    client: TestClient, path: str, status: int, words: str
) -> None:
    response = await client.get(path, allow_redirects=False)
    assert response.status == status
    assert response.content_type == "text/html"
    assert words in await response.text()


async def test_missing_code_does_not_use_the_link_up(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    authorize = await open_link(client, env, ALICE)
    state = query_of(authorize)["state"]

    response = await client.get(f"/oauth/fakefit/callback?state={state}")

    assert response.status == 400
    assert (await client.get(path_and_query(provider.consent(authorize)))).status == 200


async def test_state_of_one_provider_is_refused_at_another(
    db: Database, aiohttp_client: ClientFactory
) -> None:
    clock = FakeClock(START)
    fit, ring = fake_fit(clock), fake_fit(clock, name="ring", display_name="Ring")
    env = build_linking(db, {"fakefit": fit, "ring": ring}, clock=clock)
    client = await aiohttp_client(
        create_app(db=db, metrics=Metrics(), installers=[oauth_routes(env.linking)])
    )
    callback = fit.consent(await open_link(client, env, ALICE))

    response = await client.get(path_and_query(callback).replace("/fakefit/", "/ring/"))

    assert response.status == 400
    assert (await client.get(path_and_query(callback))).status == 200  # still usable


@pytest.mark.parametrize(
    ("error", "status", "words"),
    [
        (ProviderUnavailable("fake: token failed with HTTP 503"), 502, "did not complete"),
        (GrantRevoked("fake: invalid_grant"), 400, "may have taken too long"),
    ],
)
async def test_exchange_failure_stores_nothing(
    client: TestClient,
    env: Linking,
    provider: FakeProvider,
    error: Exception,
    status: int,
    words: str,
) -> None:
    provider.exchange_error = error
    response = await link_account(client, env, provider, ALICE, "u-1")
    assert response.status == status
    assert words in await response.text()
    assert await env.db.fetch_value("SELECT COUNT(*) FROM linked_accounts") == 0
    assert env.messenger.dms == []


async def test_provider_error_in_callback_is_a_502(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    authorize = await open_link(client, env, ALICE)
    state = query_of(authorize)["state"]
    response = await client.get(
        f"/oauth/fakefit/callback?error=server_error&error_description=%3Cb%3Eboom&state={state}"
    )
    assert response.status == 502
    assert "boom" not in await response.text()


async def test_second_discord_user_cannot_link_the_same_provider_account(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    assert (await link_account(client, env, provider, ALICE, "shared-account")).status == 200
    alice_before = await AccountsRepo(env.db, env.cipher).tokens((await account_of(env, ALICE)).id)

    response = await link_account(client, env, provider, BOB, "shared-account")

    assert response.status == 409
    assert "already linked to another Discord user" in await response.text()
    assert await AccountsRepo(env.db, env.cipher).get(BOB, "fakefit") is None
    alice_after = await AccountsRepo(env.db, env.cipher).tokens((await account_of(env, ALICE)).id)
    assert alice_before is not None and alice_after is not None
    assert alice_after.access_token == alice_before.access_token
    assert provider.revocations == []  # revoking could end Alice's grant too
    assert await provider.whoami(alice_after.access_token) == "shared-account"
    assert env.messenger.to(BOB) == []


async def test_relinking_another_account_replaces_it_and_revokes_the_old_grant(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    await link_account(client, env, provider, ALICE, "first-account")
    await link_account(client, env, provider, ALICE, "second-account")
    account = await account_of(env, ALICE)
    assert account.provider_user_id == "second-account"
    assert len(provider.revocations) == 1
    with pytest.raises(AccessTokenRejected):  # the first account's grant is gone
        await provider.whoami(provider.revocations[0].access_token)
    # Relinking the same account revokes nothing (at Google that would end the new grant).
    await link_account(client, env, provider, ALICE, "second-account")
    assert len(provider.revocations) == 1


# --------------------------------------------------------------------------- unlink, accounts


async def test_unlink_revokes_deletes_tokens_and_keeps_values(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await link_alice(client, env, provider)
    tokens = await AccountsRepo(env.db, env.cipher).tokens(account.id)
    await env.db.execute(
        "INSERT INTO daily_values VALUES (?, 'fakefit', 'steps', '2026-11-19', 0, 9000, ?)",
        (ALICE, "2026-11-20T00:00:00+00:00"),
    )

    assert await env.linking.unlink(ALICE, "fakefit") is UnlinkResult.REVOKED

    assert provider.revocations and tokens is not None
    assert provider.revocations[0].refresh_token == tokens.refresh_token
    assert await env.db.fetch_value("SELECT COUNT(*) FROM linked_accounts") == 0
    assert await env.db.fetch_value("SELECT COUNT(*) FROM daily_values") == 1
    with pytest.raises(UserError, match="no Fake Fit account linked"):
        await env.linking.unlink(ALICE, "fakefit")


async def test_accounts_lists_status_masked_id_and_last_sync(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    assert (await link_account(client, env, provider, ALICE, "u-98765432")).status == 200
    account = await account_of(env, ALICE)
    await ValuesRepo(env.db).store_fetched([], [account.id], env.clock.now())  # a daily run

    [view] = await env.linking.accounts(ALICE)

    assert view.display_name == "Fake Fit"
    assert view.status is AccountStatus.ACTIVE
    assert view.masked_user_id == "••••5432"
    assert view.last_sync_at == env.clock.now()
    assert await env.linking.accounts(BOB) == []


def test_mask_user_id_never_shows_a_short_id() -> None:
    assert mask_user_id("12345678901") == "••••8901"
    assert mask_user_id("123456") == "••••56"
    assert mask_user_id("1234") == "••••"


async def test_unknown_provider_in_link_is_a_user_error(env: Linking) -> None:
    with pytest.raises(UserError, match="Fake Fit"):
        await env.linking.start_link(ALICE, "'; DROP TABLE users; --")
