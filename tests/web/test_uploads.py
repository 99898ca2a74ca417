"""Apple Health end to end: `/link apple_health` through the cog, then the iPhone's uploads
through the real web route into `/leaderboard`, on SQLite and on PostgreSQL.

The services are the real ones (`build_services`) over a real database, with the Apple Health
provider beside the fake provider of `tests.daily.world`; the routes are the ones
`bot.app.route_installers` mounts, served on a loopback port.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from unittest.mock import MagicMock, create_autospec

import discord
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import route_installers
from bot.challenges.describe import rule_sentences
from bot.crypto import TokenCipher
from bot.discord_bot import StrideBot
from bot.domain import Metric, ScoringMode
from bot.providers.apple_health import SECRET_HEADER, AppleHealthProvider
from bot.services import Services, build_services
from bot.settings import AppleHealthSettings, Settings
from bot.storage import Database
from bot.storage.uploads import UploadsRepo
from bot.storage.values import ValuesRepo
from bot.sync.member import AccountRefresh, Refresh, RefreshStatus
from bot.sync.queue import SETTLE
from bot.sync.worker import SyncOutcome, SyncStatus
from bot.web.app import create_app
from bot.web.uploads import UploadRateLimit, upload_routes
from cogs.accounts import AccountsCog
from cogs.leaderboard import LeaderboardCog, refresh_message
from tests.daily.world import World, day, local
from tests.doubles.interaction import interaction, only_reply
from tests.engines import ENGINES

from .rawhttp import exchange, recording_logs, request, status_of

BASE_URL = "https://stride.example"
ALICE, BOB = 11, 12
MAX_BYTES = 16 * 1024
BURST = 3

Client = Callable[[web.Application], Awaitable[TestClient]]
HAE_DATE = "data.metrics[0].data[0].date"
SLEEP = {"metric": "sleep", "date": "2026-06-02", "value": 420}


@dataclass(frozen=True)
class Phone:
    """What the member copied from the DM into their iPhone: the path and the secret."""

    path: str
    secret: str


@pytest.fixture(params=ENGINES)
def db_engine(request: pytest.FixtureRequest) -> str:
    """Uploads are stored on both engines (`tests.engines`)."""
    return str(request.param)


@pytest.fixture
def world(db: Database, cipher: TokenCipher) -> World:
    return World(db, cipher)


@pytest.fixture
def services(
    world: World, db: Database, cipher: TokenCipher, make_settings: Callable[..., Settings]
) -> Services:
    settings = make_settings(
        public_base_url=BASE_URL,
        apple_health=AppleHealthSettings(
            enabled=True, max_upload_bytes=MAX_BYTES, upload_burst=BURST, uploads_per_hour=60
        ),
    )
    built = build_services(
        settings,
        db,
        MagicMock(),  # never used: neither provider speaks HTTP
        world.clock,
        providers={"fake": world.provider, "apple_health": AppleHealthProvider()},
        cipher=cipher,
    )
    built.messenger.attach(world.messenger)
    return built


def cog_of(cog_class: type[Any], services: Services) -> Any:
    bot = create_autospec(StrideBot, instance=True)
    bot.services = services
    return cog_class(bot)


@pytest.fixture
async def client(services: Services, aiohttp_client: Client) -> TestClient:
    app = create_app(
        db=services.db, metrics=services.metrics, installers=route_installers(services)
    )
    return await aiohttp_client(app)


async def link_phone(services: Services, world: World, member: int) -> Phone:
    """`/link apple_health` as Discord calls it; the address and secret from the DM."""
    cog = cog_of(AccountsCog, services)
    double = interaction(member, guild_id=1)
    await cog.link.callback(cog, double, provider="apple_health")
    text, kwargs = only_reply(double)
    assert kwargs["ephemeral"] is True and "I sent you a DM" in text
    assert "sah1_" not in text  # the secret goes by DM only
    dm = world.messenger.to(member)[-1]
    assert dm.embed is not None
    fields = {field.name: field.value for field in dm.embed.fields}
    address = fields["Upload address"].strip("`")
    header, secret = fields["Header"].strip("`").split(": ")
    assert header == SECRET_HEADER
    assert address.startswith(f"{BASE_URL}/upload/apple-health/")
    assert "Health Auto Export" in fields["With Health Auto Export"]
    assert "Get Contents of URL" in fields["With Apple Shortcuts"]
    return Phone(path=address.removeprefix(BASE_URL), secret=secret)


async def upload(
    client: TestClient, phone: Phone, body: object, *, secret: str | None = None
) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {SECRET_HEADER: phone.secret if secret is None else secret}
    response = await client.post(phone.path, data=data, headers=headers)
    return response.status, await response.json()


def health_auto_export(*metrics: dict[str, Any]) -> dict[str, Any]:
    return {"data": {"metrics": list(metrics), "workouts": []}}


async def leaderboard_rows(services: Services, member: int) -> list[str]:
    cog = cog_of(LeaderboardCog, services)
    double = interaction(member, guild_id=1)
    await cog.leaderboard.callback(cog, double, challenge="june steps")
    _, kwargs = only_reply(double)
    embed: discord.Embed = kwargs["embed"]
    return (embed.description or "").splitlines()


async def standings_values(services: Services, world: World) -> dict[int, dict[dt.date, float]]:
    [challenge] = await world.challenges.active_challenges()
    board = await services.standings.current(challenge)
    return {p.player_id: dict(p.daily_values) for p in board.standings.players}


# --------------------------------------------------------------------------- both shapes land


async def test_a_health_auto_export_upload_shows_in_the_leaderboard(
    services: Services, world: World, client: TestClient
) -> None:
    challenge = await world.add_challenge(goal=8_000)
    await world.add_player(challenge, ALICE, "Alice", linked=False)
    await world.add_player(challenge, BOB, "Bob")
    world.provider.set(f"user{BOB}", day(2), 7_000)
    world.clock.set(local(day(2), 14, 5))
    assert await services.sync.request("fake", f"user{BOB}", reason="webhook") == 1
    world.clock.advance(SETTLE)
    await services.sync.run_due()  # Bob's watch synced through the live path
    phone = await link_phone(services, world, ALICE)

    status, answer = await upload(
        client,
        phone,
        health_auto_export(
            {
                "name": "step_count",
                "units": "count",
                "data": [
                    {"qty": 5_000, "date": "2026-06-02 00:00:00 +0200"},
                    {"qty": 4_100, "date": "2026-06-02 13:00:00 +0200"},
                ],
            },
            {"name": "heart_rate", "units": "count/min", "data": [{"Avg": 60, "date": "x"}]},
        ),
    )

    assert status == 200, answer
    assert answer == {
        "status": "ok",
        "days": 1,
        "changed": 1,
        "ignored": ["heart_rate"],
        "skipped": [],
    }
    rows = await leaderboard_rows(services, ALICE)
    assert "`1.` Alice · 9,100 steps ✓ · **9,100 steps** · synced 14:05" in rows
    assert "`2.` Bob · 7,000 steps · **7,000 steps** · synced 14:05" in rows
    stored = UploadsRepo(services.db)
    assert await stored.provenance(ALICE, Metric.STEPS, day(2)) == {"apple_health": "phone"}
    assert await stored.provenance(BOB, Metric.STEPS, day(2)) == {"fake": "device"}


async def test_a_shortcut_upload_lands_in_the_standings_in_its_units(
    services: Services, world: World, client: TestClient
) -> None:
    challenge = await world.add_challenge(metric=Metric.DISTANCE)
    await world.add_player(challenge, ALICE, "Alice", linked=False)
    world.clock.set(local(day(3), 20))
    phone = await link_phone(services, world, ALICE)

    single = {"metric": "distance", "date": "2026-06-03", "value": "5", "unit": "mi"}
    several = {
        "samples": [
            {"metric": "distance", "date": "2026-06-02T08:00:00+01:00", "value": 3000, "unit": "m"},
            {"metric": "distance", "date": "2026-06-02T18:00:00+01:00", "value": 2.5, "unit": "km"},
        ]
    }

    assert (await upload(client, phone, single))[0] == 200
    assert (await upload(client, phone, several))[0] == 200
    values = await standings_values(services, world)
    assert values[ALICE] == {day(2): 5.5, day(3): pytest.approx(8.0467)}


# --------------------------------------------------------------------------- idempotent


async def test_the_same_upload_twice_changes_nothing_and_a_new_one_replaces_the_day(
    services: Services, world: World, client: TestClient
) -> None:
    challenge = await world.add_challenge()
    await world.add_player(challenge, ALICE, "Alice", linked=False)
    world.clock.set(local(day(2), 10))
    phone = await link_phone(services, world, ALICE)
    body = {"metric": "steps", "date": "2026-06-02", "value": 6_000}
    assert (await upload(client, phone, body))[0] == 200
    before = await world.snapshot()

    world.clock.set(local(day(2), 11))
    status, answer = await upload(client, phone, body)

    assert (status, answer["changed"]) == (200, 0)
    after = await world.snapshot()
    assert after["daily_values"] == before["daily_values"]  # not even re-written
    assert (await standings_values(services, world))[ALICE] == {day(2): 6_000}
    status, answer = await upload(client, phone, {**body, "value": 7_500})
    assert (status, answer["changed"]) == (200, 1)
    assert (await standings_values(services, world))[ALICE] == {day(2): 7_500}  # not 13,500


# --------------------------------------------------------------------------- refusals


async def test_a_wrong_or_missing_secret_is_401_and_stores_nothing(
    services: Services, world: World, client: TestClient
) -> None:
    challenge = await world.add_challenge()
    await world.add_player(challenge, ALICE, "Alice", linked=False)
    world.clock.set(local(day(2), 10))
    phone = await link_phone(services, world, ALICE)
    body = {"metric": "steps", "date": "2026-06-02", "value": 6_000}

    wrong = await upload(client, phone, body, secret=phone.secret[:-1] + "x")
    missing = await client.post(phone.path, data=json.dumps(body))
    unknown = await upload(client, Phone("/upload/apple-health/nope", phone.secret), body)

    assert wrong[0] == missing.status == unknown[0] == 401
    assert wrong[1]["error"] == "unauthorized"
    assert phone.secret not in json.dumps(wrong[1])
    assert (await standings_values(services, world)).get(ALICE, {}) == {}


async def test_a_secret_header_that_is_not_utf8_is_401_not_a_500(
    services: Services, world: World, client: TestClient
) -> None:
    phone = await link_phone(services, world, ALICE)
    body = json.dumps({"metric": "steps", "date": "2026-06-02", "value": 6_000}).encode()

    with recording_logs() as logs:  # latin-1 on the wire: "\xe9" is no UTF-8
        answer = await exchange(
            client.port, request("POST", phone.path, body, headers={SECRET_HEADER: "sah1_é"})
        )

    assert status_of(answer) == 401
    assert b"unauthorized" in answer
    assert not [line for line in logs.lines if "ERROR" in line or "Traceback" in line]


async def test_authentication_comes_before_the_body_is_read(
    world: World, services: Services, client: TestClient
) -> None:
    await world.add_challenge()
    phone = await link_phone(services, world, ALICE)

    status, answer = await upload(client, phone, b"x" * (MAX_BYTES + 1), secret="wrong")

    assert (status, answer["error"]) == (401, "unauthorized")  # not 413, not 400


async def test_an_oversized_upload_is_413(
    world: World, services: Services, client: TestClient
) -> None:
    phone = await link_phone(services, world, ALICE)
    points = [{"qty": 1, "date": "2026-06-01 00:00:00 +0000"}] * 1_000
    body = health_auto_export({"name": "step_count", "units": "count", "data": points})

    status, answer = await upload(client, phone, body)

    assert (status, answer["error"]) == (413, "too_large")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", None),
        ({"something": "else"}, None),
        ({"metric": "steps", "date": "yesterday", "value": 1}, "date"),
        ({"metric": "steps", "date": "2026-06-02", "value": "lots"}, "value"),
        (health_auto_export({"name": "step_count", "data": [{"qty": 1}]}), HAE_DATE),
    ],
)
async def test_a_malformed_upload_is_400_naming_the_field(
    world: World, services: Services, client: TestClient, body: object, field: str | None
) -> None:
    world.clock.set(local(day(2), 10))
    phone = await link_phone(services, world, ALICE)

    status, answer = await upload(client, phone, body)

    assert status == 400
    assert (answer["error"], answer["field"]) == ("malformed", field)


@pytest.mark.parametrize(
    ("sample", "code", "field"),
    [
        ({"metric": "steps", "date": "2026-06-04", "value": 10}, "out_of_window", "date"),
        ({"metric": "steps", "date": "2026-03-01", "value": 10}, "out_of_window", "date"),
        ({"metric": "steps", "date": "2026-06-02", "value": -5}, "impossible_value", "value"),
        ({"metric": "steps", "date": "2026-06-02", "value": 250_000}, "impossible_value", "value"),
        ({**SLEEP, "value": 30, "unit": "h"}, "impossible_value", "value"),
        ({**SLEEP, "value": 5, "unit": "km"}, "unknown_unit", "unit"),
        ({**SLEEP, "metric": "heart_rate"}, "unknown_metric", "metric"),
    ],
)
async def test_days_outside_the_window_and_impossible_values_are_422_naming_the_field(
    world: World,
    services: Services,
    client: TestClient,
    sample: dict[str, Any],
    code: str,
    field: str,
) -> None:
    challenge = await world.add_challenge()
    await world.add_player(challenge, ALICE, "Alice", linked=False)
    world.clock.set(local(day(2), 10))
    phone = await link_phone(services, world, ALICE)
    fine = {"metric": "steps", "date": "2026-06-02", "value": 4_000}

    status, answer = await upload(client, phone, {"samples": [fine, sample]})

    assert status == 422
    assert (answer["error"], answer["field"]) == (code, f"samples[1].{field}")
    assert answer["message"]
    assert (await standings_values(services, world)).get(ALICE, {}) == {}  # all or nothing


async def test_uploads_beyond_the_rate_are_429_with_retry_after(
    world: World, services: Services, client: TestClient
) -> None:
    world.clock.set(local(day(2), 10))
    phone = await link_phone(services, world, ALICE)
    body = {"metric": "steps", "date": "2026-06-02", "value": 4_000}

    statuses = [(await upload(client, phone, body))[0] for _ in range(BURST)]
    refused = await client.post(
        phone.path, data=json.dumps(body), headers={SECRET_HEADER: phone.secret}
    )
    world.clock.advance(dt.timedelta(minutes=1))  # one more upload's worth at 60 an hour
    again = await upload(client, phone, body)

    assert statuses == [200] * BURST
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "60"
    assert again[0] == 200


# --------------------------------------------------------------------------- unlink, relink


async def test_unlink_revokes_the_address_and_relinking_replaces_the_secret(
    services: Services, world: World, client: TestClient
) -> None:
    challenge = await world.add_challenge()
    await world.add_player(challenge, ALICE, "Alice", linked=False)
    world.clock.set(local(day(2), 10))
    first = await link_phone(services, world, ALICE)
    body = {"metric": "steps", "date": "2026-06-02", "value": 4_000}
    assert (await upload(client, first, body))[0] == 200

    second = await link_phone(services, world, ALICE)
    assert second.secret != first.secret and second.path != first.path
    assert (await upload(client, first, body))[0] == 401  # the old address is gone
    assert (await upload(client, second, {**body, "value": 5_000}))[0] == 200

    cog = cog_of(AccountsCog, services)
    double = interaction(ALICE, guild_id=1)
    await cog.unlink.callback(cog, double, provider="apple_health")
    text, _ = only_reply(double)
    assert "upload address and secret stop working" in text
    assert (await upload(client, second, body))[0] == 401
    assert (await standings_values(services, world))[ALICE] == {day(2): 5_000}  # values stay


async def test_the_secret_is_stored_only_as_a_fingerprint(services: Services, world: World) -> None:
    phone = await link_phone(services, world, ALICE)

    rows = await services.db.fetch_all("SELECT * FROM apple_health_uploads")
    accounts = await services.db.fetch_all("SELECT * FROM linked_accounts")

    stored = [v if isinstance(v, bytes) else str(v).encode() for r in [*rows, *accounts] for v in r]
    assert not any(phone.secret.encode() in value for value in stored)
    assert "sah1_" not in repr(await services.apple_health.link(ALICE))  # type: ignore[union-attr]


async def test_the_export_marks_uploaded_values_and_leaves_the_secret_out(
    services: Services, world: World, client: TestClient
) -> None:
    challenge = await world.add_challenge()
    await world.add_player(challenge, ALICE, "Alice", linked=False)
    world.clock.set(local(day(2), 10))
    phone = await link_phone(services, world, ALICE)
    assert (await upload(client, phone, {"metric": "steps", "date": "2026-06-02", "value": 1})) == (
        200,
        {"status": "ok", "days": 1, "changed": 1, "ignored": [], "skipped": []},
    )

    exported = json.loads((await services.privacy.export(ALICE)).data)

    tables = exported["tables"]
    [mark] = tables["value_provenance"]
    assert (mark["provider"], mark["day"], mark["provenance"]) == (
        "apple_health",
        "2026-06-02",
        "phone",
    )
    [address] = tables["apple_health_uploads"]
    assert "secret_hash" not in address
    assert phone.secret not in json.dumps(exported)


async def test_with_dms_closed_the_secret_comes_in_the_ephemeral_reply_only(
    services: Services, world: World
) -> None:
    world.messenger.dms_open = False
    cog = cog_of(AccountsCog, services)
    double = interaction(ALICE, guild_id=1)

    await cog.link.callback(cog, double, provider="apple_health")

    text, kwargs = only_reply(double)
    assert kwargs["ephemeral"] is True and "could not DM you" in text
    embed: discord.Embed = kwargs["embed"]
    fields = {field.name: field.value or "" for field in embed.fields}
    assert fields["Header"].startswith(f"`{SECRET_HEADER}: sah1_")
    assert world.messenger.to(ALICE) == []


async def test_accounts_lists_the_linked_phone(services: Services, world: World) -> None:
    await link_phone(services, world, ALICE)
    cog = cog_of(AccountsCog, services)
    double = interaction(ALICE, guild_id=1)

    await cog.accounts.callback(cog, double)

    _, kwargs = only_reply(double)
    [field] = kwargs["embed"].fields
    assert field.name == "Apple Health (iPhone)"
    assert "active" in (field.value or "")


async def test_privacy_delete_revokes_the_address_and_removes_every_upload_row(
    services: Services, world: World, client: TestClient
) -> None:
    challenge = await world.add_challenge()
    await world.add_player(challenge, ALICE, "Alice", linked=False)
    world.clock.set(local(day(2), 10))
    phone = await link_phone(services, world, ALICE)
    body = {"metric": "steps", "date": "2026-06-02", "value": 4_000}
    assert (await upload(client, phone, body))[0] == 200

    report = await services.privacy.delete_everything(ALICE)

    assert report.revoked == ("Apple Health (iPhone)",)
    assert (await upload(client, phone, body))[0] == 401
    for table in ("apple_health_uploads", "value_provenance", "daily_values", "linked_accounts"):
        assert await services.db.fetch_all(f"SELECT * FROM {table}") == []


async def test_two_days_of_minute_samples_fit_the_default_limit(
    services: Services, world: World, aiohttp_client: Client
) -> None:
    """Health Auto Export's default: yesterday and today, a sample a minute (far more than the
    web server's usual 64 KiB request limit)."""
    assert services.apple_health is not None
    limits = AppleHealthSettings()
    rate = UploadRateLimit(world.clock, per_hour=limits.uploads_per_hour, burst=1)
    app = create_app(
        db=services.db,
        metrics=services.metrics,
        installers=[upload_routes(services.apple_health, rate, max_bytes=limits.max_upload_bytes)],
    )
    web_client = await aiohttp_client(app)
    challenge = await world.add_challenge()
    await world.add_player(challenge, ALICE, "Alice", linked=False)
    world.clock.set(local(day(2), 23, 59))
    phone = await link_phone(services, world, ALICE)
    minutes = [
        {"qty": 7, "date": f"2026-06-0{d} {m // 60:02d}:{m % 60:02d}:00 +0000", "source": "Watch"}
        for d in (1, 2)
        for m in range(24 * 60)
    ]
    body = health_auto_export({"name": "step_count", "units": "count", "data": minutes})
    assert len(json.dumps(body)) > 64 * 1024

    status, answer = await upload(web_client, phone, body)

    assert (status, answer["days"]) == (200, 2)
    assert (await standings_values(services, world))[ALICE] == {day(1): 10_080, day(2): 10_080}


