"""Each daily, catch-up and results post reaches its channel exactly once, however Stride stops.

`stride run` runs as a child process (`launch_stride.py`) against the Discord stand-in, on the
real clock, over a database seeded before it starts: a running challenge three days in (its
catch-up post is due at start-up) and one that ended two days ago (its results are due), each
posting in a channel of its own, with sandbox players (deterministic data). The stand-in holds
one post's create request in flight, and the test stops Stride inside it:

- SIGKILL after Discord created the message (the answer never reached Stride), restarted once
  Discord's nonce de-duplication has expired: the restart finds the post in the channel's
  history and does not send it again;
- SIGKILL before the request reached Discord: the restart sends it, once;
- SIGTERM: Stride lets the post finish and records it, exits 0, and a restart posts nothing.

Every scenario ends with exactly one post per challenge in each channel, showing the same
standings as a run that was never interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from cryptography.fernet import Fernet

from bot.app import StrideApp
from bot.challenges.inputs import ChallengeDraft
from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.domain import Metric, ScoringMode
from bot.providers.sandbox import SandboxProvider
from bot.services import build_services
from bot.settings import SandboxSettings, Settings
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, UsersRepo
from tests.standins.discord.discord_standin import DiscordStandIn, HeldCreate, patch_discord
from tests.standins.discord.entities import Channel, Json, StoredMessage
from tests.standins.discord.rest import RecordedRequest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BOT_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16)
GUILD_ADMIN = 900
PLAYERS = {1001: "Alice", 1002: "Bob", 1003: "Cleo"}
CREATE_ROUTE = ("POST", "/channels/{channel_id}/messages")
READY_LOG = "start-up catch-up done"
STARTUP_TIMEOUT = 30.0

StandInFactory = Callable[..., Awaitable[DiscordStandIn]]


@dataclass(frozen=True)
class Club:
    """The stand-in's guild, with one channel per challenge."""

    discord: DiscordStandIn
    running: Channel  # the challenge three days in: a catch-up post
    ended: Channel  # the challenge that ended two days ago: its results post

    @property
    def channels(self) -> tuple[Channel, Channel]:
        return self.running, self.ended

    def posts(self) -> dict[str, list[StoredMessage]]:
        """The bot's messages in each challenge channel, as members see them."""
        return {
            channel.name or "": [
                m for m in self.discord.history(channel) if m.author.id == self.discord.bot_user.id
            ]
            for channel in self.channels
        }

    def creates(self, channel: Channel | None = None) -> list[RecordedRequest]:
        """The message creates the bot sent (in `channel`, or anywhere)."""
        requests = self.discord.requests_to(*CREATE_ROUTE)
        return [r for r in requests if channel is None or str(channel.id) in r.path]


def shown(posts: dict[str, list[StoredMessage]]) -> dict[str, list[tuple[list[Json], list[str]]]]:
    """What each post shows: its embeds and the names of its files."""
    return {
        name: [(m.embeds, [a.filename for a in m.attachments]) for m in messages]
        for name, messages in posts.items()
    }


async def make_club(make_discord_standin: StandInFactory) -> Club:
    standin = await make_discord_standin()
    guild = await standin.add_guild(
        "Walkers", bot_permissions=BOT_PERMISSIONS, text_channels=("week", "sprint")
    )
    return Club(
        standin, standin.channel_named(guild, "week"), standin.channel_named(guild, "sprint")
    )


