"""Benchmark: one day of the daily run for N linked users against a slow local provider.

    .venv/bin/python bench/daily_run.py --users 10000 --latency-ms 100
    .venv/bin/python bench/daily_run.py --users 10000 --database-url postgresql://…/db
    .venv/bin/python bench/daily_run.py --users 10000 --database-url postgresql://…/db \\
        --compare-processes

A fake Google Health API (just `dataPoints:dailyRollUp`, in its documented shape) runs in a
child process on 127.0.0.1 and answers every request after `--latency-ms`. The benchmark seeds
a scratch database with N users linked to Google Health and playing one steps challenge: a
temporary SQLite file, or with `--database-url` a database of its own that it creates on that
PostgreSQL server (the role needs CREATEDB) and drops at the end. Then it starts Stride in
worker processes of its own (`python bench/daily_run.py --worker`), built exactly as
production builds it (`bot.services.build_services` on the fastest event loop,
`bot.eventloop`: the real `GoogleHealthProvider`, `TokenManager`, HTTP session and
`DailyRunner`, posting to the tests' recording Discord,
`tests.doubles.messenger.RecordingTransport`), moves their fake clocks to the challenge's first
post time and runs the daily run once: fetch, store, fair-play review, score, finalise, render
the post and its chart.

For comparison the worker then runs a baseline: the same users fetched one after another, as
a simple once-a-day loop would. That loop takes N x latency, so it is measured on a sample of
users (`--baseline-sample`) and extrapolated; the output says from how many.

Prints one JSON object: engine, users, latency_ms, wall_s, cpu_s (the worker's CPU time in the
run), baseline_wall_s, baseline_extrapolated_from, speedup, provider_requests,
requests_per_user, data_types, concurrency, server_cpu_s (the fake provider's CPU time),
peak_rss_mb (the worker's), phases_s (wall time of the run's phases; the chart is rendered in a
thread), failed_fetches, posted. `--profile FILE` records the worker with py-spy (on PATH).

`--compare-processes` (PostgreSQL) measures one against two Stride processes instead: the users
play in two guilds, one on each of two Discord shards, `--shared` of them in both; the same
seeded database is copied twice, the daily run is run once by one process owning both shards
and once by two processes owning one shard each, started together (each account is claimed and
fetched once, `bot.daily.once`). It prints one JSON object with both runs and
`speedup_two_processes` (one process's wall over two processes' wall).
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
import os
import resource
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import orjson
from aiohttp import web
from cryptography.fernet import Fernet
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout: for `tests`
from bot import eventloop
from bot.app import http_session
from bot.challenges.model import Challenge, ChallengeStatus
from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.domain import Metric, ScoringMode, TeamMode
from bot.providers.base import TokenSet
from bot.services import Services, build_services
from bot.settings import GoogleHealthSettings, PublishSettings, Settings
from bot.shards import guild_shard
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, LinkedAccount, UsersRepo
from bot.storage.challenges import ChallengesRepo, ParticipantsRepo
from tests.doubles.messenger import RecordingTransport

START = dt.date(2026, 6, 1)
POST_TIME = dt.time(9)
SEEDED_AT = dt.datetime.combine(START - dt.timedelta(days=1), POST_TIME, dt.UTC)
FIRST_POST = dt.datetime.combine(START + dt.timedelta(days=1), POST_TIME, dt.UTC)
FIRST_USER = 200_000_000_000_000_000
SHARD_COUNT = 2
KEY_VARIABLE = "STRIDE_BENCH_TOKEN_KEY"  # the workers' Fernet key: never on a command line
REQUESTS = web.AppKey("requests", list[int])
CPU = web.AppKey("cpu", list[float])  # the server's CPU time at the last reset
SEED_CHUNK = 1000  # users per seeding transaction


# --------------------------------------------------------------------------- the fake provider


def _day(value: dict[str, int]) -> dt.date:
    return dt.date(value["year"], value["month"], value["day"])


def fake_google_health(latency: float) -> web.Application:
    """`POST /v4/users/me/dataTypes/steps/dataPoints:dailyRollUp`, answered after `latency`
    seconds with a plausible step count for each day of the (end-exclusive) range."""

    async def rollup(request: web.Request) -> web.Response:
        request.app[REQUESTS][0] += 1
        body = orjson.loads(await request.read())
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
        answer = orjson.dumps({"rollupDataPoints": points})
        return web.Response(body=answer, content_type="application/json")

    async def stats(request: web.Request) -> web.Response:
        cpu = time.process_time() - request.app[CPU][0]
        return web.json_response({"requests": request.app[REQUESTS][0], "cpu_s": cpu})

    async def reset(request: web.Request) -> web.Response:
        request.app[REQUESTS][0] = 0
        request.app[CPU][0] = time.process_time()
        return web.json_response({"requests": 0, "cpu_s": 0.0})

    app = web.Application()
    app[REQUESTS] = [0]
    app[CPU] = [time.process_time()]
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

    eventloop.run(main())


def _wait_for_parent(conn: multiprocessing.connection.Connection) -> None:
    with contextlib.suppress(EOFError):
        conn.recv()


async def _server_call(base_url: str, method: str, path: str) -> tuple[int, float]:
    """The fake server's requests and CPU seconds since its last reset."""
    settings = Settings(_env_file=None)
    async with http_session(settings) as http, http.request(method, base_url + path) as answer:
        stats = await answer.json()
        return int(stats["requests"]), round(float(stats["cpu_s"]), 2)


