"""Run `stride run` in a child process against the Discord stand-in (for the signal test).

The only differences from production are the two the harness always makes: discord.py's REST
base URL and gateway URL, taken from STANDIN_REST_URL and STANDIN_GATEWAY_URL.
"""

from __future__ import annotations

import os
import sys
import warnings

import yarl

warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)

import discord  # noqa: E402
from discord.gateway import DiscordWebSocket  # noqa: E402

from bot.cli import main  # noqa: E402

if __name__ == "__main__":
    discord.http.Route.BASE = os.environ["STANDIN_REST_URL"]
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["STANDIN_GATEWAY_URL"])
    sys.exit(main(["run"]))