def test_sync_tells_an_iphone_member_that_the_phone_sends_by_itself() -> None:
    refresh = Refresh(
        RefreshStatus.DONE,
        (AccountRefresh("apple_health", SyncOutcome(1, SyncStatus.NOTHING_TO_FETCH)),),
    )

    text = refresh_message(refresh, {"apple_health": "Apple Health (iPhone)"})

    assert "**Apple Health (iPhone)**: your iPhone sends its data itself" in text
    assert "nothing to fetch" not in text


async def test_the_card_of_a_device_only_challenge_says_how_phone_uploads_count(
    world: World,
) -> None:
    device_only = await world.add_challenge(allow_manual=False)
    manual = await world.add_challenge(name="Open Steps", allow_manual=True)

    phone_rule = (
        "Manually entered activity does not count. Phone uploads (Apple Health) count as device "
        "data: Stride cannot tell the manual entries in them apart."
    )
    assert phone_rule in rule_sentences(device_only)
    assert "Manually entered activity counts." in rule_sentences(manual)


async def test_a_body_that_does_not_decompress_is_400(
    world: World, services: Services, client: TestClient
) -> None:
    phone = await link_phone(services, world, ALICE)
    headers = {SECRET_HEADER: phone.secret, "Content-Encoding": "gzip"}

    response = await client.post(phone.path, data=b"not gzip at all", headers=headers)

    assert response.status == 400
    assert (await response.json())["error"] == "malformed"


