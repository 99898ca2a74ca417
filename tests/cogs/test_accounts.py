"""`/link`, `/unlink`, `/accounts` and `/privacy` called as Discord would call them.

Interactions are the `spec_set` doubles of `tests.doubles.interaction`, so a call the real
classes do not have fails the test. The services behind the cog are the real
ones (`Services`), over a fake provider and a recording messenger.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import replace
from unittest.mock import MagicMock, create_autospec

import discord
import pytest

from bot.clock import FakeClock
from bot.crypto import TokenCipher
from bot.discord_bot import StrideBot, link_view
from bot.domain import AccountStatus, Metric
from bot.errors import UserError
from bot.providers.base import ScopeNeed, TokenSet
from bot.services import Services, build_services
from bot.settings import Settings
from bot.storage import Database
from bot.storage.accounts import AccountsRepo, UsersRepo
from cogs.accounts import AccountsCog, ConfirmDeleteView
from tests.doubles.interaction import interaction, only_reply
from tests.doubles.messenger import RecordingTransport
from tests.doubles.provider import FakeProvider
from tests.linking.wiring import BASE_URL, START, dm_only_discord, fake_fit
from tests.providers.helpers import query_of

ALICE = 333_333_333_333_333_333
MALLORY = 444_444_444_444_444_444
GUILD = 555_555_555_555_555_555


@pytest.fixture
def messenger() -> RecordingTransport:
    return dm_only_discord()


@pytest.fixture
def provider() -> FakeProvider:
    return fake_fit(FakeClock(START))


@pytest.fixture
def services(
    db: Database,
    cipher: TokenCipher,
    make_settings: Callable[..., Settings],
    messenger: RecordingTransport,
    provider: FakeProvider,
) -> Services:
    built = build_services(
        make_settings(public_base_url=BASE_URL),
        db,
        MagicMock(),  # never used: the fake provider speaks no HTTP
        provider.clock,
        providers={"fakefit": provider},
        cipher=cipher,
    )
    built.messenger.attach(messenger)
    return built


@pytest.fixture
def cog(services: Services) -> AccountsCog:
    bot = create_autospec(StrideBot, instance=True)
    bot.services = services
    return AccountsCog(bot)


async def link_account(services: Services, user: int, provider_user_id: str) -> int:
    now = services.clock.now()
    await UsersRepo(services.db).ensure(user, now)
    tokens = TokenSet("access-secret", "refresh-secret", now + dt.timedelta(hours=1))
    account = await AccountsRepo(services.db, services.cipher).save_link(
        user, "fakefit", provider_user_id, tokens, now
    )
    return account.id


# --------------------------------------------------------------------------- /link


async def test_link_defers_then_dms_the_link_and_says_so(
    cog: AccountsCog, messenger: RecordingTransport
) -> None:
    double = interaction(ALICE, guild_id=GUILD)

    await cog.link.callback(cog, double, provider="fakefit")

    double.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    text, kwargs = only_reply(double)
    assert kwargs["ephemeral"] is True
    assert "I sent you a DM" in text
    assert "view" not in kwargs  # the link itself went by DM only
    [dm] = messenger.to(ALICE)
    assert dm.embed is not None and "Fake Fit" in dm.embed.title
    [button] = dm.buttons
    assert button.url.startswith(f"{BASE_URL}/oauth/fakefit/start?state=")


async def test_link_with_closed_dms_puts_the_button_in_the_ephemeral_reply(
    cog: AccountsCog, messenger: RecordingTransport, services: Services
) -> None:
    messenger.dms_open = False
    double = interaction(ALICE, guild_id=GUILD)

    await cog.link.callback(cog, double, provider="fakefit")

    text, kwargs = only_reply(double)
    assert kwargs["ephemeral"] is True
    assert "could not DM you" in text
    [button] = kwargs["view"].children
    assert isinstance(button, discord.ui.Button)
    assert button.url is not None and button.url.startswith(f"{BASE_URL}/oauth/fakefit/start?")
    assert isinstance(kwargs["embed"], discord.Embed)
    row = await services.db.fetch_one("SELECT discord_id, provider FROM oauth_states")
    assert row is not None and (row["discord_id"], row["provider"]) == (ALICE, "fakefit")


async def test_link_with_typed_free_text_is_a_user_error_before_anything_else(
    cog: AccountsCog, services: Services
) -> None:
    double = interaction(ALICE, guild_id=GUILD)
    with pytest.raises(UserError, match="Fake Fit"):
        await cog.link.callback(cog, double, provider="strava")
    double.response.defer.assert_not_awaited()
    assert await services.db.fetch_value("SELECT COUNT(*) FROM oauth_states") == 0


async def test_link_autocomplete_offers_enabled_providers_by_display_name(
    cog: AccountsCog,
) -> None:
    choices = await cog._link_provider(interaction(ALICE, guild_id=GUILD), "fake")
    assert [(c.name, c.value) for c in choices] == [("Fake Fit", "fakefit")]
    assert await cog._link_provider(interaction(ALICE, guild_id=GUILD), "withings") == []


# --------------------------------------------------------------------------- /unlink, /accounts


async def test_unlink_revokes_deletes_and_confirms(
    cog: AccountsCog, services: Services, provider: FakeProvider
) -> None:
    await link_account(services, ALICE, "u-12345678")
    assert [
        c.value for c in await cog._unlink_provider(interaction(ALICE, guild_id=GUILD), "")
    ] == ["fakefit"]
    double = interaction(ALICE, guild_id=GUILD)

    await cog.unlink.callback(cog, double, provider="fakefit")

    double.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    text, kwargs = only_reply(double)
    assert kwargs["ephemeral"] is True
    assert "Unlinked Fake Fit" in text and "revoked" in text
    assert [t.refresh_token for t in provider.revocations] == ["refresh-secret"]
    assert await AccountsRepo(services.db, services.cipher).get(ALICE, "fakefit") is None


async def test_unlink_of_nothing_linked_is_a_user_error(cog: AccountsCog) -> None:
    with pytest.raises(UserError, match="no Fake Fit account linked"):
        await cog.unlink.callback(cog, interaction(ALICE, guild_id=GUILD), provider="fakefit")


async def test_accounts_lists_status_and_masks_the_provider_user_id(
    cog: AccountsCog, services: Services
) -> None:
    account_id = await link_account(services, ALICE, "fitbit-user-98765432")
    accounts = AccountsRepo(services.db, services.cipher)
    await accounts.set_status(account_id, AccountStatus.NEEDS_RELINK, services.clock.now())
    double = interaction(ALICE, guild_id=GUILD)

    await cog.accounts.callback(cog, double)

    _, kwargs = only_reply(double)
    assert kwargs["ephemeral"] is True
    embed: discord.Embed = kwargs["embed"]
    [field] = embed.fields
    assert field.name == "Fake Fit"
    assert field.value is not None
    assert "••••5432" in field.value
    assert "98765432" not in field.value and "fitbit-user" not in field.value
    assert "needs re-link" in field.value and "never" in field.value


async def test_accounts_with_nothing_linked_points_to_link(cog: AccountsCog) -> None:
    double = interaction(ALICE)
    await cog.accounts.callback(cog, double)
    _, kwargs = only_reply(double)
    assert "/link" in (kwargs["embed"].description or "")


async def test_accounts_shows_missing_access_and_a_lapsed_membership(
    cog: AccountsCog, services: Services, provider: FakeProvider
) -> None:
    sleep = ScopeNeed("fake.sleep", "See your sleep", frozenset({Metric.SLEEP_MINUTES}))
    steps = ScopeNeed("fake.steps", "See your steps", frozenset({Metric.STEPS}))
    provider.info = replace(
        provider.info,
        metrics=frozenset({Metric.STEPS, Metric.SLEEP_MINUTES}),
        scope_needs=(steps, sleep),
    )
    now = services.clock.now()
    await UsersRepo(services.db).ensure(ALICE, now)
    tokens = TokenSet("a", "r", now + dt.timedelta(hours=1), scopes=("fake.steps",))
    accounts = AccountsRepo(services.db, services.cipher)
    account = await accounts.save_link(ALICE, "fakefit", "fake-user-1234", tokens, now)
    await accounts.mark_membership_lapsed(account.id, now)
    double = interaction(ALICE)

    await cog.accounts.callback(cog, double)

    _, kwargs = only_reply(double)
    [field] = kwargs["embed"].fields
    assert "Membership lapsed" in field.value and "link is kept" in field.value
    assert "sleep minutes" in field.value and "tick “See your sleep”" in field.value
    assert "steps" not in field.value.split("Stride cannot read your")[1].split(" from ")[0]


# --------------------------------------------------------------------------- /privacy


async def _rows_about(db: Database, user: int) -> list[str]:
    hits = []
    for table in await db.fetch_all(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ):
        for row in await db.fetch_all(f'SELECT * FROM "{table["name"]}"'):
            if any(cell == user or (isinstance(cell, str) and str(user) in cell) for cell in row):
                hits.append(table["name"])
    return hits


async def test_privacy_delete_after_confirm_leaves_no_row_about_the_user(
    cog: AccountsCog, services: Services, provider: FakeProvider
) -> None:
    await link_account(services, ALICE, "u-1")
    await services.linking.start_link(ALICE, "fakefit")
    await services.db.execute(
        "INSERT INTO daily_values VALUES (?, 'fakefit', 'steps', '2026-11-19', 0, 9000, ?)",
        (ALICE, "2026-11-20T00:00:00+00:00"),
    )
    await link_account(services, MALLORY, "u-2")
    deleted: list[int] = []

    async def on_deleted(discord_id: int) -> None:
        deleted.append(discord_id)

    services.events.on("user_deleted", on_deleted)
    ask = interaction(ALICE, guild_id=GUILD)

    await cog.privacy_delete.callback(cog, ask)

    text, kwargs = only_reply(ask)
    assert kwargs["ephemeral"] is True and "cannot be undone" in text
    view: ConfirmDeleteView = kwargs["view"]
    assert await _rows_about(services.db, ALICE)  # nothing deleted before the confirm

    stranger = interaction(MALLORY, guild_id=GUILD)
    assert await view.interaction_check(stranger) is False
    press = interaction(ALICE, guild_id=GUILD)
    assert await view.interaction_check(press) is True
    await view.confirm.callback(press)

    assert await _rows_about(services.db, ALICE) == []
    assert deleted == [ALICE]
    assert len(provider.revocations) == 1
    press.response.edit_message.assert_awaited_once()
    final = press.edit_original_response.await_args.kwargs["content"]
    assert "deleted" in final and "revoked at Fake Fit" in final
    assert await _rows_about(services.db, MALLORY)  # others keep their data


async def test_privacy_delete_cancel_deletes_nothing(cog: AccountsCog, services: Services) -> None:
    await link_account(services, ALICE, "u-1")
    ask = interaction(ALICE, guild_id=GUILD)
    await cog.privacy_delete.callback(cog, ask)
    view: ConfirmDeleteView = only_reply(ask)[1]["view"]
    press = interaction(ALICE, guild_id=GUILD)

    await view.cancel.callback(press)

    press.response.edit_message.assert_awaited_once_with(content="Nothing was deleted.", view=None)
    assert await AccountsRepo(services.db, services.cipher).get(ALICE, "fakefit") is not None


async def test_privacy_export_dms_a_json_file_without_tokens(
    cog: AccountsCog, services: Services, messenger: RecordingTransport
) -> None:
    await link_account(services, ALICE, "u-1")
    double = interaction(ALICE, guild_id=GUILD)

    await cog.privacy_export.callback(cog, double)

    text, kwargs = only_reply(double)
    assert kwargs["ephemeral"] is True and "DM" in text
    [dm] = messenger.to(ALICE)
    [file] = dm.files
    assert file.filename.endswith(".json")
    body = file.data.decode()
    assert "access-secret" not in body and "refresh-secret" not in body
    assert json.loads(body)["tables"]["linked_accounts"][0]["provider_user_id"] == "u-1"


async def test_privacy_export_with_closed_dms_attaches_the_file_ephemerally(
    cog: AccountsCog, services: Services, messenger: RecordingTransport
) -> None:
    messenger.dms_open = False
    await link_account(services, ALICE, "u-1")
    double = interaction(ALICE, guild_id=GUILD)

    await cog.privacy_export.callback(cog, double)

    _, kwargs = only_reply(double)
    assert kwargs["ephemeral"] is True
    assert isinstance(kwargs["file"], discord.File)


@pytest.mark.parametrize(("state", "opt_out"), [("off", True), ("on", False)])
async def test_privacy_publish_sets_the_opt_out(
    cog: AccountsCog, services: Services, state: str, opt_out: bool
) -> None:
    double = interaction(ALICE)
    await cog.privacy_publish.callback(cog, double, state=state)
    _, kwargs = only_reply(double)
    assert kwargs["ephemeral"] is True
    assert await UsersRepo(services.db).publish_opt_out(ALICE) is opt_out


# --------------------------------------------------------------------------- registration


def test_accounts_and_privacy_work_in_dms_link_and_unlink_only_in_servers(
    cog: AccountsCog,
) -> None:
    commands = {command.name: command for command in cog.get_app_commands()}
    assert set(commands) == {"link", "unlink", "accounts", "privacy"}
    for name in ("accounts", "privacy"):
        contexts = commands[name].allowed_contexts
        assert contexts is not None and contexts.guild and contexts.dm_channel, name
    for name in ("link", "unlink"):
        assert commands[name].guild_only, name
    privacy = commands["privacy"]
    assert isinstance(privacy, discord.app_commands.Group)
    assert {c.name for c in privacy.commands} == {
        "export", "delete", "publish", "nickname", "hide",
    }  # fmt: skip


async def test_extension_loads_into_the_bot_and_serialises_for_sync(services: Services) -> None:
    bot = StrideBot(services)
    try:
        await bot.load_extension("cogs.accounts")
        payloads = {c.name: c.to_dict(bot.tree) for c in bot.tree.get_commands()}
    finally:
        await bot.close()
    link_option = payloads["link"]["options"][0]
    assert link_option["name"] == "provider" and link_option["autocomplete"] is True
    publish = next(o for o in payloads["privacy"]["options"] if o["name"] == "publish")
    assert [c["value"] for c in publish["options"][0]["choices"]] == ["on", "off"]
    assert payloads["accounts"]["contexts"] == [0, 1]  # guild and bot DM


async def test_discord_request_logs_never_show_the_link_state(
    services: Services, messenger: RecordingTransport, caplog: pytest.LogCaptureFixture
) -> None:
    """discord.py logs each request body at DEBUG; a /link reply's body holds the link."""
    caplog.set_level(logging.DEBUG)
    bot = StrideBot(services)
    try:
        await bot.load_extension("cogs.accounts")
        offer = await services.linking.start_link(ALICE, "fakefit")
        view = link_view([offer.button()])
        assert view is not None
        payload = json.dumps({"components": view.to_components(), "flags": 64})
        logging.getLogger("discord.http").debug(
            "%s %s with %s has returned %s", "POST", "https://discord.com/api/v10/x", payload, 200
        )
        logging.getLogger("discord.webhook.async_").debug("Webhook payload %s", payload)
    finally:
        await bot.close()
    state = query_of(offer.url)["state"]
    assert state in payload
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "state=[redacted]" in logged
    assert state not in logged


async def test_privacy_delete_failure_is_reported_with_a_code(
    cog: AccountsCog, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    ask = interaction(ALICE, guild_id=GUILD)
    await cog.privacy_delete.callback(cog, ask)
    view: ConfirmDeleteView = only_reply(ask)[1]["view"]
    press = interaction(ALICE, guild_id=GUILD)
    press.response.is_done.return_value = True  # the button press was acknowledged
    error = RuntimeError("database is locked")

    await view.on_error(press, error, view.confirm)

    text = press.edit_original_response.await_args.kwargs["content"]
    assert "Something went wrong (code " in text
    code = text.split("(code ")[1][:4]
    assert any(code in r.getMessage() and r.exc_info for r in caplog.records)
