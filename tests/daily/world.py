"""The daily run's test world: a real database, a scripted provider, a recording Discord.

`FakeProvider` serves scripted values (faithful to `Provider.fetch_daily`), the real
`TokenManager` hands out tokens, a `FakeClock` moves through the days and `RecordingMessenger`
stands in for the Discord client: it is attached to the one `Messenger` the services send
through (`World.hub`), unless the world starts with no client connected. Like Discord, it
returns the first message for a repeated nonce (for a few minutes) and finds the bot's posts
in the channel's history; it can also die in the middle of a post (`Killed`), as a process
killed there would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from enum import Enum
from zoneinfo import ZoneInfo

from bot.challenges.model import Challenge, ChallengeStatus
from bot.challenges.service import ChallengeService
from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.daily import DailyRunner, StandingsReader
from bot.domain import DailyValue, Metric, ScoringMode, TeamMode
from bot.events import EventBus
from bot.linking import TokenManager
from bot.notify import Attachment, ChannelUnavailable, LinkButton, Messenger
from bot.providers.base import (
    GrantRevoked,
    ProviderInfo,
    ProviderResponseError,
    ProviderUnavailable,
    TokenSet,
)
from bot.render.leaderboard import (
    EmbedContent,
)
from bot.scheduling import JobScheduler
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, UsersRepo
from bot.storage.challenges import ChallengesRepo, ParticipantsRepo
from bot.storage.runs import RunsRepo
from tests.doubles.messenger import connected

UTC = dt.UTC
JUNE_1 = dt.date(2026, 6, 1)  # a Monday
CHANNEL = 555
NONCE_WINDOW = dt.timedelta(minutes=5)  # Discord: "checked for uniqueness in the past few minutes"


def day(n: int, first: dt.date = JUNE_1) -> dt.date:
    """The n-th day of a challenge starting on `first` (1-based)."""
    return first + dt.timedelta(days=n - 1)


def local(when: dt.date, hour: int, minute: int = 0, tz: str = "UTC") -> dt.datetime:
    return dt.datetime.combine(when, dt.time(hour, minute), tzinfo=ZoneInfo(tz))


@dataclass(frozen=True)
class Call:
    user: str
    metrics: tuple[Metric, ...]
    start: dt.date
    end: dt.date
    include_manual: bool
    user_tz: ZoneInfo


class FakeProvider:
    """Scripted daily values per provider user id; device totals and manual extras apart.

    As the protocol says: with `include_manual=False` it answers device totals flagged
    `includes_manual=False`, with True the totals including manual entries, flagged True."""

    def __init__(self, name: str = "fake") -> None:
        self.info = ProviderInfo(
            name=name,
            display_name="Fake Watch",
            metrics=frozenset(Metric),
            supports_pkce=False,
            supports_revoke=False,
        )
        self.device: dict[str, dict[tuple[Metric, dt.date], float]] = defaultdict(dict)
        self.manual: dict[str, dict[tuple[Metric, dt.date], float]] = defaultdict(dict)
        self.calls: list[Call] = []
        self.revoked: set[str] = set()
        self.unavailable: set[str] = set()
        self.garbage: set[str] = set()
        # Answered as they are, asked for or not: what a misbehaving API might send.
        self.unasked: dict[str, list[DailyValue]] = defaultdict(list)
        self.in_flight = 0
        self.max_in_flight = 0
        self.max_tasks = 0
        # When set, calls wait until this many are in flight at once (proves they overlap).
        self.hold_until: int | None = None
        self._gate = asyncio.Event()

    def set(self, user: str, when: dt.date, value: float, *, metric: Metric = Metric.STEPS) -> None:
        self.device[user][(metric, when)] = value

    def set_manual(
        self, user: str, when: dt.date, extra: float, *, metric: Metric = Metric.STEPS
    ) -> None:
        self.manual[user][(metric, when)] = extra

    def calls_for(self, user: str) -> list[Call]:
        return [call for call in self.calls if call.user == user]

    async def fetch_daily(
        self,
        access_token: str,
        metrics: Collection[Metric],
        start: dt.date,
        end: dt.date,
        *,
        include_manual: bool,
        user_tz: ZoneInfo,
    ) -> list[DailyValue]:
        user = access_token.removeprefix("tok-")
        self.calls.append(Call(user, tuple(metrics), start, end, include_manual, user_tz))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.max_tasks = max(self.max_tasks, len(asyncio.all_tasks()))
        try:
            if self.hold_until is not None:
                if self.in_flight >= self.hold_until:
                    self._gate.set()
                async with asyncio.timeout(10):  # a guard against a hang, never reached
                    await self._gate.wait()
            for _ in range(3):  # let other workers run, as a network wait would
                await asyncio.sleep(0)
        finally:
            self.in_flight -= 1
        if user in self.revoked:
            raise GrantRevoked("fake: invalid_grant")
        if user in self.unavailable:
            raise ProviderUnavailable("fake: HTTP 503")
        if user in self.garbage:
            raise ProviderResponseError("fake: answered something odd")
        values = []
        for (metric, when), value in self.device[user].items():
            if metric in metrics and start <= when <= end:
                extra = self.manual[user].get((metric, when), 0.0) if include_manual else 0.0
                values.append(DailyValue(metric, when, value + extra, include_manual))
        return values + self.unasked[user]

    def authorization_url(
        self, *, state: str, redirect_uri: str, code_challenge: str | None
    ) -> str:
        return "http://127.0.0.1/authorize"

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> TokenSet:
        raise NotImplementedError

    async def refresh(self, refresh_token: str) -> TokenSet:
        raise GrantRevoked("fake: no refresh in these tests")

    async def revoke(self, tokens: TokenSet) -> None:
        return None

    async def fetch_user_id(self, tokens: TokenSet) -> str:
        return tokens.access_token.removeprefix("tok-")


@dataclass
class Post:
    channel_id: int
    embed: EmbedContent
    files: tuple[Attachment, ...]
    message_id: int
    nonce: str | None = None
    at: dt.datetime | None = None  # when Discord created it


class Killed(BaseException):
    """The process died here: nothing after this point runs, no handler sees it."""


class Kill(Enum):
    """Where the process dies in the middle of a post."""

    BEFORE_SEND = "before_send"  # the request never reached Discord
    AFTER_SEND = "after_send"  # Discord created the message; the answer never came back


@dataclass
class RecordingMessenger:
    clock: FakeClock
    posts: list[Post] = field(default_factory=list)
    dms: list[tuple[int, EmbedContent | None]] = field(default_factory=list)
    fail_with: Exception | None = None
    # The next post creates its message, then fails with this (a timeout, a 5xx).
    fail_after_sending: Exception | None = None
    kill: Kill | None = None  # the next post dies there (once)
    history_readable: bool = True  # False: no Read Message History in the channel
    attempts: list[str | None] = field(default_factory=list)  # the nonce of every send

    async def post(
        self,
        channel_id: int,
        *,
        content: str | None = None,
        embed: EmbedContent | None = None,
        files: Sequence[Attachment] = (),
        nonce: str | None = None,
    ) -> int:
        self.attempts.append(nonce)
        if self.fail_with is not None:
            raise self.fail_with
        if self.kill is Kill.BEFORE_SEND:
            self.kill = None
            raise Killed
        assert embed is not None
        earlier = self._with_nonce(nonce)
        message_id = (
            earlier.message_id
            if earlier is not None
            else self._create(channel_id, embed, files, nonce)
        )
        if self.kill is Kill.AFTER_SEND:
            self.kill = None
            raise Killed
        if self.fail_after_sending is not None:
            error, self.fail_after_sending = self.fail_after_sending, None
            raise error
        return message_id

    def _with_nonce(self, nonce: str | None) -> Post | None:
        since = self.clock.now() - NONCE_WINDOW
        return next(
            (p for p in self.posts if nonce and p.nonce == nonce and p.at and p.at >= since),
            None,
        )

    def _create(
        self, channel_id: int, embed: EmbedContent, files: Sequence[Attachment], nonce: str | None
    ) -> int:
        message_id = 9000 + len(self.posts)
        post = Post(channel_id, embed, tuple(files), message_id, nonce, self.clock.now())
        self.posts.append(post)
        return message_id

    async def find_post(
        self, channel_id: int, *, attachment_name: str, after: dt.datetime
    ) -> int | None:
        if not self.history_readable:
            raise ChannelUnavailable(f"I need Read Message History in <#{channel_id}>")
        for post in self.posts:
            names = [attachment.filename for attachment in post.files]
            sent_after = post.at is not None and post.at > after
            if post.channel_id == channel_id and attachment_name in names and sent_after:
                return post.message_id
        return None

    async def send_dm(
        self,
        user_id: int,
        *,
        content: str | None = None,
        embed: EmbedContent | None = None,
        buttons: Sequence[LinkButton] = (),
        files: Sequence[Attachment] = (),
    ) -> bool:
        self.dms.append((user_id, embed))
        return True


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
        self.provider = FakeProvider()
        self.messenger = RecordingMessenger(self.clock)
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
                TokenSet(
                    access_token=f"tok-{user}",
                    refresh_token="refresh",
                    expires_at=dt.datetime(2030, 1, 1, tzinfo=UTC),
                ),
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
