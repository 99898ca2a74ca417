"""Scenario: a two-week challenge gets its weekly recap once a week, on Monday after the
daily post, from the real app against the Discord stand-in; an admin's `/challenge recap`
answers ephemerally; firing the jobs again posts no second recap. On the way an admin corrects
a player's day with `/challenge adjust`: the player gets a DM, the next post says so."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.e2e.conftest import MANAGE_GUILD, Stride
from tests.standins.discord.entities import StoredMessage, User

pytestmark = pytest.mark.e2e

MONDAY = dt.date(2026, 11, 23)  # the harness clock starts on it, at 08:00 UTC
NAME = "Fortnight"


def post_time(day: dt.date) -> dt.datetime:
    """Five past the post time (09:00 UTC) on `day`."""
    return dt.datetime.combine(day, dt.time(9, 5), tzinfo=dt.UTC)


def recap_posts(stride: Stride) -> list[StoredMessage]:
    return [
        message
        for message in stride.channel_posts()
        if any("-recap-" in a.filename for a in message.attachments)
    ]


async def test_the_weekly_recap_appears_once_a_week(stride: Stride) -> None:
    await stride.create_challenge(
        NAME, scoring="total", start_date="2026-11-23", end_date="2026-12-06"
    )
    members = {}
    for name in ("Alice", "Bob"):
        members[name] = member = await stride.member(name)
        await stride.link(member, "sandbox")
        await stride.join(member, NAME)
    answer = await stride.discord.slash(
        user=stride.admin,
        guild=stride.guild,
        channel=stride.channel,
        name="challenge recap",
        options={"challenge": NAME},
        permissions=MANAGE_GUILD,
    )
    reply = await answer.wait_message()
    assert reply.ephemeral and "the weekly recap is posted on Mondays" in reply.content

    recap_days = []
    for offset in range(1, 16):  # Tue 24 Nov to Tue 8 Dec
        day = MONDAY + dt.timedelta(days=offset)
        report = await stride.run_at(post_time(day))
        if report.recaps:
            recap_days.append(day)
            again = await stride.rerun_daily_jobs()
            assert again.recaps == {}
        if day == dt.date(2026, 11, 25):
            await _alice_corrected(stride, members["Alice"])
        if day == dt.date(2026, 11, 26):  # the next post says so
            [embed] = stride.channel_posts()[-1].embeds
            assert "† corrected by an admin: Alice, Tue 24 Nov: " in embed["footer"]["text"]
            assert "→ 20,000 steps" in embed["footer"]["text"]

    assert recap_days == [dt.date(2026, 11, 30), dt.date(2026, 12, 7)]
    recaps = recap_posts(stride)
    assert len(recaps) == 2  # once a week, never twice
    posts = stride.channel_posts()
    for recap, monday in zip(recaps, recap_days, strict=True):
        assert recap.attachments[0].filename == f"stride-1-recap-{monday.isoformat()}.png"
        # Right after that Monday's daily post (about Sunday).
        before = posts[posts.index(recap) - 1]
        sunday = monday - dt.timedelta(days=1)
        assert [a.filename for a in before.attachments] == [f"stride-1-{sunday.isoformat()}.png"]
        [embed] = recap.embeds
        assert str(embed["title"]).startswith(f"📅 {NAME} — week of Mon ")
        assert {field["name"] for field in embed["fields"]} >= {"Biggest climbers"}
        assert recap.attachments[0].data.startswith(b"\x89PNG")


async def _alice_corrected(stride: Stride, alice: User) -> None:
    """The admin sets Alice's Tuesday to 20,000 steps; she hears about it by DM."""
    record = await stride.discord.slash(
        user=stride.admin,
        guild=stride.guild,
        channel=stride.channel,
        name="challenge adjust",
        options={
            "challenge": NAME,
            "member": alice.id,
            "day": "2026-11-24",
            "value": "20000",
            "reason": "watch lost a sync",
        },
        permissions=MANAGE_GUILD,
    )
    reply = await record.wait_message()
    assert reply.ephemeral and reply.content.startswith(f"Corrected <@{alice.id}>'s Tue 24 Nov")
    dm = await stride.discord.wait_for_dm(alice, lambda m: "An admin corrected" in m.content)
    assert "Reason: watch lost a sync" in dm.content
