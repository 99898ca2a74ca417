"""The bot's app-command error handler, the "sync only when changed" logic, and the
transport's posts against the Discord stand-in (nonce, history lookup)."""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest
from discord import app_commands
from discord.ext import commands

import bot
from bot.discord_bot import (
    DiscordTransport,
    ShardedStrideBot,
    StrideBot,
    StrideTree,
    cog_extensions,
    command_tree_hash,
    intents,
    rest_transport,
    stride_bot,
)
from bot.errors import UserError
from bot.metrics import Metrics
from bot.notify import Attachment, ChannelUnavailable
from bot.render.leaderboard import EmbedContent
from bot.storage import Database
from tests.doubles.interaction import interaction
from tests.standins.discord.discord_standin import DiscordStandIn, patch_discord
from tests.standins.discord.entities import (
    ATTACH_FILES,
    EMBED_LINKS,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    Channel,
    StoredAttachment,
    StoredMessage,
)
from tests.standins.discord.fixtures import discord_spec, make_discord_standin
from tests.standins.discord.openapi import new_snowflake

__all__ = ["discord_spec", "make_discord_standin"]  # the stand-in's fixtures, used below


def _failed_interaction(*, done: bool = False) -> Any:
    """An interaction of /challenge create that failed; the response was sent if `done`."""
    client = MagicMock()
    client.services.metrics = Metrics()
    return interaction(
        command=MagicMock(qualified_name="challenge create"), client=client, done=done
    )


def _invoke_error(original: Exception) -> app_commands.CommandInvokeError:
    command = app_commands.Command(name="x", description="x", callback=_noop)
    return app_commands.CommandInvokeError(command, original)


async def _noop(interaction: discord.Interaction) -> None:
    """A placeholder callback."""


def _tree() -> StrideTree:
    client = discord.Client(intents=intents())
    return StrideTree(client)  # type: ignore[arg-type]


async def test_user_error_is_shown_ephemerally_as_written(caplog: pytest.LogCaptureFixture) -> None:
    double = _failed_interaction()
    await _tree().on_error(double, _invoke_error(UserError("End date is before start date.")))
    double.response.send_message.assert_awaited_once_with(
        "End date is before start date.", ephemeral=True
    )
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_unexpected_error_gets_a_code_shown_and_logged_with_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    double = _failed_interaction(done=True)  # already deferred: must use the follow-up
    await _tree().on_error(double, _invoke_error(KeyError("internal")))
    double.response.send_message.assert_not_called()
    double.followup.send.assert_awaited_once()
    message = double.followup.send.await_args.args[0]
    assert double.followup.send.await_args.kwargs == {"ephemeral": True}
    assert message.startswith("Something went wrong (code ")
    code = message.split("(code ")[1][:4]
    record = next(r for r in caplog.records if r.levelno == logging.ERROR)
    assert code in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is app_commands.CommandInvokeError


async def test_missing_permission_check_is_explained() -> None:
    double = _failed_interaction()
    await _tree().on_error(double, app_commands.MissingPermissions(["manage_guild"]))
    text = double.response.send_message.await_args.args[0]
    assert "Manage Server" in text


def _tree_with(*names: str) -> StrideTree:
    tree = _tree()
    for name in names:
        tree.add_command(app_commands.Command(name=name, description="d", callback=_noop))
    return tree


def test_tree_hash_is_stable_and_order_independent() -> None:
    assert command_tree_hash(_tree_with("a", "b"), None) == command_tree_hash(
        _tree_with("b", "a"), None
    )


def test_tree_hash_changes_when_a_command_changes() -> None:
    assert command_tree_hash(_tree_with("a"), None) != command_tree_hash(_tree_with("a", "b"), None)