async def seed(database: Path, key: str, club: Club, today: dt.date) -> None:
    """Two challenges that started in the past, created as an admin would have then."""
    clock = FakeClock(dt.datetime.combine(today - dt.timedelta(days=6), dt.time(12), dt.UTC))
    cipher = TokenCipher([key.encode()])
    settings = Settings(database_path=database, public_base_url="http://127.0.0.1")
    sandbox = SandboxProvider(SandboxSettings(enabled=True), None, clock, public_base_url="x")
    async with await Database.open(database) as db, aiohttp.ClientSession() as http:
        await db.migrate()
        services = build_services(
            settings, db, http, clock, providers={"sandbox": sandbox}, cipher=cipher
        )
        guild_id = club.running.guild_id
        assert guild_id is not None
        for name, channel, start, end in (
            ("Week", club.running, today - dt.timedelta(days=3), today + dt.timedelta(days=3)),
            ("Sprint", club.ended, today - dt.timedelta(days=5), today - dt.timedelta(days=2)),
        ):
            draft = ChallengeDraft(
                name=name,
                channel_id=channel.id,
                metric=Metric.STEPS,
                mode=ScoringMode.TOTAL,
                start=start,
                end=end,
                post_time=dt.time(0, 0),
                time_zone="UTC",
                grace_hours=0,
            )
            await services.challenges.create(guild_id, GUILD_ADMIN, draft)
            for discord_id, player in PLAYERS.items():
                await UsersRepo(db).ensure(discord_id, clock.now(), player)
                sandbox_user = f"sandbox-{player.lower()}"
                await AccountsRepo(db, cipher).save_link(
                    discord_id,
                    "sandbox",
                    sandbox_user,
                    sandbox.tokens_for(sandbox_user),
                    clock.now(),
                )
                await services.challenges.join(guild_id, name, discord_id, player)


class StrideProcess:
    """`stride run` in a child process; its log (stderr) is read as it comes."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self._env, self._cwd = env, cwd
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self.log: list[str] = []
        self._logged = asyncio.Condition()

    async def start(self) -> None:
        self.log.clear()
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "tests" / "e2e" / "launch_stride.py"),
            cwd=self._cwd,
            env=self._env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read(self._process))

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stderr is not None
        async for line in process.stderr:
            async with self._logged:
                self.log.append(line.decode(errors="replace"))
                self._logged.notify_all()

    async def wait_for_log(self, text: str, timeout: float = STARTUP_TIMEOUT) -> str:  # noqa: ASYNC109
        def found() -> str | None:
            return next((line for line in self.log if text in line), None)

        async with self._logged:
            try:
                async with asyncio.timeout(timeout):
                    await self._logged.wait_for(lambda: found() is not None)
            except TimeoutError:
                raise AssertionError(f"no {text!r} in the log:\n{''.join(self.log)}") from None
        line = found()
        assert line is not None
        return line

    async def stop(self, signum: signal.Signals) -> int:
        """Send `signum` and wait for the process to end; its exit code."""
        process = self._running()
        process.send_signal(signum)
        code = await asyncio.wait_for(process.wait(), timeout=STARTUP_TIMEOUT)
        if self._reader is not None:
            await self._reader
        return code

    def _running(self) -> asyncio.subprocess.Process:
        assert self._process is not None and self._process.returncode is None
        return self._process

    async def close(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
            await self._process.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader

    async def run_start_up(self) -> str:
        """Start, let the start-up catch-up finish, stop with SIGTERM; the catch-up's line."""
        await self.start()
        done = await self.wait_for_log(READY_LOG)
        assert await self.stop(signal.SIGTERM) == 0, "".join(self.log)
        return done


@dataclass(frozen=True)
class Home:
    """Where one Stride keeps its seeded database, and the settings it runs with."""

    settings: Settings
    env: dict[str, str]  # the same settings, for `stride run`


