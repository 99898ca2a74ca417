"""`UploadRateLimit`: how often one upload address may upload (a token bucket per address).

Each address may send `burst` uploads at once, refilled at `per_hour`; beyond that an upload
is refused with the seconds until the next one is allowed (HTTP 429 with `Retry-After`).
Only authenticated uploads are counted, so a stranger who knows an address cannot use up its
member's allowance. Kept in memory, per process and not shared: several web processes
(`stride web` behind a load balancer) each allow that much, and a restart starts every bucket
full (the README says so where the setting is documented).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import OrderedDict
from dataclasses import dataclass

from bot.clock import Clock

MAX_TRACKED = 100_000  # bounds memory: the least recently seen address is forgotten first


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: dt.datetime


class UploadRateLimit:
    def __init__(self, clock: Clock, *, per_hour: int, burst: int) -> None:
        self._clock = clock
        self._rate = per_hour / 3600.0  # tokens per second
        self._burst = float(burst)
        self._buckets: OrderedDict[int, _Bucket] = OrderedDict()

    def take(self, key: int) -> int | None:
        """Use one upload of `key`'s allowance: None when allowed, else the whole seconds to
        wait before the next one is."""
        now = self._clock.now()
        bucket = self._buckets.pop(key, None) or _Bucket(self._burst, now)
        elapsed = max(0.0, (now - bucket.updated).total_seconds())
        bucket.tokens = min(self._burst, bucket.tokens + elapsed * self._rate)
        bucket.updated = now
        self._buckets[key] = bucket
        while len(self._buckets) > MAX_TRACKED:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - bucket.tokens) / self._rate))
