"""`TokenManager` over a strict in-memory provider whose refresh tokens rotate.

Refresh shortly before expiry and once on a rejected token, one refresh under concurrency,
a pair rotated mid-cancel kept, revoked grants marked for a re-link with one DM, and nothing
called for an account that is no longer connected.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from aiohttp.test_utils import TestClient

from bot.clock import FakeClock
from bot.domain import AccountStatus
from bot.linking import AccountUnusable
from bot.metrics import Metrics
from bot.providers.base import AccessTokenRejected, GrantRevoked, ProviderUnavailable
from bot.storage import Database
from bot.storage.accounts import AccountsRepo
from bot.web.app import create_app
from bot.web.oauth import oauth_routes
from tests.doubles.provider import FakeProvider
from tests.linking.flow import ALICE, ClientFactory, account_of, link_account, link_alice
from tests.linking.wiring import START, Linking, build_linking, fake_fit


async def test_token_refreshed_shortly_before_expiry_and_committed(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await link_alice(client, env, provider)
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
    account = await link_alice(client, env, provider)
    seen: list[str] = []

    async def always_rejected(token: str) -> str:
        seen.append(token)
        raise AccessTokenRejected("fake: 401")

    with pytest.raises(AccessTokenRejected):
        await env.tokens.call_with_token(account, always_rejected)
    assert provider.refresh_calls == 1
    assert len(seen) == 2 and seen[0] != seen[1]
    assert (await account_of(env, ALICE)).status is AccountStatus.ACTIVE


async def test_ten_concurrent_callers_share_one_refresh_and_keep_the_newest_token(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await link_alice(client, env, provider)
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

    results = await asyncio.gather(*(env.tokens.call_with_token(account, fetch) for _ in range(10)))

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
    account = await link_alice(client, env, provider)
    env.clock.advance(dt.timedelta(hours=2))
    provider.refresh_gate = asyncio.Event()
    tasks = [
        asyncio.create_task(env.tokens.call_with_token(account, provider.whoami)) for _ in range(10)
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
    account = await link_alice(client, env, provider)
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
    assert (await account_of(env, ALICE)).status is AccountStatus.ACTIVE


async def test_revoked_grant_marks_relink_and_dms_once_over_two_runs(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await link_alice(client, env, provider)
    env.messenger.dms.clear()
    provider.revoke_all_grants()  # the user removed Stride at the provider

    for _ in range(2):  # two daily runs
        with pytest.raises(GrantRevoked):
            await env.tokens.call_with_token(account, provider.whoami)

    assert (await account_of(env, ALICE)).status is AccountStatus.NEEDS_RELINK
    [dm] = env.messenger.to(ALICE)
    assert "/link" in dm.text and "Fake Fit" in dm.text
    assert provider.refresh_calls == 1  # the second run did not even try


async def test_revoked_grant_found_at_the_expiry_refresh_marks_relink(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await link_alice(client, env, provider)
    env.messenger.dms.clear()
    provider.revoke_all_grants()
    env.clock.advance(dt.timedelta(hours=2))  # the token expired: refreshed before any call

    with pytest.raises(GrantRevoked):
        await env.tokens.call_with_token(account, provider.whoami)

    assert (await account_of(env, ALICE)).status is AccountStatus.NEEDS_RELINK
    assert len(env.messenger.to(ALICE)) == 1


async def test_a_grant_replaced_by_a_relink_during_the_call_is_not_marked_broken(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await link_alice(client, env, provider)
    env.messenger.dms.clear()

    async def fetch_while_the_user_relinks(token: str) -> str:
        assert (await link_account(client, env, provider, ALICE, "u-1")).status == 200
        env.messenger.dms.clear()
        raise GrantRevoked("fake: the old grant was replaced")

    with pytest.raises(GrantRevoked):
        await env.tokens.call_with_token(account, fetch_while_the_user_relinks)

    assert (await account_of(env, ALICE)).status is AccountStatus.ACTIVE
    assert env.messenger.dms == []
    assert await env.tokens.call_with_token(account, provider.whoami) == "u-1"


async def test_a_relink_while_a_refresh_is_in_flight_keeps_the_new_grant(
    db: Database, aiohttp_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refresh of the old grant answers after the user linked another account: its
    tokens must not overwrite the new ones (Stride would read the old account's data under
    the new account's id). A provider without revocation, so the old grant stays alive."""
    provider = fake_fit(FakeClock(START), revoke=False)
    env = build_linking(db, {"fakefit": provider}, clock=provider.clock)
    client = await aiohttp_client(
        create_app(db=db, metrics=Metrics(), installers=[oauth_routes(env.linking)])
    )
    account = await link_alice(client, env, provider)  # "u-1"
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
    relink = asyncio.create_task(link_account(client, env, provider, ALICE, "u-2"))
    blocked = asyncio.create_task(waits_for_the_lock.wait())
    await asyncio.wait({relink, blocked}, return_when=asyncio.FIRST_COMPLETED)
    blocked.cancel()
    provider.refresh_gate.set()

    assert (await relink).status == 200
    assert await fetch == "u-1"  # the daily run's call, started before, finishes on u-1
    linked = await account_of(env, ALICE)
    assert linked.provider_user_id == "u-2"
    tokens = await AccountsRepo(env.db, env.cipher).tokens(linked.id)
    assert tokens is not None and await provider.whoami(tokens.access_token) == "u-2"
    assert await env.tokens.call_with_token(linked, provider.whoami) == "u-2"


async def test_relinking_clears_the_relink_state_so_a_new_breakage_is_told_again(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await link_alice(client, env, provider)
    provider.revoke_all_grants()
    with pytest.raises(GrantRevoked):
        await env.tokens.call_with_token(account, provider.whoami)
    await link_account(client, env, provider, ALICE, "u-1")
    assert (await account_of(env, ALICE)).status is AccountStatus.ACTIVE
    assert await env.tokens.call_with_token(account, provider.whoami) == "u-1"
    env.messenger.dms.clear()
    provider.revoke_all_grants()
    with pytest.raises(GrantRevoked):
        await env.tokens.call_with_token(account, provider.whoami)
    assert len(env.messenger.to(ALICE)) == 1


async def test_unavailable_provider_during_refresh_keeps_the_account_active(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await link_alice(client, env, provider)
    env.messenger.dms.clear()
    env.clock.advance(dt.timedelta(hours=2))
    provider.refresh_error = ProviderUnavailable("fake: 503")
    with pytest.raises(ProviderUnavailable):
        await env.tokens.call_with_token(account, provider.whoami)
    assert (await account_of(env, ALICE)).status is AccountStatus.ACTIVE
    assert env.messenger.dms == []


async def test_call_with_token_refuses_to_run_inside_a_transaction(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await link_alice(client, env, provider)
    async with env.db.transaction():
        with pytest.raises(RuntimeError, match="transaction"):
            await env.tokens.call_with_token(account, provider.whoami)


async def test_unlinked_account_raises_not_connected_without_a_request(
    client: TestClient, env: Linking, provider: FakeProvider
) -> None:
    account = await link_alice(client, env, provider)
    await env.linking.unlink(ALICE, "fakefit")
    with pytest.raises(AccountUnusable):
        await env.tokens.call_with_token(account, provider.whoami)
    assert provider.refresh_calls == 0
