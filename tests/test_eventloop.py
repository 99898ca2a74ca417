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
