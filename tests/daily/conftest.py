"""The `world` fixture of the daily-run tests (`tests.daily.world.World`)."""

from __future__ import annotations

import pytest

from bot.crypto import TokenCipher
from bot.storage import Database
from tests.daily.world import World


@pytest.fixture
def world(db: Database, cipher: TokenCipher) -> World:
    return World(db, cipher)
