"""`stride run` and bare `stride`: the bot, or the demo when nothing at all is configured.

An explicit `stride run` without DISCORD_TOKEN is a usage error (exit 2), so a supervisor
never reads a demo as a successful start; bare `stride` on a fresh machine plays the demo.
"""

from __future__ import annotations

import logging
import os
from typing import TextIO

from pydantic import BaseModel

from bot import eventloop
from bot.cli.check import configuration_report
from bot.cli.common import (
    EXIT_USAGE,
    database_path_problem,
    has_discord_token,
    settings_or_report,
)
from bot.cli.demo import cmd_demo
from bot.cli.logs import configure_logging
from bot.crypto import EncryptionKeyError
from bot.settings import Settings
from bot.storage import DatabaseTooNew, DatabaseUnavailable, MigrationError

log = logging.getLogger(__name__)

RUN_NEEDS_DISCORD = (
    "DISCORD_TOKEN is not set: `stride run` needs the bot's token (README: \"Creating the "
    'Discord application"); `stride demo` plays a simulated challenge without one'
)
DISCORD_REFUSED = (
    "error: Discord refused DISCORD_TOKEN (401 Unauthorized): copy the bot's token again "
    "from the developer portal (Bot → Reset Token) into DISCORD_TOKEN"
)


def configured_settings(settings: Settings) -> list[str]:
    """The settings given in the environment or `.env`, DISCORD_TOKEN aside, by name."""
    names: list[str] = []
    for name in sorted(settings.model_fields_set - {"discord_token"}):
        value = getattr(settings, name)
        if isinstance(value, BaseModel) and value.model_fields_set:
            names.extend(f"{name}__{inner}".upper() for inner in sorted(value.model_fields_set))
        else:
            names.append(name.upper())
    return names


def cmd_run(out: TextIO, err: TextIO) -> int:
    settings = settings_or_report(err)
    if settings is None:
        return 1
    if not has_discord_token(settings):
        print(f"error: {RUN_NEEDS_DISCORD}", file=err)
        return EXIT_USAGE
    return run_bot(settings, err)


def cmd_default(out: TextIO, err: TextIO) -> int:
    """Bare `stride`: the bot when it has a token; the demo when nothing is configured."""
    settings = settings_or_report(err)
    if settings is None:
        return 1
    if has_discord_token(settings):
        return run_bot(settings, err)
    configured = configured_settings(settings)
    if configured:
        print(f"error: {RUN_NEEDS_DISCORD} (configured: {', '.join(configured)})", file=err)
        return EXIT_USAGE
    print(
        "No DISCORD_TOKEN is configured: running `stride demo`, a simulated challenge "
        "(see README to run the bot).",
        file=err,
    )
    return cmd_demo(None, out, err)


def run_bot(settings: Settings, err: TextIO) -> int:
    """Start Stride and run it until a signal; one `error:` line when it cannot start."""
    import discord

    configure_logging(settings.log_level)
    report = configuration_report(settings)
    problems = list(report.problems)
    if settings.database_url is None:  # SQLite: a file Stride must write
        problem = database_path_problem(settings.database_path)
        problems.extend([] if problem is None else [problem])
    if problems:
        for line in problems:
            print(f"error: {line}", file=err)
        return 1
    for line in report.warnings:
        log.warning("%s", line)
    from bot.app import StrideApp
    from bot.instance import NameInUse

    try:
        return eventloop.run(StrideApp(settings).run())
    except discord.LoginFailure:
        print(DISCORD_REFUSED, file=err)
        return 1
    except (
        MigrationError,
        DatabaseTooNew,
        DatabaseUnavailable,
        EncryptionKeyError,
        NameInUse,
    ) as exc:
        print(f"error: {exc}", file=err)
        return 1
    except PermissionError as exc:  # a key file or the database owned by another user
        print(
            f"error: cannot start Stride: {exc.filename or exc} is not readable and writable "
            f"by uid {os.getuid()}, the user Stride runs as",
            file=err,
        )
        return 1
    except OSError as exc:  # the web port is taken, the database folder is not writable…
        print(f"error: cannot start Stride: {exc}", file=err)
        return 1
