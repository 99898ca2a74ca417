"""Each sink against a real counterpart on loopback: an MQTT broker, a Streamr node stand-in,
a webhook receiver that verifies signatures, and a file."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import aiomqtt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.clock import FakeClock
from bot.errors import ConfigError
from bot.publish.sinks import (
    FileSink,
    MqttSink,
    OutgoingMessage,
    StreamrHttpSink,
    WebhookSink,
    verify_webhook_signature,
)
from bot.publish.sinks import SinkError as PublishSinkError
from tests.publish.mqtt_broker import (
    PASSWORD,
    USERNAME,
    RunningBroker,
    mqtt_broker,
    self_signed_certificate,
)
from tests.publish.standins import StreamrNode, WebhookReceiver

MakeClient = Callable[[web.Application], Awaitable[TestClient]]
STREAM_ID = "0x4a1b2c3d4e5f60718293a4b5c6d7e8f901234567/stride/daily"
API_KEY = "streamr-node-api-key-XYZ"
WEBHOOK_SECRET = "webhook-shared-secret-ABC"


def _message(n: int = 1, *, metric: str = "steps") -> OutgoingMessage:
    payload = json.dumps({"n": n, "metric": metric, "idempotency_key": f"k{n}"})
    return OutgoingMessage(
        idempotency_key=f"k{n}", payload=payload, guild_key="g" * 64, metric=metric
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def broker() -> AsyncIterator[RunningBroker]:
    async with mqtt_broker() as running:
        yield running


@contextlib.asynccontextmanager
async def subscribed(
    broker: RunningBroker, *, tls: ssl.SSLContext | None = None
) -> AsyncIterator[aiomqtt.Client]:
    async with aiomqtt.Client(
        broker.host,
        broker.port,
        username=USERNAME,
        password=PASSWORD,
        identifier="stride-test-subscriber",
        tls_context=tls,
    ) as client:
        await client.subscribe("#", qos=1)
        yield client


async def read_all(
    client: aiomqtt.Client, broker: RunningBroker, *, tls: ssl.SSLContext | None = None
) -> list[aiomqtt.Message]:
    """Everything up to a sentinel published afterwards: later duplicates would show here."""
    async with aiomqtt.Client(
        broker.host, broker.port, username=USERNAME, password=PASSWORD, tls_context=tls
    ) as sender:
        await sender.publish("test/sentinel", b"end", qos=1)
    received = []
    async with asyncio.timeout(10):  # a guard against a hang, not a synchronisation
        async for message in client.messages:
            if message.topic.matches("test/sentinel"):
                return received
            received.append(message)
    raise AssertionError("the sentinel never arrived")


# -- MQTT --------------------------------------------------------------------------------


async def test_mqtt_publishes_with_qos1_to_the_templated_topic(broker: RunningBroker) -> None:
    sink = MqttSink(
        host=broker.host,
        port=broker.port,
        topic_template="stride/{guild_key}/{metric}",
        username=USERNAME,
        password=PASSWORD,
    )
    async with subscribed(broker) as subscriber:
        async with sink.connect() as send:
            await send(_message(1))
            await send(_message(2, metric="distance"))
        received = await read_all(subscriber, broker)

    assert [m.topic.value for m in received] == [
        f"stride/{'g' * 64}/steps",
        f"stride/{'g' * 64}/distance",
    ]
    assert [json.loads(m.payload) for m in received] == [  # type: ignore[arg-type]
        json.loads(_message(1).payload),
        json.loads(_message(2, metric="distance").payload),
    ]
    assert all(m.qos == 1 for m in received)


async def test_mqtt_streamr_plugin_style_topic_is_the_stream_id(broker: RunningBroker) -> None:
    sink = MqttSink(
        host=broker.host,
        port=broker.port,
        topic_template=STREAM_ID,  # a Streamr node's MQTT plugin: the stream id is the topic
        username=USERNAME,
        password=PASSWORD,
    )
    async with subscribed(broker) as subscriber:
        async with sink.connect() as send:
            await send(_message())
        received = await read_all(subscriber, broker)
    assert [m.topic.value for m in received] == [STREAM_ID]


async def test_mqtt_over_tls(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    async with mqtt_broker(tls=(cert, key)) as tls_broker:
        sink = MqttSink(
            host=tls_broker.host,
            port=tls_broker.port,
            topic_template="stride/{guild_key}/{metric}",
            username=USERNAME,
            password=PASSWORD,
            tls_context=trust,
        )
        assert "TLS" in sink.describe()
        async with subscribed(tls_broker, tls=trust) as subscriber:
            async with sink.connect() as send:
                await send(_message())
            received = await read_all(subscriber, tls_broker, tls=trust)
    assert len(received) == 1


async def test_mqtt_wrong_password_fails_without_showing_it(broker: RunningBroker) -> None:
    sink = MqttSink(
        host=broker.host,
        port=broker.port,
        topic_template="stride/{guild_key}/{metric}",
        username=USERNAME,
        password="wrong-password-SECRET",
    )
    with pytest.raises(PublishSinkError) as caught:
        async with sink.connect() as send:
            await send(_message())
    assert "wrong-password-SECRET" not in str(caught.value)
    assert "authori" in str(caught.value).lower()


async def test_mqtt_unreachable_broker_is_a_sink_error() -> None:
    sink = MqttSink(
        host="127.0.0.1", port=_closed_port(), topic_template="stride/{guild_key}/{metric}"
    )
    with pytest.raises(PublishSinkError):
        async with sink.connect() as send:
            await send(_message())


@pytest.mark.parametrize("template", ["stride/{guild}/{metric}", "stride/#", "", "x/{0}"])
def test_bad_topic_templates_are_refused(template: str) -> None:
    with pytest.raises(ConfigError):
        MqttSink(host="localhost", port=1883, topic_template=template)


# -- Streamr node HTTP plugin ------------------------------------------------------------


async def test_streamr_posts_to_the_encoded_stream_with_the_api_key(
    aiohttp_client: MakeClient,
) -> None:
    node = StreamrNode(api_key=API_KEY, stream_id=STREAM_ID)
    client = await aiohttp_client(node.app())
    async with aiohttp.ClientSession() as http:
        sink = StreamrHttpSink(
            http, node_url=str(client.make_url("")), api_key=API_KEY, stream_id=STREAM_ID
        )
        async with sink.connect() as send:
            await send(_message())
    assert node.raw_paths == [
        "/streams/0x4a1b2c3d4e5f60718293a4b5c6d7e8f901234567%2Fstride%2Fdaily"
    ]
    assert node.accepted == [json.loads(_message().payload)]
    assert API_KEY not in sink.describe()


async def test_streamr_wrong_key_names_the_setting_not_the_key(
    aiohttp_client: MakeClient,
) -> None:
    node = StreamrNode(api_key=API_KEY, stream_id=STREAM_ID)
    client = await aiohttp_client(node.app())
    async with aiohttp.ClientSession() as http:
        sink = StreamrHttpSink(
            http, node_url=str(client.make_url("")), api_key="not-the-key", stream_id=STREAM_ID
        )
        with pytest.raises(PublishSinkError) as caught:
            async with sink.connect() as send:
                await send(_message())
    assert "PUBLISH__STREAMR__API_KEY" in str(caught.value)
    assert "not-the-key" not in str(caught.value)
    assert node.accepted == []


async def test_streamr_overloaded_node_is_a_sink_error(aiohttp_client: MakeClient) -> None:
    node = StreamrNode(api_key=API_KEY, stream_id=STREAM_ID, accept_budget=0)
    client = await aiohttp_client(node.app())
    async with aiohttp.ClientSession() as http:
        sink = StreamrHttpSink(
            http, node_url=str(client.make_url("")), api_key=API_KEY, stream_id=STREAM_ID
        )
        with pytest.raises(PublishSinkError, match="HTTP 503"):
            async with sink.connect() as send:
                await send(_message())


# -- webhook -----------------------------------------------------------------------------


async def test_webhook_is_signed_so_the_receiver_accepts_it(aiohttp_client: MakeClient) -> None:
    clock = FakeClock(dt.datetime(2024, 5, 10, 9, 0, tzinfo=dt.UTC))
    receiver = WebhookReceiver(WEBHOOK_SECRET.encode(), now=lambda: clock.now().timestamp())
    client = await aiohttp_client(receiver.app())
    async with aiohttp.ClientSession() as http:
        sink = WebhookSink(
            http, url=str(client.make_url("/hooks/stride")), secret=WEBHOOK_SECRET, clock=clock
        )
        async with sink.connect() as send:
            await send(_message())
    assert receiver.accepted == [json.loads(_message().payload)]
    headers = receiver.raw_headers[0]
    assert headers["X-Stride-Timestamp"] == str(int(clock.now().timestamp()))
    assert headers["Idempotency-Key"] == "k1"
    assert WEBHOOK_SECRET not in json.dumps(headers)


async def test_webhook_with_the_wrong_secret_is_rejected(aiohttp_client: MakeClient) -> None:
    clock = FakeClock(dt.datetime(2024, 5, 10, 9, 0, tzinfo=dt.UTC))
    receiver = WebhookReceiver(WEBHOOK_SECRET.encode(), now=lambda: clock.now().timestamp())
    client = await aiohttp_client(receiver.app())
    async with aiohttp.ClientSession() as http:
        sink = WebhookSink(
            http, url=str(client.make_url("/hooks/stride")), secret="guessed", clock=clock
        )
        with pytest.raises(PublishSinkError, match="HTTP 401"):
            async with sink.connect() as send:
                await send(_message())
    assert receiver.rejected == 1 and receiver.accepted == []


def test_receiver_verification_rejects_replays_and_tampering() -> None:
    secret = WEBHOOK_SECRET.encode()
    body = b'{"n":1}'
    timestamp = "1715331600"
    signature = hmac.new(secret, b"1715331600." + body, hashlib.sha256).hexdigest()
    now = 1715331600.0
    assert verify_webhook_signature(
        secret, timestamp=timestamp, body=body, signature=signature, now=now
    )
    assert not verify_webhook_signature(
        secret, timestamp=timestamp, body=b'{"n":2}', signature=signature, now=now
    )
    assert not verify_webhook_signature(  # the same request replayed an hour later
        secret, timestamp=timestamp, body=body, signature=signature, now=now + 3600
    )
    assert not verify_webhook_signature(
        secret, timestamp="soon", body=body, signature=signature, now=now
    )


# -- file --------------------------------------------------------------------------------


async def test_file_sink_appends_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "publish.jsonl"
    sink = FileSink(path)
    async with sink.connect() as send:
        await send(_message(1))
    async with sink.connect() as send:
        await send(_message(2))
    lines = path.read_text("utf-8").splitlines()
    assert [json.loads(line)["n"] for line in lines] == [1, 2]


async def test_file_sink_that_cannot_write_is_a_sink_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    sink = FileSink(blocker / "publish.jsonl")
    with pytest.raises(PublishSinkError):
        async with sink.connect() as send:
            await send(_message())
