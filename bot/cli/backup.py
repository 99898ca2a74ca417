"""`stride backup PATH`: the database and the key files in a new folder, with RESTORE.txt.

The SQLite database is copied with the online backup API (`bot.storage.backup`), so the bot
may keep running. The key files Stride generated beside the database (the token key, the
publish secret, the Withings callback secret) are copied with it: without the token key the
stored tokens cannot be read. Every file is created with mode 0600, the folder with 0700. On
PostgreSQL (DATABASE_URL) the database is backed up with `pg_dump` instead.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import TextIO

from bot.cli.common import settings_or_report
from bot.settings import Settings
from bot.storage.backup import BackupError, backup_sqlite, create_private_file

RESTORE_NOTE = "RESTORE.txt"
PG_DUMP = (
    "error: the database is PostgreSQL (DATABASE_URL): back it up with pg_dump, e.g. "
    '`pg_dump --format=custom --file stride.dump "$DATABASE_URL"` (restore with pg_restore), '
    "and keep TOKEN_ENCRYPTION_KEYS, PUBLISH__SECRET and WITHINGS__NOTIFY_SECRET with it"
)


def key_files() -> dict[str, str]:
    """File name → what it holds, for each secret Stride may generate beside the database."""
    from bot.crypto import KEY_FILE_NAME
    from bot.providers.withings_notify import SECRET_FILE_NAME as WITHINGS_FILE
    from bot.publish.keys import SECRET_FILE_NAME as PUBLISH_FILE

    return {
        KEY_FILE_NAME: "the token encryption key (without it every member must /link again)",
        PUBLISH_FILE: "the publish secret (without it published challenge keys change)",
        WITHINGS_FILE: "the Withings callback secret (without it the notify URLs change)",
    }


def secrets_in_environment(settings: Settings) -> list[str]:
    """The secrets this installation keeps in its environment: not in the backup."""
    kept = {
        "TOKEN_ENCRYPTION_KEYS": settings.token_encryption_keys,
        "PUBLISH__SECRET": settings.publish.secret,
        "WITHINGS__NOTIFY_SECRET": settings.withings.notify_secret,
    }
    return [name for name, value in kept.items() if value is not None]


def target_problem(target: Path) -> str | None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        return f"{target} already exists: give a new folder (or an empty one) for the backup"
    try:
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot create {target}: {exc.strerror or exc}"
    return None


def copy_private(source: Path, target: Path) -> None:
    """Copy a file's bytes into a new file with mode 0600."""
    create_private_file(target)
    with source.open("rb") as reader, target.open("wb") as writer:
        shutil.copyfileobj(reader, writer)


def write_private(target: Path, text: str) -> None:
    """Write text into a new file with mode 0600."""
    create_private_file(target)
    target.write_text(text, "utf-8")


def restore_note(
    settings: Settings, copied: dict[str, str], schema_version: int, taken: dt.datetime
) -> str:
    database = settings.database_path.resolve()
    lines = [
        f"Stride backup of {database}, taken {taken:%Y-%m-%d %H:%M} UTC "
        f"(schema version {schema_version}).",
        "",
        "Files:",
        *(f"  {name}: {meaning}" for name, meaning in copied.items()),
    ]
    kept = secrets_in_environment(settings)
    if kept:
        lines += ["", "Not in this backup, as they are set in the environment (keep them with it):"]
        lines += [f"  {name}" for name in kept]
    lines += [
        "",
        "To restore:",
        "  1. Stop Stride (docker stop stride).",
        f"  2. Copy these files (not this note) into {database.parent}, the folder of "
        "DATABASE_PATH, replacing what is there,",
        f"     and delete {database.name}-wal and {database.name}-shm if they are left there.",
        "  3. Let only Stride's user read them: chmod 600; in Docker, chown 10001 (the image's "
        "user).",
        "  4. Start Stride: it migrates an older backup to the current schema at start.",
        "",
    ]
    return "\n".join(lines)


def write_backup(settings: Settings, target: Path) -> list[str]:
    """Write the backup into `target`; returns the names of the files copied. Raises
    BackupError for what the user must change (no database, a folder in use)."""
    source = settings.database_path
    if not source.is_file():
        raise BackupError(f"there is no database at {source} (DATABASE_PATH)")
    problem = target_problem(target)
    if problem is not None:
        raise BackupError(problem)
    result = backup_sqlite(source, target / source.name)
    copied = {source.name: "the database (a consistent copy; Stride may have been running)"}
    for name, meaning in key_files().items():
        if (source.parent / name).is_file():
            copy_private(source.parent / name, target / name)
            copied[name] = meaning
    note = restore_note(settings, copied, result.schema_version, dt.datetime.now(dt.UTC))
    write_private(target / RESTORE_NOTE, note)
    return list(copied)


def cmd_backup(target: Path, out: TextIO, err: TextIO) -> int:
    settings = settings_or_report(err)
    if settings is None:
        return 1
    if settings.database_url is not None:
        print(PG_DUMP, file=err)
        return 1
    try:
        copied = write_backup(settings, target)
    except BackupError as exc:
        print(f"error: {exc}", file=err)
        return 1
    except OSError as exc:
        print(f"error: cannot back up into {target}: {exc.strerror or exc}", file=err)
        return 1
    print(f"backed up {', '.join(copied)} into {target} (see {target / RESTORE_NOTE})", file=out)
    return 0