# --------------------------------------------------------------------------- scratch databases


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


class PostgresScratch:
    """Databases of the benchmark's own on the server of `url`, dropped when it ends."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._prefix = f"stride_bench_{secrets.token_hex(4)}"
        self._made: list[str] = []

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self._url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create(self, suffix: str, *, template: str | None = None) -> str:
        """A new empty database (or a copy of `template`, a URL made here); its URL."""
        name = f"{self._prefix}_{suffix}"
        copy = f" TEMPLATE {urlsplit(template).path.lstrip('/')}" if template else ""
        await self._admin(f"CREATE DATABASE {name}{copy}")
        self._made.append(name)
        return _with_database(self._url, name)

    async def drop_all(self) -> None:
        for name in reversed(self._made):
            await self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self._made.clear()


# --------------------------------------------------------------------------- seeding


def _challenge(guild_id: int, index: int) -> Challenge:
    return Challenge(
        id=0,
        guild_id=guild_id,
        channel_id=1000 + index,
        name=f"Benchmark Steps {index + 1}",
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
        created_at=SEEDED_AT,
    )


def bench_guilds(count: int) -> list[int]:
    """`count` guild ids that take turns over the shards: shard 0, shard 1, shard 0, …"""
    guilds = [(index + SHARD_COUNT) << 22 for index in range(count)]
    assert [guild_shard(g, SHARD_COUNT) for g in guilds] == [i % SHARD_COUNT for i in range(count)]
    return guilds


def players_of(users: int, guilds: int, shared: float) -> list[list[int]]:
    """Each guild's players (user indexes): the users split evenly, and the first
    `shared` of them also playing in the next guild."""
    split = [list(range(g, users, guilds)) for g in range(guilds)]
    if guilds > 1:
        both = range(int(users * shared))
        for index in both:
            home = index % guilds
            split[(home + 1) % guilds].append(index)
    return split


async def seed(
    db: Database, key: str, users: int, guilds: int, shared: float, parallel: int
) -> None:
    """N users linked to Google Health, in one steps challenge per guild."""
    cipher = TokenCipher([key.encode()])
    challenges = [
        await ChallengesRepo(db).insert(_challenge(guild, index))
        for index, guild in enumerate(bench_guilds(guilds))
    ]
    member_of: dict[int, list[int]] = {}
    for challenge_id, players in zip(challenges, players_of(users, guilds, shared), strict=True):
        for index in players:
            member_of.setdefault(index, []).append(challenge_id)
    turns = asyncio.Semaphore(parallel)

    async def chunk(first: int) -> None:
        async with turns, db.transaction(exclusive=False):
            people, accounts, players = (
                UsersRepo(db),
                AccountsRepo(db, cipher),
                ParticipantsRepo(db),
            )
            expires = SEEDED_AT + dt.timedelta(days=365)
            for index in range(first, min(first + SEED_CHUNK, users)):
                discord_id = FIRST_USER + index
                await people.ensure(discord_id, SEEDED_AT, f"Bench Player {index}")
                tokens = TokenSet(f"bench-access-{index}", f"bench-refresh-{index}", expires)
                await accounts.save_link(
                    discord_id, "google_health", f"gh-{index}", tokens, SEEDED_AT
                )
                for challenge_id in member_of[index]:
                    await players.add(challenge_id, discord_id, START, SEEDED_AT)

    async with asyncio.TaskGroup() as group:
        for first in range(0, users, SEED_CHUNK):
            group.create_task(chunk(first))


# --------------------------------------------------------------------------- a Stride worker


def worker_settings(args: argparse.Namespace, key: str, folder: Path) -> Settings:
    """The worker's settings; `folder` holds what Stride keeps beside its database."""
    postgres = args.database.startswith("postgresql://")
    shards = [int(s) for s in args.shard_ids.split(",")] if args.shard_ids else None
    return Settings(
        _env_file=None,
        database_url=SecretStr(args.database) if postgres else None,
        database_path=folder / "unused.db" if postgres else Path(args.database),
        token_encryption_keys=SecretStr(key),
        fetch_concurrency=args.concurrency,
        shard_count=SHARD_COUNT,
        shard_ids=shards,
        instance_name=args.instance,
        publish=PublishSettings(secret=SecretStr(key)),
        google_health=GoogleHealthSettings(
            client_id="bench",
            client_secret=SecretStr("bench"),
            api_base_url=f"{args.base_url}/v4",
        ),
    )


