"""Encryption of provider tokens at rest (Fernet; the first key encrypts, every key decrypts)."""

from __future__ import annotations

import logging
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.keyfiles import read_or_create

log = logging.getLogger(__name__)

KEY_FILE_NAME = "stride.key"


class EncryptionKeyError(ValueError):
    """A configured key is malformed. The message never contains the key itself."""


class TokenCipher:
    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise EncryptionKeyError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode("utf-8"))

    def decrypt(self, ciphertext: bytes) -> str:
        try:
            return self._fernet.decrypt(ciphertext).decode("utf-8")
        except InvalidToken as exc:
            raise EncryptionKeyError(
                "a stored token cannot be decrypted with any configured key "
                "(was TOKEN_ENCRYPTION_KEYS changed without keeping the old key?)"
            ) from exc

    def rotate(self, ciphertext: bytes) -> bytes:
        """Re-encrypt with the first (current) key."""
        return self._fernet.rotate(ciphertext)


def parse_keys(raw: str) -> list[bytes]:
    """Comma-separated Fernet keys; says which position is malformed, never the key."""
    keys = [part.strip() for part in raw.split(",") if part.strip()]
    if not keys:
        raise EncryptionKeyError("TOKEN_ENCRYPTION_KEYS is set but empty")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as exc:
            raise EncryptionKeyError(
                f"TOKEN_ENCRYPTION_KEYS key #{position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes; `stride keygen` makes one)"
            ) from exc
    return [key.encode("ascii") for key in keys]


def load_or_create_key_file(directory: Path) -> list[bytes]:
    """The generated key beside the database, created once with mode 0600."""
    key = read_or_create(
        directory / KEY_FILE_NAME,
        lambda: Fernet.generate_key().decode("ascii"),
        warning="TOKEN_ENCRYPTION_KEYS is not set: generated a key in %s. Back it up, or set "
        "TOKEN_ENCRYPTION_KEYS; without it stored tokens cannot be read.",
    )
    return parse_keys(key)


def cipher_from_settings(configured: str | None, database_path: Path) -> TokenCipher:
    keys = (
        parse_keys(configured)
        if configured
        else load_or_create_key_file(database_path.resolve().parent)
    )
    return TokenCipher(keys)
