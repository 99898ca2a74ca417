"""`POST /webhooks/google-health` against the Google Health stand-in and forged requests."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from bot.clock import FakeClock
from bot.web.webhooks.common import MAX_WEBHOOK_BODY_BYTES
from bot.web.webhooks.google_health import notification_targets
from tests.doubles.sync import RecordingSync
from tests.standins.providers import GoogleHealthStandin
from tests.standins.providers.google_subscribers import SIGNATURE_HEADER

from ..rawhttp import exchange, recording_logs, request, status_of
from .conftest import GOOGLE_SECRET, WebhookClient

PATH = "/webhooks/google-health"
DAY = dt.date(2026, 11, 20)


@pytest.fixture
async def google(clock: FakeClock) -> AsyncIterator[GoogleHealthStandin]:
    standin = GoogleHealthStandin(clock=clock)
    await standin.start()
    yield standin
    await standin.close()


def health_settings(standin: GoogleHealthStandin, **webhook: Any) -> dict[str, Any]:
    return {
        "google_health": {
            **standin.settings_values(),
            "webhook_secret": GOOGLE_SECRET,
            **webhook,
        }
    }


async def create_subscriber(
    standin: GoogleHealthStandin, endpoint: str, secret: str = GOOGLE_SECRET
) -> aiohttp.ClientResponse:
    """What the operator does once, as `stride check` prints it."""
    payload = {
        "endpointUri": endpoint,
        "endpointAuthorization": {"secret": secret},
        "subscriberConfigs": [
            {
                "dataTypes": ["distance", "floors", "sleep", "steps"],
                "subscriptionCreatePolicy": "AUTOMATIC",
            }
        ],
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{standin.base_url}/v4/projects/1234/subscribers",
            params={"subscriberId": "stride"},
            json=payload,
            headers={"Authorization": "Bearer operator-cloud-token"},
        ) as response,
    ):
        await response.read()
        return response


async def post(
    client: TestClient, document: Any, *, authorization: str | None = GOOGLE_SECRET, **headers: str
) -> aiohttp.ClientResponse:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    sent = {"Content-Type": "application/json", **headers}
    if authorization is not None:
        sent["Authorization"] = authorization
    return await client.post(PATH, data=body, headers=sent)


async def test_the_subscriber_is_created_only_through_both_verification_posts(
    google: GoogleHealthStandin, webhook_client: WebhookClient, sync: RecordingSync
) -> None:
    client = await webhook_client(**health_settings(google))
    endpoint = str(client.make_url(PATH))

    created = await create_subscriber(google, endpoint)

    assert created.status == 200
    assert google.subscribers.verification_failures == []
    with_secret, without = google.deliveries
    assert (with_secret.status, without.status) == (201, 401)
    assert "Authorization" not in without.headers
    assert sync.calls == []  # a verification is not a notification


async def test_a_stride_with_another_secret_makes_the_subscriber_creation_fail(
    google: GoogleHealthStandin, webhook_client: WebhookClient
) -> None:
    client = await webhook_client(**health_settings(google))

    created = await create_subscriber(google, str(client.make_url(PATH)), "Bearer not-ours")

    assert created.status == 400
    assert google.subscribers.subscribers == {}
    assert google.deliveries[0].status == 403


async def test_a_synced_watch_queues_that_member_with_the_signature_checked(
    google: GoogleHealthStandin, webhook_client: WebhookClient, sync: RecordingSync
) -> None:
    key = google.subscribers.public_key_pem()
    client = await webhook_client(**health_settings(google, webhook_public_key=key))
    assert (await create_subscriber(google, str(client.make_url(PATH)))).status == 200
    member = google.add_user()

    deliveries = await google.sync_watch(member, DAY, 8_432)

    assert [delivery.status for delivery in deliveries] == [200]
    assert sync.users("google_health") == [member]
    assert "steps" in sync.calls[0].reason


async def test_the_same_notification_100_times_queues_the_member_once(
    google: GoogleHealthStandin, webhook_client: WebhookClient, sync: RecordingSync
) -> None:
    client = await webhook_client(**health_settings(google))
    assert (await create_subscriber(google, str(client.make_url(PATH)))).status == 200
    member = google.add_user()

    for _ in range(100):
        assert [d.status for d in await google.sync_watch(member, DAY, 9_000)] == [200]

    assert len(sync.calls) == 100  # one request per notification, coalesced by the queue
    assert sync.queued == {("google_health", member)}


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(None, 401), ("Bearer guessed", 403), (GOOGLE_SECRET.lower(), 403), ("", 403)],
)
async def test_a_notification_without_the_secret_is_refused_and_queues_nothing(
    webhook_client: WebhookClient, sync: RecordingSync, authorization: str | None, status: int
) -> None:
    client = await webhook_client()

    response = await post(client, {"user": "users/gh-1"}, authorization=authorization)

    assert response.status == status
    assert sync.calls == []


async def test_an_authorization_header_that_is_not_utf8_is_refused_not_a_500(
    webhook_client: WebhookClient, sync: RecordingSync
) -> None:
    client = await webhook_client()
    body = json.dumps({"user": "users/gh-1"}).encode()

    with recording_logs() as logs:  # latin-1 on the wire: "\xe9" is no UTF-8
        answer = await exchange(
            client.port, request("POST", PATH, body, headers={"Authorization": "Bearer é"})
        )

    assert status_of(answer) == 403  # as any other wrong secret
    assert sync.calls == []
    assert not [line for line in logs.lines if "ERROR" in line or "Traceback" in line]


async def test_with_the_public_key_unsigned_and_forged_signatures_are_refused(
    google: GoogleHealthStandin, webhook_client: WebhookClient, sync: RecordingSync
) -> None:
    client = await webhook_client(
        **health_settings(google, webhook_public_key=google.subscribers.public_key_pem())
    )
    document = google.subscribers.notification("gh-1", DAY, "steps")
    body = json.dumps(document).encode()
    other_key = ec.generate_private_key(ec.SECP256R1())
    forged = base64.b64encode(other_key.sign(body, ec.ECDSA(hashes.SHA256()))).decode()
    tampered_body = json.dumps({**document, "user": "users/gh-2"}).encode()

    unsigned = await post(client, body)
    wrong_key = await post(client, body, **{SIGNATURE_HEADER: forged})
    tampered = await post(
        client, tampered_body, **{SIGNATURE_HEADER: google.subscribers.sign(body)}
    )
    garbage = await post(client, body, **{SIGNATURE_HEADER: "not base64 at all!"})

    assert [r.status for r in (unsigned, wrong_key, tampered, garbage)] == [401] * 4
    assert sync.calls == []


async def test_a_raw_r_s_signature_in_base64url_is_accepted_too(
    google: GoogleHealthStandin, webhook_client: WebhookClient, sync: RecordingSync
) -> None:
    client = await webhook_client(
        **health_settings(google, webhook_public_key=google.subscribers.public_key_pem())
    )
    body = json.dumps(google.subscribers.notification("gh-7", DAY, "floors")).encode()
    r, s = decode_dss_signature(
        google.subscribers.signing_key.sign(body, ec.ECDSA(hashes.SHA256()))
    )
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    signature = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    response = await post(client, body, **{SIGNATURE_HEADER: signature})

    assert response.status == 200
    assert sync.users("google_health") == ["gh-7"]


async def test_an_oversized_body_is_refused_before_it_is_read(
    webhook_client: WebhookClient, sync: RecordingSync
) -> None:
    client = await webhook_client()
    padding = "x" * MAX_WEBHOOK_BODY_BYTES

    response = await post(client, {"user": "users/gh-1", "padding": padding})

    assert response.status == 413
    assert sync.calls == []


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"\xff\xfe", json.dumps({"type": "data"}).encode(), b"[]", b'"users/me"'],
)
async def test_an_authenticated_body_without_a_user_is_400(
    webhook_client: WebhookClient, sync: RecordingSync, body: bytes
) -> None:
    client = await webhook_client()

    response = await post(client, body)

    assert response.status == 400
    assert sync.calls == []


async def test_a_notification_of_a_type_stride_does_not_score_queues_nothing(
    webhook_client: WebhookClient, sync: RecordingSync
) -> None:
    client = await webhook_client()

    response = await post(client, {"user": "users/gh-1", "dataType": "users/gh-1/dataTypes/weight"})

    assert response.status == 200
    assert sync.calls == []


async def test_without_a_webhook_secret_there_is_no_route(
    webhook_client: WebhookClient, make_settings: Any
) -> None:
    client = await webhook_client(
        google_health={"client_id": "gh", "client_secret": "gh-client-secret"}
    )

    response = await post(client, {"type": "verification"})

    assert response.status == 404


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"healthUserId": "abc", "dataType": "steps"}, {"abc": {"steps"}}),
        ({"user": "users/abc", "dataTypes": ["dataTypes/sleep"]}, {"abc": {"sleep"}}),
        ({"dataType": "users/abc/dataTypes/distance"}, {"abc": {"distance"}}),
        ({"userId": "abc"}, {"abc": set()}),
        (
            {"notifications": [{"user": "users/a", "dataType": "steps"}, {"user": "users/b"}]},
            {"a": {"steps"}, "b": set()},
        ),
        ({"data": {"subscription": {"user": "users/abc"}, "dataType": "floors"}}, {"abc": set()}),
        ({"user": "users/me", "name": "projects/p/subscribers/s"}, {}),
        ({"user": "users/a/../b"}, {}),
    ],
)
def test_notification_targets_read_the_user_and_type_wherever_they_are(
    document: Any, expected: dict[str, set[str]]
) -> None:
    assert notification_targets(document) == {
        user: frozenset(types) for user, types in expected.items()
    }


async def test_a_failing_queue_is_still_answered_and_logged_without_a_traceback(
    webhook_client: WebhookClient, sync: RecordingSync, caplog: pytest.LogCaptureFixture
) -> None:
    client = await webhook_client()
    caplog.set_level(logging.DEBUG)
    sync.error = RuntimeError("database is locked: SELECT secret")

    response = await post(client, {"user": "users/gh-1", "dataType": "steps"})

    assert response.status == 200  # a hint; the scheduled fetch still runs
    assert "could not queue a sync (RuntimeError)" in caplog.text
    assert all(record.exc_info is None for record in caplog.records)
    assert "database is locked" not in caplog.text
