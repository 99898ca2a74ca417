"""No webhook secret, client secret or challenge reaches a log line or an answer."""

from __future__ import annotations

import json
import logging

import pytest

from .conftest import CLIENT_SECRET, GOOGLE_SECRET, OURA_TOKEN, WITHINGS_SECRET, WebhookClient

SECRETS = (GOOGLE_SECRET, GOOGLE_SECRET.split()[1], WITHINGS_SECRET, OURA_TOKEN, CLIENT_SECRET)


async def test_refusals_and_acceptances_log_and_answer_no_secret(
    webhook_client: WebhookClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = await webhook_client()
    answers: list[str] = []
    for response in (
        await client.post("/webhooks/google-health", json={"type": "verification"}),
        await client.post(
            "/webhooks/google-health",
            data=b"{broken",
            headers={"Authorization": GOOGLE_SECRET},
        ),
        await client.post(
            "/webhooks/google-health",
            json={"type": "verification"},
            headers={"Authorization": GOOGLE_SECRET},
        ),
        await client.post(
            "/webhooks/google-health",
            json={"user": "users/gh-1"},
            headers={"Authorization": GOOGLE_SECRET[:-1]},
        ),
        await client.head(f"/webhooks/withings/{WITHINGS_SECRET}"),
        await client.post(f"/webhooks/withings/{WITHINGS_SECRET}", data=b"userid=x"),
        await client.post(f"/webhooks/withings/{WITHINGS_SECRET[:-2]}", data=b"userid=1"),
        await client.get(
            "/webhooks/oura", params={"verification_token": OURA_TOKEN, "challenge": "c"}
        ),
        await client.get(
            "/webhooks/oura", params={"verification_token": OURA_TOKEN[:-1], "challenge": "c"}
        ),
        await client.post(
            "/webhooks/oura",
            data=json.dumps({"user_id": "u"}).encode(),
            headers={"x-oura-signature": "AB" * 32, "x-oura-timestamp": "1"},
        ),
    ):
        answers.append(await response.text())
    everything = caplog.text + "\n".join(answers)
    assert all(secret not in everything for secret in SECRETS)
    assert "Traceback" not in caplog.text
