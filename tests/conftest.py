"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.fernet import Fernet

from bot.crypto import TokenCipher
from bot.settings import Settings
from bot.storage import Database
from tests.engines import Databases

# Every setting's environment name (nested groups by their prefix, e.g. `OURA__…`), derived
# from the model so that a new setting can never leak in from the developer's shell.
_SETTINGS_PREFIXES = tuple(name.upper() for name in Settings.model_fields)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test sees the developer's Stride variables or `.env` file."""
    for name in list(os.environ):
        if name.upper().startswith(_SETTINGS_PREFIXES) and name != "DISCORD_OPENAPI_SPEC":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture
def make_settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_path": tmp_path / "stride.db",
            "token_encryption_keys": Fernet.generate_key().decode(),
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@pytest.fixture
def db_engine() -> str:
    """The engine of `db` and `databases`: SQLite; the storage, daily-run and linking suites
    override it to run on SQLite and on PostgreSQL (`tests.engines`)."""
    return "sqlite"


@pytest.fixture
async def databases(db_engine: str, tmp_path: Path) -> AsyncIterator[Databases]:
    """Fresh databases on the test's engine (`tests.engines.Databases`)."""
    made = Databases(db_engine, tmp_path)
    try:
        yield made
    finally:
        await made.aclose()


@pytest.fixture
async def db(databases: Databases) -> Database:
    """A migrated database (SQLite: `tmp_path / "stride.db"`)."""
    return await databases.open()


@pytest.fixture
def cipher() -> TokenCipher:
    return TokenCipher([Fernet.generate_key()])


@pytest.fixture
async def aiohttp_client() -> AsyncIterator[Callable[[web.Application], Awaitable[TestClient]]]:
    """Serve an app on a loopback port and hand back a client for it; all closed after."""
    clients: list[TestClient] = []

    async def make(app: web.Application) -> TestClient:
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a test left an aiosqlite connection open, after stopping it.

    A leaked connection is a bug of the test (or of the code it drives: a start that fails
    must close what it opened). Its worker thread is not a daemon: left behind, it keeps the
    interpreter from exiting after the summary (CI would hang). Each is detached from its
    sqlite3 connection and sent the stop item `Connection.close` queues (a test-only reach into
    aiosqlite 0.22's internals), and the run fails with how many there were."""
    import gc

    import aiosqlite.core

    stop = aiosqlite.core._STOP_RUNNING_SENTINEL
    leaked = 0
    for obj in gc.get_objects():
        if isinstance(obj, aiosqlite.core.Connection) and obj._thread.is_alive():
            leaked += 1
            obj._running = False
            obj._connection = None
            obj._tx.put_nowait((None, lambda: stop))
    if leaked and session.exitstatus == pytest.ExitCode.OK:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(
                f"{leaked} aiosqlite connection(s) were left open by the tests: close them "
                "where they are opened",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
