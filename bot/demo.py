"""`stride demo`: a complete simulated challenge, offline, without a Discord token or a wearable.

Everything real that can be: a temporary SQLite database with the real migrations, the real
`ChallengeService` creating the challenge and letting the players join, sandbox players whose
data comes from the real sandbox provider (its deterministic synthetic generator), the real
`TokenManager` refreshing their tokens, and the real daily run scoring, finalising and
rendering each day while a `FakeClock` moves from one post time to the next. Only Discord is
replaced: a messenger that writes each post's chart to `--out` instead of posting it.

Standard output gets each day's standings as a table and the path of each chart; standard
error gets progress (not when both are one terminal, where the lines would land between a
table's rows) and nothing from the services' logs (`stride demo` logs errors only). The same
options give byte-identical standard output: the players, their time zones and their sandbox
accounts all derive from `--seed`, and the dates are fixed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import random
import secrets
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import aiohttp
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.challenges.inputs import ChallengeDraft
from bot.challenges.model import Challenge
from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.daily import Board, calendar_of
from bot.daily.calendar import days_between
from bot.domain import Metric, ScoringMode, Units
from bot.notify import Attachment, LinkButton
from bot.providers.sandbox import SandboxProvider
from bot.render.leaderboard import EmbedContent
from bot.render.table import render_text_table
from bot.render.text import display_name, format_amount, format_date
from bot.scoring import compute_awards
from bot.services import Services, build_services
from bot.settings import PublishSettings, SandboxSettings, Settings
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, UsersRepo
from bot.storage.runs import RunKind

DEFAULT_OUT = Path("demo-out")
START = dt.date(2026, 6, 1)  # a Monday; fixed so that the same seed gives the same output
GUILD_ID = 1
CHANNEL_ID = 1000
ADMIN_ID = 2000
FIRST_PLAYER_ID = 100_000_000_000_000_001
DAILY_GOAL = 10_000
SHIELDED_WORK_SECONDS = 5.0  # at Ctrl-C, how long shielded work may take to finish
UNITS = Units.METRIC  # the demo counts steps, which have no units to choose

NAMES = (
    "Ada", "Bashir", "Chen", "Dagny", "Emeka", "Farah", "Goran", "Hina", "Ines", "Jonas",
    "Keala", "Lucía", "Mateus", "Nia", "Oskar", "Priya", "Quinn", "Rania", "Sven", "Tomiko",
)  # fmt: skip
# Players live in different zones; their providers report their own civil dates. Honolulu
# is still in "yesterday" at 09:00 UTC, so its players' days show up provisional and change.
ZONES = ("Europe/London", "UTC", "America/New_York", "Asia/Tokyo", "Pacific/Honolulu")


@dataclass(frozen=True, slots=True)
class DemoOptions:
    players: int = 6
    days: int = 7
    mode: ScoringMode = ScoringMode.TOTAL
    seed: int = 1
    out: Path = DEFAULT_OUT


@dataclass(frozen=True, slots=True)
class DemoPlayer:
    discord_id: int
    name: str
    time_zone: str
    sandbox_user: str


def demo_players(count: int, seed: int) -> list[DemoPlayer]:
    """The players of a demo: names, zones and sandbox accounts all follow from the seed."""
    # Synthetic demo data, not security: a seeded PRNG is exactly what is wanted.
    rng = random.Random(seed)  # noqa: S311
    names = list(NAMES)
    rng.shuffle(names)
    players = []
    for index in range(count):
        name = names[index % len(names)]
        if index >= len(names):
            name = f"{name} {index // len(names) + 1}"
        digest = hashlib.sha256(f"stride-demo:{seed}:{index}".encode()).hexdigest()
        players.append(
            DemoPlayer(
                discord_id=FIRST_PLAYER_ID + index,
                name=name,
                time_zone=rng.choice(ZONES),
                sandbox_user=f"sandbox-{digest[:12]}",
            )
        )
    return players


class FileTransport:
    """A `MessageTransport` that keeps posts instead of sending them and writes their files."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.written: list[Path] = []
        self.posts: list[EmbedContent] = []

    async def post(
        self,
        channel_id: int,
        *,
        content: str | None = None,
        embed: EmbedContent | None = None,
        files: Sequence[Attachment] = (),
        nonce: str | None = None,
    ) -> int:
        for attachment in files:
            path = self.out / attachment.filename
            await asyncio.to_thread(path.write_bytes, attachment.data)
            self.written.append(path)
        if embed is not None:
            self.posts.append(embed)
        return len(self.posts)

    async def find_post(
        self, channel_id: int, *, attachment_name: str, after: dt.datetime
    ) -> int | None:
        return None  # every post of a simulation is recorded before the next one is due

    async def send_dm(
        self,
        user_id: int,
        *,
        content: str | None = None,
        embed: EmbedContent | None = None,
        buttons: Sequence[LinkButton] = (),
        files: Sequence[Attachment] = (),
    ) -> bool:
        return False  # nobody to DM in a simulation


