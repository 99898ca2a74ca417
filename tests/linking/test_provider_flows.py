"""Linking through the real provider modules against the provider stand-ins.

Everything production wires is real here (`tests.linking.standin_world`): `build_providers`
from settings pointing at the stand-ins, `Services`, the OAuth routes on the production
`WebServer`. A browser is played by following the redirects by hand; Discord by a recording
messenger.

Each provider goes the whole way: /link → start → consent → callback → exchange → encrypted
tokens → refresh → fetch → revoke.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain import AccountStatus, Metric
from bot.linking import UnlinkResult
from bot.providers.base import AccessTokenRejected, GrantRevoked
from bot.storage import Database
from bot.storage.accounts import AccountsRepo
from bot.storage.links import OAuthStatesRepo
from tests.engines import stored_bytes
from tests.linking.standin_world import (
    ALL,
    STANDINS,
    TOKEN_ENDPOINT,
    YESTERDAY,
    World,
    open_world,
)
from tests.linking.wiring import BASE_URL, path_and_query
from tests.providers.helpers import query_of

ALICE = 777_777_777_777_777_777
BOB = 888_888_888_888_888_888

REVOKES = {"google_health": True, "google_fit": True, "oura": True, "withings": False}


@pytest.fixture
async def world(db: Database, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(db, tmp_path) as built:
        yield built


# --------------------------------------------------------------------------- the whole way


@pytest.mark.parametrize("name", ALL)
async def test_full_flow_link_refresh_fetch_revoke(world: World, name: str) -> None:
    authorize = await world.open_link(ALICE, name)
    params = query_of(authorize)
    assert params["redirect_uri"] == f"{BASE_URL}/oauth/{name}/callback"
    if world.provider(name).info.supports_pkce and name != "sandbox":  # sandbox: kept inside
        assert params["code_challenge_method"] == "S256"
    account_id = f"{name}-alice" if name != "sandbox" else None

    status, page = await world.callback(await world.consent(name, authorize, account=account_id))

    assert status == 200, page
    assert "Linked ✓" in page
    account = await world.account(ALICE, name)
    if account_id is not None:
        assert account.provider_user_id == account_id
        world.standin(name).set_daily(account_id, YESTERDAY, Metric.STEPS, 8432)
    assert account.status is AccountStatus.ACTIVE
    [dm] = world.messenger.to(ALICE)
    assert dm.embed is not None and dm.embed.title == "Linked ✓"
    first = await world.tokens(account)
    raw = await world.db.fetch_one(
        "SELECT access_token, refresh_token FROM linked_accounts WHERE id = ?", (account.id,)
    )
    assert raw is not None and first.access_token.encode() not in raw["access_token"]

    # A day later the access token has expired: the fetch refreshes first.
    world.clock.advance(dt.timedelta(days=1, hours=1))
    values = await world.fetch_steps(account)

    assert [v.metric for v in values] == [Metric.STEPS]
    if account_id is not None:
        assert values[0].value == 8432
        assert world.token_requests(name) == 2  # the exchange and one refresh
    second = await world.tokens(account)
    assert second.access_token != first.access_token
    assert second.expires_at > world.clock.now()

    result = await world.services.linking.unlink(ALICE, name)

    assert await AccountsRepo(world.db, world.services.cipher).get(ALICE, name) is None
    if REVOKES.get(name):
        assert result is UnlinkResult.REVOKED
        assert world.standin(name).requests["revoke"] >= 1
        with pytest.raises(AccessTokenRejected):
            await world.provider(name).fetch_daily(
                second.access_token,
                [Metric.STEPS],
                YESTERDAY,
                YESTERDAY,
                include_manual=False,
                user_tz=ZoneInfo("UTC"),
            )
    else:
        assert result is UnlinkResult.NOT_OFFERED


# --------------------------------------------------------------------------- refresh


@pytest.mark.parametrize("name", ["oura", "withings", "google_health"])
async def test_ten_concurrent_callers_refresh_once_and_keep_the_newest_pair(
    world: World, name: str
) -> None:
    assert (await world.link(ALICE, name, account="u-1"))[0] == 200
    world.standin(name).set_daily("u-1", YESTERDAY, Metric.STEPS, 5000)
    account = await world.account(ALICE, name)
    old = await world.tokens(account)
    world.clock.advance(dt.timedelta(days=2))
    before = world.token_requests(name)

    results = await asyncio.gather(*(world.fetch_steps(account) for _ in range(10)))

    assert all(r[0].value == 5000 for r in results)
    assert world.token_requests(name) == before + 1
    new = await world.tokens(account)
    standin = world.standin(name)
    if name == "google_health":
        assert new.refresh_token == old.refresh_token  # Google's does not rotate
    else:
        assert new.refresh_token != old.refresh_token
        assert list(standin.refresh_tokens)[-1] == new.refresh_token  # the newest issued
    # And it still works: the next refresh (another day on) succeeds.
    world.clock.advance(dt.timedelta(days=2))
    assert (await world.fetch_steps(account))[0].value == 5000
    assert (await world.account(ALICE, name)).status is AccountStatus.ACTIVE


@pytest.mark.parametrize("name", STANDINS)
async def test_invalid_grant_marks_relink_and_dms_once_over_two_runs(
    world: World, name: str
) -> None:
    assert (await world.link(ALICE, name, account="u-1"))[0] == 200
    account = await world.account(ALICE, name)
    world.messenger.dms.clear()
    world.standin(name).revoke_user("u-1")  # the user removed Stride at the provider

    for _ in range(2):  # two daily runs, a day apart
        world.clock.advance(dt.timedelta(days=1, hours=1))
        with pytest.raises(GrantRevoked):
            await world.fetch_steps(account)

    assert (await world.account(ALICE, name)).status is AccountStatus.NEEDS_RELINK
    [dm] = world.messenger.to(ALICE)
    assert "/link" in dm.text
    assert world.token_requests(name) == 2  # the exchange and the one refused refresh


async def test_relink_after_invalid_grant_makes_the_account_active_again(world: World) -> None:
    assert (await world.link(ALICE, "oura", account="u-1"))[0] == 200
    account = await world.account(ALICE, "oura")
    world.standin("oura").revoke_user("u-1")
    world.clock.advance(dt.timedelta(days=2))
    with pytest.raises(GrantRevoked):
        await world.fetch_steps(account)
    world.standin("oura").user("u-1").revoked = False  # the user consents again

    assert (await world.link(ALICE, "oura", account="u-1"))[0] == 200

    assert (await world.account(ALICE, "oura")).status is AccountStatus.ACTIVE
    world.standin("oura").set_daily("u-1", YESTERDAY, Metric.STEPS, 6100)
    assert [(v.day, v.value) for v in await world.fetch_steps(account)] == [(YESTERDAY, 6100)]


# --------------------------------------------------------------------------- failed callbacks


@pytest.mark.parametrize("name", ["withings", "google_health"])
async def test_replayed_state_is_refused(world: World, name: str) -> None:
    callback = await world.consent(name, await world.open_link(ALICE, name), account="u-1")
    assert (await world.callback(callback))[0] == 200
    exchanges = world.token_requests(name)

    status, page = await world.callback(callback)

    assert status == 410 and "already used" in page
    assert world.token_requests(name) == exchanges  # the code was not sent again


@pytest.mark.parametrize("name", ALL)
async def test_expired_state_is_refused_and_nothing_is_exchanged(world: World, name: str) -> None:
    authorize = await world.open_link(ALICE, name)
    world.clock.advance(dt.timedelta(minutes=10, seconds=1))
    callback = await world.consent(name, authorize, account="u-1")

    status, page = await world.callback(callback)

    assert status == 410 and "expired" in page
    if name != "sandbox":
        assert world.token_requests(name) == 0
    assert await world.db.fetch_value("SELECT COUNT(*) FROM linked_accounts") == 0


@pytest.mark.parametrize("name", ALL)
async def test_denied_consent_gets_a_page_and_stores_nothing(world: World, name: str) -> None:
    callback = await world.consent(name, await world.open_link(ALICE, name), deny=True)

    status, page = await world.callback(callback)

    assert status == 400 and "chose not to give Stride access" in page
    assert await world.db.fetch_value("SELECT COUNT(*) FROM linked_accounts") == 0
    assert world.messenger.dms == []


async def test_withings_error_inside_a_200_body_stores_nothing(world: World) -> None:
    withings = world.standins.withings
    callback = await world.consent("withings", await world.open_link(ALICE, "withings"))
    withings.body_status_next(status=2554, endpoint="requesttoken")  # HTTP 200, status 2554

    status, page = await world.callback(callback)

    assert status == 502 and "did not complete the sign-in" in page
    assert await world.db.fetch_value("SELECT COUNT(*) FROM linked_accounts") == 0
    assert world.messenger.dms == []


async def test_withings_rate_limit_inside_a_200_body_is_retried_and_links(world: World) -> None:
    withings = world.standins.withings
    callback = await world.consent("withings", await world.open_link(ALICE, "withings"))
    withings.body_status_next(status=601, endpoint="requesttoken")  # too many requests

    status, page = await world.callback(callback)

    assert status == 200, page
    assert world.token_requests("withings") == 2
    assert (await world.account(ALICE, "withings")).status is AccountStatus.ACTIVE


async def test_withings_code_older_than_30_seconds_is_refused(world: World) -> None:
    callback = await world.consent("withings", await world.open_link(ALICE, "withings"))
    world.clock.advance(dt.timedelta(seconds=31))  # the browser took its time

    status, page = await world.callback(callback)

    assert status == 400 and "may have taken too long" in page
    assert await world.db.fetch_value("SELECT COUNT(*) FROM linked_accounts") == 0


@pytest.mark.parametrize("name", STANDINS)
async def test_provider_down_at_the_exchange_is_a_502(world: World, name: str) -> None:
    callback = await world.consent(name, await world.open_link(ALICE, name))
    world.standin(name).fail_next(10, status=503, endpoint=TOKEN_ENDPOINT[name])

    status, page = await world.callback(callback)

    assert status == 502 and "Nothing was linked" in page
    assert await world.db.fetch_value("SELECT COUNT(*) FROM linked_accounts") == 0


@pytest.mark.parametrize("name", STANDINS)
async def test_second_discord_user_linking_the_same_account_is_refused(
    world: World, name: str
) -> None:
    assert (await world.link(ALICE, name, account="shared"))[0] == 200
    alice_tokens = await world.tokens(await world.account(ALICE, name))

    status, page = await world.link(BOB, name, account="shared")

    assert status == 409 and "already linked to another Discord user" in page
    assert await AccountsRepo(world.db, world.services.cipher).get(BOB, name) is None
    assert world.standin(name).requests["revoke"] == 0
    assert (await world.tokens(await world.account(ALICE, name))) == alice_tokens
    assert world.messenger.to(BOB) == []


# --------------------------------------------------------------------------- no secret leaks


async def test_no_secret_in_the_database_file_or_the_log(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    states: list[str] = []
    for name in ALL:
        offer = await world.services.linking.start_link(ALICE, name)
        states.append(query_of(offer.url)["state"])
        lookup = await OAuthStatesRepo(world.db, world.services.cipher).peek(
            states[-1], name, world.clock.now()
        )
        assert lookup.link is not None
        if lookup.link.code_verifier is not None:
            states.append(lookup.link.code_verifier)
        async with world.http.get(path_and_query(offer.url), allow_redirects=False) as start:
            authorize = start.headers["Location"]
        callback = await world.consent(name, authorize, account=f"{name}-acct")
        states.append(query_of(callback)["code"])
        assert (await world.callback(callback))[0] == 200
        assert (await world.callback(callback))[0] == 410  # a replay, logged too
    world.clock.advance(dt.timedelta(days=2))
    for name in ALL:
        await world.fetch_steps(await world.account(ALICE, name))
    await world.services.linking.unlink(ALICE, "oura")
    await world.services.privacy.export(ALICE)

    issued = [
        value
        for standin in world.standins.by_name.values()
        for value in (*standin.access_tokens, *standin.refresh_tokens, *standin.codes)
    ]
    secrets = [*states, *issued, "test-secret"]
    assert len(issued) >= 15
    raw = await stored_bytes(world.db)
    formatter = logging.Formatter()
    log_text = "\n".join(formatter.format(record) for record in caplog.records)
    assert "linked account" in log_text
    for secret in secrets:
        assert secret.encode() not in raw, "a secret is stored in plain text"
        assert secret not in log_text, "a secret appears in the log"