# --------------------------------------------------------------------------- final days stay final


async def run_at(services: Services, world: World, instant: dt.datetime) -> None:
    """The daily run of the services (with Apple Health among its providers) at `instant`."""
    world.clock.set(instant)
    await services.daily_run.run_due()


async def accepted(client: TestClient, phone: Phone, body: object) -> dict[str, Any]:
    status, answer = await upload(client, phone, body)
    assert status == 200, answer
    return answer


async def stored_steps(services: Services, member: int, when: dt.date) -> float | None:
    value = await services.db.fetch_value(
        "SELECT value FROM daily_values WHERE discord_id = ? AND day = ?",
        (member, when.isoformat()),
    )
    return None if value is None else float(value)


async def test_a_day_past_its_grace_end_keeps_its_value_before_and_after_it_is_frozen(
    services: Services, world: World, client: TestClient
) -> None:
    challenge = await world.add_challenge()  # 24 h grace: day 1 is final from day 3 00:00
    await world.add_player(challenge, ALICE, "Alice", linked=False)
    world.clock.set(local(day(2), 10))
    phone = await link_phone(services, world, ALICE)
    await accepted(client, phone, {"metric": "steps", "date": "2026-06-01", "value": 5_000})

    world.clock.set(local(day(3), 8))  # final by the clock; no daily run has frozen it yet
    late = {
        "samples": [
            {"metric": "steps", "date": "2026-06-01", "value": 9_000},
            {"metric": "steps", "date": "2026-06-02", "value": 6_000},
        ]
    }
    status, answer = await upload(client, phone, late)

    assert status == 200, answer
    assert (answer["days"], answer["changed"]) == (2, 1)
    assert answer["skipped"] == [{"date": "2026-06-01", "metric": "steps", "reason": "final"}]
    assert await stored_steps(services, ALICE, day(1)) == 5_000
    await run_at(services, world, local(day(3), 9))  # the run freezes day 1 from what was stored
    assert (await world.scores(challenge.id))[(ALICE, day(1))] == (5_000, True)
    dm = world.messenger.to(ALICE)[0].embed
    assert dm is not None
    assert "final in your challenges" in {f.name: f.value for f in dm.fields}["What counts"]

    status, answer = await upload(client, phone, late)  # and after the freeze, the same
    assert (status, answer["changed"], len(answer["skipped"])) == (200, 0, 1)
    assert (await standings_values(services, world))[ALICE] == {day(1): 5_000, day(2): 6_000}


