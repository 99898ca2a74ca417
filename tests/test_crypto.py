"""Token encryption keys: a generated key file, parsing configured keys."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.crypto import EncryptionKeyError, cipher_from_settings, parse_keys


def test_generated_key_file_is_private_and_reused(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    db_path = tmp_path / "data" / "stride.db"
    first = cipher_from_settings(None, db_path)
    key_file = tmp_path / "data" / "stride.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert "TOKEN_ENCRYPTION_KEYS is not set" in caplog.text
    assert key_file.read_text().strip() not in caplog.text
    second = cipher_from_settings(None, db_path)
    assert second.decrypt(first.encrypt("hello")) == "hello"


def test_parse_keys_rejects_garbage_without_echoing_it() -> None:
    good = Fernet.generate_key().decode()
    with pytest.raises(EncryptionKeyError) as caught:
        parse_keys(f"{good},garbage-key-material")
    assert "#2" in str(caught.value)
    assert "garbage-key-material" not in str(caught.value)
