"""An in-process MQTT broker (amqtt) on a loopback ephemeral port, with password auth, and a
relay in front of it that can lose the broker's acknowledgement of one message.

amqtt speaks MQTT 3.1.1, keeps its sessions in memory, and forwards a QoS 2 message to
subscribers only when the publisher's PUBREL arrives (its protocol handler stores the message
on PUBLISH, answers PUBREC, and initiates delivery on PUBREL).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amqtt.broker import Broker, BrokerContext
from amqtt.plugins.base import BaseAuthPlugin, BasePlugin
from amqtt.session import ApplicationMessage, Session

USERNAME = "stride-publisher"
PASSWORD = "broker-password-not-in-logs"

PUBACK = 4
PUBREC = 5


class PasswordAuth(BaseAuthPlugin):
    """Accepts exactly one username and password, as a broker with ACLs would."""

    @dataclass
    class Config:
        username: str = ""
        password: str = ""

    async def authenticate(self, *, session: Session) -> bool:
        return (
            session.username == self.config.username  # type: ignore[attr-defined]
            and session.password == self.config.password  # type: ignore[attr-defined]
        )


class ReceivedLog(BasePlugin[BrokerContext]):
    """The client id and QoS of every message the broker took from a publisher."""

    def __init__(self, context: BrokerContext) -> None:
        super().__init__(context)
        self.received: list[tuple[str, int]] = []

    async def on_broker_message_received(
        self, *, client_id: str, message: ApplicationMessage
    ) -> None:
        self.received.append((client_id, message.qos))


def _config(port: int, tls: tuple[Path, Path] | None) -> dict[str, Any]:
    listener: dict[str, Any] = {"type": "tcp", "bind": f"127.0.0.1:{port}"}
    if tls is not None:
        listener |= {"ssl": True, "certfile": str(tls[0]), "keyfile": str(tls[1])}
    return {
        "listeners": {"default": listener},
        "plugins": {
            f"{__name__}.PasswordAuth": {"username": USERNAME, "password": PASSWORD},
            f"{__name__}.ReceivedLog": {},
        },
    }


async def _start(port: int, tls: tuple[Path, Path] | None) -> tuple[Broker, int]:
    broker = Broker(_config(port, tls))
    await broker.start()
    server = broker._servers["default"].instance  # the asyncio.Server it listens with
    return broker, int(server.sockets[0].getsockname()[1])


@dataclass
class RunningBroker:
    host: str
    port: int
    _broker: Broker
    _tls: tuple[Path, Path] | None = None

    def connected_session(self, client_id: str) -> Session | None:
        """The broker's session of a connected client (its id, its clean-session flag)."""
        entry = self._broker.sessions.get(client_id)
        return entry[0] if entry is not None else None

    def received_qos(self, client_id: str) -> list[int]:
        """The QoS each message from `client_id` came with (amqtt forwards a message with the
        subscription's QoS, whatever the publisher used, so a subscriber cannot tell)."""
        log = self._broker.plugins_manager.get_plugin(ReceivedLog.__name__)
        assert isinstance(log, ReceivedLog)
        return [qos for sender, qos in log.received if sender == client_id]

    async def restart(self) -> None:
        """Stop (every connection drops, every session is lost) and start on the same port."""
        await self._broker.shutdown()
        self._broker, _ = await _start(self.port, self._tls)


@contextlib.asynccontextmanager
async def mqtt_broker(tls: tuple[Path, Path] | None = None) -> AsyncIterator[RunningBroker]:
    """Start a broker; `tls` is (certificate, key) to listen with TLS only."""
    broker, port = await _start(0, tls)
    running = RunningBroker("127.0.0.1", port, broker, tls)
    try:
        yield running
    finally:
        await running._broker.shutdown()


@dataclass
class AckLosingRelay:
    """A TCP relay to a broker, for publishers; it can lose one publish acknowledgement.

    After `lose_ack(n)`, the n-th PUBACK or PUBREC the broker sends from then on is not passed
    on, and nothing after it either: the broker holds the message, the publisher never hears
    so (`ack_lost` is set). When the broker's side closes (a restart), the relay closes the
    publisher's side, as the connection would. New connections go through normally.
    """

    upstream: RunningBroker
    host: str = "127.0.0.1"
    port: int = 0
    ack_lost: asyncio.Event = field(default_factory=asyncio.Event)
    _acks_to_pass: int | None = None
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def lose_ack(self, n: int) -> None:
        self._acks_to_pass = n - 1
        self.ack_lost.clear()

    async def __aenter__(self) -> AckLosingRelay:
        self._server = await asyncio.start_server(self._relay, self.host, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _relay(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        broker_in, broker_out = await asyncio.open_connection(
            self.upstream.host, self.upstream.port
        )
        legs = {
            asyncio.create_task(_copy(client_in, broker_out)),
            asyncio.create_task(self._copy_from_broker(broker_in, client_out)),
        }
        try:
            await asyncio.wait(legs, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for leg in legs:
                leg.cancel()
            await asyncio.gather(*legs, return_exceptions=True)
            for writer in (client_out, broker_out):
                writer.close()
            self._tasks.discard(task)

    async def _copy_from_broker(
        self, broker_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        """Packet by packet, so one acknowledgement can be held back (and the rest after it)."""
        while packet := await _read_packet(broker_in):
            if packet[0] >> 4 in (PUBACK, PUBREC) and self._acks_to_pass is not None:
                if self._acks_to_pass == 0:
                    self._acks_to_pass = None
                    self.ack_lost.set()
                    await _drain_until_closed(broker_in)
                    return
                self._acks_to_pass -= 1
            client_out.write(packet)
            await client_out.drain()


async def _copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    while data := await source.read(65536):
        sink.write(data)
        await sink.drain()


async def _drain_until_closed(source: asyncio.StreamReader) -> None:
    while await source.read(65536):
        pass


async def _read_packet(source: asyncio.StreamReader) -> bytes:
    """One MQTT control packet (fixed header, remaining length, body), or b"" at the end."""
    try:
        header = await source.readexactly(1)
        length_bytes = b""
        length, shift = 0, 0
        while True:
            byte = await source.readexactly(1)
            length_bytes += byte
            length |= (byte[0] & 0x7F) << shift
            shift += 7
            if not byte[0] & 0x80:
                break
        return header + length_bytes + await source.readexactly(length)
    except asyncio.IncompleteReadError:
        return b""


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (also its own CA) and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stride-test-broker")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "broker.crt"
    key_path = directory / "broker.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
