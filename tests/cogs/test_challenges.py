"""`/challenge …`, `/join`, `/leave` and `/settings` called as Discord would call them.

Interactions, guilds, channels, members and roles are `create_autospec(..., spec_set=True)`
doubles of discord.py's classes, so an attribute the real classes lack fails the test. The
services behind the cogs are the real ones over a real (temporary) database; the clock is
fake (see `tests.challenges_fakes.START`: Monday morning in Auckland, Sunday in
Los Angeles).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from unittest.mock import MagicMock, create_autospec

import discord
import pytest
from discord import app_commands

from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.discord_bot import StrideBot, StrideTree, intents, user_message_for
from bot.domain import Metric
from bot.errors import UserError
from bot.fair_play import ReviewStatus
from bot.services import Services, build_services
from bot.settings import Settings
from bot.storage import Database
from cogs.challenges import (
    ChallengesCog,
    ConfirmDeleteChallenge,
    DateOption,
    ReviewView,
    TimeOption,
    active_challenge_names,
    admin_check,
    challenge_names,
    team_names,
    time_zones,
)
from cogs.settings import SettingsCog
from tests.challenges_fakes import (
    ADMIN,
    ALICE,
    AUCKLAND,
    BOB,
    CAROL,
    CHANNEL,
    DAVE,
    GUILD,
    LOS_ANGELES,
    START,
    add_values,
    days_before,
    link_account,
)

ADMIN_ROLE = 940_000_000_000_000_001
OTHER_ROLE = 940_000_000_000_000_002
LEADERBOARD = 910_000_000_000_000_002
ALL_POST_PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, embed_links=True, attach_files=True
)


# --------------------------------------------------------------------------- doubles


def role(role_id: int, *, default: bool = False) -> Any:
    double = create_autospec(discord.Role, instance=True, spec_set=True)
    double.id = role_id
    double.is_default.return_value = default
    return double


def member(user_id: int, *, roles: tuple[int, ...] = (), name: str = "Player") -> Any:
    double = create_autospec(discord.Member, instance=True, spec_set=True)
    double.id = user_id
    double.display_name = name
    double.mention = f"<@{user_id}>"
    double.roles = [role(r) for r in roles]
    return double


def guild() -> Any:
    double = create_autospec(discord.Guild, instance=True, spec_set=True)
    double.id = GUILD
    double.me = member(1, name="Stride")
    double.get_channel.return_value = None
    return double


def text_channel(
    server: Any, channel_id: int = CHANNEL, perms: discord.Permissions = ALL_POST_PERMISSIONS
) -> Any:
    double = create_autospec(discord.TextChannel, instance=True, spec_set=True)
    double.id = channel_id
    double.mention = f"<#{channel_id}>"
    double.guild = server
    double.permissions_for.return_value = perms
    return double


class Discord:
    """One guild with a channel the bot may post in, and a way to make interactions."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.guild = guild()
        self.channel = text_channel(self.guild)

    def interaction(
        self,
        user_id: int = ADMIN,
        *,
        manage_guild: bool = True,
        roles: tuple[int, ...] = (),
        name: str = "Admin",
    ) -> Any:
        double = create_autospec(discord.Interaction, instance=True, spec_set=True)
        double.response = create_autospec(discord.InteractionResponse, instance=True, spec_set=True)
        double.response.is_done.return_value = False
        double.followup = create_autospec(discord.Webhook, instance=True, spec_set=True)
        double.user = member(user_id, roles=roles, name=name)
        double.permissions = discord.Permissions(manage_guild=manage_guild)
        double.client = self.bot
        double.guild = self.guild
        double.guild_id = GUILD
        double.channel = self.channel
        double.channel_id = CHANNEL
        double.command = None
        return double


def only_reply(double: Any) -> tuple[str, dict[str, Any]]:
    """The one message the user saw: a direct response or a follow-up after a defer."""
    calls = [*double.response.send_message.await_args_list, *double.followup.send.await_args_list]
    assert len(calls) == 1, calls
    call = calls[0]
    text = call.args[0] if call.args else call.kwargs.get("content", "") or ""
    return text, call.kwargs


def embed_text(embed: discord.Embed) -> str:
    parts = [embed.title or "", embed.description or ""]
    parts += [f"{field.name}: {field.value}" for field in embed.fields]
    return "\n".join(parts)


# --------------------------------------------------------------------------- fixtures


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
def cog(bot: Any) -> ChallengesCog:
    return ChallengesCog(bot)


@pytest.fixture
def settings_cog(bot: Any) -> SettingsCog:
    return SettingsCog(bot)


@pytest.fixture
def world(bot: Any) -> Discord:
    return Discord(bot)


