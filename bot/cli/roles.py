"""`stride web` and `stride worker`: the split roles of a larger deployment (`bot.roles`).

`add_role_commands` registers them with the parser; `cmd_role` runs one until a signal.
Problems are one `error:` line and exit code 1 (another live worker with this process's name
among them, `bot.instance.NameInUse`).
"""

from __future__ import annotations

import argparse
from typing import TextIO

import discord

from bot import eventloop
from bot.cli.common import settings_or_report
from bot.cli.logs import configure_logging
from bot.cli.run import DISCORD_REFUSED


def add_role_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`web` and `worker`."""
    sub.add_parser(
        "web",
        help="serve OAuth callbacks, webhooks, /healthz and /metrics only (stateless)",
        description="The web role: no Discord gateway, no scheduler; all state in the "
        "database, so several can run behind a load balancer.",
    )
    sub.add_parser(
        "worker",
        help="run the background queues only (sync queue, outbox, daily run)",
        description="The worker role: the sync queue, the poller, the publish outbox and the "
        "daily run with its posts (for SHARD_IDS when set), without the web server.",
    )


def cmd_role(role: str, err: TextIO) -> int:
    """`stride web` / `stride worker` until a signal."""
    from bot.instance import NameInUse
    from bot.roles import Role, RoleApp
    from bot.storage import DatabaseTooNew, DatabaseUnavailable, MigrationError

    settings = settings_or_report(err)
    if settings is None:
        return 1
    configure_logging(settings.log_level)
    try:
        return eventloop.run(RoleApp(settings, Role(role)).run())
    except discord.LoginFailure:
        print(DISCORD_REFUSED, file=err)
        return 1
    except (MigrationError, DatabaseTooNew, DatabaseUnavailable, NameInUse) as exc:
        print(f"error: {exc}", file=err)
        return 1
    except OSError as exc:
        print(f"error: cannot start Stride: {exc}", file=err)
        return 1
