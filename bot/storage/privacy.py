"""A user's data across every table: export it, or delete every row about them.

Tables are found in the live schema rather than listed here, so a table added by a later
migration is covered without touching this file:

- a column named `discord_id` (or `user_id`) says the row belongs to that user: exported, and
  deleted;
- any other column whose name ends in `_by` or `_discord_id` (`challenges.created_by`) refers
  to the user in a row that belongs to others (the challenge): exported, and on deletion set to
  NULL where allowed, else 0, so the row stays and no longer names the user.

Secrets are never exported: token ciphertexts, the state hash and the PKCE verifier (and any
BLOB, which is how ciphertext is stored).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.storage.db import Database

OWNER_COLUMNS = frozenset({"discord_id", "user_id"})
SECRET_COLUMNS = frozenset({"access_token", "refresh_token", "code_verifier", "state_hash"})
# Deleted last: other tables may reference it.
USERS_TABLE = "users"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _is_reference(column: str) -> bool:
    return column not in OWNER_COLUMNS and (
        column.endswith("_by") or column.endswith("_discord_id")
    )


def _quoted(identifier: str) -> str:
    # Identifiers come from the live schema, not from users; checked anyway before use in SQL.
    if not _IDENTIFIER.match(identifier):
        raise ValueError(f"unexpected identifier in the schema: {identifier!r}")
    return f'"{identifier}"'


@dataclass(frozen=True, slots=True)
class _Column:
    name: str
    not_null: bool


@dataclass(frozen=True, slots=True)
class _Table:
    name: str
    columns: tuple[_Column, ...]

    @property
    def owner_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.name in OWNER_COLUMNS]

    @property
    def reference_columns(self) -> list[_Column]:
        return [c for c in self.columns if _is_reference(c.name)]


class PrivacyRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _tables(self) -> list[_Table]:
        schema = await self._db.table_columns()
        return [
            _Table(name, tuple(_Column(column, not_null) for column, not_null in columns))
            for name, columns in sorted(schema.items())
        ]

    async def export(self, discord_id: int) -> dict[str, list[dict[str, Any]]]:
        """Every row about the user, by table; secret columns and BLOBs left out, and another
        person's id (in a row the user only refers to, such as a value they reviewed) blanked."""
        result: dict[str, list[dict[str, Any]]] = {}
        for table in await self._tables():
            conditions = [f"{_quoted(c)} = :id" for c in table.owner_columns]
            conditions += [f"{_quoted(c.name)} = :id" for c in table.reference_columns]
            if not conditions:
                continue
            rows = await self._db.fetch_all(
                f"SELECT * FROM {_quoted(table.name)} WHERE {' OR '.join(conditions)}",  # noqa: S608 (identifiers checked)
                {"id": discord_id},
            )
            people = set(table.owner_columns) | {c.name for c in table.reference_columns}
            if rows:
                result[table.name] = [
                    {
                        key: (None if key in people and row[key] != discord_id else row[key])
                        for key in row.keys()  # noqa: SIM118 (a row is not a mapping)
                        if key not in SECRET_COLUMNS and not isinstance(row[key], bytes)
                    }
                    for row in rows
                ]
        return result

    async def delete_user(self, discord_id: int) -> int:
        """Delete every row that belongs to the user and unname them in the others.

        Runs in one transaction (joining the caller's, if any); returns rows changed.
        """
        changed = 0
        async with self._db.transaction():
            tables = await self._tables()
            for table in tables:
                for column in table.reference_columns:
                    replacement = "0" if column.not_null else "NULL"
                    changed += await self._db.execute_rowcount(
                        f"UPDATE {_quoted(table.name)} SET {_quoted(column.name)} = {replacement} "  # noqa: S608 (identifiers checked)
                        f"WHERE {_quoted(column.name)} = ?",
                        (discord_id,),
                    )
            for table in sorted(tables, key=lambda t: t.name == USERS_TABLE):
                for column_name in table.owner_columns:
                    changed += await self._db.execute_rowcount(
                        f"DELETE FROM {_quoted(table.name)} WHERE {_quoted(column_name)} = ?",  # noqa: S608 (identifiers checked)
                        (discord_id,),
                    )
        return changed