async def create(cog: ChallengesCog, world: Discord, **options: Any) -> Any:
    """Run /challenge create as an admin in the world's channel; returns the interaction."""
    double = world.interaction()
    values: dict[str, Any] = {"name": "Spring Steps", "channel": world.channel}
    values.update(options)
    await cog.create.callback(cog, double, **values)
    return double


def choice(value: str) -> app_commands.Choice[str]:
    return app_commands.Choice(name=value, value=value)


async def stored_challenges(db: Database) -> int:
    return int(await db.fetch_value("SELECT COUNT(*) FROM challenges"))


async def run_checks(command: Any, interaction: Any) -> bool:
    """Run a command's checks as discord.py does before calling it."""
    return all([await check(interaction) for check in command.checks])


# --------------------------------------------------------------------------- /challenge create


@pytest.mark.parametrize(
    ("preset", "zone", "dates"),
    [
        ("workweek_hustle", AUCKLAND, "Mon 13 May 2024 to Fri 17 May 2024, 5 days"),
        ("workweek_hustle", LOS_ANGELES, "Mon 06 May 2024 to Fri 10 May 2024, 5 days"),
        ("daily_showdown", AUCKLAND, "Tue 07 May 2024 (Pacific/Auckland)"),
        ("daily_showdown", LOS_ANGELES, "Mon 06 May 2024 (America/Los_Angeles)"),
        ("weekend_warrior", AUCKLAND, "Sat 11 May 2024 to Sun 12 May 2024, 2 days"),
        ("goal_day", LOS_ANGELES, "Mon 06 May 2024 (America/Los_Angeles)"),
        ("streak", AUCKLAND, "Tue 07 May 2024 to Wed 05 Jun 2024, 30 days"),
    ],
)
async def test_create_from_a_preset_replies_with_a_summary_card(
    cog: ChallengesCog,
    world: Discord,
    services: Services,
    preset: str,
    zone: str,
    dates: str,
) -> None:
    double = await create(
        cog, world, preset=choice(preset), time_zone=zone, post_time=dt.time(7, 0)
    )

    text, kwargs = only_reply(double)
    assert "New challenge: **Spring Steps**" in text
    assert kwargs.get("ephemeral", False) is False  # the card announces it
    card = embed_text(kwargs["embed"])
    assert f"Dates: {dates}" in card
    assert f"Daily post: 07:00 {zone}" in card
    assert f"Leaderboard: <#{CHANNEL}>" in card
    [stored] = await services.challenges.active_challenges()
    assert stored.preset == preset and stored.time_zone == zone


async def test_create_uses_the_servers_defaults(
    cog: ChallengesCog, world: Discord, services: Services
) -> None:
    await services.challenges.update_guild_settings(
        GUILD, time_zone=AUCKLAND, post_time=dt.time(18, 0), leaderboard_channel_id=LEADERBOARD
    )
    leaderboard = text_channel(world.guild, LEADERBOARD)
    world.guild.get_channel.side_effect = {LEADERBOARD: leaderboard}.get

    double = await create(cog, world, channel=None, preset=choice("goal_day"))

    _, kwargs = only_reply(double)
    card = embed_text(kwargs["embed"])
    assert "Daily post: 18:00 Pacific/Auckland" in card
    assert f"Leaderboard: <#{LEADERBOARD}>" in card
    assert "Everyone who reaches 10,000 steps wins." in card


async def test_a_custom_challenge_with_every_option(
    cog: ChallengesCog, world: Discord, services: Services
) -> None:
    await create(
        cog,
        world,
        metric=choice("active_minutes"),
        scoring=choice("tiers"),
        start_date=dt.date(2024, 5, 6),
        end_date=dt.date(2024, 5, 31),
        time_zone="Europe/Berlin",
        post_time=dt.time(8, 30),
        daily_goal=30.0,
        daily_cap=240.0,
        manual_entries=choice("allow"),
        grace_hours=12,
        team_mode=choice("mean"),
        tiers="30:1, 60:2, 90:4",
        max_players=20,
        late_join=choice("backfill"),
    )
    [stored] = await services.challenges.active_challenges()
    assert stored.metric is Metric.ACTIVE_MINUTES
    assert stored.tiers == ((30, 1), (60, 2), (90, 4))
    assert (stored.allow_manual, stored.grace_hours, stored.max_players) == (True, 12, 20)
    assert stored.late_join_backfill and stored.team_mode.value == "mean"