async def home_for(club: Club, tmp_path: Path, port: int, today: dt.date) -> Home:
    folder = tmp_path / f"stride-{port}"
    folder.mkdir()
    key = Fernet.generate_key().decode()
    await seed(folder / "stride.db", key, club, today)
    values = {
        "DISCORD_TOKEN": club.discord.token,
        "DATABASE_PATH": str(folder / "stride.db"),
        "TOKEN_ENCRYPTION_KEYS": key,
        "WEB_HOST": "127.0.0.1",
        "WEB_PORT": str(port),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    settings = Settings(
        **{name.lower(): value for name, value in values.items()},
        sandbox=SandboxSettings(enabled=True),
    )
    env = values | {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(folder),
        "SANDBOX__ENABLED": "true",
        "STANDIN_REST_URL": club.discord.rest_base_url,
        "STANDIN_GATEWAY_URL": club.discord.gateway_url,
        "PYTHONPATH": str(ROOT),
    }
    return Home(settings, env)


@pytest.fixture
def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@pytest.fixture
async def uninterrupted(
    make_discord_standin: StandInFactory,
    tmp_path: Path,
    unused_tcp_port_factory: Callable[[], int],
    today: dt.date,
) -> dict[str, list[tuple[list[Json], list[str]]]]:
    """What a Stride that nobody stops posts (the same app, in this process, on the real
    clock): one catch-up post and one results post."""
    club = await make_club(make_discord_standin)
    home = await home_for(club, tmp_path, unused_tcp_port_factory(), today)
    app = StrideApp(home.settings)
    with patch_discord(club.discord):
        await app.start()
        try:
            await app.wait_until_ready()
            assert app.start_up_task is not None
            await app.start_up_task
        finally:
            await app.stop()
    posts = shown(club.posts())
    assert [len(messages) for messages in posts.values()] == [1, 1]
    [[(_, week_files)], [(_, sprint_files)]] = posts.values()
    assert week_files != sprint_files
    return posts


async def _killed_in_flight(stride: StrideProcess, hold: HeldCreate) -> None:
    await stride.start()
    try:
        await hold.wait_arrived(timeout=STARTUP_TIMEOUT)
        assert await stride.stop(signal.SIGKILL) == -signal.SIGKILL
    finally:
        hold.drop()  # the request died with the process


@pytest.mark.parametrize(
    ("held", "store_first"),
    [("running", True), ("ended", False)],
    ids=["catch-up-created-before-the-kill", "results-lost-with-the-kill"],
)
async def test_sigkill_with_a_post_in_flight_still_posts_it_once(
    make_discord_standin: StandInFactory,
    tmp_path: Path,
    unused_tcp_port_factory: Callable[[], int],
    today: dt.date,
    uninterrupted: dict[str, list[tuple[list[Json], list[str]]]],
    held: str,
    store_first: bool,
) -> None:
    club = await make_club(make_discord_standin)
    home = await home_for(club, tmp_path, unused_tcp_port_factory(), today)
    stride = StrideProcess(home.env, tmp_path)
    channel = club.running if held == "running" else club.ended
    hold = club.discord.hold_message_create(channel, store_first=store_first)
    try:
        await _killed_in_flight(stride, hold)
        created = len(club.discord.history(channel))
        assert created == (1 if store_first else 0)
        # Restarted after Discord's "few minutes" of nonce de-duplication: only the history
        # can tell that the post already went out.
        club.discord.routes.nonce_window = dt.timedelta(0)
        before = len(club.creates(channel))
        await stride.run_start_up()
    finally:
        await stride.close()
    assert {name: len(m) for name, m in club.posts().items()} == {"week": 1, "sprint": 1}
    assert shown(club.posts()) == uninterrupted
    # The post that was created is not sent again; the one that was lost is sent once more,
    # with the nonce of the first try (Discord would drop it, had the first try gone through).
    attempts = club.creates(channel)
    assert len(attempts) - before == (0 if store_first else 1)
    nonces = {request.json.get("nonce") for request in attempts}
    assert len(nonces) == 1 and None not in nonces


async def test_sigterm_lets_the_post_in_flight_finish_and_a_restart_posts_nothing(
    make_discord_standin: StandInFactory,
    tmp_path: Path,
    unused_tcp_port_factory: Callable[[], int],
    today: dt.date,
    uninterrupted: dict[str, list[tuple[list[Json], list[str]]]],
) -> None:
    club = await make_club(make_discord_standin)
    home = await home_for(club, tmp_path, unused_tcp_port_factory(), today)
    stride = StrideProcess(home.env, tmp_path)
    hold = club.discord.hold_message_create(club.running, store_first=True)
    try:
        await stride.start()
        await hold.wait_arrived(timeout=STARTUP_TIMEOUT)
        stopping = asyncio.create_task(stride.stop(signal.SIGTERM))
        await stride.wait_for_log("waiting for 1 running job(s) to finish")
        hold.release()
        assert await stopping == 0, "".join(stride.log)
        log = "".join(stride.log)
        assert "Traceback" not in log and "posting failed" not in log
        assert shown(club.posts()) == uninterrupted
        before = len(club.creates())
        assert "0 post(s)" in await stride.run_start_up()
    finally:
        hold.drop()
        await stride.close()
    assert len(club.creates()) == before
    assert shown(club.posts()) == uninterrupted
