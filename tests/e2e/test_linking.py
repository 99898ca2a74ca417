"""Scenarios 1 and 2: linking a wearable from Discord, with DMs open and closed."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import LINK_URL, Stride, all_text

pytestmark = pytest.mark.e2e


async def test_link_by_dm_then_accounts_shows_it(stride: Stride) -> None:
    member = await stride.member("Grace")
    gh_user = stride.providers.google_health.add_user()

    record = await stride.discord.slash(
        user=member,
        guild=stride.guild,
        channel=stride.channel,
        name="link",
        options={"provider": "google_health"},
    )
    answer = await record.wait_message()
    assert answer.ephemeral
    assert "DM" in answer.text
    assert record.answered_after is not None and record.answered_after < 3.0

    dm = await stride.discord.wait_for_dm(member, lambda m: bool(LINK_URL.search(all_text(m))))
    url = LINK_URL.search(all_text(dm))
    assert url is not None
    page = await stride.follow_link(url.group(0), provider="google_health", provider_user=gh_user)
    assert "tab" in page.lower()
    await stride.discord.wait_for_dm(member, lambda m: "Linked ✓" in all_text(m))

    accounts = await stride.discord.slash(
        user=member, guild=stride.guild, channel=stride.channel, name="accounts"
    )
    listing = await accounts.wait_message()
    assert listing.ephemeral
    assert "Google Health" in listing.text
    assert "active" in listing.text.lower()
    assert gh_user not in listing.text  # the provider user id is masked


async def test_link_with_closed_dms_delivers_the_button_ephemerally(stride: Stride) -> None:
    member = await stride.member("Linus")
    stride.discord.close_dms(member)

    record = await stride.discord.slash(
        user=member,
        guild=stride.guild,
        channel=stride.channel,
        name="link",
        options={"provider": "sandbox"},
    )
    answer = await record.wait_message()
    assert record.answered_after is not None and record.answered_after < 3.0
    assert answer.ephemeral
    url = LINK_URL.search(all_text(answer))
    assert url is not None, "the ephemeral reply must carry the link button"
    assert "DM" in answer.text  # it says why the link came here
    assert not [m for m in stride.discord.dms_to(member) if LINK_URL.search(all_text(m))]

    await stride.follow_link(url.group(0), provider="sandbox", provider_user=None)
    accounts = await stride.services.linking.accounts(member.id)
    assert [a.provider for a in accounts] == ["sandbox"]