async def test_missing_channel_permissions_are_named_and_nothing_is_created(
    cog: ChallengesCog, world: Discord, db: Database
) -> None:
    world.channel.permissions_for.return_value = discord.Permissions(
        view_channel=True, send_messages=True
    )
    double = world.interaction()
    with pytest.raises(UserError) as caught:
        await cog.create.callback(cog, double, name="Spring Steps", channel=world.channel,
                                  preset=choice("daily_showdown"))  # fmt: skip
    assert str(caught.value) == (
        f"I cannot post the leaderboard in <#{CHANNEL}>: I need Embed Links, Attach Files "
        "there. Give my role those permissions in the channel's settings, or pick another "
        "channel."
    )
    assert await stored_challenges(db) == 0
    double.response.send_message.assert_not_awaited()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"scoring": choice("total"), "start_date": dt.date(2024, 5, 10),
          "end_date": dt.date(2024, 5, 8)}, "is before the start date"),
        ({"scoring": choice("total"), "start_date": dt.date(2024, 5, 5),
          "end_date": dt.date(2024, 5, 8), "time_zone": AUCKLAND}, "is in the past in"),
        ({"preset": choice("goal_day"), "time_zone": "Atlantis/Capital"},
         "is not a time zone I know"),
        ({"preset": choice("goal_day"), "daily_goal": 500_000.0},
         "must be between 100 steps and 100,000 steps"),
        ({"scoring": choice("improvement"), "metric": choice("sleep_minutes"),
          "start_date": dt.date(2024, 5, 6), "end_date": dt.date(2024, 5, 8)},
         "does not suit sleep"),
    ],
)  # fmt: skip
async def test_bad_create_options_are_one_line_and_nothing_is_created(
    cog: ChallengesCog, world: Discord, db: Database, options: dict[str, Any], message: str
) -> None:
    double = world.interaction()
    with pytest.raises(UserError, match=message) as caught:
        await cog.create.callback(
            cog, double, name="Spring Steps", channel=world.channel, **options
        )
    assert "\n" not in str(caught.value)
    assert await stored_challenges(db) == 0
    # The tree's error handler shows it ephemerally, as written.
    await StrideTree(discord.Client(intents=intents())).on_error(  # type: ignore[arg-type]
        double, app_commands.CommandInvokeError(cog.create, caught.value)
    )
    double.response.send_message.assert_awaited_once_with(str(caught.value), ephemeral=True)


async def test_duplicate_name_in_the_same_server(
    cog: ChallengesCog, world: Discord, db: Database
) -> None:
    await create(cog, world, preset=choice("daily_showdown"))
    with pytest.raises(UserError, match="already has a challenge called “SPRING STEPS”"):
        await create(cog, world, name="SPRING STEPS", preset=choice("goal_day"))
    assert await stored_challenges(db) == 1


async def test_dates_and_times_that_do_not_parse_say_the_format(world: Discord) -> None:
    double = world.interaction()
    with pytest.raises(app_commands.AppCommandError) as bad_date:
        await DateOption().transform(double, "17/03/2025")
    with pytest.raises(app_commands.AppCommandError) as bad_time:
        await TimeOption().transform(double, "9am")
    # Passed through discord.py as they are, and shown as written by the error handler:
    assert user_message_for(bad_date.value) == (
        "“17/03/2025” is not a date: write it as YYYY-MM-DD, e.g. 2025-03-17.",
        None,
    )
    assert user_message_for(bad_time.value)[0] == (
        "“9am” is not a time: write it as HH:MM on a 24-hour clock, e.g. 09:00."
    )
    assert await DateOption().transform(double, "2025-03-17") == dt.date(2025, 3, 17)
    assert await TimeOption().transform(double, "18:45") == dt.time(18, 45)


# --------------------------------------------------------------------------- permissions


ADMIN_COMMANDS = ("create", "edit", "end", "delete", "kick", "review")


def admin_commands(cog: ChallengesCog) -> list[Any]:
    group = cog.challenge
    team = group.get_command("team")
    assert isinstance(team, app_commands.Group)
    return [group.get_command(name) for name in ADMIN_COMMANDS] + list(team.commands)


async def test_a_member_without_manage_server_or_the_role_is_refused(
    cog: ChallengesCog, settings_cog: SettingsCog, world: Discord, services: Services
) -> None:
    await services.challenges.update_guild_settings(GUILD, admin_role_id=ADMIN_ROLE)
    double = world.interaction(ALICE, manage_guild=False, roles=(OTHER_ROLE,))
    for command in [*admin_commands(cog), settings_cog.settings]:
        with pytest.raises(app_commands.CheckFailure) as caught:
            await run_checks(command, double)
        assert str(caught.value) == (
            f"Only members with the Manage Server permission or the <@&{ADMIN_ROLE}> role can "
            "use this command."
        )
    assert user_message_for(caught.value) == (str(caught.value), None)  # shown as written


async def test_the_configured_admin_role_is_accepted(
    cog: ChallengesCog, world: Discord, services: Services
) -> None:
    await services.challenges.update_guild_settings(GUILD, admin_role_id=ADMIN_ROLE)
    double = world.interaction(ALICE, manage_guild=False, roles=(OTHER_ROLE, ADMIN_ROLE))
    for command in admin_commands(cog):
        assert await run_checks(command, double)


