"""An in-process MQTT broker (amqtt) on a loopback ephemeral port, with password auth."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amqtt.broker import Broker
from amqtt.plugins.base import BaseAuthPlugin
from amqtt.session import Session

USERNAME = "stride-publisher"
PASSWORD = "broker-password-not-in-logs"


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


@dataclass(frozen=True)
class RunningBroker:
    host: str
    port: int


@contextlib.asynccontextmanager
async def mqtt_broker(tls: tuple[Path, Path] | None = None) -> AsyncIterator[RunningBroker]:
    """Start a broker; `tls` is (certificate, key) to listen with TLS only."""
    listener: dict[str, Any] = {"type": "tcp", "bind": "127.0.0.1:0"}
    if tls is not None:
        listener |= {"ssl": True, "certfile": str(tls[0]), "keyfile": str(tls[1])}
    broker = Broker(
        {
            "listeners": {"default": listener},
            "plugins": {
                f"{__name__}.PasswordAuth": {"username": USERNAME, "password": PASSWORD},
            },
        }
    )
    await broker.start()
    try:
        server = broker._servers["default"].instance  # the asyncio.Server it listens with
        port = server.sockets[0].getsockname()[1]
        yield RunningBroker("127.0.0.1", port)
    finally:
        await broker.shutdown()


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
