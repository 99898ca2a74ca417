"""Every extension loads into the real bot, and the command tree is what Discord accepts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.clock import FakeClock
from bot.discord_bot import StrideBot, cog_extensions
from bot.services import build_services

NAME = re.compile(r"^[-_\w]{1,32}$")
EVERYWHERE = {"accounts", "privacy", "me", "sync"}  # also work in DMs


@pytest.fixture
async def bot(make_settings) -> AsyncIterator[StrideBot]:  # type: ignore[no-untyped-def]
    import datetime as dt

    settings = make_settings(sandbox={"enabled": True})
    async with aiohttp.ClientSession() as http:
        from bot.storage import Database

        db = await Database.open(settings.database_path)
        await db.migrate()
        services = build_services(
            settings, db, http, FakeClock(dt.datetime(2026, 11, 23, tzinfo=dt.UTC))
        )
        stride = StrideBot(services)
        try:
            for extension in cog_extensions():
                await stride.load_extension(extension)
            yield stride
        finally:
            await stride.close()
            await services.daily_run.aclose()
            await db.close()


def _walk(payload: dict[str, Any]) -> list[dict[str, Any]]:
    found = [payload]
    for option in payload.get("options", []):
        if option["type"] in (1, 2):  # sub-command, sub-command group
            found += _walk(option)
    return found


async def test_every_extension_loads_with_the_expected_commands(bot: StrideBot) -> None:
    names = {command.name for command in bot.tree.get_commands()}
    assert names == {
        "link", "unlink", "accounts", "privacy", "challenge", "challenges", "join", "leave",
        "settings", "leaderboard", "me", "sync", "publish", "nudges", "remind",
    }  # fmt: skip


async def test_command_tree_fits_discords_rules(bot: StrideBot) -> None:
    for command in bot.tree.get_commands():
        payload = command.to_dict(bot.tree)
        for node in _walk(payload):
            assert NAME.match(node["name"]), node["name"]
            assert 1 <= len(node["description"]) <= 100, node["name"]
            assert len(node.get("options", [])) <= 25, node["name"]
            for option in node.get("options", []):
                assert NAME.match(option["name"]), option["name"]
                assert 1 <= len(option["description"]) <= 100, option["name"]
                assert len(option.get("choices", [])) <= 25, option["name"]
        if payload["name"] in EVERYWHERE:
            assert 1 in (payload.get("contexts") or [0, 1, 2]), payload["name"]
        else:
            assert payload["contexts"] == [0], f"/{payload['name']} must be guild-only"
