"""Copying a whole Stride database to another engine (`copy_database`): `stride export-db`
(SQLite → PostgreSQL) and `stride import-db` (PostgreSQL → SQLite).

Both ends are migrated to the same schema version first; the target must be empty (every
table without a row), or nothing is copied. Every table is copied in dependency order (the
order the migrations create them in, so a row's references are there before it), inside
one transaction on the target: a failure leaves the target as empty as it was. Each table is
read whole, so run it with Stride stopped, and expect memory in proportion to the largest
table. Then new rows of every table get ids after the copied ones
(`Database.reset_id_sequences`: PostgreSQL's identity sequences move; nothing on SQLite).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.storage.engine.base import Database
from bot.storage.engine.dialect import PLAIN_IDENTIFIER
from bot.storage.engine.migrations import bundled_migrations

log = logging.getLogger(__name__)

_CREATE = re.compile(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?\"?(\w+)\"?", re.IGNORECASE)
_RENAME = re.compile(r"ALTER\s+TABLE\s+\"?(\w+)\"?\s+RENAME\s+TO\s+\"?(\w+)\"?", re.IGNORECASE)
# Rows per INSERT batch (`execute_many`).
BATCH = 1000


class TransferError(RuntimeError):
    """The copy cannot be made (a target with data, schemas that differ); nothing copied."""


@dataclass(frozen=True, slots=True)
class Copied:
    tables: int
    rows: int
    version: int


def creation_order() -> list[str]:
    """The tables in the order the migrations create them (renames keep their place)."""
    order: list[str] = []
    for migration in bundled_migrations():
        for match in re.finditer(f"{_CREATE.pattern}|{_RENAME.pattern}", migration.sql, re.I):
            created, old, new = match.group(1), match.group(2), match.group(3)
            if created and created not in order:
                order.append(created)
            elif old and new:
                order = [new if name == old else name for name in order]
    return order


def _quoted(name: str) -> str:
    if not PLAIN_IDENTIFIER.match(name):
        raise TransferError(f"unexpected table or column name {name!r}")
    return f'"{name}"'


async def copy_database(source: Database, target: Database) -> Copied:
    """Copy every row of `source` into the empty `target` (see the module)."""
    version = await source.migrate()
    if await target.migrate() != version:
        raise TransferError("the two databases have different schema versions")
    tables = await source.table_columns()
    if set(tables) != set(await target.table_columns()):
        raise TransferError("the two databases do not have the same tables")
    order = creation_order()
    ordered = sorted(tables, key=lambda t: (order.index(t) if t in order else len(order), t))
    rows = 0
    async with target.transaction():
        for table in ordered:
            if await target.fetch_value(f"SELECT 1 FROM {_quoted(table)} LIMIT 1") is not None:  # noqa: S608 (checked identifier)
                raise TransferError(f"the target database is not empty (table {table})")
        for table in ordered:
            rows += await _copy_table(source, target, table, [c for c, _ in tables[table]])
        await target.reset_id_sequences(ordered)  # new rows get ids after the copied ones
    log.info("copied %d rows in %d tables (schema version %d)", rows, len(ordered), version)
    return Copied(tables=len(ordered), rows=rows, version=version)


async def _copy_table(
    source: Database, target: Database, table: str, columns: Sequence[str]
) -> int:
    names = ", ".join(_quoted(column) for column in columns)
    rows = await source.fetch_all(f"SELECT {names} FROM {_quoted(table)}")  # noqa: S608 (checked identifiers)
    if not rows:
        return 0
    marks = ", ".join(["?"] * len(columns))
    insert = f"INSERT INTO {_quoted(table)} ({names}) VALUES ({marks})"  # noqa: S608 (checked identifiers)
    values = [tuple(row[index] for index in range(len(columns))) for row in rows]
    for start in range(0, len(values), BATCH):
        await target.execute_many(insert, values[start : start + BATCH])
    return len(values)
