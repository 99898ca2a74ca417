"""Linking checked against an OAuth 2.0 server configured otherwise than the providers' own.

The stand-ins play an independent RFC 6749 server: one that grants a subset of the scopes
(granular consent), answers token types other than Bearer, accepts only HTTP Basic client
authentication, leaves the refresh token out, answers slowly, or refuses a lapsed member's
data. Everything on Stride's side is production code (`tests.linking.standin_world`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain import AccountStatus, DailyValue, Metric
from bot.linking import TokenManager, UnlinkResult
from bot.providers.base import MembershipLapsed, ProviderResponseError
from bot.providers.http import RetryPolicy
from bot.settings import Settings
from bot.storage import Database
from bot.storage.accounts import AccountsRepo
from tests.linking.standin_world import STANDINS, YESTERDAY, World, open_world

ALICE = 333_333_333_333_333_333
HEALTH = "https://www.googleapis.com/auth/googlehealth."
FIT = "https://www.googleapis.com/auth/fitness."
REVOKES = {"google_health": True, "google_fit": True, "oura": True, "withings": False}


@pytest.fixture
async def world(db: Database, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(db, tmp_path) as built:
        yield built


async def link_granting(world: World, name: str, scopes: list[str]) -> tuple[int, str]:
    """Alice links `name`, ticking only `scopes` on the consent screen."""
    authorize = await world.open_link(ALICE, name)
    callback = await world.standin(name).consent(authorize, user=f"{name}-alice", scopes=scopes)
    return await world.callback(callback)


async def nothing_linked(world: World, name: str) -> bool:
    return await AccountsRepo(world.db, world.services.cipher).get(ALICE, name) is None


# -- 18: granted scopes ------------------------------------------------------------------


async def test_unticking_sleep_links_says_what_is_missing_and_the_rest_still_counts(
    world: World,
) -> None:
    status, page = await link_granting(
        world, "google_health", [HEALTH + "activity_and_fitness.readonly"]
    )

    assert status == 200, page
    assert "Linked, with some data missing" in page
    assert "sleep minutes" in page and "See your Google Health sleep data" in page
    [dm] = world.messenger.to(ALICE)
    assert dm.embed is not None and dm.embed.title == "Linked, with some data missing"
    assert "/link again" in dm.embed.description
    assert "tick “See your Google Health sleep data”" in dm.embed.description
    [view] = await world.services.linking.accounts(ALICE)
    assert view.missing_access is not None and "sleep minutes" in view.missing_access

    standin = world.standin("google_health")
    standin.set_daily("google_health-alice", YESTERDAY, Metric.STEPS, 8432)
    standin.set_daily("google_health-alice", YESTERDAY, Metric.SLEEP_MINUTES, 420)
    account = await world.account(ALICE, "google_health")
    values = await world.fetch(account, [Metric.STEPS, Metric.SLEEP_MINUTES])

    assert [(v.metric, v.value) for v in values] == [(Metric.STEPS, 8432)]
    assert (await world.account(ALICE, "google_health")).status is AccountStatus.ACTIVE


async def test_a_full_grant_has_nothing_missing(world: World) -> None:
    status, page = await world.link(ALICE, "google_health", account="gh-alice")

    assert status == 200 and "Linked ✓" in page and "missing" not in page
    [view] = await world.services.linking.accounts(ALICE)
    assert view.missing_access is None


async def test_google_fit_without_distance_fetches_the_granted_metrics(world: World) -> None:
    status, page = await link_granting(world, "google_fit", [FIT + "activity.read", "openid"])

    assert status == 200 and "distance" in page
    standin = world.standin("google_fit")
    standin.set_daily("google_fit-alice", YESTERDAY, Metric.STEPS, 5000)
    standin.set_daily("google_fit-alice", YESTERDAY, Metric.DISTANCE, 3.5)
    account = await world.account(ALICE, "google_fit")
    values = await world.fetch(account, [Metric.STEPS, Metric.DISTANCE])

    assert [(v.metric, v.value) for v in values] == [(Metric.STEPS, 5000)]


@pytest.mark.parametrize("granted", [["personal"], ["daily"]])
async def test_an_oura_grant_stride_cannot_use_is_refused_and_says_what_to_tick(
    world: World, granted: list[str]
) -> None:
    status, page = await link_granting(world, "oura", granted)

    assert status == 403, page
    assert "More access needed" in page and "tick" in page
    assert await nothing_linked(world, "oura")
    assert world.messenger.to(ALICE) == []


# -- 19: token types -----------------------------------------------------------------------


@pytest.mark.parametrize("name", STANDINS)
async def test_a_token_type_other_than_bearer_is_refused_at_link(world: World, name: str) -> None:
    world.standin(name).token_type = "mac"

    status, page = await world.link(ALICE, name, account=f"{name}-alice")

    assert status == 502
    assert "token type &#x27;mac&#x27;" in page and "Bearer" in page
    assert await nothing_linked(world, name)


@pytest.mark.parametrize("token_type", ["bearer", "BEARER", None])
async def test_bearer_in_any_case_or_left_out_links(world: World, token_type: str | None) -> None:
    world.standin("oura").token_type = token_type

    status, page = await world.link(ALICE, "oura", account="oura-alice")

    assert status == 200, page


async def test_a_refresh_answering_another_token_type_is_a_provider_error(world: World) -> None:
    await world.link(ALICE, "google_health", account="gh-alice")
    account = await world.account(ALICE, "google_health")
    before = await world.tokens(account)
    world.standin("google_health").token_type = "DPoP"
    world.clock.advance(dt.timedelta(hours=2))

    with pytest.raises(ProviderResponseError, match="token_type"):
        await world.fetch_steps(account)

    assert (await world.account(ALICE, "google_health")).status is AccountStatus.ACTIVE
    assert (await world.tokens(account)).access_token == before.access_token
    assert len(world.messenger.to(ALICE)) == 1  # the "Linked" DM only: no re-link asked


# -- 20: client authentication -----------------------------------------------------------------

SPECIAL_SECRET = "s3cr:t+/ é&%="  # needs form-urlencoding before base64 (RFC 6749 §2.3.1)


@pytest.mark.parametrize("name", STANDINS)
async def test_a_server_accepting_only_basic_links_refreshes_and_revokes(
    db: Database, tmp_path: Path, name: str
) -> None:
    standin_options = {
        name: {"client_auth": ["client_secret_basic"], "client_secret": SPECIAL_SECRET}
    }
    settings = {name: {"client_auth": "client_secret_basic"}}
    async with open_world(
        db, tmp_path, standin_options=standin_options, settings=settings
    ) as world:
        status, page = await world.link(ALICE, name, account=f"{name}-alice")
        assert status == 200, page
        account = await world.account(ALICE, name)
        world.standin(name).set_daily(f"{name}-alice", YESTERDAY, Metric.STEPS, 777)
        world.clock.advance(dt.timedelta(days=2))

        assert [v.value for v in await world.fetch_steps(account)] == [777]
        result = await world.services.linking.unlink(ALICE, name)

        seen = world.standin(name).client_auth_seen
        assert set(seen) == {"client_secret_basic"}
        assert seen["client_secret_basic"] == (3 if REVOKES[name] else 2)
        assert result is (UnlinkResult.REVOKED if REVOKES[name] else UnlinkResult.NOT_OFFERED)


@pytest.mark.parametrize("name", STANDINS)
async def test_a_basic_only_server_refuses_the_form_and_nothing_is_linked(
    db: Database, tmp_path: Path, name: str
) -> None:
    standin_options = {name: {"client_auth": ["client_secret_basic"]}}
    async with open_world(db, tmp_path, standin_options=standin_options) as world:
        status, _ = await world.link(ALICE, name, account=f"{name}-alice")

        assert status == 502
        assert await nothing_linked(world, name)


def test_every_provider_defaults_to_the_form_body_as_documented() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    groups = (settings.google_health, settings.google_fit, settings.withings, settings.oura)
    assert {group.client_auth for group in groups} == {"client_secret_post"}


# -- 21: a code answer without a refresh token -------------------------------------------


async def test_an_oura_code_answer_without_a_refresh_token_is_refused(world: World) -> None:
    world.standins.oura.code_answers_refresh_token = False

    status, page = await world.link(ALICE, "oura", account="oura-alice")

    assert status == 502, page
    assert await nothing_linked(world, "oura")


# -- 22: a lapsed Oura membership --------------------------------------------------------


async def test_a_lapsed_oura_membership_is_told_once_shown_kept_and_recovers(
    world: World,
) -> None:
    await world.link(ALICE, "oura", account="oura-alice")
    world.messenger.dms.clear()
    standin = world.standins.oura
    standin.set_daily("oura-alice", YESTERDAY, Metric.STEPS, 9000)
    standin.lapse_membership("oura-alice")

    for _ in range(2):
        with pytest.raises(MembershipLapsed):
            await world.fetch_steps(await world.account(ALICE, "oura"))
    # A restart: a new token manager over the same database tells nobody again.
    services = world.services
    restarted = TokenManager(
        db=world.db,
        cipher=services.cipher,
        providers=services.providers,
        clock=world.clock,
        messenger=services.messenger,
    )
    with pytest.raises(MembershipLapsed):
        await restarted.call_with_token(await world.account(ALICE, "oura"), standin_steps(world))

    account = await world.account(ALICE, "oura")
    assert account.status is AccountStatus.ACTIVE
    assert account.membership_lapsed_at == world.clock.now()
    [dm] = world.messenger.to(ALICE)
    assert dm.embed is not None and "membership has lapsed" in dm.embed.title
    assert "nothing to link again" in dm.embed.description
    [view] = await world.services.linking.accounts(ALICE)
    assert view.membership_lapsed_at is not None

    standin.lapse_membership("oura-alice", False)
    assert [v.value for v in await world.fetch_steps(account)] == [9000]
    assert (await world.account(ALICE, "oura")).membership_lapsed_at is None

    standin.lapse_membership("oura-alice")
    with pytest.raises(MembershipLapsed):
        await world.fetch_steps(await world.account(ALICE, "oura"))
    assert len(world.messenger.to(ALICE)) == 2  # a new lapse is told again


def standin_steps(world: World) -> Callable[[str], Awaitable[list[DailyValue]]]:
    """The fetch `World.fetch_steps` makes, for another token manager."""
    provider = world.provider("oura")

    async def fetch(token: str) -> list[DailyValue]:
        return await provider.fetch_daily(
            token,
            [Metric.STEPS],
            YESTERDAY,
            YESTERDAY,
            include_manual=False,
            user_tz=ZoneInfo("UTC"),
        )

    return fetch


# -- 23: a slow answer to a token request that is never repeated -------------------------


async def test_a_slow_oura_refresh_is_waited_for_instead_of_abandoned(
    db: Database, tmp_path: Path
) -> None:
    retry = RetryPolicy(timeout=0.1, base_delay=0.0)
    settings = {"oura": {"token_timeout_seconds": 5}}
    async with open_world(db, tmp_path, settings=settings, retry=retry) as world:
        await world.link(ALICE, "oura", account="oura-alice")
        standin = world.standins.oura
        standin.set_daily("oura-alice", YESTERDAY, Metric.STEPS, 4321)
        world.clock.advance(dt.timedelta(days=2))
        standin.token_delay = 0.3  # longer than the ordinary timeout, processed all the same

        values = await world.fetch_steps(await world.account(ALICE, "oura"))

        assert [v.value for v in values] == [4321]
        assert standin.reused_refresh_tokens == 0
        assert (await world.account(ALICE, "oura")).status is AccountStatus.ACTIVE
