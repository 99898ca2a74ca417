"""Storing fetched values while the fetch goes on (`ValueWriter`).

A run's fetch waits on providers most of the time, and the database then has nothing to do;
storing everything after the last answer made the two take turns. The writer takes each
outcome as it arrives and stores them a batch at a time in the background, one batch after
the other (each in its own transaction, with the accounts it came from marked synced), so the
database writes while the next answers come in. `flush` (or leaving the `async with` block)
stores what is left and waits for it; an error in any write is raised there. Leaving the
block with an error cancels the write in flight: what was stored stays stored (every write is
a whole batch), and the next run fetches what the failed one did not finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Sequence
from types import TracebackType
from typing import Any

from bot.daily.fetch import FetchOutcome

log = logging.getLogger(__name__)

# Outcomes per write: enough that each write is worth a round trip, few enough that the
# first one starts early in the fetch.
WRITE_BATCH = 2_000

Write = Callable[[Sequence[FetchOutcome]], Coroutine[Any, Any, None]]


class ValueWriter:
    """Writes outcomes with `write` in batches of at least `batch`, one write at a time, while
    more are added (`add`, from the fetch's workers)."""

    def __init__(self, write: Write, *, batch: int | None = None) -> None:
        self._write = write
        self._batch = WRITE_BATCH if batch is None else batch
        self._waiting: list[FetchOutcome] = []
        self._writing: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ValueWriter:
        return self

    def add(self, outcome: FetchOutcome) -> None:
        """Take one outcome; starts a write once a batch is waiting and none is running."""
        self._waiting.append(outcome)
        if len(self._waiting) >= self._batch and self._idle():
            self._start()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if error is not None:
            await self._stop(report=True)
            return
        await self.flush()

    async def flush(self) -> None:
        """Write what is left and wait for every write; raises the error of one that failed."""
        try:
            await self._finish()
            if self._waiting:
                self._start()
                await self._finish()
        except BaseException:  # a write failed (raised here), or this task was cancelled
            await self._stop(report=False)
            self._writing = None  # raised once, not logged again on the way out
            raise

    def _idle(self) -> bool:
        """No write running; one that failed stays, so its error is raised at the end."""
        writing = self._writing
        if writing is None:
            return True
        return writing.done() and not writing.cancelled() and writing.exception() is None

    def _start(self) -> None:
        batch, self._waiting = self._waiting, []
        self._writing = asyncio.create_task(self._write(batch))

    async def _finish(self) -> None:
        if self._writing is not None:
            await self._writing

    async def _stop(self, *, report: bool) -> None:
        """Cancel the write in flight; with `report`, log the error of one that failed (while
        another error is being raised)."""
        writing = self._writing
        if writing is None:
            return
        if not writing.done():
            writing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writing
        elif report and not writing.cancelled() and writing.exception() is not None:
            log.warning("storing fetched values failed", exc_info=writing.exception())
