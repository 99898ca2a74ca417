"""The storage tests run on every engine: SQLite, and PostgreSQL (`tests.engines`)."""

from __future__ import annotations

import pytest

from tests.engines import ENGINES


@pytest.fixture(params=ENGINES)
def db_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)
