"""Group commit: many callers' small writes made as one, each caller waiting for its own.

A storm of provider notifications is thousands of one-row writes, and the sync workers
finish fetches one by one. Written one transaction each, they would queue on the database
connection in front of every interaction's reads. `GroupCommit.submit` adds an item to the
next batch and returns once that batch is committed (durable: a caller is answered only
after its write); while one batch is being written the next one gathers. No timer: an item
arriving when nothing is being written goes at once, unless the batcher is told to `linger`
(work that is not waited for, such as what follows a stored fetch, gathers a while first,
so a storm makes a few big batches and leaves the database to what is waited for).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

Write = Callable[[Sequence[T]], Awaitable[Sequence[R]]]


class GroupCommit(Generic[T, R]):
    """Batches items for `write`, which returns one result per item, in order; one write at a
    time. A failing write fails every caller of its batch."""

    def __init__(
        self, write: Write[T, R], *, name: str, max_batch: int = 2000, linger: float = 0.0
    ) -> None:
        self._write = write
        self._name = name
        self._max_batch = max_batch
        self._linger = linger
        self._hurry = asyncio.Event()  # set by `flush`: no more lingering
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Write `item` with the next batch; its result once that batch is committed. A
        caller that stops waiting (cancelled) does not take its item out of the batch."""
        return await self.add(item)

    def add(self, item: T) -> asyncio.Future[R]:
        """Add `item` to the next batch without waiting; the future holds its result."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name=f"group-commit-{self._name}")
        return future

    async def _drain(self) -> None:
        while self._pending:
            if self._linger > 0:
                with contextlib.suppress(TimeoutError):  # let more items gather
                    async with asyncio.timeout(self._linger):
                        await self._hurry.wait()
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                results = await self._write([item for item, _ in batch])
            except Exception as exc:
                log.warning("%s: a batch of %d failed: %s", self._name, len(batch), exc)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def flush(self) -> None:
        """Write everything submitted so far at once, and wait for it (shutdown: from now on
        nothing lingers)."""
        self._hurry.set()
        while self._writer is not None and not self._writer.done():
            await asyncio.gather(self._writer, return_exceptions=True)