async def run_demo(options: DemoOptions, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run the simulated challenge; 0 when every day was scored and posted."""
    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="stride-demo-") as scratch:
        path = Path(scratch) / "demo.db"
        async with await Database.open(path) as db:
            await db.migrate()
            try:
                return await _simulate(db, path, options, out, err)
            except asyncio.CancelledError:  # Ctrl-C: stop quietly, the database last
                await _let_shielded_work_finish()
                raise


async def _let_shielded_work_finish() -> None:
    """Wait (briefly) for the work a cancellation does not stop: a token refresh runs
    shielded (`bot.linking.tokens`), and must not outlive the database it writes to."""
    others = asyncio.all_tasks() - {asyncio.current_task()}
    if others:
        await asyncio.wait(others, timeout=SHIELDED_WORK_SECONDS)


async def _simulate(
    db: Database, path: Path, options: DemoOptions, out: TextIO, err: TextIO
) -> int:
    clock = FakeClock(dt.datetime.combine(START - dt.timedelta(days=1), dt.time(12), dt.UTC))
    cipher = TokenCipher([Fernet.generate_key()])
    accounts = AccountsRepo(db, cipher)
    sandbox = SandboxProvider(
        SandboxSettings(enabled=True), None, clock, public_base_url="http://demo"
    )
    settings = Settings(
        database_path=path,
        public_base_url="http://demo",
        fetch_concurrency=16,
        # A throwaway secret: no `publish.key` is generated (nor warned about) in the scratch
        # folder.
        publish=PublishSettings(secret=SecretStr(secrets.token_hex(32))),
    )
    # No request leaves the machine: the sandbox generates its data, and no challenge of the
    # demo publishes.
    async with aiohttp.ClientSession() as http:
        services = build_services(
            settings, db, http, clock, providers={"sandbox": sandbox}, cipher=cipher
        )
        transport = FileTransport(options.out)
        services.messenger.attach(transport)
        try:
            return await _play(services, clock, sandbox, accounts, transport, options, out, err)
        finally:
            # The joins' baseline fetches run in tasks of their own: none may outlive the
            # database (Ctrl-C in the middle of the demo).
            await services.daily_run.aclose()


async def _play(
    services: Services,
    clock: FakeClock,
    sandbox: SandboxProvider,
    accounts: AccountsRepo,
    transport: FileTransport,
    options: DemoOptions,
    out: TextIO,
    err: TextIO,
) -> int:
    challenge = await _create_challenge(services, options)
    await _enrol(
        services, sandbox, accounts, challenge, demo_players(options.players, options.seed)
    )
    end = challenge.end
    print(
        f"Stride demo: {challenge.name}, {options.players} players, steps, {options.mode.value} "
        f"scoring, {format_date(START)} to {format_date(end)} {end.year}, "
        f"goal {format_amount(DAILY_GOAL, Metric.STEPS, UNITS)}/day (seed {options.seed})",
        file=out,
    )

    progress = shows_progress(out, err)
    calendar = calendar_of(challenge)
    post_times = [calendar.post_at(day) for day in days_between(START, end)]
    # The results come with the first post time after the last day's grace period.
    post_times.append(calendar.post_at(end + dt.timedelta(days=1)))
    for number, instant in enumerate(post_times, start=1):
        clock.set(instant)
        if progress:
            print(f"demo: daily run {number} of {len(post_times)}, {_when(instant)}", file=err)
        report = await services.daily_run.run_due()
        if report.errors or challenge.id not in report.posted_boards:
            print(f"demo: the daily run of {_when(instant)} did not post", file=err)
            return 1
        board = report.posted_boards[challenge.id]
        print("", file=out)
        if report.post_kinds[challenge.id] is RunKind.RESULTS:
            print_results(board, out)
        else:
            print_day(board, out)
        print(f"chart: {transport.written[-1]}", file=out)
    print(f"demo: charts written to {options.out}", file=err)
    return 0


def shows_progress(out: TextIO, err: TextIO) -> bool:
    """Progress lines on standard error, unless both streams are one terminal: there the
    tables show the progress, and extra lines would land between their rows."""
    return not (out.isatty() and err.isatty())


def _when(instant: dt.datetime) -> str:
    return f"{format_date(instant.date())} {instant:%H:%M} UTC"


async def _create_challenge(services: Services, options: DemoOptions) -> Challenge:
    end = START + dt.timedelta(days=options.days - 1)
    return await services.challenges.create(
        GUILD_ID,
        ADMIN_ID,
        ChallengeDraft(
            name="Demo Week" if options.days == 7 else "Demo Challenge",
            channel_id=CHANNEL_ID,
            metric=Metric.STEPS,
            mode=options.mode,
            start=START,
            end=end,
            post_time=dt.time(9),
            time_zone="UTC",
            daily_goal=DAILY_GOAL,
        ),
    )


async def _enrol(
    services: Services,
    sandbox: SandboxProvider,
    accounts: AccountsRepo,
    challenge: Challenge,
    players: Sequence[DemoPlayer],
) -> None:
    """Each player: a user with a time zone, a linked sandbox account, and a place in the
    challenge."""
    users = UsersRepo(services.db)
    now = services.clock.now()
    for player in players:
        await users.ensure(player.discord_id, now, player.name)
        await users.set_time_zone(player.discord_id, player.time_zone)
        await accounts.save_link(
            player.discord_id,
            "sandbox",
            player.sandbox_user,
            sandbox.tokens_for(player.sandbox_user),
            now,
        )
        await services.challenges.join(GUILD_ID, challenge.name, player.discord_id, player.name)


def print_day(board: Board, out: TextIO) -> None:
    standings = board.standings
    day = standings.days[-1]
    print(f"{format_date(day)} · day {len(standings.days)} of {board.challenge.days}", file=out)
    out.write(
        render_text_table(
            standings, board.names, units=UNITS, day=day, previous_ranks=board.previous_ranks
        )
    )


def print_results(board: Board, out: TextIO) -> None:
    standings = board.standings
    metric = standings.rules.metric
    print("Final results", file=out)
    out.write(render_text_table(standings, board.names, units=UNITS))
    awards = compute_awards(standings)
    if awards.best_day is not None:
        best = awards.best_day
        print(
            f"Best single day: {display_name(board.names, best.player_id)}, "
            f"{format_amount(best.value, metric, UNITS)} on {format_date(best.day)}",
            file=out,
        )
    if awards.longest_streak is not None:
        holders = ", ".join(display_name(board.names, p) for p in awards.longest_streak.player_ids)
        days = awards.longest_streak.days
        print(f"Longest streak: {holders}, {days} {'day' if days == 1 else 'days'}", file=out)
    if awards.most_improved is not None:
        improved = awards.most_improved
        print(
            f"Most improved: {display_name(board.names, improved.player_id)}, "
            f"{improved.percent:+.0f}% over their usual",
            file=out,
        )
