"""The event loop Stride's commands run on (`run`): uvloop's on Linux, asyncio's elsewhere.

uvloop (libuv) moves sockets and timers with far less Python per event than asyncio's own
loop: the daily run's thousands of concurrent provider requests spend their time in Stride's
code instead of the loop's. It is a dependency on Linux only (see pyproject.toml); other
systems run asyncio's loop, with the same behaviour.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on the fastest loop this system has."""
    if sys.platform == "linux":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)
