"""Makes the Discord stand-in's fixtures available to the harness's own tests."""

from tests.harness.fixtures import (
    discord_spec,
    discord_spec_required,
    discord_standin,
    make_discord_standin,
    patched_discord_standin,
)

__all__ = [
    "discord_spec",
    "discord_spec_required",
    "discord_standin",
    "make_discord_standin",
    "patched_discord_standin",
]
