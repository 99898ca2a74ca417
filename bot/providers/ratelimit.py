"""Client-side rate limits per provider app, so a daily run waits instead of collecting 429s.

Withings allows 120 requests a minute per application; the Google Health API 120,000 a minute
per project and 300 a minute per user. A limiter here hands out send slots so that no window
of `window` seconds ever holds more than `limit` of them, and a caller whose slot lies in the
future sleeps until then. It never fails.

A daily run fetches thousands of users with bounded concurrency, so the limiters are cheap:
`reserve` is O(1) amortised, holds at most `limit` timestamps, creates no task and takes no
lock (it runs synchronously between two awaits, which is atomic in asyncio). The clock and the
sleep are injected, so tests run without real waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable

Sleep = Callable[[float], Awaitable[None]]
Monotonic = Callable[[], float]
SMALL_LIMIT = 1024  # limits up to this keep their slots in a list (`pop(0)` moves few)


class SlidingWindowLimiter:
    """At most `limit` slots in any `window` seconds: exact, not a token-bucket approximation.

    Slots are reserved in call order and their times never decrease, so keeping only the last
    `limit` of them is enough: a new slot starts no earlier than `window` after the slot
    `limit` places before it.
    """

    __slots__ = ("_limit", "_now", "_slots", "_window")

    def __init__(
        self, limit: int, window: float = 60.0, *, now: Monotonic = time.monotonic
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a limiter needs limit >= 1 and window > 0")
        self._limit = limit
        self._window = window
        self._now = now
        # A list for a small limit (a user's): a deque allocates a block of 64 slots even for
        # one, and a daily run keeps a user limiter for each of 100,000 members.
        self._slots: deque[float] | list[float] = [] if limit <= SMALL_LIMIT else deque()

    def reserve(self) -> float:
        """Take the next free slot; returns how many seconds from now it starts (>= 0)."""
        now = self._now()
        slots = self._slots
        full = len(slots) >= self._limit
        if full:
            oldest = slots.popleft() if isinstance(slots, deque) else slots.pop(0)
            start = max(now, oldest + self._window)
        else:
            start = now
        slots.append(start)
        return start - now

    def idle_since(self, instant: float) -> bool:
        """True when no slot lies after `instant - window`: the limiter no longer constrains."""
        return not self._slots or self._slots[-1] <= instant - self._window


class KeyedLimiter:
    """One `SlidingWindowLimiter` per key (a user), forgetting keys that went quiet.

    Keys are kept in least-recently-used order; each call drops a couple of the oldest ones
    once they are idle (they would allow a full window again anyway), so memory follows the
    number of users active in the last window, not the number ever seen.
    """

    __slots__ = ("_limit", "_limiters", "_max_keys", "_now", "_window")

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        now: Monotonic = time.monotonic,
        max_keys: int = 200_000,
    ) -> None:
        self._limit = limit
        self._window = window
        self._now = now
        self._max_keys = max_keys
        self._limiters: OrderedDict[str, SlidingWindowLimiter] = OrderedDict()

    def reserve(self, key: str) -> float:
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = SlidingWindowLimiter(self._limit, self._window, now=self._now)
            self._limiters[key] = limiter
        else:
            self._limiters.move_to_end(key)
        self._forget_idle()
        return limiter.reserve()

    def _forget_idle(self) -> None:
        now = self._now()
        for _ in range(2):  # a constant amount of work per call keeps reserve() O(1)
            if len(self._limiters) <= 1:
                return
            oldest_key, oldest = next(iter(self._limiters.items()))
            if oldest.idle_since(now) or len(self._limiters) > self._max_keys:
                del self._limiters[oldest_key]
            else:
                return

    def __len__(self) -> int:
        return len(self._limiters)


class ProviderRateLimiter:
    """The limits of one provider app: an app-wide one and, optionally, one per user.

    `acquire` waits for the user's slot first and only then reserves the app-wide slot, so a
    request held back by its user's limit does not sit on an app slot it cannot use yet.
    """

    def __init__(
        self,
        *,
        app_limit: int | None = None,
        user_limit: int | None = None,
        window: float = 60.0,
        now: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._app = SlidingWindowLimiter(app_limit, window, now=now) if app_limit else None
        self._users = KeyedLimiter(user_limit, window, now=now) if user_limit else None
        self._sleep = sleep
        self.waited_seconds = 0.0  # total time callers spent waiting, for metrics and tests

    async def acquire(self, user_key: str | None = None) -> None:
        if self._users is not None and user_key is not None:
            await self._wait(self._users.reserve(user_key))
        if self._app is not None:
            await self._wait(self._app.reserve())

    async def _wait(self, delay: float) -> None:
        if delay > 0:
            self.waited_seconds += delay
            await self._sleep(delay)
