"""Scenario 5: a member's grant is revoked at the provider mid-week."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.daily.fetch import FetchFailure
from bot.domain import Metric
from bot.storage.runs import RunKind
from tests.e2e.conftest import Stride, all_text
from tests.e2e.posts import EN_DASH, expected_rows, ranks_of, read_post
from tests.standins.discord.entities import StoredMessage, User

pytestmark = pytest.mark.e2e

MONDAY = dt.date(2026, 11, 23)
WEEK = tuple(MONDAY + dt.timedelta(days=offset) for offset in range(5))
MON, TUE, WED, THU, FRI = WEEK
NAME = "Hustle"
RELINK = "please link again"

PROVIDERS = {"Alice": "google_health", "Bob": "withings", "Cleo": "oura"}
STEPS = {
    # Alice keeps walking, but from Tuesday Stride may no longer read it.
    "Alice": (20_000, 25_000, 25_000, 25_000, 25_000),
    "Bob": (9_000, 12_000, 11_000, 10_000, 9_000),
    "Cleo": (8_000, 9_500, 13_000, 9_000, 8_000),
}


def post_time(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(9, 5), tzinfo=dt.UTC)


def relink_dms(stride: Stride, user: User) -> list[StoredMessage]:
    return [m for m in stride.discord.dms_to(user) if RELINK in all_text(m)]


async def test_revoked_member_is_asked_once_to_relink_and_the_rest_play_on(
    stride: Stride,
) -> None:
    await stride.create_challenge(NAME, preset="workweek_hustle")
    members: dict[str, User] = {}
    provider_users: dict[str, str] = {}
    for name, provider in PROVIDERS.items():
        members[name] = await stride.member(name)
        standin = stride.providers.by_name[provider]
        provider_users[name] = standin.add_user()
        for day, value in zip(WEEK, STEPS[name], strict=True):
            standin.set_daily(provider_users[name], day, Metric.STEPS, value)
        await stride.link(members[name], provider, provider_users[name])
        await stride.join(members[name], NAME)
    alice = members["Alice"]
    google = stride.providers.google_health

    report = await stride.run_at(post_time(MON))
    assert not report.fetch_failures
    monday = read_post(stride.channel_posts()[-1], challenge=NAME, year=2026)
    assert monday.row("Alice").total == 20_000

    # Tuesday noon: Alice removes Stride in her Google account. Her refresh token now gets
    # invalid_grant and her access tokens 401; the one Stride holds (1 h) has long expired by
    # the next run, so that run has to try a refresh.
    stride.clock.set(dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC))
    google.revoke_user(provider_users["Alice"])
    google.reset_counts()

    seen: dict[str, int] = ranks_of(monday.rows)
    for day in (TUE, WED, THU):
        report = await stride.run_at(post_time(day))
        assert list(report.post_kinds.values()) == [RunKind.DAILY], report
        post = read_post(stride.channel_posts()[-1], challenge=NAME, year=2026)
        assert post.days == (day,)
        readable = {name: dict(zip(WEEK, steps, strict=True)) for name, steps in STEPS.items()}
        readable["Alice"] = {MON: 20_000}
        assert post.rows == expected_rows(
            readable, start=MONDAY, through=day, provisional={day}, previous=seen
        )
        # Bob and Cleo are scored as usual; Alice keeps her Monday and shows nothing new.
        assert post.row("Bob").day_value == STEPS["Bob"][WEEK.index(day)]
        assert post.row("Cleo").day_value == STEPS["Cleo"][WEEK.index(day)]
        assert post.row("Alice").day_value is None and post.row("Alice").total == 20_000
        assert "Alice · —" in post.message.text  # "no data" for her day, as members see it
        seen = ranks_of(post.rows)
        if day == TUE:
            assert report.fetch_failures == {FetchFailure.REVOKED: 1}
            refreshes = [
                r
                for r in google.request_log
                if r.endpoint == "token" and (r.body or {}).get("grant_type") == "refresh_token"
            ]
            assert len(refreshes) == 1, "one refresh attempt, refused with invalid_grant"
            dm = await stride.discord.wait_for_dm(alice, lambda m: RELINK in all_text(m))
            assert "Google Health" in all_text(dm)
            assert "/link" in all_text(dm)
            google.reset_counts()
        else:
            # Her account waits for a re-link: no more calls with the dead grant, no more DMs.
            assert sum(google.requests.values()) == 0, google.requests
        assert len(relink_dms(stride, alice)) == 1

    # Thursday's post: she fell behind as the others walked on, and is still listed.
    assert post.names == ["Bob", "Cleo", "Alice"]
    assert post.row("Alice").change == EN_DASH
    # Nobody else was told anything.
    assert not relink_dms(stride, members["Bob"]) and not relink_dms(stride, members["Cleo"])

    accounts = await stride.discord.slash(
        user=alice, guild=stride.guild, channel=stride.channel, name="accounts"
    )
    listing = await accounts.wait_message()
    assert "needs re-link" in listing.text