async def run_worker(args: argparse.Namespace) -> dict[str, object]:
    """One Stride process: build it, wait for "go" on stdin, run the day, then the baseline."""
    with tempfile.TemporaryDirectory(prefix="stride-bench-worker-") as folder:
        return await _run_worker(
            args, worker_settings(args, os.environ[KEY_VARIABLE], Path(folder))
        )


async def _run_worker(args: argparse.Namespace, settings: Settings) -> dict[str, object]:
    clock = FakeClock(FIRST_POST)
    async with await Database.open(args.database) as db, http_session(settings) as http:
        services = build_services(settings, db, http, clock)
        messenger = RecordingTransport(clock)
        services.messenger.attach(messenger)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        started, cpu_started = time.perf_counter(), time.process_time()
        report = await services.daily_run.run_due()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        result: dict[str, object] = {
            "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2),
            "accounts_fetched": report.accounts_fetched,
            "challenges": len(report.posts),
            "phases_s": {name: round(value, 2) for name, value in report.seconds.items()},
            "failed_fetches": sum(report.fetch_failures.values()),
            "posted": len(messenger.posts) == len(report.challenges) > 0 and not report.errors,
        }
        if args.baseline_sample:
            result["baseline_per_user_s"] = await baseline(services, args.baseline_sample)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


async def baseline(services: Services, size: int) -> float:
    """Seconds per user of a sequential loop over the first `size` seeded accounts."""
    repo = AccountsRepo(services.db, services.cipher)
    sample: list[LinkedAccount] = []
    for index in range(size):
        account = await repo.get(FIRST_USER + index, "google_health")
        if account is not None:
            sample.append(account)
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
    return (time.perf_counter() - started) / len(sample)


# --------------------------------------------------------------------------- orchestration


@dataclass(frozen=True, slots=True)
class Worker:
    shard_ids: str  # "" for every shard
    baseline_sample: int = 0


async def run_workers(
    args: argparse.Namespace, base_url: str, target: str, key: str, workers: Sequence[Worker]
) -> tuple[float, list[dict[str, object]]]:
    """Start the workers, let them all go at once; the wall time and each one's result."""
    env = {**os.environ, KEY_VARIABLE: key}
    procs = []
    for number, worker in enumerate(workers):
        command = [
            sys.executable, __file__, "--worker", "--database", target, "--base-url", base_url,
            "--shard-ids", worker.shard_ids, "--instance", f"bench-{number}",
            "--concurrency", str(args.concurrency),
            "--baseline-sample", str(worker.baseline_sample),
        ]  # fmt: skip
        if args.profile and number == 0:  # py-spy records the first worker
            spy = ["py-spy", "record", "-r", "200", "-f", "raw", "-o", args.profile, "--"]
            command = [*spy, *command]
        procs.append(
            await asyncio.create_subprocess_exec(
                *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env
            )
        )
    for proc in procs:
        assert proc.stdout is not None
        while (line := await proc.stdout.readline()).strip() != b"ready":
            if not line:
                raise RuntimeError("a worker did not start")
    await _server_call(base_url, "POST", "/reset")
    started = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
    outputs = await asyncio.gather(*(proc.communicate() for proc in procs))
    wall = time.perf_counter() - started  # ends after the slowest baseline too: not used then
    if any(proc.returncode for proc in procs):
        raise RuntimeError("a worker failed")
    return wall, [_result_in(out) for out, _ in outputs]


def _result_in(output: bytes) -> dict[str, object]:
    """A worker's JSON line (py-spy, when profiling, writes lines of its own)."""
    lines = [line for line in output.splitlines() if line.startswith(b"{")]
    result: dict[str, object] = json.loads(lines[-1])
    return result