async def test_without_an_admin_role_only_manage_server_passes(world: Discord) -> None:
    with pytest.raises(
        app_commands.CheckFailure,
        match=r"^Only members with the Manage Server permission can use this command\.$",
    ):
        await admin_check(world.interaction(ALICE, manage_guild=False))
    assert await admin_check(world.interaction(ADMIN, manage_guild=True))


async def test_commands_are_guild_only_and_admin_ones_hidden_by_default(services: Services) -> None:
    from cogs import challenges, settings

    bot = StrideBot(services)
    try:
        await challenges.setup(bot)
        await settings.setup(bot)
        payloads = {c.name: c.to_dict(bot.tree) for c in bot.tree.get_commands()}
    finally:
        await bot.close()
    assert set(payloads) == {"challenge", "challenges", "join", "leave", "settings"}
    for name, payload in payloads.items():
        assert payload["contexts"] == [0], name  # guild only
    manage_guild = discord.Permissions(manage_guild=True).value
    assert payloads["challenge"]["default_member_permissions"] == manage_guild
    assert payloads["settings"]["default_member_permissions"] == manage_guild
    assert payloads["join"]["default_member_permissions"] is None
    assert payloads["challenges"]["default_member_permissions"] is None
    subcommands = {option["name"] for option in payloads["challenge"]["options"]}
    assert subcommands == {
        "create", "edit", "end", "delete", "list", "info", "kick", "team", "review",
    }  # fmt: skip


def test_player_commands_and_read_only_ones_have_no_admin_check(cog: ChallengesCog) -> None:
    for command in admin_commands(cog):
        assert admin_check in command.checks, command.name
    for name in ("list", "info"):
        command = cog.challenge.get_command(name)
        assert command is not None and admin_check not in command.checks  # type: ignore[union-attr]
    assert cog.join.checks == [] and cog.leave.checks == []


# --------------------------------------------------------------------------- autocomplete


async def test_challenge_autocomplete_returns_at_most_25(
    world: Discord, services: Services, db: Database
) -> None:
    for number in range(30):
        await db.execute(
            "INSERT INTO challenges (guild_id, channel_id, name, metric, scoring_mode, start_date, "
            "end_date, time_zone, post_time, status, created_by, created_at) "
            "VALUES (?, ?, ?, 'steps', 'total', '2024-01-01', '2024-01-07', 'UTC', '09:00', "
            "'ended', ?, ?)",
            (GUILD, CHANNEL, f"January {number:02d}", ADMIN, START.isoformat()),
        )
    choices = await challenge_names(world.interaction(), "jan")
    assert len(choices) == 25
    assert all(c.name == c.value and c.name.startswith("January") for c in choices)
    assert [c.value for c in await challenge_names(world.interaction(), "ary 2")] == [
        f"January {n}" for n in range(20, 30)
    ]


async def test_time_zone_autocomplete_returns_at_most_25(world: Discord) -> None:
    for text in ("", "a", "Europe", "pacific/auck"):
        choices = await time_zones(world.interaction(), text)
        assert 0 < len(choices) <= 25
    assert [c.value for c in await time_zones(world.interaction(), "pacific/auck")] == [AUCKLAND]


async def test_active_and_team_autocomplete(
    cog: ChallengesCog,
    world: Discord,
    services: Services,
    db: Database,
    cipher: TokenCipher,
    clock: FakeClock,
) -> None:
    await create(cog, world, preset=choice("streak"))
    await create(cog, world, name="Spring Sprint", scoring=choice("total"),
                 start_date=dt.date(2024, 5, 5), end_date=dt.date(2024, 5, 9))  # fmt: skip
    clock.advance(dt.timedelta(days=1))  # its first day is over: it can be ended
    await services.challenges.end(GUILD, "Spring Sprint")
    for user, team in ((ALICE, "Lions"), (BOB, "Tigers")):
        await link_account(db, cipher, user, START)
        await services.challenges.join(GUILD, "Spring Steps", user, None)
        await services.challenges.assign_team(GUILD, "Spring Steps", user, team)

    # Prefix matches first, then challenges that have not ended:
    assert [c.value for c in await challenge_names(world.interaction(), "spr")] == [
        "Spring Steps",
        "Spring Sprint",
    ]
    assert [c.value for c in await active_challenge_names(world.interaction(), "spr")] == [
        "Spring Steps"
    ]
    asking = world.interaction()
    asking.namespace = SimpleNamespace(challenge="Spring Steps")
    assert [c.value for c in await team_names(asking, "")] == ["Lions", "Tigers"]
    assert [c.value for c in await team_names(asking, "tig")] == ["Tigers"]
    assert [c.value for c in await team_names(asking, "LI")] == ["Lions"]
    assert await team_names(asking, "%") == []  # typed text, not a pattern
    asking.namespace = SimpleNamespace(challenge="No such thing")
    assert await team_names(asking, "") == []


