"""The Discord stand-in runs a real, unmodified discord.py bot, and catches what Discord would.

The bot here is a small ``commands.Bot`` written for these tests (not Stride's): one command
replies, one defers and follows up with an embed and a PNG, one DMs the invoker, a command
group with a sub-group has an autocomplete option, one sends a button, one reports the
permissions it sees, one is for managers only, and one waits until the test lets it answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.standins.discord.discord_standin import DiscordStandIn, patch_discord
from tests.standins.discord.entities import READ_MESSAGE_HISTORY, SEND_MESSAGES, Guild, User
from tests.standins.discord.interactions import (
    CALLBACK_AUTOCOMPLETE_RESULT,
    CALLBACK_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_CHANNEL_MESSAGE,
    CALLBACK_MODAL,
    CALLBACK_UPDATE_MESSAGE,
    CommandNotRegisteredError,
    CommandUnavailableError,
    InteractionNotAnsweredError,
    InteractionRecord,
    InvalidOptionValueError,
)
from tests.standins.discord.openapi import (
    DiscordSpec,
    SpecUnavailableError,
    spec_from_environment,
)

DEADLINE = 3.0
COMMAND_NAMES = {
    "ping",
    "chart",
    "remind",
    "challenge",
    "vote",
    "whoami",
    "cheer",
    "settings",
    "slowpoke",
    "lifecycle",
    "feedback",
}
TEAMS = ("red", "redwood", "blue", "green")


def tiny_png() -> bytes:
    """A valid 1x1 PNG, built by hand so the test needs no imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        checksum = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x80\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = tiny_png()


# --- the sample bot ----------------------------------------------------------------------


class SampleBot(commands.Bot):
    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.members = intents.presences = intents.message_content = False
        # A short guild_ready_timeout keeps on_ready quick: it fires this long after the last
        # GUILD_CREATE.
        super().__init__(
            command_prefix=commands.when_mentioned, intents=intents, guild_ready_timeout=0.2
        )
        self.ready = asyncio.Event()
        self.resumed = asyncio.Event()
        self.joined: asyncio.Queue[discord.Guild] = asyncio.Queue()
        self.dm_errors: list[discord.HTTPException] = []
        self.release_slowpoke = asyncio.Event()
        self.late_errors: list[discord.HTTPException] = []
        self.late_error_seen = asyncio.Event()

    async def setup_hook(self) -> None:
        sample_commands: list[app_commands.Command[Any, ..., Any] | app_commands.Group] = [
            ping,
            chart,
            remind,
            challenge,
            vote,
            whoami,
            cheer,
            settings,
            slowpoke,
            lifecycle,
            feedback,
        ]
        for command in sample_commands:
            self.tree.add_command(command)

    async def on_ready(self) -> None:
        self.ready.set()

    async def on_resumed(self) -> None:
        self.resumed.set()

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.joined.put(guild)


def sample_bot(interaction: discord.Interaction) -> SampleBot:
    client = interaction.client
    assert isinstance(client, SampleBot)
    return client


