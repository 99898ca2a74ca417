"""Several Stride processes over one database, for the multi-process acceptance tests.

A `Process` is what `stride run` builds (`build_services`) with its own settings (its shards)
and its own `Database` connection to the shared database. All of them post through one
recording Discord (`tests.doubles.messenger.RecordingTransport`, its channels and history
shared as Discord's are) and fetch from one scripted provider, and one fake clock stands for
the wall clock they share. `League` seeds 8 guilds (4 on each of 2 shards), 40 members, 10 of
them in a guild on each shard, and one week-long challenge per guild.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp

from bot.challenges.model import Challenge, ChallengeStatus
from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.daily import RunReport
from bot.domain import Metric, ScoringMode, TeamMode
from bot.instance import InstanceName
from bot.services import Services, build_services
from bot.settings import Settings
from bot.shards import guild_shard
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, UsersRepo
from bot.storage.challenges import ChallengesRepo, ParticipantsRepo
from tests.doubles.messenger import Kill, Killed, RecordingTransport
from tests.doubles.provider import FakeProvider

START = dt.date(2026, 6, 1)  # a Monday
WEEK = tuple(START + dt.timedelta(days=n) for n in range(7))
SHARD_COUNT = 2
GUILDS = tuple((k << 22) | 7 for k in range(1, 9))  # k = 1..8: shards 1, 0, 1, 0, …
MEMBERS = tuple(range(1001, 1041))  # 40
SHARED = MEMBERS[:10]  # also in a guild on the other shard
TOKENS_EXPIRE = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)

OpenDatabase = Callable[[], Awaitable[Database]]


def post_instant(day: dt.date) -> dt.datetime:
    """Five past the post time (09:00 UTC) on `day`."""
    return dt.datetime.combine(day, dt.time(9, 5), tzinfo=dt.UTC)


def steps(member: int, day: dt.date) -> int:
    return 3_000 + (member * 37 + day.toordinal() * 11) % 9_000


def channel_of(guild_id: int) -> int:
    return guild_id + 1


class Dying:
    """A process's Discord client that dies at its next post (before or after Discord stored
    it): `Killed` goes up through everything, so nothing after it runs."""

    def __init__(self, discord: RecordingTransport) -> None:
        self._discord = discord
        self.kill: Kill | None = None

    async def post(self, channel_id: int, **kwargs: Any) -> int:
        kill, self.kill = self.kill, None
        if kill is Kill.BEFORE_SEND:
            raise Killed
        message_id = await self._discord.post(channel_id, **kwargs)
        if kill is Kill.AFTER_SEND:
            raise Killed
        return message_id

    async def send_dm(self, user_id: int, **kwargs: Any) -> bool:
        return await self._discord.send_dm(user_id, **kwargs)

    async def find_post(
        self, channel_id: int, *, attachment_name: str, after: dt.datetime
    ) -> int | None:
        return await self._discord.find_post(
            channel_id, attachment_name=attachment_name, after=after
        )


@dataclass
class Process:
    name: str
    db: Database
    services: Services
    client: Dying
    reports: list[RunReport] = field(default_factory=list)
    dead: bool = False

    @property
    def instance(self) -> InstanceName:
        assert self.services.instance is not None
        return self.services.instance

    async def run(self) -> RunReport:
        report = await self.services.daily_run.run_due()
        self.reports.append(report)
        return report


@dataclass
class League:
    """The shared world: one database, one Discord, one provider, one clock."""

    open_db: OpenDatabase
    clock: FakeClock
    cipher: TokenCipher
    settings: Callable[..., Settings]
    http: aiohttp.ClientSession
    provider: FakeProvider = field(init=False)
    discord: RecordingTransport = field(init=False)
    processes: list[Process] = field(default_factory=list)
    challenges: dict[int, Challenge] = field(default_factory=dict)  # by guild

    def __post_init__(self) -> None:
        self.provider = FakeProvider(self.clock)
        self.discord = RecordingTransport(self.clock)

    async def start(self, name: str, shard_ids: Sequence[int]) -> Process:
        """A process as `stride run` starts one: it holds its name first (`bot.instance`),
        waiting on the fake clock while the live processes' heartbeats go on."""
        db = await self.open_db()
        settings = self.settings(
            shard_count=SHARD_COUNT, shard_ids=list(shard_ids), instance_name=name
        )
        instance = InstanceName(db, settings.process_name, self.clock, sleep=self.wait)
        try:
            await db.migrate()
            await instance.take()
        except BaseException:  # refused (its name is in use): it never starts, nor leaks
            await db.close()
            raise
        services = build_services(
            settings,
            db,
            self.http,
            self.clock,
            providers={"fake": self.provider},
            cipher=self.cipher,
            instance=instance,
        )
        client = Dying(self.discord)
        services.messenger.attach(client)
        process = Process(name, db, services, client)
        self.processes.append(process)
        return process

    async def seed(self, db: Database) -> None:
        """8 guilds with a week-long challenge each; 40 linked members, 10 in two guilds."""
        users, players = UsersRepo(db), ParticipantsRepo(db)
        accounts = AccountsRepo(db, self.cipher)
        for guild in GUILDS:
            challenge = challenge_in(guild, self.clock.now())
            new_id = await ChallengesRepo(db).insert(challenge)
            self.challenges[guild] = replace(challenge, id=new_id)
        for index, member in enumerate(MEMBERS):
            await users.ensure(member, self.clock.now(), f"Member {member}")
            user = f"user{member}"
            await accounts.save_link(
                member,
                "fake",
                user,
                self.provider.grant(user, expires_at=TOKENS_EXPIRE),
                self.clock.now(),
            )
            for day in WEEK:
                self.provider.set(user, day, steps(member, day))
            for guild in guilds_of(index, member):
                await players.add(self.challenges[guild].id, member, START, self.clock.now())

    async def wait(self, seconds: float) -> None:
        """Time passes on the shared clock, and every live process's heartbeat renews its name."""
        self.clock.advance(dt.timedelta(seconds=seconds))
        for process in self.processes:
            if not process.dead:
                await process.instance.renew()

    async def run_together(self, processes: Sequence[Process]) -> list[RunReport | BaseException]:
        return list(await asyncio.gather(*(p.run() for p in processes), return_exceptions=True))

    def posts_by_channel(self) -> dict[int, Counter[str]]:
        """Each channel's posts, counted by what they cover (their chart's name)."""
        counts: dict[int, Counter[str]] = {}
        for post in self.discord.posts:
            names = [attachment.filename for attachment in post.files]
            counts.setdefault(post.channel_id, Counter()).update(names)
        return counts

    async def close(self) -> None:
        for process in self.processes:
            with contextlib.suppress(Exception):
                await process.instance.release()
            with contextlib.suppress(Exception):
                await process.db.close()


