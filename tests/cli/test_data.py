"""`stride export-db` and `stride import-db` from the command line (`bot.cli.data`): one line
saying what was copied, or one `error:` line."""

from __future__ import annotations

import asyncio
import io
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import COMMANDS, build_parser, main
from bot.storage import Database
from bot.storage.accounts import UsersRepo
from tests.engines import Databases
from tests.storage.test_transfer import NOW


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_export_without_a_postgresql_url_is_one_error_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(["export-db", "--database", str(tmp_path / "none.db")], capsys)
    assert code == 1 and out == ""
    assert (
        err == "error: give the PostgreSQL database as a postgresql:// URL (or set DATABASE_URL)\n"
    )


def test_export_of_a_missing_sqlite_file_is_one_error_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = [
        "export-db",
        "--to",
        "postgresql://x@127.0.0.1/none",
        "--database",
        str(tmp_path / "none.db"),
    ]
    code, _out, err = run(argv, capsys)
    assert code == 1
    assert err == f"error: there is no SQLite database at {tmp_path / 'none.db'}\n"


async def test_export_to_an_unreachable_postgresql_is_one_line_without_the_password(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    database = tmp_path / "stride.db"
    async with await Database.open(database) as db:
        await db.migrate()
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://stride:pw-SECRET-1@127.0.0.1:{port}/stride"
    # `main` runs its own event loop: off this test's loop, in a thread.
    code, out, err = await asyncio.to_thread(
        run, ["export-db", "--to", url, "--database", str(database)], capsys
    )
    assert code == 1 and out == ""
    assert err.startswith("error: cannot connect to PostgreSQL") and err.count("\n") == 1
    assert "pw-SECRET-1" not in err and "Traceback" not in err


@pytest.mark.parametrize("db_engine", ["postgresql"])
async def test_export_then_import_round_trip(
    databases: Databases, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sqlite = tmp_path / "source.db"
    async with await Database.open(sqlite) as db:
        await db.migrate()
        await UsersRepo(db).ensure(42, NOW, "Ana")
    url = str(await databases.target(migrated=False))
    back = tmp_path / "back.db"

    def cli(argv: list[str]) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args, out, err), out.getvalue(), err.getvalue()

    code, out, err = await _in_thread(cli, ["export-db", "--to", url, "--database", str(sqlite)])
    assert (code, err) == (0, "") and out.startswith("copied ")
    code, out, err = await _in_thread(cli, ["import-db", "--from", url, "--database", str(back)])
    assert (code, err) == (0, "") and out.startswith("copied ")
    async with await Database.open(back) as copy:
        assert [tuple(r) for r in await copy.fetch_all("SELECT discord_id FROM users")] == [(42,)]
    code, _out, err = await _in_thread(cli, ["export-db", "--to", url, "--database", str(sqlite)])
    assert code == 1 and "not empty" in err


async def _in_thread(
    function: Callable[[list[str]], tuple[int, str, str]], argv: list[str]
) -> tuple[int, str, str]:
    """The commands run their own event loop (`asyncio.run`): not inside the test's."""
    return await asyncio.to_thread(function, argv)