async def test_a_day_still_open_in_another_challenge_counts_there(
    services: Services, world: World, client: TestClient
) -> None:
    short = await world.add_challenge()  # day 1 final from day 3 00:00
    long = await world.add_challenge(name="Long Grace", grace_hours=48)  # from day 4 00:00
    distance = await world.add_challenge(name="June Km", metric=Metric.DISTANCE, grace_hours=48)
    for challenge in (short, long, distance):
        await world.add_player(challenge, ALICE, "Alice", linked=False)
    world.clock.set(local(day(3), 8))
    phone = await link_phone(services, world, ALICE)
    body = {
        "samples": [
            {"metric": "steps", "date": "2026-06-01", "value": 9_000},
            {"metric": "distance", "date": "2026-06-01", "value": 7, "unit": "km"},
            {"metric": "steps", "date": "2026-05-20", "value": 4_000},  # no challenge's day
        ]
    }

    status, answer = await upload(client, phone, body)

    assert (status, answer["changed"], answer["skipped"]) == (200, 3, [])
    board = await services.standings.current(long)
    [alice] = board.standings.players
    assert dict(alice.daily_values)[day(1)] == 9_000

    world.clock.set(local(day(4), 8))  # now day 1 is final in every challenge of hers
    status, answer = await upload(client, phone, body)
    assert [(s["date"], s["metric"]) for s in answer["skipped"]] == [
        ("2026-06-01", "distance"),
        ("2026-06-01", "steps"),
    ]
    assert answer["changed"] == 0


