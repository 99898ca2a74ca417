"""Issue 12: live standings. A member's watch syncs mid-afternoon, the provider notifies Stride's
webhook, and within seconds /leaderboard shows the new value and rank, with no daily post in
between.

Withings is the provider with the push: with `WITHINGS__NOTIFY_ENABLED` Stride subscribes each
account itself when it is linked, so the stand-in calls Stride's real webhook URL when the
member's watch syncs (`sync_watch`). Bob is on Google Fit, which has no push.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest
from pydantic import SecretStr

from bot.domain import Metric
from bot.storage.runs import RunKind
from tests.e2e.conftest import Stride
from tests.standins.discord.entities import StoredMessage, User

pytestmark = pytest.mark.e2e

MONDAY = dt.date(2026, 11, 23)  # the harness clock starts on it, at 08:00 UTC
TUESDAY = MONDAY + dt.timedelta(days=1)
NAME = "Hustle"
NOTIFY_SECRET = "live-standings-secret-0123456789abcdef"
# Monday's totals, posted on Tuesday at 09:00: Bob leads. On Tuesday afternoon Alice's watch
# syncs 9,000 steps, which takes her past him.
ALICE_MONDAY, BOB_MONDAY, ALICE_TUESDAY = 4_000, 9_000, 9_000
MID_AFTERNOON = dt.datetime.combine(TUESDAY, dt.time(14, 30), tzinfo=dt.UTC)
# The live row: "`1.` Alice · 9,000 steps · **13,000 steps** ▲1 · synced 14:30".
_LIVE_ROW = re.compile(r"^`(?P<rank>\d+)\.` (?P<name>[^·]+?) · .*\*\*(?P<total>[\d,]+) steps\*\*")


async def enable_withings_push(stride: Stride) -> None:
    """Start Stride again with Withings notifications on (the harness starts without them)."""
    withings = stride.settings.withings.model_copy(
        update={"notify_enabled": True, "notify_secret": SecretStr(NOTIFY_SECRET)}
    )
    stride.settings = stride.settings.model_copy(update={"withings": withings})
    await stride.restart()


async def linked_member(stride: Stride, name: str, provider: str, monday_steps: int) -> str:
    """A member who links `provider` and joins the challenge; their provider user id."""
    member = await stride.member(name)
    standin = stride.providers.by_name[provider]
    provider_user = standin.add_user()
    standin.set_daily(provider_user, MONDAY, Metric.STEPS, monday_steps)
    await stride.link(member, provider, provider_user)
    answer = await stride.join(member, NAME)
    assert "count from the start" in answer.text
    return provider_user


async def leaderboard(stride: Stride, user: User) -> StoredMessage:
    """`/leaderboard` as `user` in the challenge channel; the (ephemeral) answer."""
    record = await stride.discord.slash(
        user=user, guild=stride.guild, channel=stride.channel, name="leaderboard"
    )
    return await record.wait_message()


def standings(answer: StoredMessage) -> dict[str, tuple[int, int]]:
    """Each player's (rank, total) in a /leaderboard answer."""
    assert len(answer.embeds) == 1, answer.text
    description = str(answer.embeds[0].get("description") or "")
    rows = [match for line in description.splitlines() if (match := _LIVE_ROW.match(line))]
    return {row["name"]: (int(row["rank"]), int(row["total"].replace(",", ""))) for row in rows}


async def test_a_watch_synced_mid_afternoon_moves_the_live_leaderboard_at_once(
    stride: Stride,
) -> None:
    await enable_withings_push(stride)
    await stride.create_challenge(NAME, preset="workweek_hustle", daily_goal="10000")
    alice = await linked_member(stride, "Alice", "withings", ALICE_MONDAY)
    await linked_member(stride, "Bob", "google_fit", BOB_MONDAY)
    withings = stride.providers.withings
    assert withings.subscriptions_of(alice) == {16, 44}  # subscribed on link

    # Monday is posted on Tuesday morning; then nothing is due until Wednesday's post.
    posted = await stride.run_at(dt.datetime.combine(TUESDAY, dt.time(9, 5), tzinfo=dt.UTC))
    assert list(posted.post_kinds.values()) == [RunKind.DAILY], posted
    quiet = await stride.run_at(MID_AFTERNOON)
    assert quiet.posts == {}
    before = standings(await leaderboard(stride, stride.admin))
    assert before == {"Bob": (1, BOB_MONDAY), "Alice": (2, ALICE_MONDAY)}
    posts_before = [message.id for message in stride.channel_posts()]

    # Alice's watch syncs: Withings notifies Stride, and the sync queue fetches her once the
    # notification has settled (300 ms on the app's clock, which the test moves).
    account = await stride.services.db.fetch_one(
        "SELECT id FROM linked_accounts WHERE provider = 'withings' AND provider_user_id = ?",
        (alice,),
    )
    assert account is not None
    fetched = stride.services.sync.watch(int(account["id"]))
    withings.reset_counts()
    deliveries = await withings.sync_watch(alice, TUESDAY, ALICE_TUESDAY)
    assert [(d.method, d.status) for d in deliveries] == [("POST", 200)]
    stride.clock.advance(dt.timedelta(seconds=1))
    await asyncio.wait_for(fetched, timeout=5)

    after = standings(await leaderboard(stride, stride.admin))
    assert after == {"Alice": (1, ALICE_MONDAY + ALICE_TUESDAY), "Bob": (2, BOB_MONDAY)}
    assert [message.id for message in stride.channel_posts()] == posts_before  # no post between
    data_requests = [
        request
        for request in withings.request_log
        if request.user_id == alice and withings.is_data_endpoint(request.endpoint)
    ]
    assert len(data_requests) == 1, data_requests