# --------------------------------------------------------------------------- /join, /leave


async def test_join_without_a_linked_account_says_how_to_link(
    cog: ChallengesCog, world: Discord, db: Database
) -> None:
    await create(cog, world, preset=choice("daily_showdown"))
    with pytest.raises(UserError) as caught:
        await cog.join.callback(cog, world.interaction(ALICE, manage_guild=False), challenge=None)
    assert str(caught.value) == (
        "Link a fitness account first: run /link, connect your tracker, then /join again."
    )
    assert await db.fetch_value("SELECT COUNT(*) FROM participants") == 0


async def test_join_and_leave(
    cog: ChallengesCog, world: Discord, services: Services, db: Database, cipher: TokenCipher
) -> None:
    await create(cog, world, preset=choice("workweek_hustle"), time_zone=LOS_ANGELES)
    await link_account(db, cipher, ALICE, START)
    joining = world.interaction(ALICE, manage_guild=False, name="Alice")

    await cog.join.callback(cog, joining, challenge="spring steps")

    text, kwargs = only_reply(joining)
    assert text == "You are in **Spring Steps**! It starts on Mon 06 May."
    assert kwargs["ephemeral"] is True
    assert "Players: 1" in embed_text(kwargs["embed"])
    [player] = await services.challenges.participants(1)
    assert (player.discord_id, player.display_name, player.joined_on) == (
        ALICE, "Alice", dt.date(2024, 5, 6),
    )  # fmt: skip

    leaving = world.interaction(ALICE, manage_guild=False)
    await cog.leave.callback(cog, leaving, challenge=None)
    text, kwargs = only_reply(leaving)
    assert text == "You left **Spring Steps**; your scores in it are gone."
    assert await services.challenges.participants(1) == []


async def test_a_late_joiner_is_told_from_when_they_count(
    cog: ChallengesCog, world: Discord, db: Database, cipher: TokenCipher, clock: FakeClock
) -> None:
    await create(cog, world, preset=choice("workweek_hustle"), time_zone=LOS_ANGELES)
    await link_account(db, cipher, ALICE, START)
    clock.set(dt.datetime(2024, 5, 8, 18, tzinfo=dt.UTC))  # Wednesday in Los Angeles
    joining = world.interaction(ALICE, manage_guild=False)
    await cog.join.callback(cog, joining, challenge=None)
    text, _ = only_reply(joining)
    assert "You joined late: your days count from today, Wed 08 May." in text


# --------------------------------------------------------------------------- edit, end, delete


async def test_edit_checks_the_new_channel_and_replies_with_the_card(
    cog: ChallengesCog, world: Discord, services: Services
) -> None:
    await create(cog, world, preset=choice("streak"))
    locked = text_channel(world.guild, LEADERBOARD, discord.Permissions(view_channel=True))
    with pytest.raises(UserError, match="I need Send Messages, Embed Links, Attach Files"):
        await cog.edit.callback(cog, world.interaction(), challenge="Spring Steps", channel=locked)

    double = world.interaction()
    await cog.edit.callback(
        cog, double, challenge="Spring Steps", name="Long Walk", daily_goal=12_000.0,
        manual_entries=choice("allow"),
    )  # fmt: skip

    text, kwargs = only_reply(double)
    assert text == "Updated **Long Walk**."
    assert kwargs["ephemeral"] is True
    assert "12,000 steps" in embed_text(kwargs["embed"])
    [stored] = await services.challenges.active_challenges()
    assert (stored.name, stored.daily_goal, stored.allow_manual, stored.channel_id) == (
        "Long Walk", 12_000, True, CHANNEL,
    )  # fmt: skip


async def test_end_defers_then_confirms_and_stores_yesterday_as_the_last_day(
    cog: ChallengesCog, world: Discord, services: Services, clock: FakeClock
) -> None:
    await create(cog, world, preset=choice("streak"), time_zone=AUCKLAND, post_time=dt.time(7))
    clock.set(dt.datetime(2024, 5, 9, 13, tzinfo=dt.UTC))  # Friday 10 May in Auckland
    ended: list[int] = []

    async def on_ended(challenge_id: int) -> None:
        ended.append(challenge_id)

    services.events.on("challenge_ended", on_ended)
    double = world.interaction()

    await cog.end.callback(cog, double, challenge="Spring Steps")

    double.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    text, kwargs = only_reply(double)
    assert text == (
        "Ended **Spring Steps**: its last day is Thu 09 May 2024. The results will be posted "
        f"in <#{CHANNEL}>."
    )  # the last day played in full: what the results post covers
    assert kwargs["ephemeral"] is True
    challenge = await services.challenges.get(1)
    assert challenge is not None and challenge.end == dt.date(2024, 5, 9)
    assert ended == [1]


