"""What the commands share: loading the settings, and one line naming a path Stride cannot use.

Every command reports a problem the user can fix as one `error: …` line on standard error
and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from bot.settings import Settings

# Exit codes beyond 0 and 1: a command used without what it needs (argparse's own code for a
# usage error), and an interrupt (128 + SIGINT, what a shell reports for Ctrl-C).
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def load_settings() -> Settings:
    """Settings from the environment and `.env`; a ValidationError names each bad variable."""
    return Settings()


def describe_validation_error(error: ValidationError) -> list[str]:
    """One line per problem, naming the environment variable, never echoing its value."""
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        variable = "__".join(str(part) for part in item["loc"]).upper()
        lines.append(f"{variable}: {item['msg']}")
    return lines


def settings_or_report(err: TextIO) -> Settings | None:
    """The settings, or None after printing one `error:` line per invalid variable."""
    try:
        return load_settings()
    except ValidationError as exc:
        for line in describe_validation_error(exc):
            print(f"error: {line}", file=err)
        return None


def has_discord_token(settings: Settings) -> bool:
    """Whether DISCORD_TOKEN is set to something (an empty line in `.env` is not a token)."""
    token = settings.discord_token
    return token is not None and bool(token.get_secret_value().strip())


def _not_writable(folder: Path) -> str:
    uid = os.getuid()
    return (
        f"{folder} is not writable by uid {uid}, the user Stride runs as (on a bind mount, "
        f"give that uid write access on the host: chown {uid} <the host folder>)"
    )


def database_path_problem(path: Path) -> str | None:
    """Why Stride cannot keep an SQLite database at `path` (the message names the path),
    or None. The folder must be writable too: SQLite creates `-wal` and `-shm` files beside
    the database, and Stride its key files."""
    try:
        return _database_path_problem(path)
    except OSError as exc:  # a folder on the way that this uid may not even look into
        return f"cannot use {path} as uid {os.getuid()}: {exc.strerror or exc}"


def _database_path_problem(path: Path) -> str | None:
    if path.is_dir():
        return f"{path} is a directory, not a database file (for example {path / 'stride.db'})"
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return f"{path} is not readable and writable by uid {os.getuid()}, the user Stride runs as"
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the folders that do not exist yet are created in here
    if not folder.is_dir():
        return f"{folder} is not a folder, so {path} cannot be created"
    if not os.access(folder, os.W_OK | os.X_OK):
        return _not_writable(folder)
    return None


def output_folder_problem(folder: Path) -> str | None:
    """Why files cannot be written into `folder` (creating it first if need be), or None."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        return f"{folder} exists and is not a folder"
    except OSError as exc:
        return f"cannot create {folder}: {exc.strerror or exc}"
    if not os.access(folder, os.W_OK | os.X_OK):
        return _not_writable(folder)
    return None
