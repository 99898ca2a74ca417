"""Delivers the outbox: each sink in turn, oldest day first, with backoff and one admin report.

Guarantees, and the one gap:
- A message is marked delivered in the database right after its sink confirmed it, one at a
  time, and is never attempted again after that. Until then it stays pending, however long
  the sink fails: nothing is skipped, and a restart picks up where the last run stopped.
- So the outbox hands each message to its sink at least once, and again only when the sink
  did not confirm it, or the process stopped between "the sink confirmed" and "the database
  recorded it" (a crash, a kill, or a cancelled run right there). What a consumer then sees
  depends on the sink (`bot.publish.sinks` says what each guarantees): the file sink does not
  append a key the file already holds, so the file has each message exactly once; the others
  carry the message's `idempotency_key` (challenge key, date, sink) in the payload, and the
  HTTP sinks also as the `Idempotency-Key` header, so a consumer can drop a repeat.
- A failing sink stops for this run at its first failure; all its pending messages wait
  `backoff(n)` (n = the sink's consecutive failures, from the injected clock), so a sink that
  is down is tried once per backoff step, not once per message per minute.
- After `report_after` consecutive failures the admins of each guild with waiting messages
  are told once (`FailureReporter`); they hear again only after the sink has recovered and
  failed anew.
- No network I/O happens inside a database transaction.
- Several processes on one database: a sink's outbox is delivered by one process at a time,
  the holder of its leased claim (`outbox:<sink>`, `bot.storage.claims`), renewed before each
  message; the others skip that sink until the holder is done, or its lease ran out (it died).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from bot.clock import Clock
from bot.publish.keys import PublishKeys
from bot.publish.sinks import OutgoingMessage, Sink, SinkError
from bot.storage.publish import OutboxEntry, PublishRepo, SinkState

log = logging.getLogger(__name__)

BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_MAX = dt.timedelta(hours=1)
REPORT_AFTER_FAILURES = 3
# A sink's claim lasts this long past its last renewal (one before every message).
OUTBOX_LEASE = dt.timedelta(minutes=2)

# Tells admins that a sink keeps failing; returns whether anyone could be told.
FailureReporter = Callable[[SinkState], Awaitable[bool]]


def backoff(consecutive_failures: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, 4 min … capped at one hour."""
    exponent = min(max(consecutive_failures - 1, 0), 20)  # 30 s · 2^20 is far past the cap
    delay: dt.timedelta = BACKOFF_BASE * (2**exponent)
    return min(delay, BACKOFF_MAX)


@dataclass
class DeliveryReport:
    delivered: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


class OutboxWorker:
    def __init__(
        self,
        *,
        repo: PublishRepo,
        sinks: Mapping[str, Sink],
        keys: PublishKeys,
        clock: Clock,
        reporter: FailureReporter,
        batch_size: int = 200,
        message_timeout: float = 30.0,
        report_after: int = REPORT_AFTER_FAILURES,
    ) -> None:
        self._repo = repo
        self._sinks = dict(sinks)
        self._keys = keys
        self._clock = clock
        self._reporter = reporter
        self._batch_size = batch_size
        self._message_timeout = message_timeout
        self._report_after = report_after
        self._lock = asyncio.Lock()  # a scheduled run and `run_now` never overlap

    async def run_once(self) -> DeliveryReport:
        report = DeliveryReport()
        async with self._lock:
            for name in sorted(self._sinks):
                await self._deliver_sink(self._sinks[name], report)
        return report

    def _outgoing(self, entry: OutboxEntry) -> OutgoingMessage:
        metric = str(json.loads(entry.payload).get("metric", "unknown"))
        return OutgoingMessage(
            idempotency_key=entry.idempotency_key,
            payload=entry.payload,
            guild_key=self._keys.guild_key(entry.guild_id),
            metric=metric,
        )

    async def _deliver_sink(self, sink: Sink, report: DeliveryReport) -> None:
        claim = f"outbox:{sink.name}"
        if not await self._repo.claims.acquire(claim, self._clock.now(), OUTBOX_LEASE):
            log.debug("publish sink %s: another process is delivering it", sink.name)
            return
        await self._deliver_claimed(sink, claim, report)
        # Not in a `finally`: a process that dies mid-delivery keeps it until the lease ends.
        await self._repo.claims.complete(claim, self._clock.now())

    async def _deliver_claimed(self, sink: Sink, claim: str, report: DeliveryReport) -> None:
        entries = await self._repo.due(sink.name, self._clock.now(), self._batch_size)
        if not entries:
            return
        delivered = 0
        current = entries[0]
        error: str | None = None
        try:
            async with sink.connect() as send:
                for entry in entries:
                    if not await self._repo.claims.renew(claim, self._clock.now(), OUTBOX_LEASE):
                        log.warning("publish sink %s: taken over by another process", sink.name)
                        break
                    current = entry
                    async with asyncio.timeout(self._message_timeout):
                        await send(self._outgoing(entry))
                    # Confirmed: record it before anything else can happen.
                    await self._repo.mark_delivered(entry.id, self._clock.now())
                    delivered += 1
        except SinkError as exc:
            error = str(exc)
        except TimeoutError:
            error = f"no confirmation within {self._message_timeout:g} s"
        except Exception:
            code = secrets.token_hex(2).upper()
            log.exception("publish sink %s failed unexpectedly (code %s)", sink.name, code)
            error = f"unexpected error (code {code})"
        if delivered:
            report.delivered[sink.name] = delivered
            await self._repo.record_sink_success(sink.name, self._clock.now())
        if error is not None:
            report.failed[sink.name] = error
            await self._record_failure(sink.name, current, error)

    async def _record_failure(self, sink: str, entry: OutboxEntry, error: str) -> None:
        now = self._clock.now()
        state = await self._repo.record_sink_failure(sink, error, now)
        retry_at = now + backoff(state.consecutive_failures)
        await self._repo.mark_failed(entry.id, error, retry_at)
        await self._repo.postpone_sink(sink, retry_at)
        log.warning(
            "publish sink %s failed (%d in a row), retrying after %s: %s",
            sink,
            state.consecutive_failures,
            retry_at.isoformat(timespec="seconds"),
            error,
        )
        due_for_report = (
            state.consecutive_failures >= self._report_after and state.reported_at is None
        )
        if due_for_report and await self._reporter(state):
            await self._repo.mark_reported(sink, self._clock.now())
