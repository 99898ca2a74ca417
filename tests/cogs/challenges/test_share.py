"""`/challenge share`, `/challenge unshare` and `/challenge nudges` as an admin runs them, and
refused for everyone else."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from discord import app_commands

from bot.errors import UserError
from bot.services import Services
from cogs.challenges._admin_cog import ChallengeAdminCog
from tests.challenges.fakes import ADMIN, ALICE
from tests.cogs.challenges.world import Discord, choice, create, run_checks
from tests.doubles.interaction import only_reply


async def _share(cog: ChallengeAdminCog, world: Discord, name: str = "Spring Steps") -> str:
    double = world.interaction()
    await cog.share.callback(cog, double, challenge=name)
    text, options = only_reply(double)
    assert options.get("ephemeral") is True
    return text


def _url(text: str) -> str:
    urls = [word for word in text.split() if word.startswith("http")]
    assert len(urls) == 1, text
    return urls[0]


async def test_share_replies_with_the_link_once(
    cog: ChallengeAdminCog, world: Discord, services: Services
) -> None:
    await create(cog, world, preset=choice("streak"))

    text = await _share(cog, world)

    url = _url(text)
    assert urlsplit(url).path.startswith("/live/")
    assert url.startswith(services.settings.public_base_url)
    assert "only time Stride can show this link" in text
    token = urlsplit(url).path.rsplit("/", 1)[1]
    assert await services.shares.challenge_id_for(token) is not None


async def test_sharing_a_shared_challenge_says_so_and_shows_no_link(
    cog: ChallengeAdminCog, world: Discord, services: Services
) -> None:
    await create(cog, world, preset=choice("streak"))
    first = _url(await _share(cog, world))

    again = await _share(cog, world)

    assert "http" not in again
    assert f"**Spring Steps** is already shared (since Sun 05 May 2024 by <@{ADMIN}>)" in again
    assert "/challenge unshare" in again
    token = urlsplit(first).path.rsplit("/", 1)[1]
    assert await services.shares.challenge_id_for(token) is not None  # still the same link


async def test_unshare_turns_the_link_off_and_share_makes_a_new_one(
    cog: ChallengeAdminCog, world: Discord, services: Services
) -> None:
    await create(cog, world, preset=choice("streak"))
    first = _url(await _share(cog, world))
    double = world.interaction()

    await cog.unshare.callback(cog, double, challenge="spring steps")

    text, options = only_reply(double)
    assert options.get("ephemeral") is True
    assert text.startswith("The live page link of **Spring Steps** is off")
    token = urlsplit(first).path.rsplit("/", 1)[1]
    assert await services.shares.challenge_id_for(token) is None
    second = _url(await _share(cog, world))
    assert second != first


async def test_unshare_without_a_link_says_so(cog: ChallengeAdminCog, world: Discord) -> None:
    await create(cog, world, preset=choice("streak"))
    double = world.interaction()

    await cog.unshare.callback(cog, double, challenge="Spring Steps")

    assert only_reply(double)[0] == "**Spring Steps** has no live page link."


async def test_an_admin_switches_nudges_per_challenge(
    cog: ChallengeAdminCog, world: Discord, services: Services
) -> None:
    await create(cog, world, preset=choice("streak"))
    found = await services.challenges.find(world.guild.id, "Spring Steps")
    assert await services.nudges.challenge_enabled(found.id)

    off = world.interaction()
    await cog.nudges.callback(cog, off, challenge="Spring Steps", state="off")
    assert not await services.nudges.challenge_enabled(found.id)
    assert only_reply(off)[0] == "Nudges are off in **Spring Steps**: nobody gets one about it."

    on = world.interaction()
    await cog.nudges.callback(cog, on, challenge="Spring Steps", state="on")
    assert await services.nudges.challenge_enabled(found.id)
    assert only_reply(on)[0].startswith("Nudges are on in **Spring Steps**")


async def test_only_admins_may_share_unshare_or_switch_nudges(
    cog: ChallengeAdminCog, world: Discord
) -> None:
    double = world.interaction(ALICE, manage_guild=False)
    for name in ("share", "unshare", "nudges"):
        command = cog.challenge.get_command(name)
        assert isinstance(command, app_commands.Command)
        with pytest.raises(app_commands.CheckFailure):
            await run_checks(command, double)


async def test_an_unknown_challenge_is_a_user_error(cog: ChallengeAdminCog, world: Discord) -> None:
    with pytest.raises(UserError):
        await cog.share.callback(cog, world.interaction(), challenge="Nope")