async def test_delete_asks_first_and_only_the_asker_can_confirm(
    cog: ChallengesCog, world: Discord, services: Services, db: Database
) -> None:
    await create(cog, world, preset=choice("streak"))
    double = world.interaction()
    await cog.delete.callback(cog, double, challenge="Spring Steps")
    text, kwargs = only_reply(double)
    assert text.startswith("Delete **Spring Steps** with its 0 player(s)")
    view = kwargs["view"]
    assert isinstance(view, ConfirmDeleteChallenge) and kwargs["ephemeral"] is True

    intruder = world.interaction(ALICE)
    assert await view.interaction_check(intruder) is False
    intruder.response.send_message.assert_awaited_once_with(
        "Only the admin who asked can press this.", ephemeral=True
    )

    cancel_press = world.interaction()
    await view.cancel.callback(cancel_press)
    cancel_press.response.edit_message.assert_awaited_once_with(
        content="Nothing was deleted.", view=None
    )
    assert await stored_challenges(db) == 1

    again = world.interaction()
    await cog.delete.callback(cog, again, challenge="spring steps")
    confirm_view = only_reply(again)[1]["view"]
    press = world.interaction()
    assert await confirm_view.interaction_check(press)
    await confirm_view.confirm.callback(press)
    press.response.edit_message.assert_awaited_once_with(
        content="Deleted “Spring Steps” with its players and scores.", view=None
    )
    assert await stored_challenges(db) == 0


# --------------------------------------------------------------------------- list, info, kick


async def test_list_and_info(
    cog: ChallengesCog, world: Discord, db: Database, cipher: TokenCipher
) -> None:
    await create(cog, world, name="Now", scoring=choice("total"),
                 start_date=dt.date(2024, 5, 5), end_date=dt.date(2024, 5, 9))  # fmt: skip
    await create(cog, world, name="Later", preset=choice("weekend_warrior"))
    await link_account(db, cipher, ALICE, START)
    await cog.join.callback(cog, world.interaction(ALICE), challenge="Now")

    listing = world.interaction(ALICE, manage_guild=False)
    await cog.list_.callback(cog, listing)
    _, kwargs = only_reply(listing)
    text = embed_text(kwargs["embed"])
    assert "Running: **Now** · 05 May to 09 May 2024 · Steps · Total · 1 player" in text
    assert "Upcoming: **Later** · 11 May to 12 May 2024 · Weekend Warrior" in text
    assert "Past: None." in text

    info = world.interaction()
    await cog.info.callback(cog, info, challenge="now")
    _, kwargs = only_reply(info)
    text = embed_text(kwargs["embed"])
    assert "Status: Running: day 1 of 5." in text
    assert "Most steps in total wins." in text
    assert f"Who is in: <@{ALICE}>" in text


async def test_info_tells_a_challenge_that_ran_its_course_from_one_ended_early(
    cog: ChallengesCog, world: Discord, services: Services, clock: FakeClock
) -> None:
    await create(cog, world, name="Full", scoring=choice("total"),
                 start_date=dt.date(2024, 5, 5), end_date=dt.date(2024, 5, 6))  # fmt: skip
    await create(cog, world, name="Cut", scoring=choice("total"),
                 start_date=dt.date(2024, 5, 5), end_date=dt.date(2024, 5, 9))  # fmt: skip
    clock.set(dt.datetime(2024, 5, 8, 12, tzinfo=dt.UTC))
    await services.challenges.finish(1)  # as the daily run does after the results post
    await services.challenges.end(GUILD, "Cut")

    statuses = []
    for name in ("Full", "Cut"):
        info = world.interaction()
        await cog.info.callback(cog, info, challenge=name)
        embed = only_reply(info)[1]["embed"]
        statuses.append(embed.fields[0].value)
    assert statuses == ["Over.", "Ended early."]


async def test_players_browse_challenges_with_a_public_command(
    cog: ChallengesCog, world: Discord, db: Database, cipher: TokenCipher
) -> None:
    await create(cog, world, name="Now", scoring=choice("total"),
                 start_date=dt.date(2024, 5, 5), end_date=dt.date(2024, 5, 9))  # fmt: skip
    command = cog.challenges_public
    assert command.default_permissions is None  # visible to every member
    assert command.guild_only

    listing = world.interaction(ALICE, manage_guild=False)
    await command.callback(cog, listing, challenge=None)
    assert "Running: **Now**" in embed_text(only_reply(listing)[1]["embed"])

    info = world.interaction(ALICE, manage_guild=False)
    await command.callback(cog, info, challenge="now")
    assert "Most steps in total wins." in embed_text(only_reply(info)[1]["embed"])


