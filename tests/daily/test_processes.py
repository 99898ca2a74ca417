"""Acceptance: several Stride processes (shards) over one database do every piece of work once.

Two processes own shards 0 and 1 of 8 guilds; 40 members, 10 of them in a guild on each
shard; a week with the fake clock. Every channel gets each daily post and the results exactly
once, every account is fetched once per run (the 10 shared ones by whichever process claimed
them first, the other taking the stored values), and both processes fetch. The same holds
with a third process overlapping both shards, and when a process dies right after it claimed
a challenge's post (before or after Discord stored the message): the others leave it alone
while its lease lasts and take it over after, without a second message.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence

import pytest

from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.daily import RunReport
from bot.daily.once import POST_LEASE
from bot.instance import NAME_LEASE, NameInUse
from bot.settings import Settings
from bot.shards import guild_shard
from bot.storage import Database
from tests.daily.processes import (
    GUILDS,
    MEMBERS,
    SHARD_COUNT,
    WEEK,
    League,
    OpenDatabase,
    Process,
    channel_of,
    expected_keys,
    league,
    post_instant,
    steps,
)
from tests.doubles.messenger import Kill, Killed
from tests.engines import Databases

# Every post time from the first day's post to the results (the last day is final on the
# second day after it).
RUN_DAYS = (*WEEK[1:], WEEK[-1] + dt.timedelta(days=1), WEEK[-1] + dt.timedelta(days=2))


@pytest.fixture
async def open_db(databases: Databases) -> OpenDatabase:
    """Each process opens its own connection(s) to the one database (SQLite: one file;
    PostgreSQL: one database on the test server); the league closes them."""
    target = await databases.target(migrated=False)

    async def connect() -> Database:
        return await Database.open(target)

    return connect


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 5, 31, 12, 0, tzinfo=dt.UTC))


def reports_of(results: Sequence[RunReport | BaseException]) -> list[RunReport]:
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [result for result in results if isinstance(result, RunReport)]


async def run_day(world: League, processes: Sequence[Process], day: dt.date) -> list[RunReport]:
    """Every process runs at the day's post time, together; each account was fetched once."""
    world.clock.set(post_instant(day))
    world.provider.calls.clear()
    reports = reports_of(await world.run_together(processes))
    fetched = Counter(call.user for call in world.provider.calls)
    assert fetched == {f"user{member}": 1 for member in MEMBERS}, f"run of {day}"
    assert sum(report.accounts_fetched for report in reports) == len(MEMBERS)
    return reports


def assert_every_post_once(world: League) -> None:
    posts = world.posts_by_channel()
    assert set(posts) == {channel_of(guild) for guild in GUILDS}
    for guild, challenge in world.challenges.items():
        assert posts[channel_of(guild)] == expected_keys(challenge.id), f"guild {guild}"


async def assert_scores_are_the_providers(world: League, process: Process) -> None:
    """The stored scores are the provider's values: the process that did not fetch a shared
    member scored what the other one stored."""
    rows = await process.db.fetch_all("SELECT discord_id, day, value FROM daily_scores")
    assert rows
    for row in rows:
        day = dt.date.fromisoformat(row["day"])
        assert row["value"] == steps(int(row["discord_id"]), day)


async def test_two_shards_post_everything_once_and_fetch_each_account_once(
    open_db: OpenDatabase,
    clock: FakeClock,
    cipher: TokenCipher,
    make_settings: Callable[..., Settings],
) -> None:
    async with league(open_db, clock, cipher, make_settings) as world:
        zero = await world.start("zero", [0])
        one = await world.start("one", [1])
        await world.seed(zero.db)
        for day in RUN_DAYS:
            reports = await run_day(world, [zero, one], day)
            assert all(report.accounts_fetched > 0 for report in reports)  # both fetch
            assert all(report.posts for report in reports)  # both post, their own guilds
        for process, shard in ((zero, 0), (one, 1)):
            posted = {channel for r in process.reports for channel in r.posts}
            mine = {
                c.id for g, c in world.challenges.items() if guild_shard(g, SHARD_COUNT) == shard
            }
            assert posted == mine
        assert_every_post_once(world)
        await assert_scores_are_the_providers(world, one)

        world.clock.set(post_instant(RUN_DAYS[-1] + dt.timedelta(days=1)))
        reports_of(await world.run_together([zero, one]))
        assert_every_post_once(world)  # nothing more


async def test_a_third_process_overlapping_both_shards_changes_nothing(
    open_db: OpenDatabase,
    clock: FakeClock,
    cipher: TokenCipher,
    make_settings: Callable[..., Settings],
) -> None:
    async with league(open_db, clock, cipher, make_settings) as world:
        zero = await world.start("zero", [0])
        one = await world.start("one", [1])
        both = await world.start("both", [0, 1])
        await world.seed(zero.db)
        for day in RUN_DAYS:
            await run_day(world, [zero, one, both], day)
        assert_every_post_once(world)
        assert all(any(r.accounts_fetched for r in p.reports) for p in (zero, one))
        await assert_scores_are_the_providers(world, both)


