"""The rate limiters wait rather than fail, never exceed their window, and stay cheap."""

from __future__ import annotations

import asyncio
import random
import time

from bot.providers.ratelimit import KeyedLimiter, ProviderRateLimiter, SlidingWindowLimiter


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0)


def test_sliding_window_hands_out_future_slots() -> None:
    fake = FakeTime()
    limiter = SlidingWindowLimiter(3, 60, now=fake.monotonic)
    assert [limiter.reserve() for _ in range(5)] == [0, 0, 0, 60, 60]
    fake.now = 60
    assert [limiter.reserve() for _ in range(2)] == [0, 60]


def test_no_window_ever_holds_more_than_the_limit() -> None:
    fake = FakeTime()
    limiter = SlidingWindowLimiter(120, 60, now=fake.monotonic)
    rng = random.Random(7)
    starts = []
    for _ in range(5000):
        fake.now += rng.expovariate(5.0)  # bursts well above 2 per second
        starts.append(fake.now + limiter.reserve())
    assert starts == sorted(starts)
    right = 0
    for left, start in enumerate(starts):
        while right < len(starts) and starts[right] < start + 60 - 1e-6:  # float rounding
            right += 1
        assert right - left <= 120


async def test_provider_limiter_waits_instead_of_failing() -> None:
    fake = FakeTime()
    limiter = ProviderRateLimiter(app_limit=120, now=fake.monotonic, sleep=fake.sleep)
    await asyncio.gather(*(limiter.acquire() for _ in range(130)))
    assert fake.sleeps == [60.0] * 10
    assert limiter.waited_seconds == 600


async def test_per_user_limit_applies_per_user() -> None:
    fake = FakeTime()
    limiter = ProviderRateLimiter(
        app_limit=120_000, user_limit=300, now=fake.monotonic, sleep=fake.sleep
    )
    for _ in range(300):
        await limiter.acquire("user-a")
    await limiter.acquire("user-b")
    assert fake.sleeps == []
    await limiter.acquire("user-a")
    assert fake.sleeps == [60.0]


def test_keyed_limiter_forgets_idle_users_and_is_cheap() -> None:
    fake = FakeTime()
    limiter = KeyedLimiter(300, 60, now=fake.monotonic)
    began = time.perf_counter()
    for user in range(10_000):
        for _ in range(3):
            limiter.reserve(f"user-{user}")
        fake.now += 0.05  # 10,000 users over ~8 minutes
    elapsed = time.perf_counter() - began
    # Only the users of the last minute are remembered.
    assert len(limiter) <= 60 / 0.05 + 2
    assert elapsed < 2.0  # O(1) per call: ~30,000 calls in well under a second in practice
