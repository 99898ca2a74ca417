"""Configuration: environment parsing, validation messages, and `stride check`."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from bot.cli import cmd_check, describe_validation_error
from bot.settings import Settings


def test_defaults_need_no_environment() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.discord_token is None
    assert str(settings.database_path) == "data/stride.db"
    assert (settings.web_host, settings.web_port) == ("127.0.0.1", 8080)
    assert settings.google_health.api_base_url == "https://health.googleapis.com/v4"
    assert not settings.google_health.enabled


def test_nested_provider_group_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_HEALTH__CLIENT_ID", "cid")
    monkeypatch.setenv("GOOGLE_HEALTH__CLIENT_SECRET", "very-secret")
    monkeypatch.setenv("GOOGLE_HEALTH__TOKEN_URL", "http://127.0.0.1:9999/token/")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.google_health.enabled
    assert settings.google_health.token_url == "http://127.0.0.1:9999/token"
    assert "very-secret" not in repr(settings)


def test_dotenv_file_is_read(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".env").write_text("DISCORD_TOKEN=from-dotenv\nWEB_PORT=9000\n")
    settings = Settings()
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == "from-dotenv"
    assert settings.web_port == 9000


def test_malformed_url_is_named_without_echoing_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WITHINGS__TOKEN_URL", "not a url sekrit")
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)  # type: ignore[call-arg]
    lines = describe_validation_error(caught.value)
    assert len(lines) == 1
    assert lines[0].startswith("WITHINGS__TOKEN_URL:")
    assert "sekrit" not in lines[0]


def run_check() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cmd_check(out, err)
    return code, out.getvalue(), err.getvalue()


def test_check_with_empty_environment_names_the_missing_token() -> None:
    code, _out, err = run_check()
    assert code == 1
    assert "DISCORD_TOKEN" in err


def test_check_with_token_lists_every_provider_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "discord-token-value")
    code, out, err = run_check()
    assert code == 0, err
    for provider in ("google_health", "withings", "oura", "google_fit", "sandbox"):
        assert f"{provider}: disabled (set " in out
    assert "streamr: disabled (set PUBLISH__STREAMR__NODE_URL, PUBLISH__STREAMR__API_KEY" in out
    assert "webhook: disabled (set PUBLISH__WEBHOOK__URL, PUBLISH__WEBHOOK__SECRET)" in out
    assert "discord-token-value" not in out + err


def test_check_reports_enabled_provider_and_bad_key_without_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "discord-token-value")
    monkeypatch.setenv("OURA__CLIENT_ID", "oura-id")
    monkeypatch.setenv("OURA__CLIENT_SECRET", "oura-secret-value")
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", "definitely-not-a-fernet-key")
    code, out, err = run_check()
    assert code == 1
    assert "oura: enabled" in out
    assert "TOKEN_ENCRYPTION_KEYS key #1 is not a valid Fernet key" in err
    for secret in ("discord-token-value", "oura-secret-value", "definitely-not-a-fernet-key"):
        assert secret not in out + err


def test_check_reports_invalid_setting_as_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_PORT", "eighty")
    code, _out, err = run_check()
    assert code == 1
    assert err.strip().startswith("error: WEB_PORT:")


def test_keygen_prints_a_usable_key(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main
    from bot.crypto import TokenCipher, parse_keys

    assert main(["keygen"]) == 0
    key = capsys.readouterr().out.strip()
    cipher = TokenCipher(parse_keys(key))
    assert cipher.decrypt(cipher.encrypt("x")) == "x"


def test_run_logging_blanks_oauth_secrets_from_every_logger(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import logging

    from bot.cli import configure_logging

    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = []
    try:
        configure_logging("DEBUG")
        logging.getLogger("discord.http").debug(
            "POST /channels/1/messages with url http://x/oauth/oura/start?state=s3cr3t-state"
        )
        logging.getLogger("aiohttp.access").info("GET /cb?code=c0de-value&state=abc")
    finally:
        root.handlers = saved
    err = capsys.readouterr().err
    assert "oauth/oura/start" in err
    assert "s3cr3t-state" not in err
    assert "c0de-value" not in err


def test_check_reports_publish_settings_that_would_switch_publishing_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "t")
    monkeypatch.setenv("PUBLISH__SECRET", "short-one")
    monkeypatch.setenv("PUBLISH__MQTT__HOST", "127.0.0.1")
    monkeypatch.setenv("PUBLISH__MQTT__TOPIC_TEMPLATE", "stride/{guild}/{metric}")
    code, out, err = run_check()
    assert code == 1
    assert "PUBLISH__SECRET must be at least 16 characters long" in err
    assert "PUBLISH__MQTT__TOPIC_TEMPLATE may use only {guild_key} and {metric}" in err
    assert "short-one" not in out + err


def test_run_with_the_web_port_taken_fails_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import logging

    from bot.cli import cmd_run

    root = logging.getLogger()
    saved = root.handlers[:]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("DISCORD_TOKEN", "discord-token-value")
        monkeypatch.setenv("WEB_PORT", str(port))
        monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "stride.db"))
        monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", Fernet.generate_key().decode())
        out, err = io.StringIO(), io.StringIO()
        try:
            code = cmd_run(out, err)
        finally:
            root.handlers = saved
    assert code == 1
    [line] = err.getvalue().splitlines()
    assert line.startswith("error: cannot start Stride:") and str(port) in line
    assert "discord-token-value" not in line
