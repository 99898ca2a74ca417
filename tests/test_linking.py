"""Linking through the real web routes and services, over a strict in-memory provider.

The provider stand-ins exercise the real provider modules (`test_linking_providers.py`); here
each rule of the flow is pinned down once: single-use expiring links bound to one user,
PKCE, exchange at once, encrypted storage, refresh under concurrency, re-link notices, unlink
and the user's data rights.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.clock import FakeClock
from bot.domain import AccountStatus
from bot.errors import UserError
from bot.linking import NotConnected, RedactOAuthSecrets, UnlinkResult, mask_user_id
from bot.metrics import Metrics
from bot.providers.base import AccessTokenRejected, GrantRevoked, ProviderUnavailable
from bot.providers.oauth import code_challenge_s256
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, LinkedAccount, UsersRepo
from bot.storage.links import OAuthStatesRepo
from bot.storage.values import ValuesRepo
from bot.web.app import WebServer, create_app
from bot.web.oauth import oauth_routes
from tests.linking_fakes import (
    BASE_URL,
    START,
    FakeProvider,
    Linking,
    build_linking,
    path_and_query,
    query_of,
)

ClientFactory = Callable[[web.Application], Awaitable[TestClient]]

ALICE = 111_111_111_111_111_111
BOB = 222_222_222_222_222_222


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider(FakeClock(START))


@pytest.fixture
def env(db: Database, provider: FakeProvider) -> Linking:
    built = build_linking(db, {provider.info.name: provider}, clock=provider._clock)
    return built


@pytest.fixture
async def client(env: Linking, aiohttp_client: ClientFactory) -> TestClient:
    app = create_app(db=env.db, metrics=Metrics(), installers=[oauth_routes(env.linking)])
    return await aiohttp_client(app)


async def _authorize(client: TestClient, env: Linking, user: int) -> str:
    """Run /link for `user` and open the link: the provider's consent URL."""
    offer = await env.linking.start_link(user, "fakefit")
    response = await client.get(path_and_query(offer.url), allow_redirects=False)
    assert response.status == 302
    return response.headers["Location"]


async def _link(
    client: TestClient, env: Linking, provider: FakeProvider, user: int, account: str
) -> aiohttp.ClientResponse:
    callback = provider.consent(await _authorize(client, env, user), user_id=account)
    return await client.get(path_and_query(callback))


async def _account(env: Linking, user: int) -> LinkedAccount:
    account = await AccountsRepo(env.db, env.cipher).get(user, "fakefit")
    assert account is not None
    return account


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
    authorize = await _authorize(client, env, ALICE)
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
    account = await _account(env, ALICE)
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
    provider = FakeProvider(FakeClock(START), pkce=False)
    env = build_linking(db, {"fakefit": provider}, clock=provider._clock)
    app = create_app(db=db, metrics=Metrics(), installers=[oauth_routes(env.linking)])
    client = await aiohttp_client(app)
    authorize = await _authorize(client, env, ALICE)
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
    callback = provider.consent(await _authorize(client, env, ALICE))
    assert (await client.get(path_and_query(callback))).status == 200
    before = await AccountsRepo(env.db, env.cipher).tokens((await _account(env, ALICE)).id)

    replay = await client.get(path_and_query(callback))

    assert replay.status == 410
    assert "already used" in await replay.text()
    assert len(provider.exchanges) == 1  # the code was not sent again
    after = await AccountsRepo(env.db, env.cipher).tokens((await _account(env, ALICE)).id)
    assert before is not None and after is not None
    assert after.access_token == before.access_token
    assert len(env.messenger.to(ALICE)) == 1


