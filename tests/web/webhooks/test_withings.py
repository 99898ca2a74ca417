"""`HEAD`/`POST /webhooks/withings/{secret}`: the secret in the path is the only key."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient

from bot.web.webhooks.common import MAX_WEBHOOK_BODY_BYTES
from tests.doubles.sync import RecordingSync

from .conftest import WITHINGS_SECRET, WebhookClient

PATH = f"/webhooks/withings/{WITHINGS_SECRET}"
ACTIVITY = {"userid": "1000123", "appli": "16", "startdate": "1763596800", "enddate": "1763683200"}


async def notify(client: TestClient, form: dict[str, str] | bytes, path: str = PATH) -> int:
    body = form if isinstance(form, bytes) else urlencode(form).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = await client.post(path, data=body, headers=headers)
    return response.status


async def test_head_answers_2xx_only_at_the_secret_url(webhook_client: WebhookClient) -> None:
    client = await webhook_client()

    right = await client.head(PATH)
    wrong = await client.head("/webhooks/withings/" + "x" * len(WITHINGS_SECRET))

    assert (right.status, wrong.status) == (200, 403)


async def test_a_notification_queues_the_member_once_even_sent_100_times(
    webhook_client: WebhookClient, sync: RecordingSync
) -> None:
    client = await webhook_client()

    statuses = {await notify(client, ACTIVITY) for _ in range(100)}

    assert statuses == {200}
    assert sync.users("withings") == ["1000123"] * 100
    assert sync.queued == {("withings", "1000123")}
    assert sync.calls[0].reason == "withings push (appli 16)"


async def test_a_sleep_notification_queues_too(
    webhook_client: WebhookClient, sync: RecordingSync
) -> None:
    client = await webhook_client()

    assert await notify(client, {**ACTIVITY, "appli": "44"}) == 200

    assert sync.users("withings") == ["1000123"]


@pytest.mark.parametrize(
    "path",
    [
        "/webhooks/withings/guess",
        "/webhooks/withings/" + WITHINGS_SECRET[:-1],
        "/webhooks/withings/" + WITHINGS_SECRET.upper(),
    ],
)
async def test_a_wrong_secret_is_refused_and_queues_nothing(
    webhook_client: WebhookClient, sync: RecordingSync, path: str
) -> None:
    client = await webhook_client()

    assert await notify(client, ACTIVITY, path) == 403
    assert sync.calls == []


async def test_an_oversized_body_is_refused(
    webhook_client: WebhookClient, sync: RecordingSync
) -> None:
    client = await webhook_client()

    status = await notify(client, {**ACTIVITY, "padding": "x" * MAX_WEBHOOK_BODY_BYTES})

    assert status == 413
    assert sync.calls == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff\xfe",
        b"userid",
        urlencode({"appli": "16"}).encode(),
        urlencode({"userid": "abc", "appli": "16"}).encode(),
        urlencode({"userid": "1000123", "appli": "sixteen"}).encode(),
        urlencode({"userid": "1" * 40, "appli": "16"}).encode(),
    ],
)
async def test_malformed_notifications_are_400(
    webhook_client: WebhookClient, sync: RecordingSync, body: bytes
) -> None:
    client = await webhook_client()

    assert await notify(client, body) == 400
    assert sync.calls == []


async def test_a_category_stride_does_not_subscribe_to_is_acknowledged_only(
    webhook_client: WebhookClient, sync: RecordingSync
) -> None:
    client = await webhook_client()

    assert await notify(client, {**ACTIVITY, "appli": "1"}) == 200  # weight

    assert sync.calls == []


async def test_without_notify_enabled_there_is_no_route(
    webhook_client: WebhookClient, sync: RecordingSync
) -> None:
    client = await webhook_client(withings={"client_id": "w", "client_secret": "w-secret"})

    assert await notify(client, ACTIVITY) == 404
    assert sync.calls == []
