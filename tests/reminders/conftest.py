"""The reminder tests run on SQLite and on PostgreSQL (`tests.engines`): their "at most one a
day, across restarts" is a claim made in SQL."""

from __future__ import annotations

import pytest

from tests.engines import ENGINES


@pytest.fixture(params=ENGINES)
def db_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)
