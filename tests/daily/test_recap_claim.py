"""Weekly recaps under the challenge's post claim (`bot.daily.once.PostClaims`): while another
process holds the challenge (it is posting it), this process posts no recap of it; once the
claim is free, the recap goes out once."""

from __future__ import annotations

import asyncio

import pytest

from bot.daily import DailyRunner
from bot.daily.once import POST_LEASE, post_claim_key
from bot.render.chart import ChartInput
from bot.storage.claims import ClaimsRepo
from tests.daily.test_recap import (
    PNG,
    _fortnight,
    _run_days,
    recap_service,
    recaps_in,
    runner_with,
)
from tests.daily.world import World, day, local


@pytest.fixture
def runner(world: World) -> DailyRunner:
    """The world's daily run, with weekly recaps (this process)."""
    return runner_with(world, recap_service(world, lambda chart: PNG))


async def test_no_recap_while_another_process_holds_the_challenge(
    world: World, runner: DailyRunner
) -> None:
    challenge = await _fortnight(world)
    await _run_days(runner, world, 7)
    # Monday 8 June: the post of Sunday goes out (a run without recaps), then another process
    # claims the challenge before this process's run reaches its recap.
    world.clock.set(local(day(8), 9))
    await world.runner.run_due()
    other = ClaimsRepo(world.db, "another-process")
    key = post_claim_key(challenge.id)
    assert await other.acquire(key, world.clock.now(), POST_LEASE)

    report = await runner.run_due()
    assert report.recaps == {} and recaps_in(world.messenger) == []

    await other.complete(key, world.clock.now())  # its run is over
    report = await runner.run_due()
    [recap] = recaps_in(world.messenger)
    assert report.recaps == {challenge.id: recap.message_id}
    await runner.run_due()
    assert len(recaps_in(world.messenger)) == 1


async def test_a_recap_whose_claim_was_taken_over_while_it_was_drawn_is_not_sent(
    world: World, runner: DailyRunner
) -> None:
    """The lease ran out while the recap was being prepared and another process took the
    challenge: this process does not send (both would), and the recap still comes once."""
    challenge = await _fortnight(world)
    await _run_days(runner, world, 7)
    world.clock.set(local(day(8), 9))
    await world.runner.run_due()  # Sunday's daily post, no recap yet
    other = ClaimsRepo(world.db, "another-process")
    key = post_claim_key(challenge.id)
    loop = asyncio.get_running_loop()

    def slow_chart(chart: ChartInput) -> bytes:  # drawn in a thread, as the real one is
        world.clock.advance(POST_LEASE)
        took = asyncio.run_coroutine_threadsafe(
            other.acquire(key, world.clock.now(), POST_LEASE), loop
        ).result(timeout=10)
        assert took
        return PNG

    taken_over = runner_with(world, recap_service(world, slow_chart))
    report = await taken_over.run_due()
    assert report.recaps == {} and recaps_in(world.messenger) == []

    await other.complete(key, world.clock.now())  # the other process's run ended
    report = await runner.run_due()  # the recorded recap is settled and sent, once
    [recap] = recaps_in(world.messenger)
    assert report.recaps == {challenge.id: recap.message_id}
    await runner.run_due()
    assert len(recaps_in(world.messenger)) == 1
