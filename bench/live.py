"""Benchmark: live standings after a storm of provider notifications.

    .venv/bin/python bench/live.py --members 1000 --notifications 5000 --latency-ms 100

A fake Google Health API (just `dataPoints:dailyRollUp`, in its documented shape) runs in a
child process on 127.0.0.1 and answers every request after `--latency-ms`. This process seeds a
temporary database with N members linked to Google Health in one steps challenge, on its third
day (today, in UTC), with today's values as of an hour ago stored; it builds Stride as production
does (`bot.services.build_services`: the real `GoogleHealthProvider` with its rate limiter and
retries, `TokenManager`, HTTP session and the sync queue with its workers running).

Then every member's watch syncs (the fake API's values for today go up) and a burst of
`--notifications` notifications arrives at once, several per member in random order, as the
webhook routes hand them over (`SyncQueue.request`). For each notification the benchmark waits
for the first fetch of that member's account that started after it and is stored: from then on
`/leaderboard`, which reads stored data on demand, shows the new value. It checks that the
standings show every member's new value at once, and, once the queue has stopped, times the
server-side build of `/leaderboard` for the whole challenge (the live standings read from
storage, laid out as the cog does, into a Discord embed).

The last line is one JSON object: members, notifications, latency_ms, concurrency, p50_s and
p95_s (notification to updated standings), max_s, wall_s, provider_requests,
requests_per_account, standings_updated (members whose new value the standings show),
leaderboard_ms (median of `--leaderboard-runs`), peak_rss_mb.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import multiprocessing
import multiprocessing.connection
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import web
from cryptography.fernet import Fernet

from bot import eventloop
from bot.app import http_session
from bot.challenges.model import Challenge, ChallengeStatus
from bot.clock import SystemClock
from bot.crypto import TokenCipher
from bot.discord_bot import to_discord_embed
from bot.domain import DailyValue, Metric, ScoringMode, TeamMode
from bot.providers.base import TokenSet
from bot.services import Services, build_services
from bot.settings import Settings
from bot.storage import Database, open_database
from bot.storage.accounts import AccountsRepo, UsersRepo
from bot.storage.challenges import ChallengesRepo, ParticipantsRepo
from bot.storage.values import FetchedValue, ValuesRepo
from cogs.leaderboard import live_post

FIRST_USER = 300_000_000_000_000_000
MORNING_STEPS = 3_000
AFTERNOON_STEPS = 4_000  # what the watch adds when it syncs mid-afternoon
REQUESTS = web.AppKey("requests", list[int])
SYNCED = web.AppKey("synced", list[bool])


# --------------------------------------------------------------------------- the fake provider


def _day(value: dict[str, int]) -> dt.date:
    return dt.date(value["year"], value["month"], value["day"])


def steps_of(seed: int, day: dt.date, today: dt.date, *, synced: bool) -> int:
    """The fake API's steps for a member and day; today's grow once the watch has synced."""
    if day == today:
        return MORNING_STEPS + (AFTERNOON_STEPS + seed % 997 if synced else 0)
    return 4_000 + (seed * 7919 + day.toordinal() * 104_729) % 9_000


def fake_google_health(latency: float, today: dt.date) -> web.Application:
    """`POST /v4/users/me/dataTypes/steps/dataPoints:dailyRollUp`, answered after `latency`
    seconds with each day of the (end-exclusive) range; `POST /watch-synced` makes today's
    values those after the afternoon sync."""

    async def rollup(request: web.Request) -> web.Response:
        request.app[REQUESTS][0] += 1
        body = await request.json()
        await asyncio.sleep(latency)
        first, end = _day(body["range"]["start"]["date"]), _day(body["range"]["end"]["date"])
        seed = int(request.headers["Authorization"].rsplit("-", 1)[-1])
        points = []
        day = first
        while day < end:
            civil = {"date": {"year": day.year, "month": day.month, "day": day.day}}
            steps = steps_of(seed, day, today, synced=request.app[SYNCED][0])
            points.append({"civilStartTime": civil, "steps": {"countSum": str(steps)}})
            day += dt.timedelta(days=1)
        return web.json_response({"rollupDataPoints": points})

    async def watch_synced(request: web.Request) -> web.Response:
        request.app[SYNCED][0] = True
        request.app[REQUESTS][0] = 0
        return web.json_response({"requests": 0})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"requests": request.app[REQUESTS][0]})

    app = web.Application()
    app[REQUESTS] = [0]
    app[SYNCED] = [False]
    app.router.add_post("/v4/users/me/dataTypes/steps/dataPoints:dailyRollUp", rollup)
    app.router.add_post("/watch-synced", watch_synced)
    app.router.add_get("/stats", stats)
    return app


def serve(latency: float, today: dt.date, conn: multiprocessing.connection.Connection) -> None:
    """The child process: serve until the parent closes its end of the pipe."""

    async def main() -> None:
        runner = web.AppRunner(fake_google_health(latency, today), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        conn.send(runner.addresses[0][1])
        await asyncio.get_running_loop().run_in_executor(None, _wait_for_parent, conn)
        await runner.cleanup()

    eventloop.run(main())


def _wait_for_parent(conn: multiprocessing.connection.Connection) -> None:
    with contextlib.suppress(EOFError):
        conn.recv()


# --------------------------------------------------------------------------- Stride's side


def bench_challenge(now: dt.datetime) -> Challenge:
    """A week of steps in UTC, on its third day at `now`."""
    start = now.date() - dt.timedelta(days=2)
    return Challenge(
        id=0,
        guild_id=1,
        channel_id=2,
        name="Live Steps",
        metric=Metric.STEPS,
        mode=ScoringMode.TOTAL,
        start=start,
        end=start + dt.timedelta(days=6),
        time_zone="UTC",
        post_time=dt.time(9),
        daily_goal=10_000,
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


async def seed(
    db: Database, settings: Settings, members: int, now: dt.datetime
) -> tuple[Challenge, list[int]]:
    """N members linked to Google Health in one steps challenge, with today's values as of
    the morning stored; returns the challenge and the members' account ids."""
    assert settings.token_encryption_keys is not None
    cipher = TokenCipher([settings.token_encryption_keys.get_secret_value().encode()])
    people, accounts, players = UsersRepo(db), AccountsRepo(db, cipher), ParticipantsRepo(db)
    challenge = bench_challenge(now)
    challenge_id = await ChallengesRepo(db).insert(challenge)
    account_ids, values = [], []
    morning = now - dt.timedelta(hours=1)
    async with db.transaction():
        for index in range(members):
            discord_id = FIRST_USER + index
            await people.ensure(discord_id, morning, f"Member {index}")
            tokens = TokenSet(
                f"live-access-{index}", f"live-refresh-{index}", now + dt.timedelta(days=30)
            )
            account = await accounts.save_link(
                discord_id, "google_health", f"gh-{index}", tokens, morning
            )
            await players.add(challenge_id, discord_id, challenge.start, morning)
            account_ids.append(account.id)
            for offset in range(3):
                day = challenge.start + dt.timedelta(days=offset)
                steps = steps_of(index, day, now.date(), synced=False)
                values.append(
                    FetchedValue(discord_id, "google_health", DailyValue(Metric.STEPS, day, steps))
                )
    await ValuesRepo(db).store_fetched(values, account_ids, morning)
    stored = await ChallengesRepo(db).get(challenge_id)
    assert stored is not None
    return stored, account_ids  # fmt: skip


