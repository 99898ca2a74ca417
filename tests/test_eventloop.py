"""`bot.eventloop.run`: the commands' coroutine runs to its result, on uvloop on Linux."""

from __future__ import annotations

import asyncio
import sys

import pytest

from bot import eventloop


def test_runs_a_coroutine_to_its_result() -> None:
    async def loop_kind() -> str:
        await asyncio.sleep(0)
        return type(asyncio.get_running_loop()).__module__

    kind = eventloop.run(loop_kind())

    assert kind.startswith("uvloop") if sys.platform == "linux" else kind.startswith("asyncio")


def test_an_exception_propagates() -> None:
    async def fails() -> None:
        raise LookupError("no such thing")

    with pytest.raises(LookupError):
        eventloop.run(fails())


def test_the_collector_is_as_it_was_afterwards() -> None:
    import gc

    before = gc.get_threshold()

    async def nothing() -> None:
        return None

    eventloop.run(nothing())

    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