async def test_kick_removes_the_player(
    cog: ChallengesCog, world: Discord, services: Services, db: Database, cipher: TokenCipher
) -> None:
    await create(cog, world, preset=choice("streak"))
    await link_account(db, cipher, BOB, START)
    await cog.join.callback(cog, world.interaction(BOB), challenge=None)
    double = world.interaction()
    await cog.kick.callback(cog, double, challenge="Spring Steps", member=member(BOB))
    text, _ = only_reply(double)
    assert text.startswith(f"Removed <@{BOB}> from **Spring Steps**")
    assert await services.challenges.participants(1) == []
    with pytest.raises(UserError, match="That member is not in “Spring Steps”"):
        await cog.kick.callback(
            cog, world.interaction(), challenge="Spring Steps", member=member(BOB)
        )


# --------------------------------------------------------------------------- teams


async def test_team_auto_balances_and_shows_the_teams(
    cog: ChallengesCog, world: Discord, services: Services, db: Database, cipher: TokenCipher
) -> None:
    await create(cog, world, preset=choice("streak"))
    for user, average in ((ALICE, 15_000), (BOB, 11_000), (CAROL, 9_000), (DAVE, 4_000)):
        await link_account(db, cipher, user, START)
        await cog.join.callback(cog, world.interaction(user), challenge=None)
        await add_values(
            db, user, Metric.STEPS, dict.fromkeys(days_before(dt.date(2024, 5, 5), 7), average),
            START,
        )  # fmt: skip
    double = world.interaction()

    await cog.team_auto.callback(cog, double, challenge="Spring Steps", teams=2)

    _, kwargs = only_reply(double)
    embed = kwargs["embed"]
    assert [field.name for field in embed.fields] == ["Red", "Blue"]
    assert f"<@{ALICE}> · 15,000 steps/day" in embed.fields[0].value
    teams = {p.discord_id: p.team for p in await services.challenges.participants(1)}
    assert teams == {ALICE: "Red", DAVE: "Red", BOB: "Blue", CAROL: "Blue"}  # 19,000 vs 20,000

    rename = world.interaction()
    await cog.team_rename.callback(cog, rename, challenge="Spring Steps", team="red",
                                   new_name="Sprinters")  # fmt: skip
    assert only_reply(rename)[0].startswith("Renamed the team to **Sprinters**")
    assign = world.interaction()
    await cog.team_assign.callback(cog, assign, challenge="Spring Steps", member=member(CAROL),
                                   team="sprinters")  # fmt: skip
    assert only_reply(assign)[0] == f"<@{CAROL}> is in team **Sprinters** of **Spring Steps**."


async def test_team_auto_with_many_players_fits_in_one_embed(
    cog: ChallengesCog, world: Discord, services: Services, db: Database
) -> None:
    await create(cog, world, preset=choice("streak"))
    players = [950_000_000_000_000_000 + n for n in range(300)]
    await db.execute_many(
        "INSERT INTO users (discord_id, created_at) VALUES (?, ?)",
        [(player, START.isoformat()) for player in players],
    )
    await db.execute_many(
        "INSERT INTO participants (challenge_id, discord_id, joined_on, joined_at) "
        "VALUES (1, ?, '2024-05-06', ?)",
        [(player, START.isoformat()) for player in players],
    )
    double = world.interaction()

    await cog.team_auto.callback(cog, double, challenge="Spring Steps", teams=10)

    embed = only_reply(double)[1]["embed"]
    assert len(embed.fields) == 10
    assert len(embed) <= 6000  # Discord refuses a larger embed, after the teams were saved
    assert all(field.value.endswith(" more") for field in embed.fields)
    teams = {p.team for p in await services.challenges.participants(1)}
    assert len(teams) == 10


# --------------------------------------------------------------------------- /challenge review


