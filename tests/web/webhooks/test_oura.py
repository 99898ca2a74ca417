"""`GET`/`POST /webhooks/oura`: the verification challenge, signatures and replays."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.clock import FakeClock
from bot.web.webhooks.common import MAX_WEBHOOK_BODY_BYTES
from tests.doubles.sync import RecordingSync

from ..rawhttp import exchange, recording_logs, request, status_of
from .conftest import CLIENT_SECRET, OURA_TOKEN, WebhookClient

PATH = "/webhooks/oura"


def event(user_id: str = "oura-user-1", **fields: Any) -> dict[str, Any]:
    return {
        "event_type": "update",
        "data_type": "daily_activity",
        "object_id": "obj-1",
        "event_time": "2026-11-20T11:59:30+00:00",
        "user_id": user_id,
        **fields,
    }


def signed(
    body: bytes, timestamp: str, *, secret: str = CLIENT_SECRET, case: str = "upper"
) -> dict[str, str]:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "x-oura-timestamp": timestamp,
        "x-oura-signature": digest.upper() if case == "upper" else digest,
    }


async def send(
    client: TestClient,
    clock: FakeClock,
    document: Any,
    *,
    at: dt.datetime | None = None,
    secret: str = CLIENT_SECRET,
) -> int:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    timestamp = str(int((at or clock.now()).timestamp()))
    response = await client.post(PATH, data=body, headers=signed(body, timestamp, secret=secret))
    return response.status


async def test_the_verification_challenge_is_echoed_for_our_token_only(
    webhook_client: WebhookClient,
) -> None:
    client = await webhook_client()

    ours = await client.get(PATH, params={"verification_token": OURA_TOKEN, "challenge": "c-1"})
    theirs = await client.get(PATH, params={"verification_token": "guess", "challenge": "c-1"})
    none = await client.get(PATH, params={"challenge": "c-1"})
    no_challenge = await client.get(PATH, params={"verification_token": OURA_TOKEN})

    assert ours.status == 200
    assert await ours.json() == {"challenge": "c-1"}
    assert (theirs.status, none.status, no_challenge.status) == (403, 401, 400)
    assert "c-1" not in await theirs.text()


async def test_a_signed_notification_queues_the_member(
    webhook_client: WebhookClient, sync: RecordingSync, clock: FakeClock
) -> None:
    client = await webhook_client()

    assert await send(client, clock, event()) == 200

    assert sync.users("oura") == ["oura-user-1"]
    assert sync.calls[0].reason == "oura push (daily_activity)"


async def test_100_notifications_of_one_member_call_the_queue_once_each(
    webhook_client: WebhookClient, sync: RecordingSync, clock: FakeClock
) -> None:
    client = await webhook_client()

    statuses = {await send(client, clock, event(object_id=f"o-{n}")) for n in range(100)}

    assert statuses == {200}
    assert len(sync.calls) == 100
    assert sync.queued == {("oura", "oura-user-1")}


async def test_unsigned_and_forged_notifications_are_401_and_queue_nothing(
    webhook_client: WebhookClient, sync: RecordingSync, clock: FakeClock
) -> None:
    client = await webhook_client()
    body = json.dumps(event()).encode()
    now = str(int(clock.now().timestamp()))

    unsigned = await client.post(PATH, data=body, headers={"Content-Type": "application/json"})
    no_timestamp = await client.post(
        PATH, data=body, headers={"x-oura-signature": signed(body, now)["x-oura-signature"]}
    )
    forged = await send(client, clock, event(), secret="not-the-client-secret")
    other_body = await client.post(PATH, data=body + b" ", headers=signed(body, now))
    moved_timestamp = signed(body, now) | {"x-oura-timestamp": str(int(now) + 1)}
    other_time = await client.post(PATH, data=body, headers=moved_timestamp)

    statuses = [unsigned.status, no_timestamp.status, forged, other_body.status, other_time.status]
    assert statuses == [401] * 5
    assert sync.calls == []


async def test_signature_headers_that_are_not_utf8_are_401_not_a_500(
    webhook_client: WebhookClient, sync: RecordingSync, clock: FakeClock
) -> None:
    client = await webhook_client()
    body = json.dumps(event()).encode()
    now = str(int(clock.now().timestamp()))
    good = signed(body, now)

    with recording_logs() as logs:  # latin-1 on the wire: "\xe9" is no UTF-8
        answers = [
            await exchange(client.port, request("POST", PATH, body, headers=good | odd))
            for odd in ({"x-oura-timestamp": now + "é"}, {"x-oura-signature": "é"})
        ]

    assert [status_of(answer) for answer in answers] == [401, 401]
    assert sync.calls == []
    assert not [line for line in logs.lines if "ERROR" in line or "Traceback" in line]


async def test_a_lowercase_hex_signature_is_accepted(
    webhook_client: WebhookClient, sync: RecordingSync, clock: FakeClock
) -> None:
    client = await webhook_client()
    body = json.dumps(event()).encode()
    headers = signed(body, str(int(clock.now().timestamp())), case="lower")

    response = await client.post(PATH, data=body, headers=headers)

    assert response.status == 200
    assert sync.users("oura") == ["oura-user-1"]


@pytest.mark.parametrize("offset", [dt.timedelta(minutes=-6), dt.timedelta(minutes=6)])
async def test_a_timestamp_outside_the_window_is_refused(
    webhook_client: WebhookClient, sync: RecordingSync, clock: FakeClock, offset: dt.timedelta
) -> None:
    client = await webhook_client()

    assert await send(client, clock, event(), at=clock.now() + offset) == 403
    assert sync.calls == []


async def test_a_timestamp_inside_the_window_is_accepted(
    webhook_client: WebhookClient, sync: RecordingSync, clock: FakeClock
) -> None:
    client = await webhook_client()

    assert await send(client, clock, event(), at=clock.now() - dt.timedelta(minutes=4)) == 200


async def test_a_replayed_notification_is_refused_and_queued_once(
    webhook_client: WebhookClient, sync: RecordingSync, clock: FakeClock
) -> None:
    client = await webhook_client()
    body = json.dumps(event()).encode()
    headers = signed(body, str(int(clock.now().timestamp())))

    first = await client.post(PATH, data=body, headers=headers)
    clock.advance(dt.timedelta(minutes=2))
    replay = await client.post(PATH, data=body, headers=headers)

    assert (first.status, replay.status) == (200, 403)
    assert len(sync.calls) == 1


async def test_an_oversized_notification_is_refused(
    webhook_client: WebhookClient, sync: RecordingSync, clock: FakeClock
) -> None:
    client = await webhook_client()

    assert await send(client, clock, event(padding="x" * MAX_WEBHOOK_BODY_BYTES)) == 413
    assert sync.calls == []


@pytest.mark.parametrize(
    "document",
    [b"{broken", b"[1, 2]", event(user_id=""), event(user_id=42), event(user_id="a b/c")],
)
async def test_a_signed_but_malformed_notification_is_400(
    webhook_client: WebhookClient, sync: RecordingSync, clock: FakeClock, document: Any
) -> None:
    client = await webhook_client()

    assert await send(client, clock, document) == 400
    assert sync.calls == []


async def test_a_data_type_stride_does_not_use_is_acknowledged_only(
    webhook_client: WebhookClient, sync: RecordingSync, clock: FakeClock
) -> None:
    client = await webhook_client()

    assert await send(client, clock, event(data_type="daily_readiness")) == 200
    assert sync.calls == []


async def test_without_a_verification_token_there_is_no_route(
    webhook_client: WebhookClient,
) -> None:
    client = await webhook_client(oura={"client_id": "o", "client_secret": CLIENT_SECRET})

    response = await client.get(PATH, params={"verification_token": "x", "challenge": "c"})

    assert response.status == 404
