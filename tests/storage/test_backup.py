"""`backup_sqlite`: a consistent, private copy of a database another connection writes to."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from bot.storage.backup import BackupError, backup_sqlite


def make_source(path: Path) -> sqlite3.Connection:
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, note TEXT)")
    writer.execute("PRAGMA user_version = 7")
    writer.executemany(
        "INSERT INTO rows (note) VALUES (?)", [(f"row {i} " + "x" * 500,) for i in range(400)]
    )
    return writer


def test_a_copy_taken_while_another_connection_writes_opens_and_has_the_data(
    tmp_path: Path,
) -> None:
    source = tmp_path / "stride.db"
    writer = make_source(source)
    steps: list[int] = []

    def write_between_steps(status: int, remaining: int, total: int) -> None:
        steps.append(remaining)
        if len(steps) <= 5:  # the bot keeps writing while the copy is under way
            writer.execute(
                "INSERT INTO rows (note) VALUES (?)", (f"written during step {len(steps)}",)
            )

    result = backup_sqlite(source, tmp_path / "copy.db", pages=4, progress=write_between_steps)
    writer.close()

    assert result.schema_version == 7
    assert stat.S_IMODE(os.stat(result.path).st_mode) == 0o600
    copy = sqlite3.connect(result.path)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        notes = [note for (note,) in copy.execute("SELECT note FROM rows ORDER BY id")]
    finally:
        copy.close()
    assert len(notes) == 405
    assert notes[-1] == "written during step 5"
    assert not Path(f"{result.path}-wal").exists()  # one self-contained file


def test_a_transaction_in_flight_neither_blocks_the_copy_nor_is_in_it(tmp_path: Path) -> None:
    source = tmp_path / "stride.db"
    make_source(source).close()
    bot = sqlite3.connect(source, isolation_level=None)
    bot.execute("BEGIN IMMEDIATE")  # the bot holds the write lock, mid-transaction
    bot.execute("INSERT INTO rows (note) VALUES ('uncommitted')")
    try:
        result = backup_sqlite(source, tmp_path / "copy.db")
    finally:
        bot.execute("ROLLBACK")
        bot.close()
    copy = sqlite3.connect(result.path)
    try:
        notes = [note for (note,) in copy.execute("SELECT note FROM rows")]
    finally:
        copy.close()
    assert len(notes) == 400 and "uncommitted" not in notes


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "README.md"
    source.write_text("# not a database\n" * 100)
    with pytest.raises(BackupError, match=r"README\.md"):
        backup_sqlite(source, tmp_path / "copy.db")
    assert not (tmp_path / "copy.db").exists()


def test_a_missing_source_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="no database"):
        backup_sqlite(tmp_path / "missing.db", tmp_path / "copy.db")
    assert not (tmp_path / "missing.db").exists()


def test_an_existing_copy_is_never_overwritten(tmp_path: Path) -> None:
    make_source(tmp_path / "stride.db").close()
    (tmp_path / "copy.db").write_text("keep me")
    with pytest.raises(FileExistsError):
        backup_sqlite(tmp_path / "stride.db", tmp_path / "copy.db")
    assert (tmp_path / "copy.db").read_text() == "keep me"
