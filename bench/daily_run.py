"""Benchmark: one day of the daily run for N linked users against a slow local provider.

    .venv/bin/python bench/daily_run.py --users 10000 --latency-ms 100

A fake Google Health API (just `dataPoints:dailyRollUp`, in its documented shape) runs in a
child process on 127.0.0.1 and answers every request after `--latency-ms`. This process seeds a
temporary database with N users linked to Google Health and playing one steps challenge, builds
Stride exactly as production does (`bot.services.build_services`, the real `GoogleHealthProvider`,
`TokenManager`, HTTP session and `DailyRunner`), moves a fake clock to the challenge's first
post time and runs the daily run once: fetch, store, fair-play review, score, finalise, render
the post and its chart (posted to the tests' recording Discord,
`tests.doubles.messenger.RecordingTransport`, instead of Discord).

For comparison it then runs a baseline: the same users fetched one after another, as a simple
once-a-day loop would. That loop takes N x latency, so it is measured on a sample of users
(`--baseline-sample`) and extrapolated; the output says from how many.

Prints one JSON object: users, latency_ms, wall_s, baseline_wall_s, baseline_extrapolated_from,
speedup, provider_requests, requests_per_user, data_types, concurrency, peak_rss_mb, phases_s
(wall time of the run's phases; the chart is rendered in a thread), failed_fetches, posted.
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
import resource
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import web
from cryptography.fernet import Fernet

from bot.app import http_session
from bot.challenges.model import Challenge, ChallengeStatus
from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.domain import Metric, ScoringMode, TeamMode
from bot.providers.base import TokenSet
from bot.services import Services, build_services
from bot.settings import Settings
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, LinkedAccount, UsersRepo
from bot.storage.challenges import ChallengesRepo, ParticipantsRepo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout: for `tests`
from tests.doubles.messenger import RecordingTransport

START = dt.date(2026, 6, 1)
POST_TIME = dt.time(9)
FIRST_USER = 200_000_000_000_000_000
REQUESTS = web.AppKey("requests", list[int])


# --------------------------------------------------------------------------- the fake provider


def _day(value: dict[str, int]) -> dt.date:
    return dt.date(value["year"], value["month"], value["day"])


def fake_google_health(latency: float) -> web.Application:
    """`POST /v4/users/me/dataTypes/steps/dataPoints:dailyRollUp`, answered after `latency`
    seconds with a plausible step count for each day of the (end-exclusive) range."""

    async def rollup(request: web.Request) -> web.Response:
        request.app[REQUESTS][0] += 1
        body = await request.json()
        await asyncio.sleep(latency)
        first = _day(body["range"]["start"]["date"])
        end = _day(body["range"]["end"]["date"])
        seed = sum(map(ord, request.headers.get("Authorization", "")))
        points = []
        day = first
        while day < end:
            civil = {"date": {"year": day.year, "month": day.month, "day": day.day}}
            steps = 4_000 + (seed * 7919 + day.toordinal() * 104_729) % 9_000
            points.append({"civilStartTime": civil, "steps": {"countSum": str(steps)}})
            day += dt.timedelta(days=1)
        return web.json_response({"rollupDataPoints": points})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"requests": request.app[REQUESTS][0]})

    async def reset(request: web.Request) -> web.Response:
        request.app[REQUESTS][0] = 0
        return web.json_response({"requests": 0})

    app = web.Application()
    app[REQUESTS] = [0]
    app.router.add_post("/v4/users/me/dataTypes/steps/dataPoints:dailyRollUp", rollup)
    app.router.add_get("/stats", stats)
    app.router.add_post("/reset", reset)
    return app


def serve(latency: float, conn: multiprocessing.connection.Connection) -> None:
    """The child process: serve until the parent closes its end of the pipe."""

    async def main() -> None:
        runner = web.AppRunner(fake_google_health(latency), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        conn.send(runner.addresses[0][1])
        await asyncio.get_running_loop().run_in_executor(None, _wait_for_parent, conn)
        await runner.cleanup()

    asyncio.run(main())


def _wait_for_parent(conn: multiprocessing.connection.Connection) -> None:
    with contextlib.suppress(EOFError):
        conn.recv()


# --------------------------------------------------------------------------- Stride's side


async def seed(db: Database, settings: Settings, users: int, now: dt.datetime) -> int:
    """N users linked to Google Health in one steps challenge; returns the challenge id."""
    assert settings.token_encryption_keys is not None
    cipher = TokenCipher([settings.token_encryption_keys.get_secret_value().encode()])
    people = UsersRepo(db)
    accounts = AccountsRepo(db, cipher)
    players = ParticipantsRepo(db)
    challenge_id = await ChallengesRepo(db).insert(
        Challenge(
            id=0,
            guild_id=1,
            channel_id=2,
            name="Benchmark Steps",
            metric=Metric.STEPS,
            mode=ScoringMode.TOTAL,
            start=START,
            end=START + dt.timedelta(days=6),
            time_zone="UTC",
            post_time=POST_TIME,
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
    )
    expires = now + dt.timedelta(days=365)
    async with db.transaction():
        for index in range(users):
            discord_id = FIRST_USER + index
            await people.ensure(discord_id, now, f"Bench Player {index}")
            tokens = TokenSet(f"bench-access-{index}", f"bench-refresh-{index}", expires)
            await accounts.save_link(discord_id, "google_health", f"gh-{index}", tokens, now)
            await players.add(challenge_id, discord_id, START, now)
    return challenge_id


async def provider_requests(base_url: str, session_settings: Settings) -> int:
    async with http_session(session_settings) as http, http.get(f"{base_url}/stats") as answer:
        return int((await answer.json())["requests"])


async def reset_requests(base_url: str, session_settings: Settings) -> None:
    async with http_session(session_settings) as http, http.post(f"{base_url}/reset"):
        pass


async def benchmark(args: argparse.Namespace, base_url: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="stride-bench-") as scratch:
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
        clock = FakeClock(dt.datetime.combine(START - dt.timedelta(days=1), POST_TIME, dt.UTC))
        async with await Database.open(settings.database_path) as db:
            await db.migrate()
            print(f"bench: seeding {args.users} users", file=sys.stderr)
            await seed(db, settings, args.users, clock.now())
            async with http_session(settings) as http:
                services = build_services(settings, db, http, clock)
                messenger = RecordingTransport(clock)
                services.messenger.attach(messenger)
                # The first post time: day 1 is due, its values are fetched and scored.
                clock.set(dt.datetime.combine(START + dt.timedelta(days=1), POST_TIME, dt.UTC))
                await reset_requests(base_url, settings)
                print("bench: daily run", file=sys.stderr)
                started = time.perf_counter()
                report = await services.daily_run.run_due()
                wall = time.perf_counter() - started
                phases = {name: round(value, 2) for name, value in report.seconds.items()}
                requests = await provider_requests(base_url, settings)

                print(f"bench: baseline on {args.baseline_sample} users", file=sys.stderr)
                sample = await baseline_sample(services, args.baseline_sample)
                provider = services.providers["google_health"]
                first = START - dt.timedelta(days=14)  # the same range the run fetched
                started = time.perf_counter()
                for account in sample:

                    async def fetch(token: str) -> object:
                        return await provider.fetch_daily(
                            token, [Metric.STEPS], first, START,
                            include_manual=False, user_tz=dt.UTC,  # type: ignore[arg-type]
                        )  # fmt: skip

                    await services.tokens.call_with_token(account, fetch)
                per_user = (time.perf_counter() - started) / len(sample)
    baseline = per_user * args.users
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "users": args.users,
        "latency_ms": args.latency_ms,
        "wall_s": round(wall, 2),
        "baseline_wall_s": round(baseline, 1),
        "baseline_extrapolated_from": len(sample),
        "speedup": round(baseline / wall, 1),
        "provider_requests": requests,
        "requests_per_user": round(requests / args.users, 3),
        "data_types": 1,
        "concurrency": args.concurrency,
        "peak_rss_mb": round(peak_rss_mb, 1),
        "phases_s": phases,
        "failed_fetches": sum(report.fetch_failures.values()),
        "posted": bool(messenger.posts) and not report.errors,
    }


async def baseline_sample(services: Services, size: int) -> list[LinkedAccount]:
    """The first `size` seeded accounts."""
    repo = AccountsRepo(services.db, services.cipher)
    sample = []
    for index in range(size):
        account = await repo.get(FIRST_USER + index, "google_health")
        if account is not None:
            sample.append(account)
    return sample


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=Settings.model_fields["fetch_concurrency"].default,
        help="FETCH_CONCURRENCY for the run (default: Stride's default)",
    )
    parser.add_argument("--baseline-sample", type=int, default=100)
    args = parser.parse_args()
    args.baseline_sample = min(args.baseline_sample, args.users)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=serve, args=(args.latency_ms / 1000, child), daemon=True)
    server.start()
    try:
        port = parent.recv()
        result = asyncio.run(benchmark(args, f"http://127.0.0.1:{port}"))
    finally:
        parent.close()
        server.join(timeout=10)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
