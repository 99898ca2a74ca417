"""The signature checks of the webhooks that are signed.

- Google Health: an ECDSA P-256 signature of the JSON body, SHA-256, in the header named by
  `GOOGLE_HEALTH__WEBHOOK_SIGNATURE_HEADER`. Google does not say how the signature is encoded,
  so `EcdsaVerifier` accepts DER or raw r‖s (64 bytes), in base64, base64url or hex. The key
  (`GOOGLE_HEALTH__WEBHOOK_PUBLIC_KEY`) is a PEM public key or its base64 DER.
- Oura: `x-oura-signature` is the uppercase hex HMAC-SHA256 of `x-oura-timestamp` followed by
  the body, keyed with the app's client secret (`oura_signature`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

from bot.errors import ConfigError

RAW_SIGNATURE_BYTES = 64  # r and s of P-256, 32 bytes each
MAX_SIGNATURE_CHARS = 512


def load_p256_public_key(text: str) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from PEM or base64 DER; `ConfigError` for anything else."""
    problem = ConfigError(
        ["GOOGLE_HEALTH__WEBHOOK_PUBLIC_KEY is not an ECDSA P-256 public key (PEM or base64 DER)"]
    )
    stripped = text.strip()
    try:
        if stripped.startswith("-----BEGIN"):
            key = load_pem_public_key(stripped.encode("ascii"))
        else:
            key = load_der_public_key(base64.b64decode(stripped, validate=True))
    except (ValueError, TypeError, binascii.Error, UnicodeEncodeError):
        raise problem from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise problem
    return key


def _decodings(text: str) -> list[bytes]:
    """Every reading of `text` as base64, base64url or hex (what the header might hold)."""
    padded = text + "=" * (-len(text) % 4)
    found: list[bytes] = []
    for alphabet in (b"+/", b"-_"):
        with contextlib.suppress(ValueError, binascii.Error):
            found.append(base64.b64decode(padded, altchars=alphabet, validate=True))
    with contextlib.suppress(ValueError):
        found.append(bytes.fromhex(text))
    return found


class EcdsaVerifier:
    """Checks a P-256 ECDSA signature (SHA-256) of a body against one public key."""

    def __init__(self, key: ec.EllipticCurvePublicKey) -> None:
        self._key = key

    def verify(self, signature: str | None, body: bytes) -> bool:
        if not signature or len(signature) > MAX_SIGNATURE_CHARS:
            return False
        for raw in _decodings(signature.strip()):
            candidates = [raw]
            if len(raw) == RAW_SIGNATURE_BYTES:
                half = RAW_SIGNATURE_BYTES // 2
                r, s = int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
                candidates.append(encode_dss_signature(r, s))
            for der in candidates:
                try:
                    self._key.verify(der, body, ec.ECDSA(hashes.SHA256()))
                except (InvalidSignature, ValueError):
                    continue
                return True
        return False


def oura_signature(client_secret: str, timestamp: str, body: bytes) -> str:
    """What Oura sends in `x-oura-signature` for this timestamp and body."""
    message = timestamp.encode("utf-8", "surrogateescape") + body  # a header, maybe not UTF-8
    return hmac.new(client_secret.encode("utf-8"), message, hashlib.sha256).hexdigest().upper()
