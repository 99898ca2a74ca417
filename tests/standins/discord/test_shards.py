"""The stand-in shards as Discord does: two unmodified discord.py `AutoShardedBot` processes,
one per shard, each get the guilds and interactions of their shard only; `GET /gateway/bot`
recommends the stand-in's shard count; a bad or missing `shard` in IDENTIFY is refused."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.standins.discord.discord_standin import DiscordStandIn, patch_discord
from tests.standins.discord.gateway import (
    CLOSE_INVALID_SHARD,
    CLOSE_SHARDING_REQUIRED,
    OP_IDENTIFY,
    shard_of,
)

SHARDS = 2
GUILD_ON = {0: (1234 << 22) | 5, 1: (1235 << 22) | 5}  # a guild id on each shard


@app_commands.command(description="Which shard answers")
async def where(interaction: discord.Interaction) -> None:
    shard = interaction.guild.shard_id if interaction.guild else None
    await interaction.response.send_message(f"shard {shard}")


class ShardBot(commands.AutoShardedBot):
    def __init__(self, shard_id: int) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            shard_count=SHARDS,
            shard_ids=[shard_id],
            guild_ready_timeout=0.2,
        )
        self.ready = asyncio.Event()

    async def setup_hook(self) -> None:
        self.tree.add_command(where)

    async def on_ready(self) -> None:
        self.ready.set()


@contextlib.asynccontextmanager
async def shard_bots(standin: DiscordStandIn) -> AsyncIterator[dict[int, ShardBot]]:
    bots = {shard: ShardBot(shard) for shard in range(SHARDS)}
    with patch_discord(standin):
        runners = [asyncio.create_task(bot.start(standin.token)) for bot in bots.values()]
        try:
            async with asyncio.timeout(10):
                await asyncio.gather(*(bot.ready.wait() for bot in bots.values()))
            await bots[0].tree.sync()
            yield bots
        finally:
            for bot in bots.values():
                await bot.close()
            await asyncio.gather(*runners, return_exceptions=True)


@pytest.fixture
async def sharded(
    make_discord_standin: Callable[..., Awaitable[DiscordStandIn]],
) -> DiscordStandIn:
    standin = await make_discord_standin(shard_count=SHARDS)
    for shard, guild_id in GUILD_ON.items():
        assert shard_of(guild_id, SHARDS) == shard
        await standin.add_guild(f"Shard {shard}", guild_id=guild_id, bot_permissions=1 << 11)
    return standin


async def test_each_process_gets_the_guilds_and_interactions_of_its_shard(
    sharded: DiscordStandIn,
) -> None:
    alice = sharded.add_user("alice")
    for guild_id in GUILD_ON.values():
        await sharded.add_member(guild_id, alice)
    async with shard_bots(sharded) as bots:
        assert sorted(s.shard for s in sharded.gateway.sessions) == [(0, SHARDS), (1, SHARDS)]
        for shard, bot in bots.items():
            assert [guild.id for guild in bot.guilds] == [GUILD_ON[shard]]
        for shard, guild_id in GUILD_ON.items():
            record = await sharded.slash(user=alice, guild=guild_id, name="where")
            answer = await record.wait_message()
            assert answer.text == f"shard {shard}"
    assert sharded.failures() == []


async def test_gateway_bot_recommends_the_shard_count(sharded: DiscordStandIn) -> None:
    headers = {"Authorization": f"Bot {sharded.token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{sharded.rest_base_url}/gateway/bot", headers=headers) as answer,
    ):
        body = await answer.json()
    assert answer.status == 200
    assert body["shards"] == SHARDS


@pytest.mark.parametrize(
    ("shard", "code"),
    [(None, CLOSE_SHARDING_REQUIRED), ([2, 2], CLOSE_INVALID_SHARD), ([0], CLOSE_INVALID_SHARD)],
)
async def test_identify_without_a_valid_shard_is_refused(
    sharded: DiscordStandIn, shard: list[int] | None, code: int
) -> None:
    identify: dict[str, object] = {"token": sharded.token, "intents": 1, "properties": {}}
    if shard is not None:
        identify["shard"] = shard
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{sharded.gateway_url}?v=10&encoding=json") as ws,
    ):
        hello = await ws.receive_json()
        assert hello["op"] == 10
        await ws.send_str(json.dumps({"op": OP_IDENTIFY, "d": identify}))
        closed = await ws.receive()
    assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert ws.close_code == code
