"""Stride's real linking stack against the provider stand-ins, as a test's world.

`open_world` wires what production wires: `build_providers` from settings pointing at the
stand-ins, `Services`, `route_installers` (the OAuth routes and the sandbox consent page) on
the production `WebServer` (which keeps no access log). A browser is played by following the
redirects by hand (`World.open_link`, `consent`, `callback`); Discord by a recording messenger.
The stand-ins and the settings can be varied per test (client authentication, token types,
timeouts), so the same stack is checked against an OAuth server configured otherwise.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from cryptography.fernet import Fernet

from bot.app import route_installers
from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.domain import DailyValue, Metric
from bot.providers.base import Provider, TokenSet
from bot.providers.http import RetryPolicy
from bot.providers.registry import build_providers
from bot.services import Services, build_services
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, LinkedAccount
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

STANDINS = ("google_health", "withings", "oura", "google_fit")
ALL = (*STANDINS, "sandbox")
TOKEN_ENDPOINT = {
    "google_health": "token",
    "google_fit": "token",
    "oura": "token",
    "withings": "requesttoken",
}
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
        return await self.fetch(account, [Metric.STEPS])

    async def fetch(self, account: LinkedAccount, metrics: list[Metric]) -> list[DailyValue]:
        """Yesterday's `metrics` of the account, through the token manager."""
        provider = self.provider(account.provider)

        async def fetch(token: str) -> list[DailyValue]:
            return await provider.fetch_daily(
                token,
                metrics,
                YESTERDAY,
                YESTERDAY,
                include_manual=False,
                user_tz=ZoneInfo("UTC"),
            )

        return await self.services.tokens.call_with_token(account, fetch)

    def token_requests(self, name: str) -> int:
        return self.standin(name).requests[TOKEN_ENDPOINT[name]]


@contextlib.asynccontextmanager
async def open_world(
    db: Database,
    tmp_path: Path,
    *,
    standin_options: Mapping[str, Mapping[str, Any]] | None = None,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    retry: RetryPolicy | None = None,
) -> AsyncIterator[World]:
    """The world, torn down afterwards. `standin_options` are keyword arguments per stand-in
    (e.g. `{"oura": {"client_auth": ["client_secret_basic"]}}`), `settings` values merged
    into each provider's settings group (e.g. `{"oura": {"client_auth": "…"}}`)."""
    clock = FakeClock(START)
    options = {name: dict(values) for name, values in (standin_options or {}).items()}
    standins = ProviderStandins(
        google_health=GoogleHealthStandin(
            clock=clock, **{"require_pkce": True, **options.get("google_health", {})}
        ),
        withings=WithingsStandin(clock=clock, **options.get("withings", {})),
        oura=OuraStandin(clock=clock, **options.get("oura", {})),
        google_fit=GoogleFitStandin(clock=clock, **options.get("google_fit", {})),
    )
    for standin in standins.by_name.values():
        await standin.start()
    groups = {
        name: {**values, **(settings or {}).get(name, {})}
        for name, values in standins.settings_values().items()
    }
    configured = standins.settings(
        sandbox=True,
        public_base_url=BASE_URL,
        database_path=tmp_path / "stride.db",
        token_encryption_keys=Fernet.generate_key().decode(),
        **groups,
    )
    session = aiohttp.ClientSession()
    messenger = dm_only_discord()
    services = build_services(
        configured,
        db,
        session,
        clock,
        providers=build_providers(configured, session, clock, sleep=no_sleep, retry=retry),
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