async def test_sync_only_when_tree_changed(db: Database, make_settings) -> None:  # type: ignore[no-untyped-def]
    services = MagicMock()
    services.db = db
    services.settings = make_settings()
    bot = StrideBot(services)
    bot.tree.add_command(app_commands.Command(name="ping", description="d", callback=_noop))
    bot.tree.sync = AsyncMock(return_value=[])  # type: ignore[method-assign]

    assert await bot.sync_commands_if_changed() is True
    assert await bot.sync_commands_if_changed() is False
    assert bot.tree.sync.await_count == 1

    bot.tree.add_command(app_commands.Command(name="pong", description="d", callback=_noop))
    assert await bot.sync_commands_if_changed() is True
    assert bot.tree.sync.await_count == 2

    # The same database under another application's token: that bot has never been synced.
    bot._connection.application_id = 987654321  # what login sets from the token
    assert await bot.sync_commands_if_changed() is True
    assert bot.tree.sync.await_count == 3
    await bot.close()


async def test_dev_guild_sync_targets_that_guild(db: Database, make_settings) -> None:  # type: ignore[no-untyped-def]
    services = MagicMock()
    services.db = db
    services.settings = make_settings(dev_guild_id=1234)
    bot = StrideBot(services)
    bot.tree.add_command(app_commands.Command(name="ping", description="d", callback=_noop))
    bot.tree.sync = AsyncMock(return_value=[])  # type: ignore[method-assign]
    assert await bot.sync_commands_if_changed() is True
    assert bot.tree.sync.await_args.kwargs["guild"].id == 1234
    await bot.close()


def test_no_privileged_intents() -> None:
    wanted = intents()
    assert not (wanted.members or wanted.presences or wanted.message_content)


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_bot_never_imports_the_cogs_yet_finds_every_extension() -> None:
    package = Path(bot.__file__).parent
    offenders = {
        str(path.relative_to(package)): sorted(
            name for name in _imported_modules(path) if name.split(".")[0] == "cogs"
        )
        for path in package.rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}
    assert cog_extensions() == [
        "cogs.accounts", "cogs.challenges", "cogs.leaderboard", "cogs.nudges", "cogs.publish",
        "cogs.reminders", "cogs.settings",
    ]  # fmt: skip


# --- DiscordTransport against the stand-in ---------------------------------------------------

CHART = Attachment("stride-7-2026-11-23.png", b"\x89PNG chart")
BOARD = EmbedContent(title="Day 1", description="Ada leads", fields=(), footer="", colour=1)


@asynccontextmanager
async def transport_to(standin: DiscordStandIn) -> AsyncIterator[DiscordTransport]:
    """A discord.py client connected to the stand-in, and the transport over it."""
    client = discord.Client(intents=intents(), guild_ready_timeout=0.1)
    with patch_discord(standin):
        runner = asyncio.create_task(client.start(standin.token))
        try:
            await asyncio.wait_for(client.wait_until_ready(), timeout=10)
            yield DiscordTransport(client)
        finally:
            await client.close()
            await runner


async def _club(standin: DiscordStandIn) -> Channel:
    permissions = SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES
    guild = await standin.add_guild("Club", bot_permissions=permissions)
    return standin.channel_named(guild, "general")


async def test_a_post_sent_again_with_its_nonce_is_one_message(
    make_discord_standin: Callable[..., Awaitable[DiscordStandIn]],
) -> None:
    standin = await make_discord_standin()
    channel = await _club(standin)
    async with transport_to(standin) as transport:
        first = await transport.post(channel.id, embed=BOARD, files=[CHART], nonce="a1b2")
        again = await transport.post(channel.id, embed=BOARD, files=[CHART], nonce="a1b2")
    assert again == first
    [message] = standin.history(channel)
    assert message.id == first and [a.filename for a in message.attachments] == [CHART.filename]
    [request, _] = standin.requests_to("POST", "/channels/{channel_id}/messages")
    assert (request.json["nonce"], request.json["enforce_nonce"]) == ("a1b2", True)