async def notify(services: Services, account_id: int, index: int) -> float:
    """One notification: seconds until a fetch that started after it is stored."""
    started = time.perf_counter()
    synced = services.sync.watch(account_id)
    await services.sync.request("google_health", f"gh-{index}", reason="webhook")
    await synced
    return time.perf_counter() - started


async def leaderboard_ms(services: Services, challenge: Challenge, runs: int) -> float:
    """The median server-side build of /leaderboard: the live standings read from storage,
    laid out as the cog does (each row with its sync time) and turned into a Discord embed."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        post = live_post(await services.standings.current(challenge))
        assert post is not None
        to_discord_embed(post)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


async def updated_members(services: Services, challenge: Challenge, today: dt.date) -> int:
    """Members whose new value for today the standings show."""
    board = await services.standings.current(challenge)
    return sum(
        1
        for player in board.standings.players
        if player.daily_values.get(today)
        == steps_of(player.player_id - FIRST_USER, today, today, synced=True)
    )


async def call(base_url: str, settings: Settings, method: str, path: str) -> int:
    async with http_session(settings) as http, http.request(method, f"{base_url}{path}") as answer:
        return int((await answer.json())["requests"])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def benchmark(args: argparse.Namespace, base_url: str, now: dt.datetime) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="stride-bench-live-") as scratch:
        settings = Settings(
            _env_file=None,
            database_path=Path(scratch) / "bench.db",
            token_encryption_keys=Fernet.generate_key().decode(),
            fetch_concurrency=args.concurrency,
            google_health={
                "client_id": "bench",
                "client_secret": "bench",
                "api_base_url": f"{base_url}/v4",
            },
        )
        async with await open_database(settings) as db:
            await db.migrate()
            print(f"bench: seeding {args.members} members", file=sys.stderr)
            challenge, account_ids = await seed(db, settings, args.members, now)
            async with http_session(settings) as http:
                services = build_services(settings, db, http, SystemClock())
                await services.sync.start()
                try:
                    await call(base_url, settings, "POST", "/watch-synced")
                    rng = random.Random(12)
                    burst = [i % args.members for i in range(args.notifications)]
                    rng.shuffle(burst)
                    print(f"bench: {len(burst)} notifications", file=sys.stderr)
                    started = time.perf_counter()
                    latencies = await asyncio.gather(
                        *(notify(services, account_ids[i], i) for i in burst)
                    )
                    wall = time.perf_counter() - started
                    requests = await call(base_url, settings, "GET", "/stats")
                    updated = await updated_members(services, challenge, now.date())
                finally:
                    # Also lets the fair-play reviews that follow the fetches finish, so
                    # /leaderboard is timed on a quiet server.
                    await services.sync.aclose()
                board_ms = await leaderboard_ms(services, challenge, args.leaderboard_runs)
    return {
        "members": args.members,
        "notifications": args.notifications,
        "latency_ms": args.latency_ms,
        "concurrency": args.concurrency,
        "wall_s": round(wall, 2),
        "max_s": round(max(latencies), 3),
        "provider_requests": requests,
        "standings_updated": updated,
        "p50_s": round(percentile(latencies, 0.50), 3),
        "p95_s": round(percentile(latencies, 0.95), 3),
        "requests_per_account": round(requests / args.members, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "leaderboard_ms": round(board_ms, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000)
    parser.add_argument("--notifications", type=int, default=5_000)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=Settings.model_fields["fetch_concurrency"].default,
        help="FETCH_CONCURRENCY: the sync workers' pool (default: Stride's default)",
    )
    parser.add_argument("--leaderboard-runs", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    now = SystemClock().now()
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(
        target=serve, args=(args.latency_ms / 1000, now.date(), child), daemon=True
    )
    server.start()
    try:
        port = parent.recv()
        result = eventloop.run(benchmark(args, f"http://127.0.0.1:{port}", now))
    finally:
        parent.close()
        server.join(timeout=10)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