async def test_review_walks_through_flags_with_exclude_and_accept(
    cog: ChallengesCog, world: Discord, services: Services, db: Database, cipher: TokenCipher
) -> None:
    await create(cog, world, preset=choice("streak"), post_time=dt.time(7))
    for user in (ALICE, BOB):
        await link_account(db, cipher, user, START)
        await cog.join.callback(cog, world.interaction(user), challenge=None)
    day = dt.date(2024, 5, 7)
    flags = await services.challenges.review_new_values(
        1, [(ALICE, "steps", day, 150_000.0), (BOB, "steps", day, 120_000.0)]
    )
    assert len(flags) == 2
    double = world.interaction()

    await cog.review.callback(cog, double, challenge="Spring Steps")

    text, kwargs = only_reply(double)
    assert text.startswith(f"Flag 1 of 2: <@{ALICE}> on Tue 07 May 2024: 150,000 steps.")
    assert "above the ceiling of 100,000 steps a day" in text
    view = kwargs["view"]
    assert isinstance(view, ReviewView)
    first = world.interaction()
    await view.exclude.callback(first)
    assert first.response.edit_message.await_args.kwargs["content"].startswith("Flag 2 of 2")
    second = world.interaction()
    await view.accept.callback(second)
    second.response.edit_message.assert_awaited_once_with(
        content="All flags are reviewed.", view=None
    )
    assert await services.challenges.excluded_days(1) == {(ALICE, day)}
    decided = await db.fetch_all("SELECT discord_id, status, reviewed_by FROM value_reviews")
    assert {(r["discord_id"], r["status"], r["reviewed_by"]) for r in decided} == {
        (ALICE, ReviewStatus.EXCLUDED.value, ADMIN), (BOB, ReviewStatus.ACCEPTED.value, ADMIN),
    }  # fmt: skip

    nothing = world.interaction()
    await cog.review.callback(cog, nothing, challenge="Spring Steps")
    assert only_reply(nothing)[0] == "No values of **Spring Steps** are waiting for review."


async def test_review_of_a_challenge_deleted_meanwhile_says_so(
    cog: ChallengesCog, world: Discord, services: Services, db: Database, cipher: TokenCipher
) -> None:
    await create(cog, world, preset=choice("streak"), post_time=dt.time(7))
    await link_account(db, cipher, ALICE, START)
    await services.challenges.join(GUILD, None, ALICE, None)
    await services.challenges.review_new_values(
        1, [(ALICE, "steps", dt.date(2024, 5, 7), 150_000.0)]
    )
    double = world.interaction()
    await cog.review.callback(cog, double, challenge="Spring Steps")
    view = only_reply(double)[1]["view"]
    await services.challenges.delete(GUILD, 1)

    press = world.interaction()
    await view.exclude.callback(press)

    press.response.edit_message.assert_awaited_once_with(
        content="That flag no longer exists.", view=None
    )


# --------------------------------------------------------------------------- /settings


async def test_settings_show_and_change(
    settings_cog: SettingsCog, world: Discord, services: Services
) -> None:
    show = world.interaction()
    await settings_cog.settings.callback(settings_cog, show)
    _, kwargs = only_reply(show)
    assert "Time zone: UTC" in embed_text(kwargs["embed"])

    change = world.interaction()
    leaderboard = text_channel(world.guild, LEADERBOARD)
    await settings_cog.settings.callback(
        settings_cog, change, time_zone="america/los_angeles", post_time=dt.time(20, 15),
        leaderboard_channel=leaderboard, admin_role=role(ADMIN_ROLE),
    )  # fmt: skip
    text, kwargs = only_reply(change)
    assert text == "Saved." and kwargs["ephemeral"] is True
    stored = await services.challenges.guild_settings(GUILD)
    assert (stored.time_zone, stored.post_time) == (LOS_ANGELES, dt.time(20, 15))
    assert (stored.leaderboard_channel_id, stored.admin_role_id) == (LEADERBOARD, ADMIN_ROLE)


async def test_only_manage_server_changes_the_admin_role(
    settings_cog: SettingsCog, world: Discord, services: Services
) -> None:
    await services.challenges.update_guild_settings(GUILD, admin_role_id=ADMIN_ROLE)
    role_holder = world.interaction(ALICE, manage_guild=False, roles=(ADMIN_ROLE,))
    assert await run_checks(settings_cog.settings, role_holder)
    with pytest.raises(UserError, match="Only members with the Manage Server permission can"):
        await settings_cog.settings.callback(settings_cog, role_holder, clear_admin_role=True)
    with pytest.raises(UserError, match="@everyone cannot be the admin role"):
        await settings_cog.settings.callback(
            settings_cog, world.interaction(), admin_role=role(GUILD, default=True)
        )
    assert (await services.challenges.guild_settings(GUILD)).admin_role_id == ADMIN_ROLE


async def test_settings_check_the_leaderboard_channel(
    settings_cog: SettingsCog, world: Discord, services: Services
) -> None:
    no_files = text_channel(
        world.guild, LEADERBOARD,
        discord.Permissions(view_channel=True, send_messages=True, embed_links=True),
    )  # fmt: skip
    with pytest.raises(UserError, match="I need Attach Files there"):
        await settings_cog.settings.callback(
            settings_cog, world.interaction(), leaderboard_channel=no_files
        )
    assert (await services.challenges.guild_settings(GUILD)).leaderboard_channel_id is None
