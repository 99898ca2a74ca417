"""Makes the Discord stand-in's fixtures available to its own tests (`test_discord_standin.py`)."""

from tests.standins.discord.fixtures import (
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