async def test_find_post_finds_only_the_bots_own_message_with_that_attachment(
    make_discord_standin: Callable[..., Awaitable[DiscordStandIn]],
) -> None:
    standin = await make_discord_standin()
    channel = await _club(standin)
    member = standin.add_user("Ada")
    started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    copy = StoredAttachment(id=new_snowflake(), filename="stride-7-results.png", data=b"x")
    standin.world.store_message(
        StoredMessage(id=new_snowflake(), channel_id=channel.id, author=member, attachments=[copy])
    )
    async with transport_to(standin) as transport:
        posted = await transport.post(channel.id, embed=BOARD, files=[CHART])
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)

        async def find(name: str, after: dt.datetime = started) -> int | None:
            return await transport.find_post(channel.id, attachment_name=name, after=after)

        assert await find(CHART.filename) == posted
        assert await find("stride-7-2026-11-24.png") is None
        assert await find("stride-7-results.png") is None  # a member's message, not the bot's
        assert await find(CHART.filename, later) is None  # sent before `after`


async def test_find_post_without_read_message_history_refuses_to_guess(
    make_discord_standin: Callable[..., Awaitable[DiscordStandIn]],
) -> None:
    standin = await make_discord_standin()
    channel = await _club(standin)
    await standin.set_permission_overwrite(channel, standin.bot_user.id, deny=READ_MESSAGE_HISTORY)
    async with transport_to(standin) as transport:
        await transport.post(channel.id, embed=BOARD, files=[CHART])
        with pytest.raises(ChannelUnavailable, match="Read Message History"):
            await transport.find_post(
                channel.id,
                attachment_name=CHART.filename,
                after=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1),
            )


# --- a client without a gateway (`stride worker`, `stride web`) and the sharded client ------


@asynccontextmanager
async def rest_only(standin: DiscordStandIn) -> AsyncIterator[DiscordTransport]:
    with patch_discord(standin):
        client, transport = await rest_transport(standin.token)
        try:
            yield transport
        finally:
            await client.close()


async def test_a_client_without_a_gateway_posts_and_finds_its_post_over_rest(
    make_discord_standin: Callable[..., Awaitable[DiscordStandIn]],
) -> None:
    standin = await make_discord_standin()
    channel = await _club(standin)
    started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    async with rest_only(standin) as transport:
        posted = await transport.post(channel.id, embed=BOARD, files=[CHART], nonce="c3d4")
        found = await transport.find_post(channel.id, attachment_name=CHART.filename, after=started)
    assert found == posted
    [message] = standin.history(channel)
    assert message.id == posted
    assert standin.gateway.sessions == []  # never connected to the gateway
    assert standin.failures() == []


async def test_a_client_without_a_gateway_checks_the_channel_permissions(
    make_discord_standin: Callable[..., Awaitable[DiscordStandIn]],
) -> None:
    standin = await make_discord_standin()
    channel = await _club(standin)
    await standin.set_permission_overwrite(channel, standin.bot_user.id, deny=READ_MESSAGE_HISTORY)
    async with rest_only(standin) as transport:
        with pytest.raises(ChannelUnavailable, match="Read Message History"):
            await transport.find_post(
                channel.id,
                attachment_name=CHART.filename,
                after=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1),
            )
        await standin.set_permission_overwrite(channel, standin.bot_user.id, deny=ATTACH_FILES)
        with pytest.raises(ChannelUnavailable, match="Attach Files"):
            await transport.post(channel.id, embed=BOARD, files=[CHART])
    assert standin.history(channel) == []


def test_the_client_is_sharded_only_when_shards_are_set(make_settings) -> None:  # type: ignore[no-untyped-def]
    def client_for(**settings: Any) -> StrideBot:
        services = MagicMock(spec_set=["settings"])
        services.settings = make_settings(**settings)
        return stride_bot(services)

    plain = client_for()
    assert type(plain) is StrideBot
    sharded = client_for(shard_count=4, shard_ids=[1, 3])
    assert isinstance(sharded, ShardedStrideBot)
    assert isinstance(sharded, commands.AutoShardedBot)
    assert (sharded.shard_count, sharded.shard_ids) == (4, [1, 3])
