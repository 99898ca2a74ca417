"""The daily run end to end on a real database: fetch, score, finalise, post, catch up.

A fake provider serves scripted values (faithful to `Provider.fetch_daily`), the real
`TokenManager` hands out tokens, a `FakeClock` moves through the days and a recording
messenger stands in for Discord.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.challenges.model import Challenge, ChallengeStatus
from bot.challenges.service import ChallengeService
from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.daily import DailyRunner
from bot.daily.runner import SWEEP_JOB_ID
from bot.domain import AccountStatus, DailyValue, Metric, ScoringMode, TeamMode
from bot.events import EventBus
from bot.linking import TokenManager
from bot.notify import Attachment, ChannelUnavailable, LinkButton
from bot.providers.base import (
    GrantRevoked,
    ProviderInfo,
    ProviderResponseError,
    ProviderUnavailable,
    TokenSet,
)
from bot.render.leaderboard import (
    DESCRIPTION_LIMIT,
    FIELD_COUNT_LIMIT,
    FIELD_NAME_LIMIT,
    FIELD_VALUE_LIMIT,
    FOOTER_LIMIT,
    TITLE_LIMIT,
    TOTAL_LIMIT,
    EmbedContent,
    discord_length,
)
from bot.scheduling import JobScheduler
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, UsersRepo
from bot.storage.challenges import ChallengesRepo, ParticipantsRepo
from bot.storage.privacy import PrivacyRepo
from bot.storage.runs import RunKind, RunsRepo, RunStatus
from bot.storage.values import ScoreRow, ValuesRepo
from tests.doubles.messenger import connected

UTC = dt.UTC
JUNE_1 = dt.date(2026, 6, 1)  # a Monday
CHANNEL = 555


def day(n: int, first: dt.date = JUNE_1) -> dt.date:
    """The n-th day of a challenge starting on `first` (1-based)."""
    return first + dt.timedelta(days=n - 1)


def local(when: dt.date, hour: int, minute: int = 0, tz: str = "UTC") -> dt.datetime:
    return dt.datetime.combine(when, dt.time(hour, minute), tzinfo=ZoneInfo(tz))


# --------------------------------------------------------------------------- fakes


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


@dataclass
class RecordingMessenger:
    posts: list[Post] = field(default_factory=list)
    dms: list[tuple[int, EmbedContent | None]] = field(default_factory=list)
    fail_with: Exception | None = None

    async def post(
        self,
        channel_id: int,
        *,
        content: str | None = None,
        embed: EmbedContent | None = None,
        files: Sequence[Attachment] = (),
    ) -> int:
        if self.fail_with is not None:
            raise self.fail_with
        assert embed is not None
        message_id = 9000 + len(self.posts)
        self.posts.append(Post(channel_id, embed, tuple(files), message_id))
        return message_id

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
    def __init__(self, db: Database, cipher: TokenCipher, *, concurrency: int = 8) -> None:
        self.db = db
        self.cipher = cipher
        self.clock = FakeClock(local(JUNE_1, 0))
        self.provider = FakeProvider()
        self.messenger = RecordingMessenger()
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
            messenger=connected(self.messenger),
        )
        self.runner = DailyRunner(
            db=db,
            clock=self.clock,
            challenges=self.challenges,
            call_with_token=self.tokens.call_with_token,
            providers=providers,
            events=self.events,
            messenger=connected(self.messenger),
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


@pytest.fixture
def world(db: Database, cipher: TokenCipher) -> World:
    return World(db, cipher)


def check_limits(embed: EmbedContent) -> None:
    """Every Discord embed limit, field by field."""
    assert discord_length(embed.title) <= TITLE_LIMIT
    assert discord_length(embed.description) <= DESCRIPTION_LIMIT
    assert len(embed.fields) <= FIELD_COUNT_LIMIT
    for name, value, _inline in embed.fields:
        assert 0 < discord_length(name) <= FIELD_NAME_LIMIT
        assert 0 < discord_length(value) <= FIELD_VALUE_LIMIT
    assert discord_length(embed.footer) <= FOOTER_LIMIT
    assert embed.text_length() <= TOTAL_LIMIT


# --------------------------------------------------------------------------- the daily post


async def test_daily_post_shows_yesterday_with_a_chart(world: World) -> None:
    challenge = await world.add_challenge(goal=10_000)
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    await world.add_player(challenge, 345678901234561234, None)  # no display name, no data
    world.provider.set(alice, day(1), 12_000)
    world.provider.set(bob, day(1), 8_000)

    await world.run_at(local(day(2), 8, 59))
    assert world.messenger.posts == []  # not yet its post time

    await world.run_at(local(day(2), 9, 0))
    [post] = world.messenger.posts
    assert post.channel_id == CHANNEL
    text = post.embed.description
    assert "Alice" in text and "12,000 steps ✓" in text
    assert "Bob" in text and "8,000 steps" in text
    assert "Player …1234 · no data yet" in text
    assert text.index("Alice") < text.index("Bob")
    assert "⏳" in post.embed.title  # yesterday is still provisional
    [chart] = post.files
    assert chart.filename.endswith(".png") and chart.data.startswith(b"\x89PNG")
    check_limits(post.embed)


async def test_running_the_same_day_twice_changes_and_posts_nothing(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    await world.run_at(local(day(2), 9, 0))
    before = await world.snapshot()
    calls = len(world.provider.calls)

    world.provider.set(alice, day(1), 7_000)  # even with new data, the day is done
    await world.run_at(local(day(2), 9, 0))
    await world.run_at(local(day(2), 17, 30))

    assert len(world.messenger.posts) == 1
    assert len(world.provider.calls) == calls
    assert await world.snapshot() == before


async def test_rank_changes_come_from_the_last_post(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    world.provider.set(alice, day(1), 9_000)
    world.provider.set(bob, day(1), 5_000)
    await world.run_at(local(day(2), 9))
    world.provider.set(alice, day(2), 1_000)
    world.provider.set(bob, day(2), 9_000)
    await world.run_at(local(day(3), 9))

    first, second = world.messenger.posts
    assert "▲" not in first.embed.description  # nothing to compare with yet
    rows = second.embed.description.splitlines()
    bob_row = next(row for row in rows if "Bob" in row)
    alice_row = next(row for row in rows if "Alice" in row)
    assert bob_row.startswith("`1.`") and "▲1" in bob_row
    assert alice_row.startswith("`2.`") and "▼1" in alice_row


# --------------------------------------------------------------------------- catch-up


async def test_three_day_outage_scores_each_day_once_in_order_and_posts_once(
    world: World,
) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    for n in range(1, 6):
        world.provider.set(alice, day(n), 1_000 * n)
    await world.run_at(local(day(2), 9))  # posts day 1
    # Down from before day 3's post until after day 5's: days 2, 3 and 4 were missed.
    await world.run_at(local(day(5), 10, 30))

    assert len(world.messenger.posts) == 2
    catch_up = world.messenger.posts[1].embed
    assert "Catching up on 3 days" in catch_up.description
    assert [name for name, _, _ in catch_up.fields] == ["Tue 2 Jun", "Wed 3 Jun", "Thu 4 Jun ⏳"]
    records = await world.runs.day_records(challenge.id)
    assert sorted(records) == [day(1), day(2), day(3), day(4)]
    assert [records[day(n)].kind for n in (2, 3, 4)] == [RunKind.CATCH_UP] * 3
    assert all(r.status is RunStatus.POSTED for r in records.values())
    assert records[day(4)].message_id == records[day(2)].message_id
    # One fetch for the missed days, not one per day.
    assert len(world.provider.calls_for(alice)) == 2
    # Days whose grace period passed were finalised once each, in order.
    assert world.finalised == [(challenge.id, day(n)) for n in (1, 2, 3)]
    scores = await world.scores(challenge.id)
    assert scores[(1, day(3))] == (3_000, True)
    assert scores[(1, day(4))] == (4_000, False)

    await world.run_at(local(day(5), 11))
    assert len(world.messenger.posts) == 2


async def test_start_up_schedules_every_challenge_and_catches_up(world: World) -> None:
    first = await world.add_challenge(name="One")
    second = await world.add_challenge(name="Two", tz="Pacific/Auckland", post_time=dt.time(7, 30))
    await world.add_player(first, 1, "Alice")
    world.clock.set(local(day(3), 12))

    await world.runner.start()

    assert world.scheduler.job_ids() == sorted(
        [DailyRunner.job_id(first.id), DailyRunner.job_id(second.id), SWEEP_JOB_ID]
    )
    # One catch-up post per challenge, each for the two days missed in its own time zone.
    assert sorted(post.embed.title.split(" — ")[0] for post in world.messenger.posts) == [
        "One",
        "Two",
    ]
    for post in world.messenger.posts:
        assert post.channel_id == CHANNEL
        assert "Catching up on 2 days" in post.embed.description
    assert sorted(await world.runs.day_records(first.id)) == [day(1), day(2)]
    assert sorted(await world.runs.day_records(second.id)) == [day(1), day(2)]


async def test_a_post_time_that_does_not_exist_on_a_dst_day_still_gets_its_post(
    world: World,
) -> None:
    # Chile springs forward at 00:00 on 2026-09-06: that day has no 00:00, so the challenge's
    # own cron job does not fire then; the hourly sweep posts as soon as the day is due.
    santiago = "America/Santiago"
    challenge = await world.add_challenge(
        start=dt.date(2026, 9, 3), days=7, tz=santiago, post_time=dt.time(0, 0)
    )
    alice = await world.add_player(challenge, 1, "Alice", tz=santiago)
    for n in range(3, 6):
        world.provider.set(alice, dt.date(2026, 9, n), 5_000 + n)
    world.clock.set(local(dt.date(2026, 9, 5), 0, 30, tz=santiago))
    await world.runner.start()  # posts Sep 3 and Sep 4, and schedules the jobs
    posted = len(world.messenger.posts)

    since = world.clock.now()
    until = local(dt.date(2026, 9, 6), 2, 0, tz=santiago)
    world.clock.set(until)
    fired = await world.scheduler.fire_due(since, until)

    assert DailyRunner.job_id(challenge.id) not in fired  # APScheduler skipped the day
    assert SWEEP_JOB_ID in fired
    assert len(world.messenger.posts) == posted + 1
    assert "Sat 5 Sep" in world.messenger.posts[-1].embed.description


# --------------------------------------------------------------------------- provisional / final


async def test_late_sync_changes_a_provisional_day_but_never_a_final_one(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    await world.run_at(local(day(2), 9))
    assert (await world.scores(challenge.id))[(1, day(1))] == (5_000, False)

    # The watch syncs the rest of day 1 late, still within the grace period.
    world.provider.set(alice, day(1), 8_000)
    await world.run_at(local(day(3), 9))  # day 1's grace ended at midnight: now final
    assert (await world.scores(challenge.id))[(1, day(1))] == (8_000, True)
    assert world.finalised == [(challenge.id, day(1))]

    # Too late: day 1 is final and stays as it was.
    world.provider.set(alice, day(1), 20_000)
    world.provider.set(alice, day(3), 1_000)
    await world.run_at(local(day(4), 9))
    scores = await world.scores(challenge.id)
    assert scores[(1, day(1))] == (8_000, True)
    assert scores[(1, day(3))] == (1_000, False)
    latest = world.provider.calls_for(alice)[-1]
    assert latest.start == day(2)  # final days are not even fetched again
    assert "9,000 steps" in world.messenger.posts[-1].embed.description  # 8,000 + 1,000


async def test_grace_hours_decide_when_a_day_is_final(world: World) -> None:
    challenge = await world.add_challenge(grace_hours=48)
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    await world.run_at(local(day(3), 9))
    assert (await world.scores(challenge.id))[(1, day(1))] == (5_000, False)
    world.provider.set(alice, day(1), 6_000)
    await world.run_at(local(day(4), 9))
    assert (await world.scores(challenge.id))[(1, day(1))] == (6_000, True)


# --------------------------------------------------------------------------- crashes


async def test_crash_between_fetch_and_score_leaves_no_partial_scores(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.daily.runner as runner_module

    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(runner_module, "compute_standings", crash)
    await world.run_at(local(day(2), 9))
    assert await world.scores(challenge.id) == {}
    assert await world.runs.day_records(challenge.id) == {}
    assert world.messenger.posts == []

    monkeypatch.undo()
    await world.run_at(local(day(2), 9, 5))
    assert (await world.scores(challenge.id))[(1, day(1))] == (5_000, False)
    assert len(world.messenger.posts) == 1


async def test_crash_inside_the_scoring_transaction_rolls_everything_back(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    world.provider.set(alice, day(2), 6_000)
    await world.run_at(local(day(2), 9))

    async def crash(challenge_id: int, day: dt.date) -> None:
        raise RuntimeError("the outbox handler failed")

    world.events.on("day_finalised", crash)  # day 1 becomes final in the next run
    before = await world.scores(challenge.id)
    await world.run_at(local(day(3), 9))
    assert await world.scores(challenge.id) == before
    assert sorted(await world.runs.day_records(challenge.id)) == [day(1)]
    assert len(world.messenger.posts) == 1

    world.events.off("day_finalised", crash)
    await world.run_at(local(day(3), 9, 1))
    assert (await world.scores(challenge.id))[(1, day(1))] == (5_000, True)
    assert len(world.messenger.posts) == 2


# --------------------------------------------------------------------------- failures


async def test_one_revoked_player_does_not_stop_the_others(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    carol = await world.add_player(challenge, 3, "Carol")
    dave = await world.add_player(challenge, 4, "Dave")
    for user in (alice, bob, carol, dave):
        world.provider.set(user, day(1), 6_000)
    world.provider.revoked.add(bob)
    world.provider.unavailable.add(carol)
    world.provider.garbage.add(dave)

    await world.run_at(local(day(2), 9))

    [post] = world.messenger.posts
    rows = post.embed.description.splitlines()
    assert any("Alice" in row and "6,000 steps" in row for row in rows)
    for name in ("Bob", "Carol", "Dave"):
        assert any(name in row and "no data yet" in row for row in rows)
    account = await AccountsRepo(world.db, world.cipher).get(2, "fake")
    assert account is not None and account.status is AccountStatus.NEEDS_RELINK
    assert [user for user, _ in world.messenger.dms] == [2]

    # Bob is not asked again until he re-links; Carol and Dave are retried.
    world.provider.unavailable.clear()
    await world.run_at(local(day(3), 9))
    assert len(world.provider.calls_for(bob)) == 1
    assert len(world.provider.calls_for(carol)) == 2
    assert [user for user, _ in world.messenger.dms] == [2]


async def rows_about(world: World, discord_id: int) -> dict[str, int]:
    counts = {}
    for table in ("daily_values", "daily_scores", "streaks", "posted_ranks"):
        counts[table] = await world.db.fetch_value(
            f"SELECT COUNT(*) FROM {table} WHERE discord_id = ?",
            (discord_id,),
        )
    return {table: count for table, count in counts.items() if count}


def leaving_during(
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    moment: str,
    user: str,
    leave: Callable[[], Awaitable[object]],
) -> None:
    """`leave()` runs at `moment` of the run: while the provider's answer for `user` is on its
    way back ("fetch"), while the standings are computed ("score"), or while the post is being
    sent ("post")."""
    if moment == "fetch":
        fetch = world.provider.fetch_daily

        async def fetch_then_leave(access_token: str, *args: Any, **kwargs: Any) -> Any:
            values = await fetch(access_token, *args, **kwargs)
            if access_token == f"tok-{user}":
                await leave()
            return values

        monkeypatch.setattr(world.provider, "fetch_daily", fetch_then_leave)
    elif moment == "score":
        excluded_days = world.challenges.excluded_days

        async def leave_then_excluded(challenge_id: int) -> Any:
            await leave()
            return await excluded_days(challenge_id)

        monkeypatch.setattr(world.challenges, "excluded_days", leave_then_excluded)
    else:
        post = world.messenger.post

        async def post_then_leave(channel_id: int, **kwargs: Any) -> int:
            message_id = await post(channel_id, **kwargs)
            await leave()
            return message_id

        monkeypatch.setattr(world.messenger, "post", post_then_leave)


@pytest.mark.parametrize("moment", ["fetch", "score", "post"])
async def test_a_player_deleting_their_data_during_the_run_does_not_stop_the_post(
    world: World, monkeypatch: pytest.MonkeyPatch, moment: str
) -> None:
    # /privacy delete while the run is going used to break it on the foreign keys (values,
    # scores or posted ranks written for a user already gone): no post for anyone that day,
    # or a post sent but not recorded, so sent again by the next run.
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    for user in (alice, bob):
        world.provider.set(user, day(1), 6_000)
        world.provider.set(user, day(2), 7_000)
    leaving_during(world, monkeypatch, moment, bob, lambda: PrivacyRepo(world.db).delete_user(2))

    await world.run_at(local(day(2), 9))

    [post] = world.messenger.posts
    assert "Alice · 6,000 steps" in post.embed.description
    if moment == "fetch":
        assert "Bob" not in post.embed.description  # gone before the standings were made
    assert await rows_about(world, 2) == {}
    records = await world.runs.day_records(challenge.id)
    assert records[day(1)].status is RunStatus.POSTED

    await world.run_at(local(day(3), 9))
    assert len(world.messenger.posts) == 2
    assert "Bob" not in world.messenger.posts[1].embed.description
    assert await rows_about(world, 2) == {}


async def test_a_player_leaving_during_the_run_gets_no_scores_back(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    world.provider.set(alice, day(1), 6_000)
    world.provider.set(bob, day(1), 9_000)
    leaving_during(world, monkeypatch, "fetch", bob, lambda: world.players.remove(challenge.id, 2))

    await world.run_at(local(day(2), 9))

    [post] = world.messenger.posts
    assert "Bob" not in post.embed.description
    assert await rows_about(world, 2) == {"daily_values": 1}  # his values are his and stay


async def test_odd_provider_values_are_dropped_not_stored(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.unasked[alice] = [
        DailyValue(Metric.STEPS, day(1), float("nan")),
        DailyValue(Metric.STEPS, day(1), float("inf")),
        DailyValue(Metric.FLOORS, day(1), 300),  # a metric not asked for
        DailyValue(Metric.STEPS, day(2), 4_000),  # a day not asked for
    ]
    await world.run_at(local(day(2), 9))
    [post] = world.messenger.posts
    assert "Alice · no data yet" in post.embed.description
    rows = await world.db.fetch_all("SELECT metric, day FROM daily_values")
    assert [tuple(row) for row in rows] == []


async def test_a_failed_post_is_recorded_and_retried_once(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    world.messenger.fail_with = ChannelUnavailable("I need Send Messages in <#555>")
    await world.run_at(local(day(2), 9))

    [record] = (await world.runs.day_records(challenge.id)).values()
    assert record.status is RunStatus.FAILED and record.error_code == "channel_unavailable"
    assert (await world.scores(challenge.id))[(1, day(1))] == (5_000, False)

    world.messenger.fail_with = None
    await world.run_at(local(day(2), 12))
    await world.run_at(local(day(2), 13))
    assert len(world.messenger.posts) == 1
    [record] = (await world.runs.day_records(challenge.id)).values()
    assert record.status is RunStatus.POSTED and record.error_code is None


async def test_a_post_still_failing_next_day_becomes_one_catch_up(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    world.provider.set(alice, day(2), 6_000)
    world.messenger.fail_with = ChannelUnavailable("gone")
    await world.run_at(local(day(2), 9))
    world.messenger.fail_with = None
    await world.run_at(local(day(3), 9))

    [post] = world.messenger.posts
    assert "Catching up on 2 days" in post.embed.description
    records = await world.runs.day_records(challenge.id)
    assert [r.status for r in records.values()] == [RunStatus.POSTED, RunStatus.POSTED]


# --------------------------------------------------------------------------- fetching


async def test_players_in_several_challenges_are_fetched_once(world: World) -> None:
    steps = await world.add_challenge(name="Steps")
    floors = await world.add_challenge(name="Floors", metric=Metric.FLOORS)
    manual = await world.add_challenge(name="Anything goes", allow_manual=True)
    alice = await world.add_player(steps, 1, "Alice")
    await world.add_player(floors, 1, "Alice")
    await world.add_player(manual, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    world.provider.set_manual(alice, day(1), 2_000)
    world.provider.set(alice, day(1), 12, metric=Metric.FLOORS)

    await world.run_at(local(day(2), 9))

    calls = world.provider.calls_for(alice)
    # Once without manual entries (Steps, Floors), once with them (Anything goes).
    assert sorted(call.include_manual for call in calls) == [False, True]
    assert all(set(call.metrics) == {Metric.STEPS, Metric.FLOORS} for call in calls)
    by_channel = [post.embed.description for post in world.messenger.posts]
    assert len(by_channel) == 3
    assert "5,000 steps" in by_channel[0]
    assert "12 floors" in by_channel[1]
    assert "7,000 steps" in by_channel[2]


async def test_fetches_run_on_a_bounded_pool(db: Database, cipher: TokenCipher) -> None:
    world = World(db, cipher, concurrency=4)
    challenge = await world.add_challenge()
    for player in range(1, 31):
        user = await world.add_player(challenge, player, f"P{player}")
        world.provider.set(user, day(1), 1_000 * player)
    world.provider.hold_until = 4
    tasks_before = len(asyncio.all_tasks())
    await world.run_at(local(day(2), 9))
    assert len(world.provider.calls) == 30
    assert world.provider.max_in_flight == 4  # four at once, never more
    assert world.provider.max_tasks <= tasks_before + 4  # a pool, not a task per player
    [post] = world.messenger.posts
    assert post.embed.description.count("\n`") >= 25


async def test_fetch_range_covers_the_baseline_until_the_first_day_is_final(
    world: World,
) -> None:
    challenge = await world.add_challenge(mode=ScoringMode.IMPROVEMENT)
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    for n in range(1, 15):
        world.provider.set(alice, JUNE_1 - dt.timedelta(days=n), 5_000)
        world.provider.set(bob, JUNE_1 - dt.timedelta(days=n), 10_000)
    world.provider.set(alice, day(1), 7_500)  # +50 % on her usual
    world.provider.set(bob, day(1), 11_000)  # +10 %
    await world.run_at(local(day(2), 9))
    first_call = world.provider.calls_for(alice)[0]
    assert (first_call.start, first_call.end) == (JUNE_1 - dt.timedelta(days=14), day(1))
    rows = world.messenger.posts[0].embed.description.splitlines()
    assert next(row for row in rows if "Alice" in row).startswith("`1.`")
    assert "+50.0%" in world.messenger.posts[0].embed.description


# --------------------------------------------------------------------------- time zones


@pytest.mark.parametrize(
    ("tz", "start", "post_instants_utc"),
    [
        # Los Angeles springs forward on Sun 8 Mar 2026: 09:00 local is 17:00 UTC, then 16:00.
        (
            "America/Los_Angeles",
            dt.date(2026, 3, 6),
            [
                dt.datetime(2026, 3, 7, 17, 0, tzinfo=UTC),
                dt.datetime(2026, 3, 8, 16, 0, tzinfo=UTC),
                dt.datetime(2026, 3, 9, 16, 0, tzinfo=UTC),
            ],
        ),
        # Auckland falls back on Sun 5 Apr 2026: 09:00 local is 20:00 UTC the day before,
        # then 21:00.
        (
            "Pacific/Auckland",
            dt.date(2026, 4, 3),
            [
                dt.datetime(2026, 4, 3, 20, 0, tzinfo=UTC),
                dt.datetime(2026, 4, 4, 21, 0, tzinfo=UTC),
                dt.datetime(2026, 4, 5, 21, 0, tzinfo=UTC),
            ],
        ),
    ],
)
async def test_posts_follow_local_post_time_across_dst(
    world: World, tz: str, start: dt.date, post_instants_utc: list[dt.datetime]
) -> None:
    challenge = await world.add_challenge(start=start, days=3, tz=tz)
    alice = await world.add_player(challenge, 1, "Alice", tz=tz)
    for n in range(1, 4):
        world.provider.set(alice, day(n, start), 1_000 * n)
    minute = dt.timedelta(minutes=1)
    for n, instant in enumerate(post_instants_utc, start=1):
        await world.run_at(instant - minute)
        assert len(world.messenger.posts) == n - 1
        await world.run_at(instant)
        assert len(world.messenger.posts) == n
        assert f"day {n} of 3" in world.messenger.posts[-1].embed.description


async def test_players_days_are_their_own_civil_dates(world: World) -> None:
    """An Auckland player in a Los Angeles challenge: their provider reports days in
    Auckland, and those dates count as they come."""
    challenge = await world.add_challenge(tz="America/Los_Angeles")
    kiwi = await world.add_player(challenge, 1, "Kiwi", tz="Pacific/Auckland")
    local_player = await world.add_player(challenge, 2, "Angeleno", tz="America/Los_Angeles")
    world.provider.set(kiwi, day(1), 9_000)
    world.provider.set(local_player, day(1), 4_000)
    await world.run_at(local(day(2), 9, tz="America/Los_Angeles"))
    [kiwi_call] = world.provider.calls_for(kiwi)
    assert kiwi_call.user_tz == ZoneInfo("Pacific/Auckland")
    assert world.provider.calls_for(local_player)[0].user_tz == ZoneInfo("America/Los_Angeles")
    assert (await world.scores(challenge.id))[(1, day(1))] == (9_000, False)


async def test_dst_never_stretches_the_grace_period(world: World) -> None:
    """Sat 7 Mar ends at 08:00 UTC (PST); 24 real hours later is 01:00 PDT on Mon 9 Mar."""
    start = dt.date(2026, 3, 7)
    challenge = await world.add_challenge(
        start=start, days=3, tz="America/Los_Angeles", post_time=dt.time(0, 30)
    )
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, start, 5_000)
    await world.run_at(dt.datetime(2026, 3, 9, 7, 59, tzinfo=UTC))
    assert (await world.scores(challenge.id))[(1, start)] == (5_000, False)
    await world.run_at(dt.datetime(2026, 3, 9, 8, 0, tzinfo=UTC))  # not yet due: no new day
    await world.run_at(dt.datetime(2026, 3, 10, 7, 30, tzinfo=UTC))  # next post: 00:30 PDT
    assert (await world.scores(challenge.id))[(1, start)] == (5_000, True)
    assert world.finalised[0] == (challenge.id, start)


# --------------------------------------------------------------------------- limits


async def test_posts_stay_within_discord_limits_with_many_long_names(
    db: Database, cipher: TokenCipher
) -> None:
    world = World(db, cipher, concurrency=32)
    challenge = await world.add_challenge(days=3, goal=8_000)
    for player in range(1, 301):
        name = f"🏃‍♀️ **Runner** {player} with a rather long name"
        user = await world.add_player(challenge, player, name)
        for n in range(1, 4):
            world.provider.set(user, day(n), 100 * player + n)
    await world.run_at(local(day(2), 9))  # daily post
    await world.run_at(local(day(4), 9, 30))  # catch-up of days 2 and 3
    await world.run_at(local(day(5), 9))  # results
    _daily, catch_up, results = world.messenger.posts
    assert "Catching up" in catch_up.embed.description
    assert "final results" in results.embed.title
    for post in world.messenger.posts:
        check_limits(post.embed)
        assert "…and" in post.embed.description  # the long tail is summarised, not cut off


# --------------------------------------------------------------------------- results


async def test_results_post_once_when_the_last_day_is_final(world: World) -> None:
    challenge = await world.add_challenge(days=2, goal=6_000)
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    world.provider.set(alice, day(1), 7_000)
    world.provider.set(alice, day(2), 9_000)
    world.provider.set(bob, day(1), 6_500)
    world.provider.set(bob, day(2), 3_000)
    await world.run_at(local(day(2), 9))
    await world.run_at(local(day(3), 9))  # day 2's daily post; day 2 still provisional
    assert len(world.messenger.posts) == 2
    await world.run_at(local(day(4), 9))  # day 2 final since midnight: results
    await world.run_at(local(day(5), 9))
    assert len(world.messenger.posts) == 3
    results = world.messenger.posts[2].embed
    assert "final results" in results.title
    assert "🥇 **Alice**" in results.description
    awards = dict((name, value) for name, value, _ in results.fields)["Awards"]
    assert "Best single day: **Alice** — 9,000 steps" in awards
    assert "Longest streak: **Alice** — 2 days" in awards
    assert (await world.runs.results_record(challenge.id)) is not None
    assert world.finalised == [(challenge.id, day(1)), (challenge.id, day(2))]
    closed = await world.challenges.get(challenge.id)
    assert closed is not None and closed.status is ChallengeStatus.ENDED


async def test_admin_ending_early_posts_results_for_the_days_played(world: World) -> None:
    challenge = await world.add_challenge(days=7)
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 4_000)
    world.provider.set(alice, day(2), 5_000)
    world.provider.set(alice, day(3), 6_000)
    world.runner.subscribe(world.events)
    world.runner.schedule(challenge)
    await world.run_at(local(day(2), 9))

    world.clock.set(local(day(3), 15))
    await world.challenges.end(challenge.guild_id, challenge.name)
    await world.runner.wait_background()

    assert world.scheduler.job_ids() == []
    results = world.messenger.posts[-1].embed
    assert "final results" in results.title
    assert "9,000 steps" in results.description  # days 1 and 2; day 3 was not over
    scores = await world.scores(challenge.id)
    assert scores[(1, day(2))] == (5_000, True)
    assert (1, day(3)) not in scores
    await world.run_at(local(day(4), 9))
    assert len(world.messenger.posts) == 2


async def test_results_post_that_failed_after_an_early_end_is_retried(world: World) -> None:
    challenge = await world.add_challenge(days=7)
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 4_000)
    world.runner.subscribe(world.events)
    world.clock.set(local(day(2), 15))
    world.messenger.fail_with = ChannelUnavailable("gone")
    await world.challenges.end(challenge.guild_id, challenge.name)
    await world.runner.wait_background()
    record = await world.runs.results_record(challenge.id)
    assert record is not None and record.status is RunStatus.FAILED

    world.messenger.fail_with = None
    await world.run_at(local(day(3), 9))
    await world.run_at(local(day(4), 9))
    [post] = world.messenger.posts
    assert "final results" in post.embed.title


async def test_streak_challenges_rank_by_best_streak(world: World) -> None:
    challenge = await world.add_challenge(days=4, mode=ScoringMode.GOAL_DAYS, goal=5_000)
    await world.repo.update(replace(challenge, preset="streak"))
    steady = await world.add_player(challenge, 1, "Steady")
    patchy = await world.add_player(challenge, 2, "Patchy")
    burst = await world.add_player(challenge, 3, "Burst")
    met, missed = 6_000, 1_000
    days = {
        steady: [met, met, met, met],
        patchy: [met, met, missed, met],
        burst: [missed, met, met, met],
    }
    for user, values in days.items():
        for n, value in enumerate(values, start=1):
            world.provider.set(user, day(n), value)
    await world.run_at(local(day(5), 9))
    rows = world.messenger.posts[-1].embed.description.splitlines()
    # Patchy and Burst met the goal on 3 days each; Burst's 3 in a row beat Patchy's 2.
    assert next(row for row in rows if "Steady" in row).startswith("`1.` Steady · **4 days**")
    assert next(row for row in rows if "Burst" in row).startswith("`2.` Burst · **3 days**")
    assert next(row for row in rows if "Patchy" in row).startswith("`3.` Patchy · **2 days**")


async def test_fair_play_flags_new_values_and_leaves_excluded_days_out(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    world.provider.set(alice, day(1), 150_000)  # above any plausible day
    world.provider.set(bob, day(1), 9_000)
    await world.run_at(local(day(2), 9))
    [flag] = await world.challenges.pending_reviews(challenge.id)
    assert (flag.discord_id, flag.day, flag.value) == (1, day(1), 150_000)
    assert world.messenger.posts[0].embed.description.index("Alice") < (
        world.messenger.posts[0].embed.description.index("Bob")
    )  # pending flags still count until an admin decides

    await world.challenges.decide_review(
        challenge.guild_id, flag.review_id, exclude=True, reviewed_by=99
    )
    world.provider.set(alice, day(2), 3_000)
    await world.run_at(local(day(3), 9))
    text = world.messenger.posts[-1].embed.description
    alice_row = next(row for row in text.splitlines() if "Alice" in row)
    assert "**3,000 steps**" in alice_row
    assert next(row for row in text.splitlines() if "Bob" in row).startswith("`1.`")


async def test_late_joiners_count_from_the_day_they_joined(world: World) -> None:
    challenge = await world.add_challenge()
    alice = await world.add_player(challenge, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    world.provider.set(alice, day(2), 5_000)
    await UsersRepo(world.db).ensure(2, world.clock.now(), "Late Larry")
    await world.players.add(challenge.id, 2, day(2), world.clock.now())
    await AccountsRepo(world.db, world.cipher).save_link(
        2,
        "fake",
        "user2",
        TokenSet("tok-user2", "refresh", dt.datetime(2030, 1, 1, tzinfo=UTC)),
        world.clock.now(),
    )
    world.provider.set("user2", day(1), 50_000)  # before he joined: does not count
    world.provider.set("user2", day(2), 4_000)
    await world.run_at(local(day(3), 9))
    text = world.messenger.posts[-1].embed.description
    assert "**4,000 steps**" in next(row for row in text.splitlines() if "Larry" in row)


async def test_a_late_joiners_daily_average_counts_from_the_day_they_joined(
    world: World,
) -> None:
    challenge = await world.add_challenge(mode=ScoringMode.AVERAGE)
    alice = await world.add_player(challenge, 1, "Alice")
    for n in range(1, 5):
        world.provider.set(alice, day(n), 5_000)
        world.provider.set("user2", day(n), 6_000)
    await world.run_at(local(day(2), 9))
    await world.run_at(local(day(3), 9))
    world.clock.set(local(day(3), 12))
    await world.add_player(challenge, 2, "Bob", joined=False)
    joined = await world.challenges.join(challenge.guild_id, challenge.name, 2, "Bob")
    assert joined.participant.joined_on == day(3)

    await world.run_at(local(day(5), 9))

    text = world.messenger.posts[-1].embed.description
    bob_row = next(row for row in text.splitlines() if "Bob" in row)
    # Days 1 and 2 were before he joined: not days he missed (12,000 / 4 would be 3,000).
    assert bob_row.startswith("`1.` Bob") and "**6,000 steps/day**" in bob_row


async def test_a_late_joiner_of_a_backfilling_challenge_counts_from_the_start(
    world: World,
) -> None:
    # Days that were final before he joined used to be neither fetched nor scored for him.
    challenge = await world.add_challenge(backfill=True, goal=6_000)
    alice = await world.add_player(challenge, 1, "Alice")
    for n in range(1, 5):
        world.provider.set(alice, day(n), 5_000)
    await world.run_at(local(day(2), 9))
    await world.run_at(local(day(3), 9))  # day 1 final
    await world.run_at(local(day(4), 9))  # day 2 final
    world.clock.set(local(day(4), 12))
    await world.add_player(challenge, 2, "Bob", joined=False)
    joined = await world.challenges.join(challenge.guild_id, challenge.name, 2, "Bob")
    assert joined.participant.joined_on == JUNE_1
    for n in range(1, 5):
        world.provider.set("user2", day(n), 7_000)
    alice_before = {k: v for k, v in (await world.scores(challenge.id)).items() if k[0] == 1}

    await world.run_at(local(day(5), 9))

    text = world.messenger.posts[-1].embed.description
    bob_row = next(row for row in text.splitlines() if "Bob" in row)
    assert bob_row.startswith("`1.` Bob") and "**28,000 steps**" in bob_row
    assert "🔥4" in bob_row
    scores = await world.scores(challenge.id)
    assert scores[(2, day(1))] == scores[(2, day(2))] == (7_000, True)
    assert {k: v for k, v in scores.items() if k[0] == 1 and k[1] <= day(2)} == {
        k: v for k, v in alice_before.items() if k[1] <= day(2)
    }
    assert world.finalised == [(challenge.id, day(n)) for n in (1, 2, 3)]  # each once
    calls = world.provider.calls_for(alice)
    await world.run_at(local(day(6), 9))  # caught up: final days are not fetched again
    assert world.provider.calls_for(alice)[len(calls)].start == day(4)


async def test_a_day_final_in_one_challenge_stays_put_while_another_still_fetches_it(
    world: World,
) -> None:
    """Daily values are shared: a challenge with a longer grace period keeps re-fetching a
    day that another challenge has already finalised. The final one must not move."""
    short = await world.add_challenge(name="Short grace", grace_hours=0)
    long = await world.add_challenge(name="Long grace", grace_hours=72)
    alice = await world.add_player(short, 1, "Alice")
    await world.add_player(long, 1, "Alice")
    world.provider.set(alice, day(1), 5_000)
    await world.run_at(local(day(2), 9))  # day 1 final in "Short grace" right away
    world.provider.set(alice, day(1), 9_000)
    await world.run_at(local(day(3), 9))  # "Long grace" fetches day 1 again

    assert (await world.scores(short.id))[(1, day(1))] == (5_000, True)
    assert (await world.scores(long.id))[(1, day(1))] == (9_000, False)
    short_post = next(p for p in reversed(world.messenger.posts) if "Short" in p.embed.title)
    assert "**5,000 steps**" in short_post.embed.description  # day 2 had no data


async def test_each_day_is_finalised_once_even_before_anyone_plays(world: World) -> None:
    challenge = await world.add_challenge()
    await world.run_at(local(day(2), 9))
    await world.run_at(local(day(3), 9))  # day 1 over, but nobody's scores to freeze
    world.clock.set(local(day(3), 12))
    await world.add_player(challenge, 1, "Alice", joined=False)
    await world.challenges.join(challenge.guild_id, challenge.name, 1, "Alice")
    await world.run_at(local(day(4), 9))
    await world.run_at(local(day(5), 9))
    assert world.finalised == [(challenge.id, day(n)) for n in (1, 2, 3)]


async def test_saving_scores_never_overwrites_a_final_row(world: World) -> None:
    challenge = await world.add_challenge()
    await world.add_player(challenge, 1, "Alice")
    repo = ValuesRepo(world.db)
    await repo.save_scores(challenge.id, [ScoreRow(1, day(1), 5_000, 5_000, False, True)])
    await repo.save_scores(challenge.id, [ScoreRow(1, day(1), 9_000, 9_000, True, False)])
    assert (await world.scores(challenge.id))[(1, day(1))] == (5_000, True)
