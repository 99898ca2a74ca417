"""The event loop Stride's commands run on (`run`): uvloop's on Linux, asyncio's elsewhere.

uvloop (libuv) moves sockets and timers with far less Python per event than asyncio's own
loop: the daily run's thousands of concurrent provider requests spend their time in Stride's
code instead of the loop's. It is a dependency on Linux only (see pyproject.toml); other
systems run asyncio's loop, with the same behaviour.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
YOUNG_OBJECTS = 50_000  # allocations between two young collections (CPython's default: 700)


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on the fastest loop this system has.

    What the process built before (its modules, classes and settings: hundreds of thousands of
    objects that live as long as it does) is moved out of the garbage collector's sight first
    (`gc.freeze`), so the collections a large daily run triggers do not walk it again and
    again. The young generation is made larger too (`YOUNG_OBJECTS`): a daily run's requests
    in flight outlive the default 700 allocations, so every one was promoted and the old
    generation, which holds every member's fetched values, was walked again after each few
    thousand requests (a quarter of a 100,000-member run's CPU time)."""
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS, *previous[1:])
    try:
        if sys.platform == "linux":
            import uvloop

            return uvloop.run(main)
        return asyncio.run(main)
    finally:  # as it was: a process that goes on after the command (a test) collects as before
        gc.set_threshold(*previous)
        gc.unfreeze()
