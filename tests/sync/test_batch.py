"""Group commit: writes that arrive while one is in progress go together in the next; each
caller gets its own result once its batch is written; a failed batch fails only its callers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from bot.sync.batch import GroupCommit


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.writing = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()
        self.fail_next = False

    async def write(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        self.writing.set()
        await self.release.wait()
        if self.fail_next:
            self.fail_next = False
            raise OSError("disk full")
        return [item * 10 for item in items]


async def test_items_arriving_during_a_write_go_together_in_the_next() -> None:
    recorder = Recorder()
    recorder.release.clear()
    commit = GroupCommit(recorder.write, name="test")
    first = commit.add(1)
    await recorder.writing.wait()  # the first write is in progress
    rest = [commit.add(n) for n in range(2, 7)]
    recorder.release.set()

    results = await asyncio.gather(first, *rest)

    assert results == [10, 20, 30, 40, 50, 60]
    assert recorder.batches == [[1], [2, 3, 4, 5, 6]]


async def test_a_failed_write_fails_its_callers_only() -> None:
    recorder = Recorder()
    commit = GroupCommit(recorder.write, name="test")
    recorder.fail_next = True
    with pytest.raises(OSError, match="disk full"):
        await commit.submit(1)
    assert await commit.submit(2) == 20


async def test_a_caller_that_stops_waiting_still_has_its_item_written() -> None:
    recorder = Recorder()
    recorder.release.clear()
    commit = GroupCommit(recorder.write, name="test")
    impatient = commit.add(7)
    await recorder.writing.wait()
    impatient.cancel()
    recorder.release.set()
    await commit.flush()
    assert recorder.batches == [[7]]


async def let_ready_tasks_run() -> None:
    """Let every ready task run (the batcher's, which then lingers): a yield, not a wait."""
    for _ in range(3):
        await asyncio.sleep(0)


async def test_a_lingering_batcher_gathers_until_flushed() -> None:
    recorder = Recorder()
    commit = GroupCommit(recorder.write, name="test", linger=3600)
    results = [commit.add(n) for n in (1, 2)]
    await let_ready_tasks_run()
    assert recorder.batches == []  # still gathering
    commit.add(3)

    await commit.flush()

    assert recorder.batches == [[1, 2, 3]]
    assert [await result for result in results] == [10, 20]
