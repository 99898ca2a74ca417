"""Each sink against a real counterpart on loopback: an MQTT broker (restarted mid-batch too),
a Streamr node stand-in, a webhook receiver that verifies signatures, and a file (written
again after a crash, and with a torn last line)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import re
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import aiomqtt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.clock import FakeClock
from bot.errors import ConfigError
from bot.publish.service import sinks_from_settings
from bot.publish.sinks import (
    FileSink,
    MqttSink,
    OutgoingMessage,
    StreamrHttpSink,
    WebhookSink,
    default_mqtt_client_id,
    verify_webhook_signature,
)
from bot.publish.sinks import SinkError as PublishSinkError
from bot.settings import Settings
from tests.standins.publish.mqtt_broker import (
    PASSWORD,
    USERNAME,
    AckLosingRelay,
    RunningBroker,
    mqtt_broker,
    self_signed_certificate,
)
from tests.standins.publish.receivers import StreamrNode, WebhookReceiver

MakeClient = Callable[[web.Application], Awaitable[TestClient]]
STREAM_ID = "0x4a1b2c3d4e5f60718293a4b5c6d7e8f901234567/stride/daily"
API_KEY = "streamr-node-api-key-XYZ"
WEBHOOK_SECRET = "webhook-shared-secret-ABC"
CLIENT_ID = "stride-test-publisher"
TOPICS = "stride/{guild_key}/{metric}"
CLOCK = FakeClock(dt.datetime(2024, 5, 10, 9, 0, tzinfo=dt.UTC))


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
        await client.subscribe("#", qos=2)  # so a QoS 2 publish arrives with QoS 2
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


def _mqtt_sink(broker: RunningBroker | AckLosingRelay, **overrides: Any) -> MqttSink:
    options: dict[str, Any] = {
        "host": broker.host,
        "port": broker.port,
        "topic_template": TOPICS,
        "client_id": CLIENT_ID,
        "username": USERNAME,
        "password": PASSWORD,
    } | overrides
    return MqttSink(**options)


def _payloads(messages: list[aiomqtt.Message]) -> list[Any]:
    return [json.loads(m.payload) for m in messages]  # type: ignore[arg-type]


# -- MQTT --------------------------------------------------------------------------------


async def test_mqtt_publishes_with_qos2_to_the_templated_topic(broker: RunningBroker) -> None:
    sink = _mqtt_sink(broker)
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
    assert broker.received_qos(CLIENT_ID) == [2, 2]  # one copy each, exactly once
    assert all(m.qos == 2 for m in received)


async def test_mqtt_streamr_plugin_style_topic_is_the_stream_id(broker: RunningBroker) -> None:
    # A Streamr node's MQTT plugin: the stream id is the topic.
    sink = _mqtt_sink(broker, topic_template=STREAM_ID)
    async with subscribed(broker) as subscriber:
        async with sink.connect() as send:
            await send(_message())
        received = await read_all(subscriber, broker)
    assert [m.topic.value for m in received] == [STREAM_ID]


async def test_mqtt_over_tls(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    async with mqtt_broker(tls=(cert, key)) as tls_broker:
        sink = _mqtt_sink(tls_broker, tls_context=trust)
        assert "TLS" in sink.describe()
        async with subscribed(tls_broker, tls=trust) as subscriber:
            async with sink.connect() as send:
                await send(_message())
            received = await read_all(subscriber, tls_broker, tls=trust)
    assert len(received) == 1


def _mqtt_settings(broker: RunningBroker, **mqtt: object) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        publish={
            "mqtt": {
                "host": broker.host,
                "port": broker.port,
                "username": USERNAME,
                "password": PASSWORD,
                "client_id": CLIENT_ID,
                **mqtt,
            }
        },
    )


# paho-mqtt leaves the socket of a refused TLS handshake to the garbage collector.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_mqtt_trusts_a_private_ca_from_its_ca_file_setting(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    async with mqtt_broker(tls=(cert, key)) as tls_broker, aiohttp.ClientSession() as http:
        # The system's trust store does not know the private CA: TLS alone is refused.
        system_only, _ = sinks_from_settings(_mqtt_settings(tls_broker, tls=True), http, CLOCK)
        with pytest.raises(PublishSinkError):
            async with system_only["mqtt"].connect() as send:
                await send(_message(1))
        sinks, reasons = sinks_from_settings(
            _mqtt_settings(tls_broker, ca_file=str(cert)), http, CLOCK
        )
        assert "mqtt" not in reasons
        assert "TLS" in sinks["mqtt"].describe()  # a CA file implies TLS
        async with subscribed(tls_broker, tls=trust) as subscriber:
            async with sinks["mqtt"].connect() as send:
                await send(_message(2))
            received = await read_all(subscriber, tls_broker, tls=trust)
    assert [json.loads(m.payload)["n"] for m in received if m.topic.value != "test/sentinel"] == [2]


async def test_an_unreadable_mqtt_ca_file_turns_only_that_sink_off(
    broker: RunningBroker, tmp_path: Path
) -> None:
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate")
    async with aiohttp.ClientSession() as http:
        sinks, reasons = sinks_from_settings(
            _mqtt_settings(broker, ca_file=str(not_pem)), http, CLOCK
        )
    assert "mqtt" not in sinks
    assert "PUBLISH__MQTT__CA_FILE" in reasons["mqtt"] and str(not_pem) in reasons["mqtt"]


async def test_mqtt_wrong_password_fails_without_showing_it(broker: RunningBroker) -> None:
    sink = _mqtt_sink(broker, password="wrong-password-SECRET")
    with pytest.raises(PublishSinkError) as caught:
        async with sink.connect() as send:
            await send(_message())
    assert "wrong-password-SECRET" not in str(caught.value)
    assert "authori" in str(caught.value).lower()


async def test_mqtt_unreachable_broker_is_a_sink_error() -> None:
    sink = MqttSink(
        host="127.0.0.1", port=_closed_port(), topic_template=TOPICS, client_id=CLIENT_ID
    )
    with pytest.raises(PublishSinkError):
        async with sink.connect() as send:
            await send(_message())


@pytest.mark.parametrize("template", ["stride/{guild}/{metric}", "stride/#", "", "x/{0}"])
def test_bad_topic_templates_are_refused(template: str) -> None:
    with pytest.raises(ConfigError):
        MqttSink(host="localhost", port=1883, topic_template=template, client_id=CLIENT_ID)


async def test_mqtt_connects_with_its_stable_client_id_and_a_clean_session(
    broker: RunningBroker,
) -> None:
    sink = _mqtt_sink(broker)
    for _ in range(2):  # two batches, as two delivery runs (or two processes) would open
        async with sink.connect():
            session = broker.connected_session(CLIENT_ID)
            assert session is not None and session.clean_session
    assert CLIENT_ID in sink.describe()


def test_the_default_client_id_is_one_per_installation_and_valid_everywhere(
    tmp_path: Path,
) -> None:
    database = tmp_path / "data" / "stride.db"
    client_id = default_mqtt_client_id(database)
    assert client_id == default_mqtt_client_id(tmp_path / "data" / ".." / "data" / "stride.db")
    assert client_id != default_mqtt_client_id(tmp_path / "other" / "stride.db")
    # What every MQTT 3.1.1 broker must accept: 1 to 23 characters of [0-9a-zA-Z].
    assert re.fullmatch(r"[0-9a-zA-Z]{1,23}", client_id)
    assert str(tmp_path) not in client_id


async def test_mqtt_broker_restart_mid_batch_delivers_each_message_once(
    broker: RunningBroker,
) -> None:
    """The broker holds message 2 (it answered PUBREC) when it stops; the sink never heard.

    The outbox sends message 2 again on the next connection. With QoS 2 the first copy was
    never forwarded (amqtt forwards on PUBREL), so subscribers get it once; with QoS 1 the
    broker forwarded it on PUBLISH, and the resend made a second copy.
    """
    first, second, third = _message(1), _message(2), _message(3)
    async with AckLosingRelay(broker) as relay:
        sink = _mqtt_sink(relay, timeout=1.0)  # how long it waits for an acknowledgement
        async with subscribed(broker) as subscriber:
            relay.lose_ack(2)
            with pytest.raises(PublishSinkError):
                async with sink.connect() as send:
                    await send(first)
                    in_flight = asyncio.ensure_future(send(second))
                    await relay.ack_lost.wait()
                    before_restart = await read_all(subscriber, broker)
                    await broker.restart()
                    await in_flight
        async with subscribed(broker) as subscriber:
            async with sink.connect() as send:  # the next delivery run: 2 is still pending
                await send(second)
                await send(third)
            after_restart = await read_all(subscriber, broker)

    assert _payloads(before_restart + after_restart) == [
        json.loads(m.payload) for m in (first, second, third)
    ]


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


async def test_streamr_sends_the_idempotency_key_as_a_header_and_in_the_body(
    aiohttp_client: MakeClient,
) -> None:
    node = StreamrNode(api_key=API_KEY, stream_id=STREAM_ID)
    client = await aiohttp_client(node.app())
    async with aiohttp.ClientSession() as http:
        sink = StreamrHttpSink(
            http, node_url=str(client.make_url("")), api_key=API_KEY, stream_id=STREAM_ID
        )
        async with sink.connect() as send:
            await send(_message(7))
    assert node.raw_headers[0]["Idempotency-Key"] == "k7"
    assert node.accepted[0]["idempotency_key"] == "k7"


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


async def test_file_sink_after_a_restart_does_not_write_a_line_twice(tmp_path: Path) -> None:
    """The crash window: lines 1 and 2 were written, the process died before the outbox
    recorded them, and the next process delivers 1, 2 and 3 (a new sink, the same file)."""
    path = tmp_path / "publish.jsonl"
    async with FileSink(path).connect() as send:
        await send(_message(1))
        await send(_message(2))
    async with FileSink(path).connect() as send:
        for n in (1, 2, 3):
            await send(_message(n))
    lines = path.read_text("utf-8").splitlines()
    assert [json.loads(line)["idempotency_key"] for line in lines] == ["k1", "k2", "k3"]


@pytest.mark.parametrize("kept", [1, 20, -1], ids=["one-byte", "twenty-bytes", "all-but-newline"])
async def test_file_sink_cuts_off_a_torn_last_line_and_writes_its_message_whole(
    tmp_path: Path, kept: int, caplog: pytest.LogCaptureFixture
) -> None:
    """A kill in the middle of a write leaves part of line 2 without its newline: that write
    was never confirmed, so line 2 must come back whole, once, and nothing else may break."""
    path = tmp_path / "publish.jsonl"
    async with FileSink(path).connect() as send:
        await send(_message(1))
    torn = (_message(2).payload + "\n").encode("utf-8")[:kept]
    with path.open("ab") as file:
        file.write(torn)

    async with FileSink(path).connect() as send:
        await send(_message(2))
        await send(_message(3))
    data = path.read_bytes()
    assert data.endswith(b"\n")
    assert [json.loads(line)["idempotency_key"] for line in data.splitlines()] == [
        "k1",
        "k2",
        "k3",
    ]
    assert "incomplete line" in caplog.text


async def test_file_sink_that_cannot_write_is_a_sink_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    sink = FileSink(blocker / "publish.jsonl")
    with pytest.raises(PublishSinkError):
        async with sink.connect() as send:
            await send(_message())
