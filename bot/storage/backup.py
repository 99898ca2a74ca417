"""A consistent copy of a live SQLite database, with SQLite's online backup API.

`backup_sqlite` reads the database through a connection of its own while Stride keeps
writing through its own: the copy is one snapshot of committed transactions (WAL readers do
not block the writer, and a copy taken in steps restarts when another connection changes the
source). The copy is created with mode 0600, as one self-contained file (no `-wal`), and is
checked with `PRAGMA integrity_check` before it is reported.

PostgreSQL databases are not copied here: `pg_dump` does that (see `stride backup`).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Called after each step with (status, remaining pages, total pages), as sqlite3's `backup`.
Progress = Callable[[int, int, int], object]
BUSY_TIMEOUT_SECONDS = 10.0


class BackupError(RuntimeError):
    """The copy could not be made or is not sound; the message names the file."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    schema_version: int
    size_bytes: int


def create_private_file(path: Path) -> None:
    """Create `path` empty with mode 0600; refuses to overwrite a file that exists."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def backup_sqlite(
    source: Path, target: Path, *, pages: int = -1, progress: Progress | None = None
) -> BackupResult:
    """Copy the database at `source` into the new file `target` (mode 0600).

    `pages` per step (-1: all in one step, which never restarts); `progress` is called after
    each step. Raises `BackupError` when the source is not a database or the copy is unsound.
    """
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    create_private_file(target)
    try:
        # mode=rw: never creates a missing source.
        reader = sqlite3.connect(f"file:{source}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_SECONDS)
        try:
            copy = sqlite3.connect(target)
            try:
                reader.backup(copy, pages=pages, progress=progress)
                version = _finish(copy, target)
            finally:
                copy.close()
        finally:
            reader.close()
    except sqlite3.DatabaseError as exc:
        target.unlink(missing_ok=True)
        raise BackupError(f"cannot copy {source}: {exc}") from exc
    except BackupError:
        target.unlink(missing_ok=True)
        raise
    return BackupResult(path=target, schema_version=version, size_bytes=target.stat().st_size)


def _finish(copy: sqlite3.Connection, target: Path) -> int:
    """Make the copy one self-contained file and check it; returns its schema version."""
    copy.execute("PRAGMA journal_mode = DELETE")
    (verdict,) = copy.execute("PRAGMA integrity_check").fetchone()
    if verdict != "ok":
        raise BackupError(f"the copy {target} failed its integrity check: {verdict}")
    (version,) = copy.execute("PRAGMA user_version").fetchone()
    return int(version)