def guilds_of(index: int, member: int) -> list[int]:
    """A member's guilds: one by their index; the shared ones also the next guild, which is
    on the other shard."""
    home = GUILDS[index % len(GUILDS)]
    if member not in SHARED:
        return [home]
    other = GUILDS[(index + 1) % len(GUILDS)]
    assert guild_shard(home, SHARD_COUNT) != guild_shard(other, SHARD_COUNT)
    return [home, other]


def challenge_in(guild: int, now: dt.datetime) -> Challenge:
    return Challenge(
        id=0,
        guild_id=guild,
        channel_id=channel_of(guild),
        name=f"Week of {guild}",
        metric=Metric.STEPS,
        mode=ScoringMode.TOTAL,
        start=START,
        end=WEEK[-1],
        time_zone="UTC",
        post_time=dt.time(9),
        daily_goal=None,
        daily_cap=None,
        allow_manual=False,
        grace_hours=24,
        team_mode=TeamMode.SUM,
        points_table=None,
        tiers=None,
        max_players=None,
        late_join_backfill=False,
        preset=None,
        status=ChallengeStatus.ACTIVE,
        ended_at=None,
        created_by=1,
        created_at=now,
    )


def expected_keys(challenge_id: int) -> Counter[str]:
    """Each daily post and the results, once each."""
    keys = Counter(f"stride-{challenge_id}-{day.isoformat()}.png" for day in WEEK)
    keys[f"stride-{challenge_id}-results.png"] += 1
    return keys


@contextlib.asynccontextmanager
async def league(
    open_db: OpenDatabase, clock: FakeClock, cipher: TokenCipher, settings: Callable[..., Settings]
) -> AsyncIterator[League]:
    async with aiohttp.ClientSession() as http:
        world = League(open_db, clock, cipher, settings, http)
        try:
            yield world
        finally:
            await world.close()
