"""docs/deploy.md's reverse-proxy examples forward every route the internet must reach and
keep `/metrics` out, checked against the route paths the web server mounts."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest

from bot.providers.apple_health import UPLOAD_PATH
from bot.providers.push import GOOGLE_HEALTH_PATH, OURA_PATH, WITHINGS_PATH
from bot.web.metrics_routes import METRICS_PATH
from bot.web.share.links import LIVE_PATH

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"

PUBLIC = [
    "/oauth/google_health/start",
    "/oauth/google_health/callback",
    GOOGLE_HEALTH_PATH,
    WITHINGS_PATH.format(secret="s3cret"),
    OURA_PATH,
    UPLOAD_PATH.format(upload_id="abc123"),
    f"{LIVE_PATH}/token",
    f"{LIVE_PATH}/token/data.json",
    "/healthz",
]


def _caddy_paths() -> list[str]:
    [line] = [ln for ln in DEPLOY.read_text().splitlines() if ln.strip().startswith("@stride")]
    return line.split()[2:]


def _nginx_forwarded(path: str) -> bool:
    text = DEPLOY.read_text()
    regexes = re.findall(r"location ~ (\S+) \{\s*proxy_pass", text)
    exact = re.findall(r"location = (\S+) \{ proxy_pass", text)
    return path in exact or any(re.match(pattern, path) for pattern in regexes)


@pytest.mark.parametrize("path", PUBLIC)
def test_the_proxy_examples_forward_every_public_route(path: str) -> None:
    assert any(fnmatch.fnmatchcase(path, glob) for glob in _caddy_paths()), path
    assert _nginx_forwarded(path), path


def test_the_proxy_examples_keep_metrics_private() -> None:
    assert not any(fnmatch.fnmatchcase(METRICS_PATH, glob) for glob in _caddy_paths())
    assert not _nginx_forwarded(METRICS_PATH)