async def test_the_days_of_a_challenge_that_has_ended_stay_as_they_were(
    services: Services, world: World, client: TestClient
) -> None:
    challenge = await world.add_challenge(days=2, grace_hours=72)
    await world.add_player(challenge, ALICE, "Alice", linked=False)
    world.clock.set(local(day(2), 10))
    phone = await link_phone(services, world, ALICE)
    await accepted(client, phone, {"metric": "steps", "date": "2026-06-02", "value": 3_000})
    await world.challenges.finish(challenge.id)  # closed before its grace end

    answer = await accepted(client, phone, {"metric": "steps", "date": "2026-06-02", "value": 8})

    assert answer["skipped"] == [{"date": "2026-06-02", "metric": "steps", "reason": "final"}]
    assert await stored_steps(services, ALICE, day(2)) == 3_000


# --------------------------------------------------------------------------- nothing to fetch


async def test_nothing_is_fetched_from_apple_health_yet_it_provides_its_metrics(
    services: Services, world: World, client: TestClient
) -> None:
    challenge = await world.add_challenge(metric=Metric.DISTANCE)
    await world.add_player(challenge, ALICE, "Alice", linked=False)
    world.clock.set(local(day(2), 10))
    await link_phone(services, world, ALICE)
    info = services.providers["apple_health"].info
    assert Metric.DISTANCE in info.metrics and Metric.STEPS in info.metrics
    assert info.fetches is False

    assert await services.poller.polled(world.clock.now()) == {}
    refresh = await services.member_sync.refresh(ALICE)
    report = await services.daily_run.run_due()

    assert refresh.status is RefreshStatus.DONE
    assert [a.provider for a in refresh.accounts] == ["apple_health"]
    assert await services.db.fetch_value("SELECT COUNT(*) FROM sync_queue") == 0
    assert await services.db.fetch_value("SELECT COUNT(*) FROM member_syncs") == 0
    assert report.accounts_fetched == 0
    assert "your iPhone sends its data itself" in refresh_message(
        refresh, {"apple_health": info.display_name}
    )