@app_commands.command(name="ping", description="Answer at once")
async def ping(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("pong")


@app_commands.command(name="chart", description="Defer, then follow up with an embed and a PNG")
async def chart(interaction: discord.Interaction) -> None:
    await interaction.response.defer(thinking=True)
    embed = discord.Embed(title="Weekly steps", description="Alice leads")
    embed.set_image(url="attachment://chart.png")
    await interaction.followup.send(embed=embed, file=discord.File(io.BytesIO(PNG), "chart.png"))


@app_commands.command(name="remind", description="DM the invoker")
async def remind(interaction: discord.Interaction) -> None:
    try:
        await interaction.user.send("Time for your walk!")
    except discord.Forbidden as error:
        sample_bot(interaction).dm_errors.append(error)
        await interaction.response.send_message("I cannot DM you.", ephemeral=True)
    else:
        await interaction.response.send_message("Sent you a DM.", ephemeral=True)


challenge = app_commands.Group(name="challenge", description="Challenges")
team_group = app_commands.Group(name="team", description="Teams", parent=challenge)


@team_group.command(name="join", description="Join a team")
@app_commands.describe(team="The team to join", days="For how many days")
async def join_team(
    interaction: discord.Interaction, team: str, days: app_commands.Range[int, 1, 30] = 7
) -> None:
    await interaction.response.send_message(f"Joined {team} for {days} days")


@join_team.autocomplete("team")
async def team_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    matching = [team for team in TEAMS if team.startswith(current.lower())]
    return [app_commands.Choice(name=team.title(), value=team) for team in matching][:25]


class VoteView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Yes", custom_id="vote:yes", style=discord.ButtonStyle.success)
    async def yes(
        self, interaction: discord.Interaction, button: discord.ui.Button[VoteView]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(content="Votes: 1 yes", view=None)


@app_commands.command(name="vote", description="Send a button")
async def vote(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("Vote now", view=VoteView())


@app_commands.command(name="whoami", description="Report the permissions the bot sees")
@app_commands.guild_only()
async def whoami(interaction: discord.Interaction) -> None:
    assert interaction.guild is not None
    assert isinstance(interaction.channel, discord.TextChannel)
    bot_in_channel = interaction.channel.permissions_for(interaction.guild.me)
    await interaction.response.send_message(
        f"manage_guild={interaction.permissions.manage_guild} "
        f"app_send={interaction.app_permissions.send_messages} "
        f"bot_can_send={bot_in_channel.send_messages}",
        ephemeral=True,
    )


@app_commands.command(name="cheer", description="Cheer a member on, in a channel")
@app_commands.guild_only()
async def cheer(
    interaction: discord.Interaction, member: discord.Member, channel: discord.TextChannel
) -> None:
    await interaction.response.send_message(f"Go {member.display_name}! (in #{channel.name})")


@app_commands.command(name="settings", description="Managers only")
@app_commands.default_permissions(manage_guild=True)
async def settings(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("Settings", ephemeral=True)


@app_commands.command(name="slowpoke", description="Answers only when the test allows it")
async def slowpoke(interaction: discord.Interaction) -> None:
    bot = sample_bot(interaction)
    await bot.release_slowpoke.wait()
    try:
        await interaction.response.send_message("finally")
    except discord.NotFound as error:
        bot.late_errors.append(error)
        bot.late_error_seen.set()


@app_commands.command(name="lifecycle", description="Answer, edit, follow up, edit, delete")
async def lifecycle(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("draft")
    await interaction.edit_original_response(content="final")
    original = await interaction.original_response()
    extra = await interaction.followup.send(f"extra for {original.content}", wait=True)
    await extra.edit(content="extra, edited")
    await extra.delete()
    await interaction.delete_original_response()


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    comment: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(label="Comment")


@app_commands.command(name="feedback", description="Open a modal")
async def feedback(interaction: discord.Interaction) -> None:
    modal = FeedbackModal(custom_id="feedback-modal", timeout=None)
    await interaction.response.send_modal(modal)
    modal.stop()


# --- running it against the stand-in -----------------------------------------------------


async def _wait_until_ready(bot: SampleBot, runner: asyncio.Task[None]) -> None:
    ready = asyncio.create_task(bot.ready.wait())
    done, _ = await asyncio.wait({ready, runner}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if ready in done:
        return
    ready.cancel()
    if runner in done:
        runner.result()  # re-raises why the bot stopped
    raise AssertionError("the bot did not become ready within 10s")


@asynccontextmanager
async def running_bot(standin: DiscordStandIn) -> AsyncIterator[SampleBot]:
    """Start the sample bot against the stand-in, sync its commands, close it afterwards."""
    bot = SampleBot()
    with patch_discord(standin):
        runner = asyncio.create_task(bot.start(standin.token), name="sample-bot")
        try:
            await _wait_until_ready(bot, runner)
            await bot.tree.sync()
            yield bot
        finally:
            await bot.close()
            await runner
    assert standin.stand_in_bugs() == []
    leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert leftovers == []


@pytest.fixture
async def world(discord_standin: DiscordStandIn) -> tuple[Guild, User]:
    guild = await discord_standin.add_guild(
        "Walkers", bot_permissions=discord.Permissions(send_messages=True, attach_files=True)
    )
    alice = discord_standin.add_user("alice")
    await discord_standin.add_member(guild, alice)
    return guild, alice


@pytest.fixture
async def bot(
    discord_standin: DiscordStandIn, world: tuple[Guild, User]
) -> AsyncIterator[SampleBot]:
    async with running_bot(discord_standin) as running:
        yield running


def answered_in_time(record: InteractionRecord) -> bool:
    return record.answered_after is not None and record.answered_after < DEADLINE


# --- connecting and registering ----------------------------------------------------------


async def test_bot_identifies_with_its_token_and_intents_and_registers_commands(
    discord_standin: DiscordStandIn, bot: SampleBot
) -> None:
    session = discord_standin.gateway.session
    assert session is not None
    assert session.identify["token"] == discord_standin.token
    assert session.intents == bot.intents.value
    assert not bot.intents.members and not bot.intents.message_content
    connection = discord_standin.gateway.connections[0]
    # discord.py asks for the compression it can decompress (zlib-stream without zstandard).
    active = discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE
    assert connection.query["compress"] == active
    assert bot.user is not None and bot.user.id == discord_standin.application_id
    assert discord_standin.gateway.heartbeats >= 1 and bot.latency < 1
    assert [g.name for g in bot.guilds] == ["Walkers"]
    [overwrite] = discord_standin.requests_to("PUT", "/applications/{application_id}/commands")
    assert {command["name"] for command in overwrite.json} == COMMAND_NAMES
    assert {c["name"] for c in discord_standin.registered_commands()} == COMMAND_NAMES
    assert discord_standin.unknown_routes == []


async def test_wrong_token_and_privileged_intents_are_refused(
    discord_standin: DiscordStandIn,
) -> None:
    with patch_discord(discord_standin):
        impostor = discord.Client(intents=discord.Intents.default())
        with pytest.raises(discord.LoginFailure):
            await impostor.start("not-the-token")
        await impostor.close()
        greedy = discord.Client(intents=discord.Intents.default() | discord.Intents(members=True))
        with pytest.raises(discord.PrivilegedIntentsRequired):
            await greedy.start(discord_standin.token)
        await greedy.close()
    [refused] = discord_standin.gateway.connections
    assert refused.close_code == 4014
    assert discord_standin.gateway.sessions == []


async def test_a_command_never_registered_fails_clearly(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, alice = world
    with pytest.raises(CommandNotRegisteredError, match="/leaderboard was never registered"):
        await discord_standin.slash(user=alice, guild=guild, name="leaderboard")
    with pytest.raises(CommandNotRegisteredError, match="has no 'leave'"):
        await discord_standin.slash(user=alice, guild=guild, name="challenge team leave")
    with pytest.raises(InvalidOptionValueError, match="outside"):
        await discord_standin.slash(
            user=alice,
            guild=guild,
            name="challenge team join",
            options={"team": "red", "days": 90},
        )


# --- answering interactions ----------------------------------------------------------------


async def test_reply_is_answered_within_the_deadline(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, alice = world
    record = await discord_standin.slash(user=alice, guild=guild, name="ping")
    callback = await record.wait_response()
    assert callback.callback_type == CALLBACK_CHANNEL_MESSAGE
    assert callback.content == "pong"
    assert answered_in_time(record)
    [message] = discord_standin.messages_in(discord_standin.channel_named(guild, "general"))
    assert message.content == "pong" and message.interaction_id == record.id


async def test_deferred_answer_follows_up_with_an_embed_and_a_png(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, alice = world
    record = await discord_standin.slash(user=alice, guild=guild, name="chart")
    callback = await record.wait_response()
    assert callback.callback_type == CALLBACK_DEFERRED_CHANNEL_MESSAGE
    followup = await record.wait_followup()
    assert answered_in_time(record)
    assert followup.elapsed >= callback.elapsed
    message = await record.wait_message()
    assert message is followup.message
    assert not message.loading  # the first follow-up after a defer replaces "thinking..."
    assert [embed["title"] for embed in message.embeds] == ["Weekly steps"]
    [attachment] = message.attachments
    assert (attachment.filename, attachment.data) == ("chart.png", PNG)
    assert attachment.content_type == "image/png"


async def test_attachment_can_be_downloaded_from_the_stand_in_cdn(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, alice = world
    record = await discord_standin.slash(user=alice, guild=guild, name="chart")
    followup = await record.wait_followup()
    assert followup.message is not None
    channel = bot.get_channel(guild.channel_ids[0])
    assert isinstance(channel, discord.TextChannel)
    fetched = await channel.fetch_message(followup.message.id)
    assert await fetched.attachments[0].read() == PNG


async def test_command_dms_the_invoker(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, alice = world
    record = await discord_standin.slash(user=alice, guild=guild, name="remind")
    callback = await record.wait_response()
    assert (callback.content, callback.ephemeral) == ("Sent you a DM.", True)
    dm = await discord_standin.wait_for_dm(alice)
    assert dm.content == "Time for your walk!"
    assert discord_standin.dms_to(alice) == [dm]


async def test_closed_dms_give_the_bot_forbidden_50007(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, alice = world
    discord_standin.close_dms(alice)
    record = await discord_standin.slash(user=alice, guild=guild, name="remind")
    callback = await record.wait_response()
    assert callback.content == "I cannot DM you."
    [error] = bot.dm_errors
    assert (error.status, error.code) == (403, 50007)
    assert discord_standin.dms_to(alice) == []
    assert discord_standin.requests_to("POST", "/users/@me/channels")  # opening still worked


async def test_autocomplete_and_sub_command_group(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, alice = world
    typing = await discord_standin.autocomplete(
        user=alice, guild=guild, name="challenge team join", focused="team", options={"team": "re"}
    )
    callback = await typing.wait_response()
    assert callback.callback_type == CALLBACK_AUTOCOMPLETE_RESULT
    assert [choice["value"] for choice in typing.choices] == ["red", "redwood"]
    record = await discord_standin.slash(
        user=alice,
        guild=guild,
        name="challenge team join",
        options={"team": "red", "days": 14},
    )
    assert (await record.wait_response()).content == "Joined red for 14 days"


async def test_button_press_is_answered(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, alice = world
    record = await discord_standin.slash(user=alice, guild=guild, name="vote")
    await record.wait_response()
    message = record.original_message
    assert message is not None and message.custom_ids() == ["vote:yes"]
    press = await discord_standin.press_button(message, "vote:yes", user=alice)
    callback = await press.wait_response()
    assert callback.callback_type == CALLBACK_UPDATE_MESSAGE
    assert answered_in_time(press)
    assert message.content == "Votes: 1 yes" and message.components == []


async def test_slash_command_in_a_dm(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    _, alice = world
    record = await discord_standin.slash(user=alice, name="ping")
    assert (await record.wait_response()).content == "pong"
    assert record.payload["context"] == 1 and "user" in record.payload
    with pytest.raises(CommandUnavailableError, match="not offered in DMs"):
        await discord_standin.slash(user=alice, name="whoami")


async def test_user_and_channel_options_arrive_resolved(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, alice = world
    bob = await discord_standin.add_member(guild, name="bob", nick="Bobby")
    track = await discord_standin.add_text_channel(guild, "track")
    record = await discord_standin.slash(
        user=alice, guild=guild, name="cheer", options={"member": bob, "channel": track}
    )
    assert (await record.wait_response()).content == "Go Bobby! (in #track)"
    resolved = record.payload["data"]["resolved"]
    assert set(resolved) == {"users", "members", "channels"}


async def test_guild_added_while_connected_reaches_the_bot(
    discord_standin: DiscordStandIn, bot: SampleBot
) -> None:
    guild = await discord_standin.add_guild("Runners", text_channels=("general", "results"))
    joined = await asyncio.wait_for(bot.joined.get(), timeout=5)
    assert joined.id == guild.id
    assert sorted(channel.name for channel in joined.text_channels) == ["general", "results"]


async def test_answer_edit_follow_up_and_delete(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, alice = world
    record = await discord_standin.slash(user=alice, guild=guild, name="lifecycle")
    await record.wait_response()
    deleted = await record.wait_for(lambda e: e.kind == "delete_original", 5, "deletion")
    kinds = [event.kind for event in record.events]
    assert kinds == [
        "callback",
        "edit_original",
        "followup",
        "edit_message",
        "delete_message",
        "delete_original",
    ]
    assert record.followups[0].content == "extra for final"
    assert deleted.message is record.original_message
    assert discord_standin.messages_in(guild.channel_ids[0]) == []  # both deleted
    assert [e.elapsed for e in record.events] == sorted(e.elapsed for e in record.events)


async def test_modal_response_is_recorded(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, alice = world
    record = await discord_standin.slash(user=alice, guild=guild, name="feedback")
    callback = await record.wait_response()
    assert callback.callback_type == CALLBACK_MODAL
    assert (callback.data["custom_id"], callback.data["title"]) == ("feedback-modal", "Feedback")


async def test_rest_reads_and_message_edits_through_discord_py(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, alice = world
    assert (await bot.fetch_guild(guild.id)).name == "Walkers"
    assert (await bot.fetch_user(alice.id)).name == "alice"
    member = await (await bot.fetch_guild(guild.id)).fetch_member(alice.id)
    assert member.id == alice.id
    channel = await bot.fetch_channel(guild.channel_ids[0])
    assert isinstance(channel, discord.TextChannel)
    async with channel.typing():
        sent = await channel.send("report", file=discord.File(io.BytesIO(b"a,b\n1,2\n"), "r.csv"))
    edited = await sent.edit(
        content="report v2",
        attachments=[*sent.attachments, discord.File(io.BytesIO(PNG), "chart.png")],
    )
    assert [a.filename for a in edited.attachments] == ["r.csv", "chart.png"]
    [stored] = discord_standin.messages_in(channel.id)
    assert stored.content == "report v2" and stored.edited_at is not None
    assert [a.data for a in stored.attachments] == [b"a,b\n1,2\n", PNG]
    history = [message.content async for message in channel.history(limit=5)]
    assert history == ["report v2"]
    await edited.delete()
    assert discord_standin.messages_in(channel.id) == []
    with pytest.raises(discord.NotFound):
        await channel.fetch_message(sent.id)


# --- permissions ---------------------------------------------------------------------------


async def test_interaction_carries_member_and_app_permissions(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, alice = world
    quiet = await discord_standin.add_text_channel(guild, "quiet")
    bot_role = next(role for role in guild.roles.values() if role.managed)
    await discord_standin.set_permission_overwrite(quiet, bot_role, deny=SEND_MESSAGES)
    plain = await discord_standin.slash(user=alice, guild=guild, channel=quiet, name="whoami")
    assert (await plain.wait_response()).content == (
        "manage_guild=False app_send=False bot_can_send=False"
    )
    manager = await discord_standin.slash(
        user=alice,
        guild=guild,
        name="whoami",
        permissions=discord.Permissions(manage_guild=True),
    )
    assert (await manager.wait_response()).content == (
        "manage_guild=True app_send=True bot_can_send=True"
    )


async def test_commands_discord_hides_from_a_member_cannot_be_run(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, alice = world
    with pytest.raises(CommandUnavailableError, match="hides /settings"):
        await discord_standin.slash(user=alice, guild=guild, name="settings")
    managers = await discord_standin.add_role(
        guild, "managers", discord.Permissions(manage_guild=True)
    )
    bob = discord_standin.add_user("bob")
    await discord_standin.add_member(guild, bob, roles=[managers])
    record = await discord_standin.slash(user=bob, guild=guild, name="settings")
    assert (await record.wait_response()).content == "Settings"


# --- the gateway -----------------------------------------------------------------------------


async def test_bot_resumes_after_a_dropped_connection(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, alice = world
    await discord_standin.drop_connection()
    record = await discord_standin.slash(user=alice, guild=guild, name="ping")
    session = await discord_standin.wait_for_resume()
    assert (await record.wait_response()).content == "pong"
    await asyncio.wait_for(bot.resumed.wait(), timeout=5)
    assert len(discord_standin.gateway.sessions) == 1  # resumed, not identified again
    assert session.resumes == 1
    assert session.replayed == ["INTERACTION_CREATE"]  # dispatched while the bot was away
    resumed_on = discord_standin.gateway.connections[-1]
    assert (resumed_on.began_with, resumed_on.path) == ("resume", "/gateway/resume")


async def test_bot_resumes_when_asked_to_reconnect(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, alice = world
    await discord_standin.request_reconnect()
    await discord_standin.wait_for_resume()
    record = await discord_standin.slash(user=alice, guild=guild, name="ping")
    assert (await record.wait_response()).content == "pong"
    assert len(discord_standin.gateway.sessions) == 1


# --- what the stand-in catches ---------------------------------------------------------------


async def test_invalid_request_body_is_recorded_as_a_violation(
    discord_spec_required: DiscordSpec,
    discord_standin: DiscordStandIn,
    world: tuple[Guild, User],
    bot: SampleBot,
) -> None:
    guild, _ = world
    channel = bot.get_channel(guild.channel_ids[0])
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send(embed=discord.Embed(title="x" * 300))
    assert (caught.value.status, caught.value.code) == (400, 50035)
    [violation] = discord_standin.schema_violations
    assert violation.route == "POST /channels/{channel_id}/messages"
    assert violation.body_path == "/embeds/0/title"
    assert "too long" in violation.message
    [failure] = discord_standin.take_failures()
    assert "/embeds/0/title" in failure
    assert discord_standin.messages_in(channel.id) == []


async def test_unknown_route_is_recorded(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    with pytest.raises(discord.NotFound):
        await bot.http.request(discord.http.Route("GET", "/users/@me/guilds"))
    [unknown] = discord_standin.unknown_routes
    assert (unknown.method, unknown.path) == ("GET", "/users/@me/guilds")
    assert discord_standin.take_failures() == [
        "route the stand-in does not serve: GET /users/@me/guilds -> 404"
    ]


async def test_late_and_unanswered_interactions_are_failures(
    make_discord_standin: Callable[..., Awaitable[DiscordStandIn]],
) -> None:
    standin = await make_discord_standin(interaction_deadline=0.3)
    guild = await standin.add_guild("Slow")
    alice = standin.add_user("alice")
    await standin.add_member(guild, alice)
    async with running_bot(standin) as slow_bot:
        record = await standin.slash(user=alice, guild=guild, name="slowpoke")
        with pytest.raises(InteractionNotAnsweredError):
            await record.wait_response()  # waits for the 0.3 s deadline
        slow_bot.release_slowpoke.set()
        await asyncio.wait_for(slow_bot.late_error_seen.wait(), timeout=5)
    [late] = slow_bot.late_errors
    assert (late.status, late.code) == (404, 10062)
    failures = standin.take_failures()
    assert any("/slowpoke was never answered" in line for line in failures)
    assert any("callback after" in line for line in failures)


# --- message history and nonces --------------------------------------------------------------


async def _text_channel(bot: SampleBot, guild: Guild) -> discord.TextChannel:
    channel = bot.get_channel(guild.channel_ids[0])
    assert isinstance(channel, discord.TextChannel)
    return channel


def _messages_route(channel_id: int) -> discord.http.Route:
    return discord.http.Route("GET", "/channels/{channel_id}/messages", channel_id=channel_id)


async def test_a_repeated_nonce_returns_the_first_message_and_creates_none(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, _ = world
    channel = await _text_channel(bot, guild)
    first = await channel.send("day 1", nonce="stride-7-day-1")
    again = await channel.send("day 1, sent again", nonce="stride-7-day-1")
    other = await channel.send("day 2", nonce="stride-7-day-2")
    assert again.id == first.id and again.content == "day 1"
    assert [m.content for m in discord_standin.history(channel.id)] == ["day 1", "day 2"]
    [create, repeat, _] = discord_standin.requests_to("POST", "/channels/{channel_id}/messages")
    assert create.json["nonce"] == repeat.json["nonce"] == "stride-7-day-1"
    assert create.json["enforce_nonce"] is True  # discord.py asks for the check
    # The nonce is echoed when the message is created, and is not part of history.
    assert first.nonce == "stride-7-day-1"
    history = await bot.http.logs_from(channel.id, 10)
    assert [item["id"] for item in history] == [str(other.id), str(first.id)]
    assert all("nonce" not in item for item in history)


async def test_a_nonce_is_not_enforced_when_not_asked_or_after_a_few_minutes(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, _ = world
    channel = await _text_channel(bot, guild)
    route = discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=channel.id)
    body = {"content": "hello", "nonce": "n-1"}
    one = await bot.http.request(route, json=body)
    two = await bot.http.request(route, json=body | {"enforce_nonce": False})
    assert one["id"] != two["id"]
    discord_standin.routes.nonce_window = dt.timedelta(0)  # "the past few minutes" are over
    three = await channel.send("hello", nonce="n-1")
    assert three.id not in {int(one["id"]), int(two["id"])}
    assert len(discord_standin.history(channel.id)) == 3


async def test_history_pages_newest_first_before_after_and_around(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, _ = world
    channel = await _text_channel(bot, guild)
    sent = [await channel.send(f"m{index}") for index in range(7)]
    ids = [message.id for message in sent]

    async def page(**query: int) -> list[int]:
        limit = query.pop("limit", 50)
        data = await bot.http.logs_from(channel.id, limit, **query)
        return [int(item["id"]) for item in data]

    assert await page() == ids[::-1]
    assert await page(limit=3) == ids[:3:-1]
    assert await page(limit=2, before=ids[4]) == [ids[3], ids[2]]
    assert await page(limit=2, after=ids[1]) == [ids[3], ids[2]]  # just after, newest first
    assert await page(limit=4, around=ids[3]) == [ids[5], ids[4], ids[3], ids[2], ids[1]]
    assert await page(limit=1, around=ids[3]) == [ids[3]]
    # Through discord.py: oldest first after a message (it pages with `after`).
    later = [m.id async for m in channel.history(limit=5, after=sent[1], oldest_first=True)]
    assert later == ids[2:7]


async def test_history_leaves_out_ephemeral_and_deleted_messages(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, alice = world
    channel = await _text_channel(bot, guild)
    await (await discord_standin.slash(user=alice, guild=guild, name="ping")).wait_response()
    await (await discord_standin.slash(user=alice, guild=guild, name="remind")).wait_response()
    gone = await channel.send("deleted soon")
    await gone.delete()
    assert [m.content async for m in channel.history(limit=10)] == ["pong"]
    assert any(m.ephemeral for m in discord_standin.messages_in(channel.id))


async def test_history_is_empty_without_read_message_history(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, _ = world
    channel = await _text_channel(bot, guild)
    await channel.send("visible to members")
    await discord_standin.set_permission_overwrite(
        channel.id, discord_standin.bot_user.id, deny=READ_MESSAGE_HISTORY
    )
    assert [m async for m in channel.history(limit=10)] == []
    assert len(discord_standin.history(channel.id)) == 1


async def test_history_refuses_a_limit_out_of_range_and_two_anchors(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, _ = world
    channel = await _text_channel(bot, guild)
    message = await channel.send("anchor")
    bad_queries: list[dict[str, Any]] = [
        {"limit": 0},
        {"limit": 101},
        {"limit": "many"},
        {"before": message.id, "after": message.id},
    ]
    for query in bad_queries:
        with pytest.raises(discord.HTTPException) as caught:
            await bot.http.request(_messages_route(channel.id), params=query)
        assert (caught.value.status, caught.value.code) == (400, 50035), query
    [only] = await bot.http.request(_messages_route(channel.id), params={"limit": 100})
    assert only["id"] == str(message.id)


@pytest.mark.parametrize("store_first", [True, False])
async def test_a_held_create_keeps_the_bot_waiting_until_released(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot, store_first: bool
) -> None:
    guild, _ = world
    channel = await _text_channel(bot, guild)
    hold = discord_standin.hold_message_create(channel.id, store_first=store_first)
    sending = asyncio.create_task(channel.send("in flight", nonce="held"))
    await hold.wait_arrived()
    assert not sending.done()
    stored = discord_standin.history(channel.id)
    assert [m.content for m in stored] == (["in flight"] if store_first else [])
    hold.release()
    sent = await sending
    [message] = discord_standin.history(channel.id)
    assert sent.id == message.id and hold.message is (message if store_first else None)
    # Only the next create was held.
    assert (await channel.send("after")).content == "after"


async def test_a_dropped_create_creates_nothing_and_a_resend_goes_through(
    discord_standin: DiscordStandIn, world: tuple[Guild, User], bot: SampleBot
) -> None:
    guild, _ = world
    channel = await _text_channel(bot, guild)
    hold = discord_standin.hold_message_create(channel.id, store_first=False)
    sending = asyncio.create_task(channel.send("lost", nonce="lost-once"))
    await hold.wait_arrived()
    hold.drop()
    with pytest.raises(discord.DiscordServerError):
        await sending
    assert discord_standin.history(channel.id) == []
    resent = await channel.send("lost", nonce="lost-once")
    assert [m.id for m in discord_standin.history(channel.id)] == [resent.id]


# --- the spec --------------------------------------------------------------------------------


def test_missing_spec_disables_validation_outside_ci(tmp_path: Path) -> None:
    missing = str(tmp_path / "absent.json")
    assert spec_from_environment({"DISCORD_OPENAPI_SPEC": missing}) is None


def test_missing_spec_is_an_error_under_ci(tmp_path: Path) -> None:
    missing = str(tmp_path / "absent.json")
    with pytest.raises(SpecUnavailableError, match=r"absent\.json"):
        spec_from_environment({"DISCORD_OPENAPI_SPEC": missing, "CI": "true"})


def test_every_served_route_is_documented_in_the_spec(
    discord_spec_required: DiscordSpec, discord_standin: DiscordStandIn
) -> None:
    undocumented = [
        f"{route.method} {route.template}"
        for route in discord_standin.routes.routes()
        if not discord_spec_required.has_operation(route.method, route.template)
    ]
    assert undocumented == []


def test_spec_validates_callback_bodies(discord_spec_required: DiscordSpec) -> None:
    route = ("POST", "/interactions/{interaction_id}/{interaction_token}/callback")
    ok = {"type": 4, "data": {"content": "hi", "flags": 64}}
    assert discord_spec_required.request_violations(*route, "application/json", ok) == []
    too_long = {"type": 4, "data": {"content": "x" * 2001}}
    [violation] = discord_spec_required.request_violations(*route, "application/json", too_long)
    assert violation.body_path == "/data/content"


async def test_stand_in_works_without_a_spec() -> None:
    async with DiscordStandIn(spec=None) as standin:
        headers = {"Authorization": f"Bot {standin.token}"}
        async with aiohttp.ClientSession() as session:
            async with session.get(standin.rest_base_url + "/users/@me", headers=headers) as reply:
                assert reply.status == 200
                assert (await reply.json())["id"] == str(standin.application_id)
            async with session.get(standin.rest_base_url + "/users/@me") as reply:
                assert reply.status == 401
        assert standin.failures() == []
