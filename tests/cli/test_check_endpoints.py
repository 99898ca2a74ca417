"""`stride check` on what others must reach: Apple Health's upload addresses (members'
iPhones), where `/metrics` listens, and the redirect URIs `/link` really sends."""

from __future__ import annotations

import io
from unittest.mock import MagicMock

import pytest

from bot.cli import cmd_check
from bot.linking import LinkService


def run_check() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cmd_check(out, err)
    return code, out.getvalue(), err.getvalue()


def warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning: ")]


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "discord-token-value")


@pytest.fixture
def apple_health(monkeypatch: pytest.MonkeyPatch, token: None) -> None:
    monkeypatch.setenv("APPLE_HEALTH__ENABLED", "true")


# --------------------------------------------------------------------------- Apple Health


@pytest.mark.usefixtures("token")
def test_apple_health_is_listed_when_disabled() -> None:
    _code, out, err = run_check()

    assert "  apple_health: disabled (set APPLE_HEALTH__ENABLED=true)" in out.splitlines()
    assert warnings(err) == []


@pytest.mark.usefixtures("apple_health")
def test_apple_health_shows_the_upload_address_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://stride.example.org/")

    code, out, err = run_check()

    assert code == 0 and warnings(err) == []
    assert "  apple_health: enabled (nothing to register)" in out.splitlines()
    assert "upload addresses: https://stride.example.org/upload/apple-health/{upload id}" in out


@pytest.mark.parametrize("base", ["http://127.0.0.1:8080", "http://localhost:8080"])
@pytest.mark.usefixtures("apple_health")
def test_apple_health_on_a_loopback_address_is_a_warning(
    monkeypatch: pytest.MonkeyPatch, base: str
) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", base)

    code, out, err = run_check()

    assert code == 0
    [warning] = warnings(err)
    assert "loopback" in warning and "iPhones could not reach" in warning
    assert "each member's own machine" not in warning  # no OAuth provider is enabled
    assert "configuration OK, with 1 warning(s)" in out


@pytest.mark.usefixtures("apple_health")
def test_apple_health_over_plain_http_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://stride.example.org")

    _code, _out, err = run_check()

    [warning] = warnings(err)
    assert "plain http" in warning and "upload secret and health data unencrypted" in warning


@pytest.mark.usefixtures("apple_health")
def test_apple_health_and_oauth_on_loopback_is_one_warning_naming_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OURA__CLIENT_ID", "oura-id")
    monkeypatch.setenv("OURA__CLIENT_SECRET", "oura-secret-value")

    _code, _out, err = run_check()

    [warning] = warnings(err)
    assert "each member's own machine" in warning and "iPhones could not reach" in warning


# --------------------------------------------------------------------------- /metrics


@pytest.mark.usefixtures("token")
def test_metrics_on_its_own_loopback_listener_by_default() -> None:
    _code, out, err = run_check()

    assert "metrics: /metrics listens on 127.0.0.1:9108, apart from the public port" in out
    assert warnings(err) == []


@pytest.mark.usefixtures("token")
def test_metrics_on_the_public_port_without_a_token_is_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("METRICS_PORT", "")
    monkeypatch.setenv("WEB_PORT", "8181")

    _code, out, err = run_check()

    assert "metrics: /metrics is served on the public port, 127.0.0.1:8181" in out
    [warning] = warnings(err)
    assert "public port" in warning and "METRICS_TOKEN" in warning


@pytest.mark.usefixtures("token")
def test_metrics_on_the_public_port_behind_a_token_is_fine_and_the_token_stays_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("METRICS_PORT", "")
    monkeypatch.setenv("METRICS_TOKEN", "scrape-token-value")

    _code, out, err = run_check()

    assert "served on the public port" in out and "bearer token required" in out
    assert warnings(err) == []
    assert "scrape-token-value" not in out + err


@pytest.mark.usefixtures("token")
def test_metrics_on_an_open_host_without_a_token_is_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("METRICS_HOST", "0.0.0.0")

    _code, out, err = run_check()

    assert "metrics: /metrics listens on 0.0.0.0:9108" in out
    [warning] = warnings(err)
    assert "METRICS_HOST is 0.0.0.0" in warning and "METRICS_TOKEN" in warning


# --------------------------------------------------------------------------- redirect URIs


@pytest.mark.usefixtures("token")
def test_the_redirect_uri_printed_is_the_one_link_sends(monkeypatch: pytest.MonkeyPatch) -> None:
    base = "https://stride.example.org/base/"
    monkeypatch.setenv("PUBLIC_BASE_URL", base)
    monkeypatch.setenv("WITHINGS__CLIENT_ID", "w-id")
    monkeypatch.setenv("WITHINGS__CLIENT_SECRET", "w-secret")
    linking = LinkService(
        db=MagicMock(),
        cipher=MagicMock(),
        providers={},
        clock=MagicMock(),
        public_base_url=base,
        messenger=MagicMock(),
        tokens=MagicMock(),
    )

    _code, out, _err = run_check()

    sent = linking.redirect_uri("withings")
    assert sent == "https://stride.example.org/base/oauth/withings/callback"
    assert f"    redirect URI to register: {sent}" in out.splitlines()