# --------------------------------------------------------------------------- baselines


def fortnight_before(start: dt.date, steps: float) -> dict[str, Any]:
    return {
        "samples": [
            {"metric": "steps", "date": (start - dt.timedelta(days=n)).isoformat(), "value": steps}
            for n in range(1, 15)
        ]
    }


async def test_an_iphone_members_uploaded_fortnight_is_their_own_baseline(
    services: Services, world: World, client: TestClient
) -> None:
    challenge = await world.add_challenge(mode=ScoringMode.IMPROVEMENT)
    await world.add_player(challenge, ALICE, "Alice", linked=False)
    bob = await world.add_player(challenge, BOB, "Bob")
    for n in range(1, 15):
        world.provider.set(bob, day(1) - dt.timedelta(days=n), 10_000)
    world.provider.set(bob, day(1), 11_000)
    world.clock.set(local(day(1), 20))
    phone = await link_phone(services, world, ALICE)
    assert (await upload(client, phone, fortnight_before(day(1), 5_000)))[0] == 200
    await accepted(client, phone, {"metric": "steps", "date": "2026-06-01", "value": 6_000})

    await run_at(services, world, local(day(2), 9))

    board = await services.standings.current(challenge)
    usual = {p.player_id: (p.baseline, p.baseline_is_own) for p in board.standings.players}
    assert usual == {ALICE: (5_000, True), BOB: (10_000, True)}
    alice_row = next(
        r for r in world.messenger.posts[-1].embed.description.splitlines() if "Alice" in r
    )
    assert "+20.0%" in alice_row  # 6,000 on her own usual 5,000, not on Bob's 10,000


