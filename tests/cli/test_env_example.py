"""`.env.example` names only real settings, keeps its placeholders unfilled, and is accepted."""

from __future__ import annotations

import re
from pathlib import Path

from bot.cli.env_names import setting_names

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = re.compile(r"^#? ?([A-Z][A-Z0-9_]*)=(.*)$")


def assignments() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text("utf-8").splitlines()
    return {m[1]: m[2] for line in lines if (m := ASSIGNMENT.match(line))}


def test_every_name_is_a_setting() -> None:
    names = assignments()
    assert {"DISCORD_TOKEN", "PUBLIC_BASE_URL", "TOKEN_ENCRYPTION_KEYS"} <= set(names)
    assert set(names) <= set(setting_names())


def test_no_secret_is_filled_in() -> None:
    for name, value in assignments().items():
        if any(word in name for word in ("SECRET", "TOKEN", "KEY", "PASSWORD")):
            assert value == "" or value.startswith(("<", "Bearer <")), name


def test_a_copy_as_is_is_valid_and_needs_only_the_token() -> None:
    from bot.settings import Settings

    settings = Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    assert settings.public_base_url == "https://stride.example.org"
    assert settings.discord_token is None or not settings.discord_token.get_secret_value()