@pytest.mark.parametrize("kill", [Kill.BEFORE_SEND, Kill.AFTER_SEND])
async def test_a_process_killed_after_claiming_a_post_is_taken_over_after_its_lease(
    open_db: OpenDatabase,
    clock: FakeClock,
    cipher: TokenCipher,
    make_settings: Callable[..., Settings],
    kill: Kill,
) -> None:
    async with league(open_db, clock, cipher, make_settings) as world:
        zero = await world.start("zero", [0])
        one = await world.start("one", [1])
        spare = await world.start("spare", [0, 1])
        await world.seed(zero.db)
        await run_day(world, [zero, one, spare], RUN_DAYS[0])

        # The post time of June 3 (the posts of June 2): zero claims its guilds' challenges
        # and dies at its first send.
        world.clock.set(post_instant(RUN_DAYS[1]))
        zero.client.kill = kill
        before = len(world.discord.posts)
        with pytest.raises(Killed):
            await zero.run()
        await zero.db.close()  # the claims stay; the process never finishes
        reports_of(await world.run_together([one, spare]))
        # Shard 1 posted; zero's challenges wait for its lease (one post went out with zero).
        sent_by_zero = 1 if kill is Kill.AFTER_SEND else 0
        assert len(world.discord.posts) == before + 4 + sent_by_zero

        # After the lease the spare process takes zero's challenges over: each post once.
        world.clock.set(post_instant(RUN_DAYS[1]) + POST_LEASE + dt.timedelta(minutes=1))
        reports_of(await world.run_together([one, spare]))
        assert len(world.discord.posts) == before + 8
        for day in RUN_DAYS[2:]:
            await run_day(world, [one, spare], day)
        assert_every_post_once(world)
        assert spare.services.settings.process_name != zero.services.settings.process_name


async def test_a_second_live_process_with_the_same_name_refuses_to_start(
    open_db: OpenDatabase,
    clock: FakeClock,
    cipher: TokenCipher,
    make_settings: Callable[..., Settings],
) -> None:
    """Two `stride worker`s with one name would both own every claim and both post: the
    second waits while the first's heartbeat renews its name, then stops with one line."""
    async with league(open_db, clock, cipher, make_settings) as world:
        first = await world.start("bot", [0, 1])
        await world.seed(first.db)
        started = clock.now()
        with pytest.raises(NameInUse) as refused:
            await world.start("bot", [0, 1])
        assert str(refused.value) == (
            f"another Stride process named {first.services.settings.process_name} is running "
            "on this database; give each process its own INSTANCE_NAME"
        )
        assert clock.now() - started <= NAME_LEASE  # it waited at most one lease
        assert world.processes == [first]  # the second never built its services
        for day in RUN_DAYS:
            await run_day(world, [first], day)
        assert_every_post_once(world)


async def test_a_crashed_predecessor_s_name_is_taken_once_its_lease_ends(
    open_db: OpenDatabase,
    clock: FakeClock,
    cipher: TokenCipher,
    make_settings: Callable[..., Settings],
) -> None:
    async with league(open_db, clock, cipher, make_settings) as world:
        crashed = await world.start("bot", [0, 1])
        await world.seed(crashed.db)
        crashed.dead = True  # no heartbeat, no clean stop
        started = clock.now()
        restarted = await world.start("bot", [0, 1])
        assert NAME_LEASE <= clock.now() - started <= NAME_LEASE + dt.timedelta(seconds=20)
        assert restarted.instance.held
        for day in RUN_DAYS:
            await run_day(world, [restarted], day)
        assert_every_post_once(world)


async def test_a_clean_stop_gives_the_name_back_at_once(
    open_db: OpenDatabase,
    clock: FakeClock,
    cipher: TokenCipher,
    make_settings: Callable[..., Settings],
) -> None:
    async with league(open_db, clock, cipher, make_settings) as world:
        stopped = await world.start("bot", [0])
        await stopped.instance.release()
        stopped.dead = True
        started = clock.now()
        again = await world.start("bot", [0])
        assert clock.now() == started and again.instance.held


async def test_a_process_that_lost_its_name_takes_no_more_work(
    open_db: OpenDatabase,
    clock: FakeClock,
    cipher: TokenCipher,
    make_settings: Callable[..., Settings],
) -> None:
    """A process that stalled past its name's lease, while another with its name started:
    it posts and fetches nothing more, and tells its app to stop."""
    async with league(open_db, clock, cipher, make_settings) as world:
        stalled = await world.start("bot", [0, 1])
        await world.seed(stalled.db)
        stalled.dead = True  # stalled: its heartbeat does not run
        taker = await world.start("bot", [0, 1])
        stalled.dead = False  # it wakes up
        for day in RUN_DAYS:
            await run_day(world, [stalled, taker], day)
        assert stalled.instance.lost.is_set()
        assert all(not r.posts and not r.accounts_fetched for r in stalled.reports)
        assert_every_post_once(world)