async def test_a_few_uploaded_days_wait_for_more_while_the_group_stands_in(
    services: Services, world: World, client: TestClient
) -> None:
    challenge = await world.add_challenge(mode=ScoringMode.IMPROVEMENT)
    await world.add_player(challenge, ALICE, "Alice", linked=False)
    bob = await world.add_player(challenge, BOB, "Bob")
    for n in range(1, 15):
        world.provider.set(bob, day(1) - dt.timedelta(days=n), 10_000)
    world.clock.set(local(day(1), 20))
    phone = await link_phone(services, world, ALICE)
    few = fortnight_before(day(1), 5_000)
    few["samples"] = few["samples"][:3]
    assert (await upload(client, phone, few))[0] == 200
    await run_at(services, world, local(day(2), 9))

    board = await services.standings.current(challenge)
    usual = {p.player_id: (p.baseline, p.baseline_is_own) for p in board.standings.players}
    assert usual[ALICE] == (10_000, False)  # the group's usual day, not her 3 days
    assert ALICE in await ValuesRepo(services.db).players_without_baseline(challenge.id)

    world.clock.set(local(day(2), 20))
    assert (await upload(client, phone, fortnight_before(day(1), 5_000)))[0] == 200
    await run_at(services, world, local(day(3), 9))

    board = await services.standings.current(challenge)
    usual = {p.player_id: (p.baseline, p.baseline_is_own) for p in board.standings.players}
    assert usual[ALICE] == (5_000, True)
