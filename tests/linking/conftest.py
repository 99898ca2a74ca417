"""Makes the linking flow's fixtures (`tests.linking.flow`) available to the linking tests,
which run on SQLite and on PostgreSQL (`tests.engines`)."""

import pytest

from tests.engines import ENGINES
from tests.linking.flow import client, env, provider

__all__ = ["client", "db_engine", "env", "provider"]


@pytest.fixture(params=ENGINES)
def db_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)