@contextlib.asynccontextmanager
async def scratch_target(url: str | None) -> AsyncIterator[tuple[str, PostgresScratch | None]]:
    """Where the seeded database goes: a new SQLite file, or a new PostgreSQL database."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="stride-bench-") as folder:
            yield str(Path(folder) / "bench.db"), None
        return
    scratch = PostgresScratch(url)
    try:
        yield await scratch.create("seed"), scratch
    finally:
        await scratch.drop_all()


async def seeded(target: str, key: str, args: argparse.Namespace, guilds: int) -> None:
    started = time.perf_counter()
    async with await Database.open(target) as db:
        await db.migrate()
        parallel = 4 if db.engine == "postgresql" else 1
        await seed(db, key, args.users, guilds, args.shared, parallel)
    log(f"seeded {args.users} users in {guilds} guild(s) in {time.perf_counter() - started:.0f} s")


async def scaling_run(args: argparse.Namespace, base_url: str) -> dict[str, object]:
    key = Fernet.generate_key().decode()
    async with scratch_target(args.database_url) as (target, _):
        await seeded(target, key, args, guilds=1)
        log("daily run")
        _, [result] = await run_workers(
            args, base_url, target, key, [Worker("", args.baseline_sample)]
        )
        requests, server_cpu = await _server_call(base_url, "GET", "/stats")
    baseline_wall = float(str(result.pop("baseline_per_user_s"))) * args.users
    requests -= args.baseline_sample  # the baseline's own requests
    wall = float(str(result["wall_s"]))
    return {
        "engine": "sqlite" if args.database_url is None else "postgresql",
        "users": args.users,
        "latency_ms": args.latency_ms,
        "wall_s": wall,
        "cpu_s": result["cpu_s"],
        "baseline_wall_s": round(baseline_wall, 1),
        "baseline_extrapolated_from": args.baseline_sample,
        "speedup": round(baseline_wall / wall, 1),
        "provider_requests": requests,
        "requests_per_user": round(requests / args.users, 3),
        "data_types": 1,
        "concurrency": args.concurrency,
        "server_cpu_s": server_cpu,
        "peak_rss_mb": result["peak_rss_mb"],
        "phases_s": result["phases_s"],
        "failed_fetches": result["failed_fetches"],
        "posted": result["posted"],
    }


async def process_comparison(args: argparse.Namespace, base_url: str) -> dict[str, object]:
    """The same seeded day run by one process (both shards) and by two (one shard each)."""
    if args.database_url is None:
        raise SystemExit("--compare-processes needs --database-url (PostgreSQL)")
    key = Fernet.generate_key().decode()
    runs: dict[str, dict[str, object]] = {}
    async with scratch_target(args.database_url) as (seed_url, scratch):
        assert scratch is not None
        await seeded(seed_url, key, args, guilds=SHARD_COUNT)
        for label, workers in (("one", [Worker("")]), ("two", [Worker("0"), Worker("1")])):
            target = await scratch.create(label, template=seed_url)
            log(f"daily run: {len(workers)} process(es)")
            wall, results = await run_workers(args, base_url, target, key, workers)
            requests, server_cpu = await _server_call(base_url, "GET", "/stats")
            runs[label] = {
                "processes": len(workers),
                # The run: from "go" until the last process's daily run returned.
                "wall_s": max(float(str(result["wall_s"])) for result in results),
                "until_exit_s": round(wall, 2),
                "provider_requests": requests,
                "requests_per_user": round(requests / args.users, 3),
                "server_cpu_s": server_cpu,
                "per_process": results,
            }
    return {
        "engine": "postgresql",
        "users": args.users,
        "shared_members": int(args.users * args.shared),
        "latency_ms": args.latency_ms,
        "concurrency": args.concurrency,
        "one_process": runs["one"],
        "two_processes": runs["two"],
        "speedup_two_processes": round(
            float(str(runs["one"]["wall_s"])) / float(str(runs["two"]["wall_s"])), 2
        ),
    }


def log(line: str) -> None:
    print(f"bench: {line}", file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
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
    parser.add_argument(
        "--database-url", help="a PostgreSQL server to benchmark on (default: SQLite)"
    )
    parser.add_argument("--compare-processes", action="store_true")
    parser.add_argument("--profile", help="record the (first) worker with py-spy into this file")
    parser.add_argument(
        "--shared", type=float, default=0.1, help="share of users in both guilds (comparison)"
    )
    # A worker process (started by the benchmark itself).
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--shard-ids", default="", help=argparse.SUPPRESS)
    parser.add_argument("--instance", default="bench", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.worker:
        args.baseline_sample = max(1, min(args.baseline_sample, args.users))
    return args


def main() -> int:
    args = parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.worker:
        print(json.dumps(eventloop.run(run_worker(args))))
        return 0
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=serve, args=(args.latency_ms / 1000, child), daemon=True)
    server.start()
    try:
        base_url = f"http://127.0.0.1:{parent.recv()}"
        bench = process_comparison if args.compare_processes else scaling_run
        result = eventloop.run(bench(args, base_url))
    finally:
        parent.close()
        server.join(timeout=10)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
