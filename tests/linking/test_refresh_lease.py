"""Two Stride processes on one database never spend a single-use refresh token twice.

Each "process" is its own `TokenManager` with its own database connection, aiohttp session and
Oura provider; the Oura stand-in's refresh tokens are single-use (a reused one gets
`invalid_grant`, as from Oura). The lease in the account's row lets one process refresh while
the other waits and then uses the rotated tokens. Waiting goes through `Waits`, a sleep that
returns only when the test says so: no real time passes. Runs on SQLite and PostgreSQL
(`tests/linking/conftest.py`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from cryptography.fernet import Fernet

from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.domain import AccountStatus, DailyValue, Metric
from bot.linking import TokenManager
from bot.linking.lease import REFRESH_LEASE
from bot.providers.base import ProviderUnavailable, TokenSet
from bot.providers.oura import OuraProvider
from bot.settings import OuraSettings
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, LinkedAccount, UsersRepo
from tests.doubles.messenger import RecordingTransport, connected
from tests.engines import Databases
from tests.linking.wiring import START
from tests.standins.providers import OuraStandin

YESTERDAY = START.date() - dt.timedelta(days=1)
ACCOUNTS = 10


class Waits:
    """The lease's sleep: parks each waiter until `wake_all`, and counts who is parked."""

    def __init__(self) -> None:
        self.parked = 0
        self._round = 0
        self._changed = asyncio.Condition()

    async def sleep(self, seconds: float) -> None:
        async with self._changed:
            self.parked += 1
            started = self._round
            self._changed.notify_all()
            await self._changed.wait_for(lambda: self._round != started)
            self.parked -= 1

    async def until_parked(self, count: int) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.parked >= count)

    async def wake_all(self) -> None:
        async with self._changed:
            self._round += 1
            self._changed.notify_all()


async def no_sleep(seconds: float) -> None:
    """HTTP retries back off through this: never really waits."""


@dataclass
class Process:
    """One Stride process: its connection, token manager, provider and Discord."""

    db: Database
    tokens: TokenManager
    provider: OuraProvider
    discord: RecordingTransport

    async def steps(self, account: LinkedAccount) -> list[DailyValue]:
        async def fetch(token: str) -> list[DailyValue]:
            return await self.provider.fetch_daily(
                token,
                [Metric.STEPS],
                YESTERDAY,
                YESTERDAY,
                include_manual=False,
                user_tz=ZoneInfo("UTC"),
            )

        return await self.tokens.call_with_token(account, fetch)


@dataclass
class Cluster:
    clock: FakeClock
    cipher: TokenCipher
    standin: OuraStandin
    waits: Waits
    first: Process
    second: Process


@pytest.fixture
async def cluster(databases: Databases) -> AsyncIterator[Cluster]:
    clock = FakeClock(START)
    cipher = TokenCipher([Fernet.generate_key()])
    waits = Waits()
    target = await databases.target()
    async with OuraStandin(clock=clock) as standin, aiohttp.ClientSession() as session:
        settings = OuraSettings(**standin.settings_values())  # type: ignore[arg-type]

        async def process() -> Process:
            db = await databases.open(target)
            provider = OuraProvider(settings, session, clock, sleep=no_sleep)
            discord = RecordingTransport()
            tokens = TokenManager(
                db=db,
                cipher=cipher,
                providers={"oura": provider},
                clock=clock,
                messenger=connected(discord),
                lease_sleep=waits.sleep,
            )
            return Process(db, tokens, provider, discord)

        yield Cluster(clock, cipher, standin, waits, await process(), await process())


async def seed(cluster: Cluster, count: int) -> list[LinkedAccount]:
    """`count` members linked to Oura, with tokens from the stand-in, 9000 steps each."""
    db, now = cluster.first.db, cluster.clock.now()
    accounts = AccountsRepo(db, cluster.cipher)
    linked = []
    for number in range(count):
        user, discord_id = f"oura-{number}", 1000 + number
        issued = cluster.standin.direct_tokens(user, ("daily", "personal"))
        cluster.standin.set_daily(user, YESTERDAY, Metric.STEPS, 9000 + number)
        await UsersRepo(db).ensure(discord_id, now)
        tokens = TokenSet(
            issued.access_token, issued.refresh_token, issued.expires_at, issued.scopes
        )
        linked.append(await accounts.save_link(discord_id, "oura", user, tokens, now))
    return linked


