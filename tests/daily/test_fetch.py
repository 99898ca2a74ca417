"""What the daily run asks the providers for (`bot.daily.fetch.plan_fetches`): a metric the
member's grant does not cover (a scope they unticked on the consent screen) is never asked
for, in the daily run or in the live sync: it would only cost a 403 and a warning a day."""

from __future__ import annotations

from dataclasses import replace

from bot.domain import Metric
from bot.providers.base import ScopeNeed
from bot.storage.accounts import AccountsRepo
from bot.sync.queue import SETTLE
from bot.sync.worker import SyncStatus
from tests.daily.world import World, day, local
from tests.sync.conftest import make_queue

STEPS = ScopeNeed("steps", "See your steps", frozenset({Metric.STEPS}))
SLEEP = ScopeNeed("sleep", "See your sleep", frozenset({Metric.SLEEP_MINUTES}))


async def sleep_challenge_with_a_partial_grant(world: World) -> tuple[str, str]:
    """A sleep challenge: Alice granted steps only (the fake provider's grant), Bob both."""
    world.provider.info = replace(world.provider.info, scope_needs=(STEPS, SLEEP))
    challenge = await world.add_challenge(metric=Metric.SLEEP_MINUTES)
    alice = await world.add_player(challenge, 1, "Alice")
    bob = await world.add_player(challenge, 2, "Bob")
    await world.db.execute(
        "UPDATE linked_accounts SET scopes = ? WHERE discord_id = ?", ("steps sleep", 2)
    )
    for user in (alice, bob):
        for n in (1, 2):
            world.provider.set(user, day(n), 420, metric=Metric.SLEEP_MINUTES)
    return alice, bob


async def test_the_daily_run_does_not_ask_for_a_metric_the_grant_lacks(world: World) -> None:
    alice, bob = await sleep_challenge_with_a_partial_grant(world)

    await world.run_at(local(day(2), 9))

    assert world.provider.calls_for(alice) == []
    assert [call.metrics for call in world.provider.calls_for(bob)] == [(Metric.SLEEP_MINUTES,)]
    account = await AccountsRepo(world.db, world.cipher).get(1, "fake")
    assert account is not None and account.status.value == "active"  # not a failure


async def test_the_live_sync_does_not_ask_for_a_metric_the_grant_lacks(world: World) -> None:
    alice, bob = await sleep_challenge_with_a_partial_grant(world)
    world.clock.set(local(day(2), 15))
    queue = make_queue(world)
    try:
        for user in (alice, bob):
            await queue.request("fake", user, reason="webhook")
        world.clock.advance(SETTLE)
        outcomes = {outcome.account_id: outcome.status for outcome in await queue.run_due()}
    finally:
        await queue.aclose()

    assert world.provider.calls_for(alice) == []
    assert len(world.provider.calls_for(bob)) == 1
    assert sorted(outcomes.values()) == [SyncStatus.NOTHING_TO_FETCH, SyncStatus.SYNCED]
