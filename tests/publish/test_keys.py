"""Challenge and guild keys: stable, secret-dependent, and the generated secret file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.errors import ConfigError
from bot.publish.keys import SECRET_FILE_NAME, PublishKeys, keys_from_settings


def test_keys_are_stable_and_depend_on_the_secret() -> None:
    one = PublishKeys(b"a-long-enough-server-secret")
    again = PublishKeys(b"a-long-enough-server-secret")
    other = PublishKeys(b"another-server-secret-value")
    assert one.challenge_key(7) == again.challenge_key(7)
    assert one.challenge_key(7) != one.challenge_key(8)
    assert one.challenge_key(7) != other.challenge_key(7)
    assert len(one.challenge_key(7)) == 64


def test_challenge_and_guild_keys_never_collide() -> None:
    keys = PublishKeys(b"a-long-enough-server-secret")
    assert keys.challenge_key(42) != keys.guild_key(42)


def test_short_secret_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as caught:
        PublishKeys(b"tooshort")
    assert "tooshort" not in str(caught.value)
    assert "tooshort" not in repr(PublishKeys(b"x" * 20))


def test_secret_is_generated_once_beside_the_database_with_mode_0600(tmp_path: Path) -> None:
    database = tmp_path / "data" / "stride.db"
    first = keys_from_settings(None, database)
    second = keys_from_settings(None, database)
    secret_file = database.parent / SECRET_FILE_NAME
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert first.challenge_key(1) == second.challenge_key(1)  # survives a restart


def test_configured_secret_wins_and_writes_no_file(tmp_path: Path) -> None:
    keys = keys_from_settings(SecretStr("configured-secret-0123456789"), tmp_path / "stride.db")
    assert keys.challenge_key(1) == PublishKeys(b"configured-secret-0123456789").challenge_key(1)
    assert not (tmp_path / SECRET_FILE_NAME).exists()
