"""The daily run's test world: a real database, a scripted provider, a recording Discord.

`World.provider` (`tests.doubles.provider.FakeProvider`) serves scripted values, the real
`TokenManager` hands out the tokens it granted, a `FakeClock` moves through the days and
`World.messenger` (`tests.doubles.messenger.RecordingTransport`) stands in for the Discord
client: it is attached to the one `Messenger` the services send through (`World.hub`),
unless the world starts with no client connected.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.challenges.model import Challenge, ChallengeStatus
from bot.challenges.service import ChallengeService
from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.daily import DailyRunner, StandingsReader
from bot.domain import Metric, ScoringMode, TeamMode
from bot.events import EventBus
from bot.linking import TokenManager
from bot.notify import Messenger
from bot.scheduling import JobScheduler
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, UsersRepo
from bot.storage.challenges import ChallengesRepo, ParticipantsRepo
from bot.storage.runs import RunsRepo
from tests.doubles.messenger import RecordingTransport, connected
from tests.doubles.provider import FakeProvider

UTC = dt.UTC
JUNE_1 = dt.date(2026, 6, 1)  # a Monday
CHANNEL = 555
TOKENS_EXPIRE = dt.datetime(2030, 1, 1, tzinfo=UTC)  # long after every test's last day


def day(n: int, first: dt.date = JUNE_1) -> dt.date:
    """The n-th day of a challenge starting on `first` (1-based)."""
    return first + dt.timedelta(days=n - 1)


def local(when: dt.date, hour: int, minute: int = 0, tz: str = "UTC") -> dt.datetime:
    return dt.datetime.combine(when, dt.time(hour, minute), tzinfo=ZoneInfo(tz))


class World:
    def __init__(
        self,
        db: Database,
        cipher: TokenCipher,
        *,
        concurrency: int = 8,
        client_connected: bool = True,
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.clock = FakeClock(local(JUNE_1, 0))
        self.provider = FakeProvider(self.clock)
        self.messenger = RecordingTransport(self.clock)
        # The one Messenger the services send through: the recorder is attached to it as a
        # connected Discord client would be, or nothing is (no client has connected yet).
        self.hub = connected(self.messenger) if client_connected else Messenger()
        self.events = EventBus()
        self.challenges = ChallengeService(db, self.clock, self.events, AccountsRepo(db, cipher))
        self.repo = ChallengesRepo(db)
        self.players = ParticipantsRepo(db)
        self.scheduler = JobScheduler()
        self.finalised: list[tuple[int, dt.date]] = []
        self.events.on("day_finalised", self._on_finalised)
        providers = {"fake": self.provider}
        self.tokens = TokenManager(
            db=db,
            cipher=cipher,
            providers=providers,
            clock=self.clock,
            messenger=self.hub,
        )
        self.standings = StandingsReader(db=db, clock=self.clock, challenges=self.challenges)
        self.runner = DailyRunner(
            db=db,
            clock=self.clock,
            challenges=self.challenges,
            standings=self.standings,
            call_with_token=self.tokens.call_with_token,
            providers=providers,
            events=self.events,
            messenger=self.hub,
            concurrency=concurrency,
            scheduler=self.scheduler,
        )
        self.runs = RunsRepo(db)

    async def _on_finalised(self, challenge_id: int, day: dt.date) -> None:
        self.finalised.append((challenge_id, day))

    async def add_challenge(
        self,
        *,
        name: str = "June Steps",
        start: dt.date = JUNE_1,
        days: int = 7,
        tz: str = "UTC",
        post_time: dt.time = dt.time(9),
        mode: ScoringMode = ScoringMode.TOTAL,
        metric: Metric = Metric.STEPS,
        goal: float | None = None,
        allow_manual: bool = False,
        grace_hours: int = 24,
        backfill: bool = False,
    ) -> Challenge:
        challenge = Challenge(
            id=0,
            guild_id=1,
            channel_id=CHANNEL,
            name=name,
            metric=metric,
            mode=mode,
            start=start,
            end=start + dt.timedelta(days=days - 1),
            time_zone=tz,
            post_time=post_time,
            daily_goal=goal,
            daily_cap=None,
            allow_manual=allow_manual,
            grace_hours=grace_hours,
            team_mode=TeamMode.SUM,
            points_table=None,
            tiers=None,
            max_players=None,
            late_join_backfill=backfill,
            preset=None,
            status=ChallengeStatus.ACTIVE,
            ended_at=None,
            created_by=1,
            created_at=self.clock.now(),
        )
        new_id = await self.repo.insert(challenge)
        stored = await self.challenges.get(new_id)
        assert stored is not None
        return stored

    async def add_player(
        self,
        challenge: Challenge,
        discord_id: int,
        name: str | None = None,
        *,
        tz: str = "UTC",
        linked: bool = True,
        joined: bool = True,
    ) -> str:
        """A player in `challenge` (unless not `joined`), linked to the fake provider; returns
        their provider id."""
        users = UsersRepo(self.db)
        await users.ensure(discord_id, self.clock.now(), name)
        await users.set_time_zone(discord_id, tz)
        if joined:
            await self.players.add(challenge.id, discord_id, challenge.start, self.clock.now())
        user = f"user{discord_id}"
        if linked and await AccountsRepo(self.db, self.cipher).get(discord_id, "fake") is None:
            await AccountsRepo(self.db, self.cipher).save_link(
                discord_id,
                "fake",
                user,
                self.provider.grant(user, expires_at=TOKENS_EXPIRE),
                self.clock.now(),
            )
        return user

    async def run_at(self, instant: dt.datetime) -> None:
        self.clock.set(instant)
        await self.runner.run_due()

    async def scores(
        self, challenge_id: int
    ) -> dict[tuple[int, dt.date], tuple[float | None, bool]]:
        rows = await self.db.fetch_all(
            "SELECT discord_id, day, value, final FROM daily_scores WHERE challenge_id = ?",
            (challenge_id,),
        )
        return {
            (row["discord_id"], dt.date.fromisoformat(row["day"])): (
                row["value"],
                bool(row["final"]),
            )
            for row in rows
        }

    async def snapshot(self) -> dict[str, list[tuple[object, ...]]]:
        tables = ("daily_scores", "streaks", "scheduled_runs", "posted_ranks", "daily_values")
        return {
            table: [tuple(row) for row in await self.db.fetch_all(f"SELECT * FROM {table}")]
            for table in tables
        }
