"""Run `stride worker` in a child process against the Discord stand-in (the SIGKILL test).

The only difference from production is the one the harness always makes: discord.py's REST
base URL, taken from STANDIN_REST_URL (a worker never opens the gateway).
"""

from __future__ import annotations

import os
import sys
import warnings

warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)

import discord  # noqa: E402

from bot.cli import main  # noqa: E402

if __name__ == "__main__":
    discord.http.Route.BASE = os.environ["STANDIN_REST_URL"]
    sys.exit(main(["worker"]))
