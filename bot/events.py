"""A tiny in-process event bus, so services can react to each other without importing each other.

Handlers are awaited in registration order, in the emitter's task. An emitter inside
`Database.transaction()` therefore runs the handlers inside that same transaction: a handler
that writes (the publish outbox, say) commits or rolls back together with the emitter.

Events in use:
- `challenge_changed(challenge_id)`: created, edited, or its schedule changed.
- `challenge_ended(challenge_id)`: ended early by an admin or deleted.
- `participant_joined(challenge_id, discord_id)`: a player joined (emitted after the commit).
- `day_finalised(challenge_id, day)`: a challenge day became final (emitted in the
  transaction that finalises it).
- `user_deleted(discord_id)`: a user's data was deleted (`/privacy delete`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._handlers: defaultdict[str, list[Handler]] = defaultdict(list)

    def on(self, event: str, handler: Handler) -> None:
        self._handlers[event].append(handler)

    def off(self, event: str, handler: Handler) -> None:
        if handler in self._handlers[event]:
            self._handlers[event].remove(handler)

    async def emit(self, event: str, **payload: Any) -> None:
        """Await every handler; an exception propagates to the emitter (and its transaction)."""
        for handler in list(self._handlers[event]):
            await handler(**payload)
