"""`ChartCache`: the live pages' chart PNGs, rendered once per standings version.

A chart is rendered off the event loop (`asyncio.to_thread`; matplotlib's object API, which
`bot.render.chart` uses, is safe there). Requests for a version being rendered wait for that
render instead of starting another; the last `capacity` charts are kept.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Hashable

from bot.render.chart import ChartInput, render_cumulative_chart

ChartRenderer = Callable[[ChartInput], bytes]

CAPACITY = 32


class ChartCache:
    def __init__(
        self, *, render: ChartRenderer = render_cumulative_chart, capacity: int = CAPACITY
    ) -> None:
        self._render = render
        self._capacity = capacity
        self._charts: OrderedDict[Hashable, asyncio.Task[bytes]] = OrderedDict()

    async def png(self, key: Hashable, chart: ChartInput) -> bytes:
        """The chart stored under `key` (a challenge and its standings' version), rendered
        from `chart` the first time it is asked for."""
        task = self._charts.get(key)
        if task is None:
            task = asyncio.create_task(self._rendered(chart), name="live-chart")
            self._charts[key] = task
            while len(self._charts) > self._capacity:
                self._charts.popitem(last=False)
        self._charts.move_to_end(key)
        try:
            return await asyncio.shield(task)
        except Exception:
            if self._charts.get(key) is task:
                del self._charts[key]  # a failed render is tried again next time
            raise

    async def _rendered(self, chart: ChartInput) -> bytes:
        return await asyncio.to_thread(self._render, chart)
