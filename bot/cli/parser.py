"""The argument parser: every `stride` command and its options."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from bot.challenges.inputs import MAX_DAYS, MAX_PLAYERS_LIMIT
from bot.cli.data import add_data_commands
from bot.cli.roles import add_role_commands
from bot.domain import ScoringMode


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stride", description="Stride: group fitness challenges on Discord."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_run_commands(sub)
    _add_key_commands(sub)
    _add_demo_command(sub)
    _add_backup_command(sub)
    add_role_commands(sub)  # web, worker (bot.cli.roles)
    add_data_commands(sub)  # export-db, import-db (bot.cli.data)
    return parser


def _add_run_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`run`, `check` and `migrate`: running the bot and preparing what it needs."""
    sub.add_parser(
        "run",
        help="run the bot (the default)",
        description="Start the Discord client, the web server and the scheduler (needs "
        "DISCORD_TOKEN; exits 2 without it). Plain `stride` with nothing configured plays "
        "the demo instead.",
    )
    sub.add_parser(
        "check",
        help="validate the configuration without connecting anywhere",
        description="Validate the configuration; list enabled providers and publish sinks. "
        "Exits 1 with one line per problem.",
    )
    migrate = sub.add_parser(
        "migrate",
        help="apply database migrations and print the schema version",
        description="Apply pending migrations to the database and print its schema version.",
    )
    migrate.add_argument("--database", type=Path, help="database path (default: DATABASE_PATH)")


def _add_key_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`keygen` and `reencrypt`: the token encryption keys and their rotation."""
    sub.add_parser(
        "keygen",
        help="print a new key for TOKEN_ENCRYPTION_KEYS",
        description="Print a new Fernet key. To rotate, put it first in TOKEN_ENCRYPTION_KEYS "
        "and keep the old keys after it; then run `stride reencrypt`.",
    )
    sub.add_parser(
        "reencrypt",
        help="re-encrypt every stored token with the first key (finishes a key rotation)",
        description="Re-encrypt every stored provider token with the first key of "
        "TOKEN_ENCRYPTION_KEYS. Afterwards the old keys can be removed. Stop the bot first.",
    )


def _add_demo_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`demo` and its options."""
    demo = sub.add_parser(
        "demo",
        help="run a simulated challenge offline (no Discord token or wearable needed)",
        description="Simulate a challenge with sandbox players through the real daily run: "
        "print each day's standings, write the charts as PNG files. The same options give "
        "the same output.",
    )
    demo.add_argument(
        "--players",
        type=_bounded_int(1, MAX_PLAYERS_LIMIT),
        default=6,
        help="players (default 6)",
    )
    demo.add_argument(
        "--days", type=_bounded_int(1, MAX_DAYS), default=7, help="challenge days (default 7)"
    )
    demo.add_argument(
        "--mode",
        type=ScoringMode,
        choices=list(ScoringMode),
        default=ScoringMode.TOTAL,
        help="scoring mode (default total)",
    )
    demo.add_argument("--seed", type=int, default=1, help="seed of the synthetic data (default 1)")
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("demo-out"),
        help="where the charts go (default ./demo-out)",
    )


def _add_backup_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`backup PATH`: the database and the key files, while the bot runs."""
    backup = sub.add_parser(
        "backup",
        help="copy the database and the key files into a new folder (the bot may run)",
        description="Copy the SQLite database (a consistent copy, also while Stride runs) and "
        "the key files beside it into PATH, a new or empty folder, with a RESTORE.txt. On "
        "PostgreSQL, use pg_dump instead.",
    )
    backup.add_argument("path", type=Path, metavar="PATH", help="a new folder for the backup")
