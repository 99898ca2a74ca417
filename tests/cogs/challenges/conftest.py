"""Fixtures of the challenge cog tests: the real services over a temporary database, a fake
clock, the cogs, and the Discord world their interactions come from."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest.mock import MagicMock, create_autospec

import pytest

from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.discord_bot import StrideBot
from bot.services import Services, build_services
from bot.settings import Settings
from bot.storage import Database
from cogs.challenges._admin_cog import ChallengeAdminCog
from cogs.challenges._player_cog import PlayerCog
from cogs.settings import SettingsCog
from tests.challenges.fakes import START
from tests.cogs.challenges.world import Discord


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def services(
    db: Database, cipher: TokenCipher, make_settings: Callable[..., Settings], clock: FakeClock
) -> Services:
    return build_services(
        make_settings(),
        db,
        MagicMock(),  # never used here
        clock,
        providers={},
        cipher=cipher,
    )


@pytest.fixture
def bot(services: Services) -> Any:
    double = create_autospec(StrideBot, instance=True)
    double.services = services
    return double


@pytest.fixture
def cog(bot: Any) -> ChallengeAdminCog:
    return ChallengeAdminCog(bot)


@pytest.fixture
def players(bot: Any) -> PlayerCog:
    return PlayerCog(bot)


@pytest.fixture
def settings_cog(bot: Any) -> SettingsCog:
    return SettingsCog(bot)


@pytest.fixture
def world(bot: Any) -> Discord:
    return Discord(bot)
