"""`stride check`: the public address, the URIs to register, misnamed variables, the default
publish file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.cli import cmd_check
from bot.cli.env_names import setting_names, suggestion


def run_check() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cmd_check(out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def oura_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "discord-token-value")
    monkeypatch.setenv("OURA__CLIENT_ID", "oura-id")
    monkeypatch.setenv("OURA__CLIENT_SECRET", "oura-secret-value")


def warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning: ")]


@pytest.mark.parametrize(
    "base", ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"]
)
@pytest.mark.usefixtures("oura_enabled")
def test_a_loopback_public_address_is_a_warning(monkeypatch: pytest.MonkeyPatch, base: str) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", base)
    code, out, err = run_check()
    assert code == 0
    [warning] = warnings(err)
    assert "loopback" in warning and "each member's own machine" in warning
    assert "configuration OK, with 1 warning(s)" in out


@pytest.mark.usefixtures("oura_enabled")
def test_plain_http_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://stride.example.org")
    _code, _out, err = run_check()
    [warning] = warnings(err)
    assert "plain http" in warning


@pytest.mark.usefixtures("oura_enabled")
def test_https_prints_the_exact_redirect_uri_to_register(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://stride.example.org/")
    monkeypatch.setenv("WITHINGS__CLIENT_ID", "w-id")
    monkeypatch.setenv("WITHINGS__CLIENT_SECRET", "w-secret")
    code, out, err = run_check()
    assert code == 0 and warnings(err) == []
    assert "redirect URI to register: https://stride.example.org/oauth/oura/callback" in out
    assert "redirect URI to register: https://stride.example.org/oauth/withings/callback" in out
    assert "/oauth/google_health/callback" not in out  # not enabled, nothing to register
    assert "configuration OK\n" in out
    assert "oura-secret-value" not in out + err


def test_no_provider_no_address_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "t")
    _code, _out, err = run_check()
    assert warnings(err) == []


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("SANDBOX_ENABLED", "SANDBOX__ENABLED"),
        ("OURA_CLIENT_ID", "OURA__CLIENT_ID"),
        ("GOOGLE_HEALTH_CLIENT_SECRET", "GOOGLE_HEALTH__CLIENT_SECRET"),
        ("PUBLISH__MQTT_HOST", "PUBLISH__MQTT__HOST"),
        ("WITHINGS__CLIENT_SECERT", "WITHINGS__CLIENT_SECRET"),
    ],
)
def test_a_misnamed_variable_gets_a_did_you_mean(
    monkeypatch: pytest.MonkeyPatch, written: str, meant: str
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "t")
    monkeypatch.setenv(written, "x")
    code, _out, err = run_check()
    assert code == 0
    expected = f"warning: {written} is not a Stride setting and is ignored: did you mean {meant}?"
    assert expected in err.splitlines()


def test_a_misnamed_variable_in_the_env_file_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("DISCORD_TOKEN=t\nOURA_CLIENT_ID=x\n")
    _code, _out, err = run_check()
    assert "did you mean OURA__CLIENT_ID?" in err


@pytest.mark.parametrize(
    "name", ["PATH", "HOME", "WEB_CONCURRENCY", "LOG_FORMAT", "oura__client_id", "GOOGLE_CLOUD"]
)
def test_other_names_are_left_alone(name: str) -> None:
    assert suggestion(name, setting_names()) is None


def test_known_names_come_from_the_settings_model() -> None:
    names = set(setting_names())
    assert {"DISCORD_TOKEN", "OURA__CLIENT_ID", "SANDBOX__ENABLED", "PUBLISH__MQTT__HOST"} <= names
    assert "OURA" not in names and "PUBLISH__MQTT" not in names


def test_without_a_sink_check_says_where_messages_go(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "t")
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "data" / "stride.db"))
    _code, out, _err = run_check()
    assert f"messages go to {tmp_path / 'data' / 'publish.jsonl'}" in out
    assert "file: disabled" not in out


def test_with_a_sink_the_file_is_not_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "t")
    monkeypatch.setenv("PUBLISH__MQTT__HOST", "127.0.0.1")
    _code, out, _err = run_check()
    assert "mqtt: enabled" in out and "file: disabled (set PUBLISH__FILE__PATH)" in out
    assert "publish.jsonl" not in out


def test_an_mqtt_ca_file_that_cannot_be_read_fails_check(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "mqtt-ca.pem"
    monkeypatch.setenv("DISCORD_TOKEN", "t")
    monkeypatch.setenv("PUBLISH__MQTT__HOST", "mqtt.example.org")
    monkeypatch.setenv("PUBLISH__MQTT__CA_FILE", str(missing))

    code, out, err = run_check()

    assert code == 1 and "configuration OK" not in out
    assert f"PUBLISH__MQTT__CA_FILE {missing} is not a readable PEM certificate file" in err
    missing.write_text("not a certificate")
    assert run_check()[0] == 1


def test_log_level_in_lower_case_passes_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "t")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    code, _out, err = run_check()
    assert code == 0, err
