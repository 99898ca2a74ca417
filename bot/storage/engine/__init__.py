"""The engine seam: everything that differs between SQLite and PostgreSQL, in one place.

- `base`: the `Database` API the repositories use (`execute`, `execute_rowcount`,
  `execute_many`, `execute_rows` for many rows in one statement, `fetch_all`, `fetch_one`,
  `fetch_value`, `transaction()`, `migrate`, `schema_version`, `ping`, `close`), its rows
  (`row["col"]` and `row[0]`), and the migration loop;
- `errors`: storage's own errors (`UniqueViolation`, `MigrationError`, `DatabaseTooNew`,
  `DatabaseUnavailable`), into which each engine translates its own;
- `sqlite` (aiosqlite, one connection, the default) and `postgres` (an asyncpg pool);
- `dialect`: the rewriting for PostgreSQL (`?` → `$n`, migration types) and the portability
  check of new migrations;
- `migrations`: the numbered files, shipped as package data.

The rules for SQL written above the seam (repositories and migrations), so it runs on both:
`?` parameters (or `:name` with a dict); the storage types INTEGER, REAL, TEXT, BLOB; `INSERT
… ON CONFLICT … DO UPDATE / DO NOTHING`; `INSERT … RETURNING id` with `fetch_value` for a new
row's id; `CASE` instead of two-argument MAX/MIN, GREATEST/LEAST or `SUM(a = b)`; every
selected column aggregated or in GROUP BY; `Database.int_set` / `text_set` for a list of
values; `Database.execute_rows` (a row source `{rows}`) to write many rows at once;
`Database.table_columns` instead of `sqlite_master`/PRAGMA; no COLLATE NOCASE (store a
normalised key column, as challenges' `name_key`), no WITHOUT ROWID, AUTOINCREMENT,
`INSERT OR …`, json or date functions. Parameters have the column's type (int for INTEGER,
never bool or str), with `CAST(? AS TEXT)` where the type cannot be inferred.
"""
