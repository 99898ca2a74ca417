"""Linking through the real provider modules against the provider stand-ins.

Everything production wires is real here: `build_providers` from settings pointing at the
stand-ins, `Services`, `route_installers` (the OAuth routes and the sandbox consent page) on
the production `WebServer` (which keeps no access log). A browser is played by following the
redirects by hand; Discord by a recording messenger.

Each provider goes the whole way: /link → start → consent → callback → exchange → encrypted
tokens → refresh → fetch → revoke.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from cryptography.fernet import Fernet

from bot.app import route_installers
from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.domain import AccountStatus, DailyValue, Metric
from bot.linking import UnlinkResult
from bot.providers.base import AccessTokenRejected, GrantRevoked, Provider, TokenSet
from bot.providers.registry import build_providers
from bot.services import Services, build_services
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, LinkedAccount
from bot.storage.links import OAuthStatesRepo
from bot.web.app import WebServer, create_app
from tests.doubles.messenger import RecordingTransport
from tests.linking.wiring import BASE_URL, START, dm_only_discord, path_and_query
from tests.providers.helpers import query_of
from tests.standins.providers import (
    GoogleFitStandin,
    GoogleHealthStandin,
    OuraStandin,
    ProviderStandins,
    StandinBase,
    WithingsStandin,
)

ALICE = 777_777_777_777_777_777
BOB = 888_888_888_888_888_888
STANDINS = ("google_health", "withings", "oura", "google_fit")
ALL = (*STANDINS, "sandbox")
TOKEN_ENDPOINT = {
    "google_health": "token",
    "google_fit": "token",
    "oura": "token",
    "withings": "requesttoken",
}
REVOKES = {"google_health": True, "google_fit": True, "oura": True, "withings": False}
YESTERDAY = START.date() - dt.timedelta(days=1)


async def no_sleep(seconds: float) -> None:
    """Retries back off through this: the tests never really wait."""


@dataclass
class World:
    clock: FakeClock
    standins: ProviderStandins
    services: Services
    messenger: RecordingTransport
    http: aiohttp.ClientSession  # the "browser", talking to Stride's web server
    db: Database

    def provider(self, name: str) -> Provider:
        return self.services.providers[name]

    def standin(self, name: str) -> StandinBase:
        return self.standins.by_name[name]

    async def open_link(self, discord_id: int, name: str) -> str:
        """/link, then open the link: the URL of the provider's consent page."""
        offer = await self.services.linking.start_link(discord_id, name)
        async with self.http.get(path_and_query(offer.url), allow_redirects=False) as start:
            assert start.status == 302, await start.text()
            return start.headers["Location"]

    async def consent(
        self, name: str, authorize_url: str, *, account: str | None = None, deny: bool = False
    ) -> str:
        """What the browser does at the consent page; the callback URL it is sent to."""
        if name != "sandbox":
            return await self.standin(name).consent(authorize_url, user=account, deny=deny)
        query = query_of(authorize_url)
        async with self.http.get(path_and_query(authorize_url)) as page:
            assert page.status == 200
        form = {**query, "decision": "deny" if deny else "allow"}
        async with self.http.post(
            path_and_query(authorize_url), data=form, allow_redirects=False
        ) as decided:
            assert decided.status == 303
            return decided.headers["Location"]

    async def callback(self, url: str) -> tuple[int, str]:
        async with self.http.get(path_and_query(url)) as response:
            return response.status, await response.text()

    async def link(
        self, discord_id: int, name: str, *, account: str | None = None
    ) -> tuple[int, str]:
        authorize = await self.open_link(discord_id, name)
        return await self.callback(await self.consent(name, authorize, account=account))

    async def account(self, discord_id: int, name: str) -> LinkedAccount:
        found = await AccountsRepo(self.db, self.services.cipher).get(discord_id, name)
        assert found is not None
        return found

    async def tokens(self, account: LinkedAccount) -> TokenSet:
        found = await AccountsRepo(self.db, self.services.cipher).tokens(account.id)
        assert found is not None
        return found

    async def fetch_steps(self, account: LinkedAccount) -> list[DailyValue]:
        provider = self.provider(account.provider)

        async def fetch(token: str) -> list[DailyValue]:
            return await provider.fetch_daily(
                token,
                [Metric.STEPS],
                YESTERDAY,
                YESTERDAY,
                include_manual=False,
                user_tz=ZoneInfo("UTC"),
            )

        return await self.services.tokens.call_with_token(account, fetch)

    def token_requests(self, name: str) -> int:
        return self.standin(name).requests[TOKEN_ENDPOINT[name]]


@pytest.fixture
async def world(db: Database, tmp_path: Path) -> AsyncIterator[World]:
    clock = FakeClock(START)
    standins = ProviderStandins(
        google_health=GoogleHealthStandin(clock=clock, require_pkce=True),
        withings=WithingsStandin(clock=clock),
        oura=OuraStandin(clock=clock),
        google_fit=GoogleFitStandin(clock=clock),
    )
    for standin in standins.by_name.values():
        await standin.start()
    settings = standins.settings(
        sandbox=True,
        public_base_url=BASE_URL,
        database_path=tmp_path / "stride.db",
        token_encryption_keys=Fernet.generate_key().decode(),
    )
    session = aiohttp.ClientSession()
    messenger = dm_only_discord()
    services = build_services(
        settings,
        db,
        session,
        clock,
        providers=build_providers(settings, session, clock, sleep=no_sleep),
        cipher=TokenCipher([Fernet.generate_key()]),
    )
    services.messenger.attach(messenger)
    assert list(services.providers) == list(ALL)
    server = WebServer(
        create_app(db=db, metrics=services.metrics, installers=route_installers(services)),
        "127.0.0.1",
        0,
    )
    await server.start()
    browser = aiohttp.ClientSession(base_url=f"http://127.0.0.1:{server.port}")
    try:
        yield World(clock, standins, services, messenger, browser, db)
    finally:
        await browser.close()
        await server.stop()
        await session.close()
        await standins.close()


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
    files = [world.db.path, world.db.path.with_name(world.db.path.name + "-wal")]
    raw = b"".join(path.read_bytes() for path in files if path.exists())
    formatter = logging.Formatter()
    log_text = "\n".join(formatter.format(record) for record in caplog.records)
    assert "linked account" in log_text
    for secret in secrets:
        assert secret.encode() not in raw, "a secret is stored in plain text"
        assert secret not in log_text, "a secret appears in the log"
