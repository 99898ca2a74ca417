"""The `stride` command line (`main` is the console script's entry point).

- `parser`: the argument parser, every command and its options.
- `run`: `stride run`, and bare `stride` (the demo when nothing is configured).
- `check` (with `webhooks` and `env_names`): `stride check`'s configuration report.
- `database`: `stride migrate` and `stride reencrypt`; `backup`: `stride backup PATH`.
- `demo`: `stride demo`; `logs`: logging for the long-running commands.
- `common`: loading the settings, exit codes, one line naming a path Stride cannot use.
- `roles`: `stride web` and `stride worker`; `data`: `stride export-db` and `stride import-db`
  (the commands of a deployment on several processes).

A problem the user can fix is one `error:` line and a non-zero exit code, never a traceback;
Ctrl-C ends any command quietly with exit code 130.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from cryptography.fernet import Fernet

from bot.cli.backup import cmd_backup
from bot.cli.check import cmd_check, configuration_report
from bot.cli.common import EXIT_INTERRUPTED, describe_validation_error, load_settings
from bot.cli.data import cmd_transfer
from bot.cli.database import cmd_migrate, cmd_reencrypt
from bot.cli.demo import cmd_demo, demo_options
from bot.cli.logs import configure_logging
from bot.cli.parser import build_parser
from bot.cli.roles import cmd_role
from bot.cli.run import cmd_default, cmd_run
from bot.cli.webhooks import webhook_report

__all__ = [
    "build_parser",
    "cmd_backup",
    "cmd_check",
    "cmd_default",
    "cmd_demo",
    "cmd_migrate",
    "cmd_reencrypt",
    "cmd_run",
    "configuration_report",
    "configure_logging",
    "describe_validation_error",
    "load_settings",
    "main",
    "webhook_report",
]

Command = Callable[[argparse.Namespace, TextIO, TextIO], int]


def cmd_keygen(out: TextIO) -> int:
    print(Fernet.generate_key().decode("ascii"), file=out)
    return 0


COMMANDS: dict[str | None, Command] = {
    None: lambda args, out, err: cmd_default(out, err),
    "run": lambda args, out, err: cmd_run(out, err),
    "check": lambda args, out, err: cmd_check(out, err),
    "migrate": lambda args, out, err: cmd_migrate(args.database, out, err),
    "demo": lambda args, out, err: cmd_demo(demo_options(args), out, err),
    "keygen": lambda args, out, err: cmd_keygen(out),
    "reencrypt": lambda args, out, err: cmd_reencrypt(out, err),
    "backup": lambda args, out, err: cmd_backup(args.path, out, err),
    "web": lambda args, out, err: cmd_role("web", err),
    "worker": lambda args, out, err: cmd_role("worker", err),
    "export-db": cmd_transfer,
    "import-db": cmd_transfer,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args, sys.stdout, sys.stderr)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED  # Ctrl-C: the user knows; no traceback
