"""`stride export-db` and `stride import-db`: moving the data between the two engines.

`export-db` copies the SQLite database (`DATABASE_PATH`) into an empty PostgreSQL one,
`import-db` the other way (`bot.storage.transfer`). `add_data_commands` registers them with
the parser; `cmd_transfer` runs either. Problems are one `error:` line and exit code 1.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from bot import eventloop
from bot.cli.common import settings_or_report
from bot.settings import Settings


def add_data_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`export-db` and `import-db`."""
    export = sub.add_parser(
        "export-db",
        help="copy the SQLite database into an empty PostgreSQL database",
        description="Copy every table of DATABASE_PATH into the empty PostgreSQL database "
        "--to (default: DATABASE_URL), in one transaction. Stop Stride first.",
    )
    export.add_argument("--to", dest="url", help="postgresql://… (default: DATABASE_URL)")
    export.add_argument("--database", type=Path, help="SQLite file (default: DATABASE_PATH)")
    imported = sub.add_parser(
        "import-db",
        help="copy a PostgreSQL database into an empty SQLite database",
        description="Copy every table of the PostgreSQL database --from (default: "
        "DATABASE_URL) into the empty or new SQLite file DATABASE_PATH. Stop Stride first.",
    )
    imported.add_argument("--from", dest="url", help="postgresql://… (default: DATABASE_URL)")
    imported.add_argument("--database", type=Path, help="SQLite file (default: DATABASE_PATH)")


def _ends(args: argparse.Namespace, settings: Settings) -> tuple[str, str] | str:
    """(PostgreSQL URL, SQLite path), or the problem."""
    url = args.url or (settings.database_url.get_secret_value() if settings.database_url else None)
    if not url or not url.startswith(("postgresql://", "postgres://")):
        return "give the PostgreSQL database as a postgresql:// URL (or set DATABASE_URL)"
    return url, str(args.database or settings.database_path)


def cmd_transfer(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """`stride export-db` (SQLite → PostgreSQL) and `stride import-db` (the other way)."""
    from bot.storage import Database, DatabaseTooNew, DatabaseUnavailable, MigrationError
    from bot.storage.transfer import TransferError, copy_database

    settings = settings_or_report(err)
    if settings is None:
        return 1
    ends = _ends(args, settings)
    if isinstance(ends, str):
        print(f"error: {ends}", file=err)
        return 1
    url, path = ends
    source, target = (path, url) if args.command == "export-db" else (url, path)
    if args.command == "export-db" and not Path(path).is_file():
        print(f"error: there is no SQLite database at {path}", file=err)
        return 1

    async def copy() -> str:
        async with await Database.open(source) as src, await Database.open(target) as dst:
            copied = await copy_database(src, dst)
        return f"copied {copied.rows} rows in {copied.tables} tables (schema {copied.version})"

    try:
        print(eventloop.run(copy()), file=out)
    except (TransferError, DatabaseUnavailable, DatabaseTooNew, MigrationError, OSError) as exc:
        print(f"error: {exc}", file=err)
        return 1
    return 0