async def test_two_concurrent_callbacks_with_one_state_link_once(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    callback = path_and_query(provider.consent(await _authorize(client, env, ALICE)))

    first, second = await asyncio.gather(client.get(callback), client.get(callback))

    assert sorted([first.status, second.status]) == [200, 410]
    assert len(provider.exchanges) == 1
    assert len(env.messenger.to(ALICE)) == 1


async def test_expired_link_is_refused_at_start_and_at_callback(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    authorize = await _authorize(client, env, ALICE)  # opened in time …
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
    authorize = await _authorize(client, env, ALICE)

    denied = await client.get(path_and_query(provider.deny(authorize)))

    assert denied.status == 400
    assert "chose not to give Stride access" in await denied.text()
    assert await env.db.fetch_value("SELECT COUNT(*) FROM linked_accounts") == 0
    assert env.messenger.sent == []
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
    authorize = await _authorize(client, env, ALICE)
    state = query_of(authorize)["state"]

    response = await client.get(f"/oauth/fakefit/callback?state={state}")

    assert response.status == 400
    assert (await client.get(path_and_query(provider.consent(authorize)))).status == 200


async def test_state_of_one_provider_is_refused_at_another(
    db: Database, aiohttp_client: ClientFactory
) -> None:
    clock = FakeClock(START)
    fit, ring = FakeProvider(clock), FakeProvider(clock, name="ring", display_name="Ring")
    env = build_linking(db, {"fakefit": fit, "ring": ring}, clock=clock)
    client = await aiohttp_client(
        create_app(db=db, metrics=Metrics(), installers=[oauth_routes(env.linking)])
    )
    callback = fit.consent(await _authorize(client, env, ALICE))

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
    response = await _link(client, env, provider, ALICE, "u-1")
    assert response.status == status
    assert words in await response.text()
    assert await env.db.fetch_value("SELECT COUNT(*) FROM linked_accounts") == 0
    assert env.messenger.sent == []


async def test_provider_error_in_callback_is_a_502(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    authorize = await _authorize(client, env, ALICE)
    state = query_of(authorize)["state"]
    response = await client.get(
        f"/oauth/fakefit/callback?error=server_error&error_description=%3Cb%3Eboom&state={state}"
    )
    assert response.status == 502
    assert "boom" not in await response.text()


async def test_second_discord_user_cannot_link_the_same_provider_account(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    assert (await _link(client, env, provider, ALICE, "shared-account")).status == 200
    alice_before = await AccountsRepo(env.db, env.cipher).tokens((await _account(env, ALICE)).id)

    response = await _link(client, env, provider, BOB, "shared-account")

    assert response.status == 409
    assert "already linked to another Discord user" in await response.text()
    assert await AccountsRepo(env.db, env.cipher).get(BOB, "fakefit") is None
    alice_after = await AccountsRepo(env.db, env.cipher).tokens((await _account(env, ALICE)).id)
    assert alice_before is not None and alice_after is not None
    assert alice_after.access_token == alice_before.access_token
    assert provider.revoked == []  # revoking could end Alice's grant too
    assert await provider.whoami(alice_after.access_token) == "shared-account"
    assert env.messenger.to(BOB) == []


async def test_relinking_another_account_replaces_it_and_revokes_the_old_grant(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    await _link(client, env, provider, ALICE, "first-account")
    await _link(client, env, provider, ALICE, "second-account")
    account = await _account(env, ALICE)
    assert account.provider_user_id == "second-account"
    assert len(provider.revoked) == 1
    with pytest.raises(AccessTokenRejected):  # the first account's grant is gone
        await provider.whoami(provider.revoked[0].access_token)
    # Relinking the same account revokes nothing (at Google that would end the new grant).
    await _link(client, env, provider, ALICE, "second-account")
    assert len(provider.revoked) == 1


# --------------------------------------------------------------------------- refresh


async def _linked(client: TestClient, env: Linking, provider: FakeProvider) -> LinkedAccount:
    assert (await _link(client, env, provider, ALICE, "u-1")).status == 200
    return await _account(env, ALICE)


async def test_token_refreshed_shortly_before_expiry_and_committed(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await _linked(client, env, provider)
    assert await env.tokens.call_with_token(account, provider.whoami) == "u-1"
    assert provider.refresh_calls == 0

    env.clock.advance(dt.timedelta(minutes=56))  # 4 minutes left: within the margin

    assert await env.tokens.call_with_token(account, provider.whoami) == "u-1"
    assert provider.refresh_calls == 1
    stored = await AccountsRepo(env.db, env.cipher).tokens(account.id)
    assert stored is not None and stored.expires_at == env.clock.now() + dt.timedelta(hours=1)
    assert await provider.whoami(stored.access_token) == "u-1"


async def test_rejected_token_refreshes_once_and_retries_once(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await _linked(client, env, provider)
    seen: list[str] = []

    async def always_rejected(token: str) -> str:
        seen.append(token)
        raise AccessTokenRejected("fake: 401")

    with pytest.raises(AccessTokenRejected):
        await env.tokens.call_with_token(account, always_rejected)
    assert provider.refresh_calls == 1
    assert len(seen) == 2 and seen[0] != seen[1]
    assert (await _account(env, ALICE)).status is AccountStatus.ACTIVE


async def test_ten_concurrent_callers_share_one_refresh_and_keep_the_newest_token(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await _linked(client, env, provider)
    provider.invalidate_access_tokens()  # before its expiry: only a 401 tells
    arrived = 0
    all_arrived = asyncio.Event()
    used: list[str] = []

    async def fetch(token: str) -> str:
        nonlocal arrived
        used.append(token)
        if arrived < 10:
            arrived += 1
            if arrived == 10:
                all_arrived.set()
            await all_arrived.wait()  # all ten hold the old token at the same time
        return await provider.whoami(token)

    results = await asyncio.gather(
        *(env.tokens.call_with_token(account, fetch) for _ in range(10))
    )

    assert results == ["u-1"] * 10
    assert provider.refresh_calls == 1
    stored = await AccountsRepo(env.db, env.cipher).tokens(account.id)
    assert stored is not None
    assert set(used[10:]) == {stored.access_token}  # every retry used the one new token
    assert await provider.whoami(stored.access_token) == "u-1"
    # The refresh token kept is the newest, the only one the provider still honours.
    assert provider.valid_refresh_tokens() == {stored.refresh_token}


async def test_ten_concurrent_callers_with_an_expired_token_refresh_once(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await _linked(client, env, provider)
    env.clock.advance(dt.timedelta(hours=2))
    provider.refresh_gate = asyncio.Event()
    tasks = [
        asyncio.create_task(env.tokens.call_with_token(account, provider.whoami))
        for _ in range(10)
    ]
    await provider.refresh_started.wait()  # the first caller is inside the refresh
    provider.refresh_gate.set()
    assert await asyncio.gather(*tasks) == ["u-1"] * 10
    assert provider.refresh_calls == 1


async def test_a_caller_cancelled_mid_refresh_does_not_lose_the_rotated_pair(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    """Shutdown cancels a daily run mid-refresh, after the provider rotated the single-use
    refresh token: the new pair must still be committed, or the grant is lost for good."""
    account = await _linked(client, env, provider)
    env.clock.advance(dt.timedelta(hours=2))
    provider.answer_gate = asyncio.Event()
    fetch = asyncio.create_task(env.tokens.call_with_token(account, provider.whoami))
    await provider.refresh_started.wait()

    fetch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await fetch
    provider.answer_gate.set()  # the answer arrives after all

    assert await env.tokens.call_with_token(account, provider.whoami) == "u-1"
    assert provider.refresh_calls == 1
    stored = await AccountsRepo(env.db, env.cipher).tokens(account.id)
    assert stored is not None and provider.valid_refresh_tokens() == {stored.refresh_token}
    assert (await _account(env, ALICE)).status is AccountStatus.ACTIVE


async def test_revoked_grant_marks_relink_and_dms_once_over_two_runs(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await _linked(client, env, provider)
    env.messenger.sent.clear()
    provider.revoke_all_grants()  # the user removed Stride at the provider

    for _ in range(2):  # two daily runs
        with pytest.raises(GrantRevoked):
            await env.tokens.call_with_token(account, provider.whoami)

    assert (await _account(env, ALICE)).status is AccountStatus.NEEDS_RELINK
    [dm] = env.messenger.to(ALICE)
    assert "/link" in dm.text and "Fake Fit" in dm.text
    assert provider.refresh_calls == 1  # the second run did not even try


async def test_revoked_grant_found_at_the_expiry_refresh_marks_relink(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await _linked(client, env, provider)
    env.messenger.sent.clear()
    provider.revoke_all_grants()
    env.clock.advance(dt.timedelta(hours=2))  # the token expired: refreshed before any call

    with pytest.raises(GrantRevoked):
        await env.tokens.call_with_token(account, provider.whoami)

    assert (await _account(env, ALICE)).status is AccountStatus.NEEDS_RELINK
    assert len(env.messenger.to(ALICE)) == 1


async def test_a_grant_replaced_by_a_relink_during_the_call_is_not_marked_broken(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await _linked(client, env, provider)
    env.messenger.sent.clear()

    async def fetch_while_the_user_relinks(token: str) -> str:
        assert (await _link(client, env, provider, ALICE, "u-1")).status == 200
        env.messenger.sent.clear()
        raise GrantRevoked("fake: the old grant was replaced")

    with pytest.raises(GrantRevoked):
        await env.tokens.call_with_token(account, fetch_while_the_user_relinks)

    assert (await _account(env, ALICE)).status is AccountStatus.ACTIVE
    assert env.messenger.sent == []
    assert await env.tokens.call_with_token(account, provider.whoami) == "u-1"


async def test_a_relink_while_a_refresh_is_in_flight_keeps_the_new_grant(
    db: Database, aiohttp_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refresh of the old grant answers after the user linked another account: its
    tokens must not overwrite the new ones (Stride would read the old account's data under
    the new account's id). A provider without revocation, so the old grant stays alive."""
    provider = FakeProvider(FakeClock(START), revoke=False)
    env = build_linking(db, {"fakefit": provider}, clock=provider._clock)
    client = await aiohttp_client(
        create_app(db=db, metrics=Metrics(), installers=[oauth_routes(env.linking)])
    )
    account = await _linked(client, env, provider)  # "u-1"
    env.clock.advance(dt.timedelta(hours=2))
    provider.refresh_gate = asyncio.Event()
    fetch = asyncio.create_task(env.tokens.call_with_token(account, provider.whoami))
    await provider.refresh_started.wait()  # the refresh of u-1's grant is at the provider

    # Let the callback go as far as it can: all the way, or until it waits for the account's
    # refresh lock (seen through `lock_for`, wrapped from here on).
    waits_for_the_lock = asyncio.Event()
    lock_for = env.tokens.lock_for

    def watched_lock_for(account_id: int) -> asyncio.Lock:
        lock = lock_for(account_id)
        if lock.locked():
            waits_for_the_lock.set()
        return lock

    monkeypatch.setattr(env.tokens, "lock_for", watched_lock_for)
    relink = asyncio.create_task(_link(client, env, provider, ALICE, "u-2"))
    blocked = asyncio.create_task(waits_for_the_lock.wait())
    await asyncio.wait({relink, blocked}, return_when=asyncio.FIRST_COMPLETED)
    blocked.cancel()
    provider.refresh_gate.set()

    assert (await relink).status == 200
    assert await fetch == "u-1"  # the daily run's call, started before, finishes on u-1
    linked = await _account(env, ALICE)
    assert linked.provider_user_id == "u-2"
    tokens = await AccountsRepo(env.db, env.cipher).tokens(linked.id)
    assert tokens is not None and await provider.whoami(tokens.access_token) == "u-2"
    assert await env.tokens.call_with_token(linked, provider.whoami) == "u-2"


async def test_relinking_clears_the_relink_state_so_a_new_breakage_is_told_again(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await _linked(client, env, provider)
    provider.revoke_all_grants()
    with pytest.raises(GrantRevoked):
        await env.tokens.call_with_token(account, provider.whoami)
    await _link(client, env, provider, ALICE, "u-1")
    assert (await _account(env, ALICE)).status is AccountStatus.ACTIVE
    assert await env.tokens.call_with_token(account, provider.whoami) == "u-1"
    env.messenger.sent.clear()
    provider.revoke_all_grants()
    with pytest.raises(GrantRevoked):
        await env.tokens.call_with_token(account, provider.whoami)
    assert len(env.messenger.to(ALICE)) == 1


async def test_unavailable_provider_during_refresh_keeps_the_account_active(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await _linked(client, env, provider)
    env.messenger.sent.clear()
    env.clock.advance(dt.timedelta(hours=2))
    provider.refresh_error = ProviderUnavailable("fake: 503")
    with pytest.raises(ProviderUnavailable):
        await env.tokens.call_with_token(account, provider.whoami)
    assert (await _account(env, ALICE)).status is AccountStatus.ACTIVE
    assert env.messenger.sent == []


async def test_call_with_token_refuses_to_run_inside_a_transaction(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await _linked(client, env, provider)
    async with env.db.transaction():
        with pytest.raises(RuntimeError, match="transaction"):
            await env.tokens.call_with_token(account, provider.whoami)


async def test_unlinked_account_raises_not_connected_without_a_request(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await _linked(client, env, provider)
    await env.linking.unlink(ALICE, "fakefit")
    with pytest.raises(NotConnected):
        await env.tokens.call_with_token(account, provider.whoami)
    assert provider.refresh_calls == 0


# --------------------------------------------------------------------------- unlink, accounts


async def test_unlink_revokes_deletes_tokens_and_keeps_values(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await _linked(client, env, provider)
    tokens = await AccountsRepo(env.db, env.cipher).tokens(account.id)
    await env.db.execute(
        "INSERT INTO daily_values VALUES (?, 'fakefit', 'steps', '2026-11-19', 0, 9000, ?)",
        (ALICE, "2026-11-20T00:00:00+00:00"),
    )

    assert await env.linking.unlink(ALICE, "fakefit") is UnlinkResult.REVOKED

    assert provider.revoked and tokens is not None
    assert provider.revoked[0].refresh_token == tokens.refresh_token
    assert await env.db.fetch_value("SELECT COUNT(*) FROM linked_accounts") == 0
    assert await env.db.fetch_value("SELECT COUNT(*) FROM daily_values") == 1
    with pytest.raises(UserError, match="no Fake Fit account linked"):
        await env.linking.unlink(ALICE, "fakefit")


async def test_accounts_lists_status_masked_id_and_last_sync(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    assert (await _link(client, env, provider, ALICE, "u-98765432")).status == 200
    account = await _account(env, ALICE)
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


# --------------------------------------------------------------------------- privacy


async def _populate(env: Linking, user: int, other: int) -> None:
    """Rows about `user` in every table that can hold them, and some about `other`."""
    now = "2026-11-20T00:00:00+00:00"
    for who in (user, other):
        await UsersRepo(env.db).ensure(who, env.clock.now(), display_name=f"user{who}")
    challenge = await env.db.execute(
        "INSERT INTO challenges (guild_id, channel_id, name, metric, scoring_mode, start_date, "
        "end_date, time_zone, post_time, created_by, created_at) "
        "VALUES (1, 2, 'Steps', 'steps', 'total', '2026-11-01', '2026-11-30', 'UTC', '09:00', "
        "?, ?)",
        (user, now),
    )
    for who in (user, other):
        await env.db.execute(
            "INSERT INTO participants VALUES (?, ?, NULL, '2026-11-01', ?)", (challenge, who, now)
        )
        await env.db.execute(
            "INSERT INTO daily_values VALUES (?, 'fakefit', 'steps', '2026-11-19', 0, 9000, ?)",
            (who, now),
        )
        await env.db.execute(
            "INSERT INTO daily_scores VALUES (?, ?, '2026-11-19', 9000, 9000, 1, 1)",
            (challenge, who),
        )
        await env.db.execute(
            "INSERT INTO streaks VALUES (?, ?, 3, 5, '2026-11-19')", (challenge, who)
        )
        await env.db.execute(
            "INSERT INTO posted_ranks VALUES (?, '2026-11-19', ?, 1, 9000)", (challenge, who)
        )
        await env.db.execute(
            "INSERT INTO value_reviews (challenge_id, discord_id, metric, day, value, reason, "
            "status, reviewed_by, created_at, updated_at) "
            "VALUES (?, ?, 'steps', '2026-11-19', 90000, 'high', 'accepted', ?, ?, ?)",
            (challenge, who, user if who == other else other, now, now),
        )


async def _rows_mentioning(db: Database, value: int) -> dict[str, int]:
    """Every table of the live schema, every column: rows holding `value` (as int or text)."""
    found: dict[str, int] = {}
    tables = await db.fetch_all(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    for table in tables:
        name = table["name"]
        for row in await db.fetch_all(f'SELECT * FROM "{name}"'):
            if any(cell == value or (isinstance(cell, str) and str(value) in cell) for cell in row):
                found[name] = found.get(name, 0) + 1
    return found


async def test_delete_leaves_no_row_about_the_user_in_any_table(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    await _populate(env, ALICE, BOB)
    await _link(client, env, provider, ALICE, "alice-acct")
    await env.linking.start_link(ALICE, "fakefit")  # a link still in flight
    await _link(client, env, provider, BOB, "bob-acct")
    alice_tokens = await AccountsRepo(env.db, env.cipher).tokens((await _account(env, ALICE)).id)
    assert alice_tokens is not None
    events: list[dict[str, Any]] = []

    async def on_deleted(**payload: Any) -> None:
        events.append(payload)

    env.events.on("user_deleted", on_deleted)
    assert await _rows_mentioning(env.db, ALICE)  # the scan does find her before

    report = await env.privacy.delete_everything(ALICE)

    assert await _rows_mentioning(env.db, ALICE) == {}
    assert events == [{"discord_id": ALICE}]
    assert report.revoked == ("Fake Fit",)
    assert [t.refresh_token for t in provider.revoked] == [alice_tokens.refresh_token]
    # Bob keeps everything, the challenge Alice created included.
    bob = await _rows_mentioning(env.db, BOB)
    for table in ("users", "participants", "daily_values", "daily_scores", "streaks",
                  "posted_ranks", "value_reviews", "linked_accounts"):
        assert bob.get(table) == 1, table
    assert await env.db.fetch_value("SELECT COUNT(*) FROM challenges") == 1


async def test_export_has_everything_but_no_secret(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    import json

    await _populate(env, ALICE, BOB)
    await _link(client, env, provider, ALICE, "alice-acct")
    offer = await env.linking.start_link(ALICE, "fakefit")

    attachment = await env.privacy.export(ALICE)

    text = attachment.data.decode()
    data = json.loads(text)
    tables = data["tables"]
    assert tables["users"][0]["display_name"] == f"user{ALICE}"
    assert tables["daily_values"][0]["value"] == 9000
    assert tables["linked_accounts"][0]["provider_user_id"] == "alice-acct"
    assert "access_token" not in tables["linked_accounts"][0]
    assert len(tables["participants"]) == 1 and len(tables["streaks"]) == 1
    assert tables["challenges"][0]["name"] == "Steps"  # she created it
    for secret in [*provider.issued, query_of(offer.url)["state"]]:
        assert secret not in text
    state_hash = hashlib.sha256(query_of(offer.url)["state"].encode()).hexdigest()
    assert state_hash not in text
    assert f"user{BOB}" not in text
    # Bob's value that Alice reviewed is hers to see in her export, but not Bob's id.
    reviewed = [r for r in tables["value_reviews"] if r["reviewed_by"] == ALICE]
    assert reviewed and all(r["discord_id"] is None for r in reviewed)
    assert str(BOB) not in text


async def test_publish_opt_out_is_stored(env: Linking) -> None:
    users = UsersRepo(env.db)
    await env.privacy.set_publish(ALICE, publish=False)
    assert await users.publish_opt_out(ALICE) is True
    await env.privacy.set_publish(ALICE, publish=True)
    assert await users.publish_opt_out(ALICE) is False


# --------------------------------------------------------------------------- no secret leaks


async def test_no_secret_in_the_database_file_or_in_any_log_line(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two users link through the production web server (no access log), a callback is
    replayed, tokens are refreshed and used, a link is left pending, a grant is revoked;
    every logger at DEBUG."""
    caplog.set_level(logging.DEBUG)
    provider = FakeProvider(FakeClock(START))
    env = build_linking(db, {"fakefit": provider}, clock=provider._clock)
    server = WebServer(
        create_app(db=db, metrics=Metrics(), installers=[oauth_routes(env.linking)]),
        "127.0.0.1",
        0,
    )
    await server.start()
    states: list[str] = []
    try:
        async with aiohttp.ClientSession() as http:
            local = f"http://127.0.0.1:{server.port}"
            for user, account in ((ALICE, "alice-acct"), (BOB, "bob-acct")):
                offer = await env.linking.start_link(user, "fakefit")
                states.append(query_of(offer.url)["state"])
                async with http.get(
                    local + path_and_query(offer.url), allow_redirects=False
                ) as start:
                    authorize = start.headers["Location"]
                callback = provider.consent(authorize, user_id=account)
                async with http.get(local + path_and_query(callback)) as done:
                    assert done.status == 200
                async with http.get(local + path_and_query(callback)) as replay:
                    assert replay.status == 410
            alice = await _account(env, ALICE)
            env.clock.advance(dt.timedelta(hours=2))
            assert await env.tokens.call_with_token(alice, provider.whoami) == "alice-acct"
            # A link that is never used: its state and verifier are stored too.
            pending = await env.linking.start_link(ALICE, "fakefit")
            states.append(query_of(pending.url)["state"])
            async with http.get(local + path_and_query(pending.url), allow_redirects=False):
                pass
            lookup = await OAuthStatesRepo(db, env.cipher).peek(
                states[-1], "fakefit", env.clock.now()
            )
            assert lookup.link is not None and lookup.link.code_verifier is not None
            states.append(lookup.link.code_verifier)
            provider.revoke_all_grants()
            env.clock.advance(dt.timedelta(hours=2))
            with pytest.raises(GrantRevoked):
                await env.tokens.call_with_token(alice, provider.whoami)
    finally:
        await server.stop()

    secrets_seen = [*provider.issued, *states]
    assert len(secrets_seen) >= 12
    files = [db.path, db.path.with_name(db.path.name + "-wal")]
    raw = b"".join(path.read_bytes() for path in files if path.exists())
    assert raw
    for secret in secrets_seen:
        assert secret.encode() not in raw, "a secret is stored in plain text"
    formatter = logging.Formatter()
    log_text = "\n".join(formatter.format(record) for record in caplog.records)
    assert "fakefit" in log_text  # the flow did log
    for secret in secrets_seen:
        assert secret not in log_text, "a secret appears in the log"


def test_redaction_filter_leaves_a_malformed_record_to_the_handler() -> None:
    """`stride run` puts the filter on the root handler, so it sees every library's records: a
    record whose arguments do not fit its format must be reported by logging as usual, not
    raise a TypeError at the line that logged it."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(RedactOAuthSecrets())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("%d links", "many")  # a bug in some library's log call
        logger.warning("opened %s", "https://x.example/cb?code=abc123&state=xyz789")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    assert len(records) == 2
    assert records[1].getMessage() == (
        "opened https://x.example/cb?code=[redacted]&state=[redacted]"
    )


def test_redaction_filter_blanks_secrets_in_a_logged_exception() -> None:
    """aiohttp logs a malformed request to the callback ("Error handling request") with an
    exception whose text quotes the request line, code and state included."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(RedactOAuthSecrets())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError("Invalid char in url query: b'GET /cb?code=abc123&state=xyz789'")
        except ValueError:
            logger.exception("Error handling request")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    [record] = records
    text = logging.Formatter().format(record)
    assert "Traceback" in text and "Invalid char in url query" in text
    assert "abc123" not in text and "xyz789" not in text
    assert "code=[redacted]&state=[redacted]" in text