async def until_done(tasks: list[asyncio.Task[list[DailyValue]]], count: int) -> None:
    pending = set(tasks)
    while sum(task.done() for task in tasks) < count:
        _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)


async def test_ten_concurrent_refreshes_from_two_processes_spend_each_token_once(
    cluster: Cluster,
) -> None:
    linked = await seed(cluster, ACCOUNTS)
    cluster.clock.advance(dt.timedelta(days=2))  # every access token has expired
    standin = cluster.standin
    standin.reset_counts()
    standin.hold_token_requests()

    tasks = [
        asyncio.create_task(process.steps(account))
        for account in linked
        for process in (cluster.first, cluster.second)
    ]
    # One process per account holds its lease and is at Oura's door; the other one waits.
    # (The timeout only ends a test that would otherwise hang: without the lease, both go.)
    async with asyncio.timeout(10):
        await standin.wait_for_held_token_requests(ACCOUNTS)
        await cluster.waits.until_parked(ACCOUNTS)
    assert standin.held_token_requests == ACCOUNTS
    standin.release_token_requests()
    await until_done(tasks, ACCOUNTS)  # the holders have refreshed, stored and fetched
    await cluster.waits.wake_all()
    results = await asyncio.gather(*tasks)

    assert [[v.value for v in values] for values in results] == [
        [9000 + number] for number in range(ACCOUNTS) for _ in range(2)
    ]
    assert standin.requests["token"] == ACCOUNTS  # one refresh per account
    assert standin.reused_refresh_tokens == 0
    repo = AccountsRepo(cluster.second.db, cluster.cipher)
    for account in linked:
        stored = await repo.get(account.discord_id, "oura")
        assert stored is not None and stored.status is AccountStatus.ACTIVE
    assert cluster.first.discord.dms == [] and cluster.second.discord.dms == []


async def test_a_crashed_holders_lease_runs_out_and_the_other_process_refreshes(
    cluster: Cluster,
) -> None:
    [account] = await seed(cluster, 1)
    cluster.clock.advance(dt.timedelta(days=2))
    now = cluster.clock.now()
    repo = AccountsRepo(cluster.first.db, cluster.cipher)
    assert await repo.take_refresh_lease(account.id, "crashed", now, now + REFRESH_LEASE)
    cluster.standin.reset_counts()

    call = asyncio.create_task(cluster.second.steps(account))
    await cluster.waits.until_parked(1)
    assert cluster.standin.requests["token"] == 0  # not while the lease runs
    cluster.clock.advance(REFRESH_LEASE + dt.timedelta(seconds=1))
    await cluster.waits.wake_all()

    assert [v.value for v in await call] == [9000]
    assert cluster.standin.requests["token"] == 1
    assert await repo.refresh_lease_until(account.id) is None  # given back


async def test_a_lease_is_given_back_when_the_refresh_fails(cluster: Cluster) -> None:
    [account] = await seed(cluster, 1)
    cluster.clock.advance(dt.timedelta(days=2))
    cluster.standin.fail_next(1, status=503, endpoint="token")

    with pytest.raises(ProviderUnavailable, match="503"):
        await cluster.first.steps(account)
    repo = AccountsRepo(cluster.first.db, cluster.cipher)
    assert await repo.refresh_lease_until(account.id) is None
    assert [v.value for v in await cluster.second.steps(account)] == [9000]


async def test_a_relink_waits_for_a_crashed_holder_only_so_long(cluster: Cluster) -> None:
    """The member's browser waits on the callback: a lease a crashed process left behind is
    waited for at most the patience given, not until it runs out."""
    [account] = await seed(cluster, 1)
    now = cluster.clock.now()
    repo = AccountsRepo(cluster.first.db, cluster.cipher)
    assert await repo.take_refresh_lease(account.id, "crashed", now, now + REFRESH_LEASE)
    entered = asyncio.Event()

    async def store() -> None:
        async with cluster.second.tokens.exclusive(account.id, patience=dt.timedelta(seconds=30)):
            entered.set()

    task = asyncio.create_task(store())
    await cluster.waits.until_parked(1)
    assert not entered.is_set()
    cluster.clock.advance(dt.timedelta(seconds=31))  # far less than the lease
    await cluster.waits.wake_all()
    await task

    assert entered.is_set()
    assert await repo.refresh_lease_until(account.id) == now + REFRESH_LEASE  # not ours to end
