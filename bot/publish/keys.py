"""Pseudonymous keys for published data: HMAC-SHA256 of an internal id with the server secret.

A key is stable (the same challenge always gets the same key, so a consumer can follow it
from day to day) and not reversible without the secret (ids are small integers, so a plain
hash would be trivial to invert). Each kind of id is prefixed before hashing ("challenge:",
"guild:"), so challenge 7 and guild 7 never share a key.

The secret comes from `PUBLISH__SECRET` or, when that is unset, from `publish.key` beside the
database: generated once with mode 0600, the same pattern as `bot.crypto`'s token key. Losing
it changes every key, so consumers would see new challenges; back it up with the database.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from pathlib import Path

from pydantic import SecretStr

from bot.errors import ConfigError
from bot.keyfiles import read_or_create

log = logging.getLogger(__name__)

SECRET_FILE_NAME = "publish.key"  # noqa: S105 (a file name, not a secret)
MIN_SECRET_LENGTH = 16


class PublishKeys:
    """Derives the published pseudonyms; the secret never leaves this object."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(
                [f"PUBLISH__SECRET must be at least {MIN_SECRET_LENGTH} characters long"]
            )
        self._secret = secret

    def __repr__(self) -> str:
        return "PublishKeys(<secret>)"

    def _mac(self, kind: str, value: str) -> str:
        message = f"{kind}:{value}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def challenge_key(self, challenge_id: int) -> str:
        return self._mac("challenge", str(challenge_id))

    def guild_key(self, guild_id: int) -> str:
        return self._mac("guild", str(guild_id))


def load_or_create_secret_file(directory: Path) -> bytes:
    """The generated secret beside the database, created once with mode 0600."""
    secret = read_or_create(
        directory / SECRET_FILE_NAME,
        lambda: secrets.token_hex(32),
        warning="PUBLISH__SECRET is not set: generated one in %s. Back it up with the "
        "database; without it published challenge keys change.",
    )
    return secret.encode("ascii")


def keys_from_settings(configured: SecretStr | None, database_path: Path) -> PublishKeys:
    if configured is not None and configured.get_secret_value():
        return PublishKeys(configured.get_secret_value().encode("utf-8"))
    return PublishKeys(load_or_create_secret_file(database_path.resolve().parent))
